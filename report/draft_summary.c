/*
 * draft_summary.c - the draft as a short summary for a chat channel
 * (`report --format summary`): a few lines of Slack mrkdwn saying what
 * alerted where, from when to when and for how long, the users impacted,
 * detection and acknowledgement, the suspects as hypotheses, and links.
 *
 * It reads the same model as the other renderings, so it says nothing the
 * draft does not. Text from events goes through report_slack(), so it
 * cannot form a link or a mention (<!channel>); links are written by
 * report_link_slack() only for URLs report_url_ok() accepted, and lists
 * are cut short (the draft has them all) so the message stays a summary.
 */
#include "report/draft_int.h"
#include "report/escape.h"

#include <string.h>

#define SUMMARY_MAX_ALERTS 5
#define SUMMARY_MAX_SUSPECTS 3
#define SUMMARY_MAX_LINKS 5

void report_link_slack(am_buf_t *b, const char *label, const char *url)
{
    am_buf_putc(b, '<');
    for (const char *p = url; *p; p++) {
        if (*p == '&')
            am_buf_puts(b, "&amp;");
        else if (*p == '<' || *p == '>' || *p == '|')
            am_buf_printf(b, "%%%02X", (unsigned char)*p);
        else
            am_buf_putc(b, *p);
    }
    am_buf_putc(b, '|');
    report_slack(b, label);
    am_buf_putc(b, '>');
}

/* ", and N more (see the draft)" when n items were left out. */
static void more(am_buf_t *b, size_t n)
{
    if (n)
        am_buf_printf(b, ", and %zu more (see the draft)", n);
}

static void what(const json_t *m, am_buf_t *b)
{
    size_t i;
    json_t *a;
    /* One per alert name and service (the impact table's rows), with
     * how many alerts when more than one. */
    const json_t *alerts = json_object_get(m, "impact");
    am_buf_puts(b, "*What alerted:* ");
    if (!json_array_size(alerts))
        am_buf_puts(b, "no alert recorded");
    json_array_foreach(alerts, i, a)
    {
        if (i == SUMMARY_MAX_ALERTS)
            break;
        if (i)
            am_buf_puts(b, ", ");
        report_slack(b, report_str(a, "alert"));
        json_int_t n = json_integer_value(json_object_get(a, "alerts"));
        if (n > 1)
            am_buf_printf(b, " \u00d7%lld", (long long)n);
        am_buf_puts(b, " (");
        report_slack(b, report_str(a, "service") ? report_str(a, "service") : "unknown service");
        am_buf_putc(b, ')');
    }
    if (json_array_size(alerts) > SUMMARY_MAX_ALERTS)
        more(b, json_array_size(alerts) - SUMMARY_MAX_ALERTS);
    const char *k;
    json_t *v;
    int first = 1;
    json_object_foreach(json_object_get(m, "key"), k, v)
    {
        am_buf_puts(b, first ? "; where " : ", ");
        first = 0;
        report_slack(b, k);
        am_buf_putc(b, '=');
        report_slack(b, json_string_value(v));
    }
    am_buf_putc(b, '\n');
}

/* t2 without its date when it is t1's day ("2024-06-18 14:05:00"). */
static const char *same_day(const char *t1, const char *t2)
{
    return strncmp(t1, t2, 10) == 0 && strlen(t2) > 11 ? t2 + 11 : t2;
}

static void when(const json_t *m, const json_t *s, am_buf_t *b)
{
    char t1[AM_TIME_STRLEN], t2[AM_TIME_STRLEN], du[REPORT_DURATION_STRLEN];
    am_buf_printf(b, "*When:* %s UTC", report_when(json_object_get(s, "started_at"), t1));
    if (json_is_null(json_object_get(s, "mitigated_at"))) {
        am_buf_puts(b, " to now: not mitigated yet\n");
        return;
    }
    am_buf_printf(b, " to %s UTC (mitigated), *%s*",
                  same_day(t1, report_when(json_object_get(s, "mitigated_at"), t2)),
                  report_secs(json_object_get(s, "duration_s"), du));
    const char *status = report_str(m, "status");
    if (!json_is_null(json_object_get(s, "resolved_at"))) {
        report_when(json_object_get(s, "resolved_at"), t2);
        if (status && strcmp(status, "resolved") == 0)
            am_buf_printf(b, "; resolved %s UTC", same_day(t1, t2));
        else
            am_buf_printf(b, "; resolves at %s UTC unless an alert fires again", same_day(t1, t2));
    }
    am_buf_putc(b, '\n');
}

