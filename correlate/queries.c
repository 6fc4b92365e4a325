/*
 * queries.c - the named statements of correlate/queries.h: every SQL text
 * outside correlate/ that reads correlate's tables is here, next to the
 * code that writes them.
 */
#include "correlate/queries.h"
#include "common/buf.h"

#include <sqlite3.h>
#include <stdio.h>

const char corr_sql_incident_links[] =
    "SELECT ie.role, e.id, e.kind, e.status, e.source, e.name, e.identity, e.service,"
    " e.severity, e.summary, e.starts_at, e.ends_at, e.observed_at, e.actor, e.version,"
    " e.labels, e.annotations, e.url"
    " FROM incident_events ie JOIN events e ON e.id = ie.event"
    " WHERE ie.incident = ?1 ORDER BY e.starts_at, e.id, ie.role";

const char corr_sql_incident_history[] =
    "SELECT services, COALESCE(impact_start, started_at) AS start, detected_at, acknowledged_at,"
    " mitigated_at, resolved_at FROM incidents WHERE id <> ?1 AND start < ?2";

const char corr_sql_incidents_between[] =
    "SELECT id, rule, gkey, services, COALESCE(impact_start, started_at) AS start, detected_at, "
    "acknowledged_at, mitigated_at, resolved_at FROM incidents WHERE (?1 IS NULL OR start >= ?1) "
    "AND (?2 IS NULL OR start < ?2) ORDER BY start, id";

const char corr_sql_episode_ends[] =
    "SELECT identity, starts_at, ends_at, inferred_end FROM episodes WHERE incident = ?1";

const char corr_sql_episode_labels[] =
    "SELECT labels FROM episodes WHERE incident = ?1 ORDER BY seq";

/* A deploy failed when any incident names it as a suspect. */
const char corr_sql_deploys_by_service[] =
    "SELECT e.service, count(*), count(s.event) FROM events e "
    "LEFT JOIN (SELECT DISTINCT event FROM incident_events WHERE role = 'suspect') s "
    "ON s.event = e.id WHERE e.kind = 'deploy' AND (?1 IS NULL OR e.starts_at >= ?1) "
    "AND (?2 IS NULL OR e.starts_at < ?2) GROUP BY e.service ORDER BY e.service";

const char corr_sql_figures_all[] =
    "SELECT rule, services, COALESCE(impact_start, started_at), detected_at, acknowledged_at, "
    "mitigated_at, resolved_at, id FROM incidents WHERE status = ?1 ORDER BY started_at, id";

const char corr_sql_figures_one[] =
    "SELECT rule, services, COALESCE(impact_start, started_at), detected_at, acknowledged_at, "
    "mitigated_at, resolved_at, id FROM incidents WHERE status = ?1 AND id = ?2";

int corr_count_open(store_t *st, int64_t *n, char *err, size_t errlen)
{
    sqlite3 *db = store_db(st);
    sqlite3_stmt *s = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM incidents WHERE status = 'open'", -1, &s,
                           NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        *n = sqlite3_column_int64(s, 0);
        rc = 0;
    } else {
        am_errf(err, errlen, "%s: counting open incidents: %s", store_path(st), sqlite3_errmsg(db));
    }
    sqlite3_finalize(s);
    return rc;
}

int corr_stored_rules_digest(store_t *st, char out[32], char *err, size_t errlen)
{
    sqlite3 *db = store_db(st);
    sqlite3_stmt *s = NULL;
    out[0] = '\0';
    int rc = sqlite3_prepare_v2(db, "SELECT value FROM corr_meta WHERE key = 'rules_digest'", -1,
                                &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW && sqlite3_column_text(s, 0))
            snprintf(out, 32, "%s", (const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        am_errf(err, errlen, "%s: reading the rules digest: %s", store_path(st),
                sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}
