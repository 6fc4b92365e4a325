/*
 * test_pagerduty.c - PagerDuty Events API v2 (trigger, acknowledge,
 * resolve), Change Events and webhooks v3: dedup_key as the identity that
 * ties an ack and a resolve to their alert, +0000 offsets, times left to
 * the receiver, and the routing key never stored.
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

static const char trigger[] =
    "{'routing_key':'R0UT1NGSECRET','dedup_key':'web/5xx','event_action':'trigger',"
    "'client':'Mon','client_url':'https://mon.example','links':[{'href':'https://mon/x',"
    "'text':'x'}],'payload':{'summary':'5xx ratio at 7%','timestamp':"
    "'2024-06-18T14:29:00.250+0200','source':'web-1','severity':'critical',"
    "'component':'nginx','group':'web','class':'http-errors','custom_details':"
    "{'ratio':0.07,'note':'canary','nested':{'a':[1,2]},'nothing':null}}}";

static int has_value(const am_labels_t *labels, const char *value)
{
    for (size_t i = 0; i < labels->n; i++)
        if (strstr(labels->v[i].value, value))
            return 1;
    return 0;
}

static void test_trigger(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    decode_ok_as("auto", trigger, OBS, &l);
    assert_int_equal(l.n, 1);
    am_event_t *ev = &l.v[0];
    assert_int_equal(ev->kind, AM_KIND_ALERT);
    assert_string_equal(ev->source, "pagerduty");
    assert_string_equal(ev->status, "firing");
    assert_string_equal(ev->identity, "web/5xx");
    assert_string_equal(ev->name, "http-errors");
    assert_string_equal(ev->summary, "5xx ratio at 7%");
    assert_string_equal(ev->severity, "critical");
    assert_null(ev->service); /* PagerDuty payloads carry none */
    assert_string_equal(ev->url, "https://mon/x");
    assert_true(ev->starts_at == 1718713740250LL); /* +0200 without a colon */
    assert_true(ev->observed_at == OBS);
    assert_string_equal(am_labels_get(&ev->labels, "alertname"), "http-errors");
    assert_string_equal(am_labels_get(&ev->labels, "component"), "nginx");
    assert_string_equal(am_labels_get(&ev->labels, "group"), "web");
    assert_string_equal(am_labels_get(&ev->labels, "instance"), "web-1");
    assert_null(am_labels_get(&ev->labels, "source"));
    assert_string_equal(am_labels_get(&ev->annotations, "ratio"), "0.07");
    assert_string_equal(am_labels_get(&ev->annotations, "note"), "canary");
    assert_string_equal(am_labels_get(&ev->annotations, "nested"), "{\"a\":[1,2]}");
    assert_string_equal(am_labels_get(&ev->annotations, "nothing"), "null");
    assert_false(has_value(&ev->labels, "R0UT1NG"));
    assert_false(has_value(&ev->annotations, "R0UT1NG"));
    am_event_list_free(&l);
}

static void test_ack_and_resolve_join_the_alert(void **state)
{
    (void)state;
    am_event_list_t t = {0}, a = {0}, r = {0}, a2 = {0};
    decode_ok_as("auto", trigger, OBS, &t);
    decode_ok_as("auto",
                 "{'routing_key':'R0UT1NGSECRET','dedup_key':'web/5xx',"
                 "'event_action':'acknowledge'}",
                 OBS + 60000, &a);
    decode_ok_as("auto",
                 "{'routing_key':'R0UT1NGSECRET','dedup_key':'web/5xx','event_action':'resolve',"
                 "'payload':{'summary':'ok','timestamp':'2024-06-18T12:50:00Z'}}",
                 OBS + 120000, &r);
    assert_string_equal(a.v[0].identity, t.v[0].identity);
    assert_string_equal(r.v[0].identity, t.v[0].identity);
    assert_int_equal(a.v[0].kind, AM_KIND_ACK);
    assert_string_equal(a.v[0].status, "acknowledged");
    assert_true(a.v[0].starts_at == OBS + 60000); /* no time of its own */
    assert_int_equal(r.v[0].kind, AM_KIND_ALERT);
    assert_string_equal(r.v[0].status, "resolved");
    assert_true(r.v[0].starts_at == 1718715000000LL); /* the payload's, when given */
    assert_true(r.v[0].ends_at == 1718715000000LL);
    assert_string_not_equal(r.v[0].id, t.v[0].id);
    /* The same ack record delivered again is the same event. */
    decode_ok_as(
        "auto",
        "{'dedup_key':'web/5xx','event_action':'acknowledge','routing_key':'R0UT1NGSECRET'}",
        OBS + 60000, &a2);
    assert_string_equal(a.v[0].id, a2.v[0].id);
    am_event_list_free(&t);
    am_event_list_free(&a);
    am_event_list_free(&r);
    am_event_list_free(&a2);
}

