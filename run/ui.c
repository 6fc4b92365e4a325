/*
 * ui.c - the web pages: the incidents list, one incident (its draft, its
 * timeline picture, its events, the downloads), the metrics, and the two
 * static assets (one stylesheet, one small script), all under /ui/.
 *
 * The design choices a reader must know:
 * - Server-rendered, one route: GET /ui/ is a prefix route of run/http.h
 *   and run_ui_answer() dispatches on the rest of the path, so the same
 *   code answers the server, the unit tests, the fuzz target and the
 *   benchmark (run_ui_answer_url), with no socket.
 * - Every value from the store goes through report_html() (report/
 *   escape.h: one escaper per medium), URLs in a query string through
 *   run_ui_urlencode() first. Every page is sent with RUN_UI_CSP as a
 *   header: no inline script or style may run even if markup got past
 *   escaping. The draft and the metrics are the report/ renderings
 *   (report_draft_html, report_metrics_html), whose <body> is placed in
 *   the page; their inline <style> stays out, and the page's stylesheet
 *   carries the same classes.
 * - Live: an open incident's page carries data-poll (its version URL) and
 *   data-version; /ui/static/live.js polls and reloads when the version
 *   (a hash of the incident and its linked events) changes.
 * - Edits (run_ui_set_edit_token): POST /ui/ is a route of its own, with
 *   a bounded body, only when the server has an edit token. /ui/login
 *   trades the token (compared in constant time) for a session cookie
 *   (random, HttpOnly, SameSite=Strict); every form carries a CSRF token
 *   (random, this server's) in a hidden field; a form whose Sec-Fetch-Site
 *   or Origin says another site is refused. The forms are parsed like a
 *   query, checked field by field, and the event is built, checked and
 *   stored by run/edit.c, the builder of `aftermath correct` and `action`,
 *   never by editing correlate's tables; success is a 303 to the
 *   incident (post-redirect-get). A reply's Location and Set-Cookie live
 *   in the ui until the next request (the server has one thread).
 * - The list reads a page at a time (corr_sql_incidents_page) unless a
 *   text search or a severity filter needs every incident's JSON.
 */
#include "run/ui.h"
#include "common/buf.h"
#include "common/hash.h"
#include "common/time.h"
#include "correlate/incident.h"
#include "correlate/queries.h"
#include "report/draft.h"
#include "report/escape.h"
#include "report/metrics.h"
#include "run/edit.h"
#include "store/store.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_ID_BYTES = 128 };

struct run_ui {
    char *db;
    store_t *st;
    sqlite3_stmt *links;  /* corr_sql_incident_links */
    sqlite3_stmt *labels; /* corr_sql_episode_labels */
    sqlite3_stmt *people; /* corr_sql_incident_people */
    sqlite3_stmt *page;   /* corr_sql_incidents_page */
    sqlite3_stmt *count;  /* corr_sql_incidents_count */
    sqlite3_stmt *items;  /* corr_sql_action_items */
    /* Edits (run_ui_set_edit_token): the token, and two random secrets of
     * this server: the session cookie's value and the forms' CSRF token. */
    char *token;
    char session[65], csrf[65];
    /* The headers of the last answer to a POST (a redirect's Location, a
     * Set-Cookie): the server sends them before the next request. */
    char location[64 + 3 * MAX_ID_BYTES], set_cookie[192];
    const char *post_headers[16];
};

/* The longest value of a parameter, and of an incident id in a path. */
enum { MAX_VALUE = 256, MAX_ID = MAX_ID_BYTES };

static const char *const page_headers[] = {"Content-Security-Policy",
                                           RUN_UI_CSP,
                                           "X-Content-Type-Options",
                                           "nosniff",
                                           "Referrer-Policy",
                                           "same-origin",
                                           "X-Frame-Options",
                                           "DENY",
                                           NULL};
static const char *const download_headers[] = {"Content-Security-Policy",
                                               "default-src 'none'; frame-ancestors 'none'",
                                               "X-Content-Type-Options",
                                               "nosniff",
                                               "Content-Disposition",
                                               "attachment",
                                               NULL};
/* The standalone HTML draft keeps its own policy (inline CSS, nothing else). */
static const char *const draft_html_headers[] = {"Content-Security-Policy",
                                                 REPORT_HTML_CSP "; frame-ancestors 'none'",
                                                 "X-Content-Type-Options",
                                                 "nosniff",
                                                 "Content-Disposition",
                                                 "attachment",
                                                 NULL};
static const char *const redirect_headers[] = {"Location", "/ui/", NULL};

static const char css[] =
    "/* aftermath pages */\n"
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1b1f23;"
    "line-height:1.45;background:#fff}\n"
    "header{background:#24292f;padding:.5rem 1rem}header nav a{color:#fff;margin-right:1.2rem;"
    "text-decoration:none;font-weight:600}header nav a.here{text-decoration:underline}\n"
    "main{max-width:72rem;margin:1rem auto;padding:0 1rem}footer{color:#57606a;font-size:.85rem;"
    "max-width:72rem;margin:2rem auto;padding:0 1rem}\n"
    "h1{font-size:1.5rem}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2rem;margin-top:2rem}\n"
    "table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #d0d7de;"
    "padding:.25rem .6rem;text-align:left;vertical-align:top}th{background:#f6f8fa}\n"
    ".prompt{background:#fff3bf;font-weight:600;padding:0 .2rem}.src{color:#57606a;"
    "font-style:italic}.when{font-family:ui-monospace,monospace;white-space:nowrap}"
    ".note{color:#57606a}svg{max-width:100%;height:auto}\n"
    ".overdue{color:#cf222e;font-weight:600}.status-open{color:#cf222e;font-weight:600}.status-"
    "resolved{color:#1a7f37}\n"
    "form.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin:.5rem 0 1rem}"
    "form.filters label{display:flex;flex-direction:column;font-size:.85rem}\n"
    ".pager a,.downloads a{margin-right:1rem}.draft{border:1px solid #d0d7de;padding:0 1rem;"
    "margin:1rem 0}.error{color:#cf222e}.mono{font-family:ui-monospace,monospace;"
    "white-space:nowrap}\n.scroll{overflow-x:auto}#events{font-size:.85rem}\n"
    "form.edit fieldset{border:1px solid #d0d7de;margin:.5rem 0;display:flex;flex-wrap:wrap;"
    "gap:.5rem;align-items:end}form.edit label{display:flex;flex-direction:column;"
    "font-size:.85rem}\n"
    "@media print{header,footer,form,.pager,.downloads{display:none}}\n";

static const char live_js[] =
    "// live.js - an open incident's page reloads when its version changes.\n"
    "(function () {\n"
    "  'use strict';\n"
    "  var body = document.body;\n"
    "  var url = body.getAttribute('data-poll');\n"
    "  var seen = body.getAttribute('data-version');\n"
    "  if (!url || !seen) return;\n"
    "  function later(ms) { window.setTimeout(tick, ms); }\n"
    "  // Someone filling in a correction form: do not reload under them.\n"
    "  function editing() {\n"
    "    var f = document.querySelectorAll('form.edit input, form.edit select');\n"
    "    for (var i = 0; i < f.length; i++) {\n"
    "      var e = f[i];\n"
    "      if (e.type === 'hidden') continue;\n"
    "      if (e.type === 'checkbox' ? e.checked : e.value && e.tagName !== 'SELECT') return "
    "true;\n"
    "    }\n"
    "    return false;\n"
    "  }\n"
    "  function tick() {\n"
    "    fetch(url, {cache: 'no-store', credentials: 'same-origin'})\n"
    "      .then(function (r) { return r.ok ? r.text() : null; })\n"
    "      .then(function (v) {\n"
    "        if (v === null || v.trim() === seen) { later(5000); return; }\n"
    "        if (!editing()) { window.location.reload(); return; }\n"
    "        var live = document.getElementById('live');\n"
    "        if (live) live.textContent = 'new events: reload to see them';\n"
    "        later(5000);\n"
    "      })\n"
    "      .catch(function () { later(15000); });\n"
    "  }\n"
    "  later(5000);\n"
    "})();\n";

/* ---- request parsing ---- */

static int hexval(char c)
{
    return am_hex_digit(c);
}

int run_ui_split_query(const char *query, char *storage, run_ui_arg_t *args, size_t max)
{
    size_t n = 0;
    char *w = storage;
    const char *p = query ? query : "";
    while (*p) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 0) {
            if (n == max)
                return -1;
            const char *eq = memchr(p, '=', len);
            size_t nlen = eq ? (size_t)(eq - p) : len;
            for (int part = 0; part < (eq ? 2 : 1); part++) {
                const char *s = part ? eq + 1 : p;
                size_t l = part ? len - nlen - 1 : nlen;
                char *start = w;
                for (size_t i = 0; i < l; i++) {
                    if (s[i] == '%') {
                        if (i + 2 >= l)
                            return -1;
                        int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
                        if (hi < 0 || lo < 0)
                            return -1;
                        *w++ = (char)(hi * 16 + lo);
                        i += 2;
                    } else {
                        *w++ = s[i] == '+' ? ' ' : s[i];
                    }
                }
                *w++ = '\0';
                if (part)
                    args[n].value = start;
                else {
                    args[n].name = start;
                    args[n].value = NULL;
                }
            }
            n++;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return (int)n;
}

void run_ui_urlencode(am_buf_t *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~')
            am_buf_putc(b, (char)*p);
        else
            am_buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    }
}

static int allowed_has(const char *const *allowed, const char *name)
{
    for (; *allowed; allowed++)
        if (strcmp(*allowed, name) == 0)
            return 1;
    return 0;
}

