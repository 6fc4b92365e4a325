/*
 * engine.c - grouping alerts into incidents, on event time.
 *
 * Design. An alert episode is one firing of one alert: (rule, group key,
 * identity, starts_at), with the latest ends_at and the earliest
 * observed_at of all its deliveries. Episodes are merged in SQL (an upsert
 * that keeps max(ends_at), min(observed_at)), so duplicates and arrival
 * order cannot change them. An incident is a connected component of a
 * group key's episodes under the chain relation "overlapping, or less
 * than gap apart". Everything else is derived from the incident's span:
 * acks and notes of the same key inside [started_at, resolved_at] (or
 * naming one of its alerts), deploys inside [started_at - before,
 * resolved_at] that agree on the `same` labels.
 *
 * Each flush re-chains only what changed: for every group key touched, the
 * incidents that chain with the new episodes' span are loaded with their
 * episodes and the components computed afresh, which also handles merges
 * (a late alert bridging two incidents) and splits (a resolve arriving
 * late). Incident ids survive: a component keeps the oldest id among its
 * old incidents, the others become aliases. Links are then recomputed for
 * every incident whose span changed and every incident a new ack, note or
 * deploy could belong to. Since components and links are functions of the
 * stored set alone, the incidents are the same in any order.
 *
 * Memory holds only one batch's working set (touched keys, pending
 * non-alert events); max_open_groups bounds it, past which the set is
 * processed early.
 */
#include "correlate/engine.h"
#include "correlate/people.h"
#include "store/queries.h"
#include "correlate/route.h"
#include "common/buf.h"
#include "common/hash.h"
#include "common/strset.h"
#include "correlate/rules_int.h"

#include <inttypes.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define T_MAX INT64_MAX
#define T_MIN INT64_MIN

enum {
    S_EPISODE_NOW,
    S_UPSERT_EPISODE,
    S_CHAINED_INCIDENTS,
    S_KEY_EPISODES,
    S_SET_EPISODE_INCIDENT,
    S_UPSERT_INCIDENT,
    S_DELETE_INCIDENT,
    S_DELETE_LINKS,
    S_ADD_ALIAS,
    S_UNALIAS,
    S_MOVE_ALIASES,
    S_NEIGHBOURS,
    S_GET_INCIDENT,
    S_EARLIER_OPEN,
    S_IDENTITY_INCIDENTS,
    S_UPDATE_LINKS,
    S_ADD_LINK,
    S_LINK_ALERT_EVENTS,
    S_OPEN_FOR_KEY,
    S_OPEN_FOR_DEPLOY,
    S_PAGE_HOLDERS,
    S_INCIDENT_PAGES,
    S_PAGE_PEERS,
    S_PAGE_EVENTS,
    S_PAGE_KNOWN,
    S_PD_PRESENT,
    S_SIGNATURE,
    S_GET_META,
    S_SET_META,
    S_INCIDENT_IDENTITIES,
    S_HAS_IDENTITY,
    S_LINK_ALERT_EVENT,
    S_ACK_EXISTS,
    S_OUTBOX_ADD,
    S_OUTBOX_ALL,
    S_OUTBOX_DONE,
    S_STALE_SWEEP,
    S_TOUCH,
    S_GROUP_TRUNCATED,
    S_CONFIRMED,
    S_SET_INFERRED_END,
    NSTMT
};

static const char *const sql[NSTMT] = {
    [S_EPISODE_NOW] = "SELECT incident, ends_at, observed_at, users, stale_at, topic, truncated, "
                      "tent_end FROM episodes WHERE rule = ?1 AND gkey = ?2 AND identity = ?3 AND "
                      "starts_at = ?4",
    [S_UPSERT_EPISODE] =
        "INSERT INTO episodes (rule, gkey, identity, starts_at, ends_at, observed_at, name, "
        "service, labels, users, last_seen, stale_at, topic, truncated, trunc_seen, "
        "trunc_stale_at, "
        "trunc_topic, tent_end) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?6, ?11, ?12, "
        "?13, "
        "CASE WHEN ?13 IS NULL THEN NULL ELSE ?6 END, CASE WHEN ?13 IS NULL THEN NULL ELSE ?11 "
        "END, "
        "CASE WHEN ?13 IS NULL THEN NULL ELSE ?12 END, ?14) "
        "ON CONFLICT (rule, gkey, identity, starts_at) DO UPDATE SET "
        "ends_at = CASE WHEN excluded.ends_at IS NULL THEN episodes.ends_at "
        "  WHEN episodes.ends_at IS NULL OR excluded.ends_at > episodes.ends_at "
        "  THEN excluded.ends_at ELSE episodes.ends_at END, "
        "observed_at = CASE WHEN excluded.observed_at IS NULL THEN episodes.observed_at "
        "  WHEN episodes.observed_at IS NULL OR excluded.observed_at < episodes.observed_at "
        "  THEN excluded.observed_at ELSE episodes.observed_at END, "
        "users = CASE WHEN excluded.users IS NULL THEN episodes.users "
        "  WHEN episodes.users IS NULL OR excluded.users > episodes.users "
        "  THEN excluded.users ELSE episodes.users END, "
        "last_seen = CASE WHEN excluded.last_seen IS NULL THEN episodes.last_seen "
        "  WHEN episodes.last_seen IS NULL OR excluded.last_seen > episodes.last_seen "
        "  THEN excluded.last_seen ELSE episodes.last_seen END, "
        /* the topic whose clock judges it: that of the latest deadline */
        "topic = CASE WHEN excluded.stale_at IS NULL THEN episodes.topic "
        "  WHEN episodes.stale_at IS NULL OR excluded.stale_at > episodes.stale_at OR "
        "  (excluded.stale_at = episodes.stale_at AND excluded.topic < episodes.topic) "
        "  THEN excluded.topic ELSE episodes.topic END, "
        "stale_at = CASE WHEN excluded.stale_at IS NULL THEN episodes.stale_at "
        "  WHEN episodes.stale_at IS NULL OR excluded.stale_at > episodes.stale_at "
        "  THEN excluded.stale_at ELSE episodes.stale_at END, "
        "truncated = CASE WHEN excluded.truncated IS NULL THEN episodes.truncated "
        "  WHEN episodes.truncated IS NULL OR excluded.truncated > episodes.truncated "
        "  THEN excluded.truncated ELSE episodes.truncated END, "
        "trunc_seen = CASE WHEN excluded.trunc_seen IS NULL THEN episodes.trunc_seen "
        "  WHEN episodes.trunc_seen IS NULL OR excluded.trunc_seen > episodes.trunc_seen "
        "  THEN excluded.trunc_seen ELSE episodes.trunc_seen END, "
        "trunc_topic = CASE WHEN excluded.trunc_stale_at IS NULL THEN episodes.trunc_topic "
        "  WHEN episodes.trunc_stale_at IS NULL OR excluded.trunc_stale_at > "
        "  episodes.trunc_stale_at OR (excluded.trunc_stale_at = episodes.trunc_stale_at AND "
        "  excluded.trunc_topic < episodes.trunc_topic) "
        "  THEN excluded.trunc_topic ELSE episodes.trunc_topic END, "
        "tent_end = CASE WHEN excluded.tent_end IS NULL THEN episodes.tent_end "
        "  WHEN episodes.tent_end IS NULL OR excluded.tent_end > episodes.tent_end "
        "  THEN excluded.tent_end ELSE episodes.tent_end END, "
        "trunc_stale_at = CASE WHEN excluded.trunc_stale_at IS NULL THEN episodes.trunc_stale_at "
        "  WHEN episodes.trunc_stale_at IS NULL OR excluded.trunc_stale_at > "
        "  episodes.trunc_stale_at THEN excluded.trunc_stale_at ELSE episodes.trunc_stale_at END",
    [S_CHAINED_INCIDENTS] = "SELECT id FROM incidents WHERE rule = ?1 AND gkey = ?2 AND "
                            "started_at < ?4 AND (mitigated_at IS NULL OR mitigated_at > ?3) "
                            "AND (?5 IS NULL OR span_end IS NULL OR span_end >= ?5)",
    [S_KEY_EPISODES] =
        "SELECT seq, identity, starts_at, ends_at, observed_at, name, service, labels, users, "
        "incident, last_seen, stale_at, topic, truncated, tent_end, inferred_end FROM episodes "
        "WHERE rule = ?1 "
        "AND gkey = "
        "?2 AND (incident IS NULL OR incident IN "
        "(SELECT value FROM json_each(?3))) ORDER BY starts_at, identity",
    [S_SET_EPISODE_INCIDENT] = "UPDATE episodes SET incident = ?2 WHERE seq = ?1",
    [S_UPSERT_INCIDENT] =
        "INSERT INTO incidents (id, num, rule, gkey, status, started_at, detected_at, "
        "mitigated_at, resolved_at, alerts, alert_users, users_impacted, services, suspects, "
        "during, flapping, updated_at, same_values, end_inferred, truncated, span_end) VALUES "
        "(?1, ?2, ?3, ?4, "
        "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, '[]', '[]', ?13, ?14, ?15, ?16, ?17, ?9) "
        "ON CONFLICT (id) DO UPDATE SET end_inferred = excluded.end_inferred, "
        "truncated = excluded.truncated, "
        "status = excluded.status, started_at = excluded.started_at, "
        "detected_at = excluded.detected_at, mitigated_at = excluded.mitigated_at, "
        "span_end = excluded.span_end, resolved_at = CASE WHEN incidents.person_resolved_at IS "
        "NOT NULL AND excluded.mitigated_at IS NOT NULL AND incidents.person_resolved_at >= "
        "excluded.mitigated_at THEN incidents.person_resolved_at ELSE excluded.resolved_at END, "
        "alerts = excluded.alerts, "
        "alert_users = excluded.alert_users, users_impacted = CASE WHEN "
        "incidents.link_users IS NOT NULL AND (excluded.alert_users IS NULL OR "
        "incidents.link_users > excluded.alert_users) THEN incidents.link_users ELSE "
        "excluded.alert_users END, services = excluded.services, "
        "flapping = excluded.flapping, updated_at = excluded.updated_at, "
        "same_values = excluded.same_values WHERE incidents.rule = excluded.rule AND "
        "incidents.gkey = excluded.gkey",
    [S_DELETE_INCIDENT] = "DELETE FROM incidents WHERE id = ?1",
    [S_DELETE_LINKS] = "DELETE FROM incident_events WHERE incident = ?1",
    [S_ADD_ALIAS] = "INSERT OR REPLACE INTO incident_aliases (alias, incident) VALUES (?1, ?2)",
    [S_UNALIAS] = "DELETE FROM incident_aliases WHERE alias = ?1 RETURNING incident",
    [S_MOVE_ALIASES] = "UPDATE incident_aliases SET incident = ?2 WHERE incident = ?1",
    [S_NEIGHBOURS] = "SELECT id FROM incidents WHERE rule = ?1 AND gkey = ?2 AND "
                     "started_at <= ?4 AND (span_end IS NULL OR span_end >= ?3)",
    [S_GET_INCIDENT] =
        "SELECT rule, gkey, started_at, span_end, same_values, link_basis, acknowledged_at, "
        "lead, link_users, suspects, during, detected_at, ack_kind, lead_by FROM incidents "
        "WHERE id = ?1",
    [S_EARLIER_OPEN] = "SELECT 1 FROM incidents WHERE rule = ?1 AND gkey = ?2 AND id != ?3 AND "
                       "started_at < ?4 AND started_at <= ?5 AND "
                       "(span_end IS NULL OR span_end >= ?5) LIMIT 1",
    [S_IDENTITY_INCIDENTS] =
        "SELECT DISTINCT i.id, i.started_at, i.span_end FROM episodes e JOIN incidents i ON "
        "i.id = e.incident WHERE e.rule = ?1 AND e.identity = ?2 ORDER BY i.started_at",
    /* ?10 the lead's origin; ?11 = 1 when ?12 is the person's resolve
     * (a full rebuild), 0 to keep the stored one. */
    [S_UPDATE_LINKS] =
        "UPDATE incidents SET acknowledged_at = ?2, lead = ?3, link_users = ?4, "
        "users_impacted = CASE WHEN ?4 IS NOT NULL AND (alert_users IS NULL OR ?4 > "
        "alert_users) THEN ?4 ELSE alert_users END, suspects = ?5, during = ?6, "
        "link_basis = ?7, impact_start = ?8, ack_kind = ?9, lead_by = ?10, impact_from = ?13, "
        "person_resolved_at = CASE WHEN ?11 THEN ?12 ELSE person_resolved_at END, "
        "resolved_at = CASE WHEN (CASE WHEN ?11 THEN ?12 ELSE person_resolved_at END) IS NOT "
        "NULL AND mitigated_at IS NOT NULL AND (CASE WHEN ?11 THEN ?12 ELSE person_resolved_at "
        "END) >= mitigated_at THEN (CASE WHEN ?11 THEN ?12 ELSE person_resolved_at END) ELSE "
        "span_end END WHERE id = ?1",
    [S_ADD_LINK] =
        "INSERT OR IGNORE INTO incident_events (incident, event, role) VALUES (?1, ?2, ?3)",
    [S_LINK_ALERT_EVENTS] =
        "INSERT OR IGNORE INTO incident_events (incident, event, role) SELECT ?1, ev.id, 'alert' "
        "FROM episodes e JOIN events ev ON ev.kind = 'alert' AND ev.identity = e.identity AND "
        "ev.starts_at = e.starts_at WHERE e.incident = ?1",
    [S_OPEN_FOR_KEY] = "SELECT id FROM incidents WHERE rule = ?1 AND gkey = ?2 AND "
                       "started_at <= ?3 AND (span_end IS NULL OR span_end >= ?3)",
    [S_OPEN_FOR_DEPLOY] = "SELECT id FROM incidents WHERE rule = ?1 AND started_at <= ?3 AND "
                          "started_at >= ?4 AND (span_end IS NULL OR span_end >= ?2)",
    /* Pages (store/schema.sql pages): the incidents of rule ?1 holding an
     * alert paged under ?2 (a page's key, or PagerDuty's id of one), in
     * order of start. */
    [S_PAGE_HOLDERS] =
        "SELECT DISTINCT i.id, i.started_at, i.span_end FROM pages p JOIN episodes e ON "
        "e.identity = p.identity AND e.rule = ?1 JOIN incidents i ON i.id = e.incident WHERE "
        "p.key = ?2 OR p.key IN (SELECT key FROM page_aliases WHERE alias = ?2) "
        "ORDER BY i.started_at, i.id",
    /* The names PagerDuty events may give an incident's pages: each key
     * and PagerDuty's ids of it. */
    [S_INCIDENT_PAGES] =
        "SELECT p.key FROM episodes e JOIN pages p ON p.identity = e.identity WHERE "
        "e.incident = ?1 UNION SELECT a.alias FROM episodes e JOIN pages p ON p.identity = "
        "e.identity JOIN page_aliases a ON a.key = p.key WHERE e.incident = ?1",
    /* The incidents of rule ?1 holding an alert that shares a page with
     * the alert ?2. */
    [S_PAGE_PEERS] =
        "SELECT DISTINCT e.incident FROM pages p JOIN pages q ON q.key = p.key JOIN episodes e "
        "ON e.identity = q.identity AND e.rule = ?1 WHERE p.identity = ?2 AND e.incident IS NOT "
        "NULL",
    [S_PAGE_EVENTS] = store_sql_page_events_for_identity,
    [S_PAGE_KNOWN] = store_sql_page_known,
    [S_PD_PRESENT] = store_sql_pagerduty_present,
    /* What readers of an incident see of it: its row and its links (a
     * re-sent alert event or a late note changes only the links). */
    [S_SIGNATURE] =
        "SELECT json_array(rule, gkey, status, started_at, detected_at, "
        "acknowledged_at, mitigated_at, resolved_at, alerts, users_impacted, lead, "
        "services, suspects, during, flapping, impact_start, ack_kind, end_inferred, truncated, "
        "(SELECT group_concat(role || ':' || event) FROM incident_events "
        "WHERE incident = ?1)) FROM incidents WHERE id = ?1",
    [S_GET_META] = "SELECT value FROM corr_meta WHERE key = ?1",
    [S_SET_META] = "INSERT OR REPLACE INTO corr_meta (key, value) VALUES (?1, ?2)",
    [S_INCIDENT_IDENTITIES] = "SELECT DISTINCT identity FROM episodes WHERE incident = ?1",
    [S_HAS_IDENTITY] = "SELECT 1 FROM episodes WHERE incident = ?1 AND identity = ?2 LIMIT 1",
    [S_LINK_ALERT_EVENT] =
        "INSERT OR IGNORE INTO incident_events (incident, event, role) SELECT incident, ?1, "
        "'alert' FROM episodes WHERE rule = ?2 AND gkey = ?3 AND identity = ?4 AND "
        "starts_at = ?5 AND incident IS NOT NULL",
    [S_ACK_EXISTS] = store_sql_ack_for_identity,
    [S_OUTBOX_ADD] = "INSERT OR IGNORE INTO outbox (incident) VALUES (?1)",
    [S_OUTBOX_ALL] = "SELECT incident FROM outbox ORDER BY incident",
    [S_OUTBOX_DONE] = "DELETE FROM outbox WHERE incident IN (SELECT value FROM json_each(?1))",
    /* Open episodes whose deadline a topic's clock just passed. */
    [S_STALE_SWEEP] = "SELECT DISTINCT rule, gkey, starts_at FROM episodes WHERE topic IS ?1 AND "
                      "ends_at IS NULL AND stale_at > ?2 AND stale_at <= ?3",
    /* A delivery that says the open episodes of (rule, gkey) that started
     * in [?7, ?3] still fire (a truncated notification): their latest
     * delivery ?4, deadline ?5 on topic ?6. */
    [S_TOUCH] =
        "UPDATE episodes SET last_seen = CASE WHEN last_seen IS NULL OR ?4 > last_seen THEN ?4 "
        "ELSE last_seen END, topic = CASE WHEN ?5 IS NULL THEN topic WHEN stale_at IS NULL OR "
        "?5 > stale_at OR (?5 = stale_at AND ?6 < topic) THEN ?6 ELSE topic END, "
        "stale_at = CASE WHEN ?5 IS NULL THEN stale_at WHEN stale_at IS NULL OR ?5 > stale_at "
        "THEN ?5 ELSE stale_at END WHERE rule = ?1 AND gkey = ?2 AND ends_at IS NULL AND "
        "starts_at >= ?7 AND starts_at <= ?3 AND (last_seen IS NULL OR last_seen < ?4 OR "
        "(?5 IS NOT NULL AND (stale_at IS NULL OR stale_at < ?5 OR (?5 = stale_at AND "
        "?6 < topic)))) RETURNING starts_at",
    [S_SET_INFERRED_END] = "UPDATE episodes SET inferred_end = ?2 WHERE seq = ?1",
    [S_CONFIRMED] = store_sql_event_confirmed,
    /* The latest truncated notification of a group at or after ?3. */
    [S_GROUP_TRUNCATED] =
        "SELECT trunc_seen, trunc_stale_at, trunc_topic FROM episodes WHERE rule = ?1 AND "
        "gkey = ?2 AND trunc_seen IS NOT NULL AND trunc_seen >= ?3 ORDER BY trunc_seen DESC, "
        "trunc_stale_at DESC, trunc_topic LIMIT 1",
};

