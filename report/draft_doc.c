/*
 * draft_doc.c - the sections of the draft that Markdown and HTML share
 * word for word: summary, timeline, root cause, impact, lessons.
 *
 * Each section is written once, against a report_doc_style_t: the
 * format's escape function and the markup strings that open and close a
 * heading, a paragraph, a list, a table row or a cell. The words of the
 * template are the same in both formats; values from events always pass
 * through the style's escape. What only one format has (the Mermaid gantt
 * block, the SVG figure, the HTML head) stays in draft_md.c and
 * draft_html.c.
 */
#include "report/draft_int.h"

#include <stdlib.h>
#include <string.h>

/* How many instances or components a cell of the impact table names. */
enum { IMPACT_NAMED = 5 };

static void esc(const report_doc_style_t *st, am_buf_t *b, const char *s)
{
    st->escape(b, s);
}

static void h2(const report_doc_style_t *st, am_buf_t *b, const char *title)
{
    am_buf_puts(b, st->h2_open);
    am_buf_puts(b, title);
    am_buf_puts(b, st->h2_close);
}

static void h3(const report_doc_style_t *st, am_buf_t *b, const char *title)
{
    am_buf_puts(b, st->h3_open);
    am_buf_puts(b, title);
    am_buf_puts(b, st->h3_close);
}

/* A paragraph of template text ending in a prompt to fill. */
static void prompt_para(const report_doc_style_t *st, am_buf_t *b, const char *before,
                        const char *after)
{
    am_buf_puts(b, st->p_open);
    am_buf_puts(b, before);
    am_buf_puts(b, st->prompt);
    am_buf_puts(b, after);
    am_buf_puts(b, st->p_close);
}

/* A list of template questions, each followed by a prompt. */
static void prompt_list(const report_doc_style_t *st, am_buf_t *b, const char *const *items,
                        size_t n)
{
    am_buf_puts(b, st->ul_open);
    for (size_t i = 0; i < n; i++) {
        am_buf_puts(b, st->li_open);
        am_buf_puts(b, items[i]);
        am_buf_puts(b, st->prompt);
        am_buf_puts(b, st->li_close);
    }
    am_buf_puts(b, st->ul_close);
}

static void join(const report_doc_style_t *st, am_buf_t *b, const json_t *arr, const char *none)
{
    size_t i;
    json_t *x;
    if (!json_array_size(arr))
        am_buf_puts(b, none);
    json_array_foreach(arr, i, x)
    {
        if (i)
            am_buf_puts(b, ", ");
        esc(st, b, json_string_value(x));
    }
}

/* Like join(), naming at most max and then "… (+N)". */
static void join_some(const report_doc_style_t *st, am_buf_t *b, const json_t *arr,
                      const char *none, size_t max)
{
    size_t i, n = json_array_size(arr);
    json_t *x;
    if (!n)
        am_buf_puts(b, none);
    json_array_foreach(arr, i, x)
    {
        if (i == max) {
            am_buf_printf(b, " \u2026 (+%zu)", n - max);
            break;
        }
        if (i)
            am_buf_puts(b, ", ");
        esc(st, b, json_string_value(x));
    }
}

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Writes the draft's links of one event (kind, name, and service and
 * version unless NULL) as "prefix[label](url), ...suffix"; nothing when
 * there is none. Returns how many. */
static size_t links_for(const report_doc_style_t *st, am_buf_t *b, const report_draft_t *d,
                        const char *kind, const char *name, const char *service,
                        const char *version, const char *prefix, const char *suffix)
{
    size_t i, n = 0;
    json_t *l;
    json_array_foreach(json_object_get(report_draft_model(d), "links"), i, l)
    {
        if (!same(report_str(l, "kind"), kind) || !same(report_str(l, "name"), name) ||
            (service && !same(report_str(l, "service"), service)) ||
            (version && !same(report_str(l, "version"), version)))
            continue;
        am_buf_puts(b, n++ ? ", " : prefix);
        st->link(b, report_str(l, "label"), report_str(l, "url"));
    }
    if (n)
        am_buf_puts(b, suffix);
    return n;
}

