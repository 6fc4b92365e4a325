/*
 * test_ui.c - the web pages (run/ui.c) without a browser: the query
 * string split and decoded, the filters validated (a 400 names the
 * parameter), values URL-encoded; then the pages answered on a store
 * built by the engine: the list filters and pages, an incident's page
 * holds its draft and events with hostile text escaped, an unknown id is
 * a 404, every page carries the CSP header, the version changes when an
 * event joins; and the same pages served by the metrics endpoint of
 * `run` (run_endpoint_start_routes) over a socket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "corr_util.h"
#include "correlate/incident.h"
#include "run/endpoint.h"
#include "run/registry.h"
#include "run/ui.h"
#include "tmp_util.h"

static const char *const RULES = "version: 1\n"
                                 "rules:\n"
                                 "  - name: r\n"
                                 "    match: ['severity=\"page\"']\n"
                                 "    group_by: [cluster]\n"
                                 "    gap: 30m\n"
                                 "    quiet: 10m\n";

#define EVIL "<script>alert(1)</script><img src=x onerror=alert(2)>"

static void test_split_query(void **state)
{
    (void)state;
    char storage[128];
    run_ui_arg_t a[4];
    assert_int_equal(run_ui_split_query("q=a+b%3Cc&&status=open&flag", storage, a, 4), 3);
    assert_string_equal(a[0].name, "q");
    assert_string_equal(a[0].value, "a b<c");
    assert_string_equal(a[1].name, "status");
    assert_string_equal(a[1].value, "open");
    assert_string_equal(a[2].name, "flag");
    assert_null(a[2].value);
    assert_int_equal(run_ui_split_query("", storage, a, 4), 0);
    assert_int_equal(run_ui_split_query("q=%4", storage, a, 4), -1);
    assert_int_equal(run_ui_split_query("q=%zz", storage, a, 4), -1);
    assert_int_equal(run_ui_split_query("a&b&c&d&e", storage, a, 4), -1);
}

static void test_urlencode(void **state)
{
    (void)state;
    am_buf_t b = {0};
    run_ui_urlencode(&b, "a b&c=\"<x>\"/é~");
    am_buf_putc(&b, '\0');
    assert_string_equal(b.p, "a%20b%26c%3D%22%3Cx%3E%22%2F%C3%A9~");
    am_buf_free(&b);
}

static const char *const LIST[] = {"status", "service", "rule", "severity", "q",
                                   "since",  "until",   "page", NULL};

static int parse(const char *query, run_ui_filter_t *f, char *err, size_t errlen)
{
    static char storage[1024];
    run_ui_arg_t a[RUN_UI_MAX_ARGS + 1];
    int n = run_ui_split_query(query, storage, a, RUN_UI_MAX_ARGS + 1);
    assert_true(n >= 0);
    return run_ui_parse_filter(a, (size_t)n, LIST, BASE_MS, f, err, errlen);
}

static void test_parse_filter(void **state)
{
    (void)state;
    run_ui_filter_t f;
    char err[256];
    assert_int_equal(parse("status=open&service=web&q=x&since=2h&page=3", &f, err, sizeof err), 0);
    assert_string_equal(f.status, "open");
    assert_string_equal(f.service, "web");
    assert_string_equal(f.q, "x");
    assert_int_equal(f.since, BASE_MS - 2 * 3600000LL);
    assert_int_equal(f.until, AM_TIME_NONE);
    assert_int_equal(f.page, 3);
    /* The filter form sends empty fields: no filter. */
    assert_int_equal(parse("status=all&service=&rule=&since=", &f, err, sizeof err), 0);
    assert_null(f.status);
    assert_null(f.service);
    assert_int_equal(f.since, AM_TIME_NONE);
    struct {
        const char *query, *names;
    } bad[] = {
        {"colour=red", "'colour'"},
        {"status=closed", "'status'"},
        {"service=a&service=b", "'service'"},
        {"since=yesterday", "'since'"},
        {"page=0", "'page'"},
        {"page=12x", "'page'"},
        {"page=99999999999", "'page'"},
        {"q=a%0Ab", "'q'"},
        {"since=2024-01-02T00:00:00Z&until=2024-01-01T00:00:00Z", "'until'"},
        {"by=rule", "'by'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(parse(bad[i].query, &f, err, sizeof err), -1);
        if (!strstr(err, bad[i].names))
            fail_msg("%s: '%s' does not name %s", bad[i].query, err, bad[i].names);
    }
    char longq[400] = "q=";
    memset(longq + 2, 'a', 300);
    longq[302] = '\0';
    assert_int_equal(parse(longq, &f, err, sizeof err), -1);
    assert_non_null(strstr(err, "'q'"));
}

typedef struct fixture {
    char dir[64], db[128];
    harness_t h;
    run_ui_t *ui;
} fixture_t;

