/*
 * replica.h - incidents as replicas: the "replica" member of the incidents
 * topic's documents (the incident row, its episodes, links and linked
 * events, as the correlator stored them), and their application to a
 * view's database, which then answers `incidents`, `show`, `report` and
 * `metrics` as the correlator's own database would (the scale-out
 * design of issue #11, "Documents on the incidents topic").
 *
 * A database that has applied a document is marked as a view (corr_meta
 * role = view): the correlator refuses to work in it, and a correlated
 * database refuses documents, so the two kinds of writer never mix.
 */
#ifndef CORR_REPLICA_H
#define CORR_REPLICA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strset.h"
#include "store/store.h"

/* The schema_version of whole documents (decode's deploy documents; an
 * incident carried whole, as correlators before issue 25 sent it), and of
 * documents in parts (corr_replica_publish): both are understood. */
#define CORR_REPLICA_SCHEMA 1
#define CORR_REPLICA_PARTS_SCHEMA 2

/* corr_replica_apply() refused the document (the reason is in err); the
 * database is unchanged. */
#define CORR_REPLICA_REJECTED 1

/* New replica object of incident id (exactly that id, aliases are not
 * followed): {"incident": {every column but updated_at}, "episodes": [...]
 * by start then identity, "links": [{"event","role"}] by event then role,
 * "events": [event JSON] by start then id}. NULL with err empty when no
 * incident has that id; NULL with err set on a database error. */
json_t *corr_replica_json(store_t *st, const char *id, char *err, size_t errlen);

/* New event JSON of the stored event id (the events-table columns by
 * name; labels and annotations as objects; times as integer ms or null;
 * absent strings null). NULL with err empty when there is no such event,
 * NULL with err set on a database error. */
json_t *corr_replica_event_json(store_t *st, const char *id, char *err, size_t errlen);

/* New incidents-topic document for id: {"schema_version":1, "incident":
 * public JSON, "replica": ...} when id is an incident, {"schema_version":1,
 * "id": id, "merged_into": canonical id} when id is an alias. NULL with err
 * empty when the id is neither (nothing to publish), NULL with err set on
 * a database error. */
json_t *corr_replica_document(store_t *st, const char *id, char *err, size_t errlen);

/* The incidents-topic key of decode's document of event id of kind
 * ("deploy", "correction" or "action"): "deploy:<id>", else
 * "people:<id>". One key per event, never per incident, so that a
 * compacted topic keeps every deploy, correction and action item update
 * (each is an event of its own). New string. */
char *corr_replica_event_key(const char *kind, const char *id);

/* Applies one incidents-topic document (incident with a replica,
 * merged_into, or deploy) to st, inside the caller's open transaction:
 * - incident: the row is upserted; its episodes and links are replaced;
 *   its events are inserted when absent (an earlier observed_at wins, as
 *   in the store); the id stops being an alias; an episode held by another
 *   incident moves to this one, and an incident left without episodes is
 *   deleted with its links and becomes an alias of this one (a ghost);
 * - merged_into: the old incident and its links are deleted, its
 *   remaining episodes go to the new one, old becomes an alias of new (of
 *   what new is itself an alias of) and the aliases of old follow;
 * - deploy: the event is inserted when absent;
 * - people (a correction or action): the event is inserted when absent;
 *   after each document the view's people's record is brought up to date
 *   (correlate/people.h), so the view applies corrections where every
 *   incident is visible.
 * changed, when not NULL, receives the incident ids whose drafts must be
 * rewritten or deleted. Returns 0; CORR_REPLICA_REJECTED with the reason
 * in err (naming the member) for a malformed document, nothing changed;
 * -1 with err when the database failed (or is a correlator's). */
int corr_replica_apply(store_t *st, const json_t *doc, am_strset_t *changed, char *err,
                       size_t errlen);

/* ---- documents in parts (schema 2, docs/scaling.md "Incident documents") ----
 *
 * An incident goes out as parts, each under its own key so that a
 * compacted topic keeps the latest of each: "ID/ep/<16 hex>" per episode,
 * "ID/ev/<event id>" per linked event (the event and its roles in the
 * incident), a part that left the incident as {"gone": true}; then the
 * summary under "ID": the incident row, as_of, the base (the as_of of the
 * snapshot it builds on), and the number and digest of the parts it is
 * made of. Every document carries as_of, the offset of the keyed
 * partition the correlator's store reflects: a view drops a document
 * older than what it holds (a correlator that lost its partition). */

/* Sends one record: key and value (len bytes). 0, or -1 with err. */
typedef int (*corr_replica_send_fn)(void *arg, const char *key, const char *value, size_t len,
                                    char *err, size_t errlen);

