/*
 * test_pages.c - PagerDuty behind Alertmanager (correlate/engine.c pages):
 * Alertmanager's PagerDuty integration sends dedup_key = sha256(groupKey),
 * PagerDuty's v3 webhooks carry it as incident_key, and aftermath learns
 * the group key from Alertmanager's webhooks (groupKey) and its event
 * recorder (groupInfo). PagerDuty's acks, notes (which name only
 * PagerDuty's incident id), reassignments and a person's resolve join the
 * incident of the alerts paged, under any group_by, in any order, with
 * duplicates; its triggers and a service's resolve are timeline lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "common/hash.h"
#include "corr_util.h"

/* sha256 of the group keys below, computed apart (Python hashlib). */
#define KEY_EU "{}:{cluster=\"eu-1\"}"
#define HASH_EU "2978ab2a88354adeb1b1f1678a72c2a89b36002de1aaa1bf69d127e119f04f21"
#define KEY_US "{}:{cluster=\"us-1\"}"
#define HASH_US "fcb551c8c4d53f0a70a0b459224701e6345e9c9a8cbe3700ec6019df9af687dd"

static void feed_free(harness_t *h, char *line)
{
    h_feed(h, line);
    free(line);
}

static void test_sha256(void **state)
{
    (void)state;
    char out[AM_SHA256_HEXLEN + 1];
    am_sha256_hex("abc", 3, out);
    assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    am_sha256_hex(KEY_EU, strlen(KEY_EU), out);
    assert_string_equal(out, HASH_EU);
    assert_true(am_is_sha256_hex(HASH_US));
    assert_false(am_is_sha256_hex("baf7cf21b1da41b4b0221008339ff357")); /* PagerDuty's own */
    assert_false(am_is_sha256_hex(NULL));
}

/* An Alertmanager webhook of one group: alerts "name:service" firing at
 * start (end < 0) or resolved at end. */
static char *webhook(const char *group_key, const char *cluster, const char *const *names, size_t n,
                     double start, double end)
{
    am_buf_t b = {0};
    json_t *k = json_string(group_key);
    char *quoted = json_dumps(k, JSON_ENCODE_ANY);
    json_decref(k);
    am_buf_printf(&b,
                  "{\"receiver\":\"pd-and-aftermath\",\"status\":\"%s\",\"groupKey\":%s,"
                  "\"version\":\"4\",\"alerts\":[",
                  end < 0 ? "firing" : "resolved", quoted);
    free(quoted);
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s", names[i]);
        char *service = strchr(name, ':');
        *service++ = '\0';
        am_buf_printf(&b,
                      "%s{\"status\":\"%s\",\"labels\":{\"alertname\":\"%s\",\"cluster\":\"%s\","
                      "\"service\":\"%s\",\"severity\":\"page\"},\"annotations\":{},"
                      "\"startsAt\":\"%s\",\"endsAt\":\"%s\"}",
                      i ? "," : "", end < 0 ? "firing" : "resolved", name, cluster, service,
                      T(start), end < 0 ? "0001-01-01T00:00:00Z" : T(end));
    }
    am_buf_printf(&b, "]}");
    return am_buf_steal(&b);
}

/* A PagerDuty v3 webhook of an incident (PagerDuty's documented shape);
 * key NULL: a note, which names only the incident id. */
static char *pd_v3(const char *event_id, const char *type, double at, const char *pd_id,
                   const char *key, const char *agent, const char *agent_type, const char *extra)
{
    am_buf_t b = {0};
    am_buf_printf(&b,
                  "{\"event\":{\"id\":\"%s\",\"event_type\":\"%s\",\"resource_type\":\"incident\","
                  "\"occurred_at\":\"%s\",\"agent\":{\"id\":\"PAGENT\",\"summary\":\"%s\","
                  "\"type\":\"%s\"},\"data\":",
                  event_id, type, T(at), agent, agent_type);
    if (key)
        am_buf_printf(&b,
                      "{\"id\":\"%s\",\"type\":\"incident\",\"number\":42,\"status\":\"triggered\","
                      "\"incident_key\":\"%s\",\"created_at\":\"%s\",\"title\":\"[FIRING:2] "
                      "DiskFull\",\"html_url\":\"https://acme.pagerduty.com/incidents/%s\","
                      "\"service\":{\"id\":\"PSVC\",\"summary\":\"Payments\"},\"urgency\":"
                      "\"high\"%s}}}",
                      pd_id, key, T(at), pd_id, extra ? extra : "");
    else
        am_buf_printf(&b,
                      "{\"id\":\"PNOTE%s\",\"type\":\"incident_note\",\"content\":\"%s\","
                      "\"incident\":{\"id\":\"%s\",\"type\":\"incident_reference\"}}}}",
                      event_id, extra, pd_id);
    return am_buf_steal(&b);
}

