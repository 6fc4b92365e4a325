/*
 * test_correlate.c - the correlator's properties, one case each: the gap
 * boundary, merges and splits with stable ids, ids derived from the
 * incident (equal whatever the order, renamed when an earlier alert
 * arrives), the keyed partition a staged correlator owns, flapping, late deploys,
 * the `same` rule, ack placement, users impacted, continue, the open
 * group cap, persistence across restarts, rule changes; the episode
 * lifecycle (a new firing ends the earlier episode, staleness on the
 * record clock, truncated notifications), order-independent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdlib.h>

#include "corr_util.h"
#include "correlate/prune.h"
#include "ingest/keyed.h"
#include "tmp_util.h"

static const char *const RULES = "version: 1\n"
                                 "rules:\n"
                                 "  - name: r\n"
                                 "    match: ['severity=\"page\"']\n"
                                 "    group_by: [cluster]\n"
                                 "    gap: 30m\n"
                                 "    quiet: 10m\n"
                                 "    deploys:\n"
                                 "      match: ['env=\"prod\"']\n"
                                 "      same: [service, cluster]\n"
                                 "      before: 2h\n"
                                 "    impact:\n"
                                 "      users: annotation:users\n";

#define PAGE "\"severity\":\"page\",\"cluster\":\"c1\",\"service\":\"web\""

static void feed_free(harness_t *h, char *line)
{
    h_feed(h, line);
    free(line);
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "(null)";
}

static void test_gap_boundary(void **state)
{
    (void)state;
    harness_t h;
    /* exactly gap apart: two incidents */
    h_open(&h, ":memory:", RULES, 100, 0);
    feed_free(&h, alert("A", 0, 10, PAGE));
    feed_free(&h, alert("B", 40, 50, PAGE));
    json_t *arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 2);
    json_decref(arr);
    h_close(&h);
    /* a millisecond less: one */
    h_open(&h, ":memory:", RULES, 100, 0);
    feed_free(&h, alert("A", 0, 10, PAGE));
    feed_free(&h, alert("B", 40 - 1.0 / 60000, 50, PAGE));
    arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 1);
    json_decref(arr);
    h_close(&h);
    /* overlapping always chain; one still firing keeps it open */
    h_open(&h, ":memory:", RULES, 100, 0);
    feed_free(&h, alert("A", 0, -1, PAGE));
    feed_free(&h, alert("B", 300, 310, PAGE));
    arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 1);
    const json_t *o = json_array_get(arr, 0);
    assert_string_equal(str(o, "status"), "open");
    assert_true(json_is_null(json_object_get(o, "mitigated_at")));
    assert_true(json_is_null(json_object_get(o, "resolved_at")));
    assert_true(json_is_null(json_object_get(o, "detected_at")));
    assert_true(json_is_null(json_object_get(o, "acknowledged_at")));
    json_decref(arr);
    h_close(&h);
}

static void test_merge_keeps_earliest_id(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 1, 0);
    feed_free(&h, alert("A", 0, 10, PAGE));
    feed_free(&h, alert("C", 60, 70, PAGE));
    json_t *arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 2);
    char *first = strdup(str(json_array_get(arr, 0), "id"));
    char *second = strdup(str(json_array_get(arr, 1), "id"));
    json_decref(arr);
    /* a late alert bridging both */
    feed_free(&h, alert("B", 30, 45, PAGE));
    arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 1);
    const json_t *o = json_array_get(arr, 0);
    assert_string_equal(str(o, "id"), first);
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "aliases"), 0)),
                        second);
    assert_string_equal(str(o, "started_at"), T(0));
    assert_string_equal(str(o, "mitigated_at"), T(70));
    assert_string_equal(str(o, "resolved_at"), T(80));
    assert_int_equal(json_integer_value(json_object_get(o, "alerts")), 3);
    /* the alias still finds it */
    char err[256];
    json_t *one = corr_incident_json(h.st, second, err, sizeof err);
    assert_non_null(one);
    assert_string_equal(str(one, "id"), first);
    json_decref(one);
    json_decref(arr);
    free(first);
    free(second);
    h_close(&h);
}

/* Feeds lines[] in the order given by perm into a fresh store; returns the
 * incidents. */
static json_t *incidents_in_order(char *const *lines, const int *perm, size_t n)
{
    harness_t h;
    h_open(&h, ":memory:", RULES, 1, 0);
    for (size_t i = 0; i < n; i++)
        h_feed(&h, lines[perm[i]]);
    json_t *arr = h_incidents(&h);
    h_close(&h);
    return arr;
}

static void test_ids_from_content(void **state)
{
    (void)state;
    char *lines[] = {alert("A", 0, 10, PAGE), alert("B", 20, 30, PAGE), alert("C", 200, 210, PAGE)};
    static const int orders[][3] = {{0, 1, 2}, {2, 1, 0}, {1, 2, 0}};
    char *first = NULL;
    for (size_t k = 0; k < 3; k++) {
        json_t *arr = incidents_in_order(lines, orders[k], 3);
        assert_int_equal(json_array_size(arr), 2);
        char *ids = malloc(128);
        snprintf(ids, 128, "%s %s", str(json_array_get(arr, 0), "id"),
                 str(json_array_get(arr, 1), "id"));
        assert_non_null(strstr(ids, "INC-20240101-"));
        if (!first)
            first = ids;
        else {
            assert_string_equal(ids, first);
            free(ids);
        }
        json_decref(arr);
    }
    /* B first, then the earlier A: renamed, the old id an alias and
     * reported as changed (so that readers learn of the rename) */
    harness_t h;
    h_open(&h, ":memory:", RULES, 1, 0);
    h_feed(&h, lines[1]);
    json_t *arr = h_incidents(&h);
    char *was = strdup(str(json_array_get(arr, 0), "id"));
    json_decref(arr);
    corr_engine_changed_clear(h.engine);
    h_feed(&h, lines[0]);
    arr = h_incidents(&h);
    const json_t *o = json_array_get(arr, 0);
    assert_string_not_equal(str(o, "id"), was);
    assert_non_null(strstr(first, str(o, "id")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "aliases"), 0)), was);
    bool saw_old = false, saw_new = false;
    for (size_t i = 0; i < corr_engine_changed_count(h.engine); i++) {
        saw_old = saw_old || strcmp(corr_engine_changed_id(h.engine, i), was) == 0;
        saw_new = saw_new || strcmp(corr_engine_changed_id(h.engine, i), str(o, "id")) == 0;
    }
    assert_true(saw_old && saw_new);
    json_decref(arr);
    h_close(&h);
    free(was);
    free(first);
    for (size_t i = 0; i < 3; i++)
        free(lines[i]);

    /* A split gives an id back: it stops being an alias, and the incident
     * that listed it is reported as changed. */
    h_open(&h, ":memory:", RULES, 1, 0);
    feed_free(&h, alert("B", 50, 60, PAGE));
    arr = h_incidents(&h);
    char *id_b = strdup(str(json_array_get(arr, 0), "id"));
    json_decref(arr);
    feed_free(&h, alert("A", 0, -1, PAGE)); /* firing: chains with B, renames to A's start */
    arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 1);
    char *id_a = strdup(str(json_array_get(arr, 0), "id"));
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(json_array_get(arr, 0), "aliases"), 0)),
        id_b);
    json_decref(arr);
    corr_engine_changed_clear(h.engine);
    feed_free(&h, alert("A", 0, 5, PAGE)); /* resolved early: B is on its own again */
    arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 2);
    assert_string_equal(str(json_array_get(arr, 0), "id"), id_a);
    assert_string_equal(str(json_array_get(arr, 1), "id"), id_b);
    assert_int_equal(json_array_size(json_object_get(json_array_get(arr, 0), "aliases")), 0);
    saw_old = saw_new = false;
    for (size_t i = 0; i < corr_engine_changed_count(h.engine); i++) {
        saw_old = saw_old || strcmp(corr_engine_changed_id(h.engine, i), id_a) == 0;
        saw_new = saw_new || strcmp(corr_engine_changed_id(h.engine, i), id_b) == 0;
    }
    assert_true(saw_old && saw_new);
    json_decref(arr);
    h_close(&h);
    free(id_a);
    free(id_b);
}

