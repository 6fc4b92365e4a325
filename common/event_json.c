/*
 * event_json.c - an event as JSON and back (event_json.h).
 *
 * One table lists the members in the events table's column order with
 * their type and where they live in am_event_t, and both directions walk
 * it, so a field cannot be written and then forgotten on the way back. The
 * writer omits absent strings and writes absent times as null; the reader
 * takes either. Nothing is derived on the way back (no id, no identity,
 * no label mapping): the event read is the event written.
 */
#include "common/event_json.h"
#include "common/buf.h"

#include <stdlib.h>
#include <string.h>

typedef enum member_type {
    M_ID,     /* required non-empty string */
    M_KIND,   /* required kind name */
    M_SOURCE, /* required source name, mapped to its static string */
    M_STRING, /* optional string */
    M_LABELS, /* object of strings */
    M_TIME,   /* integer ms or null */
} member_type_t;

typedef struct member {
    const char *name;
    member_type_t type;
    size_t off; /* of the field in am_event_t (M_ID, M_STRING, M_LABELS, M_TIME) */
} member_t;

#define AT(field) offsetof(am_event_t, field)

static const member_t members[] = {
    {"id", M_ID, AT(id)},
    {"kind", M_KIND, 0},
    {"status", M_STRING, AT(status)},
    {"source", M_SOURCE, 0},
    {"name", M_STRING, AT(name)},
    {"identity", M_STRING, AT(identity)},
    {"service", M_STRING, AT(service)},
    {"environment", M_STRING, AT(environment)},
    {"severity", M_STRING, AT(severity)},
    {"labels", M_LABELS, AT(labels)},
    {"annotations", M_LABELS, AT(annotations)},
    {"summary", M_STRING, AT(summary)},
    {"starts_at", M_TIME, AT(starts_at)},
    {"ends_at", M_TIME, AT(ends_at)},
    {"observed_at", M_TIME, AT(observed_at)},
    {"actor", M_STRING, AT(actor)},
    {"version", M_STRING, AT(version)},
    {"url", M_STRING, AT(url)},
    {"page", M_STRING, AT(page)},
};
#define NMEMBERS (sizeof members / sizeof members[0])

/* The field of ev at off (a member's), to assign to a pointer of its type. */
static const void *cfield(const am_event_t *ev, size_t off)
{
    return (const char *)ev + off;
}

static void *field(am_event_t *ev, size_t off)
{
    return (char *)ev + off;
}

/* The labels as a JSON object, or NULL when a name or value is not UTF-8
 * (am_labels_to_json would drop it silently). */
static json_t *labels_to_json(const am_labels_t *labels)
{
    json_t *obj = json_object();
    for (size_t i = 0; i < labels->n; i++) {
        /* json_object_set_new takes (and on failure frees) the value;
         * a NULL value (not UTF-8) makes it fail. */
        if (json_object_set_new(obj, labels->v[i].name, json_string(labels->v[i].value)) != 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

json_t *am_event_to_json(const am_event_t *ev)
{
    json_t *obj = json_object();
    for (size_t i = 0; i < NMEMBERS; i++) {
        const member_t *m = &members[i];
        const char *s = NULL;
        json_t *v = NULL;
        switch (m->type) {
        case M_ID:
        case M_STRING: {
            char *const *p = cfield(ev, m->off);
            s = *p;
            break;
        }
        case M_KIND:
            s = am_kind_name(ev->kind);
            break;
        case M_SOURCE:
            s = ev->source;
            break;
        case M_LABELS:
            v = labels_to_json(cfield(ev, m->off));
            if (!v)
                goto fail;
            break;
        case M_TIME: {
            const int64_t *t = cfield(ev, m->off);
            v = *t == AM_TIME_NONE ? json_null() : json_integer((json_int_t)*t);
            break;
        }
        }
        if (!v) {
            if (!s)
                continue; /* an absent string is omitted */
            v = json_string(s);
            if (!v)
                goto fail; /* not UTF-8 */
        }
        if (json_object_set_new(obj, m->name, v) != 0)
            goto fail;
    }
    return obj;
fail:
    json_decref(obj);
    return NULL;
}

/* The string member m of obj: *out borrowed, NULL when absent or null. */
static int get_string(const json_t *obj, const member_t *m, const char **out, char *err,
                      size_t errlen)
{
    const json_t *v = json_object_get(obj, m->name);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        am_errf(err, errlen, "%s: expected a string or null", m->name);
        return -1;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        am_errf(err, errlen, "%s: contains a NUL character", m->name);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

static int get_labels(const json_t *obj, const member_t *m, am_labels_t *labels, char *err,
                      size_t errlen)
{
    const json_t *v = json_object_get(obj, m->name);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v)) {
        am_errf(err, errlen, "%s: expected an object or null", m->name);
        return -1;
    }
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)v, name, value)
    {
        if (!json_is_string(value)) {
            am_errf(err, errlen, "%s.%.64s: expected a string", m->name, name);
            return -1;
        }
        if (strlen(json_string_value(value)) != json_string_length(value)) {
            am_errf(err, errlen, "%s.%.64s: contains a NUL character", m->name, name);
            return -1;
        }
        am_labels_set(labels, name, json_string_value(value));
    }
    return 0;
}

static int get_time(const json_t *obj, const member_t *m, int64_t *ms, char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, m->name);
    *ms = AM_TIME_NONE;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v)) {
        am_errf(err, errlen, "%s: expected an integer (UTC ms) or null", m->name);
        return -1;
    }
    *ms = (int64_t)json_integer_value(v);
    return 0;
}

int am_event_from_json(const json_t *obj, am_event_t *ev, char *err, size_t errlen)
{
    am_event_init(ev);
    if (!json_is_object(obj)) {
        am_errf(err, errlen, "expected an object");
        return -1;
    }
    for (size_t i = 0; i < NMEMBERS; i++) {
        const member_t *m = &members[i];
        const char *s = NULL;
        if (m->type == M_LABELS) {
            if (get_labels(obj, m, field(ev, m->off), err, errlen) != 0)
                goto fail;
            continue;
        }
        if (m->type == M_TIME) {
            if (get_time(obj, m, field(ev, m->off), err, errlen) != 0)
                goto fail;
            continue;
        }
        if (get_string(obj, m, &s, err, errlen) != 0)
            goto fail;
        if (m->type != M_STRING && (!s || !*s)) {
            am_errf(err, errlen, "%s: missing", m->name);
            goto fail;
        }
        switch (m->type) {
        case M_KIND:
            if (am_kind_parse(s, &ev->kind) != 0) {
                am_errf(err, errlen,
                        "%s: \"%.32s\" is not one of alert, deploy, ack, note, correction, action",
                        m->name, s);
                goto fail;
            }
            break;
        case M_SOURCE:
            ev->source = am_source_static(s);
            if (!ev->source) {
                am_errf(err, errlen,
                        "%s: \"%.32s\" is not a source this aftermath knows (alertmanager, "
                        "cdevents, flux, generic, github, grafana, pagerduty)",
                        m->name, s);
                goto fail;
            }
            break;
        default: { /* M_ID, M_STRING */
            char **p = field(ev, m->off);
            *p = am_xstrdup(s);
            break;
        }
        }
    }
    return 0;
fail:
    am_event_free(ev);
    return -1;
}
