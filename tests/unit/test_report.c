/*
 * test_report.c - postmortem drafts of incidents built through the real
 * pipeline (tests/unit/corr_util.h): hostile event text in every format,
 * --no-names, an incident with no ack and no deploy, one still open, the
 * per-service p50 of Lessons Learned, an unknown id, and automatic drafts
 * that never overwrite a person's edits nor write through a planted link.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corr_util.h"
#include "report/draft_int.h"
#include "report/draft.h"
#include "report/drafts.h"
#include "report/status.h"
#include "tmp_util.h"

static const char *const RULES = "version: 1\n"
                                 "rules:\n"
                                 "  - name: r\n"
                                 "    match: ['severity=\"page\"']\n"
                                 "    group_by: [cluster]\n"
                                 "    gap: 30m\n"
                                 "    quiet: 10m\n"
                                 "    deploys:\n"
                                 "      match: ['env=\"prod\"']\n"
                                 "      same: [cluster]\n"
                                 "      before: 2h\n"
                                 "      during: true\n"
                                 "    impact:\n"
                                 "      users: annotation:users\n";

/* Everything a hostile annotation could try, in every format. */
#define EVIL                                                                                       \
    "<script>alert(1)</script> [x](javascript:alert(1)) a|b \x1b[31m\n# h ```:%%;</svg> &amp;"

static void feed_json(harness_t *h, json_t *o, double observed)
{
    char *s = json_dumps(o, JSON_COMPACT);
    h_feed_at(h, s, observed);
    free(s);
    json_decref(o);
}

static json_t *alert_ev(const char *name, double start, double end, const char *summary)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s},s:{s:s,s:s,s:s}}", "kind", "alert",
                          "name", name, "starts_at", T(start), "labels", "severity", "page",
                          "cluster", "c1", "service", "web", "env", "prod", "instance", "web-1",
                          "annotations", "summary", summary, "description", summary, "users", "42");
    if (end >= 0)
        json_object_set_new(o, "ends_at", json_string(T(end)));
    return o;
}

static json_t *deploy_ev(const char *version, double at, const char *actor)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s}}", "kind", "deploy", "name",
                     "api", "version", version, "at", T(at), "environment", "prod", "actor", actor,
                     "status", "succeeded", "summary", version, "labels", "cluster", "c1",
                     "service", "web");
}

static json_t *ack_ev(double at, const char *actor)
{
    return json_pack("{s:s,s:s,s:s,s:{s:s,s:s}}", "kind", "ack", "at", T(at), "actor", actor,
                     "labels", "cluster", "c1", "service", "web");
}

static json_t *note_ev(double at, const char *actor, const char *text)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:{s:s}}", "kind", "note", "at", T(at), "actor", actor,
                     "summary", text, "labels", "cluster", "c1");
}

typedef struct drafts {
    char *md, *html, *json, *text;
} drafts_t;

static void render_opts(harness_t *h, const char *id, const report_options_t *opts, drafts_t *out);

static void render(harness_t *h, const char *id, bool no_names, drafts_t *out)
{
    report_options_t opts = {.no_names = no_names};
    render_opts(h, id, &opts, out);
}

static void render_opts(harness_t *h, const char *id, const report_options_t *opts, drafts_t *out)
{
    char err[512];
    json_decref(h_incidents(h)); /* flush */
    report_draft_t *d = report_draft_create(h->st, id, opts, err, sizeof err);
    if (!d)
        fail_msg("draft %s: %s", id, err);
    am_buf_t b = {0};
    report_draft_markdown(d, &b);
    out->md = am_buf_steal(&b);
    report_draft_html(d, &b);
    out->html = am_buf_steal(&b);
    report_draft_json(d, &b);
    out->json = am_buf_steal(&b);
    report_draft_text(d, &b);
    out->text = am_buf_steal(&b);
    am_buf_free(&b);
    report_draft_destroy(d);
}

static void drafts_free(drafts_t *d)
{
    free(d->md);
    free(d->html);
    free(d->json);
    free(d->text);
}

static const char *first_id(harness_t *h)
{
    static char id[64];
    json_t *arr = h_incidents(h);
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(json_array_get(arr, 0), "id")));
    json_decref(arr);
    return id;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* Unescaped '|' on a line. */
static size_t pipes(const char *line, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (line[i] == '\\')
            i++;
        else if (line[i] == '|')
            n++;
    return n;
}

/* Every row of every Markdown table has as many cells as its header, and
 * no line outside a table has an unescaped '|'. */
static void check_md_tables(const char *md)
{
    size_t want = 0;
    for (const char *p = md; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        size_t n = pipes(p, len);
        if (len && p[0] == '|') {
            if (!want)
                want = n;
            if (n != want)
                fail_msg("table row with %zu cells, header has %zu: %.*s", n, want, (int)len, p);
        } else {
            want = 0;
            if (n)
                fail_msg("unescaped pipe outside a table: %.*s", (int)len, p);
        }
        p += len + (e ? 1 : 0);
    }
}

/* The Mermaid block: every task line has exactly one ':' and no "%%",
 * and the block ends where the renderer put its fence. */
static void check_mermaid(const char *md)
{
    const char *start = strstr(md, "```mermaid\n");
    assert_non_null(start);
    const char *end = strstr(start + 11, "\n```\n");
    assert_non_null(end);
    assert_true(strncmp(end, "\n```\n\n## Root Cause Analysis", 28) == 0);
    for (const char *p = start + 11; p < end;) {
        const char *e = strchr(p, '\n');
        size_t len = (size_t)(e - p);
        const char *pct = strstr(p, "%%");
        if (pct && pct < e)
            fail_msg("mermaid comment in a label: %.*s", (int)len, p);
        int header = strncmp(p, "gantt", 5) == 0 || strncmp(p, "    dateFormat", 14) == 0 ||
                     strncmp(p, "    axisFormat", 14) == 0 || strncmp(p, "    title", 9) == 0 ||
                     strncmp(p, "    section", 11) == 0;
        const char *colon = memchr(p, ':', len);
        if (!header && (!colon || (strncmp(colon, ":crit, ", 7) != 0 &&
                                   strncmp(colon, ":milestone, ", 12) != 0)))
            fail_msg("mermaid task label with a ':' of its own: %.*s", (int)len, p);
        if (strncmp(p, "    title", 9) == 0 || strncmp(p, "    section", 11) == 0)
            assert_null(colon);
        p = e + 1;
    }
}

