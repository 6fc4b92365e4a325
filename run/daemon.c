/*
 * daemon.c - the daemon: Kafka records through the pipeline into the
 * store, with the partitions' next offsets in the same transaction as the
 * events; what it needs for its role is made by run_daemon_create().
 *
 * The consumer (ingest/kafka.c) decides when a batch ends; this file is
 * its sink: each record goes through run_pipeline_record() (decode, store
 * or reject), and a batch commit writes the offsets with
 * run_pipeline_offset() and commits with run_pipeline_flush(). The
 * pipeline is created with an unbounded batch so that it never commits on
 * its own.
 *
 * Incident changes: after a batch commits, every incident the correlator
 * opened or changed in it is published to incidents_topic in parts
 * (correlate/replica.h, corr_replica_publish: the episodes and linked
 * events that changed, each under its own key, then the summary under the
 * incident's id; an incident merged into another: a merge notice), with
 * as_of, the offset the store reflects, which fences an instance that lost
 * its partition. Publication follows the commit, so nothing is published
 * that the store does not hold; the batch's transaction also records the
 * changed incidents in the outbox table, emptied once they are delivered,
 * so a crash between commit and delivery re-delivers them on restart (at
 * least once, as a snapshot: a repeat is harmless). A delivery that fails
 * makes every incident's next publication a snapshot. Drafts of resolved
 * incidents follow the same path.
 *
 * Roles (run_role_t, docs/scaling.md). The same loop serves the staged
 * topology; what differs is where records go, as "units" (a store, maybe
 * a correlator, a pipeline):
 * - all: one unit, the store given, decoding source records as above.
 * - decode: one unit whose pipeline hands decoded events to the keyed
 *   topic (run/rekey.h) instead of storing them; its store keeps the
 *   refused records and the offsets. The keyed producer is flushed before
 *   the batch commits, so a source offset moves only past records the
 *   broker has acknowledged; partitions without a stored offset start at
 *   the group's committed one (another decode instance's work).
 * - correlate: one unit per keyed partition assigned, each its own store
 *   (<store>/keyed-<p>.db) and correlator owning that partition's keys,
 *   created at assignment and starting at its stored offset (a new one at
 *   offset 0: the partition's whole history rebuilds its state). A batch
 *   commits unit by unit; a failure in one retries the batch, which the
 *   units already committed take as duplicates. While a unit catches up
 *   with the high watermark seen at assignment, its changes wait in its
 *   outbox; once there, it publishes every incident it changed, so readers
 *   never see a rebuild's intermediate states replace newer ones.
 * - view: one unit without pipeline (run/view.c): each incidents-topic
 *   document is applied to the store (correlate/replica.h) in the batch's
 *   transaction, with the offsets; a malformed one goes to the rejected
 *   table. Drafts and metrics follow the incidents it changed.
 *
 * Dead letters: a refused record is stored in the rejected table by the
 * pipeline, and, with dead_letter_topic set, produced there unchanged with
 * 'aftermath-reason' and 'aftermath-place' headers. The producer is
 * flushed before the batch commits, so a dead letter is delivered at
 * least once (a batch written again after a store failure sends it
 * again); a dead letter that cannot be delivered is logged and does not
 * hold the partition back, since the rejected table has the record.
 */
#include "run/daemon.h"
#include "run/daemon_int.h"
#include "run/endpoint.h"
#include "run/ui.h"
#include "run/http.h"
#include "run/receive.h"
#include "ingest/acked.h"
#include "run/draft_select.h"
#include "run/rekey.h"
#include "run/registry.h"
#include "run/publish.h"
#include "common/buf.h"
#include "common/time.h"
#include "correlate/incident.h"
#include "correlate/prune.h"
#include "correlate/replica.h"
#include "ingest/keyed.h"
#include "ingest/producer.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

#define PRUNE_EVERY_S 3600.0

/* The units' figures, added up, for the metrics and the result. */
static const run_stats_t *totals(consume_ctx_t *ctx)
{
    run_stats_t t = {0};
    for (size_t i = 0; i < ctx->nunits; i++) {
        const unit_t *u = &ctx->units[i];
        const run_stats_t *s = u->pipeline ? run_pipeline_stats(u->pipeline) : &u->stats;
        t.records += s->records;
        t.events += s->events;
        t.stored += s->stored;
        t.duplicates += s->duplicates;
        t.earlier += s->earlier;
        t.rejected += s->rejected;
        for (int k = 0; k < AM_KIND_COUNT; k++)
            t.by_kind[k] += s->by_kind[k];
    }
    ctx->total = t;
    return &ctx->total;
}

/* Retention (config: retention): at start and then hourly, between
 * batches, drops what is older than retention (correlate/prune.h) in
 * every correlated store. A failure is logged and tried again at the next
 * hour; it never stops the consumer. */
static void maybe_prune(consume_ctx_t *ctx, double now)
{
    if (!ctx->retention_ms || (ctx->pruned_at >= 0 && now - ctx->pruned_at < PRUNE_EVERY_S))
        return;
    ctx->pruned_at = now;
    for (size_t i = 0; i < ctx->nunits; i++) {
        unit_t *u = &ctx->units[i];
        if (!u->engine)
            continue;
        char err[1024], when[AM_TIME_STRLEN], n[5][32];
        int64_t horizon = am_wall_ms() - ctx->retention_ms;
        corr_prune_stats_t s;
        if (corr_prune(u->st, horizon, false, &s, err, sizeof err) != 0) {
            am_log(ctx->log, AM_LOG_ERROR, "prune failed (retried in an hour)", "store",
                   store_path(u->st), "error", err, NULL);
            continue;
        }
        snprintf(n[0], sizeof n[0], "%" PRId64, s.events);
        snprintf(n[1], sizeof n[1], "%" PRId64, s.records);
        snprintf(n[2], sizeof n[2], "%" PRId64, s.rejected);
        snprintf(n[3], sizeof n[3], "%" PRId64, s.incidents_frozen);
        snprintf(n[4], sizeof n[4], "%" PRId64, s.links);
        am_log(ctx->log, AM_LOG_INFO, "pruned", "store", store_path(u->st), "before",
               am_time_format(horizon, when), "events", n[0], "records", n[1], "rejected", n[2],
               "incidents_frozen", n[3], "links", n[4], NULL);
    }
}

