/*
 * test_grafana.c - Grafana unified alerting webhooks: Alertmanager's
 * shape plus orgId, state, title, message and per-alert links and values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "decode_util.h"

#define OBS 1718721005000LL

static void test_links_and_values(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    decode_ok_as("auto",
                 "{'receiver':'hook','status':'firing','orgId':3,'state':'alerting',"
                 "'title':'[FIRING:1] Latency','message':'whole group','version':'1',"
                 "'groupKey':'{}:{}','truncatedAlerts':0,'alerts':[{'status':'firing',"
                 "'labels':{'alertname':'Latency','grafana_folder':'api','service':'checkout',"
                 "'env':'prod'},'annotations':{'description':'p99 above 2s'},"
                 "'startsAt':'2024-06-18T16:29:00.123456+02:00',"
                 "'endsAt':'2024-06-18T14:33:00Z','generatorURL':'https://g/alerting/x/view',"
                 "'fingerprint':'0000000000000000',"
                 "'silenceURL':'https://g/silence?a=1\\u0026b=2','dashboardURL':'https://g/d/1',"
                 "'panelURL':'','imageURL':'https://g/img.png',"
                 "'values':{'B':2.5,'C':1,'big':2473545728},"
                 "'valueString':'[ var=B value=2.5 ]'}]}",
                 OBS, &l);
    assert_int_equal(l.n, 1);
    am_event_t *ev = &l.v[0];
    assert_string_equal(ev->source, "grafana");
    assert_string_equal(ev->status, "firing");
    assert_string_equal(ev->name, "Latency");
    assert_string_equal(ev->service, "checkout");
    assert_string_equal(ev->environment, "prod");
    assert_string_equal(ev->summary, "p99 above 2s");
    assert_string_equal(ev->url, "https://g/alerting/x/view");
    assert_true(ev->starts_at == 1718720940123LL);
    assert_true(ev->ends_at == AM_TIME_NONE); /* a firing alert's endsAt is a plan */
    assert_string_equal(am_labels_get(&ev->annotations, "silenceURL"), "https://g/silence?a=1&b=2");
    assert_string_equal(am_labels_get(&ev->annotations, "dashboardURL"), "https://g/d/1");
    assert_null(am_labels_get(&ev->annotations, "panelURL")); /* empty: left out */
    assert_string_equal(am_labels_get(&ev->annotations, "imageURL"), "https://g/img.png");
    assert_string_equal(am_labels_get(&ev->annotations, "values"),
                        "{\"B\":2.5,\"C\":1,\"big\":2473545728}");
    assert_string_equal(am_labels_get(&ev->annotations, "valueString"), "[ var=B value=2.5 ]");
    assert_null(am_labels_get(&ev->annotations, "truncated_alerts"));
    /* Grafana's fingerprint is not the identity; the visible labels are. */
    assert_string_not_equal(ev->identity, "0000000000000000");
    assert_int_equal(strlen(ev->identity), 16);
    am_event_list_free(&l);
}

static void test_same_alert_as_alertmanager(void **state)
{
    (void)state;
    am_event_list_t g = {0}, a = {0};
    decode_ok_as("auto",
                 "{'receiver':'r','status':'firing','version':'1','alerts':[{'status':'firing',"
                 "'labels':{'alertname':'X','team':'db'},'startsAt':'2024-01-01T00:00:00Z'}]}",
                 OBS, &g);
    decode_ok_as("auto",
                 "{'receiver':'r','status':'firing','version':'4','alerts':[{'status':'firing',"
                 "'labels':{'team':'db','alertname':'X'},'startsAt':'2024-01-01T00:00:00Z'}]}",
                 OBS, &a);
    assert_string_equal(g.v[0].source, "grafana");
    assert_string_equal(a.v[0].source, "alertmanager"); /* version 4, no orgId */
    assert_string_equal(g.v[0].identity, a.v[0].identity);
    assert_string_equal(g.v[0].id, a.v[0].id);
    am_event_list_free(&g);
    am_event_list_free(&a);
}

static void test_mixed_group_and_truncation(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    /* The group says firing and "alerting"; each alert's status rules. */
    decode_ok_as("auto",
                 "{\r\n\t'receiver':'',\r\n\t'status':'firing','state':'alerting','orgId':1,"
                 "'truncatedAlerts':2,\r\n\t'alerts':[{'status':'resolved','labels':{'alertname':"
                 "'A','instance':'h1'},'annotations':{'summary':'on <no value>'},"
                 "'startsAt':'2022-06-17T01:04:00.782137894Z',"
                 "'endsAt':'2022-06-17T01:08:28.652747827Z'},"
                 "{'labels':{'alertname':'B'},'startsAt':'2022-06-17T01:03:00Z'}]}\r\n",
                 AM_TIME_NONE, &l);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.v[0].status, "resolved");
    assert_true(l.v[0].starts_at == 1655427840782LL);
    assert_true(l.v[0].ends_at == 1655428108652LL);
    assert_string_equal(l.v[0].summary, "on <no value>");
    assert_string_equal(l.v[1].status, "firing"); /* no status: the payload's */
    assert_string_equal(am_labels_get(&l.v[1].annotations, "truncated_alerts"), "2");
    am_event_list_free(&l);
}

static void test_refusals(void **state)
{
    (void)state;
    assert_refused_as("auto",
                      "{'orgId':1,'alerts':[{'labels':{'alertname':'A'},"
                      "'startsAt':'2024-01-01T00:00:00Z','valueString':5}]}",
                      OBS, "grafana: field alerts[0].valueString: expected a string");
    assert_refused_as("auto",
                      "{'orgId':1,'alerts':[{'labels':{'alertname':'A'},"
                      "'startsAt':'2024-01-01T00:00:00Z'},{'labels':{'alertname':'B'},"
                      "'startsAt':'2024-01-01T00:00:00Z','silenceURL':['x']}]}",
                      OBS, "field alerts[1].silenceURL: expected a string");
    assert_refused_as("auto", "{'orgId':1,'alerts':[{'labels':{'alertname':'A'}}]}", OBS,
                      "field alerts[0].startsAt: missing");
    assert_refused_as("grafana", "{'orgId':1}", OBS, "field alerts: missing or not an array");
    /* values may be any JSON; a huge one is over the value limit. */
    char big[20000 + 200];
    int n = snprintf(big, sizeof big,
                     "{'orgId':1,'alerts':[{'labels':{'alertname':'A'},"
                     "'startsAt':'2024-01-01T00:00:00Z','values':{'v':'");
    memset(big + n, 'x', 17000);
    snprintf(big + n + 17000, sizeof big - (size_t)n - 17000, "'}}]}");
    assert_refused_as("auto", big, OBS, "field alerts[0].values: longer than the limit");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_links_and_values),
        cmocka_unit_test(test_same_alert_as_alertmanager),
        cmocka_unit_test(test_mixed_group_and_truncation),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
