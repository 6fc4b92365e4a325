/*
 * test_cdevents.c - CDEvents service and incident events across spec
 * releases (context.version and context.specversion), bare and inside a
 * CloudEvents structured-mode envelope, and the envelope itself.
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

#define OBS 1718721005000LL

/* service.deployed in the 0.4 style (context.version, type 0.2.0). */
static const char deployed_v04[] =
    "{'context':{'version':'0.4.1','id':'d-1','source':'/ci/argo','type':"
    "'dev.cdevents.service.deployed.0.2.0','timestamp':'2024-06-18T14:05:00.123456789+01:00'},"
    "'subject':{'id':'checkout','source':'/ci/argo','type':'service','content':{"
    "'environment':{'id':'prod','source':'/k8s/eu-1'},"
    "'artifactId':'pkg:oci/shop/checkout@sha256%3Aabc123?repository_url=r.example/shop'}}}";

/* The same event from a 0.5 producer: specversion, type 0.3.0. */
static const char deployed_v05[] =
    "{'context':{'specversion':'0.5.0','id':'d-1','source':'/ci/argo','type':"
    "'dev.cdevents.service.deployed.0.3.0','timestamp':'2024-06-18T13:05:00.123Z'},"
    "'subject':{'id':'checkout','content':{'environment':{'id':'prod'},"
    "'artifactId':'pkg:oci/shop/checkout@sha256%3Aabc123?repository_url=r.example/shop'}}}";

static void test_deployed(void **state)
{
    (void)state;
    am_event_list_t a = {0}, b = {0};
    decode_ok_as("auto", deployed_v04, OBS, &a);
    decode_ok_as("auto", deployed_v05, OBS, &b);
    am_event_t *ev = &a.v[0];
    assert_int_equal(ev->kind, AM_KIND_DEPLOY);
    assert_string_equal(ev->source, "cdevents");
    assert_string_equal(ev->status, "succeeded");
    assert_string_equal(ev->name, "checkout");
    assert_string_equal(ev->version, "sha256:abc123");
    assert_string_equal(ev->service, "checkout");
    assert_string_equal(ev->environment, "prod");
    assert_true(ev->starts_at == 1718715900123LL);
    assert_true(ev->observed_at == OBS);
    assert_string_equal(am_labels_get(&ev->annotations, "artifactId"),
                        "pkg:oci/shop/checkout@sha256%3Aabc123?repository_url=r.example/shop");
    assert_string_equal(ev->id, b.v[0].id); /* one event, whatever the release */
    am_event_list_free(&a);
    am_event_list_free(&b);
}

static void test_rolledback_and_upgraded(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    decode_ok_as("auto",
                 "{'context':{'version':'0.3.0','id':'r-1','source':'/cd','type':"
                 "'dev.cdevents.service.rolledback.0.1.1','timestamp':'2024-06-18T14:40:00Z'},"
                 "'subject':{'id':'checkout','type':'service','content':{'environment':"
                 "{'id':'prod'},'artifactId':'pkg:docker/checkout@1.4.1'}}}",
                 OBS, &l);
    assert_int_equal(l.v[0].kind, AM_KIND_DEPLOY);
    assert_string_equal(l.v[0].status, "rolled_back");
    assert_string_equal(l.v[0].version, "1.4.1");
    am_event_list_free(&l);
    /* Not a package URL: the subject names the deploy, no version. */
    decode_ok_as("auto",
                 "{'context':{'version':'0.3.0','id':'u-1','source':'/cd','type':"
                 "'dev.cdevents.service.upgraded.0.1.1','timestamp':'2024-06-18T14:40:00Z'},"
                 "'subject':{'id':'payments','content':{'environment':{'id':'staging'},"
                 "'artifactId':'registry.example/payments:2.0'}}}",
                 OBS, &l);
    assert_string_equal(l.v[0].status, "succeeded");
    assert_string_equal(l.v[0].name, "payments");
    assert_null(l.v[0].version);
    am_event_list_free(&l);
    /* A %00 escape would cut the string: it stays as written. */
    decode_ok_as("auto",
                 "{'context':{'version':'0.3.0','id':'u-2','source':'/cd','type':"
                 "'dev.cdevents.service.upgraded.0.1.1','timestamp':'2024-06-18T14:40:00Z'},"
                 "'subject':{'id':'p','content':{'artifactId':'pkg:generic/p%41y@1%002%'}}}",
                 OBS, &l);
    assert_string_equal(l.v[0].name, "pAy");
    assert_string_equal(l.v[0].version, "1%002%");
    assert_null(l.v[0].environment);
    am_event_list_free(&l);
}

