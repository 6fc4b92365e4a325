/*
 * test_people.c - the people's record: corrections and action items as
 * events (ingest/people.c) and the overlay over the derived incidents
 * (correlate/people.c), read back through correlate/incident.h,
 * correlate/queries.h and report/metrics.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "corr_util.h"
#include "correlate/people.h"
#include "correlate/queries.h"
#include "ingest/decode.h"
#include "report/metrics.h"

static const char *const RULES = "version: 1\n"
                                 "rules:\n"
                                 "  - name: r\n"
                                 "    match: ['severity=\"page\"']\n"
                                 "    group_by: [cluster]\n"
                                 "    gap: 30m\n"
                                 "    quiet: 10m\n"
                                 "    deploys:\n"
                                 "      match: ['env=\"prod\"']\n"
                                 "      before: 2h\n";

#define PAGE "\"severity\":\"page\",\"service\":\"web\",\"cluster\":\"c1\""
#define PAGE2 "\"severity\":\"page\",\"service\":\"db\",\"cluster\":\"c2\""

/* ---- decoding ---------------------------------------------------------- */

static int decode(const char *json, am_event_list_t *out, char *err, size_t errlen)
{
    ingest_decoder_t *dec = ingest_decoder_create(NULL, NULL);
    int rc = ingest_decode(dec, "auto", json, strlen(json), AM_TIME_NONE, out, err, errlen);
    ingest_decoder_destroy(dec);
    return rc;
}

static void test_decode_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *json, *reason;
    } cases[] = {
        {"{\"kind\":\"correction\",\"at\":\"2024-06-19T09:00:00Z\",\"actor\":\"a\","
         "\"set\":{\"title\":\"t\"}}",
         "field incident: missing"},
        {"{\"kind\":\"correction\",\"incident\":\"I\",\"actor\":\"a\",\"set\":{\"title\":\"t\"}}",
         "field at: missing"},
        {"{\"kind\":\"correction\",\"incident\":\"I\",\"at\":\"2024-06-19T09:00:00Z\","
         "\"set\":{\"title\":\"t\"}}",
         "field actor: missing"},
        {"{\"kind\":\"correction\",\"incident\":\"I\",\"at\":\"2024-06-19T09:00:00Z\","
         "\"actor\":\"a\"}",
         "a correction has set, suspect, dismiss or merge_into"},
        {"{\"kind\":\"correction\",\"incident\":\"I\",\"at\":\"2024-06-19T09:00:00Z\","
         "\"actor\":\"a\",\"labels\":{},\"set\":{\"title\":\"t\"}}",
         "field labels: not a member"},
        {"{\"kind\":\"correction\",\"incident\":\"I\",\"at\":\"2024-06-19T09:00:00Z\","
         "\"actor\":\"a\",\"set\":{\"colour\":\"red\"}}",
         "field set.colour: not a member"},
        {"{\"kind\":\"correction\",\"incident\":\"I\",\"at\":\"2024-06-19T09:00:00Z\","
         "\"actor\":\"a\",\"set\":{\"mitigated_at\":\"yesterday\"}}",
         "set.mitigated_at"},
        {"{\"kind\":\"correction\",\"incident\":\"I\",\"at\":\"2024-06-19T09:00:00Z\","
         "\"actor\":\"a\",\"set\":{\"resolved_at\":\"9999-12-31T23:59:59Z\"}}",
         "field set.resolved_at: implausible"},
        {"{\"kind\":\"correction\",\"incident\":\"I\",\"at\":\"2024-06-19T09:00:00Z\","
         "\"actor\":\"a\",\"set\":{\"users_impacted\":-3}}",
         "field set.users_impacted: not a count"},
        {"{\"kind\":\"correction\",\"incident\":\"I\",\"at\":\"2024-06-19T09:00:00Z\","
         "\"actor\":\"a\",\"set\":{\"lead\":\"x\",\"commander\":\"y\"}}",
         "field set.commander: an alias of set.lead"},
        {"{\"kind\":\"correction\",\"incident\":\"I\",\"at\":\"2024-06-19T09:00:00Z\","
         "\"actor\":\"a\",\"suspect\":{\"deploy\":\"db-config\",\"verdict\":\"confirmed\"}}",
         "field suspect.deploy: \"db-config\" is not NAME@VERSION"},
        {"{\"kind\":\"correction\",\"incident\":\"I\",\"at\":\"2024-06-19T09:00:00Z\","
         "\"actor\":\"a\",\"suspect\":{\"deploy\":\"d@1\",\"verdict\":\"maybe\"}}",
         "field suspect.verdict: \"maybe\" is not confirmed, rejected or null"},
        {"{\"kind\":\"correction\",\"incident\":\"I\",\"at\":\"2024-06-19T09:00:00Z\","
         "\"actor\":\"a\",\"merge_into\":\"I\"}",
         "field merge_into: the incident itself"},
        {"{\"kind\":\"correction\",\"incident\":\"I\",\"at\":\"2024-06-19T09:00:00Z\","
         "\"actor\":\"a\",\"dismiss\":\"x\",\"about\":{\"alerts\":[1]}}",
         "field about.alerts: not an array of alert identities"},
        {"{\"kind\":\"action\",\"incident\":\"I\",\"at\":\"2024-06-19T09:00:00Z\","
         "\"actor\":\"a\",\"task\":\"t\"}",
         "field item: missing"},
        {"{\"kind\":\"action\",\"incident\":\"I\",\"item\":\"AI-1\",\"at\":\"2024-06-19T09:00:"
         "00Z\","
         "\"actor\":\"a\",\"status\":\"wip\"}",
         "field status: \"wip\" is not open or done"},
        {"{\"kind\":\"action\",\"incident\":\"I\",\"item\":\"AI-1\",\"at\":\"2024-06-19T09:00:"
         "00Z\","
         "\"actor\":\"a\",\"due\":\"next week\"}",
         "field due: not a day"},
        {"{\"kind\":\"action\",\"incident\":\"I\",\"item\":\"AI-1\",\"at\":\"2024-06-19T09:00:"
         "00Z\","
         "\"actor\":\"a\",\"set\":{}}",
         "field set: not a member"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        am_event_list_t out = {0};
        char err[512] = "";
        if (decode(cases[i].json, &out, err, sizeof err) == 0)
            fail_msg("case %zu: accepted %s", i, cases[i].json);
        if (!strstr(err, cases[i].reason))
            fail_msg("case %zu: reason \"%s\" does not contain \"%s\"", i, err, cases[i].reason);
        am_event_list_free(&out);
    }
}

