/*
 * test_metrics.c - report/metrics.c on hand-computed data: nearest-rank
 * percentiles (ties, one value, none, the rank boundaries), missing and
 * negative durations, rates without deploys, --since/--until parsing, and
 * the figures of a small story fed through the real pipeline (several
 * services per incident, clock skew, a missing ack, a missing detection,
 * suspects and unrelated deploys, label groups from the key and from the
 * alerts, a period).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "corr_util.h"
#include "report/metrics.h"

#define S 1000LL
#define MIN (60 * S)

static void test_percentile_nearest_rank(void **state)
{
    (void)state;
    const int64_t four[] = {1, 2, 3, 4};
    assert_int_equal(report_metrics_percentile(four, 4, 50), 2);  /* rank ceil(2) = 2 */
    assert_int_equal(report_metrics_percentile(four, 4, 90), 4);  /* rank ceil(3.6) = 4 */
    assert_int_equal(report_metrics_percentile(four, 4, 100), 4); /* max */
    assert_int_equal(report_metrics_percentile(four, 4, 0), 1);   /* rank clamped to 1 */
    assert_int_equal(report_metrics_percentile(four, 4, 25), 1);  /* rank exactly 1 */
    assert_int_equal(report_metrics_percentile(four, 4, 26), 2);
    const int64_t ten[] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
    assert_int_equal(report_metrics_percentile(ten, 10, 90), 90); /* rank 9, not 10 */
    assert_int_equal(report_metrics_percentile(ten, 10, 50), 50); /* rank 5: no interpolation */
    const int64_t five[] = {1, 2, 3, 4, 5};
    assert_int_equal(report_metrics_percentile(five, 5, 50), 3); /* rank ceil(2.5) = 3 */
    assert_int_equal(report_metrics_percentile(five, 5, 90), 5); /* rank ceil(4.5) = 5 */
    const int64_t one[] = {42};
    assert_int_equal(report_metrics_percentile(one, 1, 50), 42);
    assert_int_equal(report_metrics_percentile(one, 1, 90), 42);
    assert_true(report_metrics_percentile(NULL, 0, 50) == AM_TIME_NONE);
}

static void test_summarise(void **state)
{
    (void)state;
    /* unsorted, with ties, a missing and two negative durations */
    const int64_t d[] = {30, AM_TIME_NONE, 5, -7, 5, 5, 100, -1, 30};
    report_metrics_summary_t s = report_metrics_summarise(d, sizeof d / sizeof d[0]);
    assert_int_equal(s.n, 6); /* 5 5 5 30 30 100 */
    assert_int_equal(s.missing, 1);
    assert_int_equal(s.negative, 2);
    assert_int_equal(s.p50, 5);   /* rank 3 */
    assert_int_equal(s.p90, 100); /* rank ceil(5.4) = 6 */
    assert_int_equal(s.max, 100);
    assert_int_equal(d[0], 30); /* input untouched */

    /* ties only */
    const int64_t t[] = {7, 7, 7};
    s = report_metrics_summarise(t, 3);
    assert_int_equal(s.p50, 7);
    assert_int_equal(s.p90, 7);
    assert_int_equal(s.max, 7);

    /* zero is a duration, not a missing one */
    const int64_t z[] = {0};
    s = report_metrics_summarise(z, 1);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.missing, 0);
    assert_int_equal(s.p50, 0);

    /* none at all, and only missing/negative: no percentiles */
    s = report_metrics_summarise(NULL, 0);
    assert_int_equal(s.n + s.missing + s.negative, 0);
    assert_true(s.p50 == AM_TIME_NONE && s.p90 == AM_TIME_NONE && s.max == AM_TIME_NONE);
    const int64_t bad[] = {AM_TIME_NONE, -5};
    s = report_metrics_summarise(bad, 2);
    assert_int_equal(s.n, 0);
    assert_int_equal(s.missing, 1);
    assert_int_equal(s.negative, 1);
    assert_true(s.p50 == AM_TIME_NONE && s.max == AM_TIME_NONE);
}

