/*
 * test_receive.c - the webhook receiver's checks, without a socket
 * (run/receive.h): each source's credentials (bearer, basic, GitHub and
 * PagerDuty signatures), content types, bodies its format cannot decode,
 * the broker's answer mapped to 202/503/500, what goes into the record
 * (body unchanged, headers a decoder needs, never a credential, the
 * sender's id as key), the counters, and the config's refusal of an
 * exposed receiver without credentials.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/time.h"
#include "ingest/acked.h"
#include "run/config.h"
#include "run/receive.h"
#include "tmp_util.h"

static char dir[64];

/* --- a fake broker: records what it is given, answers as told ----------- */

typedef struct sent {
    int answer; /* what send returns */
    size_t n;
    char topic[64], key[256];
    am_buf_t value;
    int64_t ts;
    am_buf_t headers; /* "name=value\n" */
} sent_t;

static int fake_send(void *opaque, const char *topic, const char *key, const char *value,
                     size_t len, int64_t ts_ms, const ingest_header_t *headers, size_t nheaders,
                     char *err, size_t errlen)
{
    sent_t *s = opaque;
    if (s->answer != INGEST_ACKED_OK) {
        snprintf(err, errlen, "broker says no");
        return s->answer;
    }
    s->n++;
    snprintf(s->topic, sizeof s->topic, "%s", topic);
    snprintf(s->key, sizeof s->key, "%s", key ? key : "(none)");
    am_buf_free(&s->value);
    am_buf_append(&s->value, value, len);
    s->ts = ts_ms;
    am_buf_free(&s->headers);
    for (size_t i = 0; i < nheaders; i++)
        am_buf_printf(&s->headers, "%s=%s\n", headers[i].name, headers[i].value);
    return INGEST_ACKED_OK;
}

/* --- a fake request --------------------------------------------------------- */

typedef struct req {
    const char *h[16][2];
    size_t nh;
} req_t;

static const char *req_header(const void *ctx, const char *name)
{
    const req_t *r = ctx;
    for (size_t i = 0; i < r->nh; i++)
        if (strcasecmp(r->h[i][0], name) == 0)
            return r->h[i][1];
    return NULL;
}

static void req_each(const void *ctx, run_receive_header_cb fn, void *arg)
{
    const req_t *r = ctx;
    for (size_t i = 0; i < r->nh; i++)
        fn(arg, r->h[i][0], r->h[i][1]);
}

static unsigned post(run_receive_t *rx, const char *path, const req_t *r, const char *body,
                     run_receive_answer_t *a)
{
    run_receive_request_t q = {.method = "POST",
                               .path = path,
                               .header = req_header,
                               .each_header = req_each,
                               .ctx = r,
                               .body = body,
                               .len = body ? strlen(body) : 0,
                               .peer = "127.0.0.1"};
    run_receive_handle(rx, &q, a);
    return a->status;
}

/* --- fixtures ------------------------------------------------------------------ */

static const char am_body[] =
    "{\"receiver\":\"aftermath\",\"status\":\"firing\",\"groupKey\":\"{}:{alertname=\\\"A\\\"}\","
    "\"truncatedAlerts\":0,\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":"
    "{\"alertname\":\"A\",\"service\":\"web\"},\"annotations\":{},\"startsAt\":"
    "\"2024-06-18T14:29:00Z\",\"endsAt\":\"0001-01-01T00:00:00Z\",\"fingerprint\":\"abc\"}]}";

static const char pd_body[] =
    "{\"event\":{\"id\":\"01ABC\",\"event_type\":\"incident.acknowledged\",\"resource_type\":"
    "\"incident\",\"occurred_at\":\"2024-06-18T14:35:10Z\",\"agent\":{\"summary\":\"Jane Doe\","
    "\"type\":\"user_reference\"},\"data\":{\"id\":\"PGR0VU2\",\"type\":\"incident\","
    "\"incident_key\":\"web/5xx\",\"title\":\"5xx\",\"status\":\"acknowledged\",\"service\":"
    "{\"summary\":\"Web\"}}}}";