static void test_decode_shape(void **state)
{
    (void)state;
    const char *json =
        "{\"kind\":\"correction\",\"incident\":\"INC-1\",\"at\":\"2024-06-19T11:00:00+02:00\","
        "\"actor\":\"Ravi Patel\",\"reason\":\"restart at 15:20\",\"set\":{\"commander\":\"Ravi\","
        "\"mitigated_at\":\"2024-06-18T17:20:00+02:00\",\"roles\":{\"comms\":\"Jane\"},"
        "\"title\":null}}";
    am_event_list_t a = {0}, b = {0};
    char err[512];
    assert_int_equal(decode(json, &a, err, sizeof err), 0);
    assert_int_equal(decode(json, &b, err, sizeof err), 0);
    assert_int_equal(a.n, 1);
    const am_event_t *ev = &a.v[0];
    assert_int_equal(ev->kind, AM_KIND_CORRECTION);
    assert_string_equal(ev->name, "INC-1");
    assert_string_equal(ev->actor, "Ravi Patel");
    assert_string_equal(ev->summary, "restart at 15:20");
    char t[AM_TIME_STRLEN];
    assert_string_equal(am_time_format(ev->starts_at, t), "2024-06-19T09:00:00Z");
    /* commander made lead, times canonical, null kept (it unsets) */
    assert_string_equal(am_labels_get(&ev->annotations, AM_ANNOTATION_BODY),
                        "{\"incident\":\"INC-1\",\"reason\":\"restart at 15:20\",\"set\":{"
                        "\"lead\":\"Ravi\",\"mitigated_at\":\"2024-06-18T15:20:00Z\",\"roles\":{"
                        "\"comms\":\"Jane\"},\"title\":null}}");
    assert_string_equal(ev->id, b.v[0].id); /* the same correction twice: one id */
    am_event_list_clear(&b);
    assert_int_equal(decode("{\"kind\":\"correction\",\"incident\":\"INC-1\",\"at\":"
                            "\"2024-06-19T09:00:00Z\",\"actor\":\"Ravi Patel\",\"set\":{\"title\":"
                            "\"other\"}}",
                            &b, err, sizeof err),
                     0);
    assert_string_not_equal(ev->id, b.v[0].id);
    am_event_list_free(&a);
    am_event_list_free(&b);
}