/* A touched group key and the span of what changed in it. */
typedef struct dirty {
    size_t rule;
    char *gkey;
    int64_t lo, hi; /* hi = T_MAX when something is still firing */
} dirty_t;

typedef struct episode {
    int64_t seq;
    char *identity, *name, *service, *incident;
    am_labels_t labels;             /* only the rule's `same` names (pick_labels) */
    int64_t starts, ends, observed; /* ends = T_MAX while firing */
    int64_t users;                  /* -1 when unknown */
    int64_t truncated;              /* alerts its truncated notifications left out, or 0 */
    int64_t last_seen, stale_at;    /* latest delivery and its deadline, or AM_TIME_NONE */
    char *topic;                    /* whose clock judges stale_at (NULL: records without one) */
    bool inferred;                  /* ends is inferred (episode_ends), not a resolve */
    int64_t stored_inferred;        /* episodes.inferred_end as loaded, or AM_TIME_NONE */
} episode_t;

typedef struct episode_list {
    episode_t *v;
    size_t n, cap;
} episode_list_t;

struct corr_engine {
    store_t *st;
    sqlite3 *db;
    const corr_rules_t *rules;
    const am_log_t *log;
    corr_options_t opts;
    sqlite3_stmt *s[NSTMT];
    int64_t pruned_before; /* corr_prune()'s horizon, or AM_TIME_NONE */
    bool horizon_read;     /* pruned_before read in this batch (a prune may run between) */
    /* the working set of one batch */
    am_strset_t dirty_keys; /* "rule\x1fgkey" -> index into dirty */
    dirty_t *dirty;
    size_t ndirty, capdirty;
    am_event_list_t pending; /* acks, notes, deploys to link */
    am_strset_t paged;       /* alert identities with a page (common/event.h) this batch */
    int pd_present;          /* PagerDuty acks or notes stored: 1, 0, -1 not read this flush */
    am_strset_t relink;      /* incident ids whose links to recompute */
    am_strset_t full;        /* ... of those, the ones to rebuild from scratch */
    struct alert_link {
        char *event, *gkey, *identity;
        size_t rule;
        int64_t starts;
    } * alinks; /* alert events to link to their episode's incident */
    size_t nalinks, capalinks;
    am_strset_t before_ids; /* incidents touched, with their old signature */
    bool people_added;      /* a correction or action was added since the last flush */
    char **before_sig;
    am_strset_t changed;
    bool warned_cap;
    /* staleness: the topic of the record being added (NULL: none), the
     * latest record time seen per topic in this batch ("" for none), and
     * each topic's clock as stored (corr_meta "watermark:<topic>"), read
     * once per flush */
    char *cur_topic;
    am_strset_t seen_topics;
    int64_t *seen_ts;
    am_strset_t clock_topics;
    int64_t *clock_ts;
    char *err;
    size_t errlen;
};

static int db_fail(corr_engine_t *e, const char *what)
{
    am_errf(e->err, e->errlen, "%s: correlator: %s: %s", store_path(e->st), what,
            sqlite3_errmsg(e->db));
    return -1;
}

static void reset(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

static int step_done(corr_engine_t *e, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    reset(s);
    return rc == SQLITE_DONE ? 0 : db_fail(e, what);
}

static void bind_time(sqlite3_stmt *s, int i, int64_t t)
{
    if (t == AM_TIME_NONE || t == T_MAX)
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_int64(s, i, t);
}

/* An incident changed in this flush: remembered for the caller and put in
 * the outbox, in the flush's transaction. */
static int mark_changed(corr_engine_t *e, const char *id)
{
    am_strset_add(&e->changed, id, NULL);
    sqlite3_bind_text(e->s[S_OUTBOX_ADD], 1, id, -1, SQLITE_STATIC);
    return step_done(e, e->s[S_OUTBOX_ADD], "queueing an incident change");
}

static int64_t col_time(sqlite3_stmt *s, int i, int64_t if_null)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? if_null : sqlite3_column_int64(s, i);
}

static char *col_text(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? am_xstrdup((const char *)t) : NULL;
}

static int64_t add_sat(int64_t a, int64_t b)
{
    if (b > 0 && a > T_MAX - b)
        return T_MAX;
    if (b < 0 && a < T_MIN - b)
        return T_MIN;
    return a + b;
}

/* ---- rules applied to one event ---- */

bool corr_rules_match_any(const corr_rules_t *rules, const am_event_t *ev)
{
    for (size_t i = 0; i < rules->n; i++)
        if (corr_rule_matches(&rules->v[i], ev))
            return true;
    return false;
}

static bool deploy_matches(const corr_rule_t *r, const am_event_t *ev)
{
    if (ev->kind != AM_KIND_DEPLOY)
        return false;
    for (size_t i = 0; i < r->ndeploy_match; i++)
        if (!corr_matcher_match(r->deploy_match[i], ev))
            return false;
    return true;
}

/* Users impacted according to the rule, or -1. */
static int64_t users_of(const corr_rule_t *r, const am_event_t *ev)
{
    const char *v = NULL;
    if (r->users_from == CORR_USERS_ANNOTATION)
        v = am_labels_get(&ev->annotations, r->users_name);
    else if (r->users_from == CORR_USERS_LABEL)
        v = am_labels_get(&ev->labels, r->users_name);
    if (!v || !*v)
        return -1;
    char *end;
    long long n = strtoll(v, &end, 10);
    return *end == '\0' && n >= 0 ? (int64_t)n : -1;
}

/* ---- the working set ---- */

static void mark_dirty(corr_engine_t *e, size_t rule, const char *gkey, int64_t lo, int64_t hi)
{
    am_buf_t k = {0};
    am_buf_printf(&k, "%zu\x1f%s", rule, gkey);
    bool added;
    size_t i = am_strset_add(&e->dirty_keys, k.p, &added);
    am_buf_free(&k);
    if (added) {
        if (e->ndirty == e->capdirty) {
            e->capdirty = e->capdirty ? e->capdirty * 2 : 64;
            e->dirty = am_xrealloc(e->dirty, e->capdirty * sizeof *e->dirty);
        }
        e->dirty[e->ndirty++] =
            (dirty_t){.rule = rule, .gkey = am_xstrdup(gkey), .lo = lo, .hi = hi};
        return;
    }
    dirty_t *d = &e->dirty[i];
    if (lo < d->lo)
        d->lo = lo;
    if (hi > d->hi)
        d->hi = hi;
}

static void clear_working_set(corr_engine_t *e)
{
    for (size_t i = 0; i < e->ndirty; i++)
        free(e->dirty[i].gkey);
    e->ndirty = 0;
    am_strset_clear(&e->dirty_keys);
    am_event_list_clear(&e->pending);
    am_strset_clear(&e->paged);
    e->pd_present = -1;
    am_strset_clear(&e->relink);
    am_strset_clear(&e->full);
    for (size_t i = 0; i < e->nalinks; i++) {
        free(e->alinks[i].event);
        free(e->alinks[i].gkey);
        free(e->alinks[i].identity);
    }
    e->nalinks = 0;
}

/* Remembers an incident's signature before this flush first changes it. */
static int remember(corr_engine_t *e, const char *id)
{
    bool added;
    size_t i = am_strset_add(&e->before_ids, id, &added);
    if (!added)
        return 0;
    e->before_sig = am_xrealloc(e->before_sig, e->before_ids.n * sizeof *e->before_sig);
    sqlite3_stmt *s = e->s[S_SIGNATURE];
    sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    e->before_sig[i] = rc == SQLITE_ROW ? col_text(s, 0) : NULL;
    reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(e, "reading an incident");
}

static int get_meta(corr_engine_t *e, const char *key, char **value);

/* Reads the prune horizon (once per batch: `prune` may have moved it). */
static int read_horizon(corr_engine_t *e)
{
    char *pruned = NULL;
    if (get_meta(e, "pruned_before", &pruned) != 0)
        return -1;
    e->pruned_before = pruned ? strtoll(pruned, NULL, 10) : AM_TIME_NONE;
    e->horizon_read = true;
    free(pruned);
    return 0;
}

