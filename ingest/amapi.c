/*
 * amapi.c - the body of Alertmanager's POST /api/v2/alerts (and the older
 * /api/v1/alerts): a bare JSON array of postable alerts, as Prometheus and
 * other clients send them to Alertmanager. One event per alert, source
 * "alertmanager", identity from the labels as for the webhook.
 *
 * A postable alert has no status: Alertmanager takes it as firing unless
 * endsAt is set and in the past. "Past" is judged against the record's
 * observed_at (its Kafka timestamp), never the clock, so that replaying the
 * same records gives the same events. When observed_at is unknown (a raw
 * line from a file) the endsAt alone cannot tell: Prometheus sets a future
 * endsAt on every firing alert it sends, moved on at each re-send, while
 * it re-sends a resolved alert with its endsAt unchanged. So a set endsAt
 * past the plausible times (AM_TIME_PLAUSIBLE_MAX), which only the future
 * can be, is firing; any other is then an unconfirmed end: the event is
 * resolved at it and carries the annotation ends_at_unconfirmed, and the
 * correlator takes it as the resolve only once a second record repeats it
 * unchanged, else the greatest such endsAt ends the episode, marked
 * inferred. Clients may leave
 * startsAt out (Alertmanager stamps the arrival time): observed_at then
 * stands in, and without it the record is refused naming the field rather
 * than given an invented time. Recognised as an array whose first member is
 * an object with "labels".
 */
#include "common/buf.h"
#include "ingest/decoders.h"

#include <stdio.h>
#include <string.h>

static int amapi_detect(const json_t *root)
{
    const json_t *first = json_array_get(root, 0);
    return json_is_object(first) && json_object_get(first, "labels") != NULL;
}

static int decode_alert(const json_t *alert, const char *field, const ingest_ctx_t *ctx,
                        am_event_t *ev, char *err, size_t errlen)
{
    if (ingest_alert_read(alert, field, "alertmanager", ctx, ev, err, errlen) != 0)
        return -1;
    if (ev->starts_at == AM_TIME_NONE &&
        ingest_get_time_or_observed(alert, "startsAt", field, ctx, &ev->starts_at, err, errlen) !=
            0)
        return -1;
    int64_t ends;
    if (ingest_get_time(alert, "endsAt", field, &ends, err, errlen) != 0)
        return -1;
    /* Without a record time, an endsAt too late to be plausible (a client's
     * 9999-12-31 "until further notice") is in the future all the same. */
    int resolved =
        ends != AM_TIME_NONE && (ctx->observed_at == AM_TIME_NONE ? ends < AM_TIME_PLAUSIBLE_MAX
                                                                  : ends <= ctx->observed_at);
    ev->status = am_xstrdup(resolved ? "resolved" : "firing");
    ev->ends_at = resolved ? ends : AM_TIME_NONE;
    if (resolved && ctx->observed_at == AM_TIME_NONE)
        am_labels_set(&ev->annotations, AM_ENDS_UNCONFIRMED, "true");
    ingest_alert_finish(ev, ctx);
    return 0;
}

static int amapi_decode(const json_t *root, const ingest_ctx_t *ctx, am_event_list_t *out,
                        char *err, size_t errlen)
{
    if (!json_is_array(root)) {
        am_errf(err, errlen, "expected a JSON array of alerts");
        return -1;
    }
    if (json_array_size(root) > ctx->limits->max_events) {
        am_errf(err, errlen, "%zu alerts, over the limit of %zu", json_array_size(root),
                ctx->limits->max_events);
        return -1;
    }
    size_t i;
    const json_t *alert;
    json_array_foreach(root, i, alert)
    {
        char field[48];
        snprintf(field, sizeof field, "[%zu].", i);
        if (decode_alert(alert, field, ctx, am_event_list_push(out), err, errlen) != 0)
            return -1;
    }
    return 0;
}

const ingest_format_t ingest_format_amapi = {
    .name = "alertmanager-api",
    .detect = amapi_detect,
    .decode = amapi_decode,
};
