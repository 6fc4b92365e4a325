/*
 * cmd_replay.c - `aftermath replay`: NDJSON/JSON files or stdin through
 * the pipeline into the store, with a summary of what was found.
 *
 * With --config, records are decoded as `run` would decode them under the
 * same file: its label maps, the format of the topic a kcat envelope
 * names, and max_record_bytes. Nothing else of the file is used (replay
 * has its own --db and --rules), so a dump replays into the events the
 * live topic produced.
 */
#include "cli/cmd_util.h"
#include "cli/commands.h"
#include "run/config.h"
#include "run/draft_select.h"
#include "cli/incidents_table.h"
#include "run/pipeline.h"
#include "correlate/incident.h"
#include "common/buf.h"
#include "common/time.h"
#include "ingest/replay.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char replay_help[] =
    "usage: aftermath replay [--db PATH] [--rules FILE] [--format FORMAT] [--config FILE]\n"
    "                        [OPTIONS] FILE...\n"
    "\n"
    "Reads events from files ('-' for stdin) and stores them, exactly as if they\n"
    "had been consumed from Kafka. Each line of a file is either a raw payload\n"
    "(an Alertmanager webhook, an aftermath event, ...) or a Kafka record in\n"
    "kcat's -J envelope ({\"topic\",\"partition\",\"offset\",\"ts\",\"key\",\"payload\"}),\n"
    "whose ts becomes the event's observed_at (a ts of 0, negative or outside\n"
    "2000-2100 is none, as for run). A file holding one pretty-printed\n"
    "JSON document is read as one record. Replaying the same events again stores\n"
    "nothing twice. Events are correlated into incidents as they are stored,\n"
    "under the rules given (default: the built-in rules/default.yaml), and the\n"
    "incidents are printed at the end.\n"
    "\n"
    "Options:\n"
    "  --db PATH         SQLite database (created if missing; default aftermath.db)\n"
    "  --rules FILE      correlation rules (YAML; see rules/README.md). A database\n"
    "                    correlated under other rules is refused: see recorrelate\n"
    "  --format FORMAT   decode every record as FORMAT instead of detecting it:\n"
    "                    auto (default), alertmanager, alertmanager-api,\n"
    "                    alertmanager-events (its event recorder), grafana,\n"
    "                    pagerduty, cdevents, cloudevents, github, flux, generic,\n"
    "                    or aftermath-event (a dump of the keyed topic of a\n"
    "                    scaled-out deployment; never detected)\n"
    "                    (docs/formats.md describes each)\n"
    "  -c, --config FILE decode as 'aftermath run --config FILE' does: the file's\n"
    "                    labels (how service, environment, cluster, severity,\n"
    "                    version and actor are read; per topic too), the format\n"
    "                    of the topic named by a kcat envelope (unless --format\n"
    "                    is given), max_record_bytes and stale_after (per topic\n"
    "                    too: when a firing alert that is no longer re-notified\n"
    "                    ends; without --config, 4h30m); the rest of the file\n"
    "                    is not used. Raw lines (no record time) never go stale\n"
    "  --batch N         records per transaction (default 10000)\n"
    "  --drafts DIR      write the postmortem draft (DIR/ID.md and .html) of every\n"
    "                    incident the replay resolved or changed; a draft edited\n"
    "                    by a person is never overwritten (the new one goes beside it)\n"
    "  --no-links        drafts without any URL (for drafts leaving the company)\n"
    "  --no-raw          do not keep the raw payloads of stored records\n"
    "  -q, --quiet       no summary on stdout, no progress on stderr\n"
    "  -h, --help        this help\n"
    "\n"
    "Bad records are refused with a reason naming the file, line and field,\n"
    "kept in the database's rejected table, and the replay goes on.\n"
    "\n"
    "Records are decoded on all CPUs but one (AFTERMATH_DECODE_THREADS=N sets the\n"
    "number of decoder threads, 0 to decode on the main thread); they are stored in\n"
    "file order. A record repeated byte for byte is skipped unless its timestamp\n"
    "is earlier than before (it still counts as duplicates).\n"
    "\n"
    "Exit codes: 0 done (even if records were refused); 1 a file or the database\n"
    "failed; 2 usage error.\n"
    "\n"
    "Example:\n"
    "  aftermath replay --db incidents.db examples/payments-latency.ndjson\n";

