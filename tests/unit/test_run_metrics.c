/*
 * test_run_metrics.c - the registry of `aftermath run` (run/registry.c) and
 * its HTTP endpoint (run/endpoint.c on run/http.c): counts follow committed batches only
 * (a rolled-back batch counts nothing), refusals by class, lag per
 * partition (none when unknown), the health states and the HTTP status
 * rule, the incident histograms loaded from the store then fed once per
 * incident, and the server's answers (200, 503, 404, 405, HEAD, a taken
 * address). Every exposition goes through the format parser of
 * prom_parse.h.
 *
 * With --print-sample it prints a filled registry's exposition instead,
 * for `promtool check metrics` (tests/cli/promtool_check.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "run/endpoint.h"
#include "run/registry.h"
#include "corr_util.h"
#include "prom_parse.h"

#define STARTED 1700000000123LL

static const char *const RULES = "version: 1\n"
                                 "rules:\n"
                                 "  - name: r\n"
                                 "    match: ['severity=\"page\"']\n"
                                 "    group_by: [cluster]\n"
                                 "    gap: 30m\n"
                                 "    quiet: 10m\n";

static char *scrape(run_registry_t *m)
{
    am_buf_t b = {0};
    run_registry_publish(m);
    run_registry_scrape(m, &b);
    validate(b.p);
    return am_buf_steal(&b);
}

/* Feeds a registry a rolled-back batch, then a committed one, and a view
 * of two partitions. */
static void fill(run_registry_t *m)
{
    run_stats_t s = {0};
    run_registry_record(m, "alerts");
    run_registry_record(m, "alerts");
    run_registry_reject(m, "invalid JSON at line 1 column 2: x");
    s.stored = 2;
    run_registry_failed(m, &s, "database is locked");
    /* written again: these count */
    run_registry_record(m, "alerts");
    run_registry_record(m, "alerts");
    run_registry_record(m, "deploys");
    run_registry_reject(m, "invalid JSON at line 1 column 2: x");
    run_registry_reject(m, INGEST_REASON_NULL);
    s.stored += 5;
    s.duplicates += 2;
    run_registry_committed(m, &s, 0.003);
    const ingest_kafka_part_view_t parts[] = {
        {"alerts", 0, 10, 12},
        {"alerts", 1, -1, 5}, /* nothing stored yet: lag unknown */
        {"deploys", 0, 7, 7},
    };
    ingest_kafka_view_t v = {.parts = parts,
                             .nparts = 3,
                             .joined = 1,
                             .brokers_up = 1,
                             .brokers_down_since = AM_TIME_NONE};
    run_registry_consumer(m, &v);
}

static void test_counts(void **state)
{
    (void)state;
    run_registry_t *m = run_registry_create("1.2.3", STARTED);
    char *t = scrape(m);
    /* before anything: the families, zero refusals per class */
    assert_true(value_of(t, "aftermath_records_rejected_total{reason=\"null\"}") == 0);
    assert_null(strstr(t, "aftermath_records_consumed_total{"));
    assert_null(strstr(t, "\naftermath_incidents_open ")); /* unknown before load */
    free(t);

    fill(m);
    t = scrape(m);
    assert_true(value_of(t, "aftermath_build_info{version=\"1.2.3\"}") == 1);
    assert_true(value_of(t, "process_start_time_seconds") == 1700000000.123);
    assert_true(value_of(t, "aftermath_records_consumed_total{topic=\"alerts\"}") == 2);
    assert_true(value_of(t, "aftermath_records_consumed_total{topic=\"deploys\"}") == 1);
    assert_true(value_of(t, "aftermath_records_rejected_total{reason=\"invalid_json\"}") == 1);
    assert_true(value_of(t, "aftermath_records_rejected_total{reason=\"null\"}") == 1);
    assert_true(value_of(t, "aftermath_records_rejected_total{reason=\"too_large\"}") == 0);
    assert_true(value_of(t, "aftermath_events_stored_total") == 5);
    assert_true(value_of(t, "aftermath_duplicate_events_total") == 2);
    assert_true(value_of(t, "aftermath_batches_committed_total") == 1);
    assert_true(value_of(t, "aftermath_store_errors_total") == 1);
    assert_true(value_of(t, "aftermath_batch_commit_duration_seconds_bucket{le=\"0.0025\"}") == 0);
    assert_true(value_of(t, "aftermath_batch_commit_duration_seconds_bucket{le=\"0.005\"}") == 1);
    assert_true(value_of(t, "aftermath_batch_commit_duration_seconds_count") == 1);
    assert_true(value_of(t, "aftermath_consumer_lag{topic=\"alerts\",partition=\"0\"}") == 2);
    assert_true(value_of(t, "aftermath_consumer_lag{topic=\"deploys\",partition=\"0\"}") == 0);
    assert_null(strstr(t, "partition=\"1\""));
    assert_true(value_of(t, "aftermath_kafka_brokers_up") == 1);
    assert_non_null(strstr(t, "aftermath_last_batch_commit_timestamp_seconds "));
    free(t);
    run_registry_destroy(m);
}

