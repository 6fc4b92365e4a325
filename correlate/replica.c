/*
 * replica.c - incidents carried over the incidents topic, whole (schema
 * 1) or in parts (schema 2), and rebuilt in a view's database.
 *
 * Design. A correlator publishes, with each changed incident, the rows
 * that make it up in its own database: the incidents row (every column
 * but updated_at, read by name, so a column a later migration adds
 * travels without a change here), its episodes, its links and the events
 * they name; in parts, one record per episode and per linked event, sent
 * only when it changed, and a summary that counts them (see "publishing
 * in parts" and "applying parts" below, and docs/scaling.md). A view writes those rows back into
 * the same tables, so every reader (incident.c, report/) works on a view unchanged. Nothing is
 * derived again: a view has no rules and no engine.
 *
 * Documents come in key order per topic partition only, so a view must
 * converge whatever order incidents arrive in: rows are replaced, never
 * merged with what was there; events are inserted once and keep their
 * earliest observed_at, as the store does; an episode (rule, gkey,
 * identity, starts_at) belongs to the incident that last claimed it, and
 * an incident that loses all its episodes is a ghost of a rename or merge
 * whose notice has not come (or never will): it is deleted and becomes
 * an alias of the claimer. A merge notice moves what is left of the old
 * incident's episodes to the new one instead of dropping them, so a stale
 * document of the old id that claimed them back in between loses nothing.
 *
 * Each document is applied under a savepoint: a malformed one is rolled
 * back whole and reported (CORR_REPLICA_REJECTED), so the caller can
 * store it as rejected and go on with the stream.
 */
#include "correlate/replica.h"
#include "store/queries.h"
#include "common/buf.h"
#include "common/event.h"
#include "common/hash.h"
#include "common/time.h"
#include "correlate/incident.h"
#include "correlate/people.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bounds the alias chain a merge notice follows (a view only ever makes
 * chains of one; more means a cycle left by out-of-order notices). */
#define ALIAS_HOPS 64

/* How a member of a document is checked and bound: a string, an integer
 * (times in ms), a string holding JSON text, or an object of strings
 * (labels, stored as compact JSON with sorted keys, like the store). */
typedef enum ftype { F_STR, F_INT, F_JSONTEXT, F_LABELS } ftype_t;

typedef struct field {
    const char *name;
    ftype_t type;
    bool required;
} field_t;

/* The events-table columns, in the order of STORE_EVENT_COLS. */
static const field_t event_fields[] = {
    {"id", F_STR, true},
    {"kind", F_STR, true},
    {"status", F_STR, false},
    {"source", F_STR, true},
    {"name", F_STR, false},
    {"identity", F_STR, false},
    {"service", F_STR, false},
    {"environment", F_STR, false},
    {"severity", F_STR, false},
    {"labels", F_LABELS, false},
    {"annotations", F_LABELS, false},
    {"summary", F_STR, false},
    {"starts_at", F_INT, false},
    {"ends_at", F_INT, false},
    {"observed_at", F_INT, false},
    {"actor", F_STR, false},
    {"version", F_STR, false},
    {"url", F_STR, false},
    {"last_observed_at", F_INT, false},
    {"first_place", F_STR, false},
    {"confirmed", F_INT, false},
};
#define NEVENT_FIELDS (sizeof event_fields / sizeof event_fields[0])
#define EVENT_COLS STORE_EVENT_COLS

/* The episodes columns a replica carries, in the order of EPISODE_COLS. */
static const field_t episode_fields[] = {
    {"rule", F_STR, true},
    {"gkey", F_JSONTEXT, true},
    {"identity", F_STR, true},
    {"starts_at", F_INT, true},
    {"ends_at", F_INT, false},
    {"observed_at", F_INT, false},
    {"name", F_STR, false},
    {"service", F_STR, false},
    {"labels", F_JSONTEXT, true},
    {"users", F_INT, false},
    /* the lifecycle (schema 6): a view judges nothing, but carries them as
     * of the incident's last publication (a re-notification that changes
     * no incident moves last_seen and stale_at without publishing) */
    {"last_seen", F_INT, false},
    {"stale_at", F_INT, false},
    {"topic", F_STR, false},
    {"truncated", F_INT, false},
    {"trunc_seen", F_INT, false},
    {"trunc_stale_at", F_INT, false},
    {"trunc_topic", F_STR, false},
    {"tent_end", F_INT, false},
    {"inferred_end", F_INT, false},
};
#define NEPISODE_FIELDS (sizeof episode_fields / sizeof episode_fields[0])
#define EPISODE_COLS                                                                               \
    "rule, gkey, identity, starts_at, ends_at, observed_at, name, service, labels, users, "        \
    "last_seen, stale_at, topic, truncated, trunc_seen, trunc_stale_at, trunc_topic, tent_end, "   \
    "inferred_end"

/* incidents columns holding JSON text, checked as such when applied. */
static const char *const incident_json_cols[] = {"gkey",   "services", "suspects",
                                                 "during", "flapping", "same_values"};

/* ---- building ---- */

/* Every column of the current row of s but skip, by name: integers,
 * texts, nulls; with labels, the columns labels and annotations parsed as
 * objects. NULL when such a column does not parse. */
static json_t *row_object(sqlite3_stmt *s, const char *skip, bool labels)
{
    json_t *o = json_object();
    for (int i = 0; i < sqlite3_column_count(s); i++) {
        const char *name = sqlite3_column_name(s, i);
        json_t *v;
        if (skip && strcmp(name, skip) == 0)
            continue;
        switch (sqlite3_column_type(s, i)) {
        case SQLITE_INTEGER:
            v = json_integer(sqlite3_column_int64(s, i));
            break;
        case SQLITE_FLOAT:
            v = json_real(sqlite3_column_double(s, i));
            break;
        case SQLITE_NULL:
            v = json_null();
            break;
        default: {
            const char *t = (const char *)sqlite3_column_text(s, i);
            bool parse =
                labels && (strcmp(name, "labels") == 0 || strcmp(name, "annotations") == 0);
            v = parse ? json_loads(t, 0, NULL) : json_string(t);
            if (!v || (parse && !json_is_object(v))) { /* not JSON, or not UTF-8 */
                json_decref(v);
                json_decref(o);
                return NULL;
            }
        }
        }
        json_object_set_new(o, name, v);
    }
    return o;
}

/* Runs s (bound) and appends each row as an object to a new array.
 * NULL with err on failure. */
static json_t *rows(store_t *st, sqlite3_stmt *s, const char *skip, bool labels, const char *what,
                    char *err, size_t errlen)
{
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        json_t *o = row_object(s, skip, labels);
        if (!o) {
            am_errf(err, errlen, "%s: %s: a stored value is not valid (JSON or UTF-8)",
                    store_path(st), what);
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, o);
    }
    if (rc != SQLITE_DONE) {
        am_errf(err, errlen, "%s: %s: %s", store_path(st), what, sqlite3_errmsg(store_db(st)));
        json_decref(arr);
        return NULL;
    }
    return arr;
}

/* Prepares sql, binds id to ?1 and reads the rows (see rows()). */
static json_t *query(store_t *st, const char *sql, const char *id, const char *skip, bool labels,
                     const char *what, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK) {
        am_errf(err, errlen, "%s: %s: %s", store_path(st), what, sqlite3_errmsg(store_db(st)));
        return NULL;
    }
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    json_t *arr = rows(st, s, skip, labels, what, err, errlen);
    sqlite3_finalize(s);
    return arr;
}

json_t *corr_replica_event_json(store_t *st, const char *id, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    json_t *arr = query(st, store_sql_event_by_id, id, NULL, true, "reading an event", err, errlen);
    json_t *ev = json_incref(json_array_get(arr, 0));
    json_decref(arr);
    return ev;
}

json_t *corr_replica_json(store_t *st, const char *id, char *err, size_t errlen)
{
    json_t *replica = NULL, *inc = NULL, *eps = NULL, *links = NULL, *events = NULL;
    if (err && errlen)
        err[0] = '\0';
    inc = query(st, "SELECT * FROM incidents WHERE id = ?1", id, "updated_at", false,
                "reading an incident", err, errlen);
    if (!inc || json_array_size(inc) == 0)
        goto done;
    eps = query(st,
                "SELECT " EPISODE_COLS " FROM episodes WHERE incident = ?1 "
                "ORDER BY starts_at, identity, rule, gkey",
                id, NULL, false, "reading episodes", err, errlen);
    links = eps ? query(st,
                        "SELECT event, role FROM incident_events WHERE incident = ?1 "
                        "ORDER BY event, role",
                        id, NULL, false, "reading links", err, errlen)
                : NULL;
    events = links ? query(st,
                           "SELECT " EVENT_COLS " FROM events WHERE id IN (SELECT event FROM "
                           "incident_events WHERE incident = ?1) ORDER BY starts_at, id",
                           id, NULL, true, "reading linked events", err, errlen)
                   : NULL;
    if (!events)
        goto done;
    replica = json_object();
    json_object_set(replica, "incident", json_array_get(inc, 0));
    json_object_set(replica, "episodes", eps);
    json_object_set(replica, "links", links);
    json_object_set(replica, "events", events);
done:
    json_decref(inc);
    json_decref(eps);
    json_decref(links);
    json_decref(events);
    return replica;
}

json_t *corr_replica_document(store_t *st, const char *id, char *err, size_t errlen)
{
    json_t *inc = corr_incident_json(st, id, err, errlen);
    if (!inc)
        return NULL;
    json_t *doc = json_object();
    json_object_set_new(doc, "schema_version", json_integer(CORR_REPLICA_SCHEMA));
    if (strcmp(json_string_value(json_object_get(inc, "id")), id) != 0) {
        json_object_set_new(doc, "id", json_string(id));
        json_object_set(doc, "merged_into", json_object_get(inc, "id"));
        json_decref(inc);
        return doc;
    }
    json_t *replica = corr_replica_json(st, id, err, errlen);
    if (!replica) {
        json_decref(inc);
        json_decref(doc);
        return NULL;
    }
    json_object_set_new(doc, "incident", inc);
    json_object_set_new(doc, "replica", replica);
    return doc;
}

/* ---- publishing in parts (schema 2) ---- */

/* SQL am_part_hash(...): FNV-1a 64 of its arguments, each with its type,
 * as an integer: what a part is made of, to tell whether it changed since
 * it was last sent. */
static void sql_part_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    uint64_t h = AM_FNV64_INIT;
    for (int i = 0; i < argc; i++) {
        int type = sqlite3_value_type(argv[i]);
        h = am_fnv64_add_byte(h, (unsigned char)type);
        if (type == SQLITE_NULL)
            continue;
        const unsigned char *t = sqlite3_value_text(argv[i]);
        h = am_fnv64_add(h, t, (size_t)sqlite3_value_bytes(argv[i]));
        h = am_fnv64_add_byte(h, 0);
    }
    sqlite3_result_int64(ctx, (sqlite3_int64)h);
}

uint64_t corr_replica_part_mark(const char *key, int64_t as_of)
{
    char n[32];
    int len = snprintf(n, sizeof n, "\n%lld", (long long)as_of);
    return am_fnv64_add(am_fnv64_add(AM_FNV64_INIT, key, strlen(key)), n, (size_t)len);
}