typedef struct replay_ctx {
    run_pipeline_t *pipeline;
    const run_config_t *cfg; /* topic formats, when --config and no --format */
    int progress;
    double start, last; /* am_monotonic_s() */
    char err[1024];
} replay_ctx_t;

static int on_record(void *arg, const am_record_t *rec)
{
    replay_ctx_t *ctx = arg;
    const run_config_topic_t *topic = ctx->cfg ? run_config_topic(ctx->cfg, rec->topic) : NULL;
    am_record_t with_format;
    if (topic && topic->format && !rec->format) {
        with_format = *rec;
        with_format.format = topic->format;
        rec = &with_format;
    }
    if (run_pipeline_record(ctx->pipeline, rec, ctx->err, sizeof ctx->err) != 0)
        return -1;
    const run_stats_t *s = run_pipeline_stats(ctx->pipeline);
    if (ctx->progress && (s->records & 1023) == 0 && am_monotonic_s() - ctx->last >= 1.0) {
        ctx->last = am_monotonic_s();
        double secs = ctx->last - ctx->start;
        fprintf(stderr, "\r%llu records, %.0f records/s ", (unsigned long long)s->records,
                secs > 0 ? (double)s->records / secs : 0.0);
    }
    return 0;
}

static int replay_run(const cli_global_t *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},     {"format", required_argument, NULL, 'f'},
        {"batch", required_argument, NULL, 'b'},  {"no-raw", no_argument, NULL, 'R'},
        {"quiet", no_argument, NULL, 'q'},        {"rules", required_argument, NULL, 'r'},
        {"drafts", required_argument, NULL, 'D'}, {"config", required_argument, NULL, 'c'},
        {"no-links", no_argument, NULL, 'L'},     {NULL, 0, NULL, 0},
    };
    const char *db = "aftermath.db", *format = "auto", *rules_path = NULL, *drafts = NULL;
    const char *config = NULL;
    int format_given = 0;
    long batch = 10000;
    int quiet = 0, keep_raw = 1, no_links = 0, c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+qc:", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'f':
            format = optarg;
            format_given = 1;
            if (ingest_format_check(format) != 0)
                return cli_usage_error("replay", "--format: unknown format '%s'", format);
            break;
        case 'b': {
            char *end;
            batch = strtol(optarg, &end, 10);
            if (*end || batch < 1 || batch > 1000000)
                return cli_usage_error("replay", "--batch: '%s' is not a number from 1 to 1000000",
                                       optarg);
            break;
        }
        case 'R':
            keep_raw = 0;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'r':
            rules_path = optarg;
            break;
        case 'D':
            drafts = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'L':
            no_links = 1;
            break;
        default:
            return cli_usage_error("replay", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error("replay", "no FILE given (use '-' for stdin)");

    int rc = CLI_EXIT_FAILURE;
    char err[1024];
    store_options_t sopts = {.keep_raw = keep_raw};
    store_t *st = NULL;
    ingest_decoder_t *dec = NULL;
    corr_engine_t *engine = NULL;
    json_t *incidents = NULL;
    run_config_t *cfg = NULL;
    ingest_limits_t limits = ingest_limits_default;
    if (config) {
        cfg = run_config_build(config, NULL, NULL, 0, err, sizeof err);
        if (!cfg) {
            fprintf(stderr, "aftermath replay: %s\n", err);
            return CLI_EXIT_USAGE;
        }
        run_config_limits(cfg, &limits);
    }
    corr_rules_t *rules = cli_load_rules("replay", rules_path);
    if (!rules) {
        run_config_destroy(cfg);
        return CLI_EXIT_USAGE;
    }
    replay_ctx_t ctx = {.progress = !quiet && isatty(STDERR_FILENO),
                        .cfg = format_given ? NULL : cfg};

    st = store_open(db, &sopts, err, sizeof err);
    if (!st) {
        fprintf(stderr, "aftermath replay: %s\n", err);
        goto done;
    }
    /* With --config, staleness per topic as run judges it (a kcat envelope
     * names its topic; raw lines have no record time and never go stale). */
    corr_options_t copts = {0};
    corr_stale_topic_t *stale = NULL;
    if (cfg)
        run_config_stale(cfg, &copts, &stale);
    engine = corr_engine_create(st, rules, &g->log, &copts, err, sizeof err);
    free(stale);
    if (!engine) {
        fprintf(stderr, "aftermath replay: %s\n", err);
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    dec = cfg ? run_config_decoder(cfg, &limits) : ingest_decoder_create(NULL, NULL);
    ctx.pipeline = run_pipeline_create(st, dec, engine, format, &g->log, (size_t)batch);
    ctx.start = ctx.last = am_monotonic_s();
    for (int i = optind; i < argc; i++) {
        int r = ingest_replay_file(argv[i], on_record, &ctx, err, sizeof err);
        if (r < 0) {
            fprintf(stderr, "%saftermath replay: %s\n", ctx.progress ? "\n" : "",
                    r == -1 && ctx.err[0] == '\0' ? err : ctx.err);
            goto done;
        }
    }
    if (run_pipeline_flush(ctx.pipeline, err, sizeof err) != 0) {
        fprintf(stderr, "aftermath replay: %s\n", err);
        goto done;
    }
    int ndrafts =
        drafts ? run_write_drafts(st, engine, drafts, no_links, &g->log, err, sizeof err) : 0;
    if (ndrafts < 0) {
        fprintf(stderr, "aftermath replay: %s\n", err);
        goto done;
    }
    const run_stats_t *s = run_pipeline_stats(ctx.pipeline);
    double secs = am_monotonic_s() - ctx.start;
    if (ctx.progress)
        fputs("\r\033[K", stderr);
    if (!quiet) {
        printf("replayed %d file%s into %s: %llu records, %llu events in %.2fs\n", argc - optind,
               argc - optind == 1 ? "" : "s", db, (unsigned long long)s->records,
               (unsigned long long)s->events, secs);
        printf("  stored      %llu (alert %llu, deploy %llu, ack %llu, note %llu",
               (unsigned long long)s->stored, (unsigned long long)s->by_kind[AM_KIND_ALERT],
               (unsigned long long)s->by_kind[AM_KIND_DEPLOY],
               (unsigned long long)s->by_kind[AM_KIND_ACK],
               (unsigned long long)s->by_kind[AM_KIND_NOTE]);
        /* Only when there are, so that summaries without read as before. */
        if (s->by_kind[AM_KIND_CORRECTION] || s->by_kind[AM_KIND_ACTION])
            printf(", correction %llu, action %llu",
                   (unsigned long long)s->by_kind[AM_KIND_CORRECTION],
                   (unsigned long long)s->by_kind[AM_KIND_ACTION]);
        puts(")");
        printf("  duplicates  %llu (%llu with an earlier observation time)\n",
               (unsigned long long)s->duplicates, (unsigned long long)s->earlier);
        printf("  rejected    %llu%s\n", (unsigned long long)s->rejected,
               s->rejected ? " (reasons in the log above and in the rejected table)" : "");
        incidents = corr_incidents_json(st, err, sizeof err);
        if (!incidents) {
            fprintf(stderr, "aftermath replay: %s\n", err);
            goto done;
        }
        printf("\n");
        cli_print_incidents(stdout, incidents, st);
        if (drafts)
            printf("\ndrafts of %d mitigated incident%s written to %s/\n", ndrafts,
                   ndrafts == 1 ? "" : "s", drafts);
    }
    rc = CLI_EXIT_OK;
done:
    json_decref(incidents);
    run_pipeline_destroy(ctx.pipeline);
    ingest_decoder_destroy(dec);
    corr_engine_destroy(engine);
    store_close(st);
    corr_rules_destroy(rules);
    run_config_destroy(cfg);
    return rc;
}

const cli_command_t cli_cmd_replay = {
    .name = "replay",
    .summary = "store events from NDJSON/JSON files or stdin",
    .help = replay_help,
    .run = replay_run,
};
