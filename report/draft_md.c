/*
 * draft_md.c - the draft as Markdown (GitHub/GitLab flavoured), with a
 * Mermaid gantt block, and as plain text for the terminal.
 *
 * Every value taken from events goes through report_md() (or
 * report_mermaid() inside the gantt block); the words of the template do
 * not. Judgement is left as prompts marked "[to fill]" or "[to confirm]",
 * written without backslashes: CommonMark reads brackets as a link only
 * with a link reference definition of that label, and none can form (the
 * escaper turns every '[' from events into "\["), so the prompts render
 * as written and read the same as plain text.
 */
#include "report/draft_int.h"
#include "report/escape.h"
#include "report/timeline.h"

#include <string.h>

#define TO_FILL "**[to fill]**"

/* Bars per row of the gantt chart before a row is one bar. */
enum { GANTT_BARS = 12 };

static const report_doc_style_t md = {
    .escape = report_md,
    .link = report_link_md,
    .prompt = TO_FILL,
    .h2_open = "## ",
    .h2_close = "\n\n",
    .h3_open = "### ",
    .h3_close = "\n\n",
    .p_open = "",
    .p_close = "\n\n",
    .note_open = "",
    .ul_open = "",
    .ul_close = "\n",
    .li_open = "- ",
    .li_close = "\n",
    .ol_open = "",
    .ol_close = "\n",
    .strong_open = "**",
    .strong_close = "**",
    .numbered = true,
    .hypothesis = "**Hypothesis [to confirm]:**",
    .why_open = "\n   ",
    .why_close = "\n",
    .kv_table_open = "| Field | Value |\n| --- | --- |\n",
    .kv_open = "| ",
    .kv_mid = " | ",
    .kv_close = " |\n",
    .table_open = "",
    .table_close = "\n",
    .th_row_open = "|",
    .th_open = " ",
    .th_close = " |",
    .th_row_close = "\n",
    .th_rule = " --- |",
    .row_open = "| ",
    .cell_sep = " | ",
    .row_close = " |\n",
    .tl_open = "",
    .tl_close = "\n",
    .tl_when_open = "- **",
    .tl_when_close = "** - ",
    .tl_src_open = " *source: ",
    .tl_src_close = "*\n",
};

/* "2024-06-18 14:05:00" for Mermaid's dateFormat. */
static const char *gantt_time(int64_t ms, char t[AM_TIME_STRLEN])
{
    am_time_format(ms - ms % 1000, t);
    t[10] = ' ';
    t[19] = '\0';
    return t;
}

static void md_gantt(const report_draft_t *d, am_buf_t *b)
{
    const json_t *m = report_draft_model(d);
    int64_t lo, hi;
    report_draft_span(m, &lo, &hi);
    if (lo == AM_TIME_NONE)
        return;
    char t1[AM_TIME_STRLEN], t2[AM_TIME_STRLEN];
    am_buf_puts(b, "The timeline as a Mermaid gantt chart (GitHub and GitLab draw it; as text,"
                   " each line is an alert's bar or a milestone, with its UTC times):\n\n");
    am_buf_puts(b, "```mermaid\ngantt\n    title ");
    report_mermaid(b, report_str(m, "id"));
    am_buf_puts(b, " UTC\n    dateFormat YYYY-MM-DD HH:mm:ss\n    axisFormat %H:%M\n");
    size_t i, k;
    json_t *row, *bar, *a;
    json_t *rows = report_alert_rows(m, hi, GANTT_BARS);
    const json_t *svc = NULL;
    json_array_foreach(rows, i, row)
    {
        if (!svc || !json_equal(svc, json_object_get(row, "service"))) {
            svc = json_object_get(row, "service");
            am_buf_puts(b, "    section ");
            report_mermaid(b, json_is_string(svc) ? json_string_value(svc) : "unknown service");
            am_buf_putc(b, '\n');
        }
        json_int_t count = json_integer_value(json_object_get(row, "count"));
        size_t nb = json_array_size(json_object_get(row, "bars"));
        json_array_foreach(json_object_get(row, "bars"), k, bar)
        {
            am_buf_puts(b, "    alert ");
            report_mermaid(b, report_str(row, "name"));
            if (count > 1) {
                am_buf_printf(b, " x%lld", (long long)count);
            } else if (json_array_size(json_object_get(row, "instances"))) {
                am_buf_puts(b, " on ");
                report_mermaid(
                    b, json_string_value(json_array_get(json_object_get(row, "instances"), 0)));
            }
            if (nb > 1)
                am_buf_printf(b, " %s %zu of %zu", count > 1 ? "span" : "cycle", k + 1, nb);
            if (json_is_true(json_array_get(bar, 2)))
                am_buf_puts(b, " still firing");
            am_buf_printf(b, " :crit, %s, %s\n",
                          gantt_time(json_integer_value(json_array_get(bar, 0)), t1),
                          gantt_time(json_integer_value(json_array_get(bar, 1)), t2));
        }
    }
    json_decref(rows);
    int section = 0;
    json_array_foreach(json_object_get(m, "timeline"), i, a)
    {
        const char *type = report_str(a, "type");
        int64_t at = report_json_time(json_object_get(a, "at"));
        int deploy =
            type && (strcmp(type, "rollback") == 0 || strcmp(type, "suspect_deploy") == 0 ||
                     strcmp(type, "deploy") == 0 ||
                     ((strcmp(type, "lead_in") == 0 || strcmp(type, "after_resolution") == 0) &&
                      report_str(a, "version")));
        if (at == AM_TIME_NONE || !(deploy || (type && strcmp(type, "ack") == 0)))
            continue;
        if (!section++)
            am_buf_puts(b, "    section changes and response\n");
        if (!deploy) {
            am_buf_puts(b, "    acknowledged");
        } else {
            am_buf_puts(b, strcmp(type, "rollback") == 0 ? "    rollback " : "    deploy ");
            report_mermaid(b, report_str(a, "name"));
            am_buf_putc(b, ' ');
            report_mermaid(b, report_str(a, "version"));
        }
        /* Outside the incident's span: drawn at its edge, its time said. */
        if (at < lo || at > hi) {
            char t3[AM_TIME_STRLEN];
            am_time_format(at, t3);
            am_buf_printf(b, " at %.2s.%.2s %s", t3 + 11, t3 + 14,
                          at < lo ? "before impact start" : "after resolution");
        }
        am_buf_printf(b, " :milestone, %s, 0d\n", gantt_time(at < lo ? lo : at > hi ? hi : at, t1));
    }
    am_buf_puts(b, "```\n\n");
}

