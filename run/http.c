/*
 * http.c - the HTTP server of every listener of `aftermath run`: a route
 * table over libmicrohttpd, under the limits of STYLE.md rule 26.
 *
 * The design choices a reader must know (docs/http.md says the same for
 * operators):
 *
 * - The listening socket is made here (getaddrinfo, bind, listen) and
 *   handed to libmicrohttpd, so a bind failure carries the system's own
 *   reason and the address is known when the port was 0.
 * - libmicrohttpd runs in its "external" mode, driven by one thread of
 *   ours (MHD_run_wait, at most 100 ms per turn): every callback below
 *   (accept policy, connection start and end, request, completion) and the
 *   deadline sweep run on that thread, so the connection table needs no
 *   lock. Only the counters are read from other threads (atomics).
 * - libmicrohttpd's own limits are not the ones we rely on: its
 *   connection limit makes it stop accepting, so connections over it wait
 *   in the kernel's backlog (that is how 32 trickling clients silenced
 *   /healthz), and its timeout is an idle timeout that each trickled byte
 *   resets. Instead the accept policy callback counts our table, per
 *   address (an IPv4 address or an IPv6 /64) and in all, and applies one
 *   rule to both limits: over the limit, an older connection makes room
 *   (below), else the newcomer is closed at once. libmicrohttpd's own
 *   limit is set above ours as a backstop only.
 * - A deadline that trickling cannot extend: each connection carries the
 *   time its current request began (its accept, or the end of the
 *   previous answer on a kept-alive connection); the sweep shuts down
 *   (shutdown(2); libmicrohttpd then sees the end of the stream and closes
 *   it) every connection whose request has not been received and answered
 *   within deadline_ms, whatever it sent meanwhile.
 * - Health answers when the pool is full: when a new connection arrives
 *   and every slot is taken, the oldest connection that has not yet sent
 *   a complete request head (a slow or silent client, or an idle
 *   kept-alive one) is shut down to make room. Requests that have arrived
 *   are never evicted; on the metrics listener they are answered at once.
 *   So a probe that sends its request promptly is served as long as fewer
 *   than `connections` new connections arrive while it does, and an
 *   attacker holding slots only makes its own connections the next ones
 *   evicted; the per-address share keeps one address from taking the
 *   pool. An address at its share makes room among its own connections
 *   the same way, so a probe that shares its address with a slow client
 *   (a NAT, a proxy, the node) is still served. We chose this over a reserved share (the server
 * cannot tell a probe from an attacker before its request head is read, which is the very thing a
 * trickler withholds) and over a second listener (a port more to configure and expose, and the
 * webhook receiver gets a listener of its own anyway: DESIGN.md).
 * - Bodies: a route reads none unless it sets max_body; a Content-Length
 *   over it is answered 413 before the handler runs, a chunked body that
 *   grows over it closes the connection. A request is answered once it is
 *   wholly in (not on the first call: libmicrohttpd 0.9.75 closes a
 *   connection answered there, and refusals use that on purpose). Request
 *   heads are bounded by libmicrohttpd's per-connection memory
 *   (memory_bytes; 431 beyond).
 * - What this does not bound: a client that sends a request and then
 *   does not read an answer larger than the socket buffers holds its slot
 *   until the deadline; many addresses opening connections faster than
 *   requests arrive (a flood, not a slow client) are for the network in
 *   front to limit.
 */
#include "run/http.h"
#include "common/time.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* One open connection, from accept to close. A connection is "waiting"
 * until the head of a request has arrived (then "busy") and again after
 * each answer; only waiting connections are evicted. */
typedef struct conn {
    struct conn *prev, *next;
    int fd;
    int busy;
    int closing;          /* shut down by us: no longer counted as live */
    int64_t began_ms;     /* when its current request began (monotonic) */
    unsigned char key[9]; /* the address family's tag, then the address or /64 */
} conn_t;

/* The state of one request that reads a body. */
typedef struct req_state {
    size_t route;
    am_buf_t body;
} req_state_t;

