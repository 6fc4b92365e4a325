/*
 * draft_html.c - the draft as one self-contained HTML file: inline CSS
 * (screen and print), an inline SVG timeline, no script and no network.
 *
 * Every value taken from events goes through report_html(); the SVG is
 * drawn from the model's times only (labels escaped the same way), so the
 * picture and the Markdown's gantt block show the same facts.
 */
#include "report/draft_int.h"
#include "report/escape.h"
#include "report/timeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TO_FILL "<span class=\"prompt\">[to fill]</span>"

static const report_doc_style_t html = {
    .escape = report_html,
    .link = report_link_html,
    .prompt = TO_FILL,
    .h2_open = "<h2>",
    .h2_close = "</h2>\n",
    .h3_open = "<h3>",
    .h3_close = "</h3>\n",
    .p_open = "<p>",
    .p_close = "</p>\n",
    .note_open = "<p class=\"note\">",
    .ul_open = "<ul>\n",
    .ul_close = "</ul>\n",
    .li_open = "<li>",
    .li_close = "</li>\n",
    .ol_open = "<ol>\n",
    .ol_close = "</ol>\n",
    .strong_open = "<strong>",
    .strong_close = "</strong>",
    .numbered = false,
    .hypothesis = "<li><span class=\"prompt\">[to confirm]</span> Hypothesis:",
    .why_open = "<br><span class=\"note\">",
    .why_close = "</span></li>\n",
    .kv_table_open = "<table>\n",
    .kv_open = "<tr><th>",
    .kv_mid = "</th><td>",
    .kv_close = "</td></tr>\n",
    .table_open = "<table>\n",
    .table_close = "</table>\n",
    .th_row_open = "<tr>",
    .th_open = "<th>",
    .th_close = "</th>",
    .th_row_close = "</tr>\n",
    .th_rule = NULL,
    .row_open = "<tr><td>",
    .cell_sep = "</td><td>",
    .row_close = "</td></tr>\n",
    .tl_open = "<ul class=\"timeline\">\n",
    .tl_close = "</ul>\n",
    .tl_when_open = "<li><span class=\"when\">",
    .tl_when_close = "</span> ",
    .tl_src_open = " <span class=\"src\">source: ",
    .tl_src_close = "</span></li>\n",
};

static const char css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:60rem;"
    "margin:2rem auto;padding:0 1rem;color:#1b1f23;line-height:1.45;overflow-wrap:anywhere}"
    "h1{font-size:1.6rem}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2rem;"
    "margin-top:2rem}table{border-collapse:collapse;margin:.5rem 0;display:block;max-width:100%;"
    "overflow-x:auto}"
    "th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left;vertical-align:top}"
    "th{background:#f6f8fa}.prompt{background:#fff3bf;font-weight:600;padding:0 .2rem}"
    ".src{color:#57606a;font-style:italic}.when{font-family:ui-monospace,monospace;"
    "white-space:nowrap}.note{color:#57606a}svg{max-width:100%;height:auto}"
    "@media print{body{margin:0;max-width:none}h2{break-after:avoid}"
    "table,svg,li{break-inside:avoid}.prompt{background:none;border:1px solid #000}}";

/* The SVG: a row per service and alert name (a group's episodes merged,
 * at most SVG_ROWS rows), then a row of milestones (deploys, rollbacks,
 * the acknowledgement), on a time axis over the incident's own span;
 * what lies outside it (a suspect, the lead-in, a deploy after
 * resolution) is drawn at the edge with its time written. A legend
 * closes it. */
enum { SVG_W = 900, LABEL_W = 230, ROW_H = 24, PAD = 10, SVG_ROWS = 40, SVG_BARS = 60 };
/* Bytes of a row's label that fit before the bars at 12 px. */
enum { LABEL_CHARS = 29 };

static double xpos(int64_t t, int64_t lo, int64_t hi)
{
    double span = hi > lo ? (double)(hi - lo) : 1.0;
    if (t < lo)
        t = lo;
    if (t > hi)
        t = hi;
    return LABEL_W + (double)(t - lo) / span * (SVG_W - LABEL_W - PAD * 2);
}

/* s escaped, cut to at most max bytes on a character boundary, "…" when
 * cut. */
static void html_cut(am_buf_t *b, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max) {
        report_html(b, s);
        return;
    }
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    char *t = am_xstrndup(s, max);
    report_html(b, t);
    free(t);
    am_buf_puts(b, "\u2026");
}

