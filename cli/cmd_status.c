/*
 * cmd_status.c - `aftermath status`: what a store holds and where its
 * consumer stands: row counts, the stored offset of every partition and,
 * when the brokers are known and reachable, the lag behind each
 * partition's end.
 */
#include "cli/commands.h"
#include "correlate/queries.h"
#include "correlate/replica.h"
#include "correlate/rules.h"
#include "run/config.h"
#include "common/buf.h"
#include "common/time.h"
#include "ingest/kafka.h"
#include "report/escape.h"
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static const char status_help[] =
    "usage: aftermath status [--db PATH] [--config FILE] [--brokers LIST]\n"
    "\n"
    "Prints what the store holds (events, records, rejected records) and the next\n"
    "offset stored for every Kafka partition. A correlator's store directory\n"
    "(run --role correlate) is shown store by store, one per keyed partition,\n"
    "with their offsets in one table. When brokers are known (from the\n"
    "config, AFTERMATH_KAFKA_BOOTSTRAP_SERVERS or --brokers) it also asks them for\n"
    "each partition's end offset and prints the lag; an unreachable broker only\n"
    "leaves the lag out. People's corrections and actions that attach to no\n"
    "incident (aftermath correct; docs/formats.md) are listed. A view's store\n"
    "(run --role view) also shows the incidents waiting for their parts (since\n"
    "when the oldest waits) and the stale incident documents it dropped\n"
    "(docs/scaling.md, \"Incident documents\").\n"
    "\n"
    "Options:\n"
    "  --db PATH          SQLite database (default: the config's store, else\n"
    "                     aftermath.db)\n"
    "  -c, --config FILE  aftermath.yaml, for the store path and the brokers\n"
    "  --brokers LIST     kafka.bootstrap.servers, for the lag\n"
    "  --timeout DURATION how long to wait for the brokers (default 5s)\n"
    "  -h, --help         this help\n"
    "\n"
    "Exit codes: 0 printed; 1 the database cannot be read; 2 usage or\n"
    "configuration error.\n";

typedef struct offsets {
    ingest_kafka_pos_t *v;
    size_t n;
} offsets_t;

static int collect(void *arg, const char *topic, int32_t partition, int64_t next)
{
    offsets_t *o = arg;
    o->v = am_xrealloc(o->v, (o->n + 1) * sizeof *o->v);
    o->v[o->n++] = (ingest_kafka_pos_t){am_xstrdup(topic), partition, next};
    return 0;
}

/* People's corrections and actions that attach to no incident (kept: a
 * later event or rule may give them one). Nothing when there are none. */
static int show_unattached(store_t *st, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(store_db(st), corr_sql_people_unattached, -1, &s, NULL);
    int n = 0;
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        char t[AM_TIME_STRLEN];
        am_buf_t line = {0};
        if (!n++)
            printf("  unattached (corrections and actions naming no incident here):\n");
        am_buf_puts(&line, "    ");
        for (int c = 0; c < 5; c++) {
            if (c)
                am_buf_putc(&line, ' ');
            if (c == 3)
                am_buf_puts(&line, am_time_format(sqlite3_column_int64(s, c), t));
            else
                report_term(&line, sqlite3_column_text(s, c)
                                       ? (const char *)sqlite3_column_text(s, c)
                                       : "-");
        }
        printf("%s\n", line.p);
        am_buf_free(&line);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE && rc != SQLITE_OK) {
        am_errf(err, errlen, "%s: reading unattached corrections: %s", store_path(st),
                sqlite3_errmsg(store_db(st)));
        return -1;
    }
    return 0;
}

/* Prints the counts of the store at path and adds its offsets to offs.
 * Returns 0, or -1 with err. */