/* What this connection has sent (TEMP tables: a correlator that starts
 * again sends each incident whole once, a snapshot). */
static const char pub_schema[] =
    "CREATE TEMP TABLE IF NOT EXISTS replica_sent (key TEXT PRIMARY KEY, incident TEXT NOT NULL, "
    "hash INTEGER NOT NULL, as_of INTEGER NOT NULL, seen INTEGER NOT NULL DEFAULT 1);"
    "CREATE INDEX IF NOT EXISTS temp.replica_sent_incident ON replica_sent (incident);"
    "CREATE TEMP TABLE IF NOT EXISTS replica_based (incident TEXT PRIMARY KEY, "
    "base INTEGER NOT NULL, snap_at INTEGER NOT NULL, pub_at INTEGER NOT NULL, "
    "dirty INTEGER NOT NULL DEFAULT 0, resolved INTEGER NOT NULL DEFAULT 0);";

enum {
    P_EPISODES,
    P_EVENTS,
    P_SENT_HASH,
    P_PUT_SENT,
    P_SEEN,
    P_UNSEEN_RESET,
    P_UNSEEN,
    P_DROP_SENT,
    P_SENT_OF,
    P_BASE,
    P_PUT_BASE,
    P_FORGET_SENT,
    P_FORGET_BASE,
    P_PUBLISHED,
    P_DUE,
    P_FORGET_OLD_SENT,
    P_FORGET_OLD_BASE,
    NPSTMT
};

static const char *const psql[NPSTMT] = {
    [P_EPISODES] = "SELECT am_part_hash(" EPISODE_COLS ") AS part_hash, " EPISODE_COLS
                   " FROM episodes WHERE incident = ?1 ORDER BY starts_at, identity, rule, gkey",
    [P_EVENTS] = "SELECT r.event, r.roles, am_part_hash(r.roles, " STORE_EVENT_COLS
                 ") FROM (SELECT event, group_concat(role, ',') AS roles FROM (SELECT event, role "
                 "FROM incident_events WHERE incident = ?1 ORDER BY event, role) GROUP BY event) "
                 "AS r LEFT JOIN events ON events.id = r.event ORDER BY r.event",
    [P_SENT_HASH] = "SELECT hash FROM temp.replica_sent WHERE key = ?1",
    [P_PUT_SENT] = "INSERT OR REPLACE INTO temp.replica_sent (key, incident, hash, as_of, seen) "
                   "VALUES (?1, ?2, ?3, ?4, 1)",
    [P_SEEN] = "UPDATE temp.replica_sent SET seen = 1 WHERE key = ?1",
    [P_UNSEEN_RESET] = "UPDATE temp.replica_sent SET seen = 0 WHERE incident = ?1",
    [P_UNSEEN] = "SELECT key FROM temp.replica_sent WHERE incident = ?1 AND seen = 0",
    [P_DROP_SENT] = "DELETE FROM temp.replica_sent WHERE key = ?1",
    [P_SENT_OF] = "SELECT key, as_of FROM temp.replica_sent WHERE incident = ?1",
    [P_BASE] = "SELECT base FROM temp.replica_based WHERE incident = ?1",
    [P_PUT_BASE] = "INSERT OR REPLACE INTO temp.replica_based (incident, base, snap_at, pub_at) "
                   "VALUES (?1, ?2, ?3, ?3)",
    [P_FORGET_SENT] = "DELETE FROM temp.replica_sent WHERE ?1 IS NULL OR incident = ?1",
    [P_FORGET_BASE] = "DELETE FROM temp.replica_based WHERE ?1 IS NULL OR incident = ?1",
    /* ?2 1: sent incrementally since its snapshot; ?3 resolved; ?4 now */
    [P_PUBLISHED] = "UPDATE temp.replica_based SET dirty = ?2, resolved = ?3, pub_at = ?4 "
                    "WHERE incident = ?1",
    /* ?1 the horizon: snapshots taken at or before it are old */
    [P_DUE] = "SELECT incident FROM temp.replica_based WHERE dirty = 1 AND snap_at <= ?1 "
              "ORDER BY incident",
    [P_FORGET_OLD_SENT] = "DELETE FROM temp.replica_sent WHERE incident IN (SELECT incident FROM "
                          "temp.replica_based WHERE resolved = 1 AND dirty = 0 AND pub_at <= ?1)",
    [P_FORGET_OLD_BASE] = "DELETE FROM temp.replica_based WHERE resolved = 1 AND dirty = 0 AND "
                          "pub_at <= ?1",
};

/* One publication of one incident. */
typedef struct pub {
    store_t *st;
    sqlite3 *db;
    sqlite3_stmt *s[NPSTMT];
    const char *id;
    int64_t as_of;
    int64_t now_ms; /* wall clock of the publication */
    bool snapshot;  /* send every part, whatever was sent before */
    bool resolved;  /* the incident is resolved (pub_summary) */
    corr_replica_send_fn send;
    void *arg;
    corr_replica_pub_stats_t *stats;
    char *err;
    size_t errlen;
} pub_t;

static int pub_fail(pub_t *p, const char *what)
{
    am_errf(p->err, p->errlen, "%s: publishing %s: %s: %s", store_path(p->st), p->id, what,
            sqlite3_errmsg(p->db));
    return -1;
}

static sqlite3_stmt *pstmt(pub_t *p, int k)
{
    if (!p->s[k] && sqlite3_prepare_v2(p->db, psql[k], -1, &p->s[k], NULL) != SQLITE_OK) {
        pub_fail(p, "preparing statements");
        sqlite3_finalize(p->s[k]);
        p->s[k] = NULL;
    }
    if (p->s[k]) {
        sqlite3_reset(p->s[k]);
        sqlite3_clear_bindings(p->s[k]);
    }
    return p->s[k];
}

/* Runs k (text ?1, and ?2... given by the caller already bound when s is
 * passed) to its end. */
static int pexec(pub_t *p, int k, const char *text1, const char *what)
{
    sqlite3_stmt *s = pstmt(p, k);
    if (!s)
        return -1;
    if (text1)
        sqlite3_bind_text(s, 1, text1, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : pub_fail(p, what);
}

/* Sends doc under key (doc is consumed). */
static int pub_send(pub_t *p, const char *key, json_t *doc, bool part)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text) {
        am_errf(p->err, p->errlen, "%s: publishing %s: a document could not be written",
                store_path(p->st), p->id);
        return -1;
    }
    size_t len = strlen(text);
    int rc = p->send(p->arg, key, text, len, p->err, p->errlen);
    free(text);
    if (rc == 0 && p->stats) {
        p->stats->records++;
        p->stats->bytes += len + strlen(key);
        if (part)
            p->stats->parts++;
    }
    return rc;
}

/* A part's document: {"schema_version":2, "of": id, "part": name,
 * "as_of": n, ...}, what borrowed and set as its member (or "gone"). */
static json_t *part_doc(pub_t *p, const char *name)
{
    json_t *d = json_object();
    json_object_set_new(d, "schema_version", json_integer(CORR_REPLICA_PARTS_SCHEMA));
    json_object_set_new(d, "of", json_string(p->id));
    json_object_set_new(d, "part", json_string(name));
    json_object_set_new(d, "as_of", json_integer(p->as_of));
    return d;
}

static int pub_part_key(pub_t *p, const char *key, int64_t hash, json_t *(*build)(pub_t *, void *),
                        void *barg);

/* Sends part name of p->id, built by build(p, barg), when its hash
 * differs from what was sent; remembers it as sent and seen. */
static int pub_part(pub_t *p, const char *name, int64_t hash, json_t *(*build)(pub_t *, void *),
                    void *barg)
{
    am_buf_t kb = {0};
    am_buf_printf(&kb, "%s/%s", p->id, name);
    int rc = pub_part_key(p, kb.p, hash, build, barg);
    am_buf_free(&kb);
    return rc;
}

static int pub_part_key(pub_t *p, const char *key, int64_t hash, json_t *(*build)(pub_t *, void *),
                        void *barg)
{
    sqlite3_stmt *s = pstmt(p, P_SENT_HASH);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    bool same = step == SQLITE_ROW && sqlite3_column_int64(s, 0) == hash;
    sqlite3_reset(s);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return pub_fail(p, "reading what was sent");
    if (same)
        return pexec(p, P_SEEN, key, "marking a part");
    json_t *doc = build(p, barg);
    if (!doc)
        return -1;
    if (pub_send(p, key, doc, true) != 0)
        return -1;
    if (!(s = pstmt(p, P_PUT_SENT)))
        return -1;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, p->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, hash);
    sqlite3_bind_int64(s, 4, p->as_of);
    step = sqlite3_step(s);
    sqlite3_reset(s);
    return step == SQLITE_DONE ? 0 : pub_fail(p, "remembering a part");
}

/* Episode part: the current row of P_EPISODES. */
typedef struct ep_arg {
    sqlite3_stmt *s;
    const char *name;
} ep_arg_t;

static json_t *build_episode(pub_t *p, void *arg)
{
    ep_arg_t *e = arg;
    json_t *row = row_object(e->s, "part_hash", false);
    if (!row) {
        am_errf(p->err, p->errlen, "%s: publishing %s: an episode is not valid (JSON or UTF-8)",
                store_path(p->st), p->id);
        return NULL;
    }
    json_t *d = part_doc(p, e->name);
    json_object_set_new(d, "episode", row);
    return d;
}

typedef struct ev_arg {
    const char *event, *roles, *name;
} ev_arg_t;

static json_t *build_event(pub_t *p, void *arg)
{
    ev_arg_t *e = arg;
    json_t *ev = corr_replica_event_json(p->st, e->event, p->err, p->errlen);
    if (!ev && p->err[0])
        return NULL;
    json_t *d = part_doc(p, e->name);
    if (ev)
        json_object_set_new(d, "event", ev);
    json_t *roles = json_array();
    for (const char *r = e->roles; r && *r;) {
        const char *c = strchr(r, ',');
        size_t n = c ? (size_t)(c - r) : strlen(r);
        json_array_append_new(roles, json_stringn(r, n));
        r += n + (c ? 1 : 0);
    }
    json_object_set_new(d, "event_id", json_string(e->event));
    json_object_set_new(d, "roles", roles);
    return d;
}

/* The episode's part name: ep/ and 16 hex digits of its identity. */
static void episode_name(sqlite3_stmt *s, char name[32])
{
    uint64_t h = AM_FNV64_INIT;
    for (int c = 1; c <= 4; c++) { /* rule, gkey, identity, starts_at */
        const unsigned char *t = sqlite3_column_text(s, c);
        if (t)
            h = am_fnv64_add(h, t, (size_t)sqlite3_column_bytes(s, c));
        h = am_fnv64_add_byte(h, 0x1f);
    }
    snprintf(name, 32, "ep/%016llx", (unsigned long long)h);
}

static int pub_episodes(pub_t *p)
{
    sqlite3_stmt *s = pstmt(p, P_EPISODES);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, p->id, -1, SQLITE_STATIC);
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        char name[32];
        episode_name(s, name);
        ep_arg_t e = {s, name};
        if (pub_part(p, name, sqlite3_column_int64(s, 0), build_episode, &e) != 0) {
            sqlite3_reset(s);
            return -1;
        }
    }
    sqlite3_reset(s);
    return step == SQLITE_DONE ? 0 : pub_fail(p, "reading episodes");
}