/* The URL of the first link labelled label of alert name in service, or
 * NULL. */
static const char *alert_link(const report_draft_t *d, const char *name, const char *service,
                              const char *label)
{
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(report_draft_model(d), "links"), i, l)
    {
        if (same(report_str(l, "kind"), "alert") && same(report_str(l, "name"), name) &&
            same(report_str(l, "service"), service) && same(report_str(l, "label"), label))
            return report_str(l, "url");
    }
    return NULL;
}

/* A table's header row; cells are template text. */
static void table_head(const report_doc_style_t *st, am_buf_t *b, const char *const *cells,
                       size_t n)
{
    am_buf_puts(b, st->table_open);
    am_buf_puts(b, st->th_row_open);
    for (size_t i = 0; i < n; i++) {
        am_buf_puts(b, st->th_open);
        am_buf_puts(b, cells[i]);
        am_buf_puts(b, st->th_close);
    }
    am_buf_puts(b, st->th_row_close);
    if (st->th_rule) { /* Markdown's delimiter row */
        am_buf_putc(b, '|');
        for (size_t i = 0; i < n; i++)
            am_buf_puts(b, st->th_rule);
        am_buf_putc(b, '\n');
    }
}

static void cell(const report_doc_style_t *st, am_buf_t *b, size_t i)
{
    am_buf_puts(b, i == 0 ? st->row_open : st->cell_sep);
}

/* The summary: field/value rows, then a prompt for the story. */
static void kv(const report_doc_style_t *st, am_buf_t *b, const char *field, int *rows)
{
    if ((*rows)++)
        am_buf_puts(b, st->kv_close);
    am_buf_puts(b, st->kv_open);
    am_buf_puts(b, field);
    am_buf_puts(b, st->kv_mid);
}

/* After a value a person corrected: who (unless --no-names), when, why
 * and the derived value it replaced. */
static void corrected(const report_doc_style_t *st, am_buf_t *b, const json_t *summary,
                      const char *field)
{
    const json_t *c = json_object_get(json_object_get(summary, "corrections"), field);
    if (!c)
        return;
    char t[AM_TIME_STRLEN];
    am_buf_puts(b, " (corrected");
    if (report_str(c, "actor")) {
        am_buf_puts(b, " by ");
        esc(st, b, report_str(c, "actor"));
    }
    am_buf_printf(b, " at %s UTC", report_when(json_object_get(c, "at"), t));
    if (report_str(c, "reason")) {
        am_buf_puts(b, ": ");
        esc(st, b, report_str(c, "reason"));
    }
    const json_t *derived = json_object_get(c, "derived");
    if (derived) {
        am_buf_puts(b, "; derived: ");
        if (json_is_integer(derived))
            am_buf_printf(b, "%lld", (long long)json_integer_value(derived));
        else if (json_is_null(derived))
            am_buf_puts(b, "none");
        else if (strstr(field, "_at"))
            am_buf_puts(b, report_when(derived, t));
        else
            esc(st, b, json_string_value(derived));
    }
    am_buf_putc(b, ')');
}