/* The latest time an event carries, or AM_TIME_NONE; T_MAX for an alert
 * still firing (it lasts until now). */
static int64_t latest_time(const am_event_t *ev)
{
    if (ev->kind == AM_KIND_ALERT && ev->ends_at == AM_TIME_NONE &&
        !(ev->status && strcmp(ev->status, "resolved") == 0))
        return T_MAX;
    int64_t t = ev->starts_at;
    if (ev->ends_at != AM_TIME_NONE && (t == AM_TIME_NONE || ev->ends_at > t))
        t = ev->ends_at;
    if (ev->observed_at != AM_TIME_NONE && (t == AM_TIME_NONE || ev->observed_at > t))
        t = ev->observed_at;
    return t;
}

static int64_t stale_after_of(const corr_engine_t *e, const char *topic);
static int64_t truncated_of(const am_event_t *ev);
static int touch(corr_engine_t *e, size_t rule, const char *gkey, int64_t lo, int64_t hi,
                 int64_t seen, int64_t stale_at, const char *topic);
static int group_truncated(corr_engine_t *e, size_t rule, const char *gkey, int64_t starts);
static int topic_clock(corr_engine_t *e, const char *topic, int64_t *clock);

struct add_ctx {
    corr_engine_t *e;
    const am_event_t *ev;
};

/* One (rule, key) pair of an alert: its episode, unless another
 * correlator owns the pair (staged topology). */
static int add_episode(void *arg, size_t rule, const char *name, const char *gkey)
{
    (void)name;
    corr_engine_t *e = ((struct add_ctx *)arg)->e;
    const am_event_t *ev = ((struct add_ctx *)arg)->ev;
    const corr_rule_t *r = &e->rules->v[rule];
    if (e->opts.nparts > 0 && corr_route_partition(r->name, gkey, e->opts.nparts) != e->opts.part)
        return 0;
    int64_t ends = AM_TIME_NONE, tent = AM_TIME_NONE;
    if (ev->status && strcmp(ev->status, "resolved") == 0 &&
        am_labels_get(&ev->annotations, AM_ENDS_UNCONFIRMED) && ev->ends_at != AM_TIME_NONE) {
        /* An end that a second record has not repeated is no resolve yet:
         * the greatest such end is the inferred one (ingest/amapi.c). */
        sqlite3_stmt *q = e->s[S_CONFIRMED];
        sqlite3_bind_text(q, 1, ev->id, -1, SQLITE_STATIC);
        int qrc = sqlite3_step(q);
        reset(q);
        if (qrc != SQLITE_ROW && qrc != SQLITE_DONE)
            return db_fail(e, "reading an end's confirmation");
        if (qrc == SQLITE_DONE)
            tent = ev->ends_at > ev->starts_at ? ev->ends_at : ev->starts_at;
    }
    if (tent == AM_TIME_NONE && ev->status && strcmp(ev->status, "resolved") == 0) {
        /* A resolve without an end time ended when it was seen. */
        ends = ev->ends_at != AM_TIME_NONE       ? ev->ends_at
               : ev->observed_at != AM_TIME_NONE ? ev->observed_at
                                                 : ev->starts_at;
        if (ends < ev->starts_at)
            ends = ev->starts_at;
        /* One whose end was refused as implausible (ingest/decode.c) and
         * that was never seen has no end to tell: its episode stays open
         * rather than lasting no time at all. */
        if (ev->ends_at == AM_TIME_NONE && ev->observed_at == AM_TIME_NONE &&
            am_labels_get(&ev->annotations, AM_ANNOTATION_TIME_REFUSED))
            ends = AM_TIME_NONE;
    }
    char *labels_owned;
    const char *labels = am_event_labels_json(ev, false, &labels_owned);
    int64_t users = users_of(r, ev);
    /* Lifecycle: the delivery's deadline on its topic's clock, and how
     * many alerts its notification left out. */
    int64_t after = stale_after_of(e, e->cur_topic);
    int64_t stale_at = ev->observed_at != AM_TIME_NONE && after > 0
                           ? add_sat(ev->observed_at, after)
                           : AM_TIME_NONE;
    int64_t truncated = truncated_of(ev);
    /* An episode of an incident that this event changes without changing
     * the incident's row (a later end, an earlier observation, more users
     * than another episode has) still changes what readers see of it: the
     * incident is published again. */
    char *holder = NULL;
    sqlite3_stmt *s = e->s[S_EPISODE_NOW];
    sqlite3_bind_text(s, 1, r->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, gkey, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, ev->identity, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, ev->starts_at);
    int now = sqlite3_step(s);
    /* Quiet: a delivery that changes nothing an incident is made of (a
     * re-notification of a firing alert that is not stale: only its
     * latest delivery moves). Its episode is not regrouped. */
    bool quiet = false;
    char *quiet_incident = NULL;
    if (now == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        int64_t old_end = col_time(s, 1, AM_TIME_NONE), old_seen = col_time(s, 2, AM_TIME_NONE);
        int64_t old_users =
            sqlite3_column_type(s, 3) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 3);
        bool later_end = ends != AM_TIME_NONE && (old_end == AM_TIME_NONE || ends > old_end);
        bool earlier_seen = ev->observed_at != AM_TIME_NONE &&
                            (old_seen == AM_TIME_NONE || ev->observed_at < old_seen);
        if (later_end || earlier_seen || users > old_users)
            holder = col_text(s, 0);
        int64_t old_stale = col_time(s, 4, AM_TIME_NONE), old_tent = col_time(s, 7, AM_TIME_NONE);
        int64_t clock = AM_TIME_NONE;
        char *old_topic = col_text(s, 5);
        int crc = old_stale != AM_TIME_NONE ? topic_clock(e, old_topic, &clock) : 0;
        free(old_topic);
        if (crc != 0) {
            reset(s);
            free(labels_owned);
            free(holder);
            return -1;
        }
        bool stale_now = old_stale != AM_TIME_NONE && clock != AM_TIME_NONE && old_stale <= clock;
        quiet = !later_end && !earlier_seen && users <= old_users && !stale_now &&
                truncated <= col_time(s, 6, 0) &&
                (tent == AM_TIME_NONE || (old_tent != AM_TIME_NONE && tent <= old_tent));
        if (quiet)
            quiet_incident = col_text(s, 0);
    }
    reset(s);
    if (now != SQLITE_ROW && now != SQLITE_DONE) {
        free(labels_owned);
        return db_fail(e, "reading an alert episode");
    }
    s = e->s[S_UPSERT_EPISODE];
    sqlite3_bind_text(s, 1, r->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, gkey, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, ev->identity, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, ev->starts_at);
    bind_time(s, 5, ends);
    bind_time(s, 6, ev->observed_at);
    sqlite3_bind_text(s, 7, ev->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 8, ev->service, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 9, labels, -1, SQLITE_STATIC);
    if (users >= 0)
        sqlite3_bind_int64(s, 10, users);
    bind_time(s, 11, stale_at);
    if (e->cur_topic)
        sqlite3_bind_text(s, 12, e->cur_topic, -1, SQLITE_STATIC);
    if (truncated > 0)
        sqlite3_bind_int64(s, 13, truncated);
    bind_time(s, 14, tent);
    int rc = step_done(e, s, "storing an alert episode");
    free(labels_owned);
    if (rc == 0 && holder)
        rc = mark_changed(e, holder);
    free(holder);
    /* A truncated notification says its group's open episodes still fire;
     * one listed later learns of the latest such notification after its
     * start. Both directions, so that order cannot matter. */
    if (rc == 0 && truncated > 0 && ev->observed_at != AM_TIME_NONE)
        rc = touch(e, rule, gkey, T_MIN, ev->observed_at, ev->observed_at, stale_at, e->cur_topic);
    if (rc == 0 && ends == AM_TIME_NONE && now == SQLITE_DONE)
        rc = group_truncated(e, rule, gkey, ev->starts_at); /* a new episode */
    /* Quiet: only the event's link may be new, which the incident's
     * signature (taken here) shows at the flush. */
    if (rc == 0 && quiet)
        rc = remember(e, quiet_incident);
    free(quiet_incident);
    if (rc != 0)
        return -1;
    if (!quiet)
        mark_dirty(e, rule, gkey, ev->starts_at,
                   ends != AM_TIME_NONE   ? ends
                   : tent != AM_TIME_NONE ? tent
                                          : T_MAX);
    if (e->nalinks == e->capalinks) {
        e->capalinks = e->capalinks ? e->capalinks * 2 : 64;
        e->alinks = am_xrealloc(e->alinks, e->capalinks * sizeof *e->alinks);
    }
    e->alinks[e->nalinks++] = (struct alert_link){.event = am_xstrdup(ev->id),
                                                  .gkey = am_xstrdup(gkey),
                                                  .identity = am_xstrdup(ev->identity),
                                                  .rule = rule,
                                                  .starts = ev->starts_at};
    return 0;
}

int corr_engine_add(corr_engine_t *e, const am_event_t *ev, char *err, size_t errlen)
{
    e->err = err;
    e->errlen = errlen;
    if (!e->horizon_read && read_horizon(e) != 0)
        return -1;
    if (ev->kind == AM_KIND_CORRECTION || ev->kind == AM_KIND_ACTION) {
        e->people_added = true; /* the people's record: corr_people_refresh at the flush,
                                   whenever it was made */
        return 0;
    }
    int64_t latest = latest_time(ev);
    if (e->pruned_before != AM_TIME_NONE && latest != AM_TIME_NONE && latest < e->pruned_before)
        return 0; /* before the prune horizon: stored, but that history is frozen */
    if (ev->kind != AM_KIND_ALERT) {
        am_event_copy(am_event_list_push(&e->pending), ev);
    } else {
        if (ev->page && ev->identity)
            am_strset_add(&e->paged, ev->identity, NULL);
        struct add_ctx c = {e, ev};
        if (corr_route_alert(e->rules, ev, add_episode, &c) != 0)
            return -1;
    }
    if (e->ndirty + e->pending.n > e->opts.max_open_groups) {
        if (!e->warned_cap) {
            char cap[32];
            snprintf(cap, sizeof cap, "%zu", e->opts.max_open_groups);
            am_log(e->log, AM_LOG_WARN, "open group cap reached: processing the working set early",
                   "cap", cap, NULL);
            e->warned_cap = true;
        }
        return corr_engine_flush(e, err, errlen);
    }
    return 0;
}

/* ---- the episode lifecycle (DESIGN.md, "Real sources") ----
 *
 * Webhooks do not say every end: an episode that resolves and fires again
 * within one group_interval is only followed by a new firing, and one
 * resolved while silenced is never sent resolved. So an episode with no
 * resolve ends, marked inferred, at the start of the next episode of its
 * alert, or at its latest delivery once its topic's clock (the latest
 * record time seen on that topic, never the wall clock) has run
 * stale_after past it; and one whose only end is an unconfirmed endsAt
 * (an API v2 body without a record time) ends at the greatest of them. A
 * resolve always wins. Each is a function of the
 * stored episodes and the clocks, which only move forward, so replay and
 * run agree. */

#define STALE_AFTER_DEFAULT (int64_t)(4.5 * 3600 * 1000)

/* The staleness of deliveries on topic (NULL: none): ms, or 0 for never. */
static int64_t stale_after_of(const corr_engine_t *e, const char *topic)
{
    for (size_t i = 0; topic && i < e->opts.nstale_topics; i++)
        if (strcmp(e->opts.stale_topics[i].topic, topic) == 0)
            return e->opts.stale_topics[i].stale_after > 0 ? e->opts.stale_topics[i].stale_after
                                                           : 0;
    return e->opts.stale_after > 0 ? e->opts.stale_after : 0;
}

/* truncatedAlerts of the notification that delivered ev (the decoders'
 * annotation truncated_alerts), or 0. */
static int64_t truncated_of(const am_event_t *ev)
{
    const char *v = am_labels_get(&ev->annotations, "truncated_alerts");
    if (!v || !*v)
        return 0;
    char *end;
    long long n = strtoll(v, &end, 10);
    return *end == '\0' && n > 0 ? (int64_t)n : 0;
}

/* Refreshes the open episodes of (rule, gkey) that started in [lo, hi]:
 * delivered at seen, deadline stale_at on topic. */
static int touch(corr_engine_t *e, size_t rule, const char *gkey, int64_t lo, int64_t hi,
                 int64_t seen, int64_t stale_at, const char *topic)
{
    sqlite3_stmt *s = e->s[S_TOUCH];
    sqlite3_bind_text(s, 1, e->rules->v[rule].name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, gkey, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, hi);
    sqlite3_bind_int64(s, 4, seen);
    bind_time(s, 5, stale_at);
    if (topic)
        sqlite3_bind_text(s, 6, topic, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, lo);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t starts = sqlite3_column_int64(s, 0);
        mark_dirty(e, rule, gkey, starts, starts);
    }
    reset(s);
    return rc == SQLITE_DONE ? 0 : db_fail(e, "refreshing a group's episodes");
}

/* An open episode that started at starts takes the latest truncated
 * notification of its group since then. */
static int group_truncated(corr_engine_t *e, size_t rule, const char *gkey, int64_t starts)
{
    sqlite3_stmt *s = e->s[S_GROUP_TRUNCATED];
    sqlite3_bind_text(s, 1, e->rules->v[rule].name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, gkey, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, starts);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        reset(s);
        return rc == SQLITE_DONE ? 0 : db_fail(e, "reading truncated notifications");
    }
    int64_t seen = sqlite3_column_int64(s, 0);
    int64_t stale_at = col_time(s, 1, AM_TIME_NONE);
    char *topic = col_text(s, 2);
    reset(s);
    rc = touch(e, rule, gkey, starts, starts, seen, stale_at, topic);
    free(topic);
    return rc;
}

