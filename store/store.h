/*
 * store.h - the SQLite store every module talks through: decoded events
 * (idempotent on their id), the records they came from, rejected records,
 * and Kafka offsets.
 *
 * One writer per database file. Writes happen between store_begin() and
 * store_commit(), so a batch of records, their events and the offsets
 * they advance land together or not at all.
 */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/event.h"
#include "common/record.h"

typedef struct store store_t;

/* Bytes of a rejected record kept in the rejected table. */
#define STORE_REJECTED_RAW_MAX (64 * 1024)

/* Latest schema version this build writes: the number of migrations
 * (store.c checks it at compile time; store/schema.sql is that schema). */
#define STORE_SCHEMA_VERSION 8

typedef struct store_options {
    int keep_raw;        /* store each record's raw payload (default 1) */
    int busy_timeout_ms; /* wait for another writer's lock (default 5000) */
    int must_exist;      /* refuse a path with no database instead of creating one; without
                            it (the writers: run, replay) the database is also checked
                            (PRAGMA quick_check) and refused when damaged */
    int cache_mib;       /* SQLite page cache (default 32 MiB; a correlator's many
                            partition stores take less each) */
} store_options_t;

/* Options of the commands that only read what is there. */
extern const store_options_t store_existing;

/* Opens (creating and migrating as needed) the database at path. opts may
 * be NULL for the defaults. Returns NULL with a message naming the file on
 * failure: not a database, corrupt, newer schema, unwritable. */
store_t *store_open(const char *path, const store_options_t *opts, char *err, size_t errlen);
/* Rolls back an open transaction and closes. Accepts NULL. */
void store_close(store_t *st);

/* Borrowed path of the database. */
const char *store_path(const store_t *st);

int store_begin(store_t *st, char *err, size_t errlen);
int store_commit(store_t *st, char *err, size_t errlen);
/* Rolls back the open transaction, if any. */
void store_rollback(store_t *st);

/* True when a write since the last store_begin() failed for want of space
 * (disk full, quota, file-size limit, max_page_count): nothing is wrong
 * with the data, and the same write can succeed once space returns. Still
 * valid after store_rollback(), so a caller can decide to pause and retry
 * rather than give up. */
int store_failed_full(const store_t *st);

/* What store_put did with each event. */
typedef enum store_outcome {
    STORE_NEW = 1,   /* first time seen: stored */
    STORE_DUPLICATE, /* already stored, nothing changed */
    STORE_EARLIER,   /* already stored, and this delivery's observed_at
                        is earlier: the stored one was moved back */
    STORE_LATER,     /* already stored, and this delivery's observed_at is
                        later than any before (a re-notification): kept as
                        the event's last_observed_at */
    STORE_REPEATED,  /* already stored, and this delivery from another record
                        confirms its unconfirmed end (AM_ENDS_UNCONFIRMED):
                        the event's confirmed column is set */
    STORE_PAGED,     /* already stored, and this delivery names a page
                        (common/event.h) not stored before */
} store_outcome_t;

/* Stores the events decoded from rec (inside a transaction). Events whose
 * id is already stored are not stored again; an earlier observed_at
 * replaces the stored one, a later one the stored last_observed_at. The record's raw payload is
 * kept once, and only when at least one of its events is new. outcome, when not NULL, has events->n
 * entries. Returns 0, or -1 with the SQLite error in err. */
int store_put(store_t *st, const am_record_t *rec, const am_event_list_t *events,
              store_outcome_t *outcome, char *err, size_t errlen);

/* Records a refused record with the reason (the place is taken from rec).
 * The same record refused again (same place and bytes) is kept once. */
int store_put_rejected(store_t *st, const am_record_t *rec, const char *reason, char *err,
                       size_t errlen);

/* Sets the next offset to consume for topic/partition. */
int store_set_offset(store_t *st, const char *topic, int32_t partition, int64_t next_offset,
                     char *err, size_t errlen);
/* Next offset for topic/partition, or -1 when none is stored. */
int store_get_offset(store_t *st, const char *topic, int32_t partition, int64_t *next_offset,
                     char *err, size_t errlen);

/* Calls fn with every stored offset, by topic then partition; fn returning
 * non-zero stops the scan and is returned. Returns 0, or -1 with err. */
typedef int (*store_offset_fn)(void *ctx, const char *topic, int32_t partition,
                               int64_t next_offset);
int store_scan_offsets(store_t *st, store_offset_fn fn, void *ctx, char *err, size_t errlen);

/* Reads events stored with seq > after_seq in seq order, calling fn with
 * each (the event is valid during the call only). fn returning non-zero
 * stops the scan and is returned. */
typedef int (*store_event_fn)(void *ctx, int64_t seq, const am_event_t *ev);
int store_scan_events(store_t *st, int64_t after_seq, store_event_fn fn, void *ctx, char *err,
                      size_t errlen);

/* Events of kind whose starts_at is in [from, to] (AM_TIME_NONE: no
 * bound), by time then id. */
int store_events_between(store_t *st, am_kind_t kind, int64_t from, int64_t to, store_event_fn fn,
                         void *ctx, char *err, size_t errlen);
/* Events of kind with the given identity, by time then id. */
int store_events_by_identity(store_t *st, am_kind_t kind, const char *identity, store_event_fn fn,
                             void *ctx, char *err, size_t errlen);

/* The connection, borrowed, for modules that own tables in the store's
 * schema (correlate/ owns episodes, incidents, incident_events,
 * incident_aliases and corr_meta). Use it only inside the store's
 * transactions; never close it. */
typedef struct sqlite3 sqlite3;
sqlite3 *store_db(store_t *st);

/* Row count of one of the store's tables ("events", "rejected", ...), or
 * -1 on error. */
int64_t store_count(store_t *st, const char *table);

#endif
