/*
 * test_cloudevents.c - CloudEvents in binary mode (ce_* Kafka headers, the
 * value as data) against the same events in structured mode, through
 * ingest_decode_record(), the entry point every source uses; the attribute
 * checks both modes share; and records whose headers have nothing to do
 * with CloudEvents.
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

static const char deployed[] =
    "{'context':{'version':'0.4.1','id':'d-1','source':'/ci/argo','type':"
    "'dev.cdevents.service.deployed.0.2.0','timestamp':'2024-06-18T14:05:00Z'},"
    "'subject':{'id':'checkout','content':{'environment':{'id':'prod'},"
    "'artifactId':'pkg:oci/shop/checkout@v1.2.3'}}}";

static const char alertmanager[] =
    "{'receiver':'r','status':'firing','alerts':[{'labels':{'alertname':'HighLatency',"
    "'service':'web','env':'prod'},'annotations':{'summary':'slow'},"
    "'startsAt':'2024-06-18T14:29:00Z'}]}";

/* The kcat header array of a binary-mode CDEvent, "%s" for the id. */
static const char ce_headers[] =
    "['ce_specversion','1.0','ce_id','%s','ce_source','/ci/argo','ce_type',"
    "'dev.cdevents.service.deployed.0.2.0','ce_time','2024-06-18T14:05:00Z',"
    "'content-type','application/json; charset=utf-8']";

/* Decodes a record (payload and headers single-quoted; headers may be
 * NULL) in format; returns the decoder's return code, reason in err. */
static int decode_rec(const char *format, const char *payload_sq, const char *headers_sq,
                      am_event_list_t *out, char *err, size_t errlen)
{
    ingest_decoder_t *dec = ingest_decoder_create(NULL, NULL);
    char *payload = dq(payload_sq), *headers = headers_sq ? dq(headers_sq) : NULL;
    am_record_t rec = {.payload = payload,
                       .len = strlen(payload),
                       .topic = "deploys",
                       .partition = 0,
                       .offset = 7,
                       .ts = OBS,
                       .headers = headers};
    err[0] = '\0';
    int rc = ingest_decode_record(dec, &rec, format, out, err, errlen);
    free(payload);
    free(headers);
    ingest_decoder_destroy(dec);
    return rc;
}

static void assert_same_labels(const am_labels_t *a, const am_labels_t *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_string_equal(a->v[i].name, b->v[i].name);
        assert_string_equal(a->v[i].value, b->v[i].value);
    }
}

#define assert_same_str(x, y)                                                                      \
    do {                                                                                           \
        if ((x) || (y)) {                                                                          \
            assert_non_null(x);                                                                    \
            assert_non_null(y);                                                                    \
            assert_string_equal((x), (y));                                                         \
        }                                                                                          \
    } while (0)

/* Every field of every event equal. */
static void assert_same_events(const am_event_list_t *a, const am_event_list_t *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const am_event_t *x = &a->v[i], *y = &b->v[i];
        assert_string_equal(x->id, y->id);
        assert_int_equal(x->kind, y->kind);
        assert_string_equal(x->source, y->source);
        assert_same_str(x->status, y->status);
        assert_same_str(x->name, y->name);
        assert_same_str(x->identity, y->identity);
        assert_same_str(x->service, y->service);
        assert_same_str(x->environment, y->environment);
        assert_same_str(x->severity, y->severity);
        assert_same_str(x->summary, y->summary);
        assert_same_str(x->actor, y->actor);
        assert_same_str(x->version, y->version);
        assert_same_str(x->url, y->url);
        assert_true(x->starts_at == y->starts_at);
        assert_true(x->ends_at == y->ends_at);
        assert_true(x->observed_at == y->observed_at);
        assert_same_labels(&x->labels, &y->labels);
        assert_same_labels(&x->annotations, &y->annotations);
    }
}

static void test_binary_same_as_structured(void **state)
{
    (void)state;
    char err[768], envelope[2048], headers[512];
    am_event_list_t structured = {0}, binary = {0}, forced = {0};
    snprintf(envelope, sizeof envelope,
             "{'specversion':'1.0','id':'d-1','source':'/ci/argo','type':"
             "'dev.cdevents.service.deployed.0.2.0','time':'2024-06-18T14:05:00Z',"
             "'datacontenttype':'application/json','data':%s}",
             deployed);
    snprintf(headers, sizeof headers, ce_headers, "d-1");
    if (decode_rec("auto", envelope, NULL, &structured, err, sizeof err) != 0)
        fail_msg("structured refused: %s", err);
    if (decode_rec("auto", deployed, headers, &binary, err, sizeof err) != 0)
        fail_msg("binary refused: %s", err);
    if (decode_rec("cloudevents", deployed, headers, &forced, err, sizeof err) != 0)
        fail_msg("binary forced refused: %s", err);
    assert_int_equal(structured.n, 1);
    assert_int_equal(structured.v[0].kind, AM_KIND_DEPLOY);
    assert_string_equal(structured.v[0].source, "cdevents");
    assert_string_equal(structured.v[0].service, "checkout");
    assert_string_equal(structured.v[0].version, "v1.2.3");
    assert_same_events(&structured, &binary);
    assert_same_events(&structured, &forced);
    am_event_list_clear(&structured);
    am_event_list_clear(&binary);

    /* Any known format may be the data, in either mode. */
    snprintf(envelope, sizeof envelope,
             "{'specversion':'1.0','id':'a-1','source':'/am','type':'com.example.alert',"
             "'data':%s}",
             alertmanager);
    if (decode_rec("auto", envelope, NULL, &structured, err, sizeof err) != 0 ||
        decode_rec("auto", alertmanager,
                   "['ce_specversion','1.0','ce_id','a-1','ce_source','/am','ce_type',"
                   "'com.example.alert']",
                   &binary, err, sizeof err) != 0)
        fail_msg("refused: %s", err);
    assert_int_equal(binary.n, 1);
    assert_string_equal(binary.v[0].source, "alertmanager");
    assert_same_events(&structured, &binary);
    am_event_list_free(&structured);
    am_event_list_free(&binary);
    am_event_list_free(&forced);
}