static void test_duration_and_rate(void **state)
{
    (void)state;
    assert_int_equal(report_metrics_duration(1000, 126000), 125000);
    assert_int_equal(report_metrics_duration(5000, 1000), -4000);
    assert_true(report_metrics_duration(AM_TIME_NONE, 5) == AM_TIME_NONE);
    assert_true(report_metrics_duration(5, AM_TIME_NONE) == AM_TIME_NONE);
    assert_true(report_metrics_rate(1, 2) == 0.5);
    assert_true(report_metrics_rate(0, 3) == 0.0);
    assert_true(report_metrics_rate(1, 3) > 0.3333 && report_metrics_rate(1, 3) < 0.3334);
    assert_true(report_metrics_rate(0, 0) < 0); /* no deploys: no rate, not 0 */
}

static void test_parse_time(void **state)
{
    (void)state;
    char err[256];
    int64_t t;
    const int64_t now = BASE_MS;
    assert_int_equal(report_metrics_parse_time("30d", now, &t, err, sizeof err), 0);
    assert_int_equal(t, now - 30LL * 24 * 60 * MIN);
    assert_int_equal(report_metrics_parse_time("1h30m", now, &t, err, sizeof err), 0);
    assert_int_equal(t, now - 90 * MIN);
    assert_int_equal(
        report_metrics_parse_time("2024-01-01T02:00:00+02:00", now, &t, err, sizeof err), 0);
    assert_int_equal(t, BASE_MS);
    assert_int_equal(report_metrics_parse_time("yesterday", now, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "yesterday"));
    assert_int_equal(report_metrics_parse_time("0001-01-01T00:00:00Z", now, &t, err, sizeof err),
                     -1);
    assert_int_equal(report_metrics_parse_time("", now, &t, err, sizeof err), -1);
}

/* ---- through the pipeline --------------------------------------------- */

static const char *const RULES = "version: 1\n"
                                 "rules:\n"
                                 "  - name: r\n"
                                 "    match: ['severity=~\"page|critical\"']\n"
                                 "    group_by: [cluster]\n"
                                 "    gap: 30m\n"
                                 "    quiet: 10m\n"
                                 "    deploys:\n"
                                 "      match: ['env=\"prod\"']\n"
                                 "      same: [service, cluster]\n"
                                 "      before: 2h\n";

static void feed_free_at(harness_t *h, char *line, double observed)
{
    h_feed_at(h, line, observed);
    free(line);
}

static void deploy(harness_t *h, const char *service, const char *cluster, double at)
{
    char buf[512];
    snprintf(buf, sizeof buf,
             "{\"kind\":\"deploy\",\"status\":\"succeeded\",\"name\":\"%s-app\",\"version\":\"v1\","
             "\"service\":\"%s\",\"environment\":\"prod\",\"at\":\"%s\","
             "\"labels\":{\"cluster\":\"%s\"}}",
             service, service, T(at), cluster);
    h_feed(h, buf);
}

/* The story (minutes after BASE):
 * A  c1, web:     starts 0, observed 2, ack 5, ends 10 -> detect 2m, ack 3m,
 *                 mitigate 10m, resolve 20m
 * B  c2, web+db:  starts 60 (web, page; observed 59: clock skew) and 62
 *                 (db, critical), ends 70 -> detect -1m (negative), ack
 *                 missing, mitigate 10m, resolve 20m; suspect: db deploy
 *                 in c2 at 50
 * C  c3, db:      starts 120, never observed (replayed file), ends 150 ->
 *                 detect and ack missing, mitigate 30m, resolve 40m
 * Deploys: db/c2 at 50 (suspect of B), db/c9 at 100, web/c1 at 200: 3 in
 * all, 1 failed; db 2 (1 failed), web 1 (0). */
static void story(harness_t *h)
{
    h_open(h, ":memory:", RULES, 100, 0);
    feed_free_at(
        h, alert("A", 0, 10, "\"severity\":\"page\",\"cluster\":\"c1\",\"service\":\"web\""), 2);
    char buf[256];
    snprintf(buf, sizeof buf,
             "{\"kind\":\"ack\",\"at\":\"%s\",\"actor\":\"Ann\",\"labels\":{\"cluster\":\"c1\"}}",
             T(5));
    h_feed(h, buf);
    deploy(h, "db", "c2", 50);
    feed_free_at(
        h, alert("B1", 60, 70, "\"severity\":\"page\",\"cluster\":\"c2\",\"service\":\"web\""), 59);
    feed_free_at(
        h, alert("B2", 62, 70, "\"severity\":\"critical\",\"cluster\":\"c2\",\"service\":\"db\""),
        63);
    deploy(h, "db", "c9", 100);
    feed_free_at(
        h, alert("C", 120, 150, "\"severity\":\"critical\",\"cluster\":\"c3\",\"service\":\"db\""),
        -1);
    deploy(h, "web", "c1", 200);
    json_decref(h_incidents(h)); /* flush */
}