int run_ui_parse_filter(const run_ui_arg_t *args, size_t n, const char *const *allowed,
                        int64_t now_ms, run_ui_filter_t *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->since = f->until = AM_TIME_NONE;
    f->page = 1;
    if (n > RUN_UI_MAX_ARGS) {
        am_errf(err, errlen, "more than %d parameters", RUN_UI_MAX_ARGS);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = args[i].name ? args[i].name : "";
        const char *v = args[i].value ? args[i].value : "";
        char why[256];
        if (strlen(name) > 32 || !allowed_has(allowed, name)) {
            am_errf(err, errlen, "parameter '%.32s': unknown here", name);
            return -1;
        }
        for (size_t k = 0; k < i; k++)
            if (args[k].name && strcmp(args[k].name, name) == 0) {
                am_errf(err, errlen, "parameter '%s': given twice", name);
                return -1;
            }
        size_t len = strlen(v);
        if (len > MAX_VALUE) {
            am_errf(err, errlen, "parameter '%s': longer than %d bytes", name, MAX_VALUE);
            return -1;
        }
        for (size_t k = 0; k < len; k++)
            if ((unsigned char)v[k] < 0x20 || v[k] == 0x7f) {
                am_errf(err, errlen, "parameter '%s': a control character", name);
                return -1;
            }
        if (len == 0)
            continue; /* an empty field of the filter form: no filter */
        if (strcmp(name, "status") == 0) {
            if (strcmp(v, "all") == 0)
                continue;
            if (strcmp(v, "open") != 0 && strcmp(v, "resolved") != 0) {
                am_errf(err, errlen, "parameter 'status': not open, resolved or all");
                return -1;
            }
            f->status = v;
        } else if (strcmp(name, "service") == 0) {
            f->service = v;
        } else if (strcmp(name, "rule") == 0) {
            f->rule = v;
        } else if (strcmp(name, "severity") == 0) {
            f->severity = v;
        } else if (strcmp(name, "q") == 0) {
            f->q = v;
        } else if (strcmp(name, "by") == 0) {
            f->by = v;
        } else if (strcmp(name, "all") == 0) {
            if (strcmp(v, "1") != 0 && strcmp(v, "0") != 0) {
                am_errf(err, errlen, "parameter 'all': not 1 or 0");
                return -1;
            }
            f->all = v[0] == '1';
        } else if (strcmp(name, "since") == 0 || strcmp(name, "until") == 0) {
            int64_t *t = name[0] == 's' ? &f->since : &f->until;
            if (report_metrics_parse_time(v, now_ms, t, why, sizeof why) != 0) {
                am_errf(err, errlen, "parameter '%s': %s", name, why);
                return -1;
            }
        } else if (strcmp(name, "page") == 0) {
            long p = 0;
            for (size_t k = 0; k < len; k++) {
                if (v[k] < '0' || v[k] > '9' || p > 99999) {
                    am_errf(err, errlen, "parameter 'page': not a number from 1 to 999999");
                    return -1;
                }
                p = p * 10 + (v[k] - '0');
            }
            if (p < 1) {
                am_errf(err, errlen, "parameter 'page': not a number from 1 to 999999");
                return -1;
            }
            f->page = p;
        }
    }
    if (f->since != AM_TIME_NONE && f->until != AM_TIME_NONE && f->until < f->since) {
        am_errf(err, errlen, "parameter 'until': before since");
        return -1;
    }
    return 0;
}

/* ---- the store ---- */

static int ui_open(run_ui_t *ui, char *err, size_t errlen)
{
    if (ui->st)
        return 0;
    ui->st = store_open(ui->db, &store_existing, err, errlen);
    if (!ui->st)
        return -1;
    sqlite3 *db = store_db(ui->st);
    if (sqlite3_prepare_v2(db, corr_sql_incident_links, -1, &ui->links, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, corr_sql_episode_labels, -1, &ui->labels, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, corr_sql_incident_people, -1, &ui->people, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, corr_sql_incidents_page, -1, &ui->page, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, corr_sql_incidents_count, -1, &ui->count, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, corr_sql_action_items, -1, &ui->items, NULL) != SQLITE_OK) {
        am_errf(err, errlen, "%s: %s", ui->db, sqlite3_errmsg(db));
        sqlite3_finalize(ui->links);
        sqlite3_finalize(ui->labels);
        sqlite3_finalize(ui->people);
        sqlite3_finalize(ui->page);
        sqlite3_finalize(ui->count);
        sqlite3_finalize(ui->items);
        ui->links = ui->labels = ui->people = ui->page = ui->count = ui->items = NULL;
        store_close(ui->st);
        ui->st = NULL;
        return -1;
    }
    return 0;
}

run_ui_t *run_ui_create(const char *db, int open_now, char *err, size_t errlen)
{
    run_ui_t *ui = am_xcalloc(1, sizeof *ui);
    ui->db = am_xstrdup(db);
    if (open_now && ui_open(ui, err, errlen) != 0) {
        run_ui_destroy(ui);
        return NULL;
    }
    return ui;
}

void run_ui_destroy(run_ui_t *ui)
{
    if (!ui)
        return;
    sqlite3_finalize(ui->links);
    sqlite3_finalize(ui->labels);
    sqlite3_finalize(ui->people);
    sqlite3_finalize(ui->page);
    sqlite3_finalize(ui->count);
    sqlite3_finalize(ui->items);
    store_close(ui->st);
    free(ui->token);
    free(ui->db);
    free(ui);
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Whether incident o (JSON of corr_incidents_json) has severity sev: in
 * its key, else among its alerts' labels. */
static int has_severity(run_ui_t *ui, const json_t *o, const char *sev)
{
    const char *k = jstr(o, "severity"); /* a person's correction */
    if (!k)
        k = jstr(json_object_get(o, "key"), "severity");
    if (k)
        return strcmp(k, sev) == 0;
    int found = 0;
    sqlite3_reset(ui->labels);
    sqlite3_bind_text(ui->labels, 1, jstr(o, "id"), -1, SQLITE_TRANSIENT);
    while (!found && sqlite3_step(ui->labels) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(ui->labels, 0);
        json_t *l = text ? json_loads(text, 0, NULL) : NULL;
        const char *s = jstr(l, "severity");
        found = s && strcmp(s, sev) == 0;
        json_decref(l);
    }
    sqlite3_reset(ui->labels);
    return found;
}

/* The severities of incident o, comma-separated, into b. */
static void severities(run_ui_t *ui, const json_t *o, am_buf_t *b)
{
    const char *k = jstr(o, "severity"); /* a person's correction */
    if (!k)
        k = jstr(json_object_get(o, "key"), "severity");
    if (k) {
        report_html(b, k);
        return;
    }
    json_t *seen = json_object();
    sqlite3_reset(ui->labels);
    sqlite3_bind_text(ui->labels, 1, jstr(o, "id"), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(ui->labels) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(ui->labels, 0);
        json_t *l = text ? json_loads(text, 0, NULL) : NULL;
        const char *s = jstr(l, "severity");
        if (s && !json_object_get(seen, s)) {
            if (json_object_size(seen))
                am_buf_puts(b, ", ");
            report_html(b, s);
            json_object_set_new(seen, s, json_true());
        }
        json_decref(l);
    }
    sqlite3_reset(ui->labels);
    json_decref(seen);
}

/* ---- text search ---- */

static int ci_contains(const char *hay, const char *needle)
{
    if (!hay)
        return 0;
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i]) {
            char a = hay[i], b = needle[i];
            if (a >= 'A' && a <= 'Z')
                a = (char)(a - 'A' + 'a');
            if (b >= 'A' && b <= 'Z')
                b = (char)(b - 'A' + 'a');
            if (a != b)
                break;
            i++;
        }
        if (i == n)
            return 1;
    }
    return 0;
}

static int matches_text(const json_t *o, const char *q)
{
    if (ci_contains(jstr(o, "id"), q) || ci_contains(jstr(o, "rule"), q) ||
        ci_contains(jstr(o, "lead"), q))
        return 1;
    size_t i;
    const char *k;
    json_t *v;
    json_array_foreach(json_object_get(o, "services"), i,
                       v) if (ci_contains(json_string_value(v), q)) return 1;
    json_array_foreach(json_object_get(o, "aliases"), i,
                       v) if (ci_contains(json_string_value(v), q)) return 1;
    json_object_foreach(json_object_get(o, "key"), k,
                        v) if (ci_contains(json_string_value(v), q) || ci_contains(k, q)) return 1;
    const char *lists[] = {"suspects", "during"};
    for (size_t l = 0; l < 2; l++)
        json_array_foreach(json_object_get(o, lists[l]), i,
                           v) if (ci_contains(jstr(v, "name"), q) ||
                                  ci_contains(jstr(v, "version"), q)) return 1;
    return 0;
}

static int has_service(const json_t *o, const char *svc)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(o, "services"), i, v)
    {
        if (json_string_value(v) && strcmp(json_string_value(v), svc) == 0)
            return 1;
    }
    return 0;
}

static int64_t jtime(const json_t *o, const char *k)
{
    const char *s = jstr(o, k);
    int64_t ms;
    if (!s || am_time_parse(s, strlen(s), &ms, NULL, 0) != 0)
        return AM_TIME_NONE;
    return ms;
}

/* Open first, then the latest start first, then by id. */
static int by_open_then_recent(const void *pa, const void *pb)
{
    const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    const char *sa = jstr(a, "status"), *sb = jstr(b, "status");
    int oa = sa && strcmp(sa, "open") == 0, ob = sb && strcmp(sb, "open") == 0;
    if (oa != ob)
        return ob - oa;
    const char *ta = jstr(a, "started_at"), *tb = jstr(b, "started_at");
    int c = strcmp(tb ? tb : "", ta ? ta : ""); /* RFC 3339 UTC: text order is time order */
    if (c)
        return c;
    return strcmp(jstr(a, "id") ? jstr(a, "id") : "", jstr(b, "id") ? jstr(b, "id") : "");
}

/* ---- page shell ---- */

typedef enum { NAV_NONE, NAV_INCIDENTS, NAV_OPEN, NAV_METRICS, NAV_ACTIONS } nav_t;

static void page_open(am_buf_t *b, const char *title, int live)
{
    am_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<title>");
    report_html(b, title);
    am_buf_puts(b, " - aftermath</title>\n"
                   "<link rel=\"stylesheet\" href=\"/ui/static/aftermath.css\">\n");
    if (live)
        am_buf_puts(b, "<script src=\"/ui/static/live.js\" defer></script>\n");
    am_buf_puts(b, "</head>\n");
}

static void page_nav(am_buf_t *b, nav_t here)
{
    am_buf_printf(
        b,
        "<header><nav aria-label=\"main\">"
        "<a href=\"/ui/\"%s>Incidents</a>"
        "<a href=\"/ui/?status=open\"%s>Open incidents</a>"
        "<a href=\"/ui/metrics\"%s>Metrics</a>"
        "<a href=\"/ui/actions\"%s>Action items</a></nav></header>\n<main>\n",
        here == NAV_INCIDENTS ? " class=\"here\"" : "", here == NAV_OPEN ? " class=\"here\"" : "",
        here == NAV_METRICS ? " class=\"here\"" : "", here == NAV_ACTIONS ? " class=\"here\"" : "");
}

static void page_close(am_buf_t *b)
{
    am_buf_puts(b, "</main>\n<footer>aftermath " AFTERMATH_VERSION
                   " &middot; times in UTC</footer>\n</body>\n</html>\n");
}

static void reply_page(run_http_reply_t *r, unsigned status)
{
    r->status = status;
    r->type = "text/html; charset=utf-8";
    r->headers = page_headers;
}

static void error_page(run_http_reply_t *r, unsigned status, const char *title, const char *msg)
{
    am_buf_reset(&r->body);
    page_open(&r->body, title, 0);
    am_buf_puts(&r->body, "<body>\n");
    page_nav(&r->body, NAV_NONE);
    am_buf_puts(&r->body, "<h1>");
    report_html(&r->body, title);
    am_buf_puts(&r->body, "</h1>\n<p class=\"error\">");
    report_html(&r->body, msg);
    am_buf_puts(&r->body, "</p>\n<p><a href=\"/ui/\">All incidents</a></p>\n");
    page_close(&r->body);
    reply_page(r, status);
}

