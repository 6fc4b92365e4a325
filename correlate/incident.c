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

#define COLS                                                                                       \
    "SELECT id, rule, gkey, status, services, COALESCE(impact_start, started_at), detected_at, "   \
    "acknowledged_at, mitigated_at, resolved_at, alerts, users_impacted, lead, suspects, during, " \
    "flapping, (SELECT json_group_array(alias) FROM (SELECT alias FROM incident_aliases a "        \
    "WHERE a.incident = i.id ORDER BY alias)), CASE WHEN impact_start IS NULL THEN NULL "          \
    "ELSE COALESCE(impact_from, 'deploy') END, ack_kind, end_inferred, "                           \
    "truncated FROM incidents i "

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

json_t *corr_incidents_json(store_t *st, char *err, size_t errlen)
{
    return query(st,
                 COLS "ORDER BY COALESCE(impact_start, started_at), rule, gkey, started_at, num",
                 NULL, err, errlen);
}

json_t *corr_incident_json(store_t *st, const char *id, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    json_t *arr = query(st,
                        COLS "WHERE id = ?1 OR id = (SELECT incident FROM incident_aliases "
                             "WHERE alias = ?1)",
                        id, err, errlen);
    if (!arr)
        return NULL;
    json_t *o = json_array_size(arr) ? json_incref(json_array_get(arr, 0)) : NULL;
    json_decref(arr);
    return o;
}
