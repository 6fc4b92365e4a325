/*
 * event_check.h - what every consumer of a decoded event relies on, for
 * the fuzz targets that decode (fuzz_decode, fuzz_keyed): an id, a known
 * source, a plausible time (and end and record time, if any), what its
 * kind needs, env mirrored as a label, labels
 * sorted. A broken invariant prints what and aborts, for libFuzzer to keep
 * the input. Header-only: each target is one translation unit.
 */
#ifndef FUZZ_EVENT_CHECK_H
#define FUZZ_EVENT_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/event.h"

/* Aborts with "who: invariant broken: what" unless cond. */
static inline void fuzz_check(int cond, const char *who, const char *what)
{
    if (!cond) {
        fprintf(stderr, "%s: invariant broken: %s\n", who, what);
        abort();
    }
}

static inline int fuzz_one_of(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

static inline void fuzz_check_event(const am_event_t *ev, const char *who)
{
    static const char *const alert[] = {"firing", "resolved", NULL};
    static const char *const deploy[] = {"started", "succeeded", "failed", "rolled_back", NULL};
    fuzz_check(ev->id && *ev->id, who, "event without id");
    fuzz_check(ev->source && am_source_static(ev->source), who, "source of no known name");
    fuzz_check(ev->starts_at != AM_TIME_NONE, who, "event without time");
    fuzz_check(am_time_plausible(ev->starts_at, ev->observed_at, NULL, 0) == 0, who,
               "implausible starts_at");
    fuzz_check(ev->ends_at == AM_TIME_NONE ||
                   am_time_plausible(ev->ends_at, ev->observed_at, NULL, 0) == 0,
               who, "implausible ends_at");
    fuzz_check(ev->observed_at == am_time_record(ev->observed_at), who, "implausible observed_at");
    switch (ev->kind) {
    case AM_KIND_ALERT:
        fuzz_check(ev->identity && ev->name, who, "alert without identity or name");
        fuzz_check(fuzz_one_of(ev->status, alert), who, "alert status");
        fuzz_check(strcmp(ev->status, "firing") != 0 || ev->ends_at == AM_TIME_NONE, who,
                   "firing alert with an end");
        break;
    case AM_KIND_DEPLOY:
        fuzz_check(fuzz_one_of(ev->status, deploy), who, "deploy status");
        fuzz_check(ev->name != NULL, who, "deploy without name");
        break;
    case AM_KIND_ACK:
        fuzz_check(ev->status && strcmp(ev->status, "acknowledged") == 0, who, "ack status");
        break;
    case AM_KIND_NOTE:
        break;
    case AM_KIND_CORRECTION:
    case AM_KIND_ACTION:
        fuzz_check(ev->name && am_labels_get(&ev->annotations, AM_ANNOTATION_BODY), who,
                   "people's event without incident or body");
        break;
    default:
        fuzz_check(0, who, "unknown kind");
    }
    if (ev->environment)
        fuzz_check(am_labels_get(&ev->labels, "env") != NULL, who, "environment not in label env");
    for (size_t k = 1; k < ev->labels.n; k++)
        fuzz_check(strcmp(ev->labels.v[k - 1].name, ev->labels.v[k].name) < 0, who,
                   "labels unsorted");
}

#endif
