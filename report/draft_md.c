/*
 * draft_md.c - the draft as Markdown (GitHub/GitLab flavoured), with a
 * Mermaid gantt block, and as plain text for the terminal.
 *
 * Every value taken from events goes through report_md() (or
 * report_mermaid() inside the gantt block); the words of the template do
 * not. Judgement is left as prompts marked "[to fill]" or "[to confirm]".
 */
#include "report/draft_impl.h"
#include "report/escape.h"
#include "report/timeline.h"

#include <string.h>

#define TO_FILL "**\\[to fill\\]**"

static void md_join(am_buf_t *b, const json_t *arr, const char *none)
{
    size_t i;
    json_t *x;
    if (!json_array_size(arr))
        am_buf_puts(b, none);
    json_array_foreach(arr, i, x)
    {
        if (i)
            am_buf_puts(b, ", ");
        report_md(b, json_string_value(x));
    }
}

static void md_key(am_buf_t *b, const json_t *key)
{
    const char *k;
    json_t *v;
    int first = 1;
    json_object_foreach((json_t *)key, k, v)
    {
        if (!first)
            am_buf_puts(b, ", ");
        first = 0;
        report_md(b, k);
        am_buf_putc(b, '=');
        report_md(b, json_string_value(v));
    }
}

static void md_summary(const report_draft_t *d, am_buf_t *b)
{
    const json_t *m = report_draft_model(d), *s = json_object_get(m, "summary");
    char t[AM_TIME_STRLEN], du[REPORT_DURATION_STRLEN];
    am_buf_puts(b, "## Incident Summary\n\n| Field | Value |\n| --- | --- |\n| Incident ID | ");
    report_md(b, report_str(s, "id"));
    am_buf_puts(b, " |\n| Date | ");
    am_buf_puts(b, report_str(s, "date") ? report_str(s, "date") : "unknown");
    am_buf_puts(b, " |\n| Start time (UTC) | ");
    am_buf_puts(b, report_str(s, "start_time") ? report_str(s, "start_time") : "unknown");
    if (report_start_note(s))
        am_buf_printf(b, " (%s)", report_start_note(s));
    am_buf_printf(b, " |\n| Duration | %s", report_secs(json_object_get(s, "duration_s"), du));
    if (json_is_null(json_object_get(s, "resolved_at")))
        am_buf_puts(b, " (not resolved yet)");
    else
        am_buf_puts(b, " (impact start to resolution)");
    am_buf_printf(b, " |\n| Status | %s |\n| Services affected | ", report_str(m, "status"));
    md_join(b, json_object_get(s, "services"), "unknown");
    const json_t *users = json_object_get(s, "users_impacted");
    if (json_is_integer(users))
        am_buf_printf(b, " |\n| Users impacted | %lld", (long long)json_integer_value(users));
    else
        am_buf_puts(b, " |\n| Users impacted | unknown");
    am_buf_puts(b, " |\n| Incident lead | ");
    if (report_draft_no_names(d))
        am_buf_puts(b, json_is_true(json_object_get(s, "lead_withheld")) ? "withheld (no names)"
                                                                         : "to be assigned");
    else if (report_str(s, "lead"))
        report_md(b, report_str(s, "lead"));
    else
        am_buf_puts(b, "to be assigned");
    am_buf_puts(b, " |\n| Detected (UTC) | ");
    am_buf_puts(b, report_when(json_object_get(s, "detected_at"), t));
    am_buf_puts(b, " |\n| Acknowledged (UTC) | ");
    am_buf_puts(b, report_when(json_object_get(s, "acknowledged_at"), t));
    if (report_ack_note(s))
        am_buf_printf(b, " (%s)", report_ack_note(s));
    am_buf_puts(b, " |\n| Mitigated (UTC) | ");
    am_buf_puts(b, report_when(json_object_get(s, "mitigated_at"), t));
    am_buf_puts(b, " |\n| Resolved (UTC) | ");
    am_buf_puts(b, report_when(json_object_get(s, "resolved_at"), t));
    am_buf_puts(b, " |\n| Correlation rule | ");
    report_md(b, report_str(m, "rule"));
    am_buf_puts(b, ", group ");
    md_key(b, json_object_get(m, "key"));
    am_buf_puts(b, " |\n\n" TO_FILL " In a few sentences: what happened, who was affected, and how"
                   " it was brought back.\n\n");
}

