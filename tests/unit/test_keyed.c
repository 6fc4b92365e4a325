/*
 * test_keyed.c - aftermath's own keyed-topic records (ingest/keyed.h):
 * every real event written with ingest_keyed_value and decoded in format
 * "aftermath-event" comes back exactly; the format is chosen by name only;
 * each refusal names its field.
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
#include "decode_util.h"
#include "event_eq.h"
#include "ingest/keyed.h"
#include "sample_events.h"

#define OBS 1718721005000LL

/* Decodes value as a keyed-topic record (format from the record) whose
 * Kafka timestamp is ts. */
static int decode_keyed(ingest_decoder_t *dec, const char *value, int64_t ts, am_event_list_t *out,
                        char *err, size_t errlen)
{
    am_record_t rec = {.payload = value,
                       .len = strlen(value),
                       .topic = "aftermath.keyed",
                       .partition = 3,
                       .offset = 7,
                       .ts = ts,
                       .format = INGEST_FORMAT_KEYED};
    return ingest_decode_record(dec, &rec, NULL, out, err, errlen);
}

static void test_round_trip_every_decoder(void **state)
{
    (void)state;
    am_event_list_t samples = {0};
    assert_int_equal(sample_events(&samples), 0);
    assert_true(samples.n >= 40);
    ingest_decoder_t *dec = ingest_decoder_create(NULL, NULL);
    for (size_t i = 0; i < samples.n; i++) {
        const am_event_t *ev = &samples.v[i];
        char *value = ingest_keyed_value(ev);
        assert_non_null(value);
        am_event_list_t got = {0};
        char err[768];
        /* The record timestamp (when the decode replica produced it) is
         * not the event's observed_at. */
        if (decode_keyed(dec, value, 42, &got, err, sizeof err) != 0)
            fail_msg("%s refused: %s\n  value: %s", ev->id, err, value);
        assert_int_equal(got.n, 1);
        const char *diff = event_diff(ev, &got.v[0]);
        if (diff)
            fail_msg("%s: field %s differs\n  value: %s", ev->id, diff, value);
        /* Written again, byte for byte the same record. */
        char *again = ingest_keyed_value(&got.v[0]);
        assert_string_equal(again, value);
        free(again);
        free(value);
        am_event_list_free(&got);
    }
    ingest_decoder_destroy(dec);
    am_event_list_free(&samples);
}

/* A note with nothing optional, and observed_at unknown: it stays unknown
 * even though the record has a timestamp. */
static void test_value_shape(void **state)
{
    (void)state;
    am_event_t ev;
    am_event_init(&ev);
    ev.id = am_xstrdup("note:00000000000000aa");
    ev.kind = AM_KIND_NOTE;
    ev.source = "generic";
    ev.starts_at = 1718720000000LL;
    char *value = ingest_keyed_value(&ev);
    assert_string_equal(value, "{\"schema_version\":1,\"event\":{\"id\":\"note:00000000000000aa\","
                               "\"kind\":\"note\",\"source\":\"generic\",\"labels\":{},"
                               "\"annotations\":{},\"starts_at\":1718720000000,\"ends_at\":null,"
                               "\"observed_at\":null}}");
    ingest_decoder_t *dec = ingest_decoder_create(NULL, NULL);
    am_event_list_t got = {0};
    char err[768];
    assert_int_equal(decode_keyed(dec, value, OBS, &got, err, sizeof err), 0);
    assert_int_equal(got.n, 1);
    assert_true(got.v[0].observed_at == AM_TIME_NONE);
    assert_null(event_diff(&ev, &got.v[0]));
    am_event_list_free(&got);
    ingest_decoder_destroy(dec);
    free(value);
    /* Not UTF-8: not written. */
    ev.actor = am_xstrdup("\xfe");
    assert_null(ingest_keyed_value(&ev));
    am_event_free(&ev);
}

static const char *const note_value =
    "{'schema_version':1,'event':{'id':'note:1','kind':'note','source':'generic',"
    "'starts_at':1718720000000,'observed_at':1718720001000}}";