#define NLINES 12

/* The story: two clusters paged by Alertmanager; PagerDuty's events of
 * the eu-1 page (trigger, ack by Ann, a note, reassigned to Bob, Bob
 * resolves after the alerts resolved) and of the us-1 page (ack by Cid,
 * resolved by the integration). */
static void story(char *lines[NLINES])
{
    static const char *const eu[] = {"DiskFull:db", "HighLatency:api"};
    static const char *const us[] = {"DiskFull:db"};
    lines[0] = webhook(KEY_EU, "eu-1", eu, 2, 0, -1);
    lines[1] = webhook(KEY_US, "us-1", us, 1, 1, -1);
    lines[2] =
        pd_v3("E1", "incident.triggered", 1, "PEU", HASH_EU, "Payments", "service_reference", NULL);
    lines[3] =
        pd_v3("E2", "incident.acknowledged", 4, "PEU", HASH_EU, "Ann", "user_reference", NULL);
    lines[4] = pd_v3("E3", "incident.annotated", 5, "PEU", NULL, "Ann", "user_reference",
                     "disk at 99%, cleaning up");
    lines[5] = pd_v3("E4", "incident.reassigned", 6, "PEU", HASH_EU, "Ann", "user_reference",
                     ",\"assignees\":[{\"id\":\"PBOB\",\"summary\":\"Bob\",\"type\":"
                     "\"user_reference\"}]");
    lines[6] =
        pd_v3("E5", "incident.acknowledged", 3, "PUS", HASH_US, "Cid", "user_reference", NULL);
    lines[7] = webhook(KEY_EU, "eu-1", eu, 2, 0, 20);
    lines[8] = webhook(KEY_US, "us-1", us, 1, 1, 15);
    lines[9] = pd_v3("E6", "incident.resolved", 30, "PEU", HASH_EU, "Bob", "user_reference", NULL);
    lines[10] =
        pd_v3("E7", "incident.resolved", 16, "PUS", HASH_US, "Payments", "service_reference", NULL);
    lines[11] = pd_v3("E8", "incident.status_update_published", 7, "PEU", NULL, "Bob",
                      "user_reference", "Mitigation in progress");
}

static int count_links(harness_t *h, const char *incident, const char *role)
{
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(h->st),
                                        "SELECT count(*) FROM incident_events WHERE incident = ?1 "
                                        "AND role = ?2",
                                        -1, &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(s, 1, incident, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, role, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return n;
}

static const char *str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "(null)";
}

/* The incident of cluster c in arr. */
static const json_t *of_cluster(const json_t *arr, const char *c)
{
    size_t i;
    const json_t *o;
    json_array_foreach(arr, i, o)
    {
        const char *k = json_string_value(json_object_get(json_object_get(o, "key"), "cluster"));
        if (k && strcmp(k, c) == 0)
            return o;
    }
    return NULL;
}

static const char *const rules_by[] = {
    "    group_by: [cluster]\n",
    "    group_by: [cluster, service]\n",
    "    group_by: [service]\n",
};

static char *rules_yaml(size_t k)
{
    am_buf_t b = {0};
    am_buf_printf(&b,
                  "version: 1\nrules:\n  - name: r\n    match: ['severity=\"page\"']\n%s"
                  "    gap: 10m\n    quiet: 5m\n",
                  rules_by[k]);
    return am_buf_steal(&b);
}

/* Feeds lines in perm order (each twice when dup) and returns incidents. */
static json_t *run_story(const char *rules, char *const *lines, const int *perm, bool dup,
                         harness_t *keep)
{
    harness_t h;
    h_open(&h, ":memory:", rules, 3, 0);
    for (size_t i = 0; i < NLINES; i++) {
        h_feed(&h, lines[perm[i]]);
        if (dup)
            h_feed(&h, lines[perm[i]]);
    }
    json_t *arr = h_incidents(&h);
    if (keep)
        *keep = h;
    else
        h_close(&h);
    return arr;
}