/* The clock of topic (NULL: records without one): the latest record time
 * stored for it, or AM_TIME_NONE. Cached for the flush. */
static int topic_clock(corr_engine_t *e, const char *topic, int64_t *clock)
{
    const char *name = topic ? topic : "";
    size_t i = am_strset_find(&e->clock_topics, name);
    if (i != (size_t)-1) {
        *clock = e->clock_ts[i];
        return 0;
    }
    am_buf_t k = {0};
    am_buf_printf(&k, "watermark:%s", name);
    char *v = NULL;
    int rc = get_meta(e, k.p, &v);
    am_buf_free(&k);
    if (rc != 0)
        return -1;
    *clock = v ? strtoll(v, NULL, 10) : AM_TIME_NONE;
    free(v);
    i = am_strset_add(&e->clock_topics, name, NULL);
    e->clock_ts = am_xrealloc(e->clock_ts, e->clock_topics.n * sizeof *e->clock_ts);
    e->clock_ts[i] = *clock;
    return 0;
}

static int set_meta(corr_engine_t *e, const char *key, const char *value);

/* Moves each topic's clock to the latest record time of the batch, and
 * marks dirty the open episodes whose deadline it passed. */
static int advance_clocks(corr_engine_t *e)
{
    for (size_t t = 0; t < e->seen_topics.n; t++) {
        const char *name = e->seen_topics.v[t];
        int64_t was, now = e->seen_ts[t];
        if (topic_clock(e, name, &was) != 0)
            return -1;
        if (was != AM_TIME_NONE && now <= was)
            continue;
        sqlite3_stmt *s = e->s[S_STALE_SWEEP];
        if (*name)
            sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, was == AM_TIME_NONE ? T_MIN : was);
        sqlite3_bind_int64(s, 3, now);
        int rc;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            const char *rule = (const char *)sqlite3_column_text(s, 0);
            for (size_t i = 0; i < e->rules->n; i++)
                if (strcmp(e->rules->v[i].name, rule) == 0) {
                    int64_t starts = sqlite3_column_int64(s, 2);
                    mark_dirty(e, i, (const char *)sqlite3_column_text(s, 1), starts, starts);
                    break;
                }
        }
        reset(s);
        if (rc != SQLITE_DONE)
            return db_fail(e, "finding stale episodes");
        char v[32];
        snprintf(v, sizeof v, "%" PRId64, now);
        am_buf_t key = {0};
        am_buf_printf(&key, "watermark:%s", name);
        int mrc = set_meta(e, key.p, v);
        am_buf_free(&key);
        if (mrc != 0)
            return -1;
        e->clock_ts[am_strset_find(&e->clock_topics, name)] = now;
    }
    return 0;
}

int corr_engine_record(corr_engine_t *e, const char *topic, int64_t ts)
{
    free(e->cur_topic);
    e->cur_topic = topic ? am_xstrdup(topic) : NULL;
    if (ts == AM_TIME_NONE)
        return 0;
    bool added;
    size_t i = am_strset_add(&e->seen_topics, topic ? topic : "", &added);
    if (added)
        e->seen_ts = am_xrealloc(e->seen_ts, e->seen_topics.n * sizeof *e->seen_ts);
    if (added || ts > e->seen_ts[i])
        e->seen_ts[i] = ts;
    return 0;
}

static int cmp_identity_start(const void *a, const void *b)
{
    const episode_t *x = *(episode_t *const *)a, *y = *(episode_t *const *)b;
    int c = strcmp(x->identity, y->identity);
    return c ? c : (x->starts > y->starts) - (x->starts < y->starts);
}

/* Inferred ends of the loaded episodes: a stale one ends at its latest
 * delivery, and one with no resolve ends no later than the start of its
 * alert's next episode. */
static int episode_ends(corr_engine_t *e, episode_list_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        episode_t *ep = &l->v[i];
        if (ep->ends != T_MAX || ep->stale_at == AM_TIME_NONE || ep->last_seen == AM_TIME_NONE)
            continue;
        int64_t clock;
        if (topic_clock(e, ep->topic, &clock) != 0)
            return -1;
        if (clock != AM_TIME_NONE && ep->stale_at <= clock) {
            ep->ends = ep->last_seen > ep->starts ? ep->last_seen : ep->starts;
            ep->inferred = true;
        }
    }
    episode_t **by = am_xcalloc(l->n ? l->n : 1, sizeof *by);
    for (size_t i = 0; i < l->n; i++)
        by[i] = &l->v[i];
    qsort(by, l->n, sizeof *by, cmp_identity_start);
    for (size_t i = 0; i + 1 < l->n; i++) {
        episode_t *ep = by[i], *next = by[i + 1];
        if ((ep->ends != T_MAX && !ep->inferred) || strcmp(ep->identity, next->identity) != 0 ||
            next->starts <= ep->starts || next->starts >= ep->ends)
            continue;
        ep->ends = next->starts;
        ep->inferred = true;
    }
    free(by);
    return 0;
}

/* ---- regrouping one key ---- */

static void episodes_free(episode_list_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].identity);
        free(l->v[i].name);
        free(l->v[i].service);
        free(l->v[i].incident);
        free(l->v[i].topic);
        am_labels_free(&l->v[i].labels);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Keeps of an episode's stored labels (compact JSON) only those the rule's
 * `same` names, the only ones read from an episode (episode_value). Text
 * with no backslash - what json_dumps writes for ordinary labels - is
 * scanned in place; anything else is parsed with jansson. A flush reloads
 * every episode of the incidents it touches, so this runs once per episode
 * per flush: the full parse was a fifth of a large replay. */
static void pick_labels(const corr_rule_t *r, const char *text, am_labels_t *out)
{
    if (!text || r->nsame == 0)
        return;
    const char *p = text;
    if (!strchr(text, '\\') && *p++ == '{') {
        am_labels_t got = {0};
        while (*p == '"') {
            const char *k = p + 1, *ke = strchr(k, '"');
            if (!ke || ke[1] != ':' || ke[2] != '"')
                break;
            const char *v = ke + 3, *ve = strchr(v, '"');
            if (!ve || (ve[1] != ',' && ve[1] != '}'))
                break;
            for (size_t i = 0; i < r->nsame; i++)
                if (strlen(r->same[i]) == (size_t)(ke - k) && memcmp(r->same[i], k, ke - k) == 0) {
                    char *name = am_xstrndup(k, (size_t)(ke - k));
                    char *value = am_xstrndup(v, (size_t)(ve - v));
                    am_labels_set(&got, name, value);
                    free(name);
                    free(value);
                }
            p = ve + 1;
            if (*p == '}' && p[1] == '\0') {
                *out = got;
                return;
            }
            p++;
        }
        am_labels_free(&got);
    }
    json_t *lj = json_loads(text, 0, NULL);
    if (lj)
        am_labels_from_json(out, lj, NULL, 0);
    json_decref(lj);
}

static int load_episodes(corr_engine_t *e, const corr_rule_t *r, sqlite3_stmt *s,
                         episode_list_t *out)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 16;
            out->v = am_xrealloc(out->v, out->cap * sizeof *out->v);
        }
        episode_t *ep = &out->v[out->n++];
        memset(ep, 0, sizeof *ep);
        ep->seq = sqlite3_column_int64(s, 0);
        ep->identity = col_text(s, 1);
        ep->starts = sqlite3_column_int64(s, 2);
        ep->ends = col_time(s, 3, T_MAX);
        ep->observed = col_time(s, 4, AM_TIME_NONE);
        ep->name = col_text(s, 5);
        ep->service = col_text(s, 6);
        pick_labels(r, (const char *)sqlite3_column_text(s, 7), &ep->labels);
        ep->users = col_time(s, 8, -1);
        ep->incident = col_text(s, 9);
        ep->last_seen = col_time(s, 10, AM_TIME_NONE);
        ep->stale_at = col_time(s, 11, AM_TIME_NONE);
        ep->topic = col_text(s, 12);
        ep->truncated = col_time(s, 13, 0);
        /* an unconfirmed end (API v2 body without a record time) */
        int64_t tent = col_time(s, 14, AM_TIME_NONE);
        ep->stored_inferred = col_time(s, 15, AM_TIME_NONE);
        if (ep->ends == T_MAX && tent != AM_TIME_NONE) {
            ep->ends = tent > ep->starts ? tent : ep->starts;
            ep->inferred = true;
        }
    }
    reset(s);
    if (rc != SQLITE_DONE)
        return db_fail(e, "loading episodes");
    return episode_ends(e, out);
}

static const char *episode_value(const episode_t *ep, const char *name)
{
    if (strcmp(name, "service") == 0 && ep->service)
        return ep->service;
    const char *v = am_labels_get(&ep->labels, name);
    return v ? v : "";
}

/* Episode-derived facts of one incident. */
typedef struct derived {
    int64_t started, detected, mitigated, resolved, users;
    int64_t truncated; /* the most alerts a notification of it left out, or 0 */
    bool end_inferred; /* mitigated is an inferred end (episode_ends) */
    size_t alerts;
    char *services, *flapping;
    char *same_values; /* JSON array: distinct values of deploys.same over the alerts */
} derived_t;

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void derive(const corr_rule_t *r, episode_t *const *eps, size_t n, derived_t *d)
{
    d->started = T_MAX;
    d->detected = AM_TIME_NONE;
    d->mitigated = T_MIN;
    d->users = -1;
    am_strset_t ids = {0}, services = {0};
    json_t *flap = json_object();
    size_t *cycles = am_xcalloc(n, sizeof *cycles);
    const char **names = am_xcalloc(n, sizeof *names);
    for (size_t i = 0; i < n; i++) {
        const episode_t *ep = eps[i];
        if (ep->starts < d->started)
            d->started = ep->starts;
        if (ep->observed != AM_TIME_NONE &&
            (d->detected == AM_TIME_NONE || ep->observed < d->detected))
            d->detected = ep->observed;
        if (ep->ends > d->mitigated || (ep->ends == d->mitigated && !ep->inferred)) {
            d->end_inferred = ep->inferred;
            d->mitigated = ep->ends;
        }
        if (ep->truncated > d->truncated)
            d->truncated = ep->truncated;
        if (ep->users > d->users)
            d->users = ep->users;
        size_t k = am_strset_add(&ids, ep->identity, NULL);
        cycles[k]++;
        names[k] = ep->name;
        if (ep->service && *ep->service)
            am_strset_add(&services, ep->service, NULL);
    }
    d->alerts = ids.n;
    /* Cycles per identity; an alert name shows its most flapping identity. */
    for (size_t k = 0; k < ids.n; k++) {
        const char *name = names[k] ? names[k] : "";
        json_t *cur = json_object_get(flap, name);
        if (cycles[k] > 1 && (!cur || json_integer_value(cur) < (json_int_t)cycles[k]))
            json_object_set_new(flap, name, json_integer((json_int_t)cycles[k]));
    }
    free(cycles);
    free(names);
    am_strset_t tuples = {0};
    for (size_t i = 0; i < n; i++) {
        am_buf_t t = {0};
        for (size_t k = 0; k < r->nsame; k++) {
            if (k)
                am_buf_putc(&t, '\x1f');
            am_buf_puts(&t, episode_value(eps[i], r->same[k]));
        }
        am_strset_add(&tuples, t.p ? t.p : "", NULL);
        am_buf_free(&t);
    }
    if (tuples.n > 1)
        qsort(tuples.v, tuples.n, sizeof *tuples.v, cmp_cstr);
    json_t *tv = json_array();
    for (size_t i = 0; i < tuples.n; i++)
        json_array_append_new(tv, json_string(tuples.v[i]));
    d->same_values = json_dumps(tv, JSON_COMPACT);
    json_decref(tv);
    am_strset_free(&tuples);
    if (d->mitigated == T_MAX) {
        d->mitigated = AM_TIME_NONE;
        d->resolved = AM_TIME_NONE;
        d->end_inferred = false;
    } else {
        d->resolved = add_sat(d->mitigated, r->quiet);
    }
    if (services.n > 1)
        qsort(services.v, services.n, sizeof *services.v, cmp_cstr);
    json_t *sv = json_array();
    for (size_t i = 0; i < services.n; i++)
        json_array_append_new(sv, json_string(services.v[i]));
    d->services = json_dumps(sv, JSON_COMPACT);
    d->flapping = json_dumps(flap, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(sv);
    json_decref(flap);
    am_strset_free(&ids);
    /* the strings were sorted in place; free them through the set */
    am_strset_free(&services);
}

/* An incident's id, from what it is rather than from when it was made, so
 * that every correlator (and every rebuild) names it alike: the UTC day of
 * its earliest alert start and 10 Crockford base32 digits of a 50-bit
 * hash of rule, key and that start. *num receives the 50-bit value. */
static void incident_id(const corr_rule_t *r, const char *gkey, int64_t started, char *out,
                        size_t n, int64_t *num)
{
    static const char digits[] = "0123456789abcdefghjkmnpqrstvwxyz";
    char day[AM_TIME_STRLEN], ms[32];
    am_time_format(started, day);
    snprintf(ms, sizeof ms, "%" PRId64, started);
    am_buf_t k = {0};
    am_buf_printf(&k, "%s\x1f%s\x1f%s", r->name, gkey, ms);
    uint64_t h = corr_route_hash(k.p, k.len) >> 14;
    am_buf_free(&k);
    *num = (int64_t)h;
    char code[11];
    for (int i = 9; i >= 0; i--, h >>= 5)
        code[i] = digits[h & 31];
    code[10] = '\0';
    snprintf(out, n, "INC-%.4s%.2s%.2s-%s", day, day + 5, day + 8, code);
}

static int write_incident(corr_engine_t *e, const corr_rule_t *r, const char *gkey, const char *id,
                          int64_t num, const derived_t *d)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    sqlite3_stmt *s = e->s[S_UPSERT_INCIDENT];
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, num);
    sqlite3_bind_text(s, 3, r->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, gkey, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, d->mitigated == AM_TIME_NONE ? "open" : "resolved", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, d->started);
    bind_time(s, 7, d->detected);
    bind_time(s, 8, d->mitigated);
    bind_time(s, 9, d->resolved);
    sqlite3_bind_int64(s, 10, (int64_t)d->alerts);
    if (d->users >= 0)
        sqlite3_bind_int64(s, 11, d->users);
    sqlite3_bind_text(s, 12, d->services, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 13, d->flapping, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 14, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
    sqlite3_bind_text(s, 15, d->same_values, -1, SQLITE_STATIC);
    if (d->end_inferred)
        sqlite3_bind_int(s, 16, 1);
    if (d->truncated > 0)
        sqlite3_bind_int64(s, 17, d->truncated);
    if (step_done(e, s, "writing an incident") != 0)
        return -1;
    if (sqlite3_changes(e->db) == 0) {
        /* Two incidents of one day hashed alike (50 bits: 1 in 10^15 per pair). */
        am_errf(e->err, e->errlen, "incident id collision: %s names another incident than %s %s",
                id, r->name, gkey);
        return -1;
    }
    /* An id that was renamed away and comes back stops being an alias; the
     * incident that listed it changed (its aliases are part of it). */
    s = e->s[S_UNALIAS];
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    char *holder = NULL;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        holder = col_text(s, 0);
        rc = sqlite3_step(s);
    }
    reset(s);
    if (rc != SQLITE_DONE) {
        free(holder);
        return db_fail(e, "writing an incident");
    }
    rc = holder ? mark_changed(e, holder) : 0;
    free(holder);
    return rc;
}