void report_doc_summary(const report_doc_style_t *st, const report_draft_t *d, am_buf_t *b)
{
    const json_t *m = report_draft_model(d), *s = json_object_get(m, "summary");
    char t[AM_TIME_STRLEN], du[REPORT_DURATION_STRLEN];
    int rows = 0;
    h2(st, b, "Incident Summary");
    am_buf_puts(b, st->kv_table_open);
    kv(st, b, "Incident ID", &rows);
    esc(st, b, report_str(s, "id"));
    /* The people's record: rows only when set, so drafts without read as before. */
    if (report_str(s, "title")) {
        kv(st, b, "Title", &rows);
        esc(st, b, report_str(s, "title"));
        corrected(st, b, s, "title");
    }
    if (report_str(s, "severity")) {
        kv(st, b, "Severity", &rows);
        esc(st, b, report_str(s, "severity"));
        corrected(st, b, s, "severity");
    }
    if (report_str(s, "dismissed")) {
        kv(st, b, "Dismissed", &rows);
        esc(st, b, report_str(s, "dismissed"));
        am_buf_puts(b, " (left out of every list and figure)");
        corrected(st, b, s, "dismissed");
    }
    if (report_str(s, "merged_into")) {
        kv(st, b, "Merged into", &rows);
        esc(st, b, report_str(s, "merged_into"));
        corrected(st, b, s, "merged_into");
    }
    kv(st, b, "Date", &rows);
    am_buf_puts(b, report_str(s, "date") ? report_str(s, "date") : "unknown");
    kv(st, b, "Start time (UTC)", &rows);
    am_buf_puts(b, report_str(s, "start_time") ? report_str(s, "start_time") : "unknown");
    if (report_start_note(s) && !json_object_get(json_object_get(s, "corrections"), "started_at"))
        am_buf_printf(b, " (%s)", report_start_note(s));
    corrected(st, b, s, "started_at");
    kv(st, b, "Duration", &rows);
    if (json_is_null(json_object_get(s, "mitigated_at")))
        am_buf_puts(b, "unknown (not mitigated yet)");
    else
        am_buf_printf(b, "%s (impact start to mitigation)",
                      report_secs(json_object_get(s, "duration_s"), du));
    kv(st, b, "Status", &rows);
    const char *status = report_str(m, "status");
    am_buf_puts(b, status);
    if (status && strcmp(status, "mitigated") == 0 &&
        !json_is_null(json_object_get(s, "resolved_at")))
        am_buf_printf(b, " (resolves at %s UTC unless an alert fires again)",
                      report_when(json_object_get(s, "resolved_at"), t));
    kv(st, b, "Services affected", &rows);
    join(st, b, json_object_get(s, "services"), "unknown");
    kv(st, b, "Users impacted", &rows);
    const json_t *users = json_object_get(s, "users_impacted");
    if (json_is_integer(users))
        am_buf_printf(b, "%lld", (long long)json_integer_value(users));
    else
        am_buf_puts(b, "unknown");
    corrected(st, b, s, "users_impacted");
    kv(st, b, "Incident lead", &rows);
    if (report_draft_no_names(d))
        am_buf_puts(b, json_is_true(json_object_get(s, "lead_withheld")) ? "withheld (no names)"
                                                                         : "to be assigned");
    else if (report_str(s, "lead"))
        esc(st, b, report_str(s, "lead"));
    else
        am_buf_puts(b, "to be assigned");
    corrected(st, b, s, "lead");
    const char *role;
    json_t *who;
    int nroles = 0;
    json_object_foreach(json_object_get(s, "roles"), role, who)
    {
        if (!nroles++)
            kv(st, b, "Roles", &rows);
        else
            am_buf_puts(b, ", ");
        esc(st, b, role);
        am_buf_puts(b, ": ");
        esc(st, b, json_string_value(who));
    }
    kv(st, b, "Detected (UTC)", &rows);
    am_buf_puts(b, report_when(json_object_get(s, "detected_at"), t));
    corrected(st, b, s, "detected_at");
    kv(st, b, "Acknowledged (UTC)", &rows);
    am_buf_puts(b, report_when(json_object_get(s, "acknowledged_at"), t));
    if (report_ack_note(s) &&
        !json_object_get(json_object_get(s, "corrections"), "acknowledged_at"))
        am_buf_printf(b, " (%s)", report_ack_note(s));
    corrected(st, b, s, "acknowledged_at");
    kv(st, b, "Mitigated (UTC)", &rows);
    am_buf_puts(b, report_when(json_object_get(s, "mitigated_at"), t));
    corrected(st, b, s, "mitigated_at");
    if (json_is_true(json_object_get(s, "mitigated_inferred")) &&
        !json_object_get(json_object_get(s, "corrections"), "mitigated_at"))
        am_buf_puts(b, " (inferred: no resolve was received; the alert fired again or stopped "
                       "being re-notified)");
    kv(st, b, "Resolved (UTC)", &rows);
    am_buf_puts(b, report_when(json_object_get(s, "resolved_at"), t));
    corrected(st, b, s, "resolved_at");
    if (json_is_integer(json_object_get(s, "resolution_s")))
        am_buf_printf(b, " (%s after impact start)",
                      report_secs(json_object_get(s, "resolution_s"), du));
    if (json_is_integer(json_object_get(s, "truncated_alerts"))) {
        kv(st, b, "Notifications", &rows);
        am_buf_printf(b,
                      "truncated: up to %lld alerts were left out of a notification, so the "
                      "alerts listed may not be all that fired",
                      (long long)json_integer_value(json_object_get(s, "truncated_alerts")));
    }
    kv(st, b, "Correlation rule", &rows);
    esc(st, b, report_str(m, "rule"));
    const char *k;
    json_t *v;
    int first = 1;
    if (!json_object_size(json_object_get(m, "key")))
        am_buf_puts(b, " (no group_by: one incident at a time)");
    json_object_foreach(json_object_get(m, "key"), k, v)
    {
        am_buf_puts(b, first ? ", group " : ", ");
        first = 0;
        esc(st, b, k);
        am_buf_putc(b, '=');
        esc(st, b, json_string_value(v));
    }
    am_buf_puts(b, st->kv_close);
    am_buf_puts(b, st->table_close);
    const char *facts = report_str(s, "facts");
    if (facts) {
        am_buf_puts(b, st->p_open);
        am_buf_puts(b, st->strong_open);
        am_buf_puts(b, "What the record shows:");
        am_buf_puts(b, st->strong_close);
        am_buf_putc(b, ' ');
        esc(st, b, facts);
        am_buf_puts(b, st->p_close);
    }
    prompt_para(st, b, "",
                facts ? " Correct the above where it is wrong, then say why it happened, who was "
                        "affected and how, and how it was brought back."
                      : " In a few sentences: what happened, who was affected, and how it was "
                        "brought back.");
}

