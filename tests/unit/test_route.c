/*
 * test_route.c - the routing of the staged topology: the partition
 * function is pinned (the keyed topic depends on it across versions),
 * spreads keys over every partition, and the pairs an alert joins are
 * exactly those the correlator groups by (rule order, continue).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/event.h"
#include "correlate/matcher.h"
#include "correlate/route.h"
#include "correlate/rules.h"

static void test_partition_pinned(void **state)
{
    (void)state;
    /* Changing these values re-keys every deployed keyed topic: never. */
    static const struct {
        const char *rule, *gkey;
        int32_t n, want;
    } cases[] = {
        {"paging-outage", "{\"cluster\":\"us-east-1\",\"env\":\"prod\"}", 12, 4},
        {"paging-outage", "{\"cluster\":\"eu-west-1\",\"env\":\"prod\"}", 12, 9},
        {"r", "{}", 7, 5},
        {"r", "{\"a\":\"q\"}", 64, 52},
        {"r", "{}", 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(corr_route_partition(cases[i].rule, cases[i].gkey, cases[i].n),
                         cases[i].want);
}

/* Keys that differ in one bit of one byte still spread over a power of
 * two (plain FNV-1a's low bits would not), and many keys fill every
 * partition evenly enough. */
static void test_partition_spread(void **state)
{
    (void)state;
    int hits[16] = {0};
    for (int c = 0; c < 16; c++) {
        char gkey[32];
        snprintf(gkey, sizeof gkey, "{\"cluster\":\"%c\"}", 'a' + 16 * (c & 1) + (c >> 1));
        hits[corr_route_partition("r", gkey, 2)]++;
    }
    assert_true(hits[0] > 0 && hits[1] > 0);
    memset(hits, 0, sizeof hits);
    for (int i = 0; i < 12000; i++) {
        char gkey[64];
        snprintf(gkey, sizeof gkey, "{\"cluster\":\"c%d\",\"service\":\"s%d\"}", i % 97, i);
        hits[corr_route_partition("paging-outage", gkey, 12)]++;
    }
    for (int p = 0; p < 12; p++)
        assert_true(hits[p] > 800 && hits[p] < 1200);
}

typedef struct pairs {
    char text[512];
} pairs_t;

static int note(void *arg, size_t rule, const char *name, const char *gkey)
{
    pairs_t *p = arg;
    size_t len = strlen(p->text);
    snprintf(p->text + len, sizeof p->text - len, "%zu:%s:%s;", rule, name, gkey);
    return 0;
}

static void alert(am_event_t *ev, const char *severity, const char *cluster)
{
    am_event_init(ev);
    ev->kind = AM_KIND_ALERT;
    ev->id = strdup("a1");
    ev->identity = strdup("0123456789abcdef");
    ev->starts_at = 1000;
    am_labels_set(&ev->labels, "severity", severity);
    am_labels_set(&ev->labels, "cluster", cluster);
}

/* The pairs of an alert: rules in order, continue, a rule without
 * match-all; deploys and alerts without a start join none. */
static void test_pairs(void **state)
{
    (void)state;
    const char *yaml = "version: 1\nrules:\n"
                       "  - name: page\n    match: ['severity=\"page\"']\n"
                       "    group_by: [cluster]\n    continue: true\n"
                       "  - name: all\n    match: []\n    group_by: [severity]\n"
                       "  - name: never\n    match: []\n";
    char err[512];
    corr_rules_t *rules = corr_rules_load_string(yaml, strlen(yaml), "r", err, sizeof err);
    assert_non_null(rules);
    am_event_t ev;
    pairs_t p = {""};
    alert(&ev, "page", "c1");
    assert_int_equal(corr_route_alert(rules, &ev, note, &p), 0);
    assert_string_equal(p.text, "0:page:{\"cluster\":\"c1\"};1:all:{\"severity\":\"page\"};");
    am_event_free(&ev);
    p.text[0] = '\0';
    alert(&ev, "warn", "c1");
    corr_route_alert(rules, &ev, note, &p);
    assert_string_equal(p.text, "1:all:{\"severity\":\"warn\"};");
    ev.starts_at = AM_TIME_NONE;
    p.text[0] = '\0';
    corr_route_alert(rules, &ev, note, &p);
    assert_string_equal(p.text, "");
    ev.starts_at = 1000;
    ev.kind = AM_KIND_DEPLOY;
    corr_route_alert(rules, &ev, note, &p);
    assert_string_equal(p.text, "");
    am_event_free(&ev);
    corr_rules_destroy(rules);
}

/* jansson's writing of the group key (what corr_group_key wrote before its
 * fast path, and still writes for what the fast path leaves to it). */
static char *jansson_key(const corr_rules_t *rules, size_t rule, const am_event_t *ev)
{
    json_t *obj = json_object();
    const char *const by[] = {"zone", "cluster", "alertname", "service"};
    if (rule == 1) {
        for (size_t i = 0; i < ev->labels.n; i++)
            json_object_set_new(obj, ev->labels.v[i].name, json_string(ev->labels.v[i].value));
    } else {
        for (size_t i = 0; i < 4; i++)
            json_object_set_new(obj, by[i], json_string(corr_event_value(ev, by[i])));
    }
    (void)rules;
    char *s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(obj);
    return s;
}

static int keep_key(void *arg, size_t rule, const char *name, const char *gkey)
{
    (void)name;
    char **keys = arg;
    keys[rule] = strdup(gkey);
    return 0;
}

/* The group key is byte for byte what jansson writes, for plain values
 * (the fast path) and for values that need escapes or are not ASCII. */
static void test_group_key_as_jansson(void **state)
{
    (void)state;
    const char *yaml = "version: 1\nrules:\n"
                       "  - name: by\n    match: []\n"
                       "    group_by: [zone, cluster, alertname, service]\n    continue: true\n"
                       "  - name: all\n    match: []\n    group_by: ['...']\n";
    char err[512];
    corr_rules_t *rules = corr_rules_load_string(yaml, strlen(yaml), "r", err, sizeof err);
    assert_non_null(rules);
    static const char *const values[] = {
        "eu-west-1",   "",         "with \"quote\"", "back\\slash",  "tab\there",
        "caf\xc3\xa9", "slash/ok", "\x7f",           "{\"json\":1}",
    };
    size_t nv = sizeof values / sizeof values[0];
    for (size_t i = 0; i < nv; i++) {
        am_event_t ev;
        am_event_init(&ev);
        ev.kind = AM_KIND_ALERT;
        ev.identity = strdup("0123456789abcdef");
        ev.starts_at = 1000;
        am_labels_set(&ev.labels, "cluster", values[i]);
        am_labels_set(&ev.labels, "alertname", values[(i + 1) % nv]);
        am_labels_set(&ev.labels, "zone", values[(i + 2) % nv]);
        if (i % 2)
            ev.service = strdup(values[(i + 3) % nv]);
        char *keys[2] = {NULL, NULL};
        assert_int_equal(corr_route_alert(rules, &ev, keep_key, keys), 0);
        for (size_t r = 0; r < 2; r++) {
            char *want = jansson_key(rules, r, &ev);
            assert_non_null(keys[r]);
            assert_string_equal(keys[r], want);
            free(want);
            free(keys[r]);
        }
        am_event_free(&ev);
    }
    corr_rules_destroy(rules);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partition_pinned),
        cmocka_unit_test(test_partition_spread),
        cmocka_unit_test(test_pairs),
        cmocka_unit_test(test_group_key_as_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
