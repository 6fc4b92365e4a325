/*
 * queries.h - the statements other modules run on the store's tables
 * (events, records, rejected), named here so that the tables' owner sees
 * every use (store/schema.sql). They run on the store's connection
 * (store_db) inside the caller's transaction. A statement that also names
 * the caller's own tables (a join with incident_events) stays with the
 * caller, but takes its events columns from STORE_EVENT_COLS.
 */
#ifndef STORE_QUERIES_H
#define STORE_QUERIES_H

/* The columns of an event as a replica document carries them, in this
 * order (a macro, so that callers can build statements around it). */
#define STORE_EVENT_COLS                                                                           \
    "id, kind, status, source, name, identity, service, environment, severity, labels, "           \
    "annotations, summary, starts_at, ends_at, observed_at, actor, version, url, "                 \
    "last_observed_at, first_place, confirmed"

/* ?1 event id -> its STORE_EVENT_COLS. */
extern const char store_sql_event_by_id[];

/* ?1..?21 the STORE_EVENT_COLS values: inserts the event unless its id is
 * stored (a view's copy of an event; no record). */
extern const char store_sql_insert_event[];

/* ?1 event id, ?2 observed_at, ?3 last_observed_at, ?4 confirmed: moves
 * the event's observed_at earlier and its last_observed_at later, and
 * confirms it once. */
extern const char store_sql_earlier_observed[];

/* ?1 event id -> one row when the event's unconfirmed end was confirmed
 * by another record. */
extern const char store_sql_event_confirmed[];

/* ?1 event seq -> the topic of the record it came from (NULL: a file) and
 * its latest delivery (recorrelate replays each event's clock). */
extern const char store_sql_event_delivery[];

/* -> one row: the latest time any stored event gives (start, end or
 * observation), NULL when there is none: the "now" of a replayed store
 * (report/status.h). People's corrections and actions, written by hand
 * after the fact, do not move it. */
extern const char store_sql_latest_event_time[];

/* ?1 identity -> one row when an ack names that alert identity. */
extern const char store_sql_ack_for_identity[];

/* ?1 alert identity -> one row when a PagerDuty event names a page of it
 * (pages: the key, or PagerDuty's id of it). */
extern const char store_sql_page_events_for_identity[];

/* ?1 a page's key or PagerDuty's id of one -> one row when an alert was
 * paged under it. */
extern const char store_sql_page_known[];

/* -> one row when any PagerDuty ack or note is stored (the correlator
 * skips the pages' work without). */
extern const char store_sql_pagerduty_present[];

/* ?1 horizon: deletes the raw records older than it that no event needs,
 * and the rejected records older than it (retention, correlate/prune.c,
 * which deletes the events it no longer links first). */
extern const char store_sql_prune_records[];
extern const char store_sql_prune_rejected[];

/* ?1 kind, ?2 from, ?3 to (ms) -> the STORE_EVENT_COLS of the events of
 * that kind starting in [from, to), by time: the drafts' lead-in and the
 * deploys after resolution (report/draft.c). */
extern const char store_sql_events_around[];

#endif