static void test_joins_by_page(void **state)
{
    (void)state;
    char *lines[NLINES];
    story(lines);
    static const int forward[NLINES] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    harness_t h;
    char *rules = rules_yaml(0);
    json_t *arr = run_story(rules, lines, forward, false, &h);
    /* the PagerDuty triggers and resolves are no alerts of their own */
    assert_int_equal(json_array_size(arr), 2);
    const json_t *eu = of_cluster(arr, "eu-1"), *us = of_cluster(arr, "us-1");
    assert_non_null(eu);
    assert_non_null(us);
    assert_int_equal(json_integer_value(json_object_get(eu, "alerts")), 2);
    assert_string_equal(str(eu, "acknowledged_at"), T(4));
    assert_string_equal(str(eu, "lead"), "Bob"); /* reassigned: beats the first acker */
    assert_string_equal(str(eu, "mitigated_at"), T(20));
    assert_string_equal(str(eu, "resolved_at"), T(30)); /* Bob resolved it */
    assert_string_equal(str(us, "acknowledged_at"), T(3));
    assert_string_equal(str(us, "lead"), "Cid");
    assert_string_equal(str(us, "resolved_at"),
                        T(20)); /* 15 + quiet: the service's resolve is a line */
    /* ack, the note and the status update (by PagerDuty's id), the
     * reassignment, the trigger and the resolve lines */
    assert_int_equal(count_links(&h, str(eu, "id"), "ack"), 1);
    assert_int_equal(count_links(&h, str(eu, "id"), "note"), 5);
    assert_int_equal(count_links(&h, str(us, "id"), "note"), 1);
    json_decref(arr);
    h_close(&h);
    free(rules);
    for (size_t i = 0; i < NLINES; i++)
        free(lines[i]);
}

/* Every grouping, several orders (PagerDuty before Alertmanager, notes
 * before the event that names their key), duplicates: the same incidents. */
static void test_any_grouping_any_order(void **state)
{
    (void)state;
    char *lines[NLINES];
    story(lines);
    static const int orders[][NLINES] = {
        {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
        {4, 11, 9, 5, 3, 2, 6, 10, 0, 7, 1, 8}, {2, 3, 4, 5, 6, 9, 10, 11, 8, 7, 1, 0},
        {7, 8, 0, 1, 4, 11, 5, 9, 3, 10, 6, 2},
    };
    for (size_t k = 0; k < sizeof rules_by / sizeof rules_by[0]; k++) {
        char *rules = rules_yaml(k);
        char *want = NULL;
        for (size_t o = 0; o < sizeof orders / sizeof orders[0]; o++) {
            for (int dup = 0; dup < 2; dup++) {
                json_t *arr = run_story(rules, lines, orders[o], dup, NULL);
                /* every grouping: Ann acked first, Bob leads, Bob's resolve */
                size_t i;
                const json_t *inc;
                int bob = 0;
                json_array_foreach(arr, i, inc)
                {
                    if (strcmp(str(inc, "lead"), "Bob") == 0) {
                        bob++;
                        /* by service, us-1's DiskFull (Cid's ack at 3) joins eu-1's */
                        assert_string_equal(str(inc, "acknowledged_at"), T(k == 2 ? 3 : 4));
                        assert_string_equal(str(inc, "resolved_at"), T(30));
                    }
                }
                assert_int_equal(bob, 1);
                char *got = content_of(arr);
                json_decref(arr);
                if (!want)
                    want = got;
                else {
                    if (strcmp(want, got) != 0)
                        fail_msg("rules %zu order %zu dup %d differs:\n%s\n%s", k, o, dup, want,
                                 got);
                    free(got);
                }
            }
        }
        free(want);
        free(rules);
    }
    for (size_t i = 0; i < NLINES; i++)
        free(lines[i]);
}

/* A person's resolve before the alerts resolved is a timeline line only;
 * an alert that fires again after a person's resolve reopens the
 * incident. */
static void test_person_resolve_bounds(void **state)
{
    (void)state;
    static const char *const eu[] = {"DiskFull:db"};
    char *rules = rules_yaml(0);
    harness_t h;
    h_open(&h, ":memory:", rules, 1, 0);
    feed_free(&h, webhook(KEY_EU, "eu-1", eu, 1, 0, -1));
    feed_free(&h,
              pd_v3("R1", "incident.resolved", 5, "PEU", HASH_EU, "Bob", "user_reference", NULL));
    json_t *arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 1);
    assert_string_equal(str(json_array_get(arr, 0), "status"), "open");
    assert_true(json_is_null(json_object_get(json_array_get(arr, 0), "resolved_at")));
    json_decref(arr);
    /* the alert resolves at 10: mitigated 10, resolved 15 (quiet), not 5 */
    feed_free(&h, webhook(KEY_EU, "eu-1", eu, 1, 0, 10));
    arr = h_incidents(&h);
    assert_string_equal(str(json_array_get(arr, 0), "resolved_at"), T(15));
    json_decref(arr);
    /* Bob resolves at 40 (after mitigation): resolved_at 40 */
    feed_free(&h,
              pd_v3("R2", "incident.resolved", 40, "PEU", HASH_EU, "Bob", "user_reference", NULL));
    arr = h_incidents(&h);
    assert_string_equal(str(json_array_get(arr, 0), "resolved_at"), T(40));
    json_decref(arr);
    /* it fires again at 12 (within gap of 10): reopened, Bob's resolve is
     * before nothing any more: open */
    static const char *const again[] = {"HighLatency:api"};
    feed_free(&h, webhook(KEY_EU, "eu-1", again, 1, 12, -1));
    arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 1);
    assert_string_equal(str(json_array_get(arr, 0), "status"), "open");
    assert_true(json_is_null(json_object_get(json_array_get(arr, 0), "resolved_at")));
    json_decref(arr);
    h_close(&h);
    free(rules);
}

