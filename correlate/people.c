/*
 * people.c - the people's record (people.h): corrections and action items
 * laid over the correlator's derived incidents.
 *
 * The derived facts are never edited: the correlator keeps writing them
 * as it always did, and this module keeps a separate overlay that readers
 * join (incident.c, queries.c). The overlay is recomputed whole, from
 * every stored correction and action event, at the end of each flush.
 * That makes it a pure function of the stored events and the incidents,
 * so replay, run, recorrelate under new rules and the staged topology all
 * agree, and order-independence needs no bookkeeping: the events are
 * applied in (at, event id) order, each field overwritten by the later
 * one, null removing it. The cost is one pass over the people's events per
 * flush; people write tens to hundreds of them, not millions, and a store
 * without any pays one query.
 *
 * Which incidents changed is found by comparing a signature per incident
 * (its corrections and action items as JSON) before and after, so the
 * outbox and the drafts see a correction like any other change.
 */
#include "correlate/people.h"
#include "common/buf.h"
#include "common/time.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

typedef struct people {
    store_t *st;
    sqlite3 *db;
    json_t *fields;     /* incident -> {field -> {value, actor, at, reason, event}} */
    json_t *actions;    /* incident -> {item -> {...}} */
    json_t *unattached; /* [[event, kind, incident, at, actor]] */
    json_t *learned;    /* named id -> incident, learned from the `about` of a correction */
    am_event_list_t events;
    sqlite3_stmt *by_id, *by_alias, *by_about;
    char *err;
    size_t errlen;
} people_t;

static const char sql_any[] =
    "SELECT EXISTS (SELECT 1 FROM events WHERE kind IN ('correction', 'action')) OR "
    "EXISTS (SELECT 1 FROM incident_overlay) OR EXISTS (SELECT 1 FROM action_items) OR "
    "EXISTS (SELECT 1 FROM people_unattached)";

/* ?1 the touched incident ids (JSON array) -> whether the record could
 * change with them. */
static const char sql_relevant[] =
    "WITH t(id) AS (SELECT value FROM json_each(?1)) SELECT"
    " EXISTS (SELECT 1 FROM incident_overlay WHERE incident IN t) OR"
    " EXISTS (SELECT 1 FROM action_items WHERE incident IN t) OR"
    " EXISTS (SELECT 1 FROM people_unattached WHERE incident IN t) OR"
    " EXISTS (SELECT 1 FROM episodes e JOIN people_about a ON a.identity = e.identity"
    " WHERE e.incident IN t)";

/* Per incident: its corrections and action items, what a change shows in. */
static const char sql_signatures[] =
    "SELECT incident, group_concat(sig, '|') FROM ("
    " SELECT incident, corrections AS sig FROM incident_overlay UNION ALL"
    " SELECT incident, json_group_array(json_array(item, task, owner, due, status, url, opened_at,"
    " closed_at, actor, at)) FROM (SELECT * FROM action_items ORDER BY incident, item)"
    " GROUP BY incident) GROUP BY incident";

static const char sql_by_id[] = "SELECT id FROM incidents WHERE id = ?1";
static const char sql_by_alias[] = "SELECT incident FROM incident_aliases WHERE alias = ?1";
/* The incident holding the alerts of an `about` nearest its start, then
 * holding most of them. */
static const char sql_by_about[] =
    "SELECT e.incident FROM episodes e JOIN incidents i ON i.id = e.incident"
    " WHERE e.identity IN (SELECT value FROM json_each(?1))"
    " GROUP BY e.incident ORDER BY min(abs(i.started_at - ?2)), count(*) DESC, e.incident LIMIT 1";

static int db_fail(people_t *p, const char *what)
{
    am_errf(p->err, p->errlen, "%s: %s: %s", store_path(p->st), what, sqlite3_errmsg(p->db));
    return -1;
}

/* The first column of the single-text-parameter statement s bound to a,
 * owned, or NULL. */
static char *lookup(people_t *p, sqlite3_stmt *s, const char *a, const char *b_json, int64_t b_time,
                    int *rc)
{
    char *out = NULL;
    sqlite3_bind_text(s, 1, b_json ? b_json : a, -1, SQLITE_STATIC);
    if (b_json)
        sqlite3_bind_int64(s, 2, b_time);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW && sqlite3_column_text(s, 0))
        out = am_xstrdup((const char *)sqlite3_column_text(s, 0));
    else if (r != SQLITE_ROW && r != SQLITE_DONE)
        *rc = db_fail(p, "finding a correction's incident");
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return out;
}

