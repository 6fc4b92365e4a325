/*
 * test_plausible_times.c - the one plausibility check of event times
 * (am_time_plausible, run by ingest/decode.c after every decoder) and the
 * one reading of record times (am_time_record), through every format:
 * an implausible start refuses the record naming the event and the
 * field; an implausible end is dropped, the event kept, and the refusal
 * said in the event's AM_ANNOTATION_TIME_REFUSED; a replayed kcat ts and
 * a Kafka timestamp mean the same.
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
#include "common/record.h"
#include "decode_util.h"
#include "ingest/decode.h"
#include "ingest/keyed.h"
#include "ingest/replay.h"

/* 2024-06-18T14:30:05Z: the record time of the corpus payloads. */
#define OBS 1718721005000LL

static char *read_corpus(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/fuzz_decode/%s", AM_PROJECT, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    am_buf_t b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        am_buf_append(&b, chunk, n);
    fclose(f);
    am_buf_putc(&b, '\0');
    return am_buf_steal(&b);
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* text with every JSON string that starts as an RFC 3339 date-time
 * ("YYYY-MM-DDT...") replaced by t. Owned. */
static char *with_times(const char *text, const char *t)
{
    am_buf_t b = {0};
    for (const char *p = text; *p;) {
        if (p[0] == '"' && strlen(p) > 12 && is_digit(p[1]) && is_digit(p[4]) && p[5] == '-' &&
            p[8] == '-' && (p[11] == 'T' || p[11] == 't' || p[11] == ' ')) {
            const char *close = strchr(p + 1, '"');
            assert_non_null(close);
            am_buf_printf(&b, "\"%s\"", t);
            p = close + 1;
            continue;
        }
        am_buf_putc(&b, *p++);
    }
    am_buf_putc(&b, '\0');
    return am_buf_steal(&b);
}

static int decode_text(const char *text, int64_t observed_at, am_event_list_t *out, char *err,
                       size_t errlen)
{
    ingest_decoder_t *dec = ingest_decoder_create(NULL, NULL);
    int rc = ingest_decode(dec, "auto", text, strlen(text), observed_at, out, err, errlen);
    ingest_decoder_destroy(dec);
    return rc;
}

static void refused_with(const char *file, const char *text, int64_t observed_at, const char *want)
{
    am_event_list_t l = {0};
    char err[768] = "";
    if (decode_text(text, observed_at, &l, err, sizeof err) == 0)
        fail_msg("%s: taken, expected a refusal with \"%s\"\n  payload: %s", file, want, text);
    assert_int_equal(l.n, 0);
    am_event_list_free(&l);
    if (!strstr(err, want))
        fail_msg("%s: reason \"%s\" does not contain \"%s\"", file, err, want);
    assert_string_equal(ingest_reject_class(err), "invalid_value");
}

/* Every decoder reads its start from another field; all meet the same
 * check. Each payload decodes as it is; with every time in it made
 * implausible, it is refused naming starts_at. */
static void test_every_decoder_refuses_an_implausible_start(void **state)
{
    (void)state;
    static const char *const files[] = {
        "alertmanager-resolved-truncated.json",
        "grafana-mixed.json",
        "amapi-ends.json",
        "pagerduty-trigger.json",
        "pagerduty-v3-ack.json",
        "cdevents-incident.json",
        "cdevents-deployed-v04.json",
        "cloudevents-cdevent.json",
        "github-status-success.json",
        "flux-error.json",
        "flux-upgrade.json",
        "generic-alert.json",
        "generic-deploy.json",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *text = read_corpus(files[i]);
        am_event_list_t l = {0};
        char err[768];
        if (decode_text(text, OBS, &l, err, sizeof err) != 0)
            fail_msg("%s: refused as it is: %s", files[i], err);
        assert_true(l.n > 0);
        am_event_list_free(&l);

        char *old = with_times(text, "1999-12-31T23:59:59Z");
        refused_with(files[i], old, OBS,
                     "starts_at 1999-12-31T23:59:59Z is implausible: before "
                     "2000-01-01T00:00:00Z");
        refused_with(files[i], old, AM_TIME_NONE, "starts_at 1999-12-31T23:59:59Z");
        char *far = with_times(text, "9999-12-31T23:59:59Z");
        refused_with(files[i], far, AM_TIME_NONE,
                     "starts_at 9999-12-31T23:59:59Z is implausible: on or after "
                     "2100-01-01T00:00:00Z");
        /* A day and a second after its record: refused; without a record
         * time nothing says it is in the future. */
        char *ahead = with_times(text, "2024-06-19T14:30:06Z");
        refused_with(files[i], ahead, OBS,
                     "starts_at 2024-06-19T14:30:06Z is implausible: more than 1d after the "
                     "record time 2024-06-18T14:30:05Z");
        if (decode_text(ahead, AM_TIME_NONE, &l, err, sizeof err) != 0 &&
            !strstr(err, "no record timestamp"))
            fail_msg("%s: refused without a record time: %s", files[i], err);
        am_event_list_free(&l);
        free(ahead);
        free(far);
        free(old);
        free(text);
    }
}

/* The refusal names the event among the record's alerts. */
static void test_refusal_names_the_event(void **state)
{
    (void)state;
    char *s = dq("{'receiver':'r','status':'firing','alerts':["
                 "{'labels':{'alertname':'Fine'},'startsAt':'2024-06-18T14:00:00Z'},"
                 "{'labels':{'alertname':'Epoch'},'startsAt':'1970-01-01T00:00:00.001Z'}]}");
    refused_with("webhook", s, OBS,
                 "alertmanager: event 2 (alert \"Epoch\"): starts_at 1970-01-01T00:00:00.001Z is "
                 "implausible: before 2000-01-01T00:00:00Z (docs/formats.md, Time)");
    free(s);
    s = dq("{'kind':'note','at':'1970-01-01T00:00:00Z','summary':'n'}");
    refused_with("note", s, AM_TIME_NONE,
                 "generic: event 1 (note): starts_at 1970-01-01T00:00:00Z is implausible: before "
                 "2000-01-01T00:00:00Z (docs/formats.md, Time)");
    free(s);
}

static void decode_one(const char *sq, int64_t observed_at, am_event_t *ev_out, am_event_list_t *l)
{
    char err[768];
    char *s = dq(sq);
    if (decode_text(s, observed_at, l, err, sizeof err) != 0)
        fail_msg("refused: %s\n  payload: %s", err, s);
    free(s);
    assert_int_equal(l->n, 1);
    *ev_out = l->v[0];
}

/* An implausible end: the alert is still real. The end becomes unknown
 * and the annotation says which time was refused and why. */
static void test_implausible_end_is_dropped_and_said(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    am_event_t ev;

    /* The 2,912,748-day mitigation: a generic resolve ending in 9999. */
    decode_one("{'kind':'alert','name':'Down','starts_at':'2025-02-28T10:00:00Z',"
               "'ends_at':'9999-12-31T23:59:59Z','labels':{'service':'web'}}",
               AM_TIME_NONE, &ev, &l);
    assert_string_equal(ev.status, "resolved");
    assert_true(ev.starts_at == 1740736800000LL);
    assert_true(ev.ends_at == AM_TIME_NONE);
    assert_string_equal(am_labels_get(&ev.annotations, AM_ANNOTATION_TIME_REFUSED),
                        "ends_at 9999-12-31T23:59:59Z refused as implausible (on or after "
                        "2100-01-01T00:00:00Z)");
    am_event_list_free(&l);

    /* An Alertmanager resolve whose endsAt is epoch 1 s. */
    decode_one("{'receiver':'r','status':'resolved','alerts':[{'status':'resolved','labels':{'"
               "alertname':'B'},"
               "'startsAt':'2024-06-18T14:00:00Z','endsAt':'1970-01-01T00:00:01Z'}]}",
               OBS, &ev, &l);
    assert_string_equal(ev.status, "resolved");
    assert_true(ev.ends_at == AM_TIME_NONE);
    assert_true(ev.observed_at == OBS);
    assert_string_equal(am_labels_get(&ev.annotations, AM_ANNOTATION_TIME_REFUSED),
                        "ends_at 1970-01-01T00:00:01Z refused as implausible (before "
                        "2000-01-01T00:00:00Z)");
    am_event_list_free(&l);

    /* An end two days after the record that reports it. */
    decode_one("{'kind':'alert','name':'Down','starts_at':'2024-06-18T14:00:00Z',"
               "'ends_at':'2024-06-20T14:00:00Z','labels':{'service':'web'}}",
               OBS, &ev, &l);
    assert_true(ev.ends_at == AM_TIME_NONE);
    assert_string_equal(am_labels_get(&ev.annotations, AM_ANNOTATION_TIME_REFUSED),
                        "ends_at 2024-06-20T14:00:00Z refused as implausible (more than 1d "
                        "after the record time 2024-06-18T14:30:05Z)");
    am_event_list_free(&l);

    /* A plausible end is kept, and no annotation is added. */
    decode_one("{'kind':'alert','name':'Down','starts_at':'2024-06-18T14:00:00Z',"
               "'ends_at':'2024-06-18T14:20:00.1234567891Z','labels':{'service':'web'}}",
               OBS, &ev, &l);
    assert_true(ev.ends_at == 1718720400123LL);
    assert_null(am_labels_get(&ev.annotations, AM_ANNOTATION_TIME_REFUSED));
    am_event_list_free(&l);
}

/* Only the decoder writes the note: a sender's is dropped; aftermath's own
 * keyed records carry theirs across. */
static void test_note_only_from_the_decoder(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    am_event_t ev;
    decode_one("{'kind':'alert','name':'Down','starts_at':'2024-06-18T14:00:00Z',"
               "'labels':{'service':'web'},'annotations':{'summary':'s',"
               "'aftermath.time_refused':'ends_at 2024-06-18 refused (forged)'}}",
               OBS, &ev, &l);
    assert_null(am_labels_get(&ev.annotations, AM_ANNOTATION_TIME_REFUSED));
    assert_string_equal(am_labels_get(&ev.annotations, "summary"), "s");
    am_event_list_free(&l);

    decode_one("{'kind':'alert','name':'Down','starts_at':'2025-02-28T10:00:00Z',"
               "'ends_at':'9999-12-31T23:59:59Z','labels':{'service':'web'}}",
               OBS + 365LL * 86400000, &ev, &l);
    char *value = ingest_keyed_value(&l.v[0]);
    am_event_list_t k = {0};
    char err[768];
    ingest_decoder_t *dec = ingest_decoder_create(NULL, NULL);
    am_record_t rec = {.payload = value,
                       .len = strlen(value),
                       .topic = "aftermath.keyed",
                       .ts = OBS,
                       .format = INGEST_FORMAT_KEYED};
    if (ingest_decode_record(dec, &rec, NULL, &k, err, sizeof err) != 0)
        fail_msg("keyed record refused: %s", err);
    assert_int_equal(k.n, 1);
    assert_string_equal(am_labels_get(&k.v[0].annotations, AM_ANNOTATION_TIME_REFUSED),
                        am_labels_get(&l.v[0].annotations, AM_ANNOTATION_TIME_REFUSED));
    assert_true(k.v[0].ends_at == AM_TIME_NONE);
    ingest_decoder_destroy(dec);
    am_event_list_free(&k);
    free(value);
    am_event_list_free(&l);
}

/* An Alertmanager API endsAt past the plausible times is in the future:
 * the alert fires, with or without a record time, and nothing is refused. */
static void test_amapi_far_end_is_firing(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    am_event_t ev;
    const char *body = "[{'labels':{'alertname':'A'},'startsAt':'2024-06-18T14:00:00Z',"
                       "'endsAt':'9999-12-31T23:59:59Z'}]";
    decode_one(body, AM_TIME_NONE, &ev, &l);
    assert_string_equal(ev.status, "firing");
    assert_true(ev.ends_at == AM_TIME_NONE);
    assert_null(am_labels_get(&ev.annotations, AM_ANNOTATION_TIME_REFUSED));
    am_event_list_free(&l);
    decode_one(body, OBS, &ev, &l);
    assert_string_equal(ev.status, "firing");
    am_event_list_free(&l);
    /* A plausible past endsAt still resolves it. */
    decode_one("[{'labels':{'alertname':'A'},'startsAt':'2024-06-18T14:00:00Z',"
               "'endsAt':'2024-06-18T14:35:00Z'}]",
               AM_TIME_NONE, &ev, &l);
    assert_string_equal(ev.status, "resolved");
    am_event_list_free(&l);
}

typedef struct observed {
    ingest_decoder_t *dec;
    am_event_list_t events;
    int64_t ts[8];
    int n;
} observed_t;

static int take(void *arg, const am_record_t *rec)
{
    observed_t *o = arg;
    char err[768];
    o->ts[o->n++] = rec->ts;
    if (ingest_decode_record(o->dec, rec, NULL, &o->events, err, sizeof err) != 0)
        fail_msg("refused: %s", err);
    return 0;
}

/* A kcat envelope's ts of zero, negative or absurd is no record time, as
 * librdkafka's -1 is for the daemon: the same event either way, on the
 * hand-written envelope reader and on jansson's (an unknown key). */
static void test_replayed_record_time(void **state)
{
    (void)state;
    static const char *const ts[] = {"-937840000000000", "-1",           "0", "5",
                                     "4102444800000",    "1718721005000"};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        for (int slow = 0; slow < 2; slow++) {
            char line[512];
            snprintf(line, sizeof line,
                     "{%s\"topic\":\"alerts\",\"partition\":0,\"offset\":1,\"ts\":%s,"
                     "\"payload\":\"{\\\"kind\\\":\\\"note\\\",\\\"at\\\":"
                     "\\\"2024-06-18T14:29:00Z\\\",\\\"summary\\\":\\\"n\\\"}\"}",
                     slow ? "\"zz\":[0]," : "", ts[i]);
            observed_t o = {.dec = ingest_decoder_create(NULL, NULL)};
            assert_int_equal(ingest_replay_buffer("t", line, strlen(line), take, &o), 0);
            assert_int_equal(o.n, 1);
            assert_int_equal(o.events.n, 1);
            int64_t want = i + 1 == sizeof ts / sizeof ts[0] ? OBS : AM_TIME_NONE;
            if (o.ts[0] != want || o.events.v[0].observed_at != want)
                fail_msg("ts %s (%s reader): record %lld, observed_at %lld", ts[i],
                         slow ? "jansson" : "fast", (long long)o.ts[0],
                         (long long)o.events.v[0].observed_at);
            am_event_list_free(&o.events);
            ingest_decoder_destroy(o.dec);
        }
    /* The same through ingest_decode, for callers with a timestamp of
     * their own. */
    am_event_list_t l = {0};
    am_event_t ev;
    decode_one("{'kind':'note','at':'2024-06-18T14:29:00Z','summary':'n'}", -5, &ev, &l);
    assert_true(ev.observed_at == AM_TIME_NONE);
    am_event_list_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_decoder_refuses_an_implausible_start),
        cmocka_unit_test(test_refusal_names_the_event),
        cmocka_unit_test(test_implausible_end_is_dropped_and_said),
        cmocka_unit_test(test_note_only_from_the_decoder),
        cmocka_unit_test(test_amapi_far_end_is_firing),
        cmocka_unit_test(test_replayed_record_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