static void test_trigger_variants(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    /* No class: the summary names it; no dedup_key: the labels identify it;
     * no timestamp: the record's. */
    decode_ok_as("auto",
                 "{'routing_key':'k','event_action':'trigger','client_url':'https://c',"
                 "'payload':{'summary':'Disk full','source':'db','severity':'warning'}}",
                 OBS, &l);
    assert_string_equal(l.v[0].name, "Disk full");
    assert_int_equal(strlen(l.v[0].identity), 16);
    assert_true(l.v[0].starts_at == OBS);
    assert_string_equal(l.v[0].url, "https://c");
    am_event_list_free(&l);
}

static void test_refusals(void **state)
{
    (void)state;
    assert_refused_as("auto", "{'routing_key':'k','event_action':'acknowledge'}", OBS,
                      "field dedup_key: missing");
    assert_refused_as("auto", "{'routing_key':'k','dedup_key':'d','event_action':'resolve'}",
                      AM_TIME_NONE, "field payload.timestamp: missing, and no record timestamp");
    assert_refused_as("auto", "{'routing_key':'k','dedup_key':'d','event_action':'trigger'}", OBS,
                      "field payload: missing");
    assert_refused_as("auto",
                      "{'routing_key':'k','event_action':'trigger','payload':{'source':'s'}}", OBS,
                      "field payload.summary: missing");
    assert_refused_as("auto", "{'routing_key':'k','dedup_key':'d','event_action':'snooze'}", OBS,
                      "field event_action: \"snooze\" is not trigger");
    assert_refused_as("auto",
                      "{'event_action':'trigger','payload':{'summary':'s',"
                      "'timestamp':'2015-07-17T08:42:58.315+000'}}",
                      OBS, "field payload.timestamp: time");
    assert_refused_as("auto", "{'event_action':'trigger','payload':{'summary':'s','severity':3}}",
                      OBS, "field payload.severity: expected a string");
    assert_refused_as("auto", "{'event_action':'trigger','payload':'summary'}", OBS,
                      "field payload: expected an object");
}

static void test_change_event(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    decode_ok_as("auto",
                 "{'routing_key':'R0UT1NGSECRET','payload':{'summary':'Deployed api 1.4',"
                 "'timestamp':'2024-06-18T14:05:00.000+0000','source':'ci-runner-7',"
                 "'custom_details':{'build':'220','passed':true}},"
                 "'links':[{'href':'https://ci/220','text':'build'}]}",
                 OBS, &l);
    am_event_t *ev = &l.v[0];
    assert_int_equal(ev->kind, AM_KIND_DEPLOY);
    assert_string_equal(ev->source, "pagerduty");
    assert_string_equal(ev->status, "succeeded");
    assert_string_equal(ev->name, "ci-runner-7");
    assert_string_equal(ev->summary, "Deployed api 1.4");
    assert_string_equal(ev->url, "https://ci/220");
    assert_true(ev->starts_at == 1718719500000LL);
    assert_string_equal(am_labels_get(&ev->annotations, "passed"), "true");
    assert_false(has_value(&ev->labels, "R0UT1NG"));
    assert_non_null(ev->id);
    am_event_list_free(&l);
    decode_ok_as("auto", "{'routing_key':'k','payload':{'summary':'Merge PR'}}", OBS, &l);
    assert_string_equal(l.v[0].name, "Merge PR");
    assert_true(l.v[0].starts_at == OBS);
    am_event_list_free(&l);
    assert_refused_as("auto", "{'routing_key':'k','payload':{'source':'git'}}", OBS,
                      "pagerduty: field payload.summary: missing");
    assert_refused_as("pagerduty", "{'routing_key':'k'}", OBS, "field payload: missing");
}

static const char v3_ack[] =
    "{'event':{'id':'01ABC','event_type':'incident.acknowledged','resource_type':'incident',"
    "'occurred_at':'2024-06-18T14:35:10.5Z','agent':{'summary':'Jane Doe','type':"
    "'user_reference'},'data':{'id':'PGR0VU2','type':'incident','incident_key':'web/5xx',"
    "'title':'5xx on web','status':'acknowledged','urgency':'high','html_url':'https://pd/i/1',"
    "'service':{'summary':'Web Frontend'},'priority':{'summary':'P1'}}}}";