static void response(const report_draft_t *d, const json_t *m, am_buf_t *b)
{
    const json_t *s = json_object_get(m, "summary"), *less = json_object_get(m, "lessons");
    char du[REPORT_DURATION_STRLEN];
    const json_t *users = json_object_get(s, "users_impacted");
    am_buf_puts(b, "*Users impacted:* ");
    if (json_is_integer(users))
        am_buf_printf(b, "%lld\n", (long long)json_integer_value(users));
    else
        am_buf_puts(b, "unknown\n");
    am_buf_printf(b, "*Detection:* %s after impact start; ",
                  report_secs(json_object_get(json_array_get(less, 0), "this_s"), du));
    if (json_is_null(json_object_get(s, "acknowledged_at"))) {
        am_buf_puts(b, "no acknowledgement recorded\n");
        return;
    }
    am_buf_printf(b, "acknowledged %s after detection",
                  report_secs(json_object_get(json_array_get(less, 1), "this_s"), du));
    if (report_ack_note(s))
        am_buf_printf(b, " (%s)", report_ack_note(s));
    else if (!report_draft_no_names(d) && report_str(s, "lead")) {
        am_buf_puts(b, " by ");
        report_slack(b, report_str(s, "lead"));
    }
    am_buf_putc(b, '\n');
}

static void suspects(const json_t *m, am_buf_t *b)
{
    const json_t *list = json_object_get(json_object_get(m, "root_cause"), "suspects");
    char t[AM_TIME_STRLEN], du[REPORT_DURATION_STRLEN];
    size_t i;
    json_t *s;
    if (!json_array_size(list)) {
        am_buf_puts(b, "*Suspect:* no deploy linked; what changed before impact start?\n");
        return;
    }
    json_array_foreach(list, i, s)
    {
        if (i == SUMMARY_MAX_SUSPECTS)
            break;
        am_buf_puts(b, "*Hypothesis to confirm:* the deploy of ");
        report_slack(b, report_str(s, "name"));
        am_buf_putc(b, ' ');
        report_slack(b, report_str(s, "version") ? report_str(s, "version") : "unknown version");
        am_buf_printf(b, " at %s UTC", report_when(json_object_get(s, "at"), t));
        const json_t *before = json_object_get(s, "before_impact_s");
        if (json_is_integer(before) && json_integer_value(before) == 0)
            am_buf_puts(b, " (at impact start)");
        else
            am_buf_printf(b, " (%s before impact start)", report_secs(before, du));
        am_buf_puts(b, " may have caused it\n");
    }
    if (json_array_size(list) > SUMMARY_MAX_SUSPECTS)
        am_buf_printf(b, "and %zu more suspects in the draft\n",
                      json_array_size(list) - SUMMARY_MAX_SUSPECTS);
}

static void links(const json_t *m, am_buf_t *b)
{
    const json_t *list = json_object_get(m, "links");
    size_t i;
    json_t *l;
    if (!json_array_size(list))
        return;
    am_buf_puts(b, "*Links:* ");
    json_array_foreach(list, i, l)
    {
        if (i == SUMMARY_MAX_LINKS)
            break;
        am_buf_t label = {0};
        am_buf_printf(&label, "%s %s", report_str(l, "label"),
                      report_str(l, "name") ? report_str(l, "name") : report_str(l, "kind"));
        if (report_str(l, "version"))
            am_buf_printf(&label, " %s", report_str(l, "version"));
        if (i)
            am_buf_puts(b, ", ");
        report_link_slack(b, label.p, report_str(l, "url"));
        am_buf_free(&label);
    }
    if (json_array_size(list) > SUMMARY_MAX_LINKS)
        more(b, json_array_size(list) - SUMMARY_MAX_LINKS);
    am_buf_putc(b, '\n');
}

void report_draft_summary(const report_draft_t *d, am_buf_t *b)
{
    const json_t *m = report_draft_model(d), *s = json_object_get(m, "summary");
    am_buf_puts(b, "*Incident ");
    report_slack(b, report_draft_id(d));
    am_buf_puts(b, "*: ");
    report_slack(b, report_str(m, "status"));
    am_buf_puts(b, ", services ");
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(s, "services"), i, x)
    {
        if (i)
            am_buf_puts(b, ", ");
        report_slack(b, json_string_value(x));
    }
    if (!json_array_size(json_object_get(s, "services")))
        am_buf_puts(b, "unknown");
    am_buf_putc(b, '\n');
    what(m, b);
    when(m, s, b);
    response(d, m, b);
    suspects(m, b);
    links(m, b);
}
