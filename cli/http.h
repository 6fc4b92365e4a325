/*
 * http.h - the HTTP endpoint of `aftermath run` (libmicrohttpd): GET or
 * HEAD /metrics (Prometheus text format 0.0.4) and /healthz (JSON, 200
 * when healthy, else 503), both from a cli_metrics_t snapshot; any other
 * path is 404, any other method 405.
 */
#ifndef CLI_HTTP_H
#define CLI_HTTP_H

#include <stddef.h>

#include "cli/metrics.h"

/* The longest host of a listen address, and of "host:port" as text. */
#define CLI_HTTP_HOSTLEN 256
#define CLI_HTTP_ADDRLEN (CLI_HTTP_HOSTLEN + 16)

/* Splits a listen address: "HOST:PORT" (an IPv4 address or a host name)
 * or "[IPV6]:PORT", port 0..65535 (0: any free port). host receives the
 * host without brackets, *port the port. Returns 0, or -1 with err saying
 * what is wrong (no resolution is attempted). */
int cli_http_parse_addr(const char *addr, char host[CLI_HTTP_HOSTLEN], int *port, char *err,
                        size_t errlen);

typedef struct cli_http cli_http_t;

/* Listens on addr (cli_http_parse_addr's form) and serves m (borrowed; it
 * must outlive the server) from libmicrohttpd's own thread. Returns the
 * server, or NULL with err naming the address and the system's reason
 * (address in use, cannot assign, permission denied). */
cli_http_t *cli_http_start(const char *addr, cli_metrics_t *m, char *err, size_t errlen);

/* The address actually bound, as "host:port" ("[::1]:41234"): with port 0
 * the port the system chose. Borrowed from h. */
const char *cli_http_address(const cli_http_t *h);

/* Stops serving and frees h; accepts NULL. */
void cli_http_stop(cli_http_t *h);

#endif