static json_t *compute(harness_t *h, const char *by, int64_t since, int64_t until)
{
    char err[512];
    report_metrics_options_t o = {.since = since, .until = until, .by = by};
    report_metrics_t *m = report_metrics_compute(h->st, &o, err, sizeof err);
    if (!m)
        fail_msg("metrics: %s", err);
    json_t *j = report_metrics_json(m);
    /* the other renderers run on the same data (ASan watches them) */
    am_buf_t b = {0};
    report_metrics_table(m, &b);
    report_metrics_csv(m, &b);
    am_buf_free(&b);
    report_metrics_destroy(m);
    return j;
}

/* The group named name (NULL: the null group) of a metrics object. */
static json_t *group(json_t *j, const char *name)
{
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(j, "groups"), i, g)
    {
        const json_t *n = json_object_get(g, "group");
        if (name ? json_is_string(n) && strcmp(json_string_value(n), name) == 0 : json_is_null(n))
            return g;
    }
    fail_msg("no group %s", name ? name : "(null)");
    return NULL;
}

/* Checks one duration summary: n, missing, negative, p50, p90, max in
 * seconds (-1: null). */
static void check(const json_t *g, const char *measure, int n, int missing, int negative, int p50,
                  int p90, int max)
{
    const json_t *s = json_object_get(g, measure);
    assert_non_null(s);
    assert_int_equal(json_integer_value(json_object_get(s, "n")), n);
    assert_int_equal(json_integer_value(json_object_get(s, "missing")), missing);
    assert_int_equal(json_integer_value(json_object_get(s, "negative")), negative);
    const char *keys[] = {"p50_s", "p90_s", "max_s"};
    int want[] = {p50, p90, max};
    for (int k = 0; k < 3; k++) {
        const json_t *v = json_object_get(s, keys[k]);
        if (want[k] < 0)
            assert_true(json_is_null(v));
        else
            assert_int_equal(json_integer_value(v), want[k]);
    }
}

static void test_story_by_service(void **state)
{
    (void)state;
    harness_t h;
    story(&h);
    json_t *j = compute(&h, NULL, AM_TIME_NONE, AM_TIME_NONE);
    assert_string_equal(json_string_value(json_object_get(j, "by")), "service");
    assert_int_equal(json_array_size(json_object_get(j, "groups")), 2);

    json_t *web = group(j, "web"); /* A and B */
    assert_int_equal(json_integer_value(json_object_get(web, "incidents")), 2);
    check(web, "time_to_detect", 1, 0, 1, 120, 120, 120);
    check(web, "time_to_acknowledge", 1, 1, 0, 180, 180, 180);
    check(web, "time_to_mitigate", 2, 0, 0, 600, 600, 600);
    check(web, "time_to_resolve", 2, 0, 0, 1200, 1200, 1200);

    json_t *db = group(j, "db"); /* B and C: no detect figure at all */
    assert_int_equal(json_integer_value(json_object_get(db, "incidents")), 2);
    check(db, "time_to_detect", 0, 1, 1, -1, -1, -1);
    check(db, "time_to_acknowledge", 0, 2, 0, -1, -1, -1);
    check(db, "time_to_mitigate", 2, 0, 0, 600, 1800, 1800);
    check(db, "time_to_resolve", 2, 0, 0, 1200, 2400, 2400);

    json_t *all = json_object_get(j, "overall"); /* each incident once */
    assert_int_equal(json_integer_value(json_object_get(all, "incidents")), 3);
    check(all, "time_to_detect", 1, 1, 1, 120, 120, 120);
    check(all, "time_to_acknowledge", 1, 2, 0, 180, 180, 180);
    check(all, "time_to_mitigate", 3, 0, 0, 600, 1800, 1800); /* p90: rank ceil(2.7) = 3 */
    check(all, "time_to_resolve", 3, 0, 0, 1200, 2400, 2400);

    json_t *cf = json_object_get(j, "change_failure");
    assert_int_equal(json_integer_value(json_object_get(cf, "deploys")), 3);
    assert_int_equal(json_integer_value(json_object_get(cf, "failed")), 1);
    assert_true(json_real_value(json_object_get(cf, "rate")) > 0.3333 &&
                json_real_value(json_object_get(cf, "rate")) < 0.3334);
    assert_int_equal(json_integer_value(json_object_get(cf, "median_time_to_restore_s")), 1200);
    json_t *svcs = json_object_get(cf, "services");
    assert_int_equal(json_array_size(svcs), 2);
    json_t *s0 = json_array_get(svcs, 0), *s1 = json_array_get(svcs, 1);
    assert_string_equal(json_string_value(json_object_get(s0, "service")), "db");
    assert_int_equal(json_integer_value(json_object_get(s0, "deploys")), 2);
    assert_int_equal(json_integer_value(json_object_get(s0, "failed")), 1);
    assert_true(json_real_value(json_object_get(s0, "rate")) == 0.5);
    assert_int_equal(json_integer_value(json_object_get(s0, "incidents")), 2);
    assert_int_equal(json_integer_value(json_object_get(s0, "median_time_to_restore_s")), 1200);
    assert_string_equal(json_string_value(json_object_get(s1, "service")), "web");
    assert_int_equal(json_integer_value(json_object_get(s1, "deploys")), 1);
    assert_int_equal(json_integer_value(json_object_get(s1, "failed")), 0);
    assert_true(json_real_value(json_object_get(s1, "rate")) == 0.0);
    json_decref(j);
    h_close(&h);
}

