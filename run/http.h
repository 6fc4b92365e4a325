/*
 * http.h - the HTTP server every listener of `aftermath run` uses (today
 * the metrics endpoint, run/endpoint.h; later the webhook receiver and the
 * web pages): a route table served by libmicrohttpd under the limits of
 * STYLE.md rule 26 (docs/http.md explains them).
 *
 * A server serves a table of routes: method and path (exact, or a prefix)
 * to a handler, each with a body size limit. The request parsing is
 * libmicrohttpd's; what is ours (the listen address, the route lookup) is
 * callable without a socket, for tests and the fuzz target.
 */
#ifndef RUN_HTTP_H
#define RUN_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* The longest host of a listen address, and of "host:port" as text. */
#define RUN_HTTP_HOSTLEN 256
#define RUN_HTTP_ADDRLEN (RUN_HTTP_HOSTLEN + 16)

/* Splits a listen address: "HOST:PORT" (an IPv4 address or a host name)
 * or "[IPV6]:PORT", port 0..65535 (0: any free port). host receives the
 * host without brackets, *port the port. Returns 0, or -1 with err saying
 * what is wrong (no resolution is attempted). */
int run_http_parse_addr(const char *addr, char host[RUN_HTTP_HOSTLEN], int *port, char *err,
                        size_t errlen);

/* A request as a handler sees it: complete (headers and body). Borrowed,
 * valid during the handler's call only. */
typedef struct run_http_request run_http_request_t;

const char *run_http_request_method(const run_http_request_t *req);
/* The path, percent-decoded, without the query string. */
const char *run_http_request_path(const run_http_request_t *req);
/* The body (not NUL-terminated; NULL when empty) and its length. */
const char *run_http_request_body(const run_http_request_t *req, size_t *len);
/* The value of header name (case-insensitive), or NULL; borrowed. */
const char *run_http_request_header(const run_http_request_t *req, const char *name);
/* Calls fn(arg, name, value) for every header of req, in order. */
void run_http_request_each_header(const run_http_request_t *req,
                                  void (*fn)(void *arg, const char *name, const char *value),
                                  void *arg);
/* Calls fn(arg, name, value) for every argument of the query string, in
 * order, percent-decoded by libmicrohttpd (value NULL for "?name" without
 * '='). */
void run_http_request_each_arg(const run_http_request_t *req,
                               void (*fn)(void *arg, const char *name, const char *value),
                               void *arg);
/* The client's address as text ("127.0.0.1", "::1") into buf; "?" when
 * unknown. Returns buf. */
const char *run_http_request_peer(const run_http_request_t *req, char buf[64]);
/* The server serving req (for run_http_expose). Borrowed. */
typedef struct run_http run_http_t;
const run_http_t *run_http_request_server(const run_http_request_t *req);

/* What a handler answers: status (e.g. 200), the Content-Type (a static
 * string) and the body, which the server takes and frees. */
typedef struct run_http_reply {
    unsigned status;
    const char *type;
    am_buf_t body;
    unsigned retry_after;         /* seconds for a Retry-After header; 0: none */
    const char *www_authenticate; /* a static challenge for WWW-Authenticate, or NULL */
    /* More headers, or NULL: static name, value pairs ending with a NULL
     * name (the web pages' Content-Security-Policy, a Location). */
    const char *const *headers;
} run_http_reply_t;

/* A handler: fills reply from req. Runs on the server's thread, one
 * request at a time: it must answer promptly (no blocking on the network
 * or a broker without a bound shorter than the deadline). */
typedef void (*run_http_handler_fn)(void *opaque, const run_http_request_t *req,
                                    run_http_reply_t *reply);

/* A route: method ("GET" also answers HEAD, without the body), path (a
 * path that ends with '/' is a prefix: "/webhook/" matches
 * "/webhook/alertmanager"; any other path matches exactly), the largest
 * body accepted (0: a body is not read; more than max_body is answered 413
 * before the handler runs), and the handler with its argument (borrowed:
 * it must outlive the server). */
typedef struct run_http_route {
    const char *method;
    const char *path;
    size_t max_body;
    run_http_handler_fn handler;
    void *opaque;
} run_http_route_t;

/* The route of routes[0..nroutes) for method and path: the first whose
 * path and method match. Returns its index, or -404 when no route has the
 * path, or -405 when routes have the path but not the method; then allow
 * (allowlen > 0) receives their methods as an Allow header value ("GET,
 * HEAD"). Needs no server. */
int run_http_route_find(const run_http_route_t *routes, size_t nroutes, const char *method,
                        const char *path, char *allow, size_t allowlen);

/* What one client can hold (STYLE.md rule 26; docs/http.md). A field of 0
 * takes the default of run_http_limits_default(). */
typedef struct run_http_limits {
    unsigned connections;  /* open connections in all */
    unsigned per_address;  /* open connections from one address (IPv6: one /64) */
    unsigned deadline_ms;  /* to receive a request (headers and body) and answer it */
    unsigned memory_bytes; /* a connection's buffer: the request line and headers fit in it */
} run_http_limits_t;

/* The defaults: 64 connections, 8 per address, 10 s, 32 KiB. */
run_http_limits_t run_http_limits_default(void);

/* Listens on addr (run_http_parse_addr's form) and serves routes (copied;
 * the strings and opaques they point to are borrowed and must outlive the
 * server) on a thread of its own, under limits (NULL: the defaults). name
 * labels the server's metrics ("metrics", "webhook"; borrowed). Returns
 * the server, or NULL with err naming the address and the system's reason
 * (address in use, cannot assign, permission denied). */
run_http_t *run_http_start(const char *name, const char *addr, const run_http_route_t *routes,
                           size_t nroutes, const run_http_limits_t *limits, char *err,
                           size_t errlen);

/* The address actually bound, as "host:port" ("[::1]:41234"): with port 0
 * the port the system chose. Borrowed from h. */
const char *run_http_address(const run_http_t *h);

/* The server's counters, read at any time from any thread. */
typedef struct run_http_stats {
    uint64_t open;                /* connections open now */
    uint64_t accepted;            /* connections accepted */
    uint64_t requests;            /* request heads received */
    uint64_t refused_per_address; /* closed at once: its address's share all mid-request */
    uint64_t refused_full;        /* closed at once: every connection was mid-request */
    uint64_t closed_deadline;     /* closed: a request not received and answered in time */
    uint64_t closed_evicted;      /* closed: waiting for a request when its address's share
                                   * or the pool was full */
    uint64_t requests_too_large;  /* answered 413 (body) */
} run_http_stats_t;
void run_http_stats(const run_http_t *h, run_http_stats_t *out);

/* Appends to out the exposition (text format 0.0.4) of the counters of
 * servers[0..n), labelled by their names; any thread. */
void run_http_expose(const run_http_t *const *servers, size_t n, am_buf_t *out);

/* Stops serving (open connections are closed) and frees h; accepts NULL. */
void run_http_stop(run_http_t *h);

#endif
