/*
 * engine.h - the correlator: groups stored events into incidents under a
 * set of rules, derives their timestamps and links deploys, acks and
 * notes. Its state lives in the store (tables episodes, incidents,
 * incident_events, incident_aliases, corr_meta), written in the caller's
 * transaction, so incidents commit together with the events (and Kafka
 * offsets) that produced them.
 *
 * The result depends only on the set of stored events, never on their
 * arrival order or on duplicates (see DESIGN.md, "Properties").
 */
#ifndef CORR_ENGINE_H
#define CORR_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/event.h"
#include "common/log.h"
#include "correlate/rules.h"
#include "store/store.h"

typedef struct corr_engine corr_engine_t;

/* One topic's stale_after (corr_options_t). */
typedef struct corr_stale_topic {
    const char *topic;
    int64_t stale_after;
} corr_stale_topic_t;

typedef struct corr_options {
    /* Group keys held in memory at once; past it the working set is
     * processed and written to the store early (default 10000). */
    size_t max_open_groups;
    /* Take these rules even if the database was correlated under other
     * rules (recorrelate does; otherwise that is an error). */
    bool adopt_rules;
    /* Staged topology: this store correlates keyed-topic partition `part`
     * of `nparts`, and takes only the (rule, group key) pairs that
     * corr_route_partition() puts there. nparts 0: every pair. */
    int32_t nparts, part;
    /* Staleness (DESIGN.md, "Real sources"): an open alert episode that no
     * delivery repeated for stale_after ms ends at its latest delivery,
     * marked inferred, once the latest record time seen on its topic has
     * passed that deadline. Records without a time never go stale. 0: the
     * default, 4h30m; negative: never. A topic listed in stale_topics
     * takes its own value there (0: stale_after; the list is copied). */
    int64_t stale_after;
    const corr_stale_topic_t *stale_topics;
    size_t nstale_topics;
} corr_options_t;

/* st, rules and log are borrowed and must outlive the engine. Fails when
 * the database was correlated under different rules (the message says to
 * run `aftermath recorrelate`), and when it is a view's (correlate/
 * replica.h: filled from the incidents topic). */
corr_engine_t *corr_engine_create(store_t *st, const corr_rules_t *rules, const am_log_t *log,
                                  const corr_options_t *opts, char *err, size_t errlen);
void corr_engine_destroy(corr_engine_t *e);

/* Feeds one event that the store just took as new, or whose observed_at
 * it just moved earlier. Must be inside the store transaction that holds
 * the event. */
int corr_engine_add(corr_engine_t *e, const am_event_t *ev, char *err, size_t errlen);

/* Says that the events added next come from one record of topic (NULL:
 * none, e.g. a raw line) with record time ts (AM_TIME_NONE when unknown),
 * which moves that topic's clock: the time against which staleness is
 * judged. topic is copied. Returns 0. */
int corr_engine_record(corr_engine_t *e, const char *topic, int64_t ts);

/* Brings incidents up to date with everything added, inside the open
 * transaction (call before committing it). */
int corr_engine_flush(corr_engine_t *e, char *err, size_t errlen);

/* Incidents opened, changed or merged away by the flushes since the last
 * corr_engine_changed_clear() or _done() (an early flush inside a batch
 * adds to the same list). Each flush also records them in the store's
 * outbox table, in its transaction, where they stay until
 * corr_engine_changed_done(): a process that dies between committing a
 * batch and delivering its changes finds them there on restart.
 * _clear() forgets the list in memory only (the outbox keeps it). */
size_t corr_engine_changed_count(const corr_engine_t *e);
const char *corr_engine_changed_id(const corr_engine_t *e, size_t i);
void corr_engine_changed_clear(corr_engine_t *e);

/* Adds every incident of the outbox (changes not yet delivered, e.g.
 * by a run that crashed, or made by replay or recorrelate) to the list.
 * Returns 0, or -1 with err. */
int corr_engine_changed_load(corr_engine_t *e, char *err, size_t errlen);

/* The list was delivered: removes it from the outbox (one statement,
 * outside a batch transaction) and clears it. Returns 0, or -1 with err
 * (the list is then kept). */
int corr_engine_changed_done(corr_engine_t *e, char *err, size_t errlen);

/* True when the event matches no rule's match list (for `rules test`). */
bool corr_rules_match_any(const corr_rules_t *rules, const am_event_t *ev);

/* Rebuilds every incident from the stored events under rules, in one
 * transaction. Ids come from rule, key and start (rules/README.md), so an
 * incident rebuilt alike keeps its id. */
int corr_recorrelate(store_t *st, const corr_rules_t *rules, const am_log_t *log, char *err,
                     size_t errlen);

#endif
