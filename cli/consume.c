/*
 * consume.c - Kafka records through the pipeline into the store, with the
 * partitions' next offsets in the same transaction as the events.
 *
 * The consumer (ingest/kafka.c) decides when a batch ends; this file is
 * its sink: each record goes through cli_pipeline_record() (decode, store
 * or reject), and a batch commit writes the offsets with
 * cli_pipeline_offset() and commits with cli_pipeline_flush(). The
 * pipeline is created with an unbounded batch so that it never commits on
 * its own.
 *
 * Incident changes: after a batch commits, every incident the correlator
 * opened or changed in it is published to incidents_topic as
 * {"schema_version": 1, "incident": {...}} keyed by its id (an incident
 * merged into another: {"schema_version": 1, "id": ..., "merged_into":
 * ...}). Publication follows the commit, so nothing is published that the
 * store does not hold; the batch's transaction also records the changed
 * incidents in the outbox table, emptied once they are delivered, so a
 * crash between commit and delivery re-delivers them on restart (at least
 * once; the document is the incident's full state, so a repeat is
 * harmless). Drafts of resolved incidents follow the same path.
 *
 * Dead letters: a refused record is stored in the rejected table by the
 * pipeline, and, with dead_letter_topic set, produced there unchanged with
 * 'aftermath-reason' and 'aftermath-place' headers. The producer is
 * flushed before the batch commits, so a dead letter is delivered at
 * least once (a batch written again after a store failure sends it
 * again); a dead letter that cannot be delivered is logged and does not
 * hold the partition back, since the rejected table has the record.
 */
#include "cli/consume.h"
#include "cli/drafts.h"
#include "cli/metrics.h"
#include "cli/publish.h"
#include "common/buf.h"
#include "common/time.h"
#include "correlate/incident.h"
#include "correlate/prune.h"
#include "ingest/producer.h"

#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct consume_ctx {
    cli_pipeline_t *pipeline;
    store_t *st;
    corr_engine_t *engine;
    cli_publish_t *pub;
    const char *drafts;
    uint64_t published;
    ingest_producer_t *dlq;
    const char *dlq_topic;
    const am_log_t *log;
    uint64_t dead_lettered;
    cli_metrics_t *metrics; /* NULL: no metrics endpoint */
    double commit_began;    /* monotonic seconds, for the commit latency */
    double published_at;    /* monotonic seconds of the last snapshot */
    int64_t retention_ms;   /* prune what is older, hourly; 0 = never */
    double pruned_at;       /* monotonic seconds of the last prune, or < 0 */
} consume_ctx_t;

#define PRUNE_EVERY_S 3600.0

/* Retention (config: retention): at start and then hourly, between
 * batches, drops what is older than retention (correlate/prune.h). A
 * failure is logged and tried again at the next hour; it never stops the
 * consumer. */
static void maybe_prune(consume_ctx_t *ctx, double now)
{
    if (!ctx->retention_ms || !ctx->engine ||
        (ctx->pruned_at >= 0 && now - ctx->pruned_at < PRUNE_EVERY_S))
        return;
    ctx->pruned_at = now;
    char err[1024], when[AM_TIME_STRLEN], n[5][32];
    int64_t horizon = am_wall_ms() - ctx->retention_ms;
    corr_prune_stats_t s;
    if (corr_prune(ctx->st, horizon, false, &s, err, sizeof err) != 0) {
        am_log(ctx->log, AM_LOG_ERROR, "prune failed (retried in an hour)", "error", err, NULL);
        return;
    }
    snprintf(n[0], sizeof n[0], "%" PRId64, s.events);
    snprintf(n[1], sizeof n[1], "%" PRId64, s.records);
    snprintf(n[2], sizeof n[2], "%" PRId64, s.rejected);
    snprintf(n[3], sizeof n[3], "%" PRId64, s.incidents_frozen);
    snprintf(n[4], sizeof n[4], "%" PRId64, s.links);
    am_log(ctx->log, AM_LOG_INFO, "pruned", "before", am_time_format(horizon, when), "events", n[0],
           "records", n[1], "rejected", n[2], "incidents_frozen", n[3], "links", n[4], NULL);
}

/* A store failure for want of space pauses the consumer instead of
 * counting against its retries (ingest/kafka.h). */