/* ---- the overlay --------------------------------------------------------- */

static char *people_line(const char *kind, const char *incident, double at, const char *actor,
                         const char *members)
{
    am_buf_t b = {0};
    am_buf_printf(&b, "{\"kind\":\"%s\",\"incident\":\"%s\",\"at\":\"%s\",\"actor\":\"%s\",%s}",
                  kind, incident, T(at), actor, members);
    return am_buf_steal(&b);
}

static void feed_free(harness_t *h, char *line)
{
    h_feed(h, line);
    free(line);
}

/* One incident (c1, started at 0, mitigated at 20) and one more in c2. */
static void open_two(harness_t *h, char *id1, char *id2)
{
    h_open(h, ":memory:", RULES, 1, 0);
    feed_free(h, alert("A", 0, 20, PAGE));
    feed_free(h, alert("B", 100, 110, PAGE2));
    h_feed(h, "{\"kind\":\"deploy\",\"name\":\"app\",\"version\":\"1\",\"environment\":\"prod\","
              "\"service\":\"web\",\"at\":\"2023-12-31T23:50:00Z\",\"labels\":{\"cluster\":"
              "\"c1\"}}");
    h_feed(h, "{\"kind\":\"deploy\",\"name\":\"db\",\"version\":\"7\",\"environment\":\"prod\","
              "\"service\":\"db\",\"at\":\"2024-01-01T01:30:00Z\",\"labels\":{\"cluster\":"
              "\"c2\"}}");
    json_t *arr = h_incidents(h);
    assert_int_equal(json_array_size(arr), 2);
    snprintf(id1, 64, "%s", json_string_value(json_object_get(json_array_get(arr, 0), "id")));
    snprintf(id2, 64, "%s", json_string_value(json_object_get(json_array_get(arr, 1), "id")));
    json_decref(arr);
}

static json_t *one(harness_t *h, const char *id)
{
    char err[512];
    h_flush(h);
    json_t *o = corr_incident_json(h->st, id, err, sizeof err);
    if (!o)
        fail_msg("no incident %s: %s", id, err);
    return o;
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "(null)";
}

