/*
 * http.h - the HTTP endpoint of `aftermath run` (libmicrohttpd): GET or
 * HEAD /metrics (Prometheus text format 0.0.4) and /healthz (JSON, 200
 * when healthy, else 503), both from a run_registry_t snapshot; any other
 * path is 404, any other method 405.
 */
#ifndef RUN_HTTP_H
#define RUN_HTTP_H

#include <stddef.h>

#include "run/registry.h"

/* The longest host of a listen address, and of "host:port" as text. */
#define RUN_HTTP_HOSTLEN 256
#define RUN_HTTP_ADDRLEN (RUN_HTTP_HOSTLEN + 16)

/* Splits a listen address: "HOST:PORT" (an IPv4 address or a host name)
 * or "[IPV6]:PORT", port 0..65535 (0: any free port). host receives the
 * host without brackets, *port the port. Returns 0, or -1 with err saying
 * what is wrong (no resolution is attempted). */
int run_http_parse_addr(const char *addr, char host[RUN_HTTP_HOSTLEN], int *port, char *err,
                        size_t errlen);

typedef struct run_http run_http_t;

/* Listens on addr (run_http_parse_addr's form) and serves m (borrowed; it
 * must outlive the server) from libmicrohttpd's own thread. Returns the
 * server, or NULL with err naming the address and the system's reason
 * (address in use, cannot assign, permission denied). */
run_http_t *run_http_start(const char *addr, run_registry_t *m, char *err, size_t errlen);

/* The address actually bound, as "host:port" ("[::1]:41234"): with port 0
 * the port the system chose. Borrowed from h. */
const char *run_http_address(const run_http_t *h);

/* Stops serving and frees h; accepts NULL. */
void run_http_stop(run_http_t *h);

#endif
