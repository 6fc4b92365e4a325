/*
 * store.c - SQLite storage for aftermath.
 *
 * Design: WAL mode, one connection, every statement prepared once at open
 * and reset after each use. The schema is versioned in schema_version and
 * moved forward by the migrations[] below, one transaction each; a
 * database newer than this build is refused rather than misread. The
 * schema they build is written out, table by table with its owner, in
 * store/schema.sql (test_store checks that the two agree).
 *
 * Events are keyed by their dedup id (UNIQUE), so a re-delivery is an
 * INSERT that does nothing; only an earlier observed_at is written back,
 * which keeps detection times independent of delivery order, and a later
 * one in last_observed_at (a re-notification: the alert still fires). A record's
 * raw bytes go in records, once per record rather than once per alert.
 */
#include "store/store.h"
#include "common/buf.h"
#include "common/hash.h"
#include "common/time.h"

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <time.h>

/* SQLite's page cache: 32 MiB (store_options_t.cache_mib) instead of its default 2 MiB,
 * which made every index look-up of a long replay a pread(2). The WAL is
 * checkpointed every 10,000 pages (40 MiB) rather than 1,000, so a hot
 * page is copied back to the database less often. */
#define STORE_CACHE_MIB 32

static const char *const migrations[] = {
    /* 1: the foundation */
    "CREATE TABLE records ("
    "  seq INTEGER PRIMARY KEY,"
    "  place TEXT NOT NULL,"
    "  topic TEXT, partition INTEGER, \"offset\" INTEGER,"
    "  ts INTEGER, key BLOB, headers TEXT,"
    "  raw BLOB"
    ");"
    "CREATE TABLE events ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  kind TEXT NOT NULL, status TEXT, source TEXT NOT NULL,"
    "  name TEXT, identity TEXT, service TEXT, environment TEXT, severity TEXT,"
    "  labels TEXT NOT NULL, annotations TEXT NOT NULL, summary TEXT,"
    "  starts_at INTEGER, ends_at INTEGER, observed_at INTEGER,"
    "  actor TEXT, version TEXT, url TEXT,"
    "  record_seq INTEGER REFERENCES records(seq)"
    ");"
    "CREATE INDEX events_by_record ON events (record_seq);"
    "CREATE TABLE rejected ("
    "  seq INTEGER PRIMARY KEY,"
    "  place TEXT NOT NULL,"
    "  topic TEXT, partition INTEGER, \"offset\" INTEGER,"
    "  reason TEXT NOT NULL,"
    "  raw BLOB, raw_len INTEGER NOT NULL, raw_hash TEXT NOT NULL,"
    "  rejected_at INTEGER NOT NULL,"
    "  UNIQUE (place, raw_hash)"
    ");"
    "CREATE TABLE offsets ("
    "  topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,"
    "  PRIMARY KEY (topic, partition)"
    ") WITHOUT ROWID;",
    /* 2: correlation (owned by correlate/engine.c) and event look-ups */
    "CREATE INDEX events_by_kind_time ON events (kind, starts_at);"
    "CREATE INDEX events_by_identity ON events (identity, kind, starts_at);"
    "CREATE TABLE corr_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE episodes ("
    "  seq INTEGER PRIMARY KEY,"
    "  rule TEXT NOT NULL, gkey TEXT NOT NULL, identity TEXT NOT NULL,"
    "  starts_at INTEGER NOT NULL, ends_at INTEGER, observed_at INTEGER,"
    "  name TEXT, service TEXT, labels TEXT NOT NULL, users INTEGER,"
    "  incident TEXT,"
    "  UNIQUE (rule, gkey, identity, starts_at)"
    ");"
    "CREATE INDEX episodes_by_key ON episodes (rule, gkey, starts_at);"
    "CREATE INDEX episodes_by_incident ON episodes (incident);"
    "CREATE INDEX episodes_by_identity ON episodes (identity);"
    "CREATE TABLE incidents ("
    "  id TEXT PRIMARY KEY, num INTEGER NOT NULL UNIQUE,"
    "  rule TEXT NOT NULL, gkey TEXT NOT NULL, status TEXT NOT NULL,"
    "  started_at INTEGER NOT NULL, detected_at INTEGER, acknowledged_at INTEGER,"
    "  mitigated_at INTEGER, resolved_at INTEGER,"
    "  alerts INTEGER NOT NULL, users_impacted INTEGER, lead TEXT,"
    "  services TEXT NOT NULL, suspects TEXT NOT NULL, during TEXT NOT NULL,"
    "  flapping TEXT NOT NULL, updated_at INTEGER NOT NULL,"
    "  alert_users INTEGER, link_users INTEGER,"
    "  same_values TEXT NOT NULL DEFAULT '[]', link_basis TEXT"
    ");"
    "CREATE INDEX incidents_by_key ON incidents (rule, gkey, started_at);"
    "CREATE INDEX incidents_by_rule ON incidents (rule, started_at);"
    "CREATE TABLE incident_events ("
    "  incident TEXT NOT NULL, event TEXT NOT NULL, role TEXT NOT NULL,"
    "  PRIMARY KEY (incident, event, role)"
    ") WITHOUT ROWID;"
    "CREATE INDEX incident_events_by_event ON incident_events (event);"
    "CREATE TABLE incident_aliases ("
    "  alias TEXT PRIMARY KEY, incident TEXT NOT NULL"
    ") WITHOUT ROWID;",
    /* 3: impact_start (a rule's impact_start: deploy pulled the start back
     * to a suspect deploy; NULL = the alerts' start) and what acknowledged
     * the incident ('ack', 'deploy' for deploys.acknowledge, NULL) */
    "ALTER TABLE incidents ADD COLUMN impact_start INTEGER;"
    "ALTER TABLE incidents ADD COLUMN ack_kind TEXT;",
    /* 4: the outbox: incidents changed by a committed batch whose change
     * is not yet delivered (incidents topic, drafts); written in the
     * batch's transaction, emptied after delivery, so a crash in between
     * re-delivers on restart instead of losing the change */
    "CREATE TABLE outbox (incident TEXT PRIMARY KEY) WITHOUT ROWID;",
    /* 5: incident ids are derived from the incident (rule, key, start), so
     * that every correlator names it alike; num is the id's hash and no
     * longer a counter, so it loses its UNIQUE (SQLite cannot drop a
     * constraint: the table is rebuilt with the same columns) */
    "CREATE TABLE incidents_v5 ("
    "  id TEXT PRIMARY KEY, num INTEGER NOT NULL,"
    "  rule TEXT NOT NULL, gkey TEXT NOT NULL, status TEXT NOT NULL,"
    "  started_at INTEGER NOT NULL, detected_at INTEGER, acknowledged_at INTEGER,"
    "  mitigated_at INTEGER, resolved_at INTEGER,"
    "  alerts INTEGER NOT NULL, users_impacted INTEGER, lead TEXT,"
    "  services TEXT NOT NULL, suspects TEXT NOT NULL, during TEXT NOT NULL,"
    "  flapping TEXT NOT NULL, updated_at INTEGER NOT NULL,"
    "  alert_users INTEGER, link_users INTEGER,"
    "  same_values TEXT NOT NULL DEFAULT '[]', link_basis TEXT,"
    "  impact_start INTEGER, ack_kind TEXT"
    ");"
    "INSERT INTO incidents_v5 SELECT id, num, rule, gkey, status, started_at, detected_at,"
    "  acknowledged_at, mitigated_at, resolved_at, alerts, users_impacted, lead, services,"
    "  suspects, during, flapping, updated_at, alert_users, link_users, same_values,"
    "  link_basis, impact_start, ack_kind FROM incidents;"
    "DROP TABLE incidents;"
    "ALTER TABLE incidents_v5 RENAME TO incidents;"
    "CREATE INDEX incidents_by_key ON incidents (rule, gkey, started_at);"
    "CREATE INDEX incidents_by_rule ON incidents (rule, started_at);",
    /* 6: episode lifecycle (correlate/engine.c): each event's latest
     * delivery; each episode's latest delivery, when it goes stale and on
     * which topic's clock, and what truncated notifications said of its
     * group; the end inferred for one without a resolve (ends_at stays the
     * resolves' own); whether an incident's mitigation was inferred and how many
     * alerts its notifications left out */
    "ALTER TABLE events ADD COLUMN last_observed_at INTEGER;"
    "UPDATE events SET last_observed_at = observed_at;"
    "ALTER TABLE events ADD COLUMN first_place TEXT;"
    "ALTER TABLE events ADD COLUMN confirmed INTEGER;"
    "ALTER TABLE episodes ADD COLUMN last_seen INTEGER;"
    "ALTER TABLE episodes ADD COLUMN stale_at INTEGER;"
    "ALTER TABLE episodes ADD COLUMN topic TEXT;"
    "ALTER TABLE episodes ADD COLUMN truncated INTEGER;"
    "ALTER TABLE episodes ADD COLUMN trunc_stale_at INTEGER;"
    "ALTER TABLE episodes ADD COLUMN trunc_seen INTEGER;"
    "ALTER TABLE episodes ADD COLUMN trunc_topic TEXT;"
    "ALTER TABLE episodes ADD COLUMN tent_end INTEGER;"
    "ALTER TABLE episodes ADD COLUMN inferred_end INTEGER;"
    "UPDATE episodes SET last_seen = observed_at;"
    "CREATE INDEX episodes_stale ON episodes (topic, stale_at) WHERE ends_at IS NULL;"
    "CREATE INDEX episodes_trunc ON episodes (rule, gkey, trunc_seen) "
    "WHERE trunc_seen IS NOT NULL;"
    "ALTER TABLE incidents ADD COLUMN end_inferred INTEGER;"
    "ALTER TABLE incidents ADD COLUMN truncated INTEGER;",
    /* 7: pages (PagerDuty behind Alertmanager): which alerts were notified
     * under which group key's hash, and PagerDuty's incident ids of those
     * keys; an incident's span end as derived (resolved_at may be a
     * person's resolve, correlate/engine.c) */
    "CREATE TABLE pages (key TEXT NOT NULL, identity TEXT NOT NULL, "
    "PRIMARY KEY (key, identity)) WITHOUT ROWID;"
    "CREATE INDEX pages_by_identity ON pages (identity);"
    "CREATE TABLE page_aliases (alias TEXT NOT NULL, key TEXT NOT NULL, "
    "PRIMARY KEY (alias, key)) WITHOUT ROWID;"
    "ALTER TABLE incidents ADD COLUMN span_end INTEGER;"
    "UPDATE incidents SET span_end = resolved_at;"
    "ALTER TABLE incidents ADD COLUMN person_resolved_at INTEGER;"
    "ALTER TABLE incidents ADD COLUMN lead_by TEXT;"
    "ALTER TABLE incidents ADD COLUMN impact_from TEXT;"
    "UPDATE incidents SET impact_from = 'deploy' WHERE impact_start IS NOT NULL;",
    /* 8: the people's record (correlate/people.c): corrections in effect
     * per incident, action items, and people's events that attach to no
     * incident */
    "CREATE TABLE incident_overlay ("
    "  incident TEXT PRIMARY KEY, title TEXT, severity TEXT, lead TEXT, roles TEXT NOT NULL,"
    "  started_at INTEGER, detected_at INTEGER, acknowledged_at INTEGER, mitigated_at INTEGER,"
    "  resolved_at INTEGER, users_impacted INTEGER, dismissed TEXT, merged_into TEXT,"
    "  verdicts TEXT NOT NULL, corrections TEXT NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE action_items ("
    "  incident TEXT NOT NULL, item TEXT NOT NULL, task TEXT, owner TEXT, due INTEGER,"
    "  status TEXT NOT NULL, url TEXT, opened_at INTEGER NOT NULL, closed_at INTEGER,"
    "  actor TEXT, at INTEGER NOT NULL,"
    "  PRIMARY KEY (incident, item)"
    ") WITHOUT ROWID;"
    "CREATE TABLE people_unattached ("
    "  event TEXT PRIMARY KEY, kind TEXT NOT NULL, incident TEXT NOT NULL, at INTEGER NOT NULL,"
    "  actor TEXT"
    ") WITHOUT ROWID;"
    "CREATE TABLE people_about (identity TEXT PRIMARY KEY) WITHOUT ROWID;",
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))
_Static_assert(NMIGRATIONS == STORE_SCHEMA_VERSION,
               "a migration was added: bump STORE_SCHEMA_VERSION and update store/schema.sql");