static int show_store(const char *path, const char *rules, offsets_t *offs, char *err,
                      size_t errlen)
{
    store_t *st = store_open(path, &store_existing, err, errlen);
    char digest[32];
    if (!st || store_scan_offsets(st, collect, offs, err, errlen) != 0 ||
        corr_stored_rules_digest(st, digest, err, errlen) != 0) {
        store_close(st);
        return -1;
    }
    printf("store %s\n", path);
    if (digest[0])
        printf("  %-9s %s%s\n", "rules", digest,
               rules && strcmp(rules, digest) != 0 ? " (the config's rules are another: "
                                                     "restart with the same rules as decode)"
                                                   : "");
    static const char *const tables[] = {"events", "records", "rejected", "incidents"};
    for (size_t i = 0; i < 4; i++)
        printf("  %-9s %" PRId64 "\n", tables[i], store_count(st, tables[i]));
    printf("  %-9s %" PRId64 " incident changes not yet delivered (topic, drafts)\n", "outbox",
           store_count(st, "outbox"));
    corr_replica_view_state_t vs;
    int rc = corr_replica_view_state(st, &vs, err, errlen);
    if (rc == 0 && vs.view) {
        char t[AM_TIME_STRLEN];
        printf("  %-9s %" PRId64 " incidents waiting for their parts (each keeps its last complete "
               "state)",
               "waiting", vs.waiting);
        am_buf_t id = {0}; /* from the topic: escaped for the terminal */
        report_term(&id, vs.oldest);
        if (vs.waiting > 0 && vs.waiting_since != AM_TIME_NONE)
            printf("; the oldest, %s, since %s", id.p, am_time_format(vs.waiting_since, t));
        else if (vs.waiting > 0)
            printf("; the oldest, %s", id.p);
        am_buf_free(&id);
        printf("\n  %-9s %" PRId64 " incident documents dropped as older than the view's\n",
               "stale", vs.stale_docs);
    }
    if (rc == 0)
        rc = show_unattached(st, err, errlen);
    store_close(st);
    return rc;
}

static int keyed_db(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return strncmp(d->d_name, "keyed-", 6) == 0 && n > 9 && strcmp(d->d_name + n - 3, ".db") == 0;
}

/* keyed-2.db before keyed-10.db. */
static int by_partition(const struct dirent **a, const struct dirent **b)
{
    long pa = strtol((*a)->d_name + 6, NULL, 10), pb = strtol((*b)->d_name + 6, NULL, 10);
    return (pa > pb) - (pa < pb);
}

