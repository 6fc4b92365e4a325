/*
 * cdevents.c - CDEvents (cdevents.dev), bare or inside a CloudEvents
 * envelope: service.deployed and service.upgraded -> deploy succeeded,
 * service.rolledback -> deploy rolled_back, incident.detected and
 * incident.reported -> alert firing, incident.resolved -> alert resolved.
 * Other CDEvents (pipelines, builds, tests, service.removed...) decode to
 * no event.
 *
 * The type is read without its version ("dev.cdevents.service.deployed.
 * 0.1.1" is service.deployed), and neither context.version (spec 0.3/0.4)
 * nor context.specversion (0.5+) is needed, so every release reads alike.
 * A deploy's id comes from the context's (source, id) - CloudEvents'
 * uniqueness key - plus the type, because the spec's own examples reuse
 * one id for different events. The service is subject.id for service
 * events and content.service.id for incidents; the environment is
 * content.environment.id; an artifactId that is a package URL
 * ("pkg:oci/myapp@sha256%3A...") gives the deploy's name (myapp) and
 * version (sha256:..., percent-decoded), and is kept whole as the
 * annotation artifactId. An incident's identity is its subject id
 * qualified by the subject's source, shared by detected and resolved; a
 * resolve starts and ends at its timestamp, like PagerDuty's.
 * customData members become annotations.
 */
#include "common/buf.h"
#include "ingest/decoders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CD_PREFIX "dev.cdevents."

static int cd_detect(const json_t *root)
{
    const json_t *context = json_object_get(root, "context");
    const char *type = json_string_value(json_object_get(context, "type"));
    return json_is_object(root) && type && strncmp(type, CD_PREFIX, strlen(CD_PREFIX)) == 0;
}

/* Percent-decodes s[0..len) into a new string; a bad or %00 escape stays. */
static char *pct_decode(const char *s, size_t len)
{
    am_buf_t b = {0};
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < len && (hi = am_hex_digit(s[i + 1])) >= 0 &&
            (lo = am_hex_digit(s[i + 2])) >= 0 && (hi | lo)) {
            am_buf_putc(&b, (char)(hi * 16 + lo));
            i += 2;
        } else {
            am_buf_putc(&b, s[i]);
        }
    }
    return am_buf_steal(&b);
}

/* Name and version of a package URL pkg:type/namespace/name@version?q#s;
 * both NULL when purl is not one. */
static void purl_parse(const char *purl, char **name, char **version)
{
    *name = *version = NULL;
    if (strncmp(purl, "pkg:", 4) != 0)
        return;
    const char *p = strchr(purl + 4, '/');
    if (!p)
        return;
    p++;
    size_t len = strcspn(p, "?#");
    const char *at = NULL;
    for (size_t i = 0; i < len; i++)
        if (p[i] == '@')
            at = p + i;
    size_t name_end = at ? (size_t)(at - p) : len;
    size_t slash = 0;
    for (size_t i = 0; i < name_end; i++)
        if (p[i] == '/')
            slash = i + 1;
    if (name_end > slash)
        *name = pct_decode(p + slash, name_end - slash);
    if (at && (size_t)(at - p) + 1 < len)
        *version = pct_decode(at + 1, len - (size_t)(at - p) - 1);
}

/* The "id" string of content's member key (environment, service). */
static int ref_id(const json_t *content, const char *key, const char **out, char *err,
                  size_t errlen)
{
    const json_t *ref;
    char field[64];
    snprintf(field, sizeof field, "subject.content.%s.", key);
    *out = NULL;
    if (ingest_get_object(content, key, "subject.content.", &ref, err, errlen) != 0)
        return -1;
    return ref ? ingest_get_string(ref, "id", field, out, err, errlen) : 0;
}

static int add_custom_data(const json_t *root, const ingest_ctx_t *ctx, am_event_t *ev, char *err,
                           size_t errlen)
{
    const json_t *custom = json_object_get(root, "customData");
    if (!json_is_object(custom))
        return 0; /* may be anything, base64 included: only an object is read */
    if (json_object_size(custom) > ctx->limits->max_labels) {
        am_errf(err, errlen, "field customData: %zu entries, over the limit of %zu",
                json_object_size(custom), ctx->limits->max_labels);
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)custom, k, v)
    {
        if (ingest_set_json_text(&ev->annotations, k, v, "customData.", ctx->limits, err, errlen) !=
            0)
            return -1;
    }
    return 0;
}