/* Appends what lies between <body> and </body> of the document doc. */
static int append_body(am_buf_t *b, const am_buf_t *doc)
{
    if (!doc->len)
        return -1;
    const char *open = strstr(doc->p, "<body>");
    const char *close = NULL;
    for (const char *p = open; p && (p = strstr(p, "</body>")) != NULL; p++)
        close = p;
    if (!open || !close || close < open)
        return -1;
    open += strlen("<body>");
    am_buf_append(b, open, (size_t)(close - open));
    return 0;
}

static void time_cell(am_buf_t *b, const json_t *o, const char *k)
{
    const char *s = jstr(o, k);
    am_buf_puts(b, "<td class=\"when\">");
    report_html(b, s ? s : "-");
    am_buf_puts(b, "</td>");
}

static void duration_cell(am_buf_t *b, const json_t *o, const char *from, const char *to)
{
    int64_t d = report_metrics_duration(jtime(o, from), jtime(o, to));
    char out[REPORT_DURATION_STRLEN];
    am_buf_puts(b, "<td>");
    report_html(b, d == AM_TIME_NONE ? "-" : report_duration(d, out));
    am_buf_puts(b, "</td>");
}

/* A query string of the filters f, with page p (0: none); HTML-escaped
 * for an attribute. */
static void filter_query(am_buf_t *b, const run_ui_filter_t *f, long p)
{
    am_buf_t q = {0};
    const char *names[] = {"status", "service", "rule", "severity", "q"};
    const char *vals[] = {f->status, f->service, f->rule, f->severity, f->q};
    char t[AM_TIME_STRLEN];
    for (size_t i = 0; i < 5; i++)
        if (vals[i]) {
            am_buf_printf(&q, "%s%s=", q.len ? "&" : "?", names[i]);
            run_ui_urlencode(&q, vals[i]);
        }
    if (f->since != AM_TIME_NONE) {
        am_buf_printf(&q, "%ssince=", q.len ? "&" : "?");
        run_ui_urlencode(&q, am_time_format(f->since, t));
    }
    if (f->until != AM_TIME_NONE) {
        am_buf_printf(&q, "%suntil=", q.len ? "&" : "?");
        run_ui_urlencode(&q, am_time_format(f->until, t));
    }
    if (f->all)
        am_buf_printf(&q, "%sall=1", q.len ? "&" : "?");
    if (p > 0)
        am_buf_printf(&q, "%spage=%ld", q.len ? "&" : "?", p);
    if (q.len)
        report_escape_html(b, q.p, q.len);
    am_buf_free(&q);
}

static void input(am_buf_t *b, const char *label, const char *name, const char *value,
                  const char *placeholder)
{
    am_buf_printf(b, "<label>%s <input name=\"%s\" value=\"", label, name);
    report_html(b, value ? value : "");
    am_buf_printf(b, "\" placeholder=\"%s\"></label>\n", placeholder);
}

static void time_input(am_buf_t *b, const char *label, const char *name, int64_t v)
{
    char t[AM_TIME_STRLEN];
    input(b, label, name, v == AM_TIME_NONE ? NULL : am_time_format(v, t),
          "2025-03-11T00:00:00Z or 7d");
}

/* ---- the incidents page ---- */

/* The page of the incidents list from the store's paged statements
 * (corr_sql_incidents_page, _count): the filters SQL can answer. */
