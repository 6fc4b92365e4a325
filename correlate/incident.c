/*
 * incident.c - incidents as JSON, read from the correlator's tables.
 *
 * Stored JSON columns (services, suspects, during, flapping, gkey) are
 * parsed back rather than re-derived, so readers see exactly what the
 * correlator wrote. Times are stored as UTC milliseconds and written as
 * RFC 3339; unknown ones are null, never 0. Two keys appear only when
 * they say something: mitigated_inferred (true: no resolve was received,
 * the end was inferred - the alert fired again, or stopped being
 * re-notified) and truncated_alerts (the most alerts one of the
 * incident's notifications left out).
 */
#include "correlate/incident.h"
#include "common/buf.h"
#include "common/time.h"

#include <sqlite3.h>
#include <string.h>

/* The effective values: a person's correction (incident_overlay, written
 * by people.c) over the derived one; the derived ones follow from 28. */
#define COLS                                                                                       \
    "SELECT id, rule, gkey, status, services, COALESCE(o.started_at, impact_start, "               \
    "i.started_at), "                                                                              \
    "COALESCE(o.detected_at, i.detected_at), COALESCE(o.acknowledged_at, i.acknowledged_at), "     \
    "COALESCE(o.mitigated_at, i.mitigated_at), COALESCE(o.resolved_at, i.resolved_at), alerts, "   \
    "COALESCE(o.users_impacted, i.users_impacted), COALESCE(o.lead, i.lead), suspects, during, "   \
    "flapping, (SELECT json_group_array(alias) FROM (SELECT alias FROM incident_aliases a "        \
    "WHERE a.incident = i.id ORDER BY alias)), CASE WHEN impact_start IS NULL THEN NULL "          \
    "ELSE COALESCE(impact_from, 'deploy') END, ack_kind, end_inferred, "                           \
    "truncated, o.title, o.severity, o.roles, o.dismissed, o.merged_into, o.verdicts, "            \
    "o.corrections, COALESCE(impact_start, i.started_at), i.detected_at, i.acknowledged_at, "      \
    "i.mitigated_at, i.resolved_at, i.users_impacted, i.lead, (SELECT json_group_array("           \
    "json_array(item, task, owner, due, status, url, opened_at, closed_at)) FROM (SELECT * FROM "  \
    "action_items x WHERE x.incident = i.id ORDER BY item)), (SELECT "                             \
    "json_group_array(o2.incident) "                                                               \
    "FROM incident_overlay o2 WHERE o2.merged_into = i.id) "                                       \
    "FROM incidents i LEFT JOIN incident_overlay o ON o.incident = i.id "

/* Listed: not dismissed, not merged into another by hand. */
#define LISTED "WHERE o.dismissed IS NULL AND o.merged_into IS NULL "

static json_t *parsed(sqlite3_stmt *s, int col)
{
    const char *t = (const char *)sqlite3_column_text(s, col);
    json_t *j = t ? json_loads(t, 0, NULL) : NULL;
    return j ? j : json_null();
}

/* Deploy lists without the internal event id (kept for ordering). */
static json_t *deploys(sqlite3_stmt *s, int col)
{
    json_t *list = parsed(s, col);
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d) json_object_del(d, "event");
    return list;
}

static json_t *time_or_null(sqlite3_stmt *s, int col)
{
    if (sqlite3_column_type(s, col) == SQLITE_NULL)
        return json_null();
    char buf[AM_TIME_STRLEN];
    return json_string(am_time_format(sqlite3_column_int64(s, col), buf));
}

static void set_text(json_t *o, const char *key, sqlite3_stmt *s, int col)
{
    const char *t = (const char *)sqlite3_column_text(s, col);
    if (t)
        json_object_set_new(o, key, json_string(t));
}

static json_t *time_or_null(sqlite3_stmt *s, int col);

/* The people's record (people.h), in keys that appear only when a person
 * set something, so that incidents without read as before: title,
 * severity, roles, dismissed, merged_into, merged (ids merged into it by
 * hand), a verdict on each judged suspect, corrections ({field: {value,
 * derived, actor, at, reason}}: what replaced the derived value) and
 * action_items. */
