/*
 * test_alertmanager.c - Alertmanager webhook v4 payloads, hand-written to
 * cover what real senders do (see ../shared/fixtures/README.md): wrong or
 * missing fingerprints, missing per-alert status, future endsAt on firing
 * alerts, zero endsAt on resolved ones, numeric version, odd offsets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_util.h"

static void decode_ok(const char *s, am_event_list_t *l)
{
    char err[768];
    if (decode_str(s, 1718721005000LL, l, err, sizeof err) != 0)
        fail_msg("refused: %s", err);
}

static void test_two_alerts_mixed(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    decode_ok("{\"receiver\":\"r\",\"status\":\"firing\",\"version\":\"4\",\"groupKey\":\"{}:{}\","
              "\"truncatedAlerts\":0,\"alerts\":["
              "{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\",\"job\":\"api\","
              "\"environment\":\"prod\",\"severity\":\"page\"},"
              "\"annotations\":{\"description\":\"d\"},"
              "\"startsAt\":\"2021-03-30T20:17:50.814674209+08:00\","
              "\"endsAt\":\"0001-01-01T00:00:00Z\",\"generatorURL\":\"http://p/g?a=1\\u0026b=2\","
              "\"fingerprint\":\"83eb2c81e0da3faf\"},"
              "{\"status\":\"resolved\",\"labels\":{\"alertname\":\"B\",\"service\":\"db\"},"
              "\"annotations\":{\"summary\":\"s\"},"
              "\"startsAt\":\"2021-03-30T12:00:00Z\",\"endsAt\":\"2021-03-30T07:30:00-05:00\","
              "\"fingerprint\":\"83eb2c81e0da3faf\"}]}",
              &l);
    assert_int_equal(l.n, 2);
    am_event_t *a = &l.v[0], *b = &l.v[1];
    assert_string_equal(a->source, "alertmanager");
    assert_int_equal(a->kind, AM_KIND_ALERT);
    assert_string_equal(a->name, "A");
    assert_string_equal(a->status, "firing");
    assert_string_equal(a->service, "api");
    assert_string_equal(a->environment, "prod");
    assert_string_equal(am_labels_get(&a->labels, "env"), "prod");
    assert_string_equal(a->severity, "page");
    assert_string_equal(a->summary, "d");
    assert_string_equal(a->url, "http://p/g?a=1&b=2");
    assert_true(a->starts_at == 1617106670814LL);
    assert_true(a->ends_at == AM_TIME_NONE);
    assert_true(a->observed_at == 1718721005000LL);
    assert_string_equal(b->status, "resolved");
    assert_string_equal(b->summary, "s");
    assert_true(b->ends_at == 1617107400000LL);
    /* The payload's (wrong, shared) fingerprint is not the identity. */
    assert_string_not_equal(a->identity, b->identity);
    assert_string_not_equal(a->identity, "83eb2c81e0da3faf");
    am_event_list_free(&l);
}

static void test_old_senders(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    /* No per-alert status/fingerprint/endsAt, numeric version and groupKey,
     * unknown keys: the payload's status applies. */
    decode_ok("{\"alerts\":[{\"labels\":{\"alertname\":\"X\"},\"annotations\":{},"
              "\"startsAt\":\"2016-04-07T10:08:52-06:00\",\"sendsAt\":\"\"}],"
              "\"commonLabels\":{},\"groupKey\":0,\"receiver\":\"r\",\"status\":\"resolved\","
              "\"version\":0,\"numFiring\":0}",
              &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0].status, "resolved");
    assert_true(l.v[0].ends_at == AM_TIME_NONE);
    assert_string_equal(l.v[0].summary, "X"); /* falls back to the name */
    am_event_list_free(&l);

    /* Alertmanager <= 0.15: a firing alert with a future endsAt is firing. */
    decode_ok("{\"receiver\":\"r\",\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\","
              "\"labels\":{\"alertname\":\"X\"},\"startsAt\":\"2017-01-01T00:00:00+01:00\","
              "\"endsAt\":\"2017-01-01T00:05:00+01:00\"}]}",
              &l);
    assert_true(l.v[0].ends_at == AM_TIME_NONE);
    am_event_list_free(&l);

    /* Resolved with the zero endsAt: resolved, end unknown. */
    decode_ok("{\"receiver\":\"r\",\"status\":\"resolved\",\"alerts\":[{\"status\":\"resolved\","
              "\"labels\":{\"alertname\":\"X\"},\"startsAt\":\"2017-01-01T00:00:00Z\","
              "\"endsAt\":\"0001-01-01T00:00:00Z\"}]}",
              &l);
    assert_string_equal(l.v[0].status, "resolved");
    assert_true(l.v[0].ends_at == AM_TIME_NONE);
    am_event_list_free(&l);

    /* No alerts at all is a valid (empty) payload. */
    decode_ok("{\"receiver\":\"r\",\"status\":\"firing\",\"alerts\":[]}", &l);
    assert_int_equal(l.n, 0);
    am_event_list_free(&l);
}

