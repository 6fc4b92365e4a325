/*
 * test_amevents.c - Alertmanager's event recorder records (events/v2 JSON,
 * ingest/amevents.c). The payloads are written here by hand, faithfully to
 * Alertmanager 0.35.0's proto/eventrecorder/events/v2/events.proto as
 * protojson marshals it (lowerCamelCase names, "@timestamp", uint64 as
 * decimal strings, enums by name, zero values left out, RFC 3339 times
 * with nanoseconds); no captured record is copied into the repository.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "decode_util.h"

#define OBS 1796683564045LL /* the Kafka record's timestamp */

#define LABELS                                                                                     \
    "'labels':{'alertname':'DiskFull','env':'prod','instance':'db1','job':'node',"                 \
    "'severity':'critical'},'annotations':{'summary':'disk full on db1'}"

#define GROUP                                                                                      \
    "'groupInfo':{'groupKey':'{}:{alertname=\\'DiskFull\\'}','groupLabels':{'alertname':"          \
    "'DiskFull'},'groupId':'fe53f643a175a7a3','receiverName':'oncall','groupUuid':"                \
    "'aaafb8bb-eebe-454e-8749-cd8d3cbb4d34'}"

static void test_notification(void **state)
{
    (void)state;
    am_event_list_t l = {0}, w = {0};
    decode_ok_as("auto",
                 "{'@timestamp':'2026-12-07T22:46:04.044844315Z','instance':'am-0','data':{"
                 "'notification':{'alerts':[{'fingerprint':'5985333663443601827','details':{"
                 "'fingerprint':'5985333663443601827','name':'DiskFull'," LABELS ","
                 "'startsAt':'2026-12-07T22:46:03Z','endsAt':'0001-01-01T00:00:00Z'}},"
                 "{'fingerprint':'42'}],"
                 "'firingAlerts':[{'fingerprint':'5985333663443601827'}]," GROUP ","
                 "'repeatInterval':'14400s','reason':'NOTIFY_REASON_FIRST_NOTIFICATION',"
                 "'flushId':'1','integration':{'name':'webhook'}}}}",
                 OBS, &l);
    assert_int_equal(l.n, 1); /* the fingerprint-only reference says nothing */
    am_event_t *ev = &l.v[0];
    assert_int_equal(ev->kind, AM_KIND_ALERT);
    assert_string_equal(ev->source, "alertmanager");
    assert_string_equal(ev->status, "firing");
    assert_string_equal(ev->name, "DiskFull");
    assert_true(ev->ends_at == AM_TIME_NONE);
    /* detection: when the notification went out (the record's time) */
    assert_true(ev->observed_at == OBS);
    assert_string_equal(am_labels_get(&ev->annotations, "notification_receiver"), "oncall");
    assert_string_equal(am_labels_get(&ev->annotations, "notification_integration"), "webhook");
    assert_string_equal(am_labels_get(&ev->annotations, "notification_reason"),
                        "first notification");
    /* The same alert through the webhook: the same identity and id. */
    decode_ok_as("auto",
                 "{'receiver':'oncall','alerts':[{'status':'firing'," LABELS
                 ",'startsAt':'2026-12-07T22:46:03Z'}]}",
                 OBS, &w);
    assert_string_equal(ev->identity, w.v[0].identity);
    assert_string_equal(ev->id, w.v[0].id);
    am_event_list_free(&l);
    am_event_list_free(&w);
    /* Without a record time (a raw line): the event's own "@timestamp". */
    decode_ok_as("auto",
                 "{'@timestamp':'2026-12-07T22:46:04.044844315Z','data':{'notification':{"
                 "'alerts':[{'details':{" LABELS ",'startsAt':'2026-12-07T22:46:03Z'}}]}}}",
                 AM_TIME_NONE, &l);
    assert_true(l.v[0].observed_at == 1796683564044LL);
    am_event_list_free(&l);
}

static void test_resolved_created_grouped(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    /* alertResolved: the exact end, silenced alerts included; no
     * observed_at (a resolve is no detection). */
    decode_ok_as("alertmanager-events",
                 "{'@timestamp':'2026-12-07T22:46:24.039307110Z','instance':'am-0','data':{"
                 "'alertResolved':{'alert':{'fingerprint':'1650231885479157040','details':{"
                 "'fingerprint':'1650231885479157040','name':'DiskFull'," LABELS ","
                 "'startsAt':'2026-12-07T22:46:03Z','endsAt':'2026-12-07T22:46:23Z',"
                 "'resolved':true}}," GROUP "}}}",
                 OBS, &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0].status, "resolved");
    assert_true(l.v[0].ends_at == 1796683583000LL);
    assert_true(l.v[0].observed_at == AM_TIME_NONE);
    am_event_list_free(&l);
    /* alertCreated and alertGrouped: the episode, firing while the
     * snapshot is not resolved (its endsAt is the sender's plan). */
    decode_ok_as("auto",
                 "{'@timestamp':'2026-12-07T22:46:03.032294981Z','instance':'am-0','data':{"
                 "'alertCreated':{'alert':{'fingerprint':'5985333663443601827','name':'DiskFull',"
                 "" LABELS ",'startsAt':'2026-12-07T22:46:03Z','endsAt':'2026-12-07T22:46:11Z'}}}}",
                 OBS, &l);
    decode_ok_as("auto",
                 "{'@timestamp':'2026-12-07T22:46:03.032492124Z','instance':'am-0','data':{"
                 "'alertGrouped':{'alert':{'fingerprint':'5985333663443601827','details':{"
                 "'fingerprint':'5985333663443601827','name':'DiskFull'," LABELS ","
                 "'startsAt':'2026-12-07T22:46:03Z','endsAt':'2026-12-07T22:46:11Z'}}," GROUP "}}}",
                 OBS, &l);
    assert_int_equal(l.n, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(l.v[i].status, "firing");
        assert_true(l.v[i].ends_at == AM_TIME_NONE);
        assert_true(l.v[i].observed_at == AM_TIME_NONE);
    }
    assert_string_equal(l.v[0].id, l.v[1].id);
    am_event_list_free(&l);
    /* A resolve that says it is not resolved is refused. */
    assert_refused_as("auto",
                      "{'@timestamp':'2026-12-07T22:46:24Z','data':{'alertResolved':{'alert':{"
                      "'details':{" LABELS ",'startsAt':'2026-12-07T22:46:03Z'}}}}}",
                      OBS, "an alertResolved alert is not resolved");
}