static int pub_events(pub_t *p)
{
    sqlite3_stmt *s = pstmt(p, P_EVENTS);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, p->id, -1, SQLITE_STATIC);
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        const char *event = (const char *)sqlite3_column_text(s, 0);
        am_buf_t name = {0};
        am_buf_printf(&name, "ev/%s", event);
        ev_arg_t e = {event, (const char *)sqlite3_column_text(s, 1), name.p};
        int rc = pub_part(p, name.p, sqlite3_column_int64(s, 2), build_event, &e);
        am_buf_free(&name);
        if (rc != 0) {
            sqlite3_reset(s);
            return -1;
        }
    }
    sqlite3_reset(s);
    return step == SQLITE_DONE ? 0 : pub_fail(p, "reading links");
}

/* Parts sent before and no longer there: "gone". */
static int pub_gone(pub_t *p)
{
    sqlite3_stmt *s = pstmt(p, P_UNSEEN);
    am_strset_t gone = {0};
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, p->id, -1, SQLITE_STATIC);
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW)
        am_strset_add(&gone, (const char *)sqlite3_column_text(s, 0), NULL);
    sqlite3_reset(s);
    int rc = step == SQLITE_DONE ? 0 : pub_fail(p, "reading what was sent");
    size_t idlen = strlen(p->id);
    for (size_t i = 0; rc == 0 && i < gone.n; i++) {
        json_t *d = part_doc(p, gone.v[i] + idlen + 1);
        json_object_set_new(d, "gone", json_true());
        rc = pub_send(p, gone.v[i], d, true);
        if (rc == 0)
            rc = pexec(p, P_DROP_SENT, gone.v[i], "forgetting a part");
    }
    am_strset_free(&gone);
    return rc;
}

/* The summary: the incident (public JSON and its row), as_of, the base
 * and what the parts sent since add up to. */
static int pub_summary(pub_t *p, json_t *inc, int64_t base)
{
    json_t *row = query(p->st, "SELECT * FROM incidents WHERE id = ?1", p->id, "updated_at", false,
                        "reading an incident", p->err, p->errlen);
    if (!row)
        return -1;
    sqlite3_stmt *s = pstmt(p, P_SENT_OF);
    if (!s) {
        json_decref(row);
        return -1;
    }
    sqlite3_bind_text(s, 1, p->id, -1, SQLITE_STATIC);
    uint64_t digest = 0;
    int64_t n = 0;
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        digest ^= corr_replica_part_mark((const char *)sqlite3_column_text(s, 0),
                                         sqlite3_column_int64(s, 1));
        n++;
    }
    sqlite3_reset(s);
    if (step != SQLITE_DONE) {
        json_decref(row);
        return pub_fail(p, "reading what was sent");
    }
    char hex[20];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)digest);
    json_t *aliases =
        query(p->st, "SELECT alias FROM incident_aliases WHERE incident = ?1 ORDER BY alias", p->id,
              NULL, false, "reading aliases", p->err, p->errlen);
    if (!aliases) {
        json_decref(row);
        return -1;
    }
    json_t *rep = json_object(), *names = json_array(), *v;
    size_t i;
    json_array_foreach(aliases, i, v) json_array_append(names, json_object_get(v, "alias"));
    json_decref(aliases);
    json_object_set(rep, "incident", json_array_get(row, 0));
    json_object_set_new(rep, "aliases", names);
    const json_t *resolved = json_object_get(json_array_get(row, 0), "resolved_at");
    p->resolved = resolved && !json_is_null(resolved);
    json_decref(row);
    json_t *d = json_object();
    json_object_set_new(d, "schema_version", json_integer(CORR_REPLICA_PARTS_SCHEMA));
    json_object_set(d, "incident", inc);
    json_object_set_new(d, "replica", rep);
    json_object_set_new(d, "as_of", json_integer(p->as_of));
    json_object_set_new(d, "base", json_integer(base));
    json_object_set_new(d, "parts", json_integer(n));
    json_object_set_new(d, "digest", json_string(hex));
    return pub_send(p, p->id, d, false);
}

static int pub_forget(pub_t *p, const char *id)
{
    int rc = 0;
    for (int k = P_FORGET_SENT; rc == 0 && k <= P_FORGET_BASE; k++) {
        sqlite3_stmt *s = pstmt(p, k);
        if (!s)
            return -1;
        if (id)
            sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : pub_fail(p, "forgetting what was sent");
        sqlite3_reset(s);
    }
    return rc;
}

static int pub_incident(pub_t *p, json_t *inc)
{
    sqlite3_stmt *s = pstmt(p, P_BASE);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, p->id, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    int64_t base = step == SQLITE_ROW ? sqlite3_column_int64(s, 0) : p->as_of;
    sqlite3_reset(s);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return pub_fail(p, "reading what was sent");
    bool snapshot = step == SQLITE_DONE || p->snapshot;
    if (snapshot) { /* every part goes */
        base = p->as_of;
        if (pub_forget(p, p->id) != 0 || !(s = pstmt(p, P_PUT_BASE)))
            return -1;
        sqlite3_bind_text(s, 1, p->id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, base);
        sqlite3_bind_int64(s, 3, p->now_ms);
        step = sqlite3_step(s);
        sqlite3_reset(s);
        if (step != SQLITE_DONE)
            return pub_fail(p, "remembering a snapshot");
        if (p->stats)
            p->stats->snapshots++;
    }
    if (pexec(p, P_UNSEEN_RESET, p->id, "marking parts") != 0 || pub_episodes(p) != 0 ||
        pub_events(p) != 0 || pub_gone(p) != 0 || pub_summary(p, inc, base) != 0 ||
        !(s = pstmt(p, P_PUBLISHED)))
        return -1;
    sqlite3_bind_text(s, 1, p->id, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, !snapshot);
    sqlite3_bind_int(s, 3, p->resolved);
    sqlite3_bind_int64(s, 4, p->now_ms);
    step = sqlite3_step(s);
    sqlite3_reset(s);
    return step == SQLITE_DONE ? 0 : pub_fail(p, "remembering a publication");
}

