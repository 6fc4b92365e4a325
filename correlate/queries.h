/*
 * queries.h - the statements other modules run on correlate's tables.
 *
 * store/schema.sql names one owner per table; correlate owns episodes,
 * incidents, incident_events, incident_aliases, outbox and corr_meta. A
 * reader elsewhere (report/, run/) runs one of these named statements on
 * the store's connection (store_db) rather than writing its own SQL, so
 * that a change to those tables finds every reader in correlate/queries.c.
 * A statement that joins a store table (events) is still correlate's: it
 * is about the links correlate made. Parameters and result columns are
 * given with each; times are UTC ms, NULL when unknown.
 */
#ifndef CORRELATE_QUERIES_H
#define CORRELATE_QUERIES_H

#include <stdint.h>
#include <stddef.h>

#include "store/store.h"

/* ?1 incident id -> the events linked to it, by role: role, id, kind,
 * status, source, name, identity, service, severity, summary, starts_at,
 * ends_at, observed_at, actor, version, labels, annotations, url; by
 * start. */
extern const char corr_sql_incident_links[];

/* ?1 incident id, ?2 its impact start -> the other incidents that started
 * before it: services, start, detected_at, acknowledged_at, mitigated_at,
 * resolved_at. */
extern const char corr_sql_incident_history[];

/* Every statement on incidents below reads the people's record over the
 * derived values (correlate/people.h): a corrected time replaces the
 * derived one, and incidents dismissed or merged into another by hand are
 * left out. */

/* ?1 first start included or NULL, ?2 first start excluded or NULL ->
 * incidents by impact start: id, rule, gkey, services, start, detected_at,
 * acknowledged_at, mitigated_at, resolved_at, severity (a person's, or
 * NULL). */
extern const char corr_sql_incidents_between[];

/* ?1 incident id -> its episodes' identity, starts_at, ends_at (the
 * resolve's own, or NULL) and inferred_end (NULL unless inferred). */
extern const char corr_sql_episode_ends[];

/* ?1 incident id -> the labels (JSON) of its episodes, in insertion order. */
extern const char corr_sql_episode_labels[];

/* ?1, ?2 as corr_sql_incidents_between, on the deploy's start -> per
 * service: service, deploys, failed deploys, basis (1: confirmed suspects,
 * because a suspect of the period has a person's verdict; 0: suspects an
 * incident names and no person rejected). */
extern const char corr_sql_deploys_by_service[];

/* -> the action items of the incidents not dismissed (correlate/people.h):
 * incident, item, task, owner, due, status (open|done), url, opened_at,
 * closed_at; by due time (none last), incident, item. */
extern const char corr_sql_action_items[];

/* ?1, ?2 as corr_sql_incidents_between -> the action items of those
 * incidents: status, due, opened_at, closed_at. */
extern const char corr_sql_followups[];

/* ?1, ?2 as corr_sql_incidents_between, dismissed ones included -> one
 * row: how many incidents a person corrected. */
extern const char corr_sql_corrected[];

/* -> the corrections and actions that attach to no incident (people.h):
 * event id, kind, the incident id it names, at, actor; by time. */
extern const char corr_sql_people_unattached[];

/* The incidents list, a page at a time: ?1 all (1: dismissed and merged
 * ones too), ?2 status, ?3 rule, ?4 one of its services, ?5 first start
 * included, ?6 first start excluded (NULL: no filter), ?7 limit, ?8
 * offset -> id; open first, then the latest (effective) start, then id.
 * corr_sql_incidents_count: ?1..?6 -> how many match. */
extern const char corr_sql_incidents_page[];
extern const char corr_sql_incidents_count[];

/* ?1 incident id -> the corrections and action events that name it or
 * one of its aliases (the people's history): kind, at, actor, summary
 * (the reason or the task), body (JSON: what the event sets), event id;
 * by time. */
extern const char corr_sql_incident_people[];

/* ?1 status -> the incidents of that status with their figures: rule,
 * services, impact start, detected_at, acknowledged_at, mitigated_at,
 * resolved_at, id; by start. corr_sql_figures_one: ?2 one incident id. */
extern const char corr_sql_figures_all[];
extern const char corr_sql_figures_one[];

/* The digest of the rules st was last correlated under (corr_meta), into
 * out ("" when it never was). Returns 0, or -1 with err. */
int corr_stored_rules_digest(store_t *st, char out[32], char *err, size_t errlen);

/* The number of open incidents in st into *n. Returns 0, or -1 with err
 * naming the database. */
int corr_count_open(store_t *st, int64_t *n, char *err, size_t errlen);

#endif
