/*
 * scenario_check.c - golden and property tests of the whole pipeline
 * (decode, store, correlate) on a scenario.
 *
 *   scenario_check --events FILE [--events FILE]... --rules FILE [--expected FILE]
 *                  [--permutations N] [--seed S]
 *   scenario_check --synthetic N --permutations N [--seed S]
 *
 * --expected compares the incidents with a scenario's expected.json (the
 * keys it gives; see ../shared/scenarios/README). --permutations replays
 * the events N times, each time shuffled, with random duplicates and a
 * random batch size, and requires the same incidents every time
 * (DESIGN.md: "the same set of events in any arrival order, and with any
 * duplicates, yields the same incidents"). --synthetic makes a random
 * multi-cluster stream with overlapping, flapping, bridging alerts, acks,
 * notes and deploys, re-notifications and truncated notifications, so
 * merges, splits, inferred ends and staleness happen in many orders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

/* The scenario tests take the whole path, run/pipeline.h included. */
#define CORR_UTIL_WITH_PIPELINE
#include "../unit/corr_util.h"
#include "../unit/synth_util.h"
#include "../unit/tmp_util.h"
#include "common/strset.h"
#include "ingest/replay.h"

static const char *events_path, *rules_path, *expected_path;
/* More event files, read after events_path (--events again): people's
 * corrections and actions laid over a shared scenario. */
static const char *more_events[4];
static size_t nmore;

static void read_lines(const char *path, lines_t *out);

static void read_events(lines_t *out)
{
    read_lines(events_path, out);
    for (size_t i = 0; i < nmore; i++)
        read_lines(more_events[i], out);
}
static long permutations, synthetic;
static uint64_t seed = 42;

static uint64_t rnd(void)
{
    return synth_rnd(&seed);
}

static void read_lines(const char *path, lines_t *out)
{
    char *all = tmp_slurp(path);
    for (char *save = NULL, *l = strtok_r(all, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        if (*l)
            lines_push(out, l);
    free(all);
}

typedef struct feed_ctx {
    harness_t *h;
} feed_ctx_t;

static int on_record(void *arg, const am_record_t *rec)
{
    feed_ctx_t *c = arg;
    char err[1024];
    if (h_record(c->h, rec, err, sizeof err) != 0)
        fail_msg("pipeline: %s", err);
    return 0;
}

/* Replays lines (through a file, as `aftermath replay` reads them). */
static json_t *replay(const char *rules_yaml, const lines_t *l, size_t batch, harness_t *keep)
{
    char dir[64];
    tmp_dir(dir);
    am_buf_t b = {0};
    for (size_t i = 0; i < l->n; i++) {
        am_buf_puts(&b, l->v[i]);
        am_buf_putc(&b, '\n');
    }
    const char *path = tmp_write(dir, "events.ndjson", b.p ? b.p : "");
    am_buf_free(&b);
    harness_t h;
    h_open(&h, ":memory:", rules_yaml, batch, 0);
    feed_ctx_t c = {.h = &h};
    char err[512];
    if (ingest_replay_file(path, on_record, &c, err, sizeof err) != 0)
        fail_msg("replay: %s", err);
    json_t *arr = h_incidents(&h);
    if (keep)
        *keep = h;
    else
        h_close(&h);
    tmp_rm_rf(dir);
    return arr;
}

/* ---- expected.json ---- */

static const json_t *find_by_key(const json_t *arr, const json_t *key)
{
    size_t i;
    const json_t *o;
    json_array_foreach(arr, i,
                       o) if (json_equal(json_object_get(o, "key"), (json_t *)key)) return o;
    return NULL;
}

static void check_deploys(const json_t *want, const json_t *have, const char *what)
{
    if (json_array_size(want) != json_array_size(have))
        fail_msg("%s: %zu deploys, want %zu", what, json_array_size(have), json_array_size(want));
    size_t i;
    const json_t *w;
    json_array_foreach(want, i, w)
    {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)w, k, v)
        {
            if (!json_equal(json_object_get(json_array_get(have, i), k), (json_t *)v))
                fail_msg("%s[%zu].%s differs", what, i, k);
        }
    }
}

static int64_t ms_of(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    int64_t ms;
    return s && am_time_parse(s, strlen(s), &ms, NULL, 0) == 0 ? ms : AM_TIME_NONE;
}