static void md_timeline(const report_draft_t *d, am_buf_t *b)
{
    const json_t *m = report_draft_model(d);
    char t[AM_TIME_STRLEN];
    size_t i;
    json_t *e;
    am_buf_puts(b, "## Timeline (UTC)\n\n");
    json_array_foreach(json_object_get(m, "timeline"), i, e)
    {
        am_buf_printf(b, "- **%s** - ", report_when(json_object_get(e, "at"), t));
        report_md(b, report_str(e, "text"));
        if (report_str(e, "actor")) {
            am_buf_puts(b, ", by ");
            report_md(b, report_str(e, "actor"));
        }
        am_buf_puts(b, " *source: ");
        report_md(b, report_str(e, "source"));
        am_buf_puts(b, "*\n");
    }
    am_buf_puts(b, "\n");
}

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
    am_buf_puts(b, "```mermaid\ngantt\n    title ");
    report_mermaid(b, report_str(m, "id"));
    am_buf_puts(b, " UTC\n    dateFormat YYYY-MM-DD HH:mm:ss\n    axisFormat %H:%M\n");
    size_t i, j, k;
    json_t *svc, *a, *ep;
    json_array_foreach(json_object_get(json_object_get(m, "summary"), "services"), i, svc)
    {
        am_buf_puts(b, "    section ");
        report_mermaid(b, json_string_value(svc));
        am_buf_putc(b, '\n');
        json_array_foreach(json_object_get(m, "alerts"), j, a)
        {
            if (!json_equal(json_object_get(a, "service"), svc))
                continue;
            size_t ne = json_array_size(json_object_get(a, "episodes"));
            json_array_foreach(json_object_get(a, "episodes"), k, ep)
            {
                int64_t s = report_json_time(json_object_get(ep, "starts_at"));
                int64_t e = report_json_time(json_object_get(ep, "ends_at"));
                am_buf_puts(b, "    alert ");
                report_mermaid(b, report_str(a, "name"));
                if (ne > 1)
                    am_buf_printf(b, " cycle %zu of %zu", k + 1, ne);
                if (e == AM_TIME_NONE)
                    am_buf_puts(b, " still firing");
                am_buf_printf(b, " :crit, %s, %s\n", gantt_time(s, t1),
                              gantt_time(e == AM_TIME_NONE ? hi : e, t2));
            }
        }
    }
    int section = 0;
    json_array_foreach(json_object_get(m, "timeline"), i, a)
    {
        const char *type = report_str(a, "type");
        int64_t at = report_json_time(json_object_get(a, "at"));
        int milestone =
            type && (strcmp(type, "ack") == 0 || strcmp(type, "rollback") == 0 ||
                     strcmp(type, "suspect_deploy") == 0 || strcmp(type, "deploy") == 0);
        if (at == AM_TIME_NONE || !milestone)
            continue;
        if (!section++)
            am_buf_puts(b, "    section changes and response\n");
        if (strcmp(type, "ack") == 0) {
            am_buf_puts(b, "    acknowledged");
        } else if (strcmp(type, "suspect_deploy") == 0 || strcmp(type, "deploy") == 0 ||
                   strcmp(type, "rollback") == 0) {
            am_buf_puts(b, strcmp(type, "rollback") == 0 ? "    rollback " : "    deploy ");
            report_mermaid(b, report_str(a, "name"));
            am_buf_putc(b, ' ');
            report_mermaid(b, report_str(a, "version"));
        } else {
            continue;
        }
        am_buf_printf(b, " :milestone, %s, 0d\n", gantt_time(at, t1));
    }
    am_buf_puts(b, "```\n\n");
}

