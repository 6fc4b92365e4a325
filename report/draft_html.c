/*
 * draft_html.c - the draft as one self-contained HTML file: inline CSS
 * (screen and print), an inline SVG timeline, no script and no network.
 *
 * Every value taken from events goes through report_html(); the SVG is
 * drawn from the model's times only (labels escaped the same way), so the
 * picture and the Markdown's gantt block show the same facts.
 */
#include "report/draft_impl.h"
#include "report/escape.h"
#include "report/timeline.h"

#include <string.h>

#define TO_FILL "<span class=\"prompt\">[to fill]</span>"

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

static void h_join(am_buf_t *b, const json_t *arr, const char *none)
{
    size_t i;
    json_t *x;
    if (!json_array_size(arr))
        am_buf_puts(b, none);
    json_array_foreach(arr, i, x)
    {
        if (i)
            am_buf_puts(b, ", ");
        report_html(b, json_string_value(x));
    }
}

static void row(am_buf_t *b, const char *field, const char *value_html)
{
    am_buf_printf(b, "<tr><th>%s</th><td>%s</td></tr>\n", field, value_html);
}

static void h_summary(const report_draft_t *d, am_buf_t *b)
{
    const json_t *m = report_draft_model(d), *s = json_object_get(m, "summary");
    char t[AM_TIME_STRLEN], du[REPORT_DURATION_STRLEN];
    am_buf_t v = {0};
    am_buf_puts(b, "<h2>Incident Summary</h2>\n<table>\n");
    report_html(&v, report_str(s, "id"));
    row(b, "Incident ID", v.p);
    row(b, "Date", report_str(s, "date") ? report_str(s, "date") : "unknown");
    am_buf_reset(&v);
    am_buf_puts(&v, report_str(s, "start_time") ? report_str(s, "start_time") : "unknown");
    if (report_start_note(s))
        am_buf_printf(&v, " (%s)", report_start_note(s));
    row(b, "Start time (UTC)", v.p);
    am_buf_reset(&v);
    am_buf_printf(&v, "%s %s", report_secs(json_object_get(s, "duration_s"), du),
                  json_is_null(json_object_get(s, "resolved_at")) ? "(not resolved yet)"
                                                                  : "(impact start to resolution)");
    row(b, "Duration", v.p);
    row(b, "Status", report_str(m, "status"));
    am_buf_reset(&v);
    h_join(&v, json_object_get(s, "services"), "unknown");
    row(b, "Services affected", v.p);
    am_buf_reset(&v);
    const json_t *users = json_object_get(s, "users_impacted");
    if (json_is_integer(users))
        am_buf_printf(&v, "%lld", (long long)json_integer_value(users));
    else
        am_buf_puts(&v, "unknown");
    row(b, "Users impacted", v.p);
    am_buf_reset(&v);
    if (report_draft_no_names(d))
        am_buf_puts(&v, json_is_true(json_object_get(s, "lead_withheld")) ? "withheld (no names)"
                                                                          : "to be assigned");
    else if (report_str(s, "lead"))
        report_html(&v, report_str(s, "lead"));
    else
        am_buf_puts(&v, "to be assigned");
    row(b, "Incident lead", v.p);
    row(b, "Detected (UTC)", report_when(json_object_get(s, "detected_at"), t));
    am_buf_reset(&v);
    am_buf_puts(&v, report_when(json_object_get(s, "acknowledged_at"), t));
    if (report_ack_note(s))
        am_buf_printf(&v, " (%s)", report_ack_note(s));
    row(b, "Acknowledged (UTC)", v.p);
    row(b, "Mitigated (UTC)", report_when(json_object_get(s, "mitigated_at"), t));
    row(b, "Resolved (UTC)", report_when(json_object_get(s, "resolved_at"), t));
    am_buf_reset(&v);
    report_html(&v, report_str(m, "rule"));
    am_buf_puts(&v, ", group ");
    const char *k;
    json_t *x;
    int first = 1;
    json_object_foreach(json_object_get(m, "key"), k, x)
    {
        if (!first)
            am_buf_puts(&v, ", ");
        first = 0;
        report_html(&v, k);
        am_buf_putc(&v, '=');
        report_html(&v, json_string_value(x));
    }
    row(b, "Correlation rule", v.p);
    am_buf_free(&v);
    am_buf_puts(b, "</table>\n<p>" TO_FILL " In a few sentences: what happened, who was"
                   " affected, and how it was brought back.</p>\n");
}

