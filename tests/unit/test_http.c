/*
 * test_http.c - the HTTP server of run/http.c under clients that try to
 * hold it (STYLE.md rule 26, docs/http.md): the route lookup, body
 * limits, and over real sockets from several loopback addresses
 * (127.0.0.2 and up are on loopback): /healthz answers while 72
 * connections from 9 addresses sit on a half-sent request (the probe
 * that silenced the old server), a connection trickling its headers or
 * its body is closed by the absolute deadline although it never goes
 * idle, an address at its share makes room among its own waiting
 * connections and is refused only when all are mid-request, while other
 * addresses are served, and a full pool evicts a waiting connection but
 * never a request in progress. Every wait is bounded and generous: a test
 * asserts what the server did (answered, closed), never how fast.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "run/endpoint.h"
#include "run/http.h"
#include "run/registry.h"

/* Generous bound on any wait for the server: it acts within a deadline of
 * 1 s plus a 100 ms turn; 15 s absorbs a loaded machine. */
#define PATIENCE_MS 15000

static int port_of(const char *addr)
{
    return atoi(strrchr(addr, ':') + 1);
}

/* A connection from src (a loopback address) to 127.0.0.1:port, or -1. */
static int dial(const char *src, int port)
{
    struct sockaddr_in me = {.sin_family = AF_INET}, to = {.sin_family = AF_INET};
    inet_pton(AF_INET, src, &me.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    to.sin_port = htons((uint16_t)port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&me, sizeof me) != 0 ||
        connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void send_all(int fd, const char *s, size_t len)
{
    assert_int_equal(send(fd, s, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Reads fd until the server closes it: the status code of what it sent
 * (resp receives the response), 0 when it closed without a status line;
 * fails the test when nothing happens within PATIENCE_MS. */
static int answer(int fd, char *resp, size_t resplen)
{
    size_t n = 0;
    resp[0] = '\0';
    for (int waited = 0; waited < PATIENCE_MS; waited += 100) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) == 0)
            continue;
        ssize_t r = read(fd, resp + n, resplen - n - 1);
        if (r <= 0) {
            int code = 0;
            resp[n] = '\0';
            if (sscanf(resp, "HTTP/1.%*d %d", &code) != 1)
                code = 0;
            return code;
        }
        n += (size_t)r;
        assert_true(n + 1 < resplen);
    }
    fail_msg("the server neither answered nor closed within %d ms", PATIENCE_MS);
    return -1;
}

/* One HTTP/1.0 exchange from src; returns the status (0: closed without
 * one). */
static int request(const char *src, int port, const char *req, char *resp, size_t resplen)
{
    int fd = dial(src, port);
    assert_true(fd >= 0);
    send_all(fd, req, strlen(req));
    int code = answer(fd, resp, resplen);
    close(fd);
    return code;
}

/* Sends one more byte of `more` every 200 ms (wrapping around) until the
 * server closes fd; returns 1 when it did, 0 when it was still open after
 * PATIENCE_MS. The connection is never idle for more than 200 ms. */
static int trickle_until_closed(int fd, const char *more)
{
    size_t i = 0, len = strlen(more);
    char scratch[4096];
    for (int waited = 0; waited < PATIENCE_MS; waited += 200) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 200) > 0) {
            ssize_t r = read(fd, scratch, sizeof scratch);
            if (r <= 0)
                return 1;
            continue;
        }
        if (send(fd, more + i++ % len, 1, MSG_NOSIGNAL) != 1)
            return 1;
    }
    return 0;
}

/* Waits until h has n connections open (the server noticed closes). */
static void wait_open(const run_http_t *h, uint64_t n)
{
    run_http_stats_t s;
    for (int waited = 0; waited < PATIENCE_MS; waited += 50) {
        run_http_stats(h, &s);
        if (s.open == n)
            return;
        poll(NULL, 0, 50);
    }
    fail_msg("%llu connections open, expected %llu", (unsigned long long)s.open,
             (unsigned long long)n);
}

/* Waits until h has read the heads of n requests. */
static void wait_requests(const run_http_t *h, uint64_t n)
{
    run_http_stats_t s;
    for (int waited = 0; waited < PATIENCE_MS; waited += 50) {
        run_http_stats(h, &s);
        if (s.requests == n)
            return;
        poll(NULL, 0, 50);
    }
    fail_msg("%llu requests, expected %llu", (unsigned long long)s.requests, (unsigned long long)n);
}

