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
    "margin:2rem auto;padding:0 1rem;color:#1b1f23;line-height:1.45}"
    "h1{font-size:1.6rem}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2rem;"
    "margin-top:2rem}table{border-collapse:collapse;margin:.5rem 0}"
    "th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left;vertical-align:top}"
    "th{background:#f6f8fa}.prompt{background:#fff3bf;font-weight:600;padding:0 .2rem}"
    ".src{color:#57606a;font-style:italic}.when{font-family:ui-monospace,monospace;"
    "white-space:nowrap}.note{color:#57606a}svg{max-width:100%;height:auto}"
    "@media print{body{margin:0;max-width:none}h2{break-after:avoid}"
    "table,svg,li{break-inside:avoid}.prompt{background:none;border:1px solid #000}}";

/* The SVG: a row per alert (its episodes as bars), then a row of
 * milestones (deploys, rollbacks, the acknowledgement), on a time axis
 * from the earliest to the latest fact. */
enum { SVG_W = 900, LABEL_W = 220, ROW_H = 24, PAD = 10 };

static double xpos(int64_t t, int64_t lo, int64_t hi)
{
    double span = hi > lo ? (double)(hi - lo) : 1.0;
    return LABEL_W + (double)(t - lo) / span * (SVG_W - LABEL_W - PAD * 2);
}

static void h_svg(const report_draft_t *d, am_buf_t *b)
{
    const json_t *m = report_draft_model(d);
    int64_t lo, hi;
    report_draft_span(m, &lo, &hi);
    if (lo == AM_TIME_NONE)
        return;
    size_t nalerts = json_array_size(json_object_get(m, "alerts"));
    int height = (int)(nalerts + 1) * ROW_H + 50;
    char t[AM_TIME_STRLEN];
    am_buf_printf(b,
                  "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
                  "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" font-size=\"12\" "
                  "font-family=\"sans-serif\"><title>Timeline of ",
                  SVG_W, height, SVG_W, height);
    report_html(b, report_draft_id(d));
    am_buf_puts(b, "</title>\n");
    /* Axis: five ticks. */
    int axis_y = (int)(nalerts + 1) * ROW_H + 15;
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
        am_buf_printf(b,
                      "<line x1=\"%.1f\" y1=\"5\" x2=\"%.1f\" y2=\"%d\" stroke=\"#d0d7de\"/>"
                      "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                      xpos(tk, lo, hi), xpos(tk, lo, hi), axis_y, xpos(tk, lo, hi), axis_y + 15,
                      t + 11);
    }
    size_t i, k;
    json_t *a, *ep;
    json_array_foreach(json_object_get(m, "alerts"), i, a)
    {
        int y = (int)i * ROW_H + 10;
        am_buf_printf(b, "<text x=\"4\" y=\"%d\">", y + 14);
        report_html(b, report_str(a, "name"));
        am_buf_puts(b, " (");
        report_html(b, report_str(a, "service") ? report_str(a, "service") : "unknown");
        am_buf_puts(b, ")</text>\n");
        json_array_foreach(json_object_get(a, "episodes"), k, ep)
        {
            int64_t s = report_json_time(json_object_get(ep, "starts_at"));
            int64_t e = report_json_time(json_object_get(ep, "ends_at"));
            double x1 = xpos(s, lo, hi), x2 = xpos(e == AM_TIME_NONE ? hi : e, lo, hi);
            am_buf_printf(b,
                          "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
                          "fill=\"%s\" rx=\"2\"/>\n",
                          x1, y + 3, x2 - x1 < 2 ? 2 : x2 - x1, ROW_H - 8,
                          e == AM_TIME_NONE ? "#fd8c73" : "#cf222e");
        }
    }
    int my = (int)nalerts * ROW_H + 10;
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
                 strcmp(type, "rollback") == 0)
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
    }
    am_buf_puts(b, "</svg><figcaption>Red bars: alerts firing (light red: still firing);"
                   " blue diamonds: deploys and rollbacks; green diamond: acknowledgement;"
                   " dashed lines: impact start, detection, mitigation, resolution.</figcaption>"
                   "</figure>\n");
}

void report_draft_html(const report_draft_t *d, am_buf_t *b)
{
    am_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
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