static const char gh_body[] =
    "{\"action\":\"created\",\"deployment\":{\"id\":145988746,\"sha\":\"f95f852b\",\"ref\":"
    "\"v1.4.0\",\"task\":\"deploy\",\"environment\":\"production\",\"payload\":{},\"creator\":"
    "{\"login\":\"alice\"},\"created_at\":\"2024-06-18T14:05:00Z\"},\"repository\":{\"id\":1,"
    "\"name\":\"checkout\",\"full_name\":\"shop/checkout\",\"html_url\":"
    "\"https://github.com/shop/checkout\"},\"sender\":{\"login\":\"octo\"}}";

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A receiver for a config with credentials of every kind. */
static run_receive_t *receiver(run_config_t **cfg, sent_t *sent, FILE *logf, am_log_t *log)
{
    char err[1024] = "", path[256];
    write_file("token", "s3cret-token\n");
    write_file("pass", "hunter2\n");
    write_file("gh", "gh-secret");
    write_file("pd", "pd-secret\n");
    write_file("c.yaml", "receive:\n"
                         "  listen: 0.0.0.0:0\n"
                         "  sources:\n"
                         "    - {name: alertmanager, token_file: token}\n"
                         "    - {name: grafana, username: grafana, password_file: pass}\n"
                         "    - {name: github, secret_file: gh}\n"
                         "    - {name: pagerduty, secret_file: pd}\n"
                         "    - {name: both, topic: alerts, format: alertmanager, token_file: "
                         "token, secret_file: gh}\n");
    snprintf(path, sizeof path, "%s/c.yaml", dir);
    *cfg = run_config_build(path, NULL, NULL, 0, err, sizeof err);
    if (!*cfg)
        fail_msg("%s", err);
    *log = (am_log_t){.out = logf, .level = AM_LOG_DEBUG};
    run_receive_t *rx = run_receive_create(*cfg, fake_send, sent, log, err, sizeof err);
    if (!rx)
        fail_msg("%s", err);
    return rx;
}

static void hmac_hex(const char *key, const char *body, char out[65])
{
    unsigned char mac[32];
    assert_int_equal(gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, strlen(key), body, strlen(body), mac),
                     0);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

/* --- tests ------------------------------------------------------------------------ */

static void test_bearer_and_record(void **state)
{
    (void)state;
    run_config_t *cfg;
    sent_t sent = {0};
    FILE *logf = tmpfile();
    am_log_t log;
    run_receive_t *rx = receiver(&cfg, &sent, logf, &log);
    run_receive_answer_t a;

    req_t none = {.h = {{"Content-Type", "application/json"}}, .nh = 1};
    assert_int_equal(post(rx, "/webhook/alertmanager", &none, am_body, &a), 401);
    assert_non_null(a.challenge);
    req_t wrong = {.h = {{"Content-Type", "application/json"}, {"Authorization", "Bearer nope"}},
                   .nh = 2};
    assert_int_equal(post(rx, "/webhook/alertmanager", &wrong, am_body, &a), 401);
    req_t prefix = {
        .h = {{"Content-Type", "application/json"}, {"Authorization", "Bearer s3cret-toke"}},
        .nh = 2};
    assert_int_equal(post(rx, "/webhook/alertmanager", &prefix, am_body, &a), 401);
    assert_int_equal(sent.n, 0);
    assert_int_equal(run_receive_count(rx, "alertmanager", "unauthorized"), 3);

    int64_t before = am_wall_ms();
    req_t ok = {.h = {{"Content-Type", "application/json; charset=utf-8"},
                      {"Authorization", "bearer s3cret-token"},
                      {"Cookie", "session=1"},
                      {"User-Agent", "Alertmanager/0.35.0"}},
                .nh = 4};
    assert_int_equal(post(rx, "/webhook/alertmanager", &ok, am_body, &a), 202);
    assert_int_equal(sent.n, 1);
    assert_string_equal(sent.topic, "alerts");
    assert_int_equal(sent.value.len, strlen(am_body));
    assert_memory_equal(sent.value.p, am_body, strlen(am_body)); /* unchanged */
    assert_string_equal(sent.key, "{}:{alertname=\"A\"}");       /* the groupKey */
    assert_true(sent.ts >= before && sent.ts <= am_wall_ms());
    assert_string_equal(sent.headers.p, "content-type=application/json; charset=utf-8\n");
    assert_int_equal(run_receive_count(rx, "alertmanager", "accepted"), 1);

    /* No credential reached the log. */
    fflush(logf);
    rewind(logf);
    char logtext[8192] = "";
    size_t n = fread(logtext, 1, sizeof logtext - 1, logf);
    logtext[n] = '\0';
    assert_null(strstr(logtext, "s3cret"));
    assert_null(strstr(logtext, "nope"));
    assert_non_null(strstr(logtext, "webhook refused"));

    am_buf_t m = {0};
    run_receive_expose(rx, &m);
    assert_non_null(strstr(
        m.p, "aftermath_webhook_requests_total{source=\"alertmanager\",outcome=\"accepted\"} 1\n"));
    assert_non_null(strstr(m.p, "aftermath_webhook_requests_total{source=\"alertmanager\",outcome="
                                "\"unauthorized\"} 3\n"));
    am_buf_free(&m);
    am_buf_free(&sent.value);
    am_buf_free(&sent.headers);
    run_receive_destroy(rx);
    run_config_destroy(cfg);
    fclose(logf);
}