static int store_failure(const consume_ctx_t *ctx)
{
    return store_failed_full(ctx->st) ? INGEST_KAFKA_SINK_FULL : -1;
}

/* --- metrics hooks (cli/metrics.h); each does nothing without metrics ---- */

static void metrics_record(consume_ctx_t *ctx, const am_record_t *rec, int rc, const char *err)
{
    if (!ctx->metrics)
        return;
    if (rc == 0)
        cli_metrics_record(ctx->metrics, rec->topic);
    else
        cli_metrics_failed(ctx->metrics, cli_pipeline_stats(ctx->pipeline), err);
}

/* Once a batch committed: its counts and latency (since commit_began), and
 * the incidents it changed. */
static void metrics_committed(consume_ctx_t *ctx)
{
    if (!ctx->metrics)
        return;
    cli_metrics_committed(ctx->metrics, cli_pipeline_stats(ctx->pipeline),
                          am_monotonic_s() - ctx->commit_began);
    size_t n = ctx->engine ? corr_engine_changed_count(ctx->engine) : 0;
    char why[1024];
    for (size_t i = 0; i < n; i++)
        if (cli_metrics_incident(ctx->metrics, ctx->st, corr_engine_changed_id(ctx->engine, i), why,
                                 sizeof why) != 0)
            am_log(ctx->log, AM_LOG_ERROR, "incident metrics not updated", "error", why, NULL);
    if (n > 0 && cli_metrics_count_open(ctx->metrics, ctx->st, why, sizeof why) != 0)
        am_log(ctx->log, AM_LOG_ERROR, "open incidents not counted", "error", why, NULL);
}

/* The consumer's view, after each batch and every second: the snapshot is
 * rendered again at most every 200 ms (a busy stream commits many batches
 * a second; the next view, within a second, publishes the rest). */
static void sink_observe(void *arg, const ingest_kafka_view_t *view)
{
    consume_ctx_t *ctx = arg;
    double now = am_monotonic_s();
    cli_metrics_consumer(ctx->metrics, view);
    if (now - ctx->published_at >= 0.2) {
        cli_metrics_publish(ctx->metrics);
        ctx->published_at = now;
    }
}

/* --- the sink -------------------------------------------------------------- */

static int sink_record(void *arg, const am_record_t *rec, char *err, size_t errlen)
{
    consume_ctx_t *ctx = arg;
    int rc = cli_pipeline_record(ctx->pipeline, rec, err, errlen);
    metrics_record(ctx, rec, rc, err);
    return rc != 0 ? store_failure(ctx) : 0;
}

/* Delivers what the committed batches changed (drafts, incidents topic)
 * and then empties the outbox of it. A failure is logged and the changes
 * stay listed, to be delivered again after the next batch (or on
 * restart): the store, not the topic, is the record. */
static void publish_changes(consume_ctx_t *ctx)
{
    if (!ctx->engine)
        return;
    size_t n = corr_engine_changed_count(ctx->engine);
    char err[1024];
    bool delivered = true;
    if (n == 0)
        return;
    if (ctx->drafts &&
        cli_write_drafts(ctx->st, ctx->engine, ctx->drafts, ctx->log, err, sizeof err) < 0) {
        am_log(ctx->log, AM_LOG_ERROR, "drafts not written", "error", err, NULL);
        delivered = false;
    }
    for (size_t i = 0; ctx->pub && i < n; i++) {
        const char *id = corr_engine_changed_id(ctx->engine, i);
        json_t *inc = corr_incident_json(ctx->st, id, err, sizeof err);
        json_t *doc = json_object();
        json_object_set_new(doc, "schema_version", json_integer(1));
        if (inc && strcmp(json_string_value(json_object_get(inc, "id")), id) != 0) {
            json_object_set_new(doc, "id", json_string(id));
            json_object_set(doc, "merged_into", json_object_get(inc, "id"));
        } else if (inc) {
            json_object_set(doc, "incident", inc);
        }
        char *text = json_dumps(doc, JSON_COMPACT);
        if (inc && cli_publish_send(ctx->pub, id, text, strlen(text), err, sizeof err) == 0) {
            ctx->published++;
        } else if (inc) {
            am_log(ctx->log, AM_LOG_ERROR, "incident not published", "incident", id, "error", err,
                   NULL);
            delivered = false;
        }
        free(text);
        json_decref(doc);
        json_decref(inc);
    }
    if (ctx->pub && cli_publish_flush(ctx->pub, 10000, err, sizeof err) != 0) {
        am_log(ctx->log, AM_LOG_ERROR, "incident changes not delivered (retried later)", "error",
               err, NULL);
        delivered = false;
    }
    if (delivered && corr_engine_changed_done(ctx->engine, err, sizeof err) != 0)
        am_log(ctx->log, AM_LOG_ERROR, "outbox not emptied (the changes will be sent again)",
               "error", err, NULL);
}

