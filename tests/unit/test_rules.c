/*
 * test_rules.c - loading rule files: defaults, every key, and errors that
 * name file:line:column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "correlate/rules.h"
#include "correlate/rules_int.h"

static corr_rules_t *load(const char *yaml)
{
    char err[512];
    corr_rules_t *r = corr_rules_load_string(yaml, strlen(yaml), "t.yaml", err, sizeof err);
    if (!r)
        fail_msg("refused: %s", err);
    return r;
}

static void refused(const char *yaml, const char *want)
{
    char err[512] = "";
    corr_rules_t *r = corr_rules_load_string(yaml, strlen(yaml), "t.yaml", err, sizeof err);
    if (r)
        fail_msg("accepted but should be refused: %s", yaml);
    if (!strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
}

static void test_full_rule(void **state)
{
    (void)state;
    corr_rules_t *rules = load("version: 1\n"
                               "rules:\n"
                               "  - name: service-outage\n"
                               "    description: Paging alerts.\n"
                               "    match: ['kind=\"alert\"', 'severity=~\"critical|page\"']\n"
                               "    group_by: [service, cluster]\n"
                               "    gap: 1h30m\n"
                               "    quiet: 5m\n"
                               "    deploys:\n"
                               "      match: ['kind=\"deploy\"']\n"
                               "      same: [service, cluster]\n"
                               "      before: 2h\n"
                               "      during: false\n"
                               "    impact:\n"
                               "      users: annotation:users_impacted\n"
                               "    silences: acknowledge\n"
                               "    continue: true\n"
                               "  - name: everything\n"
                               "    match: []\n"
                               "    group_by: ['...']\n");
    assert_int_equal(corr_rules_count(rules), 2);
    const corr_rule_t *r = &rules->v[0];
    assert_true(r->silence_ack);
    assert_false(rules->v[1].silence_ack); /* note, the default */
    assert_string_equal(r->name, "service-outage");
    assert_int_equal(r->nmatch, 2);
    assert_int_equal(r->ngroup, 2);
    assert_string_equal(r->group_by[0], "cluster"); /* sorted */
    assert_true(r->gap == 5400000);
    assert_true(r->quiet == 300000);
    assert_true(r->before == 7200000);
    assert_false(r->during);
    assert_int_equal(r->nsame, 2);
    assert_int_equal(r->users_from, CORR_USERS_ANNOTATION);
    assert_string_equal(r->users_name, "users_impacted");
    assert_true(r->cont);
    const corr_rule_t *all = &rules->v[1];
    assert_true(all->group_all);
    /* defaults */
    assert_true(all->gap == 30 * 60000);
    assert_true(all->quiet == 10 * 60000);
    assert_true(all->before == 2 * 3600000);
    assert_true(all->during);
    assert_false(all->cont);
    corr_rules_destroy(rules);
}

static void test_errors_name_the_place(void **state)
{
    (void)state;
    refused("version: 1\nrules:\n  - name: a\n    match: []\n    gapp: 5m\n",
            "t.yaml:5:5: unknown key 'gapp'");
    refused("version: 1\nrules:\n  - name: a\n    match: []\n    gap: 5 minutes\n",
            "t.yaml:5:10: gap: bad duration");
    refused("version: 1\nrules:\n  - name: a\n    match: ['severity=~\"(\"']\n",
            "t.yaml:4:13: matcher");
    refused("version: 1\nrules:\n  - name: a\n    match: []\n    deploys:\n      bfore: 2h\n",
            "t.yaml:6:7: deploys: unknown key 'bfore'");
    refused("version: 1\nrules:\n  - name: a\n    match: []\n    continue: yes\n",
            "t.yaml:5:15: continue: expected true or false");
    refused("version: 1\nrules:\n  - name: a\n    match: []\n    impact:\n      users: 12\n",
            "impact.users: expected annotation:NAME or label:NAME");
    refused("version: 1\nrules:\n  - name: a\n    match: []\n    silences: ack\n",
            "t.yaml:5:15: silences: expected note or acknowledge");
    refused("version: 1\nrules:\n  - match: []\n", "t.yaml:3:5: rule without a name");
    refused("version: 1\nrules:\n  - name: a\n", "rule 'a' has no match list");
    refused("version: 1\nrules:\n  - {name: a, match: []}\n  - {name: a, match: []}\n",
            "rule name 'a' is used twice");
    refused("version: 1\nrules:\n  - name: a\n    name: b\n    match: []\n",
            "t.yaml:4:5: key 'name' is given twice");
    refused("version: 2\nrules: []\n", "only version 1");
    refused("rules: []\n", "missing 'version: 1'");
    refused("version: 1\nrules: {}\n", "'rules' must be a list");
    refused("version: 1\nrules:\n  - name: a\n    match: []\n    group_by: [a, '...']\n",
            "must stand alone");
    refused("version: 1\nrules:\n  - name: a\n    match: []\n    gap: 0\n", "gap must be more");
    refused("version: 1\nrules: [\n", "t.yaml:");
    refused("- just a list\n", "expected a mapping");
}

