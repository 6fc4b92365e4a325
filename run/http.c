/*
 * http.c - /metrics and /healthz over libmicrohttpd.
 *
 * The design choice a reader must know: the listening socket is made here
 * (getaddrinfo, bind, listen) and handed to libmicrohttpd, so that a bind
 * failure is reported with the system's own reason and the address is
 * known when the port was 0; libmicrohttpd then serves requests from its
 * own thread, which reads nothing but the registry's snapshot
 * (run/registry.h). Requests are small and answered at once; connections
 * are limited and time out, so a slow client cannot hold the server.
 */
#include "run/http.h"
#include "common/buf.h"
#include "common/time.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct run_http {
    struct MHD_Daemon *d;
    run_registry_t *m;
    char address[RUN_HTTP_ADDRLEN];
};

int run_http_parse_addr(const char *addr, char host[RUN_HTTP_HOSTLEN], int *port, char *err,
                        size_t errlen)
{
    const char *h = addr, *colon;
    size_t hlen;
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (!close || close[1] != ':') {
            am_errf(err, errlen, "'%s' is not [IPV6]:PORT", addr);
            return -1;
        }
        h = addr + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon || strchr(addr, ':') != colon) {
            am_errf(err, errlen,
                    "'%s' is not HOST:PORT (an IPv6 address goes in brackets: [::]:PORT)", addr);
            return -1;
        }
        hlen = (size_t)(colon - addr);
    }
    if (hlen == 0 || hlen >= RUN_HTTP_HOSTLEN) {
        am_errf(err, errlen, "'%s': the host is %s (0.0.0.0 listens on every interface)", addr,
                hlen ? "too long" : "missing");
        return -1;
    }
    const char *p = colon + 1;
    long v = 0;
    if (!*p || strlen(p) > 5)
        v = -1;
    for (; v >= 0 && *p; p++)
        v = *p >= '0' && *p <= '9' ? v * 10 + (*p - '0') : -1;
    if (v < 0 || v > 65535) {
        am_errf(err, errlen, "'%s': the port is not a number from 0 to 65535", addr);
        return -1;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (int)v;
    return 0;
}

/* Binds and listens on host:port; returns the socket, or -1 with err. */
static int listen_on(const char *host, int port, struct sockaddr_storage *bound, char *err,
                     size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        am_errf(err, errlen, "cannot resolve '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 16) != 0) {
        am_errf(err, errlen, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    socklen_t len = sizeof *bound;
    if (getsockname(fd, (struct sockaddr *)bound, &len) != 0) {
        am_errf(err, errlen, "getsockname: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             am_buf_t *body)
{
    size_t len = body->len;
    char *data = am_buf_steal(body);
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, data ? data : "", data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **state)
{
    run_http_t *h = cls;
    (void)version;
    (void)upload;
    /* Request bodies are not read: answer on the first call, and refuse
     * any method that could carry one. */
    (void)state;
    (void)upload_size;
    am_buf_t body = {0};
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        am_buf_puts(&body, "only GET and HEAD\n");
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", &body);
    }
    if (strcmp(url, "/metrics") == 0) {
        run_registry_scrape(h->m, &body);
        return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", &body);
    }
    if (strcmp(url, "/healthz") == 0) {
        int ok = run_registry_health(h->m, am_wall_ms(), &body);
        return reply(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "application/json", &body);
    }
    am_buf_puts(&body, "not found: try /metrics or /healthz\n");
    return reply(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", &body);
}

run_http_t *run_http_start(const char *addr, run_registry_t *m, char *err, size_t errlen)
{
    char host[RUN_HTTP_HOSTLEN], why[512];
    int port;
    struct sockaddr_storage bound;
    if (run_http_parse_addr(addr, host, &port, why, sizeof why) != 0) {
        am_errf(err, errlen, "metrics address %s", why);
        return NULL;
    }
    int fd = listen_on(host, port, &bound, why, sizeof why);
    if (fd < 0) {
        am_errf(err, errlen, "cannot listen on %s for metrics: %s", addr, why);
        return NULL;
    }
    run_http_t *h = am_xcalloc(1, sizeof *h);
    h->m = m;
    char numeric[RUN_HTTP_HOSTLEN], serv[8];
    if (getnameinfo((struct sockaddr *)&bound, sizeof bound, numeric, sizeof numeric, serv,
                    sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(numeric, sizeof numeric, "%s", host);
        snprintf(serv, sizeof serv, "%d", port);
    }
    snprintf(h->address, sizeof h->address, bound.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
             numeric, serv);
    h->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, on_request, h,
                            MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned)32,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    if (!h->d) {
        am_errf(err, errlen, "cannot serve metrics on %s: libmicrohttpd did not start", addr);
        close(fd);
        free(h);
        return NULL;
    }
    return h;
}

const char *run_http_address(const run_http_t *h)
{
    return h->address;
}

void run_http_stop(run_http_t *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d); /* closes the listening socket */
    free(h);
}
