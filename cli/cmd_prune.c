/*
 * cmd_prune.c - `aftermath prune`: retention. Drops old events, raw
 * payloads, rejected records and the detail of incidents closed long ago,
 * and keeps every incident's summary (see correlate/prune.h).
 */
#include "cli/commands.h"
#include "common/time.h"
#include "correlate/prune.h"

#include <getopt.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static const char prune_help[] =
    "usage: aftermath prune --older-than DURATION [--db PATH] [--dry-run] [--vacuum]\n"
    "\n"
    "Removes what is older than DURATION (e.g. 90d; at least 1d) from a database:\n"
    "  - alerts, acks and notes whose latest time (start, end, observation) is\n"
    "    older, unless an incident still open or resolved within DURATION links\n"
    "    them (deploys are kept: they are few, and the change failure rate of\n"
    "    any period counts them);\n"
    "  - the event links of incidents resolved before then (their detail: a\n"
    "    draft of such an incident can no longer be regenerated in full, so\n"
    "    keep the drafts directory);\n"
    "  - raw records no remaining event came from, and rejected records.\n"
    "Incident summaries (times, services, suspects, counts) and alert episodes\n"
    "stay, so 'incidents' and 'metrics' give the same answers as before.\n"
    "Afterwards the pruned past is frozen: incidents resolved before the\n"
    "horizon no longer change, and events older than it that arrive later are\n"
    "stored but not correlated. `run` can prune by itself (config: retention).\n"
    "\n"
    "Options:\n"
    "  --older-than DURATION  the retention period (units y w d h m s)\n"
    "  --db PATH              SQLite database (default aftermath.db)\n"
    "  --dry-run              count what would go, change nothing\n"
    "  --vacuum               then give the freed space back to the file system\n"
    "                         (rewrites the file; needs as much free space)\n"
    "  -h, --help             this help\n"
    "\n"
    "Exit codes: 0 ok; 1 the database failed; 2 usage error.\n";

static int prune_run(const cli_global_t *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"older-than", required_argument, NULL, 'o'},
        {"dry-run", no_argument, NULL, 'n'},
        {"vacuum", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    const char *db = "aftermath.db", *older = NULL;
    bool dry_run = false, vacuum = false;
    int c;
    (void)g;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else if (c == 'o')
            older = optarg;
        else if (c == 'n')
            dry_run = true;
        else if (c == 'v')
            vacuum = true;
        else
            return cli_usage_error("prune", "unknown or incomplete option '%s'", argv[optind - 1]);
    }
    if (optind < argc)
        return cli_usage_error("prune", "unexpected argument '%s'", argv[optind]);
    if (!older)
        return cli_usage_error("prune", "--older-than is required (e.g. --older-than 90d)");
    int64_t period;
    char err[1024];
    if (am_duration_parse(older, strlen(older), &period, err, sizeof err) != 0)
        return cli_usage_error("prune", "--older-than: %s", err);
    if (period < 86400000)
        return cli_usage_error("prune", "--older-than: %s is less than 1d", older);
    int64_t horizon = am_wall_ms() - period;
    char when[AM_TIME_STRLEN];
    store_t *st = store_open(db, &store_existing, err, sizeof err);
    corr_prune_stats_t n;
    if (!st || corr_prune(st, horizon, dry_run, &n, err, sizeof err) != 0) {
        fprintf(stderr, "aftermath prune: %s\n", err);
        store_close(st);
        return CLI_EXIT_FAILURE;
    }
    printf("%s everything before %s in %s:\n", dry_run ? "would prune" : "pruned",
           am_time_format(horizon, when), db);
    printf("  events     %" PRId64 "\n  records    %" PRId64 "\n  rejected   %" PRId64
           "\n  incidents  %" PRId64 " closed before then: summaries kept, %" PRId64
           " event links dropped\n",
           n.events, n.records, n.rejected, n.incidents_frozen, n.links);
    int rc = CLI_EXIT_OK;
    if (vacuum && !dry_run) {
        char *msg = NULL;
        if (sqlite3_exec(store_db(st), "VACUUM", NULL, NULL, &msg) != SQLITE_OK) {
            fprintf(stderr, "aftermath prune: %s: vacuum: %s\n", db, msg ? msg : "");
            rc = CLI_EXIT_FAILURE;
        }
        sqlite3_free(msg);
    }
    store_close(st);
    return rc;
}

const cli_command_t cli_cmd_prune = {
    .name = "prune",
    .summary = "drop old events and detail, keep incident summaries (retention)",
    .help = prune_help,
    .run = prune_run,
};