/* The incident ev attaches to (owned), or NULL; *rc -1 on error. */
static char *attach(people_t *p, const am_event_t *ev, const json_t *body, int *rc)
{
    char *id = lookup(p, p->by_id, ev->name, NULL, 0, rc);
    if (!id && *rc == 0)
        id = lookup(p, p->by_alias, ev->name, NULL, 0, rc);
    const json_t *about = json_object_get(body, "about");
    const json_t *alerts = json_object_get(about, "alerts");
    if (!id && *rc == 0 && json_array_size(alerts) > 0) {
        int64_t start = ev->starts_at;
        const char *s = json_string_value(json_object_get(about, "started_at"));
        if (s)
            am_time_parse(s, strlen(s), &start, NULL, 0);
        char *text = json_dumps(alerts, JSON_COMPACT);
        id = lookup(p, p->by_about, NULL, text, start, rc);
        free(text);
    }
    const char *learned = json_string_value(json_object_get(p->learned, ev->name));
    if (!id && *rc == 0 && learned)
        id = am_xstrdup(learned);
    return id;
}

static json_t *sub(json_t *map, const char *key)
{
    json_t *o = json_object_get(map, key);
    if (!o) {
        o = json_object();
        json_object_set_new(map, key, o);
    }
    return o;
}

/* Sets field to value (null: removes it) with who, when and why. */
static void put(json_t *fields, const char *field, json_t *value, const am_event_t *ev)
{
    if (json_is_null(value)) {
        json_object_del(fields, field);
        return;
    }
    char at[AM_TIME_STRLEN];
    json_t *entry =
        json_pack("{s:O,s:s,s:s,s:s?,s:s}", "value", value, "actor", ev->actor ? ev->actor : "",
                  "at", am_time_format(ev->starts_at, at), "reason", ev->summary, "event", ev->id);
    json_object_set_new(fields, field, entry);
}

static void apply_correction(people_t *p, const char *incident, const am_event_t *ev,
                             const json_t *body)
{
    json_t *fields = sub(p->fields, incident);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)json_object_get(body, "set"), key, v)
    {
        if (strcmp(key, "roles") != 0) {
            put(fields, key, v, ev);
            continue;
        }
        const char *role;
        json_t *who;
        json_object_foreach(v, role, who)
        {
            am_buf_t b = {0};
            am_buf_printf(&b, "roles.%s", role);
            put(fields, b.p, who, ev);
            am_buf_free(&b);
        }
    }
    const json_t *suspect = json_object_get(body, "suspect");
    if (suspect) {
        am_buf_t b = {0};
        am_buf_printf(&b, "suspect.%s", json_string_value(json_object_get(suspect, "deploy")));
        json_t *verdict = json_object_get(suspect, "verdict");
        put(fields, b.p, verdict ? verdict : json_null(), ev);
        am_buf_free(&b);
    }
    if ((v = json_object_get(body, "dismiss")))
        put(fields, "dismissed", v, ev);
    if ((v = json_object_get(body, "merge_into")))
        put(fields, "merged_into", v, ev);
}

static void apply_action(people_t *p, const char *incident, const am_event_t *ev,
                         const json_t *body)
{
    const char *item = json_string_value(json_object_get(body, "item"));
    json_t *a = sub(sub(p->actions, incident), item);
    if (!json_object_get(a, "opened_at"))
        json_object_set_new(a, "opened_at", json_integer(ev->starts_at));
    static const char *const keys[] = {"task", "owner", "due", "url", "status", NULL};
    for (const char *const *k = keys; *k; k++) {
        json_t *v = json_object_get(body, *k);
        if (!v)
            continue;
        if (json_is_null(v))
            json_object_del(a, *k);
        else
            json_object_set(a, *k, v);
    }
    const char *status = json_string_value(json_object_get(body, "status"));
    if (status && strcmp(status, "done") == 0)
        json_object_set_new(a, "closed_at", json_integer(ev->starts_at));
    else if (status)
        json_object_del(a, "closed_at");
    json_object_set_new(a, "actor", json_string(ev->actor ? ev->actor : ""));
    json_object_set_new(a, "at", json_integer(ev->starts_at));
}

static int on_collect(void *arg, int64_t seq, const am_event_t *ev)
{
    (void)seq;
    people_t *p = arg;
    am_event_copy(am_event_list_push(&p->events), ev);
    return 0;
}

/* What the `about` of a correction says its named id has become, so that
 * the other events naming that id (corrections written without `about`,
 * action items) follow it too; the first by (at, event id) teaches it. */
