/*
 * test_event_json.c - the event JSON shape of the scale-out design
 * (common/event_json.h): exact round trips of real events from every
 * decoder and of edge cases, the shape written, and each refusal.
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
#include "common/event.h"
#include "common/event_json.h"
#include "decode_util.h"
#include "event_eq.h"
#include "sample_events.h"

/* ev -> JSON -> text -> JSON -> event, compared field by field. */
static void round_trip(const am_event_t *ev)
{
    json_t *j = am_event_to_json(ev);
    if (!j)
        fail_msg("%s: not written", ev->id);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    json_error_t jerr;
    json_t *back = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!back)
        fail_msg("%s: written JSON does not parse: %s", ev->id, jerr.text);
    am_event_t got;
    char err[512];
    if (am_event_from_json(back, &got, err, sizeof err) != 0)
        fail_msg("%s: read back refused: %s (%s)", ev->id, err, text);
    const char *diff = event_diff(ev, &got);
    if (diff)
        fail_msg("%s: field %s differs after the round trip (%s)", ev->id, diff, text);
    assert_ptr_equal(got.source, am_source_static(ev->source));
    am_event_free(&got);
    json_decref(back);
    free(text);
}

static void test_round_trip_every_decoder(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    assert_int_equal(sample_events(&l), 0);
    /* Every source a decoder sets is among the samples. */
    static const char *const sources[] = {"alertmanager", "cdevents", "flux",     "generic",
                                          "github",       "grafana",  "pagerduty"};
    for (size_t s = 0; s < sizeof sources / sizeof sources[0]; s++) {
        size_t n = 0;
        for (size_t i = 0; i < l.n; i++)
            n += strcmp(l.v[i].source, sources[s]) == 0;
        if (n == 0)
            fail_msg("no sample event from %s", sources[s]);
    }
    int kinds[AM_KIND_COUNT] = {0};
    for (size_t i = 0; i < l.n; i++) {
        kinds[l.v[i].kind]++;
        round_trip(&l.v[i]);
        am_event_cache_json(&l.v[i]); /* the caches change nothing written */
        round_trip(&l.v[i]);
    }
    for (int k = 0; k < AM_KIND_COUNT; k++)
        if (kinds[k] == 0)
            fail_msg("no sample event of kind %s", am_kind_name((am_kind_t)k));
    assert_true(l.n >= 40);
    am_event_list_free(&l);
}

static void test_round_trip_edges(void **state)
{
    (void)state;
    am_event_t ev;
    am_event_init(&ev);
    ev.id = am_xstrdup("note:0123456789abcdef");
    ev.kind = AM_KIND_NOTE;
    ev.source = "generic";
    round_trip(&ev); /* every optional field absent, every time unknown */

    ev.status = am_xstrdup(""); /* empty is not absent */
    ev.name = am_xstrdup("caf\xc3\xa9 \xe2\x9c\x93 \"quoted\" \\ \n tab\t");
    ev.summary = am_xstrdup("\x7f\x01");
    ev.starts_at = 0; /* 1970 is a time, not "unknown" */
    ev.ends_at = -62135596800000LL;
    ev.observed_at = INT64_MAX;
    am_labels_set(&ev.labels, "", "empty name");
    am_labels_set(&ev.labels, "a", "");
    am_labels_set(&ev.annotations, "description", "multi\nline");
    round_trip(&ev);
    am_event_free(&ev);
}

static void test_shape(void **state)
{
    (void)state;
    am_event_t ev;
    am_event_init(&ev);
    ev.id = am_xstrdup("deploy:generic:00000000000000ff");
    ev.kind = AM_KIND_DEPLOY;
    ev.status = am_xstrdup("succeeded");
    ev.source = "generic";
    ev.name = am_xstrdup("db-config");
    ev.environment = am_xstrdup("prod");
    am_labels_set(&ev.labels, "env", "prod");
    am_labels_set(&ev.labels, "cluster", "eu");
    ev.starts_at = 1718719500000LL;
    ev.observed_at = 1718719501000LL;
    ev.version = am_xstrdup("2024.06.18-1");
    json_t *j = am_event_to_json(&ev);
    char *text = json_dumps(j, JSON_COMPACT);
    assert_string_equal(text, "{\"id\":\"deploy:generic:00000000000000ff\",\"kind\":\"deploy\","
                              "\"status\":\"succeeded\",\"source\":\"generic\",\"name\":\"db-"
                              "config\",\"environment\":\"prod\",\"labels\":{\"cluster\":\"eu\","
                              "\"env\":\"prod\"},\"annotations\":{},\"starts_at\":1718719500000,"
                              "\"ends_at\":null,\"observed_at\":1718719501000,\"version\":"
                              "\"2024.06.18-1\"}");
    free(text);
    json_decref(j);
    am_event_free(&ev);
}

