/*
 * endpoint.c - /metrics and /healthz: two routes on a run/http.h server.
 *
 * The design choice a reader must know: the handlers run on the server's
 * thread and read nothing but the registry's last snapshot
 * (run/registry.h) and the server's atomic counters, so a scrape is
 * answered at once and never waits for the consuming thread. The limits
 * that keep the endpoint answering under slow or many clients are the
 * server's (run/http.c, docs/http.md).
 */
#include "run/endpoint.h"
#include "common/time.h"

#include <stdlib.h>

struct run_endpoint {
    run_registry_t *m;
    run_http_t *http;
    const run_http_t *also;
    run_endpoint_expose_fn extra;
    void *arg;
};

static void on_metrics(void *opaque, const run_http_request_t *req, run_http_reply_t *reply)
{
    run_endpoint_t *e = opaque;
    run_registry_scrape(e->m, &reply->body);
    const run_http_t *servers[] = {run_http_request_server(req), e->also};
    run_http_expose(servers, e->also ? 2 : 1, &reply->body);
    if (e->extra)
        e->extra(e->arg, &reply->body);
    reply->status = 200;
    reply->type = "text/plain; version=0.0.4; charset=utf-8";
}

static void on_health(void *opaque, const run_http_request_t *req, run_http_reply_t *reply)
{
    run_endpoint_t *e = opaque;
    (void)req;
    int ok = run_registry_health(e->m, am_wall_ms(), &reply->body);
    reply->status = ok ? 200 : 503;
    reply->type = "application/json";
}

run_endpoint_t *run_endpoint_start(const char *addr, run_registry_t *m,
                                   const run_http_limits_t *limits, char *err, size_t errlen)
{
    return run_endpoint_start_with(addr, m, limits, NULL, NULL, NULL, err, errlen);
}

run_endpoint_t *run_endpoint_start_with(const char *addr, run_registry_t *m,
                                        const run_http_limits_t *limits, const run_http_t *also,
                                        run_endpoint_expose_fn extra, void *arg, char *err,
                                        size_t errlen)
{
    return run_endpoint_start_routes(addr, m, limits, also, extra, arg, NULL, 0, err, errlen);
}

run_endpoint_t *run_endpoint_start_routes(const char *addr, run_registry_t *m,
                                          const run_http_limits_t *limits, const run_http_t *also,
                                          run_endpoint_expose_fn extra, void *arg,
                                          const run_http_route_t *more, size_t nmore, char *err,
                                          size_t errlen)
{
    run_endpoint_t *e = am_xcalloc(1, sizeof *e);
    e->m = m;
    e->also = also;
    e->extra = extra;
    e->arg = arg;
    run_http_route_t routes[16] = {
        {.method = "GET", .path = "/metrics", .handler = on_metrics, .opaque = e},
        {.method = "GET", .path = "/healthz", .handler = on_health, .opaque = e},
    };
    size_t n = 2;
    for (size_t i = 0; i < nmore && n < sizeof routes / sizeof routes[0]; i++)
        routes[n++] = more[i];
    e->http = run_http_start("metrics", addr, routes, n, limits, err, errlen);
    if (!e->http) {
        free(e);
        return NULL;
    }
    return e;
}

const char *run_endpoint_address(const run_endpoint_t *e)
{
    return run_http_address(e->http);
}

void run_endpoint_stop(run_endpoint_t *e)
{
    if (!e)
        return;
    run_http_stop(e->http);
    free(e);
}