static void on_ok(void *opaque, const run_http_request_t *req, run_http_reply_t *reply)
{
    (void)opaque;
    reply->status = 200;
    am_buf_printf(&reply->body, "ok %s %s\n", run_http_request_method(req),
                  run_http_request_path(req));
}

static void on_echo(void *opaque, const run_http_request_t *req, run_http_reply_t *reply)
{
    (void)opaque;
    size_t len;
    const char *body = run_http_request_body(req, &len);
    const char *hdr = run_http_request_header(req, "x-test");
    reply->status = 200;
    am_buf_printf(&reply->body, "len=%zu hdr=%s body=%.*s\n", len, hdr ? hdr : "-", (int)len,
                  body ? body : "");
}

static const run_http_route_t ROUTES[] = {
    {.method = "GET", .path = "/x", .handler = on_ok},
    {.method = "POST", .path = "/echo", .max_body = 64, .handler = on_echo},
    {.method = "GET", .path = "/p/", .handler = on_ok},
    {.method = "POST", .path = "/p/", .max_body = 8, .handler = on_echo},
};
#define NROUTES (sizeof ROUTES / sizeof ROUTES[0])

static run_http_t *start(const run_http_limits_t *lim)
{
    char err[512];
    run_http_t *h = run_http_start("test", "127.0.0.1:0", ROUTES, NROUTES, lim, err, sizeof err);
    if (!h)
        fail_msg("start: %s", err);
    return h;
}

static void test_route_find(void **state)
{
    (void)state;
    static const struct {
        const char *method, *path;
        int want;
        const char *allow;
    } cases[] = {
        {"GET", "/x", 0, NULL},
        {"HEAD", "/x", 0, NULL},
        {"POST", "/x", -405, "GET, HEAD"},
        {"GET", "/x/", -404, NULL},
        {"GET", "/xy", -404, NULL},
        {"GET", "/", -404, NULL},
        {"GET", "", -404, NULL},
        {"POST", "/echo", 1, NULL},
        {"GET", "/echo", -405, "POST"},
        {"HEAD", "/echo", -405, "POST"},
        {"GET", "/p/", 2, NULL},
        {"GET", "/p/a/b", 2, NULL},
        {"POST", "/p/a", 3, NULL},
        {"PUT", "/p/a", -405, "GET, HEAD, POST"},
        {"GET", "/p", -404, NULL},
        {"get", "/x", -405, "GET, HEAD"}, /* methods are case-sensitive */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char allow[64] = "unset";
        int got = run_http_route_find(ROUTES, NROUTES, cases[i].method, cases[i].path, allow,
                                      sizeof allow);
        if (got != cases[i].want)
            fail_msg("%s %s: %d, want %d", cases[i].method, cases[i].path, got, cases[i].want);
        if (cases[i].allow && strcmp(allow, cases[i].allow) != 0)
            fail_msg("%s %s: Allow '%s', want '%s'", cases[i].method, cases[i].path, allow,
                     cases[i].allow);
    }
    assert_int_equal(run_http_route_find(ROUTES, 0, "GET", "/x", NULL, 0), -404);
}