static void feed_free(harness_t *h, char *line)
{
    h_feed(h, line);
    free(line);
}

/* 60 resolved incidents in clusters c0..c59 of service web (one of them
 * api), then one open in cluster live with a hostile note. */
static void fixture_open(fixture_t *fx)
{
    char err[512], labels[128];
    tmp_dir(fx->dir);
    snprintf(fx->db, sizeof fx->db, "%s/ui.db", fx->dir);
    h_open(&fx->h, fx->db, RULES, 1000, 0);
    for (int i = 0; i < 60; i++) {
        snprintf(labels, sizeof labels,
                 "\"severity\":\"page\",\"cluster\":\"c%d\",\"service\":\"%s\"", i,
                 i == 7 ? "api" : "web");
        feed_free(&fx->h, alert("Latency", i * 60.0, i * 60.0 + 20, labels));
    }
    feed_free(&fx->h, alert("Down", 5000, -1,
                            "\"severity\":\"page\",\"cluster\":\"live\",\"service\":\"web\""));
    char note[512];
    snprintf(note, sizeof note,
             "{\"kind\":\"note\",\"at\":\"%s\",\"actor\":\"m\",\"summary\":\"%s\","
             "\"url\":\"javascript:alert(3)\",\"labels\":{\"cluster\":\"live\"}}",
             T(5002), "<script>alert(1)</script><img src=x onerror=alert(2)>");
    h_feed(&fx->h, note);
    snprintf(note, sizeof note,
             "{\"kind\":\"note\",\"at\":\"%s\",\"actor\":\"m\",\"summary\":\"runbook\","
             "\"url\":\"https://runbook.example/db?a=1&b=2\",\"labels\":{\"cluster\":\"live\"}}",
             T(5001));
    h_feed(&fx->h, note);
    h_flush(&fx->h);
    fx->ui = run_ui_create(fx->db, 1, err, sizeof err);
    if (!fx->ui)
        fail_msg("ui: %s", err);
}

static void fixture_close(fixture_t *fx)
{
    run_ui_destroy(fx->ui);
    h_close(&fx->h);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", fx->dir);
    assert_int_equal(system(cmd), 0);
}

/* GET url: the status, the body NUL-terminated in *body (caller frees). */
static unsigned get(run_ui_t *ui, const char *url, char **body, const char *const **headers)
{
    run_http_reply_t r = {.status = 0};
    run_ui_answer_url(ui, "GET", url, &r);
    am_buf_putc(&r.body, '\0');
    *body = am_buf_steal(&r.body);
    if (headers)
        *headers = r.headers;
    return r.status;
}