static void test_each_correction_kind(void **state)
{
    (void)state;
    harness_t h;
    char id1[64], id2[64];
    open_two(&h, id1, id2);
    /* set: every field */
    feed_free(&h, people_line("correction", id1, 600, "Ravi",
                              "\"reason\":\"restart\",\"set\":{"
                              "\"title\":\"Bad config\","
                              "\"severity\":\"SEV2\","
                              "\"commander\":\"Ravi\","
                              "\"roles\":{\"comms\":\"Jane\"},"
                              "\"users_impacted\":12}"));
    char times[512];
    snprintf(times, sizeof times,
             "\"set\":{\"started_at\":\"%s\",\"detected_at\":\"%s\",\"acknowledged_at\":\"%s\","
             "\"mitigated_at\":\"%s\",\"resolved_at\":\"%s\"}",
             T(-1), T(2), T(3), T(15), T(40));
    feed_free(&h, people_line("correction", id1, 601, "Ravi", times));
    json_t *o = one(&h, id1);
    assert_string_equal(str(o, "title"), "Bad config");
    assert_string_equal(str(o, "severity"), "SEV2");
    assert_string_equal(str(o, "lead"), "Ravi");
    assert_string_equal(str(json_object_get(o, "roles"), "comms"), "Jane");
    assert_int_equal(json_integer_value(json_object_get(o, "users_impacted")), 12);
    assert_string_equal(str(o, "started_at"), T(-1));
    assert_string_equal(str(o, "detected_at"), T(2));
    assert_string_equal(str(o, "acknowledged_at"), T(3));
    assert_string_equal(str(o, "mitigated_at"), T(15));
    assert_string_equal(str(o, "resolved_at"), T(40));
    const json_t *c = json_object_get(json_object_get(o, "corrections"), "mitigated_at");
    assert_string_equal(str(c, "derived"), T(20));
    assert_string_equal(str(c, "actor"), "Ravi");
    assert_string_equal(str(json_object_get(json_object_get(o, "corrections"), "title"), "reason"),
                        "restart");
    json_decref(o);

    /* suspect verdict */
    feed_free(&h, people_line("correction", id1, 602, "Ravi",
                              "\"suspect\":{\"deploy\":\"app@1\",\"verdict\":\"rejected\"}"));
    o = one(&h, id1);
    assert_string_equal(str(json_array_get(json_object_get(o, "suspects"), 0), "verdict"),
                        "rejected");
    json_decref(o);

    /* dismiss: out of the list, in it with --all */
    feed_free(&h, people_line("correction", id2, 603, "Jane", "\"dismiss\":\"test page\""));
    char err[512];
    h_flush(&h);
    json_t *arr = corr_incidents_json(h.st, err, sizeof err);
    assert_int_equal(json_array_size(arr), 1);
    json_decref(arr);
    arr = corr_incidents_json_all(h.st, true, err, sizeof err);
    assert_int_equal(json_array_size(arr), 2);
    assert_string_equal(str(json_array_get(arr, 1), "dismissed"), "test page");
    json_decref(arr);

    /* null unsets: the derived value is back */
    feed_free(&h, people_line("correction", id1, 604, "Ravi",
                              "\"set\":{\"mitigated_at\":null,\"roles\":{\"comms\":null}}"));
    feed_free(&h, people_line("correction", id2, 605, "Jane", "\"dismiss\":null"));
    o = one(&h, id1);
    assert_string_equal(str(o, "mitigated_at"), T(20));
    assert_null(json_object_get(o, "roles"));
    assert_null(json_object_get(json_object_get(o, "corrections"), "mitigated_at"));
    json_decref(o);
    arr = corr_incidents_json(h.st, err, sizeof err);
    assert_int_equal(json_array_size(arr), 2);
    json_decref(arr);

    /* merge by hand: id2 leaves the list, id1 names it */
    char merge[128];
    snprintf(merge, sizeof merge, "\"merge_into\":\"%s\"", id1);
    feed_free(&h, people_line("correction", id2, 606, "Jane", merge));
    arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 1);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(json_array_get(arr, 0), "merged"), 0)),
        id2);
    json_decref(arr);
    o = one(&h, id2);
    assert_string_equal(str(o, "merged_into"), id1);
    json_decref(o);
    h_close(&h);
}

/* Per field the latest (at, then event id) wins, in any arrival order,
 * however often each arrives; and refreshing again changes nothing. */
static void test_order_independent_and_idempotent(void **state)
{
    (void)state;
    char id1[64], id2[64];
    harness_t h;
    open_two(&h, id1, id2);
    h_close(&h);
    char *lines[5];
    lines[0] = people_line("correction", id1, 600, "A",
                           "\"set\":{\"title\":\"first\","
                           "\"severity\":\"SEV1\"}");
    lines[1] = people_line("correction", id1, 700, "B", "\"set\":{\"title\":\"latest\"}");
    lines[2] = people_line("correction", id1, 650, "C", "\"set\":{\"severity\":null}");
    lines[3] = people_line("action", id1, 600, "A",
                           "\"item\":\"AI-1\",\"task\":\"t1\",\"owner\":\"o\",\"status\":\"open\"");
    lines[4] = people_line("action", id1, 800, "B", "\"item\":\"AI-1\",\"status\":\"done\"");
    char *want = NULL;
    uint64_t s = 7;
    for (int round = 0; round < 40; round++) {
        open_two(&h, id1, id2);
        size_t order[5] = {0, 1, 2, 3, 4};
        for (size_t i = 5; i > 1; i--) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t j = (size_t)(s >> 33) % i, t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        for (size_t i = 0; i < 5; i++) {
            h_feed(&h, lines[order[i]]);
            if ((s >> 40) % 3 == 0)
                h_feed(&h, lines[order[i]]); /* a duplicate delivery */
        }
        json_t *arr = h_incidents(&h);
        char *got = content_of(arr);
        json_decref(arr);
        if (!want) {
            want = got;
            json_t *o = one(&h, id1);
            assert_string_equal(str(o, "title"), "latest");
            assert_null(json_object_get(o, "severity"));
            const json_t *a = json_array_get(json_object_get(o, "action_items"), 0);
            assert_string_equal(str(a, "status"), "done");
            assert_string_equal(str(a, "task"), "t1");
            assert_string_equal(str(a, "closed_at"), T(800));
            json_decref(o);
        } else {
            assert_string_equal(got, want);
            free(got);
        }
        /* idempotent: a refresh with nothing new changes nothing */
        char err[512];
        size_t before = corr_engine_changed_count(h.engine);
        assert_int_equal(store_begin(h.st, err, sizeof err), 0);
        assert_int_equal(corr_engine_flush(h.engine, err, sizeof err), 0);
        assert_int_equal(store_commit(h.st, err, sizeof err), 0);
        assert_int_equal(corr_engine_changed_count(h.engine), before);
        arr = h_incidents(&h);
        got = content_of(arr);
        assert_string_equal(got, want);
        free(got);
        json_decref(arr);
        h_close(&h);
    }
    free(want);
    for (int i = 0; i < 5; i++)
        free(lines[i]);
}