struct run_http_request {
    const char *method, *path, *body;
    size_t body_len;
    struct MHD_Connection *c;
    const run_http_t *h;
};

struct run_http {
    struct MHD_Daemon *d;
    pthread_t thread;
    int running;
    atomic_int stop;
    const char *name;
    run_http_route_t *routes;
    size_t nroutes;
    run_http_limits_t lim;
    conn_t *head, *tail; /* every open connection, by accept order */
    unsigned live;       /* open connections not being shut down by us */
    char address[RUN_HTTP_ADDRLEN];
    atomic_uint_fast64_t open, accepted, requests, refused_per_address, refused_full,
        closed_deadline, closed_evicted, too_large;
};

run_http_limits_t run_http_limits_default(void)
{
    return (run_http_limits_t){
        .connections = 64, .per_address = 8, .deadline_ms = 10000, .memory_bytes = 32 * 1024};
}

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
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 64) != 0) {
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

/* Whether route r serves method: GET also serves HEAD. */
static int method_matches(const char *route, const char *method)
{
    return strcmp(route, method) == 0 ||
           (strcmp(route, MHD_HTTP_METHOD_GET) == 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) == 0);
}

static int path_matches(const char *route, const char *path)
{
    size_t n = strlen(route);
    if (n > 0 && route[n - 1] == '/')
        return strncmp(route, path, n) == 0;
    return strcmp(route, path) == 0;
}

int run_http_route_find(const run_http_route_t *routes, size_t nroutes, const char *method,
                        const char *path, char *allow, size_t allowlen)
{
    int found = 0;
    am_buf_t methods = {0};
    for (size_t i = 0; i < nroutes; i++) {
        if (!path_matches(routes[i].path, path))
            continue;
        if (method_matches(routes[i].method, method)) {
            am_buf_free(&methods);
            return (int)i;
        }
        found = 1;
        if (methods.len)
            am_buf_puts(&methods, ", ");
        am_buf_puts(&methods, routes[i].method);
        if (strcmp(routes[i].method, MHD_HTTP_METHOD_GET) == 0)
            am_buf_puts(&methods, ", HEAD");
    }
    if (allowlen > 0)
        snprintf(allow, allowlen, "%s", methods.len ? methods.p : "");
    am_buf_free(&methods);
    return found ? -405 : -404;
}

const char *run_http_request_method(const run_http_request_t *req)
{
    return req->method;
}

const char *run_http_request_path(const run_http_request_t *req)
{
    return req->path;
}

const char *run_http_request_body(const run_http_request_t *req, size_t *len)
{
    *len = req->body_len;
    return req->body;
}

const char *run_http_request_header(const run_http_request_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->c, MHD_HEADER_KIND, name);
}

typedef struct each_header {
    void (*fn)(void *arg, const char *name, const char *value);
    void *arg;
} each_header_t;

static enum MHD_Result header_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    each_header_t *e = cls;
    (void)kind;
    e->fn(e->arg, key, value);
    return MHD_YES;
}

void run_http_request_each_header(const run_http_request_t *req,
                                  void (*fn)(void *arg, const char *name, const char *value),
                                  void *arg)
{
    each_header_t e = {fn, arg};
    MHD_get_connection_values(req->c, MHD_HEADER_KIND, header_cb, &e);
}

void run_http_request_each_arg(const run_http_request_t *req,
                               void (*fn)(void *arg, const char *name, const char *value),
                               void *arg)
{
    each_header_t e = {fn, arg};
    MHD_get_connection_values(req->c, MHD_GET_ARGUMENT_KIND, header_cb, &e);
}

const char *run_http_request_peer(const run_http_request_t *req, char buf[64])
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    socklen_t len = !sa                         ? 0
                    : sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                : sizeof(struct sockaddr_in);
    if (!sa || getnameinfo(sa, len, buf, 64, NULL, 0, NI_NUMERICHOST) != 0)
        snprintf(buf, 64, "?");
    return buf;
}