static void test_injection(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 100, 0);
    feed_json(&h, deploy_ev(EVIL, -20, EVIL), -1);
    feed_json(&h, alert_ev(EVIL, 0, 30, EVIL "!"), 1);
    feed_json(&h, ack_ev(3, EVIL), -1);
    feed_json(&h, note_ev(5, EVIL, EVIL), -1);
    drafts_t d;
    render(&h, first_id(&h), false, &d);

    /* HTML: the script stays text; the document keeps its one svg. */
    assert_null(strstr(d.html, "<script"));
    assert_non_null(strstr(d.html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_int_equal(count(d.html, "</svg>"), 1);
    assert_null(strstr(d.html, "href"));
    assert_null(strstr(d.html, "\x1b"));
    /* Markdown: no tag, no link, tables and the gantt block intact. */
    assert_null(strstr(d.md, "<script"));
    /* the brackets escaped, so the parenthesis after them opens nothing
     * (report_markdown_renders renders it with cmark-gfm: no link) */
    assert_null(strstr(d.md, "[x](javascript"));
    assert_non_null(strstr(d.md, "\\[x\\](javascript"));
    assert_null(strstr(d.md, "\x1b"));
    assert_null(strstr(d.md, "\n# h"));
    assert_non_null(strstr(d.md, "&lt;script&gt;"));
    check_md_tables(d.md);
    check_mermaid(d.md);
    /* JSON: parses, and carries the facts exactly. */
    json_error_t jerr;
    json_t *m = json_loads(d.json, 0, &jerr);
    assert_non_null(m);
    const json_t *a = json_array_get(json_object_get(m, "alerts"), 0);
    assert_string_equal(json_string_value(json_object_get(a, "name")), EVIL);
    assert_string_equal(json_string_value(json_object_get(a, "summary")), EVIL "!");
    json_decref(m);
    /* Terminal: no escape sequence reaches it. */
    assert_null(strstr(d.text, "\x1b"));
    drafts_free(&d);
    h_close(&h);
}

static void test_no_names(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 100, 0);
    feed_json(&h, deploy_ev("1.0", -20, "Dee Ployer"), -1);
    feed_json(&h, alert_ev("A", 0, 30, "slow"), 1);
    feed_json(&h, ack_ev(3, "Pat Secret"), -1);
    feed_json(&h, note_ev(5, "Nora Note", "looked at it"), -1);
    feed_json(&h, deploy_ev("1.1", 20, "Fix Person"), -1);
    const char *id = first_id(&h);
    drafts_t d;
    render(&h, id, false, &d);
    assert_non_null(strstr(d.md, "Pat Secret"));
    assert_non_null(strstr(d.md, "Dee Ployer"));
    drafts_free(&d);
    render(&h, id, true, &d);
    const char *names[] = {"Dee Ployer", "Pat Secret", "Nora Note", "Fix Person"};
    for (size_t i = 0; i < 4; i++) {
        assert_null(strstr(d.md, names[i]));
        assert_null(strstr(d.html, names[i]));
        assert_null(strstr(d.json, names[i]));
        assert_null(strstr(d.text, names[i]));
    }
    assert_non_null(strstr(d.md, "| Incident lead | withheld (no names) |"));
    assert_non_null(strstr(d.md, "looked at it")); /* the facts stay */
    drafts_free(&d);
    h_close(&h);
}

static void test_no_ack_no_deploy(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 100, 0);
    feed_json(&h, alert_ev("A", 0, 30, "slow"), -1); /* no delivery time: detection unknown */
    drafts_t d;
    render(&h, first_id(&h), false, &d);
    assert_non_null(strstr(d.md, "| Incident lead | to be assigned |"));
    assert_non_null(strstr(d.md, "| Acknowledged (UTC) | unknown |"));
    assert_non_null(strstr(d.md, "| Detected (UTC) | unknown |"));
    assert_non_null(strstr(d.md, "No deploy was linked to this incident as a suspect."));
    assert_non_null(strstr(d.md, "**unknown** - Acknowledgement: none recorded"));
    assert_non_null(strstr(d.md, "| Time to detect | unknown |"));
    assert_null(strstr(d.md, "1970"));
    assert_null(strstr(d.html, "1970"));
    assert_null(strstr(d.json, "1970"));
    assert_null(strstr(d.md, "Deploy of"));
    assert_null(strstr(d.md, "section changes and response"));
    drafts_free(&d);
    h_close(&h);
}

/* impact_start: deploy and deploys.acknowledge are said in the summary. */
static void test_start_and_ack_from_deploys(void **state)
{
    (void)state;
    static const char *const rules = "version: 1\n"
                                     "rules:\n"
                                     "  - name: r\n"
                                     "    match: ['severity=\"page\"']\n"
                                     "    group_by: [cluster]\n"
                                     "    impact_start: deploy\n"
                                     "    deploys:\n"
                                     "      acknowledge: true\n";
    harness_t h;
    h_open(&h, ":memory:", rules, 100, 0);
    feed_json(&h, alert_ev("A", 0, 30, "slow"), 1);
    feed_json(&h, deploy_ev("v1", -20, "Carol"), -1);
    feed_json(&h, deploy_ev("v2", 5, "Erin"), -1);
    drafts_t d;
    render(&h, first_id(&h), false, &d);
    assert_non_null(strstr(d.md, "| Start time (UTC) | 23:40:00 (the first suspect deploy) |"));
    assert_non_null(strstr(d.md, "00:05:00 (the first deploy after detection; no ack) |"));
    assert_non_null(strstr(d.html, "23:40:00 (the first suspect deploy)"));
    assert_non_null(strstr(d.html, "00:05:00 (the first deploy after detection; no ack)"));
    assert_non_null(strstr(d.json, "\"started_from\": \"deploy\""));
    assert_non_null(strstr(d.json, "\"acknowledged_by\": \"deploy\""));
    /* The suspect that starts the impact is "at impact start", not "0s
     * before" it. */
    assert_non_null(strstr(d.md, " - suspect, at impact start"));
    assert_non_null(strstr(d.md, "UTC (succeeded), at impact start, may have caused"));
    assert_null(strstr(d.md, "0s before"));
    assert_null(strstr(d.html, "0s before"));
    drafts_free(&d);
    h_close(&h);
}

