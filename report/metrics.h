/*
 * metrics.h - detection-latency figures over the incidents of a store:
 * per group (service, rule, or any label), the incident count and, for
 * time to detect, acknowledge, mitigate and resolve, p50/p90/max with the
 * number of incidents that had the duration, the number missing it and
 * the number with a negative duration; plus the change failure rate and
 * the median time to restore (Four Keys).
 *
 * Percentiles are exact, by nearest rank on the sorted durations: the
 * q-th percentile of n values is the value at rank ceil(q * n / 100)
 * (1-based), so it is always one of the observed values. Missing and
 * negative durations are excluded from the percentiles and counted.
 */
#ifndef REPORT_METRICS_H
#define REPORT_METRICS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "store/store.h"

/* The four derived durations (DESIGN.md, "Incident timestamps"). */
typedef enum report_metrics_measure {
    REPORT_METRICS_DETECT,      /* detected_at - started_at */
    REPORT_METRICS_ACKNOWLEDGE, /* acknowledged_at - detected_at */
    REPORT_METRICS_MITIGATE,    /* mitigated_at - started_at */
    REPORT_METRICS_RESOLVE,     /* resolved_at - started_at */
    REPORT_METRICS_NMEASURES
} report_metrics_measure_t;

/* Name of a measure: "detect", "acknowledge", "mitigate", "resolve". */
const char *report_metrics_measure_name(report_metrics_measure_t m);

/* The summary of one sample of durations (milliseconds). p50, p90 and max
 * are AM_TIME_NONE when n is 0. */
typedef struct report_metrics_summary {
    size_t n;        /* durations >= 0, the ones the percentiles use */
    size_t missing;  /* a timestamp was unknown (AM_TIME_NONE) */
    size_t negative; /* < 0: clock skew between sources */
    int64_t p50, p90, max;
} report_metrics_summary_t;

/* Nearest-rank percentile of sorted[0..n): the value at 1-based rank
 * ceil(pct * n / 100), clamped to [1, n]; pct in 0..100. AM_TIME_NONE
 * when n is 0. */
int64_t report_metrics_percentile(const int64_t *sorted, size_t n, unsigned pct);

/* Summarises count durations, where AM_TIME_NONE marks a missing one.
 * durations is not modified (a sorted copy is made). */
report_metrics_summary_t report_metrics_summarise(const int64_t *durations, size_t count);

/* Duration between two timestamps: to - from, or AM_TIME_NONE when either
 * is AM_TIME_NONE. */
int64_t report_metrics_duration(int64_t from, int64_t to);

/* Failed / total as a ratio, or -1 when total is 0 (no rate, not 0). */
double report_metrics_rate(size_t failed, size_t total);

/* Parses a --since/--until bound: RFC 3339 (any offset), or a duration
 * ago relative to now_ms ("30d", "2h", "1w2d"). Returns 0 and sets *ms, or
 * -1 with a message in err. */
int report_metrics_parse_time(const char *s, int64_t now_ms, int64_t *ms, char *err, size_t errlen);

typedef struct report_metrics report_metrics_t;

typedef struct report_metrics_options {
    int64_t since; /* incidents with started_at >= since (AM_TIME_NONE: no bound) */
    int64_t until; /* and started_at < until (AM_TIME_NONE: no bound) */
    /* "service" (the incident's services: one incident counts for each),
     * "rule", or a label name ("severity", "cluster", ...): its value in the
     * incident's key, else the distinct values in its alerts' labels (one
     * incident counts for each; none: the group null). NULL: "service". */
    const char *by;
} report_metrics_options_t;

/* Follow-ups of the incidents started in [since, until) (AM_TIME_NONE: no
 * bound), dismissed ones left out: their action items open, open past
 * their due time at now, and done; the p50 of the time from opened to
 * closed of those done (AM_TIME_NONE when none is); and how many incidents
 * a person corrected (dismissed ones included). */
typedef struct report_followups {
    int64_t open, overdue, done;
    int64_t close_p50;
    int64_t corrected;
} report_followups_t;

/* Fills out. Returns 0, or -1 with the SQLite error in err. */
int report_metrics_followups(store_t *st, int64_t since, int64_t until, int64_t now,
                             report_followups_t *out, char *err, size_t errlen);

/* Computes the figures for the incidents of st in [since, until) by
 * started_at, and the change failure rate over the deploys of the same
 * period. Returns an owned handle, or NULL with err on a database error or
 * a bad option. */
report_metrics_t *report_metrics_compute(store_t *st, const report_metrics_options_t *opts,
                                         char *err, size_t errlen);
/* Accepts NULL. */
void report_metrics_destroy(report_metrics_t *m);

/* New JSON object (caller decrefs): since, until (RFC 3339 or null), by,
 * method, groups ([{group, incidents, time_to_detect, time_to_acknowledge,
 * time_to_mitigate, time_to_resolve}], each duration as {n, missing,
 * negative, p50_s, p90_s, max_s} in seconds or null), overall (the same
 * without group, every incident once), change_failure ({deploys, failed,
 * rate (null without deploys), median_time_to_restore_s, services: [{service,
 * deploys, failed, rate, incidents, median_time_to_restore_s}]}). */
json_t *report_metrics_json(const report_metrics_t *m);

/* Appends a human-readable table (durations as "2m5s", missing "-"). */
void report_metrics_table(const report_metrics_t *m, am_buf_t *out);

/* Appends CSV (RFC 4180 quoting, seconds): the duration table, one row per
 * group and measure (header group_by,group,incidents,measure,n,missing,
 * negative,p50_s,p90_s,max_s; the overall row has group "*"), then an empty
 * line and the change failure table (header service,deploys,failed,rate,
 * incidents,median_time_to_restore_s; the overall row has service "*").
 * Missing values are empty fields. */
void report_metrics_csv(const report_metrics_t *m, am_buf_t *out);

/* Appends one self-contained HTML page (no network: inline CSS and SVG):
 * the duration table, one chart per duration (each incident a dot per
 * group on a log scale, p50 and p90 ticks), a weekly trend (incidents per
 * week with counts and p50 time to detect) and the change failure table.
 * Text taken from events (group names) is escaped. */
void report_metrics_html(const report_metrics_t *m, am_buf_t *out);

#endif
