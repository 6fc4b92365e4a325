/*
 * alertmanager.c - Alertmanager webhook payloads (version "4"): one event
 * per alert in "alerts".
 *
 * The alert's identity is the fingerprint of its labels computed here,
 * never the payload's "fingerprint": real payloads carry hand-copied or
 * empty ones (see the fixtures' README), and a wrong identity would merge
 * different alerts. Old senders omit the per-alert status (the payload's
 * status then applies); Alertmanager up to 0.15 sent a future endsAt with
 * firing alerts, so endsAt is only read for resolved ones. Unknown keys
 * (numFiring, sendsAt, amixr_demo, notification_reason...) are ignored.
 */
#include "common/buf.h"
#include "ingest/decoders.h"

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

static int decode_alert(const json_t *alert, size_t idx, const char *payload_status,
                        const ingest_ctx_t *ctx, am_event_t *ev, char *err, size_t errlen)
{
    char field[48];
    snprintf(field, sizeof field, "alerts[%zu].", idx);
    if (!json_is_object(alert)) {
        am_errf(err, errlen, "field alerts[%zu]: expected an object", idx);
        return -1;
    }
    ev->kind = AM_KIND_ALERT;
    ev->source = "alertmanager";
    if (ingest_get_labels(alert, "labels", field, ctx->limits, &ev->labels, err, errlen) != 0 ||
        ingest_get_labels(alert, "annotations", field, ctx->limits, &ev->annotations, err,
                          errlen) != 0)
        return -1;
    if (ev->labels.n == 0) {
        am_errf(err, errlen, "field %slabels: missing or empty (an alert is its labels)", field);
        return -1;
    }
    const char *status, *url;
    if (ingest_get_string(alert, "status", field, &status, err, errlen) != 0 ||
        ingest_get_string(alert, "generatorURL", field, &url, err, errlen) != 0)
        return -1;
    if (!status || !*status)
        status = payload_status ? payload_status : "firing";
    if (strcmp(status, "firing") != 0 && strcmp(status, "resolved") != 0) {
        am_errf(err, errlen, "field %sstatus: \"%.64s\" is neither firing nor resolved", field,
                status);
        return -1;
    }
    ev->status = am_xstrdup(status);
    if (ingest_get_time(alert, "startsAt", field, &ev->starts_at, err, errlen) != 0)
        return -1;
    if (ev->starts_at == AM_TIME_NONE) {
        am_errf(err, errlen, "field %sstartsAt: missing or unset", field);
        return -1;
    }
    if (strcmp(status, "resolved") == 0 &&
        ingest_get_time(alert, "endsAt", field, &ev->ends_at, err, errlen) != 0)
        return -1;
    const char *name = am_labels_get(&ev->labels, "alertname");
    ev->name = am_xstrdup(name && *name ? name : "(unnamed)");
    ev->url = url && *url ? am_xstrdup(url) : NULL;
    ev->summary = summary_of(ev);
    ev->observed_at = ctx->observed_at;
    ingest_alert_set_id(ev); /* before the label map adds "env" */
    am_event_apply_label_map(ev, ctx->map);
    return 0;
}

static int am_decode(const json_t *root, const ingest_ctx_t *ctx, am_event_list_t *out, char *err,
                     size_t errlen)
{
    const json_t *alerts = json_object_get(root, "alerts");
    const char *payload_status;
    if (ingest_get_string(root, "status", "", &payload_status, err, errlen) != 0)
        return -1;
    if (json_array_size(alerts) > ctx->limits->max_events) {
        am_errf(err, errlen, "field alerts: %zu alerts, over the limit of %zu",
                json_array_size(alerts), ctx->limits->max_events);
        return -1;
    }
    size_t i;
    const json_t *alert;
    json_array_foreach(alerts, i, alert)
    {
        am_event_t *ev = am_event_list_push(out);
        if (decode_alert(alert, i, payload_status, ctx, ev, err, errlen) != 0)
            return -1;
    }
    return 0;
}

const ingest_format_t ingest_format_alertmanager = {
    .name = "alertmanager",
    .detect = am_detect,
    .decode = am_decode,
};