/* An end no source sent (the alert fired again, so its first episode ends
 * at the second's start) and a truncated notification are said as such. */
static void test_inferred_and_truncated(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 100, 0);
    feed_json(&h, alert_ev("A", 0, -1, "slow"), 1);
    feed_json(&h, alert_ev("A", 20, -1, "slow"), 21); /* fired again: ends the first at 20 */
    h_feed_at(&h,
              "{\"receiver\":\"r\",\"status\":\"resolved\",\"truncatedAlerts\":3,\"alerts\":[{"
              "\"status\":\"resolved\",\"labels\":{\"alertname\":\"B\",\"severity\":\"page\","
              "\"cluster\":\"c1\"},\"startsAt\":\"2024-01-01T00:05:00Z\",\"endsAt\":"
              "\"2024-01-01T00:10:00Z\"}]}",
              11);
    drafts_t d;
    render(&h, first_id(&h), false, &d);
    assert_non_null(strstr(d.md, "| Status | open |")); /* the second still fires */
    drafts_free(&d);
    feed_json(&h, alert_ev("A", 20, -1, "slow"), 300); /* re-notified; now the clock: */
    feed_json(&h, note_ev(600, "Pat", "clock"), 600);  /* 5h later: stale at 300 */
    render(&h, first_id(&h), false, &d);
    assert_non_null(strstr(d.md, "| Mitigated (UTC) | 2024-01-01 05:00:00 (inferred: no resolve "
                                 "was received; the alert fired again or stopped being "
                                 "re-notified) |"));
    assert_non_null(strstr(d.md, "Mitigated (inferred): no resolve was received for the "
                                 "last alert"));
    /* the alert's own line and chart end where the correlator ended it */
    assert_non_null(strstr(d.md,
                           "Alert A flapped on web-1: 2 cycles between 00:00:00 and 05:00:00, over "
                           "5h (an end inferred)"));
    assert_non_null(strstr(d.md,
                           "alert A on web-1 cycle 2 of 2 :crit, 2024-01-01 00:20:00, 2024-01-01 "
                           "05:00:00"));
    assert_null(strstr(d.md, "still firing"));

    assert_non_null(strstr(d.md, "| Notifications | truncated: up to 3 alerts were left out of "
                                 "a notification"));
    assert_non_null(strstr(d.html, "Mitigated (inferred)"));
    assert_non_null(strstr(d.json, "\"mitigated_inferred\": true"));
    assert_non_null(strstr(d.json, "\"truncated_alerts\": 3"));
    drafts_free(&d);
    h_close(&h);
}

static void test_open_incident(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 100, 0);
    feed_json(&h, alert_ev("A", 0, -1, "still slow"), 1);
    feed_json(&h, ack_ev(3, "Pat"), -1);
    drafts_t d;
    render(&h, first_id(&h), false, &d);
    assert_non_null(strstr(d.md, "| Status | open |"));
    assert_non_null(strstr(d.md, "| Duration | unknown (not mitigated yet) |"));
    assert_non_null(strstr(d.md, "| Mitigated (UTC) | unknown |"));
    assert_non_null(strstr(d.md, "Resolution: unknown, the incident is still open"));
    assert_non_null(strstr(d.md, "Mitigation: unknown, an alert is still firing"));
    assert_non_null(strstr(d.md, "| still alerting |"));
    assert_non_null(strstr(d.md, "alert A on web-1 still firing :crit"));
    assert_non_null(strstr(d.md, "| Time to resolve | unknown |"));
    assert_null(strstr(d.md, "1970"));
    assert_null(strstr(d.html, "1970"));
    assert_null(strstr(d.json, "1970"));
    json_t *m = json_loads(d.json, 0, NULL);
    assert_true(json_is_null(json_object_get(json_object_get(m, "summary"), "resolved_at")));
    json_decref(m);
    drafts_free(&d);
    h_close(&h);
}

/* An end refused as implausible (year 9999) is said on the alert's
 * timeline line in every format and kept out of every duration: never
 * seen, the episode stays open; seen, it ended when it was seen. */
static void test_implausible_end(void **state)
{
    (void)state;
    static const char note[] = "ends_at 9999-12-31T23:59:59Z refused as implausible (on or after "
                               "2100-01-01T00:00:00Z)";
    for (int seen = 0; seen < 2; seen++) {
        harness_t h;
        h_open(&h, ":memory:", RULES, 100, 0);
        json_t *a = alert_ev("A", 0, -1, "slow");
        json_object_set_new(a, "ends_at", json_string("9999-12-31T23:59:59Z"));
        feed_json(&h, a, seen ? 20 : -1);
        drafts_t d;
        render(&h, first_id(&h), false, &d);
        assert_non_null(strstr(d.text, note));
        assert_non_null(strstr(d.md, "ends_at 9999-12-31T23:59:59Z refused as implausible"));
        assert_non_null(strstr(d.html, note));
        json_t *m = json_loads(d.json, 0, NULL);
        assert_non_null(m);
        json_t *alert = json_array_get(json_object_get(m, "alerts"), 0);
        assert_string_equal(
            json_string_value(json_array_get(json_object_get(alert, "times_refused"), 0)), note);
        int found = 0;
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(m, "timeline"), i, e)
        {
            const char *text = json_string_value(json_object_get(e, "text"));
            if (strstr(text, note)) {
                found = 1;
                assert_string_equal(json_string_value(json_object_get(e, "type")), "alert_firing");
            }
        }
        assert_true(found);
        const json_t *summary = json_object_get(m, "summary");
        if (seen) {
            assert_string_equal(json_string_value(json_object_get(summary, "mitigated_at")), T(20));
        } else {
            assert_true(json_is_null(json_object_get(summary, "mitigated_at")));
            assert_non_null(strstr(d.md, "| Mitigated (UTC) | unknown |"));
        }
        assert_null(strstr(d.md, "2912"));
        assert_null(strstr(d.json, "2912"));
        json_decref(m);
        drafts_free(&d);
        h_close(&h);
    }
}