/* A staged correlator takes only the keys of its partition; the two
 * partitions together hold what one store holds. */
static void test_keyed_partition(void **state)
{
    (void)state;
    char dir[64], db[128];
    tmp_dir(dir);
    char *lines[8];
    for (int i = 0; i < 8; i++) {
        char labels[128];
        snprintf(labels, sizeof labels,
                 "\"severity\":\"page\",\"cluster\":\"c%d\",\"service\":\"web\"", i);
        lines[i] = alert("A", 10.0 * i, 10.0 * i + 5, labels);
    }
    harness_t h;
    h_open(&h, ":memory:", RULES, 1, 0);
    for (int i = 0; i < 8; i++)
        h_feed(&h, lines[i]);
    json_t *all = h_incidents(&h);
    assert_int_equal(json_array_size(all), 8);
    h_close(&h);
    size_t total = 0;
    for (int32_t p = 0; p < 2; p++) {
        snprintf(db, sizeof db, "%s/k%d.db", dir, (int)p);
        corr_options_t opts = {.nparts = 2, .part = p};
        h_open_opts(&h, db, RULES, 1, &opts);
        for (int i = 0; i < 8; i++)
            h_feed(&h, lines[i]);
        json_t *arr = h_incidents(&h);
        size_t j;
        json_t *o;
        json_array_foreach(arr, j, o)
        {
            /* the same incident, id and all, as in the single store */
            bool found = false;
            for (size_t k = 0; k < json_array_size(all) && !found; k++)
                found = json_equal(o, json_array_get(all, k));
            assert_true(found);
        }
        assert_true(json_array_size(arr) > 0 && json_array_size(arr) < 8);
        total += json_array_size(arr);
        json_decref(arr);
        h_close(&h);
    }
    assert_int_equal(total, 8);
    json_decref(all);
    /* a partition's store refuses to serve another partition, or none */
    char err[1024];
    corr_rules_t *rules = corr_rules_load_string(RULES, strlen(RULES), "r", err, sizeof err);
    store_t *st = store_open(db, NULL, err, sizeof err);
    corr_options_t other = {.nparts = 2, .part = 0};
    assert_null(corr_engine_create(st, rules, NULL, &other, err, sizeof err));
    assert_non_null(strstr(err, "keyed partition 1/2"));
    assert_null(corr_engine_create(st, rules, NULL, NULL, err, sizeof err));
    store_close(st);
    /* a single instance's store is no partition's */
    snprintf(db, sizeof db, "%s/one.db", dir);
    h_open(&h, db, RULES, 1, 0);
    h_feed(&h, lines[0]);
    json_decref(h_incidents(&h));
    h_close(&h);
    st = store_open(db, NULL, err, sizeof err);
    assert_null(corr_engine_create(st, rules, NULL, &other, err, sizeof err));
    assert_non_null(strstr(err, "single instance"));
    store_close(st);
    corr_rules_destroy(rules);
    for (int i = 0; i < 8; i++)
        free(lines[i]);
    tmp_rm_rf(dir);
}

static void test_split_on_late_resolve(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 1, 0);
    feed_free(&h, alert("A", 0, -1, PAGE));
    feed_free(&h, alert("B", 120, -1, PAGE));
    json_t *arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 1); /* A is still firing */
    char *id = strdup(str(json_array_get(arr, 0), "id"));
    json_decref(arr);
    feed_free(&h, alert("A", 0, 10, PAGE)); /* A's resolve arrives */
    arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 2);
    assert_string_equal(str(json_array_get(arr, 0), "id"), id); /* the first keeps it */
    assert_string_equal(str(json_array_get(arr, 0), "mitigated_at"), T(10));
    assert_string_equal(str(json_array_get(arr, 1), "status"), "open");
    json_decref(arr);
    free(id);
    h_close(&h);
}

static void test_flapping_and_detection(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 100, 0);
    for (int i = 0; i < 4; i++) {
        char *a = alert("Flappy", i * 10, i * 10 + 5, PAGE);
        h_feed_at(&h, a, i * 10 + 1);
        h_feed_at(&h, a, i * 10 + 0.5); /* an earlier delivery of the same */
        free(a);
    }
    json_t *arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 1);
    const json_t *o = json_array_get(arr, 0);
    assert_int_equal(json_integer_value(json_object_get(o, "alerts")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "flapping"), "Flappy")),
                     4);
    assert_string_equal(str(o, "detected_at"), T(0.5));
    json_decref(arr);
    h_close(&h);
}

#define DEPLOY(name, at, svc, extra)                                                               \
    "{\"kind\":\"deploy\",\"name\":\"" name "\",\"version\":\"v-" name "\",\"at\":\"%s\","         \
    "\"environment\":\"prod\",\"actor\":\"bot\",\"labels\":{\"cluster\":\"c1\"" extra "}" svc "}"

