/*
 * replica.c - incidents carried whole over the incidents topic, and
 * rebuilt in a view's database.
 *
 * Design. A correlator publishes, with each changed incident, the rows
 * that make it up in its own database: the incidents row (every column
 * but updated_at, read by name, so a column a later migration adds
 * travels without a change here), its episodes, its links and the events
 * they name. A view writes those rows back into the same tables, so every
 * reader (incident.c, report/) works on a view unchanged. Nothing is
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
};

/* One application: statements prepared on first use, the ids changed. */
typedef struct apply {
    store_t *st;
    sqlite3 *db;
    sqlite3_stmt *s[NSTMT];
    am_strset_t changed;
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
        run2(a, S_ADD_ALIAS, gone, into, "adding an alias") != 0)
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

int corr_replica_apply(store_t *st, const json_t *doc, am_strset_t *changed, char *err,
                       size_t errlen)
{
    apply_t a = {.st = st, .db = store_db(st), .err = err, .errlen = errlen};
    if (!json_is_object(doc))
        return reject(&a, "not a JSON object");
    const json_t *sv = json_object_get(doc, "schema_version");
    if (!json_is_integer(sv))
        return reject(&a, "schema_version: %s", sv ? "not an integer" : "missing");
    if (json_integer_value(sv) != CORR_REPLICA_SCHEMA)
        return reject(&a, "schema_version: %lld is not %d, the version this aftermath reads",
                      (long long)json_integer_value(sv), CORR_REPLICA_SCHEMA);
    if (savepoint(&a, "SAVEPOINT corr_replica") != 0)
        return -1;
    char *digest = NULL;
    int rc = get2(&a, S_GET_META, "rules_digest", NULL, &digest, "reading corr_meta");
    if (rc == 0 && digest) {
        am_errf(err, errlen,
                "%s holds a correlator's incidents: a view needs a database of its own",
                store_path(st));
        rc = -1;
    }
    free(digest);
    if (rc == 0)
        rc = run2(&a, S_MARK_VIEW, NULL, NULL, "marking the database as a view's");
    if (rc != 0)
        ; /* the database failed */
    else if (json_object_get(doc, "replica"))
        rc = apply_incident(&a, doc);
    else if (json_object_get(doc, "merged_into"))
        rc = apply_merged(&a, doc);
    else if (json_object_get(doc, "deploy"))
        rc = apply_deploy(&a, doc);
    else if (json_object_get(doc, "people"))
        rc = apply_people(&a, doc);
    else
        rc = reject(&a, "none of replica, merged_into, deploy or people");
    if (rc == 0) {
        /* a copy: the callback adds to a.changed */
        am_strset_t touched = {0};
        for (size_t i = 0; i < a.changed.n; i++)
            am_strset_add(&touched, a.changed.v[i], NULL);
        rc = corr_people_refresh(st, (const char *const *)touched.v, touched.n,
                                 json_object_get(doc, "people") != NULL, people_changed, &a.changed,
                                 err, errlen);
        am_strset_free(&touched);
    }
    for (int k = 0; k < NSTMT; k++)
        sqlite3_finalize(a.s[k]);
    if (rc == 0 && savepoint(&a, "RELEASE corr_replica") == 0) {
        for (size_t i = 0; changed && i < a.changed.n; i++)
            am_strset_add(changed, a.changed.v[i], NULL);
    } else {
        sqlite3_exec(a.db, "ROLLBACK TO corr_replica; RELEASE corr_replica", NULL, NULL, NULL);
        if (rc == 0)
            rc = -1;
    }
    am_strset_free(&a.changed);
    return rc;
}