/* A store failure for want of space pauses the consumer instead of
 * counting against its retries (ingest/kafka.h). */
static int store_failure(const unit_t *u)
{
    return u && store_failed_full(u->st) ? INGEST_KAFKA_SINK_FULL : -1;
}

/* --- units ------------------------------------------------------------------ */

static void dead_letter(void *arg, const am_record_t *rec, const char *reason);

/* The unit of a keyed partition, or NULL. */
static unit_t *unit_of_part(consume_ctx_t *ctx, int32_t part)
{
    for (size_t i = 0; i < ctx->nunits; i++)
        if (ctx->units[i].part == part)
            return &ctx->units[i];
    return NULL;
}

/* The unit records of partition part go to. */
static unit_t *unit_for(consume_ctx_t *ctx, int32_t part)
{
    return ctx->role == RUN_ROLE_CORRELATE ? unit_of_part(ctx, part) : &ctx->units[0];
}

static unit_t *unit_add(consume_ctx_t *ctx)
{
    if (ctx->nunits == ctx->capunits) {
        ctx->capunits = ctx->capunits ? 2 * ctx->capunits : 8;
        ctx->units = am_xrealloc(ctx->units, ctx->capunits * sizeof *ctx->units);
    }
    unit_t *u = &ctx->units[ctx->nunits++];
    *u = (unit_t){.part = -1, .catchup = -1};
    return u;
}

static void unit_free(consume_ctx_t *ctx, unit_t *u)
{
    run_pipeline_destroy(u->pipeline);
    if (ctx->role == RUN_ROLE_CORRELATE) {
        corr_engine_destroy(u->engine);
        store_close(u->st);
    }
    am_strset_free(&u->changed);
    am_strset_free(&u->pending);
}

/* Role correlate: the unit of keyed partition part, opened (created) on
 * first use with its outbox loaded. Returns NULL with err. */
static unit_t *unit_open(consume_ctx_t *ctx, int32_t part, char *err, size_t errlen)
{
    unit_t *u = unit_of_part(ctx, part);
    if (u)
        return u;
    if (mkdir(ctx->cfg->store, 0700) != 0 && errno != EEXIST) {
        am_errf(err, errlen, "%s: cannot create the store directory: %s", ctx->cfg->store,
                strerror(errno));
        return NULL;
    }
    am_buf_t path = {0};
    am_buf_printf(&path, "%s/keyed-%" PRId32 ".db", ctx->cfg->store, part);
    /* The keyed topic keeps the records: no raw copy in the store. An
     * instance may hold many partitions: 8 MiB of page cache each. */
    store_options_t so = {.keep_raw = 0, .cache_mib = 8};
    store_t *st = store_open(path.p, &so, err, errlen);
    am_buf_free(&path);
    if (!st)
        return NULL;
    corr_options_t copts = {
        .max_open_groups = (size_t)ctx->cfg->max_open_groups, .nparts = ctx->nparts, .part = part};
    corr_stale_topic_t *stale;
    run_config_stale(ctx->cfg, &copts, &stale);
    corr_engine_t *engine = corr_engine_create(st, ctx->rules, ctx->log, &copts, err, errlen);
    free(stale);
    if (!engine || corr_engine_changed_load(engine, err, errlen) != 0) {
        corr_engine_destroy(engine);
        store_close(st);
        return NULL;
    }
    u = unit_add(ctx);
    u->part = part;
    u->st = st;
    u->engine = engine;
    /* Keyed records repeat only when a decode instance sends a batch again:
     * a small repeat skip (512 KiB). */
    u->pipeline = run_pipeline_create_sized(st, ctx->dec, engine, INGEST_FORMAT_KEYED, ctx->log,
                                            SIZE_MAX, 16 * 1024);
    if (ctx->dlq || ctx->metrics)
        run_pipeline_on_reject(u->pipeline, dead_letter, ctx);
    char p[16];
    snprintf(p, sizeof p, "%" PRId32, part);
    am_log(ctx->log, AM_LOG_INFO, "keyed partition store opened", "partition", p, "store",
           store_path(st), NULL);
    return u;
}

/* --- metrics hooks (run/registry.h); each does nothing without metrics ---- */

static void metrics_record(consume_ctx_t *ctx, const am_record_t *rec, int rc, const char *err)
{
    if (!ctx->metrics)
        return;
    if (rc == 0)
        run_registry_record(ctx->metrics, rec->topic);
    else
        run_registry_failed(ctx->metrics, totals(ctx), err);
}

/* Once a batch committed: its counts and latency (since commit_began), and
 * the incidents it changed (roles all and view: a correlator's store
 * holds only its partitions' incidents; the view has the whole). */
static void metrics_committed(consume_ctx_t *ctx, unit_t *u, const char *const *ids, size_t n)
{
    if (!ctx->metrics)
        return;
    run_registry_committed(ctx->metrics, totals(ctx), am_monotonic_s() - ctx->commit_began);
    if (ctx->role == RUN_ROLE_CORRELATE || ctx->role == RUN_ROLE_DECODE || !u)
        return;
    char why[1024];
    for (size_t i = 0; i < n; i++)
        if (run_registry_incident(ctx->metrics, u->st, ids[i], why, sizeof why) != 0)
            am_log(ctx->log, AM_LOG_ERROR, "incident metrics not updated", "error", why, NULL);
    if (n > 0 && run_registry_count_open(ctx->metrics, u->st, why, sizeof why) != 0)
        am_log(ctx->log, AM_LOG_ERROR, "open incidents not counted", "error", why, NULL);
}

