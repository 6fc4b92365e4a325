/*
 * ui.h - the web pages (`aftermath serve`, and `run` in the roles that
 * hold incidents, under /ui/ beside /metrics): server-rendered HTML to
 * browse incidents, read their drafts and metrics. docs/pages.md lists
 * the routes, the headers and the Content-Security-Policy.
 *
 * The pages read the store through the named statements and functions of
 * correlate/ and report/ (never their tables). A ui holds its own store
 * connection, used only on the HTTP server's thread.
 *
 * Read-only unless given an edit token (run_ui_set_edit_token): then the
 * incident pages carry forms that POST corrections and action items,
 * written as the same events as `aftermath correct` and `aftermath action`
 * (run/edit.h); see the note in ui.c and docs/pages.md for the design.
 */
#ifndef RUN_UI_H
#define RUN_UI_H

#include <stddef.h>
#include <stdint.h>

#include "run/http.h"

/* The Content-Security-Policy header of every page: nothing but our own
 * stylesheet, script and data: images may load; no frame may hold a page. */
#define RUN_UI_CSP                                                                                 \
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

/* Incidents per page of the list. */
#define RUN_UI_PAGE_SIZE 50

typedef struct run_ui run_ui_t;

/* A ui on the database at db (copied). open_now: open it here and fail
 * (NULL, err naming the file) when it cannot be; otherwise it is opened at
 * the first request (the daemon starts listening before its store exists)
 * and a page answers 503 while it cannot be. */
run_ui_t *run_ui_create(const char *db, int open_now, char *err, size_t errlen);
/* Accepts NULL. */
void run_ui_destroy(run_ui_t *ui);

/* Fills routes[0..n) with the ui's routes (GET /ui/ as a prefix; with an
 * edit token, POST /ui/ with a body of at most RUN_UI_MAX_BODY; with
 * root, also GET / which redirects to /ui/) and returns n (at most 3).
 * The routes borrow ui. */
size_t run_ui_routes(run_ui_t *ui, int root, run_http_route_t routes[3]);

/* Edits: the shortest token, the largest form body, the most fields of a
 * form, the longest value of a field, the session cookie's name. */
#define RUN_UI_MIN_TOKEN 16
#define RUN_UI_MAX_BODY 16384
#define RUN_UI_MAX_FORM_ARGS 32
#define RUN_UI_MAX_FORM_VALUE 1024
#define RUN_UI_COOKIE "aftermath_edit"

/* Enables edits with token (copied; a trailing newline dropped; at least
 * RUN_UI_MIN_TOKEN bytes, no control character), and draws this server's
 * two secrets from /dev/urandom: the session cookie's value and the forms'
 * CSRF token. Returns 0, or -1 with err. */
int run_ui_set_edit_token(run_ui_t *ui, const char *token, char *err, size_t errlen);

/* run_ui_set_edit_token with the content of the file at path (one line;
 * err names the file). */
int run_ui_set_edit_token_file(run_ui_t *ui, const char *path, char *err, size_t errlen);

/* The forms' CSRF token, or NULL when edits are off (for tests). */
const char *run_ui_csrf(const run_ui_t *ui);

/* A POST as the pages see it: the body and the headers they check. */
typedef struct run_ui_post {
    const char *body; /* not NUL-terminated; NULL when empty */
    size_t len;
    const char *content_type;   /* Content-Type, or NULL */
    const char *cookie;         /* Cookie, or NULL */
    const char *origin;         /* Origin, or NULL */
    const char *host;           /* Host, or NULL */
    const char *sec_fetch_site; /* Sec-Fetch-Site, or NULL */
} run_ui_post_t;

/* Answers POST path: /ui/login (the token: a session cookie), /ui/logout,
 * /ui/incidents/ID/correct and /ui/incidents/ID/action (signed in, the
 * form's CSRF token, same origin): 303 to the incident after storing the
 * event, 400 naming the field that is wrong, 403 without edits, session,
 * token or origin, 404, 500, 503. The reply's headers live in ui until
 * the next answer. */
void run_ui_answer_post(run_ui_t *ui, const char *path, const run_ui_post_t *req,
                        run_http_reply_t *reply);

/* One query-string argument, percent-decoded (value NULL: "?name"). */
typedef struct run_ui_arg {
    const char *name;
    const char *value;
} run_ui_arg_t;

/* The most arguments a request may carry; more is a 400. */
#define RUN_UI_MAX_ARGS 16

/* The filters of the incidents and metrics pages, parsed from a query. */
typedef struct run_ui_filter {
    const char *status;   /* "open", "resolved" or NULL (all) */
    const char *service;  /* exact service, or NULL */
    const char *rule;     /* exact rule, or NULL */
    const char *severity; /* exact severity (key or alert label), or NULL */
    const char *q;        /* case-insensitive text in id, rule, services, key, lead, deploys */
    const char *by;       /* metrics: service, rule or a label; NULL: service */
    int64_t since, until; /* started_at in [since, until); AM_TIME_NONE: no bound */
    long page;            /* 1-based */
    int all;              /* 1: dismissed and merged incidents too (all=1) */
} run_ui_filter_t;

/* Parses args[0..n) for a page that accepts the parameters named in
 * allowed (a NULL-terminated list of: status service rule severity q
 * since until page by all). Values borrow args. Returns 0, or -1 with err
 * naming the parameter and what is wrong with it (unknown, repeated,
 * empty where a value is needed, too long, a control character, a bad
 * time or page). now_ms resolves durations ago ("7d"). */
int run_ui_parse_filter(const run_ui_arg_t *args, size_t n, const char *const *allowed,
                        int64_t now_ms, run_ui_filter_t *f, char *err, size_t errlen);

/* Splits a raw query string ("a=1&b=%20x", '+' a space) into at most max
 * arguments, percent-decoded into storage (at least strlen(query) + 1
 * bytes; the args point into it). Returns the number of arguments, or -1
 * when there are more than max or an escape is malformed. For tests, the
 * fuzz target and run_ui_answer_url: the server gets its arguments
 * decoded by libmicrohttpd. */
int run_ui_split_query(const char *query, char *storage, run_ui_arg_t *args, size_t max);

/* Appends s percent-encoded for a query-string value (unreserved bytes
 * kept, everything else %XX). */
void run_ui_urlencode(am_buf_t *b, const char *s);

/* Answers method path?args as the server would (the page, 400, 404, 405,
 * 503), into reply (status, type, body, headers). For the route handler,
 * tests, the fuzz target and the benchmark. */
void run_ui_answer(run_ui_t *ui, const char *method, const char *path, const run_ui_arg_t *args,
                   size_t nargs, run_http_reply_t *reply);

/* run_ui_answer on a raw "path?query" (the query split by
 * run_ui_split_query; a malformed one is a 400). */
void run_ui_answer_url(run_ui_t *ui, const char *method, const char *url, run_http_reply_t *reply);

#endif
