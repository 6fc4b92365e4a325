/*
 * fuzz_ui.c - libFuzzer target for the web pages' requests (run/ui.c):
 * the input is a request target "PATH?QUERY" (a first line "POST " or
 * "HEAD " picks the method) answered by run_ui_answer_url on a store that
 * holds two incidents (one open, with a hostile note), so the query split,
 * the filter parsing and every page renderer run on hostile paths and
 * parameters.
 *
 * Form bodies: an input "FORM PATH\nBODY" is a POST of BODY (as
 * application/x-www-form-urlencoded) to PATH by a signed-in client with
 * the forms' CSRF token put first ("csrf=...&" + BODY), so the form
 * parsing, the checks of every field and the event builder run (a good
 * correction is stored: the store grows as the fuzzer finds them); "ANON
 * PATH\nBODY" posts without the session and must be refused (403).
 *
 * Checked: the answer is one of the statuses the pages give; every
 * answer but the static files and the redirect carries the CSP header;
 * an HTML answer never holds a <script> element other than our own
 * script tag, nor the hostile note's markup unescaped.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "correlate/engine.h"
#include "correlate/rules.h"
#include "ingest/decode.h"
#include "run/pipeline.h"
#include "run/ui.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char RULES[] = "version: 1\n"
                            "rules:\n"
                            "  - name: r\n"
                            "    match: ['severity=\"page\"']\n"
                            "    group_by: [cluster]\n"
                            "    gap: 30m\n"
                            "    quiet: 10m\n";

static const char *const EVENTS[] = {
    "{\"kind\":\"alert\",\"name\":\"Latency\",\"starts_at\":\"2025-01-01T10:00:00Z\","
    "\"ends_at\":\"2025-01-01T10:20:00Z\",\"labels\":{\"severity\":\"page\",\"cluster\":\"a\","
    "\"service\":\"web\"}}",
    "{\"kind\":\"alert\",\"name\":\"Down\",\"starts_at\":\"2025-01-02T10:00:00Z\","
    "\"labels\":{\"severity\":\"page\",\"cluster\":\"b\",\"service\":\"api\"}}",
    "{\"kind\":\"note\",\"at\":\"2025-01-02T10:05:00Z\",\"actor\":\"m\",\"summary\":"
    "\"<script>alert(1)</script><img src=x onerror=alert(2)>\",\"labels\":{\"cluster\":\"b\"}}",
};

static run_ui_t *ui;
static char session[256]; /* "aftermath_edit=..." after signing in */
static char dir[] = "/tmp/aftermath-fuzz-ui-XXXXXX", db[64];

