/*
 * cmd_recorrelate.c - `aftermath recorrelate`: rebuild every incident of a
 * database from its stored events under (new) rules. Grouping depends only
 * on the set of events, so the result is exactly what a replay of the
 * whole history under these rules would give.
 */
#include "cli/cmd_util.h"
#include "cli/commands.h"
#include "cli/incidents_table.h"
#include "correlate/engine.h"
#include "correlate/incident.h"

#include <getopt.h>
#include <stdio.h>

static const char recorrelate_help[] =
    "usage: aftermath recorrelate [--db PATH] [--rules FILE]\n"
    "\n"
    "Rebuilds every incident of the database from its stored events under the\n"
    "rules (default: the built-in rules/default.yaml), in one transaction, and\n"
    "prints the result. Use it after changing rules: a database correlated\n"
    "under other rules refuses new events until it is recorrelated. Ids come\n"
    "from rule, key and start: an incident the new rules rebuild alike keeps its\n"
    "id, and no old id is given to another incident.\n"
    "\n"
    "Options:\n"
    "  --db PATH      SQLite database (default aftermath.db)\n"
    "  --rules FILE   correlation rules (YAML; see rules/README.md)\n"
    "  -h, --help     this help\n"
    "\n"
    "Exit codes: 0 ok; 1 the database failed; 2 usage error or invalid rules.\n";

static int recorrelate_run(const cli_global_t *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"rules", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    const char *db = "aftermath.db", *rules_path = NULL;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else if (c == 'r')
            rules_path = optarg;
        else
            return cli_usage_error("recorrelate", "unknown or incomplete option '%s'",
                                   argv[optind - 1]);
    }
    if (optind < argc)
        return cli_usage_error("recorrelate", "unexpected argument '%s'", argv[optind]);
    corr_rules_t *rules = cli_load_rules("recorrelate", rules_path);
    if (!rules)
        return CLI_EXIT_USAGE;
    char err[1024];
    int rc = CLI_EXIT_FAILURE;
    json_t *arr = NULL;
    store_t *st = store_open(db, &store_existing, err, sizeof err);
    if (st && corr_recorrelate(st, rules, &g->log, err, sizeof err) == 0 &&
        (arr = corr_incidents_json(st, err, sizeof err))) {
        cli_print_incidents(stdout, arr, st);
        rc = CLI_EXIT_OK;
    } else {
        fprintf(stderr, "aftermath recorrelate: %s\n", err);
    }
    json_decref(arr);
    store_close(st);
    corr_rules_destroy(rules);
    return rc;
}

const cli_command_t cli_cmd_recorrelate = {
    .name = "recorrelate",
    .summary = "rebuild all incidents of a database under (new) rules",
    .help = recorrelate_help,
    .run = recorrelate_run,
};
