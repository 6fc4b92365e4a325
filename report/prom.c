/*
 * prom.c - the incident duration histograms as Prometheus text exposition.
 *
 * The design choice a reader must know: a report_prom_t is a set of
 * in-memory histograms fed from the store, once per incident. The daemon
 * loads every resolved incident at start (report_prom_load), then
 * observes each incident as it resolves (report_prom_observe_id); an
 * incident already observed is never observed again, so the series only
 * grow, as Prometheus expects of counters and histograms, even when an
 * incident reopens or is re-correlated (its first resolved figures stay).
 * report_prom_render does the whole thing once, for one-shot use. Only
 * resolved incidents are observed (their durations are final); an
 * incident counts for each of its services, as in the per-service
 * metrics. Missing and negative durations are not observed (a histogram
 * cannot hold them honestly) and are counted in
 * aftermath_incident_durations_skipped_total instead.
 */
#include "report/prom.h"
#include "common/strset.h"
#include "common/time.h"
#include "correlate/queries.h"
#include "report/metrics.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const int64_t bucket_s[] = {REPORT_PROM_BUCKETS};
#define NBUCKETS (sizeof bucket_s / sizeof bucket_s[0])
#define NM REPORT_METRICS_NMEASURES

static const char *const help[NM] = {
    "Time from impact start to detection (first Kafka observation of an alert), per resolved "
    "incident.",
    "Time from detection to the first acknowledgement, per resolved incident.",
    "Time from impact start to the end of the last alert, per resolved incident.",
    "Time from impact start to resolution, per resolved incident.",
};

typedef struct series {
    char *service, *rule;
    uint64_t bucket[NM][NBUCKETS]; /* non-cumulative; made cumulative on output */
    uint64_t count[NM];
    int64_t sum_ms[NM];
    uint64_t missing[NM], negative[NM];
} series_t;

typedef struct series_set {
    series_t *s;
    size_t n, cap;
} series_set_t;

struct report_prom {
    series_set_t set;
    am_strset_t seen; /* ids of the incidents observed */
};

static int series_cmp(const char *service, const char *rule, const series_t *s)
{
    int c = strcmp(service, s->service);
    return c ? c : strcmp(rule, s->rule);
}

static series_t *series_get(series_set_t *set, const char *service, const char *rule)
{
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = series_cmp(service, rule, &set->s[mid]);
        if (c == 0)
            return &set->s[mid];
        if (c > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (set->n == set->cap) {
        set->cap = set->cap ? 2 * set->cap : 8;
        set->s = am_xrealloc(set->s, set->cap * sizeof *set->s);
    }
    memmove(&set->s[lo + 1], &set->s[lo], (set->n - lo) * sizeof *set->s);
    set->n++;
    memset(&set->s[lo], 0, sizeof set->s[lo]);
    set->s[lo].service = am_xstrdup(service);
    set->s[lo].rule = am_xstrdup(rule);
    return &set->s[lo];
}

static void series_observe(series_t *s, const int64_t d[NM])
{
    for (int k = 0; k < NM; k++) {
        if (d[k] == AM_TIME_NONE) {
            s->missing[k]++;
            continue;
        }
        if (d[k] < 0) {
            s->negative[k]++;
            continue;
        }
        s->count[k]++;
        s->sum_ms[k] += d[k];
        for (size_t b = 0; b < NBUCKETS; b++)
            if (d[k] <= bucket_s[b] * 1000) {
                s->bucket[k][b]++;
                break;
            }
        /* above the last bound: only in +Inf, which is the count */
    }
}

void report_prom_label_value(am_buf_t *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')
            am_buf_puts(out, "\\\\");
        else if (*v == '"')
            am_buf_puts(out, "\\\"");
        else if (*v == '\n')
            am_buf_puts(out, "\\n");
        else
            am_buf_putc(out, *v);
    }
}

static void labels(am_buf_t *out, const series_t *s)
{
    am_buf_puts(out, "service=\"");
    report_prom_label_value(out, s->service);
    am_buf_puts(out, "\",rule=\"");
    report_prom_label_value(out, s->rule);
    am_buf_putc(out, '"');
}

static void seconds(am_buf_t *out, int64_t ms)
{
    if (ms % 1000 == 0)
        am_buf_printf(out, "%lld", (long long)(ms / 1000));
    else
        am_buf_printf(out, "%.3f", (double)ms / 1000.0);
}