/* Rules per file are capped (CORR_RULES_MAX): one more is refused with the
 * count, exactly the cap loads. */
static void test_rules_per_file_limit(void **state)
{
    (void)state;
    char *yaml = NULL;
    size_t len = 0;
    for (int n = CORR_RULES_MAX; n <= CORR_RULES_MAX + 1; n++) {
        FILE *f = open_memstream(&yaml, &len);
        fprintf(f, "version: 1\nrules:\n");
        for (int i = 0; i < n; i++)
            fprintf(f, "  - {name: r%d, match: []}\n", i);
        fclose(f);
        if (n == CORR_RULES_MAX)
            corr_rules_destroy(load(yaml));
        else
            refused(yaml, "t.yaml:3:3: 1001 rules, over the limit of 1000");
        free(yaml);
        yaml = NULL;
    }
}

/* The alias bomb: a 40 KB file naming one regex matcher 10,000
 * times through an alias compiled 10,000 regexes (1.1 GB). It is refused
 * before any is compiled, naming the place and the limit. */
static void test_alias_bomb(void **state)
{
    (void)state;
    am_buf_t b = {0};
    am_buf_puts(&b, "version: 1\nrules:\n  - name: bomb\n"
                    "    match: [&m 'a=~\"[a-z]{1,70}[0-9]{1,70}\"'");
    for (int i = 0; i < 10000; i++)
        am_buf_puts(&b, ", *m");
    am_buf_puts(&b, "]\n");
    assert_true(b.len > 40000);
    refused(b.p, "t.yaml:4:8239: aliases repeat more than the limit of 65536 bytes");
    am_buf_free(&b);
    /* A few aliases of a shared list still load. */
    corr_rules_t *rules = load("version: 1\nrules:\n"
                               "  - {name: a, match: &pay ['service=\"pay\"']}\n"
                               "  - {name: b, match: *pay, deploys: {match: *pay}}\n");
    assert_int_equal(rules->v[1].nmatch, 1);
    assert_int_equal(rules->v[1].ndeploy_match, 1);
    corr_rules_destroy(rules);
}

/* 100,000 levels of nesting kept libyaml's scanner busy for minutes; the
 * loader refuses them at level 33, naming the place. */
static void test_deep_nesting(void **state)
{
    (void)state;
    am_buf_t b = {0};
    am_buf_puts(&b, "version: 1\nrules: ");
    for (int i = 0; i < 100000; i++)
        am_buf_putc(&b, '[');
    for (int i = 0; i < 100000; i++)
        am_buf_putc(&b, ']');
    am_buf_putc(&b, '\n');
    refused(b.p, "t.yaml:2:39: sequences and mappings nested deeper than the limit of 32");
    am_buf_free(&b);
}

/* A rule of key: [n entries] (matchers or labels), n written out. */
static char *rule_with_list(const char *key, const char *suffix, int n)
{
    am_buf_t b = {0};
    am_buf_printf(&b, "version: 1\nrules:\n  - name: r\n    match: []\n    %s [", key);
    for (int i = 0; i < n; i++)
        am_buf_printf(&b, "%sl%d%s", i ? ", " : "", i, suffix);
    am_buf_puts(&b, "]");
    if (strncmp(key, "deploys:", 8) == 0)
        am_buf_puts(&b, "}");
    am_buf_puts(&b, "\n");
    return am_buf_steal(&b);
}

