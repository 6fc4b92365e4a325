/*
 * test_amapi.c - Alertmanager's POST /api/v2/alerts body: a bare array of
 * postable alerts, with no status (firing unless endsAt is past, judged
 * against observed_at) and an optional startsAt (observed_at stands in).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "decode_util.h"

#define OBS 1718721005000LL /* 2024-06-18T14:30:05Z */

static void test_firing_and_identity(void **state)
{
    (void)state;
    am_event_list_t l = {0}, w = {0};
    decode_ok_as("auto",
                 "[{'labels':{'instance':'db1','alertname':'DiskFull','job':'node'},"
                 "'annotations':{'summary':'disk on db1'},"
                 "'startsAt':'2024-02-29T23:59:59.999999999-01:30',"
                 "'generatorURL':'http://prom/graph'}]",
                 OBS, &l);
    assert_int_equal(l.n, 1);
    am_event_t *ev = &l.v[0];
    assert_string_equal(ev->source, "alertmanager");
    assert_string_equal(ev->status, "firing");
    assert_string_equal(ev->name, "DiskFull");
    assert_string_equal(ev->service, "node");
    assert_string_equal(ev->summary, "disk on db1");
    assert_string_equal(ev->url, "http://prom/graph");
    assert_true(ev->starts_at == 1709256599999LL); /* 2024-03-01T01:29:59.999Z */
    assert_true(ev->ends_at == AM_TIME_NONE);
    assert_true(ev->observed_at == OBS);
    /* The same alert through the webhook has the same identity and id. */
    decode_ok_as("auto",
                 "{'receiver':'r','alerts':[{'status':'firing','labels':{'alertname':'DiskFull',"
                 "'job':'node','instance':'db1'},'startsAt':'2024-03-01T01:29:59.999Z'}]}",
                 OBS, &w);
    assert_string_equal(ev->identity, w.v[0].identity);
    assert_string_equal(ev->id, w.v[0].id);
    am_event_list_free(&l);
    am_event_list_free(&w);
}

static void test_ends_at_against_observed(void **state)
{
    (void)state;
    const char *past = "[{'labels':{'alertname':'A'},'startsAt':'2024-06-18T14:00:00Z',"
                       "'endsAt':'2024-06-18T14:30:05Z'}]";
    const char *future = "[{'labels':{'alertname':'A'},'startsAt':'2024-06-18T14:00:00Z',"
                         "'endsAt':'2024-06-18T14:35:00+00:00'}]";
    am_event_list_t l = {0};
    /* endsAt at or before the record's time: resolved. */
    decode_ok_as("auto", past, OBS, &l);
    assert_string_equal(l.v[0].status, "resolved");
    assert_true(l.v[0].ends_at == OBS);
    am_event_list_free(&l);
    /* endsAt after it: still firing, and the planned end is not kept. */
    decode_ok_as("auto", future, OBS, &l);
    assert_string_equal(l.v[0].status, "firing");
    assert_true(l.v[0].ends_at == AM_TIME_NONE);
    am_event_list_free(&l);
    /* No record time (a raw line): a set endsAt is an unconfirmed end,
     * which the correlator takes as a resolve only once another record
     * repeats it (test_correlate.c, test_api_raw_ends). */
    decode_ok_as("auto", future, AM_TIME_NONE, &l);
    assert_string_equal(l.v[0].status, "resolved");
    assert_true(l.v[0].ends_at == 1718721300000LL);
    assert_string_equal(am_labels_get(&l.v[0].annotations, AM_ENDS_UNCONFIRMED), "true");
    am_event_list_free(&l);
    /* With one, an end at or before it is confirmed by the time itself. */
    decode_ok_as("auto", past, OBS, &l);
    assert_null(am_labels_get(&l.v[0].annotations, AM_ENDS_UNCONFIRMED));
    am_event_list_free(&l);
    /* The zero time is unset. */
    decode_ok_as("auto",
                 "[{'labels':{'alertname':'A'},'startsAt':'2024-06-18T14:00:00Z',"
                 "'endsAt':'0001-01-01T00:00:00Z'}]",
                 AM_TIME_NONE, &l);
    assert_string_equal(l.v[0].status, "firing");
    am_event_list_free(&l);
}

static void test_starts_at_from_observed(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    decode_ok_as("auto",
                 "[{'labels':{'alertname':'A','dev':'sda1'}},{'labels':{'alertname':'B'},"
                 "'startsAt':'0001-01-01T00:00:00Z','annotations':{}}]",
                 OBS, &l);
    assert_int_equal(l.n, 2);
    assert_true(l.v[0].starts_at == OBS);
    assert_true(l.v[1].starts_at == OBS);
    assert_string_equal(l.v[1].summary, "B"); /* no annotations: the name */
    am_event_list_free(&l);
    assert_refused_as("auto", "[{'labels':{'alertname':'A'}}]", AM_TIME_NONE,
                      "field [0].startsAt: missing, and no record timestamp");
}

static void test_refusals(void **state)
{
    (void)state;
    assert_refused_as("auto",
                      "[{'labels':{'alertname':'A'},'startsAt':'2024-01-01T00:00:00Z'},"
                      "{'labels':{},'startsAt':'2024-01-01T00:00:00Z'}]",
                      OBS, "field [1].labels: missing or empty");
    assert_refused_as("auto", "[{'labels':{'alertname':'A','n':1}}]", OBS,
                      "field [0].labels.n: expected a string");
    assert_refused_as("auto", "[{'labels':{'alertname':'A'}},7]", OBS,
                      "field [1]: expected an object");
    assert_refused_as("auto", "[{'labels':{'alertname':'A'},'endsAt':'yesterday'}]", OBS,
                      "field [0].endsAt: time \"yesterday\" is not RFC 3339");
    assert_refused_as("auto", "[{'labels':{'alertname':'A'},'startsAt':'2024-01-01T00:00:00'}]",
                      OBS, "field [0].startsAt: time");
    /* An empty array has nothing to recognise it by; forced, it is empty. */
    assert_refused_as("auto", "[]", OBS, "not a known format");
    am_event_list_t l = {0};
    decode_ok_as("alertmanager-api", "[]", OBS, &l);
    assert_int_equal(l.n, 0);
    assert_refused_as("alertmanager-api", "{'labels':{}}", OBS, "expected a JSON array");
}

static void test_unicode_and_crlf(void **state)
{
    (void)state;
    am_event_list_t a = {0}, b = {0};
    decode_ok_as(
        "auto",
        "[\r\n {'labels': {'alertname': 'Lat\\u00eancia', 'zone': 'S\xc3\xa3o Paulo'}}\r\n]", OBS,
        &a);
    decode_ok_as("auto", "[{'labels':{'zone':'S\\u00e3o Paulo','alertname':'Lat\xc3\xaancia'}}]",
                 OBS, &b);
    assert_string_equal(a.v[0].name, "Lat\xc3\xaancia");
    assert_string_equal(a.v[0].identity, b.v[0].identity);
    am_event_list_free(&a);
    am_event_list_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_firing_and_identity),
        cmocka_unit_test(test_ends_at_against_observed),
        cmocka_unit_test(test_starts_at_from_observed),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_unicode_and_crlf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