static int collect_ids(corr_engine_t *e, sqlite3_stmt *s, am_strset_t *out)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        am_strset_add(out, (const char *)sqlite3_column_text(s, 0), NULL);
    reset(s);
    return rc == SQLITE_DONE ? 0 : db_fail(e, "finding incidents");
}

/* 1 when PagerDuty acks or notes are stored (read once a flush), 0 when
 * none: then no page's work is needed. -1 on error. */
static int pagerduty_present(corr_engine_t *e)
{
    if (e->pd_present < 0) {
        sqlite3_stmt *s = e->s[S_PD_PRESENT];
        int rc = sqlite3_step(s);
        reset(s);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return db_fail(e, "finding PagerDuty events");
        e->pd_present = rc == SQLITE_ROW;
    }
    return e->pd_present;
}

/* An alert identity joined an incident, or an incident holding it changed
 * its span. When stored acks name that alert, every incident holding it
 * is rebuilt, since the ack may move between them (acks that arrive later
 * are handled as pending events). */
static int new_identity(corr_engine_t *e, const corr_rule_t *r, const char *identity)
{
    sqlite3_stmt *s = e->s[S_ACK_EXISTS];
    sqlite3_bind_text(s, 1, identity, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(e, "finding acks");
    bool acked = rc == SQLITE_ROW;
    /* PagerDuty events of a page of it: they go to one incident of all
     * the alerts of that page, which may move. */
    int present = pagerduty_present(e);
    if (present < 0)
        return -1;
    bool paged = false;
    if (present) {
        s = e->s[S_PAGE_EVENTS];
        sqlite3_bind_text(s, 1, identity, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        reset(s);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return db_fail(e, "finding PagerDuty events");
        paged = rc == SQLITE_ROW;
    }
    if (!acked && !paged)
        return 0;
    am_strset_t holders = {0};
    s = e->s[acked ? S_IDENTITY_INCIDENTS : S_PAGE_PEERS];
    sqlite3_bind_text(s, 1, r->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, identity, -1, SQLITE_STATIC);
    rc = collect_ids(e, s, &holders);
    if (rc == 0 && acked && paged) {
        s = e->s[S_PAGE_PEERS];
        sqlite3_bind_text(s, 1, r->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, identity, -1, SQLITE_STATIC);
        rc = collect_ids(e, s, &holders);
    }
    for (size_t i = 0; i < holders.n; i++) {
        am_strset_add(&e->relink, holders.v[i], NULL);
        am_strset_add(&e->full, holders.v[i], NULL);
    }
    am_strset_free(&holders);
    return rc;
}

static int regroup(corr_engine_t *e, const dirty_t *dk)
{
    const corr_rule_t *r = &e->rules->v[dk->rule];
    am_strset_t old = {0}, taken = {0};
    episode_list_t eps = {0};
    episode_t **order = NULL;
    size_t *comp_start = NULL, ncomp = 0;
    int rc = -1;

    /* 1. the incidents that chain with what changed */
    sqlite3_stmt *s = e->s[S_CHAINED_INCIDENTS];
    sqlite3_bind_text(s, 1, r->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, dk->gkey, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, add_sat(dk->lo, -r->gap));
    sqlite3_bind_int64(s, 4, add_sat(dk->hi, r->gap));
    bind_time(s, 5, e->pruned_before); /* pruned incidents are frozen: nothing chains with them */
    if (collect_ids(e, s, &old) != 0)
        goto done;

    /* 2. their episodes and the unassigned (new) ones of this key */
    json_t *arr = json_array();
    for (size_t i = 0; i < old.n; i++)
        json_array_append_new(arr, json_string(old.v[i]));
    char *ids_json = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    s = e->s[S_KEY_EPISODES];
    sqlite3_bind_text(s, 1, r->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, dk->gkey, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, ids_json, -1, SQLITE_STATIC);
    int lrc = load_episodes(e, r, s, &eps);
    free(ids_json);
    if (lrc != 0)
        goto done;
    if (eps.n == 0) {
        rc = 0;
        goto done;
    }

    /* The inferred ends, kept in the store for readers of episodes
     * (ends_at keeps the resolves' own, which later resolves extend). */
    for (size_t i = 0; i < eps.n; i++) {
        int64_t want = eps.v[i].inferred ? eps.v[i].ends : AM_TIME_NONE;
        if (want == eps.v[i].stored_inferred)
            continue;
        s = e->s[S_SET_INFERRED_END];
        sqlite3_bind_int64(s, 1, eps.v[i].seq);
        bind_time(s, 2, want);
        if (step_done(e, s, "storing an inferred end") != 0)
            goto done;
    }

    /* 3. chain: sorted by start, an episode joins the current component
     * when it starts less than gap after the component's latest end. */
    order = am_xcalloc(eps.n, sizeof *order);
    comp_start = am_xcalloc(eps.n + 1, sizeof *comp_start);
    for (size_t i = 0; i < eps.n; i++)
        order[i] = &eps.v[i];
    int64_t end = T_MIN;
    for (size_t i = 0; i < eps.n; i++) {
        if (i == 0 || order[i]->starts - end >= r->gap) {
            comp_start[ncomp++] = i;
            end = order[i]->ends;
        } else if (order[i]->ends > end) {
            end = order[i]->ends;
        }
    }
    comp_start[ncomp] = eps.n;

    /* 4. ids: each component is named by its rule, key and earliest start
     * (incident_id); an old incident whose name no component takes (merged,
     * or renamed because an earlier alert arrived) becomes an alias of the
     * component that took most of its episodes. */
    char **comp_id = am_xcalloc(ncomp, sizeof *comp_id);
    int64_t *comp_num = am_xcalloc(ncomp, sizeof *comp_num);
    for (size_t c = 0; c < ncomp; c++) {
        char idbuf[64];
        incident_id(r, dk->gkey, order[comp_start[c]]->starts, idbuf, sizeof idbuf, &comp_num[c]);
        comp_id[c] = am_xstrdup(idbuf);
        am_strset_add(&taken, idbuf, NULL);
    }
    for (size_t c = 0; c < ncomp; c++) {
        derived_t d = {0};
        derive(r, order + comp_start[c], comp_start[c + 1] - comp_start[c], &d);
        int64_t num = comp_num[c];
        /* Structural: new, or made of several old incidents, or an old
         * incident split: its links are rebuilt, and so are its
         * neighbours' (an ack may move between them). */
        bool structural = true, span_changed = false;
        for (size_t i = comp_start[c]; i < comp_start[c + 1] && structural; i++)
            structural = !(order[i]->incident && strcmp(order[i]->incident, comp_id[c]) == 0);
        for (size_t i = comp_start[c]; i < comp_start[c + 1] && !structural; i++)
            structural = order[i]->incident && strcmp(order[i]->incident, comp_id[c]) != 0;
        for (size_t i = 0; i < eps.n && !structural; i++)
            structural = (i < comp_start[c] || i >= comp_start[c + 1]) && order[i]->incident &&
                         strcmp(order[i]->incident, comp_id[c]) == 0;
        if (!structural) {
            s = e->s[S_GET_INCIDENT];
            sqlite3_bind_text(s, 1, comp_id[c], -1, SQLITE_STATIC);
            if (sqlite3_step(s) == SQLITE_ROW)
                span_changed = sqlite3_column_int64(s, 2) != d.started ||
                               col_time(s, 3, AM_TIME_NONE) != d.resolved;
            reset(s);
        }
        int wrc = remember(e, comp_id[c]);
        if (wrc == 0)
            wrc = write_incident(e, r, dk->gkey, comp_id[c], num, &d);
        for (size_t i = comp_start[c]; wrc == 0 && i < comp_start[c + 1]; i++) {
            if (order[i]->incident && strcmp(order[i]->incident, comp_id[c]) == 0)
                continue;
            s = e->s[S_SET_EPISODE_INCIDENT];
            sqlite3_bind_int64(s, 1, order[i]->seq);
            sqlite3_bind_text(s, 2, comp_id[c], -1, SQLITE_STATIC);
            wrc = step_done(e, s, "assigning an episode");
            if (wrc == 0 && !structural && !span_changed)
                wrc = new_identity(e, r, order[i]->identity);
        }
        /* An ack naming an alert goes to the holder of that alert open at
         * its time: when this incident's span moved, every holder of its
         * alerts' acks is rebuilt. */
        if (wrc == 0 && (structural || span_changed)) {
            am_strset_t seen = {0};
            for (size_t i = comp_start[c]; wrc == 0 && i < comp_start[c + 1]; i++) {
                bool added;
                am_strset_add(&seen, order[i]->identity, &added);
                if (added)
                    wrc = new_identity(e, r, order[i]->identity);
            }
            am_strset_free(&seen);
        }
        am_strset_add(&e->relink, comp_id[c], NULL);
        if (structural)
            am_strset_add(&e->full, comp_id[c], NULL);
        /* Neighbours of the same key may gain or lose acks to this one. */
        if (wrc == 0 && (structural || span_changed)) {
            am_strset_t near = {0};
            s = e->s[S_NEIGHBOURS];
            sqlite3_bind_text(s, 1, r->name, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, dk->gkey, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 3, d.started);
            sqlite3_bind_int64(s, 4, d.resolved == AM_TIME_NONE ? T_MAX : d.resolved);
            wrc = collect_ids(e, s, &near);
            for (size_t k = 0; k < near.n; k++)
                if (strcmp(near.v[k], comp_id[c]) != 0) {
                    am_strset_add(&e->relink, near.v[k], NULL);
                    am_strset_add(&e->full, near.v[k], NULL);
                }
            am_strset_free(&near);
        }
        free(d.services);
        free(d.flapping);
        free(d.same_values);
        if (wrc != 0) {
            for (size_t k = 0; k < ncomp; k++)
                free(comp_id[k]);
            free(comp_id);
            free(comp_num);
            goto done;
        }
    }
    /* old incidents that no component kept: merged away */
    int arc = 0;
    for (size_t k = 0; arc == 0 && k < old.n; k++) {
        if (am_strset_find(&taken, old.v[k]) != (size_t)-1)
            continue;
        size_t best = 0, best_count = 0;
        for (size_t c = 0; c < ncomp; c++) {
            size_t count = 0;
            for (size_t i = comp_start[c]; i < comp_start[c + 1]; i++)
                count += order[i]->incident && strcmp(order[i]->incident, old.v[k]) == 0;
            if (count > best_count) {
                best = c;
                best_count = count;
            }
        }
        arc = remember(e, old.v[k]);
        sqlite3_stmt *st[4] = {e->s[S_DELETE_INCIDENT], e->s[S_DELETE_LINKS], e->s[S_MOVE_ALIASES],
                               e->s[S_ADD_ALIAS]};
        for (int j = 0; arc == 0 && j < 4; j++) {
            sqlite3_bind_text(st[j], 1, old.v[k], -1, SQLITE_STATIC);
            if (j >= 2)
                sqlite3_bind_text(st[j], 2, comp_id[best], -1, SQLITE_STATIC);
            arc = step_done(e, st[j], "merging incidents");
        }
        if (arc == 0)
            arc = mark_changed(e, old.v[k]);
        if (arc == 0) /* it gained aliases */
            arc = mark_changed(e, comp_id[best]);
    }
    for (size_t k = 0; k < ncomp; k++)
        free(comp_id[k]);
    free(comp_id);
    free(comp_num);
    rc = arc;
done:
    free(order);
    free(comp_start);
    episodes_free(&eps);
    am_strset_free(&old);
    am_strset_free(&taken);
    return rc;
}

/* ---- candidates for pending acks, notes and deploys ---- */

static bool is_pagerduty(const am_event_t *ev)
{
    return (ev->kind == AM_KIND_ACK || ev->kind == AM_KIND_NOTE) && ev->source &&
           strcmp(ev->source, "pagerduty") == 0;
}

static int find_candidates(corr_engine_t *e, const am_event_t *ev)
{
    int64_t t = ev->starts_at != AM_TIME_NONE ? ev->starts_at : ev->observed_at;
    if (t == AM_TIME_NONE)
        return 0;
    for (size_t i = 0; i < e->rules->n; i++) {
        const corr_rule_t *r = &e->rules->v[i];
        sqlite3_stmt *s;
        if (ev->kind == AM_KIND_DEPLOY) {
            if (!deploy_matches(r, ev))
                continue;
            s = e->s[S_OPEN_FOR_DEPLOY];
            sqlite3_bind_text(s, 1, r->name, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 2, t);
            sqlite3_bind_int64(s, 3, add_sat(t, r->before));
            sqlite3_bind_int64(s, 4, T_MIN);
            if (collect_ids(e, s, &e->relink) != 0)
                return -1;
            continue;
        }
        if (!r->group_all) {
            char *gkey = corr_group_key(r, ev, true);
            if (gkey) {
                s = e->s[S_OPEN_FOR_KEY];
                sqlite3_bind_text(s, 1, r->name, -1, SQLITE_STATIC);
                sqlite3_bind_text(s, 2, gkey, -1, SQLITE_STATIC);
                sqlite3_bind_int64(s, 3, t);
                int rc = collect_ids(e, s, &e->relink);
                free(gkey);
                if (rc != 0)
                    return -1;
            }
        }
        if (ev->kind == AM_KIND_ACK && ev->identity) {
            s = e->s[S_IDENTITY_INCIDENTS];
            sqlite3_bind_text(s, 1, r->name, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, ev->identity, -1, SQLITE_STATIC);
            if (collect_ids(e, s, &e->relink) != 0)
                return -1;
        }
        /* A PagerDuty event of a page: every incident holding the page's
         * alerts is rebuilt (which one it joins depends on all of them,
         * and the lead and a person's resolve on all its events). */
        if (is_pagerduty(ev) && ev->identity) {
            am_strset_t holders = {0};
            s = e->s[S_PAGE_HOLDERS];
            sqlite3_bind_text(s, 1, r->name, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, ev->identity, -1, SQLITE_STATIC);
            int rc = collect_ids(e, s, &holders);
            for (size_t k = 0; k < holders.n; k++) {
                am_strset_add(&e->relink, holders.v[k], NULL);
                am_strset_add(&e->full, holders.v[k], NULL);
            }
            am_strset_free(&holders);
            if (rc != 0)
                return -1;
        }
    }
    return 0;
}

/* ---- links of one incident ----
 *
 * An incident's links (acks, notes, suspect and during deploys, and what
 * follows from them: acknowledged_at, lead, users) are a function of its
 * span [started_at, resolved_at], its key, the values of deploys.same
 * over its alerts, its alerts' identities, and the stored events. They
 * are rebuilt from scratch ("full") when the incident is new, merged or
 * split, when its span or same-values changed (link_basis records them),
 * or when a neighbour's change may move an ack to or from it. Otherwise
 * only what this flush added is applied ("incremental"): the pending
 * acks, notes and deploys (an alert new to it that stored acks name makes
 * it a full rebuild). Both
 * give the same result; the incremental path keeps a flush's cost
 * proportional to what changed, not to the size of a long incident. */

typedef struct link_ctx {
    corr_engine_t *e;
    const corr_rule_t *r;
    const char *id;
    const char *gkey;
    json_t *key;
    int64_t started, resolved;
    int64_t detected;
    int64_t ack_at;        /* the first ack's time (acks win over deploys) */
    int64_t deploy_ack_at; /* the first human deploy after detection (deploys.acknowledge) */
    char *lead;
    bool lead_reassigned; /* lead is PagerDuty's assignee, not the first acker */
    int64_t users;        /* from acks and notes; the alerts' own are alert_users */
    /* PagerDuty events of its pages (full rebuilds only): the latest
     * reassignment, the latest resolve by a person, the latest trigger
     * or reopen */
    int64_t reassign_at;
    char *reassign_to, *reassign_event;
    int64_t person_resolved, retriggered;
    json_t *suspects, *during;
    am_strset_t same_values; /* distinct alert values of deploys.same, joined by 0x1f */
} link_ctx_t;

static int add_link(link_ctx_t *c, const char *event_id, const char *role)
{
    sqlite3_stmt *s = c->e->s[S_ADD_LINK];
    sqlite3_bind_text(s, 1, c->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, role, -1, SQLITE_STATIC);
    return step_done(c->e, s, "linking an event");
}

static int64_t event_time(const am_event_t *ev)
{
    return ev->starts_at != AM_TIME_NONE ? ev->starts_at : ev->observed_at;
}

static bool in_span(const link_ctx_t *c, int64_t t)
{
    return t >= c->started && (c->resolved == AM_TIME_NONE || t <= c->resolved);
}

/* An ack; or a silence (the event recorder's notes with a silence_id)
 * where the rule says `silences: acknowledge`. */
static bool is_ack(const link_ctx_t *c, const am_event_t *ev)
{
    return ev->kind == AM_KIND_ACK || (ev->kind == AM_KIND_NOTE && c->r->silence_ack &&
                                       am_labels_get(&ev->annotations, "silence_id") != NULL);
}

static void take_ack(link_ctx_t *c, const am_event_t *ev)
{
    int64_t t = event_time(ev);
    if (is_ack(c, ev) &&
        (c->ack_at == AM_TIME_NONE || t < c->ack_at ||
         (t == c->ack_at && ev->actor && (!c->lead || strcmp(ev->actor, c->lead) < 0)))) {
        c->ack_at = t;
        if (!c->lead_reassigned) {
            free(c->lead);
            c->lead = am_xstrdup(ev->actor);
        }
    }
    int64_t u = users_of(c->r, ev);
    if (u > c->users)
        c->users = u;
}

/* True when an incident of the same key that started earlier is also open
 * at t: the event then belongs to that one. */
static int earlier_open(link_ctx_t *c, int64_t t)
{
    sqlite3_stmt *s = c->e->s[S_EARLIER_OPEN];
    sqlite3_bind_text(s, 1, c->r->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, c->gkey, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, c->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, c->started);
    sqlite3_bind_int64(s, 5, t);
    int rc = sqlite3_step(s);
    reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        db_fail(c->e, "finding an earlier incident");
        return -1;
    }
    return rc == SQLITE_ROW;
}

/* 1 when ev is a PagerDuty event of a page some alert was paged under
 * (it joins by that page, not by labels), 0 if not, -1 on error. */
static int page_known(corr_engine_t *e, const am_event_t *ev)
{
    if (!is_pagerduty(ev) || !ev->identity)
        return 0;
    sqlite3_stmt *s = e->s[S_PAGE_KNOWN];
    sqlite3_bind_text(s, 1, ev->identity, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(e, "finding a page");
    return rc == SQLITE_ROW;
}

/* An ack or note carrying the incident's key, inside its span. */
static int on_keyed_event(void *arg, int64_t seq, const am_event_t *ev)
{
    link_ctx_t *c = arg;
    (void)seq;
    if (c->r->group_all || !in_span(c, event_time(ev)))
        return 0;
    for (size_t i = 0; i < c->r->ngroup; i++) {
        const char *want = json_string_value(json_object_get(c->key, c->r->group_by[i]));
        const char *have = corr_event_value(ev, c->r->group_by[i]);
        if (!*have || !want || strcmp(want, have) != 0)
            return 0;
    }
    int paged = page_known(c->e, ev);
    if (paged != 0)
        return paged < 0 ? -1 : 0; /* joins by its page (on_page_event) */
    int earlier = earlier_open(c, event_time(ev));
    if (earlier < 0)
        return -1;
    if (earlier)
        return 0;
    take_ack(c, ev);
    return add_link(c, ev->id, ev->kind == AM_KIND_ACK ? "ack" : "note");
}

/* A PagerDuty event of one of the incident's pages (full rebuilds): it
 * joins the incident of the page's alerts open at its time (the first
 * started, when several are), else the one that was open last before it
 * (a late resolve), else the first;
 * there it acknowledges, notes, reassigns (the lead: the latest
 * reassignment's assignee) or resolves. Who joined what is a function of
 * the stored set, so the order of arrival does not matter. */
static int on_page_event(void *arg, int64_t seq, const am_event_t *ev)
{
    link_ctx_t *c = arg;
    (void)seq;
    if (!is_pagerduty(ev))
        return 0;
    int64_t t = event_time(ev);
    sqlite3_stmt *s = c->e->s[S_PAGE_HOLDERS];
    sqlite3_bind_text(s, 1, c->r->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, ev->identity, -1, SQLITE_STATIC);
    char *open = NULL, *before = NULL, *first = NULL;
    int64_t before_end = T_MIN;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(s, 0);
        int64_t st = sqlite3_column_int64(s, 1);
        int64_t end = col_time(s, 2, T_MAX);
        if (!first)
            first = am_xstrdup(id);
        if (st <= t && t <= end && !open)
            open = am_xstrdup(id);
        /* over before t: the one open last (ties: the first started) */
        if (end < t && (!before || end > before_end)) {
            free(before);
            before = am_xstrdup(id);
            before_end = end;
        }
    }
    reset(s);
    const char *target = open ? open : before ? before : first;
    bool mine = rc == SQLITE_DONE && target && strcmp(target, c->id) == 0;
    free(open);
    free(before);
    free(first);
    if (rc != SQLITE_DONE)
        return db_fail(c->e, "finding a page's incident");
    if (!mine)
        return 0;
    const char *st = ev->status ? ev->status : "";
    if (ev->kind == AM_KIND_NOTE && strcmp(st, "reassigned") == 0) {
        const char *to = am_labels_get(&ev->annotations, "assignee");
        if (to && *to &&
            (c->reassign_at == AM_TIME_NONE || t > c->reassign_at ||
             (t == c->reassign_at && strcmp(ev->id, c->reassign_event) > 0))) {
            c->reassign_at = t;
            free(c->reassign_to);
            free(c->reassign_event);
            c->reassign_to = am_xstrdup(to);
            c->reassign_event = am_xstrdup(ev->id);
        }
    } else if (ev->kind == AM_KIND_NOTE && strcmp(st, "resolved") == 0) {
        const char *by = am_labels_get(&ev->annotations, "resolved_by");
        if (by && strcmp(by, "person") == 0 &&
            (c->person_resolved == AM_TIME_NONE || t > c->person_resolved))
            c->person_resolved = t;
    } else if (ev->kind == AM_KIND_NOTE &&
               (strcmp(st, "triggered") == 0 || strcmp(st, "reopened") == 0)) {
        if (c->retriggered == AM_TIME_NONE || t > c->retriggered)
            c->retriggered = t;
    }
    take_ack(c, ev);
    return add_link(c, ev->id, ev->kind == AM_KIND_ACK ? "ack" : "note");
}

/* An ack naming an alert joins the incident of that alert open at the
 * ack's time, else the latest one before it, else the first. */
static int on_identity_ack(void *arg, int64_t seq, const am_event_t *ev)
{
    link_ctx_t *c = arg;
    (void)seq;
    int64_t t = event_time(ev);
    sqlite3_stmt *s = c->e->s[S_IDENTITY_INCIDENTS];
    sqlite3_bind_text(s, 1, c->r->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, ev->identity, -1, SQLITE_STATIC);
    char *open = NULL, *before = NULL, *first = NULL;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(s, 0);
        int64_t st = sqlite3_column_int64(s, 1);
        int64_t rs = col_time(s, 2, T_MAX);
        if (!first)
            first = am_xstrdup(id);
        if (st <= t && t <= rs && !open)
            open = am_xstrdup(id);
        if (st <= t) {
            free(before);
            before = am_xstrdup(id);
        }
    }
    reset(s);
    const char *target = open ? open : before ? before : first;
    int out = 0;
    if (rc != SQLITE_DONE)
        out = db_fail(c->e, "finding an alert's incident");
    else if (target && strcmp(target, c->id) == 0) {
        take_ack(c, ev);
        out = add_link(c, ev->id, "ack");
    }
    free(open);
    free(before);
    free(first);
    return out;
}