void report_doc_timeline(const report_doc_style_t *st, const report_draft_t *d, am_buf_t *b)
{
    char t[AM_TIME_STRLEN];
    size_t i;
    json_t *e;
    h2(st, b, "Timeline (UTC)");
    am_buf_puts(b, st->tl_open);
    json_array_foreach(json_object_get(report_draft_model(d), "timeline"), i, e)
    {
        am_buf_puts(b, st->tl_when_open);
        am_buf_puts(b, report_when(json_object_get(e, "at"), t));
        am_buf_puts(b, st->tl_when_close);
        esc(st, b, report_str(e, "text"));
        if (report_str(e, "actor")) {
            am_buf_puts(b, ", by ");
            esc(st, b, report_str(e, "actor"));
        }
        const char *type = report_str(e, "type");
        if (type && (strcmp(type, "deploy") == 0 || strcmp(type, "suspect_deploy") == 0 ||
                     strcmp(type, "rollback") == 0))
            links_for(st, b, d, "deploy", report_str(e, "name"), NULL, report_str(e, "version"),
                      " (", ")");
        am_buf_puts(b, st->tl_src_open);
        esc(st, b, report_str(e, "source"));
        am_buf_puts(b, st->tl_src_close);
    }
    am_buf_puts(b, st->tl_close);
}

