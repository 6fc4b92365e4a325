/*
 * prune.c - retention (see prune.h).
 *
 * What goes and what stays is chosen so that nothing still in use loses
 * data: an open incident, or one resolved after the horizon, keeps every
 * event it links, whatever their age; only unlinked events and the detail
 * of incidents closed before the horizon go. Episodes stay because they
 * are small (one row per alert firing), carry the labels `metrics --by`
 * groups on, and make a late copy of an old alert merge into what exists
 * instead of forming a new incident. Deploys stay too (there are few, and
 * the change failure rate of any past period counts them all), with
 * their links to incidents. The horizon is stored in corr_meta
 * ('pruned_before'), which the correlator reads to freeze the pruned past.
 */
#include "correlate/prune.h"
#include "store/queries.h"
#include "common/buf.h"
#include "common/time.h"

#include <sqlite3.h>
#include <stddef.h>

/* An event's latest time: NULL only when it has none. */
#define LATEST                                                                                     \
    "max(coalesce(starts_at, ends_at, observed_at), coalesce(ends_at, starts_at, observed_at), "   \
    "coalesce(observed_at, starts_at, ends_at))"

static const struct step {
    const char *sql;
    size_t field; /* offset in corr_prune_stats_t, or (size_t)-1 */
    const char *what;
} steps[] = {
    {"INSERT INTO corr_meta (key, value) VALUES ('pruned_before', ?1) ON CONFLICT (key) DO "
     "UPDATE SET value = max(CAST(value AS INTEGER), ?1)",
     (size_t)-1, "recording the horizon"},
    {"SELECT count(*) FROM incidents WHERE resolved_at < ?1",
     offsetof(corr_prune_stats_t, incidents_frozen), "counting incidents"},
    {"DELETE FROM incident_events WHERE role NOT IN ('suspect', 'during') AND incident IN "
     "(SELECT id FROM incidents WHERE resolved_at < ?1)",
     offsetof(corr_prune_stats_t, links), "unlinking closed incidents"},
    {"DELETE FROM events WHERE kind <> 'deploy' AND " LATEST
     " < ?1 AND NOT EXISTS (SELECT 1 FROM incident_events ie "
     "WHERE ie.event = events.id)",
     offsetof(corr_prune_stats_t, events), "deleting events"},
    {store_sql_prune_records, offsetof(corr_prune_stats_t, records), "deleting raw records"},
    {store_sql_prune_rejected, offsetof(corr_prune_stats_t, rejected), "deleting rejected records"},
};

int corr_prune(store_t *st, int64_t horizon, bool dry_run, corr_prune_stats_t *stats, char *err,
               size_t errlen)
{
    sqlite3 *db = store_db(st);
    corr_prune_stats_t out = {0};
    if (store_begin(st, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        sqlite3_stmt *s = NULL;
        int rc = sqlite3_prepare_v2(db, steps[i].sql, -1, &s, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(s, 1, horizon);
            rc = sqlite3_step(s);
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            am_errf(err, errlen, "%s: prune: %s: %s", store_path(st), steps[i].what,
                    sqlite3_errmsg(db));
            sqlite3_finalize(s);
            store_rollback(st);
            return -1;
        }
        if (steps[i].field != (size_t)-1)
            *(int64_t *)((char *)&out + steps[i].field) =
                rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : sqlite3_changes(db);
        sqlite3_finalize(s);
    }
    if (dry_run)
        store_rollback(st);
    else if (store_commit(st, err, errlen) != 0)
        return -1;
    if (stats)
        *stats = out;
    return 0;
}
