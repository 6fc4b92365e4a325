/*
 * metrics.c - detection-latency figures (time to detect, acknowledge,
 * mitigate, resolve) per group, and the Four Keys change failure rate and
 * median time to restore, read from the correlator's tables.
 *
 * The design choice a reader must know: everything is computed exactly,
 * in memory, from the incidents of the period. Each incident's four
 * durations are derived once (AM_TIME_NONE when a timestamp is unknown);
 * an incident is then placed in every group it belongs to (an incident
 * spanning db and web counts for both), and each group's durations are
 * sorted and read by nearest rank. Averages are never computed: these
 * durations are heavy-tailed and a mean misleads. Missing durations are
 * counted, never read as zero; negative ones (clock skew between the
 * monitoring system and Kafka) are counted and left out of percentiles.
 *
 * The tables are read with prepared statements and bound parameters on
 * the store's connection; stored JSON columns (services, gkey, episode
 * labels) are parsed back with jansson rather than re-derived.
 */
#include "report/metrics.h"
#include "common/time.h"
#include "correlate/queries.h"
#include "report/escape.h"

#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static const char *const measure_names[REPORT_METRICS_NMEASURES] = {
    [REPORT_METRICS_DETECT] = "detect",
    [REPORT_METRICS_ACKNOWLEDGE] = "acknowledge",
    [REPORT_METRICS_MITIGATE] = "mitigate",
    [REPORT_METRICS_RESOLVE] = "resolve",
};

#define METHOD                                                                                     \
    "nearest rank: the q-th percentile of the n non-negative durations sorted ascending is the "   \
    "value at 1-based rank ceil(q*n/100); missing and negative durations are excluded and counted"

const char *report_metrics_measure_name(report_metrics_measure_t m)
{
    return m < REPORT_METRICS_NMEASURES ? measure_names[m] : "?";
}

/* ---- pure computations ------------------------------------------------ */

int64_t report_metrics_percentile(const int64_t *sorted, size_t n, unsigned pct)
{
    if (n == 0)
        return AM_TIME_NONE;
    if (pct > 100)
        pct = 100;
    /* ceil(pct * n / 100) in integers: no floating-point rounding at the
     * boundaries (0.9 * 10 must be rank 9, not 10). */
    size_t rank = ((size_t)pct * n + 99) / 100;
    if (rank < 1)
        rank = 1;
    return sorted[rank - 1];
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

report_metrics_summary_t report_metrics_summarise(const int64_t *durations, size_t count)
{
    report_metrics_summary_t s = {.p50 = AM_TIME_NONE, .p90 = AM_TIME_NONE, .max = AM_TIME_NONE};
    int64_t *v = count ? am_xmalloc(count * sizeof *v) : NULL;
    for (size_t i = 0; i < count; i++) {
        if (durations[i] == AM_TIME_NONE)
            s.missing++;
        else if (durations[i] < 0)
            s.negative++;
        else
            v[s.n++] = durations[i];
    }
    if (s.n) {
        qsort(v, s.n, sizeof *v, cmp_i64);
        s.p50 = report_metrics_percentile(v, s.n, 50);
        s.p90 = report_metrics_percentile(v, s.n, 90);
        s.max = v[s.n - 1];
    }
    free(v);
    return s;
}

int64_t report_metrics_duration(int64_t from, int64_t to)
{
    if (from == AM_TIME_NONE || to == AM_TIME_NONE)
        return AM_TIME_NONE;
    return to - from;
}

double report_metrics_rate(size_t failed, size_t total)
{
    return total ? (double)failed / (double)total : -1.0;
}

int report_metrics_parse_time(const char *s, int64_t now_ms, int64_t *ms, char *err, size_t errlen)
{
    size_t len = strlen(s);
    int64_t d;
    char e1[256];
    if (am_duration_parse(s, len, &d, e1, sizeof e1) == 0) {
        *ms = now_ms - d;
        return 0;
    }
    int rc = am_time_parse(s, len, ms, e1, sizeof e1);
    if (rc == 0)
        return 0;
    if (rc == 1)
        am_errf(err, errlen, "'%s' is the zero time, not a bound", s);
    else
        am_errf(err, errlen, "'%s' is neither an RFC 3339 time nor a duration ago like 30d", s);
    return -1;
}

/* ---- the computed figures --------------------------------------------- */

typedef struct incident {
    char *id;
    char *rule;
    json_t *gkey;     /* owned object */
    json_t *services; /* owned array */
    char *severity;   /* a person's correction, or NULL */
    int64_t started;
    int64_t d[REPORT_METRICS_NMEASURES];
} incident_t;

typedef struct group {
    char *name; /* NULL: the incident has no value for the label */
    size_t *idx;
    size_t n, cap;
    report_metrics_summary_t s[REPORT_METRICS_NMEASURES];
} group_t;

typedef struct grouping {
    group_t *g;
    size_t n, cap;
} grouping_t;

typedef struct service_cf {
    char *service; /* NULL: deploys without a service */
    size_t deploys, failed;
    size_t incidents;
    int64_t restore; /* p50 of time to resolve, or AM_TIME_NONE */
} service_cf_t;

struct report_metrics {
    int64_t since, until;
    char *by;
    incident_t *inc;
    size_t ninc, capinc;
    grouping_t groups;   /* by opts->by */
    grouping_t services; /* by service, for the change failure table */
    group_t overall;
    service_cf_t *cf;
    size_t ncf, capcf;
    size_t deploys, failed;
    bool confirmed_basis; /* failed: confirmed suspects (a verdict was given) */
    report_followups_t follow;
};

/* NULL sorts after every name. */
static int name_cmp(const char *a, const char *b)
{
    if (!a || !b)
        return (a == NULL) - (b == NULL);
    return strcmp(a, b);
}

static void group_add(group_t *g, size_t i)
{
    if (g->n && g->idx[g->n - 1] == i)
        return; /* the same incident named the value twice */
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 8;
        g->idx = am_xrealloc(g->idx, g->cap * sizeof *g->idx);
    }
    g->idx[g->n++] = i;
}

