/*
 * endpoint.h - the metrics endpoint of `aftermath run`, on the server of
 * run/http.h: GET or HEAD /metrics (Prometheus text format 0.0.4: the
 * registry's snapshot, then the HTTP server's own counters) and /healthz
 * (JSON, 200 when healthy, else 503), both from a run_registry_t
 * snapshot; any other path is 404, any other method 405.
 */
#ifndef RUN_ENDPOINT_H
#define RUN_ENDPOINT_H

#include <stddef.h>

#include "run/http.h"
#include "run/registry.h"

typedef struct run_endpoint run_endpoint_t;

/* Listens on addr (run_http_parse_addr's form) and serves m (borrowed; it
 * must outlive the endpoint) under limits (NULL: run_http_limits_default).
 * Returns the endpoint, or NULL with err naming the address and the
 * system's reason (address in use, cannot assign, permission denied). */
run_endpoint_t *run_endpoint_start(const char *addr, run_registry_t *m,
                                   const run_http_limits_t *limits, char *err, size_t errlen);

/* More of the exposition: called on the server's thread at each scrape,
 * after the registry and the server's own counters, to append families
 * (the webhook receiver's counters). */
typedef void (*run_endpoint_expose_fn)(void *arg, am_buf_t *out);

/* run_endpoint_start that also exposes the counters of another server,
 * also (NULL: none; the webhook listener), with its own, and calls extra
 * (NULL: none) with arg. Both are borrowed and must outlive the
 * endpoint. */
run_endpoint_t *run_endpoint_start_with(const char *addr, run_registry_t *m,
                                        const run_http_limits_t *limits, const run_http_t *also,
                                        run_endpoint_expose_fn extra, void *arg, char *err,
                                        size_t errlen);

/* run_endpoint_start_with that also serves more[0..nmore) (copied; what
 * they point to is borrowed and must outlive the endpoint): the web pages
 * of run/ui.h in the roles that hold incidents. */
run_endpoint_t *run_endpoint_start_routes(const char *addr, run_registry_t *m,
                                          const run_http_limits_t *limits, const run_http_t *also,
                                          run_endpoint_expose_fn extra, void *arg,
                                          const run_http_route_t *more, size_t nmore, char *err,
                                          size_t errlen);

/* The address actually bound, "host:port" (run_http_address). Borrowed. */
const char *run_endpoint_address(const run_endpoint_t *e);

/* Stops serving and frees e; accepts NULL. */
void run_endpoint_stop(run_endpoint_t *e);

#endif