static void test_late_deploys_and_same(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 1, 0);
    feed_free(&h, alert("A", 0, 20, PAGE));
    char buf[512];
    /* arriving after the alerts: still linked */
    snprintf(buf, sizeof buf, DEPLOY("good", "%s", ",\"service\":\"web\"", ""), T(-30));
    h_feed(&h, buf);
    snprintf(buf, sizeof buf, DEPLOY("edge", "%s", ",\"service\":\"web\"", ""), T(-120));
    h_feed(&h, buf); /* the window includes both ends */
    snprintf(buf, sizeof buf, DEPLOY("too-early", "%s", ",\"service\":\"web\"", ""), T(-121));
    h_feed(&h, buf);
    snprintf(buf, sizeof buf, DEPLOY("other-svc", "%s", ",\"service\":\"db\"", ""), T(-10));
    h_feed(&h, buf);
    snprintf(buf, sizeof buf, DEPLOY("no-svc", "%s", "", ""), T(-5)); /* lacks it: agrees */
    h_feed(&h, buf);
    snprintf(buf, sizeof buf, DEPLOY("fix", "%s", ",\"service\":\"web\"", ""), T(15));
    h_feed(&h, buf);
    snprintf(buf, sizeof buf, DEPLOY("fix-other", "%s", ",\"service\":\"db\"", ""), T(16));
    h_feed(&h, buf); /* same applies to during deploys too */
    snprintf(buf, sizeof buf, DEPLOY("after", "%s", ",\"service\":\"web\"", ""), T(31));
    h_feed(&h, buf); /* after resolved_at (20 + 10) */
    json_t *arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 1);
    const json_t *o = json_array_get(arr, 0);
    char *s = json_dumps(json_object_get(o, "suspects"), JSON_COMPACT);
    char *d = json_dumps(json_object_get(o, "during"), JSON_COMPACT);
    assert_int_equal(json_array_size(json_object_get(o, "suspects")), 3);
    assert_non_null(strstr(s, "\"edge\""));
    assert_non_null(strstr(s, "\"good\""));
    assert_non_null(strstr(s, "\"no-svc\""));
    assert_null(strstr(s, "too-early"));
    assert_null(strstr(s, "other-svc"));
    assert_int_equal(json_array_size(json_object_get(o, "during")), 1);
    assert_non_null(strstr(d, "\"fix\""));
    assert_string_equal(str(json_array_get(json_object_get(o, "suspects"), 0), "name"), "edge");
    free(s);
    free(d);
    json_decref(arr);
    h_close(&h);
}

static void test_acks(void **state)
{
    (void)state;
    static const char *const rules = "version: 1\n"
                                     "rules:\n"
                                     "  - name: r\n"
                                     "    match: ['severity=\"page\"']\n"
                                     "    group_by: [cluster]\n"
                                     "    gap: 10m\n"
                                     "    quiet: 60m\n";
    harness_t h;
    h_open(&h, ":memory:", rules, 1, 0);
    char buf[512];
    /* ack first, alerts later: order must not matter */
    snprintf(buf, sizeof buf,
             "{\"kind\":\"ack\",\"at\":\"%s\",\"actor\":\"Ann\",\"labels\":{\"cluster\":\"c1\"}}",
             T(25));
    h_feed(&h, buf);
    snprintf(buf, sizeof buf,
             "{\"kind\":\"ack\",\"at\":\"%s\",\"actor\":\"Early\",\"labels\":{\"cluster\":\"c1\"}}",
             T(-1));
    h_feed(&h, buf); /* before any incident: joins none */
    snprintf(buf, sizeof buf,
             "{\"kind\":\"ack\",\"at\":\"%s\",\"actor\":\"Bob\",\"labels\":{\"cluster\":\"c2\"}}",
             T(2));
    h_feed(&h, buf); /* another key */
    /* incident 1: [0, 10] resolved 70; incident 2: [20, 30] (20 - 10 >= gap) */
    feed_free(&h, alert("A", 0, 10, PAGE));
    feed_free(&h, alert("B", 20, 30, PAGE));
    /* an ack naming B's identity joins B's incident */
    json_t *arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 2);
    const json_t *i1 = json_array_get(arr, 0), *i2 = json_array_get(arr, 1);
    /* open to both at 25: joins the one that started first */
    assert_string_equal(str(i1, "acknowledged_at"), T(25));
    assert_string_equal(str(i1, "lead"), "Ann");
    assert_true(json_is_null(json_object_get(i2, "acknowledged_at")));
    json_decref(arr);
    h_close(&h);

    /* The later incident and the ack first; the earlier incident arrives
     * afterwards and must take the ack from it. */
    h_open(&h, ":memory:", rules, 1, 0);
    feed_free(&h, alert("B", 20, 30, PAGE));
    snprintf(buf, sizeof buf,
             "{\"kind\":\"ack\",\"at\":\"%s\",\"actor\":\"Ann\",\"labels\":{\"cluster\":\"c1\"}}",
             T(25));
    h_feed(&h, buf);
    arr = h_incidents(&h);
    assert_string_equal(str(json_array_get(arr, 0), "acknowledged_at"), T(25));
    json_decref(arr);
    feed_free(&h, alert("A", 0, 10, PAGE));
    arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 2);
    assert_string_equal(str(json_array_get(arr, 0), "acknowledged_at"), T(25));
    assert_true(json_is_null(json_object_get(json_array_get(arr, 1), "acknowledged_at")));
    json_decref(arr);
    h_close(&h);
}

/* pending: the alerts' `for:` pulls the impact start back by that much,
 * unless a suspect deploy (impact_start: deploy) is earlier still; the
 * incident's id, grouping and span stay on the alerts' own start. */
static void test_pending(void **state)
{
    (void)state;
    static const char *const rules = "version: 1\nrules:\n  - name: r\n"
                                     "    match: ['severity=\"page\"']\n    group_by: [cluster]\n"
                                     "    pending: 5m\n    impact_start: deploy\n";
    harness_t h;
    h_open(&h, ":memory:", rules, 1, 0);
    feed_free(&h, alert("A", 10, 20, PAGE));
    json_t *arr = h_incidents(&h);
    const json_t *o = json_array_get(arr, 0);
    assert_string_equal(str(o, "started_at"), T(5));
    assert_string_equal(str(o, "started_from"), "pending");
    char *id = strdup(str(o, "id"));
    json_decref(arr);
    /* a suspect deploy 2 minutes before the alert: pending's 5 is earlier */
    char buf[256];
    snprintf(buf, sizeof buf,
             "{\"kind\":\"deploy\",\"name\":\"x\",\"at\":\"%s\",\"labels\":{\"cluster\":"
             "\"c1\"}}",
             T(8));
    h_feed(&h, buf);
    arr = h_incidents(&h);
    assert_string_equal(str(json_array_get(arr, 0), "started_at"), T(5));
    json_decref(arr);
    /* one 20 minutes before: the deploy */
    snprintf(buf, sizeof buf,
             "{\"kind\":\"deploy\",\"name\":\"y\",\"at\":\"%s\",\"labels\":{\"cluster\":"
             "\"c1\"}}",
             T(-10));
    h_feed(&h, buf);
    arr = h_incidents(&h);
    o = json_array_get(arr, 0);
    assert_string_equal(str(o, "started_at"), T(-10));
    assert_string_equal(str(o, "started_from"), "deploy");
    assert_string_equal(str(o, "id"), id); /* the id is the alerts' */
    json_decref(arr);
    free(id);
    h_close(&h);
    /* refused: over 7d, not a duration */
    char err[256];
    const char *bad = "version: 1\nrules:\n  - name: r\n    match: []\n    pending: 8d\n";
    assert_null(corr_rules_load_string(bad, strlen(bad), "r.yaml", err, sizeof err));
    assert_non_null(strstr(err, "pending: over 7d"));
    bad = "version: 1\nrules:\n  - name: r\n    match: []\n    pending: soon\n";
    assert_null(corr_rules_load_string(bad, strlen(bad), "r.yaml", err, sizeof err));
    assert_non_null(strstr(err, "pending:"));
}

/* impact_start: deploy pulls the start back to the earliest suspect;
 * deploys.acknowledge makes the first human deploy after detection the
 * acknowledgement when no ack exists, and an ack still wins over it. The
 * same set of events in either order gives the same incident. */