static void check_seconds(const json_t *want, const json_t *arr, const char *from, const char *to)
{
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)want, name, v)
    {
        const json_t *inc = NULL;
        size_t i;
        const json_t *o;
        json_array_foreach(arr, i, o)
        {
            const char *k;
            const json_t *kv;
            json_object_foreach(json_object_get(o, "key"), k,
                                kv) if (strcmp(json_string_value(kv), name) == 0) inc = o;
        }
        if (!inc)
            fail_msg("no incident for %s", name);
        int64_t a = ms_of(inc, from), b = ms_of(inc, to);
        if (json_is_null(v)) {
            if (a != AM_TIME_NONE && b != AM_TIME_NONE)
                fail_msg("%s: %s..%s should be unknown", name, from, to);
        } else if (a == AM_TIME_NONE || b == AM_TIME_NONE ||
                   (b - a) / 1000 != json_integer_value(v)) {
            fail_msg("%s: %s..%s is not %lld s", name, from, to, (long long)json_integer_value(v));
        }
    }
}

typedef struct unmatched_ctx {
    const corr_rules_t *rules;
    am_strset_t names;
} unmatched_ctx_t;

static int on_stored(void *arg, int64_t seq, const am_event_t *ev)
{
    unmatched_ctx_t *c = arg;
    (void)seq;
    if (ev->kind == AM_KIND_ALERT && !corr_rules_match_any(c->rules, ev))
        am_strset_add(&c->names, ev->name, NULL);
    return 0;
}

static void test_expected(void **state)
{
    (void)state;
    char *rules = tmp_slurp(rules_path);
    lines_t l = {0};
    read_events(&l);
    harness_t h;
    json_t *arr = replay(rules, &l, 1000, &h);
    json_error_t jerr;
    json_t *want = json_load_file(expected_path, 0, &jerr);
    if (!want)
        fail_msg("%s: %s", expected_path, jerr.text);
    const json_t *wi = json_object_get(want, "incidents");
    if (json_array_size(wi) != json_array_size(arr))
        fail_msg("%zu incidents, want %zu", json_array_size(arr), json_array_size(wi));
    size_t i;
    const json_t *w;
    json_array_foreach(wi, i, w)
    {
        const json_t *have = find_by_key(arr, json_object_get(w, "key"));
        if (!have)
            fail_msg("no incident with the key of expected incident %zu", i);
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)w, k, v)
        {
            if (strcmp(k, "suspects") == 0 || strcmp(k, "during") == 0)
                check_deploys(v, json_object_get(have, k), k);
            else if (!json_equal(json_object_get(have, k), (json_t *)v)) {
                char *hs = json_dumps(json_object_get(have, k), JSON_ENCODE_ANY);
                char *ws = json_dumps(v, JSON_ENCODE_ANY);
                fail_msg("incident %zu: %s is %s, want %s", i, k, hs, ws);
            }
        }
    }
    unmatched_ctx_t uc = {.rules = h.rules};
    char err[256];
    assert_int_equal(store_scan_events(h.st, 0, on_stored, &uc, err, sizeof err), 0);
    const json_t *nai = json_object_get(want, "not_in_any_incident");
    if (nai)
        assert_int_equal(uc.names.n, json_array_size(nai));
    json_array_foreach(nai, i, w)
        assert_true(am_strset_find(&uc.names, json_string_value(w)) != (size_t)-1);
    am_strset_free(&uc.names);
    check_seconds(json_object_get(want, "time_to_detect_s"), arr, "started_at", "detected_at");
    check_seconds(json_object_get(want, "time_to_acknowledge_s"), arr, "detected_at",
                  "acknowledged_at");
    printf("expected facts: %zu incidents match %s\n", json_array_size(arr), expected_path);
    json_decref(want);
    json_decref(arr);
    h_close(&h);
    lines_free(&l);
    free(rules);
}

/* Prints the first incident that differs, not two walls of JSON. */
static void report_difference(const char *want, const char *got)
{
    json_t *w = json_loads(want, 0, NULL), *g = json_loads(got, 0, NULL);
    fprintf(stderr, "want %zu incidents, got %zu\n", json_array_size(w), json_array_size(g));
    for (size_t i = 0; i < json_array_size(w) || i < json_array_size(g); i++) {
        json_t *a = json_array_get(w, i), *b = json_array_get(g, i);
        if (a && b && json_equal(a, b))
            continue;
        const char *k;
        json_t *v;
        if (a && b) {
            json_object_foreach(a, k, v) if (!json_equal(v, json_object_get(b, k)))
            {
                char *x = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
                char *y = json_dumps(json_object_get(b, k), JSON_ENCODE_ANY | JSON_COMPACT);
                fprintf(stderr, "incident %zu: %s\n  want %.600s\n  got  %.600s\n", i, k, x, y);
                free(x);
                free(y);
            }
        }
        char *x = json_dumps(a ? json_object_get(a, "key") : NULL, JSON_ENCODE_ANY);
        fprintf(stderr, "first difference at incident %zu (key %s)\n", i, x ? x : "-");
        free(x);
        break;
    }
    json_decref(w);
    json_decref(g);
}