/* The consumer's view, after each batch and every second: the snapshot is
 * rendered again at most every 200 ms (a busy stream commits many batches
 * a second; the next view, within a second, publishes the rest). */
static void sink_observe(void *arg, const ingest_kafka_view_t *view)
{
    consume_ctx_t *ctx = arg;
    double now = am_monotonic_s();
    run_registry_consumer(ctx->metrics, view);
    if (now - ctx->published_at >= 0.2) {
        run_registry_publish(ctx->metrics);
        ctx->published_at = now;
    }
}

/* --- delivery of changes ------------------------------------------------------ */

/* The engine's changed ids as an array (borrowed strings; free the array). */
static const char **changed_ids(const corr_engine_t *e, size_t *n)
{
    *n = corr_engine_changed_count(e);
    const char **ids = am_xcalloc(*n + 1, sizeof *ids);
    for (size_t i = 0; i < *n; i++)
        ids[i] = corr_engine_changed_id(e, i);
    return ids;
}

/* corr_replica_send_fn onto the incidents topic. */
static int send_document(void *arg, const char *key, const char *value, size_t len, char *err,
                         size_t errlen)
{
    return run_publish_send(arg, key, value, len, err, errlen);
}

static int add_offset(void *arg, const char *topic, int32_t partition, int64_t next)
{
    (void)topic;
    (void)partition;
    *(int64_t *)arg += next;
    return 0;
}

/* The epoch of u's documents (as_of): the next offset of its keyed
 * partition (role correlate), which a successor that took the partition
 * over has reached or passed before it publishes; in role all, the sum of
 * the stored offsets (one instance: it only grows). */
static int unit_as_of(consume_ctx_t *ctx, unit_t *u, int64_t *as_of, char *err, size_t errlen)
{
    *as_of = 0;
    if (ctx->role == RUN_ROLE_CORRELATE) {
        if (store_get_offset(u->st, ctx->cfg->keyed_topic, u->part, as_of, err, errlen) != 0)
            return -1;
        if (*as_of < 0)
            *as_of = 0;
        return 0;
    }
    return store_scan_offsets(u->st, add_offset, as_of, err, errlen);
}

/* Delivers what a correlated unit's committed batches changed (drafts,
 * incidents topic) and then empties its outbox of it. A failure is logged
 * and the changes stay listed, to be delivered again after the next batch
 * (or on restart): the store, not the topic, is the record. A unit still
 * catching up delivers nothing yet. */
static void publish_changes(consume_ctx_t *ctx, unit_t *u)
{
    if (!u->engine || u->catchup >= 0)
        return;
    size_t n;
    const char **ids = changed_ids(u->engine, &n);
    char err[1024];
    bool delivered = true;
    if (n == 0) {
        free(ids);
        return;
    }
    if (ctx->drafts && run_write_drafts_of(u->st, ids, n, ctx->drafts, ctx->drafts_no_links,
                                           ctx->log, err, sizeof err) < 0) {
        am_log(ctx->log, AM_LOG_ERROR, "drafts not written", "error", err, NULL);
        delivered = false;
    }
    int64_t as_of = 0;
    if (ctx->pub && unit_as_of(ctx, u, &as_of, err, sizeof err) != 0) {
        am_log(ctx->log, AM_LOG_ERROR, "incidents not published", "error", err, NULL);
        free(ids);
        return;
    }
    for (size_t i = 0; ctx->pub && i < n; i++) {
        uint64_t before = ctx->pub_stats.records;
        if (corr_replica_publish(u->st, ids[i], as_of, send_document, ctx->pub, &ctx->pub_stats,
                                 err, sizeof err) != 0) {
            am_log(ctx->log, AM_LOG_ERROR, "incident not published", "incident", ids[i], "error",
                   err, NULL);
            delivered = false;
        } else if (ctx->pub_stats.records > before) {
            ctx->published++;
        }
    }
    free(ids);
    if (ctx->pub && run_publish_flush(ctx->pub, 10000, err, sizeof err) != 0) {
        am_log(ctx->log, AM_LOG_ERROR, "incident changes not delivered (retried later)", "error",
               err, NULL);
        delivered = false;
    }
    /* Parts not delivered: each incident goes whole next time. */
    if (ctx->pub && !delivered && corr_replica_forget(u->st, err, sizeof err) != 0)
        am_log(ctx->log, AM_LOG_ERROR, "publication state not reset", "error", err, NULL);
    if (delivered && corr_engine_changed_done(u->engine, err, sizeof err) != 0)
        am_log(ctx->log, AM_LOG_ERROR, "outbox not emptied (the changes will be sent again)",
               "error", err, NULL);
}

/* Incidents published in changes since a snapshot older than
 * CORR_REPLICA_SNAPSHOT_AGE_MS go again as snapshots, and what was sent of
 * incidents resolved and published before then is forgotten
 * (docs/scaling.md, "Bounded waits"): a view left waiting by parts a
 * stale correlator overwrote gets a whole incident within that time of
 * the incident's snapshot, and the publication state stays bounded. */
