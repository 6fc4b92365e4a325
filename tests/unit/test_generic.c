/*
 * test_generic.c - the generic aftermath event format (docs/formats.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "decode_util.h"

static am_event_t *one(am_event_list_t *l, const char *s, int64_t observed)
{
    char err[768];
    if (decode_str(s, observed, l, err, sizeof err) != 0)
        fail_msg("refused: %s (%s)", err, s);
    assert_int_equal(l->n, 1);
    return &l->v[0];
}

static void test_alert(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    am_event_t *ev =
        one(&l,
            "{\"kind\": \"alert\", \"status\": \"firing\", \"name\": \"HighErrorRate\","
            " \"starts_at\": \"2024-06-18T14:29:00Z\", \"ends_at\": null,"
            " \"labels\": {\"service\": \"web\", \"cluster\": \"eu-west-1\","
            " \"severity\": \"page\"},"
            " \"annotations\": {\"summary\": \"5xx ratio above 5%\"}}",
            1718721005000LL);
    assert_int_equal(ev->kind, AM_KIND_ALERT);
    assert_string_equal(ev->source, "generic");
    assert_string_equal(ev->status, "firing");
    assert_string_equal(ev->name, "HighErrorRate");
    assert_string_equal(ev->service, "web");
    assert_string_equal(ev->severity, "page");
    assert_null(ev->environment);
    assert_string_equal(ev->summary, "5xx ratio above 5%");
    assert_string_equal(am_labels_get(&ev->labels, "alertname"), "HighErrorRate");
    assert_true(ev->starts_at == 1718720940000LL);
    assert_true(ev->ends_at == AM_TIME_NONE);
    assert_true(ev->observed_at == 1718721005000LL);
    assert_non_null(ev->identity);
    assert_int_equal(strlen(ev->identity), 16);
    char want[128];
    snprintf(want, sizeof want, "alert:%s:firing:1718720940000", ev->identity);
    assert_string_equal(ev->id, want);
    am_event_list_free(&l);
}

static void test_alert_same_identity_as_alertmanager(void **state)
{
    (void)state;
    /* The same alert from a script and from Alertmanager is one identity. */
    am_event_list_t a = {0}, b = {0};
    am_event_t *g = one(&a,
                        "{\"kind\":\"alert\",\"name\":\"DBConnectionErrors\",\"service\":\"db\","
                        "\"severity\":\"critical\",\"environment\":\"prod\","
                        "\"starts_at\":\"2024-06-18T14:28:00Z\","
                        "\"labels\":{\"cluster\":\"eu-west-1\",\"instance\":\"db-1\"}}",
                        AM_TIME_NONE);
    assert_string_equal(g->identity, "1ac71ae7704eb751");
    am_event_t *m = one(&b,
                        "{\"receiver\":\"r\",\"status\":\"firing\",\"alerts\":[{\"labels\":{"
                        "\"env\":\"prod\",\"cluster\":\"eu-west-1\",\"service\":\"db\","
                        "\"severity\":\"critical\",\"instance\":\"db-1\","
                        "\"alertname\":\"DBConnectionErrors\"},"
                        "\"startsAt\":\"2024-06-18T14:28:00Z\"}]}",
                        AM_TIME_NONE);
    assert_string_equal(m->identity, g->identity);
    assert_string_equal(m->id, g->id);
    am_event_list_free(&a);
    am_event_list_free(&b);
}

static void test_resolved_alert(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    /* Status defaults to resolved when ends_at is given. */
    am_event_t *ev =
        one(&l,
            "{\"kind\":\"alert\",\"name\":\"X\",\"starts_at\":\"2024-06-18T14:00:00Z\","
            "\"ends_at\":\"2024-06-18T15:00:00+01:00\"}",
            AM_TIME_NONE);
    assert_string_equal(ev->status, "resolved");
    assert_true(ev->ends_at == ev->starts_at);
    assert_non_null(strstr(ev->id, ":resolved:"));
    am_event_list_free(&l);
}

