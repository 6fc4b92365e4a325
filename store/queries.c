/*
 * queries.c - the named statements of store/queries.h.
 */
#include "store/queries.h"

const char store_sql_event_by_id[] = "SELECT " STORE_EVENT_COLS " FROM events WHERE id = ?1";

const char store_sql_insert_event[] =
    "INSERT INTO events (" STORE_EVENT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
    "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21) ON CONFLICT (id) DO NOTHING";

const char store_sql_earlier_observed[] =
    "UPDATE events SET observed_at = CASE WHEN ?2 IS NOT NULL AND (observed_at IS NULL OR "
    "observed_at > ?2) THEN ?2 ELSE observed_at END, last_observed_at = CASE WHEN ?3 IS NOT "
    "NULL AND (last_observed_at IS NULL OR last_observed_at < ?3) THEN ?3 ELSE "
    "last_observed_at END, confirmed = COALESCE(confirmed, ?4) WHERE id = ?1";

const char store_sql_event_confirmed[] =
    "SELECT 1 FROM events WHERE id = ?1 AND confirmed IS NOT NULL";

const char store_sql_event_delivery[] =
    "SELECT r.topic, ev.last_observed_at FROM events ev LEFT JOIN records r "
    "ON r.seq = ev.record_seq WHERE ev.seq = ?1";

const char store_sql_ack_for_identity[] =
    "SELECT 1 FROM events WHERE identity = ?1 AND kind = 'ack' LIMIT 1";

const char store_sql_page_events_for_identity[] =
    "SELECT 1 FROM events WHERE source = 'pagerduty' AND identity IN (SELECT key FROM pages "
    "WHERE identity = ?1 UNION SELECT a.alias FROM pages p JOIN page_aliases a ON a.key = p.key "
    "WHERE p.identity = ?1) LIMIT 1";

const char store_sql_page_known[] =
    "SELECT 1 FROM pages WHERE key = ?1 OR key IN (SELECT key FROM page_aliases WHERE alias = "
    "?1) LIMIT 1";

const char store_sql_pagerduty_present[] =
    "SELECT 1 FROM events WHERE kind IN ('ack', 'note') AND source = 'pagerduty' LIMIT 1";

const char store_sql_prune_records[] =
    "DELETE FROM records WHERE (ts IS NULL OR ts < ?1) AND NOT EXISTS (SELECT 1 FROM events "
    "WHERE record_seq = records.seq)";

const char store_sql_prune_rejected[] = "DELETE FROM rejected WHERE rejected_at < ?1";

const char store_sql_latest_event_time[] =
    "SELECT max(t) FROM (SELECT max(starts_at) AS t FROM events WHERE kind NOT IN ('correction',"
    " 'action') UNION ALL SELECT max(ends_at) FROM events WHERE kind NOT IN ('correction', "
    "'action') UNION ALL SELECT max(observed_at) FROM events WHERE kind NOT IN ('correction', "
    "'action'))";

const char store_sql_events_around[] =
    "SELECT " STORE_EVENT_COLS " FROM events WHERE kind = ?1 AND starts_at >= ?2"
    " AND starts_at < ?3 ORDER BY starts_at, id";