/* Adds d to list, keeping one entry per deploy (name and version): the
 * one that took effect last (ties: the greater event id), and the list in
 * order of time. The same set gives the same list in any order. */
static void add_deploy(json_t *list, json_t *d)
{
    const char *name = json_string_value(json_object_get(d, "name"));
    const char *ver = json_string_value(json_object_get(d, "version"));
    const char *at = json_string_value(json_object_get(d, "at"));
    const char *ev = json_string_value(json_object_get(d, "event"));
    size_t i;
    json_t *prev;
    json_array_foreach(list, i, prev)
    {
        const char *pn = json_string_value(json_object_get(prev, "name"));
        const char *pv = json_string_value(json_object_get(prev, "version"));
        if (!(pn && name && strcmp(pn, name) == 0 &&
              ((!pv && !ver) || (pv && ver && !strcmp(pv, ver)))))
            continue;
        int c = strcmp(json_string_value(json_object_get(prev, "at")), at);
        if (c == 0)
            c = strcmp(json_string_value(json_object_get(prev, "event")), ev);
        if (c < 0)
            json_array_set(list, i, d);
        json_decref(d);
        return;
    }
    /* insert in (at, name, version, event) order */
    size_t pos = json_array_size(list);
    json_array_foreach(list, i, prev)
    {
        int c = strcmp(at, json_string_value(json_object_get(prev, "at")));
        if (c == 0)
            c = strcmp(name ? name : "", json_string_value(json_object_get(prev, "name"))
                                             ? json_string_value(json_object_get(prev, "name"))
                                             : "");
        if (c == 0)
            c = strcmp(ev, json_string_value(json_object_get(prev, "event")));
        if (c < 0) {
            pos = i;
            break;
        }
    }
    json_array_insert_new(list, pos, d);
}

/* deploys.acknowledge: a deploy by a human (an actor, not a "[bot]"
 * account, and the rule's matchers) at or after detection. */
