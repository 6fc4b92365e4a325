/*
 * cmd_incidents.c - `aftermath incidents`: list the incidents in a
 * database, as a table or as the JSON contract.
 */
#include "cli/commands.h"
#include "cli/incidents_table.h"
#include "correlate/incident.h"
#include "store/store.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char incidents_help[] =
    "usage: aftermath incidents [--db PATH] [--format table|json] [--all]\n"
    "\n"
    "Lists the incidents of a database, oldest first, with people's corrections\n"
    "(aftermath correct) in place of the derived values.\n"
    "\n"
    "Options:\n"
    "  --db PATH         SQLite database (default aftermath.db)\n"
    "  --format FORMAT   table (default; durations: time to detect, to acknowledge,\n"
    "                    to mitigate) or json: an array of objects with id, rule,\n"
    "                    key, status, services, started_at, detected_at,\n"
    "                    acknowledged_at, mitigated_at, resolved_at (RFC 3339 UTC or\n"
    "                    null), started_from (alert, deploy or pending),\n"
    "                    acknowledged_by (ack, deploy or null), alerts,\n"
    "                    users_impacted, lead, suspects, during\n"
    "                    ([{name, version, service, status, at, actor}]), flapping\n"
    "                    ({alert: cycles}) and aliases (ids merged into it); and,\n"
    "                    only when so, mitigated_inferred (true: no resolve was\n"
    "                    received, the end was inferred) and truncated_alerts (the\n"
    "                    most alerts a notification left out); title, severity,\n"
    "                    roles, corrections ({field: {value, derived, actor, at,\n"
    "                    reason}}), action_items, dismissed, merged_into and merged\n"
    "                    when people set them (aftermath correct, action)\n"
    "  --all             also the incidents people dismissed or merged into another\n"
    "  -h, --help        this help\n"
    "\n"
    "Exit codes: 0 ok; 1 the database failed; 2 usage error.\n";

static int incidents_run(const cli_global_t *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'f'},
        {"all", no_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    (void)g;
    const char *db = "aftermath.db", *format = "table";
    int c;
    bool all = false;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else if (c == 'a')
            all = true;
        else if (c == 'f' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "table") == 0))
            format = optarg;
        else if (c == 'f')
            return cli_usage_error("incidents", "--format: '%s' is not table or json", optarg);
        else
            return cli_usage_error("incidents", "unknown or incomplete option '%s'",
                                   argv[optind - 1]);
    }
    if (optind < argc)
        return cli_usage_error("incidents", "unexpected argument '%s'", argv[optind]);
    char err[1024];
    store_t *st = store_open(db, &store_existing, err, sizeof err);
    if (!st) {
        fprintf(stderr, "aftermath incidents: %s\n", err);
        return CLI_EXIT_FAILURE;
    }
    json_t *arr = corr_incidents_json_all(st, all, err, sizeof err);
    int rc = CLI_EXIT_OK;
    if (!arr) {
        fprintf(stderr, "aftermath incidents: %s\n", err);
        rc = CLI_EXIT_FAILURE;
    } else if (strcmp(format, "json") == 0) {
        json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
    } else {
        cli_print_incidents(stdout, arr, st);
    }
    json_decref(arr);
    store_close(st);
    return rc;
}

const cli_command_t cli_cmd_incidents = {
    .name = "incidents",
    .summary = "list the incidents of a database (table or JSON)",
    .help = incidents_help,
    .run = incidents_run,
};