static int learn(people_t *p, const am_event_t *ev)
{
    const char *text = am_labels_get(&ev->annotations, AM_ANNOTATION_BODY);
    json_t *body = text ? json_loads(text, 0, NULL) : NULL;
    int rc = 0;
    if (body && ev->name && json_object_get(body, "about") &&
        !json_object_get(p->learned, ev->name)) {
        char *id = attach(p, ev, body, &rc);
        if (id && strcmp(id, ev->name) != 0)
            json_object_set_new(p->learned, ev->name, json_string(id));
        free(id);
    }
    json_decref(body);
    return rc;
}

static int on_event(people_t *p, const am_event_t *ev)
{
    const char *text = am_labels_get(&ev->annotations, AM_ANNOTATION_BODY);
    json_t *body = text ? json_loads(text, 0, NULL) : NULL;
    if (!body || !ev->name)
        return 0; /* the decoders never store one so; nothing to apply */
    int rc = 0;
    char *incident = attach(p, ev, body, &rc);
    if (rc == 0 && !incident) {
        json_array_append_new(p->unattached,
                              json_pack("[s,s,s,I,s?]", ev->id, am_kind_name(ev->kind), ev->name,
                                        (json_int_t)ev->starts_at, ev->actor));
    } else if (rc == 0) {
        if (ev->kind == AM_KIND_CORRECTION)
            apply_correction(p, incident, ev, body);
        else
            apply_action(p, incident, ev, body);
    }
    free(incident);
    json_decref(body);
    return rc;
}

/* incident -> signature, from the tables as they are. */
static json_t *signatures(people_t *p)
{
    sqlite3_stmt *s = NULL;
    json_t *map = json_object();
    int rc = sqlite3_prepare_v2(p->db, sql_signatures, -1, &s, NULL);
    if (rc == SQLITE_OK)
        while ((rc = sqlite3_step(s)) == SQLITE_ROW)
            json_object_set_new(map, (const char *)sqlite3_column_text(s, 0),
                                json_string((const char *)sqlite3_column_text(s, 1)));
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        db_fail(p, "reading the people's record");
        json_decref(map);
        return NULL;
    }
    return map;
}