void report_draft_markdown(const report_draft_t *d, am_buf_t *b)
{
    am_buf_puts(b, "# Postmortem draft: ");
    report_md(b, report_draft_id(d));
    am_buf_puts(b, "\n\n> Drafted by aftermath from the events in its database. Facts are filled"
                   " in; everything marked [to fill] or [to confirm] is left to people."
                   " This is a blameless review.\n\n");
    report_doc_summary(&md, d, b);
    report_doc_timeline(&md, d, b);
    md_gantt(d, b);
    report_doc_root_cause(&md, d, b);
    report_doc_impact(&md, d, b);
    report_doc_lessons(&md, d, b);
    report_doc_links(&md, d, b);
    am_buf_puts(
        b, "## Action Items\n\n| Task | Owner | Deadline | Type |\n| --- | --- | --- | --- |\n");
    /* The tracked ones (aftermath action), then the empty rows for new ones. */
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(report_draft_model(d), "action_items"), i, a)
    {
        char t[AM_TIME_STRLEN];
        am_buf_puts(b, "| ");
        report_md(b, report_str(a, "item"));
        am_buf_puts(b, ": ");
        report_md(b, report_str(a, "task") ? report_str(a, "task") : "[to fill]");
        if (report_str(a, "status") && strcmp(report_str(a, "status"), "done") == 0)
            am_buf_printf(b, " (done %s UTC)", report_when(json_object_get(a, "closed_at"), t));
        if (report_str(a, "url")) {
            am_buf_puts(b, " ");
            report_md(b, report_str(a, "url"));
        }
        am_buf_puts(b, " | ");
        report_md(b, report_str(a, "owner") ? report_str(a, "owner") : "");
        am_buf_puts(b, " | ");
        if (report_str(a, "due"))
            am_buf_puts(b, report_when(json_object_get(a, "due"), t));
        am_buf_puts(b, " |  |\n");
    }
    am_buf_puts(b, "|  |  |  | mitigate / prevent / process |\n"
                   "|  |  |  |  |\n");
}

void report_draft_text(const report_draft_t *d, am_buf_t *b)
{
    const json_t *m = report_draft_model(d);
    char t[AM_TIME_STRLEN];
    size_t i;
    json_t *e;
    am_buf_puts(b, "Timeline of ");
    report_term(b, report_draft_id(d));
    am_buf_puts(b, " (UTC)\n");
    json_array_foreach(json_object_get(m, "timeline"), i, e)
    {
        am_buf_printf(b, "%-19s  ", report_when(json_object_get(e, "at"), t));
        report_term(b, report_str(e, "text"));
        if (report_str(e, "actor")) {
            am_buf_puts(b, ", by ");
            report_term(b, report_str(e, "actor"));
        }
        am_buf_puts(b, "  [");
        report_term(b, report_str(e, "source"));
        am_buf_puts(b, "]\n");
    }
    const json_t *links = json_object_get(m, "links");
    if (json_array_size(links))
        am_buf_puts(b, "Links\n");
    json_array_foreach(links, i, e)
    {
        am_buf_puts(b, "  ");
        report_term(b, report_str(e, "kind"));
        if (report_str(e, "name")) {
            am_buf_putc(b, ' ');
            report_term(b, report_str(e, "name"));
        }
        if (report_str(e, "version")) {
            am_buf_putc(b, ' ');
            report_term(b, report_str(e, "version"));
        }
        am_buf_puts(b, ", ");
        report_term(b, report_str(e, "label"));
        am_buf_puts(b, ": ");
        report_term(b, report_str(e, "url"));
        am_buf_putc(b, '\n');
    }
}