static void h_svg(const report_draft_t *d, am_buf_t *b)
{
    const json_t *m = report_draft_model(d);
    int64_t lo, hi;
    report_draft_span(m, &lo, &hi);
    if (lo == AM_TIME_NONE)
        return;
    json_t *rows = report_alert_rows(m, hi, SVG_BARS);
    size_t nrows = json_array_size(rows), shown = nrows > SVG_ROWS ? SVG_ROWS - 1 : nrows;
    size_t lines = shown + (shown < nrows) + 1; /* + "more", + milestones */
    int axis_y = (int)lines * ROW_H + 15, height = axis_y + 60;
    char t[AM_TIME_STRLEN];
    am_buf_printf(b,
                  "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
                  "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" font-size=\"12\" "
                  "font-family=\"sans-serif\"><title>Timeline of ",
                  SVG_W, height, SVG_W, height);
    report_html(b, report_draft_id(d));
    am_buf_puts(b, "</title>\n");
    /* Axis: five ticks. */
    am_buf_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#57606a\"/>\n",
                  LABEL_W, axis_y, SVG_W - PAD * 2, axis_y);
    for (int k = 0; k <= 4; k++) {
        /* Each tick on a whole minute, placed where that minute is. */
        int64_t tk = lo + (hi - lo) * k / 4;
        tk -= ((tk % 60000) + 60000) % 60000;
        if (tk < lo)
            tk += 60000;
        if (tk > hi)
            continue;
        am_time_format(tk, t);
        t[16] = '\0';
        double x = xpos(tk, lo, hi);
        am_buf_printf(b,
                      "<line x1=\"%.1f\" y1=\"5\" x2=\"%.1f\" y2=\"%d\" stroke=\"#d0d7de\"/>"
                      "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">%s</text>\n",
                      x, x, axis_y, x, axis_y + 15, x > SVG_W - PAD * 2 - 20 ? "end" : "middle",
                      t + 11);
    }
    size_t i, k;
    json_t *a, *bar;
    json_array_foreach(rows, i, a)
    {
        if (i == shown)
            break;
        int y = (int)i * ROW_H + 10;
        json_int_t count = json_integer_value(json_object_get(a, "count"));
        am_buf_t label = {0};
        am_buf_puts(&label, report_str(a, "name"));
        if (count > 1)
            am_buf_printf(&label, " \u00d7%lld", (long long)count);
        am_buf_printf(&label, " (%s)",
                      report_str(a, "service") ? report_str(a, "service") : "unknown");
        am_buf_printf(b, "<text x=\"4\" y=\"%d\"><title>", y + 14);
        report_html(b, label.p);
        if (count == 1 && json_array_size(json_object_get(a, "instances"))) {
            am_buf_puts(b, " on ");
            report_html(b, json_string_value(json_array_get(json_object_get(a, "instances"), 0)));
        }
        am_buf_puts(b, "</title>");
        /* Visible: the name, cut to leave room for the count, then the
         * service when it still fits (the title has it all). */
        char cnt[32] = "";
        if (count > 1)
            snprintf(cnt, sizeof cnt, " \u00d7%lld", (long long)count);
        const char *name = report_str(a, "name"), *svc = report_str(a, "service");
        size_t room = LABEL_CHARS - strlen(cnt) + 1; /* the sign is 2 bytes, 1 wide */
        html_cut(b, name, room);
        am_buf_puts(b, cnt);
        if (svc && strlen(name) + strlen(cnt) + strlen(svc) + 3 <= LABEL_CHARS + 1) {
            am_buf_puts(b, " (");
            report_html(b, svc);
            am_buf_putc(b, ')');
        }
        am_buf_puts(b, "</text>\n");
        am_buf_free(&label);
        json_array_foreach(json_object_get(a, "bars"), k, bar)
        {
            int64_t s = json_integer_value(json_array_get(bar, 0));
            int64_t e = json_integer_value(json_array_get(bar, 1));
            bool open = json_is_true(json_array_get(bar, 2));
            double x1 = xpos(s, lo, hi), x2 = xpos(e, lo, hi);
            am_buf_printf(b,
                          "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
                          "fill=\"%s\" rx=\"2\"/>\n",
                          x1, y + 3, x2 - x1 < 2 ? 2 : x2 - x1, ROW_H - 8,
                          open ? "#fd8c73" : "#cf222e");
        }
    }
    if (shown < nrows)
        am_buf_printf(b,
                      "<text x=\"4\" y=\"%d\">%zu more alert rows: see the impact table</text>\n",
                      (int)shown * ROW_H + 24, nrows - shown);
    json_decref(rows);
    int my = (int)(lines - 1) * ROW_H + 10;
    am_buf_printf(b, "<text x=\"4\" y=\"%d\">changes and response</text>\n", my + 14);
    json_array_foreach(json_object_get(m, "timeline"), i, a)
    {
        const char *type = report_str(a, "type");
        int64_t at = report_json_time(json_object_get(a, "at"));
        const char *fill = NULL;
        if (at == AM_TIME_NONE || !type)
            continue;
        if (strcmp(type, "ack") == 0)
            fill = "#1a7f37";
        else if (strcmp(type, "suspect_deploy") == 0 || strcmp(type, "deploy") == 0 ||
                 strcmp(type, "rollback") == 0 ||
                 ((strcmp(type, "lead_in") == 0 || strcmp(type, "after_resolution") == 0) &&
                  report_str(a, "version")))
            fill = "#0969da";
        else if (strcmp(type, "impact_start") == 0 || strcmp(type, "detection") == 0 ||
                 strcmp(type, "mitigation") == 0 || strcmp(type, "resolution") == 0) {
            double x = xpos(at, lo, hi);
            am_buf_printf(b,
                          "<line x1=\"%.1f\" y1=\"5\" x2=\"%.1f\" y2=\"%d\" stroke=\"#8250df\" "
                          "stroke-dasharray=\"3,3\"><title>%s</title></line>\n",
                          x, x, axis_y, report_type_label(type));
            continue;
        } else
            continue;
        double x = xpos(at, lo, hi), cy = my + ROW_H / 2.0;
        am_buf_printf(b, "<path d=\"M%.1f %.1f l6 6 l-6 6 l-6 -6 z\" fill=\"%s\"><title>", x,
                      cy - 6, fill);
        report_html(b, report_str(a, "text"));
        am_buf_puts(b, "</title></path>\n");
        if (at < lo || at > hi) { /* at the edge: its time, written */
            am_time_format(at, t);
            am_buf_printf(
                b,
                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"%s\">%.5s %s</text>\n",
                at < lo ? x + 8 : x - 8, cy + 4, at < lo ? "start" : "end", t + 11,
                at < lo ? "(before)" : "(after)");
        }
    }
    /* Legend: every mark named, no hovering needed. */
    int ly = axis_y + 35;
    am_buf_printf(b,
                  "<g font-size=\"11\"><rect x=\"4\" y=\"%d\" width=\"14\" height=\"10\" "
                  "fill=\"#cf222e\"/><text x=\"22\" y=\"%d\">alert firing</text>"
                  "<rect x=\"110\" y=\"%d\" width=\"14\" height=\"10\" fill=\"#fd8c73\"/>"
                  "<text x=\"128\" y=\"%d\">still firing</text>"
                  "<path d=\"M222 %d l6 6 l-6 6 l-6 -6 z\" fill=\"#0969da\"/>"
                  "<text x=\"232\" y=\"%d\">deploy, rollback</text>"
                  "<path d=\"M352 %d l6 6 l-6 6 l-6 -6 z\" fill=\"#1a7f37\"/>"
                  "<text x=\"362\" y=\"%d\">acknowledged</text>"
                  "<line x1=\"462\" y1=\"%d\" x2=\"462\" y2=\"%d\" stroke=\"#8250df\" "
                  "stroke-dasharray=\"3,3\"/><text x=\"470\" y=\"%d\">impact start, detection, "
                  "mitigation, resolution</text></g>\n",
                  ly, ly + 9, ly, ly + 9, ly - 1, ly + 9, ly - 1, ly + 9, ly - 2, ly + 12, ly + 9);
    am_buf_puts(b, "</svg><figcaption>Alerts by service and name (\u00d7N: N alerts of that name, "
                   "their times merged); marks outside the incident's span (a suspect, the "
                   "lead-in, a deploy after resolution) sit at its edge with their time."
                   "</figcaption></figure>\n");
}

