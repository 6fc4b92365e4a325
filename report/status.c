/*
 * status.c - the shown status of an incident (see status.h): open,
 * mitigated or resolved, against a "now" the caller chooses, and the
 * latest event time of a store as the "now" of a replay.
 */
#include "report/status.h"

#include <sqlite3.h>

#include "common/buf.h"
#include "common/time.h"
#include "store/queries.h"
#include "report/timeline.h"

const char *report_status(const json_t *incident, int64_t now)
{
    int64_t mitigated = report_json_time(json_object_get(incident, "mitigated_at"));
    int64_t resolved = report_json_time(json_object_get(incident, "resolved_at"));
    if (mitigated == AM_TIME_NONE)
        return "open";
    if (resolved != AM_TIME_NONE && now != AM_TIME_NONE && resolved <= now)
        return "resolved";
    return "mitigated";
}

int report_latest_event_time(store_t *st, int64_t *ms, char *err, size_t errlen)
{
    sqlite3 *db = store_db(st);
    sqlite3_stmt *s = NULL;
    *ms = AM_TIME_NONE;
    if (sqlite3_prepare_v2(db, store_sql_latest_event_time, -1, &s, NULL) != SQLITE_OK)
        goto db_error;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        *ms = sqlite3_column_int64(s, 0);
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        goto db_error;
    sqlite3_finalize(s);
    return 0;
db_error:
    am_errf(err, errlen, "%s: the latest event time: %s", store_path(st), sqlite3_errmsg(db));
    sqlite3_finalize(s);
    return -1;
}