static void md_root_cause(const report_draft_t *d, am_buf_t *b)
{
    const json_t *rc = json_object_get(report_draft_model(d), "root_cause");
    char t[AM_TIME_STRLEN], du[REPORT_DURATION_STRLEN];
    size_t i;
    json_t *s;
    am_buf_puts(b, "## Root Cause Analysis\n\n### Hypotheses to confirm\n\n");
    if (!json_array_size(json_object_get(rc, "suspects")))
        am_buf_puts(b, "No deploy was linked to this incident as a suspect. " TO_FILL
                       " What changed before impact start?\n");
    json_array_foreach(json_object_get(rc, "suspects"), i, s)
    {
        am_buf_printf(b, "%zu. **Hypothesis \\[to confirm\\]:** the deploy of ", i + 1);
        report_md(b, report_str(s, "name"));
        am_buf_putc(b, ' ');
        report_md(b, report_str(s, "version") ? report_str(s, "version") : "unknown version");
        am_buf_printf(b, " at %s UTC", report_when(json_object_get(s, "at"), t));
        if (report_str(s, "status")) {
            am_buf_puts(b, " (");
            report_md(b, report_str(s, "status"));
            am_buf_puts(b, ")");
        }
        am_buf_printf(b, ", %s before impact start, may have caused this incident.",
                      report_secs(json_object_get(s, "before_impact_s"), du));
        if (report_str(s, "actor")) {
            am_buf_puts(b, " Deployed by ");
            report_md(b, report_str(s, "actor"));
            am_buf_putc(b, '.');
        }
        am_buf_puts(b, "\n   Why it is listed: ");
        report_md(b, report_str(s, "why"));
        am_buf_puts(b, ".\n");
    }
    am_buf_puts(b, "\n### Contributing factors\n\n"
                   "- Technical factors: " TO_FILL "\n"
                   "- Human factors (blameless: what made each action reasonable at the time,"
                   " never who is to blame): " TO_FILL "\n"
                   "- Process factors: " TO_FILL "\n"
                   "- Why did the safeguards in place not stop it? " TO_FILL "\n\n");
}

static void md_impact(const report_draft_t *d, am_buf_t *b)
{
    const json_t *m = report_draft_model(d);
    char du[REPORT_DURATION_STRLEN];
    size_t i;
    json_t *x;
    am_buf_puts(b, "## Impact Analysis\n\n| Service | Alerts | Instances | Components |"
                   " Alerting for |\n| --- | --- | --- | --- | --- |\n");
    json_array_foreach(json_object_get(m, "impact"), i, x)
    {
        am_buf_puts(b, "| ");
        report_md(b, report_str(x, "service"));
        am_buf_puts(b, " | ");
        md_join(b, json_object_get(x, "alerts"), "none");
        am_buf_printf(
            b, " | %lld: ", (long long)json_integer_value(json_object_get(x, "instance_count")));
        md_join(b, json_object_get(x, "instances"), "none named");
        am_buf_puts(b, " | ");
        md_join(b, json_object_get(x, "components"), "none named");
        am_buf_printf(b, " | %s |\n",
                      json_is_true(json_object_get(x, "still_alerting"))
                          ? "still alerting"
                          : report_secs(json_object_get(x, "alerting_s"), du));
    }
    const json_t *users = json_object_get(json_object_get(m, "summary"), "users_impacted");
    if (json_is_integer(users))
        am_buf_printf(b, "\nUsers impacted: %lld (largest value the incident's events give).\n",
                      (long long)json_integer_value(users));
    else
        am_buf_puts(b, "\nUsers impacted: unknown.\n");
    am_buf_puts(b, "\nWhat the alerts said:\n\n");
    json_array_foreach(json_object_get(m, "alerts"), i, x)
    {
        am_buf_puts(b, "- **");
        report_md(b, report_str(x, "name"));
        am_buf_puts(b, "**, service ");
        report_md(b, report_str(x, "service") ? report_str(x, "service") : "unknown");
        if (report_str(x, "severity")) {
            am_buf_puts(b, ", severity ");
            report_md(b, report_str(x, "severity"));
        }
        am_buf_puts(b, ": ");
        report_md(b, report_str(x, "summary") ? report_str(x, "summary") : "no summary");
        if (report_str(x, "description")) {
            am_buf_puts(b, ". ");
            report_md(b, report_str(x, "description"));
        }
        am_buf_putc(b, '\n');
    }
    am_buf_puts(b, "\n- Business impact (revenue, SLAs, support load): " TO_FILL "\n"
                   "- What users experienced, and what they were told: " TO_FILL "\n\n");
}

