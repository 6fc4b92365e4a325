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
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: am_produce --brokers LIST [--topic-prefix P] [--topic T] [--create-topics]\n"
    "                  [--create NAME:PARTITIONS]... [-X prop=value]... [FILE...]\n"
    "\n"
    "Produces every kcat -J record of FILEs ('-' = stdin) to its topic and partition,\n"
    "with its ts as the record timestamp, its key and its headers. A line that is not\n"
    "an envelope is produced as the value, to --topic, with the current time.\n"
    "  --topic-prefix P  produce to P<topic> instead of <topic>\n"
    "  --topic T         produce every record to T (keeping its partition)\n"
    "  --create-topics   first create the files' topics that do not exist, with as\n"
    "                    many partitions as the files use and retention.ms=-1\n"
    "  --create NAME:N   also create topic NAME with N partitions (retention.ms=-1)\n"
    "  -X prop=value     a librdkafka property\n"
    "Exit codes: 0 all delivered; 1 a record was not delivered or a file failed;\n"
    "2 usage error.\n";

typedef struct produce_ctx {
    ingest_producer_t *p;
    const char *prefix, *topic;
    am_buf_t name;
    unsigned long n;
    char err[1024];
    /* topics to create: name and partitions */
    char **create;
    int *partitions;
    size_t ncreate;
} produce_ctx_t;

static void want_topic(produce_ctx_t *ctx, const char *name, int partitions)
{
    for (size_t i = 0; i < ctx->ncreate; i++)
        if (strcmp(ctx->create[i], name) == 0) {
            if (ctx->partitions[i] < partitions)
                ctx->partitions[i] = partitions;
            return;
        }
    ctx->create = am_xrealloc(ctx->create, (ctx->ncreate + 1) * sizeof *ctx->create);
    ctx->partitions = am_xrealloc(ctx->partitions, (ctx->ncreate + 1) * sizeof *ctx->partitions);
    ctx->create[ctx->ncreate] = am_xstrdup(name);
    ctx->partitions[ctx->ncreate++] = partitions;
}

static int scan_record(void *arg, const am_record_t *rec)
{
    produce_ctx_t *ctx = arg;
    const char *topic = ctx->topic ? ctx->topic : rec->topic;
    if (!topic)
        return 0;
    am_buf_reset(&ctx->name);
    am_buf_puts(&ctx->name, ctx->prefix ? ctx->prefix : "");
    am_buf_puts(&ctx->name, topic);
    want_topic(ctx, ctx->name.p, rec->partition >= 0 ? rec->partition + 1 : 1);
    return 0;
}

/* Creates the wanted topics with the Admin API; existing ones are fine. */
static int create_topics(produce_ctx_t *ctx, const char *brokers, char *err, size_t errlen)
{
    char rkerr[512];
    int rc = -1;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_NewTopic_t **nt = calloc(ctx->ncreate + 1, sizeof *nt);
    rd_kafka_queue_t *q = NULL;
    rd_kafka_event_t *ev = NULL;
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, rkerr, sizeof rkerr)) {
        am_errf(err, errlen, "%s", rkerr);
        rd_kafka_conf_destroy(conf);
        free(nt);
        return -1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rkerr, sizeof rkerr);
    if (!rk) {
        am_errf(err, errlen, "%s", rkerr);
        rd_kafka_conf_destroy(conf);
        free(nt);
        return -1;
    }
    for (size_t i = 0; i < ctx->ncreate; i++) {
        nt[i] = rd_kafka_NewTopic_new(ctx->create[i], ctx->partitions[i], 1, rkerr, sizeof rkerr);
        if (!nt[i] || rd_kafka_NewTopic_set_config(nt[i], "retention.ms", "-1") !=
                          RD_KAFKA_RESP_ERR_NO_ERROR) {
            am_errf(err, errlen, "topic %s: %s", ctx->create[i], rkerr);
            goto done;
        }
    }
    q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, nt, ctx->ncreate, NULL, q);
    ev = rd_kafka_queue_poll(q, 60000);
    if (!ev || rd_kafka_event_error(ev)) {
        am_errf(err, errlen, "CreateTopics: %s",
                ev ? rd_kafka_event_error_string(ev) : "timed out");
        goto done;
    }
    size_t n;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            am_errf(err, errlen, "creating %s: %s", rd_kafka_topic_result_name(res[i]),
                    rd_kafka_topic_result_error_string(res[i]));
            goto done;
        }
    }
    rc = 0;
done:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (q)
        rd_kafka_queue_destroy(q);
    for (size_t i = 0; i < ctx->ncreate; i++)
        if (nt[i])
            rd_kafka_NewTopic_destroy(nt[i]);
    free(nt);
    rd_kafka_destroy(rk);
    return rc;
}

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
        {"create-topics", no_argument, NULL, 'C'},
        {"create", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    produce_ctx_t ctx = {0};
    ingest_kafka_prop_t props[64];
    size_t nprops = 1;
    props[0] = (ingest_kafka_prop_t){"bootstrap.servers", NULL};
    int c, create_from_files = 0;
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
        case 'C':
            create_from_files = 1;
            break;
        case 'c': {
            char *colon = strrchr(optarg, ':');
            int n = colon ? atoi(colon + 1) : 0;
            if (!colon || n < 1) {
                fputs(usage, stderr);
                return 2;
            }
            *colon = '\0';
            want_topic(&ctx, optarg, n);
            break;
        }
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
    if (!props[0].value || (optind >= argc && ctx.ncreate == 0)) {
        fputs(usage, stderr);
        return 2;
    }
    am_log_t log = {.out = stderr, .level = AM_LOG_WARN};
    char err[1024];
    int rc = 1;
    for (int i = optind; create_from_files && i < argc; i++)
        if (ingest_replay_file(argv[i], scan_record, &ctx, err, sizeof err) != 0) {
            fprintf(stderr, "am_produce: %s\n", err);
            goto done;
        }
    if (ctx.ncreate && create_topics(&ctx, props[0].value, err, sizeof err) != 0) {
        fprintf(stderr, "am_produce: %s\n", err);
        goto done;
    }
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
    for (size_t i = 0; i < ctx.ncreate; i++)
        free(ctx.create[i]);
    free(ctx.create);
    free(ctx.partitions);
    return rc;
}