void report_doc_root_cause(const report_doc_style_t *st, const report_draft_t *d, am_buf_t *b)
{
    static const char *const factors[] = {
        "Technical factors: ",
        "Human factors (blameless: what made each action reasonable at the time, never who is "
        "to blame): ",
        "Process factors: ",
        "Why did the safeguards in place not stop it? ",
    };
    const json_t *rc = json_object_get(report_draft_model(d), "root_cause");
    const json_t *suspects = json_object_get(rc, "suspects");
    char t[AM_TIME_STRLEN], du[REPORT_DURATION_STRLEN];
    size_t i;
    json_t *s;
    h2(st, b, "Root Cause Analysis");
    h3(st, b, "Hypotheses to confirm");
    if (!json_array_size(suspects))
        prompt_para(st, b, "No deploy was linked to this incident as a suspect. ",
                    " What changed before impact start?");
    else
        am_buf_puts(b, st->ol_open);
    json_array_foreach(suspects, i, s)
    {
        if (st->numbered)
            am_buf_printf(b, "%zu. ", i + 1);
        am_buf_puts(b, st->hypothesis);
        am_buf_puts(b, " the deploy of ");
        esc(st, b, report_str(s, "name"));
        am_buf_putc(b, ' ');
        esc(st, b, report_str(s, "version") ? report_str(s, "version") : "unknown version");
        am_buf_printf(b, " at %s UTC", report_when(json_object_get(s, "at"), t));
        if (report_str(s, "status")) {
            am_buf_puts(b, " (");
            esc(st, b, report_str(s, "status"));
            am_buf_puts(b, ")");
        }
        const json_t *before = json_object_get(s, "before_impact_s");
        if (json_is_integer(before) && json_integer_value(before) == 0)
            am_buf_puts(b, ", at impact start, may have caused this incident.");
        else
            am_buf_printf(b, ", %s before impact start, may have caused this incident.",
                          report_secs(before, du));
        if (report_str(s, "verdict")) {
            am_buf_t field = {0};
            am_buf_printf(&field, "suspect.%s@%s", report_str(s, "name"),
                          report_str(s, "version") ? report_str(s, "version") : "");
            am_buf_puts(b, " Verdict: ");
            esc(st, b, report_str(s, "verdict"));
            corrected(st, b, json_object_get(report_draft_model(d), "summary"), field.p);
            am_buf_putc(b, '.');
            am_buf_free(&field);
        }
        if (report_str(s, "actor")) {
            am_buf_puts(b, " Deployed by ");
            esc(st, b, report_str(s, "actor"));
            am_buf_putc(b, '.');
        }
        links_for(st, b, d, "deploy", report_str(s, "name"), NULL, report_str(s, "version"),
                  " See ", ".");
        am_buf_puts(b, st->why_open);
        am_buf_puts(b, "Why it is listed: ");
        esc(st, b, report_str(s, "why"));
        am_buf_putc(b, '.');
        am_buf_puts(b, st->why_close);
    }
    if (json_array_size(suspects))
        am_buf_puts(b, st->ol_close);
    h3(st, b, "Contributing factors");
    prompt_list(st, b, factors, 4);
}