#define SILENCE                                                                                    \
    "'silence':{'id':'1b8afb9e-33f6-4578-bb74-0499878b7e6e','matchers':[{'type':'TYPE_EQUAL',"     \
    "'name':'alertname','pattern':'DiskFull','rendered':'alertname=\\'DiskFull\\''},"              \
    "{'type':'TYPE_REGEXP','name':'instance','pattern':'db.*','rendered':"                         \
    "'instance=~\\'db.*\\''}],'startsAt':'2026-12-07T22:46:13.011593395Z',"                        \
    "'endsAt':'2026-12-07T23:46:13Z','updatedAt':'2026-12-07T22:46:13.011593395Z',"                \
    "'createdBy':'Jane Doe','comment':'disk being replaced','matcherSets':[]}"

static void test_silences(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    decode_ok_as("auto",
                 "{'@timestamp':'2026-12-07T22:46:13.011840196Z','instance':'am-0','data':{"
                 "'silenceCreated':{" SILENCE "}}}",
                 OBS, &l);
    assert_int_equal(l.n, 1);
    am_event_t *ev = &l.v[0];
    assert_int_equal(ev->kind, AM_KIND_NOTE);
    assert_string_equal(ev->actor, "Jane Doe");
    assert_true(ev->starts_at == 1796683573011LL);
    /* the equality matchers are its labels; the regexp one only text */
    assert_string_equal(am_labels_get(&ev->labels, "alertname"), "DiskFull");
    assert_null(am_labels_get(&ev->labels, "instance"));
    assert_string_equal(am_labels_get(&ev->annotations, "silence_id"),
                        "1b8afb9e-33f6-4578-bb74-0499878b7e6e");
    assert_non_null(strstr(ev->summary, "Silence created: alertname=\"DiskFull\", "
                                        "instance=~\"db.*\" until 2026-12-07T23:46:13"));
    assert_non_null(strstr(ev->summary, "(disk being replaced)"));
    am_event_list_free(&l);

    /* Muting: the muted alert's labels, one note per alert whatever the
     * number of evaluations that repeat it. */
#define MUTED(sec)                                                                                 \
    "{'@timestamp':'2026-12-07T22:46:" sec ".040423509Z','instance':'am-0','data':{"               \
    "'silenceMutedAlert':{" SILENCE ",'mutedAlert':{" LABELS                                       \
    ",'fingerprint':'1650231885479157040'}}}}"
    decode_ok_as("auto", MUTED("14"), OBS, &l);
    decode_ok_as("auto", MUTED("15"), OBS + 1000, &l);
#undef MUTED
    assert_int_equal(l.n, 2);
    assert_string_equal(l.v[0].id, l.v[1].id);
    assert_string_equal(am_labels_get(&l.v[0].labels, "instance"), "db1");
    assert_non_null(strstr(l.v[0].summary, "Silence muting"));
    am_event_list_free(&l);
}

static void test_refusals(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    /* Records that hold nothing aftermath uses are valid and give nothing. */
    decode_ok_as("auto",
                 "{'@timestamp':'2026-12-07T22:46:00.935356741Z','instance':'am-0','data':{"
                 "'alertmanagerStartupEvent':{'version':'0.35.0'}}}",
                 OBS, &l);
    decode_ok_as("auto",
                 "{'@timestamp':'2026-12-07T22:47:12Z','instance':'am-0','data':{"
                 "'alertmanagerShutdownEvent':{}}}",
                 OBS, &l);
    assert_int_equal(l.n, 0);
    /* Other schemas say why. */
    assert_refused_as("auto",
                      "{'timestamp':'2026-12-07T22:46:00Z','instance':'am-0','data':{"
                      "'alert_created':{}}}",
                      OBS, "alertmanager-events: field @timestamp: missing: not events/v2 JSON");
    assert_refused_as("auto", "{'@timestamp':'2026-12-07T22:46:00Z','data':{'alert_created':{}}}",
                      OBS, "a proto field name");
    assert_refused_as("auto", "{'@timestamp':'2026-12-07T22:46:00Z','data':{'alertExploded':{}}}",
                      OBS, "not an events/v2 event type");
    assert_refused_as("auto", "{'@timestamp':'2026-12-07T22:46:00Z','data':{}}", OBS,
                      "expected exactly one event");
    /* The recorder's protobuf output is no JSON: refused naming it. */
    ingest_decoder_t *dec = ingest_decoder_create(NULL, NULL);
    char err[768];
    static const char proto[] = "\x0a\x0c\x08\xb8\xe5\xa3\xc6\x06\x10\x80\x94\xeb\xdc\x03\x12\x04"
                                "am-0";
    assert_int_equal(ingest_decode(dec, "alertmanager-events", proto, sizeof proto - 1, OBS, &l,
                                   err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "protobuf format is not read; set format: json"));
    ingest_decoder_destroy(dec);
    am_event_list_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notification),
        cmocka_unit_test(test_resolved_created_grouped),
        cmocka_unit_test(test_silences),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
