/*
 * fuzz_receive.c - libFuzzer target for the webhook receiver's request
 * path (run/receive.h), everything after libmicrohttpd: the source lookup
 * from the path, the Authorization header (bearer and basic), the GitHub
 * and PagerDuty signature headers, the content type, the CloudEvents ce-*
 * headers kept as record headers, the body's validation by its format and
 * the record key taken from it.
 *
 * Input: "PATH\n" then header lines "Name: value\n" up to an empty line,
 * then the body. The receiver has one source of each kind of credential
 * (files written once, in a temporary directory); the fake broker
 * acknowledges every other record. Checked: the status is one the
 * contract names; a 2xx produced exactly one record, and only after
 * credentials (a request without any is never accepted on a protected
 * source); no record header is a credential; the body produced is the
 * body given, byte for byte.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ingest/acked.h"
#include "run/config.h"
#include "run/receive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fake {
    size_t sent, calls;
    const char *body;
    size_t len;
} fake_t;

static int fake_send(void *opaque, const char *topic, const char *key, const char *value,
                     size_t len, int64_t ts_ms, const ingest_header_t *headers, size_t nheaders,
                     char *err, size_t errlen)
{
    fake_t *f = opaque;
    (void)topic, (void)key, (void)ts_ms;
    if (len != f->len || (len && memcmp(value, f->body, len) != 0))
        abort(); /* the body must go out unchanged */
    for (size_t i = 0; i < nheaders; i++)
        if (strcasecmp(headers[i].name, "authorization") == 0 ||
            strstr(headers[i].name, "signature") || strcasecmp(headers[i].name, "cookie") == 0)
            abort(); /* names are kept lower-case */
    if (++f->calls % 2 == 0) {
        snprintf(err, errlen, "down");
        return INGEST_ACKED_UNAVAILABLE;
    }
    f->sent++;
    return INGEST_ACKED_OK;
}

typedef struct hdrs {
    char *name[32], *value[32];
    size_t n;
} hdrs_t;

static const char *get(const void *ctx, const char *name)
{
    const hdrs_t *h = ctx;
    for (size_t i = 0; i < h->n; i++)
        if (strcasecmp(h->name[i], name) == 0)
            return h->value[i];
    return NULL;
}

static void each(const void *ctx, run_receive_header_cb fn, void *arg)
{
    const hdrs_t *h = ctx;
    for (size_t i = 0; i < h->n; i++)
        fn(arg, h->name[i], h->value[i]);
}

static run_receive_t *rx;
static run_config_t *cfg;
static fake_t fake;

static void setup(void)
{
    char dir[] = "/tmp/fuzz_receive.XXXXXX", path[128], err[1024];
    if (!mkdtemp(dir))
        abort();
    static const char *const files[][2] = {
        {"token", "tok"}, {"pass", "pw"}, {"gh", "ghs"}, {"pd", "pds"}};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i][0]);
        FILE *f = fopen(path, "w");
        if (!f)
            abort();
        fputs(files[i][1], f);
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/c.yaml", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fputs("receive:\n  listen: 127.0.0.1:0\n  sources:\n"
          "    - {name: alertmanager, token_file: token}\n"
          "    - {name: grafana, username: u, password_file: pass}\n"
          "    - {name: github, secret_file: gh}\n"
          "    - {name: pagerduty, secret_file: pd}\n"
          "    - {name: generic, topic: notes, token_file: token}\n"
          "    - {name: cdevents, topic: deploys, token_file: token}\n",
          f);
    fclose(f);
    cfg = run_config_build(path, NULL, NULL, 0, err, sizeof err);
    static am_log_t log;
    log = (am_log_t){.out = stderr, .level = AM_LOG_ERROR + 1};
    rx = cfg ? run_receive_create(cfg, fake_send, &fake, &log, err, sizeof err) : NULL;
    if (!rx) {
        fprintf(stderr, "fuzz_receive: %s\n", err);
        abort();
    }
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i][0]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/c.yaml", dir);
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!rx)
        setup();
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    hdrs_t h = {0};
    char *p = text, *end = text + size;
    char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) {
        free(text);
        return 0;
    }
    *nl = '\0';
    const char *path = p;
    p = nl + 1;
    while (p < end && h.n < 32) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        *nl = '\0';
        if (p == nl) { /* the empty line */
            p = nl + 1;
            break;
        }
        char *colon = strchr(p, ':');
        if (colon) {
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ')
                v++;
            h.name[h.n] = p;
            h.value[h.n++] = v;
        }
        p = nl + 1;
    }
    fake.body = p < end ? p : NULL;
    fake.len = p < end ? (size_t)(end - p) : 0;
    size_t before = fake.sent;
    run_receive_request_t req = {.method = "POST",
                                 .path = path,
                                 .header = get,
                                 .each_header = each,
                                 .ctx = &h,
                                 .body = fake.body,
                                 .len = fake.len};
    run_receive_answer_t a;
    run_receive_handle(rx, &req, &a);
    int creds = get(&h, "authorization") || get(&h, "x-hub-signature-256") ||
                get(&h, "x-pagerduty-signature");
    switch (a.status) {
    case 202:
        /* Accepted: one record, and some credential was given (every
         * source is protected). */
        if (fake.sent != before + 1 || !creds)
            abort();
        break;
    case 400:
        /* Refused; a body that does not decode, from a sender that passed
         * every other check, is kept (one record, said in the answer). */
        if (!a.message[0] || fake.sent > before + 1 ||
            (fake.sent == before + 1 && (!creds || !strstr(a.message, "kept in"))))
            abort();
        break;
    case 401:
    case 404:
    case 415:
    case 500:
    case 503:
        if (fake.sent != before || !a.message[0])
            abort();
        if (a.status == 503 && a.retry_after <= 0)
            abort();
        break;
    default:
        abort();
    }
    free(text);
    return 0;
}