const run_http_t *run_http_request_server(const run_http_request_t *req)
{
    return req->h;
}

/* The key that groups addresses for the per-address share: an IPv4
 * address (also when mapped into IPv6), or the /64 of an IPv6 address
 * (one host commonly holds a whole /64). */
static void address_key(const struct sockaddr *sa, unsigned char key[9])
{
    memset(key, 0, 9);
    if (sa && sa->sa_family == AF_INET) {
        key[0] = 4;
        memcpy(key + 1, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6) {
        const unsigned char *a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, sizeof mapped) == 0) {
            key[0] = 4;
            memcpy(key + 1, a + 12, 4);
        } else {
            key[0] = 6;
            memcpy(key + 1, a, 8);
        }
    }
}

static void count(atomic_uint_fast64_t *counter)
{
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

/* Shuts k down: libmicrohttpd sees the end of the stream on its next turn
 * and closes the connection (the descriptor stays libmicrohttpd's until
 * then, so it cannot be reused under us). */
static void conn_shut(run_http_t *h, conn_t *k, atomic_uint_fast64_t *why)
{
    count(why); /* first: whoever sees the close may read the counter */
    k->closing = 1;
    h->live--;
    shutdown(k->fd, SHUT_RDWR);
}

static conn_t *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* libmicrohttpd asks before it sets a new connection up. The same rule
 * for both limits: over it, the oldest waiting connection (of the address,
 * or of all) makes room; with none waiting, the newcomer is refused. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    run_http_t *h = cls;
    unsigned char key[9];
    (void)addrlen;
    address_key(addr, key);
    unsigned same = 0;
    conn_t *oldest = NULL, *oldest_same = NULL;
    for (conn_t *k = h->head; k; k = k->next) {
        if (k->closing)
            continue;
        int mine = memcmp(k->key, key, sizeof key) == 0;
        same += (unsigned)mine;
        if (k->busy)
            continue;
        if (!oldest || k->began_ms < oldest->began_ms)
            oldest = k;
        if (mine && (!oldest_same || k->began_ms < oldest_same->began_ms))
            oldest_same = k;
    }
    if (same >= h->lim.per_address) {
        if (!oldest_same) {
            count(&h->refused_per_address);
            return MHD_NO;
        }
        /* room within the address's share is room in all */
        conn_shut(h, oldest_same, &h->closed_evicted);
        return MHD_YES;
    }
    if (h->live >= h->lim.connections) {
        if (!oldest) {
            count(&h->refused_full);
            return MHD_NO;
        }
        conn_shut(h, oldest, &h->closed_evicted);
    }
    return MHD_YES;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    run_http_t *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ca =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        conn_t *k = am_xcalloc(1, sizeof *k);
        k->fd = fd ? fd->connect_fd : -1;
        k->began_ms = am_monotonic_ms();
        address_key(ca ? ca->client_addr : NULL, k->key);
        k->prev = h->tail;
        if (h->tail)
            h->tail->next = k;
        else
            h->head = k;
        h->tail = k;
        h->live++;
        count(&h->accepted);
        count(&h->open);
        *socket_context = k;
        return;
    }
    conn_t *k = *socket_context;
    if (!k)
        return;
    if (k->prev)
        k->prev->next = k->next;
    else
        h->head = k->next;
    if (k->next)
        k->next->prev = k->prev;
    else
        h->tail = k->prev;
    if (!k->closing)
        h->live--;
    atomic_fetch_sub_explicit(&h->open, 1, memory_order_relaxed);
    free(k);
    *socket_context = NULL;
}

/* A request ended (answered, or the connection failed): the connection
 * waits for its next request, whose deadline starts now. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)toe;
    req_state_t *rs = *con_cls;
    if (rs) {
        am_buf_free(&rs->body);
        free(rs);
        *con_cls = NULL;
    }
    conn_t *k = conn_of(c);
    if (k) {
        k->busy = 0;
        k->began_ms = am_monotonic_ms();
    }
}

/* Shuts down every connection whose request is past the deadline. */
static void sweep(run_http_t *h, int64_t now_ms)
{
    for (conn_t *k = h->head; k; k = k->next)
        if (!k->closing && now_ms - k->began_ms >= (int64_t)h->lim.deadline_ms)
            conn_shut(h, k, &h->closed_deadline);
}