static void test_story_by_label_and_period(void **state)
{
    (void)state;
    harness_t h;
    story(&h);

    /* a label of the key: one group per cluster */
    json_t *j = compute(&h, "cluster", AM_TIME_NONE, AM_TIME_NONE);
    assert_int_equal(json_array_size(json_object_get(j, "groups")), 3);
    check(group(j, "c2"), "time_to_detect", 0, 0, 1, -1, -1, -1);
    check(group(j, "c3"), "time_to_resolve", 1, 0, 0, 2400, 2400, 2400);
    json_decref(j);

    /* a label of the alerts only: B has a page and a critical alert */
    j = compute(&h, "severity", AM_TIME_NONE, AM_TIME_NONE);
    assert_int_equal(json_array_size(json_object_get(j, "groups")), 2);
    assert_int_equal(json_integer_value(json_object_get(group(j, "page"), "incidents")), 2);
    assert_int_equal(json_integer_value(json_object_get(group(j, "critical"), "incidents")), 2);
    json_decref(j);

    /* a label nobody has: the null group */
    j = compute(&h, "zone", AM_TIME_NONE, AM_TIME_NONE);
    assert_int_equal(json_array_size(json_object_get(j, "groups")), 1);
    assert_int_equal(json_integer_value(json_object_get(group(j, NULL), "incidents")), 3);
    json_decref(j);

    /* by rule */
    j = compute(&h, "rule", AM_TIME_NONE, AM_TIME_NONE);
    assert_int_equal(json_integer_value(json_object_get(group(j, "r"), "incidents")), 3);
    json_decref(j);

    /* [60, 120): B only (C starts at 120, excluded); deploys by their own
     * time: only the one at 100 (unlinked); B's suspect at 50 is outside */
    j = compute(&h, "service", BASE_MS + 60 * MIN, BASE_MS + 120 * MIN);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "overall"), "incidents")), 1);
    json_t *cf = json_object_get(j, "change_failure");
    assert_int_equal(json_integer_value(json_object_get(cf, "deploys")), 1);
    assert_int_equal(json_integer_value(json_object_get(cf, "failed")), 0);
    assert_string_equal(json_string_value(json_object_get(j, "since")), "2024-01-01T01:00:00Z");
    json_decref(j);

    /* an empty period: no groups, counts 0, no rate */
    j = compute(&h, "service", BASE_MS + 1000 * MIN, AM_TIME_NONE);
    assert_int_equal(json_array_size(json_object_get(j, "groups")), 0);
    json_t *all = json_object_get(j, "overall");
    assert_int_equal(json_integer_value(json_object_get(all, "incidents")), 0);
    check(all, "time_to_detect", 0, 0, 0, -1, -1, -1);
    assert_true(json_is_null(json_object_get(json_object_get(j, "change_failure"), "rate")));
    json_decref(j);
    h_close(&h);
}