/* The health document and its verdict at now. */
static int health(run_registry_t *m, int64_t now, const char *want_state)
{
    am_buf_t b = {0};
    run_registry_publish(m);
    int ok = run_registry_health(m, now, &b);
    json_error_t je;
    json_t *doc = json_loads(b.p, 0, &je);
    if (!doc)
        fail_msg("health is not JSON: %s: %s", je.text, b.p);
    assert_string_equal(json_string_value(json_object_get(doc, "state")), want_state);
    assert_int_equal(json_is_true(json_object_get(doc, "healthy")), ok);
    json_decref(doc);
    am_buf_free(&b);
    return ok;
}

static void test_health(void **state)
{
    (void)state;
    run_registry_t *m = run_registry_create("1", STARTED);
    int64_t now = am_wall_ms();
    assert_false(health(m, now, "starting"));
    fill(m);
    assert_true(health(m, now, "consuming"));
    /* the assignment, with lag */
    am_buf_t b = {0};
    run_registry_health(m, now, &b);
    assert_non_null(strstr(b.p, "{\"end_offset\":12,\"lag\":2,\"next_offset\":10,\"partition\":0,"
                                "\"topic\":\"alerts\"}"));
    assert_non_null(strstr(b.p, "\"lag\":null"));
    am_buf_free(&b);
    /* no snapshot for longer than RUN_REGISTRY_STALE_MS: unhealthy */
    assert_false(health(m, am_wall_ms() + RUN_REGISTRY_STALE_MS + 1000, "consuming"));
    /* brokers down */
    ingest_kafka_view_t v = {.joined = 1, .brokers_down_since = now - 5000};
    run_registry_consumer(m, &v);
    assert_false(health(m, now, "broker_down"));
    v = (ingest_kafka_view_t){.joined = 1, .brokers_up = 1, .brokers_down_since = AM_TIME_NONE};
    run_registry_consumer(m, &v);
    assert_true(health(m, now, "consuming"));
    /* the store fails, then a batch commits again */
    run_stats_t s = {0};
    run_registry_failed(m, &s, "disk I/O error");
    assert_false(health(m, now, "store_error"));
    run_registry_committed(m, &s, 0.1);
    assert_true(health(m, now, "consuming"));
    run_registry_stopping(m);
    assert_false(health(m, now, "stopping"));
    run_registry_destroy(m);
}

/* Role view: the incidents waiting for parts and the stale documents, in
 * /metrics and /healthz, only once the registry is a view's; the view
 * stays healthy while incidents wait. */