static void test_webhook_v3(void **state)
{
    (void)state;
    am_event_list_t l = {0}, again = {0};
    decode_ok_as("auto", v3_ack, OBS, &l);
    am_event_t *ev = &l.v[0];
    assert_int_equal(ev->kind, AM_KIND_ACK);
    assert_string_equal(ev->status, "acknowledged");
    assert_string_equal(ev->actor, "Jane Doe");
    assert_string_equal(ev->identity, "web/5xx"); /* joins the Events API alert */
    assert_string_equal(ev->service, "Web Frontend");
    assert_string_equal(am_labels_get(&ev->labels, "priority"), "P1");
    assert_string_equal(am_labels_get(&ev->labels, "urgency"), "high");
    assert_true(ev->starts_at == 1718721310500LL);
    decode_ok_as("pagerduty", v3_ack, OBS + 5, &again); /* a redelivery */
    assert_string_equal(ev->id, again.v[0].id);
    am_event_list_free(&l);
    am_event_list_free(&again);

    decode_ok_as("auto",
                 "{'event':{'id':'02','event_type':'incident.resolved','occurred_at':"
                 "'2024-06-18T15:00:00Z','agent':null,'data':{'id':'PGR0VU2','created_at':"
                 "'2024-06-18T14:29:30Z','title':'5xx on web'}}}",
                 OBS, &l);
    ev = &l.v[0];
    assert_int_equal(ev->kind, AM_KIND_ALERT);
    assert_string_equal(ev->status, "resolved");
    assert_string_equal(ev->identity, "PGR0VU2"); /* no incident_key: the id */
    assert_string_equal(ev->name, "5xx on web");
    assert_true(ev->starts_at == 1718720970000LL);
    assert_true(ev->ends_at == 1718722800000LL);
    assert_null(ev->actor);
    am_event_list_free(&l);

    decode_ok_as("auto",
                 "{'event':{'id':'03','event_type':'incident.annotated','occurred_at':"
                 "'2024-06-18T14:40:00Z','agent':{'summary':'Jane Doe'},'data':{'incident':"
                 "{'id':'PGR0VU2'},'content':'Rolled back api','type':'incident_note'}}}",
                 OBS, &l);
    assert_int_equal(l.v[0].kind, AM_KIND_NOTE);
    assert_string_equal(l.v[0].summary, "Rolled back api");
    assert_string_equal(l.v[0].identity, "PGR0VU2");
    am_event_list_free(&l);

    /* Event types with nothing for aftermath decode to no event. */
    decode_ok_as("auto",
                 "{'event':{'id':'04','event_type':'incident.priority_updated','occurred_at':"
                 "'2024-06-18T14:40:00Z','data':{'id':'PGR0VU2'}}}",
                 OBS, &l);
    assert_int_equal(l.n, 0);
    am_event_list_free(&l);

    assert_refused_as("auto", "{'event':{'event_type':'incident.triggered','data':{'id':'P1'}}}",
                      OBS, "field event.occurred_at: missing");
    assert_refused_as("auto",
                      "{'event':{'event_type':'incident.triggered','occurred_at':"
                      "'2024-06-18T14:40:00Z','data':{'title':'t'}}}",
                      OBS, "field event.data.id: missing");
    assert_refused_as("auto",
                      "{'event':{'event_type':'incident.triggered','occurred_at':"
                      "'2024-06-18T14:40:00Z','data':{'id':{'x':1}}}}",
                      OBS, "field event.data.id: expected a string or an integer");
}

#define AMKEY "2978ab2a88354adeb1b1f1678a72c2a89b36002de1aaa1bf69d127e119f04f21"

/* Incidents Alertmanager paged (incident_key / dedup_key a group key's
 * SHA-256): triggers and resolves are lines, with who resolved; events
 * with both id and key keep the id as their page; reassignments name the
 * assignee. */