static void test_csv_and_table(void **state)
{
    (void)state;
    harness_t h;
    story(&h);
    char err[512];
    report_metrics_options_t o = {.since = AM_TIME_NONE, .until = AM_TIME_NONE, .by = "cluster"};
    report_metrics_t *m = report_metrics_compute(h.st, &o, err, sizeof err);
    assert_non_null(m);
    am_buf_t b = {0};
    report_metrics_csv(m, &b);
    assert_non_null(strstr(b.p, "group_by,group,incidents,measure,n,missing,negative,p50_s,"
                                "p90_s,max_s\r\n"));
    assert_non_null(strstr(b.p, "cluster,c1,1,detect,1,0,0,120,120,120\r\n"));
    assert_non_null(strstr(b.p, "cluster,c3,1,acknowledge,0,1,0,,,\r\n"));
    assert_non_null(strstr(b.p, "cluster,*,3,mitigate,3,0,0,600,1800,1800\r\n"));
    assert_non_null(strstr(b.p, "\r\n\r\nservice,deploys,failed,rate,incidents,"));
    assert_non_null(strstr(b.p, "db,2,1,0.5000,2,1200\r\n"));
    assert_non_null(strstr(b.p, "*,3,1,0.3333,3,1200\r\n"));
    am_buf_reset(&b);
    report_metrics_table(m, &b);
    assert_non_null(strstr(b.p, "CLUSTER"));
    assert_non_null(strstr(b.p, "2m"));
    assert_non_null(strstr(b.p, "40m"));
    assert_non_null(strstr(b.p, "33.3%"));
    am_buf_free(&b);
    report_metrics_destroy(m);
    h_close(&h);
}