static void test_history_p50(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 100, 0);
    /* Three incidents of service web, detected after 1m, 3m and 2m. */
    feed_json(&h, alert_ev("A", 0, 10, "x"), 1);
    feed_json(&h, alert_ev("A", 100, 110, "x"), 103);
    feed_json(&h, alert_ev("A", 200, 210, "x"), 202);
    json_t *arr = h_incidents(&h);
    assert_int_equal(json_array_size(arr), 3);
    char first[64], last[64];
    snprintf(first, sizeof first, "%s",
             json_string_value(json_object_get(json_array_get(arr, 0), "id")));
    snprintf(last, sizeof last, "%s",
             json_string_value(json_object_get(json_array_get(arr, 2), "id")));
    json_decref(arr);
    char err[256];
    report_draft_t *d = report_draft_create(h.st, last, NULL, err, sizeof err);
    assert_non_null(d);
    const json_t *detect = json_array_get(json_object_get(report_draft_model(d), "lessons"), 0);
    assert_int_equal(json_integer_value(json_object_get(detect, "this_s")), 120);
    const json_t *web = json_array_get(json_object_get(detect, "services"), 0);
    assert_int_equal(json_integer_value(json_object_get(web, "past_incidents")), 2);
    assert_int_equal(json_integer_value(json_object_get(web, "p50_s")), 60); /* lower median */
    report_draft_destroy(d);
    drafts_t dr;
    render(&h, first, false, &dr);
    assert_non_null(strstr(dr.md, "| Time to detect | 1m | first incident |"));
    drafts_free(&dr);
    h_close(&h);
}

static void test_negative_duration(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 100, 0);
    feed_json(&h, alert_ev("A", 0, 30, "slow"), 2); /* delivered at 2m */
    feed_json(&h, ack_ev(1, "Pat"), -1);            /* acked at 1m: clock skew */
    drafts_t d;
    render(&h, first_id(&h), false, &d);
    assert_non_null(strstr(d.md, "| Time to acknowledge | -1m (negative: check the clocks) |"));
    json_t *m = json_loads(d.json, 0, NULL);
    const json_t *ack = json_array_get(json_object_get(m, "lessons"), 1);
    assert_true(json_is_true(json_object_get(ack, "negative")));
    assert_int_equal(json_integer_value(json_object_get(ack, "this_s")), -60);
    json_decref(m);
    drafts_free(&d);
    h_close(&h);
}

static void test_unknown_id(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 100, 0);
    char err[256] = "stale";
    assert_null(report_draft_create(h.st, "INC-19990101-1", NULL, err, sizeof err));
    assert_string_equal(err, "");
    h_close(&h);
}

static char *slurp(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return tmp_read(path, NULL);
}

static void test_write_drafts(void **state)
{
    (void)state;
    harness_t h;
    char dir[64], err[512];
    tmp_dir(dir);
    FILE *logf = tmpfile();
    am_log_t log = {.out = logf, .level = AM_LOG_INFO};
    h_open(&h, ":memory:", RULES, 100, 0);
    feed_json(&h, alert_ev("A", 0, 30, "slow"), 1);
    char id[64];
    snprintf(id, sizeof id, "%s", first_id(&h));
    char md[80], html[80], newmd[80];
    snprintf(md, sizeof md, "%s.md", id);
    snprintf(html, sizeof html, "%s.html", id);
    snprintf(newmd, sizeof newmd, "%s.new.md", id);
    const char *ids[] = {id, "INC-19990101-9"};

    /* First time: both written; the unknown id is skipped. */
    assert_int_equal(report_write_drafts(h.st, dir, ids, 2, NULL, &log, err, sizeof err), 0);
    char *v1 = slurp(dir, md), *h1 = slurp(dir, html);
    assert_non_null(v1);
    assert_non_null(h1);
    assert_null(strstr(v1, "Acknowledged (UTC) | 2024"));
    /* The incident changes (an ack): the untouched draft is refreshed. */
    feed_json(&h, ack_ev(3, "Pat"), -1);
    json_decref(h_incidents(&h));
    assert_int_equal(report_write_drafts(h.st, dir, ids, 1, NULL, &log, err, sizeof err), 0);
    char *v2 = slurp(dir, md);
    assert_non_null(strstr(v2, "| Incident lead | Pat |"));
    assert_null(slurp(dir, newmd));
    /* A person edits it; the next change goes beside it. */
    tmp_write(dir, md, "# my edits\n");
    feed_json(&h, note_ev(5, "Pat", "found it"), -1);
    json_decref(h_incidents(&h));
    assert_int_equal(report_write_drafts(h.st, dir, ids, 1, NULL, &log, err, sizeof err), 0);
    char *v3 = slurp(dir, md), *n3 = slurp(dir, newmd);
    assert_string_equal(v3, "# my edits\n");
    assert_non_null(n3);
    assert_non_null(strstr(n3, "found it"));
    char *h3 = slurp(dir, html); /* the HTML, not edited, was refreshed */
    assert_non_null(strstr(h3, "found it"));
    /* And it said so in the log. */
    fflush(logf);
    rewind(logf);
    char line[1024];
    int warned = 0;
    while (fgets(line, sizeof line, logf))
        warned |= strstr(line, "draft edited since aftermath wrote it") != NULL;
    assert_true(warned);
    fclose(logf);
    free(v1);
    free(h1);
    free(v2);
    free(v3);
    free(n3);
    free(h3);
    h_close(&h);
    tmp_rm_rf(dir);
}

