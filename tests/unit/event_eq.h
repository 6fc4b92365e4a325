/*
 * event_eq.h - field-by-field comparison of two events, for the tests of
 * lossless round trips (unit tests and fuzz_keyed).
 */
#ifndef TEST_EVENT_EQ_H
#define TEST_EVENT_EQ_H

#include <string.h>

#include "common/event.h"

static inline int event_eq_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static inline int event_eq_labels(const am_labels_t *a, const am_labels_t *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].name, b->v[i].name) != 0 || strcmp(a->v[i].value, b->v[i].value) != 0)
            return 0;
    return 1;
}

/* The name of the first field (of those the store keeps) in which a and b
 * differ, or NULL when they are equal. A NULL string differs from "". */
static inline const char *event_diff(const am_event_t *a, const am_event_t *b)
{
    if (!event_eq_str(a->id, b->id))
        return "id";
    if (a->kind != b->kind)
        return "kind";
    if (!event_eq_str(a->status, b->status))
        return "status";
    if (!event_eq_str(a->source, b->source))
        return "source";
    if (!event_eq_str(a->name, b->name))
        return "name";
    if (!event_eq_str(a->identity, b->identity))
        return "identity";
    if (!event_eq_str(a->service, b->service))
        return "service";
    if (!event_eq_str(a->environment, b->environment))
        return "environment";
    if (!event_eq_str(a->severity, b->severity))
        return "severity";
    if (!event_eq_labels(&a->labels, &b->labels))
        return "labels";
    if (!event_eq_labels(&a->annotations, &b->annotations))
        return "annotations";
    if (!event_eq_str(a->summary, b->summary))
        return "summary";
    if (a->starts_at != b->starts_at)
        return "starts_at";
    if (a->ends_at != b->ends_at)
        return "ends_at";
    if (a->observed_at != b->observed_at)
        return "observed_at";
    if (!event_eq_str(a->actor, b->actor))
        return "actor";
    if (!event_eq_str(a->version, b->version))
        return "version";
    if (!event_eq_str(a->url, b->url))
        return "url";
    return NULL;
}

#endif