static void people(json_t *o, sqlite3_stmt *s)
{
    static const char *const derived[] = {"started_at",   "detected_at", "acknowledged_at",
                                          "mitigated_at", "resolved_at", "users_impacted",
                                          "lead"};
    set_text(o, "title", s, 21);
    set_text(o, "severity", s, 22);
    json_t *roles = parsed(s, 23);
    if (json_object_size(roles))
        json_object_set(o, "roles", roles);
    json_decref(roles);
    set_text(o, "dismissed", s, 24);
    set_text(o, "merged_into", s, 25);
    json_t *verdicts = parsed(s, 26);
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(o, "suspects"), i, d)
    {
        am_buf_t b = {0};
        am_buf_printf(&b, "%s@%s", json_string_value(json_object_get(d, "name")),
                      json_string_value(json_object_get(d, "version")));
        json_t *v = json_object_get(verdicts, b.p);
        if (v)
            json_object_set(d, "verdict", v);
        am_buf_free(&b);
    }
    json_decref(verdicts);
    json_t *corr = parsed(s, 27);
    if (json_object_size(corr)) {
        const char *field;
        json_t *c;
        json_object_foreach(corr, field, c)
        {
            json_object_del(c, "event");
            for (int k = 0; k < 7; k++) {
                if (strcmp(field, derived[k]) != 0)
                    continue;
                json_t *v = k < 5 ? time_or_null(s, 28 + k)
                            : sqlite3_column_type(s, 28 + k) == SQLITE_NULL ? json_null()
                            : k == 5 ? json_integer(sqlite3_column_int64(s, 28 + k))
                                     : json_string((const char *)sqlite3_column_text(s, 28 + k));
                json_object_set_new(c, "derived", v);
            }
        }
        json_object_set(o, "corrections", corr);
    }
    json_decref(corr);
    json_t *items = parsed(s, 35), *list = json_array();
    json_t *row;
    json_array_foreach(items, i, row)
    {
        char buf[AM_TIME_STRLEN];
        json_t *a = json_object();
        static const char *const keys[] = {"item",   "task", "owner",     "due",
                                           "status", "url",  "opened_at", "closed_at"};
        for (size_t k = 0; k < 8; k++) {
            json_t *v = json_array_get(row, k);
            if (json_is_integer(v))
                v = json_string(am_time_format(json_integer_value(v), buf));
            else
                json_incref(v);
            json_object_set_new(a, keys[k], v ? v : json_null());
        }
        json_array_append_new(list, a);
    }
    if (json_array_size(list))
        json_object_set(o, "action_items", list);
    json_decref(list);
    json_decref(items);
    json_t *merged = parsed(s, 36);
    if (json_array_size(merged))
        json_object_set(o, "merged", merged);
    json_decref(merged);
}

static json_t *row(sqlite3_stmt *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string((const char *)sqlite3_column_text(s, 0)));
    json_object_set_new(o, "rule", json_string((const char *)sqlite3_column_text(s, 1)));
    json_object_set_new(o, "key", parsed(s, 2));
    json_object_set_new(o, "status", json_string((const char *)sqlite3_column_text(s, 3)));
    json_object_set_new(o, "services", parsed(s, 4));
    json_object_set_new(o, "started_at", time_or_null(s, 5));
    const char *from = (const char *)sqlite3_column_text(s, 17);
    json_object_set_new(o, "started_from", json_string(from ? from : "alert"));
    json_object_set_new(o, "detected_at", time_or_null(s, 6));
    json_object_set_new(o, "acknowledged_at", time_or_null(s, 7));
    const char *ack_kind = (const char *)sqlite3_column_text(s, 18);
    json_object_set_new(o, "acknowledged_by", ack_kind ? json_string(ack_kind) : json_null());
    json_object_set_new(o, "mitigated_at", time_or_null(s, 8));
    /* Only when so, so that incidents without them read as before. */
    if (sqlite3_column_int(s, 19))
        json_object_set_new(o, "mitigated_inferred", json_true());
    json_object_set_new(o, "resolved_at", time_or_null(s, 9));
    json_object_set_new(o, "alerts", json_integer(sqlite3_column_int64(s, 10)));
    json_object_set_new(o, "users_impacted",
                        sqlite3_column_type(s, 11) == SQLITE_NULL
                            ? json_null()
                            : json_integer(sqlite3_column_int64(s, 11)));
    const char *lead = (const char *)sqlite3_column_text(s, 12);
    json_object_set_new(o, "lead", lead ? json_string(lead) : json_null());
    json_object_set_new(o, "suspects", deploys(s, 13));
    json_object_set_new(o, "during", deploys(s, 14));
    json_object_set_new(o, "flapping", parsed(s, 15));
    json_object_set_new(o, "aliases", parsed(s, 16));
    if (sqlite3_column_int64(s, 20) > 0)
        json_object_set_new(o, "truncated_alerts", json_integer(sqlite3_column_int64(s, 20)));
    people(o, s);
    return o;
}

static json_t *query(store_t *st, const char *sql, const char *id, char *err, size_t errlen)
{
    sqlite3 *db = store_db(st);
    sqlite3_stmt *s = NULL;
    json_t *arr = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        goto fail;
    if (id)
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    arr = json_array();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        json_array_append_new(arr, row(s));
    if (rc != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(s);
    return arr;
fail:
    am_errf(err, errlen, "%s: reading incidents: %s", store_path(st), sqlite3_errmsg(db));
    json_decref(arr);
    sqlite3_finalize(s);
    return NULL;
}

#define ORDER "ORDER BY COALESCE(impact_start, i.started_at), rule, gkey, i.started_at, num"

json_t *corr_incidents_json(store_t *st, char *err, size_t errlen)
{
    return query(st, COLS LISTED ORDER, NULL, err, errlen);
}

json_t *corr_incidents_json_all(store_t *st, bool all, char *err, size_t errlen)
{
    return query(st, all ? COLS ORDER : COLS LISTED ORDER, NULL, err, errlen);
}

json_t *corr_incident_json(store_t *st, const char *id, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    json_t *arr = query(st,
                        COLS "WHERE i.id = ?1 OR i.id = (SELECT incident FROM incident_aliases "
                             "WHERE alias = ?1)",
                        id, err, errlen);
    if (!arr)
        return NULL;
    json_t *o = json_array_size(arr) ? json_incref(json_array_get(arr, 0)) : NULL;
    json_decref(arr);
    return o;
}