static int cd_decode_event(const json_t *root, const ingest_ctx_t *ctx, am_event_list_t *out,
                           char *err, size_t errlen)
{
    const json_t *context, *subject, *content;
    const char *type, *ctx_id, *ctx_source, *subj_id, *subj_source, *artifact, *env, *service,
        *description;
    if (ingest_get_object(root, "context", "", &context, err, errlen) != 0 ||
        ingest_get_object(root, "subject", "", &subject, err, errlen) != 0 ||
        ingest_get_string(context, "type", "context.", &type, err, errlen) != 0)
        return -1;
    if (!context || !type || strncmp(type, CD_PREFIX, strlen(CD_PREFIX)) != 0) {
        am_errf(err, errlen, "field context.type: missing or not a dev.cdevents.* type");
        return -1;
    }
    /* subject.predicate, without the prefix and the version. */
    const char *sp = type + strlen(CD_PREFIX);
    const char *dot = strchr(sp, '.');
    size_t splen = dot ? strcspn(dot + 1, ".") + (size_t)(dot + 1 - sp) : strlen(sp);
    am_kind_t kind;
    const char *status;
    char what[64];
    snprintf(what, sizeof what, "%.*s", (int)(splen < 63 ? splen : 63), sp);
    if (strcmp(what, "service.deployed") == 0 || strcmp(what, "service.upgraded") == 0)
        kind = AM_KIND_DEPLOY, status = "succeeded";
    else if (strcmp(what, "service.rolledback") == 0)
        kind = AM_KIND_DEPLOY, status = "rolled_back";
    else if (strcmp(what, "incident.detected") == 0 || strcmp(what, "incident.reported") == 0)
        kind = AM_KIND_ALERT, status = "firing";
    else if (strcmp(what, "incident.resolved") == 0)
        kind = AM_KIND_ALERT, status = "resolved";
    else
        return 0;

    if (ingest_get_string(context, "id", "context.", &ctx_id, err, errlen) != 0 ||
        ingest_get_string(context, "source", "context.", &ctx_source, err, errlen) != 0)
        return -1;
    if (!subject) {
        am_errf(err, errlen, "field subject: missing");
        return -1;
    }
    if (ingest_get_string(subject, "id", "subject.", &subj_id, err, errlen) != 0 ||
        ingest_get_string(subject, "source", "subject.", &subj_source, err, errlen) != 0 ||
        ingest_get_object(subject, "content", "subject.", &content, err, errlen) != 0 ||
        ingest_get_string(content, "artifactId", "subject.content.", &artifact, err, errlen) != 0 ||
        ingest_get_string(content, "description", "subject.content.", &description, err, errlen) !=
            0 ||
        ref_id(content, "environment", &env, err, errlen) != 0 ||
        ref_id(content, "service", &service, err, errlen) != 0)
        return -1;
    if (!subj_id || !*subj_id) {
        am_errf(err, errlen, "field subject.id: missing");
        return -1;
    }
    am_event_t *ev = am_event_list_push(out);
    ev->kind = kind;
    ev->source = "cdevents";
    ev->status = am_xstrdup(status);
    if (ingest_get_time(context, "timestamp", "context.", &ev->starts_at, err, errlen) != 0)
        return -1;
    if (ev->starts_at == AM_TIME_NONE) {
        am_errf(err, errlen, "field context.timestamp: missing");
        return -1;
    }
    ev->observed_at = ctx->observed_at;
    ingest_set_native(&ev->labels, "env", &ev->environment, env);
    ingest_set_label(&ev->annotations, "artifactId", artifact);
    if (add_custom_data(root, ctx, ev, err, errlen) != 0)
        return -1;
    if (kind == AM_KIND_DEPLOY) {
        ingest_set_native(&ev->labels, "service", &ev->service, subj_id);
        purl_parse(artifact ? artifact : "", &ev->name, &ev->version);
        if (!ev->name || !*ev->name) {
            free(ev->name);
            ev->name = am_xstrdup(subj_id);
        }
        am_event_apply_label_map(ev, ctx->map);
        const char *parts[] = {ctx_source, ctx_id, what};
        if (ctx_id && *ctx_id)
            ingest_event_id_from(ev, parts, 3);
        ingest_event_default_id(ev);
        return 0;
    }
    am_buf_t identity = {0};
    am_buf_printf(&identity, "%s#%s",
                  subj_source && *subj_source ? subj_source
                  : ctx_source                ? ctx_source
                                              : "",
                  subj_id);
    ev->identity = am_buf_steal(&identity);
    ev->name = am_xstrdup(subj_id);
    ingest_set_label(&ev->labels, "alertname", subj_id);
    ingest_set_native(&ev->labels, "service", &ev->service, service);
    ingest_set_label(&ev->annotations, "description", description);
    ev->summary = am_xstrdup(description && *description ? description : subj_id);
    if (kind == AM_KIND_ALERT && strcmp(status, "resolved") == 0)
        ev->ends_at = ev->starts_at;
    ingest_alert_set_id(ev);
    am_event_apply_label_map(ev, ctx->map);
    return 0;
}

static int cd_decode(const json_t *root, const ingest_ctx_t *ctx, am_event_list_t *out, char *err,
                     size_t errlen)
{
    const json_t *data;
    if (ingest_cloudevents_unwrap(root, &data, err, errlen) < 0)
        return -1;
    if (!json_is_object(data)) {
        am_errf(err, errlen, "expected a JSON object with context and subject");
        return -1;
    }
    return cd_decode_event(data, ctx, out, err, errlen);
}

const ingest_format_t ingest_format_cdevents = {
    .name = "cdevents",
    .detect = cd_detect,
    .decode = cd_decode,
};
