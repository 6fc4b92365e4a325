/*
 * test_prom.c - report/prom.c checked by a parser of the Prometheus text
 * exposition format (0.0.4), written from the format's specification
 * rather than from the renderer: every line is a HELP, a TYPE or a sample;
 * names and label names are valid; label values are quoted with only the
 * three escapes; values are numbers; each family has one HELP and one TYPE
 * before its samples; histogram buckets are cumulative with ascending le,
 * end in +Inf and agree with _count. Then the figures of a small story:
 * only resolved incidents, one observation per service, skipped durations
 * counted, label values escaped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <math.h>
#include <stdlib.h>

#include "corr_util.h"
#include "prom_parse.h"
#include "report/prom.h"

/* ---- the parser itself, on hand-written exposition ------------------- */

static void test_parser_sanity(void **state)
{
    (void)state;
    /* sanity of the checker itself on hand-written exposition */
    const char *good = "# HELP x_seconds h\n# TYPE x_seconds histogram\n"
                       "x_seconds_bucket{a=\"q\\\"\\\\\\n\",le=\"1\"} 1\n"
                       "x_seconds_bucket{a=\"q\\\"\\\\\\n\",le=\"+Inf\"} 2\n"
                       "x_seconds_sum{a=\"q\\\"\\\\\\n\"} 3.5\n"
                       "x_seconds_count{a=\"q\\\"\\\\\\n\"} 2\n"
                       "# HELP y_total h\n# TYPE y_total counter\ny_total 0\n";
    assert_int_equal(validate(good), 5);
    sample_t s;
    parse_sample("x_seconds_bucket{a=\"q\\\"\\\\\\n\",le=\"1\"} 1", &s);
    assert_string_equal(s.lvalue[0], "q\"\\\n");
}

/* ---- the renderer ----------------------------------------------------- */

static const char *const RULES = "version: 1\n"
                                 "rules:\n"
                                 "  - name: r\n"
                                 "    match: ['severity=\"page\"']\n"
                                 "    group_by: [cluster]\n"
                                 "    gap: 30m\n"
                                 "    quiet: 10m\n";

static void feed_free_at(harness_t *h, char *line, double observed)
{
    h_feed_at(h, line, observed);
    free(line);
}

static void test_render(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 100, 0);
    /* c1: web and db, started 0, observed 2 (detect 120 s), ends 10
     * (mitigate 600 s), resolved 20 (1200 s); no ack */
    feed_free_at(
        &h, alert("A", 0, 10, "\"severity\":\"page\",\"cluster\":\"c1\",\"service\":\"web\""), 2);
    feed_free_at(
        &h, alert("B", 1, 10, "\"severity\":\"page\",\"cluster\":\"c1\",\"service\":\"db\""), 3);
    /* c2: web, clock skew (observed before it started), then 4 days long;
     * its resolve is a record of its own, taken at the end (an end 4 days
     * after the record time would be refused as implausible) */
    feed_free_at(
        &h, alert("C", 100, -1, "\"severity\":\"page\",\"cluster\":\"c2\",\"service\":\"web\""),
        99.5);
    feed_free_at(&h,
                 alert("C", 100, 100 + 4 * 24 * 60,
                       "\"severity\":\"page\",\"cluster\":\"c2\",\"service\":\"web\""),
                 100 + 4 * 24 * 60);
    /* c3: a service name that needs escaping */
    feed_free_at(&h,
                 alert("D", 10000, 10001,
                       "\"severity\":\"page\",\"cluster\":\"c3\",\"service\":\"a\\\"b\\\\c\""),
                 10000);
    /* c4: still firing: open, not observed */
    feed_free_at(&h,
                 alert("E", 20000, -1,
                       "\"severity\":\"page\",\"cluster\":\"c4\","
                       "\"service\":\"open-svc\""),
                 20000);
    json_decref(h_incidents(&h));

    am_buf_t b = {0};
    char err[512];
    assert_int_equal(report_prom_render(h.st, &b, err, sizeof err), 0);
    size_t n = validate(b.p);
    assert_true(n > 0);

    const char *web = "{service=\"web\",rule=\"r\"";
    char k[256];
#define V(fmt, ...) (snprintf(k, sizeof k, fmt, __VA_ARGS__), value_of(b.p, k))
    /* web: A (detect 120) and C (negative detect, skipped) */
    assert_true(V("aftermath_incident_time_to_detect_seconds_count%s}", web) == 1);
    assert_true(V("aftermath_incident_time_to_detect_seconds_sum%s}", web) == 120);
    assert_true(V("aftermath_incident_time_to_detect_seconds_bucket%s,le=\"60\"}", web) == 0);
    assert_true(V("aftermath_incident_time_to_detect_seconds_bucket%s,le=\"120\"}", web) == 1);
    assert_true(V("aftermath_incident_durations_skipped_total%s,duration=\"time_to_detect\","
                  "reason=\"negative\"}",
                  web) == 1);
    assert_true(V("aftermath_incident_durations_skipped_total%s,duration=\"time_to_acknowledge\","
                  "reason=\"missing\"}",
                  web) == 2);
    /* mitigate: A 600 s and C 4 days (beyond the last bound: +Inf only) */
    assert_true(V("aftermath_incident_time_to_mitigate_seconds_count%s}", web) == 2);
    assert_true(V("aftermath_incident_time_to_mitigate_seconds_bucket%s,le=\"600\"}", web) == 1);
    assert_true(V("aftermath_incident_time_to_mitigate_seconds_bucket%s,le=\"259200\"}", web) == 1);
    assert_true(V("aftermath_incident_time_to_mitigate_seconds_bucket%s,le=\"+Inf\"}", web) == 2);
    assert_true(V("aftermath_incident_time_to_mitigate_seconds_sum%s}", web) ==
                600 + 4 * 24 * 3600);
    /* db: A's incident counts for db too (detect from its start at 0) */
    assert_true(value_of(b.p, "aftermath_incident_time_to_resolve_seconds_sum{service=\"db\","
                              "rule=\"r\"}") == 1200);
    /* escaped label value */
    assert_true(value_of(b.p, "aftermath_incident_time_to_detect_seconds_count{service="
                              "\"a\\\"b\\\\c\",rule=\"r\"}") == 1);
    /* the open incident is not observed */
    assert_null(strstr(b.p, "open-svc"));
#undef V
    am_buf_free(&b);

    /* an empty store: families announced, no samples, still valid */
    h_close(&h);
    h_open(&h, ":memory:", RULES, 100, 0);
    json_decref(h_incidents(&h));
    assert_int_equal(report_prom_render(h.st, &b, err, sizeof err), 0);
    assert_int_equal(validate(b.p), 0);
    assert_non_null(strstr(b.p, "# TYPE aftermath_incident_time_to_acknowledge_seconds "
                                "histogram\n"));
    am_buf_free(&b);
    h_close(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parser_sanity),
        cmocka_unit_test(test_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