static void test_incident(void **state)
{
    (void)state;
    am_event_list_t d = {0}, r = {0};
    decode_ok_as("auto",
                 "{'context':{'specversion':'0.5.1','id':'F4BD','source':'/monitoring/prod1',"
                 "'type':'dev.cdevents.incident.detected.0.3.0','timestamp':"
                 "'2024-06-18T14:29:00Z'},'subject':{'id':'inc-7','source':'/monitoring/prod1',"
                 "'content':{'description':'p99 \\u2265 2s','environment':{'id':'prod'},"
                 "'service':{'id':'checkout'},'artifactId':'pkg:oci/checkout@sha256%3Aabc'}},"
                 "'customData':{'metric':'latency','value':2.4},"
                 "'customDataContentType':'application/json'}",
                 OBS, &d);
    decode_ok_as("auto",
                 "{'context':{'specversion':'0.5.1','id':'F4BD','source':'/monitoring/prod1',"
                 "'type':'dev.cdevents.incident.resolved.0.3.0','timestamp':"
                 "'2024-06-18T14:50:00Z'},'subject':{'id':'inc-7','source':'/monitoring/prod1',"
                 "'content':{'description':'back to normal','environment':{'id':'prod'},"
                 "'service':{'id':'checkout'}}}}",
                 OBS, &r);
    am_event_t *ev = &d.v[0];
    assert_int_equal(ev->kind, AM_KIND_ALERT);
    assert_string_equal(ev->status, "firing");
    assert_string_equal(ev->name, "inc-7");
    assert_string_equal(ev->summary, "p99 \xe2\x89\xa5 2s");
    assert_string_equal(ev->service, "checkout");
    assert_string_equal(ev->environment, "prod");
    assert_string_equal(am_labels_get(&ev->annotations, "metric"), "latency");
    assert_string_equal(am_labels_get(&ev->annotations, "value"), "2.4");
    assert_string_equal(ev->identity, r.v[0].identity); /* detected and resolved: one */
    assert_string_equal(r.v[0].status, "resolved");
    assert_true(r.v[0].ends_at == 1718722200000LL);
    assert_string_not_equal(ev->id, r.v[0].id); /* though the spec reuses context ids */
    am_event_list_free(&d);
    am_event_list_free(&r);
}

static void test_cloudevents_envelope(void **state)
{
    (void)state;
    am_event_list_t bare = {0}, wrapped = {0}, forced = {0};
    char buf[2048];
    snprintf(buf, sizeof buf,
             "{'specversion':'1.0','id':'d-1','source':'/ci/argo','type':"
             "'dev.cdevents.service.deployed.0.2.0','time':'2024-06-18T13:05:00Z',"
             "'datacontenttype':'application/json','data':%s}",
             deployed_v04);
    decode_ok_as("auto", deployed_v04, OBS, &bare);
    decode_ok_as("auto", buf, OBS, &wrapped);
    decode_ok_as("cdevents", buf, OBS, &forced); /* cdevents unwraps too */
    assert_int_equal(wrapped.n, 1);
    assert_string_equal(wrapped.v[0].source, "cdevents");
    assert_string_equal(wrapped.v[0].id, bare.v[0].id);
    assert_string_equal(forced.v[0].id, bare.v[0].id);
    am_event_list_free(&bare);
    am_event_list_free(&wrapped);
    am_event_list_free(&forced);

    /* Any known format may travel in an envelope. */
    decode_ok_as("auto",
                 "{'specversion':'1.0','type':'com.example.alert','source':'/am','id':'1',"
                 "'data':{'receiver':'r','alerts':[{'labels':{'alertname':'X'},"
                 "'startsAt':'2024-01-01T00:00:00Z'}]}}",
                 OBS, &bare);
    assert_string_equal(bare.v[0].source, "alertmanager");
    am_event_list_free(&bare);

    assert_refused_as("auto",
                      "{'specversion':'1.0','type':'t','source':'/s','id':'1',"
                      "'data_base64':'e30='}",
                      OBS, "cloudevents: field data_base64: binary data is not read");
    assert_refused_as("auto", "{'specversion':'1.0','type':'t','source':'/s','id':'1','data':'{}'}",
                      OBS, "field data: expected a JSON object or array");
    assert_refused_as("auto",
                      "{'specversion':'1.0','type':'t','source':'/s','id':'1','data':{'x':1}}", OBS,
                      "field data: not a known format");
    assert_refused_as("auto",
                      "{'specversion':'1.0','type':'t','source':'/"
                      "s','id':'1','data':{'specversion':'1.0','type':'t',"
                      "'data':{}}}",
                      OBS, "field data: a CloudEvents envelope inside another");
    assert_refused_as(
        "auto",
        "{'specversion':'1.0','type':'t','source':'/s','id':'1','data':{'context':{'type':"
        "'dev.cdevents.service.deployed.0.3.0'},'subject':{'id':'x'}}}",
        OBS, "in data, cdevents: field context.timestamp: missing");
    assert_refused_as("cloudevents", "{'context':{}}", OBS, "not a CloudEvents envelope");
}

static void test_other_types_and_refusals(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    decode_ok_as("auto",
                 "{'context':{'version':'0.4.1','id':'p','source':'/ci','type':"
                 "'dev.cdevents.pipelinerun.finished.0.2.0','timestamp':'2024-06-18T14:00:00Z'},"
                 "'subject':{'id':'build-9','content':{}}}",
                 OBS, &l);
    assert_int_equal(l.n, 0);
    am_event_list_free(&l);
    assert_refused_as("auto",
                      "{'context':{'id':'x','source':'/s','type':"
                      "'dev.cdevents.service.deployed.0.2.0'},'subject':{'id':'a','content':{}}}",
                      OBS, "cdevents: field context.timestamp: missing");
    assert_refused_as("auto",
                      "{'context':{'id':'x','source':'/s','type':"
                      "'dev.cdevents.incident.detected.0.2.0','timestamp':'2024-06-18T14:00:00Z'},"
                      "'subject':{'content':{}}}",
                      OBS, "field subject.id: missing");
    assert_refused_as("auto",
                      "{'context':{'type':'dev.cdevents.service.deployed.0.2.0','timestamp':"
                      "'2024-06-18T14:00:00Z'},'subject':{'id':'a','content':{'environment':"
                      "'prod'}}}",
                      OBS, "field subject.content.environment: expected an object");
    assert_refused_as("cdevents", "{'context':{'type':'com.example.x'}}", OBS,
                      "field context.type: missing or not a dev.cdevents.* type");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deployed),
        cmocka_unit_test(test_rolledback_and_upgraded),
        cmocka_unit_test(test_incident),
        cmocka_unit_test(test_cloudevents_envelope),
        cmocka_unit_test(test_other_types_and_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