static void test_ids_follow_state(void **state)
{
    (void)state;
    const char *firing = "{\"receiver\":\"r\",\"alerts\":[{\"status\":\"firing\","
                         "\"labels\":{\"alertname\":\"X\",\"i\":\"1\"},"
                         "\"startsAt\":\"2024-01-01T00:00:00Z\"}]}";
    const char *resolved = "{\"receiver\":\"r\",\"alerts\":[{\"status\":\"resolved\","
                           "\"labels\":{\"i\":\"1\",\"alertname\":\"X\"},"
                           "\"startsAt\":\"2024-01-01T00:00:00Z\","
                           "\"endsAt\":\"2024-01-01T00:10:00Z\"}]}";
    am_event_list_t a = {0}, b = {0}, c = {0};
    decode_ok(firing, &a);
    decode_ok(firing, &c);
    decode_ok(resolved, &b);
    assert_string_equal(a.v[0].identity, b.v[0].identity); /* one alert */
    assert_string_not_equal(a.v[0].id, b.v[0].id);         /* two states */
    assert_string_equal(a.v[0].id, c.v[0].id);             /* a re-notification */
    am_event_list_free(&a);
    am_event_list_free(&b);
    am_event_list_free(&c);
}

static void test_refusals(void **state)
{
    (void)state;
    assert_refused("{\"receiver\":\"r\",\"alerts\":[{\"labels\":{\"alertname\":\"X\"}}]}",
                   "field alerts[0].startsAt: missing");
    assert_refused("{\"receiver\":\"r\",\"alerts\":[{\"labels\":{\"alertname\":\"X\"},"
                   "\"startsAt\":\"0001-01-01T00:00:00Z\"}]}",
                   "alerts[0].startsAt: missing or unset");
    assert_refused("{\"receiver\":\"r\",\"alerts\":[{\"startsAt\":\"2024-01-01T00:00:00Z\"}]}",
                   "field alerts[0].labels: missing or empty");
    assert_refused("{\"receiver\":\"r\",\"alerts\":[{\"labels\":{\"a\":1},"
                   "\"startsAt\":\"2024-01-01T00:00:00Z\"}]}",
                   "field alerts[0].labels.a: expected a string");
    assert_refused("{\"receiver\":\"r\",\"alerts\":[7]}", "field alerts[0]: expected an object");
    assert_refused("{\"receiver\":\"r\",\"alerts\":[{\"status\":\"pending\","
                   "\"labels\":{\"a\":\"b\"},\"startsAt\":\"2024-01-01T00:00:00Z\"}]}",
                   "alerts[0].status");
    assert_refused("{\"receiver\":\"r\",\"alerts\":[{\"labels\":{\"a\":\"b\"},"
                   "\"startsAt\":\"2024-01-01T00:00:00\"}]}",
                   "alerts[0].startsAt");
    /* One bad alert refuses the whole payload: nothing half-decoded. */
    assert_refused("{\"receiver\":\"r\",\"alerts\":[{\"labels\":{\"a\":\"b\"},"
                   "\"startsAt\":\"2024-01-01T00:00:00Z\"},{\"labels\":{\"a\":\"c\"}}]}",
                   "alerts[1].startsAt");
}

static void test_truncated_and_reason(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    decode_ok_as("auto",
                 "{'receiver':'r','status':'firing','truncatedAlerts':3,"
                 "'notification_reason':'repeat interval elapsed','alerts':["
                 "{'labels':{'alertname':'X'},'startsAt':'2024-01-01T00:00:00Z'}]}",
                 AM_TIME_NONE, &l);
    assert_string_equal(am_labels_get(&l.v[0].annotations, "truncated_alerts"), "3");
    assert_string_equal(am_labels_get(&l.v[0].annotations, "notification_reason"),
                        "repeat interval elapsed");
    char *id = strdup(l.v[0].id);
    am_event_list_free(&l);
    /* The same alert in a complete notification: same event, no marks. */
    decode_ok_as("auto",
                 "{'receiver':'r','status':'firing','truncatedAlerts':0,'notification_reason':7,"
                 "'alerts':[{'labels':{'alertname':'X'},'startsAt':'2024-01-01T00:00:00Z'}]}",
                 AM_TIME_NONE, &l);
    assert_null(am_labels_get(&l.v[0].annotations, "truncated_alerts"));
    assert_null(am_labels_get(&l.v[0].annotations, "notification_reason"));
    assert_string_equal(l.v[0].id, id);
    free(id);
    am_event_list_free(&l);
}

static void test_unicode_crlf_duplicates(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    /* CRLF line ends and escaped unicode read like the plain form. */
    decode_ok("{\r\n\"receiver\": \"r\",\r\n\"alerts\": [{\"labels\": "
              "{\"alertname\": \"Caf\\u00e9Down\", \"team\": \"\xc3\xa9quipe\"},\r\n"
              "\"startsAt\": \"2024-01-01T00:00:00Z\"}]}\r\n",
              &l);
    assert_string_equal(l.v[0].name, "Caf\xc3\xa9"
                                     "Down");
    assert_string_equal(am_labels_get(&l.v[0].labels, "team"), "\xc3\xa9quipe");
    am_event_list_free(&l);
    /* A duplicate key is ambiguous: which value did the sender mean? */
    assert_refused("{\"receiver\":\"r\",\"alerts\":[{\"labels\":{\"a\":\"1\",\"a\":\"2\"},"
                   "\"startsAt\":\"2024-01-01T00:00:00Z\"}]}",
                   "duplicate");
    assert_refused("{\"receiver\":\"r\",\"alerts\":[{\"labels\":{},"
                   "\"startsAt\":\"2024-01-01T00:00:00Z\"}]}",
                   "alerts[0].labels: missing or empty");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_alerts_mixed),     cmocka_unit_test(test_old_senders),
        cmocka_unit_test(test_ids_follow_state),     cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_truncated_and_reason), cmocka_unit_test(test_unicode_crlf_duplicates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