/* Chosen by name (the record's format, the format argument), never by
 * detection. */
static void test_by_name_only(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    decode_ok_as("aftermath-event", note_value, OBS, &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0].id, "note:1");
    assert_true(l.v[0].observed_at == 1718720001000LL);
    am_event_list_free(&l);
    assert_int_equal(ingest_format_check(INGEST_FORMAT_KEYED), 0);
    assert_refused_as("auto", note_value, OBS, "not a known format");
    assert_refused_as(NULL, note_value, OBS, "not a known format");
    /* Inside a CloudEvent, the data is detected: still not this format. */
    char sq[512];
    snprintf(sq, sizeof sq, "{'specversion':'1.0','id':'i','source':'s','type':'t','data':%s}",
             note_value);
    assert_refused_as("auto", sq, OBS, "not a known format");
    /* A record's own format wins over the caller's. */
    char *value = dq(note_value);
    am_record_t rec = {.payload = value, .len = strlen(value), .format = "generic"};
    ingest_decoder_t *dec = ingest_decoder_create(NULL, NULL);
    char err[768];
    assert_int_equal(ingest_decode_record(dec, &rec, INGEST_FORMAT_KEYED, &l, err, sizeof err), -1);
    assert_non_null(strstr(err, "generic: field kind"));
    rec.format = NULL;
    assert_int_equal(ingest_decode_record(dec, &rec, INGEST_FORMAT_KEYED, &l, err, sizeof err), 0);
    assert_int_equal(l.n, 1);
    am_event_list_free(&l);
    ingest_decoder_destroy(dec);
    free(value);
}

/* An event member (single-quoted JSON) wrapped in a version 1 value. */
static void assert_event_refused(const char *event_sq, const char *want, const char *cls)
{
    char sq[1024];
    snprintf(sq, sizeof sq, "{'schema_version':1,'event':%s}", event_sq);
    assert_refused_as("aftermath-event", sq, OBS, want);
    am_event_list_t l = {0};
    char err[768];
    assert_int_equal(decode_as("aftermath-event", sq, OBS, &l, err, sizeof err), -1);
    if (strcmp(ingest_reject_class(err), cls) != 0)
        fail_msg("'%s' classed %s, want %s", err, ingest_reject_class(err), cls);
    am_event_list_free(&l);
}

#define EV_HEAD "'id':'x','source':'generic','starts_at':1718721005000,"