/* Without a page (a PagerDuty incident of another integration, key not a
 * group key's hash) the service-label path stays: its trigger is an
 * alert. */
static void test_other_integrations_unchanged(void **state)
{
    (void)state;
    static const char *const rules =
        "version: 1\nrules:\n  - name: pd\n    match: ['urgency=\"high\"']\n"
        "    group_by: [service]\n"
        "    gap: 10m\n    quiet: 5m\n";
    harness_t h;
    h_open(&h, ":memory:", rules, 1, 0);
    feed_free(&h, pd_v3("O1", "incident.triggered", 0, "POTHER", "baf7cf21b1da41b4b0221008339ff357",
                        "Payments", "service_reference", NULL));
    feed_free(&h, pd_v3("O2", "incident.acknowledged", 2, "POTHER",
                        "baf7cf21b1da41b4b0221008339ff357", "Dee", "user_reference", NULL));
    json_t *arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0), "alerts")), 1);
    assert_string_equal(str(json_array_get(arr, 0), "lead"), "Dee");
    json_decref(arr);
    h_close(&h);
}

/* The event recorder's notification names the page by groupInfo.groupId
 * (the hash itself) or groupKey. */
static void test_event_recorder_page(void **state)
{
    (void)state;
    char *rules = rules_yaml(0);
    harness_t h;
    h_open(&h, ":memory:", rules, 1, 0);
    char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"@timestamp\":\"%s\",\"data\":{\"notification\":{\"groupInfo\":{\"groupKey\":"
             "\"%s\",\"groupId\":\"%s\",\"receiverName\":\"pd\"},\"integration\":{\"name\":"
             "\"pagerduty\"},\"alerts\":[{\"details\":{\"labels\":{\"alertname\":\"DiskFull\","
             "\"cluster\":\"eu-1\",\"severity\":\"page\"},\"startsAt\":\"%s\"}}]}}}",
             T(1), "{}:{cluster=\\\"eu-1\\\"}", HASH_EU, T(0));
    h_feed(&h, buf);
    feed_free(
        &h, pd_v3("A1", "incident.acknowledged", 3, "PEU", HASH_EU, "Ann", "user_reference", NULL));
    json_t *arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 1);
    assert_string_equal(str(json_array_get(arr, 0), "lead"), "Ann");
    assert_string_equal(str(json_array_get(arr, 0), "acknowledged_at"), T(3));
    json_decref(arr);
    h_close(&h);
    free(rules);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_joins_by_page),
        cmocka_unit_test(test_any_grouping_any_order),
        cmocka_unit_test(test_person_resolve_bounds),
        cmocka_unit_test(test_other_integrations_unchanged),
        cmocka_unit_test(test_event_recorder_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
