/*
 * test_matcher.c - Alertmanager matchers: operators, anchoring, quoting,
 * fields versus labels, absent labels.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/buf.h"
#include "correlate/matcher.h"

static am_event_t ev;

static int setup(void **state)
{
    (void)state;
    am_event_init(&ev);
    ev.kind = AM_KIND_ALERT;
    ev.status = am_xstrdup("firing");
    ev.name = am_xstrdup("HighErrorRate");
    ev.service = am_xstrdup("web");
    ev.severity = am_xstrdup("page");
    ev.environment = am_xstrdup("prod");
    am_labels_set(&ev.labels, "alertname", "HighErrorRate");
    am_labels_set(&ev.labels, "env", "prod");
    am_labels_set(&ev.labels, "cluster", "eu-west-1");
    am_labels_set(&ev.labels, "path", "/a \"quoted\" \\ path");
    am_labels_set(&ev.labels, "job", "api");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    am_event_free(&ev);
    return 0;
}

static bool m(const char *text)
{
    char err[256];
    corr_matcher_t *mt = corr_matcher_parse(text, err, sizeof err);
    if (!mt)
        fail_msg("'%s' did not parse: %s", text, err);
    bool r = corr_matcher_match(mt, &ev);
    corr_matcher_destroy(mt);
    return r;
}

static void bad(const char *text, const char *want)
{
    char err[256] = "";
    corr_matcher_t *mt = corr_matcher_parse(text, err, sizeof err);
    if (mt)
        fail_msg("'%s' parsed but should not", text);
    if (!strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
}

static void test_operators(void **state)
{
    (void)state;
    assert_true(m("severity=\"page\""));
    assert_false(m("severity=\"critical\""));
    assert_true(m("severity!=\"critical\""));
    assert_true(m("severity=~\"critical|page\""));
    assert_false(m("severity!~\"critical|page\""));
    assert_true(m("cluster=eu-west-1")); /* unquoted */
    assert_true(m("  cluster = \"eu-west-1\"  "));
}

static void test_anchoring(void **state)
{
    (void)state;
    /* Fully anchored, as Alertmanager: no partial matches. */
    assert_false(m("cluster=~\"eu\""));
    assert_false(m("cluster=~\"west\""));
    assert_true(m("cluster=~\"eu-.*\""));
    assert_true(m("cluster=~\"us-.*|eu-.*\""));
    assert_false(m("severity=~\"pag\""));
    assert_true(m("cluster!~\"us-.*\""));
}

static void test_fields_and_absent(void **state)
{
    (void)state;
    assert_true(m("kind=\"alert\""));
    assert_true(m("status=\"firing\""));
    assert_true(m("name=\"HighErrorRate\""));
    assert_true(m("service=\"web\"")); /* field wins over label job */
    assert_true(m("environment=\"prod\""));
    assert_true(m("env=\"prod\""));
    /* An absent label is the empty string. */
    assert_true(m("team=\"\""));
    assert_true(m("team!=\"x\""));
    assert_false(m("team=~\".+\""));
    assert_true(m("team=~\".*\""));
}

static void test_escapes(void **state)
{
    (void)state;
    assert_true(m("path=\"/a \\\"quoted\\\" \\\\ path\""));
    bad("path=\"/a \\q\"", "unknown escape");
    bad("path=\"open", "unterminated");
}

static void test_parse_errors(void **state)
{
    (void)state;
    bad("=\"x\"", "expected a label name");
    bad("9abc=\"x\"", "expected a label name");
    bad("severity", "expected =, !=, =~ or !~");
    bad("severity==\"x\"", "unexpected text");
    bad("severity=\"x\" extra", "unexpected text");
    bad("severity=~\"(unclosed\"", "bad regular expression");
    /* What fuzzing found makes glibc's regcomp take seconds and gigabytes;
     * RE2 (Alertmanager) refuses these too. */
    bad("x=~\"a++++++++++++++++++++++++++++++++\"", "repeated quantifier");
    bad("x=~\"a*?\"", "repeated quantifier");
    bad("x=~\"(a)\\\\1\"", "back-references");
    bad("x=~\"[abc\"", "unterminated [");
    assert_true(m("cluster=~\"[a-z]+-[a-z]+-[0-9]{1,2}\""));
    assert_true(m("cluster=~\"[]a-z0-9-]+\""));
    char err[64];
    assert_null(corr_matcher_parse("a~\"b\"", err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operators),         cmocka_unit_test(test_anchoring),
        cmocka_unit_test(test_fields_and_absent), cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_parse_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