static void test_changes_are_changes(void **state)
{
    (void)state;
    char id1[64], id2[64];
    harness_t h;
    open_two(&h, id1, id2);
    corr_engine_changed_clear(h.engine);
    feed_free(&h, people_line("correction", id1, 600, "A", "\"set\":{\"title\":\"t\"}"));
    h_flush(&h);
    assert_int_equal(corr_engine_changed_count(h.engine), 1);
    assert_string_equal(corr_engine_changed_id(h.engine, 0), id1);
    h_close(&h);
}

/* A correction naming an incident that is not there attaches to the one
 * holding its `about` alerts; with neither it is kept as unattached. */
static void test_about_and_unattached(void **state)
{
    (void)state;
    char id1[64], id2[64];
    harness_t h;
    open_two(&h, id1, id2);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(h.st), corr_sql_episode_ends, -1, &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(s, 1, id2, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    char ident[64];
    snprintf(ident, sizeof ident, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    char about[256];
    snprintf(about, sizeof about,
             "\"set\":{\"title\":\"followed\"},\"about\":{\"rule\":\"old\",\"started_at\":\"%s\","
             "\"alerts\":[\"%s\"]}",
             T(100), ident);
    feed_free(&h, people_line("correction", "INC-20240101-gone", 600, "A", about));
    feed_free(&h, people_line("correction", "INC-20240101-nowhere", 601, "A",
                              "\"set\":{\"title\":\"lost\"}"));
    json_t *o = one(&h, id2);
    assert_string_equal(str(o, "title"), "followed");
    json_decref(o);
    assert_int_equal(
        sqlite3_prepare_v2(store_db(h.st), "SELECT incident FROM people_unattached", -1, &s, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "INC-20240101-nowhere");
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    h_close(&h);
}

/* Corrections that arrive before their incident (one naming its id, one
 * naming an id it never had but with its alerts in `about`), each batch a
 * record: they attach once the alerts come. */
static void test_correction_before_its_incident(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 1, 0);
    feed_free(&h, alert("A", 0, 20, PAGE));
    json_t *arr = h_incidents(&h);
    char id[64], ident[64];
    snprintf(id, sizeof id, "%s", str(json_array_get(arr, 0), "id"));
    json_decref(arr);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(h.st), corr_sql_episode_ends, -1, &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    snprintf(ident, sizeof ident, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    h_close(&h);

    /* by id */
    h_open(&h, ":memory:", RULES, 1, 0);
    feed_free(&h, people_line("correction", id, 600, "A", "\"set\":{\"title\":\"by id\"}"));
    h_flush(&h);
    arr = corr_incidents_json(h.st, NULL, 0);
    assert_int_equal(json_array_size(arr), 0);
    json_decref(arr);
    feed_free(&h, alert("A", 0, 20, PAGE));
    json_t *o = one(&h, id);
    assert_string_equal(str(o, "title"), "by id");
    json_decref(o);
    h_close(&h);

    /* by about alone */
    h_open(&h, ":memory:", RULES, 1, 0);
    char about[256];
    snprintf(
        about, sizeof about,
        "\"set\":{\"severity\":\"SEV1\"},\"about\":{\"started_at\":\"%s\",\"alerts\":[\"%s\"]}",
        T(0), ident);
    feed_free(&h, people_line("correction", "INC-20240101-elsewhere", 601, "A", about));
    feed_free(&h, alert("A", 0, 20, PAGE));
    o = one(&h, id);
    assert_string_equal(str(o, "severity"), "SEV1");
    json_decref(o);
    h_close(&h);
}

/* An incident renamed by an earlier alert keeps the correction made under
 * its old id (incident_aliases). */
static void test_alias_followed(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 1, 0);
    feed_free(&h, alert("A", 10, 20, PAGE));
    json_t *arr = h_incidents(&h);
    char old[64];
    snprintf(old, sizeof old, "%s", str(json_array_get(arr, 0), "id"));
    json_decref(arr);
    feed_free(&h, people_line("correction", old, 600, "A", "\"set\":{\"title\":\"kept\"}"));
    feed_free(&h, alert("B", 5, 15, PAGE)); /* earlier start: a new id */
    arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 1);
    const json_t *o = json_array_get(arr, 0);
    assert_string_not_equal(str(o, "id"), old);
    assert_string_equal(str(o, "title"), "kept");
    json_decref(arr);
    h_close(&h);
}

/* The change failure rate counts suspects no person rejected, until a
 * suspect of the period has a verdict; then confirmed ones only. Times,
 * dismissals and a corrected severity reach the figures. */
static void test_metrics(void **state)
{
    (void)state;
    char id1[64], id2[64];
    harness_t h;
    open_two(&h, id1, id2);
    char err[512];
    report_metrics_options_t mo = {.by = "severity", .since = AM_TIME_NONE, .until = AM_TIME_NONE};
    report_metrics_t *m = report_metrics_compute(h.st, &mo, err, sizeof err);
    json_t *j = report_metrics_json(m);
    const json_t *cf = json_object_get(j, "change_failure");
    assert_int_equal(json_integer_value(json_object_get(cf, "failed")), 2);
    assert_string_equal(str(cf, "basis"), "suspects");
    json_decref(j);
    report_metrics_destroy(m);

    feed_free(&h, people_line("correction", id1, 600, "A",
                              "\"suspect\":{\"deploy\":\"app@1\",\"verdict\":\"confirmed\"}"));
    feed_free(&h, people_line("correction", id2, 600, "A", "\"set\":{\"severity\":\"SEV3\"}"));
    h_flush(&h);
    m = report_metrics_compute(h.st, &mo, err, sizeof err);
    j = report_metrics_json(m);
    cf = json_object_get(j, "change_failure");
    assert_int_equal(json_integer_value(json_object_get(cf, "failed")), 1);
    assert_string_equal(str(cf, "basis"), "confirmed_suspects");
    const json_t *groups = json_object_get(j, "groups");
    bool sev3 = false;
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g) sev3 |= strcmp(str(g, "group"), "SEV3") == 0;
    assert_true(sev3);
    json_decref(j);
    report_metrics_destroy(m);

    char set[128];
    snprintf(set, sizeof set, "\"set\":{\"mitigated_at\":\"%s\"}", T(5));
    feed_free(&h, people_line("correction", id1, 601, "A", set));
    feed_free(&h, people_line("correction", id2, 601, "A", "\"dismiss\":\"drill\""));
    h_flush(&h);
    m = report_metrics_compute(h.st, NULL, err, sizeof err);
    j = report_metrics_json(m);
    const json_t *overall = json_object_get(j, "overall");
    assert_int_equal(json_integer_value(json_object_get(overall, "incidents")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(overall, "time_to_mitigate"), "p50_s")),
        300);
    json_decref(j);
    report_metrics_destroy(m);
    h_close(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_refusals),
        cmocka_unit_test(test_decode_shape),
        cmocka_unit_test(test_each_correction_kind),
        cmocka_unit_test(test_order_independent_and_idempotent),
        cmocka_unit_test(test_changes_are_changes),
        cmocka_unit_test(test_about_and_unattached),
        cmocka_unit_test(test_alias_followed),
        cmocka_unit_test(test_correction_before_its_incident),
        cmocka_unit_test(test_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
