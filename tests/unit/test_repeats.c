/*
 * test_repeats.c - the repeat skip (run/repeats.c) alone, and through the
 * pipeline: an exact repeat is skipped and counted as duplicates, but one
 * delivered earlier than any before still moves observed_at back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "corr_util.h"
#include "ingest/keyed.h"
#include "run/pipeline.h"
#include "run/repeats.h"
#include "common/time.h"
#include "tmp_util.h"

static void test_table(void **state)
{
    (void)state;
    run_repeats_t *r = run_repeats_create(64);
    uint32_t n = 0;
    run_repeats_key_t a = run_repeats_key(r, "auto", NULL, NULL, "abc", 3);
    run_repeats_key_t a2 = run_repeats_key(r, "auto", NULL, NULL, "abc", 3);
    run_repeats_key_t other_format = run_repeats_key(r, "generic", NULL, NULL, "abc", 3);
    run_repeats_key_t b = run_repeats_key(r, "auto", NULL, NULL, "abd", 3);
    assert_true(a.h1 == a2.h1 && a.h2 == a2.h2);
    assert_false(a.h1 == other_format.h1 && a.h2 == other_format.h2);
    assert_false(a.h1 == b.h1 && a.h2 == b.h2);
    /* the topic (its label map) and the headers (binary-mode CloudEvents)
     * change what a record decodes to: they are part of the key */
    run_repeats_key_t topic = run_repeats_key(r, "auto", "alerts", NULL, "abc", 3);
    run_repeats_key_t headers = run_repeats_key(r, "auto", NULL, "[{\"ce_id\":\"1\"}]", "abc", 3);
    run_repeats_key_t shifted = run_repeats_key(r, "auto", "", "alerts", "abc", 3);
    assert_false(a.h1 == topic.h1 && a.h2 == topic.h2);
    assert_false(a.h1 == headers.h1 && a.h2 == headers.h2);
    assert_false(topic.h1 == shifted.h1 && topic.h2 == shifted.h2);

    assert_int_equal(run_repeats_skip(r, a, 100, &n), 0);
    run_repeats_note(r, a, 100, 3);
    assert_int_equal(run_repeats_skip(r, a, 100, &n), 1);
    assert_int_equal(n, 3);
    /* later: a re-notification, which the correlator's staleness needs */
    assert_int_equal(run_repeats_skip(r, a, 150, &n), 0);
    run_repeats_note(r, a, 150, 3);
    assert_int_equal(run_repeats_skip(r, a, 150, &n), 1);
    assert_int_equal(run_repeats_skip(r, a, 120, &n), 1); /* inside the span seen */
    assert_int_equal(run_repeats_skip(r, a, 151, &n), 0);
    assert_int_equal(run_repeats_skip(r, a, AM_TIME_NONE, &n), 1);
    assert_int_equal(run_repeats_skip(r, a, 99, &n), 0); /* earlier: must go through */
    assert_int_equal(run_repeats_skip(r, b, 150, &n), 0);
    run_repeats_note(r, a, 99, 3);
    assert_int_equal(run_repeats_skip(r, a, 99, &n), 1);

    /* Seen only without a timestamp: any timestamp goes through. */
    run_repeats_note(r, b, AM_TIME_NONE, 1);
    assert_int_equal(run_repeats_skip(r, b, AM_TIME_NONE, &n), 1);
    assert_int_equal(run_repeats_skip(r, b, 5, &n), 0);
    run_repeats_note(r, b, 5, 1); /* and a time seen later is its span */
    assert_int_equal(run_repeats_skip(r, b, 5, &n), 1);
    assert_int_equal(run_repeats_skip(r, b, 6, &n), 0);

    /* Bounded: many more records than entries, the table keeps working. */
    char text[32];
    for (int i = 0; i < 10000; i++) {
        int len = snprintf(text, sizeof text, "record-%d", i);
        run_repeats_note(r, run_repeats_key(r, NULL, NULL, NULL, text, (size_t)len), i, 1);
    }
    int len = snprintf(text, sizeof text, "record-%d", 9999);
    assert_int_equal(
        run_repeats_skip(r, run_repeats_key(r, NULL, NULL, NULL, text, (size_t)len), 9999, &n), 1);
    run_repeats_clear(r);
    assert_int_equal(
        run_repeats_skip(r, run_repeats_key(r, NULL, NULL, NULL, text, (size_t)len), 9999, &n), 0);
    run_repeats_destroy(r);
}

