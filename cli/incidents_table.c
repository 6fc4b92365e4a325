/*
 * incidents_table.c - incidents as an aligned text table: what an SRE
 * reads in a terminal. Durations are derived from the JSON times; a
 * missing time shows as "-", never as 0. Every string cell (id, status,
 * services, key labels) goes through report_term(), so a label holding an
 * escape sequence, a C1 control, a bidi override or a newline cannot
 * drive the terminal, reorder a row or forge one.
 */
#include "cli/incidents_table.h"
#include "common/buf.h"
#include "common/time.h"
#include "report/escape.h"
#include "report/status.h"

#include <string.h>

static int64_t ms_of(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    int64_t ms;
    if (!s || am_time_parse(s, strlen(s), &ms, NULL, 0) != 0)
        return AM_TIME_NONE;
    return ms;
}

static const char *span(const json_t *o, const char *from, const char *to, char *buf)
{
    int64_t a = ms_of(o, from), b = ms_of(o, to);
    if (a == AM_TIME_NONE || b == AM_TIME_NONE)
        return "-";
    return am_duration_human(b - a, buf);
}

void cli_print_incidents(FILE *out, const json_t *arr, store_t *st)
{
    if (json_array_size(arr) == 0) {
        fprintf(out, "no incidents\n");
        return;
    }
    int64_t now;
    char err[512];
    if (report_latest_event_time(st, &now, err, sizeof err) != 0)
        now = AM_TIME_NONE; /* then "mitigated" rather than a guess */
    fprintf(out, "%-23s %-9s %-20s %-8s %-7s %-7s %-6s %-16s %s\n", "ID", "STATUS", "STARTED (UTC)",
            "DETECT", "ACK", "MITIG.", "ALERTS", "SERVICES", "KEY");
    size_t i;
    const json_t *o;
    json_array_foreach(arr, i, o)
    {
        char d1[AM_TIME_STRLEN], d2[AM_TIME_STRLEN], d3[AM_TIME_STRLEN];
        am_buf_t services = {0}, key = {0}, id = {0}, status = {0};
        size_t k;
        const json_t *v;
        json_array_foreach(json_object_get(o, "services"), k, v)
        {
            if (k)
                am_buf_putc(&services, ',');
            report_term(&services, json_string_value(v));
        }
        const char *name;
        json_object_foreach((json_t *)json_object_get(o, "key"), name, v)
        {
            if (key.len)
                am_buf_putc(&key, ' ');
            report_term(&key, name);
            am_buf_putc(&key, '=');
            report_term(&key, json_string_value(v));
        }
        report_term(&id, json_string_value(json_object_get(o, "id")));
        /* Shown with incidents --all: what people made of it. */
        report_term(&status, json_object_get(o, "dismissed")     ? "dismissed"
                             : json_object_get(o, "merged_into") ? "merged"
                                                                 : report_status(o, now));
        const char *started = json_string_value(json_object_get(o, "started_at"));
        fprintf(out, "%-23s %-9s %-20s %-8s %-7s %-7s %-6lld %-16s %s\n", id.p ? id.p : "",
                status.p ? status.p : "", started ? started : "-",
                span(o, "started_at", "detected_at", d1),
                span(o, "detected_at", "acknowledged_at", d2),
                span(o, "started_at", "mitigated_at", d3),
                (long long)json_integer_value(json_object_get(o, "alerts")),
                services.p ? services.p : "-", key.p ? key.p : "");
        am_buf_free(&services);
        am_buf_free(&key);
        am_buf_free(&id);
        am_buf_free(&status);
    }
}
