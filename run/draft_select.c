/*
 * draft_select.c - picks the resolved incidents among what changed and hands
 * them to report_write_drafts(), which never overwrites a draft a person
 * edited. An incident merged into another is drafted under the id it was
 * merged into. The drafts of `run` show the status as of the wall clock;
 * those of `replay` as of the latest event in the store (report/status.h).
 */
#include "run/draft_select.h"
#include "common/buf.h"
#include "common/strset.h"
#include "common/time.h"
#include "correlate/incident.h"
#include "report/drafts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* As run_write_drafts_of, the status shown as of now_ms (0: the latest
 * event time in st). */
static int write_drafts_at(store_t *st, const char *const *changed, size_t n, const char *dir,
                           int64_t now_ms, bool no_links, const am_log_t *log, char *err,
                           size_t errlen)
{
    report_options_t opts = {.now_ms = now_ms, .no_links = no_links};
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        am_errf(err, errlen, "%s: cannot create the drafts directory: %s", dir, strerror(errno));
        return -1;
    }
    am_strset_t ids = {0};
    for (size_t i = 0; i < n; i++) {
        json_t *inc = corr_incident_json(st, changed[i], err, errlen);
        if (!inc && err[0]) {
            am_strset_free(&ids);
            return -1;
        }
        if (inc && strcmp(json_string_value(json_object_get(inc, "status")), "resolved") == 0)
            am_strset_add(&ids, json_string_value(json_object_get(inc, "id")), NULL);
        json_decref(inc);
    }
    int rc = ids.n ? report_write_drafts(st, dir, (const char *const *)ids.v, ids.n, &opts, log,
                                         err, errlen)
                   : 0;
    int written = rc == 0 ? (int)ids.n : -1;
    am_strset_free(&ids);
    return written;
}

int run_write_drafts_of(store_t *st, const char *const *changed, size_t n, const char *dir,
                        bool no_links, const am_log_t *log, char *err, size_t errlen)
{
    return write_drafts_at(st, changed, n, dir, am_wall_ms(), no_links, log, err, errlen);
}

int run_write_drafts(store_t *st, const corr_engine_t *engine, const char *dir, bool no_links,
                     const am_log_t *log, char *err, size_t errlen)
{
    size_t n = corr_engine_changed_count(engine);
    const char **ids = am_xcalloc(n + 1, sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = corr_engine_changed_id(engine, i);
    int rc = write_drafts_at(st, ids, n, dir, 0, no_links, log, err, errlen);
    free(ids);
    return rc;
}