static void h_timeline(const report_draft_t *d, am_buf_t *b)
{
    char t[AM_TIME_STRLEN];
    size_t i;
    json_t *e;
    am_buf_puts(b, "<h2>Timeline (UTC)</h2>\n<ul class=\"timeline\">\n");
    json_array_foreach(json_object_get(report_draft_model(d), "timeline"), i, e)
    {
        am_buf_printf(b, "<li><span class=\"when\">%s</span> ",
                      report_when(json_object_get(e, "at"), t));
        report_html(b, report_str(e, "text"));
        if (report_str(e, "actor")) {
            am_buf_puts(b, ", by ");
            report_html(b, report_str(e, "actor"));
        }
        am_buf_puts(b, " <span class=\"src\">source: ");
        report_html(b, report_str(e, "source"));
        am_buf_puts(b, "</span></li>\n");
    }
    am_buf_puts(b, "</ul>\n");
}

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

static void h_root_cause(const report_draft_t *d, am_buf_t *b)
{
    const json_t *rc = json_object_get(report_draft_model(d), "root_cause");
    char t[AM_TIME_STRLEN], du[REPORT_DURATION_STRLEN];
    size_t i;
    json_t *s;
    am_buf_puts(b, "<h2>Root Cause Analysis</h2>\n<h3>Hypotheses to confirm</h3>\n");
    if (!json_array_size(json_object_get(rc, "suspects")))
        am_buf_puts(b, "<p>No deploy was linked to this incident as a suspect. " TO_FILL
                       " What changed before impact start?</p>\n");
    else
        am_buf_puts(b, "<ol>\n");
    json_array_foreach(json_object_get(rc, "suspects"), i, s)
    {
        am_buf_puts(b, "<li><span class=\"prompt\">[to confirm]</span> Hypothesis: the deploy of ");
        report_html(b, report_str(s, "name"));
        am_buf_putc(b, ' ');
        report_html(b, report_str(s, "version") ? report_str(s, "version") : "unknown version");
        am_buf_printf(b, " at %s UTC", report_when(json_object_get(s, "at"), t));
        if (report_str(s, "status")) {
            am_buf_puts(b, " (");
            report_html(b, report_str(s, "status"));
            am_buf_puts(b, ")");
        }
        am_buf_printf(b, ", %s before impact start, may have caused this incident.",
                      report_secs(json_object_get(s, "before_impact_s"), du));
        if (report_str(s, "actor")) {
            am_buf_puts(b, " Deployed by ");
            report_html(b, report_str(s, "actor"));
            am_buf_putc(b, '.');
        }
        am_buf_puts(b, "<br><span class=\"note\">Why it is listed: ");
        report_html(b, report_str(s, "why"));
        am_buf_puts(b, ".</span></li>\n");
    }
    if (json_array_size(json_object_get(rc, "suspects")))
        am_buf_puts(b, "</ol>\n");
    am_buf_puts(b, "<h3>Contributing factors</h3>\n<ul>\n"
                   "<li>Technical factors: " TO_FILL "</li>\n"
                   "<li>Human factors (blameless: what made each action reasonable at the time,"
                   " never who is to blame): " TO_FILL "</li>\n"
                   "<li>Process factors: " TO_FILL "</li>\n"
                   "<li>Why did the safeguards in place not stop it? " TO_FILL "</li>\n</ul>\n");
}

static void h_impact(const report_draft_t *d, am_buf_t *b)
{
    const json_t *m = report_draft_model(d);
    char du[REPORT_DURATION_STRLEN];
    size_t i;
    json_t *x;
    am_buf_puts(b, "<h2>Impact Analysis</h2>\n<table>\n<tr><th>Service</th><th>Alerts</th>"
                   "<th>Instances</th><th>Components</th><th>Alerting for</th></tr>\n");
    json_array_foreach(json_object_get(m, "impact"), i, x)
    {
        am_buf_puts(b, "<tr><td>");
        report_html(b, report_str(x, "service"));
        am_buf_puts(b, "</td><td>");
        h_join(b, json_object_get(x, "alerts"), "none");
        am_buf_printf(b, "</td><td>%lld: ",
                      (long long)json_integer_value(json_object_get(x, "instance_count")));
        h_join(b, json_object_get(x, "instances"), "none named");
        am_buf_puts(b, "</td><td>");
        h_join(b, json_object_get(x, "components"), "none named");
        am_buf_printf(b, "</td><td>%s</td></tr>\n",
                      json_is_true(json_object_get(x, "still_alerting"))
                          ? "still alerting"
                          : report_secs(json_object_get(x, "alerting_s"), du));
    }
    am_buf_puts(b, "</table>\n");
    const json_t *users = json_object_get(json_object_get(m, "summary"), "users_impacted");
    if (json_is_integer(users))
        am_buf_printf(b,
                      "<p>Users impacted: %lld (largest value the incident's events give).</p>\n",
                      (long long)json_integer_value(users));
    else
        am_buf_puts(b, "<p>Users impacted: unknown.</p>\n");
    am_buf_puts(b, "<p>What the alerts said:</p>\n<ul>\n");
    json_array_foreach(json_object_get(m, "alerts"), i, x)
    {
        am_buf_puts(b, "<li><strong>");
        report_html(b, report_str(x, "name"));
        am_buf_puts(b, "</strong>, service ");
        report_html(b, report_str(x, "service") ? report_str(x, "service") : "unknown");
        if (report_str(x, "severity")) {
            am_buf_puts(b, ", severity ");
            report_html(b, report_str(x, "severity"));
        }
        am_buf_puts(b, ": ");
        report_html(b, report_str(x, "summary") ? report_str(x, "summary") : "no summary");
        if (report_str(x, "description")) {
            am_buf_puts(b, ". ");
            report_html(b, report_str(x, "description"));
        }
        am_buf_puts(b, "</li>\n");
    }
    am_buf_puts(b, "</ul>\n<ul>\n<li>Business impact (revenue, SLAs, support load): " TO_FILL
                   "</li>\n<li>What users experienced, and what they were told: " TO_FILL
                   "</li>\n</ul>\n");
}

