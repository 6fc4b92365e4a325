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

/* The people's record (people.h) over the derived incidents: effective
 * times, and the incidents still counted (not dismissed, not merged into
 * another by hand). */
#define EFFECTIVE                                                                                  \
    "SELECT i.id AS id, rule, gkey, services, status, i.started_at AS derived_start,"              \
    " COALESCE(o.started_at, impact_start, i.started_at) AS start,"                                \
    " COALESCE(o.detected_at, i.detected_at) AS detected_at,"                                      \
    " COALESCE(o.acknowledged_at, i.acknowledged_at) AS acknowledged_at,"                          \
    " COALESCE(o.mitigated_at, i.mitigated_at) AS mitigated_at,"                                   \
    " COALESCE(o.resolved_at, i.resolved_at) AS resolved_at, o.severity AS severity"               \
    " FROM incidents i LEFT JOIN incident_overlay o ON o.incident = i.id"                          \
    " WHERE o.dismissed IS NULL AND o.merged_into IS NULL"

const char corr_sql_incident_history[] =
    "SELECT services, start, detected_at, acknowledged_at, mitigated_at, resolved_at FROM"
    " (" EFFECTIVE ") WHERE id <> ?1 AND start < ?2";

const char corr_sql_incidents_between[] =
    "SELECT id, rule, gkey, services, start, detected_at, acknowledged_at, mitigated_at,"
    " resolved_at, severity FROM (" EFFECTIVE ") WHERE (?1 IS NULL OR start >= ?1)"
    " AND (?2 IS NULL OR start < ?2) ORDER BY start, id";

const char corr_sql_episode_ends[] =
    "SELECT identity, starts_at, ends_at, inferred_end FROM episodes WHERE incident = ?1";

const char corr_sql_episode_labels[] =
    "SELECT labels FROM episodes WHERE incident = ?1 ORDER BY seq";

/* A deploy failed when an incident names it as a suspect and no person
 * rejected it there; once any suspect deploy of the period has a verdict,
 * only confirmed ones count, for the whole period. A dismissed incident's
 * suspects never count. */
const char corr_sql_deploys_by_service[] =
    "WITH s AS (SELECT ie.event AS event, v.value AS verdict FROM incident_events ie"
    " JOIN events d ON d.id = ie.event LEFT JOIN incident_overlay o ON o.incident = ie.incident"
    " LEFT JOIN json_each(o.verdicts) v ON v.key = d.name || '@' || d.version"
    " WHERE ie.role = 'suspect' AND o.dismissed IS NULL),"
    " p AS (SELECT id, service FROM events WHERE kind = 'deploy' AND (?1 IS NULL OR starts_at >= "
    "?1)"
    " AND (?2 IS NULL OR starts_at < ?2)),"
    " b AS (SELECT EXISTS (SELECT 1 FROM s JOIN p ON p.id = s.event WHERE s.verdict IS NOT NULL)"
    " AS confirmed)"
    " SELECT p.service, count(*), sum(EXISTS (SELECT 1 FROM s WHERE s.event = p.id AND"
    " CASE WHEN b.confirmed THEN s.verdict = 'confirmed' ELSE s.verdict IS NULL OR"
    " s.verdict <> 'rejected' END)), b.confirmed FROM p, b GROUP BY p.service ORDER BY p.service";

const char corr_sql_action_items[] =
    "SELECT a.incident, item, task, owner, due, a.status, url, opened_at, closed_at"
    " FROM action_items a LEFT JOIN incident_overlay o ON o.incident = a.incident"
    " WHERE o.dismissed IS NULL ORDER BY due IS NULL, due, a.incident, item";

const char corr_sql_followups[] =
    "SELECT a.status, a.due, a.opened_at, a.closed_at FROM action_items a JOIN (" EFFECTIVE ") i"
    " ON i.id = a.incident WHERE (?1 IS NULL OR i.start >= ?1) AND (?2 IS NULL OR i.start < ?2)";

const char corr_sql_corrected[] =
    "SELECT count(*) FROM incident_overlay o JOIN incidents i ON i.id = o.incident"
    " WHERE (?1 IS NULL OR COALESCE(o.started_at, i.impact_start, i.started_at) >= ?1)"
    " AND (?2 IS NULL OR COALESCE(o.started_at, i.impact_start, i.started_at) < ?2)";

const char corr_sql_people_unattached[] =
    "SELECT event, kind, incident, at, actor FROM people_unattached ORDER BY at, event";

/* The incidents list's filters, shared by the page and its count. */
#define LIST_WHERE                                                                                 \
    " FROM incidents i LEFT JOIN incident_overlay o ON o.incident = i.id"                          \
    " WHERE (?1 OR (o.dismissed IS NULL AND o.merged_into IS NULL))"                               \
    " AND (?2 IS NULL OR i.status = ?2) AND (?3 IS NULL OR i.rule = ?3)"                           \
    " AND (?4 IS NULL OR EXISTS (SELECT 1 FROM json_each(i.services) WHERE value = ?4))"           \
    " AND (?5 IS NULL OR COALESCE(o.started_at, i.impact_start, i.started_at) >= ?5)"              \
    " AND (?6 IS NULL OR COALESCE(o.started_at, i.impact_start, i.started_at) < ?6)"

const char corr_sql_incidents_page[] =
    "SELECT i.id" LIST_WHERE " ORDER BY i.status = 'open' DESC,"
    " COALESCE(o.started_at, i.impact_start, i.started_at) DESC, i.id LIMIT ?7 OFFSET ?8";

const char corr_sql_incidents_count[] = "SELECT count(*)" LIST_WHERE;

const char corr_sql_incident_people[] =
    "SELECT kind, starts_at, actor, summary, json_extract(annotations, '$.\"aftermath.body\"'),"
    " id FROM events WHERE kind IN ('correction', 'action') AND (name = ?1 OR name IN"
    " (SELECT alias FROM incident_aliases WHERE incident = ?1)) ORDER BY starts_at, seq";

const char corr_sql_figures_all[] =
    "SELECT rule, services, start, detected_at, acknowledged_at, mitigated_at, resolved_at, id"
    " FROM (" EFFECTIVE ") WHERE status = ?1 ORDER BY derived_start, id";

const char corr_sql_figures_one[] =
    "SELECT rule, services, start, detected_at, acknowledged_at, mitigated_at, resolved_at, id"
    " FROM (" EFFECTIVE ") WHERE status = ?1 AND id = ?2";

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
