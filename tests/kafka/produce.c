/*
 * produce.c - am_produce: loads kcat -J NDJSON into Kafka, each record to
 * its own topic and partition with its original timestamp, key and
 * headers (kcat itself cannot set timestamps). The integration tests use
 * it to put a scenario on a real broker exactly as it was recorded.
 *
 * The producer is idempotent and every delivery is checked: any record not
 * delivered makes the exit status 1.
 */
#include "common/buf.h"
#include "common/log.h"
#include "ingest/producer.h"
#include "ingest/replay.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: am_produce --brokers LIST [--topic-prefix P] [--topic T] [-X prop=value]... FILE...\n"
    "\n"
    "Produces every kcat -J record of FILEs ('-' = stdin) to its topic and partition,\n"
    "with its ts as the record timestamp, its key and its headers. A line that is not\n"
    "an envelope is produced as the value, to --topic, with the current time.\n"
    "  --topic-prefix P  produce to P<topic> instead of <topic>\n"
    "  --topic T         produce every record to T (keeping its partition)\n"
    "  -X prop=value     a librdkafka property\n"
    "Exit codes: 0 all delivered; 1 a record was not delivered or a file failed;\n"
    "2 usage error.\n";

typedef struct produce_ctx {
    ingest_producer_t *p;
    const char *prefix, *topic;
    am_buf_t name;
    unsigned long n;
    char err[1024];
} produce_ctx_t;

static int on_record(void *arg, const am_record_t *rec)
{
    produce_ctx_t *ctx = arg;
    const char *topic = ctx->topic ? ctx->topic : rec->topic;
    if (!topic) {
        am_errf(ctx->err, sizeof ctx->err, "%s:%ld: not a kcat -J envelope and no --topic",
                rec->file, rec->line);
        return -1;
    }
    am_buf_reset(&ctx->name);
    am_buf_puts(&ctx->name, ctx->prefix ? ctx->prefix : "");
    am_buf_puts(&ctx->name, topic);
    char why[1024];
    if (ingest_producer_send(ctx->p, rec, ctx->name.p, 1, NULL, 0, why, sizeof why) != 0) {
        am_errf(ctx->err, sizeof ctx->err, "%s:%ld: %s", rec->file, rec->line, why);
        return -1;
    }
    ctx->n++;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"topic-prefix", required_argument, NULL, 'p'},
        {"topic", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    produce_ctx_t ctx = {0};
    ingest_kafka_prop_t props[64];
    size_t nprops = 1;
    props[0] = (ingest_kafka_prop_t){"bootstrap.servers", NULL};
    int c;
    while ((c = getopt_long(argc, argv, "X:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            props[0].value = optarg;
            break;
        case 'p':
            ctx.prefix = optarg;
            break;
        case 't':
            ctx.topic = optarg;
            break;
        case 'X': {
            char *eq = strchr(optarg, '=');
            if (!eq || nprops == 64) {
                fputs(usage, stderr);
                return 2;
            }
            *eq = '\0';
            props[nprops++] = (ingest_kafka_prop_t){optarg, eq + 1};
            break;
        }
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (!props[0].value || optind >= argc) {
        fputs(usage, stderr);
        return 2;
    }
    am_log_t log = {.out = stderr, .level = AM_LOG_WARN};
    char err[1024];
    int rc = 1;
    ctx.p = ingest_producer_create(props, nprops, &log, err, sizeof err);
    if (!ctx.p) {
        fprintf(stderr, "am_produce: %s\n", err);
        goto done;
    }
    for (int i = optind; i < argc; i++) {
        int r = ingest_replay_file(argv[i], on_record, &ctx, err, sizeof err);
        if (r != 0) {
            fprintf(stderr, "am_produce: %s\n", r == -1 && !ctx.err[0] ? err : ctx.err);
            goto done;
        }
    }
    if (ingest_producer_flush(ctx.p, 60000, err, sizeof err) != 0) {
        fprintf(stderr, "am_produce: %s\n", err);
        goto done;
    }
    fprintf(stderr, "am_produce: %lu records delivered\n", ctx.n);
    rc = 0;
done:
    ingest_producer_destroy(ctx.p);
    am_buf_free(&ctx.name);
    return rc;
}
