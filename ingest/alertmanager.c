/*
 * alertmanager.c - Alertmanager webhook payloads (version "4"): one event
 * per alert in "alerts"; also the reading of one Alertmanager-shaped alert
 * that the API (amapi.c) and Grafana (grafana.c) decoders share.
 *
 * The alert's identity is the fingerprint of its labels computed here,
 * never the payload's "fingerprint": real payloads carry hand-copied or
 * empty ones (see the fixtures' README), and a wrong identity would merge
 * different alerts. Old senders omit the per-alert status (the payload's
 * status then applies); Alertmanager up to 0.15 sent a future endsAt with
 * firing alerts, so endsAt is only read for resolved ones. "version" is
 * not read (senders write numbers there); a string "groupKey" names the
 * page: its SHA-256 is the dedup_key Alertmanager's (and Grafana's)
 * PagerDuty integration sends for the same group, kept as each alert's
 * page (common/event.h) so that PagerDuty's events join (other types
 * there are ignored). A positive
 * "truncatedAlerts" (alerts the sender left out) and a "notification_reason"
 * are kept as the annotations truncated_alerts and notification_reason of
 * every alert, so that a report can say the notification was incomplete
 * (other types there are ignored: both are informational); they do not
 * enter the event id, which stays that of the alert's state.
 * Other unknown keys (numFiring, sendsAt, amixr_demo...) are ignored.
 */
#include "common/buf.h"
#include "common/hash.h"
#include "ingest/decoders.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int am_detect(const json_t *root)
{
    return json_is_object(root) && json_is_array(json_object_get(root, "alerts")) &&
           json_object_get(root, "receiver") != NULL;
}

static char *summary_of(const am_event_t *ev)
{
    static const char *const keys[] = {"summary", "description", "message", "title"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = am_labels_get(&ev->annotations, keys[i]);
        if (v && *v)
            return am_xstrdup(v);
    }
    return am_xstrdup(ev->name);
}

int ingest_alert_read(const json_t *alert, const char *field, const char *source,
                      const ingest_ctx_t *ctx, am_event_t *ev, char *err, size_t errlen)
{
    if (!json_is_object(alert)) {
        am_errf(err, errlen, "field %.*s: expected an object", (int)strlen(field) - 1, field);
        return -1;
    }
    ev->kind = AM_KIND_ALERT;
    ev->source = source;
    if (ingest_get_labels(alert, "labels", field, ctx->limits, &ev->labels, err, errlen) != 0 ||
        ingest_get_labels(alert, "annotations", field, ctx->limits, &ev->annotations, err,
                          errlen) != 0)
        return -1;
    if (ev->labels.n == 0) {
        am_errf(err, errlen, "field %slabels: missing or empty (an alert is its labels)", field);
        return -1;
    }
    const char *url;
    if (ingest_get_string(alert, "generatorURL", field, &url, err, errlen) != 0 ||
        ingest_get_time(alert, "startsAt", field, &ev->starts_at, err, errlen) != 0)
        return -1;
    const char *name = am_labels_get(&ev->labels, "alertname");
    ev->name = am_xstrdup(name && *name ? name : "(unnamed)");
    ev->url = url && *url ? am_xstrdup(url) : NULL;
    return 0;
}

void ingest_alert_finish(am_event_t *ev, const ingest_ctx_t *ctx)
{
    ev->summary = summary_of(ev);
    ev->observed_at = ctx->observed_at;
    ingest_alert_set_id(ev); /* before the label map adds "env" */
    am_event_apply_label_map(ev, ctx->map);
}

static int decode_alert(const json_t *alert, const char *field, const char *payload_status,
                        const char *source, const ingest_ctx_t *ctx, am_event_t *ev, char *err,
                        size_t errlen)
{
    if (ingest_alert_read(alert, field, source, ctx, ev, err, errlen) != 0)
        return -1;
    const char *status;
    if (ingest_get_string(alert, "status", field, &status, err, errlen) != 0)
        return -1;
    if (!status || !*status)
        status = payload_status ? payload_status : "firing";
    if (strcmp(status, "firing") != 0 && strcmp(status, "resolved") != 0) {
        am_errf(err, errlen, "field %sstatus: \"%.64s\" is neither firing nor resolved", field,
                status);
        return -1;
    }
    ev->status = am_xstrdup(status);
    if (ev->starts_at == AM_TIME_NONE) {
        am_errf(err, errlen, "field %sstartsAt: missing or unset", field);
        return -1;
    }
    if (strcmp(status, "resolved") == 0 &&
        ingest_get_time(alert, "endsAt", field, &ev->ends_at, err, errlen) != 0)
        return -1;
    ingest_alert_finish(ev, ctx);
    return 0;
}

int ingest_am_decode_alerts(const json_t *root, const char *source, const ingest_ctx_t *ctx,
                            am_event_list_t *out, char *err, size_t errlen)
{
    const json_t *alerts = json_object_get(root, "alerts");
    if (!json_is_array(alerts)) {
        am_errf(err, errlen, "field alerts: missing or not an array");
        return -1;
    }
    const char *payload_status;
    if (ingest_get_string(root, "status", "", &payload_status, err, errlen) != 0)
        return -1;
    /* Informational only: an odd value is no reason to lose the alerts. */
    const char *reason = json_string_value(json_object_get(root, "notification_reason"));
    if (json_array_size(alerts) > ctx->limits->max_events) {
        am_errf(err, errlen, "field alerts: %zu alerts, over the limit of %zu",
                json_array_size(alerts), ctx->limits->max_events);
        return -1;
    }
    /* A count, so only a positive integer means something was left out. */
    const json_t *trunc = json_object_get(root, "truncatedAlerts");
    char truncated[32] = "";
    if (json_is_integer(trunc) && json_integer_value(trunc) > 0)
        snprintf(truncated, sizeof truncated, "%" JSON_INTEGER_FORMAT, json_integer_value(trunc));
    const json_t *group_key = json_object_get(root, "groupKey");
    char page[AM_SHA256_HEXLEN + 1] = "";
    if (json_is_string(group_key) && json_string_length(group_key) > 0)
        am_sha256_hex(json_string_value(group_key), json_string_length(group_key), page);
    size_t i;
    const json_t *alert;
    json_array_foreach(alerts, i, alert)
    {
        char field[48];
        snprintf(field, sizeof field, "alerts[%zu].", i);
        am_event_t *ev = am_event_list_push(out);
        if (decode_alert(alert, field, payload_status, source, ctx, ev, err, errlen) != 0)
            return -1;
        ingest_set_label(&ev->annotations, "truncated_alerts", truncated);
        ingest_set_label(&ev->annotations, "notification_reason", reason);
        ev->page = *page ? am_xstrdup(page) : NULL;
    }
    return 0;
}

static int am_decode(const json_t *root, const ingest_ctx_t *ctx, am_event_list_t *out, char *err,
                     size_t errlen)
{
    return ingest_am_decode_alerts(root, "alertmanager", ctx, out, err, errlen);
}

const ingest_format_t ingest_format_alertmanager = {
    .name = "alertmanager",
    .detect = am_detect,
    .decode = am_decode,
};
