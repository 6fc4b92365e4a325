/*
 * test_detect.c - format detection and the explicit format override: each
 * format's smallest recognisable payload goes to its decoder, look-alikes
 * go where they belong, and a forced format reads with that decoder alone.
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

static void test_detection_table(void **state)
{
    (void)state;
    static const struct {
        const char *payload, *source;
        am_kind_t kind;
    } cases[] = {
        {"{'receiver':'r','alerts':[{'labels':{'a':'b'},'startsAt':'2024-01-01T00:00:00Z'}]}",
         "alertmanager", AM_KIND_ALERT},
        {"[{'labels':{'a':'b'}}]", "alertmanager", AM_KIND_ALERT},
        {"{'version':'1','alerts':[{'labels':{'a':'b'},'startsAt':'2024-01-01T00:00:00Z'}]}",
         "grafana", AM_KIND_ALERT},
        {"{'orgId':2,'receiver':'r','version':'4','alerts':[{'labels':{'a':'b'},"
         "'startsAt':'2024-01-01T00:00:00Z'}]}",
         "grafana", AM_KIND_ALERT},
        {"{'event_action':'acknowledge','dedup_key':'k'}", "pagerduty", AM_KIND_ACK},
        {"{'routing_key':'k','payload':{'summary':'s'}}", "pagerduty", AM_KIND_DEPLOY},
        {"{'event':{'event_type':'incident.acknowledged','occurred_at':'2024-01-01T00:00:00Z',"
         "'data':{'id':'P'}}}",
         "pagerduty", AM_KIND_ACK},
        {"{'context':{'type':'dev.cdevents.service.deployed.0.3.0','timestamp':"
         "'2024-01-01T00:00:00Z'},'subject':{'id':'s'}}",
         "cdevents", AM_KIND_DEPLOY},
        {"{'deployment':{'id':1,'created_at':'2024-01-01T00:00:00Z'},'repository':{'name':'r'}}",
         "github", AM_KIND_DEPLOY},
        {"{'involvedObject':{'kind':'HelmRelease','name':'n'},'severity':'error','reason':'R',"
         "'timestamp':'2024-01-01T00:00:00Z'}",
         "flux", AM_KIND_ALERT},
        {"{'kind':'note','at':'2024-01-01T00:00:00Z'}", "generic", AM_KIND_NOTE},
        /* A generic event whose labels look like another format's keys. */
        {"{'kind':'deploy','name':'n','at':'2024-01-01T00:00:00Z','labels':{'receiver':'x'}}",
         "generic", AM_KIND_DEPLOY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        am_event_list_t l = {0};
        decode_ok_as("auto", cases[i].payload, OBS, &l);
        if (l.n != 1)
            fail_msg("case %zu: %zu events", i, l.n);
        if (strcmp(l.v[0].source, cases[i].source) != 0 || l.v[0].kind != cases[i].kind)
            fail_msg("case %zu: %s %s, want %s %s", i, l.v[0].source, am_kind_name(l.v[0].kind),
                     cases[i].source, am_kind_name(cases[i].kind));
        assert_non_null(l.v[0].id);
        am_event_list_free(&l);
    }
}

static void test_forced_formats(void **state)
{
    (void)state;
    static const char *const names[] = {"auto",      "alertmanager", "alertmanager-api", "grafana",
                                        "pagerduty", "cdevents",     "cloudevents",      "github",
                                        "flux",      "generic",      "aftermath-event"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_int_equal(ingest_format_check(names[i]), 0);
    assert_int_equal(ingest_format_check("prometheus"), -1);
    assert_refused_as("nope", "{}", OBS, "unknown format \"nope\"");
    assert_refused_as("auto", "{'hello':'world'}", OBS, "not a known format");
    assert_refused_as("auto", "42", OBS, "not a known format");
    /* Every decoder refuses what is not its format, naming what is missing,
     * rather than making up events. */
    static const struct {
        const char *format, *reason;
    } forced[] = {
        {"alertmanager", "alertmanager: field alerts: missing"},
        {"alertmanager-api", "alertmanager-api: expected a JSON array"},
        {"grafana", "grafana: field alerts: missing"},
        {"pagerduty", "pagerduty: field payload: missing"},
        {"cdevents", "cdevents: field context.type: missing"},
        {"cloudevents", "cloudevents: not a CloudEvents envelope"},
        {"github", "github: field deployment: missing"},
        {"flux", "flux: field timestamp: missing"},
        {"generic", "generic: field kind"},
        {"aftermath-event", "aftermath-event: field schema_version: missing"},
    };
    for (size_t i = 0; i < sizeof forced / sizeof forced[0]; i++)
        assert_refused_as(forced[i].format, "{'note':'hello'}", OBS, forced[i].reason);
    /* A whole alertmanager payload forced through generic is refused too. */
    assert_refused_as("generic", "{'receiver':'r','alerts':[]}", OBS, "generic: field kind");
}

/* Each refusal class on a real refusal of the decoder (the reasons are
 * free text; the classes, metric labels, are a closed set). */
static void test_reject_classes(void **state)
{
    (void)state;
    static const struct {
        const char *format, *payload, *cls;
    } cases[] = {
        {"auto", "{'kind': 'alert', 'status'", "invalid_json"},
        {"auto", "{'hello':'world'}", "unknown_format"},
        {"nope", "{}", "unknown_format"},
        {"cloudevents", "{'specversion':'1.0','type':'t','source':'s','id':'i','data':{'a':1}}",
         "unknown_format"},
        {"alertmanager", "{'note':'hello'}", "missing_field"},
        {"flux", "{'note':'hello'}", "missing_field"},
        {"generic", "{'kind':'meteor','at':'2024-01-01T00:00:00Z'}", "invalid_value"},
        {"alertmanager-api", "{'note':'hello'}", "invalid_value"},
        {"auto",
         "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
         "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
         "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
         "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
         "too_large"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        am_event_list_t l = {0};
        char err[768];
        assert_int_equal(decode_as(cases[i].format, cases[i].payload, OBS, &l, err, sizeof err),
                         -1);
        if (strcmp(ingest_reject_class(err), cases[i].cls) != 0)
            fail_msg("'%s' classed %s, want %s", err, ingest_reject_class(err), cases[i].cls);
        am_event_list_free(&l);
    }
    /* a record over the byte limit */
    ingest_limits_t lim = ingest_limits_default;
    lim.max_record_bytes = 4;
    ingest_decoder_t *dec = ingest_decoder_create(NULL, &lim);
    am_event_list_t l = {0};
    char err[768];
    assert_int_equal(ingest_decode(dec, "auto", "{\"a\":1}", 7, OBS, &l, err, sizeof err), -1);
    assert_string_equal(ingest_reject_class(err), "too_large");
    ingest_decoder_destroy(dec);
    assert_string_equal(ingest_reject_class(INGEST_REASON_NULL), "null");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detection_table),
        cmocka_unit_test(test_forced_formats),
        cmocka_unit_test(test_reject_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
