/*
 * cmd_show.c - `aftermath show ID`: an incident's timeline in the
 * terminal, the same reconstruction as the draft's Timeline section.
 */
#include "cli/cmd_util.h"
#include "cli/commands.h"
#include "run/draft_select.h"
#include "common/buf.h"
#include "report/draft.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char show_help[] =
    "usage: aftermath show ID [--db PATH] [--no-names] [--no-links]\n"
    "\n"
    "Prints the timeline of incident ID (an id or one of its aliases) in UTC, one\n"
    "line an entry with its source: suspect deploys, impact start, alerts (a\n"
    "flapping alert on one line), detection, acknowledgement, notes, deploys and\n"
    "rollbacks, mitigation, resolution; then the links the events carry (alert\n"
    "sources, runbooks, dashboards, CI runs; http(s) only). 'aftermath report ID'\n"
    "writes the full postmortem draft.\n"
    "\n"
    "Options:\n"
    "  --db PATH         SQLite database (default aftermath.db)\n"
    "  --no-names        leave people (actors) out\n"
    "  --no-links        leave the links out\n"
    "  -h, --help        this help\n"
    "\n"
    "Exit codes: 0 ok; 1 no such incident, or the database failed; 2 usage error.\n";

static int show_run(const cli_global_t *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"no-names", no_argument, NULL, 'n'},
        {"no-links", no_argument, NULL, 'L'},
        {NULL, 0, NULL, 0},
    };
    (void)g;
    const char *db = "aftermath.db", *id = NULL;
    report_options_t opts = {0};
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "-", longopts, NULL)) != -1) {
        if (c == 1 && !id)
            id = optarg;
        else if (c == 1)
            return cli_usage_error("show", "unexpected argument '%s'", optarg);
        else if (c == 'd')
            db = optarg;
        else if (c == 'n')
            opts.no_names = true;
        else if (c == 'L')
            opts.no_links = true;
        else
            return cli_usage_error("show", "unknown or incomplete option '%s'", argv[optind - 1]);
    }
    if (!id)
        return cli_usage_error("show", "missing the incident ID");
    store_t *st = NULL;
    int rc = CLI_EXIT_FAILURE;
    am_buf_t b = {0};
    report_draft_t *d = cli_draft_open("show", db, id, &opts, &st);
    if (!d)
        return CLI_EXIT_FAILURE;
    report_draft_text(d, &b);
    fwrite(b.p, 1, b.len, stdout);
    rc = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
    am_buf_free(&b);
    report_draft_destroy(d);
    store_close(st);
    return rc;
}

const cli_command_t cli_cmd_show = {
    .name = "show",
    .summary = "print the timeline of an incident",
    .help = show_help,
    .run = show_run,
};