static bool acknowledges(const link_ctx_t *c, const am_event_t *ev)
{
    const corr_rule_t *r = c->r;
    if (!r->ack_by_deploy || c->detected == AM_TIME_NONE || ev->starts_at < c->detected)
        return false;
    size_t n = ev->actor ? strlen(ev->actor) : 0;
    if (n == 0 || (n >= 5 && strcmp(ev->actor + n - 5, "[bot]") == 0))
        return false;
    for (size_t i = 0; i < r->nack_match; i++)
        if (!corr_matcher_match(r->ack_match[i], ev))
            return false;
    return true;
}

static int on_deploy(void *arg, int64_t seq, const am_event_t *ev)
{
    link_ctx_t *c = arg;
    (void)seq;
    if (!deploy_matches(c->r, ev))
        return 0;
    int64_t t = ev->starts_at;
    if (t < add_sat(c->started, -c->r->before) || (c->resolved != AM_TIME_NONE && t > c->resolved))
        return 0;
    /* Agrees with one alert: for every label of `same`, the deploy lacks
     * it or has that alert's value. */
    bool agrees = c->r->nsame == 0;
    for (size_t i = 0; i < c->same_values.n && !agrees; i++) {
        const char *p = c->same_values.v[i];
        bool all = true;
        for (size_t k = 0; k < c->r->nsame && all; k++) {
            const char *end = strchr(p, '\x1f');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            const char *dv = corr_event_value(ev, c->r->same[k]);
            all = !*dv || (strlen(dv) == len && memcmp(dv, p, len) == 0);
            p = end ? end + 1 : p + len;
        }
        agrees = all;
    }
    if (!agrees)
        return 0;
    bool suspect = t <= c->started;
    if (!suspect && acknowledges(c, ev) &&
        (c->deploy_ack_at == AM_TIME_NONE || t < c->deploy_ack_at))
        c->deploy_ack_at = t;
    if (!suspect && !c->r->during)
        return 0;
    char at[AM_TIME_STRLEN];
    json_t *o = json_object();
    json_object_set_new(o, "name", ev->name ? json_string(ev->name) : json_null());
    json_object_set_new(o, "version", ev->version ? json_string(ev->version) : json_null());
    json_object_set_new(o, "service", ev->service ? json_string(ev->service) : json_null());
    json_object_set_new(o, "status", ev->status ? json_string(ev->status) : json_null());
    json_object_set_new(o, "at", json_string(am_time_format(t, at)));
    json_object_set_new(o, "actor", ev->actor ? json_string(ev->actor) : json_null());
    json_object_set_new(o, "event", json_string(ev->id));
    add_deploy(suspect ? c->suspects : c->during, o);
    return add_link(c, ev->id, suspect ? "suspect" : "during");
}

static int has_identity(corr_engine_t *e, const char *id, const char *identity)
{
    sqlite3_stmt *s = e->s[S_HAS_IDENTITY];
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, identity, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(e, "finding an alert");
    return rc == SQLITE_ROW;
}

/* What a full rebuild depends on besides the stored events: the span, the
 * deploys.same values and, when deploys acknowledge, the detection time. */
static char *basis_of(const link_ctx_t *c, const char *same_json)
{
    am_buf_t b = {0};
    am_buf_printf(&b, "%" PRId64 "|%" PRId64 "|%016" PRIx64, c->started,
                  c->resolved == AM_TIME_NONE ? (int64_t)-1 : c->resolved,
                  am_fnv64_add(AM_FNV64_INIT, same_json, strlen(same_json)));
    if (c->r->ack_by_deploy)
        am_buf_printf(&b, "|%" PRId64, c->detected == AM_TIME_NONE ? (int64_t)-1 : c->detected);
    return am_buf_steal(&b);
}

/* impact_start: deploy pulls the impact start back to the earliest
 * suspect, and `pending` (the alerts' `for:`, after which Prometheus sets
 * their startsAt) to the alerts' start less it, whichever is earlier;
 * AM_TIME_NONE when the alerts' start stands. *from says which. */
static int64_t impact_start(const link_ctx_t *c, const char **from)
{
    int64_t best = AM_TIME_NONE;
    size_t i;
    json_t *d;
    *from = NULL;
    if (c->r->impact_from_deploy)
        json_array_foreach(c->suspects, i, d)
        {
            const char *at = json_string_value(json_object_get(d, "at"));
            int64_t t;
            if (at && am_time_parse(at, strlen(at), &t, NULL, 0) == 0 && t < c->started &&
                (best == AM_TIME_NONE || t < best))
                best = t, *from = "deploy";
        }
    int64_t pend = c->r->pending > 0 ? add_sat(c->started, -c->r->pending) : AM_TIME_NONE;
    if (pend != AM_TIME_NONE && (best == AM_TIME_NONE || pend < best))
        best = pend, *from = "pending";
    return best;
}

/* The full rebuild: every link from the stored events. */
static int relink_full(link_ctx_t *c)
{
    corr_engine_t *e = c->e;
    sqlite3_stmt *s = e->s[S_DELETE_LINKS];
    sqlite3_bind_text(s, 1, c->id, -1, SQLITE_STATIC);
    if (step_done(e, s, "clearing links") != 0)
        return -1;
    s = e->s[S_LINK_ALERT_EVENTS];
    sqlite3_bind_text(s, 1, c->id, -1, SQLITE_STATIC);
    if (step_done(e, s, "linking alert events") != 0)
        return -1;
    if (!c->r->group_all && (store_events_between(e->st, AM_KIND_ACK, c->started, c->resolved,
                                                  on_keyed_event, c, e->err, e->errlen) != 0 ||
                             store_events_between(e->st, AM_KIND_NOTE, c->started, c->resolved,
                                                  on_keyed_event, c, e->err, e->errlen) != 0))
        return -1;
    am_strset_t idents = {0};
    s = e->s[S_INCIDENT_IDENTITIES];
    sqlite3_bind_text(s, 1, c->id, -1, SQLITE_STATIC);
    int rc = collect_ids(e, s, &idents);
    for (size_t i = 0; rc == 0 && i < idents.n; i++)
        rc = store_events_by_identity(e->st, AM_KIND_ACK, idents.v[i], on_identity_ack, c, e->err,
                                      e->errlen);
    am_strset_free(&idents);
    if (rc != 0)
        return -1;
    /* PagerDuty events naming its pages */
    am_strset_t pages = {0};
    s = e->s[S_INCIDENT_PAGES];
    sqlite3_bind_text(s, 1, c->id, -1, SQLITE_STATIC);
    rc = collect_ids(e, s, &pages);
    for (size_t i = 0; rc == 0 && i < pages.n; i++) {
        rc = store_events_by_identity(e->st, AM_KIND_ACK, pages.v[i], on_page_event, c, e->err,
                                      e->errlen);
        if (rc == 0)
            rc = store_events_by_identity(e->st, AM_KIND_NOTE, pages.v[i], on_page_event, c, e->err,
                                          e->errlen);
    }
    am_strset_free(&pages);
    if (rc != 0)
        return -1;
    return store_events_between(e->st, AM_KIND_DEPLOY, add_sat(c->started, -c->r->before),
                                c->resolved, on_deploy, c, e->err, e->errlen);
}

/* The incremental update: what this flush added. */
static int relink_incremental(link_ctx_t *c)
{
    corr_engine_t *e = c->e;
    for (size_t i = 0; i < e->pending.n; i++) {
        const am_event_t *ev = &e->pending.v[i];
        int rc = 0;
        if (ev->kind == AM_KIND_DEPLOY) {
            rc = on_deploy(c, 0, ev);
        } else {
            rc = on_keyed_event(c, 0, ev);
            if (rc == 0 && ev->kind == AM_KIND_ACK && ev->identity) {
                int has = has_identity(e, c->id, ev->identity);
                rc = has < 0 ? -1 : has ? on_identity_ack(c, 0, ev) : 0;
            }
        }
        if (rc != 0)
            return -1;
    }
    return 0;
}

static json_t *json_or(const char *text, json_t *dflt)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    if (j) {
        json_decref(dflt);
        return j;
    }
    return dflt;
}

static int relink(corr_engine_t *e, const char *id)
{
    link_ctx_t c = {.e = e,
                    .id = id,
                    .ack_at = AM_TIME_NONE,
                    .deploy_ack_at = AM_TIME_NONE,
                    .users = -1,
                    .reassign_at = AM_TIME_NONE,
                    .person_resolved = AM_TIME_NONE,
                    .retriggered = AM_TIME_NONE};
    int rc = -1;
    char *gkey = NULL, *same_json = NULL, *basis = NULL, *old_basis = NULL;
    sqlite3_stmt *s = e->s[S_GET_INCIDENT];
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step == SQLITE_DONE) { /* merged away in this flush */
        reset(s);
        return 0;
    }
    if (step != SQLITE_ROW) {
        reset(s);
        return db_fail(e, "reading an incident");
    }
    const char *rule = (const char *)sqlite3_column_text(s, 0);
    for (size_t i = 0; i < e->rules->n; i++)
        if (strcmp(e->rules->v[i].name, rule) == 0)
            c.r = &e->rules->v[i];
    gkey = col_text(s, 1);
    c.gkey = gkey;
    c.started = sqlite3_column_int64(s, 2);
    c.resolved = col_time(s, 3, AM_TIME_NONE);
    same_json = col_text(s, 4);
    old_basis = col_text(s, 5);
    c.detected = col_time(s, 11, AM_TIME_NONE);
    if (e->pruned_before != AM_TIME_NONE && c.resolved != AM_TIME_NONE &&
        c.resolved < e->pruned_before) { /* pruned: its links' events are gone, keep them */
        reset(s);
        rc = 0;
        goto done;
    }
    bool full = am_strset_find(&e->full, id) != (size_t)-1;
    if (c.r) {
        basis = basis_of(&c, same_json ? same_json : "[]");
        full = full || !old_basis || strcmp(old_basis, basis) != 0;
    }
    if (!full) { /* start from what is linked */
        const char *kind = (const char *)sqlite3_column_text(s, 12);
        if (kind && strcmp(kind, "deploy") == 0)
            c.deploy_ack_at = col_time(s, 6, AM_TIME_NONE);
        else
            c.ack_at = col_time(s, 6, AM_TIME_NONE);
        c.lead = col_text(s, 7);
        const char *by = (const char *)sqlite3_column_text(s, 13);
        c.lead_reassigned = by && strcmp(by, "reassign") == 0;
        c.users = col_time(s, 8, -1);
        c.suspects = json_or((const char *)sqlite3_column_text(s, 9), NULL);
        c.during = json_or((const char *)sqlite3_column_text(s, 10), NULL);
    }
    reset(s);
    if (!c.r) { /* a rule no longer loaded: leave it (recorrelate rebuilds) */
        rc = 0;
        goto done;
    }
    if (!c.suspects)
        c.suspects = json_array();
    if (!c.during)
        c.during = json_array();
    c.key = json_loads(gkey, 0, NULL);
    json_t *sv = json_or(same_json, json_array());
    size_t i;
    json_t *v;
    json_array_foreach(sv, i, v) am_strset_add(&c.same_values, json_string_value(v), NULL);
    json_decref(sv);
    if (remember(e, id) != 0)
        goto done;
    if ((full ? relink_full(&c) : relink_incremental(&c)) != 0)
        goto done;
    if (c.reassign_to) { /* PagerDuty's latest assignee leads */
        free(c.lead);
        c.lead = am_xstrdup(c.reassign_to);
        c.lead_reassigned = true;
    }
    /* A person's resolve, unless PagerDuty triggered or reopened it since */
    int64_t person = c.person_resolved != AM_TIME_NONE &&
                             (c.retriggered == AM_TIME_NONE || c.retriggered <= c.person_resolved)
                         ? c.person_resolved
                         : AM_TIME_NONE;

    char *sj = json_dumps(c.suspects, JSON_COMPACT | JSON_SORT_KEYS);
    char *dj = json_dumps(c.during, JSON_COMPACT | JSON_SORT_KEYS);
    s = e->s[S_UPDATE_LINKS];
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    bind_time(s, 2, c.ack_at != AM_TIME_NONE ? c.ack_at : c.deploy_ack_at);
    if (c.lead)
        sqlite3_bind_text(s, 3, c.lead, -1, SQLITE_STATIC);
    if (c.users >= 0)
        sqlite3_bind_int64(s, 4, c.users);
    sqlite3_bind_text(s, 5, sj, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, dj, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, basis, -1, SQLITE_STATIC);
    const char *impact_from;
    bind_time(s, 8, impact_start(&c, &impact_from));
    if (impact_from)
        sqlite3_bind_text(s, 13, impact_from, -1, SQLITE_STATIC);
    if (c.ack_at != AM_TIME_NONE)
        sqlite3_bind_text(s, 9, "ack", -1, SQLITE_STATIC);
    else if (c.deploy_ack_at != AM_TIME_NONE)
        sqlite3_bind_text(s, 9, "deploy", -1, SQLITE_STATIC);
    if (c.lead)
        sqlite3_bind_text(s, 10, c.lead_reassigned ? "reassign" : "ack", -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 11, full);
    bind_time(s, 12, person);
    rc = step_done(e, s, "updating links");
    free(sj);
    free(dj);
done:
    json_decref(c.key);
    json_decref(c.suspects);
    json_decref(c.during);
    am_strset_free(&c.same_values);
    free(c.lead);
    free(c.reassign_to);
    free(c.reassign_event);
    free(gkey);
    free(same_json);
    free(basis);
    free(old_basis);
    return rc;
}

/* An incident whose corrections or action items changed is a change. */
static int people_changed(void *arg, const char *id)
{
    return mark_changed(arg, id);
}