static void test_routes_and_bodies(void **state)
{
    (void)state;
    static char resp[1 << 14];
    run_http_t *h = start(NULL);
    int port = port_of(run_http_address(h));
    assert_int_equal(request("127.0.0.1", port, "GET /x?q=1 HTTP/1.0\r\n\r\n", resp, sizeof resp),
                     200);
    assert_non_null(strstr(resp, "ok GET /x\n"));
    assert_int_equal(request("127.0.0.1", port, "HEAD /p/a HTTP/1.0\r\n\r\n", resp, sizeof resp),
                     200);
    assert_null(strstr(resp, "ok "));
    assert_int_equal(request("127.0.0.1", port, "DELETE /x HTTP/1.0\r\n\r\n", resp, sizeof resp),
                     405);
    assert_non_null(strstr(resp, "Allow: GET, HEAD"));
    assert_int_equal(request("127.0.0.1", port, "GET /nope HTTP/1.0\r\n\r\n", resp, sizeof resp),
                     404);
    /* a body within the route's limit reaches the handler with headers */
    assert_int_equal(request("127.0.0.1", port,
                             "POST /echo HTTP/1.0\r\nX-Test: yes\r\nContent-Length: 5\r\n\r\nhello",
                             resp, sizeof resp),
                     200);
    assert_non_null(strstr(resp, "len=5 hdr=yes body=hello\n"));
    /* announced over the limit: 413 before the handler */
    assert_int_equal(request("127.0.0.1", port,
                             "POST /p/a HTTP/1.0\r\nContent-Length: 9\r\n\r\n123456789", resp,
                             sizeof resp),
                     413);
    assert_int_equal(
        request("127.0.0.1", port,
                "POST /p/a HTTP/1.0\r\nContent-Length: 99999999999999999999999\r\n\r\n", resp,
                sizeof resp),
        413);
    /* chunked and growing over the limit: closed, never handled */
    assert_int_equal(request("127.0.0.1", port,
                             "POST /p/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                             "Connection: close\r\n\r\n5\r\n12345\r\n5\r\n67890\r\n0\r\n\r\n",
                             resp, sizeof resp),
                     0);
    assert_null(strstr(resp, "len="));
    /* chunked within the limit */
    assert_int_equal(request("127.0.0.1", port,
                             "POST /p/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                             "Connection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                             resp, sizeof resp),
                     200);
    assert_non_null(strstr(resp, "len=3 hdr=- body=abc\n"));
    run_http_stats_t s;
    run_http_stats(h, &s);
    /* libmicrohttpd answers the unparseable length itself */
    assert_true(s.requests_too_large >= 2);
    run_http_stop(h);
}

/* A request head bigger than the connection's memory is refused. */
static void test_head_too_large(void **state)
{
    (void)state;
    static char resp[1 << 14];
    run_http_limits_t lim = {.memory_bytes = 4096};
    run_http_t *h = start(&lim);
    int port = port_of(run_http_address(h));
    char req[16384];
    int n = snprintf(req, sizeof req, "GET /x HTTP/1.0\r\nX-Big: ");
    memset(req + n, 'a', 8000);
    snprintf(req + n + 8000, sizeof req - (size_t)n - 8000, "\r\n\r\n");
    int code = request("127.0.0.1", port, req, resp, sizeof resp);
    if (code != 431 && code != 413)
        fail_msg("a 8 KB header in 4 KB: %d", code);
    assert_int_equal(request("127.0.0.1", port, "GET /x HTTP/1.0\r\n\r\n", resp, sizeof resp), 200);
    run_http_stop(h);
}

/* The probe that silenced the old server: 72 connections from 9 addresses
 * (8 each, the default share) each send a byte of a request and wait;
 * /healthz and /metrics from a tenth address still answer, with the
 * server's defaults. */
static void test_probe_pool_full(void **state)
{
    (void)state;
    static char resp[1 << 16];
    char err[512];
    run_registry_t *m = run_registry_create("1", 1700000000000LL);
    ingest_kafka_view_t v = {.joined = 1, .brokers_up = 1, .brokers_down_since = AM_TIME_NONE};
    run_registry_consumer(m, &v);
    run_registry_publish(m);
    run_endpoint_t *e = run_endpoint_start("127.0.0.1:0", m, NULL, err, sizeof err);
    if (!e)
        fail_msg("start: %s", err);
    int port = port_of(run_endpoint_address(e));
    int fds[72], n = 0;
    for (int a = 2; a <= 10; a++)
        for (int i = 0; i < 8; i++) {
            char src[32];
            snprintf(src, sizeof src, "127.0.0.%d", a);
            fds[n] = dial(src, port);
            assert_true(fds[n] >= 0);
            send_all(fds[n++], "G", 1);
        }
    assert_int_equal(request("127.0.0.1", port, "GET /healthz HTTP/1.0\r\n\r\n", resp, sizeof resp),
                     200);
    assert_non_null(strstr(resp, "\"healthy\":true"));
    assert_int_equal(request("127.0.0.1", port, "GET /metrics HTTP/1.0\r\n\r\n", resp, sizeof resp),
                     200);
    /* the pool was full: the oldest waiting connections made room */
    assert_null(strstr(resp, "aftermath_http_connections_closed_total{listener=\"metrics\","
                             "reason=\"evicted\"} 0\n"));
    assert_non_null(strstr(resp, "aftermath_http_connections_closed_total{listener=\"metrics\","
                                 "reason=\"evicted\"} "));
    assert_non_null(strstr(resp, "aftermath_http_connections_refused_total{listener=\"metrics\","
                                 "reason=\"per_address\"} 0\n"));
    for (int i = 0; i < n; i++)
        close(fds[i]);
    run_endpoint_stop(e);
    run_registry_destroy(m);
}