enum {
    STMT_INSERT_RECORD,
    STMT_DELETE_RECORD,
    STMT_INSERT_EVENT,
    STMT_EARLIER_OBSERVED,
    STMT_LATER_OBSERVED,
    STMT_CONFIRM,
    STMT_ADD_PAGE,
    STMT_ADD_PAGE_ALIAS,
    STMT_INSERT_REJECTED,
    STMT_SET_OFFSET,
    STMT_GET_OFFSET,
    STMT_SCAN_EVENTS,
    STMT_EVENTS_BETWEEN,
    STMT_EVENTS_BY_IDENTITY,
    STMT_SCAN_OFFSETS,
    NSTMTS
};

static const char *const stmt_sql[NSTMTS] = {
    [STMT_INSERT_RECORD] = "INSERT INTO records (place, topic, partition, \"offset\", ts, key, "
                           "headers, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [STMT_DELETE_RECORD] = "DELETE FROM records WHERE seq = ?",
    [STMT_INSERT_EVENT] =
        "INSERT INTO events (id, kind, status, source, name, identity, service, environment, "
        "severity, labels, annotations, summary, starts_at, ends_at, observed_at, actor, version, "
        "url, record_seq, last_observed_at, first_place) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?, ?, ?, ?, ?15, ?20) "
        "ON CONFLICT (id) DO NOTHING",
    [STMT_EARLIER_OBSERVED] = "UPDATE events SET observed_at = ?1 WHERE id = ?2 AND "
                              "(observed_at IS NULL OR observed_at > ?1)",
    [STMT_CONFIRM] = "UPDATE events SET confirmed = 1 WHERE id = ?1 AND confirmed IS NULL AND "
                     "first_place IS NOT NULL AND first_place <> ?2",
    [STMT_ADD_PAGE] = "INSERT OR IGNORE INTO pages (key, identity) VALUES (?1, ?2)",
    [STMT_ADD_PAGE_ALIAS] = "INSERT OR IGNORE INTO page_aliases (alias, key) VALUES (?1, ?2)",
    [STMT_LATER_OBSERVED] = "UPDATE events SET last_observed_at = ?1 WHERE id = ?2 AND "
                            "(last_observed_at IS NULL OR last_observed_at < ?1)",
    [STMT_INSERT_REJECTED] =
        "INSERT INTO rejected (place, topic, partition, \"offset\", reason, raw, raw_len, "
        "raw_hash, rejected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (place, raw_hash) DO NOTHING",
    [STMT_SET_OFFSET] = "INSERT INTO offsets (topic, partition, next_offset) VALUES (?, ?, ?) "
                        "ON CONFLICT (topic, partition) DO UPDATE SET next_offset = "
                        "excluded.next_offset",
    [STMT_GET_OFFSET] = "SELECT next_offset FROM offsets WHERE topic = ? AND partition = ?",
    [STMT_SCAN_EVENTS] =
        "SELECT seq, id, kind, status, source, name, identity, service, environment, severity, "
        "labels, annotations, summary, starts_at, ends_at, observed_at, actor, version, url "
        "FROM events WHERE seq > ? ORDER BY seq",
    [STMT_EVENTS_BETWEEN] =
        "SELECT seq, id, kind, status, source, name, identity, service, environment, severity, "
        "labels, annotations, summary, starts_at, ends_at, observed_at, actor, version, url "
        "FROM events WHERE kind = ?1 AND starts_at >= ?2 AND starts_at <= ?3 ORDER BY starts_at, "
        "id",
    [STMT_EVENTS_BY_IDENTITY] =
        "SELECT seq, id, kind, status, source, name, identity, service, environment, severity, "
        "labels, annotations, summary, starts_at, ends_at, observed_at, actor, version, url "
        "FROM events WHERE identity = ?2 AND kind = ?1 ORDER BY starts_at, id",
    [STMT_SCAN_OFFSETS] = "SELECT topic, partition, next_offset FROM offsets "
                          "ORDER BY topic, partition",
};