typedef struct corr_replica_pub_stats {
    uint64_t records;   /* records sent: parts and summaries */
    uint64_t parts;     /* of which parts (gone included) */
    uint64_t snapshots; /* incidents sent whole: first publication since start */
    uint64_t bytes;     /* keys and values */
} corr_replica_pub_stats_t;

/* Publishes id of st as of keyed offset as_of: the parts that changed
 * since this connection last sent id (all of them the first time: a
 * snapshot), the parts gone, then the summary; an alias: a merge notice
 * {"schema_version":2, "id", "merged_into", "as_of"}. What was sent is
 * kept in TEMP tables of st's connection. 0 (also when id is unknown:
 * nothing sent), or -1 with err (what was sent in this call is not
 * remembered). Call outside a transaction of st. */
int corr_replica_publish(store_t *st, const char *id, int64_t as_of, corr_replica_send_fn send,
                         void *arg, corr_replica_pub_stats_t *stats, char *err, size_t errlen);

/* Forgets what was sent (the records were not all delivered): the next
 * publication of each incident is a snapshot. */
int corr_replica_forget(store_t *st, char *err, size_t errlen);

/* corr_replica_publish at wall-clock now_ms (when the publication is
 * remembered), as a snapshot when snapshot is true (every part, base =
 * as_of) whatever was sent before. */
int corr_replica_publish_at(store_t *st, const char *id, int64_t as_of, int64_t now_ms,
                            bool snapshot, corr_replica_send_fn send, void *arg,
                            corr_replica_pub_stats_t *stats, char *err, size_t errlen);

/* How long a correlator lets an incident go on in changes after its
 * snapshot, and remembers what it sent of a resolved incident
 * (docs/scaling.md, "Bounded waits"). */
#define CORR_REPLICA_SNAPSHOT_AGE_MS (10 * 60 * 1000)

/* What was sent, aged at now_ms (wall clock) with age_ms: adds to due
 * the incidents published in changes since a snapshot taken at or before
 * now_ms - age_ms (the caller publishes each again as a snapshot, so
 * that a view waiting for parts a stale correlator overwrote is not left
 * waiting), and forgets what was sent of the incidents resolved and last
 * published at or before then (their next publication is a snapshot);
 * *forgotten (when not NULL) receives their number. 0, or -1 with err.
 * Call outside a transaction of st. */
int corr_replica_sweep(store_t *st, int64_t now_ms, int64_t age_ms, am_strset_t *due,
                       int64_t *forgotten, char *err, size_t errlen);

/* The mark of part key at as_of, whose XOR over the parts is a summary's
 * digest. */
uint64_t corr_replica_part_mark(const char *key, int64_t as_of);

/* corr_replica_apply, adding to *stale_docs (when not NULL) the documents
 * dropped as older than what the view holds. Parts are kept aside; an
 * incident's summary is applied, with every part it counts, only once the
 * view holds all of them: until then the incident keeps its last complete
 * state (or is absent), never a partial one. */
int corr_replica_apply_counted(store_t *st, const json_t *doc, am_strset_t *changed,
                               uint64_t *stale_docs, char *err, size_t errlen);

/* Applies every summary still waiting for parts that have come since, in
 * the caller's open transaction; *waiting receives the number of
 * incidents still incomplete. A waiting summary that turns out not to be
 * valid when its parts are there is dropped (the incident keeps its last
 * state). 0, or -1 with err when the database failed. */
int corr_replica_settle(store_t *st, am_strset_t *changed, size_t *waiting, char *err,
                        size_t errlen);

/* A view's incompleteness, as its database records it. */
typedef struct corr_replica_view_state {
    bool view;             /* the database has applied documents: a view's */
    int64_t waiting;       /* incidents whose latest summary waits for parts */
    int64_t waiting_since; /* wall ms since which the oldest waits; AM_TIME_NONE: none */
    char oldest[128];      /* that incident's id ("" when none) */
    int64_t stale_docs;    /* documents dropped as older than what was held, ever */
} corr_replica_view_state_t;

/* How long a view lets an incident wait before it warns: twice the
 * correlators' snapshot bound (one snapshot should have come by then). */
#define CORR_REPLICA_WAIT_WARN_MS (2 * CORR_REPLICA_SNAPSHOT_AGE_MS)

/* Whether the oldest wait of vs, at wall-clock now_ms, is past
 * CORR_REPLICA_WAIT_WARN_MS: no correlator published the incident whole
 * in time (down, paused, or its partition idle). */
bool corr_replica_wait_overdue(const corr_replica_view_state_t *vs, int64_t now_ms);

/* Reads out's figures from st (nothing held: zeros, view false). 0, or -1
 * with err. */
int corr_replica_view_state(store_t *st, corr_replica_view_state_t *out, char *err, size_t errlen);

#endif