static void test_basic_auth(void **state)
{
    (void)state;
    run_config_t *cfg;
    sent_t sent = {0};
    am_log_t log;
    run_receive_t *rx = receiver(&cfg, &sent, stderr, &log);
    run_receive_answer_t a;
    /* base64("grafana:hunter2") and base64("grafana:hunter3") */
    req_t ok = {.h = {{"Content-Type", "application/json"},
                      {"Authorization", "Basic Z3JhZmFuYTpodW50ZXIy"}},
                .nh = 2};
    req_t bad = {.h = {{"Content-Type", "application/json"},
                       {"Authorization", "Basic Z3JhZmFuYTpodW50ZXIz"}},
                 .nh = 2};
    req_t bearer = {
        .h = {{"Content-Type", "application/json"}, {"Authorization", "Bearer s3cret-token"}},
        .nh = 2};
    static const char grafana[] =
        "{\"receiver\":\"r\",\"status\":\"firing\",\"orgId\":1,\"groupKey\":\"g\",\"alerts\":[{"
        "\"status\":\"firing\",\"labels\":{\"alertname\":\"B\"},\"annotations\":{},\"startsAt\":"
        "\"2024-06-18T14:29:00Z\",\"endsAt\":\"0001-01-01T00:00:00Z\"}],\"version\":\"1\"}";
    assert_int_equal(post(rx, "/webhook/grafana", &bad, grafana, &a), 401);
    assert_int_equal(post(rx, "/webhook/grafana", &bearer, grafana, &a), 401);
    assert_int_equal(post(rx, "/webhook/grafana", &ok, grafana, &a), 202);
    assert_int_equal(sent.n, 1);
    am_buf_free(&sent.value);
    am_buf_free(&sent.headers);
    run_receive_destroy(rx);
    run_config_destroy(cfg);
}