static void test_permutations(void **state)
{
    (void)state;
    lines_t l = {0};
    char *rules;
    if (synthetic > 0) {
        synth(synthetic, &seed, &l);
        rules = strdup(SYNTH_RULES);
    } else {
        read_events(&l);
        rules = tmp_slurp(rules_path);
    }
    json_t *base = replay(rules, &l, 1000, NULL);
    char *want = content_of(base);
    size_t nincidents = json_array_size(base);
    /* The synthetic stream must exercise the lifecycle: inferred ends and
     * truncated notifications are among what the orders must agree on. */
    size_t inferred = 0, truncated = 0, silenced = 0;
    for (size_t i = 0; i < nincidents; i++) {
        const json_t *o = json_array_get(base, i);
        const char *lead = json_string_value(json_object_get(o, "lead"));
        inferred += json_is_true(json_object_get(o, "mitigated_inferred"));
        truncated += json_object_get(o, "truncated_alerts") != NULL;
        silenced += lead && strncmp(lead, "op", 2) == 0; /* synth_recorder's silences */
    }
    if (synthetic > 0 && (inferred == 0 || truncated == 0 || silenced == 0))
        fail_msg("the synthetic stream has %zu inferred ends, %zu truncated incidents and %zu "
                 "acknowledged by a silence: the lifecycle is not exercised",
                 inferred, truncated, silenced);
    json_decref(base);
    for (long p = 0; p < permutations; p++) {
        lines_t shuffled = {0};
        for (size_t i = 0; i < l.n; i++) {
            lines_push(&shuffled, l.v[i]);
            if (rnd() % 5 == 0) /* a duplicate delivery */
                lines_push(&shuffled, l.v[i]);
        }
        for (size_t i = shuffled.n; i > 1; i--) {
            size_t j = rnd() % i;
            char *t = shuffled.v[i - 1];
            shuffled.v[i - 1] = shuffled.v[j];
            shuffled.v[j] = t;
        }
        static const size_t batches[] = {1, 2, 3, 7, 50, 1000};
        size_t batch = batches[rnd() % 6];
        json_t *arr = replay(rules, &shuffled, batch, NULL);
        char *got = content_of(arr);
        if (strcmp(got, want) != 0) {
            report_difference(want, got);
            fail_msg("permutation %ld (batch %zu): order or duplicates changed the incidents", p,
                     batch);
        }
        free(got);
        json_decref(arr);
        lines_free(&shuffled);
    }
    printf("%ld permutations of %zu events: the same %zu incidents every time (%zu with an "
           "inferred end, %zu truncated, %zu acknowledged by a silence)\n",
           permutations, l.n, nincidents, inferred, truncated, silenced);
    free(want);
    free(rules);
    lines_free(&l);
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--events") == 0 && events_path && nmore < 4)
            more_events[nmore++] = argv[i + 1];
        else if (strcmp(argv[i], "--events") == 0)
            events_path = argv[i + 1];
        else if (strcmp(argv[i], "--rules") == 0)
            rules_path = argv[i + 1];
        else if (strcmp(argv[i], "--expected") == 0)
            expected_path = argv[i + 1];
        else if (strcmp(argv[i], "--permutations") == 0)
            permutations = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--synthetic") == 0)
            synthetic = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0)
            seed = strtoull(argv[i + 1], NULL, 10);
        else {
            fprintf(stderr, "unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (synthetic <= 0 && (!events_path || !rules_path)) {
        fprintf(stderr, "usage: scenario_check --events FILE --rules FILE [--expected FILE] "
                        "[--permutations N] [--seed S] | --synthetic N --permutations N\n");
        return 2;
    }
    if (events_path && access(events_path, R_OK) != 0) {
        fprintf(stderr, "FAIL: scenario events %s are absent\n", events_path);
        return 1;
    }
    /* Only what was asked for runs: nothing is reported as skipped. */
    struct CMUnitTest tests[2];
    size_t n = 0;
    if (expected_path)
        tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_expected);
    if (permutations > 0)
        tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_permutations);
    if (n == 0) {
        fprintf(stderr, "nothing to check: give --expected and/or --permutations\n");
        return 2;
    }
    return _cmocka_run_group_tests("scenario_check", tests, n, NULL, NULL);
}