void report_doc_impact(const report_doc_style_t *st, const report_draft_t *d, am_buf_t *b)
{
    static const char *const head[] = {"Service",   "Alert",      "Alerts",
                                       "Instances", "Components", "Alerting for"};
    static const char *const open_questions[] = {
        "Business impact (revenue, SLAs, support load): ",
        "What users experienced, and what they were told: ",
    };
    const json_t *m = report_draft_model(d);
    char du[REPORT_DURATION_STRLEN];
    size_t i;
    json_t *x;
    h2(st, b, "Impact Analysis");
    table_head(st, b, head, 6);
    json_array_foreach(json_object_get(m, "impact"), i, x)
    {
        cell(st, b, 0);
        esc(st, b, report_str(x, "service") ? report_str(x, "service") : "unknown");
        cell(st, b, 1);
        const char *url = alert_link(d, report_str(x, "alert"), report_str(x, "service"), "source");
        if (url)
            st->link(b, report_str(x, "alert"), url);
        else
            esc(st, b, report_str(x, "alert"));
        cell(st, b, 2);
        am_buf_printf(b, "%lld", (long long)json_integer_value(json_object_get(x, "alerts")));
        cell(st, b, 3);
        am_buf_printf(
            b, "%lld: ", (long long)json_integer_value(json_object_get(x, "instance_count")));
        join_some(st, b, json_object_get(x, "instances"), "none named", IMPACT_NAMED);
        cell(st, b, 4);
        join_some(st, b, json_object_get(x, "components"), "none named", IMPACT_NAMED);
        cell(st, b, 5);
        am_buf_puts(b, json_is_true(json_object_get(x, "still_alerting"))
                           ? "still alerting"
                           : report_secs(json_object_get(x, "alerting_s"), du));
        am_buf_puts(b, st->row_close);
    }
    am_buf_puts(b, st->table_close);
    const json_t *users = json_object_get(json_object_get(m, "summary"), "users_impacted");
    am_buf_puts(b, st->p_open);
    if (json_is_integer(users))
        am_buf_printf(b, "Users impacted: %lld (largest value the incident's events give).",
                      (long long)json_integer_value(users));
    else
        am_buf_puts(b, "Users impacted: unknown.");
    am_buf_puts(b, st->p_close);
    am_buf_puts(b, st->p_open);
    am_buf_puts(b, "What the alerts said:");
    am_buf_puts(b, st->p_close);
    am_buf_puts(b, st->ul_open);
    /* One item per alert name and service: the first alert's words, and
     * how many alerts and other summaries there were. */
    const json_t *alerts = json_object_get(m, "alerts");
    size_t na = json_array_size(alerts);
    bool *done = am_xcalloc(na ? na : 1, sizeof *done);
    json_array_foreach(alerts, i, x)
    {
        if (done[i])
            continue;
        size_t count = 0;
        json_t *summaries = json_object();
        for (size_t j = i; j < na; j++) {
            const json_t *y = json_array_get(alerts, j);
            if (done[j] || !json_equal(json_object_get(x, "name"), json_object_get(y, "name")) ||
                !json_equal(json_object_get(x, "service"), json_object_get(y, "service")))
                continue;
            done[j] = true;
            count++;
            if (report_str(y, "summary"))
                json_object_set_new(summaries, report_str(y, "summary"), json_true());
        }
        size_t others = json_object_size(summaries) > 1 ? json_object_size(summaries) - 1 : 0;
        json_decref(summaries);
        am_buf_puts(b, st->li_open);
        am_buf_puts(b, st->strong_open);
        esc(st, b, report_str(x, "name"));
        am_buf_puts(b, st->strong_close);
        if (count > 1)
            am_buf_printf(b, " (%zu alerts)", count);
        am_buf_puts(b, ", service ");
        esc(st, b, report_str(x, "service") ? report_str(x, "service") : "unknown");
        if (report_str(x, "severity")) {
            am_buf_puts(b, ", severity ");
            esc(st, b, report_str(x, "severity"));
        }
        am_buf_puts(b, ": ");
        esc(st, b, report_str(x, "summary") ? report_str(x, "summary") : "no summary");
        if (report_str(x, "description")) {
            am_buf_puts(b, ". ");
            esc(st, b, report_str(x, "description"));
        }
        if (others)
            am_buf_printf(b, " (and %zu other summar%s)", others, others > 1 ? "ies" : "y");
        links_for(st, b, d, "alert", report_str(x, "name"), report_str(x, "service"), NULL, " (",
                  ")");
        am_buf_puts(b, st->li_close);
    }
    free(done);
    am_buf_puts(b, st->ul_close);
    /* A paragraph between the two lists: in Markdown, two bullet lists
     * with only a blank line between them are one list. */
    am_buf_puts(b, st->p_open);
    am_buf_puts(b, "What it meant beyond the alerts:");
    am_buf_puts(b, st->p_close);
    prompt_list(st, b, open_questions, 2);
}