static int list_page(run_ui_t *ui, const run_ui_filter_t *f, size_t from, json_t *rows, size_t *nm,
                     char *err, size_t errlen)
{
    sqlite3_stmt *s[2] = {ui->page, ui->count};
    int rc = SQLITE_DONE;
    for (int k = 0; k < 2; k++) {
        sqlite3_reset(s[k]);
        sqlite3_bind_int(s[k], 1, f->all);
        const char *text[] = {f->status, f->rule, f->service};
        for (int j = 0; j < 3; j++)
            if (text[j])
                sqlite3_bind_text(s[k], 2 + j, text[j], -1, SQLITE_TRANSIENT);
            else
                sqlite3_bind_null(s[k], 2 + j);
        const int64_t t[] = {f->since, f->until};
        for (int j = 0; j < 2; j++)
            if (t[j] != AM_TIME_NONE)
                sqlite3_bind_int64(s[k], 5 + j, t[j]);
            else
                sqlite3_bind_null(s[k], 5 + j);
    }
    sqlite3_bind_int(ui->page, 7, RUN_UI_PAGE_SIZE);
    sqlite3_bind_int64(ui->page, 8, (sqlite3_int64)from);
    if (sqlite3_step(ui->count) == SQLITE_ROW)
        *nm = (size_t)sqlite3_column_int64(ui->count, 0);
    else
        rc = SQLITE_ERROR;
    while (rc == SQLITE_DONE && (rc = sqlite3_step(ui->page)) == SQLITE_ROW) {
        json_t *o =
            corr_incident_json(ui->st, (const char *)sqlite3_column_text(ui->page, 0), err, errlen);
        if (!o) {
            rc = SQLITE_ERROR;
            break;
        }
        json_array_append_new(rows, o);
        rc = SQLITE_DONE;
    }
    if (rc != SQLITE_DONE)
        am_errf(err, errlen, "%s: listing incidents: %s", ui->db, sqlite3_errmsg(store_db(ui->st)));
    sqlite3_reset(ui->page);
    sqlite3_reset(ui->count);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The page of the incidents list by reading every incident: the text
 * search and the severity (of the key or any alert's labels) are matched
 * here, on the incidents' JSON. */
static int list_scan(run_ui_t *ui, const run_ui_filter_t *f, size_t from, json_t *rows, size_t *nm,
                     char *err, size_t errlen)
{
    json_t *all = corr_incidents_json_all(ui->st, f->all, err, errlen);
    if (!all)
        return -1;
    size_t n = json_array_size(all);
    json_t **m = am_xcalloc(n ? n : 1, sizeof *m);
    size_t i;
    json_t *o;
    *nm = 0;
    json_array_foreach(all, i, o)
    {
        const char *st = jstr(o, "status");
        int64_t at = jtime(o, "started_at");
        if (f->status && (!st || strcmp(st, f->status) != 0))
            continue;
        if (f->rule && (!jstr(o, "rule") || strcmp(jstr(o, "rule"), f->rule) != 0))
            continue;
        if (f->service && !has_service(o, f->service))
            continue;
        if (f->since != AM_TIME_NONE && (at == AM_TIME_NONE || at < f->since))
            continue;
        if (f->until != AM_TIME_NONE && (at == AM_TIME_NONE || at >= f->until))
            continue;
        if (f->q && !matches_text(o, f->q))
            continue;
        if (f->severity && !has_severity(ui, o, f->severity))
            continue;
        m[(*nm)++] = o;
    }
    qsort(m, *nm, sizeof *m, by_open_then_recent);
    for (i = from; i < *nm && i < from + RUN_UI_PAGE_SIZE; i++)
        json_array_append(rows, m[i]);
    free(m);
    json_decref(all);
    return 0;
}

static void page_incidents(run_ui_t *ui, const run_ui_arg_t *args, size_t nargs,
                           run_http_reply_t *r)
{
    static const char *const allowed[] = {"status", "service", "rule", "severity", "q",
                                          "since",  "until",   "page", "all",      NULL};
    run_ui_filter_t f;
    char err[512];
    if (run_ui_parse_filter(args, nargs, allowed, am_wall_ms(), &f, err, sizeof err) != 0) {
        error_page(r, 400, "Bad request", err);
        return;
    }
    /* rows: the incidents of the page asked; nm: how many match. */
    json_t *rows = json_array();
    size_t nm = 0;
    size_t from = (size_t)(f.page - 1) * RUN_UI_PAGE_SIZE;
    int rc = f.q || f.severity ? list_scan(ui, &f, from, rows, &nm, err, sizeof err)
                               : list_page(ui, &f, from, rows, &nm, err, sizeof err);
    if (rc != 0) {
        json_decref(rows);
        error_page(r, 500, "The database failed", err);
        return;
    }
    long pages = nm ? (long)((nm + RUN_UI_PAGE_SIZE - 1) / RUN_UI_PAGE_SIZE) : 1;
    am_buf_t *b = &r->body;
    nav_t here = f.status && strcmp(f.status, "open") == 0 && !f.service && !f.rule &&
                         !f.severity && !f.q && f.since == AM_TIME_NONE && f.until == AM_TIME_NONE
                     ? NAV_OPEN
                     : NAV_INCIDENTS;
    page_open(b, "Incidents", 0);
    am_buf_puts(b, "<body>\n");
    page_nav(b, here);
    am_buf_puts(b, "<h1>Incidents</h1>\n<form class=\"filters\" method=\"get\" action=\"/ui/\">\n"
                   "<label>Status <select name=\"status\">");
    const char *sts[] = {"all", "open", "resolved"};
    for (size_t k = 0; k < 3; k++)
        am_buf_printf(b, "<option value=\"%s\"%s>%s</option>", sts[k],
                      (f.status ? strcmp(f.status, sts[k]) == 0 : k == 0) ? " selected" : "",
                      sts[k]);
    am_buf_puts(b, "</select></label>\n");
    input(b, "Search", "q", f.q, "id or text");
    input(b, "Service", "service", f.service, "payments");
    input(b, "Rule", "rule", f.rule, "rule name");
    input(b, "Severity", "severity", f.severity, "critical");
    time_input(b, "Started since", "since", f.since);
    time_input(b, "Started before", "until", f.until);
    am_buf_puts(b, "<button type=\"submit\">Filter</button> <a href=\"/ui/\">Clear</a>\n</form>\n");
    if (f.page > pages) {
        am_buf_printf(b, "<p>No page %ld: %zu incident%s match, %ld page%s.</p>\n", f.page, nm,
                      nm == 1 ? "" : "s", pages, pages == 1 ? "" : "s");
    } else {
        size_t to = from + RUN_UI_PAGE_SIZE < nm ? from + RUN_UI_PAGE_SIZE : nm;
        am_buf_printf(b, "<p id=\"count\">%zu incident%s", nm, nm == 1 ? "" : "s");
        if (nm)
            am_buf_printf(b, ", %zu to %zu shown (page %ld of %ld)", from + 1, to, f.page, pages);
        am_buf_puts(b, ".</p>\n");
        if (nm) {
            am_buf_puts(b, "<table id=\"incidents\">\n<tr><th>ID</th><th>Title</th><th>Status</th>"
                           "<th>Started (UTC)</th><th>Services</th><th>Rule</th><th>Key</th>"
                           "<th>Severity</th><th>Alerts</th><th>Detect</th><th>Ack</th>"
                           "<th>Mitigate</th></tr>\n");
        }
        size_t k;
        json_t *o;
        json_array_foreach(rows, k, o)
        {
            const char *id = jstr(o, "id"), *st = jstr(o, "status");
            am_buf_puts(b, "<tr><td class=\"mono\"><a href=\"/ui/incidents/");
            am_buf_t enc = {0};
            run_ui_urlencode(&enc, id ? id : "");
            if (enc.len)
                report_escape_html(b, enc.p, enc.len);
            am_buf_free(&enc);
            am_buf_puts(b, "\">");
            report_html(b, id);
            am_buf_puts(b, "</a></td><td class=\"title\">");
            report_html(b, jstr(o, "title") ? jstr(o, "title") : "");
            am_buf_printf(b, "</td><td class=\"status-%s\">",
                          st && strcmp(st, "open") == 0 ? "open" : "resolved");
            report_html(b, st);
            am_buf_puts(b, "</td>");
            time_cell(b, o, "started_at");
            am_buf_puts(b, "<td>");
            json_t *v;
            size_t j;
            json_array_foreach(json_object_get(o, "services"), j, v)
            {
                if (j)
                    am_buf_puts(b, ", ");
                report_html(b, json_string_value(v));
            }
            am_buf_puts(b, "</td><td>");
            report_html(b, jstr(o, "rule"));
            am_buf_puts(b, "</td><td>");
            const char *kn;
            j = 0;
            json_object_foreach(json_object_get(o, "key"), kn, v)
            {
                if (j++)
                    am_buf_puts(b, " ");
                report_html(b, kn);
                am_buf_puts(b, "=");
                report_html(b, json_string_value(v));
            }
            am_buf_puts(b, "</td><td>");
            severities(ui, o, b);
            am_buf_printf(b, "</td><td>%lld</td>",
                          (long long)json_integer_value(json_object_get(o, "alerts")));
            duration_cell(b, o, "started_at", "detected_at");
            duration_cell(b, o, "detected_at", "acknowledged_at");
            duration_cell(b, o, "started_at", "mitigated_at");
            am_buf_puts(b, "</tr>\n");
        }
        if (nm)
            am_buf_puts(b, "</table>\n");
    }
    am_buf_puts(b, "<p class=\"pager\">");
    if (f.page > 1) {
        am_buf_puts(b, "<a rel=\"prev\" href=\"/ui/");
        filter_query(b, &f, f.page - 1 > pages ? pages : f.page - 1);
        am_buf_puts(b, "\">Previous page</a>");
    }
    if (f.page < pages) {
        am_buf_puts(b, "<a rel=\"next\" href=\"/ui/");
        filter_query(b, &f, f.page + 1);
        am_buf_puts(b, "\">Next page</a>");
    }
    am_buf_puts(b, "</p>\n");
    page_close(b);
    reply_page(r, 200);
    json_decref(rows);
}

/* ---- one incident ---- */

static int valid_id(const char *id, size_t len)
{
    if (len == 0 || len > MAX_ID)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return 0;
    }
    return 1;
}

/* The version of incident id: a hash of its JSON and of its linked events
 * (id and time seen), as 16 hex digits into out. -1 when there is no such
 * incident or on error (err set then). */
static int incident_version(run_ui_t *ui, const char *id, char out[17], char *err, size_t errlen)
{
    err[0] = '\0';
    json_t *o = corr_incident_json(ui->st, id, err, errlen);
    if (!o)
        return -1;
    char *dump = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
    uint64_t h = am_fnv64_add(0xcbf29ce484222325ULL, dump ? dump : "", dump ? strlen(dump) : 0);
    free(dump);
    sqlite3_reset(ui->links);
    sqlite3_bind_text(ui->links, 1, jstr(o, "id"), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(ui->links) == SQLITE_ROW) {
        const unsigned char *eid = sqlite3_column_text(ui->links, 1);
        int64_t seen = sqlite3_column_int64(ui->links, 12);
        if (eid)
            h = am_fnv64_add(h, eid, strlen((const char *)eid));
        h = am_fnv64_add(h, &seen, sizeof seen);
    }
    sqlite3_reset(ui->links);
    json_decref(o);
    snprintf(out, 17, "%016llx", (unsigned long long)h);
    return 0;
}

static void col_text(am_buf_t *b, sqlite3_stmt *s, int c)
{
    const char *t = (const char *)sqlite3_column_text(s, c);
    report_html(b, t ? t : "");
}

static void col_time(am_buf_t *b, sqlite3_stmt *s, int c)
{
    char t[AM_TIME_STRLEN];
    if (sqlite3_column_type(s, c) == SQLITE_NULL)
        am_buf_puts(b, "-");
    else
        report_html(b, am_time_format(sqlite3_column_int64(s, c), t));
}

/* The drafts' rule for a link (docs/escaping.md): an absolute http(s) URL
 * with a host, no space or control character, at most 2048 bytes; any
 * other URL is not linked. */
static int is_http_url(const char *u)
{
    size_t skip = u && strncmp(u, "https://", 8) == 0  ? 8
                  : u && strncmp(u, "http://", 7) == 0 ? 7
                                                       : 0;
    if (!skip || strlen(u) > 2048 || !u[skip] || u[skip] == '/')
        return 0;
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

static void events_table(run_ui_t *ui, const char *id, am_buf_t *b)
{
    sqlite3_reset(ui->links);
    sqlite3_bind_text(ui->links, 1, id, -1, SQLITE_TRANSIENT);
    size_t n = 0;
    while (sqlite3_step(ui->links) == SQLITE_ROW) {
        if (n++ == 0)
            am_buf_puts(b, "<table id=\"events\">\n<tr><th>Starts (UTC)</th><th>Ends</th>"
                           "<th>Role</th><th>Kind</th><th>Name</th><th>Service</th>"
                           "<th>Severity</th><th>Status</th><th>Summary</th><th>Actor</th>"
                           "<th>Source</th><th>Link</th></tr>\n");
        am_buf_puts(b, "<tr><td class=\"when\">");
        col_time(b, ui->links, 10);
        am_buf_puts(b, "</td><td class=\"when\">");
        col_time(b, ui->links, 11);
        const int cols[] = {0, 2, 5, 7, 8, 3, 9, 13, 4};
        for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
            am_buf_puts(b, "</td><td>");
            if (cols[k] == 5 && sqlite3_column_type(ui->links, 14) != SQLITE_NULL) {
                col_text(b, ui->links, 5);
                am_buf_puts(b, " ");
                col_text(b, ui->links, 14);
            } else {
                col_text(b, ui->links, cols[k]);
            }
        }
        am_buf_puts(b, "</td><td>");
        const char *url = (const char *)sqlite3_column_text(ui->links, 17);
        if (is_http_url(url)) {
            am_buf_puts(b, "<a rel=\"noopener noreferrer\" href=\"");
            report_html(b, url);
            am_buf_puts(b, "\">link</a>");
        }
        am_buf_puts(b, "</td></tr>\n");
    }
    sqlite3_reset(ui->links);
    if (n)
        am_buf_puts(b, "</table>\n");
    else
        am_buf_puts(b, "<p>No events are linked to this incident.</p>\n");
}

static void download(run_ui_t *ui, const char *id, const char *what, run_http_reply_t *r)
{
    char err[512] = "";
    report_draft_t *d = report_draft_create(ui->st, id, NULL, err, sizeof err);
    if (!d) {
        if (err[0])
            error_page(r, 500, "The database failed", err);
        else
            error_page(r, 404, "No such incident", "There is no incident with this id.");
        return;
    }
    r->status = 200;
    r->headers = download_headers;
    if (strcmp(what, "draft.md") == 0) {
        report_draft_markdown(d, &r->body);
        r->type = "text/markdown; charset=utf-8";
    } else if (strcmp(what, "draft.json") == 0) {
        report_draft_json(d, &r->body);
        r->type = "application/json";
    } else if (strcmp(what, "summary.txt") == 0) {
        report_draft_summary(d, &r->body);
        r->type = "text/plain; charset=utf-8";
    } else {
        report_draft_html(d, &r->body);
        r->type = "text/html; charset=utf-8";
        r->headers = draft_html_headers;
    }
    report_draft_destroy(d);
}

/* The people's record of incident o: its corrections (the value a person
 * set beside the derived one) and the history of correction and action
 * events (who, when, why, what). */
static void corrections_section(run_ui_t *ui, const json_t *o, am_buf_t *b)
{
    am_buf_puts(b, "<h2 id=\"corrections\">Corrections</h2>\n");
    const json_t *corr = json_object_get(o, "corrections");
    if (json_object_size(corr)) {
        am_buf_puts(b, "<table id=\"corrected\">\n<tr><th>Field</th><th>Corrected</th>"
                       "<th>Derived</th><th>By</th><th>At (UTC)</th><th>Why</th></tr>\n");
        const char *field;
        json_t *c;
        json_object_foreach((json_t *)corr, field, c)
        {
            static const char *const keys[] = {"value", "derived", "actor", "at", "reason"};
            am_buf_puts(b, "<tr><td>");
            report_html(b, field);
            for (size_t k = 0; k < 5; k++) {
                json_t *v = json_object_get(c, keys[k]);
                am_buf_puts(b, "</td><td>");
                if (json_is_string(v)) {
                    report_html(b, json_string_value(v));
                } else if (v && !json_is_null(v)) {
                    char *t = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
                    report_html(b, t ? t : "");
                    free(t);
                } else {
                    am_buf_puts(b, k == 1 ? "-" : "");
                }
            }
            am_buf_puts(b, "</td></tr>\n");
        }
        am_buf_puts(b, "</table>\n");
    }
    const char *extra[][2] = {{"dismissed", "Dismissed"}, {"merged_into", "Merged into"}};
    for (size_t k = 0; k < 2; k++)
        if (jstr(o, extra[k][0])) {
            am_buf_printf(b, "<p class=\"%s\">%s: ", extra[k][0], extra[k][1]);
            report_html(b, jstr(o, extra[k][0]));
            am_buf_puts(b, "</p>\n");
        }
    sqlite3_reset(ui->people);
    sqlite3_bind_text(ui->people, 1, jstr(o, "id"), -1, SQLITE_TRANSIENT);
    size_t n = 0;
    while (sqlite3_step(ui->people) == SQLITE_ROW) {
        if (n++ == 0)
            am_buf_puts(b, "<table id=\"history\">\n<tr><th>At (UTC)</th><th>Kind</th>"
                           "<th>By</th><th>Why / task</th><th>What</th></tr>\n");
        am_buf_puts(b, "<tr><td class=\"when\">");
        col_time(b, ui->people, 1);
        const int cols[] = {0, 2, 3};
        for (size_t k = 0; k < 3; k++) {
            am_buf_puts(b, "</td><td>");
            col_text(b, ui->people, cols[k]);
        }
        /* What it sets: the body without what the other columns show. */
        const char *body = (const char *)sqlite3_column_text(ui->people, 4);
        json_t *what = body ? json_loads(body, 0, NULL) : NULL;
        static const char *const shown[] = {"about", "incident", "reason", "task"};
        for (size_t k = 0; k < 4; k++)
            json_object_del(what, shown[k]);
        char *t = what ? json_dumps(what, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        am_buf_puts(b, "</td><td class=\"what\">");
        report_html(b, t ? t : "");
        free(t);
        json_decref(what);
        am_buf_puts(b, "</td></tr>\n");
    }
    sqlite3_reset(ui->people);
    if (n)
        am_buf_puts(b, "</table>\n");
    else if (!json_object_size(corr))
        am_buf_puts(b, "<p>No person has corrected this incident.</p>\n");
}

static void actions_section(const json_t *o, am_buf_t *b)
{
    am_buf_puts(b, "<h2 id=\"actions\">Action items</h2>\n");
    const json_t *items = json_object_get(o, "action_items");
    if (!json_array_size(items)) {
        am_buf_puts(b, "<p>No action items.</p>\n");
        return;
    }
    am_buf_puts(b, "<table id=\"action-items\">\n<tr><th>Item</th><th>Status</th><th>Task</th>"
                   "<th>Owner</th><th>Due (UTC)</th><th>Closed</th><th>Link</th></tr>\n");
    size_t i;
    json_t *a;
    json_array_foreach(items, i, a)
    {
        static const char *const keys[] = {"item", "status", "task", "owner", "due", "closed_at"};
        am_buf_puts(b, "<tr>");
        for (size_t k = 0; k < 6; k++) {
            am_buf_puts(b, "<td>");
            report_html(b, jstr(a, keys[k]) ? jstr(a, keys[k]) : "");
            am_buf_puts(b, "</td>");
        }
        am_buf_puts(b, "<td>");
        if (is_http_url(jstr(a, "url"))) {
            am_buf_puts(b, "<a rel=\"noopener noreferrer\" href=\"");
            report_html(b, jstr(a, "url"));
            am_buf_puts(b, "\">ticket</a>");
        }
        am_buf_puts(b, "</td></tr>\n");
    }
    am_buf_puts(b, "</table>\n");
}

/* The forms of an incident's page when edits are on: each posts to
 * enc (the id, percent-encoded) /correct or /action with the CSRF token. */
static void form_open(run_ui_t *ui, am_buf_t *b, const char *enc, const char *what,
                      const char *legend, const char *id)
{
    am_buf_printf(b, "<form class=\"edit\" id=\"%s\" method=\"post\" action=\"/ui/incidents/", id);
    report_html(b, enc);
    am_buf_printf(b,
                  "/%s\">\n<fieldset><legend>%s</legend>\n"
                  "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n",
                  what, legend, ui->csrf);
}

static void form_field(am_buf_t *b, const char *label, const char *name, const char *hint)
{
    am_buf_printf(b, "<label>%s <input name=\"%s\" placeholder=\"", label, name);
    report_html(b, hint ? hint : "");
    am_buf_puts(b, "\"></label>\n");
}

static void form_close(am_buf_t *b, const char *button, int why)
{
    am_buf_puts(b, "<label>Your name <input name=\"actor\" required></label>\n");
    if (why)
        form_field(b, "Why", "reason", "what you know that the events do not say");
    am_buf_printf(b, "<button type=\"submit\">%s</button>\n</fieldset>\n</form>\n", button);
}

/* A select of o's action items (only the open ones: open_only). */
static void item_select(am_buf_t *b, const json_t *o, int open_only)
{
    size_t i;
    json_t *a;
    am_buf_puts(b, "<label>Item <select name=\"item\">");
    json_array_foreach(json_object_get(o, "action_items"), i, a)
    {
        if (open_only && (!jstr(a, "status") || strcmp(jstr(a, "status"), "open") != 0))
            continue;
        am_buf_puts(b, "<option value=\"");
        report_html(b, jstr(a, "item"));
        am_buf_puts(b, "\">");
        report_html(b, jstr(a, "item"));
        am_buf_puts(b, ": ");
        report_html(b, jstr(a, "task") ? jstr(a, "task") : "");
        am_buf_puts(b, "</option>");
    }
    am_buf_puts(b, "</select></label>\n");
}

static void edit_forms(run_ui_t *ui, const json_t *o, const char *enc, am_buf_t *b)
{
    am_buf_puts(b, "<h2 id=\"edit\">Correct</h2>\n<p class=\"note\">Recorded as a correction "
                   "event, as <code>aftermath correct</code> does; empty fields are left as "
                   "they are. Signed-in only (<a href=\"/ui/login\">sign in</a>).</p>\n"
                   "<form class=\"signout\" method=\"post\" action=\"/ui/logout\">"
                   "<button type=\"submit\">Sign out</button></form>\n");
    form_open(ui, b, enc, "correct", "Fields", "correct-fields");
    form_field(b, "Title", "title", jstr(o, "title"));
    form_field(b, "Severity", "severity", jstr(o, "severity"));
    form_field(b, "Lead", "lead", jstr(o, "lead"));
    form_field(b, "Role", "role", "comms, scribe, ...");
    form_field(b, "Role held by", "role_person", "name");
    static const char *const times[] = {"started_at", "detected_at", "acknowledged_at",
                                        "mitigated_at", "resolved_at"};
    for (size_t k = 0; k < 5; k++)
        form_field(b, times[k], times[k], jstr(o, times[k]) ? jstr(o, times[k]) : "RFC 3339");
    form_field(b, "Users impacted", "users_impacted", "a count");
    am_buf_puts(b, "<label>Back to derived <select name=\"unset\"><option value=\"\"></option>");
    static const char *const fields[] = {"title",        "severity",    "lead",
                                         "started_at",   "detected_at", "acknowledged_at",
                                         "mitigated_at", "resolved_at", "users_impacted"};
    for (size_t k = 0; k < 9; k++)
        am_buf_printf(b, "<option>%s</option>", fields[k]);
    am_buf_puts(b, "</select></label>\n");
    form_close(b, "Correct", 1);

    size_t i;
    json_t *d;
    if (json_array_size(json_object_get(o, "suspects"))) { /* a suspect to judge */
        form_open(ui, b, enc, "correct", "Suspect deploy", "correct-suspect");
        am_buf_puts(b, "<label>Deploy <select name=\"suspect\">");
        json_array_foreach(json_object_get(o, "suspects"), i, d)
        {
            am_buf_t v = {0};
            am_buf_printf(&v, "%s@%s", jstr(d, "name") ? jstr(d, "name") : "",
                          jstr(d, "version") ? jstr(d, "version") : "");
            am_buf_putc(&v, '\0');
            am_buf_puts(b, "<option value=\"");
            report_html(b, v.p);
            am_buf_puts(b, "\">");
            report_html(b, v.p);
            am_buf_puts(b, "</option>");
            am_buf_free(&v);
        }
        am_buf_puts(b, "</select></label>\n<label>Verdict <select name=\"verdict\">"
                       "<option value=\"confirmed\">confirmed</option><option value=\"rejected\">"
                       "rejected</option><option value=\"none\">none</option>"
                       "</select></label>\n");
        form_close(b, "Judge", 1);
    }

    form_open(ui, b, enc, "correct", "Dismiss or merge", "correct-dismiss");
    form_field(b, "Dismiss: not an incident because", "dismiss", "reason");
    form_field(b, "Merge into incident", "merge_into", "ID");
    am_buf_puts(b, "<label><input type=\"checkbox\" name=\"undismiss\" value=\"1\"> undismiss"
                   "</label>\n<label><input type=\"checkbox\" name=\"unmerge\" value=\"1\"> "
                   "unmerge</label>\n");
    form_close(b, "Record", 1);

    form_open(ui, b, enc, "action", "Add an action item", "action-add");
    am_buf_puts(b, "<input type=\"hidden\" name=\"verb\" value=\"add\">\n"
                   "<label>Task <input name=\"task\" required></label>\n");
    form_field(b, "Owner", "owner", "name");
    form_field(b, "Due", "due", "YYYY-MM-DD");
    form_field(b, "Ticket URL", "url", "https://...");
    form_close(b, "Add", 0);

    size_t open = 0;
    json_t *a;
    json_array_foreach(json_object_get(o, "action_items"), i, a) open +=
        jstr(a, "status") && strcmp(jstr(a, "status"), "open") == 0;
    if (open) {
        form_open(ui, b, enc, "action", "Close an action item", "action-done");
        am_buf_puts(b, "<input type=\"hidden\" name=\"verb\" value=\"done\">\n");
        item_select(b, o, 1);
        form_close(b, "Done", 0);
    }
    if (json_array_size(json_object_get(o, "action_items"))) {
        form_open(ui, b, enc, "action", "Change an action item", "action-set");
        am_buf_puts(b, "<input type=\"hidden\" name=\"verb\" value=\"set\">\n");
        item_select(b, o, 0);
        form_field(b, "Task", "task", "unchanged");
        form_field(b, "Owner", "owner", "unchanged");
        form_field(b, "Due", "due", "YYYY-MM-DD");
        form_field(b, "Ticket URL", "url", "https://...");
        am_buf_puts(b, "<label>Status <select name=\"status\"><option value=\"\"></option>"
                       "<option value=\"open\">open</option><option value=\"done\">done</option>"
                       "</select></label>\n");
        form_close(b, "Change", 0);
    }
}

static void page_incident(run_ui_t *ui, const char *id, run_http_reply_t *r)
{
    char err[512] = "", version[17];
    report_draft_t *d = report_draft_create(ui->st, id, NULL, err, sizeof err);
    if (!d) {
        if (err[0])
            error_page(r, 500, "The database failed", err);
        else
            error_page(r, 404, "No such incident", "There is no incident with this id.");
        return;
    }
    const char *cid = report_draft_id(d);
    json_t *o = corr_incident_json(ui->st, cid, err, sizeof err);
    const char *status = jstr(o, "status");
    int live = status && strcmp(status, "open") == 0 &&
               incident_version(ui, cid, version, err, sizeof err) == 0;
    am_buf_t *b = &r->body;
    am_buf_t enc = {0};
    run_ui_urlencode(&enc, cid);
    am_buf_putc(&enc, '\0');
    page_open(b, cid, live);
    if (live) {
        am_buf_puts(b, "<body data-poll=\"/ui/incidents/");
        report_html(b, enc.p);
        am_buf_printf(b, "/version\" data-version=\"%s\">\n", version);
    } else {
        am_buf_puts(b, "<body>\n");
    }
    page_nav(b, NAV_NONE);
    am_buf_puts(b, "<h1 class=\"mono\">");
    report_html(b, cid);
    am_buf_printf(b, "</h1>\n<p>Status: <span class=\"status-%s\">",
                  live || (status && strcmp(status, "open") == 0) ? "open" : "resolved");
    report_html(b, status ? status : "unknown");
    am_buf_puts(b, "</span>");
    if (live)
        am_buf_puts(b, " &middot; <span id=\"live\">this page refreshes as events arrive</span>");
    am_buf_puts(b, "</p>\n<p class=\"downloads\">Download: ");
    const char *dl[][2] = {{"draft.md", "Markdown"},
                           {"draft.json", "JSON"},
                           {"summary.txt", "Summary"},
                           {"draft.html", "HTML"}};
    for (size_t k = 0; k < 4; k++) {
        const char *ext = strchr(dl[k][0], '.');
        am_buf_puts(b, "<a href=\"/ui/incidents/");
        report_html(b, enc.p);
        am_buf_printf(b, "/%s\" download=\"", dl[k][0]);
        report_html(b, cid);
        am_buf_printf(b, "%s%s\">%s</a>", strcmp(dl[k][0], "summary.txt") == 0 ? ".summary" : "",
                      ext, dl[k][1]);
    }
    am_buf_puts(b, "</p>\n<section class=\"draft\" id=\"draft\">\n");
    am_buf_t doc = {0};
    report_draft_html(d, &doc);
    am_buf_putc(&doc, '\0');
    if (append_body(b, &doc) != 0)
        am_buf_puts(b, "<p class=\"error\">The draft could not be placed in the page.</p>\n");
    am_buf_free(&doc);
    am_buf_puts(b, "</section>\n");
    corrections_section(ui, o, b);
    actions_section(o, b);
    if (ui->token)
        edit_forms(ui, o, enc.p, b);
    am_buf_puts(b, "<h2>Events</h2>\n<div class=\"scroll\">\n");
    events_table(ui, cid, b);
    am_buf_puts(b, "</div>\n");
    page_close(b);
    reply_page(r, 200);
    am_buf_free(&enc);
    json_decref(o);
    report_draft_destroy(d);
}

static void answer_version(run_ui_t *ui, const char *id, run_http_reply_t *r)
{
    char err[512], version[17];
    if (incident_version(ui, id, version, err, sizeof err) != 0) {
        r->status = err[0] ? 500 : 404;
        am_buf_puts(&r->body, err[0] ? "the database failed\n" : "no such incident\n");
    } else {
        r->status = 200;
        am_buf_printf(&r->body, "%s\n", version);
    }
    r->type = "text/plain; charset=utf-8";
    r->headers = page_headers;
}

/* ---- metrics ---- */

static void page_metrics(run_ui_t *ui, const run_ui_arg_t *args, size_t nargs, run_http_reply_t *r)
{
    static const char *const allowed[] = {"since", "until", "by", NULL};
    run_ui_filter_t f;
    char err[512];
    if (run_ui_parse_filter(args, nargs, allowed, am_wall_ms(), &f, err, sizeof err) != 0) {
        error_page(r, 400, "Bad request", err);
        return;
    }
    report_metrics_options_t opts = {.since = f.since, .until = f.until, .by = f.by};
    report_metrics_t *m = report_metrics_compute(ui->st, &opts, err, sizeof err);
    if (!m) {
        error_page(r, 500, "The database failed", err);
        return;
    }
    am_buf_t *b = &r->body;
    page_open(b, "Metrics", 0);
    am_buf_puts(b, "<body>\n");
    page_nav(b, NAV_METRICS);
    am_buf_puts(b, "<form class=\"filters\" method=\"get\" action=\"/ui/metrics\">\n");
    input(b, "Group by", "by", f.by, "service, rule, severity, cluster");
    time_input(b, "Started since", "since", f.since);
    time_input(b, "Started before", "until", f.until);
    am_buf_puts(b, "<button type=\"submit\">Apply</button> <a href=\"/ui/metrics\">Clear</a>\n"
                   "</form>\n<section id=\"metrics\">\n");
    am_buf_t doc = {0};
    report_metrics_html(m, &doc);
    am_buf_putc(&doc, '\0');
    if (append_body(b, &doc) != 0)
        am_buf_puts(b, "<p class=\"error\">The metrics could not be placed in the page.</p>\n");
    am_buf_free(&doc);
    am_buf_puts(b, "</section>\n");
    page_close(b);
    reply_page(r, 200);
    report_metrics_destroy(m);
}

/* ---- action items ---- */

/* The action items of the incidents not dismissed, as `aftermath actions`
 * lists them: status (open, overdue, done or all) and owner filters. */
static void page_actions(run_ui_t *ui, const run_ui_arg_t *args, size_t nargs, run_http_reply_t *r)
{
    const char *status = NULL, *owner = NULL;
    for (size_t i = 0; i < nargs; i++) {
        const char *name = args[i].name ? args[i].name : "", *v = args[i].value;
        char msg[128];
        int bad = strcmp(name, "status") != 0 && strcmp(name, "owner") != 0;
        for (size_t k = 0; k < i && !bad; k++)
            bad = args[k].name && strcmp(args[k].name, name) == 0;
        if (!bad && v && strlen(v) > MAX_VALUE)
            bad = 1;
        for (const char *p = v; !bad && p && *p; p++)
            bad = (unsigned char)*p < 0x20 || *p == 0x7f;
        if (!bad && name[0] == 's' && v && *v && strcmp(v, "all") != 0 && strcmp(v, "open") != 0 &&
            strcmp(v, "overdue") != 0 && strcmp(v, "done") != 0)
            bad = 2;
        if (bad) {
            snprintf(msg, sizeof msg, "parameter '%.32s': %s", name,
                     bad == 2 ? "not open, overdue, done or all" : "unknown, repeated or bad");
            error_page(r, 400, "Bad request", msg);
            return;
        }
        if (v && *v && name[0] == 's' && strcmp(v, "all") != 0)
            status = v;
        else if (v && *v && name[0] == 'o')
            owner = v;
    }
    int64_t now = am_wall_ms();
    am_buf_t *b = &r->body;
    page_open(b, "Action items", 0);
    am_buf_puts(b, "<body>\n");
    page_nav(b, NAV_ACTIONS);
    am_buf_puts(b, "<h1>Action items</h1>\n<form class=\"filters\" method=\"get\" "
                   "action=\"/ui/actions\">\n<label>Status <select name=\"status\">");
    const char *sts[] = {"all", "open", "overdue", "done"};
    for (size_t k = 0; k < 4; k++)
        am_buf_printf(b, "<option value=\"%s\"%s>%s</option>", sts[k],
                      (status ? strcmp(status, sts[k]) == 0 : k == 0) ? " selected" : "", sts[k]);
    am_buf_puts(b, "</select></label>\n");
    input(b, "Owner", "owner", owner, "name");
    am_buf_puts(b, "<button type=\"submit\">Filter</button> <a href=\"/ui/actions\">Clear</a>\n"
                   "</form>\n");
    sqlite3_reset(ui->items);
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(ui->items)) == SQLITE_ROW) {
        const char *st = (const char *)sqlite3_column_text(ui->items, 5);
        const char *who = (const char *)sqlite3_column_text(ui->items, 3);
        int overdue = st && strcmp(st, "open") == 0 &&
                      sqlite3_column_type(ui->items, 4) != SQLITE_NULL &&
                      sqlite3_column_int64(ui->items, 4) < now;
        if (status && strcmp(status, "overdue") == 0 ? !overdue
                                                     : status && (!st || strcmp(status, st) != 0))
            continue;
        if (owner && (!who || strcmp(owner, who) != 0))
            continue;
        if (n++ == 0)
            am_buf_puts(b, "<table id=\"items\">\n<tr><th>Incident</th><th>Item</th>"
                           "<th>Status</th><th>Owner</th><th>Due (UTC)</th><th>Task</th>"
                           "<th>Closed</th><th>Link</th></tr>\n");
        const char *inc = (const char *)sqlite3_column_text(ui->items, 0);
        am_buf_t enc = {0};
        run_ui_urlencode(&enc, inc ? inc : "");
        am_buf_putc(&enc, '\0');
        am_buf_puts(b, "<tr><td class=\"mono\"><a href=\"/ui/incidents/");
        report_html(b, enc.p);
        am_buf_puts(b, "#actions\">");
        report_html(b, inc ? inc : "");
        am_buf_puts(b, "</a></td><td>");
        am_buf_free(&enc);
        col_text(b, ui->items, 1);
        am_buf_printf(b, "</td><td class=\"%s\">%s</td><td>", overdue ? "overdue" : "",
                      overdue                         ? "overdue"
                      : st && strcmp(st, "done") == 0 ? "done"
                                                      : "open");
        col_text(b, ui->items, 3);
        am_buf_puts(b, "</td><td class=\"when\">");
        col_time(b, ui->items, 4);
        am_buf_puts(b, "</td><td>");
        col_text(b, ui->items, 2);
        am_buf_puts(b, "</td><td class=\"when\">");
        col_time(b, ui->items, 8);
        am_buf_puts(b, "</td><td>");
        const char *url = (const char *)sqlite3_column_text(ui->items, 6);
        if (is_http_url(url)) {
            am_buf_puts(b, "<a rel=\"noopener noreferrer\" href=\"");
            report_html(b, url);
            am_buf_puts(b, "\">ticket</a>");
        }
        am_buf_puts(b, "</td></tr>\n");
    }
    sqlite3_reset(ui->items);
    if (rc != SQLITE_DONE) {
        error_page(r, 500, "The database failed", sqlite3_errmsg(store_db(ui->st)));
        return;
    }
    if (n)
        am_buf_puts(b, "</table>\n");
    am_buf_printf(b, "<p id=\"count\">%zu action item%s.</p>\n", n, n == 1 ? "" : "s");
    page_close(b);
    reply_page(r, 200);
}