/* Whether the log file f holds a line containing s. */
static int logged(FILE *f, const char *s)
{
    char line[1024];
    int found = 0;
    fflush(f);
    rewind(f);
    while (fgets(line, sizeof line, f))
        found |= strstr(line, s) != NULL;
    return found;
}

/* Links planted at every name aftermath writes in the drafts directory
 * (the old predictable temporaries ID.md.tmp and .ID.md.written.tmp, the
 * draft, its sidecar, the .new draft) never make it write through them:
 * the file they point to (here standing for the database) is untouched,
 * a link at the draft itself is left alone with the draft written beside
 * it, and a FIFO there does not hang the writer. A directory others can
 * write to is reported. */
static void test_write_drafts_links(void **state)
{
    (void)state;
    harness_t h;
    char dir[64], err[512], victim[128], p[256], q[256];
    tmp_dir(dir);
    snprintf(victim, sizeof victim, "%s/victim.db", dir);
    tmp_write(dir, "victim.db", "precious\n");
    FILE *logf = tmpfile();
    am_log_t log = {.out = logf, .level = AM_LOG_INFO};
    h_open(&h, ":memory:", RULES, 100, 0);
    feed_json(&h, alert_ev("A", 0, 30, "slow"), 1);
    char id[64];
    snprintf(id, sizeof id, "%s", first_id(&h));
    const char *ids[] = {id};
    char sub[128];
    snprintf(sub, sizeof sub, "%s/drafts", dir);
    assert_int_equal(mkdir(sub, 0700), 0);

    /* The old temporary names, and the sidecars, as links to the victim. */
    static const char *const names[][2] = {{"", ".md.tmp"},          {"", ".html.tmp"},
                                           {".", ".md.written.tmp"}, {".", ".html.written.tmp"},
                                           {".", ".md.written"},     {".", ".html.written"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s%s%s", sub, names[i][0], id, names[i][1]);
        assert_int_equal(symlink(victim, p), 0);
    }
    assert_int_equal(report_write_drafts(h.st, sub, ids, 1, NULL, &log, err, sizeof err), 0);
    char *v = tmp_read(victim, NULL);
    assert_string_equal(v, "precious\n");
    free(v);
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s.md", sub, id);
    assert_int_equal(lstat(p, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0600);
    snprintf(p, sizeof p, "%s/.%s.md.written", sub, id);
    assert_int_equal(lstat(p, &sb), 0);
    assert_true(S_ISREG(sb.st_mode)); /* the link was replaced, not followed */
    assert_false(logged(logf, "writable by group or others"));

    /* A link at the draft itself (and at its .new name): not followed,
     * not replaced; the draft goes beside it. */
    snprintf(p, sizeof p, "%s/%s.md", sub, id);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(symlink(victim, p), 0);
    snprintf(q, sizeof q, "%s/%s.new.md", sub, id);
    assert_int_equal(symlink(victim, q), 0);
    /* A FIFO at the HTML draft: opening it must not block. */
    snprintf(p, sizeof p, "%s/%s.html", sub, id);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(mkfifo(p, 0600), 0);
    feed_json(&h, ack_ev(3, "Pat"), -1);
    json_decref(h_incidents(&h));
    assert_int_equal(report_write_drafts(h.st, sub, ids, 1, NULL, &log, err, sizeof err), 0);
    v = tmp_read(victim, NULL);
    assert_string_equal(v, "precious\n");
    free(v);
    snprintf(p, sizeof p, "%s/%s.md", sub, id);
    assert_int_equal(lstat(p, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    assert_int_equal(lstat(q, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    v = tmp_read(q, NULL);
    assert_non_null(strstr(v, "| Incident lead | Pat |"));
    free(v);
    snprintf(p, sizeof p, "%s/%s.html", sub, id);
    assert_int_equal(lstat(p, &sb), 0);
    assert_true(S_ISFIFO(sb.st_mode));
    snprintf(p, sizeof p, "%s/%s.new.html", sub, id);
    v = tmp_read(p, NULL);
    assert_non_null(v);
    assert_non_null(strstr(v, "Pat"));
    free(v);
    assert_true(logged(logf, "draft path is a link or not a regular file"));

    /* No temporary file is left behind. */
    DIR *d = opendir(sub);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        assert_null(strstr(e->d_name, ".tmp."));
    closedir(d);

    /* A directory others can write to: written, and reported. */
    assert_int_equal(chmod(sub, 0777), 0);
    assert_int_equal(report_write_drafts(h.st, sub, ids, 1, NULL, &log, err, sizeof err), 0);
    assert_true(logged(logf, "drafts directory is writable by group or others"));
    assert_true(logged(logf, "mode=0777"));

    fclose(logf);
    h_close(&h);
    tmp_rm_rf(dir);
}

/* Links: the event's url and link annotations, http(s) only, escaped
 * for each medium; --no-links drops them all. */
static void test_links(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 100, 0);
    json_t *dep = deploy_ev("1.0", -20, "ci");
    json_object_set_new(dep, "url", json_string("https://ci.example/run/7?a=1&b=2"));
    feed_json(&h, dep, -1);
    json_t *bad = deploy_ev("1.1", -10, "ci");
    json_object_set_new(bad, "url", json_string("javascript:alert(1)"));
    feed_json(&h, bad, -1);
    json_t *a = alert_ev("A", 0, 30, "slow");
    json_object_set_new(a, "url", json_string("http://prom.example/graph?g0.expr=up"));
    json_t *ann = json_object_get(a, "annotations");
    json_object_set_new(ann, "runbook_url",
                        json_string("https://rb.example/x)](javascript:alert(1))|<b>&lt;"));
    json_object_set_new(ann, "dashboard", json_string("data:text/html,<script>"));
    json_object_set_new(ann, "silence_url", json_string("HTTPS://am.example/#/silences/new"));
    json_object_set_new(ann, "imageURL", json_string("http:///nohost"));
    feed_json(&h, a, 1);
    json_t *ack = ack_ev(3, "Pat");
    json_object_set_new(ack, "url", json_string("https://pager.example/i/1"));
    feed_json(&h, ack, -1);
    const char *id = first_id(&h);
    drafts_t d;
    render(&h, id, false, &d);
    assert_non_null(strstr(d.md, "\n- ack, service web: [link](https://pager.example/i/1)\n"));
    /* Markdown: links on the suspect's lines, the impact table, the
     * alert's line and in the Links section. */
    assert_non_null(strstr(d.md, "([run](https://ci.example/run/7?a=1&b=2))"));
    assert_non_null(strstr(d.md, "See [run](https://ci.example/run/7?a=1&b=2)."));
    assert_non_null(strstr(d.md, "| [A](http://prom.example/graph?g0.expr=up) |"));
    assert_non_null(strstr(
        d.md,
        "[runbook](https://rb.example/x%29%5D%28javascript:alert%281%29%29%7C%3Cb%3E&amp;lt;)"));
    assert_non_null(strstr(d.md, "[silence](HTTPS://am.example/#/silences/new)"));
    assert_non_null(strstr(d.md, "## Links\n"));
    assert_null(strstr(d.md, "](javascript"));
    assert_null(strstr(d.md, "data:"));
    assert_null(strstr(d.md, "nohost"));
    check_md_tables(d.md);
    /* HTML: the attribute escaped, nothing but http(s) in an href. */
    assert_non_null(strstr(d.html, "<a href=\"https://ci.example/run/7?a=1&amp;b=2\""));
    assert_non_null(strstr(d.html, "href=\"https://rb.example/x)](javascript:alert(1))|&lt;b&gt;"
                                   "&amp;lt;\""));
    assert_null(strstr(d.html, "href=\"javascript"));
    assert_null(strstr(d.html, "href=\"data"));
    assert_null(strstr(d.html, "<b>"));
    /* Terminal: the links listed after the timeline, as text. */
    assert_non_null(
        strstr(d.text, "\nLinks\n  deploy api 1.0, run: https://ci.example/run/7?a=1&b=2\n"));
    /* JSON: the links as the senders wrote them. */
    json_t *m = json_loads(d.json, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(m, "links")), 5);
    json_decref(m);
    drafts_free(&d);

    report_options_t opts = {.no_links = true};
    render_opts(&h, id, &opts, &d);
    assert_null(strstr(d.md, "://"));
    assert_null(strstr(d.html, "<a href"));
    assert_null(strstr(d.html, "example"));
    assert_null(strstr(d.json, "://"));
    assert_null(strstr(d.md, "## Links"));
    assert_null(strstr(d.text, "://"));
    drafts_free(&d);
    h_close(&h);
}

/* Duration is impact start to mitigation; the status is "mitigated"
 * until resolved_at has passed, as of the time the draft is shown at. */
static void test_status_and_duration(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 100, 0);
    feed_json(&h, alert_ev("A", 0, 30, "slow"), 1); /* resolved at 00:40 (quiet 10m) */
    const char *id = first_id(&h);
    drafts_t d;
    /* By default, as of the latest event time in the store (00:30). */
    render(&h, id, false, &d);
    assert_non_null(strstr(d.md, "| Duration | 30m (impact start to mitigation) |"));
    assert_non_null(strstr(d.md, "| Status | mitigated (resolves at 2024-01-01 00:40:00 UTC unless"
                                 " an alert fires again) |"));
    assert_non_null(strstr(d.md, "| Resolved (UTC) | 2024-01-01 00:40:00 (40m after impact "
                                 "start) |"));
    assert_non_null(strstr(d.json, "\"status\": \"mitigated\""));
    assert_non_null(strstr(d.json, "\"status_as_of\": \"2024-01-01T00:30:00Z\""));
    assert_non_null(strstr(d.json, "\"duration_s\": 1800"));
    assert_non_null(strstr(d.json, "\"resolution_s\": 2400"));
    drafts_free(&d);
    report_options_t opts = {.now_ms = BASE_MS + 39 * 60000};
    render_opts(&h, id, &opts, &d);
    assert_non_null(strstr(d.md, "| Status | mitigated (resolves at"));
    drafts_free(&d);
    opts.now_ms = BASE_MS + 40 * 60000;
    render_opts(&h, id, &opts, &d);
    assert_non_null(strstr(d.md, "| Status | resolved |"));
    assert_non_null(strstr(d.html, "<tr><th>Status</th><td>resolved</td></tr>"));
    drafts_free(&d);
    /* report_status itself. */
    json_t *inc = json_pack("{s:n,s:n}", "mitigated_at", "resolved_at");
    assert_string_equal(report_status(inc, BASE_MS), "open");
    json_object_set_new(inc, "mitigated_at", json_string(T(30)));
    assert_string_equal(report_status(inc, AM_TIME_NONE), "mitigated");
    json_object_set_new(inc, "resolved_at", json_string(T(40)));
    assert_string_equal(report_status(inc, BASE_MS + 40 * 60000 - 1), "mitigated");
    assert_string_equal(report_status(inc, BASE_MS + 40 * 60000), "resolved");
    json_decref(inc);
    h_close(&h);
}

/* The chat summary: the facts in a few lines, event text unable to form
 * a link or a mention, links only when allowed. */
static void test_summary(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 100, 0);
    json_t *dep = deploy_ev("1.0", -20, "Dee Ployer");
    json_object_set_new(dep, "url", json_string("https://ci.example/run/7?a=1&b=2|x"));
    feed_json(&h, dep, -1);
    feed_json(&h, alert_ev("<!channel> <http://evil|click>", 0, 30, "slow"), 2);
    feed_json(&h, ack_ev(5, "Pat Lead"), -1);
    const char *id = first_id(&h);
    report_options_t opts = {0};
    char err[512];
    am_buf_t b = {0};
    json_decref(h_incidents(&h));
    report_draft_t *d = report_draft_create(h.st, id, &opts, err, sizeof err);
    assert_non_null(d);
    report_draft_summary(d, &b);
    report_draft_destroy(d);
    assert_non_null(strstr(b.p, "*What alerted:* &lt;!channel&gt; &lt;http://evil|click&gt; (web);"
                                " where cluster=c1\n"));
    assert_non_null(strstr(b.p, "*When:* 2024-01-01 00:00:00 UTC to 00:30:00 UTC (mitigated), "
                                "*30m*; resolves at 00:40:00 UTC unless an alert fires again\n"));
    assert_non_null(strstr(b.p, "*Users impacted:* 42\n"));
    assert_non_null(strstr(b.p, "*Detection:* 2m after impact start; acknowledged 3m after "
                                "detection by Pat Lead\n"));
    assert_non_null(strstr(b.p, "*Hypothesis to confirm:* the deploy of api 1.0 at 2023-12-31 "
                                "23:40:00 UTC (20m before impact start) may have caused it\n"));
    assert_non_null(strstr(b.p, "<https://ci.example/run/7?a=1&amp;b=2%7Cx|run api 1.0>"));
    assert_null(strstr(b.p, "<!"));
    assert_null(strstr(b.p, "<http://evil"));
    assert_true(count(b.p, "\n") <= 8); /* a summary, not the draft */
    am_buf_free(&b);
    opts.no_names = opts.no_links = true;
    d = report_draft_create(h.st, id, &opts, err, sizeof err);
    assert_non_null(d);
    report_draft_summary(d, &b);
    report_draft_destroy(d);
    assert_null(strstr(b.p, "Pat Lead"));
    assert_null(strstr(b.p, "Dee Ployer"));
    assert_null(strstr(b.p, "https://"));
    assert_null(strstr(b.p, "*Links:*"));
    assert_non_null(strstr(b.p, "acknowledged 3m after detection\n"));
    am_buf_free(&b);
    h_close(&h);
}

/* A rule without group_by says so, not "group " and nothing. */
static void test_no_group_by(void **state)
{
    (void)state;
    static const char *const rules = "version: 1\n"
                                     "rules:\n"
                                     "  - name: all\n"
                                     "    match: ['severity=\"page\"']\n"
                                     "    group_by: []\n";
    harness_t h;
    h_open(&h, ":memory:", rules, 100, 0);
    feed_json(&h, alert_ev("A", 0, 30, "slow"), 1);
    drafts_t d;
    render(&h, first_id(&h), false, &d);
    assert_non_null(
        strstr(d.md, "| Correlation rule | all (no group_by: one incident at a time) |"));
    assert_null(strstr(d.md, "group  |"));
    assert_null(strstr(d.md, ", group "));
    drafts_free(&d);
    /* Not grouped by cluster: alike lines name the cluster, so the two
     * web-1 are told apart (grouped by cluster, test_large_timeline's
     * lines do not repeat it). */
    json_t *a2 = alert_ev("A", 0, 30, "slow");
    json_object_set_new(json_object_get(a2, "labels"), "cluster", json_string("c2"));
    feed_json(&h, a2, 1);
    render(&h, first_id(&h), false, &d);
    assert_non_null(strstr(d.text, "Alert A fired on 2 instances: web-1 in cluster c1, web-1 in "
                                   "cluster c2: slow"));
    drafts_free(&d);
    h_close(&h);
}

/* A large incident's lines: 25 alerts of one name at one time are one
 * line naming three pods (namespace/pod) and how many more, with count
 * and every instance in the JSON; a single alert is named by its node; a
 * note 10 minutes before impact start is the lead-in, a deploy 9 minutes
 * after resolution is listed after it, one deploy (identity) that says it
 * started twice is said once; the impact table has one row per alert
 * name. */
static void test_large_timeline(void **state)
{
    (void)state;
    harness_t h;
    h_open(&h, ":memory:", RULES, 100, 0);
    for (int i = 0; i < 25; i++) {
        char pod[16];
        snprintf(pod, sizeof pod, "web-%02d", i);
        json_t *a = alert_ev("A", 0, 20, "slow");
        json_t *l = json_object_get(a, "labels");
        json_object_del(l, "instance");
        json_object_set_new(l, "pod", json_string(pod));
        json_object_set_new(l, "namespace", json_string("shop"));
        feed_json(&h, a, 1);
    }
    json_t *b = alert_ev("B", 1, 21, "disk");
    json_object_del(json_object_get(b, "labels"), "instance");
    json_object_set_new(json_object_get(b, "labels"), "node", json_string("n-1"));
    feed_json(&h, b, 2);
    json_t *c = alert_ev("C", 2, 21, "no service"); /* a row and a bar all the same */
    json_object_del(json_object_get(c, "labels"), "service");
    feed_json(&h, c, 3);
    feed_json(&h, note_ev(-10, "Pat", "starting the rollout"), -1);
    for (int i = 0; i < 2; i++) { /* one deploy, told twice that it started */
        json_t *d = deploy_ev("1.0", -5 + i * 0.05, "Pat");
        json_object_set_new(d, "status", json_string("started"));
        json_object_set_new(d, "dedup_key", json_string("gh-7001"));
        feed_json(&h, d, -1);
    }
    feed_json(&h, deploy_ev("9.9", 40, "Sam"), -1);      /* resolved at 31 */
    feed_json(&h, deploy_ev("9.8", 31 + 61, "Sam"), -1); /* past the hour after */
    drafts_t d;
    render(&h, first_id(&h), false, &d);
    assert_non_null(strstr(d.text, "Alert A fired on 25 instances: shop/web-00, shop/web-01, "
                                   "shop/web-02 \u2026 (+22): slow"));
    assert_non_null(strstr(d.text, "Alert A resolved on 25 instances: shop/web-00"));
    assert_non_null(strstr(d.text, "Alert B fired on n-1: disk"));
    assert_non_null(strstr(d.text, "Lead-in: note: starting the rollout"));
    assert_non_null(strstr(d.text, "After resolution: deploy of api 9.9"));
    assert_null(strstr(d.text, "api 9.8"));
    const char *first = strstr(d.text, "Deploy of api 1.0");
    assert_non_null(first);
    assert_null(strstr(first + 1, "Deploy of api 1.0"));
    assert_non_null(strstr(d.md, "| web | A | 25 | 25: shop/web-00, shop/web-01, shop/web-02, "
                                 "shop/web-03, shop/web-04 \u2026 (+20) |"));
    assert_non_null(strstr(d.md, "| web | B | 1 | 1: n-1 |"));
    assert_non_null(strstr(d.md, "| unknown | C | 1 | 1: web-1 |"));
    assert_non_null(strstr(d.md, "    section unknown service\n    alert C on web-1 :crit,"));
    assert_non_null(strstr(d.md, "- **A** (25 alerts), service web"));
    assert_non_null(strstr(d.md, "alert A x25 :crit, 2024-01-01 00:00:00, 2024-01-01 00:20:00"));
    json_t *m = json_loads(d.json, 0, NULL);
    assert_non_null(m);
    size_t i, grouped = 0, lead = 0, after = 0;
    json_t *e;
    json_array_foreach(json_object_get(m, "timeline"), i, e)
    {
        const char *type = json_string_value(json_object_get(e, "type"));
        if (json_integer_value(json_object_get(e, "count")) == 25) {
            grouped++;
            assert_int_equal(json_array_size(json_object_get(e, "instances")), 25);
        }
        lead += strcmp(type, "lead_in") == 0;
        after += strcmp(type, "after_resolution") == 0;
    }
    assert_int_equal(grouped, 2);
    assert_int_equal(lead, 1);
    assert_int_equal(after, 1);
    json_decref(m);
    drafts_free(&d);
    /* No lead-in and nothing after when the windows are off. */
    report_options_t off = {.lead_in_ms = -1, .after_ms = -1};
    render_opts(&h, first_id(&h), &off, &d);
    assert_null(strstr(d.text, "Lead-in"));
    assert_null(strstr(d.text, "After resolution"));
    drafts_free(&d);
    h_close(&h);
}

/* The summary's facts: what alerted where and when, users, detection,
 * acknowledgement and the suspect as a hypothesis; names withheld with
 * no_names; an open incident still alerting; a deploy as the response. */
static void test_facts(void **state)
{
    (void)state;
    json_t *m = json_pack(
        "{s:{s:s,s:s},s:{s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:s},s:[{s:s,s:s,s:i},{s:s,s:s,s:i},"
        "{s:s,s:s,s:i},{s:s,s:s,s:i}],s:{s:[{s:s,s:s,s:s}]}}",
        "key", "cluster", "eu-1", "env", "prod", "summary", "started_at", "2024-06-18T14:28:00Z",
        "detected_at", "2024-06-18T14:30:05Z", "acknowledged_at", "2024-06-18T14:35:10Z",
        "mitigated_at", "2024-06-19T01:30:00Z", "users_impacted", 10000, "acknowledged_by", "ack",
        "lead", "Jane Doe", "started_from", "alert", "impact", "alert", "DBDown", "service", "db",
        "alerts", 3, "alert", "Slow", "service", "db", "alerts", 1, "alert", "Errors", "service",
        "web", "alerts", 2, "alert", "Disk", "service", "db", "alerts", 4, "root_cause", "suspects",
        "name", "db-config", "version", "v1", "at", "2024-06-18T14:05:00Z");
    json_object_set_new(m, "timeline",
                        json_pack("[{s:s,s:s,s:s}]", "type", "ack", "at", "2024-06-18T14:35:10Z",
                                  "actor", "Jane Doe"));
    char *f = report_facts(m, false);
    assert_string_equal(
        f, "DBDown x3 (db), Slow (db), Errors x2 (web) and 4 more alerts in cluster eu-1, env prod "
           "alerted from 14:28 UTC until 2024-06-19 01:30 UTC (11h2m), with 10000 users impacted. "
           "The first notification reached aftermath at 14:30 UTC, 2m5s after impact start; Jane "
           "Doe acknowledged it at 14:35 UTC, 5m5s after detection. A possible cause, to confirm "
           "or rule out: the deploy of db-config v1 at 14:05 UTC, 23m before impact start.");
    free(f);
    f = report_facts(m, true);
    assert_null(strstr(f, "Jane"));
    assert_non_null(strstr(f, "it was acknowledged at 14:35 UTC"));
    free(f);
    /* a lead other than the acknowledger (a reassignment, a correction) */
    json_object_set_new(json_object_get(m, "summary"), "lead", json_string("Bob"));
    f = report_facts(m, false);
    assert_non_null(strstr(f, "Jane Doe acknowledged it at 14:35 UTC, 5m5s after detection; Bob "
                              "leads the response."));
    free(f);
    json_t *s = json_object_get(m, "summary");
    json_object_set_new(s, "mitigated_at", json_null());
    json_object_set_new(s, "acknowledged_by", json_string("deploy"));
    json_object_set_new(s, "detected_at", json_null());
    json_object_set_new(s, "started_from", json_string("pending"));
    f = report_facts(m, false);
    assert_non_null(strstr(f, "alerted from 14:28 UTC and are still alerting"));
    assert_non_null(strstr(f, "includes the alert rules' pending period"));
    assert_non_null(strstr(f, "When it was detected is not recorded"));
    assert_non_null(strstr(f, "nobody acknowledged it, a deploy at 14:35 UTC"));
    free(f);
    json_object_set_new(s, "started_at", json_null());
    assert_null(report_facts(m, false));
    json_decref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_injection),
        cmocka_unit_test(test_no_names),
        cmocka_unit_test(test_no_ack_no_deploy),
        cmocka_unit_test(test_open_incident),
        cmocka_unit_test(test_implausible_end),
        cmocka_unit_test(test_inferred_and_truncated),
        cmocka_unit_test(test_start_and_ack_from_deploys),
        cmocka_unit_test(test_history_p50),
        cmocka_unit_test(test_unknown_id),
        cmocka_unit_test(test_write_drafts),
        cmocka_unit_test(test_write_drafts_links),
        cmocka_unit_test(test_negative_duration),
        cmocka_unit_test(test_links),
        cmocka_unit_test(test_status_and_duration),
        cmocka_unit_test(test_no_group_by),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_large_timeline),
        cmocka_unit_test(test_facts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