static void test_view(void **state)
{
    (void)state;
    run_registry_t *m = run_registry_create("1", STARTED);
    fill(m);
    char *text = scrape(m);
    assert_null(strstr(text, "aftermath_view_"));
    free(text);
    int64_t now = am_wall_ms();
    am_buf_t b = {0};
    run_registry_health(m, now, &b);
    assert_null(strstr(b.p, "\"view\""));
    am_buf_free(&b);
    run_registry_view(m, 2, 1700000000500LL, "INC-20231114-abc", 3);
    text = scrape(m);
    assert_non_null(strstr(text, "\naftermath_view_incidents_waiting 2\n"));
    assert_non_null(
        strstr(text, "\naftermath_view_incident_waiting_since_timestamp_seconds 1700000000.500\n"));
    assert_non_null(strstr(text, "\naftermath_view_stale_documents_total 3\n"));
    free(text);
    assert_true(health(m, now, "consuming"));
    run_registry_health(m, now, &b);
    assert_non_null(strstr(b.p, "\"view\":{\"incidents_waiting\":2,\"oldest_waiting\":"
                                "\"INC-20231114-abc\",\"stale_documents\":3,\"waiting_since\":"
                                "\"2023-11-14T22:13:20.500Z\"}"));
    am_buf_free(&b);
    /* complete again: no time, no incident */
    run_registry_view(m, 0, 1700000000500LL, "INC-20231114-abc", 3);
    text = scrape(m);
    assert_non_null(strstr(text, "\naftermath_view_incidents_waiting 0\n"));
    assert_null(strstr(text, "\naftermath_view_incident_waiting_since_timestamp_seconds "));
    free(text);
    run_registry_health(m, now, &b);
    assert_non_null(strstr(b.p, "\"view\":{\"incidents_waiting\":0,\"oldest_waiting\":null,"
                                "\"stale_documents\":3,\"waiting_since\":null}"));
    am_buf_free(&b);
    run_registry_destroy(m);
}

static void feed_free_at(harness_t *h, char *line, double observed)
{
    h_feed_at(h, line, observed);
    free(line);
}

/* Calls run_registry_incident for every incident of the store. */
static void observe_all(run_registry_t *m, harness_t *h)
{
    char err[512];
    json_t *arr = h_incidents(h), *inc;
    size_t i;
    json_array_foreach(arr, i, inc)
    {
        assert_int_equal(run_registry_incident(m, h->st,
                                               json_string_value(json_object_get(inc, "id")), err,
                                               sizeof err),
                         0);
    }
    json_decref(arr);
    assert_int_equal(run_registry_count_open(m, h->st, err, sizeof err), 0);
}

static void test_incidents(void **state)
{
    (void)state;
    harness_t h;
    char err[512];
    h_open(&h, ":memory:", RULES, 100, 0);
    /* one incident on web, detected after 2 min, resolved; one still open */
    feed_free_at(
        &h, alert("A", 0, 10, "\"severity\":\"page\",\"cluster\":\"c1\",\"service\":\"web\""), 2);
    feed_free_at(
        &h, alert("B", 10000, -1, "\"severity\":\"page\",\"cluster\":\"c2\",\"service\":\"db\""),
        10000);
    json_decref(h_incidents(&h));

    run_registry_t *m = run_registry_create("1", STARTED);
    assert_int_equal(run_registry_load(m, h.st, err, sizeof err), 0);
    char *t = scrape(m);
    const char *web = "aftermath_incident_time_to_detect_seconds_count{service=\"web\",rule=\"r\"}";
    assert_true(value_of(t, web) == 1);
    assert_true(value_of(t, "aftermath_incidents_open") == 1);
    assert_null(strstr(t, "service=\"db\""));
    free(t);

    /* the loaded incident is not observed again; B resolves and is observed
     * once, however often it is reported */
    observe_all(m, &h);
    feed_free_at(&h,
                 alert("B", 10000, 10030,
                       "\"severity\":\"page\",\"cluster\":\"c2\",\"service\":"
                       "\"db\""),
                 10030);
    feed_free_at(&h,
                 alert("C", 20000, -1,
                       "\"severity\":\"page\",\"cluster\":\"c3\",\"service\":"
                       "\"x\""),
                 20000);
    observe_all(m, &h);
    observe_all(m, &h);
    t = scrape(m);
    assert_true(value_of(t, web) == 1);
    assert_true(value_of(t, "aftermath_incident_time_to_detect_seconds_count{service=\"db\","
                            "rule=\"r\"}") == 1);
    assert_true(value_of(t, "aftermath_incidents_open") == 1); /* C */
    free(t);
    run_registry_destroy(m);
    h_close(&h);
}

/* The people's record, counted apart: incidents corrected, action items
 * by status, overdue and the median time to close. */