static void h_lessons(const report_draft_t *d, am_buf_t *b)
{
    static const char *const titles[] = {"Time to detect", "Time to acknowledge",
                                         "Time to mitigate", "Time to resolve"};
    const json_t *less = json_object_get(report_draft_model(d), "lessons");
    char du[REPORT_DURATION_STRLEN];
    size_t i, j;
    json_t *x, *p;
    am_buf_puts(b, "<h2>Lessons Learned</h2>\n<table>\n<tr><th>Measure</th><th>This incident</th>");
    json_array_foreach(json_object_get(json_array_get(less, 0), "services"), j, p)
    {
        am_buf_puts(b, "<th>p50 of ");
        report_html(b, report_str(p, "service"));
        am_buf_puts(b, "</th>");
    }
    am_buf_puts(b, "</tr>\n");
    json_array_foreach(less, i, x)
    {
        am_buf_printf(b, "<tr><td>%s</td><td>%s</td>", i < 4 ? titles[i] : "?",
                      report_secs(json_object_get(x, "this_s"), du));
        json_array_foreach(json_object_get(x, "services"), j, p)
        {
            json_int_t past = json_integer_value(json_object_get(p, "past_incidents"));
            json_int_t n = json_integer_value(json_object_get(p, "measured"));
            if (!past)
                am_buf_puts(b, "<td>first incident</td>");
            else if (!n)
                am_buf_printf(b, "<td>no data (%lld past)</td>", (long long)past);
            else
                am_buf_printf(b, "<td>%s (n=%lld)</td>",
                              report_secs(json_object_get(p, "p50_s"), du), (long long)n);
        }
        am_buf_puts(b, "</tr>\n");
    }
    am_buf_puts(b, "</table>\n<p class=\"note\">Time to acknowledge counts from detection; the"
                   " others from impact start. The p50 is over the service's earlier incidents"
                   " in this database.</p>\n<ul>\n"
                   "<li>What went well? " TO_FILL "</li>\n"
                   "<li>What went wrong? " TO_FILL "</li>\n"
                   "<li>Where did we get lucky? " TO_FILL "</li>\n</ul>\n");
}

void report_draft_html(const report_draft_t *d, am_buf_t *b)
{
    am_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"
                   " style-src 'unsafe-inline'\">\n<title>Postmortem draft: ");
    report_html(b, report_draft_id(d));
    am_buf_printf(b, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>Postmortem draft: ", css);
    report_html(b, report_draft_id(d));
    am_buf_puts(b, "</h1>\n<p class=\"note\">Drafted by aftermath from the events in its"
                   " database. Facts are filled in; everything marked [to fill] or [to confirm]"
                   " is left to people. This is a blameless review.</p>\n");
    h_summary(d, b);
    h_timeline(d, b);
    h_svg(d, b);
    h_root_cause(d, b);
    h_impact(d, b);
    h_lessons(d, b);
    am_buf_puts(b,
                "<h2>Action Items</h2>\n<table>\n<tr><th>Task</th><th>Owner</th>"
                "<th>Deadline</th><th>Type</th></tr>\n"
                "<tr><td>&nbsp;</td><td></td><td></td><td>mitigate / prevent / process</td></tr>\n"
                "<tr><td>&nbsp;</td><td></td><td></td><td></td></tr>\n</table>\n"
                "</body>\n</html>\n");
}