static const char *const DEPLOY_ACK_RULES = "version: 1\n"
                                            "rules:\n"
                                            "  - name: r\n"
                                            "    match: ['severity=\"page\"']\n"
                                            "    group_by: [cluster]\n"
                                            "    impact_start: deploy\n"
                                            "    deploys:\n"
                                            "      match: ['env=\"prod\"']\n"
                                            "      acknowledge: true\n";

#define HUMAN_DEPLOY(name, actor)                                                                  \
    "{\"kind\":\"deploy\",\"name\":\"" name "\",\"version\":\"v1\",\"at\":\"%s\","                 \
    "\"environment\":\"prod\",\"actor\":\"" actor "\",\"labels\":{\"cluster\":\"c1\"}}"

static char *deploy_ack_run(bool reversed, bool with_ack, json_t **out)
{
    char lines[7][512];
    int n = 0;
    snprintf(lines[n++], 512, HUMAN_DEPLOY("bad", "Carol"), T(-30));
    snprintf(lines[n++], 512, HUMAN_DEPLOY("older", "dependabot[bot]"), T(-50));
    snprintf(lines[n++], 512, HUMAN_DEPLOY("too-soon", "Dan"), T(1)); /* before detection */
    snprintf(lines[n++], 512, HUMAN_DEPLOY("bot-fix", "renovate[bot]"), T(5));
    snprintf(lines[n++], 512, HUMAN_DEPLOY("fix", "Erin"), T(8));
    if (with_ack)
        snprintf(
            lines[n++], 512,
            "{\"kind\":\"ack\",\"at\":\"%s\",\"actor\":\"Ann\",\"labels\":{\"cluster\":\"c1\"}}",
            T(12));
    harness_t h;
    h_open(&h, ":memory:", DEPLOY_ACK_RULES, 1, 0);
    char *a = alert("A", 0, 20, PAGE);
    if (!reversed)
        h_feed_at(&h, a, 2);
    for (int i = 0; i < n; i++)
        h_feed(&h, lines[reversed ? n - 1 - i : i]);
    if (reversed)
        h_feed_at(&h, a, 2);
    free(a);
    json_t *arr = h_incidents(&h);
    char *content = content_of(arr);
    *out = arr;
    h_close(&h);
    return content;
}

static void test_deploy_ack_and_impact_start(void **state)
{
    (void)state;
    json_t *arr, *arr2;
    char *c1 = deploy_ack_run(false, false, &arr);
    char *c2 = deploy_ack_run(true, false, &arr2);
    assert_string_equal(c1, c2);
    assert_int_equal(json_array_size(arr), 1);
    const json_t *o = json_array_get(arr, 0);
    assert_string_equal(str(o, "started_at"), T(-50)); /* a bot's deploy can be a cause */
    assert_string_equal(str(o, "started_from"), "deploy");
    assert_string_equal(str(o, "detected_at"), T(2));
    assert_string_equal(str(o, "acknowledged_at"), T(8)); /* Erin, not Dan nor a bot */
    assert_string_equal(str(o, "acknowledged_by"), "deploy");
    assert_true(json_is_null(json_object_get(o, "lead")));
    json_decref(arr);
    json_decref(arr2);
    free(c1);
    free(c2);

    c1 = deploy_ack_run(false, true, &arr);
    c2 = deploy_ack_run(true, true, &arr2);
    assert_string_equal(c1, c2);
    o = json_array_get(arr, 0);
    assert_string_equal(str(o, "acknowledged_at"), T(12)); /* the ack wins, though later */
    assert_string_equal(str(o, "acknowledged_by"), "ack");
    assert_string_equal(str(o, "lead"), "Ann");
    json_decref(arr);
    json_decref(arr2);
    free(c1);
    free(c2);

    /* An earlier delivery of the alert moves detection before a deploy
     * already linked: that deploy now acknowledges. */
    harness_t h;
    h_open(&h, ":memory:", DEPLOY_ACK_RULES, 1, 0);
    char *a = alert("A", 0, 20, PAGE);
    h_feed_at(&h, a, 10);
    char line[512];
    snprintf(line, sizeof line, HUMAN_DEPLOY("fix", "Erin"), T(5));
    h_feed(&h, line);
    arr = h_incidents(&h);
    assert_true(json_is_null(json_object_get(json_array_get(arr, 0), "acknowledged_at")));
    json_decref(arr);
    h_feed_at(&h, a, 2);
    free(a);
    arr = h_incidents(&h);
    assert_string_equal(str(json_array_get(arr, 0), "acknowledged_at"), T(5));
    json_decref(arr);
    h_close(&h);

    /* Without the rule keys: the alerts' start, no deploy acknowledges. */
    h_open(&h, ":memory:", RULES, 1, 0);
    feed_free(&h, alert("A", 0, 20, PAGE));
    char buf[512];
    snprintf(buf, sizeof buf, HUMAN_DEPLOY("fix", "Erin"), T(8));
    h_feed(&h, buf);
    arr = h_incidents(&h);
    o = json_array_get(arr, 0);
    assert_string_equal(str(o, "started_at"), T(0));
    assert_string_equal(str(o, "started_from"), "alert");
    assert_true(json_is_null(json_object_get(o, "acknowledged_at")));
    assert_true(json_is_null(json_object_get(o, "acknowledged_by")));
    json_decref(arr);
    h_close(&h);
}

static void test_identity_ack_and_users(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 100, 0);
    char buf[512];
    snprintf(buf, sizeof buf,
             "{\"kind\":\"alert\",\"name\":\"A\",\"dedup_key\":\"pd-1\",\"starts_at\":\"%s\","
             "\"labels\":{" PAGE "},\"annotations\":{\"users\":\"120\"}}",
             T(0));
    h_feed(&h, buf);
    snprintf(buf, sizeof buf,
             "{\"kind\":\"alert\",\"name\":\"B\",\"starts_at\":\"%s\",\"labels\":{" PAGE
             "},\"annotations\":{\"users\":\"lots\"}}",
             T(1));
    h_feed(&h, buf);
    /* no cluster label: joins by the alert it names */
    snprintf(buf, sizeof buf,
             "{\"kind\":\"ack\",\"at\":\"%s\",\"actor\":\"Pat\",\"dedup_key\":\"pd-1\"}", T(3));
    h_feed(&h, buf);
    snprintf(buf, sizeof buf,
             "{\"kind\":\"note\",\"at\":\"%s\",\"labels\":{\"cluster\":\"c1\"},"
             "\"annotations\":{\"users\":\"4500\"},\"summary\":\"more users\"}",
             T(4));
    h_feed(&h, buf);
    json_t *arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 1);
    const json_t *o = json_array_get(arr, 0);
    assert_string_equal(str(o, "acknowledged_at"), T(3));
    assert_string_equal(str(o, "lead"), "Pat");
    assert_int_equal(json_integer_value(json_object_get(o, "users_impacted")), 4500);
    json_decref(arr);
    h_close(&h);
}

/* The changed incidents are in the outbox once the batch commits, stay
 * there across a restart until delivered, and only then leave it. */
