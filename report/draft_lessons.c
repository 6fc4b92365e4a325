/*
 * draft_lessons.c - Lessons Learned: this incident's time to detect,
 * acknowledge, mitigate and resolve against each of its services' p50 over
 * the incidents that started before it (read from the incidents table).
 *
 * Durations follow DESIGN.md: detect = detected - started, acknowledge =
 * acknowledged - detected, mitigate = mitigated - started, resolve =
 * resolved - started. A negative one (clock skew) is kept for this
 * incident and flagged, and left out of the p50; an incident spanning
 * several services counts for each of them. The p50 is the nearest-rank
 * (lower) median.
 */
#include "report/draft_int.h"
#include "correlate/queries.h"
#include "report/timeline.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static int64_t col_time(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? AM_TIME_NONE : sqlite3_column_int64(s, i);
}

int64_t report_p50(int64_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) /* insertion sort: histories are short */
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            int64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[(n - 1) / 2];
}

/* The four durations of an incident's timestamps (ms or AM_TIME_NONE). */
static void durations(const int64_t t[5], int64_t out[4])
{
    out[0] = report_diff(t[1], t[0]); /* detect */
    out[1] = report_diff(t[2], t[1]); /* acknowledge: after detection */
    out[2] = report_diff(t[3], t[0]); /* mitigate */
    out[3] = report_diff(t[4], t[0]); /* resolve */
}

static const char *const metric_names[4] = {"detect", "acknowledge", "mitigate", "resolve"};

/* Lessons Learned: this incident's durations against each service's p50
 * over the incidents that started before it. */
json_t *report_draft_lessons(sqlite3 *db, const json_t *inc, const char *id, char *err,
                             size_t errlen)
{
    static const char *const fields[5] = {"started_at", "detected_at", "acknowledged_at",
                                          "mitigated_at", "resolved_at"};
    int64_t t[5], mine[4];
    for (int k = 0; k < 5; k++)
        t[k] = report_json_time(json_object_get(inc, fields[k]));
    durations(t, mine);
    const json_t *services = json_object_get(inc, "services");
    size_t ns = json_array_size(services);
    /* h[i].v[m]: the past values of metric m for service i. */
    typedef struct hist {
        int64_t *v[4];
        size_t n[4];
        size_t past;
    } hist_t;
    hist_t *h = am_xcalloc(ns ? ns : 1, sizeof *h);
    sqlite3_stmt *s = NULL;
    json_t *out = NULL;
    int rc;
    if (sqlite3_prepare_v2(db, corr_sql_incident_history, -1, &s, NULL) != SQLITE_OK ||
        sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
        sqlite3_bind_int64(s, 2, t[0] == AM_TIME_NONE ? INT64_MIN : t[0]) != SQLITE_OK) {
        am_errf(err, errlen, "reading incident history: %s", sqlite3_errmsg(db));
        goto cleanup;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t pt[5], pd[4];
        for (int k = 0; k < 5; k++)
            pt[k] = col_time(s, k + 1);
        durations(pt, pd);
        json_t *psvc = json_loads((const char *)sqlite3_column_text(s, 0), 0, NULL);
        for (size_t i = 0; i < ns; i++) {
            const char *svc = json_string_value(json_array_get(services, i));
            size_t j;
            json_t *x;
            int has = 0;
            json_array_foreach(psvc, j, x)
            {
                has |= json_is_string(x) && svc && strcmp(json_string_value(x), svc) == 0;
            }
            if (!has)
                continue;
            h[i].past++;
            for (int m = 0; m < 4; m++) {
                if (pd[m] == AM_TIME_NONE || pd[m] < 0)
                    continue;
                h[i].v[m] = am_xrealloc(h[i].v[m], (h[i].n[m] + 1) * sizeof(int64_t));
                h[i].v[m][h[i].n[m]++] = pd[m];
            }
        }
        json_decref(psvc);
    }
    if (rc != SQLITE_DONE) {
        am_errf(err, errlen, "reading incident history: %s", sqlite3_errmsg(db));
        goto cleanup;
    }
    out = json_array();
    for (int m = 0; m < 4; m++) {
        json_t *per = json_array();
        for (size_t i = 0; i < ns; i++) {
            json_t *p50 =
                h[i].n[m] ? json_integer(report_p50(h[i].v[m], h[i].n[m]) / 1000) : json_null();
            json_array_append_new(per, json_pack("{s:O,s:I,s:I,s:o}", "service",
                                                 json_array_get(services, i), "past_incidents",
                                                 (json_int_t)h[i].past, "measured",
                                                 (json_int_t)h[i].n[m], "p50_s", p50));
        }
        json_array_append_new(out,
                              json_pack("{s:s,s:o,s:b,s:o}", "metric", metric_names[m], "this_s",
                                        report_duration_json(mine[m]), "negative",
                                        mine[m] != AM_TIME_NONE && mine[m] < 0, "services", per));
    }
cleanup:
    sqlite3_finalize(s);
    for (size_t i = 0; i < ns; i++)
        for (int m = 0; m < 4; m++)
            free(h[i].v[m]);
    free(h);
    return out;
}