static void test_alertmanager_pages(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    decode_ok_as("auto",
                 "{'event':{'id':'10','event_type':'incident.triggered','occurred_at':"
                 "'2024-06-18T14:30:00Z','agent':{'summary':'Prometheus','type':"
                 "'service_reference'},'data':{'id':'PAM1','incident_key':'" AMKEY "',"
                 "'title':'[FIRING:2] DiskFull','service':{'summary':'Payments'}}}}",
                 OBS, &l);
    am_event_t *ev = &l.v[0];
    assert_int_equal(ev->kind, AM_KIND_NOTE);
    assert_string_equal(ev->status, "triggered");
    assert_string_equal(ev->identity, AMKEY);
    assert_string_equal(ev->page, "PAM1");
    assert_string_equal(ev->summary, "PagerDuty incident triggered: [FIRING:2] DiskFull");
    am_event_list_free(&l);

    decode_ok_as("auto",
                 "{'event':{'id':'11','event_type':'incident.resolved','occurred_at':"
                 "'2024-06-18T15:00:00Z','agent':{'summary':'Bob','type':'user_reference'},"
                 "'data':{'id':'PAM1','incident_key':'" AMKEY "','title':'t'}}}",
                 OBS, &l);
    ev = &l.v[0];
    assert_int_equal(ev->kind, AM_KIND_NOTE);
    assert_string_equal(ev->status, "resolved");
    assert_string_equal(am_labels_get(&ev->annotations, "resolved_by"), "person");
    assert_string_equal(ev->actor, "Bob");
    am_event_list_free(&l);

    decode_ok_as("auto",
                 "{'event':{'id':'12','event_type':'incident.resolved','occurred_at':"
                 "'2024-06-18T15:00:00Z','agent':{'summary':'Prometheus','type':"
                 "'service_reference'},'data':{'id':'PAM1','incident_key':'" AMKEY "'}}}",
                 OBS, &l);
    assert_string_equal(am_labels_get(&l.v[0].annotations, "resolved_by"), "service");
    assert_string_equal(l.v[0].summary, "PagerDuty incident resolved by the integration");
    am_event_list_free(&l);

    decode_ok_as("auto",
                 "{'event':{'id':'13','event_type':'incident.reassigned','occurred_at':"
                 "'2024-06-18T14:35:00Z','agent':{'summary':'Ann','type':'user_reference'},"
                 "'data':{'id':'PAM1','incident_key':'" AMKEY "','assignees':[{'summary':"
                 "'Bob','type':'user_reference'},{'summary':'Eve'}]}}}",
                 OBS, &l);
    ev = &l.v[0];
    assert_int_equal(ev->kind, AM_KIND_NOTE);
    assert_string_equal(ev->status, "reassigned");
    assert_string_equal(am_labels_get(&ev->annotations, "assignee"), "Bob, Eve");
    assert_string_equal(ev->summary, "PagerDuty incident reassigned to Bob, Eve");
    am_event_list_free(&l);

    /* the ack keeps the id as its page */
    decode_ok_as("auto",
                 "{'event':{'id':'14','event_type':'incident.acknowledged','occurred_at':"
                 "'2024-06-18T14:33:00Z','agent':{'summary':'Ann','type':'user_reference'},"
                 "'data':{'id':'PAM1','incident_key':'" AMKEY "'}}}",
                 OBS, &l);
    assert_int_equal(l.v[0].kind, AM_KIND_ACK);
    assert_string_equal(l.v[0].identity, AMKEY);
    assert_string_equal(l.v[0].page, "PAM1");
    am_event_list_free(&l);

    /* Events API v2 with Alertmanager's dedup_key: lines too */
    decode_ok_as("auto",
                 "{'routing_key':'R','dedup_key':'" AMKEY "','event_action':'trigger',"
                 "'payload':{'summary':'[FIRING:1] DiskFull','severity':'critical','source':"
                 "'am'}}",
                 OBS, &l);
    assert_int_equal(l.v[0].kind, AM_KIND_NOTE);
    assert_string_equal(l.v[0].status, "triggered");
    assert_string_equal(l.v[0].identity, AMKEY);
    am_event_list_free(&l);
    decode_ok_as("auto", "{'routing_key':'R','dedup_key':'" AMKEY "','event_action':'resolve'}",
                 OBS, &l);
    assert_int_equal(l.v[0].kind, AM_KIND_NOTE);
    assert_string_equal(am_labels_get(&l.v[0].annotations, "resolved_by"), "service");
    am_event_list_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trigger),
        cmocka_unit_test(test_ack_and_resolve_join_the_alert),
        cmocka_unit_test(test_trigger_variants),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_change_event),
        cmocka_unit_test(test_webhook_v3),
        cmocka_unit_test(test_alertmanager_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