static void test_deploy(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    am_event_t *ev =
        one(&l,
            "{\"kind\": \"deploy\", \"status\": \"succeeded\", \"name\": \"db-config\","
            " \"version\": \"2024.06.18-1\", \"service\": \"db\","
            " \"environment\": \"prod\", \"at\": \"2024-06-18T14:05:00Z\","
            " \"actor\": \"deploy-bot\", \"labels\": {\"cluster\": \"eu-west-1\"},"
            " \"summary\": \"Rolled out\", \"url\": \"https://ci/1\"}",
            AM_TIME_NONE);
    assert_int_equal(ev->kind, AM_KIND_DEPLOY);
    assert_string_equal(ev->status, "succeeded");
    assert_string_equal(ev->name, "db-config");
    assert_string_equal(ev->version, "2024.06.18-1");
    assert_string_equal(ev->service, "db");
    assert_string_equal(ev->environment, "prod");
    assert_string_equal(am_labels_get(&ev->labels, "env"), "prod");
    assert_string_equal(am_labels_get(&ev->labels, "service"), "db");
    assert_string_equal(ev->actor, "deploy-bot");
    assert_string_equal(ev->url, "https://ci/1");
    assert_true(ev->starts_at == 1718719500000LL);
    assert_non_null(ev->id);
    assert_int_equal(strncmp(ev->id, "deploy:", 7), 0);
    am_event_list_free(&l);

    /* Default status; rolled_back accepted. */
    ev = one(&l, "{\"kind\":\"deploy\",\"name\":\"a\",\"at\":\"2024-01-01T00:00:00Z\"}",
             AM_TIME_NONE);
    assert_string_equal(ev->status, "succeeded");
    am_event_list_free(&l);
    ev = one(&l,
             "{\"kind\":\"deploy\",\"name\":\"a\",\"status\":\"rolled_back\","
             "\"at\":\"2024-01-01T00:00:00Z\"}",
             AM_TIME_NONE);
    assert_string_equal(ev->status, "rolled_back");
    am_event_list_free(&l);
}

static void test_ack_and_note(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    am_event_t *ev = one(&l,
                         "{\"kind\": \"ack\", \"service\": \"web\", \"at\": "
                         "\"2024-06-18T14:35:10Z\", \"actor\": \"Jane Doe\", \"labels\": "
                         "{\"cluster\": \"eu-west-1\"}, \"dedup_key\": \"abc\"}",
                         AM_TIME_NONE);
    assert_int_equal(ev->kind, AM_KIND_ACK);
    assert_string_equal(ev->status, "acknowledged");
    assert_string_equal(ev->actor, "Jane Doe");
    assert_string_equal(ev->identity, "abc");
    assert_true(ev->starts_at == 1718721310000LL);
    am_event_list_free(&l);

    ev = one(&l,
             "{\"kind\": \"note\", \"at\": \"2024-06-18T14:40:00Z\", \"actor\": \"Jane Doe\","
             " \"labels\": {\"cluster\": \"eu-west-1\"}, \"summary\": \"Initial diagnosis\"}",
             AM_TIME_NONE);
    assert_int_equal(ev->kind, AM_KIND_NOTE);
    assert_null(ev->status);
    assert_string_equal(ev->summary, "Initial diagnosis");
    am_event_list_free(&l);
}

static void test_ids(void **state)
{
    (void)state;
    am_event_list_t a = {0}, b = {0}, c = {0};
    const char *note = "{\"kind\":\"note\",\"at\":\"2024-06-18T14:40:00Z\",\"summary\":\"x\"}";
    /* Same event, same id, whatever the observation time. */
    one(&a, note, 1);
    one(&b, note, 2);
    assert_string_equal(a.v[0].id, b.v[0].id);
    /* Another summary, another id. */
    one(&c, "{\"kind\":\"note\",\"at\":\"2024-06-18T14:40:00Z\",\"summary\":\"y\"}", 1);
    assert_string_not_equal(a.v[0].id, c.v[0].id);
    am_event_list_free(&c);
    /* An explicit id wins. */
    one(&c, "{\"kind\":\"note\",\"at\":\"2024-06-18T14:40:00Z\",\"id\":\"mine-1\"}", 1);
    assert_string_equal(c.v[0].id, "mine-1");
    am_event_list_free(&a);
    am_event_list_free(&b);
    am_event_list_free(&c);
}