static void publish_snapshots(consume_ctx_t *ctx, unit_t *u)
{
    if (!ctx->pub || !u->engine || u->catchup >= 0)
        return;
    am_strset_t due = {0};
    int64_t forgotten = 0, as_of = 0, now = am_wall_ms();
    char err[1024];
    if (corr_replica_sweep(u->st, now, CORR_REPLICA_SNAPSHOT_AGE_MS, &due, &forgotten, err,
                           sizeof err) != 0) {
        am_log(ctx->log, AM_LOG_ERROR, "publication state not aged", "error", err, NULL);
        am_strset_free(&due);
        return;
    }
    if (due.n == 0 || unit_as_of(ctx, u, &as_of, err, sizeof err) != 0) {
        if (due.n)
            am_log(ctx->log, AM_LOG_ERROR, "incident snapshots not published", "error", err, NULL);
        am_strset_free(&due);
        return;
    }
    bool delivered = true;
    for (size_t i = 0; i < due.n && delivered; i++)
        if (corr_replica_publish_at(u->st, due.v[i], as_of, now, true, send_document, ctx->pub,
                                    &ctx->pub_stats, err, sizeof err) != 0) {
            am_log(ctx->log, AM_LOG_ERROR, "incident snapshot not published", "incident", due.v[i],
                   "error", err, NULL);
            delivered = false;
        }
    if (delivered && run_publish_flush(ctx->pub, 10000, err, sizeof err) != 0) {
        am_log(ctx->log, AM_LOG_ERROR, "incident snapshots not delivered (retried later)", "error",
               err, NULL);
        delivered = false;
    }
    if (!delivered && corr_replica_forget(u->st, err, sizeof err) != 0)
        am_log(ctx->log, AM_LOG_ERROR, "publication state not reset", "error", err, NULL);
    char n[32];
    snprintf(n, sizeof n, "%zu", due.n);
    if (delivered)
        am_log(ctx->log, AM_LOG_INFO,
               "incidents published whole again: their snapshot was older than the bound",
               "incidents", n, NULL);
    am_strset_free(&due);
}

/* --- the sink -------------------------------------------------------------- */

/* Role correlate: the rules digest a keyed record was routed by
 * (RUN_REKEY_RULES_HEADER), or "" when it names none (a record of an
 * older decode), into digest. */
static void record_digest(const am_record_t *rec, char digest[64])
{
    static const char name[] = "\"" RUN_REKEY_RULES_HEADER "\",\"";
    const char *p = rec->headers ? strstr(rec->headers, name) : NULL;
    size_t n = 0;
    if (p) {
        p += sizeof name - 1;
        while (n < 63 && p[n] && p[n] != '"')
            n++;
        memcpy(digest, p, n);
    }
    digest[n] = '\0';
}

/* Every unit's open batch rolled back (a paused batch is written again
 * from its first record). */
static void abort_all(consume_ctx_t *ctx)
{
    for (size_t i = 0; i < ctx->nunits; i++) {
        unit_t *u = &ctx->units[i];
        u->in_batch = false;
        if (u->pipeline)
            run_pipeline_abort(u->pipeline);
        else
            run_view_abort(u);
    }
}

static int sink_record(void *arg, const am_record_t *rec, char *err, size_t errlen)
{
    consume_ctx_t *ctx = arg;
    unit_t *u = unit_for(ctx, rec->partition);
    int rc;
    if (ctx->role == RUN_ROLE_CORRELATE) {
        char digest[64];
        record_digest(rec, digest);
        if (digest[0] && strcmp(digest, corr_rules_digest(ctx->rules)) != 0) {
            /* Never taken, never dropped: the consumer writes the batch
             * again until this correlator runs decode's rules. */
            am_errf(err, errlen,
                    "keyed partition %" PRId32 " offset %" PRId64
                    ": decode routed it under rules %s, this correlator runs rules %s: run "
                    "decode and correlate with the same rules (aftermath status shows both)",
                    rec->partition, rec->offset, digest, corr_rules_digest(ctx->rules));
            abort_all(ctx);
            if (ctx->metrics)
                run_registry_paused(ctx->metrics, totals(ctx), err);
            return INGEST_KAFKA_SINK_PAUSE;
        }
    }
    if (!u) {
        am_errf(err, errlen, "no store for keyed partition %" PRId32, rec->partition);
        rc = -1;
    } else if (ctx->role == RUN_ROLE_VIEW) {
        rc = run_view_record(ctx, u, rec, err, errlen);
    } else {
        u->in_batch = true;
        rc = run_pipeline_record(u->pipeline, rec, err, errlen);
    }
    metrics_record(ctx, rec, rc, err);
    return rc != 0 ? store_failure(u) : 0;
}

/* Commits one unit's part of the batch (its offsets were set). */
static int unit_commit(consume_ctx_t *ctx, unit_t *u, char *err, size_t errlen)
{
    if (ctx->role != RUN_ROLE_VIEW)
        return run_pipeline_flush(u->pipeline, err, errlen);
    return run_view_commit(u, err, errlen);
}

static int unit_offset(consume_ctx_t *ctx, unit_t *u, const ingest_kafka_pos_t *pos, char *err,
                       size_t errlen)
{
    u->in_batch = true;
    if (ctx->role != RUN_ROLE_VIEW)
        return run_pipeline_offset(u->pipeline, pos->topic, pos->partition, pos->next, err, errlen);
    return run_view_offset(u, pos, err, errlen);
}

/* After a unit committed: whether it caught up, then delivery. */
static void unit_delivered(consume_ctx_t *ctx, unit_t *u, const ingest_kafka_pos_t *pos,
                           size_t npos)
{
    for (size_t i = 0; i < npos && u->catchup >= 0; i++)
        if (unit_for(ctx, pos[i].partition) == u && pos[i].next >= u->catchup) {
            char p[16], n[32];
            snprintf(p, sizeof p, "%" PRId32, pos[i].partition);
            snprintf(n, sizeof n, "%zu", corr_engine_changed_count(u->engine));
            am_log(ctx->log, AM_LOG_INFO, "keyed partition caught up: publishing its incidents",
                   "partition", p, "incidents", n, NULL);
            u->catchup = -1;
        }
    if (ctx->role == RUN_ROLE_VIEW) {
        const char *const *ids = (const char *const *)u->pending.v;
        metrics_committed(ctx, u, ids, u->pending.n);
        am_strset_clear(&u->pending);
        run_view_deliver(ctx, u);
        return;
    }
    size_t n = 0;
    const char **ids = u->engine ? changed_ids(u->engine, &n) : NULL;
    metrics_committed(ctx, u, ids, n); /* before publish_changes clears the changed incidents */
    free(ids);
    publish_changes(ctx, u);
    publish_snapshots(ctx, u);
}

