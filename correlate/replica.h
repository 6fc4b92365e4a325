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
#include <stddef.h>

#include "common/strset.h"
#include "store/store.h"

/* The schema_version of the documents written and understood here. */
#define CORR_REPLICA_SCHEMA 1

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

#endif