static void test_refusals(void **state)
{
    (void)state;
    assert_refused("{\"kind\":\"page\",\"at\":\"2024-01-01T00:00:00Z\"}", "field kind");
    assert_refused("{\"kind\":5}", "field kind: expected a string");
    assert_refused("{\"kind\":\"deploy\",\"at\":\"2024-01-01T00:00:00Z\"}", "field name");
    assert_refused("{\"kind\":\"deploy\",\"name\":\"a\"}", "field at: missing");
    assert_refused("{\"kind\":\"alert\",\"starts_at\":\"2024-01-01T00:00:00Z\"}", "field name");
    assert_refused("{\"kind\":\"alert\",\"name\":\"a\"}", "field starts_at: missing");
    assert_refused("{\"kind\":\"alert\",\"name\":\"a\",\"starts_at\":\"2024-02-30T00:00:00Z\"}",
                   "field starts_at");
    assert_refused("{\"kind\":\"alert\",\"name\":\"a\",\"status\":\"open\","
                   "\"starts_at\":\"2024-01-01T00:00:00Z\"}",
                   "field status");
    assert_refused("{\"kind\":\"deploy\",\"name\":\"a\",\"status\":\"done\","
                   "\"at\":\"2024-01-01T00:00:00Z\"}",
                   "field status");
    assert_refused("{\"kind\":\"note\",\"at\":\"2024-01-01T00:00:00Z\",\"labels\":{\"a\":1}}",
                   "field labels.a: expected a string");
    assert_refused("{\"kind\":\"note\",\"at\":\"2024-01-01T00:00:00Z\",\"labels\":[]}",
                   "field labels: expected an object");
    assert_refused("{\"kind\":\"note\",\"at\":1718720940}", "field at: expected a string");
    assert_refused("{\"kind\":\"note\",\"kind\":\"alert\"}", "invalid JSON");
    assert_refused("{\"kind\":\"note\",\"at\":\"x\\u0000y\"}", "invalid JSON");
    assert_refused("{\"kind\":\"note\"", "invalid JSON");
    assert_refused("[1,2,3]", "not a known format");
    assert_refused("{\"hello\":\"world\"}", "not a known format");
    assert_refused("\"just a string\"", "not a known format");
    assert_refused("", "invalid JSON");
}

static void test_unicode_and_unknown_keys(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    am_event_t *ev = one(&l,
                         "{\"kind\":\"note\",\"at\":\"2024-01-01T00:00:00Z\",\"summary\":"
                         "\"caf\\u00e9 \xe2\x9c\x93 <b>|\",\"extra\":{\"deep\":[1,2]}}",
                         AM_TIME_NONE);
    assert_string_equal(ev->summary, "caf\xc3\xa9 \xe2\x9c\x93 <b>|");
    am_event_list_free(&l);
    assert_refused("{\"kind\":\"note\",\"at\":\"2024-01-01T00:00:00Z\",\"summary\":\"\xff\"}",
                   "invalid JSON");
    assert_refused("{\"kind\":\"note\",\"at\":\"2024-01-01T00:00:00Z\",\"summary\":\"\\ud800\"}",
                   "invalid JSON");
}

static void test_limits(void **state)
{
    (void)state;
    /* Nesting deeper than the limit is refused even in ignored keys. */
    char deep[400];
    size_t n = 0;
    n += (size_t)snprintf(deep + n, sizeof deep - n, "{\"kind\":\"note\",\"x\":");
    for (int i = 0; i < 40; i++)
        deep[n++] = '[';
    for (int i = 0; i < 40; i++)
        deep[n++] = ']';
    snprintf(deep + n, sizeof deep - n, "}");
    assert_refused(deep, "nested deeper");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alert),
        cmocka_unit_test(test_alert_same_identity_as_alertmanager),
        cmocka_unit_test(test_resolved_alert),
        cmocka_unit_test(test_deploy),
        cmocka_unit_test(test_ack_and_note),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_unicode_and_unknown_keys),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