void report_draft_html(const report_draft_t *d, am_buf_t *b)
{
    am_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<meta http-equiv=\"Content-Security-Policy\" content=\"" REPORT_HTML_CSP
                   "\">\n<title>Postmortem draft: ");
    report_html(b, report_draft_id(d));
    am_buf_printf(b, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>Postmortem draft: ", css);
    report_html(b, report_draft_id(d));
    am_buf_puts(b, "</h1>\n<p class=\"note\">Drafted by aftermath from the events in its"
                   " database. Facts are filled in; everything marked [to fill] or [to confirm]"
                   " is left to people. This is a blameless review.</p>\n");
    report_doc_summary(&html, d, b);
    report_doc_timeline(&html, d, b);
    h_svg(d, b);
    report_doc_root_cause(&html, d, b);
    report_doc_impact(&html, d, b);
    report_doc_lessons(&html, d, b);
    report_doc_links(&html, d, b);
    am_buf_puts(b, "<h2>Action Items</h2>\n<table>\n<tr><th>Task</th><th>Owner</th>"
                   "<th>Deadline</th><th>Type</th></tr>\n");
    /* The tracked ones (aftermath action), then the empty rows for new ones. */
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(report_draft_model(d), "action_items"), i, a)
    {
        char t[AM_TIME_STRLEN];
        am_buf_puts(b, "<tr><td>");
        report_html(b, report_str(a, "item"));
        am_buf_puts(b, ": ");
        report_html(b, report_str(a, "task") ? report_str(a, "task") : "[to fill]");
        if (report_str(a, "status") && strcmp(report_str(a, "status"), "done") == 0)
            am_buf_printf(b, " (done %s UTC)", report_when(json_object_get(a, "closed_at"), t));
        if (report_str(a, "url")) {
            am_buf_puts(b, " ");
            report_html(b, report_str(a, "url"));
        }
        am_buf_puts(b, "</td><td>");
        report_html(b, report_str(a, "owner") ? report_str(a, "owner") : "");
        am_buf_puts(b, "</td><td>");
        if (report_str(a, "due"))
            am_buf_puts(b, report_when(json_object_get(a, "due"), t));
        am_buf_puts(b, "</td><td></td></tr>\n");
    }
    am_buf_puts(b,
                "<tr><td>&nbsp;</td><td></td><td></td><td>mitigate / prevent / process</td></tr>\n"
                "<tr><td>&nbsp;</td><td></td><td></td><td></td></tr>\n</table>\n"
                "</body>\n</html>\n");
}
