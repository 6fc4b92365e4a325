/*
 * receive.c - webhook POSTs to Kafka records (see receive.h for the
 * contract, docs/webhooks.md for the user's view).
 *
 * Design: a request is checked completely before anything is produced,
 * and the answer waits for the broker's acknowledgement of the one record
 * it made (run_receive_send_fn, ingest/acked.h in the daemon), so a 2xx
 * means Kafka holds the body. The body is validated by decoding it with
 * the source's format (the same decoder the consumer runs), so a sender
 * that posts what aftermath cannot read learns it at once (400); what is
 * produced is the body as received, byte for byte. A body that does not
 * decode, from a sender that passed every other check, is still produced
 * (header aftermath-refused: the reason), so that the consumer keeps it in
 * the rejected table like every bad input, with its own reason; the answer
 * stays 400 whether or not Kafka took it.
 *
 * Credentials are read once, at start, from files; they are compared in
 * constant time (a loop over the whole value, no early exit) and never
 * logged, copied into a record or echoed in an answer. Basic auth is
 * compared in its encoded form (base64 of "user:password", made once), so
 * no attacker-supplied base64 is ever decoded. Signatures are HMAC-SHA256
 * of the raw body (GnuTLS), as GitHub and PagerDuty compute them.
 *
 * Counters are per source and outcome, atomics, so any thread may handle
 * a request while another renders /metrics.
 */
#include "common/buf.h"
#include "run/receive.h"
#include "common/time.h"
#include "ingest/acked.h"
#include "ingest/decode.h"

#include <ctype.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

enum {
    O_ACCEPTED,
    O_UNAUTHORIZED,
    O_BAD_SIGNATURE,
    O_BAD_CONTENT_TYPE,
    O_MALFORMED,
    O_UNAVAILABLE,
    O_FAILED,
    NOUTCOMES
};
static const char *const outcome_name[NOUTCOMES] = {
    "accepted",  "unauthorized", "bad_signature", "bad_content_type",
    "malformed", "unavailable",  "failed",
};

/* The longest credential file read. */
#define SECRET_MAX 4096

typedef struct source {
    const run_config_webhook_t *cfg;
    char *token; /* bearer token, or NULL */
    size_t token_len;
    char *basic; /* base64("user:password"), or NULL */
    size_t basic_len;
    char *secret; /* HMAC key, or NULL */
    size_t secret_len;
    _Atomic uint64_t count[NOUTCOMES];
} source_t;

struct run_receive {
    source_t *sources;
    size_t nsources;
    run_receive_send_fn send;
    void *opaque;
    ingest_decoder_t *dec;
    const am_log_t *log;
    int retry_after; /* seconds */
    _Atomic uint64_t unknown;
};

/* --- credentials ---------------------------------------------------------- */

static void wipe_free(char *p, size_t n)
{
    if (!p)
        return;
    volatile char *v = p;
    for (size_t i = 0; i < n; i++)
        v[i] = 0;
    free(p);
}

/* Reads a credential file: its content without the trailing newline and
 * white space. Returns it (owned) with *len, or NULL with err. */
static char *read_secret(const char *path, const char *what, const char *source,
                         const am_log_t *log, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        am_errf(err, errlen, "receive: source %s: %s %s: %s", source, what, path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & (S_IRGRP | S_IROTH | S_IWGRP | S_IWOTH))) {
        char mode[8];
        snprintf(mode, sizeof mode, "%04o", (unsigned)(sb.st_mode & 07777));
        am_log(log, AM_LOG_WARN, "a webhook credential file is readable or writable by others",
               "source", source, "file", path, "mode", mode, NULL);
    }
    char *buf = am_xcalloc(1, SECRET_MAX + 1);
    size_t n = fread(buf, 1, SECRET_MAX + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n > SECRET_MAX) {
        wipe_free(buf, SECRET_MAX + 1);
        am_errf(err, errlen, "receive: source %s: %s %s: %s", source, what, path,
                bad ? "cannot be read" : "longer than 4096 bytes");
        return NULL;
    }
    while (n > 0 && isspace((unsigned char)buf[n - 1]))
        buf[--n] = '\0';
    if (n == 0 || memchr(buf, '\0', n)) {
        wipe_free(buf, SECRET_MAX + 1);
        am_errf(err, errlen, "receive: source %s: %s %s: %s", source, what, path,
                n ? "holds a NUL byte" : "is empty");
        return NULL;
    }
    *len = n;
    return buf;
}