static void test_nulls_read_as_absent(void **state)
{
    (void)state;
    char *s = dq("{'id':'x','kind':'ack','source':'pagerduty','status':null,'name':null,"
                 "'labels':null,'annotations':null,'starts_at':null,'url':null,'extra':[1]}");
    json_t *j = json_loads(s, 0, NULL);
    am_event_t ev;
    char err[256];
    assert_int_equal(am_event_from_json(j, &ev, err, sizeof err), 0);
    assert_string_equal(ev.id, "x");
    assert_int_equal(ev.kind, AM_KIND_ACK);
    assert_string_equal(ev.source, "pagerduty");
    assert_null(ev.status);
    assert_null(ev.name);
    assert_null(ev.url);
    assert_int_equal(ev.labels.n, 0);
    assert_true(ev.starts_at == AM_TIME_NONE && ev.ends_at == AM_TIME_NONE &&
                ev.observed_at == AM_TIME_NONE);
    am_event_free(&ev);
    json_decref(j);
    free(s);
}

static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *json; /* ' for " */
        const char *want;
    } cases[] = {
        {"[]", "expected an object"},
        {"{'kind':'alert','source':'generic'}", "id: missing"},
        {"{'id':null,'kind':'alert','source':'generic'}", "id: missing"},
        {"{'id':'','kind':'alert','source':'generic'}", "id: missing"},
        {"{'id':7,'kind':'alert','source':'generic'}", "id: expected a string or null"},
        {"{'id':'x','source':'generic'}", "kind: missing"},
        {"{'id':'x','kind':'page','source':'generic'}",
         "kind: \"page\" is not one of alert, deploy, ack, note"},
        {"{'id':'x','kind':['alert'],'source':'generic'}", "kind: expected a string or null"},
        {"{'id':'x','kind':'alert'}", "source: missing"},
        {"{'id':'x','kind':'alert','source':'nagios'}",
         "source: \"nagios\" is not a source this aftermath knows"},
        {"{'id':'x','kind':'alert','source':'generic','status':true}",
         "status: expected a string or null"},
        {"{'id':'x','kind':'alert','source':'generic','url':{}}", "url: expected a string or null"},
        {"{'id':'x','kind':'alert','source':'generic','labels':['a']}",
         "labels: expected an object or null"},
        {"{'id':'x','kind':'alert','source':'generic','labels':{'a':1}}",
         "labels.a: expected a string"},
        {"{'id':'x','kind':'alert','source':'generic','annotations':{'b':null}}",
         "annotations.b: expected a string"},
        {"{'id':'x','kind':'alert','source':'generic','starts_at':'2024-06-18T14:29:00Z'}",
         "starts_at: expected an integer (UTC ms) or null"},
        {"{'id':'x','kind':'alert','source':'generic','ends_at':1718720940000.0}",
         "ends_at: expected an integer (UTC ms) or null"},
        {"{'id':'x','kind':'alert','source':'generic','observed_at':false}",
         "observed_at: expected an integer (UTC ms) or null"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = dq(cases[i].json);
        json_error_t jerr;
        json_t *j = json_loads(s, JSON_DECODE_ANY, &jerr);
        if (!j)
            fail_msg("case %zu: bad test JSON: %s", i, jerr.text);
        am_event_t ev;
        char err[512] = "";
        if (am_event_from_json(j, &ev, err, sizeof err) != -1)
            fail_msg("case %zu accepted: %s", i, s);
        if (!strstr(err, cases[i].want))
            fail_msg("case %zu: reason \"%s\" does not contain \"%s\"", i, err, cases[i].want);
        /* Refused: the event owns nothing. */
        assert_null(ev.id);
        assert_int_equal(ev.labels.n, 0);
        assert_null(ev.labels.v);
        json_decref(j);
        free(s);
    }
}

static void test_nul_refused(void **state)
{
    (void)state;
    json_t *j = json_pack("{s:s, s:s, s:s, s:s%}", "id", "x", "kind", "note", "source", "generic",
                          "summary", "a\0b", (size_t)3);
    am_event_t ev;
    char err[256];
    assert_int_equal(am_event_from_json(j, &ev, err, sizeof err), -1);
    assert_non_null(strstr(err, "summary: contains a NUL character"));
    json_decref(j);
    j = json_pack("{s:s, s:s, s:s, s:{s:s%}}", "id", "x", "kind", "note", "source", "generic",
                  "labels", "k", "v\0", (size_t)2);
    assert_int_equal(am_event_from_json(j, &ev, err, sizeof err), -1);
    assert_non_null(strstr(err, "labels.k: contains a NUL character"));
    json_decref(j);
}

static void test_not_utf8_not_written(void **state)
{
    (void)state;
    am_event_t ev;
    am_event_init(&ev);
    ev.id = am_xstrdup("x");
    ev.kind = AM_KIND_NOTE;
    ev.source = "generic";
    ev.summary = am_xstrdup("bad \xff byte");
    assert_null(am_event_to_json(&ev));
    free(ev.summary);
    ev.summary = NULL;
    assert_non_null(ev.id);
    json_t *ok = am_event_to_json(&ev);
    assert_non_null(ok);
    json_decref(ok);
    am_labels_set(&ev.labels, "k", "\xc3");
    assert_null(am_event_to_json(&ev));
    am_labels_free(&ev.labels);
    am_labels_set(&ev.annotations, "\xc3", "v");
    assert_null(am_event_to_json(&ev));
    am_event_free(&ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_decoder),
        cmocka_unit_test(test_round_trip_edges),
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_nulls_read_as_absent),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_nul_refused),
        cmocka_unit_test(test_not_utf8_not_written),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