static void test_signatures(void **state)
{
    (void)state;
    run_config_t *cfg;
    sent_t sent = {0};
    am_log_t log;
    run_receive_t *rx = receiver(&cfg, &sent, stderr, &log);
    run_receive_answer_t a;
    char hex[65], sig[80], wrong[80], pd[200];

    hmac_hex("gh-secret", gh_body, hex);
    snprintf(sig, sizeof sig, "sha256=%s", hex);
    snprintf(wrong, sizeof wrong, "sha256=%s", hex);
    wrong[10] = wrong[10] == '0' ? '1' : '0';
    req_t unsigned_req = {.h = {{"Content-Type", "application/json"}}, .nh = 1};
    req_t bad = {.h = {{"Content-Type", "application/json"}, {"X-Hub-Signature-256", wrong}},
                 .nh = 2};
    req_t good = {.h = {{"Content-Type", "application/json"},
                        {"X-Hub-Signature-256", sig},
                        {"X-GitHub-Event", "deployment"},
                        {"X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"}},
                  .nh = 4};
    assert_int_equal(post(rx, "/webhook/github", &unsigned_req, gh_body, &a), 401);
    assert_int_equal(post(rx, "/webhook/github", &bad, gh_body, &a), 401);
    assert_int_equal(run_receive_count(rx, "github", "bad_signature"), 2);
    /* The right signature of another body. */
    char other[sizeof gh_body];
    memcpy(other, gh_body, sizeof gh_body);
    other[strlen(other) - 3] = 'x';
    assert_int_equal(post(rx, "/webhook/github", &good, other, &a), 401);
    assert_int_equal(post(rx, "/webhook/github", &good, gh_body, &a), 202);
    assert_string_equal(sent.topic, "deploys");
    assert_string_equal(sent.key, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    assert_non_null(strstr(sent.headers.p, "x-github-event=deployment\n"));
    assert_null(strstr(sent.headers.p, "signature")); /* never copied */

    /* PagerDuty: any of several v1 signatures (a secret being rotated). */
    hmac_hex("pd-secret", pd_body, hex);
    snprintf(pd, sizeof pd, "v1=%064d, v1=%s", 0, hex);
    req_t pdreq = {.h = {{"Content-Type", "application/json"}, {"X-PagerDuty-Signature", pd}},
                   .nh = 2};
    assert_int_equal(post(rx, "/webhook/pagerduty", &pdreq, pd_body, &a), 202);
    assert_string_equal(sent.topic, "acks");
    assert_string_equal(sent.key, "01ABC"); /* event.id */
    snprintf(pd, sizeof pd, "v1=%064d", 0);
    assert_int_equal(post(rx, "/webhook/pagerduty", &pdreq, pd_body, &a), 401);

    /* Token and signature both required where both are set. */
    hmac_hex("gh-secret", am_body, hex);
    snprintf(sig, sizeof sig, "sha256=%s", hex);
    req_t tok_only = {
        .h = {{"Content-Type", "application/json"}, {"Authorization", "Bearer s3cret-token"}},
        .nh = 2};
    req_t both = {.h = {{"Content-Type", "application/json"},
                        {"Authorization", "Bearer s3cret-token"},
                        {"X-Hub-Signature-256", sig}},
                  .nh = 3};
    assert_int_equal(post(rx, "/webhook/both", &tok_only, am_body, &a), 401);
    assert_int_equal(post(rx, "/webhook/both", &both, am_body, &a), 202);
    am_buf_free(&sent.value);
    am_buf_free(&sent.headers);
    run_receive_destroy(rx);
    run_config_destroy(cfg);
}

static void test_refusals(void **state)
{
    (void)state;
    run_config_t *cfg;
    sent_t sent = {0};
    am_log_t log;
    run_receive_t *rx = receiver(&cfg, &sent, stderr, &log);
    run_receive_answer_t a;
    req_t text = {.h = {{"Content-Type", "application/x-www-form-urlencoded"},
                        {"Authorization", "Bearer s3cret-token"}},
                  .nh = 2};
    req_t json = {
        .h = {{"Content-Type", "application/json"}, {"Authorization", "Bearer s3cret-token"}},
        .nh = 2};
    assert_int_equal(post(rx, "/webhook/nosuch", &json, am_body, &a), 404);
    assert_int_equal(post(rx, "/webhook/", &json, am_body, &a), 404);
    assert_int_equal(post(rx, "/webhook/alertmanager", &text, am_body, &a), 415);
    assert_int_equal(post(rx, "/webhook/alertmanager", &json, "", &a), 400);
    assert_int_equal(post(rx, "/webhook/alertmanager", &json, "{\"alerts\":[", &a), 400);
    assert_int_equal(post(rx, "/webhook/alertmanager", &json, gh_body, &a), 400);
    assert_non_null(strstr(a.message, "not a alertmanager payload"));
    assert_non_null(strstr(a.message, "kept in aftermath's rejected records"));
    assert_int_equal(run_receive_count(rx, "alertmanager", "malformed"), 3);
    assert_int_equal(run_receive_count(rx, "alertmanager", "bad_content_type"), 1);
    /* the two bodies that did not decode are kept (the consumer stores
     * them as rejected), marked with the reason; the empty one is not */
    assert_int_equal(sent.n, 2);
    assert_string_equal(sent.value.p, gh_body);
    assert_non_null(strstr(sent.headers.p, "aftermath-refused="));
    sent.n = 0;

    sent.answer = INGEST_ACKED_UNAVAILABLE;
    assert_int_equal(post(rx, "/webhook/alertmanager", &json, am_body, &a), 503);
    assert_int_equal(a.retry_after, 5);
    sent.answer = INGEST_ACKED_REFUSED;
    assert_int_equal(post(rx, "/webhook/alertmanager", &json, am_body, &a), 500);
    assert_int_equal(run_receive_count(rx, "alertmanager", "unavailable"), 1);
    assert_int_equal(run_receive_count(rx, "alertmanager", "failed"), 1);

    run_receive_request_t get = {.method = "GET",
                                 .path = "/webhook/alertmanager",
                                 .header = req_header,
                                 .each_header = req_each,
                                 .ctx = &json};
    run_receive_handle(rx, &get, &a);
    assert_int_equal(a.status, 405);
    am_buf_free(&sent.value);
    am_buf_free(&sent.headers);
    run_receive_destroy(rx);
    run_config_destroy(cfg);
}

/* Binary-mode CloudEvents: the ce-* headers travel as ce_* record headers. */
static void test_cloudevents_headers(void **state)
{
    (void)state;
    char err[1024] = "";
    const run_config_flag_t flags[] = {{"receive", "127.0.0.1:0", "--receive"}};
    run_config_t *cfg = run_config_build(NULL, NULL, flags, 1, err, sizeof err);
    assert_non_null(cfg);
    sent_t sent = {0};
    am_log_t log = {.out = stderr, .level = AM_LOG_ERROR};
    run_receive_t *rx = run_receive_create(cfg, fake_send, &sent, &log, err, sizeof err);
    assert_non_null(rx);
    run_receive_answer_t a;
    static const char data[] =
        "{\"context\":{\"id\":\"c1\",\"source\":\"/ci\",\"type\":"
        "\"dev.cdevents.service.deployed.0.1.1\",\"timestamp\":\"2024-06-18T14:05:00Z\","
        "\"version\":\"0.3.0\"},\"subject\":{\"id\":\"checkout\",\"source\":\"/ci\",\"type\":"
        "\"service\",\"content\":{\"environment\":{\"id\":\"prod\"},\"artifactId\":"
        "\"pkg:oci/checkout@sha256:abc\"}}}";
    req_t ce = {.h = {{"Content-Type", "application/json"},
                      {"ce-specversion", "1.0"},
                      {"ce-id", "evt-1"},
                      {"ce-source", "/ci"},
                      {"ce-type", "dev.cdevents.service.deployed.0.1.1"},
                      {"Authorization", "Bearer x"},
                      {"ce-authtoken", "s3cret"},
                      {"ce-Signature", "abc"}},
                .nh = 8};
    assert_int_equal(post(rx, "/webhook/cdevents", &ce, data, &a), 202);
    assert_string_equal(sent.topic, "deploys");
    assert_string_equal(sent.key, "evt-1");
    assert_non_null(strstr(sent.headers.p, "ce_specversion=1.0\n"));
    assert_non_null(strstr(sent.headers.p, "ce_type=dev.cdevents.service.deployed.0.1.1\n"));
    assert_null(strstr(sent.headers.p, "authorization"));
    assert_null(strstr(sent.headers.p, "authtoken")); /* an extension named like a credential */
    assert_null(strstr(sent.headers.p, "signature"));
    am_buf_free(&sent.value);
    am_buf_free(&sent.headers);
    run_receive_destroy(rx);
    run_config_destroy(cfg);
}

/* The configuration: off by default; an exposed receiver needs
 * credentials on every source; roles; credential files read at start. */
static void test_config(void **state)
{
    (void)state;
    char err[1024] = "";
    run_config_t *cfg = run_config_build(NULL, NULL, NULL, 0, err, sizeof err);
    assert_null(cfg->receive);
    size_t n;
    const run_config_webhook_t *w = run_config_webhooks(cfg, &n);
    assert_int_equal(n, 7);
    assert_string_equal(w[0].name, "alertmanager");
    assert_string_equal(w[2].topic, "acks");
    run_config_destroy(cfg);

    const run_config_flag_t flags[] = {
        {"kafka.bootstrap.servers", "k:9092", "--brokers"},
        {"topics", "alerts", "--topic"},
        {"receive", "0.0.0.0:10792", "--receive"},
    };
    cfg = run_config_build(NULL, NULL, flags, 3, err, sizeof err);
    assert_non_null(cfg);
    assert_int_equal(run_config_check(cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "'alertmanager' has no token_file"));
    run_config_destroy(cfg);

    const run_config_flag_t local[] = {
        {"kafka.bootstrap.servers", "k:9092", "--brokers"},
        {"receive", "127.0.0.1:10792", "--receive"},
        {"role", "receive", "--role"},
    };
    cfg = run_config_build(NULL, NULL, local, 3, err, sizeof err);
    assert_int_equal(run_config_check(cfg, err, sizeof err), 0);
    run_config_destroy(cfg);

    const run_config_flag_t view[] = {
        {"kafka.bootstrap.servers", "k:9092", "--brokers"},
        {"receive", "127.0.0.1:10792", "--receive"},
        {"role", "view", "--role"},
        {"incidents_topic", "inc", "--x"},
    };
    cfg = run_config_build(NULL, NULL, view, 4, err, sizeof err);
    assert_int_equal(run_config_check(cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "role all or receive"));
    run_config_destroy(cfg);

    char path[256];
    write_file("r.yaml", "receive:\n  listen: 127.0.0.1:0\n  sources:\n"
                         "    - {name: x, topic: t, format: generic, token_file: missing}\n");
    snprintf(path, sizeof path, "%s/r.yaml", dir);
    cfg = run_config_build(path, NULL, NULL, 0, err, sizeof err);
    assert_non_null(cfg);
    sent_t sent = {0};
    am_log_t log = {.out = stderr, .level = AM_LOG_ERROR};
    assert_null(run_receive_create(cfg, fake_send, &sent, &log, err, sizeof err));
    assert_non_null(strstr(err, "receive: source x: token_file"));
    assert_non_null(strstr(err, "/missing"));
    run_config_destroy(cfg);

    static const struct {
        const char *yaml, *why;
    } bad[] = {
        {"receive:\n  sources:\n    - {name: Bad/Name, topic: t, format: generic}\n", "a-z, 0-9"},
        {"receive:\n  sources:\n    - {name: x, topic: t}\n", "a topic and a format"},
        {"receive:\n  sources:\n    - {name: x, topic: t, format: nope}\n", "unknown format"},
        {"receive:\n  sources:\n    - {name: x, topic: t, format: generic, username: u}\n",
         "both username and password_file"},
        {"receive:\n  sources:\n    - {name: x, topic: t, format: generic, signature: github}\n",
         "signature needs secret_file"},
        {"receive:\n  sources:\n    - {name: github}\n    - {name: github}\n", "named twice"},
        {"receive:\n  listne: 127.0.0.1:1\n", "unknown key 'listne'"},
        {"receive:\n  max_body_bytes: 10\n", "max_body_bytes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file("b.yaml", bad[i].yaml);
        snprintf(path, sizeof path, "%s/b.yaml", dir);
        err[0] = '\0';
        run_config_t *c = run_config_build(path, NULL, NULL, 0, err, sizeof err);
        if (c || !strstr(err, bad[i].why) || !strstr(err, "b.yaml:"))
            fail_msg("case %zu: %s", i, c ? "accepted" : err);
    }
}

/* receive.token_file, from the environment as containers give it, covers
 * every default source: an exposed receiver is then allowed, and each
 * source wants that token. */
static void test_shared_token(void **state)
{
    (void)state;
    char err[1024] = "", tokvar[256];
    write_file("shared", "shared-token\n");
    snprintf(tokvar, sizeof tokvar, "AFTERMATH_RECEIVE_TOKEN_FILE=%s/shared", dir);
    char *env[] = {"AFTERMATH_RECEIVE=0.0.0.0:0", tokvar, "AFTERMATH_RECEIVE_NOPE=1", NULL};
    const run_config_flag_t flags[] = {{"kafka.bootstrap.servers", "k:9092", "--brokers"},
                                       {"topics", "alerts", "--topic"}};
    run_config_t *cfg = run_config_build(NULL, env, flags, 2, err, sizeof err);
    if (!cfg)
        fail_msg("%s", err);
    assert_int_equal(run_config_check(cfg, err, sizeof err), 0);
    sent_t sent = {0};
    am_log_t log = {.out = stderr, .level = AM_LOG_ERROR};
    run_receive_t *rx = run_receive_create(cfg, fake_send, &sent, &log, err, sizeof err);
    if (!rx)
        fail_msg("%s", err);
    run_receive_answer_t a;
    req_t none = {.h = {{"Content-Type", "application/json"}}, .nh = 1};
    req_t ok = {
        .h = {{"Content-Type", "application/json"}, {"Authorization", "Bearer shared-token"}},
        .nh = 2};
    assert_int_equal(post(rx, "/webhook/alertmanager", &none, am_body, &a), 401);
    assert_int_equal(post(rx, "/webhook/alertmanager", &ok, am_body, &a), 202);
    assert_int_equal(post(rx, "/webhook/pagerduty", &ok, pd_body, &a), 202);
    am_buf_free(&sent.value);
    am_buf_free(&sent.headers);
    run_receive_destroy(rx);
    run_config_destroy(cfg);
}

static int setup(void **state)
{
    (void)state;
    tmp_dir(dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tmp_rm_rf(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bearer_and_record),   cmocka_unit_test(test_basic_auth),
        cmocka_unit_test(test_signatures),          cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_cloudevents_headers), cmocka_unit_test(test_config),
        cmocka_unit_test(test_shared_token),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