/* A connection that trickles its head, or its body, one byte every
 * 200 ms (never idle) is closed by the deadline (1 s here). */
static void test_deadline(void **state)
{
    (void)state;
    static char resp[1 << 14];
    run_http_limits_t lim = {.deadline_ms = 1000};
    run_http_t *h = start(&lim);
    int port = port_of(run_http_address(h));
    int head = dial("127.0.0.2", port);
    assert_true(head >= 0);
    send_all(head, "GET /x HTTP/1.1\r\nHost: x\r\nX-Slow: ", 34);
    int body = dial("127.0.0.3", port);
    assert_true(body >= 0);
    const char *post = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 60\r\n\r\n";
    send_all(body, post, strlen(post));
    assert_true(trickle_until_closed(head, "a"));
    assert_true(trickle_until_closed(body, "b"));
    close(head);
    close(body);
    run_http_stats_t s;
    run_http_stats(h, &s);
    assert_int_equal(s.closed_deadline, 2);
    /* a kept-alive connection's next request has a deadline of its own */
    int ka = dial("127.0.0.4", port);
    assert_true(ka >= 0);
    send_all(ka, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n", 28);
    char buf[1024];
    struct pollfd p = {.fd = ka, .events = POLLIN};
    assert_int_equal(poll(&p, 1, PATIENCE_MS), 1);
    ssize_t r = read(ka, buf, sizeof buf - 1);
    assert_true(r > 0);
    buf[r] = '\0';
    assert_non_null(strstr(buf, "HTTP/1.1 200"));
    assert_true(trickle_until_closed(ka, "G"));
    close(ka);
    run_http_stats(h, &s);
    assert_int_equal(s.closed_deadline, 3);
    assert_int_equal(request("127.0.0.2", port, "GET /x HTTP/1.0\r\n\r\n", resp, sizeof resp), 200);
    run_http_stop(h);
}

/* An address at its share makes room among its own waiting connections
 * (a probe sharing its address with a slow client is served); when all of
 * them are in the middle of a request a newcomer from it is refused, while
 * other addresses are served. */
static void test_per_address(void **state)
{
    (void)state;
    static char resp[1 << 14];
    const char *post = "POST /echo HTTP/1.0\r\nContent-Length: 4\r\n\r\nab";
    run_http_limits_t lim = {.connections = 16, .per_address = 2};
    run_http_t *h = start(&lim);
    int port = port_of(run_http_address(h));
    int a = dial("127.0.0.5", port), b = dial("127.0.0.5", port);
    assert_true(a >= 0 && b >= 0);
    send_all(a, "GET", 3);
    send_all(b, "GET", 3);
    wait_open(h, 2);
    assert_int_equal(request("127.0.0.5", port, "GET /x HTTP/1.0\r\n\r\n", resp, sizeof resp), 200);
    assert_int_equal(answer(a, resp, sizeof resp), 0); /* the oldest made room */
    close(a);
    wait_open(h, 1);
    int busy1 = dial("127.0.0.5", port);
    assert_true(busy1 >= 0);
    send_all(busy1, post, strlen(post));
    wait_requests(h, 2);
    int busy2 = dial("127.0.0.5", port);
    assert_true(busy2 >= 0);
    send_all(busy2, post, strlen(post));
    assert_int_equal(answer(b, resp, sizeof resp), 0); /* b made room */
    close(b);
    wait_requests(h, 3);
    /* both of the address's connections are mid-request */
    assert_int_equal(request("127.0.0.5", port, "GET /x HTTP/1.0\r\n\r\n", resp, sizeof resp), 0);
    assert_int_equal(request("127.0.0.6", port, "GET /x HTTP/1.0\r\n\r\n", resp, sizeof resp), 200);
    run_http_stats_t s;
    run_http_stats(h, &s);
    assert_int_equal(s.refused_per_address, 1);
    assert_int_equal(s.closed_evicted, 2);
    send_all(busy1, "cd", 2);
    assert_int_equal(answer(busy1, resp, sizeof resp), 200);
    send_all(busy2, "cd", 2);
    assert_int_equal(answer(busy2, resp, sizeof resp), 200);
    close(busy1);
    close(busy2);
    wait_open(h, 0);
    assert_int_equal(request("127.0.0.5", port, "GET /x HTTP/1.0\r\n\r\n", resp, sizeof resp), 200);
    run_http_stop(h);
}

/* A full pool evicts the oldest connection still waiting for a request;
 * a request in progress (its head in, its body coming) is never
 * evicted, and when every connection holds one, a newcomer is refused. */
static void test_full_pool(void **state)
{
    (void)state;
    static char resp[1 << 14];
    run_http_limits_t lim = {.connections = 2, .per_address = 8};
    run_http_t *h = start(&lim);
    int port = port_of(run_http_address(h));
    const char *post = "POST /echo HTTP/1.0\r\nContent-Length: 4\r\n\r\nab";
    int busy = dial("127.0.0.7", port);
    assert_true(busy >= 0);
    send_all(busy, post, strlen(post));
    int waiting = dial("127.0.0.7", port);
    assert_true(waiting >= 0);
    send_all(waiting, "GE", 2);
    wait_open(h, 2);
    assert_int_equal(request("127.0.0.1", port, "GET /x HTTP/1.0\r\n\r\n", resp, sizeof resp), 200);
    assert_int_equal(answer(waiting, resp, sizeof resp), 0); /* evicted */
    close(waiting);
    run_http_stats_t s;
    run_http_stats(h, &s);
    assert_int_equal(s.closed_evicted, 1);
    /* two requests in progress: a newcomer is refused */
    wait_open(h, 1);
    int busy2 = dial("127.0.0.7", port);
    assert_true(busy2 >= 0);
    send_all(busy2, post, strlen(post));
    wait_open(h, 2);
    /* until the server has read busy2's head it may evict it: wait */
    wait_requests(h, 3);
    assert_int_equal(request("127.0.0.1", port, "GET /x HTTP/1.0\r\n\r\n", resp, sizeof resp), 0);
    run_http_stats(h, &s);
    assert_int_equal(s.refused_full, 1);
    assert_int_equal(s.closed_evicted, 1);
    /* the requests in progress complete */
    send_all(busy, "cd", 2);
    assert_int_equal(answer(busy, resp, sizeof resp), 200);
    assert_non_null(strstr(resp, "body=abcd"));
    send_all(busy2, "ef", 2);
    assert_int_equal(answer(busy2, resp, sizeof resp), 200);
    assert_non_null(strstr(resp, "body=abef"));
    close(busy);
    close(busy2);
    run_http_stop(h);
}

static void test_expose(void **state)
{
    (void)state;
    run_http_t *a = start(NULL), *b = start(NULL);
    const run_http_t *servers[] = {a, b};
    am_buf_t out = {0};
    run_http_expose(servers, 2, &out);
    assert_non_null(out.p);
    /* one HELP and TYPE per family, a series per server */
    const char *p = out.p;
    int types = 0;
    while ((p = strstr(p, "# TYPE ")) != NULL) {
        types++;
        p++;
    }
    assert_int_equal(types, 6);
    assert_non_null(strstr(out.p, "aftermath_http_connections_open{listener=\"test\"} 0\n"));
    am_buf_free(&out);
    run_http_stop(a);
    run_http_stop(b);
    run_http_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_find),     cmocka_unit_test(test_routes_and_bodies),
        cmocka_unit_test(test_head_too_large), cmocka_unit_test(test_probe_pool_full),
        cmocka_unit_test(test_deadline),       cmocka_unit_test(test_per_address),
        cmocka_unit_test(test_full_pool),      cmocka_unit_test(test_expose),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