/* ---- edits: sign-in, corrections, action items ---- */

/* Whether a (alen bytes) equals the secret b, in a time that depends only
 * on the secret's length. */
static int same_secret(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    volatile unsigned char diff = (unsigned char)(alen != blen);
    for (size_t i = 0; i < blen; i++)
        diff |= (unsigned char)((i < alen ? (unsigned char)a[i] : 0) ^ (unsigned char)b[i]);
    return diff == 0;
}

static int random_hex(char out[65], char *err, size_t errlen)
{
    unsigned char raw[32];
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(raw, 1, sizeof raw, f) : 0;
    if (f)
        fclose(f);
    if (got != sizeof raw) {
        am_errf(err, errlen, "/dev/urandom: cannot read a secret");
        return -1;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    return 0;
}

int run_ui_set_edit_token(run_ui_t *ui, const char *token, char *err, size_t errlen)
{
    size_t len = strlen(token);
    while (len && (token[len - 1] == '\n' || token[len - 1] == '\r'))
        len--;
    if (len < RUN_UI_MIN_TOKEN) {
        am_errf(err, errlen, "the edit token is shorter than %d bytes", RUN_UI_MIN_TOKEN);
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)token[i] < 0x20 || token[i] == 0x7f) {
            am_errf(err, errlen, "the edit token holds a control character");
            return -1;
        }
    if (random_hex(ui->session, err, errlen) != 0 || random_hex(ui->csrf, err, errlen) != 0)
        return -1;
    free(ui->token);
    ui->token = am_xstrndup(token, len);
    return 0;
}