static void md_lessons(const report_draft_t *d, am_buf_t *b)
{
    static const char *const titles[] = {"Time to detect", "Time to acknowledge",
                                         "Time to mitigate", "Time to resolve"};
    const json_t *less = json_object_get(report_draft_model(d), "lessons");
    char du[REPORT_DURATION_STRLEN];
    size_t i, j;
    json_t *x, *p;
    am_buf_puts(b, "## Lessons Learned\n\n| Measure | This incident |");
    json_array_foreach(json_object_get(json_array_get(less, 0), "services"), j, p)
    {
        am_buf_puts(b, " p50 of ");
        report_md(b, report_str(p, "service"));
        am_buf_puts(b, " |");
    }
    am_buf_puts(b, "\n| --- | --- |");
    for (j = 0; j < json_array_size(json_object_get(json_array_get(less, 0), "services")); j++)
        am_buf_puts(b, " --- |");
    am_buf_putc(b, '\n');
    json_array_foreach(less, i, x)
    {
        am_buf_printf(b, "| %s | %s |", i < 4 ? titles[i] : "?",
                      report_secs(json_object_get(x, "this_s"), du));
        json_array_foreach(json_object_get(x, "services"), j, p)
        {
            json_int_t past = json_integer_value(json_object_get(p, "past_incidents"));
            json_int_t n = json_integer_value(json_object_get(p, "measured"));
            if (!past)
                am_buf_puts(b, " first incident |");
            else if (!n)
                am_buf_printf(b, " no data (%lld past) |", (long long)past);
            else
                am_buf_printf(b, " %s (n=%lld) |", report_secs(json_object_get(p, "p50_s"), du),
                              (long long)n);
        }
        am_buf_putc(b, '\n');
    }
    am_buf_puts(b, "\nTime to acknowledge counts from detection; the others from impact start."
                   " The p50 is over the service's earlier incidents in this database.\n\n"
                   "- What went well? " TO_FILL "\n"
                   "- What went wrong? " TO_FILL "\n"
                   "- Where did we get lucky? " TO_FILL "\n\n");
}

void report_draft_markdown(const report_draft_t *d, am_buf_t *b)
{
    am_buf_puts(b, "# Postmortem draft: ");
    report_md(b, report_draft_id(d));
    am_buf_puts(b, "\n\n> Drafted by aftermath from the events in its database. Facts are filled"
                   " in; everything marked \\[to fill\\] or \\[to confirm\\] is left to people."
                   " This is a blameless review.\n\n");
    md_summary(d, b);
    md_timeline(d, b);
    md_gantt(d, b);
    md_root_cause(d, b);
    md_impact(d, b);
    md_lessons(d, b);
    am_buf_puts(b,
                "## Action Items\n\n| Task | Owner | Deadline | Type |\n| --- | --- | --- | --- |\n"
                "|  |  |  | mitigate / prevent / process |\n"
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
}
