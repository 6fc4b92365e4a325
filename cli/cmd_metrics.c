/*
 * cmd_metrics.c - `aftermath metrics`: detection-latency percentiles per
 * service, rule or label, and the change failure rate, over a period, as
 * a table, JSON, CSV or HTML. The figures and their escaping (one escaper
 * per medium, report/escape.h) come from report/metrics.c; this file only
 * parses options and picks the renderer.
 */
#include "cli/commands.h"
#include "common/time.h"
#include "report/metrics.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char metrics_help[] =
    "usage: aftermath metrics [--db PATH] [--since T] [--until T]\n"
    "                         [--by service|rule|severity|cluster|LABEL]\n"
    "                         [--format table|json|csv|html]\n"
    "\n"
    "Detection-latency figures of the incidents that started in [since, until),\n"
    "per group: the incident count and, for each duration, p50, p90, max, N (the\n"
    "incidents that had it), MISSING and NEGATIVE. Then the change failure rate\n"
    "and the median time to restore, per service and overall.\n"
    "\n"
    "Durations (DESIGN.md, \"Incident timestamps\"):\n"
    "  time to detect       detected_at - started_at\n"
    "  time to acknowledge  acknowledged_at - detected_at\n"
    "  time to mitigate     mitigated_at - started_at\n"
    "  time to resolve      resolved_at - started_at\n"
    "A duration whose timestamp is unknown is missing: excluded and counted, never\n"
    "read as zero. A negative duration (clock skew between sources) is excluded from\n"
    "the percentiles and counted as NEGATIVE.\n"
    "\n"
    "Percentiles are exact, by nearest rank: sort the N durations ascending; the\n"
    "q-th percentile is the value at 1-based rank ceil(q*N/100) (p50 of 1, 2, 3, 4\n"
    "is 2; p90 of ten values is the 9th). Every reported value was observed. No\n"
    "means are computed: these durations are heavy-tailed.\n"
    "\n"
    "Groups: --by service counts an incident for each of its services; --by rule by\n"
    "its rule; any other name is a label: its value in the incident's key, else\n"
    "each distinct value in its alerts' labels (so an incident with critical and\n"
    "page alerts counts for both severities). Without a value: the group (none),\n"
    "null in JSON. The (all) row (\"overall\" in JSON, \"*\" in CSV) counts each\n"
    "incident once.\n"
    "\n"
    "Change failure rate (DORA Four Keys): deploys of the period (by the time they\n"
    "took effect, whatever their status) linked to any incident as a suspect /\n"
    "all deploys of the period; '-' (null) without deploys. Median time to restore:\n"
    "p50 of time to resolve of the period's incidents, per service and overall.\n"
    "\n"
    "Options:\n"
    "  --db PATH        SQLite database (default aftermath.db)\n"
    "  --since T        first start time included: RFC 3339 (2024-06-18T00:00:00Z)\n"
    "                   or a duration ago (30d, 12h, 1w); default: no bound\n"
    "  --until T        first start time excluded, same forms; default: no bound\n"
    "  --by GROUP       service (default), rule, or a label (severity, cluster, ...)\n"
    "  --format FORMAT  table (default; durations like 2m5s, missing '-'; control,\n"
    "                   bidi and non-UTF-8 characters of names print as '?'), json\n"
    "                   (seconds, missing null; object with since, until, by, method,\n"
    "                   groups, overall, change_failure), csv (seconds, missing\n"
    "                   empty; the duration table, an empty line, then the change\n"
    "                   failure table; a cell starting with = + - @ TAB or CR is\n"
    "                   quoted behind a ', so no spreadsheet reads a formula) or\n"
    "                   html (one self-contained page, no network, a strict CSP:\n"
    "                   the tables and an inline SVG chart per duration, each\n"
    "                   incident a dot per group on a log scale, p50/p90 ticks; a\n"
    "                   weekly trend: incidents per week, with counts and p50 time\n"
    "                   to detect)\n"
    "  -h, --help       this help\n"
    "\n"
    "Exit codes: 0 ok; 1 the database failed; 2 usage error.\n";

static int metrics_run(const cli_global_t *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},     {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'},  {"by", required_argument, NULL, 'b'},
        {"format", required_argument, NULL, 'f'}, {NULL, 0, NULL, 0},
    };
    (void)g;
    const char *db = "aftermath.db", *format = "table";
    report_metrics_options_t opts = {.since = AM_TIME_NONE, .until = AM_TIME_NONE, .by = NULL};
    int64_t now = am_wall_ms();
    char err[1024];
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        if (c == 'd') {
            db = optarg;
        } else if (c == 's' || c == 'u') {
            int64_t *t = c == 's' ? &opts.since : &opts.until;
            if (report_metrics_parse_time(optarg, now, t, err, sizeof err) != 0)
                return cli_usage_error("metrics", "%s: %s", c == 's' ? "--since" : "--until", err);
        } else if (c == 'b') {
            if (!*optarg)
                return cli_usage_error("metrics", "--by: empty group name");
            opts.by = optarg;
        } else if (c == 'f') {
            if (strcmp(optarg, "table") != 0 && strcmp(optarg, "json") != 0 &&
                strcmp(optarg, "csv") != 0 && strcmp(optarg, "html") != 0)
                return cli_usage_error("metrics", "--format: '%s' is not table, json, csv or html",
                                       optarg);
            format = optarg;
        } else {
            return cli_usage_error("metrics", "unknown or incomplete option '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("metrics", "unexpected argument '%s'", argv[optind]);
    if (opts.since != AM_TIME_NONE && opts.until != AM_TIME_NONE && opts.until < opts.since)
        return cli_usage_error("metrics", "--until is before --since");

    store_t *st = store_open(db, &store_existing, err, sizeof err);
    if (!st) {
        fprintf(stderr, "aftermath metrics: %s\n", err);
        return CLI_EXIT_FAILURE;
    }
    int rc = CLI_EXIT_OK;
    report_metrics_t *m = report_metrics_compute(st, &opts, err, sizeof err);
    if (!m) {
        fprintf(stderr, "aftermath metrics: %s\n", err);
        rc = CLI_EXIT_FAILURE;
    } else if (strcmp(format, "json") == 0) {
        json_t *o = report_metrics_json(m);
        json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(o);
    } else {
        am_buf_t out = {0};
        if (strcmp(format, "csv") == 0)
            report_metrics_csv(m, &out);
        else if (strcmp(format, "html") == 0)
            report_metrics_html(m, &out);
        else
            report_metrics_table(m, &out);
        if (out.len)
            fwrite(out.p, 1, out.len, stdout);
        am_buf_free(&out);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "aftermath metrics: writing the output failed\n");
        rc = CLI_EXIT_FAILURE;
    }
    report_metrics_destroy(m);
    store_close(st);
    return rc;
}

const cli_command_t cli_cmd_metrics = {
    .name = "metrics",
    .summary = "detection-latency percentiles and change failure rate (table, JSON, CSV, HTML)",
    .help = metrics_help,
    .run = metrics_run,
};