/* Asserts that the record is refused with a reason containing want. */
static void refused(const char *format, const char *payload, const char *headers, const char *want)
{
    am_event_list_t l = {0};
    char err[768];
    if (decode_rec(format, payload, headers, &l, err, sizeof err) != -1)
        fail_msg("accepted but should be refused: %s / %s", payload, headers);
    assert_int_equal(l.n, 0);
    if (!strstr(err, want))
        fail_msg("reason \"%s\" does not contain \"%s\"", err, want);
    am_event_list_free(&l);
}

static void test_binary_refusals(void **state)
{
    (void)state;
    char h[512];
    snprintf(h, sizeof h, ce_headers, "");
    refused("auto", deployed, h, "cloudevents: header ce_id: missing");
    refused("cloudevents", deployed, h, "cloudevents: header ce_id: missing");
    refused("auto", deployed, "['ce_specversion','1.0','ce_type','t','ce_source','/s']",
            "header ce_id: missing");
    refused("auto", deployed,
            "['ce_specversion','1.0','ce_type','t','ce_id',null,'ce_source','/s']",
            "header ce_id: missing");
    refused("auto", deployed, "['ce_specversion','1.0','ce_id','1','ce_source','/s']",
            "header ce_type: missing");
    refused("auto", deployed, "['ce_specversion','0.3','ce_id','1','ce_source','/s','ce_type','t']",
            "header ce_specversion: \"0.3\" is not supported");
    refused("auto", deployed,
            "['ce_specversion','1.0','ce_id','1','ce_source','/s','ce_type','t','ce_time',"
            "'yesterday']",
            "header ce_time: ");
    refused("auto", deployed,
            "['ce_specversion','1.0','ce_id','1','ce_id','2','ce_source','/s','ce_type','t']",
            "header ce_id: given twice");
    refused("auto", "<deploy/>",
            "['ce_specversion','1.0','ce_id','1','ce_source','/s','ce_type','t',"
            "'content-type','application/xml']",
            "header content-type: \"application/xml\" is not JSON");
    refused("auto", "'just a string'",
            "['ce_specversion','1.0','ce_id','1','ce_source','/s','ce_type','t']",
            "record value (the data of a binary-mode CloudEvent): expected a JSON object");
    refused("auto", "{'x':1}",
            "['ce_specversion','1.0','ce_id','1','ce_source','/s','ce_type','t']",
            "not a known format");
    snprintf(h, sizeof h, ce_headers, "d-1");
    refused("auto",
            "{'context':{'type':'dev.cdevents.service.deployed.0.2.0'},'subject':{'id':'x'}}", h,
            "in data, cdevents: field context.timestamp: missing");

    /* The same checks hold for the envelope, naming its fields. */
    refused("auto", "{'specversion':'1.0','type':'t','source':'/s','data':{}}", NULL,
            "cloudevents: field id: missing");
    refused("auto", "{'specversion':'0.3','type':'t','source':'/s','id':'1','data':{}}", NULL,
            "cloudevents: field specversion: \"0.3\" is not supported");
    refused("auto", "{'specversion':'1.0','type':'t','source':'/s','id':'1','time':'x','data':{}}",
            NULL, "cloudevents: field time: ");
}

static void test_other_headers_untouched(void **state)
{
    (void)state;
    char err[768];
    am_event_list_t plain = {0}, with = {0};
    if (decode_rec("auto", alertmanager, NULL, &plain, err, sizeof err) != 0)
        fail_msg("refused: %s", err);
    /* Unrelated headers, one even naming ce_specversion in a value, and
     * headers that are not kcat's array: the record reads as without. */
    static const char *const headers[] = {
        "['traceparent','00-abc-01','content-type','application/json']",
        "['note','ce_specversion','ce-type','x']",
        "{'ce_specversion':'1.0'}",
        "['ce_specversion']",
        /* A structured-mode content-type wins over ce_ headers. */
        "['content-type','application/cloudevents+json','ce_specversion','1.0']",
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        if (decode_rec("auto", alertmanager, headers[i], &with, err, sizeof err) != 0)
            fail_msg("refused with headers %s: %s", headers[i], err);
        assert_same_events(&plain, &with);
        am_event_list_clear(&with);
    }
    /* A forced format other than cloudevents reads the value alone. */
    if (decode_rec("alertmanager", alertmanager, "['ce_specversion','1.0']", &with, err,
                   sizeof err) != 0)
        fail_msg("refused: %s", err);
    assert_same_events(&plain, &with);
    am_event_list_free(&plain);
    am_event_list_free(&with);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_same_as_structured),
        cmocka_unit_test(test_binary_refusals),
        cmocka_unit_test(test_other_headers_untouched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