static void render(const series_set_t *set, am_buf_t *out)
{
    for (int k = 0; k < NM; k++) {
        const char *m = report_metrics_measure_name((report_metrics_measure_t)k);
        am_buf_printf(out, "# HELP aftermath_incident_time_to_%s_seconds %s\n", m, help[k]);
        am_buf_printf(out, "# TYPE aftermath_incident_time_to_%s_seconds histogram\n", m);
        for (size_t i = 0; i < set->n; i++) {
            const series_t *s = &set->s[i];
            uint64_t cum = 0;
            for (size_t b = 0; b < NBUCKETS; b++) {
                cum += s->bucket[k][b];
                am_buf_printf(out, "aftermath_incident_time_to_%s_seconds_bucket{", m);
                labels(out, s);
                am_buf_printf(out, ",le=\"%lld\"} %llu\n", (long long)bucket_s[b],
                              (unsigned long long)cum);
            }
            am_buf_printf(out, "aftermath_incident_time_to_%s_seconds_bucket{", m);
            labels(out, s);
            am_buf_printf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)s->count[k]);
            am_buf_printf(out, "aftermath_incident_time_to_%s_seconds_sum{", m);
            labels(out, s);
            am_buf_puts(out, "} ");
            seconds(out, s->sum_ms[k]);
            am_buf_printf(out, "\naftermath_incident_time_to_%s_seconds_count{", m);
            labels(out, s);
            am_buf_printf(out, "} %llu\n", (unsigned long long)s->count[k]);
        }
    }
    am_buf_puts(out, "# HELP aftermath_incident_durations_skipped_total Durations of resolved "
                     "incidents not observed in the histograms: a timestamp was missing, or "
                     "the duration was negative (clock skew).\n"
                     "# TYPE aftermath_incident_durations_skipped_total counter\n");
    for (size_t i = 0; i < set->n; i++) {
        const series_t *s = &set->s[i];
        for (int k = 0; k < NM; k++) {
            const char *m = report_metrics_measure_name((report_metrics_measure_t)k);
            for (int r = 0; r < 2; r++) {
                am_buf_puts(out, "aftermath_incident_durations_skipped_total{");
                labels(out, s);
                am_buf_printf(out, ",duration=\"time_to_%s\",reason=\"%s\"} %llu\n", m,
                              r ? "negative" : "missing",
                              (unsigned long long)(r ? s->negative[k] : s->missing[k]));
            }
        }
    }
}

static int64_t col_time(sqlite3_stmt *s, int col)
{
    return sqlite3_column_type(s, col) == SQLITE_NULL ? AM_TIME_NONE : sqlite3_column_int64(s, col);
}

/* Observes the incident in the current row of s, unless seen already.
 * Returns 1 when observed, 0 when seen before. */
static int observe_row(report_prom_t *p, sqlite3_stmt *s)
{
    bool added = false;
    const char *id = (const char *)sqlite3_column_text(s, 7);
    am_strset_add(&p->seen, id ? id : "", &added);
    if (!added)
        return 0;
    const char *rule = (const char *)sqlite3_column_text(s, 0);
    const char *svc_text = (const char *)sqlite3_column_text(s, 1);
    int64_t started = col_time(s, 2), detected = col_time(s, 3), acked = col_time(s, 4),
            mitigated = col_time(s, 5), resolved = col_time(s, 6);
    const int64_t d[NM] = {
        [REPORT_METRICS_DETECT] = report_metrics_duration(started, detected),
        [REPORT_METRICS_ACKNOWLEDGE] = report_metrics_duration(detected, acked),
        [REPORT_METRICS_MITIGATE] = report_metrics_duration(started, mitigated),
        [REPORT_METRICS_RESOLVE] = report_metrics_duration(started, resolved),
    };
    json_t *services = svc_text ? json_loads(svc_text, 0, NULL) : NULL;
    size_t i, placed = 0;
    json_t *v;
    json_array_foreach(services, i, v)
    {
        if (json_is_string(v)) {
            series_observe(series_get(&p->set, json_string_value(v), rule ? rule : ""), d);
            placed++;
        }
    }
    if (!placed) /* no service: the empty label value, as Prometheus reads absence */
        series_observe(series_get(&p->set, "", rule ? rule : ""), d);
    json_decref(services);
    return 1;
}

report_prom_t *report_prom_create(void)
{
    return am_xcalloc(1, sizeof(report_prom_t));
}

void report_prom_destroy(report_prom_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->set.n; i++) {
        free(p->set.s[i].service);
        free(p->set.s[i].rule);
    }
    free(p->set.s);
    am_strset_free(&p->seen);
    free(p);
}

/* Runs sql (corr_sql_figures_all or corr_sql_figures_one with id) and observes its rows. Returns
 * the number observed, or -1 with err. */
static int observe_query(report_prom_t *p, store_t *st, const char *sql, const char *id, char *err,
                         size_t errlen)
{
    sqlite3 *db = store_db(st);
    sqlite3_stmt *s = NULL;
    int n = 0, step = SQLITE_ERROR;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, "resolved", -1, SQLITE_STATIC);
        if (id)
            sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
        while ((step = sqlite3_step(s)) == SQLITE_ROW)
            n += observe_row(p, s);
    }
    if (step != SQLITE_DONE) {
        am_errf(err, errlen, "%s: reading incidents: %s", store_path(st), sqlite3_errmsg(db));
        n = -1;
    }
    sqlite3_finalize(s);
    return n;
}

int report_prom_load(report_prom_t *p, store_t *st, char *err, size_t errlen)
{
    return observe_query(p, st, corr_sql_figures_all, NULL, err, errlen) < 0 ? -1 : 0;
}

int report_prom_observe_id(report_prom_t *p, store_t *st, const char *id, char *err, size_t errlen)
{
    if (am_strset_find(&p->seen, id) != (size_t)-1)
        return 0;
    return observe_query(p, st, corr_sql_figures_one, id, err, errlen);
}

void report_prom_write(const report_prom_t *p, am_buf_t *out)
{
    render(&p->set, out);
}

int report_prom_render(store_t *st, am_buf_t *out, char *err, size_t errlen)
{
    report_prom_t *p = report_prom_create();
    int rc = report_prom_load(p, st, err, errlen);
    if (rc == 0)
        render(&p->set, out);
    report_prom_destroy(p);
    return rc;
}
