/*
 * fuzz_http.c - libFuzzer target for the request handling of run/http.c
 * that is ours (libmicrohttpd parses the request line and headers): the
 * listen address parser and the route lookup, both callable without a
 * socket. The first byte picks one; the rest is its input.
 *
 * run_http_parse_addr: on success the host is non-empty and shorter than
 * RUN_HTTP_HOSTLEN, the port is 0..65535, and the parts written back as
 * an address ("[host]:port" when the host needs brackets) parse to the
 * same parts. run_http_route_find ("METHOD PATH", over a table shaped
 * like the metrics endpoint plus a webhook prefix): the route it returns
 * matches the path and the method, no earlier route does, -405 comes
 * with an Allow value and only when some route has the path, -404 only
 * when none has.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_addr(const char *addr)
{
    char host[RUN_HTTP_HOSTLEN], again[RUN_HTTP_HOSTLEN], err[512];
    char text[RUN_HTTP_ADDRLEN];
    int port, port2;
    if (run_http_parse_addr(addr, host, &port, err, sizeof err) != 0) {
        if (!err[0])
            abort();
        return;
    }
    size_t n = strlen(host);
    if (n == 0 || n >= RUN_HTTP_HOSTLEN || port < 0 || port > 65535)
        abort();
    int bracket = strchr(host, ':') != NULL || host[0] == '[';
    snprintf(text, sizeof text, bracket ? "[%s]:%d" : "%s:%d", host, port);
    if (run_http_parse_addr(text, again, &port2, err, sizeof err) != 0 ||
        strcmp(host, again) != 0 || port != port2) {
        fprintf(stderr, "'%s' -> '%s' %d -> '%s': %s\n", addr, host, port, text, err);
        abort();
    }
}

static void noop(void *opaque, const run_http_request_t *req, run_http_reply_t *reply)
{
    (void)opaque;
    (void)req;
    (void)reply;
}

static const run_http_route_t ROUTES[] = {
    {.method = "GET", .path = "/metrics", .handler = noop},
    {.method = "GET", .path = "/healthz", .handler = noop},
    {.method = "POST", .path = "/webhook/", .max_body = 1024, .handler = noop},
    {.method = "GET", .path = "/incidents/", .handler = noop},
    {.method = "POST", .path = "/incidents/", .max_body = 1024, .handler = noop},
};
#define NROUTES (sizeof ROUTES / sizeof ROUTES[0])

/* The rules, restated independently of run/http.c. */
static int has_path(const run_http_route_t *r, const char *path)
{
    size_t n = strlen(r->path);
    return r->path[n - 1] == '/' ? strncmp(r->path, path, n) == 0 : strcmp(r->path, path) == 0;
}

static int has_method(const run_http_route_t *r, const char *method)
{
    return strcmp(r->method, method) == 0 ||
           (strcmp(r->method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

static void fuzz_route(char *line)
{
    char *space = strchr(line, ' ');
    const char *method = line, *path = "";
    if (space) {
        *space = '\0';
        path = space + 1;
    }
    char allow[128];
    int got = run_http_route_find(ROUTES, NROUTES, method, path, allow, sizeof allow);
    int first = -1, any_path = 0;
    for (size_t i = 0; i < NROUTES; i++) {
        if (!has_path(&ROUTES[i], path))
            continue;
        any_path = 1;
        if (first < 0 && has_method(&ROUTES[i], method))
            first = (int)i;
    }
    int want = first >= 0 ? first : any_path ? -405 : -404;
    if (got != want || (got == -405 && !allow[0])) {
        fprintf(stderr, "'%s' '%s': %d, want %d (allow '%s')\n", method, path, got, want,
                got == -405 ? allow : "");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0'; /* the input up to its first NUL, as C strings arrive */
    if (data[0] & 1)
        fuzz_route(text);
    else
        fuzz_addr(text);
    free(text);
    return 0;
}