int run_ui_set_edit_token_file(run_ui_t *ui, const char *path, char *err, size_t errlen)
{
    char buf[1024], why[256];
    FILE *f = fopen(path, "rb");
    if (!f) {
        am_errf(err, errlen, "%s: cannot open the edit token file", path);
        return -1;
    }
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    int more = fgetc(f) != EOF;
    fclose(f);
    buf[n] = '\0';
    if (more || memchr(buf, '\0', n)) {
        am_errf(err, errlen, "%s: not one line of at most %zu bytes", path, sizeof buf - 2);
        return -1;
    }
    if (run_ui_set_edit_token(ui, buf, why, sizeof why) != 0) {
        am_errf(err, errlen, "%s: %s", path, why);
        return -1;
    }
    return 0;
}

const char *run_ui_csrf(const run_ui_t *ui)
{
    return ui->token ? ui->csrf : NULL;
}

/* The value of cookie name in a Cookie header, into out; 0 when absent. */
static int cookie_value(const char *header, const char *name, const char **v, size_t *vlen)
{
    size_t nlen = strlen(name);
    for (const char *p = header; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            *v = p + nlen + 1;
            *vlen = len - nlen - 1;
            return 1;
        }
        p += len;
    }
    return 0;
}

/* The answer to a POST: the page's headers with Set-Cookie and Location
 * when given (copied into ui, sent before the next request). */