/* Equal in constant time for a given length: every byte is looked at. */
static bool same(const char *a, size_t alen, const char *b, size_t blen)
{
    unsigned char d = alen != blen;
    size_t n = alen < blen ? alen : blen;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

/* The credentials of an Authorization header of scheme ("Bearer",
 * "Basic"), or NULL. */
static const char *credentials(const char *auth, const char *scheme, size_t *len)
{
    size_t s = strlen(scheme);
    if (!auth || strncasecmp(auth, scheme, s) != 0 || auth[s] != ' ')
        return NULL;
    const char *p = auth + s;
    while (*p == ' ')
        p++;
    size_t n = strlen(p);
    while (n > 0 && p[n - 1] == ' ')
        n--;
    *len = n;
    return p;
}

/* hex[0..n) as 32 bytes into out. Returns 0, or -1 when it is not 64 hex
 * digits. */
static int unhex32(const char *hex, size_t n, unsigned char out[32])
{
    if (n != 64)
        return -1;
    for (size_t i = 0; i < 32; i++) {
        int hi = am_hex_digit(hex[2 * i]), lo = am_hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

/* Is one of the signatures in header (GitHub: "sha256=HEX"; PagerDuty:
 * "v1=HEX[,v1=HEX...]") the HMAC-SHA256 of the body under the secret? */
static bool signed_by(const source_t *s, const char *header, const char *body, size_t len)
{
    unsigned char mac[32], given[32];
    if (!header ||
        gnutls_hmac_fast(GNUTLS_MAC_SHA256, s->secret, s->secret_len, body, len, mac) != 0)
        return false;
    bool github = strcmp(s->cfg->signature, "github") == 0;
    const char *prefix = github ? "sha256=" : "v1=";
    size_t plen = strlen(prefix);
    bool ok = false;
    for (const char *p = header; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m > 0 && p[m - 1] == ' ')
            m--;
        if (m > plen && strncmp(p, prefix, plen) == 0 && unhex32(p + plen, m - plen, given) == 0)
            ok |= same((const char *)mac, 32, (const char *)given, 32);
        p += n;
        if (github)
            break; /* GitHub sends one */
    }
    return ok;
}

/* --- the request -------------------------------------------------------------- */

static source_t *source_named(run_receive_t *r, const char *path)
{
    static const char prefix[] = "/webhook/";
    if (strncmp(path, prefix, sizeof prefix - 1) != 0)
        return NULL;
    const char *name = path + sizeof prefix - 1;
    for (size_t i = 0; i < r->nsources; i++)
        if (strcmp(r->sources[i].cfg->name, name) == 0)
            return &r->sources[i];
    return NULL;
}

/* Does the media type (before any ';') say JSON: application/json, or a
 * +json suffix (application/cloudevents+json)? */
static bool is_json_media(const char *type)
{
    if (!type)
        return false;
    while (*type == ' ')
        type++;
    size_t n = strcspn(type, "; ");
    return (n == 16 && strncasecmp(type, "application/json", 16) == 0) ||
           (n > 5 && strncasecmp(type + n - 5, "+json", 5) == 0);
}

/* The headers that go with the record. */
typedef struct kept {
    char *name[64];
    char *value[64];
    size_t n;
    const char *ce_id;
    const char *delivery;
} kept_t;

static void keep_header(void *arg, const char *name, const char *value)
{
    kept_t *k = arg;
    static const char *const wanted[] = {
        "content-type", "x-github-event", "x-github-delivery", "x-github-hook-id", "x-webhook-id",
        "x-request-id", "x-gitlab-event", "x-event-key",       "x-grafana-org-id",
    };
    if (!name || !value || k->n >= 64)
        return;
    char lower[128];
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof lower)
        return;
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    bool ce = strncmp(lower, "ce-", 3) == 0 && n > 3;
    bool want = ce;
    for (size_t i = 0; !want && i < sizeof wanted / sizeof wanted[0]; i++)
        want = strcmp(lower, wanted[i]) == 0;
    /* A CloudEvents extension named like a credential stays out too. */
    static const char *const secretish[] = {"auth",     "signature", "token",     "secret",
                                            "password", "cookie",    "credential"};
    for (size_t i = 0; ce && i < sizeof secretish / sizeof secretish[0]; i++)
        if (strstr(lower, secretish[i]))
            want = false;
    if (!want)
        return; /* credentials (Authorization, signatures, cookies) never pass */
    if (ce)
        lower[2] = '_'; /* the Kafka binding's ce_<attribute> */
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->name[i], lower) == 0)
            return; /* the first of a repeated header */
    k->name[k->n] = am_xstrdup(lower);
    k->value[k->n] = am_xstrdup(value);
    if (strcmp(lower, "ce_id") == 0)
        k->ce_id = k->value[k->n];
    if (strcmp(lower, "x-github-delivery") == 0)
        k->delivery = k->value[k->n];
    k->n++;
}

