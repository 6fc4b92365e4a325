/*
 * cmd_status.c - `aftermath status`: what a store holds and where its
 * consumer stands: row counts, the stored offset of every partition and,
 * when the brokers are known and reachable, the lag behind each
 * partition's end.
 */
#include "cli/commands.h"
#include "cli/config.h"
#include "common/buf.h"
#include "common/time.h"
#include "ingest/kafka.h"
#include "store/store.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static const char status_help[] =
    "usage: aftermath status [--db PATH] [--config FILE] [--brokers LIST]\n"
    "\n"
    "Prints what the store holds (events, records, rejected records) and the next\n"
    "offset stored for every Kafka partition. When brokers are known (from the\n"
    "config, AFTERMATH_KAFKA_BOOTSTRAP_SERVERS or --brokers) it also asks them for\n"
    "each partition's end offset and prints the lag; an unreachable broker only\n"
    "leaves the lag out.\n"
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
    cli_config_t *cfg = NULL;
    store_t *st = NULL;
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
    cfg = config ? cli_config_load(config, err, sizeof err) : cli_config_create();
    if (!cfg || cli_config_apply_env(cfg, environ, err, sizeof err) != 0 ||
        (brokers &&
         cli_config_set(cfg, "kafka.bootstrap.servers", brokers, "--brokers", err, sizeof err)) ||
        (db && cli_config_set(cfg, "store", db, "--db", err, sizeof err))) {
        fprintf(stderr, "aftermath status: %s\n", err);
        goto done;
    }

    rc = CLI_EXIT_FAILURE;
    if (access(cfg->store, F_OK) != 0) {
        fprintf(stderr, "aftermath status: %s: no such database\n", cfg->store);
        goto done;
    }
    st = store_open(cfg->store, &store_existing, err, sizeof err);
    if (!st || store_scan_offsets(st, collect, &offs, err, sizeof err) != 0) {
        fprintf(stderr, "aftermath status: %s\n", err);
        goto done;
    }
    printf("store %s\n", cfg->store);
    static const char *const tables[] = {"events", "records", "rejected", "incidents"};
    for (size_t i = 0; i < 4; i++)
        printf("  %-9s %" PRId64 "\n", tables[i], store_count(st, tables[i]));
    printf("  %-9s %" PRId64 " incident changes not yet delivered (topic, drafts)\n", "outbox",
           store_count(st, "outbox"));

    const char *servers = cli_config_kafka_get(cfg, "bootstrap.servers");
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
    store_close(st);
    cli_config_destroy(cfg);
    return rc;
}

const cli_command_t cli_cmd_status = {
    .name = "status",
    .summary = "what a store holds, its stored Kafka offsets and lag",
    .help = status_help,
    .run = status_run,
};