static void test_followups(void **state)
{
    (void)state;
    harness_t h;
    char err[512];
    h_open(&h, ":memory:", RULES, 100, 0);
    feed_free_at(
        &h, alert("A", 0, 10, "\"severity\":\"page\",\"cluster\":\"c1\",\"service\":\"web\""), 2);
    json_t *arr = h_incidents(&h);
    const char *id = json_string_value(json_object_get(json_array_get(arr, 0), "id"));
    char line[512];
    snprintf(line, sizeof line,
             "{\"kind\":\"correction\",\"incident\":\"%s\",\"at\":\"%s\",\"actor\":\"a\","
             "\"set\":{\"title\":\"t\"}}",
             id, T(100));
    h_feed(&h, line);
    snprintf(line, sizeof line,
             "{\"kind\":\"action\",\"incident\":\"%s\",\"item\":\"AI-1\",\"at\":\"%s\","
             "\"actor\":\"a\",\"task\":\"x\",\"due\":\"2024-01-02\"}",
             id, T(100));
    h_feed(&h, line);
    snprintf(line, sizeof line,
             "{\"kind\":\"action\",\"incident\":\"%s\",\"item\":\"AI-2\",\"at\":\"%s\","
             "\"actor\":\"a\",\"task\":\"y\"}",
             id, T(100));
    h_feed(&h, line);
    snprintf(line, sizeof line,
             "{\"kind\":\"action\",\"incident\":\"%s\",\"item\":\"AI-2\",\"at\":\"%s\","
             "\"actor\":\"a\",\"status\":\"done\"}",
             id, T(100 + 24 * 60));
    h_feed(&h, line);
    json_decref(arr);
    json_decref(h_incidents(&h));
    run_registry_t *m = run_registry_create("1", STARTED);
    assert_int_equal(run_registry_load(m, h.st, err, sizeof err), 0);
    char *t = scrape(m);
    assert_true(value_of(t, "aftermath_incidents_corrected") == 1);
    assert_true(value_of(t, "aftermath_action_items{status=\"open\"}") == 1);
    assert_true(value_of(t, "aftermath_action_items{status=\"done\"}") == 1);
    assert_true(value_of(t, "aftermath_action_items_overdue") == 1); /* due 2024-01-02 */
    assert_true(value_of(t, "aftermath_action_items_close_seconds_p50") == 86400);
    free(t);
    run_registry_destroy(m);
    h_close(&h);
}

/* One HTTP/1.0 exchange with addr ("127.0.0.1:PORT"); returns the status
 * code and the whole response in resp. */
static int http(const char *addr, const char *request, char *resp, size_t resplen)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    const char *colon = strrchr(addr, ':');
    sa.sin_port = htons((uint16_t)atoi(colon + 1));
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(write(fd, request, strlen(request)), (ssize_t)strlen(request));
    size_t n = 0;
    ssize_t r;
    while (n + 1 < resplen && (r = read(fd, resp + n, resplen - n - 1)) > 0)
        n += (size_t)r;
    resp[n] = '\0';
    close(fd);
    int code = 0;
    if (sscanf(resp, "HTTP/1.%*d %d", &code) != 1)
        fail_msg("no status line: %s", resp);
    return code;
}