static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *value, *want;
    } values[] = {
        {"[1]", "aftermath-event: expected a JSON object"},
        {"{'event':{}}", "aftermath-event: field schema_version: missing"},
        {"{'schema_version':2,'event':{}}",
         "aftermath-event: field schema_version: 2 is not 1 (the only version read)"},
        {"{'schema_version':'1','event':{}}", "field schema_version: \"1\" is not 1"},
        {"{'schema_version':1.0,'event':{}}", "field schema_version: 1.0 is not 1"},
        {"{'schema_version':null,'event':{}}", "field schema_version: null is not 1"},
        {"{'schema_version':1}", "aftermath-event: field event: missing"},
        {"{'schema_version':1,'event':null}", "aftermath-event: field event: missing"},
        {"{'schema_version':1,'event':[{}]}", "aftermath-event: field event: expected an object"},
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        assert_refused_as("aftermath-event", values[i].value, OBS, values[i].want);

    static const struct {
        const char *event, *want, *cls;
    } events[] = {
        {"{'kind':'note','source':'generic','starts_at':1}", "field event.id: missing",
         "missing_field"},
        {"{'id':'x','kind':'page','source':'generic','starts_at':1}",
         "field event.kind: \"page\" is not one of alert, deploy, ack, note", "invalid_value"},
        {"{'id':'x','kind':'note','starts_at':1}", "field event.source: missing", "missing_field"},
        {"{'id':'x','kind':'note','source':'zabbix','starts_at':1}",
         "field event.source: \"zabbix\" is not a source", "invalid_value"},
        {"{" EV_HEAD "'kind':'note','summary':5}", "field event.summary: expected a string",
         "invalid_value"},
        {"{" EV_HEAD "'kind':'note','labels':{'a':[]}}", "field event.labels.a: expected a string",
         "invalid_value"},
        {"{'id':'x','kind':'note','source':'generic','starts_at':'2024-06-18T14:29:00Z'}",
         "field event.starts_at: expected an integer (UTC ms) or null", "invalid_value"},
        {"{'id':'x','kind':'note','source':'generic'}", "field event.starts_at: missing",
         "missing_field"},
        {"{" EV_HEAD "'kind':'alert','status':'firing','name':'A'}",
         "field event.identity: missing", "missing_field"},
        {"{" EV_HEAD "'kind':'alert','status':'firing','identity':'f'}",
         "field event.name: missing", "missing_field"},
        {"{" EV_HEAD "'kind':'alert','status':'open','identity':'f','name':'A'}",
         "field event.status: \"open\" is not valid for an alert", "invalid_value"},
        {"{" EV_HEAD "'kind':'alert','identity':'f','name':'A'}",
         "field event.status: missing (an alert has one)", "missing_field"},
        {"{" EV_HEAD "'kind':'alert','status':'firing','identity':'f','name':'A','ends_at':2}",
         "field event.ends_at: set on a firing alert", "invalid_value"},
        {"{" EV_HEAD "'kind':'deploy','status':'succeeded'}", "field event.name: missing",
         "missing_field"},
        {"{" EV_HEAD "'kind':'deploy','status':'done','name':'api'}",
         "field event.status: \"done\" is not valid for a deploy", "invalid_value"},
        {"{" EV_HEAD "'kind':'ack'}", "field event.status: missing (an ack has one)",
         "missing_field"},
        {"{" EV_HEAD "'kind':'note','environment':'prod'}",
         "field event.labels.env: missing while environment is set", "missing_field"},
    };
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
        assert_event_refused(events[i].event, events[i].want, events[i].cls);
}

static void test_limits(void **state)
{
    (void)state;
    ingest_limits_t lim = ingest_limits_default;
    lim.max_labels = 2;
    lim.max_value_bytes = 8;
    ingest_decoder_t *dec = ingest_decoder_create(NULL, &lim);
    static const struct {
        const char *value, *want;
    } cases[] = {
        {"{'schema_version':1,'event':{" EV_HEAD
         "'kind':'note','labels':{'a':'1','b':'2','c':'3'}}}",
         "field event.labels: 3 entries, over the limit of 2"},
        {"{'schema_version':1,'event':{" EV_HEAD "'kind':'note','annotations':{'a':'123456789'}}}",
         "field event.annotations.a: longer than the limit of 8 bytes"},
        {"{'schema_version':1,'event':{" EV_HEAD "'kind':'note','labels':{'abcdefghi':'1'}}}",
         "field event.labels.abcdefghi: longer than the limit of 8 bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = dq(cases[i].value);
        am_event_list_t l = {0};
        char err[768];
        assert_int_equal(decode_keyed(dec, s, OBS, &l, err, sizeof err), -1);
        assert_int_equal(l.n, 0);
        if (!strstr(err, cases[i].want))
            fail_msg("case %zu: reason \"%s\" does not contain \"%s\"", i, err, cases[i].want);
        assert_string_equal(ingest_reject_class(err), "too_large");
        free(s);
    }
    /* At the limits: taken. */
    char *s = dq("{'schema_version':1,'event':{" EV_HEAD
                 "'kind':'note','labels':{'a':'12345678','b':'2'}}}");
    am_event_list_t l = {0};
    char err[768];
    assert_int_equal(decode_keyed(dec, s, OBS, &l, err, sizeof err), 0);
    assert_int_equal(l.n, 1);
    am_event_list_free(&l);
    free(s);
    ingest_decoder_destroy(dec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_decoder),
        cmocka_unit_test(test_value_shape),
        cmocka_unit_test(test_by_name_only),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