/* Every list in a rule holds at most CORR_RULE_LIST_MAX entries: exactly
 * the cap loads, one more is refused with the count. */
static void test_rule_list_limit(void **state)
{
    (void)state;
    static const struct {
        const char *key, *suffix, *want;
    } lists[] = {
        {"group_by:", "", "group_by: 101 labels, over the limit of 100"},
        {"deploys: {same:", "", "deploys.same: 101 labels, over the limit of 100"},
        {"deploys: {match:", "=\"x\"", "deploys.match: 101 matchers, over the limit of 100"},
        {"deploys: {acknowledge:", "=\"x\"",
         "deploys.acknowledge: 101 matchers, over the limit of 100"},
    };
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        char *yaml = rule_with_list(lists[i].key, lists[i].suffix, CORR_RULE_LIST_MAX);
        corr_rules_destroy(load(yaml));
        free(yaml);
        yaml = rule_with_list(lists[i].key, lists[i].suffix, CORR_RULE_LIST_MAX + 1);
        refused(yaml, lists[i].want);
        free(yaml);
    }
    /* match itself, with the place of the list. */
    am_buf_t b = {0};
    am_buf_puts(&b, "version: 1\nrules:\n  - name: r\n    match: [");
    for (int i = 0; i <= CORR_RULE_LIST_MAX; i++)
        am_buf_printf(&b, "%s'l%d=\"x\"'", i ? ", " : "", i);
    am_buf_puts(&b, "]\n");
    refused(b.p, "t.yaml:4:12: match: 101 matchers, over the limit of 100");
    am_buf_free(&b);
}

static void test_default_and_digest(void **state)
{
    (void)state;
    char err[512];
    corr_rules_t *d = corr_rules_load_default(err, sizeof err);
    if (!d)
        fail_msg("default rules: %s", err);
    assert_true(corr_rules_count(d) >= 1);
    corr_rules_destroy(d);

    /* Formatting and comments do not change the digest; values do. */
    corr_rules_t *a = load("version: 1\nrules:\n  - name: a\n    match: ['x=\"1\"']\n");
    corr_rules_t *b = load("# comment\nversion: 1\nrules: [{name: a, match: ['x=\"1\"']}]\n");
    corr_rules_t *c = load("version: 1\nrules:\n  - name: a\n    match: ['x=\"2\"']\n");
    assert_string_equal(corr_rules_digest(a), corr_rules_digest(b));
    assert_string_not_equal(corr_rules_digest(a), corr_rules_digest(c));
    corr_rules_destroy(a);
    corr_rules_destroy(b);
    corr_rules_destroy(c);

    assert_null(corr_rules_load("/nonexistent/rules.yaml", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/rules.yaml"));
}

/* A second YAML document is refused with its line, not ignored; a
 * document end marker alone is fine. */
static void test_second_document(void **state)
{
    (void)state;
    char err[512];
    const char *two = "version: 1\nrules:\n  - name: a\n    match: []\n---\nversion: 1\n"
                      "rules:\n  - name: b\n    match: []\n";
    assert_null(corr_rules_load_string(two, strlen(two), "two.yaml", err, sizeof err));
    assert_string_equal(err, "two.yaml:6: a second YAML document (one rules file holds one)");
    const char *ended = "version: 1\nrules:\n  - name: a\n    match: []\n...\n";
    corr_rules_t *r = corr_rules_load_string(ended, strlen(ended), "one.yaml", err, sizeof err);
    assert_non_null(r);
    corr_rules_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_rule),
        cmocka_unit_test(test_errors_name_the_place),
        cmocka_unit_test(test_rules_per_file_limit),
        cmocka_unit_test(test_alias_bomb),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_rule_list_limit),
        cmocka_unit_test(test_default_and_digest),
        cmocka_unit_test(test_second_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