static void test_outbox(void **state)
{
    (void)state;
    char dir[64], db[512], err[512];
    tmp_dir(dir);
    snprintf(db, sizeof db, "%s/o.db", dir);
    harness_t h;
    h_open(&h, db, RULES, 1, 0);
    feed_free(&h, alert("A", 0, 10, PAGE));
    feed_free(&h, alert("B", 100, 110, PAGE));
    json_decref(h_incidents(&h));
    assert_int_equal(corr_engine_changed_count(h.engine), 2);
    assert_int_equal(store_count(h.st, "outbox"), 2);
    corr_engine_changed_clear(h.engine); /* memory only */
    assert_int_equal(store_count(h.st, "outbox"), 2);
    h_close(&h);

    h_open(&h, db, RULES, 1, 0); /* a restart */
    assert_int_equal(corr_engine_changed_count(h.engine), 0);
    assert_int_equal(corr_engine_changed_load(h.engine, err, sizeof err), 0);
    assert_int_equal(corr_engine_changed_count(h.engine), 2);
    feed_free(&h, alert("C", 105, 120, PAGE)); /* changes B's incident again */
    json_decref(h_incidents(&h));
    assert_int_equal(corr_engine_changed_count(h.engine), 2);
    assert_int_equal(corr_engine_changed_done(h.engine, err, sizeof err), 0);
    assert_int_equal(corr_engine_changed_count(h.engine), 0);
    assert_int_equal(store_count(h.st, "outbox"), 0);
    h_close(&h);
    tmp_rm_rf(dir);
}

/* Retention: pruning drops the detail of incidents closed before the
 * horizon and unlinked old events, keeps open incidents whole, and
 * freezes the pruned past (late old events are stored, not correlated;
 * nothing chains with a frozen incident; recorrelate keeps it). */
static void test_prune(void **state)
{
    (void)state;
    char err[512], buf[512];
    harness_t h;
    h_open(&h, ":memory:", RULES, 1, 0);
    feed_free(&h, alert("A", 0, 10, PAGE)); /* incident 1: resolved at 20 */
    snprintf(buf, sizeof buf,
             "{\"kind\":\"ack\",\"at\":\"%s\",\"actor\":\"Ann\",\"labels\":{\"cluster\":\"c1\"}}",
             T(5));
    h_feed(&h, buf);
    snprintf(buf, sizeof buf, DEPLOY("bad", "%s", ",\"service\":\"web\"", ""), T(-30));
    h_feed(&h, buf);
    feed_free(&h, alert("B", 40, -1, PAGE)); /* incident 2: still firing */
    snprintf(buf, sizeof buf,
             "{\"kind\":\"ack\",\"at\":\"%s\",\"actor\":\"Bo\",\"labels\":{\"cluster\":\"c1\"}}",
             T(45));
    h_feed(&h, buf);
    snprintf(buf, sizeof buf,
             "{\"kind\":\"note\",\"at\":\"%s\",\"summary\":\"x\",\"labels\":{\"cluster\":\"c2\"}}",
             T(50));
    h_feed(&h, buf); /* links to nothing */
    json_t *before = h_incidents(&h);
    assert_int_equal(json_array_size(before), 2);
    corr_prune_stats_t n;
    int64_t horizon = BASE_MS + 60 * 60000;
    assert_int_equal(corr_prune(h.st, horizon, true, &n, err, sizeof err), 0); /* dry run */
    assert_int_equal(store_count(h.st, "events"), 6);
    assert_int_equal(corr_prune(h.st, horizon, false, &n, err, sizeof err), 0);
    assert_int_equal(n.incidents_frozen, 1);
    assert_int_equal(n.links, 2);                     /* A and Ann's ack; the suspect link stays */
    assert_int_equal(n.events, 3);                    /* A, Ann's ack, the note */
    assert_int_equal(store_count(h.st, "events"), 3); /* the deploy, B, Bo's ack */
    json_t *after = h_incidents(&h);
    assert_true(json_equal(before, after));
    json_decref(after);

    /* A late copy of A and an alert older than the horizon change nothing;
     * an alert past it that would chain with both joins the open one. */
    feed_free(&h, alert("A", 0, 10, PAGE));
    feed_free(&h, alert("C", 15, 18, PAGE));
    after = h_incidents(&h);
    assert_true(json_equal(before, after));
    json_decref(after);
    feed_free(&h, alert("E", 35, 70, PAGE));
    after = h_incidents(&h);
    assert_int_equal(json_array_size(after), 2);
    assert_true(json_equal(json_array_get(before, 0), json_array_get(after, 0)));
    assert_string_equal(str(json_array_get(after, 1), "started_at"), T(35));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(after, 1), "alerts")), 2);
    json_decref(after);

    /* recorrelate keeps the frozen incident as it was */
    json_t *was = h_incidents(&h);
    assert_int_equal(corr_recorrelate(h.st, h.rules, NULL, err, sizeof err), 0);
    json_t *now = corr_incidents_json(h.st, err, sizeof err);
    char *a = content_of(was), *b = content_of(now);
    assert_string_equal(a, b);
    free(a);
    free(b);
    json_decref(was);
    json_decref(now);
    json_decref(before);
    h_close(&h);
}

static void test_continue(void **state)
{
    (void)state;
    static const char *const rules = "version: 1\n"
                                     "rules:\n"
                                     "  - name: first\n"
                                     "    match: ['severity=\"page\"']\n"
                                     "    continue: true\n"
                                     "  - name: second\n"
                                     "    match: ['service=\"web\"']\n"
                                     "  - name: never\n"
                                     "    match: ['service=\"web\"']\n";
    harness_t h;
    h_open(&h, ":memory:", rules, 100, 0);
    feed_free(&h, alert("A", 0, 10, PAGE));
    json_t *arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 2);
    assert_string_equal(str(json_array_get(arr, 0), "rule"), "first");
    assert_string_equal(str(json_array_get(arr, 1), "rule"), "second");
    json_decref(arr);
    h_close(&h);
}

static char *many_keys(size_t batch, size_t cap)
{
    harness_t h;
    h_open(&h, ":memory:", RULES, batch, cap);
    char labels[128];
    for (int i = 0; i < 300; i++) {
        snprintf(labels, sizeof labels, "\"severity\":\"page\",\"cluster\":\"k%d\"", i % 150);
        feed_free(&h, alert(i < 150 ? "A" : "B", i % 7, 20 + i % 5, labels));
    }
    json_t *arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 150);
    char *c = content_of(arr);
    json_decref(arr);
    h_close(&h);
    return c;
}

static void test_cap_bounds_working_set(void **state)
{
    (void)state;
    char *unbounded = many_keys(1000, 0);
    char *capped = many_keys(1000, 16);
    assert_string_equal(unbounded, capped);
    free(unbounded);
    free(capped);
}