static size_t count_of(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The HTML page: self-contained (no URL at all) and text from events
 * escaped. */
static void test_html(void **state)
{
    (void)state;
    harness_t h;
    story(&h);
    feed_free_at(&h,
                 alert("X", 300, 310,
                       "\"severity\":\"page\",\"cluster\":\"c4\",\"service\":\"<script>"
                       "alert('x')</script>&\""),
                 301);
    json_decref(h_incidents(&h));
    char err[512];
    report_metrics_options_t o = {.since = AM_TIME_NONE, .until = AM_TIME_NONE, .by = NULL};
    report_metrics_t *m = report_metrics_compute(h.st, &o, err, sizeof err);
    assert_non_null(m);
    am_buf_t b = {0};
    report_metrics_html(m, &b);
    assert_non_null(strstr(b.p, "<!DOCTYPE html>"));
    /* No bounds: said as "All incidents", never "at or after (no bound)". */
    assert_non_null(strstr(b.p, "<p>All incidents, by <b>"));
    assert_null(strstr(b.p, "no bound"));
    assert_non_null(strstr(b.p, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"));
    assert_null(strstr(b.p, "<script"));
    assert_null(strstr(b.p, "http:"));
    assert_null(strstr(b.p, "https:"));
    assert_null(strstr(b.p, "src="));
    assert_non_null(strstr(b.p, "<svg"));
    assert_non_null(strstr(b.p, "<circle"));
    /* 2024-01-01 is a Monday: all four incidents in its week */
    assert_non_null(strstr(b.p, "week of 2024-01-01: 4 incidents, p50 time to detect 1m"));
    assert_non_null(strstr(b.p, "</html>"));
    am_buf_free(&b);
    report_metrics_destroy(m);
    h_close(&h);
}

/* Renders the metrics of h grouped by `by` into b (emptied first). */
static void render(harness_t *h, const char *by, void (*fn)(const report_metrics_t *, am_buf_t *),
                   am_buf_t *b)
{
    char err[512];
    report_metrics_options_t o = {.since = AM_TIME_NONE, .until = AM_TIME_NONE, .by = by};
    report_metrics_t *m = report_metrics_compute(h->st, &o, err, sizeof err);
    if (!m)
        fail_msg("metrics: %s", err);
    am_buf_reset(b);
    fn(m, b);
    report_metrics_destroy(m);
}

/* b holds no C0 control but LF, no DEL, no C1 control (raw or UTF-8), no
 * bidi control or line separator. */
static void no_terminal_controls(const am_buf_t *b)
{
    for (size_t i = 0; i < b->len; i++) {
        unsigned char c = (unsigned char)b->p[i];
        assert_true(c >= 0x20 || c == '\n');
        assert_true(c != 0x7f);
        assert_false(
            c >= 0x80 && c <= 0x9f &&
            (i == 0 || (unsigned char)b->p[i - 1] == 0xc2 || (unsigned char)b->p[i - 1] < 0x80));
    }
    static const char *const bad[] = {
        "\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad", "\xe2\x80\xae",
        "\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8", "\xe2\x81\xa9", "\xe2\x80\xa8",
        "\xe2\x80\xa9", "\xe2\x80\x8e", "\xe2\x80\x8f", "\xd8\x9c"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        assert_null(strstr(b->p, bad[k]));
}

/* Hostile label values and a hostile --by in every renderer: the table
 * writes no terminal control (C0, C1, bidi), the CSV neutralises formula
 * cells, the HTML escapes the SVG titles and carries a CSP. */
static void test_hostile_labels(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 100, 0);
    feed_free_at(&h,
                 alert("H", 0, 10,
                       "\"severity\":\"page\",\"cluster\":\"\\u001b]0;pwn\\u0007\\u009b31m\\u202e"
                       "x\\u2028y\",\"service\":\"=HYPERLINK(\\\"http://e.test\\\")\""),
                 2);
    feed_free_at(&h,
                 alert("I", 60, 70,
                       "\"severity\":\"page\",\"cluster\":\"@SUM(A1)\","
                       "\"service\":\"-1+2\""),
                 61);
    deploy(&h, "+cmd", "c1", 50);
    json_decref(h_incidents(&h));
    am_buf_t b = {0};

    /* by cluster: the hostile values are group names */
    render(&h, "cluster", report_metrics_table, &b);
    no_terminal_controls(&b);
    assert_non_null(strstr(b.p, "\n?]0;pwn??31m?x?y  1 "));
    assert_non_null(strstr(b.p, "\n@SUM(A1) "));

    render(&h, "cluster", report_metrics_csv, &b);
    assert_non_null(strstr(b.p, "\r\ncluster,\"'@SUM(A1)\",1,detect,"));
    assert_non_null(strstr(b.p, "\r\n\"'=HYPERLINK(\"\"http://e.test\"\")\",0,0,,1,"));
    assert_non_null(strstr(b.p, "\r\n\"'-1+2\",0,0,,1,"));
    assert_non_null(strstr(b.p, "\r\n\"'+cmd\",1,0,0.0000,0,"));
    assert_null(strstr(b.p, ",=")); /* no cell starts a formula */
    assert_null(strstr(b.p, ",@"));
    assert_null(strstr(b.p, ",+"));
    assert_null(strstr(b.p, "\n="));
    assert_null(strstr(b.p, "\n+"));
    assert_null(strstr(b.p, "\n-"));

    /* by service: the same in the duration table's group column */
    render(&h, "service", report_metrics_csv, &b);
    assert_non_null(strstr(b.p, "\r\nservice,\"'=HYPERLINK(\"\"http://e.test\"\")\",1,detect,"));
    assert_non_null(strstr(b.p, "\r\nservice,\"'-1+2\",1,detect,"));

    /* a hostile --by: the heading line, the column title, the SVG titles */
    static const char by[] = "x\x1b[2J\xc2\x9b\x9b\xe2\x81\xa6</title><script>";
    render(&h, by, report_metrics_table, &b);
    no_terminal_controls(&b);
    assert_non_null(strstr(b.p, ", by x?[2J??"
                                "?</title><script>.\n"));
    assert_non_null(strstr(b.p, "\nX?[2J??"
                                "?</TITLE><SCRIPT>  INCIDENTS"));
    render(&h, by, report_metrics_html, &b);
    assert_non_null(strstr(b.p, "<meta http-equiv=\"Content-Security-Policy\" "
                                "content=\"default-src 'none'; style-src 'unsafe-inline'\">"));
    assert_non_null(strstr(b.p, "<title>time to detect per x [2J"));
    assert_null(strstr(b.p, "<script"));
    assert_int_equal(count_of(b.p, "</title>"), count_of(b.p, "<title>"));
    am_buf_free(&b);
    h_close(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentile_nearest_rank),
        cmocka_unit_test(test_summarise),
        cmocka_unit_test(test_duration_and_rate),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_story_by_service),
        cmocka_unit_test(test_story_by_label_and_period),
        cmocka_unit_test(test_csv_and_table),
        cmocka_unit_test(test_html),
        cmocka_unit_test(test_hostile_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