void report_doc_lessons(const report_doc_style_t *st, const report_draft_t *d, am_buf_t *b)
{
    static const char *const titles[] = {"Time to detect", "Time to acknowledge",
                                         "Time to mitigate", "Time to resolve"};
    static const char *const questions[] = {"What went well? ", "What went wrong? ",
                                            "Where did we get lucky? "};
    const json_t *less = json_object_get(report_draft_model(d), "lessons");
    const json_t *svcs = json_object_get(json_array_get(less, 0), "services");
    char du[REPORT_DURATION_STRLEN];
    size_t i, j;
    json_t *x, *p;
    h2(st, b, "Lessons Learned");
    /* Header cells: two fixed, then one per service (escaped). */
    size_t n = 2 + json_array_size(svcs);
    am_buf_t *cells = am_xcalloc(n, sizeof *cells);
    const char **head = am_xcalloc(n, sizeof *head);
    am_buf_puts(&cells[0], "Measure");
    am_buf_puts(&cells[1], "This incident");
    json_array_foreach(svcs, j, p)
    {
        am_buf_puts(&cells[2 + j], "p50 of ");
        esc(st, &cells[2 + j], report_str(p, "service"));
    }
    for (i = 0; i < n; i++)
        head[i] = cells[i].p;
    table_head(st, b, head, n);
    for (i = 0; i < n; i++)
        am_buf_free(&cells[i]);
    free(cells);
    free(head);
    json_array_foreach(less, i, x)
    {
        cell(st, b, 0);
        am_buf_puts(b, i < 4 ? titles[i] : "?");
        cell(st, b, 1);
        am_buf_puts(b, report_secs(json_object_get(x, "this_s"), du));
        json_array_foreach(json_object_get(x, "services"), j, p)
        {
            json_int_t past = json_integer_value(json_object_get(p, "past_incidents"));
            json_int_t measured = json_integer_value(json_object_get(p, "measured"));
            cell(st, b, 2 + j);
            if (!past)
                am_buf_puts(b, "first incident");
            else if (!measured)
                am_buf_printf(b, "no data (%lld past)", (long long)past);
            else
                am_buf_printf(b, "%s (n=%lld)", report_secs(json_object_get(p, "p50_s"), du),
                              (long long)measured);
        }
        am_buf_puts(b, st->row_close);
    }
    am_buf_puts(b, st->table_close);
    am_buf_puts(b, st->note_open);
    am_buf_puts(b, "Time to acknowledge counts from detection; the others from impact start."
                   " The p50 is over the service's earlier incidents in this database.");
    am_buf_puts(b, st->p_close);
    prompt_list(st, b, questions, 3);
}

void report_doc_links(const report_doc_style_t *st, const report_draft_t *d, am_buf_t *b)
{
    const json_t *links = json_object_get(report_draft_model(d), "links");
    size_t i;
    json_t *l;
    if (!json_array_size(links))
        return;
    h2(st, b, "Links");
    am_buf_puts(b, st->ul_open);
    json_array_foreach(links, i, l)
    {
        am_buf_puts(b, st->li_open);
        esc(st, b, report_str(l, "kind"));
        if (report_str(l, "name")) {
            am_buf_putc(b, ' ');
            esc(st, b, report_str(l, "name"));
        }
        if (report_str(l, "version")) {
            am_buf_putc(b, ' ');
            esc(st, b, report_str(l, "version"));
        }
        if (report_str(l, "service")) {
            am_buf_puts(b, ", service ");
            esc(st, b, report_str(l, "service"));
        }
        am_buf_puts(b, ": ");
        st->link(b, report_str(l, "label"), report_str(l, "url"));
        am_buf_puts(b, st->li_close);
    }
    am_buf_puts(b, st->ul_close);
}