static int commit_batch(void *arg, const ingest_kafka_pos_t *pos, size_t npos, char *err,
                        size_t errlen)
{
    consume_ctx_t *ctx = arg;
    if (ctx->dlq && ingest_producer_pending(ctx->dlq) > 0) {
        char why[1024];
        if (ingest_producer_flush(ctx->dlq, 10000, why, sizeof why) != 0)
            am_log(ctx->log, AM_LOG_ERROR,
                   "dead-letter delivery failed (the records are in the rejected table)", "topic",
                   ctx->dlq_topic, "error", why, NULL);
    }
    for (size_t i = 0; i < npos; i++)
        if (cli_pipeline_offset(ctx->pipeline, pos[i].topic, pos[i].partition, pos[i].next, err,
                                errlen) != 0)
            return store_failure(ctx);
    if (cli_pipeline_flush(ctx->pipeline, err, errlen) != 0)
        return store_failure(ctx);
    metrics_committed(ctx); /* before publish_changes clears the changed incidents */
    publish_changes(ctx);
    maybe_prune(ctx, ctx->commit_began);
    return 0;
}

/* The sink's commit: commit_batch, timed and counted for the metrics. */
static int sink_commit(void *arg, const ingest_kafka_pos_t *pos, size_t npos, char *err,
                       size_t errlen)
{
    consume_ctx_t *ctx = arg;
    ctx->commit_began = am_monotonic_s();
    int rc = commit_batch(ctx, pos, npos, err, errlen);
    if (rc != 0 && ctx->metrics)
        cli_metrics_failed(ctx->metrics, cli_pipeline_stats(ctx->pipeline), err);
    return rc;
}

static int sink_stored(void *arg, const char *topic, int32_t partition, int64_t *next, char *err,
                       size_t errlen)
{
    consume_ctx_t *ctx = arg;
    return store_get_offset(ctx->st, topic, partition, next, err, errlen);
}

static uint64_t sink_events(void *arg)
{
    consume_ctx_t *ctx = arg;
    return cli_pipeline_stats(ctx->pipeline)->events;
}

/* Every refused record (cli_pipeline_on_reject): counted for the metrics,
 * and copied to the dead-letter topic if there is one. */
static void dead_letter(void *arg, const am_record_t *rec, const char *reason)
{
    consume_ctx_t *ctx = arg;
    char place[AM_PLACE_LEN], err[1024];
    if (ctx->metrics)
        cli_metrics_reject(ctx->metrics, reason);
    if (!ctx->dlq)
        return;
    const ingest_header_t extra[] = {
        {"aftermath-reason", reason},
        {"aftermath-place", am_record_place(rec, place)},
    };
    /* A record whose own headers are unusable still goes, without them. */
    am_record_t copy = *rec;
    if (ingest_producer_send(ctx->dlq, &copy, ctx->dlq_topic, 0, extra, 2, err, sizeof err) != 0) {
        copy.headers = NULL;
        if (ingest_producer_send(ctx->dlq, &copy, ctx->dlq_topic, 0, extra, 2, err, sizeof err) !=
            0) {
            am_log(ctx->log, AM_LOG_ERROR, "dead letter not sent", "place", place, "error", err,
                   NULL);
            return;
        }
    }
    ctx->dead_lettered++;
}