static const char *header(const char *const *h, const char *name)
{
    for (; h && h[0]; h += 2)
        if (strcmp(h[0], name) == 0)
            return h[1];
    return NULL;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* The id of the first incident link in a list page, into id. */
static void first_id(const char *page, char id[64])
{
    const char *p = strstr(page, "href=\"/ui/incidents/");
    assert_non_null(p);
    p += strlen("href=\"/ui/incidents/");
    size_t n = strcspn(p, "\"");
    assert_true(n < 64);
    memcpy(id, p, n);
    id[n] = '\0';
}

static void test_pages(void **state)
{
    (void)state;
    fixture_t fx;
    char *body, id[64], url[256];
    const char *const *hd;
    fixture_open(&fx);

    /* The list: open first, 50 a page, a next link, the CSP header. */
    assert_int_equal(get(fx.ui, "/ui/", &body, &hd), 200);
    assert_string_equal(header(hd, "Content-Security-Policy"), RUN_UI_CSP);
    assert_non_null(strstr(body, "61 incidents, 1 to 50 shown (page 1 of 2)"));
    assert_int_equal(count(body, "href=\"/ui/incidents/"), 50);
    assert_non_null(strstr(body, "<a rel=\"next\" href=\"/ui/?page=2\">"));
    assert_null(strstr(body, "rel=\"prev\""));
    const char *open = strstr(body, "class=\"status-open\"");
    const char *resolved = strstr(body, "class=\"status-resolved\"");
    assert_true(open && resolved && open < resolved);
    first_id(body, id);
    free(body);

    assert_int_equal(get(fx.ui, "/ui/?page=2", &body, NULL), 200);
    assert_non_null(strstr(body, "51 to 61 shown (page 2 of 2)"));
    assert_int_equal(count(body, "href=\"/ui/incidents/"), 11);
    assert_non_null(strstr(body, "<a rel=\"prev\" href=\"/ui/?page=1\">"));
    free(body);

    /* Filters: status, service, severity, text, time. */
    assert_int_equal(get(fx.ui, "/ui/?status=open", &body, NULL), 200);
    assert_non_null(strstr(body, "<p id=\"count\">1 incident,"));
    free(body);
    assert_int_equal(get(fx.ui, "/ui/?service=api", &body, NULL), 200);
    assert_non_null(strstr(body, "<p id=\"count\">1 incident,"));
    assert_non_null(strstr(body, "cluster=c7"));
    free(body);
    assert_int_equal(get(fx.ui, "/ui/?severity=page&status=resolved", &body, NULL), 200);
    assert_non_null(strstr(body, "<p id=\"count\">60 incidents,"));
    assert_non_null(strstr(body, "<a rel=\"next\" href=\"/ui/?status=resolved&amp;severity=page"
                                 "&amp;page=2\">"));
    free(body);
    assert_int_equal(get(fx.ui, "/ui/?severity=ticket", &body, NULL), 200);
    assert_non_null(strstr(body, "<p id=\"count\">0 incidents."));
    free(body);
    assert_int_equal(get(fx.ui, "/ui/?q=C59", &body, NULL), 200);
    assert_non_null(strstr(body, "<p id=\"count\">1 incident,"));
    free(body);
    snprintf(url, sizeof url, "/ui/?since=%s&until=%s", T(60), T(180));
    assert_int_equal(get(fx.ui, url, &body, NULL), 200);
    assert_non_null(strstr(body, "<p id=\"count\">2 incidents,"));
    free(body);

    /* A bad parameter: a 400 page naming it, the value escaped. */
    assert_int_equal(get(fx.ui, "/ui/?status=%3Cb%3E", &body, &hd), 400);
    assert_non_null(strstr(body, "parameter &#39;status&#39;"));
    assert_string_equal(header(hd, "Content-Security-Policy"), RUN_UI_CSP);
    free(body);
    assert_int_equal(get(fx.ui, "/ui/?%3Cscript%3E=1", &body, NULL), 400);
    assert_non_null(strstr(body, "parameter &#39;&lt;script&gt;&#39;: unknown here"));
    assert_null(strstr(body, "<script>"));
    free(body);

    /* The open incident: draft, events, downloads, live polling, and the
     * hostile note as text. */
    snprintf(url, sizeof url, "/ui/incidents/%s", id);
    assert_int_equal(get(fx.ui, url, &body, NULL), 200);
    assert_non_null(strstr(body, "<section class=\"draft\" id=\"draft\">"));
    assert_non_null(strstr(body, "<h2>Timeline (UTC)</h2>"));
    assert_non_null(strstr(body, "<svg"));
    assert_non_null(strstr(body, "<table id=\"events\">"));
    assert_non_null(strstr(body, "/draft.md\""));
    assert_non_null(strstr(body, "/summary.txt\""));
    assert_non_null(strstr(body, "<script src=\"/ui/static/live.js\" defer></script>"));
    assert_non_null(strstr(body, "data-poll=\"/ui/incidents/"));
    assert_non_null(strstr(body, "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x "
                                 "onerror=alert(2)&gt;"));
    assert_null(strstr(body, "<script>"));
    assert_null(strstr(body, "<img"));
    assert_null(strstr(body, "<style>"));
    /* An event's http(s) link is a link; a javascript: one is not. */
    assert_non_null(strstr(body, "<a rel=\"noopener noreferrer\" "
                                 "href=\"https://runbook.example/db?a=1&amp;b=2\">link</a>"));
    assert_null(strstr(body, "href=\"javascript"));
    free(body);

    /* Downloads are report's renderings. */
    snprintf(url, sizeof url, "/ui/incidents/%s/draft.json", id);
    assert_int_equal(get(fx.ui, url, &body, &hd), 200);
    assert_string_equal(header(hd, "Content-Disposition"), "attachment");
    json_t *model = json_loads(body, 0, NULL);
    assert_non_null(model);
    assert_string_equal(json_string_value(json_object_get(model, "id")), id);
    json_decref(model);
    free(body);

    /* The version changes when an event joins the incident. */
    char v1[64], v2[64];
    snprintf(url, sizeof url, "/ui/incidents/%s/version", id);
    assert_int_equal(get(fx.ui, url, &body, NULL), 200);
    snprintf(v1, sizeof v1, "%s", body);
    free(body);
    assert_int_equal(get(fx.ui, url, &body, NULL), 200);
    assert_string_equal(body, v1);
    free(body);
    feed_free(&fx.h, alert("Errors", 5003, -1,
                           "\"severity\":\"page\",\"cluster\":\"live\",\"service\":\"web\""));
    h_flush(&fx.h);
    assert_int_equal(get(fx.ui, url, &body, NULL), 200);
    snprintf(v2, sizeof v2, "%s", body);
    free(body);
    assert_string_not_equal(v1, v2);

    /* Unknown and malformed ids, unknown pages: 404 pages. */
    assert_int_equal(get(fx.ui, "/ui/incidents/INC-19990101-nope", &body, &hd), 404);
    assert_non_null(strstr(body, "No such incident"));
    assert_string_equal(header(hd, "Content-Security-Policy"), RUN_UI_CSP);
    free(body);
    assert_int_equal(get(fx.ui, "/ui/incidents/a%3Cb", &body, NULL), 400);
    free(body);
    assert_int_equal(get(fx.ui, "/ui/incidents/INC-19990101-nope/version", &body, NULL), 404);
    free(body);
    assert_int_equal(get(fx.ui, "/ui/nothing", &body, NULL), 404);
    free(body);
    snprintf(url, sizeof url, "/ui/incidents/%s?x=1", id);
    assert_int_equal(get(fx.ui, url, &body, NULL), 400);
    assert_non_null(strstr(body, "&#39;x&#39;"));
    free(body);

    /* Metrics with their filters; static assets. */
    assert_int_equal(get(fx.ui, "/ui/metrics?by=rule", &body, NULL), 200);
    assert_non_null(strstr(body, "<section id=\"metrics\">"));
    assert_non_null(strstr(body, "<svg"));
    assert_null(strstr(body, "<style>"));
    free(body);
    assert_int_equal(get(fx.ui, "/ui/metrics?since=soon", &body, NULL), 400);
    assert_non_null(strstr(body, "&#39;since&#39;"));
    free(body);
    assert_int_equal(get(fx.ui, "/ui/static/live.js", &body, NULL), 200);
    assert_non_null(strstr(body, "location.reload"));
    free(body);
    run_http_reply_t r = {.status = 0};
    run_ui_answer(fx.ui, "POST", "/ui/", NULL, 0, &r);
    assert_int_equal(r.status, 405);
    am_buf_free(&r.body);
    fixture_close(&fx);
}

/* POST path with body and the headers the pages check; the status, the
 * body in *body (caller frees) and the headers in *hd. */
static unsigned post(run_ui_t *ui, const char *path, const char *form, const char *cookie,
                     const char *origin, char **body, const char *const **hd)
{
    run_http_reply_t r = {.status = 0};
    run_ui_post_t req = {.body = form,
                         .len = strlen(form),
                         .content_type = "application/x-www-form-urlencoded",
                         .cookie = cookie,
                         .origin = origin,
                         .host = "127.0.0.1:9488"};
    run_ui_answer_post(ui, path, &req, &r);
    am_buf_putc(&r.body, '\0');
    *body = am_buf_steal(&r.body);
    if (hd)
        *hd = r.headers;
    return r.status;
}

/* Corrections and action items from the pages: refused without edits, a
 * session, the CSRF token or the same origin; a bad value is a 400 naming
 * the field; a good one is stored as the CLI's event and shows. */
static void test_edits(void **state)
{
    (void)state;
    fixture_t fx;
    char *body, id[64], url[256], path[256], form[2048], cookie[256], err[256];
    const char *const *hd;
    run_http_route_t routes[3];
    fixture_open(&fx);
    assert_int_equal(get(fx.ui, "/ui/", &body, NULL), 200);
    first_id(body, id);
    free(body);
    snprintf(url, sizeof url, "/ui/incidents/%s", id);
    snprintf(path, sizeof path, "/ui/incidents/%s/correct", id);

    /* Read-only: no POST route, no form, a POST is a 403. */
    assert_int_equal(run_ui_routes(fx.ui, 0, routes), 1);
    assert_null(run_ui_csrf(fx.ui));
    assert_int_equal(get(fx.ui, url, &body, NULL), 200);
    assert_null(strstr(body, "<form class=\"edit\""));
    free(body);
    assert_int_equal(post(fx.ui, path, "title=x", NULL, NULL, &body, NULL), 403);
    assert_non_null(strstr(body, "read-only"));
    free(body);
    assert_int_equal(get(fx.ui, "/ui/login", &body, NULL), 404);
    free(body);

    /* A token: too short is refused; then a POST route and the forms. */
    assert_int_equal(run_ui_set_edit_token(fx.ui, "short\n", err, sizeof err), -1);
    assert_non_null(strstr(err, "shorter"));
    assert_int_equal(run_ui_set_edit_token(fx.ui, "0123456789abcdef-token\n", err, sizeof err), 0);
    assert_int_equal(run_ui_routes(fx.ui, 0, routes), 2);
    assert_string_equal(routes[1].method, "POST");
    assert_int_equal(routes[1].max_body, RUN_UI_MAX_BODY);
    const char *csrf = run_ui_csrf(fx.ui);
    assert_int_equal(strlen(csrf), 64);
    assert_int_equal(get(fx.ui, url, &body, NULL), 200);
    char want[128];
    snprintf(want, sizeof want, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", csrf);
    assert_int_equal(count(body, want), 3);              /* fields, dismiss or merge, add an item */
    assert_null(strstr(body, "id=\"correct-suspect\"")); /* no suspect to judge */
    assert_non_null(strstr(body, "<form class=\"edit\" id=\"correct-fields\" method=\"post\""));
    free(body);
    assert_int_equal(get(fx.ui, "/ui/login", &body, NULL), 200);
    assert_non_null(strstr(body, "type=\"password\" name=\"token\""));
    free(body);

    /* Sign-in: a wrong token is a 403, the right one a cookie. */
    assert_int_equal(
        post(fx.ui, "/ui/login", "token=0123456789abcdef-tokem", NULL, NULL, &body, NULL), 403);
    free(body);
    assert_int_equal(
        post(fx.ui, "/ui/login", "token=0123456789abcdef-toke", NULL, NULL, &body, NULL), 403);
    free(body);
    assert_int_equal(post(fx.ui, "/ui/login", "token=0123456789abcdef-token", NULL,
                          "http://127.0.0.1:9488", &body, &hd),
                     303);
    free(body);
    const char *set = header(hd, "Set-Cookie");
    assert_non_null(set);
    assert_non_null(strstr(set, "HttpOnly; SameSite=Strict"));
    assert_string_equal(header(hd, "Location"), "/ui/");
    assert_true(strncmp(set, RUN_UI_COOKIE "=", strlen(RUN_UI_COOKIE) + 1) == 0);
    snprintf(cookie, sizeof cookie, "theme=dark; %.*s", (int)strcspn(set, ";"), set);
    assert_int_equal(strlen(cookie), strlen("theme=dark; " RUN_UI_COOKIE "=") + 64);

    /* Without the session, with a wrong one, without or with a wrong CSRF
     * token, from another origin: 403, nothing stored. */
    snprintf(form, sizeof form, "csrf=%s&actor=Ravi&title=Bad+DB", csrf);
    assert_int_equal(post(fx.ui, path, form, NULL, NULL, &body, NULL), 403);
    assert_non_null(strstr(body, "Not signed in"));
    free(body);
    assert_int_equal(post(fx.ui, path, form, RUN_UI_COOKIE "=0000", NULL, &body, NULL), 403);
    free(body);
    assert_int_equal(post(fx.ui, path, "actor=Ravi&title=Bad+DB", cookie, NULL, &body, NULL), 403);
    assert_non_null(strstr(body, "csrf"));
    free(body);
    assert_int_equal(
        post(fx.ui, path, "csrf=00&actor=Ravi&title=Bad+DB", cookie, NULL, &body, NULL), 403);
    assert_non_null(strstr(body, "csrf"));
    free(body);
    assert_int_equal(post(fx.ui, path, form, cookie, "https://evil.example", &body, NULL), 403);
    assert_non_null(strstr(body, "origin"));
    free(body);
    json_t *o = corr_incident_json(fx.h.st, id, err, sizeof err);
    assert_null(json_object_get(o, "title"));
    json_decref(o);

    /* Bad values: a 400 naming the field, with the CLI's message. */
    struct {
        const char *fields, *names;
    } bad[] = {
        {"&actor=Ravi&mitigated_at=soon", "mitigated_at: &#39;soon&#39; is not an RFC 3339 time"},
        {"&actor=Ravi&colour=red", "parameter &#39;colour&#39;: unknown here"},
        {"&actor=Ravi&users_impacted=many", "users_impacted: &#39;many&#39; is not a count"},
        {"&actor=Ravi&mitigated_at=2023-12-31T00:00:00Z", "would be before started_at"},
        {"&actor=Ravi&unset=colour", "&#39;colour&#39; is not a field"},
        {"&actor=Ravi&role_person=Jane", "role: which role?"},
        {"&actor=Ravi&suspect=api&verdict=guilty", "suspect: &#39;api=guilty&#39;"},
        {"&actor=Ravi&merge_into=INC-19990101-none", "no incident INC-19990101-none"},
        {"&actor=Ravi&dismiss=noise&undismiss=1", "dismiss: and undismiss"},
        {"&actor=Ravi", "nothing to correct"},
        {"&title=x", "actor"},
        {"&actor=Ravi&title=a%01b", "parameter &#39;title&#39;: a control character"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(form, sizeof form, "csrf=%s%s", csrf, bad[i].fields);
        unsigned code = post(fx.ui, path, form, cookie, NULL, &body, NULL);
        if (code != 400 || !strstr(body, bad[i].names))
            fail_msg("%s: %u, does not say %s", bad[i].fields, code, bad[i].names);
        free(body);
    }
    snprintf(form, sizeof form, "csrf=%s&actor=Ravi&verb=done&item=AI-9", csrf);
    snprintf(path, sizeof path, "/ui/incidents/%s/action", id);
    assert_int_equal(post(fx.ui, path, form, cookie, NULL, &body, NULL), 400);
    assert_non_null(strstr(body, "has no action item AI-9"));
    free(body);
    snprintf(form, sizeof form, "csrf=%s&actor=Ravi&verb=add&task=x&due=someday", csrf);
    assert_int_equal(post(fx.ui, path, form, cookie, NULL, &body, NULL), 400);
    assert_non_null(strstr(body, "due"));
    free(body);

    /* Success: stored as a correction event, visible on the page and in
     * the list; the hostile reason stays text. */
    snprintf(path, sizeof path, "/ui/incidents/%s/correct", id);
    snprintf(form, sizeof form,
             "csrf=%s&actor=Ravi+Patel&title=Bad+DB+config&severity=&mitigated_at=%s"
             "&role=comms&role_person=Jane&reason=%%3Cscript%%3Ealert(1)%%3C%%2Fscript%%3E",
             csrf, T(5010));
    assert_int_equal(post(fx.ui, path, form, cookie, "http://127.0.0.1:9488", &body, &hd), 303);
    free(body);
    snprintf(want, sizeof want, "/ui/incidents/%s#corrections", id);
    assert_string_equal(header(hd, "Location"), want);
    o = corr_incident_json(fx.h.st, id, err, sizeof err);
    assert_string_equal(json_string_value(json_object_get(o, "title")), "Bad DB config");
    assert_string_equal(json_string_value(json_object_get(o, "mitigated_at")), T(5010));
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "roles"), "comms")),
                        "Jane");
    json_decref(o);
    assert_int_equal(get(fx.ui, url, &body, NULL), 200);
    assert_non_null(strstr(body, "<table id=\"history\">"));
    assert_non_null(strstr(body, "<td>correction</td><td>Ravi Patel</td>"
                                 "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>"));
    assert_non_null(strstr(body, "<tr><td>mitigated_at</td><td>"));
    assert_null(strstr(body, "<script>alert(1)"));
    free(body);
    assert_int_equal(get(fx.ui, "/ui/?status=open", &body, NULL), 200);
    assert_non_null(strstr(body, "Bad DB config"));
    free(body);

    /* An action item added, then closed. */
    snprintf(path, sizeof path, "/ui/incidents/%s/action", id);
    snprintf(form, sizeof form,
             "csrf=%s&actor=Ravi&verb=add&task=Review+config&owner=John&due=2024-01-10&url=", csrf);
    assert_int_equal(post(fx.ui, path, form, cookie, NULL, &body, &hd), 303);
    free(body);
    snprintf(want, sizeof want, "/ui/incidents/%s#actions", id);
    assert_string_equal(header(hd, "Location"), want);
    assert_int_equal(get(fx.ui, url, &body, NULL), 200);
    assert_non_null(strstr(body, "<tr><td>AI-1</td><td>open</td><td>Review config</td>"
                                 "<td>John</td>"));
    assert_non_null(strstr(body, "id=\"action-done\""));
    free(body);
    snprintf(form, sizeof form,
             "csrf=%s&actor=Ravi&verb=set&item=AI-1&owner=John+Smith&task=", csrf);
    assert_int_equal(post(fx.ui, path, form, cookie, NULL, &body, NULL), 303);
    free(body);
    assert_int_equal(get(fx.ui, url, &body, NULL), 200);
    assert_non_null(strstr(body, "<tr><td>AI-1</td><td>open</td><td>Review config</td>"
                                 "<td>John Smith</td>"));
    assert_non_null(strstr(body, "id=\"action-set\""));
    free(body);
    snprintf(form, sizeof form, "csrf=%s&actor=Ravi&verb=done&item=AI-1", csrf);
    assert_int_equal(post(fx.ui, path, form, cookie, NULL, &body, NULL), 303);
    free(body);
    assert_int_equal(get(fx.ui, url, &body, NULL), 200);
    assert_non_null(strstr(body, "<tr><td>AI-1</td><td>done</td>"));
    assert_null(strstr(body, "id=\"action-done\""));
    free(body);

    /* The action items page, as `aftermath actions`: by status, owner. */
    snprintf(form, sizeof form,
             "csrf=%s&actor=Ravi&verb=add&task=%%3Cb%%3EPage%%3C%%2Fb%%3E&owner=Jo&due=2099-01-01",
             csrf);
    assert_int_equal(post(fx.ui, path, form, cookie, NULL, &body, NULL), 303);
    free(body);
    assert_int_equal(get(fx.ui, "/ui/actions", &body, NULL), 200);
    assert_non_null(strstr(body, "<p id=\"count\">2 action items.</p>"));
    assert_non_null(strstr(body, "&lt;b&gt;Page&lt;/b&gt;"));
    assert_null(strstr(body, "<b>Page"));
    free(body);
    assert_int_equal(get(fx.ui, "/ui/actions?status=open", &body, NULL), 200);
    assert_non_null(strstr(body, "<p id=\"count\">1 action item.</p>"));
    assert_non_null(strstr(body, "<td>AI-2</td>"));
    free(body);
    assert_int_equal(get(fx.ui, "/ui/actions?status=done&owner=John+Smith", &body, NULL), 200);
    assert_non_null(strstr(body, "<p id=\"count\">1 action item.</p>"));
    assert_non_null(strstr(body, "<td>AI-1</td>"));
    free(body);
    assert_int_equal(get(fx.ui, "/ui/actions?status=overdue", &body, NULL), 200);
    assert_non_null(strstr(body, "<p id=\"count\">0 action items.</p>"));
    free(body);
    assert_int_equal(get(fx.ui, "/ui/actions?status=late", &body, NULL), 400);
    assert_non_null(strstr(body, "&#39;status&#39;"));
    free(body);

    /* A dismissed incident leaves the list (paged and searched); all=1
     * shows it. */
    char other[64];
    assert_int_equal(get(fx.ui, "/ui/?page=2", &body, NULL), 200);
    first_id(body, other);
    free(body);
    snprintf(path, sizeof path, "/ui/incidents/%s/correct", other);
    snprintf(form, sizeof form, "csrf=%s&actor=Ravi&dismiss=a+test+page", csrf);
    assert_int_equal(post(fx.ui, path, form, cookie, NULL, &body, NULL), 303);
    free(body);
    assert_int_equal(get(fx.ui, "/ui/", &body, NULL), 200);
    assert_non_null(strstr(body, "<p id=\"count\">60 incidents,"));
    assert_null(strstr(body, other));
    free(body);
    assert_int_equal(get(fx.ui, "/ui/?all=1&severity=page", &body, NULL), 200);
    assert_non_null(strstr(body, "<p id=\"count\">61 incidents,"));
    free(body);
    assert_int_equal(get(fx.ui, "/ui/?severity=page", &body, NULL), 200);
    assert_non_null(strstr(body, "<p id=\"count\">60 incidents,"));
    free(body);
    assert_int_equal(get(fx.ui, "/ui/?all=1&page=2", &body, NULL), 200);
    assert_non_null(strstr(body, "51 to 61 shown (page 2 of 2)"));
    assert_non_null(strstr(body, other));
    assert_non_null(strstr(body, "<a rel=\"prev\" href=\"/ui/?all=1&amp;page=1\">"));
    free(body);
    assert_int_equal(get(fx.ui, "/ui/?all=2", &body, NULL), 400);
    free(body);
    snprintf(path, sizeof path, "/ui/incidents/%s/action", id);

    /* Signing out clears the cookie. */
    assert_int_equal(post(fx.ui, "/ui/logout", "", cookie, NULL, &body, &hd), 303);
    free(body);
    assert_non_null(strstr(header(hd, "Set-Cookie"), RUN_UI_COOKIE "=; Path=/ui/; Max-Age=0"));

    /* Bounds: a body too long, too many fields, not a form. */
    char *big = am_xcalloc(RUN_UI_MAX_BODY + 2, 1);
    memset(big, 'a', RUN_UI_MAX_BODY + 1);
    assert_int_equal(post(fx.ui, path, big, cookie, NULL, &body, NULL), 400);
    free(body);
    free(big);
    am_buf_t many = {0};
    for (int i = 0; i < 40; i++)
        am_buf_printf(&many, "a%d=1&", i);
    am_buf_putc(&many, '\0');
    assert_int_equal(post(fx.ui, path, many.p, cookie, NULL, &body, NULL), 400);
    free(body);
    am_buf_free(&many);
    run_http_reply_t r = {.status = 0};
    run_ui_post_t json = {
        .body = "{}", .len = 2, .content_type = "application/json", .cookie = cookie};
    run_ui_answer_post(fx.ui, path, &json, &r);
    assert_int_equal(r.status, 400);
    am_buf_free(&r.body);
    fixture_close(&fx);
}

