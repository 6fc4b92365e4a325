/*
 * cmd_rules.c - `aftermath rules check` and `aftermath rules test`: validate
 * rule files, and show which incidents events would form under them
 * without touching any database (like `amtool config routes test`).
 */
#include "cli/cmd_util.h"
#include "cli/commands.h"
#include "cli/incidents_table.h"
#include "run/pipeline.h"
#include "common/strset.h"
#include "correlate/engine.h"
#include "correlate/incident.h"
#include "ingest/replay.h"
#include "report/escape.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char rules_help[] =
    "usage: aftermath rules check FILE...\n"
    "       aftermath rules test [--rules FILE] [--format table|json] EVENTS...\n"
    "\n"
    "check  validates rule files: every unknown key, bad matcher, bad duration or\n"
    "       missing field is reported as FILE:LINE:COLUMN. Prints each rule's name.\n"
    "test   reads events (NDJSON/JSON files or '-', as `aftermath replay` does) into\n"
    "       a throw-away in-memory database, correlates them under the rules\n"
    "       (default: the built-in rules/default.yaml) and prints the incidents\n"
    "       they form, then the alerts that matched no rule.\n"
    "\n"
    "The rule language is documented in rules/README.md.\n"
    "\n"
    "Exit codes: 0 ok; 1 an events file could not be read; 2 usage error or\n"
    "invalid rules.\n";

static int rules_check(int argc, char **argv)
{
    if (argc < 1)
        return cli_usage_error("rules", "check: no FILE given");
    int bad = 0;
    for (int i = 0; i < argc; i++) {
        char err[1024];
        corr_rules_t *rules = corr_rules_load(argv[i], err, sizeof err);
        if (!rules) {
            fprintf(stderr, "%s\n", err);
            bad = 1;
            continue;
        }
        printf("%s: ok, %zu rule%s:", argv[i], corr_rules_count(rules),
               corr_rules_count(rules) == 1 ? "" : "s");
        for (size_t k = 0; k < corr_rules_count(rules); k++)
            printf(" %s", corr_rules_name(rules, k));
        printf("\n");
        corr_rules_destroy(rules);
    }
    return bad ? CLI_EXIT_USAGE : CLI_EXIT_OK;
}

typedef struct test_ctx {
    run_pipeline_t *pipeline;
    const corr_rules_t *rules;
    am_strset_t unmatched;
    char err[1024];
} test_ctx_t;

static int on_record(void *arg, const am_record_t *rec)
{
    test_ctx_t *ctx = arg;
    return run_pipeline_record(ctx->pipeline, rec, ctx->err, sizeof ctx->err);
}

static int on_event(void *arg, int64_t seq, const am_event_t *ev)
{
    test_ctx_t *ctx = arg;
    (void)seq;
    if (ev->kind == AM_KIND_ALERT && !corr_rules_match_any(ctx->rules, ev))
        am_strset_add(&ctx->unmatched, ev->name ? ev->name : "(unnamed)", NULL);
    return 0;
}

static int rules_test(const cli_global_t *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rules", required_argument, NULL, 'r'},
        {"format", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    const char *rules_path = NULL, *format = "table";
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        if (c == 'r')
            rules_path = optarg;
        else if (c == 'f' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "table") == 0))
            format = optarg;
        else
            return cli_usage_error("rules", "test: unknown or incomplete option '%s'",
                                   argv[optind - 1]);
    }
    if (optind >= argc)
        return cli_usage_error("rules", "test: no EVENTS file given (use '-' for stdin)");

    int rc = CLI_EXIT_FAILURE;
    char err[1024];
    test_ctx_t ctx = {0};
    corr_rules_t *rules = cli_load_rules("rules test", rules_path);
    store_t *st = NULL;
    ingest_decoder_t *dec = NULL;
    corr_engine_t *engine = NULL;
    json_t *arr = NULL;
    if (!rules)
        return CLI_EXIT_USAGE;
    ctx.rules = rules;
    st = store_open(":memory:", NULL, err, sizeof err);
    if (!st)
        goto fail;
    engine = corr_engine_create(st, rules, &g->log, NULL, err, sizeof err);
    if (!engine)
        goto fail;
    dec = ingest_decoder_create(NULL, NULL);
    ctx.pipeline = run_pipeline_create(st, dec, engine, "auto", &g->log, 1000);
    for (int i = optind; i < argc; i++) {
        int r = ingest_replay_file(argv[i], on_record, &ctx, err, sizeof err);
        if (r < 0) {
            if (ctx.err[0])
                snprintf(err, sizeof err, "%s", ctx.err);
            goto fail;
        }
    }
    if (run_pipeline_flush(ctx.pipeline, err, sizeof err) != 0 ||
        store_scan_events(st, 0, on_event, &ctx, err, sizeof err) != 0 ||
        !(arr = corr_incidents_json(st, err, sizeof err)))
        goto fail;
    if (strcmp(format, "json") == 0) {
        json_t *out = json_object();
        json_object_set(out, "incidents", arr);
        json_t *un = json_array();
        for (size_t i = 0; i < ctx.unmatched.n; i++)
            json_array_append_new(un, json_string(ctx.unmatched.v[i]));
        json_object_set_new(out, "not_in_any_incident", un);
        json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(out);
    } else {
        cli_print_incidents(stdout, arr, st);
        if (ctx.unmatched.n) {
            am_buf_t names = {0};
            for (size_t i = 0; i < ctx.unmatched.n; i++) {
                am_buf_putc(&names, ' ');
                report_term(&names, ctx.unmatched.v[i]);
            }
            printf("\nalerts in no incident (matched no rule):%s\n", names.p);
            am_buf_free(&names);
        }
    }
    rc = CLI_EXIT_OK;
    goto done;
fail:
    fprintf(stderr, "aftermath rules test: %s\n", err);
done:
    json_decref(arr);
    am_strset_free(&ctx.unmatched);
    run_pipeline_destroy(ctx.pipeline);
    ingest_decoder_destroy(dec);
    corr_engine_destroy(engine);
    store_close(st);
    corr_rules_destroy(rules);
    return rc;
}

static int rules_run(const cli_global_t *g, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("rules", "expected 'check' or 'test'");
    if (strcmp(argv[1], "check") == 0)
        return rules_check(argc - 2, argv + 2);
    if (strcmp(argv[1], "test") == 0)
        return rules_test(g, argc - 1, argv + 1);
    return cli_usage_error("rules", "unknown subcommand '%s' (expected check or test)", argv[1]);
}

const cli_command_t cli_cmd_rules = {
    .name = "rules",
    .summary = "check rule files; test which incidents events would form",
    .help = rules_help,
    .run = rules_run,
};