/* At exit: the database and its directory go. */
static void teardown(void)
{
    char path[80];
    run_ui_destroy(ui);
    ui = NULL;
    const char *suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s", db, suffix[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void setup(void)
{
    char err[1024];
    if (!mkdtemp(dir))
        abort();
    snprintf(db, sizeof db, "%s/ui.db", dir);
    store_t *st = store_open(db, NULL, err, sizeof err);
    corr_rules_t *rules = corr_rules_load_string(RULES, strlen(RULES), "rules", err, sizeof err);
    corr_engine_t *engine =
        st && rules ? corr_engine_create(st, rules, NULL, NULL, err, sizeof err) : NULL;
    ingest_decoder_t *dec = ingest_decoder_create(NULL, NULL);
    run_pipeline_t *p = engine ? run_pipeline_create(st, dec, engine, "auto", NULL, 100) : NULL;
    if (!p) {
        fprintf(stderr, "fuzz_ui setup: %s\n", err);
        abort();
    }
    for (size_t i = 0; i < sizeof EVENTS / sizeof EVENTS[0]; i++) {
        am_record_t rec = {.payload = EVENTS[i],
                           .len = strlen(EVENTS[i]),
                           .file = "seed",
                           .line = (long)i + 1,
                           .ts = AM_TIME_NONE,
                           .partition = -1,
                           .offset = -1};
        if (run_pipeline_record(p, &rec, err, sizeof err) != 0)
            abort();
    }
    if (run_pipeline_flush(p, err, sizeof err) != 0)
        abort();
    run_pipeline_destroy(p);
    ingest_decoder_destroy(dec);
    corr_engine_destroy(engine);
    corr_rules_destroy(rules);
    store_close(st);
    ui = run_ui_create(db, 1, err, sizeof err);
    if (!ui || run_ui_set_edit_token(ui, "fuzz-edit-token-0123456789", err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_ui setup: %s\n", err);
        abort();
    }
    static const char login[] = "token=fuzz-edit-token-0123456789";
    run_ui_post_t req = {.body = login,
                         .len = sizeof login - 1,
                         .content_type = "application/x-www-form-urlencoded"};
    run_http_reply_t r = {.status = 0};
    run_ui_answer_post(ui, "/ui/login", &req, &r);
    const char *cookie = NULL;
    for (const char *const *h = r.headers; h && h[0]; h += 2)
        if (strcmp(h[0], "Set-Cookie") == 0)
            cookie = h[1];
    if (r.status != 303 || !cookie)
        abort();
    snprintf(session, sizeof session, "%.*s", (int)strcspn(cookie, ";"), cookie);
    am_buf_free(&r.body);
    atexit(teardown);
}

static const char *header(const char *const *h, const char *name)
{
    for (; h && h[0]; h += 2)
        if (strcmp(h[0], name) == 0)
            return h[1];
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ui)
        setup();
    if (size > 4096)
        return 0;
    char *url = malloc(size + 1);
    memcpy(url, data, size);
    url[size] = '\0';
    if (strlen(url) != size) {
        free(url);
        return 0; /* a NUL never reaches a handler: libmicrohttpd stops there */
    }
    int form = strncmp(url, "FORM ", 5) == 0, anon = strncmp(url, "ANON ", 5) == 0;
    if (form || anon) {
        char *nl = strchr(url + 5, '\n');
        const char *body = nl ? nl + 1 : "";
        if (nl)
            *nl = '\0';
        am_buf_t b = {0};
        if (form)
            am_buf_printf(&b, "csrf=%s&", run_ui_csrf(ui));
        am_buf_puts(&b, body);
        run_ui_post_t req = {.body = b.p,
                             .len = b.len,
                             .content_type = "application/x-www-form-urlencoded",
                             .cookie = form ? session : NULL,
                             .host = "127.0.0.1"};
        run_http_reply_t r = {.status = 0};
        run_ui_answer_post(ui, url + 5, &req, &r);
        unsigned s = r.status;
        if ((anon && s != 403 && s != 303 && s != 400) ||
            (s != 303 && s != 400 && s != 403 && s != 404)) {
            fprintf(stderr, "status %u for a form to '%s'\n", s, url + 5);
            abort();
        }
        /* Without the session only the sign-in and sign-out forms answer. */
        if (anon && s != 403 && strcmp(url + 5, "/ui/login") != 0 &&
            strcmp(url + 5, "/ui/logout") != 0) {
            fprintf(stderr, "an anonymous form to '%s' got %u\n", url + 5, s);
            abort();
        }
        if (!header(r.headers, "Content-Security-Policy"))
            abort();
        am_buf_putc(&r.body, '\0');
        if (strstr(r.body.p, "<script") || strstr(r.body.p, "<img")) {
            fprintf(stderr, "markup in the answer to a form to '%s'\n", url + 5);
            abort();
        }
        am_buf_free(&r.body);
        am_buf_free(&b);
        free(url);
        return 0;
    }
    const char *method = "GET", *target = url;
    if (strncmp(url, "POST ", 5) == 0 || strncmp(url, "HEAD ", 5) == 0) {
        method = url[0] == 'P' ? "POST" : "HEAD";
        target = url + 5;
    }
    run_http_reply_t r = {.status = 0};
    run_ui_answer_url(ui, method, target, &r);
    unsigned s = r.status;
    if (s != 200 && s != 303 && s != 400 && s != 404 && s != 405) {
        fprintf(stderr, "status %u for '%s'\n", s, url);
        abort();
    }
    if (s != 303 && !header(r.headers, "Content-Security-Policy"))
        abort();
    am_buf_putc(&r.body, '\0');
    if (r.type && strncmp(r.type, "text/html", 9) == 0 &&
        !header(r.headers, "Content-Disposition")) {
        const char *p = r.body.p;
        while ((p = strstr(p, "<script")) != NULL) {
            static const char ours[] = "<script src=\"/ui/static/live.js\" defer></script>";
            if (strncmp(p, ours, sizeof ours - 1) != 0) {
                fprintf(stderr, "a script element for '%s'\n", url);
                abort();
            }
            p++;
        }
        if (strstr(r.body.p, "<img")) {
            fprintf(stderr, "an img element for '%s'\n", url);
            abort();
        }
    }
    am_buf_free(&r.body);
    free(url);
    return 0;
}