/* One raw HTTP/1.0 request to 127.0.0.1:port; the response into resp;
 * returns the status. */
static int http_raw(int port, const char *req, size_t len, char *resp, size_t resplen);

/* One HTTP/1.0 GET to 127.0.0.1:port; the response into resp. */
static int http_get(int port, const char *path, char *resp, size_t resplen)
{
    char req[512];
    int len = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
    return http_raw(port, req, (size_t)len, resp, resplen);
}

static int http_raw(int port, const char *req, size_t len, char *resp, size_t resplen)
{
    struct sockaddr_in to = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    to.sin_port = htons((uint16_t)port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof to), 0);
    assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
    size_t n = 0;
    for (int waited = 0; waited < 15000; waited += 100) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) == 0)
            continue;
        ssize_t got = read(fd, resp + n, resplen - n - 1);
        if (got <= 0)
            break;
        n += (size_t)got;
        assert_true(n + 1 < resplen);
    }
    close(fd);
    resp[n] = '\0';
    int code = 0;
    if (sscanf(resp, "HTTP/1.%*d %d", &code) != 1)
        code = 0;
    return code;
}

/* `run`'s metrics endpoint serves the pages beside /metrics. */
static void test_endpoint_serves_pages(void **state)
{
    (void)state;
    fixture_t fx;
    char err[512];
    static char resp[1 << 20];
    fixture_open(&fx);
    run_ui_t *lazy = run_ui_create(fx.db, 0, err, sizeof err);
    assert_non_null(lazy);
    run_http_route_t routes[3];
    size_t n = run_ui_routes(lazy, 0, routes);
    assert_int_equal(n, 1);
    run_registry_t *m = run_registry_create("test", am_wall_ms());
    run_registry_publish(m);
    run_endpoint_t *e = run_endpoint_start_routes("127.0.0.1:0", m, NULL, NULL, NULL, NULL, routes,
                                                  n, err, sizeof err);
    if (!e)
        fail_msg("endpoint: %s", err);
    int port = atoi(strrchr(run_endpoint_address(e), ':') + 1);
    assert_int_equal(http_get(port, "/ui/?status=open", resp, sizeof resp), 200);
    assert_non_null(strstr(resp, "Content-Security-Policy: " RUN_UI_CSP "\r\n"));
    assert_non_null(strstr(resp, "<p id=\"count\">1 incident,"));
    assert_int_equal(http_get(port, "/ui/?status=nope", resp, sizeof resp), 400);
    assert_int_equal(http_get(port, "/metrics", resp, sizeof resp), 200);
    assert_int_equal(http_get(port, "/", resp, sizeof resp), 404);
    run_endpoint_stop(e);
    run_registry_destroy(m);
    run_ui_destroy(lazy);
    fixture_close(&fx);
}