static void post_headers(run_ui_t *ui, run_http_reply_t *r, const char *location,
                         const char *cookie)
{
    size_t n = 0;
    for (const char *const *h = page_headers; *h; h++)
        ui->post_headers[n++] = *h;
    if (location) {
        snprintf(ui->location, sizeof ui->location, "%s", location);
        ui->post_headers[n++] = "Location";
        ui->post_headers[n++] = ui->location;
    }
    if (cookie) {
        snprintf(ui->set_cookie, sizeof ui->set_cookie, "%s", cookie);
        ui->post_headers[n++] = "Set-Cookie";
        ui->post_headers[n++] = ui->set_cookie;
    }
    ui->post_headers[n] = NULL;
    r->headers = ui->post_headers;
}

static void redirect(run_ui_t *ui, run_http_reply_t *r, const char *location, const char *cookie)
{
    am_buf_reset(&r->body);
    am_buf_printf(&r->body, "see %s\n", location);
    r->status = 303;
    r->type = "text/plain; charset=utf-8";
    post_headers(ui, r, location, cookie);
}

/* The value of name among args, or NULL; "" counts as absent. */
static const char *form_value(const run_ui_arg_t *args, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (args[i].name && strcmp(args[i].name, name) == 0)
            return args[i].value && *args[i].value ? args[i].value : NULL;
    return NULL;
}

/* Checks the form args against allowed: known names, once each, values of
 * at most RUN_UI_MAX_FORM_VALUE bytes without control characters. */
static int form_check(const run_ui_arg_t *args, size_t n, const char *const *allowed, char *err,
                      size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        const char *name = args[i].name ? args[i].name : "";
        const char *v = args[i].value ? args[i].value : "";
        if (strlen(name) > 32 || !allowed_has(allowed, name)) {
            am_errf(err, errlen, "parameter '%.32s': unknown here", name);
            return -1;
        }
        for (size_t k = 0; k < i; k++)
            if (args[k].name && strcmp(args[k].name, name) == 0) {
                am_errf(err, errlen, "parameter '%s': given twice", name);
                return -1;
            }
        size_t len = strlen(v);
        if (len > RUN_UI_MAX_FORM_VALUE) {
            am_errf(err, errlen, "parameter '%s': longer than %d bytes", name,
                    RUN_UI_MAX_FORM_VALUE);
            return -1;
        }
        for (size_t k = 0; k < len; k++)
            if ((unsigned char)v[k] < 0x20 || v[k] == 0x7f) {
                am_errf(err, errlen, "parameter '%s': a control character", name);
                return -1;
            }
    }
    return 0;
}

/* Stores event obj as `correct` does, or answers why not. */
static int store_edit(run_ui_t *ui, const json_t *obj, run_http_reply_t *r)
{
    char err[1024], *text = NULL;
    am_event_list_t evs = {0};
    store_outcome_t outcome;
    int rc = run_edit_decode(obj, &text, &evs, err, sizeof err);
    if (rc == 0)
        rc = run_edit_store(ui->st, text, "ui", &evs, &outcome, err, sizeof err);
    if (rc == RUN_EDIT_USAGE)
        error_page(r, 400, "Not recorded", err);
    else if (rc != 0)
        error_page(r, 500, "The database failed", err);
    am_event_list_free(&evs);
    free(text);
    return rc;
}

static void after_edit(run_ui_t *ui, const json_t *obj, const char *anchor, run_http_reply_t *r)
{
    am_buf_t loc = {0};
    am_buf_puts(&loc, "/ui/incidents/");
    run_ui_urlencode(&loc, json_string_value(json_object_get(obj, "incident")));
    am_buf_puts(&loc, anchor);
    am_buf_putc(&loc, '\0');
    redirect(ui, r, loc.p, NULL);
    am_buf_free(&loc);
}

static void post_correct(run_ui_t *ui, const char *id, const run_ui_arg_t *args, size_t n,
                         run_http_reply_t *r)
{
    static const char *const allowed[] = {"csrf",        "actor",           "reason",
                                          "title",       "severity",        "lead",
                                          "role",        "role_person",     "started_at",
                                          "detected_at", "acknowledged_at", "mitigated_at",
                                          "resolved_at", "users_impacted",  "unset",
                                          "suspect",     "verdict",         "dismiss",
                                          "undismiss",   "merge_into",      "unmerge",
                                          NULL};
    static const char *const fields[] = {
        "title",           "severity",     "lead",        "started_at",     "detected_at",
        "acknowledged_at", "mitigated_at", "resolved_at", "users_impacted", NULL};
    char err[1024];
    json_t *obj = json_object(), *set = json_object();
    int rc = form_check(args, n, allowed, err, sizeof err) != 0 ? RUN_EDIT_USAGE : 0;
    for (const char *const *f = fields; rc == 0 && *f; f++) {
        const char *v = form_value(args, n, *f);
        if (v)
            rc = run_edit_set_field(set, *f, v, err, sizeof err);
    }
    const char *role = form_value(args, n, "role"), *person = form_value(args, n, "role_person");
    if (rc == 0 && (role || person)) {
        if (!role) {
            rc = RUN_EDIT_USAGE;
            snprintf(err, sizeof err, "role: which role? (comms, scribe, ...)");
        } else {
            am_buf_t f = {0};
            am_buf_printf(&f, "role.%s", role);
            am_buf_putc(&f, '\0');
            rc = run_edit_set_field(set, f.p, person ? person : "", err, sizeof err);
            am_buf_free(&f);
        }
    }
    const char *unset = form_value(args, n, "unset");
    if (rc == 0 && unset)
        rc = run_edit_set_field(set, unset, NULL, err, sizeof err);
    const char *suspect = form_value(args, n, "suspect"), *verdict = form_value(args, n, "verdict");
    if (rc == 0 && (suspect || (verdict && strcmp(verdict, "none") != 0))) {
        am_buf_t spec = {0};
        am_buf_printf(&spec, "%s=%s", suspect ? suspect : "", verdict ? verdict : "");
        am_buf_putc(&spec, '\0');
        memcpy(err, "suspect: ", 9);
        rc = run_edit_suspect(obj, spec.p, err + 9, sizeof err - 9);
        am_buf_free(&spec);
    }
    const char *pairs[][2] = {{"dismiss", "undismiss"}, {"merge_into", "unmerge"}};
    for (size_t k = 0; rc == 0 && k < 2; k++) {
        const char *v = form_value(args, n, pairs[k][0]), *off = form_value(args, n, pairs[k][1]);
        if (v && off) {
            rc = RUN_EDIT_USAGE;
            snprintf(err, sizeof err, "%s: and %s in one correction", pairs[k][0], pairs[k][1]);
        } else if (v || off) {
            json_object_set_new(obj, pairs[k][0], v ? json_string(v) : json_null());
        }
    }
    if (rc == 0)
        rc = run_edit_correction(ui->st, obj, set, id, form_value(args, n, "actor"), am_wall_ms(),
                                 form_value(args, n, "reason"), err, sizeof err);
    if (rc == RUN_EDIT_USAGE)
        error_page(r, 400, "Not recorded", err);
    else if (rc != 0)
        error_page(r, 500, "The database failed", err);
    else if (store_edit(ui, obj, r) == 0)
        after_edit(ui, obj, "#corrections", r);
    json_decref(set);
    json_decref(obj);
}

static void post_action(run_ui_t *ui, const char *id, const run_ui_arg_t *args, size_t n,
                        run_http_reply_t *r)
{
    static const char *const allowed[] = {"csrf",  "actor", "verb", "item",   "task",
                                          "owner", "due",   "url",  "status", NULL};
    char err[1024];
    json_t *obj = json_object();
    int rc = form_check(args, n, allowed, err, sizeof err) != 0 ? RUN_EDIT_USAGE : 0;
    static const char *const keys[] = {"task", "owner", "due", "url", "status", NULL};
    for (const char *const *k = keys; rc == 0 && *k; k++) {
        const char *v = form_value(args, n, *k);
        if (v)
            json_object_set_new(obj, *k, json_string(v));
    }
    if (rc == 0)
        rc = run_edit_action(ui->st, obj, id, form_value(args, n, "verb"),
                             form_value(args, n, "item"), form_value(args, n, "actor"),
                             am_wall_ms(), err, sizeof err);
    if (rc == RUN_EDIT_USAGE)
        error_page(r, 400, "Not recorded", err);
    else if (rc != 0)
        error_page(r, 500, "The database failed", err);
    else if (store_edit(ui, obj, r) == 0)
        after_edit(ui, obj, "#actions", r);
    json_decref(obj);
}

/* Whether the request comes from a page of this server: its Origin (when
 * sent) is http(s)://Host, and Sec-Fetch-Site (when sent) same-origin. */
static int same_origin(const run_ui_post_t *req)
{
    if (req->sec_fetch_site && strcmp(req->sec_fetch_site, "same-origin") != 0)
        return 0;
    if (!req->origin)
        return 1;
    if (!req->host)
        return 0;
    const char *o = req->origin;
    if (strncmp(o, "http://", 7) == 0)
        o += 7;
    else if (strncmp(o, "https://", 8) == 0)
        o += 8;
    else
        return 0;
    return strcmp(o, req->host) == 0;
}

static void page_login(run_ui_t *ui, run_http_reply_t *r)
{
    am_buf_t *b = &r->body;
    (void)ui;
    page_open(b, "Sign in to edit", 0);
    am_buf_puts(b, "<body>\n");
    page_nav(b, NAV_NONE);
    am_buf_puts(b, "<h1>Sign in to edit</h1>\n<p>Corrections and action items need the edit "
                   "token this server was given (<code>--edit-token-file</code>).</p>\n"
                   "<form class=\"edit\" method=\"post\" action=\"/ui/login\">\n"
                   "<label>Edit token <input type=\"password\" name=\"token\" "
                   "autocomplete=\"current-password\" required></label>\n"
                   "<button type=\"submit\">Sign in</button>\n</form>\n");
    page_close(b);
    reply_page(r, 200);
}