static void test_persistence_and_rule_change(void **state)
{
    (void)state;
    char dir[64], db[128];
    tmp_dir(dir);
    snprintf(db, sizeof db, "%s/p.db", dir);
    harness_t h;
    h_open(&h, db, RULES, 1, 0);
    feed_free(&h, alert("A", 0, 10, PAGE));
    json_decref(h_incidents(&h));
    h_close(&h);
    /* a restart continues the same incident */
    h_open(&h, db, RULES, 1, 0);
    feed_free(&h, alert("B", 20, 30, PAGE));
    json_t *arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0), "alerts")), 2);
    char *before = content_of(arr);
    json_decref(arr);
    h_close(&h);

    /* other rules: refused until recorrelated */
    const char *other = "version: 1\nrules:\n  - name: per-alert\n    match: []\n"
                        "    group_by: [alertname]\n";
    char err[1024];
    corr_rules_t *rules = corr_rules_load_string(other, strlen(other), "o", err, sizeof err);
    store_t *st = store_open(db, NULL, err, sizeof err);
    assert_null(corr_engine_create(st, rules, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "recorrelate"));
    assert_int_equal(corr_recorrelate(st, rules, NULL, err, sizeof err), 0);
    arr = corr_incidents_json(st, err, sizeof err);
    assert_int_equal(json_array_size(arr), 2);
    /* ids come from rule, key and start: new rules, new ids */
    assert_string_not_equal(str(json_array_get(arr, 0), "id"), str(json_array_get(arr, 1), "id"));
    assert_null(strstr(before, str(json_array_get(arr, 0), "id")));
    json_decref(arr);
    corr_rules_destroy(rules);
    /* and back: the same content as before */
    rules = corr_rules_load_string(RULES, strlen(RULES), "r", err, sizeof err);
    assert_int_equal(corr_recorrelate(st, rules, NULL, err, sizeof err), 0);
    arr = corr_incidents_json(st, err, sizeof err);
    char *after = content_of(arr);
    assert_string_equal(before, after);
    json_decref(arr);
    free(before);
    free(after);
    corr_rules_destroy(rules);
    store_close(st);
    tmp_rm_rf(dir);
}

/* ---- the episode lifecycle (DESIGN.md, "Real sources") ---- */

/* The incident of cluster c1 in arr (borrowed), or NULL. */
static const json_t *c1_incident(const json_t *arr)
{
    size_t i;
    const json_t *o;
    json_array_foreach(arr, i, o)
    {
        const char *c = json_string_value(json_object_get(json_object_get(o, "key"), "cluster"));
        if (c && strcmp(c, "c1") == 0)
            return o;
    }
    return NULL;
}

/* A note on cluster c9 observed at `at` minutes: it only moves the clock. */
static void tick(harness_t *h, double at)
{
    char line[256];
    snprintf(line, sizeof line,
             "{\"kind\":\"note\",\"at\":\"%s\",\"labels\":{\"cluster\":\"c9\"},"
             "\"summary\":\"tick %g\"}",
             T(at), at);
    h_feed_at(h, line, at);
}

/* An alert that resolves and fires again within one group_interval is
 * only followed by a new firing: the new episode ends the earlier one, at
 * its start, so the incident can close. */
static void test_refire_closes_earlier(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 1, 0);
    char *first = alert("A", 0, -1, PAGE), *again = alert("A", 20, -1, PAGE);
    h_feed_at(&h, first, 1);
    h_feed_at(&h, again, 21);
    json_t *arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 1);
    assert_string_equal(str(json_array_get(arr, 0), "status"), "open"); /* the second fires */
    json_decref(arr);
    feed_free(&h, alert("A", 20, 40, PAGE)); /* the second resolves */
    arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 1);
    const json_t *o = json_array_get(arr, 0);
    assert_string_equal(str(o, "status"), "resolved");
    assert_string_equal(str(o, "mitigated_at"), T(40));
    assert_null(json_object_get(o, "mitigated_inferred")); /* the last end is a real resolve */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "flapping"), "A")), 2);
    json_decref(arr);
    /* The store says so too: the first episode's inferred end, its own
     * ends_at (resolves only) still unknown. */
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(h.st),
                                        "SELECT ends_at, inferred_end FROM episodes ORDER BY "
                                        "starts_at",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_type(q, 0), SQLITE_NULL);
    assert_true(sqlite3_column_int64(q, 1) == BASE_MS + 20 * 60000);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_true(sqlite3_column_int64(q, 0) == BASE_MS + 40 * 60000);
    assert_int_equal(sqlite3_column_type(q, 1), SQLITE_NULL);
    sqlite3_finalize(q);
    h_close(&h);

    /* Without the second resolve, in the other order: the same episodes. */
    h_open(&h, ":memory:", RULES, 1, 0);
    h_feed_at(&h, again, 21);
    h_feed_at(&h, first, 1);
    arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 1);
    assert_string_equal(str(json_array_get(arr, 0), "status"), "open");
    json_decref(arr);
    h_close(&h);
    free(first);
    free(again);
}

/* An episode no delivery repeated for stale_after ends at its latest
 * delivery, judged by the latest record time, never the clock; a repeat
 * (the repeat skip lets a later one through) refreshes it; a resolve
 * replaces the inferred end; raw lines never go stale. */
static void test_stale(void **state)
{
    (void)state;
    corr_options_t opts = {.stale_after = 60 * 60000};
    harness_t h;
    h_open_opts(&h, ":memory:", RULES, 1, &opts);
    char *a = alert("A", 0, -1, PAGE);
    h_feed_at(&h, a, 1);
    h_feed_at(&h, a, 30); /* re-notified: the same bytes, later */
    tick(&h, 89);         /* 59 minutes after the last delivery */
    json_t *arr = h_incidents(&h);
    assert_string_equal(str(c1_incident(arr), "status"), "open");
    json_decref(arr);
    tick(&h, 90); /* 60: stale */
    arr = h_incidents(&h);
    const json_t *o = c1_incident(arr);
    assert_string_equal(str(o, "status"), "resolved");
    assert_string_equal(str(o, "mitigated_at"), T(30));
    assert_true(json_is_true(json_object_get(o, "mitigated_inferred")));
    json_decref(arr);
    h_feed_at(&h, a, 120); /* still firing after all: open again */
    arr = h_incidents(&h);
    assert_string_equal(str(c1_incident(arr), "status"), "open");
    json_decref(arr);
    char *end = alert("A", 0, 130, PAGE);
    h_feed_at(&h, end, 131);
    arr = h_incidents(&h);
    o = c1_incident(arr);
    assert_string_equal(str(o, "mitigated_at"), T(130));
    assert_null(json_object_get(o, "mitigated_inferred"));
    json_decref(arr);
    h_close(&h);

    /* Raw lines (no record time) never go stale, whatever else is seen. */
    h_open_opts(&h, ":memory:", RULES, 1, &opts);
    h_feed(&h, a);
    tick(&h, 1000);
    arr = h_incidents(&h);
    assert_string_equal(str(c1_incident(arr), "status"), "open");
    json_decref(arr);
    h_close(&h);

    /* stale_after < 0: never. */
    corr_options_t never = {.stale_after = -1};
    h_open_opts(&h, ":memory:", RULES, 1, &never);
    h_feed_at(&h, a, 1);
    tick(&h, 10000);
    arr = h_incidents(&h);
    assert_string_equal(str(c1_incident(arr), "status"), "open");
    json_decref(arr);
    h_close(&h);
    free(a);
    free(end);
}