static int commit_batch(void *arg, const ingest_kafka_pos_t *pos, size_t npos, char *err,
                        size_t errlen)
{
    consume_ctx_t *ctx = arg;
    /* The offsets first: setting them hands every record still being
     * decoded to the store, or to the keyed producer, so that what is
     * flushed next is the whole batch. */
    for (size_t i = 0; i < npos; i++) {
        unit_t *u = unit_for(ctx, pos[i].partition);
        if (!u) {
            am_errf(err, errlen, "no store for keyed partition %" PRId32, pos[i].partition);
            return -1;
        }
        if (unit_offset(ctx, u, &pos[i], err, errlen) != 0)
            return store_failure(u);
    }
    if (ctx->keyed && run_rekey_flush(ctx->keyed, err, errlen) != 0)
        return -1; /* no source offset moves past a record the broker did not take */
    if (ctx->dlq && ingest_producer_pending(ctx->dlq) > 0) {
        char why[1024];
        if (ingest_producer_flush(ctx->dlq, 10000, why, sizeof why) != 0)
            am_log(ctx->log, AM_LOG_ERROR,
                   "dead-letter delivery failed (the records are in the rejected table)", "topic",
                   ctx->dlq_topic, "error", why, NULL);
    }
    for (size_t i = 0; i < ctx->nunits; i++) {
        unit_t *u = &ctx->units[i];
        if (!u->in_batch)
            continue;
        /* Every record of the batch went out with the flush above: a
         * record produced since would be committed before it is delivered. */
        if (ctx->keyed && run_rekey_pending(ctx->keyed) > 0) {
            am_errf(err, errlen, "%zu keyed records queued after the batch's flush",
                    run_rekey_pending(ctx->keyed));
            return -1;
        }
        if (unit_commit(ctx, u, err, errlen) != 0)
            return store_failure(u);
    }
    for (size_t i = 0; i < ctx->nunits; i++) {
        unit_t *u = &ctx->units[i];
        if (u->in_batch)
            unit_delivered(ctx, u, pos, npos);
        u->in_batch = false;
    }
    if (ctx->nunits == 0)
        metrics_committed(ctx, NULL, NULL, 0);
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
    if (rc != 0) {
        /* The batch is written again from its first record: the units that
         * did commit take its records as duplicates, the others start over. */
        for (size_t i = 0; i < ctx->nunits; i++) {
            unit_t *u = &ctx->units[i];
            u->in_batch = false;
            if (u->pipeline)
                run_pipeline_abort(u->pipeline);
            else
                run_view_abort(u);
        }
        if (ctx->metrics)
            run_registry_failed(ctx->metrics, totals(ctx), err);
    }
    return rc;
}

static int sink_stored(void *arg, const char *topic, int32_t partition, int64_t *next, char *err,
                       size_t errlen)
{
    consume_ctx_t *ctx = arg;
    unit_t *u =
        ctx->role == RUN_ROLE_CORRELATE ? unit_open(ctx, partition, err, errlen) : &ctx->units[0];
    return u ? store_get_offset(u->st, topic, partition, next, err, errlen) : -1;
}

/* Role correlate: a partition assigned catches up with what it holds
 * before it publishes. */
static void sink_assigned(void *arg, const char *topic, int32_t partition, int64_t next,
                          int64_t end)
{
    consume_ctx_t *ctx = arg;
    (void)topic;
    unit_t *u = unit_of_part(ctx, partition);
    if (!u)
        return;
    /* The partition may come back after another instance published its
     * incidents: what this one sent before says nothing of what views hold
     * now, so each incident goes whole (a snapshot) next time. */
    char why[1024];
    if (ctx->pub && corr_replica_forget(u->st, why, sizeof why) != 0)
        am_log(ctx->log, AM_LOG_ERROR, "publication state not reset", "error", why, NULL);
    int64_t from = next < 0 ? 0 : next;
    u->catchup = end > from ? end : -1;
    char p[16], a[32], b[32];
    snprintf(p, sizeof p, "%" PRId32, partition);
    snprintf(a, sizeof a, "%" PRId64, from);
    snprintf(b, sizeof b, "%" PRId64, end);
    if (end < 0)
        am_log(ctx->log, AM_LOG_WARN, "keyed partition end unknown: publishing while it catches up",
               "partition", p, NULL);
    else if (u->catchup >= 0)
        am_log(ctx->log, AM_LOG_INFO, "keyed partition catching up (publishing when done)",
               "partition", p, "from", a, "to", b, NULL);
    else
        publish_changes(ctx, u); /* an outbox left by an earlier run */
}

static uint64_t sink_events(void *arg)
{
    return totals(arg)->events;
}

/* Every refused record (run_pipeline_on_reject): counted for the metrics,
 * and copied to the dead-letter topic if there is one. */