struct store {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *stmt[NSTMTS];
    store_options_t opts;
    int in_tx;
    int full; /* a write of the open transaction failed for want of space */
};

/* True when the connection's last error means "no space": SQLITE_FULL
 * (disk full or max_page_count), or a failed write (SQLITE_IOERR_WRITE)
 * when the errno says so (ENOSPC, EDQUOT, EFBIG) or, since SQLite often
 * loses that errno, when a file-size limit (RLIMIT_FSIZE) is in force or
 * the database's file system has no block left. */
static int last_error_full(const store_t *st)
{
    int code = sqlite3_extended_errcode(st->db);
    if ((code & 0xff) == SQLITE_FULL)
        return 1;
    if (code != SQLITE_IOERR_WRITE)
        return 0;
    int e = sqlite3_system_errno(st->db);
    if (e == ENOSPC || e == EFBIG || e == EDQUOT)
        return 1;
    struct rlimit lim;
    if (getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
        return 1;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", st->path);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir] = '\0';
    struct statvfs fs;
    return statvfs(slash ? dir : ".", &fs) == 0 && fs.f_bavail == 0;
}

static int fail(store_t *st, char *err, size_t errlen, const char *what)
{
    if (last_error_full(st)) {
        st->full = 1;
        am_errf(err, errlen, "%s: %s: storage full (%s)", st->path, what, sqlite3_errmsg(st->db));
    } else {
        am_errf(err, errlen, "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
    }
    return -1;
}

static int exec(store_t *st, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        st->full |= last_error_full(st);
        am_errf(err, errlen, "%s: %s%s", st->path, st->full ? "storage full: " : "",
                msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Current schema version: 0 for an empty database; -1 for a database that
 * has tables but no schema_version (not ours). */
static int schema_version(store_t *st, int *version, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int ours = 0, tables = 0;
    *version = 0;
    if (sqlite3_prepare_v2(st->db, "SELECT name FROM sqlite_schema WHERE type = 'table'", -1, &s,
                           NULL) != SQLITE_OK)
        return fail(st, err, errlen, "reading the schema");
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        tables++;
        if (strcmp((const char *)sqlite3_column_text(s, 0), "schema_version") == 0)
            ours = 1;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return fail(st, err, errlen, "reading the schema");
    if (tables == 0)
        return 0;
    if (!ours) {
        am_errf(err, errlen, "%s: not an aftermath database (no schema_version table)", st->path);
        return -1;
    }
    if (sqlite3_prepare_v2(st->db, "SELECT max(version) FROM schema_version", -1, &s, NULL) !=
        SQLITE_OK)
        return fail(st, err, errlen, "reading schema_version");
    if (sqlite3_step(s) == SQLITE_ROW)
        *version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return 0;
}

/* PRAGMA quick_check: a database damaged on disk (torn, truncated,
 * overwritten) is refused with the first problem SQLite finds, never
 * written into. */
static int check_intact(store_t *st, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &s, NULL) != SQLITE_OK)
        return fail(st, err, errlen, "checking the database (corrupt or not a database?)");
    int rc = sqlite3_step(s);
    const char *r = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
    if (rc != SQLITE_ROW || !r || strcmp(r, "ok") != 0) {
        if (r) {
            char first[256];
            snprintf(first, sizeof first, "%s", r);
            for (char *c = first; *c; c++)
                if (*c == '\n')
                    *c = ' ';
            am_errf(err, errlen,
                    "%s: the database is corrupt (%s); refusing to use it: restore a backup or "
                    "move it away",
                    st->path, first);
        } else
            fail(st, err, errlen, "checking the database (corrupt or not a database?)");
        sqlite3_finalize(s);
        return -1;
    }
    sqlite3_finalize(s);
    return 0;
}

static int migrate(store_t *st, char *err, size_t errlen)
{
    int version;
    if (schema_version(st, &version, err, errlen) != 0)
        return -1;
    if (version > NMIGRATIONS) {
        am_errf(err, errlen, "%s: schema version %d is newer than this aftermath (%d)", st->path,
                version, NMIGRATIONS);
        return -1;
    }
    for (int v = version; v < NMIGRATIONS; v++) {
        char sql[128];
        if (exec(st, "BEGIN IMMEDIATE", err, errlen) != 0)
            return -1;
        if (v == 0 &&
            exec(st, "CREATE TABLE schema_version (version INTEGER NOT NULL)", err, errlen) != 0)
            goto rollback;
        snprintf(sql, sizeof sql, "INSERT INTO schema_version (version) VALUES (%d)", v + 1);
        if (exec(st, migrations[v], err, errlen) != 0 || exec(st, sql, err, errlen) != 0 ||
            exec(st, "COMMIT", err, errlen) != 0)
            goto rollback;
    }
    return 0;
rollback:
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

const store_options_t store_existing = {.keep_raw = 1, .must_exist = 1};

store_t *store_open(const char *path, const store_options_t *opts, char *err, size_t errlen)
{
    store_t *st = am_xcalloc(1, sizeof *st);
    st->path = am_xstrdup(path);
    st->opts.keep_raw = opts ? opts->keep_raw : 1;
    st->opts.busy_timeout_ms = opts && opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : 5000;

    int flags = SQLITE_OPEN_READWRITE | (opts && opts->must_exist ? 0 : SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
        if (opts && opts->must_exist)
            am_errf(err, errlen, "%s: no such database (replay or run create one)", path);
        else
            fail(st, err, errlen, "cannot open");
        goto init_error;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, st->opts.busy_timeout_ms);
    char cache_sql[64];
    snprintf(cache_sql, sizeof cache_sql, "PRAGMA cache_size = -%d",
             1024 * (opts && opts->cache_mib > 0 ? opts->cache_mib : STORE_CACHE_MIB));
    if (exec(st, "PRAGMA journal_mode = WAL", err, errlen) != 0 ||
        exec(st, "PRAGMA synchronous = NORMAL", err, errlen) != 0 ||
        exec(st, "PRAGMA foreign_keys = ON", err, errlen) != 0 ||
        exec(st, cache_sql, err, errlen) != 0 ||
        exec(st, "PRAGMA wal_autocheckpoint = 10000", err, errlen) != 0)
        goto init_error;
    if (!(opts && opts->must_exist) && check_intact(st, err, errlen) != 0)
        goto init_error;
    if (migrate(st, err, errlen) != 0)
        goto init_error;
    for (int i = 0; i < NSTMTS; i++)
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
                               NULL) != SQLITE_OK) {
            fail(st, err, errlen, "preparing statements");
            goto init_error;
        }
    return st;

init_error:
    store_close(st);
    return NULL;
}

void store_close(store_t *st)
{
    if (!st)
        return;
    if (st->in_tx)
        store_rollback(st);
    for (int i = 0; i < NSTMTS; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    free(st->path);
    free(st);
}

const char *store_path(const store_t *st)
{
    return st->path;
}

int store_begin(store_t *st, char *err, size_t errlen)
{
    st->full = 0;
    if (exec(st, "BEGIN IMMEDIATE", err, errlen) != 0)
        return -1;
    st->in_tx = 1;
    return 0;
}

int store_commit(store_t *st, char *err, size_t errlen)
{
    if (exec(st, "COMMIT", err, errlen) != 0)
        return -1;
    st->in_tx = 0;
    return 0;
}

void store_rollback(store_t *st)
{
    /* The failure that led here may have come from another module's
     * statement on this connection (the correlator's). */
    st->full |= last_error_full(st);
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    st->in_tx = 0;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

static void bind_time(sqlite3_stmt *s, int i, int64_t v)
{
    if (v == AM_TIME_NONE)
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_int64(s, i, v);
}

static void bind_place(sqlite3_stmt *s, int first, const am_record_t *rec, char *place)
{
    sqlite3_bind_text(s, first, am_record_place(rec, place), -1, SQLITE_STATIC);
    bind_text(s, first + 1, rec->topic);
    if (rec->topic) {
        sqlite3_bind_int(s, first + 2, rec->partition);
        sqlite3_bind_int64(s, first + 3, rec->offset);
    } else {
        sqlite3_bind_null(s, first + 2);
        sqlite3_bind_null(s, first + 3);
    }
}

/* Steps a write statement to completion and resets it. */
static int step_done(store_t *st, sqlite3_stmt *s, char *err, size_t errlen, const char *what)
{
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) {
        fail(st, err, errlen, what);
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        return -1;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return 0;
}

static int insert_record(store_t *st, const am_record_t *rec, int64_t *seq, char *err,
                         size_t errlen)
{
    sqlite3_stmt *s = st->stmt[STMT_INSERT_RECORD];
    char place[AM_PLACE_LEN];
    bind_place(s, 1, rec, place);
    bind_time(s, 5, rec->ts);
    if (rec->key)
        sqlite3_bind_blob(s, 6, rec->key, (int)rec->key_len, SQLITE_STATIC);
    bind_text(s, 7, rec->headers);
    if (st->opts.keep_raw && rec->payload)
        sqlite3_bind_blob(s, 8, rec->payload, (int)rec->len, SQLITE_STATIC);
    if (step_done(st, s, err, errlen, "storing a record") != 0)
        return -1;
    *seq = sqlite3_last_insert_rowid(st->db);
    return 0;
}

static int insert_event(store_t *st, const am_event_t *ev, int64_t record_seq, const char *place,
                        int *inserted, char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[STMT_INSERT_EVENT];
    char *labels_owned, *annotations_owned;
    const char *labels = am_event_labels_json(ev, false, &labels_owned);
    const char *annotations = am_event_labels_json(ev, true, &annotations_owned);

    bind_text(s, 1, ev->id);
    bind_text(s, 2, am_kind_name(ev->kind));
    bind_text(s, 3, ev->status);
    bind_text(s, 4, ev->source);
    bind_text(s, 5, ev->name);
    bind_text(s, 6, ev->identity);
    bind_text(s, 7, ev->service);
    bind_text(s, 8, ev->environment);
    bind_text(s, 9, ev->severity);
    bind_text(s, 10, labels);
    bind_text(s, 11, annotations);
    bind_text(s, 12, ev->summary);
    bind_time(s, 13, ev->starts_at);
    bind_time(s, 14, ev->ends_at);
    bind_time(s, 15, ev->observed_at);
    bind_text(s, 16, ev->actor);
    bind_text(s, 17, ev->version);
    bind_text(s, 18, ev->url);
    sqlite3_bind_int64(s, 19, record_seq);
    bind_text(s, 20, place);
    int rc = step_done(st, s, err, errlen, "storing an event");
    *inserted = sqlite3_changes(st->db) == 1;
    free(labels_owned);
    free(annotations_owned);
    return rc;
}

/* Where a record came from, for confirming ends: its place, or, for a
 * keyed-topic record, the source record's (its aftermath-source header),
 * so that a source record delivered twice is still one record. */
static void source_place(const am_record_t *rec, char out[AM_PLACE_LEN])
{
    am_record_place(rec, out);
    if (!rec->headers || !strstr(rec->headers, "aftermath-source"))
        return;
    json_t *h = json_loads(rec->headers, 0, NULL);
    for (size_t i = 0; json_is_array(h) && i + 1 < json_array_size(h); i += 2) {
        const char *name = json_string_value(json_array_get(h, i));
        const char *value = json_string_value(json_array_get(h, i + 1));
        if (name && value && strcmp(name, "aftermath-source") == 0) {
            snprintf(out, AM_PLACE_LEN, "%s", value);
            break;
        }
    }
    json_decref(h);
}

int store_put(store_t *st, const am_record_t *rec, const am_event_list_t *events,
              store_outcome_t *outcome, char *err, size_t errlen)
{
    if (events->n == 0)
        return 0;
    int64_t record_seq;
    if (insert_record(st, rec, &record_seq, err, errlen) != 0)
        return -1;
    size_t fresh = 0;
    char place[AM_PLACE_LEN] = "";
    for (size_t i = 0; i < events->n; i++)
        if (!*place && am_labels_get(&events->v[i].annotations, AM_ENDS_UNCONFIRMED))
            source_place(rec, place);
    for (size_t i = 0; i < events->n; i++) {
        const am_event_t *ev = &events->v[i];
        int inserted;
        store_outcome_t o = STORE_NEW;
        /* An unconfirmed end notes the record it came from: one from
         * another record confirms it (the same record again does not, so
         * that replaying a file twice changes nothing). */
        bool unconfirmed = am_labels_get(&ev->annotations, AM_ENDS_UNCONFIRMED) != NULL;
        if (insert_event(st, ev, record_seq, unconfirmed ? place : NULL, &inserted, err, errlen) !=
            0)
            return -1;
        if (inserted) {
            fresh++;
        } else {
            o = STORE_DUPLICATE;
            if (unconfirmed) {
                sqlite3_stmt *s = st->stmt[STMT_CONFIRM];
                bind_text(s, 1, ev->id);
                bind_text(s, 2, place);
                if (step_done(st, s, err, errlen, "confirming an end") != 0)
                    return -1;
                if (sqlite3_changes(st->db) > 0)
                    o = STORE_REPEATED;
            }
            if (ev->observed_at != AM_TIME_NONE) {
                sqlite3_stmt *s = st->stmt[STMT_EARLIER_OBSERVED];
                sqlite3_bind_int64(s, 1, ev->observed_at);
                bind_text(s, 2, ev->id);
                if (step_done(st, s, err, errlen, "updating observed_at") != 0)
                    return -1;
                if (sqlite3_changes(st->db) > 0)
                    o = STORE_EARLIER;
                s = st->stmt[STMT_LATER_OBSERVED];
                sqlite3_bind_int64(s, 1, ev->observed_at);
                bind_text(s, 2, ev->id);
                if (step_done(st, s, err, errlen, "updating last_observed_at") != 0)
                    return -1;
                if (sqlite3_changes(st->db) > 0 && o == STORE_DUPLICATE)
                    o = STORE_LATER;
            }
        }
        /* A page pair (common/event.h): an alert paged under a group
         * key's hash, or PagerDuty's id of the incident with that key.
         * Kept whether or not the event is new: the same alert state paged
         * by another route is one event with two pages. */
        if (ev->page && ev->identity) {
            bool alert = ev->kind == AM_KIND_ALERT;
            sqlite3_stmt *s = st->stmt[alert ? STMT_ADD_PAGE : STMT_ADD_PAGE_ALIAS];
            bind_text(s, 1, ev->page);
            bind_text(s, 2, ev->identity);
            if (step_done(st, s, err, errlen, "storing a page") != 0)
                return -1;
            if (sqlite3_changes(st->db) > 0 && o == STORE_DUPLICATE)
                o = STORE_PAGED;
        }
        if (outcome)
            outcome[i] = o;
    }
    if (fresh == 0) {
        sqlite3_stmt *s = st->stmt[STMT_DELETE_RECORD];
        sqlite3_bind_int64(s, 1, record_seq);
        if (step_done(st, s, err, errlen, "dropping a duplicate record") != 0)
            return -1;
    }
    return 0;
}

int store_put_rejected(store_t *st, const am_record_t *rec, const char *reason, char *err,
                       size_t errlen)
{
    sqlite3_stmt *s = st->stmt[STMT_INSERT_REJECTED];
    char place[AM_PLACE_LEN], hash[24];
    size_t keep = rec->len < STORE_REJECTED_RAW_MAX ? rec->len : STORE_REJECTED_RAW_MAX;
    snprintf(hash, sizeof hash, "%016" PRIx64,
             am_fnv64_add(AM_FNV64_INIT, rec->payload ? rec->payload : "", rec->len));
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);

    bind_place(s, 1, rec, place);
    bind_text(s, 5, reason);
    if (rec->payload)
        sqlite3_bind_blob(s, 6, rec->payload, (int)keep, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, (int64_t)rec->len);
    sqlite3_bind_text(s, 8, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 9, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
    return step_done(st, s, err, errlen, "storing a rejected record");
}

int store_set_offset(store_t *st, const char *topic, int32_t partition, int64_t next_offset,
                     char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[STMT_SET_OFFSET];
    sqlite3_bind_text(s, 1, topic, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, partition);
    sqlite3_bind_int64(s, 3, next_offset);
    return step_done(st, s, err, errlen, "storing an offset");
}

int store_get_offset(store_t *st, const char *topic, int32_t partition, int64_t *next_offset,
                     char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[STMT_GET_OFFSET];
    sqlite3_bind_text(s, 1, topic, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, partition);
    int rc = sqlite3_step(s);
    *next_offset = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(st, err, errlen, "reading an offset");
    return 0;
}

int store_scan_offsets(store_t *st, store_offset_fn fn, void *ctx, char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[STMT_SCAN_OFFSETS];
    int rc, stop = 0;
    while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW)
        stop = fn(ctx, (const char *)sqlite3_column_text(s, 0), (int32_t)sqlite3_column_int(s, 1),
                  sqlite3_column_int64(s, 2));
    if (!stop && rc != SQLITE_DONE) {
        fail(st, err, errlen, "reading offsets");
        stop = -1;
    }
    sqlite3_reset(s);
    return stop;
}

static char *col_text(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? am_xstrdup((const char *)t) : NULL;
}

static int64_t col_time(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? AM_TIME_NONE : sqlite3_column_int64(s, i);
}

static void col_labels(sqlite3_stmt *s, int i, am_labels_t *labels)
{
    const char *t = (const char *)sqlite3_column_text(s, i);
    json_t *j = t ? json_loads(t, 0, NULL) : NULL;
    if (j)
        am_labels_from_json(labels, j, NULL, 0);
    json_decref(j);
}

/* Steps s (already bound) and calls fn with each row as an event. */
static int run_event_query(store_t *st, sqlite3_stmt *s, store_event_fn fn, void *ctx, char *err,
                           size_t errlen)
{
    int rc, stop = 0;
    am_event_t ev;
    am_event_init(&ev);
    while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(s, 0);
        ev.id = col_text(s, 1);
        const char *kind = (const char *)sqlite3_column_text(s, 2);
        if (!kind || am_kind_parse(kind, &ev.kind) != 0)
            ev.kind = AM_KIND_NOTE;
        ev.status = col_text(s, 3);
        ev.source = am_source_static((const char *)sqlite3_column_text(s, 4));
        if (!ev.source)
            ev.source = "unknown"; /* a source this build does not know */
        ev.name = col_text(s, 5);
        ev.identity = col_text(s, 6);
        ev.service = col_text(s, 7);
        ev.environment = col_text(s, 8);
        ev.severity = col_text(s, 9);
        col_labels(s, 10, &ev.labels);
        col_labels(s, 11, &ev.annotations);
        ev.summary = col_text(s, 12);
        ev.starts_at = col_time(s, 13);
        ev.ends_at = col_time(s, 14);
        ev.observed_at = col_time(s, 15);
        ev.actor = col_text(s, 16);
        ev.version = col_text(s, 17);
        ev.url = col_text(s, 18);
        stop = fn(ctx, seq, &ev);
        am_event_free(&ev);
    }
    if (!stop && rc != SQLITE_DONE) {
        fail(st, err, errlen, "reading events");
        stop = -1;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return stop;
}

int store_scan_events(store_t *st, int64_t after_seq, store_event_fn fn, void *ctx, char *err,
                      size_t errlen)
{
    sqlite3_stmt *s = st->stmt[STMT_SCAN_EVENTS];
    sqlite3_bind_int64(s, 1, after_seq);
    return run_event_query(st, s, fn, ctx, err, errlen);
}

int store_events_between(store_t *st, am_kind_t kind, int64_t from, int64_t to, store_event_fn fn,
                         void *ctx, char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[STMT_EVENTS_BETWEEN];
    sqlite3_bind_text(s, 1, am_kind_name(kind), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, from == AM_TIME_NONE ? INT64_MIN : from);
    sqlite3_bind_int64(s, 3, to == AM_TIME_NONE ? INT64_MAX : to);
    return run_event_query(st, s, fn, ctx, err, errlen);
}

int store_events_by_identity(store_t *st, am_kind_t kind, const char *identity, store_event_fn fn,
                             void *ctx, char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[STMT_EVENTS_BY_IDENTITY];
    sqlite3_bind_text(s, 1, am_kind_name(kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, identity, -1, SQLITE_STATIC);
    return run_event_query(st, s, fn, ctx, err, errlen);
}

int store_failed_full(const store_t *st)
{
    return st->full;
}

sqlite3 *store_db(store_t *st)
{
    return st->db;
}

int64_t store_count(store_t *st, const char *table)
{
    static const char *const allowed[] = {"events",   "records",   "rejected",        "offsets",
                                          "episodes", "incidents", "incident_events", "outbox"};
    int ok = 0;
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        ok |= strcmp(table, allowed[i]) == 0;
    if (!ok)
        return -1;
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    sqlite3_stmt *s = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}