/* Alertmanager webhook of one alert on c1, truncated as said. */
static char *webhook(const char *name, double start, long truncated)
{
    am_buf_t b = {0};
    am_buf_printf(&b,
                  "{\"receiver\":\"r\",\"status\":\"firing\",\"truncatedAlerts\":%ld,\"alerts\":"
                  "[{\"status\":\"firing\",\"labels\":{\"alertname\":\"%s\",%s},"
                  "\"annotations\":{},\"startsAt\":\"%s\",\"endsAt\":\"0001-01-01T00:00:00Z\"}]}",
                  truncated, name, PAGE, T(start));
    return am_buf_steal(&b);
}

/* A truncated notification says the alerts it left out still fire: it
 * refreshes every open episode of its group, in either order. */
static void test_truncated_refreshes_group(void **state)
{
    (void)state;
    corr_options_t opts = {.stale_after = 60 * 60000};
    char *y = webhook("Y", 0, 0), *x = webhook("X", 5, 1);
    for (int order = 0; order < 2; order++) {
        harness_t h;
        h_open_opts(&h, ":memory:", RULES, 1, &opts);
        if (order == 0)
            h_feed_at(&h, y, 1);
        h_feed_at(&h, x, 50);
        h_feed_at(&h, x, 100); /* lists X only, leaves Y out */
        if (order == 1)
            h_feed_at(&h, y, 1);
        tick(&h, 130); /* Y alone would be stale since 61 */
        json_t *arr = h_incidents(&h);
        const json_t *o = c1_incident(arr);
        assert_string_equal(str(o, "status"), "open");
        assert_int_equal(json_integer_value(json_object_get(o, "truncated_alerts")), 1);
        json_decref(arr);
        tick(&h, 160); /* 60 minutes after the last notification: both stale */
        arr = h_incidents(&h);
        o = c1_incident(arr);
        assert_string_equal(str(o, "mitigated_at"), T(100));
        assert_true(json_is_true(json_object_get(o, "mitigated_inferred")));
        json_decref(arr);
        h_close(&h);
    }
    /* Without truncation Y goes stale on its own. */
    harness_t h;
    h_open_opts(&h, ":memory:", RULES, 1, &opts);
    char *x0 = webhook("X", 5, 0);
    h_feed_at(&h, y, 1);
    h_feed_at(&h, x0, 50);
    h_feed_at(&h, x0, 100);
    tick(&h, 130);
    json_t *arr = h_incidents(&h);
    const json_t *o = c1_incident(arr);
    assert_string_equal(str(o, "status"), "open"); /* X still fires */
    assert_null(json_object_get(o, "truncated_alerts"));
    json_decref(arr);
    h_close(&h);
    free(x0);
    free(x);
    free(y);
}

/* The lifecycle is a function of the set of records: every order of a
 * small stream (refire, repeat, stale, resolve, truncation) gives the same
 * incidents, in one batch or one record per batch, and re-delivering it
 * all changes nothing. */
static void test_lifecycle_order_independent(void **state)
{
    (void)state;
    corr_options_t opts = {.stale_after = 60 * 60000};
    char *recs[6];
    double at[6] = {1, 30, 21, 200, 150, 260};
    recs[0] = alert("A", 0, -1, PAGE);
    recs[1] = alert("A", 0, -1, PAGE);
    recs[2] = alert("B", 20, -1, PAGE);
    recs[3] = alert("A", 140, -1, PAGE); /* A again, much later */
    recs[4] = webhook("X", 100, 2);
    recs[5] = alert("B", 20, 250, PAGE);
    const size_t n = 6;
    char *want = NULL;
    size_t perm[6];
    int count = 0;
    /* every other permutation (of 720), in two batch sizes on every 7th */
    for (int k = 0; k < 720; k += 2) {
        size_t pool[6] = {0, 1, 2, 3, 4, 5}, left = n;
        int code = k;
        for (size_t i = 0; i < n; i++) {
            size_t j = (size_t)(code % (int)left);
            code /= (int)left;
            perm[i] = pool[j];
            pool[j] = pool[--left];
        }
        for (size_t batch = 1; batch <= (k % 7 == 0 ? 100u : 1u); batch += 99) {
            harness_t h;
            h_open_opts(&h, ":memory:", RULES, batch, &opts);
            for (size_t i = 0; i < n; i++)
                h_feed_at(&h, recs[perm[i]], at[perm[i]]);
            if (k % 5 == 0) /* everything again */
                for (size_t i = 0; i < n; i++)
                    h_feed_at(&h, recs[perm[i]], at[perm[i]]);
            json_t *arr = h_incidents(&h);
            char *got = content_of(arr);
            json_decref(arr);
            if (!want) {
                want = got;
            } else {
                if (strcmp(want, got) != 0)
                    fail_msg("order %d differs:\n%s\n%s", k, want, got);
                free(got);
            }
            h_close(&h);
            count++;
        }
    }
    assert_true(count > 360);
    /* and what it is: A's first episode ends stale at 30 (or at its next
     * start, 140), B runs 20..250 and joins everything into one incident
     * that its real resolve ends; X's notification left 2 alerts out */
    assert_non_null(strstr(want, "\"mitigated_at\":\"2024-01-01T04:10:00Z\""));
    assert_non_null(strstr(want, "\"status\":\"resolved\""));
    assert_null(strstr(want, "mitigated_inferred"));
    assert_non_null(strstr(want, "\"truncated_alerts\":2"));
    free(want);
    for (size_t i = 0; i < n; i++)
        free(recs[i]);
}

/* An API v2 body (what Prometheus POSTs) of alert A on c1. */
static char *api_body(double start, double end)
{
    am_buf_t b = {0};
    am_buf_printf(&b,
                  "[{\"labels\":{\"alertname\":\"A\",%s},\"annotations\":{},\"startsAt\":\"%s\","
                  "\"endsAt\":\"%s\"}]",
                  PAGE, T(start), T(end));
    return am_buf_steal(&b);
}

/* Raw lines of API v2 bodies: each firing send moves endsAt on, a resolve
 * is re-sent unchanged. An endsAt two records repeat is the resolve;
 * otherwise the greatest ends the episode, inferred. Any order; the same
 * record replayed again (same place) confirms nothing. */
