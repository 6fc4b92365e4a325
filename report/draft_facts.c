/*
 * draft_facts.c - the draft's summary pre-filled with what the record
 * shows: what alerted where, from when to when and for how long, the users
 * impacted, how it was detected and who acknowledged it, and the first
 * suspect worded as a hypothesis. The why and the judgement stay with
 * people (the prompt that follows it). Plain text: each renderer escapes
 * it like every other value.
 */
#include "report/draft_int.h"
#include "common/buf.h"
#include "common/time.h"

#include <string.h>

/* "HH:MM UTC", or the date too when day differs from the start's. */
static void clock_of(am_buf_t *b, int64_t t, int64_t start)
{
    char s[AM_TIME_STRLEN], d[AM_TIME_STRLEN];
    am_time_format(t, s);
    am_time_format(start, d);
    if (start != AM_TIME_NONE && memcmp(s, d, 10) == 0)
        am_buf_printf(b, "%.5s UTC", s + 11);
    else
        am_buf_printf(b, "%.10s %.5s UTC", s, s + 11);
}

/* "A (svc), B (svc) and 3 more alerts": the impact rows, most alerts
 * first as the impact table orders them, at most three named. */
static void what_alerted(am_buf_t *b, const json_t *impact)
{
    size_t n = json_array_size(impact), shown = n < 3 ? n : 3;
    for (size_t i = 0; i < shown; i++) {
        const json_t *row = json_array_get(impact, i);
        const char *alert = report_str(row, "alert"), *svc = report_str(row, "service");
        long long count = (long long)json_integer_value(json_object_get(row, "alerts"));
        am_buf_printf(b, "%s%s",
                      i == 0                         ? ""
                      : i + 1 == shown && n == shown ? " and "
                                                     : ", ",
                      alert ? alert : "an alert");
        if (count > 1)
            am_buf_printf(b, " x%lld", count);
        if (svc)
            am_buf_printf(b, " (%s)", svc);
    }
    if (n > shown) {
        long long rest = 0;
        for (size_t i = shown; i < n; i++)
            rest +=
                (long long)json_integer_value(json_object_get(json_array_get(impact, i), "alerts"));
        am_buf_printf(b, " and %lld more alert%s", rest, rest == 1 ? "" : "s");
    }
}

/* Who made the acknowledgement at acked: the actor of the timeline's
 * first ack line at that time, or NULL. */
static const char *first_acker(const json_t *model, int64_t acked)
{
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(model, "timeline"), i, e)
    {
        const char *type = report_str(e, "type");
        if (type && strcmp(type, "ack") == 0 && report_json_time(json_object_get(e, "at")) == acked)
            return report_str(e, "actor");
    }
    return NULL;
}

char *report_facts(const json_t *model, bool no_names)
{
    const json_t *s = json_object_get(model, "summary");
    const json_t *impact = json_object_get(model, "impact");
    int64_t started = report_json_time(json_object_get(s, "started_at"));
    int64_t detected = report_json_time(json_object_get(s, "detected_at"));
    int64_t acked = report_json_time(json_object_get(s, "acknowledged_at"));
    int64_t mitigated = report_json_time(json_object_get(s, "mitigated_at"));
    char d[AM_TIME_STRLEN];
    am_buf_t b = {0};
    if (started == AM_TIME_NONE)
        return NULL;
    if (json_array_size(impact))
        what_alerted(&b, impact);
    else
        am_buf_puts(&b, "Alerts");
    const json_t *key = json_object_get(model, "key");
    const char *k;
    const json_t *v;
    int first = 1;
    json_object_foreach((json_t *)key, k, v)
    {
        const char *val = json_string_value(v);
        if (!val || !*val)
            continue;
        am_buf_printf(&b, "%s%s %s", first ? " in " : ", ", k, val);
        first = 0;
    }
    am_buf_puts(&b, " alerted from ");
    clock_of(&b, started, started);
    if (mitigated != AM_TIME_NONE) {
        am_buf_puts(&b, " until ");
        clock_of(&b, mitigated, started);
        am_buf_printf(&b, " (%s)", am_duration_human(mitigated - started, d));
    } else {
        am_buf_puts(&b, " and are still alerting");
    }
    const json_t *users = json_object_get(s, "users_impacted");
    if (json_is_integer(users))
        am_buf_printf(&b, ", with %lld users impacted", (long long)json_integer_value(users));
    am_buf_puts(&b, ". ");
    const char *from = report_str(s, "started_from");
    if (from && strcmp(from, "pending") == 0)
        am_buf_puts(&b, "(The start includes the alert rules' pending period.) ");
    if (detected != AM_TIME_NONE) {
        am_buf_puts(&b, "The first notification reached aftermath at ");
        clock_of(&b, detected, started);
        am_buf_printf(&b, ", %s after impact start", am_duration_human(detected - started, d));
    } else {
        am_buf_puts(&b, "When it was detected is not recorded");
    }
    const char *by = report_str(s, "acknowledged_by");
    const char *lead = no_names ? NULL : report_str(s, "lead");
    const char *acker = no_names ? NULL : first_acker(model, acked);
    if (acked != AM_TIME_NONE && by && strcmp(by, "deploy") == 0) {
        am_buf_puts(&b, "; nobody acknowledged it, a deploy at ");
        clock_of(&b, acked, started);
        am_buf_puts(&b, " counts as the response");
    } else if (acked != AM_TIME_NONE) {
        if (acker)
            am_buf_printf(&b, "; %s acknowledged it at ", acker);
        else
            am_buf_puts(&b, "; it was acknowledged at ");
        clock_of(&b, acked, started);
        if (detected != AM_TIME_NONE && acked >= detected)
            am_buf_printf(&b, ", %s after detection", am_duration_human(acked - detected, d));
        if (lead && (!acker || strcmp(lead, acker) != 0))
            am_buf_printf(&b, "; %s leads the response", lead);
    } else {
        am_buf_puts(&b, "; no acknowledgement is recorded");
    }
    am_buf_puts(&b, ".");
    const json_t *sus =
        json_array_get(json_object_get(json_object_get(model, "root_cause"), "suspects"), 0);
    if (sus) {
        const char *name = report_str(sus, "name"), *ver = report_str(sus, "version");
        int64_t at = report_json_time(json_object_get(sus, "at"));
        am_buf_printf(&b, " A possible cause, to confirm or rule out: the deploy of %s%s%s",
                      name ? name : "(unnamed)", ver ? " " : "", ver ? ver : "");
        if (at != AM_TIME_NONE) {
            am_buf_puts(&b, " at ");
            clock_of(&b, at, started);
            if (at == started)
                am_buf_puts(&b, ", at impact start");
            else if (at < started)
                am_buf_printf(&b, ", %s before impact start", am_duration_human(started - at, d));
        }
        am_buf_puts(&b, ".");
    }
    return am_buf_steal(&b);
}