int corr_engine_flush(corr_engine_t *e, char *err, size_t errlen)
{
    e->err = err;
    e->errlen = errlen;
    if (advance_clocks(e) != 0)
        return -1;
    /* Snapshot: the working set may not grow while it is processed. */
    size_t ndirty = e->ndirty;
    for (size_t i = 0; i < ndirty; i++)
        if (regroup(e, &e->dirty[i]) != 0)
            return -1;
    /* Alerts paged in this batch: a page new to one may move PagerDuty
     * events to or between its incidents. */
    int present = e->paged.n ? pagerduty_present(e) : 0;
    if (present < 0)
        return -1;
    for (size_t i = 0; present && i < e->paged.n; i++)
        for (size_t k = 0; k < e->rules->n; k++)
            if (new_identity(e, &e->rules->v[k], e->paged.v[i]) != 0)
                return -1;
    for (size_t i = 0; i < e->pending.n; i++)
        if (find_candidates(e, &e->pending.v[i]) != 0)
            return -1;
    for (size_t i = 0; i < e->relink.n; i++)
        if (relink(e, e->relink.v[i]) != 0)
            return -1;
    for (size_t i = 0; i < e->nalinks; i++) {
        const struct alert_link *l = &e->alinks[i];
        sqlite3_stmt *s = e->s[S_LINK_ALERT_EVENT];
        sqlite3_bind_text(s, 1, l->event, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, e->rules->v[l->rule].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, l->gkey, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, l->identity, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 5, l->starts);
        if (step_done(e, s, "linking an alert event") != 0)
            return -1;
    }
    /* What really changed, against the signatures taken before. */
    for (size_t i = 0; i < e->before_ids.n; i++) {
        sqlite3_stmt *s = e->s[S_SIGNATURE];
        sqlite3_bind_text(s, 1, e->before_ids.v[i], -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        const char *now = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
        const char *was = e->before_sig[i];
        bool differs = (now == NULL) != (was == NULL) || (now && strcmp(now, was) != 0);
        reset(s);
        free(e->before_sig[i]);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return db_fail(e, "reading an incident");
        if (differs && mark_changed(e, e->before_ids.v[i]) != 0)
            return -1;
    }
    /* The people's record over what this flush touched (people.h). */
    if (corr_people_refresh(e->st, (const char *const *)e->before_ids.v, e->before_ids.n,
                            e->people_added, people_changed, e, err, errlen) != 0)
        return -1;
    e->people_added = false;
    am_strset_clear(&e->before_ids);
    clear_working_set(e);
    e->horizon_read = false;
    am_strset_clear(&e->seen_topics);
    am_strset_clear(&e->clock_topics);
    return 0;
}

size_t corr_engine_changed_count(const corr_engine_t *e)
{
    return e->changed.n;
}

const char *corr_engine_changed_id(const corr_engine_t *e, size_t i)
{
    return e->changed.v[i];
}

void corr_engine_changed_clear(corr_engine_t *e)
{
    am_strset_clear(&e->changed);
}

int corr_engine_changed_load(corr_engine_t *e, char *err, size_t errlen)
{
    sqlite3_stmt *s = e->s[S_OUTBOX_ALL];
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        am_strset_add(&e->changed, (const char *)sqlite3_column_text(s, 0), NULL);
    reset(s);
    if (rc != SQLITE_DONE) {
        am_errf(err, errlen, "%s: reading the outbox: %s", store_path(e->st),
                sqlite3_errmsg(e->db));
        return -1;
    }
    return 0;
}

int corr_engine_changed_done(corr_engine_t *e, char *err, size_t errlen)
{
    json_t *ids = json_array();
    for (size_t i = 0; i < e->changed.n; i++)
        json_array_append_new(ids, json_string(e->changed.v[i]));
    char *text = json_dumps(ids, JSON_COMPACT);
    json_decref(ids);
    sqlite3_stmt *s = e->s[S_OUTBOX_DONE];
    sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    reset(s);
    free(text);
    if (rc != SQLITE_DONE) {
        am_errf(err, errlen, "%s: emptying the outbox: %s", store_path(e->st),
                sqlite3_errmsg(e->db));
        return -1;
    }
    am_strset_clear(&e->changed);
    return 0;
}

static int get_meta(corr_engine_t *e, const char *key, char **value)
{
    sqlite3_stmt *s = e->s[S_GET_META];
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    *value = rc == SQLITE_ROW ? col_text(s, 0) : NULL;
    reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(e, "reading corr_meta");
}

static int set_meta(corr_engine_t *e, const char *key, const char *value)
{
    sqlite3_stmt *s = e->s[S_SET_META];
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
    return step_done(e, s, "writing corr_meta");
}

corr_engine_t *corr_engine_create(store_t *st, const corr_rules_t *rules, const am_log_t *log,
                                  const corr_options_t *opts, char *err, size_t errlen)
{
    corr_engine_t *e = am_xcalloc(1, sizeof *e);
    e->st = st;
    e->db = store_db(st);
    e->rules = rules;
    e->log = log;
    e->err = err;
    e->errlen = errlen;
    e->opts.max_open_groups = opts && opts->max_open_groups ? opts->max_open_groups : 10000;
    e->opts.adopt_rules = opts && opts->adopt_rules;
    e->pruned_before = AM_TIME_NONE;
    e->pd_present = -1;
    e->opts.nparts = opts ? opts->nparts : 0;
    e->opts.part = opts ? opts->part : 0;
    e->opts.stale_after = opts && opts->stale_after ? opts->stale_after : STALE_AFTER_DEFAULT;
    if (opts && opts->nstale_topics) {
        corr_stale_topic_t *t = am_xcalloc(opts->nstale_topics, sizeof *t);
        for (size_t i = 0; i < opts->nstale_topics; i++) {
            t[i].topic = am_xstrdup(opts->stale_topics[i].topic);
            t[i].stale_after = opts->stale_topics[i].stale_after ? opts->stale_topics[i].stale_after
                                                                 : e->opts.stale_after;
        }
        e->opts.stale_topics = t;
        e->opts.nstale_topics = opts->nstale_topics;
    }
    char *digest = NULL, *part = NULL, *role = NULL;
    char want[64] = "";
    if (e->opts.nparts > 0)
        snprintf(want, sizeof want, "%" PRId32 "/%" PRId32, e->opts.part, e->opts.nparts);
    for (int i = 0; i < NSTMT; i++)
        if (sqlite3_prepare_v3(e->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &e->s[i], NULL) !=
            SQLITE_OK) {
            db_fail(e, "preparing statements");
            goto init_error;
        }
    if (get_meta(e, "rules_digest", &digest) != 0 || get_meta(e, "keyed_partition", &part) != 0)
        goto init_error;
    if (get_meta(e, "role", &role) != 0)
        goto init_error;
    if (role && strcmp(role, "view") == 0) {
        am_errf(err, errlen,
                "%s is a view's database (filled from the incidents topic): the correlator "
                "cannot work in it; give replay or run a database of their own",
                store_path(st));
        goto init_error;
    }
    if (part && strcmp(part, want) != 0) {
        am_errf(err, errlen, "%s is the store of keyed partition %s (partition/count), not of %s",
                store_path(st), part, *want ? want : "a single instance");
        goto init_error;
    }
    if (!part && *want && store_count(st, "events") > 0) {
        am_errf(err, errlen,
                "%s holds a single instance's events; a correlator needs its own store per keyed "
                "partition",
                store_path(st));
        goto init_error;
    }
    if (read_horizon(e) != 0)
        goto init_error;
    /* A store that holds no event was never correlated under its rules
     * (a correlator that paused on decode's other rules): it takes these. */
    if (digest && strcmp(digest, corr_rules_digest(rules)) != 0 && !e->opts.adopt_rules &&
        store_count(st, "events") > 0) {
        am_errf(err, errlen,
                "%s was correlated under other rules; run 'aftermath recorrelate --db %s "
                "--rules FILE' to rebuild its incidents under these",
                store_path(st), store_path(st));
        goto init_error;
    }
    if (!digest || strcmp(digest, corr_rules_digest(rules)) != 0 || (*want && !part)) {
        char *msg = NULL;
        if (sqlite3_exec(e->db, "SAVEPOINT corr_meta", NULL, NULL, &msg) != SQLITE_OK) {
            am_errf(err, errlen, "%s: %s", store_path(st), msg ? msg : "");
            sqlite3_free(msg);
            goto init_error;
        }
        int rc = set_meta(e, "rules_digest", corr_rules_digest(rules));
        if (rc == 0 && *want && !part)
            rc = set_meta(e, "keyed_partition", want);
        sqlite3_exec(e->db, rc == 0 ? "RELEASE corr_meta" : "ROLLBACK TO corr_meta", NULL, NULL,
                     NULL);
        if (rc != 0)
            goto init_error;
    }
    free(digest);
    free(part);
    free(role);
    return e;

init_error:
    free(digest);
    free(part);
    free(role);
    corr_engine_destroy(e);
    return NULL;
}

void corr_engine_destroy(corr_engine_t *e)
{
    if (!e)
        return;
    clear_working_set(e);
    free(e->dirty);
    am_strset_free(&e->dirty_keys);
    am_event_list_free(&e->pending);
    am_strset_free(&e->relink);
    am_strset_free(&e->paged);
    am_strset_free(&e->full);
    free(e->alinks);
    for (size_t i = 0; i < e->before_ids.n; i++)
        free(e->before_sig[i]);
    free(e->before_sig);
    am_strset_free(&e->before_ids);
    am_strset_free(&e->changed);
    free(e->cur_topic);
    am_strset_free(&e->seen_topics);
    free(e->seen_ts);
    am_strset_free(&e->clock_topics);
    free(e->clock_ts);
    for (size_t i = 0; i < e->opts.nstale_topics; i++)
        free((char *)e->opts.stale_topics[i].topic);
    free((void *)e->opts.stale_topics);
    for (int i = 0; i < NSTMT; i++)
        sqlite3_finalize(e->s[i]);
    free(e);
}

typedef struct recorr_ctx {
    corr_engine_t *e;
    sqlite3_stmt *delivery; /* topic and latest delivery of an event */
    size_t n;
    char *err;
    size_t errlen;
} recorr_ctx_t;

static int on_stored(void *arg, int64_t seq, const am_event_t *ev)
{
    recorr_ctx_t *c = arg;
    /* Its first record's topic, whose clock (kept in corr_meta) judges its
     * staleness, and its latest delivery, fed as a second one. */
    sqlite3_bind_int64(c->delivery, 1, seq);
    int rc = sqlite3_step(c->delivery);
    char *topic = rc == SQLITE_ROW ? col_text(c->delivery, 0) : NULL;
    int64_t last = rc == SQLITE_ROW ? col_time(c->delivery, 1, AM_TIME_NONE) : AM_TIME_NONE;
    reset(c->delivery);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        free(topic);
        return db_fail(c->e, "reading an event's deliveries");
    }
    corr_engine_record(c->e, topic, AM_TIME_NONE);
    free(topic);
    if (corr_engine_add(c->e, ev, c->err, c->errlen) != 0)
        return -1;
    if (ev->kind == AM_KIND_ALERT && last != AM_TIME_NONE && last != ev->observed_at) {
        am_event_t later;
        am_event_copy(&later, ev);
        later.observed_at = last;
        rc = corr_engine_add(c->e, &later, c->err, c->errlen);
        am_event_free(&later);
        if (rc != 0)
            return -1;
    }
    if (++c->n % 10000 == 0 && corr_engine_flush(c->e, c->err, c->errlen) != 0)
        return -1;
    return 0;
}

int corr_recorrelate(store_t *st, const corr_rules_t *rules, const am_log_t *log, char *err,
                     size_t errlen)
{
    char *msg = NULL;
    if (store_begin(st, err, errlen) != 0)
        return -1;
    /* Incidents closed before a prune horizon keep what they were: their
     * events are gone, so they could not be rebuilt. */
    if (sqlite3_exec(store_db(st),
                     "CREATE TEMP TABLE IF NOT EXISTS frozen (id TEXT PRIMARY KEY);"
                     "DELETE FROM frozen;"
                     "INSERT INTO frozen SELECT id FROM incidents WHERE span_end < "
                     "(SELECT CAST(value AS INTEGER) FROM corr_meta WHERE key = 'pruned_before');"
                     "DELETE FROM incident_events WHERE incident NOT IN frozen;"
                     "DELETE FROM incident_aliases WHERE incident NOT IN frozen;"
                     "DELETE FROM episodes WHERE incident IS NULL OR incident NOT IN frozen;"
                     "DELETE FROM incidents WHERE id NOT IN frozen;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        am_errf(err, errlen, "%s: clearing incidents: %s", store_path(st), msg ? msg : "");
        sqlite3_free(msg);
        store_rollback(st);
        return -1;
    }
    corr_options_t opts = {.adopt_rules = true};
    corr_engine_t *e = corr_engine_create(st, rules, log, &opts, err, errlen);
    if (!e) {
        store_rollback(st);
        return -1;
    }
    recorr_ctx_t c = {.e = e, .err = err, .errlen = errlen};
    e->err = err;
    e->errlen = errlen;
    if (sqlite3_prepare_v2(store_db(st), store_sql_event_delivery, -1, &c.delivery, NULL) !=
        SQLITE_OK) {
        db_fail(e, "preparing statements");
        corr_engine_destroy(e);
        store_rollback(st);
        return -1;
    }
    int rc = store_scan_events(st, 0, on_stored, &c, err, errlen);
    sqlite3_finalize(c.delivery);
    if (rc == 0)
        rc = corr_engine_flush(e, err, errlen);
    corr_engine_destroy(e);
    if (rc == 0)
        rc = store_commit(st, err, errlen);
    if (rc != 0)
        store_rollback(st);
    return rc;
}