static enum MHD_Result reply(struct MHD_Connection *c, run_http_reply_t *rep, const char *allow)
{
    size_t len = rep->body.len;
    char *data = am_buf_steal(&rep->body);
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, data ? data : "", data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            rep->type ? rep->type : "text/plain; charset=utf-8");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    if (rep->retry_after) {
        char secs[16];
        snprintf(secs, sizeof secs, "%u", rep->retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    }
    if (rep->www_authenticate)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, rep->www_authenticate);
    for (const char *const *hd = rep->headers; hd && hd[0]; hd += 2)
        MHD_add_response_header(r, hd[0], hd[1]);
    enum MHD_Result ok = MHD_queue_response(c, rep->status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result refuse(struct MHD_Connection *c, unsigned status, const char *text,
                              const char *allow)
{
    run_http_reply_t rep = {.status = status};
    am_buf_puts(&rep.body, text);
    return reply(c, &rep, allow);
}

static enum MHD_Result answer(run_http_t *h, struct MHD_Connection *c, size_t route,
                              const char *method, const char *url, const am_buf_t *body)
{
    run_http_request_t req = {.method = method,
                              .path = url,
                              .body = body && body->len ? body->p : NULL,
                              .body_len = body ? body->len : 0,
                              .c = c,
                              .h = h};
    run_http_reply_t rep = {.status = MHD_HTTP_INTERNAL_SERVER_ERROR};
    h->routes[route].handler(h->routes[route].opaque, &req, &rep);
    return reply(c, &rep, NULL);
}

/* Whether a Content-Length header announces more than max bytes (or is
 * not a number). */
static int announced_over(struct MHD_Connection *c, size_t max)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!v)
        return 0;
    size_t n = 0;
    if (!*v)
        return 1;
    for (; *v; v++) {
        if (*v < '0' || *v > '9' || n > (SIZE_MAX - 9) / 10)
            return 1;
        n = n * 10 + (size_t)(*v - '0');
    }
    return n > max;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    run_http_t *h = cls;
    req_state_t *rs = *con_cls;
    (void)version;
    if (!rs) {
        /* The head of a request is in: the connection is no longer one
         * that eviction may take. */
        conn_t *k = conn_of(c);
        if (k)
            k->busy = 1;
        count(&h->requests);
        char allow[128];
        int i = run_http_route_find(h->routes, h->nroutes, method, url, allow, sizeof allow);
        if (i == -405)
            return refuse(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", allow);
        if (i < 0)
            return refuse(c, MHD_HTTP_NOT_FOUND, "not found\n", NULL);
        const run_http_route_t *r = &h->routes[i];
        if (announced_over(c, r->max_body)) {
            count(&h->too_large);
            return refuse(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large\n", NULL);
        }
        /* Answered on a later call, once the whole request is in:
         * libmicrohttpd closes a connection answered on the first. */
        rs = am_xcalloc(1, sizeof *rs);
        rs->route = (size_t)i;
        *con_cls = rs;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (*upload_size > h->routes[rs->route].max_body - rs->body.len) {
            /* A chunked body grew over the limit: libmicrohttpd cannot
             * answer in the middle of a body, so the connection closes. */
            count(&h->too_large);
            return MHD_NO;
        }
        am_buf_append(&rs->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    return answer(h, c, rs->route, method, url, &rs->body);
}

static void *serve(void *arg)
{
    run_http_t *h = arg;
    while (!atomic_load(&h->stop)) {
        MHD_run_wait(h->d, 100);
        sweep(h, am_monotonic_ms());
    }
    return NULL;
}

run_http_t *run_http_start(const char *name, const char *addr, const run_http_route_t *routes,
                           size_t nroutes, const run_http_limits_t *limits, char *err,
                           size_t errlen)
{
    char host[RUN_HTTP_HOSTLEN], why[512];
    int port, fd = -1;
    struct sockaddr_storage bound;
    run_http_t *h = NULL;
    if (run_http_parse_addr(addr, host, &port, why, sizeof why) != 0) {
        am_errf(err, errlen, "%s address %s", name, why);
        return NULL;
    }
    fd = listen_on(host, port, &bound, why, sizeof why);
    if (fd < 0) {
        am_errf(err, errlen, "cannot listen on %s for %s: %s", addr, name, why);
        return NULL;
    }
    h = am_xcalloc(1, sizeof *h);
    h->name = name;
    h->lim = run_http_limits_default();
    if (limits) {
        if (limits->connections)
            h->lim.connections = limits->connections;
        if (limits->per_address)
            h->lim.per_address = limits->per_address;
        if (limits->deadline_ms)
            h->lim.deadline_ms = limits->deadline_ms;
        if (limits->memory_bytes)
            h->lim.memory_bytes = limits->memory_bytes;
    }
    h->routes = am_xcalloc(nroutes ? nroutes : 1, sizeof *routes);
    if (nroutes)
        memcpy(h->routes, routes, nroutes * sizeof *routes);
    h->nroutes = nroutes;
    char numeric[RUN_HTTP_HOSTLEN], serv[8];
    if (getnameinfo((struct sockaddr *)&bound, sizeof bound, numeric, sizeof numeric, serv,
                    sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(numeric, sizeof numeric, "%s", host);
        snprintf(serv, sizeof serv, "%d", port);
    }
    snprintf(h->address, sizeof h->address, bound.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
             numeric, serv);
    /* libmicrohttpd's own limits sit well above ours (backstops only: see
     * the opening comment), so that the sweep, which counts, acts first
     * even on a starved machine. */
    unsigned idle_s = 2 * ((h->lim.deadline_ms + 999) / 1000) + 1;
    h->d =
        MHD_start_daemon(MHD_USE_EPOLL, 0, on_accept, h, on_request, h, MHD_OPTION_LISTEN_SOCKET,
                         fd, MHD_OPTION_CONNECTION_LIMIT, 2 * h->lim.connections + 16,
                         MHD_OPTION_CONNECTION_TIMEOUT, idle_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                         (size_t)h->lim.memory_bytes, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
                         h, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
    if (!h->d) {
        am_errf(err, errlen, "cannot serve %s on %s: libmicrohttpd did not start", name, addr);
        goto init_error;
    }
    fd = -1; /* libmicrohttpd's now */
    if (pthread_create(&h->thread, NULL, serve, h) != 0) {
        am_errf(err, errlen, "cannot serve %s on %s: no thread: %s", name, addr, strerror(errno));
        goto init_error;
    }
    h->running = 1;
    return h;
init_error:
    if (h->d)
        MHD_stop_daemon(h->d);
    if (fd >= 0)
        close(fd);
    free(h->routes);
    free(h);
    return NULL;
}

const char *run_http_address(const run_http_t *h)
{
    return h->address;
}

void run_http_stats(const run_http_t *h, run_http_stats_t *out)
{
    /* Casts: the counters are atomic for the readers' sake; reading does
     * not change them. */
    run_http_t *m = (run_http_t *)h;
    out->open = atomic_load_explicit(&m->open, memory_order_relaxed);
    out->accepted = atomic_load_explicit(&m->accepted, memory_order_relaxed);
    out->requests = atomic_load_explicit(&m->requests, memory_order_relaxed);
    out->refused_per_address = atomic_load_explicit(&m->refused_per_address, memory_order_relaxed);
    out->refused_full = atomic_load_explicit(&m->refused_full, memory_order_relaxed);
    out->closed_deadline = atomic_load_explicit(&m->closed_deadline, memory_order_relaxed);
    out->closed_evicted = atomic_load_explicit(&m->closed_evicted, memory_order_relaxed);
    out->requests_too_large = atomic_load_explicit(&m->too_large, memory_order_relaxed);
}

void run_http_expose(const run_http_t *const *servers, size_t n, am_buf_t *out)
{
    run_http_stats_t *s = am_xcalloc(n ? n : 1, sizeof *s);
    for (size_t i = 0; i < n; i++)
        run_http_stats(servers[i], &s[i]);
    am_buf_puts(out, "# HELP aftermath_http_connections_open HTTP connections open now.\n"
                     "# TYPE aftermath_http_connections_open gauge\n");
    for (size_t i = 0; i < n; i++)
        am_buf_printf(out, "aftermath_http_connections_open{listener=\"%s\"} %llu\n",
                      servers[i]->name, (unsigned long long)s[i].open);
    am_buf_puts(out, "# HELP aftermath_http_connections_accepted_total HTTP connections "
                     "accepted.\n"
                     "# TYPE aftermath_http_connections_accepted_total counter\n");
    for (size_t i = 0; i < n; i++)
        am_buf_printf(out, "aftermath_http_connections_accepted_total{listener=\"%s\"} %llu\n",
                      servers[i]->name, (unsigned long long)s[i].accepted);
    am_buf_puts(out, "# HELP aftermath_http_requests_total HTTP requests whose head was "
                     "received.\n"
                     "# TYPE aftermath_http_requests_total counter\n");
    for (size_t i = 0; i < n; i++)
        am_buf_printf(out, "aftermath_http_requests_total{listener=\"%s\"} %llu\n",
                      servers[i]->name, (unsigned long long)s[i].requests);
    am_buf_puts(out, "# HELP aftermath_http_connections_refused_total HTTP connections closed "
                     "at accept: every connection of the address's share (per_address) or "
                     "of the pool (full) was mid-request.\n"
                     "# TYPE aftermath_http_connections_refused_total counter\n");
    for (size_t i = 0; i < n; i++)
        am_buf_printf(out,
                      "aftermath_http_connections_refused_total{listener=\"%s\",reason=\"full\"} "
                      "%llu\n"
                      "aftermath_http_connections_refused_total{listener=\"%s\",reason=\"per_"
                      "address\"} %llu\n",
                      servers[i]->name, (unsigned long long)s[i].refused_full, servers[i]->name,
                      (unsigned long long)s[i].refused_per_address);
    am_buf_puts(out, "# HELP aftermath_http_connections_closed_total HTTP connections the "
                     "server closed: a request not received and answered within the "
                     "deadline (deadline), or waiting for a request when its address's share "
                     "or the pool was full "
                     "(evicted).\n"
                     "# TYPE aftermath_http_connections_closed_total counter\n");
    for (size_t i = 0; i < n; i++)
        am_buf_printf(out,
                      "aftermath_http_connections_closed_total{listener=\"%s\",reason="
                      "\"deadline\"} %llu\n"
                      "aftermath_http_connections_closed_total{listener=\"%s\",reason="
                      "\"evicted\"} %llu\n",
                      servers[i]->name, (unsigned long long)s[i].closed_deadline, servers[i]->name,
                      (unsigned long long)s[i].closed_evicted);
    am_buf_puts(out, "# HELP aftermath_http_requests_too_large_total HTTP requests refused "
                     "for a body over the route's limit.\n"
                     "# TYPE aftermath_http_requests_too_large_total counter\n");
    for (size_t i = 0; i < n; i++)
        am_buf_printf(out, "aftermath_http_requests_too_large_total{listener=\"%s\"} %llu\n",
                      servers[i]->name, (unsigned long long)s[i].requests_too_large);
    free(s);
}

void run_http_stop(run_http_t *h)
{
    if (!h)
        return;
    atomic_store(&h->stop, 1);
    if (h->running)
        pthread_join(h->thread, NULL);
    MHD_stop_daemon(h->d); /* closes the listening socket and every connection */
    free(h->routes);
    free(h);
}