static int64_t observed_col(store_t *st, const char *col)
{
    sqlite3_stmt *s = NULL;
    int64_t v = -1;
    char q[64];
    snprintf(q, sizeof q, "SELECT %s FROM events", col);
    assert_int_equal(sqlite3_prepare_v2(store_db(st), q, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static int64_t observed(store_t *st)
{
    return observed_col(st, "observed_at");
}

static void test_pipeline(void **state)
{
    (void)state;
    char dir[64], err[512];
    tmp_dir(dir);
    char db[128];
    snprintf(db, sizeof db, "%s/r.db", dir);
    store_t *st = store_open(db, NULL, err, sizeof err);
    assert_non_null(st);
    ingest_decoder_t *dec = ingest_decoder_create(NULL, NULL);
    run_pipeline_t *p = run_pipeline_create(st, dec, NULL, "auto", NULL, 1000);
    const char *payload =
        "{\"kind\":\"alert\",\"name\":\"A\",\"starts_at\":\"2024-06-18T14:29:00Z\","
        "\"labels\":{\"service\":\"web\"}}";
    am_record_t rec = {.payload = payload, .len = strlen(payload), .partition = -1, .offset = -1};
    /* Record times in ms after B (times before 2000 would be no record
     * time at all: am_time_record). */
    const int64_t B = 1718721005000LL;
    const int64_t ts[] = {1000, 2000, 500, 700, 500, 400};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        rec.ts = B + ts[i];
        assert_int_equal(run_pipeline_record(p, &rec, err, sizeof err), 0);
    }
    assert_int_equal(run_pipeline_flush(p, err, sizeof err), 0);
    const run_stats_t *s = run_pipeline_stats(p);
    assert_int_equal(s->records, 6);
    assert_int_equal(s->events, 6);
    assert_int_equal(s->stored, 1);
    assert_int_equal(s->duplicates, 5);
    /* 2000 (later), 500 and 400 (earlier) went through; 700 and 500, inside
     * the span seen, were skipped */
    assert_int_equal(s->earlier, 2);
    assert_true(observed(st) == B + 400);
    assert_true(observed_col(st, "last_observed_at") == B + 2000);
    run_pipeline_destroy(p);
    ingest_decoder_destroy(dec);
    store_close(st);
}

/* --- the pipeline's clock for keyed records (issue 17) ------------------- */

static const char CLOCK_RULES[] = "version: 1\n"
                                  "rules:\n"
                                  "  - name: page\n"
                                  "    match: ['severity=\"page\"']\n"
                                  "    group_by: [cluster]\n"
                                  "    gap: 30m\n"
                                  "    quiet: 10m\n";

#define PAGE "\"severity\":\"page\",\"cluster\":\"c1\",\"service\":\"web\""

/* The status of cluster c1's incident in arr, or "(none)". */
static const char *c1_status(const json_t *arr)
{
    size_t i;
    const json_t *o;
    json_array_foreach(arr, i, o)
    {
        const char *c = json_string_value(json_object_get(json_object_get(o, "key"), "cluster"));
        if (c && strcmp(c, "c1") == 0)
            return json_string_value(json_object_get(o, "status"));
    }
    return "(none)";
}

/* The pipeline moves a keyed-topic record's clock (staleness) by its
 * events' observed_at, not by the record's own time, which is the decode
 * stage's "now": an alert observed at 1m does not go stale because the
 * keyed record was produced 100 days later. */
static void test_keyed_clock(void **state)
{
    (void)state;
    corr_options_t opts = {.stale_after = 60 * 60000};
    harness_t h;
    h_open_opts(&h, ":memory:", CLOCK_RULES, 1, &opts);
    run_pipeline_t *kp = run_pipeline_create(h.st, h.dec, h.engine, INGEST_FORMAT_KEYED, NULL, 1);
    char err[512];
    char *lines[2] = {alert("A", 0, -1, PAGE),
                      alert("B", 5, -1, "\"severity\":\"page\",\"cluster\":\"c2\"")};
    const double observed[2] = {1, -1}; /* B: a raw line, no observed_at */
    for (int i = 0; i < 2; i++) {
        am_event_list_t l = {0};
        ingest_decoder_t *dec = ingest_decoder_create(NULL, NULL);
        int64_t obs = observed[i] < 0 ? AM_TIME_NONE : BASE_MS + (int64_t)(observed[i] * 60000);
        assert_int_equal(
            ingest_decode(dec, "auto", lines[i], strlen(lines[i]), obs, &l, err, sizeof err), 0);
        ingest_decoder_destroy(dec);
        char *value = ingest_keyed_value(&l.v[0]);
        am_record_t rec = {.payload = value,
                           .len = strlen(value),
                           .topic = "aftermath.keyed",
                           .ts = BASE_MS + 100LL * 24 * 3600000, /* the producer's "now" */
                           .partition = 0,
                           .offset = i};
        assert_int_equal(run_pipeline_record(kp, &rec, err, sizeof err), 0);
        free(value);
        am_event_list_free(&l);
        free(lines[i]);
    }
    assert_int_equal(run_pipeline_flush(kp, err, sizeof err), 0);
    json_t *arr = h_incidents(&h);
    assert_string_equal(c1_status(arr), "open");
    json_decref(arr);
    run_pipeline_destroy(kp);
    h_close(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_keyed_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
