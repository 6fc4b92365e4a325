/*
 * grafana.c - Grafana unified alerting webhooks (version "1"): an
 * Alertmanager webhook with Grafana's additions, one event per alert.
 *
 * Grafana's notifier is Alertmanager's, so alerts are read exactly as
 * alertmanager.c reads them (identity from the visible labels: Grafana's
 * own fingerprints cover labels the payload does not carry). What Grafana
 * adds per alert is kept, not interpreted: silenceURL, dashboardURL,
 * panelURL and imageURL become annotations of those names (the event's url
 * stays the generatorURL, the rule's page), and values/valueString become
 * annotations too (values as compact JSON). The payload-level "state",
 * "title" and "message" describe the whole group and are wrong for mixed
 * groups (a test notification says state "alerting" with status
 * "resolved"), so the per-alert status rules, as in Alertmanager.
 * Recognised by an "alerts" array with "orgId" or version "1"; Grafana's
 * legacy (pre-unified) alerting webhook is not read.
 */
#include "common/buf.h"
#include "ingest/decoders.h"

#include <stdio.h>
#include <string.h>

static int grafana_detect(const json_t *root)
{
    if (!json_is_object(root) || !json_is_array(json_object_get(root, "alerts")))
        return 0;
    const json_t *version = json_object_get(root, "version");
    return json_object_get(root, "orgId") != NULL ||
           (json_is_string(version) && strcmp(json_string_value(version), "1") == 0);
}

static int add_extras(const json_t *alert, const char *field, const ingest_ctx_t *ctx,
                      am_event_t *ev, char *err, size_t errlen)
{
    static const char *const links[] = {"silenceURL", "dashboardURL", "panelURL", "imageURL",
                                        "valueString"};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        const char *v;
        if (ingest_get_string(alert, links[i], field, &v, err, errlen) != 0)
            return -1;
        if (v && strlen(v) > ctx->limits->max_value_bytes) {
            am_errf(err, errlen, "field %s%s: longer than the limit of %zu bytes", field, links[i],
                    ctx->limits->max_value_bytes);
            return -1;
        }
        ingest_set_label(&ev->annotations, links[i], v);
    }
    const json_t *values = json_object_get(alert, "values");
    if (values && !json_is_null(values) &&
        ingest_set_json_text(&ev->annotations, "values", values, field, ctx->limits, err, errlen) !=
            0)
        return -1;
    return 0;
}

static int grafana_decode(const json_t *root, const ingest_ctx_t *ctx, am_event_list_t *out,
                          char *err, size_t errlen)
{
    size_t before = out->n;
    if (ingest_am_decode_alerts(root, "grafana", ctx, out, err, errlen) != 0)
        return -1;
    const json_t *alerts = json_object_get(root, "alerts");
    for (size_t i = before; i < out->n; i++) {
        char field[48];
        snprintf(field, sizeof field, "alerts[%zu].", i - before);
        if (add_extras(json_array_get(alerts, i - before), field, ctx, &out->v[i], err, errlen) !=
            0)
            return -1;
    }
    return 0;
}

const ingest_format_t ingest_format_grafana = {
    .name = "grafana",
    .detect = grafana_detect,
    .decode = grafana_decode,
};