/* The group called name, created in sorted position when new. */
static group_t *grouping_get(grouping_t *gs, const char *name)
{
    size_t lo = 0, hi = gs->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(gs->g[mid].name, name);
        if (c == 0)
            return &gs->g[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (gs->n == gs->cap) {
        gs->cap = gs->cap ? 2 * gs->cap : 8;
        gs->g = am_xrealloc(gs->g, gs->cap * sizeof *gs->g);
    }
    memmove(&gs->g[lo + 1], &gs->g[lo], (gs->n - lo) * sizeof *gs->g);
    gs->n++;
    memset(&gs->g[lo], 0, sizeof gs->g[lo]);
    gs->g[lo].name = am_xstrdup(name);
    return &gs->g[lo];
}

static void group_summarise(const report_metrics_t *m, group_t *g)
{
    int64_t *d = am_xcalloc(g->n ? g->n : 1, sizeof *d);
    for (int k = 0; k < REPORT_METRICS_NMEASURES; k++) {
        for (size_t i = 0; i < g->n; i++)
            d[i] = m->inc[g->idx[i]].d[k];
        g->s[k] = report_metrics_summarise(d, g->n);
    }
    free(d);
}

static void grouping_free(grouping_t *gs)
{
    for (size_t i = 0; i < gs->n; i++) {
        free(gs->g[i].name);
        free(gs->g[i].idx);
    }
    free(gs->g);
}

void report_metrics_destroy(report_metrics_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->ninc; i++) {
        free(m->inc[i].id);
        free(m->inc[i].rule);
        free(m->inc[i].severity);
        json_decref(m->inc[i].gkey);
        json_decref(m->inc[i].services);
    }
    free(m->inc);
    grouping_free(&m->groups);
    grouping_free(&m->services);
    free(m->overall.idx);
    for (size_t i = 0; i < m->ncf; i++)
        free(m->cf[i].service);
    free(m->cf);
    free(m->by);
    free(m);
}

/* ---- reading the store ------------------------------------------------ */

static void bind_bound(sqlite3_stmt *s, int col, int64_t t)
{
    if (t == AM_TIME_NONE)
        sqlite3_bind_null(s, col);
    else
        sqlite3_bind_int64(s, col, t);
}

static int64_t col_time(sqlite3_stmt *s, int col)
{
    return sqlite3_column_type(s, col) == SQLITE_NULL ? AM_TIME_NONE : sqlite3_column_int64(s, col);
}

static json_t *col_json(sqlite3_stmt *s, int col)
{
    const char *t = (const char *)sqlite3_column_text(s, col);
    return t ? json_loads(t, 0, NULL) : NULL;
}