/* The forms over a socket: the POST route exists only with a token,
 * signs in with a cookie, and a body over RUN_UI_MAX_BODY is a 413. */
static void test_endpoint_posts(void **state)
{
    (void)state;
    fixture_t fx;
    char err[512], req[1024];
    static char resp[1 << 20];
    fixture_open(&fx);
    assert_int_equal(run_ui_set_edit_token(fx.ui, "0123456789abcdef-token", err, sizeof err), 0);
    run_http_route_t routes[3];
    size_t n = run_ui_routes(fx.ui, 1, routes);
    assert_int_equal(n, 3);
    run_registry_t *m = run_registry_create("test", am_wall_ms());
    run_registry_publish(m);
    run_endpoint_t *e = run_endpoint_start_routes("127.0.0.1:0", m, NULL, NULL, NULL, NULL, routes,
                                                  n, err, sizeof err);
    if (!e)
        fail_msg("endpoint: %s", err);
    int port = atoi(strrchr(run_endpoint_address(e), ':') + 1);
    static const char login[] = "token=0123456789abcdef-token";
    int len = snprintf(req, sizeof req,
                       "POST /ui/login HTTP/1.0\r\nHost: 127.0.0.1:%d\r\nOrigin: "
                       "http://127.0.0.1:%d\r\nContent-Type: application/x-www-form-urlencoded"
                       "\r\nContent-Length: %zu\r\n\r\n%s",
                       port, port, sizeof login - 1, login);
    assert_int_equal(http_raw(port, req, (size_t)len, resp, sizeof resp), 303);
    assert_non_null(strstr(resp, "Set-Cookie: " RUN_UI_COOKIE "="));
    assert_non_null(strstr(resp, "Location: /ui/\r\n"));
    assert_non_null(strstr(resp, "Content-Security-Policy: " RUN_UI_CSP "\r\n"));
    len = snprintf(req, sizeof req,
                   "POST /ui/login HTTP/1.0\r\nHost: 127.0.0.1:%d\r\nOrigin: http://evil.example"
                   "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu"
                   "\r\n\r\n%s",
                   port, sizeof login - 1, login);
    assert_int_equal(http_raw(port, req, (size_t)len, resp, sizeof resp), 403);
    assert_null(strstr(resp, "Set-Cookie"));
    len = snprintf(req, sizeof req,
                   "POST /ui/login HTTP/1.0\r\nHost: x\r\nContent-Length: %d\r\n\r\n",
                   RUN_UI_MAX_BODY + 1);
    assert_int_equal(http_raw(port, req, (size_t)len, resp, sizeof resp), 413);
    assert_int_equal(http_get(port, "/ui/login", resp, sizeof resp), 200);
    run_endpoint_stop(e);
    run_registry_destroy(m);
    fixture_close(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_query),           cmocka_unit_test(test_urlencode),
        cmocka_unit_test(test_parse_filter),          cmocka_unit_test(test_pages),
        cmocka_unit_test(test_endpoint_serves_pages), cmocka_unit_test(test_edits),
        cmocka_unit_test(test_endpoint_posts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