void run_ui_answer_post(run_ui_t *ui, const char *path, const run_ui_post_t *req,
                        run_http_reply_t *r)
{
    char err[512];
    am_buf_reset(&r->body);
    r->headers = page_headers;
    if (!ui->token) {
        error_page(r, 403, "Read-only",
                   "These pages are read-only: the server was not given an edit token "
                   "(serve --edit-token-file).");
        return;
    }
    if (!same_origin(req)) {
        error_page(r, 403, "Forbidden", "origin: the form was not sent from these pages");
        return;
    }
    /* Nobody without the session learns anything of a form's body: the
     * session is checked before the body is read. */
    const char *sv;
    size_t svlen;
    if (strcmp(path, "/ui/login") != 0 && strcmp(path, "/ui/logout") != 0 &&
        (!cookie_value(req->cookie, RUN_UI_COOKIE, &sv, &svlen) ||
         !same_secret(sv, svlen, ui->session))) {
        error_page(r, 403, "Not signed in", "Sign in to edit at /ui/login.");
        return;
    }
    if (req->len > RUN_UI_MAX_BODY || (req->len && memchr(req->body, '\0', req->len))) {
        error_page(r, 400, "Bad request", "body: too long or not text");
        return;
    }
    if (req->len && (!req->content_type ||
                     strncmp(req->content_type, "application/x-www-form-urlencoded", 33) != 0)) {
        error_page(r, 400, "Bad request", "body: not application/x-www-form-urlencoded");
        return;
    }
    char *text = am_xstrndup(req->body ? req->body : "", req->len);
    char *storage = am_xmalloc(req->len + 2);
    run_ui_arg_t args[RUN_UI_MAX_FORM_ARGS + 1];
    int n = run_ui_split_query(text, storage, args, RUN_UI_MAX_FORM_ARGS + 1);
    const char *v;
    size_t vlen;
    if (n < 0 || n > RUN_UI_MAX_FORM_ARGS) {
        error_page(r, 400, "Bad request", "body: a malformed form or too many fields");
    } else if (strcmp(path, "/ui/login") == 0) {
        const char *token = form_value(args, (size_t)n, "token");
        if (n != 1 || !token || !same_secret(token, strlen(token), ui->token)) {
            error_page(r, 403, "Not signed in", "token: not this server's edit token");
        } else {
            char cookie[160];
            snprintf(cookie, sizeof cookie,
                     RUN_UI_COOKIE "=%s; Path=/ui/; HttpOnly; SameSite=Strict", ui->session);
            redirect(ui, r, "/ui/", cookie);
        }
    } else if (strcmp(path, "/ui/logout") == 0) {
        redirect(ui, r, "/ui/", RUN_UI_COOKIE "=; Path=/ui/; Max-Age=0; HttpOnly; SameSite=Strict");
    } else if (!cookie_value(req->cookie, RUN_UI_COOKIE, &v, &vlen) ||
               !same_secret(v, vlen, ui->session)) {
        error_page(r, 403, "Not signed in", "Sign in to edit at /ui/login.");
    } else if (!(v = form_value(args, (size_t)n, "csrf")) || !same_secret(v, strlen(v), ui->csrf)) {
        error_page(r, 403, "Forbidden",
                   "csrf: the form's token is missing or stale (reload the page)");
    } else if (strncmp(path, "/ui/incidents/", 14) != 0) {
        error_page(r, 404, "Not found", "There is no form at this address.");
    } else {
        const char *id = path + 14, *slash = strchr(id, '/');
        size_t idlen = slash ? (size_t)(slash - id) : 0;
        char idbuf[MAX_ID + 1];
        if (!slash || !valid_id(id, idlen) ||
            (strcmp(slash, "/correct") != 0 && strcmp(slash, "/action") != 0)) {
            error_page(r, 404, "Not found", "There is no form at this address.");
        } else if (ui_open(ui, err, sizeof err) != 0) {
            error_page(r, 503, "The database is not available", err);
            r->retry_after = 5;
        } else {
            memcpy(idbuf, id, idlen);
            idbuf[idlen] = '\0';
            if (strcmp(slash, "/correct") == 0)
                post_correct(ui, idbuf, args, (size_t)n, r);
            else
                post_action(ui, idbuf, args, (size_t)n, r);
        }
    }
    free(storage);
    free(text);
}

/* ---- dispatch ---- */

static void answer_static(const char *name, run_http_reply_t *r)
{
    r->status = 200;
    r->headers = page_headers;
    if (strcmp(name, "aftermath.css") == 0) {
        am_buf_puts(&r->body, css);
        r->type = "text/css; charset=utf-8";
    } else {
        am_buf_puts(&r->body, live_js);
        r->type = "text/javascript; charset=utf-8";
    }
}

void run_ui_answer(run_ui_t *ui, const char *method, const char *path, const run_ui_arg_t *args,
                   size_t nargs, run_http_reply_t *r)
{
    char err[512];
    am_buf_reset(&r->body);
    r->headers = page_headers;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        error_page(r, 405, "Method not allowed",
                   ui->token ? "GET, or POST to a form." : "These pages are read-only: GET only.");
        return;
    }
    if (strcmp(path, "/") == 0 || strcmp(path, "/ui") == 0) {
        r->status = 303;
        r->type = "text/plain; charset=utf-8";
        r->headers = redirect_headers;
        am_buf_puts(&r->body, "see /ui/\n");
        return;
    }
    if (strncmp(path, "/ui/", 4) != 0) {
        error_page(r, 404, "Not found", "There is no page at this address.");
        return;
    }
    const char *rest = path + 4;
    if (strcmp(rest, "static/aftermath.css") == 0 || strcmp(rest, "static/live.js") == 0) {
        if (nargs) {
            error_page(r, 400, "Bad request", "parameter: a static file takes none");
            return;
        }
        answer_static(rest + 7, r);
        return;
    }
    if (ui_open(ui, err, sizeof err) != 0) {
        error_page(r, 503, "The database is not available", err);
        r->retry_after = 5;
        return;
    }
    if (strcmp(rest, "login") == 0 && ui->token && !nargs) {
        page_login(ui, r);
        return;
    }
    if (*rest == '\0' || strcmp(rest, "incidents") == 0) {
        page_incidents(ui, args, nargs, r);
        return;
    }
    if (strcmp(rest, "metrics") == 0) {
        page_metrics(ui, args, nargs, r);
        return;
    }
    if (strcmp(rest, "actions") == 0) {
        page_actions(ui, args, nargs, r);
        return;
    }
    if (strncmp(rest, "incidents/", 10) == 0) {
        const char *id = rest + 10, *slash = strchr(id, '/');
        size_t idlen = slash ? (size_t)(slash - id) : strlen(id);
        const char *sub = slash ? slash + 1 : NULL;
        if (!valid_id(id, idlen)) {
            error_page(r, 404, "No such incident", "This is not an incident id.");
            return;
        }
        if (nargs) {
            char msg[128];
            snprintf(msg, sizeof msg, "parameter '%.32s': unknown here",
                     args[0].name ? args[0].name : "");
            error_page(r, 400, "Bad request", msg);
            return;
        }
        char idbuf[MAX_ID + 1];
        memcpy(idbuf, id, idlen);
        idbuf[idlen] = '\0';
        if (!sub) {
            page_incident(ui, idbuf, r);
        } else if (strcmp(sub, "version") == 0) {
            answer_version(ui, idbuf, r);
        } else if (strcmp(sub, "draft.md") == 0 || strcmp(sub, "draft.json") == 0 ||
                   strcmp(sub, "summary.txt") == 0 || strcmp(sub, "draft.html") == 0) {
            download(ui, idbuf, sub, r);
        } else {
            error_page(r, 404, "Not found", "There is no page at this address.");
        }
        return;
    }
    error_page(r, 404, "Not found", "There is no page at this address.");
}

void run_ui_answer_url(run_ui_t *ui, const char *method, const char *url, run_http_reply_t *r)
{
    const char *qm = strchr(url, '?');
    size_t plen = qm ? (size_t)(qm - url) : strlen(url);
    char *path = am_xstrndup(url, plen);
    char *storage = am_xmalloc(strlen(url) + 2);
    run_ui_arg_t args[RUN_UI_MAX_ARGS + 1];
    int n = run_ui_split_query(qm ? qm + 1 : "", storage, args, RUN_UI_MAX_ARGS + 1);
    if (n < 0 || memchr(path, '%', plen)) {
        /* The server percent-decodes the path; here one stays raw. */
        am_buf_reset(&r->body);
        error_page(r, 400, "Bad request", "parameter: a malformed query string");
    } else {
        run_ui_answer(ui, method, path, args, (size_t)n, r);
    }
    free(storage);
    free(path);
}

/* ---- the routes ---- */

typedef struct collect {
    run_ui_arg_t args[RUN_UI_MAX_ARGS + 1];
    size_t n;
} collect_t;

static void collect_arg(void *arg, const char *name, const char *value)
{
    collect_t *c = arg;
    if (c->n < RUN_UI_MAX_ARGS + 1) {
        c->args[c->n].name = name;
        c->args[c->n].value = value;
        c->n++;
    }
}

static void on_ui_post(void *opaque, const run_http_request_t *req, run_http_reply_t *reply)
{
    run_ui_post_t post = {
        .content_type = run_http_request_header(req, "Content-Type"),
        .cookie = run_http_request_header(req, "Cookie"),
        .origin = run_http_request_header(req, "Origin"),
        .host = run_http_request_header(req, "Host"),
        .sec_fetch_site = run_http_request_header(req, "Sec-Fetch-Site"),
    };
    post.body = run_http_request_body(req, &post.len);
    run_ui_answer_post(opaque, run_http_request_path(req), &post, reply);
}

static void on_ui(void *opaque, const run_http_request_t *req, run_http_reply_t *reply)
{
    collect_t c = {.n = 0};
    run_http_request_each_arg(req, collect_arg, &c);
    run_ui_answer(opaque, run_http_request_method(req), run_http_request_path(req), c.args, c.n,
                  reply);
}

size_t run_ui_routes(run_ui_t *ui, int root, run_http_route_t routes[3])
{
    size_t n = 0;
    routes[n++] =
        (run_http_route_t){.method = "GET", .path = "/ui/", .handler = on_ui, .opaque = ui};
    if (ui->token)
        routes[n++] = (run_http_route_t){.method = "POST",
                                         .path = "/ui/",
                                         .max_body = RUN_UI_MAX_BODY,
                                         .handler = on_ui_post,
                                         .opaque = ui};
    if (root)
        routes[n++] =
            (run_http_route_t){.method = "GET", .path = "/", .handler = on_ui, .opaque = ui};
    return n;
}