static void dead_letter(void *arg, const am_record_t *rec, const char *reason)
{
    consume_ctx_t *ctx = arg;
    char place[AM_PLACE_LEN], err[1024];
    if (ctx->metrics)
        run_registry_reject(ctx->metrics, reason);
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

/* Role correlate: the keyed topic's partition count, which every
 * partition's store remembers (a change of count would send keys
 * elsewhere: refused), and a check that the incidents topic has one
 * partition: an incident renamed (an earlier alert, a merge) is published
 * under its new id and noticed under its old one, and a view must read
 * those documents in the order they were written, which Kafka keeps only
 * within a partition (docs/scaling.md). */
static int keyed_partitions(consume_ctx_t *ctx, char *err, size_t errlen)
{
    ingest_producer_t *p = run_publish_producer(ctx->cfg, ctx->log, err, errlen);
    if (!p)
        return -1;
    int32_t inc = 0;
    int rc = ingest_producer_partitions(p, ctx->cfg->keyed_topic, &ctx->nparts, 30000, err, errlen);
    if (rc == 0)
        rc = ingest_producer_partitions(p, ctx->cfg->incidents_topic, &inc, 30000, err, errlen);
    if (rc == 0 && inc != 1) {
        am_errf(err, errlen,
                "incidents topic %s has %" PRId32 " partitions: the staged topology needs exactly "
                "1, so that views read an incident's documents in the order they were written "
                "(docs/scaling.md)",
                ctx->cfg->incidents_topic, inc);
        rc = -1;
    }
    ingest_producer_destroy(p);
    return rc;
}

/* The consume loop of run_daemon_run(), on the daemon's parts. */
static int consume(const run_config_t *cfg, store_t *st, corr_engine_t *engine,
                   const corr_rules_t *rules, const run_daemon_opts_t *o, run_registry_t *metrics,
                   const am_log_t *log, run_daemon_result_t *result, char *err, size_t errlen)
{
    int rc = -1;
    ingest_limits_t limits;
    run_config_limits(cfg, &limits);
    ingest_kafka_t *k = NULL;
    consume_ctx_t ctx = {.cfg = cfg,
                         .role = cfg->role,
                         .rules = rules,
                         .log = log,
                         .dlq_topic = cfg->dead_letter_topic,
                         .drafts = cfg->drafts,
                         .drafts_no_links = o && o->drafts_no_links,
                         .metrics = metrics,
                         .retention_ms = cfg->retention_ms,
                         .pruned_at = -1};
    ingest_kafka_prop_t *props = am_xcalloc(cfg->nkafka + 1, sizeof *props);
    ingest_kafka_topic_t *topics = am_xcalloc(cfg->ntopics + 1, sizeof *topics);
    size_t ntopics = 0;
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESETHAND}, old_int, old_term;
    int handlers = 0;

    for (size_t i = 0; i < cfg->nkafka; i++)
        props[i] = (ingest_kafka_prop_t){cfg->kafka[i].name, cfg->kafka[i].value};
    if (cfg->role == RUN_ROLE_CORRELATE)
        topics[ntopics++] = (ingest_kafka_topic_t){cfg->keyed_topic, INGEST_FORMAT_KEYED};
    else if (cfg->role == RUN_ROLE_VIEW)
        topics[ntopics++] = (ingest_kafka_topic_t){cfg->incidents_topic, NULL};
    else
        for (size_t i = 0; i < cfg->ntopics; i++)
            topics[ntopics++] = (ingest_kafka_topic_t){cfg->topics[i].name, cfg->topics[i].format};

    ctx.dec = run_config_decoder(cfg, &limits);
    if (cfg->role != RUN_ROLE_CORRELATE) {
        unit_t *u = unit_add(&ctx);
        u->st = st;
        u->engine = cfg->role == RUN_ROLE_ALL ? engine : NULL;
        if (cfg->role != RUN_ROLE_VIEW)
            u->pipeline = run_pipeline_create(st, ctx.dec, u->engine, "auto", log, SIZE_MAX);
    } else if (keyed_partitions(&ctx, err, errlen) != 0) {
        goto done;
    }
    if (cfg->role == RUN_ROLE_DECODE) {
        ctx.keyed = run_rekey_create(cfg, rules, log, err, errlen);
        if (!ctx.keyed)
            goto done;
        run_pipeline_forward(ctx.units[0].pipeline, run_rekey_send, ctx.keyed);
    }
    if ((cfg->role == RUN_ROLE_ALL && engine) || cfg->role == RUN_ROLE_CORRELATE) {
        if (cfg->incidents_topic) {
            ctx.pub = run_publish_create(cfg, log, err, errlen);
            if (!ctx.pub)
                goto done;
        }
    }
    if (cfg->dead_letter_topic && cfg->role != RUN_ROLE_VIEW) {
        ctx.dlq = ingest_producer_create(props, cfg->nkafka, log, err, errlen);
        if (!ctx.dlq)
            goto done;
    }
    if ((ctx.dlq || ctx.metrics) && ctx.nunits && ctx.units[0].pipeline)
        run_pipeline_on_reject(ctx.units[0].pipeline, dead_letter, &ctx);

    /* Changes committed but not delivered before (a crash, replay,
     * recorrelate) go out first. */
    if (cfg->role == RUN_ROLE_ALL && engine) {
        if (corr_engine_changed_load(engine, err, errlen) != 0)
            goto done;
        if (corr_engine_changed_count(engine) > 0) {
            char count[32];
            snprintf(count, sizeof count, "%zu", corr_engine_changed_count(engine));
            am_log(log, AM_LOG_INFO, "delivering incident changes left in the outbox", "count",
                   count, NULL);
        }
        publish_changes(&ctx, &ctx.units[0]);
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
        .group = run_config_group(cfg),
        .topics = topics,
        .ntopics = ntopics,
        .batch_records = (size_t)cfg->batch_size,
        .batch_ms = (int)cfg->batch_timeout_ms,
        .stats_interval_ms = (int)cfg->stats_interval_ms,
        .max_records = o ? o->max_records : 0,
        .idle_exit_ms = o ? o->idle_exit_ms : 0,
        .deadline_ms = o ? o->deadline_ms : 0,
        .store_retries = 5,
        .start = cfg->role == RUN_ROLE_DECODE      ? INGEST_KAFKA_START_COMMITTED
                 : cfg->role == RUN_ROLE_CORRELATE ? INGEST_KAFKA_START_BEGINNING
                 : cfg->role == RUN_ROLE_VIEW      ? INGEST_KAFKA_START_BEGINNING
                                                   : INGEST_KAFKA_START_RESET,
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
        .assigned = cfg->role == RUN_ROLE_CORRELATE ? sink_assigned : NULL,
    };
    k = ingest_kafka_create(&kopts, &sink, err, errlen);
    if (!k)
        goto done;
    am_log(log, AM_LOG_INFO, "consumer started", "role", run_role_name(cfg->role), "group",
           run_config_group(cfg), "store",
           cfg->role == RUN_ROLE_CORRELATE ? cfg->store : store_path(st), NULL);
    rc = ingest_kafka_run(k, err, errlen);
    if (result) {
        result->pipeline = *totals(&ctx);
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
    run_publish_destroy(ctx.pub);
    run_rekey_destroy(ctx.keyed);
    for (size_t i = 0; i < ctx.nunits; i++)
        unit_free(&ctx, &ctx.units[i]);
    free(ctx.units);
    ingest_decoder_destroy(ctx.dec);
    free(topics);
    free(props);
    return rc;
}

/* --- the daemon ------------------------------------------------------------- */

struct run_daemon {
    const run_config_t *cfg;
    run_daemon_opts_t opts;
    const am_log_t *log;
    run_registry_t *metrics; /* NULL: metrics off */
    run_endpoint_t *http;
    run_ui_t *ui; /* the web pages under /ui/ (roles all and view), or NULL */
    /* the webhook receiver, when cfg->receive */
    ingest_acked_t *acked;
    run_receive_t *rx;
    run_http_t *rxhttp;
    corr_rules_t *rules;
    store_t *st;           /* NULL in role correlate */
    corr_engine_t *engine; /* role all only */
    bool ran;
};

/* --- the webhook receiver's glue (run/receive.h on run/http.h) --------------- */

static int rx_send(void *opaque, const char *topic, const char *key, const char *value, size_t len,
                   int64_t ts_ms, const ingest_header_t *headers, size_t nheaders, char *err,
                   size_t errlen)
{
    return ingest_acked_send(opaque, topic, key, value, len, ts_ms, headers, nheaders, err, errlen);
}

static const char *rx_header(const void *ctx, const char *name)
{
    return run_http_request_header(ctx, name);
}

static void rx_each(const void *ctx, run_receive_header_cb fn, void *arg)
{
    run_http_request_each_header(ctx, fn, arg);
}

static void on_webhook(void *opaque, const run_http_request_t *req, run_http_reply_t *reply)
{
    run_daemon_t *d = opaque;
    char peer[64];
    size_t len = 0;
    const char *body = run_http_request_body(req, &len);
    run_receive_request_t q = {.method = run_http_request_method(req),
                               .path = run_http_request_path(req),
                               .header = rx_header,
                               .each_header = rx_each,
                               .ctx = req,
                               .body = body,
                               .len = len,
                               .peer = run_http_request_peer(req, peer)};
    run_receive_answer_t a;
    run_receive_handle(d->rx, &q, &a);
    reply->status = a.status;
    reply->type = "application/json";
    reply->retry_after = a.retry_after > 0 ? (unsigned)a.retry_after : 0;
    reply->www_authenticate = a.challenge;
    json_t *doc = json_pack("{s:s}", a.status < 300 ? "status" : "error", a.message);
    char *text = json_dumps(doc, JSON_COMPACT);
    am_buf_puts(&reply->body, text);
    am_buf_putc(&reply->body, '\n');
    free(text);
    json_decref(doc);
}

/* The receive listener's own liveness: 200 while its producer reaches the
 * brokers, else 503 (a load balancer then sends the webhooks elsewhere). */
static void on_rx_health(void *opaque, const run_http_request_t *req, run_http_reply_t *reply)
{
    run_daemon_t *d = opaque;
    (void)req;
    bool up = ingest_acked_up(d->acked);
    reply->status = up ? 200 : 503;
    reply->type = "application/json";
    am_buf_puts(&reply->body, up ? "{\"healthy\":true}\n"
                                 : "{\"healthy\":false,\"state\":"
                                   "\"broker_down\"}\n");
}

/* The receiver's counters in /metrics: per source and outcome, and its
 * listener's connection counters. */
static void rx_expose(void *arg, am_buf_t *out)
{
    run_daemon_t *d = arg;
    run_receive_expose(d->rx, out);
}

/* Starts the receiver: its producer, its checks (credential files read
 * now), its listener. */
static int rx_start(run_daemon_t *d, char *err, size_t errlen)
{
    const run_config_t *cfg = d->cfg;
    ingest_kafka_prop_t *props = am_xcalloc(cfg->nkafka + 1, sizeof *props);
    for (size_t i = 0; i < cfg->nkafka; i++)
        props[i] = (ingest_kafka_prop_t){cfg->kafka[i].name, cfg->kafka[i].value};
    d->acked = ingest_acked_create(props, cfg->nkafka, (int)cfg->receive_ack_timeout_ms, d->log,
                                   err, errlen);
    free(props);
    if (!d->acked)
        return -1;
    d->rx = run_receive_create(cfg, rx_send, d->acked, d->log, err, errlen);
    if (!d->rx)
        return -1;
    const run_http_route_t routes[] = {
        {.method = "POST",
         .path = "/webhook/",
         .max_body = (size_t)cfg->receive_max_body,
         .handler = on_webhook,
         .opaque = d},
        {.method = "GET", .path = "/healthz", .handler = on_rx_health, .opaque = d},
    };
    /* A request may wait for the broker's acknowledgement: the deadline
     * leaves it that long and more. */
    run_http_limits_t lim = run_http_limits_default();
    if (lim.deadline_ms < (unsigned)cfg->receive_ack_timeout_ms + 5000)
        lim.deadline_ms = (unsigned)cfg->receive_ack_timeout_ms + 5000;
    d->rxhttp = run_http_start("webhook", cfg->receive, routes, sizeof routes / sizeof routes[0],
                               &lim, err, errlen);
    if (!d->rxhttp)
        return -1;
    size_t n;
    const run_config_webhook_t *w = run_config_webhooks(cfg, &n);
    am_buf_t names = {0};
    for (size_t i = 0; i < n; i++) {
        am_buf_printf(&names, "%s%s->%s", i ? "," : "", w[i].name, w[i].topic);
        if (cfg->role == RUN_ROLE_ALL && !run_config_topic(cfg, w[i].topic))
            am_log(d->log, AM_LOG_WARN,
                   "a webhook source's topic is not among the topics run reads: its events reach "
                   "Kafka but not this store",
                   "source", w[i].name, "topic", w[i].topic, NULL);
    }
    am_log(d->log, AM_LOG_INFO, "webhook receiver listening", "address",
           run_http_address(d->rxhttp), "sources", names.p, NULL);
    am_buf_free(&names);
    return 0;
}

run_daemon_t *run_daemon_create(const run_config_t *cfg, const run_daemon_opts_t *o,
                                const am_log_t *log, run_daemon_error_t *why, char *err,
                                size_t errlen)
{
    run_daemon_t *d = am_xcalloc(1, sizeof *d);
    d->cfg = cfg;
    d->log = log;
    if (o)
        d->opts = *o;
    *why = RUN_DAEMON_ECONFIG;
    /* Listening first: a taken port or an unreadable credential file is a
     * configuration error, before anything is consumed. */
    if (cfg->receive && rx_start(d, err, errlen) != 0)
        goto init_error;
    if (cfg->metrics) {
        d->metrics = run_registry_create(AFTERMATH_VERSION, am_wall_ms());
        /* The web pages where the incidents are; their store connection
         * opens at the first request (the store is opened below). */
        run_http_route_t ui_routes[3];
        size_t nui = 0;
        if (cfg->role == RUN_ROLE_ALL || cfg->role == RUN_ROLE_VIEW) {
            d->ui = run_ui_create(cfg->store, 0, err, errlen);
            /* Edits write to the store served, as `correct --db` does: only
             * where that store is the one correlated (role all). */
            if (cfg->ui_edit_token_file && cfg->role != RUN_ROLE_ALL) {
                am_errf(err, errlen,
                        "ui_edit_token_file: only in role all (the view's store is a copy; "
                        "use aftermath correct --config)");
                goto init_error;
            }
            if (cfg->ui_edit_token_file &&
                run_ui_set_edit_token_file(d->ui, cfg->ui_edit_token_file, err, errlen) != 0)
                goto init_error;
            nui = run_ui_routes(d->ui, 0, ui_routes);
        }
        d->http =
            run_endpoint_start_routes(cfg->metrics, d->metrics, NULL, d->rxhttp,
                                      d->rx ? rx_expose : NULL, d, ui_routes, nui, err, errlen);
        if (!d->http)
            goto init_error;
        am_log(log, AM_LOG_INFO, "metrics endpoint listening", "address",
               run_endpoint_address(d->http), NULL);
    }
    if (cfg->role == RUN_ROLE_RECEIVE)
        return d; /* no rules, no store: the receiver alone */
    d->rules = corr_rules_load_files(cfg->rules, cfg->nrules, err, errlen);
    if (!d->rules)
        goto init_error;
    /* A correlator keeps one store per keyed partition (opened as they
     * are assigned); every other role one store. */
    if (cfg->role != RUN_ROLE_CORRELATE) {
        d->st = store_open(cfg->store, NULL, err, errlen);
        if (!d->st) {
            *why = RUN_DAEMON_EFAILED;
            goto init_error;
        }
    }
    if (cfg->role == RUN_ROLE_ALL) {
        corr_options_t copts = {.max_open_groups = (size_t)cfg->max_open_groups};
        corr_stale_topic_t *stale;
        run_config_stale(cfg, &copts, &stale);
        d->engine = corr_engine_create(d->st, d->rules, log, &copts, err, errlen);
        free(stale);
        if (!d->engine)
            goto init_error;
    }
    if (d->metrics) {
        /* The incident histograms come from where the incidents are. */
        if ((cfg->role == RUN_ROLE_ALL || cfg->role == RUN_ROLE_VIEW) &&
            run_registry_load(d->metrics, d->st, err, errlen) != 0) {
            *why = RUN_DAEMON_EFAILED;
            goto init_error;
        }
        if (cfg->role == RUN_ROLE_VIEW)
            run_view_report(d->log, d->metrics, d->st, NULL);
        run_registry_publish(d->metrics);
    }
    return d;

init_error:
    run_daemon_destroy(d);
    return NULL;
}

/* Role receive: the listener does the work; this thread keeps the health
 * current until a signal or the deadline. */
static int receive_only(run_daemon_t *d, run_daemon_result_t *result)
{
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESETHAND}, old_int, old_term;
    stop_requested = 0;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    double began = am_monotonic_s();
    while (!stop_requested &&
           (!d->opts.deadline_ms || am_monotonic_s() - began < d->opts.deadline_ms / 1000.0)) {
        if (d->metrics) {
            run_registry_receiver(d->metrics, ingest_acked_up(d->acked));
            run_registry_publish(d->metrics);
        }
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (result) {
        *result = (run_daemon_result_t){0};
        uint64_t acked, failed;
        ingest_acked_counts(d->acked, &acked, &failed);
        result->kafka.records = acked;
    }
    return 0;
}

int run_daemon_run(run_daemon_t *d, run_daemon_result_t *result, char *err, size_t errlen)
{
    if (d->ran) {
        am_errf(err, errlen, "the daemon has already run");
        return -1;
    }
    d->ran = true;
    if (d->cfg->role == RUN_ROLE_RECEIVE)
        return receive_only(d, result);
    return consume(d->cfg, d->st, d->engine, d->rules, &d->opts, d->metrics, d->log, result, err,
                   errlen);
}

const char *run_daemon_receive_address(const run_daemon_t *d)
{
    return d->rxhttp ? run_http_address(d->rxhttp) : NULL;
}

store_t *run_daemon_store(const run_daemon_t *d)
{
    return d->st;
}

void run_daemon_destroy(run_daemon_t *d)
{
    if (!d)
        return;
    if (d->metrics) {
        run_registry_stopping(d->metrics);
        run_registry_publish(d->metrics);
    }
    run_endpoint_stop(d->http);
    run_ui_destroy(d->ui);
    run_http_stop(d->rxhttp); /* no request in flight once it returns */
    run_receive_destroy(d->rx);
    ingest_acked_destroy(d->acked);
    run_registry_destroy(d->metrics);
    corr_engine_destroy(d->engine);
    store_close(d->st);
    corr_rules_destroy(d->rules);
    free(d);
}