/* A correlator's directory: every keyed-<p>.db in it. */
static int show_dir(const char *dir, const char *rules, offsets_t *offs, char *err, size_t errlen)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, keyed_db, by_partition);
    if (n < 0) {
        am_errf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    int rc = n == 0 ? (am_errf(err, errlen, "%s: no keyed-<partition>.db in it", dir), -1) : 0;
    for (int i = 0; i < n; i++) {
        if (rc == 0) {
            am_buf_t path = {0};
            am_buf_printf(&path, "%s/%s", dir, names[i]->d_name);
            rc = show_store(path.p, rules, offs, err, errlen);
            am_buf_free(&path);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

static int status_run(const cli_global_t *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"brokers", required_argument, NULL, 'B'},
        {"timeout", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *config = NULL, *brokers = NULL;
    int64_t timeout_ms = 5000;
    int c, rc = CLI_EXIT_USAGE;
    char err[1024];
    run_config_t *cfg = NULL;
    corr_rules_t *rules = NULL;
    offsets_t offs = {0};
    int64_t *end = NULL;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+c:", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'B':
            brokers = optarg;
            break;
        case 'T': {
            char why[256];
            if (am_duration_parse(optarg, strlen(optarg), &timeout_ms, why, sizeof why) != 0 ||
                timeout_ms < 1 || timeout_ms > 600000) {
                rc = cli_usage_error("status", "--timeout: '%s' is not a duration up to 10m",
                                     optarg);
                goto done;
            }
            break;
        }
        default:
            rc = cli_usage_error("status", "unknown or incomplete option '%s'", argv[optind - 1]);
            goto done;
        }
    }
    if (optind < argc) {
        rc = cli_usage_error("status", "unexpected argument '%s'", argv[optind]);
        goto done;
    }
    const run_config_flag_t flags[] = {
        {"kafka.bootstrap.servers", brokers, "--brokers"},
        {"store", db, "--db"},
    };
    cfg = run_config_build(config, environ, flags, sizeof flags / sizeof flags[0], err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "aftermath status: %s\n", err);
        goto done;
    }

    /* The digest of the rules the config names, to compare with the
     * store's (a correlator under other rules than decode's pauses). */
    const char *digest = NULL;
    rules = corr_rules_load_files(cfg->rules, cfg->nrules, err, sizeof err);
    if (rules) {
        digest = corr_rules_digest(rules);
        printf("rules %s (the config's)\n", digest);
    }
    rc = CLI_EXIT_FAILURE;
    if (access(cfg->store, F_OK) != 0) {
        fprintf(stderr, "aftermath status: %s: no such database\n", cfg->store);
        goto done;
    }
    struct stat sb;
    if ((stat(cfg->store, &sb) == 0 && S_ISDIR(sb.st_mode)
             ? show_dir(cfg->store, digest, &offs, err, sizeof err)
             : show_store(cfg->store, digest, &offs, err, sizeof err)) != 0) {
        fprintf(stderr, "aftermath status: %s\n", err);
        goto done;
    }

    const char *servers = run_config_kafka_get(cfg, "bootstrap.servers");
    int have_end = 0;
    if (servers && offs.n) {
        ingest_kafka_prop_t *props = am_xcalloc(cfg->nkafka + 1, sizeof *props);
        for (size_t i = 0; i < cfg->nkafka; i++)
            props[i] = (ingest_kafka_prop_t){cfg->kafka[i].name, cfg->kafka[i].value};
        end = am_xcalloc(offs.n, sizeof *end);
        if (ingest_kafka_query_ends(props, cfg->nkafka, offs.v, offs.n, end, (int)timeout_ms,
                                    &g->log, err, sizeof err) != 0)
            fprintf(stderr, "aftermath status: lag unknown: %s\n", err);
        for (size_t i = 0; i < offs.n; i++)
            have_end |= end[i] >= 0;
        free(props);
    }
    if (offs.n == 0) {
        printf("offsets: none stored (nothing consumed from Kafka yet)\n");
    } else {
        printf("offsets (next offset to consume%s%s)\n", have_end ? "; lag from " : "",
               have_end ? servers : "");
        printf("  %-30s %9s %12s", "topic", "partition", "next");
        if (have_end)
            printf(" %12s %10s", "end", "lag");
        putchar('\n');
        int64_t total = 0;
        for (size_t i = 0; i < offs.n; i++) {
            printf("  %-30s %9" PRId32 " %12" PRId64, offs.v[i].topic, offs.v[i].partition,
                   offs.v[i].next);
            if (have_end && end[i] >= 0) {
                int64_t lag = end[i] > offs.v[i].next ? end[i] - offs.v[i].next : 0;
                total += lag;
                printf(" %12" PRId64 " %10" PRId64, end[i], lag);
            } else if (have_end) {
                printf(" %12s %10s", "?", "?");
            }
            putchar('\n');
        }
        if (have_end)
            printf("  total lag %" PRId64 "\n", total);
    }
    rc = CLI_EXIT_OK;
done:
    for (size_t i = 0; i < offs.n; i++)
        free((char *)offs.v[i].topic);
    free(offs.v);
    free(end);
    corr_rules_destroy(rules);
    run_config_destroy(cfg);
    return rc;
}

const cli_command_t cli_cmd_status = {
    .name = "status",
    .summary = "what a store holds, its stored Kafka offsets and lag",
    .help = status_help,
    .run = status_run,
};