static void kept_free(kept_t *k)
{
    for (size_t i = 0; i < k->n; i++) {
        free(k->name[i]);
        free(k->value[i]);
    }
}

/* The kept headers as kcat's JSON array, for the decoder; owned. */
static char *kept_json(const kept_t *k)
{
    if (k->n == 0)
        return NULL;
    json_t *a = json_array();
    for (size_t i = 0; i < k->n; i++) {
        json_array_append_new(a, json_string(k->name[i]));
        json_array_append_new(a, json_string(k->value[i]));
    }
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

/* The sender's own id for the record key: a header's, else the body's
 * (Alertmanager's and Grafana's groupKey, PagerDuty v3's event.id, a
 * CDEvent's context.id, a generic event's id). Owned, or NULL. */
static char *record_key(const kept_t *k, const json_t *root)
{
    if (k->delivery)
        return am_xstrdup(k->delivery);
    if (k->ce_id)
        return am_xstrdup(k->ce_id);
    const json_t *v = json_object_get(root, "groupKey");
    if (!json_is_string(v))
        v = json_object_get(json_object_get(root, "event"), "id");
    if (!json_is_string(v))
        v = json_object_get(json_object_get(root, "context"), "id");
    if (!json_is_string(v))
        v = json_object_get(root, "id");
    return json_is_string(v) ? am_xstrdup(json_string_value(v)) : NULL;
}

static void answer(run_receive_t *r, source_t *s, int outcome, const run_receive_request_t *req,
                   run_receive_answer_t *a, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static void answer(run_receive_t *r, source_t *s, int outcome, const run_receive_request_t *req,
                   run_receive_answer_t *a, unsigned status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    a->status = status;
    vsnprintf(a->message, sizeof a->message, fmt, ap);
    va_end(ap);
    atomic_fetch_add(&s->count[outcome], 1);
    char code[8];
    snprintf(code, sizeof code, "%u", status);
    am_log(r->log, status >= 500 ? AM_LOG_ERROR : AM_LOG_WARN, "webhook refused", "source",
           s->cfg->name, "status", code, "reason", a->message, "peer", req->peer ? req->peer : "-",
           NULL);
}

void run_receive_handle(run_receive_t *r, const run_receive_request_t *req, run_receive_answer_t *a)
{
    memset(a, 0, sizeof *a);
    source_t *s = req->path ? source_named(r, req->path) : NULL;
    if (!s) {
        atomic_fetch_add(&r->unknown, 1);
        a->status = 404;
        snprintf(a->message, sizeof a->message, "no webhook source at this path");
        return;
    }
    if (!req->method || strcmp(req->method, "POST") != 0) {
        a->status = 405;
        snprintf(a->message, sizeof a->message, "webhooks are POSTed");
        return;
    }
    /* Who: a token or basic auth when the source has either, then its
     * signature when it has a secret. */
    const char *auth = req->header(req->ctx, "Authorization");
    if (s->token || s->basic) {
        size_t n = 0;
        const char *c;
        bool ok = false;
        if (s->token && (c = credentials(auth, "Bearer", &n)) != NULL)
            ok = same(c, n, s->token, s->token_len);
        if (!ok && s->basic && (c = credentials(auth, "Basic", &n)) != NULL)
            ok = same(c, n, s->basic, s->basic_len);
        if (!ok) {
            a->challenge = s->token ? "Bearer realm=\"aftermath\"" : "Basic realm=\"aftermath\"";
            answer(r, s, O_UNAUTHORIZED, req, a, 401, "%s",
                   auth ? "wrong credentials" : "credentials required (Authorization header)");
            return;
        }
    }
    if (s->secret) {
        const char *h = strcmp(s->cfg->signature, "github") == 0
                            ? req->header(req->ctx, "X-Hub-Signature-256")
                            : req->header(req->ctx, "X-PagerDuty-Signature");
        if (!signed_by(s, h, req->body ? req->body : "", req->len)) {
            answer(r, s, O_BAD_SIGNATURE, req, a, 401, "%s",
                   h ? "the signature does not match the body" : "the signature header is missing");
            return;
        }
    }
    /* What: JSON, decodable by the source's format. */
    const char *type = req->header(req->ctx, "Content-Type");
    if (!is_json_media(type) && !req->header(req->ctx, "ce-specversion")) {
        answer(r, s, O_BAD_CONTENT_TYPE, req, a, 415,
               "Content-Type must be application/json (got %s)", type ? type : "none");
        return;
    }
    if (!req->body || req->len == 0) {
        answer(r, s, O_MALFORMED, req, a, 400, "%s", "empty body");
        return;
    }
    kept_t k = {0};
    if (req->each_header)
        req->each_header(req->ctx, keep_header, &k);
    char *hjson = kept_json(&k);
    am_record_t rec = {.payload = req->body,
                       .len = req->len,
                       .headers = hjson,
                       .topic = s->cfg->topic,
                       .partition = -1,
                       .offset = -1,
                       .ts = AM_TIME_NONE};
    am_event_list_t events = {0};
    char why[768] = "";
    int rc = ingest_decode_record(r->dec, &rec, s->cfg->format, &events, why, sizeof why);
    am_event_list_free(&events);
    bool refused = rc != 0;
    json_t *root = json_loadb(req->body, req->len, 0, NULL);
    char *key = record_key(&k, root);
    json_decref(root);
    ingest_header_t hdrs[65];
    for (size_t i = 0; i < k.n; i++)
        hdrs[i] = (ingest_header_t){k.name[i], k.value[i]};
    size_t nh = k.n;
    if (refused)
        hdrs[nh++] = (ingest_header_t){"aftermath-refused", why};
    char err[512] = "";
    rc = r->send(r->opaque, s->cfg->topic, key, req->body, req->len, am_wall_ms(), hdrs, nh, err,
                 sizeof err);
    free(key);
    free(hjson);
    kept_free(&k);
    if (refused) {
        answer(r, s, O_MALFORMED, req, a, 400, "not a %s payload: %s%s", s->cfg->format, why,
               rc == INGEST_ACKED_OK ? " (kept in aftermath's rejected records)" : "");
        return;
    }
    if (rc == INGEST_ACKED_OK) {
        a->status = 202;
        snprintf(a->message, sizeof a->message, "accepted");
        atomic_fetch_add(&s->count[O_ACCEPTED], 1);
    } else if (rc == INGEST_ACKED_UNAVAILABLE) {
        a->retry_after = r->retry_after;
        answer(r, s, O_UNAVAILABLE, req, a, 503, "Kafka did not take the record: %s", err);
    } else {
        answer(r, s, O_FAILED, req, a, 500, "Kafka refused the record: %s", err);
    }
}

/* --- life ------------------------------------------------------------------------ */

run_receive_t *run_receive_create(const run_config_t *cfg, run_receive_send_fn send, void *opaque,
                                  const am_log_t *log, char *err, size_t errlen)
{
    run_receive_t *r = am_xcalloc(1, sizeof *r);
    size_t n;
    const run_config_webhook_t *w = run_config_webhooks(cfg, &n);
    r->sources = am_xcalloc(n, sizeof *r->sources);
    r->nsources = n;
    r->send = send;
    r->opaque = opaque;
    r->log = log;
    r->retry_after = (int)((cfg->receive_ack_timeout_ms + 999) / 1000);
    r->dec = ingest_decoder_create(NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        source_t *s = &r->sources[i];
        s->cfg = &w[i];
        /* receive.token_file protects the sources that have nothing else. */
        const char *token_file = w[i].token_file;
        if (!token_file && !w[i].password_file && !w[i].secret_file)
            token_file = cfg->receive_token_file;
        if (token_file && !(s->token = read_secret(token_file, "token_file", w[i].name, log,
                                                   &s->token_len, err, errlen)))
            goto init_error;
        if (w[i].password_file) {
            size_t plen;
            char *pass = read_secret(w[i].password_file, "password_file", w[i].name, log, &plen,
                                     err, errlen);
            if (!pass)
                goto init_error;
            am_buf_t up = {0};
            am_buf_printf(&up, "%s:", w[i].username);
            am_buf_append(&up, pass, plen);
            wipe_free(pass, plen);
            gnutls_datum_t in = {(unsigned char *)up.p, (unsigned)up.len}, out = {NULL, 0};
            int grc = gnutls_base64_encode2(&in, &out);
            wipe_free(am_buf_steal(&up), in.size);
            if (grc != 0) {
                am_errf(err, errlen, "receive: source %s: cannot encode basic auth", w[i].name);
                goto init_error;
            }
            s->basic = am_xstrndup((const char *)out.data, out.size);
            s->basic_len = out.size;
            gnutls_free(out.data);
        }
        if (w[i].secret_file &&
            !(s->secret = read_secret(w[i].secret_file, "secret_file", w[i].name, log,
                                      &s->secret_len, err, errlen)))
            goto init_error;
    }
    return r;

init_error:
    run_receive_destroy(r);
    return NULL;
}

void run_receive_expose(run_receive_t *r, am_buf_t *out)
{
    am_buf_puts(out, "# HELP aftermath_webhook_requests_total Webhook POSTs by source and "
                     "outcome (accepted: in Kafka; the others were refused).\n"
                     "# TYPE aftermath_webhook_requests_total counter\n");
    for (size_t i = 0; i < r->nsources; i++)
        for (int o = 0; o < NOUTCOMES; o++)
            am_buf_printf(out,
                          "aftermath_webhook_requests_total{source=\"%s\",outcome=\"%s\"} %llu\n",
                          r->sources[i].cfg->name, outcome_name[o],
                          (unsigned long long)atomic_load(&r->sources[i].count[o]));
    am_buf_printf(out,
                  "# HELP aftermath_webhook_unknown_source_total Requests to a webhook path no "
                  "source has.\n# TYPE aftermath_webhook_unknown_source_total counter\n"
                  "aftermath_webhook_unknown_source_total %llu\n",
                  (unsigned long long)atomic_load(&r->unknown));
}

uint64_t run_receive_count(run_receive_t *r, const char *source, const char *outcome)
{
    for (size_t i = 0; i < r->nsources; i++)
        if (strcmp(r->sources[i].cfg->name, source) == 0)
            for (int o = 0; o < NOUTCOMES; o++)
                if (strcmp(outcome_name[o], outcome) == 0)
                    return atomic_load(&r->sources[i].count[o]);
    return 0;
}

void run_receive_destroy(run_receive_t *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nsources; i++) {
        wipe_free(r->sources[i].token, r->sources[i].token_len);
        wipe_free(r->sources[i].basic, r->sources[i].basic_len);
        wipe_free(r->sources[i].secret, r->sources[i].secret_len);
    }
    free(r->sources);
    ingest_decoder_destroy(r->dec);
    free(r);
}
