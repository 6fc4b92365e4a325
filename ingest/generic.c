/*
 * generic.c - aftermath's own event format, for sources with none of their
 * own (scripts, chat bots, CI steps): one JSON object per record with a
 * "kind". docs/formats.md lists every field.
 *
 * Top-level service, severity and environment are shorthands for the
 * labels service, severity and env, and an alert's name is its alertname
 * label, so that the same alert sent by Alertmanager and by a script gets
 * the same identity.
 */
#include "common/buf.h"
#include "ingest/decoders.h"

#include <stdio.h>
#include <string.h>

static int generic_detect(const json_t *root)
{
    return json_is_object(root) && json_object_get(root, "kind") != NULL;
}

static int one_of(const char *s, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (strcmp(s, *allowed) == 0)
            return 1;
    return 0;
}

static const char *const alert_statuses[] = {"firing", "resolved", NULL};
static const char *const deploy_statuses[] = {"started", "succeeded", "failed", "rolled_back",
                                              NULL};
static const char *const ack_statuses[] = {"acknowledged", NULL};

static int generic_decode(const json_t *root, const ingest_ctx_t *ctx, am_event_list_t *out,
                          char *err, size_t errlen)
{
    const char *kind, *id, *status, *name, *service, *environment, *severity, *summary, *actor,
        *version, *url, *dedup_key;
    if (ingest_get_string(root, "kind", "", &kind, err, errlen) != 0 ||
        ingest_get_string(root, "id", "", &id, err, errlen) != 0 ||
        ingest_get_string(root, "status", "", &status, err, errlen) != 0 ||
        ingest_get_string(root, "name", "", &name, err, errlen) != 0 ||
        ingest_get_string(root, "service", "", &service, err, errlen) != 0 ||
        ingest_get_string(root, "environment", "", &environment, err, errlen) != 0 ||
        ingest_get_string(root, "severity", "", &severity, err, errlen) != 0 ||
        ingest_get_string(root, "summary", "", &summary, err, errlen) != 0 ||
        ingest_get_string(root, "actor", "", &actor, err, errlen) != 0 ||
        ingest_get_string(root, "version", "", &version, err, errlen) != 0 ||
        ingest_get_string(root, "url", "", &url, err, errlen) != 0 ||
        ingest_get_string(root, "dedup_key", "", &dedup_key, err, errlen) != 0)
        return -1;

    am_event_t *ev = am_event_list_push(out);
    ev->source = "generic";
    if (!kind || am_kind_parse(kind, &ev->kind) != 0) {
        am_errf(err, errlen,
                "field kind: \"%.32s\" is not one of alert, deploy, ack, note, correction, action",
                kind ? kind : "");
        return -1;
    }
    if (ev->kind == AM_KIND_CORRECTION || ev->kind == AM_KIND_ACTION)
        return ingest_generic_people(root, ctx, ev, err, errlen);
    if (ingest_get_labels(root, "labels", "", ctx->limits, &ev->labels, err, errlen) != 0 ||
        ingest_get_labels(root, "annotations", "", ctx->limits, &ev->annotations, err, errlen) != 0)
        return -1;
    ingest_set_native(&ev->labels, "service", &ev->service, service);
    ingest_set_native(&ev->labels, "severity", &ev->severity, severity);
    ingest_set_native(&ev->labels, "env", &ev->environment, environment);

    int64_t at;
    if (ingest_get_time(root, "at", "", &at, err, errlen) != 0)
        return -1;
    const char *const *statuses = NULL;
    const char *default_status = NULL;
    switch (ev->kind) {
    case AM_KIND_ALERT:
        if (ingest_get_time(root, "starts_at", "", &ev->starts_at, err, errlen) != 0 ||
            ingest_get_time(root, "ends_at", "", &ev->ends_at, err, errlen) != 0)
            return -1;
        if (ev->starts_at == AM_TIME_NONE)
            ev->starts_at = at;
        if (!name || !*name)
            name = am_labels_get(&ev->labels, "alertname");
        if (!name || !*name) {
            am_errf(err, errlen, "field name: missing (or labels.alertname)");
            return -1;
        }
        am_labels_set(&ev->labels, "alertname", name);
        statuses = alert_statuses;
        default_status = ev->ends_at != AM_TIME_NONE ? "resolved" : "firing";
        break;
    case AM_KIND_DEPLOY:
        if (!name || !*name) {
            am_errf(err, errlen, "field name: missing (the deployed artifact or app)");
            return -1;
        }
        statuses = deploy_statuses;
        default_status = "succeeded";
        break;
    case AM_KIND_ACK:
        statuses = ack_statuses;
        default_status = "acknowledged";
        break;
    case AM_KIND_NOTE:
    case AM_KIND_CORRECTION: /* decoded above */
    case AM_KIND_ACTION:
        break;
    }
    if (ev->kind != AM_KIND_ALERT)
        ev->starts_at = at;
    if (ev->starts_at == AM_TIME_NONE) {
        am_errf(err, errlen, "field %s: missing", ev->kind == AM_KIND_ALERT ? "starts_at" : "at");
        return -1;
    }
    if (statuses) {
        if (!status || !*status)
            status = default_status;
        if (!one_of(status, statuses)) {
            am_errf(err, errlen, "field status: \"%.32s\" is not valid for a%s %s", status,
                    ev->kind == AM_KIND_ALERT || ev->kind == AM_KIND_ACK ? "n" : "", kind);
            return -1;
        }
        ev->status = am_xstrdup(status);
    }
    if (ev->kind == AM_KIND_ALERT && strcmp(ev->status, "firing") == 0)
        ev->ends_at = AM_TIME_NONE;

    ev->name = am_xstrdup(name && *name ? name : NULL);
    ev->summary = am_xstrdup(summary && *summary ? summary : NULL);
    if (!ev->summary && ev->kind == AM_KIND_ALERT) {
        const char *s = am_labels_get(&ev->annotations, "summary");
        ev->summary = am_xstrdup(s ? s : name);
    }
    ev->actor = am_xstrdup(actor && *actor ? actor : NULL);
    ev->version = am_xstrdup(version && *version ? version : NULL);
    ev->url = am_xstrdup(url && *url ? url : NULL);
    ev->identity = am_xstrdup(dedup_key && *dedup_key ? dedup_key : NULL);
    ev->id = am_xstrdup(id && *id ? id : NULL);
    ev->observed_at = ctx->observed_at;
    if (ev->kind == AM_KIND_ALERT)
        ingest_alert_set_id(ev);
    am_event_apply_label_map(ev, ctx->map);
    if (ev->kind != AM_KIND_ALERT)
        ingest_event_default_id(ev);
    return 0;
}

const ingest_format_t ingest_format_generic = {
    .name = "generic",
    .detect = generic_detect,
    .decode = generic_decode,
};