static void bind_str(sqlite3_stmt *s, int i, const json_t *v)
{
    if (json_is_string(v))
        sqlite3_bind_text(s, i, json_string_value(v), -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
}

static void bind_time(sqlite3_stmt *s, int i, const json_t *v)
{
    int64_t ms = AM_TIME_NONE;
    const char *t = json_string_value(v);
    if (json_is_integer(v))
        ms = json_integer_value(v);
    else if (t && am_time_parse(t, strlen(t), &ms, NULL, 0) != 0)
        ms = AM_TIME_NONE;
    if (ms == AM_TIME_NONE)
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_int64(s, i, ms);
}

static json_t *value_of(const json_t *fields, const char *field)
{
    return json_object_get(json_object_get(fields, field), "value");
}

static int write_overlay(people_t *p)
{
    static const char *const times[] = {"started_at", "detected_at", "acknowledged_at",
                                        "mitigated_at", "resolved_at"};
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(p->db,
                           "INSERT INTO incident_overlay (incident, title, severity, lead, roles,"
                           " started_at, detected_at, acknowledged_at, mitigated_at, resolved_at,"
                           " users_impacted, dismissed, merged_into, verdicts, corrections)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
                           " ?15)",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(p, "preparing the people's record");
    const char *incident;
    json_t *fields;
    int rc = 0;
    json_object_foreach(p->fields, incident, fields)
    {
        if (json_object_size(fields) == 0)
            continue;
        json_t *roles = json_object(), *verdicts = json_object();
        const char *field;
        json_t *entry;
        json_object_foreach(fields, field, entry)
        {
            if (strncmp(field, "roles.", 6) == 0)
                json_object_set(roles, field + 6, json_object_get(entry, "value"));
            else if (strncmp(field, "suspect.", 8) == 0)
                json_object_set(verdicts, field + 8, json_object_get(entry, "value"));
        }
        char *rj = json_dumps(roles, JSON_COMPACT | JSON_SORT_KEYS);
        char *vj = json_dumps(verdicts, JSON_COMPACT | JSON_SORT_KEYS);
        char *cj = json_dumps(fields, JSON_COMPACT | JSON_SORT_KEYS);
        sqlite3_bind_text(s, 1, incident, -1, SQLITE_STATIC);
        bind_str(s, 2, value_of(fields, "title"));
        bind_str(s, 3, value_of(fields, "severity"));
        bind_str(s, 4, value_of(fields, "lead"));
        sqlite3_bind_text(s, 5, rj, -1, SQLITE_STATIC);
        for (int i = 0; i < 5; i++)
            bind_time(s, 6 + i, value_of(fields, times[i]));
        json_t *users = value_of(fields, "users_impacted");
        if (json_is_integer(users))
            sqlite3_bind_int64(s, 11, json_integer_value(users));
        else
            sqlite3_bind_null(s, 11);
        bind_str(s, 12, value_of(fields, "dismissed"));
        bind_str(s, 13, value_of(fields, "merged_into"));
        sqlite3_bind_text(s, 14, vj, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 15, cj, -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE)
            rc = db_fail(p, "writing the people's record");
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        free(rj);
        free(vj);
        free(cj);
        json_decref(roles);
        json_decref(verdicts);
        if (rc != 0)
            break;
    }
    sqlite3_finalize(s);
    return rc;
}

static int write_actions(people_t *p)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(
            p->db,
            "INSERT INTO action_items (incident, item, task, owner, due, status, url,"
            " opened_at, closed_at, actor, at)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            -1, &s, NULL) != SQLITE_OK)
        return db_fail(p, "preparing the action items");
    const char *incident, *item;
    json_t *items, *a;
    int rc = 0;
    json_object_foreach(p->actions, incident, items)
    {
        json_object_foreach(items, item, a)
        {
            const char *status = json_string_value(json_object_get(a, "status"));
            sqlite3_bind_text(s, 1, incident, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, item, -1, SQLITE_STATIC);
            bind_str(s, 3, json_object_get(a, "task"));
            bind_str(s, 4, json_object_get(a, "owner"));
            bind_time(s, 5, json_object_get(a, "due"));
            sqlite3_bind_text(s, 6, status ? status : "open", -1, SQLITE_STATIC);
            bind_str(s, 7, json_object_get(a, "url"));
            bind_time(s, 8, json_object_get(a, "opened_at"));
            if (status && strcmp(status, "done") == 0)
                bind_time(s, 9, json_object_get(a, "closed_at"));
            bind_str(s, 10, json_object_get(a, "actor"));
            bind_time(s, 11, json_object_get(a, "at"));
            if (sqlite3_step(s) != SQLITE_DONE)
                rc = db_fail(p, "writing an action item");
            sqlite3_reset(s);
            sqlite3_clear_bindings(s);
            if (rc != 0)
                goto done;
        }
    }
done:
    sqlite3_finalize(s);
    return rc;
}

/* The alert identities of every correction's `about`. */
static int write_about(people_t *p)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(p->db, "INSERT OR IGNORE INTO people_about (identity) VALUES (?1)", -1,
                           &s, NULL) != SQLITE_OK)
        return db_fail(p, "preparing the corrections' alerts");
    int rc = 0;
    for (size_t i = 0; i < p->events.n && rc == 0; i++) {
        const char *text = am_labels_get(&p->events.v[i].annotations, AM_ANNOTATION_BODY);
        json_t *body = text ? json_loads(text, 0, NULL) : NULL;
        size_t k;
        json_t *a;
        json_array_foreach(json_object_get(json_object_get(body, "about"), "alerts"), k, a)
        {
            sqlite3_bind_text(s, 1, json_string_value(a), -1, SQLITE_STATIC);
            if (sqlite3_step(s) != SQLITE_DONE)
                rc = db_fail(p, "writing the corrections' alerts");
            sqlite3_reset(s);
            if (rc != 0)
                break;
        }
        json_decref(body);
    }
    sqlite3_finalize(s);
    return rc;
}

static int write_unattached(people_t *p)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(p->db,
                           "INSERT OR REPLACE INTO people_unattached (event, kind, incident, at,"
                           " actor) VALUES (?1, ?2, ?3, ?4, ?5)",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(p, "preparing the unattached corrections");
    size_t i;
    json_t *u;
    int rc = 0;
    json_array_foreach(p->unattached, i, u)
    {
        for (int c = 0; c < 3; c++)
            bind_str(s, c + 1, json_array_get(u, (size_t)c));
        sqlite3_bind_int64(s, 4, json_integer_value(json_array_get(u, 3)));
        bind_str(s, 5, json_array_get(u, 4));
        if (sqlite3_step(s) != SQLITE_DONE)
            rc = db_fail(p, "writing an unattached correction");
        sqlite3_reset(s);
        if (rc != 0)
            break;
    }
    sqlite3_finalize(s);
    return rc;
}