static void test_http(void **state)
{
    (void)state;
    static char resp[1 << 16];
    char err[512];
    run_registry_t *m = run_registry_create("1", STARTED);
    run_endpoint_t *h = run_endpoint_start("127.0.0.1:0", m, NULL, err, sizeof err);
    if (!h)
        fail_msg("start: %s", err);
    const char *addr = run_endpoint_address(h);
    assert_true(strncmp(addr, "127.0.0.1:", 10) == 0 && strcmp(addr, "127.0.0.1:0") != 0);

    assert_int_equal(http(addr, "GET /metrics HTTP/1.0\r\n\r\n", resp, sizeof resp), 200);
    assert_non_null(strstr(resp, "Content-Type: text/plain; version=0.0.4"));
    char *body = strstr(resp, "\r\n\r\n");
    assert_non_null(body);
    validate(body + 4);
    assert_true(value_of(body + 4, "aftermath_build_info{version=\"1\"}") == 1);
    assert_int_equal(http(addr, "HEAD /metrics HTTP/1.0\r\n\r\n", resp, sizeof resp), 200);
    assert_null(strstr(resp, "aftermath_build_info"));
    assert_int_equal(http(addr, "GET /healthz HTTP/1.0\r\n\r\n", resp, sizeof resp), 503);
    assert_non_null(strstr(resp, "\"state\":\"starting\""));
    fill(m);
    run_registry_publish(m);
    assert_int_equal(http(addr, "GET /healthz HTTP/1.0\r\n\r\n", resp, sizeof resp), 200);
    assert_non_null(strstr(resp, "application/json"));
    assert_int_equal(http(addr, "GET / HTTP/1.0\r\n\r\n", resp, sizeof resp), 404);
    assert_int_equal(http(addr, "GET /metricsx HTTP/1.0\r\n\r\n", resp, sizeof resp), 404);
    assert_int_equal(
        http(addr, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n", resp, sizeof resp), 405);
    assert_non_null(strstr(resp, "Allow: GET, HEAD"));

    /* the address is taken: a clear error, no server */
    char taken[RUN_HTTP_ADDRLEN];
    snprintf(taken, sizeof taken, "%s", addr);
    assert_null(run_endpoint_start(taken, m, NULL, err, sizeof err));
    assert_non_null(strstr(err, "cannot listen on"));
    assert_non_null(strstr(err, "Address already in use"));
    run_endpoint_stop(h);

    assert_null(run_endpoint_start("no-such-host.invalid:1", m, NULL, err, sizeof err));
    assert_non_null(strstr(err, "cannot resolve"));
    run_registry_destroy(m);
}

static void test_parse_addr(void **state)
{
    (void)state;
    char host[RUN_HTTP_HOSTLEN], err[256];
    int port;
    assert_int_equal(run_http_parse_addr("0.0.0.0:10791", host, &port, err, sizeof err), 0);
    assert_string_equal(host, "0.0.0.0");
    assert_int_equal(port, 10791);
    assert_int_equal(run_http_parse_addr("[::]:10791", host, &port, err, sizeof err), 0);
    assert_string_equal(host, "::");
    assert_int_equal(run_http_parse_addr("localhost:0", host, &port, err, sizeof err), 0);
    assert_int_equal(port, 0);
    static const char *const bad[] = {":1",     "h",        "h:",      "h:-1", "h:65536",
                                      "::1:80", "[::1]:",   "[::1]80", "h:1x", "[]:1",
                                      "h:1:2",  "h:123456", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (run_http_parse_addr(bad[i], host, &port, err, sizeof err) == 0)
            fail_msg("'%s' accepted", bad[i]);
}

/* A registry with every kind of series, for promtool. */
static int print_sample(void)
{
    harness_t h;
    char err[512];
    h_open(&h, ":memory:", RULES, 100, 0);
    feed_free_at(
        &h, alert("A", 0, 10, "\"severity\":\"page\",\"cluster\":\"c1\",\"service\":\"web\""), 2);
    feed_free_at(&h,
                 alert("D", 10000, 10001,
                       "\"severity\":\"page\",\"cluster\":\"c3\",\"service\":\"a\\\"b\\\\c\""),
                 10000);
    feed_free_at(
        &h, alert("B", 20000, -1, "\"severity\":\"page\",\"cluster\":\"c2\",\"service\":\"db\""),
        20000);
    json_decref(h_incidents(&h));
    run_registry_t *m = run_registry_create(AFTERMATH_VERSION, STARTED);
    if (run_registry_load(m, h.st, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    fill(m);
    run_registry_view(m, 1, STARTED + 1000, "INC-20240618-dfrra268m3", 2);
    run_registry_publish(m);
    am_buf_t b = {0};
    run_registry_scrape(m, &b);
    fputs(b.p, stdout);
    am_buf_free(&b);
    run_registry_destroy(m);
    h_close(&h);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--print-sample") == 0)
        return print_sample();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),     cmocka_unit_test(test_health),
        cmocka_unit_test(test_incidents),  cmocka_unit_test(test_http),
        cmocka_unit_test(test_parse_addr), cmocka_unit_test(test_followups),
        cmocka_unit_test(test_view),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
