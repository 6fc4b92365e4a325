/*
 * flux.c - Flux notification-controller events (the body its generic
 * webhook provider posts: an Event with involvedObject, severity, reason,
 * message, metadata, reportingController, timestamp), source "flux".
 *
 * By severity and reason:
 *   error -> an alert named by the reason (ReconciliationFailed,
 *     HealthCheckFailed, UpgradeFailed...), for any kind of object. Flux
 *     sends no resolve, so the alert is a point in time: it starts and ends
 *     at the event's timestamp (status resolved). Repeated errors at each
 *     retry then chain into one incident through the rule's gap, and an
 *     incident never stays open waiting for a resolve that will not come.
 *   info, on a Kustomization or HelmRelease (the objects that apply
 *     changes to a cluster) -> a deploy: Progressing -> started,
 *     ReconciliationSucceeded, InstallSucceeded, UpgradeSucceeded ->
 *     succeeded, RollbackSucceeded -> rolled_back.
 *   any other info or trace event (sources fetched, dependencies not
 *   ready...) decodes to no event.
 * The object's namespace is the label namespace and "<Kind>/<name>" the
 * label object; the controller is the label controller (and a deploy's
 * actor). metadata is split: a key ending in "revision" gives a deploy's
 * version; other keys with a '/' (toolkit internals), and an alert's
 * revision, become annotations; the rest
 * are labels, which is where an Alert's eventMetadata (env, cluster...)
 * lands. A deploy's name and service are the object's name.
 */
#include "common/buf.h"
#include "ingest/decoders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int flux_detect(const json_t *root)
{
    return json_is_object(root) && json_is_object(json_object_get(root, "involvedObject")) &&
           (json_object_get(root, "reportingController") || json_object_get(root, "reason") ||
            json_object_get(root, "severity"));
}

static const struct {
    const char *reason, *status;
} deploy_reasons[] = {
    {"Progressing", "started"},           {"ReconciliationSucceeded", "succeeded"},
    {"InstallSucceeded", "succeeded"},    {"UpgradeSucceeded", "succeeded"},
    {"RollbackSucceeded", "rolled_back"},
};

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Spreads metadata over version (deploys only), annotations and labels
 * (see above). */
static void spread_metadata(const am_labels_t *meta, am_event_t *ev)
{
    for (size_t i = 0; i < meta->n; i++) {
        const char *k = meta->v[i].name, *v = meta->v[i].value;
        if (ev->kind == AM_KIND_DEPLOY && ends_with(k, "revision")) {
            if (!ev->version && *v)
                ev->version = am_xstrdup(v);
        } else if (strchr(k, '/') || ends_with(k, "revision")) {
            am_labels_set(&ev->annotations, k, v);
        } else {
            am_labels_set(&ev->labels, k, v);
        }
    }
}

static int flux_decode(const json_t *root, const ingest_ctx_t *ctx, am_event_list_t *out, char *err,
                       size_t errlen)
{
    const json_t *obj;
    const char *severity, *reason, *message, *controller, *kind, *name, *ns;
    int64_t at;
    if (ingest_get_object(root, "involvedObject", "", &obj, err, errlen) != 0 ||
        ingest_get_string(root, "severity", "", &severity, err, errlen) != 0 ||
        ingest_get_string(root, "reason", "", &reason, err, errlen) != 0 ||
        ingest_get_string(root, "message", "", &message, err, errlen) != 0 ||
        ingest_get_string(root, "reportingController", "", &controller, err, errlen) != 0 ||
        ingest_get_string(obj, "kind", "involvedObject.", &kind, err, errlen) != 0 ||
        ingest_get_string(obj, "name", "involvedObject.", &name, err, errlen) != 0 ||
        ingest_get_string(obj, "namespace", "involvedObject.", &ns, err, errlen) != 0 ||
        ingest_get_time(root, "timestamp", "", &at, err, errlen) != 0)
        return -1;
    if (at == AM_TIME_NONE) {
        am_errf(err, errlen, "field timestamp: missing");
        return -1;
    }
    if (!kind || !*kind || !name || !*name) {
        am_errf(err, errlen, "field involvedObject.%s: missing", !kind || !*kind ? "kind" : "name");
        return -1;
    }
    if (!reason || !*reason) {
        am_errf(err, errlen, "field reason: missing");
        return -1;
    }
    am_kind_t ev_kind;
    const char *status = NULL;
    if (severity && strcmp(severity, "error") == 0) {
        ev_kind = AM_KIND_ALERT, status = "resolved";
    } else if (severity && (strcmp(severity, "info") == 0 || strcmp(severity, "trace") == 0)) {
        if (strcmp(severity, "info") != 0 ||
            (strcmp(kind, "Kustomization") != 0 && strcmp(kind, "HelmRelease") != 0))
            return 0;
        for (size_t i = 0; i < sizeof deploy_reasons / sizeof deploy_reasons[0] && !status; i++)
            if (strcmp(reason, deploy_reasons[i].reason) == 0)
                status = deploy_reasons[i].status;
        if (!status)
            return 0;
        ev_kind = AM_KIND_DEPLOY;
    } else {
        am_errf(err, errlen, "field severity: \"%.32s\" is not info, error or trace",
                severity ? severity : "");
        return -1;
    }

    am_event_t *ev = am_event_list_push(out);
    am_labels_t meta = {0};
    if (ingest_get_labels(root, "metadata", "", ctx->limits, &meta, err, errlen) != 0) {
        am_labels_free(&meta);
        return -1;
    }
    ev->kind = ev_kind;
    spread_metadata(&meta, ev);
    am_labels_free(&meta);
    ev->source = "flux";
    ev->status = am_xstrdup(status);
    ev->starts_at = at;
    ev->observed_at = ctx->observed_at;
    ev->summary = am_xstrdup(message && *message ? message : reason);
    am_buf_t object = {0};
    am_buf_printf(&object, "%s/%s", kind, name);
    char *object_s = am_buf_steal(&object);
    am_labels_set(&ev->labels, "object", object_s);
    free(object_s);
    ingest_set_label(&ev->labels, "namespace", ns);
    ingest_set_label(&ev->labels, "controller", controller);
    if (ev_kind == AM_KIND_ALERT) {
        ev->ends_at = at;
        ev->name = am_xstrdup(reason);
        am_labels_set(&ev->labels, "alertname", reason);
        ingest_set_native(&ev->labels, "severity", &ev->severity, severity);
        ingest_alert_set_id(ev);
        am_event_apply_label_map(ev, ctx->map);
        return 0;
    }
    ev->name = am_xstrdup(name);
    ev->actor = am_xstrdup(controller && *controller ? controller : NULL);
    ingest_set_native(&ev->labels, "service", &ev->service, name);
    am_event_apply_label_map(ev, ctx->map);
    ingest_event_default_id(ev);
    return 0;
}

const ingest_format_t ingest_format_flux = {
    .name = "flux",
    .detect = flux_detect,
    .decode = flux_decode,
};