/* Queues incident in the outbox, for a caller without an engine. */
static int queue(void *arg, const char *incident)
{
    people_t *p = arg;
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(p->db, "INSERT OR IGNORE INTO outbox (incident) VALUES (?1)", -1,
                                &s, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(s, 1, incident, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : db_fail(p, "queueing an incident change");
}

static int any(people_t *p, int *yes)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(p->db, sql_any, -1, &s, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
        *yes = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : db_fail(p, "looking for corrections");
}

/* Whether the touched incidents could change the record (sql_relevant). */
static int relevant(people_t *p, const char *const *touched, size_t ntouched, int *yes)
{
    json_t *ids = json_array();
    for (size_t i = 0; i < ntouched; i++)
        json_array_append_new(ids, json_string(touched[i]));
    char *text = json_dumps(ids, JSON_COMPACT);
    json_decref(ids);
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(p->db, sql_relevant, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
        if ((rc = sqlite3_step(s)) == SQLITE_ROW)
            *yes = sqlite3_column_int(s, 0);
    }
    sqlite3_finalize(s);
    free(text);
    return rc == SQLITE_ROW ? 0 : db_fail(p, "looking for corrections of the incidents");
}

int corr_people_refresh(store_t *st, const char *const *touched, size_t ntouched, bool force,
                        corr_people_changed_fn changed, void *ctx, char *err, size_t errlen)
{
    people_t p = {.st = st, .db = store_db(st), .err = err, .errlen = errlen};
    if (!force && ntouched == 0)
        return 0;
    int yes = 0, rc = any(&p, &yes);
    if (rc == 0 && yes && !force)
        rc = relevant(&p, touched, ntouched, &yes);
    if (rc != 0 || !yes)
        return rc;
    json_t *before = NULL, *after = NULL;
    char *msg = NULL;
    p.fields = json_object();
    p.actions = json_object();
    p.unattached = json_array();
    p.learned = json_object();
    rc = -1;
    if (!(before = signatures(&p)))
        goto done;
    if (sqlite3_prepare_v2(p.db, sql_by_id, -1, &p.by_id, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(p.db, sql_by_alias, -1, &p.by_alias, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(p.db, sql_by_about, -1, &p.by_about, NULL) != SQLITE_OK) {
        db_fail(&p, "preparing the people's record");
        goto done;
    }
    if (store_events_between(st, AM_KIND_CORRECTION, AM_TIME_NONE, AM_TIME_NONE, on_collect, &p,
                             err, errlen) != 0 ||
        store_events_between(st, AM_KIND_ACTION, AM_TIME_NONE, AM_TIME_NONE, on_collect, &p, err,
                             errlen) != 0)
        goto done;
    for (size_t i = 0; i < p.events.n; i++)
        if (learn(&p, &p.events.v[i]) != 0)
            goto done;
    for (size_t i = 0; i < p.events.n; i++)
        if (on_event(&p, &p.events.v[i]) != 0)
            goto done;
    if (sqlite3_exec(p.db,
                     "DELETE FROM incident_overlay; DELETE FROM action_items;"
                     " DELETE FROM people_unattached; DELETE FROM people_about;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        am_errf(err, errlen, "%s: clearing the people's record: %s", store_path(st),
                msg ? msg : "");
        goto done;
    }
    if (write_overlay(&p) != 0 || write_actions(&p) != 0 || write_unattached(&p) != 0 ||
        write_about(&p) != 0 || !(after = signatures(&p)))
        goto done;
    rc = 0;
    if (!changed) {
        changed = queue;
        ctx = &p;
    }
    /* Every incident whose signature differs, on either side. */
    for (int side = 0; side < 2 && rc == 0; side++) {
        json_t *a = side ? after : before, *b = side ? before : after;
        const char *id;
        json_t *sig;
        json_object_foreach(a, id, sig)
        {
            json_t *other = json_object_get(b, id);
            if (side && other)
                continue; /* compared from the other side */
            if (!other || !json_equal(sig, other))
                if ((rc = changed(ctx, id)) != 0)
                    break;
        }
    }
done:
    sqlite3_free(msg);
    sqlite3_finalize(p.by_id);
    sqlite3_finalize(p.by_alias);
    sqlite3_finalize(p.by_about);
    json_decref(before);
    json_decref(after);
    json_decref(p.fields);
    json_decref(p.actions);
    json_decref(p.unattached);
    json_decref(p.learned);
    am_event_list_free(&p.events);
    return rc;
}
