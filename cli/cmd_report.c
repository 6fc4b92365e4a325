/*
 * cmd_report.c - `aftermath report ID`: the postmortem draft of one
 * incident, as Markdown, HTML or JSON. The draft is built in memory and
 * written whole through a new file renamed into place, so a failure never
 * leaves half a file behind and a link at --out is never written through.
 */
#include "cli/cmd_util.h"
#include "cli/commands.h"
#include "run/draft_select.h"
#include "common/buf.h"
#include "common/file.h"
#include "report/draft.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char report_help[] =
    "usage: aftermath report ID [--db PATH] [--format md|html|json|summary] [--out FILE]\n"
    "                           [--no-names] [--no-links]\n"
    "\n"
    "Writes the postmortem draft of incident ID (an id or one of its aliases):\n"
    "Incident Summary, Timeline (UTC), Root Cause Analysis (suspect deploys as\n"
    "hypotheses), Impact Analysis, Lessons Learned (time to detect, acknowledge,\n"
    "mitigate, resolve against each service's p50 over earlier incidents) and an\n"
    "empty Action Items table. Facts come from the events; judgement is left as\n"
    "prompts marked [to fill] or [to confirm]. Text from events is escaped for\n"
    "the format.\n"
    "\n"
    "Options:\n"
    "  --db PATH         SQLite database (default aftermath.db)\n"
    "  --format FORMAT   md (default; with a Mermaid gantt block), html (one\n"
    "                    self-contained file with an SVG timeline, printable) or\n"
    "                    json (every fact of the draft), or summary (a few lines\n"
    "                    of Slack mrkdwn for a channel: what alerted where, when,\n"
    "                    how long, users, detection and ack, suspects, links)\n"
    "  --out FILE        write to FILE instead of standard output ('-'): a new\n"
    "                    file (0600) renamed over FILE; a FILE that is a symbolic\n"
    "                    link or not a regular file is refused\n"
    "  --no-names        leave people (actors, the incident lead) out\n"
    "  --no-links        leave every URL out (alert sources, runbooks, dashboards,\n"
    "                    CI runs, PagerDuty), for a draft leaving the company;\n"
    "                    otherwise only http(s) URLs are linked\n"
    "  -h, --help        this help\n"
    "\n"
    "Exit codes: 0 ok; 1 no such incident, or the database or the output file\n"
    "failed; 2 usage error.\n";

/* Writes len bytes of s to path ("-" or NULL: stdout). A file is replaced
 * whole through a new file and a rename (am_file_replace); a link or
 * anything but a regular file at path is refused, never written through.
 * Returns 0 or -1 with err. */
static int write_out(const char *path, const char *s, size_t len, char *err, size_t errlen)
{
    if (!path || strcmp(path, "-") == 0) {
        if (fwrite(s, 1, len, stdout) != len || fflush(stdout) != 0) {
            am_errf(err, errlen, "writing standard output failed");
            return -1;
        }
        return 0;
    }
    struct stat sb;
    if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        am_errf(err, errlen, "%s: %s: not written through (use '-' for standard output)", path,
                S_ISLNK(sb.st_mode) ? "a symbolic link" : "not a regular file");
        return -1;
    }
    return am_file_replace(path, s, len, err, errlen);
}

static int report_run(const cli_global_t *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},  {"format", required_argument, NULL, 'f'},
        {"out", required_argument, NULL, 'o'}, {"no-names", no_argument, NULL, 'n'},
        {"no-links", no_argument, NULL, 'L'},  {NULL, 0, NULL, 0},
    };
    (void)g;
    const char *db = "aftermath.db", *format = "md", *out = NULL, *id = NULL;
    report_options_t opts = {0};
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "-", longopts, NULL)) != -1) {
        if (c == 1 && !id)
            id = optarg;
        else if (c == 1)
            return cli_usage_error("report", "unexpected argument '%s'", optarg);
        else if (c == 'd')
            db = optarg;
        else if (c == 'o')
            out = optarg;
        else if (c == 'n')
            opts.no_names = true;
        else if (c == 'L')
            opts.no_links = true;
        else if (c == 'f' && (strcmp(optarg, "md") == 0 || strcmp(optarg, "markdown") == 0 ||
                              strcmp(optarg, "html") == 0 || strcmp(optarg, "json") == 0 ||
                              strcmp(optarg, "summary") == 0))
            format = optarg;
        else if (c == 'f')
            return cli_usage_error("report", "--format: '%s' is not md, html, json or summary",
                                   optarg);
        else
            return cli_usage_error("report", "unknown or incomplete option '%s'", argv[optind - 1]);
    }
    if (!id)
        return cli_usage_error("report", "missing the incident ID");
    store_t *st = NULL;
    int rc = CLI_EXIT_FAILURE;
    am_buf_t b = {0};
    report_draft_t *d = cli_draft_open("report", db, id, &opts, &st);
    if (!d)
        return CLI_EXIT_FAILURE;
    if (strcmp(format, "html") == 0)
        report_draft_html(d, &b);
    else if (strcmp(format, "json") == 0)
        report_draft_json(d, &b);
    else if (strcmp(format, "summary") == 0)
        report_draft_summary(d, &b);
    else
        report_draft_markdown(d, &b);
    char err[1024];
    if (write_out(out, b.p ? b.p : "", b.len, err, sizeof err) != 0) {
        fprintf(stderr, "aftermath report: %s\n", err);
        goto cleanup;
    }
    rc = CLI_EXIT_OK;
cleanup:
    am_buf_free(&b);
    report_draft_destroy(d);
    store_close(st);
    return rc;
}

const cli_command_t cli_cmd_report = {
    .name = "report",
    .summary = "write the postmortem draft of an incident (Markdown, HTML, JSON or a summary)",
    .help = report_help,
    .run = report_run,
};