static int pub_begin(pub_t *p)
{
    char *msg = NULL;
    if (sqlite3_create_function(p->db, "am_part_hash", -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                sql_part_hash, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(p->db, pub_schema, NULL, NULL, &msg) != SQLITE_OK) {
        am_errf(p->err, p->errlen, "%s: publishing: %s", store_path(p->st),
                msg ? msg : sqlite3_errmsg(p->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int corr_replica_publish(store_t *st, const char *id, int64_t as_of, corr_replica_send_fn send,
                         void *arg, corr_replica_pub_stats_t *stats, char *err, size_t errlen)
{
    return corr_replica_publish_at(st, id, as_of, am_wall_ms(), false, send, arg, stats, err,
                                   errlen);
}

int corr_replica_publish_at(store_t *st, const char *id, int64_t as_of, int64_t now_ms,
                            bool snapshot, corr_replica_send_fn send, void *arg,
                            corr_replica_pub_stats_t *stats, char *err, size_t errlen)
{
    pub_t p = {.st = st,
               .db = store_db(st),
               .id = id,
               .as_of = as_of,
               .now_ms = now_ms,
               .snapshot = snapshot,
               .send = send,
               .arg = arg,
               .stats = stats,
               .err = err,
               .errlen = errlen};
    if (err && errlen)
        err[0] = '\0';
    json_t *inc = corr_incident_json(st, id, err, errlen);
    if (!inc && err && err[0])
        return -1;
    if (!inc) { /* gone (pruned): nothing to send, nothing to remember */
        int rc = pub_begin(&p);
        if (rc == 0)
            rc = pub_forget(&p, id);
        for (int k = 0; k < NPSTMT; k++)
            sqlite3_finalize(p.s[k]);
        return rc;
    }
    int rc = pub_begin(&p);
    if (rc == 0 && sqlite3_exec(p.db, "SAVEPOINT corr_publish", NULL, NULL, NULL) != SQLITE_OK)
        rc = pub_fail(&p, "beginning");
    if (rc == 0) {
        if (strcmp(json_string_value(json_object_get(inc, "id")), id) != 0) {
            /* an alias: a merge notice; what was sent of it is forgotten */
            json_t *d = json_object();
            json_object_set_new(d, "schema_version", json_integer(CORR_REPLICA_PARTS_SCHEMA));
            json_object_set_new(d, "id", json_string(id));
            json_object_set(d, "merged_into", json_object_get(inc, "id"));
            json_object_set_new(d, "as_of", json_integer(as_of));
            rc = pub_send(&p, id, d, false);
            if (rc == 0)
                rc = pub_forget(&p, id);
        } else {
            rc = pub_incident(&p, inc);
        }
        if (rc == 0 && sqlite3_exec(p.db, "RELEASE corr_publish", NULL, NULL, NULL) != SQLITE_OK)
            rc = pub_fail(&p, "ending");
        if (rc != 0)
            sqlite3_exec(p.db, "ROLLBACK TO corr_publish; RELEASE corr_publish", NULL, NULL, NULL);
    }
    for (int k = 0; k < NPSTMT; k++)
        sqlite3_finalize(p.s[k]);
    json_decref(inc);
    return rc;
}

int corr_replica_sweep(store_t *st, int64_t now_ms, int64_t age_ms, am_strset_t *due,
                       int64_t *forgotten, char *err, size_t errlen)
{
    pub_t p = {.st = st, .db = store_db(st), .id = "(sweep)", .err = err, .errlen = errlen};
    int64_t horizon = now_ms - age_ms;
    int rc = pub_begin(&p);
    sqlite3_stmt *s = rc == 0 ? pstmt(&p, P_DUE) : NULL;
    if (forgotten)
        *forgotten = 0;
    if (rc == 0 && !s)
        rc = -1;
    if (rc == 0) {
        int step;
        sqlite3_bind_int64(s, 1, horizon);
        while ((step = sqlite3_step(s)) == SQLITE_ROW)
            am_strset_add(due, (const char *)sqlite3_column_text(s, 0), NULL);
        sqlite3_reset(s);
        if (step != SQLITE_DONE)
            rc = pub_fail(&p, "reading what was sent");
    }
    for (int k = P_FORGET_OLD_SENT; rc == 0 && k <= P_FORGET_OLD_BASE; k++) {
        if (!(s = pstmt(&p, k))) {
            rc = -1;
            break;
        }
        sqlite3_bind_int64(s, 1, horizon);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : pub_fail(&p, "forgetting what was sent");
        sqlite3_reset(s);
        if (rc == 0 && k == P_FORGET_OLD_BASE && forgotten)
            *forgotten = sqlite3_changes(p.db);
    }
    for (int k = 0; k < NPSTMT; k++)
        sqlite3_finalize(p.s[k]);
    return rc;
}

int corr_replica_forget(store_t *st, char *err, size_t errlen)
{
    pub_t p = {.st = st, .db = store_db(st), .id = "(all)", .err = err, .errlen = errlen};
    int rc = pub_begin(&p);
    if (rc == 0)
        rc = pub_forget(&p, NULL);
    for (int k = 0; k < NPSTMT; k++)
        sqlite3_finalize(p.s[k]);
    return rc;
}

char *corr_replica_event_key(const char *kind, const char *id)
{
    am_buf_t key = {0};
    am_buf_printf(&key, "%s:%s", strcmp(kind, "deploy") == 0 ? "deploy" : "people", id);
    return am_buf_steal(&key);
}

/* ---- applying ---- */

enum {
    S_GET_META,
    S_MARK_VIEW,
    S_INSERT_EVENT,
    S_EARLIER_OBSERVED,
    S_NUM_HOLDER,
    S_UNALIAS,
    S_DELETE_EPISODES,
    S_EPISODE_HOLDER,
    S_UPSERT_EPISODE,
    S_HAS_EPISODES,
    S_HAS_INCIDENT,
    S_MOVE_EPISODES,
    S_DELETE_INCIDENT,
    S_DELETE_LINKS,
    S_ADD_LINK,
    S_MOVE_ALIASES,
    S_ADD_ALIAS,
    S_ALIAS_OF,
    S_FORGET_PARTS,
    NSTMT
};

static const char *const sql[NSTMT] = {
    [S_GET_META] = "SELECT value FROM corr_meta WHERE key = ?1",
    [S_MARK_VIEW] = "INSERT OR IGNORE INTO corr_meta (key, value) VALUES ('role', 'view')",
    [S_INSERT_EVENT] = store_sql_insert_event,
    [S_EARLIER_OBSERVED] = store_sql_earlier_observed,
    [S_NUM_HOLDER] = "SELECT id FROM incidents WHERE num = ?1 AND id <> ?2",
    [S_UNALIAS] = "DELETE FROM incident_aliases WHERE alias = ?1",
    [S_DELETE_EPISODES] = "DELETE FROM episodes WHERE incident = ?1",
    [S_EPISODE_HOLDER] = "SELECT incident FROM episodes WHERE rule = ?1 AND gkey = ?2 AND "
                         "identity = ?3 AND starts_at = ?4",
    [S_UPSERT_EPISODE] =
        "INSERT INTO episodes (" EPISODE_COLS ", incident) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
        "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20) ON CONFLICT (rule, gkey, "
        "identity, "
        "starts_at) DO UPDATE SET "
        "ends_at = excluded.ends_at, observed_at = excluded.observed_at, name = excluded.name, "
        "service = excluded.service, labels = excluded.labels, users = excluded.users, "
        "last_seen = excluded.last_seen, stale_at = excluded.stale_at, topic = excluded.topic, "
        "truncated = excluded.truncated, trunc_seen = excluded.trunc_seen, "
        "trunc_stale_at = excluded.trunc_stale_at, trunc_topic = excluded.trunc_topic, "
        "tent_end = excluded.tent_end, inferred_end = excluded.inferred_end, "
        "incident = excluded.incident",
    [S_HAS_EPISODES] = "SELECT 1 FROM episodes WHERE incident = ?1 LIMIT 1",
    [S_HAS_INCIDENT] = "SELECT 1 FROM incidents WHERE id = ?1",
    [S_MOVE_EPISODES] = "UPDATE episodes SET incident = ?2 WHERE incident = ?1",
    [S_DELETE_INCIDENT] = "DELETE FROM incidents WHERE id = ?1",
    [S_DELETE_LINKS] = "DELETE FROM incident_events WHERE incident = ?1",
    [S_ADD_LINK] = "INSERT OR IGNORE INTO incident_events (incident, event, role) "
                   "VALUES (?1, ?2, ?3)",
    [S_MOVE_ALIASES] = "UPDATE incident_aliases SET incident = ?2 WHERE incident = ?1",
    [S_ADD_ALIAS] = "INSERT OR REPLACE INTO incident_aliases (alias, incident) VALUES (?1, ?2)",
    [S_ALIAS_OF] = "SELECT incident FROM incident_aliases WHERE alias = ?1",
    [S_FORGET_PARTS] = "DELETE FROM replica_parts WHERE incident = ?1",
};

/* One application: statements prepared on first use, the ids changed. */
typedef struct apply {
    store_t *st;
    sqlite3 *db;
    sqlite3_stmt *s[NSTMT];
    am_strset_t changed;
    uint64_t stale; /* documents dropped as older than what is held */
    char *err;
    size_t errlen;
} apply_t;

static int reject(apply_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int reject(apply_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (a->err && a->errlen)
        vsnprintf(a->err, a->errlen, fmt, ap);
    va_end(ap);
    return CORR_REPLICA_REJECTED;
}

static int db_fail(apply_t *a, const char *what)
{
    am_errf(a->err, a->errlen, "%s: view: %s: %s", store_path(a->st), what, sqlite3_errmsg(a->db));
    return -1;
}

/* The statement k, prepared on first use (NULL with err on failure). */
static sqlite3_stmt *stmt(apply_t *a, int k)
{
    if (!a->s[k] && sqlite3_prepare_v2(a->db, sql[k], -1, &a->s[k], NULL) != SQLITE_OK) {
        db_fail(a, "preparing statements");
        sqlite3_finalize(a->s[k]);
        a->s[k] = NULL;
    }
    return a->s[k];
}

/* Steps s to its end and resets it; what names the step in an error. */
static int run(apply_t *a, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? 0 : db_fail(a, what);
}

/* Runs k with text parameters p1 and p2 (NULL: not bound). */
static int run2(apply_t *a, int k, const char *p1, const char *p2, const char *what)
{
    sqlite3_stmt *s = stmt(a, k);
    if (!s)
        return -1;
    if (p1)
        sqlite3_bind_text(s, 1, p1, -1, SQLITE_STATIC);
    if (p2)
        sqlite3_bind_text(s, 2, p2, -1, SQLITE_STATIC);
    return run(a, s, what);
}

/* The first column of k's first row with text parameters p1 (and p2),
 * as a new string in *out (NULL without a row). */
static int get2(apply_t *a, int k, const char *p1, const char *p2, char **out, const char *what)
{
    sqlite3_stmt *s = stmt(a, k);
    *out = NULL;
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, p1, -1, SQLITE_STATIC);
    if (p2)
        sqlite3_bind_text(s, 2, p2, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        *out = am_xstrdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(a, what);
}

/* Checks member f of o (at where); an absent or null member is accepted
 * unless required. */
static int check_field(apply_t *a, const json_t *o, const char *where, const field_t *f)
{
    const json_t *v = json_object_get(o, f->name);
    if (!v || json_is_null(v))
        return f->required ? reject(a, "%s.%s: missing", where, f->name) : 0;
    switch (f->type) {
    case F_INT:
        if (!json_is_integer(v))
            return reject(a, "%s.%s: not an integer", where, f->name);
        break;
    case F_STR:
        if (!json_is_string(v))
            return reject(a, "%s.%s: not a string", where, f->name);
        break;
    case F_JSONTEXT: {
        if (!json_is_string(v))
            return reject(a, "%s.%s: not a string", where, f->name);
        json_error_t jerr;
        json_t *j = json_loads(json_string_value(v), 0, &jerr);
        json_decref(j);
        if (!j)
            return reject(a, "%s.%s: not the JSON text of an object or array (%s)", where, f->name,
                          jerr.text);
        break;
    }
    case F_LABELS: {
        if (!json_is_object(v))
            return reject(a, "%s.%s: not an object", where, f->name);
        const char *k;
        const json_t *lv;
        json_object_foreach((json_t *)v, k, lv)
        {
            if (!json_is_string(lv))
                return reject(a, "%s.%s.%s: not a string", where, f->name, k);
        }
        break;
    }
    }
    return 0;
}

static int check_fields(apply_t *a, const json_t *o, const char *where, const field_t *f, size_t n)
{
    if (!json_is_object(o))
        return reject(a, "%s: not an object", where);
    for (size_t i = 0; i < n; i++) {
        int rc = check_field(a, o, where, &f[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Binds the (checked) members f[0..n) of o to parameters first... of s.
 * Labels are bound as compact JSON with sorted keys, as the store writes
 * them (an absent object as {}). */
static void bind_fields(sqlite3_stmt *s, int first, const json_t *o, const field_t *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_object_get(o, f[i].name);
        int p = first + (int)i;
        if (f[i].type == F_LABELS) {
            char *text =
                v && !json_is_null(v) ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
            sqlite3_bind_text(s, p, text ? text : "{}", -1, SQLITE_TRANSIENT);
            free(text);
        } else if (!v || json_is_null(v)) {
            sqlite3_bind_null(s, p);
        } else if (json_is_integer(v)) {
            sqlite3_bind_int64(s, p, json_integer_value(v));
        } else {
            sqlite3_bind_text(s, p, json_string_value(v), -1, SQLITE_STATIC);
        }
    }
}

/* Stores event ev (at where) unless its id is stored; then only an
 * earlier observed_at is taken. */
static int put_event(apply_t *a, const json_t *ev, const char *where)
{
    int rc = check_fields(a, ev, where, event_fields, NEVENT_FIELDS);
    if (rc != 0)
        return rc;
    am_kind_t kind;
    const char *id = json_string_value(json_object_get(ev, "id"));
    if (!*id)
        return reject(a, "%s.id: empty", where);
    if (am_kind_parse(json_string_value(json_object_get(ev, "kind")), &kind) != 0)
        return reject(a, "%s.kind: '%s' is not alert, deploy, ack or note", where,
                      json_string_value(json_object_get(ev, "kind")));
    sqlite3_stmt *s = stmt(a, S_INSERT_EVENT);
    if (!s)
        return -1;
    bind_fields(s, 1, ev, event_fields, NEVENT_FIELDS);
    if (run(a, s, "storing an event") != 0)
        return -1;
    const json_t *obs = json_object_get(ev, "observed_at");
    const json_t *last = json_object_get(ev, "last_observed_at");
    const json_t *confirmed = json_object_get(ev, "confirmed");
    if (sqlite3_changes(a->db) == 0 &&
        (json_is_integer(obs) || json_is_integer(last) || json_is_integer(confirmed))) {
        if (!(s = stmt(a, S_EARLIER_OBSERVED)))
            return -1;
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        if (json_is_integer(obs))
            sqlite3_bind_int64(s, 2, json_integer_value(obs));
        if (json_is_integer(last))
            sqlite3_bind_int64(s, 3, json_integer_value(last));
        if (json_is_integer(confirmed))
            sqlite3_bind_int64(s, 4, json_integer_value(confirmed));
        return run(a, s, "updating observed_at");
    }
    return 0;
}

/* Follows the aliases from id to the incident they end at (id itself
 * when it is no alias), into a new string in *out. */
static int canonical(apply_t *a, const char *id, char **out)
{
    char *cur = am_xstrdup(id);
    for (int hop = 0; hop < ALIAS_HOPS; hop++) {
        char *next;
        if (get2(a, S_ALIAS_OF, cur, NULL, &next, "reading aliases") != 0) {
            free(cur);
            return -1;
        }
        if (!next)
            break;
        free(cur);
        cur = next;
    }
    *out = cur;
    return 0;
}

/* Incident gone (merged, renamed, or a ghost): its row and links go, its
 * aliases and itself become aliases of into. */
static int retire(apply_t *a, const char *gone, const char *into)
{
    if (run2(a, S_DELETE_INCIDENT, gone, NULL, "deleting an incident") != 0 ||
        run2(a, S_DELETE_LINKS, gone, NULL, "deleting links") != 0 ||
        run2(a, S_MOVE_ALIASES, gone, into, "moving aliases") != 0 ||
        run2(a, S_ADD_ALIAS, gone, into, "adding an alias") != 0 ||
        run2(a, S_FORGET_PARTS, gone, NULL, "forgetting parts") != 0)
        return -1;
    am_strset_add(&a->changed, gone, NULL);
    return 0;
}

/* A column of the incidents row being written. */
typedef struct col {
    bool now;        /* updated_at: the time of writing */
    const json_t *v; /* borrowed; NULL: SQL NULL */
} col_t;

/* Checks member name of replica.incident inc against the column's
 * declared type and NOT NULL. *take is false when the member is absent
 * and the column has a default. */
static int check_incident_col(apply_t *a, const json_t *inc, const char *name, const char *type,
                              bool notnull, bool has_default, bool *take)
{
    const json_t *v = json_object_get(inc, name);
    *take = true;
    if (!v && has_default) {
        *take = false;
        return 0;
    }
    field_t f = {name, F_STR, notnull};
    for (size_t i = 0; i < sizeof incident_json_cols / sizeof *incident_json_cols; i++)
        if (strcmp(name, incident_json_cols[i]) == 0)
            f.type = F_JSONTEXT;
    if (f.type == F_STR && type && strcasecmp(type, "INTEGER") == 0)
        f.type = F_INT;
    else if (f.type == F_STR && !(type && strcasecmp(type, "TEXT") == 0) && json_is_integer(v))
        f.type = F_INT; /* a column of no declared type: either */
    return check_field(a, inc, "replica.incident", &f);
}

/* Upserts the incidents row from replica.incident inc: every column the
 * table has (updated_at = now); a member the table does not have (a newer
 * correlator's column) is ignored. */
static int put_incident_row(apply_t *a, const json_t *inc)
{
    sqlite3_stmt *info = NULL, *up = NULL;
    col_t *cols = NULL;
    size_t ncols = 0;
    am_buf_t q = {0}, vals = {0}, set = {0};
    int rc = -1, step;
    if (sqlite3_prepare_v2(a->db, "PRAGMA table_info(incidents)", -1, &info, NULL) != SQLITE_OK) {
        db_fail(a, "reading the incidents columns");
        goto done;
    }
    while ((step = sqlite3_step(info)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(info, 1);
        bool take = true;
        if (strcmp(name, "updated_at") != 0) {
            int crc = check_incident_col(a, inc, name, (const char *)sqlite3_column_text(info, 2),
                                         sqlite3_column_int(info, 3) != 0,
                                         sqlite3_column_type(info, 4) != SQLITE_NULL, &take);
            if (crc != 0) {
                rc = crc;
                goto done;
            }
        }
        if (!take)
            continue;
        bool now = strcmp(name, "updated_at") == 0;
        cols = am_xrealloc(cols, (ncols + 1) * sizeof *cols);
        cols[ncols++] = (col_t){.now = now, .v = now ? NULL : json_object_get(inc, name)};
        am_buf_printf(&q, "%s\"%s\"", ncols > 1 ? ", " : "", name);
        am_buf_printf(&vals, "%s?%zu", ncols > 1 ? ", " : "", ncols);
        if (strcmp(name, "id") != 0)
            am_buf_printf(&set, "%s\"%s\" = excluded.\"%s\"", set.len ? ", " : "", name, name);
    }
    if (step != SQLITE_DONE) {
        db_fail(a, "reading the incidents columns");
        goto done;
    }
    am_buf_t upsert = {0};
    am_buf_printf(&upsert,
                  "INSERT INTO incidents (%s) VALUES (%s) ON CONFLICT (id) DO UPDATE SET %s", q.p,
                  vals.p, set.p);
    int prc = sqlite3_prepare_v2(a->db, upsert.p, -1, &up, NULL);
    am_buf_free(&upsert);
    if (prc != SQLITE_OK) {
        db_fail(a, "preparing the incident upsert");
        goto done;
    }
    for (size_t i = 0; i < ncols; i++) {
        const json_t *v = cols[i].v;
        int p = (int)i + 1;
        if (cols[i].now)
            sqlite3_bind_int64(up, p, am_wall_ms());
        else if (!v || json_is_null(v))
            sqlite3_bind_null(up, p);
        else if (json_is_integer(v))
            sqlite3_bind_int64(up, p, json_integer_value(v));
        else
            sqlite3_bind_text(up, p, json_string_value(v), -1, SQLITE_STATIC);
    }
    rc = sqlite3_step(up) == SQLITE_DONE ? 0 : db_fail(a, "writing an incident");
done:
    sqlite3_finalize(info);
    sqlite3_finalize(up);
    free(cols);
    am_buf_free(&q);
    am_buf_free(&vals);
    am_buf_free(&set);
    return rc;
}

/* The member key of o as a non-empty string, or a rejection naming
 * where.key. */
static int want_id(apply_t *a, const json_t *o, const char *where, const char *key,
                   const char **out)
{
    const json_t *v = json_object_get(o, key);
    *out = json_string_value(v);
    if (!*out || !**out)
        return reject(a, "%s%s%s: %s", where, *where ? "." : "", key,
                      !v                  ? "missing"
                      : json_is_string(v) ? "empty"
                                          : "not a string");
    return 0;
}

/* The array member key of o (where names it), borrowed. */
static int want_array(apply_t *a, const json_t *o, const char *where, const char *key,
                      const json_t **out)
{
    *out = json_object_get(o, key);
    if (!json_is_array(*out))
        return reject(a, "%s.%s: %s", where, key, *out ? "not an array" : "missing");
    return 0;
}

/* Puts episode ep of incident id; a holder other than id goes to losers. */
static int put_episode(apply_t *a, const json_t *ep, const char *id, const char *where,
                       am_strset_t *losers)
{
    int rc = check_fields(a, ep, where, episode_fields, NEPISODE_FIELDS);
    if (rc != 0)
        return rc;
    sqlite3_stmt *s = stmt(a, S_EPISODE_HOLDER);
    if (!s)
        return -1;
    bind_fields(s, 1, ep, episode_fields, 4); /* rule, gkey, identity, starts_at */
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL &&
        strcmp((const char *)sqlite3_column_text(s, 0), id) != 0)
        am_strset_add(losers, (const char *)sqlite3_column_text(s, 0), NULL);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return db_fail(a, "reading episodes");
    if (!(s = stmt(a, S_UPSERT_EPISODE)))
        return -1;
    bind_fields(s, 1, ep, episode_fields, NEPISODE_FIELDS);
    sqlite3_bind_text(s, (int)NEPISODE_FIELDS + 1, id, -1, SQLITE_STATIC);
    return run(a, s, "storing an episode");
}

static int put_link(apply_t *a, const json_t *link, const char *id, const char *where)
{
    const char *event, *role;
    int rc;
    if (!json_is_object(link))
        return reject(a, "%s: not an object", where);
    if ((rc = want_id(a, link, where, "event", &event)) != 0 ||
        (rc = want_id(a, link, where, "role", &role)) != 0)
        return rc;
    sqlite3_stmt *s = stmt(a, S_ADD_LINK);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, event, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, role, -1, SQLITE_STATIC);
    return run(a, s, "storing a link");
}

/* {"schema_version":1, "incident": {...}, "replica": {...}} */
static int apply_incident(apply_t *a, const json_t *doc)
{
    const json_t *rep = json_object_get(doc, "replica"), *inc, *eps, *links, *events;
    const char *id;
    char where[64], *holder = NULL;
    am_strset_t losers = {0};
    int rc;
    if (!json_is_object(rep))
        return reject(a, "replica: not an object");
    inc = json_object_get(rep, "incident");
    if (!json_is_object(inc))
        return reject(a, "replica.incident: %s", inc ? "not an object" : "missing");
    if ((rc = want_id(a, inc, "replica.incident", "id", &id)) != 0 ||
        (rc = want_array(a, rep, "replica", "episodes", &eps)) != 0 ||
        (rc = want_array(a, rep, "replica", "links", &links)) != 0 ||
        (rc = want_array(a, rep, "replica", "events", &events)) != 0)
        return rc;
    const char *pub = json_string_value(json_object_get(json_object_get(doc, "incident"), "id"));
    if (pub && strcmp(pub, id) != 0)
        return reject(a, "incident.id '%s' is not replica.incident.id '%s'", pub, id);
    const json_t *num = json_object_get(inc, "num");
    if (json_is_integer(num)) {
        sqlite3_stmt *s = stmt(a, S_NUM_HOLDER);
        if (!s)
            return -1;
        sqlite3_bind_int64(s, 1, json_integer_value(num));
        sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
        int step = sqlite3_step(s);
        if (step == SQLITE_ROW)
            holder = am_xstrdup((const char *)sqlite3_column_text(s, 0));
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            return db_fail(a, "reading incidents");
        if (holder) {
            rc = reject(a, "replica.incident.num: %lld is already incident %s's",
                        (long long)json_integer_value(num), holder);
            free(holder);
            return rc;
        }
    }
    size_t i;
    const json_t *v;
    json_array_foreach(events, i, v)
    {
        snprintf(where, sizeof where, "replica.events[%zu]", i);
        if ((rc = put_event(a, v, where)) != 0)
            return rc;
    }
    if ((rc = put_incident_row(a, inc)) != 0 ||
        (rc = run2(a, S_UNALIAS, id, NULL, "dropping an alias")) != 0 ||
        (rc = run2(a, S_DELETE_EPISODES, id, NULL, "replacing episodes")) != 0 ||
        (rc = run2(a, S_DELETE_LINKS, id, NULL, "replacing links")) != 0)
        return rc;
    json_array_foreach(eps, i, v)
    {
        snprintf(where, sizeof where, "replica.episodes[%zu]", i);
        if ((rc = put_episode(a, v, id, where, &losers)) != 0)
            goto done;
    }
    json_array_foreach(links, i, v)
    {
        snprintf(where, sizeof where, "replica.links[%zu]", i);
        if ((rc = put_link(a, v, id, where)) != 0)
            goto done;
    }
    /* Incidents this one took every episode of: ghosts. (Episodes of an
     * id with no row yet, moved there by a merge notice, only change
     * hands: its document is still to come.) */
    for (i = 0; i < losers.n; i++) {
        char *left = NULL, *row = NULL;
        if ((rc = get2(a, S_HAS_EPISODES, losers.v[i], NULL, &left, "reading episodes")) != 0 ||
            (rc = get2(a, S_HAS_INCIDENT, losers.v[i], NULL, &row, "reading incidents")) != 0)
            goto done;
        bool ghost = !left && row;
        free(left);
        free(row);
        if (ghost && (rc = retire(a, losers.v[i], id)) != 0)
            goto done;
    }
    am_strset_add(&a->changed, id, NULL);
done:
    am_strset_free(&losers);
    return rc;
}

/* {"schema_version":1, "id": OLD, "merged_into": NEW} */
static int apply_merged(apply_t *a, const json_t *doc)
{
    const char *old, *new;
    char *target = NULL;
    int rc;
    if ((rc = want_id(a, doc, "", "id", &old)) != 0 ||
        (rc = want_id(a, doc, "", "merged_into", &new)) != 0)
        return rc;
    if (strcmp(old, new) == 0)
        return reject(a, "merged_into: '%s' is the id itself", old);
    if (canonical(a, new, &target) != 0)
        return -1;
    if (strcmp(target, old) == 0) {
        /* new was merged into old before: this later notice undoes that */
        free(target);
        target = am_xstrdup(new);
        if (run2(a, S_UNALIAS, new, NULL, "dropping an alias") != 0)
            goto fail;
    }
    if (run2(a, S_MOVE_EPISODES, old, target, "moving episodes") != 0 ||
        retire(a, old, target) != 0)
        goto fail;
    am_strset_add(&a->changed, target, NULL);
    free(target);
    return 0;
fail:
    free(target);
    return -1;
}

/* {"schema_version":1, "deploy": {event JSON}} */
static int apply_deploy(apply_t *a, const json_t *doc)
{
    const json_t *ev = json_object_get(doc, "deploy");
    int rc = check_fields(a, ev, "deploy", event_fields, NEVENT_FIELDS);
    if (rc != 0)
        return rc;
    const char *kind = json_string_value(json_object_get(ev, "kind"));
    if (strcmp(kind, "deploy") != 0)
        return reject(a, "deploy.kind: '%s' is not deploy", kind);
    return put_event(a, ev, "deploy");
}

/* {"schema_version":1, "people": {event JSON}}: a correction or action,
 * which the view applies itself (people.h), where every incident is
 * visible (a merge across keyed partitions included). */
static int apply_people(apply_t *a, const json_t *doc)
{
    const json_t *ev = json_object_get(doc, "people");
    int rc = check_fields(a, ev, "people", event_fields, NEVENT_FIELDS);
    if (rc != 0)
        return rc;
    const char *kind = json_string_value(json_object_get(ev, "kind"));
    if (strcmp(kind, "correction") != 0 && strcmp(kind, "action") != 0)
        return reject(a, "people.kind: '%s' is not correction or action", kind);
    return put_event(a, ev, "people");
}

/* The people's record of the view after a document (people.h). */
static int people_changed(void *arg, const char *id)
{
    am_strset_add(arg, id, NULL);
    return 0;
}

/* Refreshes the people's record for the incidents a document changed
 * (people: it was a correction or an action). */
static int people_refresh(apply_t *a, bool people)
{
    am_strset_t touched = {0}; /* a copy: the callback adds to a->changed */
    for (size_t i = 0; i < a->changed.n; i++)
        am_strset_add(&touched, a->changed.v[i], NULL);
    int rc = corr_people_refresh(a->st, (const char *const *)touched.v, touched.n, people,
                                 people_changed, &a->changed, a->err, a->errlen);
    am_strset_free(&touched);
    return rc;
}

/* ---- applying parts (schema 2) ---- */

/* A view's record of the parts it holds (the latest of each key, applied
 * or waiting for its summary) and of each incident's latest summary:
 * made on first use, in the view's database only. */
static const char view_schema[] =
    "CREATE TABLE IF NOT EXISTS replica_parts (key TEXT PRIMARY KEY, incident TEXT NOT NULL, "
    "as_of INTEGER NOT NULL, state INTEGER NOT NULL, locator TEXT NOT NULL, body TEXT);"
    "CREATE INDEX IF NOT EXISTS replica_parts_incident ON replica_parts (incident, state);"
    "CREATE TABLE IF NOT EXISTS replica_heads (incident TEXT PRIMARY KEY, as_of INTEGER NOT NULL, "
    "base INTEGER NOT NULL, summary TEXT);"
    "CREATE INDEX IF NOT EXISTS replica_heads_waiting ON replica_heads (incident) "
    "WHERE summary IS NOT NULL;"
    "CREATE TABLE IF NOT EXISTS replica_waits (incident TEXT PRIMARY KEY, since INTEGER NOT NULL);";

/* The key of corr_meta counting the documents a view dropped as stale. */
#define STALE_KEY "view_stale_documents"

/* replica_parts.state */
enum { PART_APPLIED = 0, PART_PUT = 1, PART_GONE = 2 };

static int view_tables(apply_t *a)
{
    char *msg = NULL;
    if (sqlite3_exec(a->db, view_schema, NULL, NULL, &msg) != SQLITE_OK) {
        am_errf(a->err, a->errlen, "%s: view: %s", store_path(a->st),
                msg ? msg : sqlite3_errmsg(a->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Runs sql (prepared here) with text ?1 (and ?2 when not NULL). */
static int exec2(apply_t *a, const char *sql_text, const char *p1, const char *p2, const char *what)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(a->db, sql_text, -1, &s, NULL) != SQLITE_OK)
        return db_fail(a, what);
    if (p1)
        sqlite3_bind_text(s, 1, p1, -1, SQLITE_STATIC);
    if (p2)
        sqlite3_bind_text(s, 2, p2, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : db_fail(a, what);
}

/* The head of incident id: its latest summary's as_of and base (-1 when
 * none came), and the summary waiting for its parts (new string or NULL). */
static int get_head(apply_t *a, const char *id, int64_t *as_of, int64_t *base, char **summary)
{
    sqlite3_stmt *s = NULL;
    *as_of = *base = -1;
    if (summary)
        *summary = NULL;
    if (sqlite3_prepare_v2(a->db,
                           "SELECT as_of, base, summary FROM replica_heads WHERE incident = ?1", -1,
                           &s, NULL) != SQLITE_OK)
        return db_fail(a, "reading replica_heads");
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *as_of = sqlite3_column_int64(s, 0);
        *base = sqlite3_column_int64(s, 1);
        if (summary && sqlite3_column_type(s, 2) != SQLITE_NULL)
            *summary = am_xstrdup((const char *)sqlite3_column_text(s, 2));
    }
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(a, "reading replica_heads");
}

static int put_head(apply_t *a, const char *id, int64_t as_of, int64_t base, const char *summary)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(a->db,
                           "INSERT OR REPLACE INTO replica_heads (incident, as_of, base, summary) "
                           "VALUES (?1, ?2, ?3, ?4)",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(a, "writing replica_heads");
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, as_of);
    sqlite3_bind_int64(s, 3, base);
    if (summary)
        sqlite3_bind_text(s, 4, summary, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : db_fail(a, "writing replica_heads");
}

/* The member as_of of doc: a non-negative integer. */
static int want_as_of(apply_t *a, const json_t *doc, int64_t *out)
{
    *out = -1;
    const json_t *v = json_object_get(doc, "as_of");
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return reject(a, "as_of: %s", v ? "not a non-negative integer" : "missing");
    *out = json_integer_value(v);
    return 0;
}

/* A document older than what the view holds (a correlator that lost its
 * partition and published after its successor): dropped, counted. */
static int stale(apply_t *a)
{
    a->stale++;
    return 0;
}

/* {"schema_version":2, "of": ID, "part": "ep/..."|"ev/...", "as_of": N,
 *  "episode": {...} | "event": {...}, "event_id": E, "roles": [...] |
 *  "gone": true} */
static int apply_part(apply_t *a, const json_t *doc)
{
    const char *of, *part;
    int64_t as_of, held_as_of, base;
    int rc;
    if ((rc = want_id(a, doc, "", "of", &of)) != 0 ||
        (rc = want_id(a, doc, "", "part", &part)) != 0 || (rc = want_as_of(a, doc, &as_of)) != 0)
        return rc;
    bool episode = strncmp(part, "ep/", 3) == 0, event = strncmp(part, "ev/", 3) == 0;
    if (!episode && !event)
        return reject(a, "part: '%s' is neither ep/... nor ev/...", part);
    bool gone = json_is_true(json_object_get(doc, "gone"));
    am_buf_t locator = {0};
    if (!gone && episode) {
        const json_t *ep = json_object_get(doc, "episode");
        if ((rc = check_fields(a, ep, "episode", episode_fields, NEPISODE_FIELDS)) != 0)
            return rc;
        json_t *loc = json_pack("[OOOO]", json_object_get(ep, "rule"), json_object_get(ep, "gkey"),
                                json_object_get(ep, "identity"), json_object_get(ep, "starts_at"));
        char *t = json_dumps(loc, JSON_COMPACT);
        am_buf_printf(&locator, "%s", t);
        free(t);
        json_decref(loc);
    } else if (!gone) {
        const char *eid;
        const json_t *roles, *r;
        size_t i;
        if ((rc = want_id(a, doc, "", "event_id", &eid)) != 0 ||
            (rc = want_array(a, doc, "", "roles", &roles)) != 0)
            return rc;
        if (strcmp(eid, part + 3) != 0)
            return reject(a, "event_id: '%s' is not the part's event '%s'", eid, part + 3);
        json_array_foreach(roles, i,
                           r) if (!json_is_string(r) ||
                                  !*json_string_value(
                                      r)) return reject(a, "roles[%zu]: not a non-empty string", i);
        const json_t *ev = json_object_get(doc, "event");
        if (ev && (rc = check_fields(a, ev, "event", event_fields, NEVENT_FIELDS)) != 0)
            return rc;
        am_buf_printf(&locator, "%s", eid);
    }
    char *key = NULL;
    size_t klen = strlen(of) + strlen(part) + 2;
    key = am_xcalloc(klen, 1);
    snprintf(key, klen, "%s/%s", of, part);
    /* what the view holds of the key, and of the incident */
    sqlite3_stmt *s = NULL;
    int64_t row_as_of = -1;
    char *row_locator = NULL;
    if (sqlite3_prepare_v2(a->db, "SELECT as_of, locator FROM replica_parts WHERE key = ?1", -1, &s,
                           NULL) != SQLITE_OK) {
        rc = db_fail(a, "reading replica_parts");
        goto done;
    }
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        row_as_of = sqlite3_column_int64(s, 0);
        row_locator = am_xstrdup((const char *)sqlite3_column_text(s, 1));
    }
    sqlite3_finalize(s);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = db_fail(a, "reading replica_parts");
        goto done;
    }
    if ((rc = get_head(a, of, &held_as_of, &base, NULL)) != 0)
        goto done;
    if (as_of < row_as_of || as_of < base) {
        rc = stale(a);
        goto done;
    }
    if (gone && !row_locator)
        goto done; /* nothing held: nothing to take away */
    if (sqlite3_prepare_v2(a->db,
                           "INSERT OR REPLACE INTO replica_parts (key, incident, as_of, state, "
                           "locator, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                           -1, &s, NULL) != SQLITE_OK) {
        rc = db_fail(a, "writing replica_parts");
        goto done;
    }
    char *body = gone ? NULL : json_dumps(doc, JSON_COMPACT);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, of, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, as_of);
    sqlite3_bind_int(s, 4, gone ? PART_GONE : PART_PUT);
    sqlite3_bind_text(s, 5, gone ? row_locator : locator.p, -1, SQLITE_STATIC);
    if (body)
        sqlite3_bind_text(s, 6, body, -1, SQLITE_STATIC);
    step = sqlite3_step(s);
    sqlite3_finalize(s);
    free(body);
    rc = step == SQLITE_DONE ? 0 : db_fail(a, "writing replica_parts");
done:
    free(key);
    free(row_locator);
    am_buf_free(&locator);
    return rc;
}

/* Takes away what part key (of id, at locator) put in the view's tables. */
static int unapply_part(apply_t *a, const char *id, const char *key, const char *locator)
{
    const char *part = key + strlen(id) + 1;
    if (strncmp(part, "ev/", 3) == 0)
        return exec2(a, "DELETE FROM incident_events WHERE incident = ?1 AND event = ?2", id,
                     locator, "taking a link away");
    json_t *loc = json_loads(locator, 0, NULL);
    if (!json_is_array(loc) || json_array_size(loc) != 4) {
        json_decref(loc);
        return db_fail(a, "a stored locator is not valid");
    }
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(a->db,
                           "DELETE FROM episodes WHERE incident = ?1 AND rule = ?2 AND gkey = ?3 "
                           "AND identity = ?4 AND starts_at = ?5",
                           -1, &s, NULL) != SQLITE_OK) {
        json_decref(loc);
        return db_fail(a, "taking an episode away");
    }
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    for (int i = 0; i < 3; i++)
        sqlite3_bind_text(s, i + 2, json_string_value(json_array_get(loc, (size_t)i)), -1,
                          SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, json_integer_value(json_array_get(loc, 3)));
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    json_decref(loc);
    return rc == SQLITE_DONE ? 0 : db_fail(a, "taking an episode away");
}

/* Applies a waiting part's body (a document checked when it came). */
static int apply_put(apply_t *a, const char *id, const char *body, am_strset_t *losers)
{
    json_t *doc = json_loads(body, 0, NULL);
    if (!doc)
        return db_fail(a, "a stored part is not JSON");
    int rc;
    const json_t *ep = json_object_get(doc, "episode");
    if (ep) {
        rc = put_episode(a, ep, id, "episode", losers);
    } else {
        const char *eid = json_string_value(json_object_get(doc, "event_id"));
        const json_t *roles = json_object_get(doc, "roles"), *r;
        size_t i;
        rc = exec2(a, "DELETE FROM incident_events WHERE incident = ?1 AND event = ?2", id, eid,
                   "replacing links");
        json_array_foreach(roles, i, r)
        {
            if (rc != 0)
                break;
            json_t *link = json_pack("{s:s,s:O}", "event", eid, "role", r);
            rc = put_link(a, link, id, "roles");
            json_decref(link);
        }
    }
    json_decref(doc);
    return rc;
}

/* The parts of id the summary counts (at or after base, not gone): their
 * number and the XOR of their marks. */
static int held_parts(apply_t *a, const char *id, int64_t base, int64_t *n, uint64_t *digest)
{
    sqlite3_stmt *s = NULL;
    *n = 0;
    *digest = 0;
    if (sqlite3_prepare_v2(a->db,
                           "SELECT key, as_of FROM replica_parts WHERE incident = ?1 AND state < 2 "
                           "AND as_of >= ?2",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(a, "reading replica_parts");
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, base);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        *digest ^= corr_replica_part_mark((const char *)sqlite3_column_text(s, 0),
                                          sqlite3_column_int64(s, 1));
        (*n)++;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : db_fail(a, "reading replica_parts");
}

/* Incident id's summary waits for parts: since now, unless it waited
 * already (replica_waits keeps the first time). */
static int wait_since(apply_t *a, const char *id)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(a->db,
                           "INSERT OR IGNORE INTO replica_waits (incident, since) VALUES (?1, ?2)",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(a, "writing replica_waits");
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, am_wall_ms());
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : db_fail(a, "writing replica_waits");
}

/* Incident id waits no more (applied, dropped or merged away). */
static int waited(apply_t *a, const char *id)
{
    return exec2(a, "DELETE FROM replica_waits WHERE incident = ?1", id, NULL,
                 "writing replica_waits");
}

/* Applies incident id's waiting summary when the view holds every part it
 * counts (*waiting set otherwise: the incident keeps its last complete
 * state, or stays absent). */
static int settle(apply_t *a, const char *id, bool *waiting)
{
    int64_t as_of, base, n;
    uint64_t digest;
    char *text = NULL;
    int rc = get_head(a, id, &as_of, &base, &text);
    *waiting = false;
    if (rc != 0 || !text)
        return rc;
    json_t *sum = json_loads(text, 0, NULL);
    free(text);
    if (!sum)
        return db_fail(a, "a stored summary is not JSON");
    const json_t *inc = json_object_get(json_object_get(sum, "replica"), "incident");
    int64_t want_n = json_integer_value(json_object_get(sum, "parts"));
    const char *want_digest = json_string_value(json_object_get(sum, "digest"));
    char hex[20];
    am_strset_t losers = {0};
    sqlite3_stmt *s = NULL;
    if ((rc = held_parts(a, id, base, &n, &digest)) != 0)
        goto done;
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)digest);
    if (n != want_n || !want_digest || strcmp(hex, want_digest) != 0) {
        *waiting = true;
        rc = wait_since(a, id);
        goto done;
    }
    /* what went, or is older than the snapshot the summary counts from */
    if (sqlite3_prepare_v2(a->db,
                           "SELECT key, locator FROM replica_parts WHERE incident = ?1 AND "
                           "(state = 2 OR as_of < ?2)",
                           -1, &s, NULL) != SQLITE_OK) {
        rc = db_fail(a, "reading replica_parts");
        goto done;
    }
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, base);
    while (rc == 0 && sqlite3_step(s) == SQLITE_ROW)
        rc = unapply_part(a, id, (const char *)sqlite3_column_text(s, 0),
                          (const char *)sqlite3_column_text(s, 1));
    sqlite3_finalize(s);
    s = NULL;
    if (rc != 0)
        goto done;
    {
        sqlite3_stmt *d = NULL;
        if (sqlite3_prepare_v2(a->db,
                               "DELETE FROM replica_parts WHERE incident = ?1 AND "
                               "(state = 2 OR as_of < ?2)",
                               -1, &d, NULL) != SQLITE_OK) {
            rc = db_fail(a, "writing replica_parts");
            goto done;
        }
        sqlite3_bind_text(d, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(d, 2, base);
        int step = sqlite3_step(d);
        sqlite3_finalize(d);
        if (step != SQLITE_DONE) {
            rc = db_fail(a, "writing replica_parts");
            goto done;
        }
    }
    /* what came: events first, the row, then episodes and links */
    if (sqlite3_prepare_v2(a->db,
                           "SELECT body FROM replica_parts WHERE incident = ?1 AND state = 1 "
                           "ORDER BY key",
                           -1, &s, NULL) != SQLITE_OK) {
        rc = db_fail(a, "reading replica_parts");
        goto done;
    }
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
        json_t *doc = json_loads((const char *)sqlite3_column_text(s, 0), 0, NULL);
        const json_t *ev = json_object_get(doc, "event");
        if (ev)
            rc = put_event(a, ev, "event");
        json_decref(doc);
    }
    if (rc == 0 && ((rc = put_incident_row(a, inc)) != 0 ||
                    (rc = run2(a, S_UNALIAS, id, NULL, "dropping an alias")) != 0)) {
        ; /* rc set */
    }
    sqlite3_reset(s);
    while (rc == 0 && sqlite3_step(s) == SQLITE_ROW)
        rc = apply_put(a, id, (const char *)sqlite3_column_text(s, 0), &losers);
    /* the ids merged into this one, as the correlator has them now (a
     * compacted topic may have kept an older notice of theirs) */
    const json_t *aliases = json_object_get(json_object_get(sum, "replica"), "aliases"), *al;
    size_t ai;
    json_array_foreach(aliases, ai, al)
    {
        const char *alias = json_string_value(al);
        char *row = NULL;
        if (rc != 0 || !alias || strcmp(alias, id) == 0)
            continue;
        rc = get2(a, S_HAS_INCIDENT, alias, NULL, &row, "reading incidents");
        if (rc == 0 && row)
            rc = run2(a, S_MOVE_EPISODES, alias, id, "moving episodes") != 0 ? -1
                                                                             : retire(a, alias, id);
        else if (rc == 0)
            rc = run2(a, S_ADD_ALIAS, alias, id, "adding an alias");
        free(row);
    }
    sqlite3_finalize(s);
    s = NULL;
    if (rc == 0)
        rc = exec2(a,
                   "UPDATE replica_parts SET state = 0, body = NULL WHERE incident = ?1 AND "
                   "state = 1",
                   id, NULL, "writing replica_parts");
    if (rc == 0)
        rc = exec2(a, "UPDATE replica_heads SET summary = NULL WHERE incident = ?1", id, NULL,
                   "writing replica_heads");
    if (rc == 0)
        rc = waited(a, id);
    for (size_t i = 0; rc == 0 && i < losers.n; i++) {
        char *left = NULL, *row = NULL;
        if ((rc = get2(a, S_HAS_EPISODES, losers.v[i], NULL, &left, "reading episodes")) != 0 ||
            (rc = get2(a, S_HAS_INCIDENT, losers.v[i], NULL, &row, "reading incidents")) != 0)
            break;
        bool ghost = !left && row;
        free(left);
        free(row);
        if (ghost)
            rc = retire(a, losers.v[i], id);
    }
    if (rc == 0)
        am_strset_add(&a->changed, id, NULL);
done:
    am_strset_free(&losers);
    json_decref(sum);
    return rc;
}

/* {"schema_version":2, "incident": {...}, "replica": {"incident": row},
 *  "as_of": N, "base": B, "parts": count, "digest": hex} */
static int apply_summary(apply_t *a, const json_t *doc)
{
    const json_t *rep = json_object_get(doc, "replica"), *inc, *parts, *digest, *basev;
    const char *id;
    int64_t as_of, held_as_of, held_base;
    int rc;
    if (!json_is_object(rep))
        return reject(a, "replica: not an object");
    inc = json_object_get(rep, "incident");
    if (!json_is_object(inc))
        return reject(a, "replica.incident: %s", inc ? "not an object" : "missing");
    if ((rc = want_id(a, inc, "replica.incident", "id", &id)) != 0 ||
        (rc = want_as_of(a, doc, &as_of)) != 0)
        return rc;
    basev = json_object_get(doc, "base");
    parts = json_object_get(doc, "parts");
    digest = json_object_get(doc, "digest");
    if (!json_is_integer(basev) || json_integer_value(basev) < 0 ||
        json_integer_value(basev) > as_of)
        return reject(a, "base: %s", basev ? "not an integer from 0 to as_of" : "missing");
    if (!json_is_integer(parts) || json_integer_value(parts) < 0)
        return reject(a, "parts: %s", parts ? "not a non-negative integer" : "missing");
    if (!json_is_string(digest) || strlen(json_string_value(digest)) != 16)
        return reject(a, "digest: %s", digest ? "not 16 hex digits" : "missing");
    const char *pub = json_string_value(json_object_get(json_object_get(doc, "incident"), "id"));
    if (pub && strcmp(pub, id) != 0)
        return reject(a, "incident.id '%s' is not replica.incident.id '%s'", pub, id);
    if ((rc = get_head(a, id, &held_as_of, &held_base, NULL)) != 0)
        return rc;
    if (as_of < held_as_of)
        return stale(a);
    const json_t *num = json_object_get(inc, "num");
    if (json_is_integer(num)) {
        char *holder = NULL;
        sqlite3_stmt *s = stmt(a, S_NUM_HOLDER);
        if (!s)
            return -1;
        sqlite3_bind_int64(s, 1, json_integer_value(num));
        sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
        int step = sqlite3_step(s);
        if (step == SQLITE_ROW)
            holder = am_xstrdup((const char *)sqlite3_column_text(s, 0));
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            return db_fail(a, "reading incidents");
        if (holder) {
            rc = reject(a, "replica.incident.num: %lld is already incident %s's",
                        (long long)json_integer_value(num), holder);
            free(holder);
            return rc;
        }
    }
    char *text = json_dumps(doc, JSON_COMPACT);
    rc = put_head(a, id, as_of, json_integer_value(basev), text);
    free(text);
    bool waiting;
    return rc != 0 ? rc : settle(a, id, &waiting);
}

/* {"schema_version":2, "id": OLD, "merged_into": NEW, "as_of": N} */
static int apply_merged_at(apply_t *a, const json_t *doc)
{
    const char *old;
    int64_t as_of, held_as_of, held_base;
    int rc;
    if ((rc = want_id(a, doc, "", "id", &old)) != 0 || (rc = want_as_of(a, doc, &as_of)) != 0 ||
        (rc = get_head(a, old, &held_as_of, &held_base, NULL)) != 0)
        return rc;
    if (as_of < held_as_of)
        return stale(a);
    if ((rc = apply_merged(a, doc)) != 0)
        return rc;
    if ((rc = exec2(a, "DELETE FROM replica_parts WHERE incident = ?1", old, NULL,
                    "writing replica_parts")) != 0 ||
        (rc = waited(a, old)) != 0)
        return rc;
    return put_head(a, old, as_of, as_of, NULL);
}

static int savepoint(apply_t *a, const char *sql_text)
{
    char *msg = NULL;
    if (sqlite3_exec(a->db, sql_text, NULL, NULL, &msg) != SQLITE_OK) {
        am_errf(a->err, a->errlen, "%s: view: %s", store_path(a->st),
                msg ? msg : sqlite3_errmsg(a->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* The checks and tables of a view's database, in a's savepoint. */
static int view_only(apply_t *a)
{
    char *digest = NULL;
    int rc = get2(a, S_GET_META, "rules_digest", NULL, &digest, "reading corr_meta");
    if (rc == 0 && digest) {
        am_errf(a->err, a->errlen,
                "%s holds a correlator's incidents: a view needs a database of its own",
                store_path(a->st));
        rc = -1;
    }
    free(digest);
    if (rc == 0)
        rc = run2(a, S_MARK_VIEW, NULL, NULL, "marking the database as a view's");
    return rc == 0 ? view_tables(a) : rc;
}

/* Ends a's savepoint: released with rc 0 (the changed ids handed over),
 * rolled back otherwise. */
static int finish(apply_t *a, int rc, am_strset_t *changed, uint64_t *stale_docs)
{
    for (int k = 0; k < NSTMT; k++)
        sqlite3_finalize(a->s[k]);
    if (rc == 0 && a->stale > 0) { /* counted in the database too, for status */
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(a->db,
                               "INSERT INTO corr_meta (key, value) VALUES ('" STALE_KEY "', ?1) "
                               "ON CONFLICT (key) DO UPDATE SET value = "
                               "CAST(CAST(value AS INTEGER) + ?1 AS TEXT)",
                               -1, &s, NULL) != SQLITE_OK)
            rc = db_fail(a, "counting stale documents");
        else {
            sqlite3_bind_int64(s, 1, (sqlite3_int64)a->stale);
            if (sqlite3_step(s) != SQLITE_DONE)
                rc = db_fail(a, "counting stale documents");
        }
        sqlite3_finalize(s);
    }
    if (rc == 0 && savepoint(a, "RELEASE corr_replica") == 0) {
        for (size_t i = 0; changed && i < a->changed.n; i++)
            am_strset_add(changed, a->changed.v[i], NULL);
        if (stale_docs)
            *stale_docs += a->stale;
    } else {
        sqlite3_exec(a->db, "ROLLBACK TO corr_replica; RELEASE corr_replica", NULL, NULL, NULL);
        if (rc == 0)
            rc = -1;
    }
    am_strset_free(&a->changed);
    return rc;
}

int corr_replica_apply_counted(store_t *st, const json_t *doc, am_strset_t *changed,
                               uint64_t *stale_docs, char *err, size_t errlen)
{
    apply_t a = {.st = st, .db = store_db(st), .err = err, .errlen = errlen};
    if (!json_is_object(doc))
        return reject(&a, "not a JSON object");
    const json_t *sv = json_object_get(doc, "schema_version");
    if (!json_is_integer(sv))
        return reject(&a, "schema_version: %s", sv ? "not an integer" : "missing");
    json_int_t version = json_integer_value(sv);
    if (version != CORR_REPLICA_SCHEMA && version != CORR_REPLICA_PARTS_SCHEMA)
        return reject(&a, "schema_version: %lld is not %d or %d, the versions this aftermath reads",
                      (long long)version, CORR_REPLICA_SCHEMA, CORR_REPLICA_PARTS_SCHEMA);
    if (savepoint(&a, "SAVEPOINT corr_replica") != 0)
        return -1;
    int rc = view_only(&a);
    if (rc != 0)
        ; /* the database failed */
    else if (version == CORR_REPLICA_PARTS_SCHEMA && json_object_get(doc, "of"))
        rc = apply_part(&a, doc);
    else if (version == CORR_REPLICA_PARTS_SCHEMA && json_object_get(doc, "replica"))
        rc = apply_summary(&a, doc);
    else if (version == CORR_REPLICA_PARTS_SCHEMA && json_object_get(doc, "merged_into"))
        rc = apply_merged_at(&a, doc);
    else if (json_object_get(doc, "replica"))
        rc = apply_incident(&a, doc);
    else if (json_object_get(doc, "merged_into"))
        rc = apply_merged(&a, doc);
    else if (json_object_get(doc, "deploy"))
        rc = apply_deploy(&a, doc);
    else if (json_object_get(doc, "people"))
        rc = apply_people(&a, doc);
    else
        rc = reject(&a, "none of %sreplica, merged_into, deploy or people",
                    version == CORR_REPLICA_PARTS_SCHEMA ? "of, " : "");
    if (rc == 0)
        rc = people_refresh(&a, json_object_get(doc, "people") != NULL);
    return finish(&a, rc, changed, stale_docs);
}

int corr_replica_apply(store_t *st, const json_t *doc, am_strset_t *changed, char *err,
                       size_t errlen)
{
    return corr_replica_apply_counted(st, doc, changed, NULL, err, errlen);
}

int corr_replica_settle(store_t *st, am_strset_t *changed, size_t *waiting, char *err,
                        size_t errlen)
{
    apply_t a = {.st = st, .db = store_db(st), .err = err, .errlen = errlen};
    am_strset_t ids = {0};
    *waiting = 0;
    if (savepoint(&a, "SAVEPOINT corr_replica") != 0)
        return -1;
    int rc = view_only(&a);
    sqlite3_stmt *s = NULL;
    if (rc == 0 && sqlite3_prepare_v2(a.db,
                                      "SELECT incident FROM replica_heads WHERE summary IS NOT "
                                      "NULL ORDER BY incident",
                                      -1, &s, NULL) != SQLITE_OK)
        rc = db_fail(&a, "reading replica_heads");
    while (rc == 0 && sqlite3_step(s) == SQLITE_ROW)
        am_strset_add(&ids, (const char *)sqlite3_column_text(s, 0), NULL);
    sqlite3_finalize(s);
    for (size_t i = 0; rc == 0 && i < ids.n; i++) {
        bool w;
        if ((rc = savepoint(&a, "SAVEPOINT corr_settle")) != 0)
            break;
        rc = settle(&a, ids.v[i], &w);
        if (rc == CORR_REPLICA_REJECTED) {
            /* a summary the view cannot apply (its row is not valid):
             * dropped, the incident keeps its last state */
            sqlite3_exec(a.db, "ROLLBACK TO corr_settle", NULL, NULL, NULL);
            rc = exec2(&a, "UPDATE replica_heads SET summary = NULL WHERE incident = ?1", ids.v[i],
                       NULL, "writing replica_heads");
            if (rc == 0)
                rc = waited(&a, ids.v[i]);
            a.stale++;
            w = false;
        }
        if (rc == 0)
            rc = savepoint(&a, "RELEASE corr_settle");
        *waiting += w;
    }
    am_strset_free(&ids);
    if (rc == 0 && a.changed.n)
        rc = people_refresh(&a, false); /* summaries applied now: their corrections too */
    return finish(&a, rc, changed, NULL);
}

int corr_replica_view_state(store_t *st, corr_replica_view_state_t *out, char *err, size_t errlen)
{
    apply_t a = {.st = st, .db = store_db(st), .err = err, .errlen = errlen};
    *out = (corr_replica_view_state_t){.waiting_since = AM_TIME_NONE};
    sqlite3_stmt *s = NULL;
    /* the tables exist once a document was applied */
    if (sqlite3_prepare_v2(a.db,
                           "SELECT (SELECT value FROM corr_meta WHERE key = 'role'), "
                           "(SELECT value FROM corr_meta WHERE key = '" STALE_KEY "'), "
                           "(SELECT count(*) FROM sqlite_master WHERE name IN ('replica_heads', "
                           "'replica_waits'))",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(&a, "reading corr_meta");
    int rc = sqlite3_step(s), tables = 0;
    if (rc == SQLITE_ROW) {
        const unsigned char *role = sqlite3_column_text(s, 0);
        out->view = role && strcmp((const char *)role, "view") == 0;
        out->stale_docs = sqlite3_column_int64(s, 1);
        tables = sqlite3_column_int(s, 2);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        return db_fail(&a, "reading corr_meta");
    if (tables < 2)
        return 0;
    if (sqlite3_prepare_v2(a.db,
                           "SELECT h.incident, w.since, (SELECT count(*) FROM replica_heads WHERE "
                           "summary IS NOT NULL) FROM replica_heads AS h LEFT JOIN replica_waits "
                           "AS w ON w.incident = h.incident WHERE h.summary IS NOT NULL "
                           "ORDER BY w.since IS NULL, w.since, h.incident LIMIT 1",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(&a, "reading replica_heads");
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        snprintf(out->oldest, sizeof out->oldest, "%s", (const char *)sqlite3_column_text(s, 0));
        if (sqlite3_column_type(s, 1) != SQLITE_NULL)
            out->waiting_since = sqlite3_column_int64(s, 1);
        out->waiting = sqlite3_column_int64(s, 2);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(&a, "reading replica_heads");
}

bool corr_replica_wait_overdue(const corr_replica_view_state_t *vs, int64_t now_ms)
{
    return vs->waiting > 0 && vs->waiting_since != AM_TIME_NONE &&
           now_ms - vs->waiting_since > CORR_REPLICA_WAIT_WARN_MS;
}