static int load_incidents(report_metrics_t *m, sqlite3_stmt *s)
{
    bind_bound(s, 1, m->since);
    bind_bound(s, 2, m->until);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (m->ninc == m->capinc) {
            m->capinc = m->capinc ? 2 * m->capinc : 16;
            m->inc = am_xrealloc(m->inc, m->capinc * sizeof *m->inc);
        }
        incident_t *in = &m->inc[m->ninc++];
        in->id = am_xstrdup((const char *)sqlite3_column_text(s, 0));
        in->rule = am_xstrdup((const char *)sqlite3_column_text(s, 1));
        in->gkey = col_json(s, 2);
        in->services = col_json(s, 3);
        in->severity = am_xstrdup((const char *)sqlite3_column_text(s, 9));
        int64_t started = col_time(s, 4), detected = col_time(s, 5), acked = col_time(s, 6),
                mitigated = col_time(s, 7), resolved = col_time(s, 8);
        in->started = started;
        in->d[REPORT_METRICS_DETECT] = report_metrics_duration(started, detected);
        in->d[REPORT_METRICS_ACKNOWLEDGE] = report_metrics_duration(detected, acked);
        in->d[REPORT_METRICS_MITIGATE] = report_metrics_duration(started, mitigated);
        in->d[REPORT_METRICS_RESOLVE] = report_metrics_duration(started, resolved);
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Places incident i in the groups of its services. */
static void place_by_service(grouping_t *gs, const incident_t *in, size_t i)
{
    size_t k, placed = 0;
    json_t *v;
    json_array_foreach(in->services, k, v)
    {
        if (json_is_string(v)) {
            group_add(grouping_get(gs, json_string_value(v)), i);
            placed++;
        }
    }
    if (!placed)
        group_add(grouping_get(gs, NULL), i);
}

/* Places incident i by label: the key's value, else each distinct value
 * of the label in its episodes (alerts). */
static int place_by_label(grouping_t *gs, const incident_t *in, size_t i, const char *label,
                          sqlite3_stmt *labels)
{
    const char *v = json_string_value(json_object_get(in->gkey, label));
    if (in->severity && strcmp(label, "severity") == 0)
        v = in->severity; /* a person's correction */
    if (v) {
        group_add(grouping_get(gs, v), i);
        return 0;
    }
    sqlite3_reset(labels);
    sqlite3_bind_text(labels, 1, in->id, -1, SQLITE_STATIC);
    size_t placed = 0;
    int rc;
    while ((rc = sqlite3_step(labels)) == SQLITE_ROW) {
        json_t *l = col_json(labels, 0);
        const char *lv = json_string_value(json_object_get(l, label));
        if (lv) {
            /* group_add ignores a repeat only when it is the last added,
             * so look the value up first. */
            group_t *g = grouping_get(gs, lv);
            if (!g->n || g->idx[g->n - 1] != i) {
                group_add(g, i);
                placed++;
            }
        }
        json_decref(l);
    }
    sqlite3_clear_bindings(labels);
    if (rc != SQLITE_DONE)
        return -1;
    if (!placed)
        group_add(grouping_get(gs, NULL), i);
    return 0;
}

static service_cf_t *cf_get(report_metrics_t *m, const char *service)
{
    for (size_t i = 0; i < m->ncf; i++)
        if (name_cmp(m->cf[i].service, service) == 0)
            return &m->cf[i];
    if (m->ncf == m->capcf) {
        m->capcf = m->capcf ? 2 * m->capcf : 8;
        m->cf = am_xrealloc(m->cf, m->capcf * sizeof *m->cf);
    }
    service_cf_t *c = &m->cf[m->ncf++];
    memset(c, 0, sizeof *c);
    c->service = am_xstrdup(service);
    c->restore = AM_TIME_NONE;
    return c;
}

static int cf_cmp(const void *a, const void *b)
{
    return name_cmp(((const service_cf_t *)a)->service, ((const service_cf_t *)b)->service);
}

static int load_deploys(report_metrics_t *m, sqlite3_stmt *s)
{
    bind_bound(s, 1, m->since);
    bind_bound(s, 2, m->until);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        service_cf_t *c = cf_get(m, (const char *)sqlite3_column_text(s, 0));
        c->deploys += (size_t)sqlite3_column_int64(s, 1);
        c->failed += (size_t)sqlite3_column_int64(s, 2);
        m->deploys += (size_t)sqlite3_column_int64(s, 1);
        m->failed += (size_t)sqlite3_column_int64(s, 2);
        m->confirmed_basis = sqlite3_column_int(s, 3) != 0;
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

int report_metrics_followups(store_t *st, int64_t since, int64_t until, int64_t now,
                             report_followups_t *out, char *err, size_t errlen)
{
    sqlite3 *db = store_db(st);
    sqlite3_stmt *s = NULL;
    int64_t *close = NULL;
    size_t nclose = 0;
    memset(out, 0, sizeof *out);
    out->close_p50 = AM_TIME_NONE;
    int rc = sqlite3_prepare_v2(db, corr_sql_followups, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        bind_bound(s, 1, since);
        bind_bound(s, 2, until);
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            const char *status = (const char *)sqlite3_column_text(s, 0);
            int64_t due = col_time(s, 1), opened = col_time(s, 2), closed = col_time(s, 3);
            if (status && strcmp(status, "done") == 0) {
                out->done++;
                if (opened != AM_TIME_NONE && closed != AM_TIME_NONE) {
                    close = am_xrealloc(close, (nclose + 1) * sizeof *close);
                    close[nclose++] = closed - opened;
                }
            } else {
                out->open++;
                out->overdue += due != AM_TIME_NONE && now != AM_TIME_NONE && due < now;
            }
        }
    }
    sqlite3_finalize(s);
    s = NULL;
    if (rc == SQLITE_DONE &&
        (rc = sqlite3_prepare_v2(db, corr_sql_corrected, -1, &s, NULL)) == SQLITE_OK) {
        bind_bound(s, 1, since);
        bind_bound(s, 2, until);
        if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            out->corrected = sqlite3_column_int64(s, 0);
            rc = SQLITE_DONE;
        }
    }
    sqlite3_finalize(s);
    if (nclose)
        out->close_p50 = report_metrics_summarise(close, nclose).p50;
    free(close);
    if (rc != SQLITE_DONE) {
        am_errf(err, errlen, "%s: reading follow-ups: %s", store_path(st), sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

report_metrics_t *report_metrics_compute(store_t *st, const report_metrics_options_t *opts,
                                         char *err, size_t errlen)
{
    const char *by = opts && opts->by ? opts->by : "service";
    if (!*by) {
        am_errf(err, errlen, "--by: empty label name");
        return NULL;
    }
    sqlite3 *db = store_db(st);
    sqlite3_stmt *inc = NULL, *labels = NULL, *deploys = NULL;
    report_metrics_t *m = am_xcalloc(1, sizeof *m);
    m->since = opts ? opts->since : AM_TIME_NONE;
    m->until = opts ? opts->until : AM_TIME_NONE;
    m->by = am_xstrdup(by);
    const char *what = "preparing";

    if (sqlite3_prepare_v2(db, corr_sql_incidents_between, -1, &inc, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, corr_sql_episode_labels, -1, &labels, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, corr_sql_deploys_by_service, -1, &deploys, NULL) != SQLITE_OK)
        goto db_error;
    what = "reading incidents";
    if (load_incidents(m, inc) != 0)
        goto db_error;
    what = "reading episodes";
    for (size_t i = 0; i < m->ninc; i++) {
        const incident_t *in = &m->inc[i];
        group_add(&m->overall, i);
        place_by_service(&m->services, in, i);
        if (strcmp(by, "service") == 0)
            place_by_service(&m->groups, in, i);
        else if (strcmp(by, "rule") == 0)
            group_add(grouping_get(&m->groups, in->rule), i);
        else if (place_by_label(&m->groups, in, i, by, labels) != 0)
            goto db_error;
    }
    what = "reading deploys";
    if (load_deploys(m, deploys) != 0)
        goto db_error;

    group_summarise(m, &m->overall);
    for (size_t i = 0; i < m->groups.n; i++)
        group_summarise(m, &m->groups.g[i]);
    for (size_t i = 0; i < m->services.n; i++) {
        group_t *g = &m->services.g[i];
        group_summarise(m, g);
        service_cf_t *c = cf_get(m, g->name);
        c->incidents = g->n;
        c->restore = g->s[REPORT_METRICS_RESOLVE].p50;
    }
    if (m->ncf)
        qsort(m->cf, m->ncf, sizeof *m->cf, cf_cmp);
    if (report_metrics_followups(st, m->since, m->until, am_wall_ms(), &m->follow, err, errlen) !=
        0) {
        sqlite3_finalize(inc);
        sqlite3_finalize(labels);
        sqlite3_finalize(deploys);
        report_metrics_destroy(m);
        return NULL;
    }
    sqlite3_finalize(inc);
    sqlite3_finalize(labels);
    sqlite3_finalize(deploys);
    return m;

db_error:
    am_errf(err, errlen, "%s: %s: %s", store_path(st), what, sqlite3_errmsg(db));
    sqlite3_finalize(inc);
    sqlite3_finalize(labels);
    sqlite3_finalize(deploys);
    report_metrics_destroy(m);
    return NULL;
}

/* ---- rendering -------------------------------------------------------- */

static json_t *seconds_json(int64_t ms)
{
    if (ms == AM_TIME_NONE)
        return json_null();
    if (ms % 1000 == 0)
        return json_integer(ms / 1000);
    return json_real((double)ms / 1000.0);
}

static json_t *time_json(int64_t ms)
{
    char buf[AM_TIME_STRLEN];
    return ms == AM_TIME_NONE ? json_null() : json_string(am_time_format(ms, buf));
}

static json_t *rate_json(size_t failed, size_t total)
{
    double r = report_metrics_rate(failed, total);
    return r < 0 ? json_null() : json_real(r);
}

static json_t *summary_json(const report_metrics_summary_t *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "n", json_integer((json_int_t)s->n));
    json_object_set_new(o, "missing", json_integer((json_int_t)s->missing));
    json_object_set_new(o, "negative", json_integer((json_int_t)s->negative));
    json_object_set_new(o, "p50_s", seconds_json(s->p50));
    json_object_set_new(o, "p90_s", seconds_json(s->p90));
    json_object_set_new(o, "max_s", seconds_json(s->max));
    return o;
}

static json_t *group_json(const group_t *g, int named)
{
    static const char *const keys[REPORT_METRICS_NMEASURES] = {
        "time_to_detect", "time_to_acknowledge", "time_to_mitigate", "time_to_resolve"};
    json_t *o = json_object();
    if (named)
        json_object_set_new(o, "group", g->name ? json_string(g->name) : json_null());
    json_object_set_new(o, "incidents", json_integer((json_int_t)g->n));
    for (int k = 0; k < REPORT_METRICS_NMEASURES; k++)
        json_object_set_new(o, keys[k], summary_json(&g->s[k]));
    return o;
}

json_t *report_metrics_json(const report_metrics_t *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "since", time_json(m->since));
    json_object_set_new(o, "until", time_json(m->until));
    json_object_set_new(o, "by", json_string(m->by));
    json_object_set_new(o, "method", json_string(METHOD));
    json_t *groups = json_array();
    for (size_t i = 0; i < m->groups.n; i++)
        json_array_append_new(groups, group_json(&m->groups.g[i], 1));
    json_object_set_new(o, "groups", groups);
    json_object_set_new(o, "overall", group_json(&m->overall, 0));

    json_t *cf = json_object();
    json_object_set_new(cf, "deploys", json_integer((json_int_t)m->deploys));
    json_object_set_new(cf, "failed", json_integer((json_int_t)m->failed));
    json_object_set_new(cf, "rate", rate_json(m->failed, m->deploys));
    json_object_set_new(cf, "basis",
                        json_string(m->confirmed_basis ? "confirmed_suspects" : "suspects"));
    const report_followups_t *f = &m->follow;
    json_object_set_new(o, "follow_ups",
                        json_pack("{s:I,s:I,s:I,s:o,s:I}", "action_items_open", (json_int_t)f->open,
                                  "action_items_overdue", (json_int_t)f->overdue,
                                  "action_items_done", (json_int_t)f->done, "median_days_to_close",
                                  f->close_p50 == AM_TIME_NONE
                                      ? json_null()
                                      : json_real((double)f->close_p50 / 86400000.0),
                                  "incidents_corrected", (json_int_t)f->corrected));
    json_object_set_new(cf, "median_time_to_restore_s",
                        seconds_json(m->overall.s[REPORT_METRICS_RESOLVE].p50));
    json_t *svcs = json_array();
    for (size_t i = 0; i < m->ncf; i++) {
        const service_cf_t *c = &m->cf[i];
        json_t *s = json_object();
        json_object_set_new(s, "service", c->service ? json_string(c->service) : json_null());
        json_object_set_new(s, "deploys", json_integer((json_int_t)c->deploys));
        json_object_set_new(s, "failed", json_integer((json_int_t)c->failed));
        json_object_set_new(s, "rate", rate_json(c->failed, c->deploys));
        json_object_set_new(s, "incidents", json_integer((json_int_t)c->incidents));
        json_object_set_new(s, "median_time_to_restore_s", seconds_json(c->restore));
        json_array_append_new(svcs, s);
    }
    json_object_set_new(cf, "services", svcs);
    json_object_set_new(o, "change_failure", cf);
    return o;
}

static const char *dur_text(int64_t ms, char buf[AM_TIME_STRLEN])
{
    return ms == AM_TIME_NONE ? "-" : am_duration_human(ms, buf);
}

static const char *rate_text(size_t failed, size_t total, char buf[16])
{
    double r = report_metrics_rate(failed, total);
    if (r < 0)
        return "-";
    snprintf(buf, 16, "%.1f%%", r * 100.0);
    return buf;
}

/* name is already escaped for the terminal. */
static void table_group(am_buf_t *out, int w, const char *name, const group_t *g)
{
    char a[AM_TIME_STRLEN], b[AM_TIME_STRLEN], c[AM_TIME_STRLEN];
    for (int k = 0; k < REPORT_METRICS_NMEASURES; k++) {
        const report_metrics_summary_t *s = &g->s[k];
        char count[24] = "";
        if (k == 0)
            snprintf(count, sizeof count, "%zu", g->n);
        am_buf_printf(out, "%-*s  %-9s  %-11s  %5zu  %7zu  %8zu  %-10s  %-10s  %s\n", w,
                      k == 0 ? name : "", count, measure_names[k], s->n, s->missing, s->negative,
                      dur_text(s->p50, a), dur_text(s->p90, b), dur_text(s->max, c));
    }
}

/* Escapes each of names[0..n) for the terminal into bufs[i] (a NULL name
 * reads "(none)"); returns the widest, at least min. */
static int term_names(am_buf_t *bufs, const char *const *names, size_t n, int min)
{
    int w = min;
    for (size_t i = 0; i < n; i++) {
        report_term(&bufs[i], names[i] ? names[i] : "(none)");
        if ((int)bufs[i].len > w)
            w = (int)bufs[i].len;
    }
    return w;
}

static void free_bufs(am_buf_t *bufs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        am_buf_free(&bufs[i]);
    free(bufs);
}

/* "All incidents" or "Incidents started at or after T1 and before T2"
 * (each bound only when set), for the table and the page alike. */
static void period_text(const report_metrics_t *m, am_buf_t *out)
{
    char t1[AM_TIME_STRLEN], t2[AM_TIME_STRLEN];
    if (m->since == AM_TIME_NONE && m->until == AM_TIME_NONE)
        am_buf_puts(out, "All incidents");
    else
        am_buf_puts(out, "Incidents started");
    if (m->since != AM_TIME_NONE)
        am_buf_printf(out, " at or after %s", am_time_format(m->since, t1));
    if (m->since != AM_TIME_NONE && m->until != AM_TIME_NONE)
        am_buf_puts(out, " and");
    if (m->until != AM_TIME_NONE)
        am_buf_printf(out, " before %s", am_time_format(m->until, t2));
}

void report_metrics_table(const report_metrics_t *m, am_buf_t *out)
{
    char rb[16], db[AM_TIME_STRLEN];
    am_buf_t by = {0};
    report_term(&by, m->by);
    period_text(m, out);
    am_buf_printf(out, ", by %s.\n", by.p ? by.p : "");
    am_buf_puts(out, "Percentiles by nearest rank over non-negative durations; N has the\n"
                     "duration, MISSING lacks a timestamp, NEGATIVE is clock skew.\n\n");
    size_t ng = m->groups.n;
    am_buf_t *names = am_xcalloc(ng + 1, sizeof *names);
    const char **raw = am_xcalloc(ng + 1, sizeof *raw);
    for (size_t i = 0; i < ng; i++)
        raw[i] = m->groups.g[i].name;
    int w = term_names(names, raw, ng, by.len > 7 ? (int)by.len : 7);
    char head[64];
    size_t hl = by.len < sizeof head - 1 ? by.len : sizeof head - 1;
    for (size_t i = 0; i < hl; i++)
        head[i] = (char)(by.p[i] >= 'a' && by.p[i] <= 'z' ? by.p[i] - 'a' + 'A' : by.p[i]);
    head[hl] = '\0';
    am_buf_printf(out, "%-*s  %-9s  %-11s  %5s  %7s  %8s  %-10s  %-10s  %s\n", w, head, "INCIDENTS",
                  "TIME TO", "N", "MISSING", "NEGATIVE", "P50", "P90", "MAX");
    for (size_t i = 0; i < ng; i++)
        table_group(out, w, names[i].p, &m->groups.g[i]);
    table_group(out, w, "(all)", &m->overall);
    free_bufs(names, ng);
    free(raw);

    am_buf_puts(out,
                m->confirmed_basis
                    ? "\nChange failure rate: deploys of the period a person confirmed as an\n"
                      "incident's suspect / all deploys of the period (a suspect of the\n"
                      "period has a verdict, so confirmed suspects are the basis); time to\n"
                      "restore: p50 of time to resolve of the service's incidents.\n\n"
                    : "\nChange failure rate: deploys of the period linked to an incident as a\n"
                      "suspect / all deploys of the period; time to restore: p50 of time to\n"
                      "resolve of the service's incidents.\n\n");
    names = am_xcalloc(m->ncf + 1, sizeof *names);
    raw = am_xcalloc(m->ncf + 1, sizeof *raw);
    for (size_t i = 0; i < m->ncf; i++)
        raw[i] = m->cf[i].service;
    w = term_names(names, raw, m->ncf, 7);
    am_buf_printf(out, "%-*s  %7s  %6s  %6s  %9s  %s\n", w, "SERVICE", "DEPLOYS", "FAILED", "RATE",
                  "INCIDENTS", "MEDIAN TIME TO RESTORE");
    for (size_t i = 0; i < m->ncf; i++) {
        const service_cf_t *c = &m->cf[i];
        am_buf_printf(out, "%-*s  %7zu  %6zu  %6s  %9zu  %s\n", w, names[i].p, c->deploys,
                      c->failed, rate_text(c->failed, c->deploys, rb), c->incidents,
                      dur_text(c->restore, db));
    }
    am_buf_printf(out, "%-*s  %7zu  %6zu  %6s  %9zu  %s\n", w, "(all)", m->deploys, m->failed,
                  rate_text(m->failed, m->deploys, rb), m->overall.n,
                  dur_text(m->overall.s[REPORT_METRICS_RESOLVE].p50, db));
    free_bufs(names, m->ncf);
    free(raw);
    am_buf_free(&by);
    /* Only when people track something, so that tables without read as before. */
    const report_followups_t *f = &m->follow;
    if (f->open || f->done || f->corrected) {
        am_buf_printf(out,
                      "\nFollow-ups: %" PRId64 " action items open (%" PRId64 " overdue), %" PRId64
                      " done",
                      f->open, f->overdue, f->done);
        if (f->close_p50 != AM_TIME_NONE)
            am_buf_printf(out, ", median %.1f days to close", (double)f->close_p50 / 86400000.0);
        am_buf_printf(out, "; %" PRId64 " incident%s corrected by people.\n", f->corrected,
                      f->corrected == 1 ? "" : "s");
    }
}

static void csv_seconds(am_buf_t *out, int64_t ms)
{
    if (ms == AM_TIME_NONE)
        return;
    if (ms % 1000 == 0)
        am_buf_printf(out, "%lld", (long long)(ms / 1000));
    else
        am_buf_printf(out, "%.3f", (double)ms / 1000.0);
}

static void csv_group(am_buf_t *out, const char *by, const char *name, const group_t *g)
{
    for (int k = 0; k < REPORT_METRICS_NMEASURES; k++) {
        const report_metrics_summary_t *s = &g->s[k];
        report_csv(out, by);
        am_buf_putc(out, ',');
        report_csv(out, name);
        am_buf_printf(out, ",%zu,", g->n);
        report_csv(out, measure_names[k]);
        am_buf_printf(out, ",%zu,%zu,%zu,", s->n, s->missing, s->negative);
        csv_seconds(out, s->p50);
        am_buf_putc(out, ',');
        csv_seconds(out, s->p90);
        am_buf_putc(out, ',');
        csv_seconds(out, s->max);
        am_buf_puts(out, "\r\n");
    }
}

static void csv_cf(am_buf_t *out, const char *service, size_t deploys, size_t failed,
                   size_t incidents, int64_t restore)
{
    report_csv(out, service);
    am_buf_printf(out, ",%zu,%zu,", deploys, failed);
    double r = report_metrics_rate(failed, deploys);
    if (r >= 0)
        am_buf_printf(out, "%.4f", r);
    am_buf_printf(out, ",%zu,", incidents);
    csv_seconds(out, restore);
    am_buf_puts(out, "\r\n");
}

void report_metrics_csv(const report_metrics_t *m, am_buf_t *out)
{
    am_buf_puts(out, "group_by,group,incidents,measure,n,missing,negative,p50_s,p90_s,max_s\r\n");
    for (size_t i = 0; i < m->groups.n; i++)
        csv_group(out, m->by, m->groups.g[i].name, &m->groups.g[i]);
    csv_group(out, m->by, "*", &m->overall);
    am_buf_puts(out, "\r\nservice,deploys,failed,rate,incidents,median_time_to_restore_s\r\n");
    for (size_t i = 0; i < m->ncf; i++)
        csv_cf(out, m->cf[i].service, m->cf[i].deploys, m->cf[i].failed, m->cf[i].incidents,
               m->cf[i].restore);
    csv_cf(out, "*", m->deploys, m->failed, m->overall.n, m->overall.s[REPORT_METRICS_RESOLVE].p50);
}

/* ---- HTML ------------------------------------------------------------- */

/* Chart geometry: a log scale from 1 s to 30 days, so that seconds and
 * days both stay readable on heavy-tailed data. */
#define SVG_LABEL_W 140
#define SVG_PLOT_W 480
#define SVG_ROW_H 22
#define SVG_LOG_MAX 6.41 /* log10(30 days in seconds) */

static double svg_x(int64_t ms)
{
    double sec = (double)ms / 1000.0;
    double l = sec <= 1.0 ? 0.0 : log10(sec);
    if (l > SVG_LOG_MAX)
        l = SVG_LOG_MAX;
    return SVG_LABEL_W + l / SVG_LOG_MAX * SVG_PLOT_W;
}

/* One chart for measure k: a row per group, each incident's duration a
 * dot, the p50 and p90 as ticks. */
static void html_chart(const report_metrics_t *m, am_buf_t *out, int k)
{
    static const struct {
        int64_t ms;
        const char *label;
    } ticks[] = {{1000, "1s"},    {10000, "10s"},   {60000, "1m"},    {600000, "10m"},
                 {3600000, "1h"}, {21600000, "6h"}, {86400000, "1d"}, {604800000, "7d"}};
    size_t rows = m->groups.n;
    int h = (int)(rows + 1) * SVG_ROW_H + 10;
    am_buf_printf(out,
                  "<svg width=\"%d\" height=\"%d\" "
                  "role=\"img\"><title>time to %s per ",
                  SVG_LABEL_W + SVG_PLOT_W + 20, h, measure_names[k]);
    report_html(out, m->by);
    am_buf_puts(out, "</title>\n");
    for (size_t t = 0; t < sizeof ticks / sizeof ticks[0]; t++) {
        double x = svg_x(ticks[t].ms);
        am_buf_printf(out,
                      "<line x1=\"%.1f\" y1=\"0\" x2=\"%.1f\" y2=\"%d\" class=\"grid\"/>"
                      "<text x=\"%.1f\" y=\"%d\" class=\"tick\">%s</text>\n",
                      x, x, h - 14, x, h - 2, ticks[t].label);
    }
    for (size_t r = 0; r < rows; r++) {
        const group_t *g = &m->groups.g[r];
        int y = (int)r * SVG_ROW_H + SVG_ROW_H / 2 + 2;
        am_buf_printf(out, "<text x=\"0\" y=\"%d\" class=\"name\">", y + 4);
        report_html(out, g->name ? g->name : "(none)");
        am_buf_puts(out, "</text>\n");
        for (size_t i = 0; i < g->n; i++) {
            int64_t d = m->inc[g->idx[i]].d[k];
            if (d == AM_TIME_NONE || d < 0)
                continue;
            am_buf_printf(out, "<circle cx=\"%.1f\" cy=\"%d\" r=\"3\" class=\"dot\"/>\n", svg_x(d),
                          y);
        }
        const report_metrics_summary_t *s = &g->s[k];
        if (s->n) {
            am_buf_printf(out,
                          "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"p50\"/>"
                          "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"p90\"/>\n",
                          svg_x(s->p50), y - 8, svg_x(s->p50), y + 8, svg_x(s->p90), y - 8,
                          svg_x(s->p90), y + 8);
        }
    }
    am_buf_puts(out, "</svg>\n");
}

static void html_cell_dur(am_buf_t *out, int64_t ms)
{
    char b[AM_TIME_STRLEN];
    am_buf_printf(out, "<td>%s</td>", dur_text(ms, b));
}

static void html_group_rows(am_buf_t *out, const char *name, const group_t *g)
{
    for (int k = 0; k < REPORT_METRICS_NMEASURES; k++) {
        const report_metrics_summary_t *s = &g->s[k];
        am_buf_puts(out, "<tr>");
        if (k == 0) {
            am_buf_printf(out, "<th rowspan=\"%d\">", REPORT_METRICS_NMEASURES);
            report_html(out, name);
            am_buf_printf(out, "</th><td rowspan=\"%d\">%zu</td>", REPORT_METRICS_NMEASURES, g->n);
        }
        am_buf_printf(out, "<td>%s</td><td>%zu</td><td>%zu</td><td>%zu</td>", measure_names[k],
                      s->n, s->missing, s->negative);
        html_cell_dur(out, s->p50);
        html_cell_dur(out, s->p90);
        html_cell_dur(out, s->max);
        am_buf_puts(out, "</tr>\n");
    }
}

#define WEEK_MS (7LL * 24 * 3600 * 1000)
#define MONDAY_MS (4LL * 24 * 3600 * 1000) /* 1970-01-05, the first Monday */
#define TREND_MAX_WEEKS 520

/* Start (UTC Monday 00:00) of the week holding t. */
static int64_t week_of(int64_t t)
{
    int64_t x = t - MONDAY_MS, w = x / WEEK_MS;
    if (x % WEEK_MS < 0)
        w--;
    return w * WEEK_MS + MONDAY_MS;
}

/* The weekly trend: incidents started per week (bars, with the count and
 * the week's p50 time to detect written above). */
static void html_trend(const report_metrics_t *m, am_buf_t *out)
{
    if (!m->ninc) {
        am_buf_puts(out, "<p>No incidents.</p>\n");
        return;
    }
    int64_t first = week_of(m->inc[0].started), last = first;
    for (size_t i = 0; i < m->ninc; i++) {
        int64_t w = week_of(m->inc[i].started);
        if (w < first)
            first = w;
        if (w > last)
            last = w;
    }
    int64_t nweeks = (last - first) / WEEK_MS + 1;
    if (nweeks > TREND_MAX_WEEKS) {
        am_buf_printf(out,
                      "<p>The period spans %lld weeks; the trend shows at most %d: narrow "
                      "it with --since.</p>\n",
                      (long long)nweeks, TREND_MAX_WEEKS);
        return;
    }
    size_t nw = (size_t)nweeks;
    size_t *count = am_xcalloc(nw, sizeof *count);
    int64_t *d = am_xmalloc(m->ninc * sizeof *d);
    size_t maxc = 1;
    for (size_t i = 0; i < m->ninc; i++) {
        size_t w = (size_t)((week_of(m->inc[i].started) - first) / WEEK_MS);
        if (++count[w] > maxc)
            maxc = count[w];
    }
    int bw = nw < 10 ? 60 : nw < 60 ? 600 / (int)nw : 10, ph = 120, top = 30;
    am_buf_printf(out,
                  "<svg width=\"%d\" height=\"%d\" role=\"img\"><title>incidents per "
                  "week</title>\n",
                  (int)nw * bw + 20, top + ph + 20);
    for (size_t w = 0; w < nw; w++) {
        int64_t ws = first + (int64_t)w * WEEK_MS;
        size_t n = 0;
        for (size_t i = 0; i < m->ninc; i++)
            if (week_of(m->inc[i].started) == ws)
                d[n++] = m->inc[i].d[REPORT_METRICS_DETECT];
        report_metrics_summary_t s = report_metrics_summarise(d, n);
        int h = (int)((double)count[w] / (double)maxc * ph);
        int x = (int)w * bw;
        char day[AM_TIME_STRLEN], p50[AM_TIME_STRLEN];
        am_time_format(ws, day);
        day[10] = '\0';
        am_buf_printf(out,
                      "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"bar\">"
                      "<title>week of %s: %zu incidents, p50 time to detect %s</title></rect>\n",
                      x + 1, top + ph - h, bw - 2, h, day, count[w], dur_text(s.p50, p50));
        if (bw >= 40)
            am_buf_printf(out,
                          "<text x=\"%d\" y=\"%d\" class=\"tick\">%zu</text>"
                          "<text x=\"%d\" y=\"%d\" class=\"tick\">%s</text>"
                          "<text x=\"%d\" y=\"%d\" class=\"tick\">%s</text>\n",
                          x + bw / 2, top + ph - h - 14, count[w], x + bw / 2, top + ph - h - 3,
                          dur_text(s.p50, p50), x + bw / 2, top + ph + 14, day + 5);
    }
    am_buf_puts(out, "</svg>\n");
    free(d);
    free(count);
}

void report_metrics_html(const report_metrics_t *m, am_buf_t *out)
{
    char rb[16];
    am_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                     "<meta http-equiv=\"Content-Security-Policy\" content=\"" REPORT_HTML_CSP
                     "\">\n<title>aftermath: detection-latency metrics</title>\n<style>\n"
                     "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\n"
                     "table{border-collapse:collapse;margin:1em 0}\n"
                     "th,td{border:1px solid #ccc;padding:2px 8px;text-align:right}\n"
                     "th{background:#f4f4f4}\n"
                     ".grid{stroke:#ddd}.tick{font-size:10px;fill:#666;text-anchor:middle}\n"
                     ".name{font-size:12px}.dot{fill:#3465a4;fill-opacity:.6}\n"
                     ".p50{stroke:#222;stroke-width:2}.p90{stroke:#c00;stroke-width:2}\n"
                     ".bar{fill:#729fcf}\n"
                     "</style></head><body>\n<h1>Detection-latency metrics</h1>\n<p>");
    am_buf_t period = {0};
    period_text(m, &period);
    report_html(out, period.p);
    am_buf_free(&period);
    am_buf_puts(out, ", by <b>");
    report_html(out, m->by);
    am_buf_puts(out, "</b>.</p>\n<p>Percentiles: " METHOD ". N: incidents with the duration; "
                     "missing: a timestamp unknown; negative: clock skew.</p>\n");
    am_buf_puts(out, "<table>\n<tr><th>");
    report_html(out, m->by);
    am_buf_puts(out, "</th><th>incidents</th><th>time to</th><th>N</th><th>missing</th>"
                     "<th>negative</th><th>p50</th><th>p90</th><th>max</th></tr>\n");
    for (size_t i = 0; i < m->groups.n; i++)
        html_group_rows(out, m->groups.g[i].name ? m->groups.g[i].name : "(none)", &m->groups.g[i]);
    html_group_rows(out, "(all)", &m->overall);
    am_buf_puts(out, "</table>\n<h2>Distributions</h2>\n<p>Each dot is an incident (log "
                     "scale); black tick p50, red tick p90.</p>\n");
    for (int k = 0; k < REPORT_METRICS_NMEASURES; k++) {
        am_buf_printf(out, "<h3>Time to %s</h3>\n", measure_names[k]);
        html_chart(m, out, k);
    }
    am_buf_puts(out, "<h2>Weekly trend</h2>\n<p>Incidents started per week (weeks from "
                     "Monday 00:00 UTC); above each bar its count and its p50 time to "
                     "detect.</p>\n");
    html_trend(m, out);
    am_buf_puts(out, m->confirmed_basis ? "<h2>Change failure rate</h2>\n<p>Deploys of the period "
                                          "a person confirmed as an incident's suspect (a suspect "
                                          "of the period has a verdict) / all deploys of the "
                                          "period."
                                        : "<h2>Change failure rate</h2>\n<p>Deploys of the period "
                                          "linked to an incident as a suspect / all deploys of "
                                          "the period.");
    am_buf_puts(out, " Median time to "
                     "restore: p50 of time to resolve.</p>\n<table>\n<tr><th>service</th>"
                     "<th>deploys</th><th>failed</th><th>rate</th><th>incidents</th>"
                     "<th>median time to restore</th></tr>\n");
    for (size_t i = 0; i < m->ncf; i++) {
        const service_cf_t *c = &m->cf[i];
        am_buf_puts(out, "<tr><th>");
        report_html(out, c->service ? c->service : "(none)");
        am_buf_printf(out, "</th><td>%zu</td><td>%zu</td><td>%s</td><td>%zu</td>", c->deploys,
                      c->failed, rate_text(c->failed, c->deploys, rb), c->incidents);
        html_cell_dur(out, c->restore);
        am_buf_puts(out, "</tr>\n");
    }
    am_buf_printf(out, "<tr><th>(all)</th><td>%zu</td><td>%zu</td><td>%s</td><td>%zu</td>",
                  m->deploys, m->failed, rate_text(m->failed, m->deploys, rb), m->overall.n);
    html_cell_dur(out, m->overall.s[REPORT_METRICS_RESOLVE].p50);
    am_buf_puts(out, "</tr>\n</table>\n</body></html>\n");
}
