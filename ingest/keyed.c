/*
 * keyed.c - aftermath's own keyed-topic records (keyed.h): the writer of
 * their value and the decoder of format "aftermath-event".
 *
 * The event in the record was decoded once already, by a decode replica,
 * so this decoder derives nothing: no id, no identity, no label mapping,
 * and observed_at is the one in the JSON (the record's own timestamp is
 * when the decode replica produced it, not when the event was first
 * seen). It still checks what every decoder guarantees its events (a time;
 * an alert's identity, name and status; a deploy's status and name; an
 * ack's status) and the input limits, so that a damaged or forged record
 * is refused by name like any other and never reaches the correlator.
 *
 * The format is never detected: a source topic sending this shape would
 * otherwise choose its own event ids and sources. Only a topic or a
 * replay that names "aftermath-event" reads it.
 */
#include "ingest/keyed.h"
#include "common/buf.h"
#include "common/event_json.h"
#include "ingest/decoders.h"

#include <stdlib.h>
#include <string.h>

char *ingest_keyed_value(const am_event_t *ev)
{
    json_t *event = am_event_to_json(ev);
    if (!event)
        return NULL;
    json_t *root = json_object();
    json_object_set_new(root, "schema_version", json_integer(INGEST_KEYED_SCHEMA_VERSION));
    json_object_set_new(root, "event", event);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return text;
}

/* The limits on labels (or annotations) of the event object, before any
 * is copied; a member of the wrong type is left to am_event_from_json. */
static int check_limits(const json_t *event, const char *key, const ingest_limits_t *limits,
                        char *err, size_t errlen)
{
    const json_t *v = json_object_get(event, key);
    if (!json_is_object(v))
        return 0;
    if (json_object_size(v) > limits->max_labels) {
        am_errf(err, errlen, "field event.%s: %zu entries, over the limit of %zu", key,
                json_object_size(v), limits->max_labels);
        return -1;
    }
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)v, name, value)
    {
        if (strlen(name) > limits->max_value_bytes ||
            (json_is_string(value) && json_string_length(value) > limits->max_value_bytes)) {
            am_errf(err, errlen, "field event.%s.%.64s: longer than the limit of %zu bytes", key,
                    name, limits->max_value_bytes);
            return -1;
        }
    }
    return 0;
}

static int is_one_of(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

/* What every decoder guarantees of its events (fuzz_decode.c checks the
 * same of each of them). */
static int check_event(const am_event_t *ev, char *err, size_t errlen)
{
    static const char *const alert[] = {"firing", "resolved", NULL};
    static const char *const deploy[] = {"started", "succeeded", "failed", "rolled_back", NULL};
    static const char *const ack[] = {"acknowledged", NULL};
    const char *const *statuses = NULL;
    if (ev->starts_at == AM_TIME_NONE) {
        am_errf(err, errlen, "field event.starts_at: missing (every event has a time)");
        return -1;
    }
    switch (ev->kind) {
    case AM_KIND_ALERT:
        if (!ev->identity || !ev->name) {
            am_errf(err, errlen, "field event.%s: missing (an alert has one)",
                    ev->identity ? "name" : "identity");
            return -1;
        }
        if (ev->status && strcmp(ev->status, "firing") == 0 && ev->ends_at != AM_TIME_NONE) {
            am_errf(err, errlen, "field event.ends_at: set on a firing alert");
            return -1;
        }
        statuses = alert;
        break;
    case AM_KIND_DEPLOY:
        if (!ev->name) {
            am_errf(err, errlen, "field event.name: missing (a deploy has one)");
            return -1;
        }
        statuses = deploy;
        break;
    case AM_KIND_ACK:
        statuses = ack;
        break;
    case AM_KIND_NOTE:
        break;
    case AM_KIND_CORRECTION:
    case AM_KIND_ACTION:
        if (!ev->name || !am_labels_get(&ev->annotations, AM_ANNOTATION_BODY)) {
            am_errf(err, errlen, "field event.%s: missing (a%s %s has one)",
                    ev->name ? "annotations." AM_ANNOTATION_BODY : "name",
                    ev->kind == AM_KIND_ACTION ? "n" : "", am_kind_name(ev->kind));
            return -1;
        }
        break;
    }
    if (statuses && !is_one_of(ev->status, statuses)) {
        if (!ev->status)
            am_errf(err, errlen, "field event.status: missing (a%s %s has one)",
                    ev->kind == AM_KIND_DEPLOY ? "" : "n", am_kind_name(ev->kind));
        else
            am_errf(err, errlen, "field event.status: \"%.32s\" is not valid for a%s %s",
                    ev->status, ev->kind == AM_KIND_DEPLOY ? "" : "n", am_kind_name(ev->kind));
        return -1;
    }
    if (ev->environment && !am_labels_get(&ev->labels, "env")) {
        am_errf(err, errlen, "field event.labels.env: missing while environment is set");
        return -1;
    }
    return 0;
}

static int keyed_decode(const json_t *root, const ingest_ctx_t *ctx, am_event_list_t *out,
                        char *err, size_t errlen)
{
    if (!json_is_object(root)) {
        am_errf(err, errlen, "expected a JSON object {\"schema_version\": 1, \"event\": {...}}");
        return -1;
    }
    const json_t *version = json_object_get(root, "schema_version");
    if (!version) {
        am_errf(err, errlen, "field schema_version: missing");
        return -1;
    }
    if (!json_is_integer(version) || json_integer_value(version) != INGEST_KEYED_SCHEMA_VERSION) {
        char *text = json_dumps(version, JSON_COMPACT | JSON_ENCODE_ANY);
        am_errf(err, errlen, "field schema_version: %.32s is not %d (the only version read)",
                text ? text : "?", INGEST_KEYED_SCHEMA_VERSION);
        free(text);
        return -1;
    }
    const json_t *event = json_object_get(root, "event");
    if (!event || json_is_null(event)) {
        am_errf(err, errlen, "field event: missing");
        return -1;
    }
    if (!json_is_object(event)) {
        am_errf(err, errlen, "field event: expected an object");
        return -1;
    }
    if (check_limits(event, "labels", ctx->limits, err, errlen) != 0 ||
        check_limits(event, "annotations", ctx->limits, err, errlen) != 0)
        return -1;
    am_event_t *ev = am_event_list_push(out);
    char why[512];
    if (am_event_from_json(event, ev, why, sizeof why) != 0) {
        am_errf(err, errlen, "field event.%s", why);
        return -1;
    }
    return check_event(ev, err, errlen);
}

const ingest_format_t ingest_format_keyed = {
    .name = INGEST_FORMAT_KEYED,
    .detect = NULL, /* by name only */
    .decode = keyed_decode,
};