static void test_api_raw_ends(void **state)
{
    (void)state;
    char *body[5] = {api_body(0, 4), api_body(0, 5), api_body(0, 6), api_body(0, 3),
                     api_body(0, 3)};
    static const size_t orders[][5] = {{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {3, 0, 4, 2, 1}};
    for (size_t k = 0; k < 3; k++) {
        harness_t h;
        h_open(&h, ":memory:", RULES, 1, 0);
        for (size_t i = 0; i < 5; i++)
            h_feed(&h, body[orders[k][i]]);
        json_t *arr = h_incidents(&h);
        assert_int_equal(json_array_size(arr), 1);
        const json_t *o = json_array_get(arr, 0);
        assert_string_equal(str(o, "mitigated_at"), T(3));
        assert_null(json_object_get(o, "mitigated_inferred"));
        json_decref(arr);
        h_close(&h);
    }
    /* The resolve sent once: the greatest endsAt, inferred. Then the same
     * file again (the same places): still unconfirmed. */
    harness_t h;
    h_open(&h, ":memory:", RULES, 1, 0);
    for (int pass = 0; pass < 2; pass++) {
        h.line = 0;
        for (size_t i = 0; i < 4; i++)
            h_feed(&h, body[i]);
        json_t *arr = h_incidents(&h);
        const json_t *o = json_array_get(arr, 0);
        assert_string_equal(str(o, "mitigated_at"), T(6));
        assert_true(json_is_true(json_object_get(o, "mitigated_inferred")));
        json_decref(arr);
    }
    /* A second record repeating the resolve confirms it. */
    h_feed(&h, body[4]);
    json_t *arr = h_incidents(&h);
    assert_string_equal(str(json_array_get(arr, 0), "mitigated_at"), T(3));
    assert_null(json_object_get(json_array_get(arr, 0), "mitigated_inferred"));
    json_decref(arr);
    h_close(&h);
    for (size_t i = 0; i < 5; i++)
        free(body[i]);
}

/* Alertmanager's event recorder (events/v2 JSON, written here faithfully
 * to its proto): the resolve of a silenced alert, which no webhook sends,
 * ends it; detection is the notification; with `silences: acknowledge`
 * the silence acknowledges the incident, its creator the lead. */
static char *am_event(double at, const char *data)
{
    am_buf_t b = {0};
    am_buf_printf(&b, "{\"@timestamp\":\"%s\",\"instance\":\"am-0\",\"data\":{%s}}", T(at), data);
    return am_buf_steal(&b);
}

static void test_event_recorder(void **state)
{
    (void)state;
    const char *rules = "version: 1\n"
                        "rules:\n"
                        "  - name: r\n"
                        "    match: ['severity=\"page\"']\n"
                        "    group_by: [cluster]\n"
                        "    gap: 30m\n"
                        "    quiet: 10m\n"
                        "    silences: acknowledge\n";
    char alert_json[512], data[2048];
    snprintf(alert_json, sizeof alert_json,
             "\"fingerprint\":\"1\",\"name\":\"DiskFull\",\"labels\":{\"alertname\":\"DiskFull\","
             "%s},\"annotations\":{\"summary\":\"disk full\"},\"startsAt\":\"%s\"",
             PAGE, T(0));
    char *recs[4];
    snprintf(
        data, sizeof data,
        "\"alertGrouped\":{\"alert\":{\"fingerprint\":\"1\",\"details\":{%s,\"endsAt\":\"%s\"}}}",
        alert_json, T(4));
    recs[0] = am_event(0.1, data);
    snprintf(data, sizeof data,
             "\"notification\":{\"alerts\":[{\"fingerprint\":\"1\",\"details\":{%s,\"endsAt\":"
             "\"0001-01-01T00:00:00Z\"}}],\"firingAlerts\":[{\"fingerprint\":\"1\"}],\"groupInfo\":"
             "{\"receiverName\":\"oncall\"},\"reason\":\"NOTIFY_REASON_FIRST_NOTIFICATION\","
             "\"integration\":{\"name\":\"webhook\"}}",
             alert_json);
    recs[1] = am_event(1, data);
    snprintf(data, sizeof data,
             "\"silenceCreated\":{\"silence\":{\"id\":\"s1\",\"matchers\":[{\"type\":"
             "\"TYPE_EQUAL\",\"name\":\"cluster\",\"pattern\":\"c1\",\"rendered\":"
             "\"cluster=\\\"c1\\\"\"}],\"startsAt\":\"%s\",\"endsAt\":\"%s\",\"updatedAt\":\"%s\","
             "\"createdBy\":\"Jane Doe\",\"comment\":\"disk swap\"}}",
             T(10), T(70), T(10));
    recs[2] = am_event(10, data);
    snprintf(data, sizeof data,
             "\"alertResolved\":{\"alert\":{\"fingerprint\":\"1\",\"details\":{%s,\"endsAt\":"
             "\"%s\",\"resolved\":true}}}",
             alert_json, T(20));
    recs[3] = am_event(25, data);
    const double at[4] = {0.1, 1, 10, 25};
    static const size_t orders[][4] = {{0, 1, 2, 3}, {3, 2, 1, 0}, {2, 0, 3, 1}};
    for (size_t k = 0; k < 3; k++) {
        harness_t h;
        h_open(&h, ":memory:", rules, 1, 0);
        for (size_t i = 0; i < 4; i++)
            h_feed_at(&h, recs[orders[k][i]], at[orders[k][i]]);
        json_t *arr = h_incidents(&h);
        assert_int_equal(json_array_size(arr), 1);
        const json_t *o = json_array_get(arr, 0);
        assert_string_equal(str(o, "started_at"), T(0));
        assert_string_equal(str(o, "detected_at"), T(1));
        assert_string_equal(str(o, "acknowledged_at"), T(10));
        assert_string_equal(str(o, "lead"), "Jane Doe");
        assert_string_equal(str(o, "mitigated_at"), T(20));
        assert_null(json_object_get(o, "mitigated_inferred"));
        json_decref(arr);
        h_close(&h);
    }
    /* Without `silences: acknowledge` the silence is a note only. */
    harness_t h;
    h_open(&h, ":memory:", RULES, 1, 0);
    for (size_t i = 0; i < 4; i++)
        h_feed_at(&h, recs[i], at[i]);
    json_t *arr = h_incidents(&h);
    assert_true(json_is_null(json_object_get(json_array_get(arr, 0), "acknowledged_at")));
    json_decref(arr);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(h.st),
                                        "SELECT count(*) FROM incident_events WHERE role = 'note'",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 1);
    sqlite3_finalize(q);
    h_close(&h);
    for (size_t i = 0; i < 4; i++)
        free(recs[i]);
}

/* A correlator of the staged topology reads keyed records, whose record
 * time is the event's observed_at, or the producer's "now" when it had
 * none: its clock follows the events' observed_at, so an event without
 * one does not make everything stale. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gap_boundary),
        cmocka_unit_test(test_merge_keeps_earliest_id),
        cmocka_unit_test(test_ids_from_content),
        cmocka_unit_test(test_keyed_partition),
        cmocka_unit_test(test_split_on_late_resolve),
        cmocka_unit_test(test_flapping_and_detection),
        cmocka_unit_test(test_late_deploys_and_same),
        cmocka_unit_test(test_acks),
        cmocka_unit_test(test_deploy_ack_and_impact_start),
        cmocka_unit_test(test_pending),
        cmocka_unit_test(test_identity_ack_and_users),
        cmocka_unit_test(test_continue),
        cmocka_unit_test(test_outbox),
        cmocka_unit_test(test_prune),
        cmocka_unit_test(test_cap_bounds_working_set),
        cmocka_unit_test(test_persistence_and_rule_change),
        cmocka_unit_test(test_refire_closes_earlier),
        cmocka_unit_test(test_stale),
        cmocka_unit_test(test_truncated_refreshes_group),
        cmocka_unit_test(test_lifecycle_order_independent),
        cmocka_unit_test(test_api_raw_ends),
        cmocka_unit_test(test_event_recorder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