int cli_consume(const cli_config_t *cfg, store_t *st, corr_engine_t *engine,
                const cli_consume_opts_t *o, const am_log_t *log, cli_consume_result_t *result,
                char *err, size_t errlen)
{
    int rc = -1;
    ingest_limits_t limits;
    cli_config_limits(cfg, &limits);
    ingest_decoder_t *dec = NULL;
    ingest_kafka_t *k = NULL;
    consume_ctx_t ctx = {.st = st,
                         .engine = engine,
                         .log = log,
                         .dlq_topic = cfg->dead_letter_topic,
                         .drafts = cfg->drafts,
                         .metrics = o ? o->metrics : NULL,
                         .retention_ms = cfg->retention_ms,
                         .pruned_at = -1};
    ingest_kafka_prop_t *props = am_xcalloc(cfg->nkafka + 1, sizeof *props);
    ingest_kafka_topic_t *topics = am_xcalloc(cfg->ntopics + 1, sizeof *topics);
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESETHAND}, old_int, old_term;
    int handlers = 0;

    for (size_t i = 0; i < cfg->nkafka; i++)
        props[i] = (ingest_kafka_prop_t){cfg->kafka[i].name, cfg->kafka[i].value};
    for (size_t i = 0; i < cfg->ntopics; i++)
        topics[i] = (ingest_kafka_topic_t){cfg->topics[i].name, cfg->topics[i].format};

    dec = cli_config_decoder(cfg, &limits);
    ctx.pipeline = cli_pipeline_create(st, dec, engine, "auto", log, SIZE_MAX);
    if (engine && cfg->incidents_topic) {
        ctx.pub = cli_publish_create(cfg, log, err, errlen);
        if (!ctx.pub)
            goto done;
    }
    if (cfg->dead_letter_topic) {
        ctx.dlq = ingest_producer_create(props, cfg->nkafka, log, err, errlen);
        if (!ctx.dlq)
            goto done;
    }
    if (ctx.dlq || ctx.metrics)
        cli_pipeline_on_reject(ctx.pipeline, dead_letter, &ctx);

    /* Changes committed but not delivered before (a crash, replay,
     * recorrelate) go out first. */
    if (engine) {
        if (corr_engine_changed_load(engine, err, errlen) != 0)
            goto done;
        if (corr_engine_changed_count(engine) > 0) {
            char count[32];
            snprintf(count, sizeof count, "%zu", corr_engine_changed_count(engine));
            am_log(log, AM_LOG_INFO, "delivering incident changes left in the outbox", "count",
                   count, NULL);
        }
        publish_changes(&ctx);
        maybe_prune(&ctx, am_monotonic_s());
    }

    stop_requested = 0;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    handlers = 1;

    ingest_kafka_options_t kopts = {
        .props = props,
        .nprops = cfg->nkafka,
        .group = cli_config_group(cfg),
        .topics = topics,
        .ntopics = cfg->ntopics,
        .batch_records = (size_t)cfg->batch_size,
        .batch_ms = (int)cfg->batch_timeout_ms,
        .stats_interval_ms = (int)cfg->stats_interval_ms,
        .max_records = o ? o->max_records : 0,
        .idle_exit_ms = o ? o->idle_exit_ms : 0,
        .deadline_ms = o ? o->deadline_ms : 0,
        .store_retries = 5,
        .stop = &stop_requested,
        .log = log,
    };
    ingest_kafka_sink_t sink = {
        .ctx = &ctx,
        .record = sink_record,
        .commit = sink_commit,
        .stored = sink_stored,
        .events = sink_events,
        .observe = ctx.metrics ? sink_observe : NULL,
    };
    k = ingest_kafka_create(&kopts, &sink, err, errlen);
    if (!k)
        goto done;
    am_log(log, AM_LOG_INFO, "consumer started", "group", cli_config_group(cfg), "store", store_path(st),
           NULL);
    rc = ingest_kafka_run(k, err, errlen);
    if (result) {
        result->pipeline = *cli_pipeline_stats(ctx.pipeline);
        result->kafka = *ingest_kafka_stats(k);
        result->dead_lettered = ctx.dead_lettered;
        result->published = ctx.published;
    }

done:
    ingest_kafka_destroy(k);
    if (handlers) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    ingest_producer_destroy(ctx.dlq);
    cli_publish_destroy(ctx.pub);
    cli_pipeline_destroy(ctx.pipeline);
    ingest_decoder_destroy(dec);
    free(topics);
    free(props);
    return rc;
}
