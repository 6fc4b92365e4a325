/*
 * view.c - role view's apply path: each document of the incidents topic
 * is applied to the view's store (correlate/replica.h) in the batch's
 * transaction, with the partition's offset, so that a view restarted at
 * any point resumes exactly where its store says. A malformed document
 * goes to the rejected table like any refused record; the incidents a
 * committed batch changed get their drafts and their metrics.
 */
#include "run/daemon_int.h"
#include "run/draft_select.h"
#include "correlate/replica.h"
#include "ingest/decode.h"
#include "common/time.h"

#include <inttypes.h>
#include <stdio.h>

void run_view_report(const am_log_t *log, run_registry_t *metrics, store_t *st, int64_t *warned)
{
    corr_replica_view_state_t vs;
    char err[1024];
    if (corr_replica_view_state(st, &vs, err, sizeof err) != 0) {
        am_log(log, AM_LOG_ERROR, "view state not read", "error", err, NULL);
        return;
    }
    if (metrics)
        run_registry_view(metrics, vs.waiting, vs.waiting_since, vs.oldest, vs.stale_docs);
    if (warned && corr_replica_wait_overdue(&vs, am_wall_ms()) && *warned != vs.waiting_since) {
        char n[32], since[AM_TIME_STRLEN];
        snprintf(n, sizeof n, "%" PRId64, vs.waiting);
        am_log(log, AM_LOG_WARN,
               "incident waiting for its parts longer than the correlators' snapshot bound: its "
               "last complete state is served (is its correlator down, paused, or its partition "
               "idle?)",
               "incident", vs.oldest, "since", am_time_format(vs.waiting_since, since), "waiting",
               n, NULL);
        *warned = vs.waiting_since;
    }
}

/* Role view: drafts of what the committed batches changed. */
void run_view_deliver(consume_ctx_t *ctx, unit_t *u)
{
    char n[32], m[32];
    run_view_report(ctx->log, ctx->metrics, u->st, &u->overdue_warned);
    if (u->stale_docs != u->stale_logged) {
        snprintf(n, sizeof n, "%" PRIu64, u->stale_docs - u->stale_logged);
        snprintf(m, sizeof m, "%" PRIu64, u->stale_docs);
        am_log(ctx->log, AM_LOG_WARN,
               "stale incident documents dropped: a correlator published after the one that took "
               "its partition over",
               "count", n, "total", m, NULL);
        u->stale_logged = u->stale_docs;
    }
    if (u->waiting != u->waiting_logged) {
        snprintf(n, sizeof n, "%zu", u->waiting);
        am_log(ctx->log, u->waiting ? AM_LOG_WARN : AM_LOG_INFO,
               u->waiting ? "incidents incomplete: waiting for their parts (each keeps its last "
                            "complete state)"
                          : "every incident complete",
               "incidents", n, NULL);
        u->waiting_logged = u->waiting;
    }
    if (u->changed.n == 0)
        return;
    char err[1024];
    if (ctx->drafts &&
        run_write_drafts_of(u->st, (const char *const *)u->changed.v, u->changed.n, ctx->drafts,
                            ctx->drafts_no_links, ctx->log, err, sizeof err) < 0) {
        am_log(ctx->log, AM_LOG_ERROR, "drafts not written (retried after the next batch)", "error",
               err, NULL);
        return;
    }
    am_strset_clear(&u->changed);
}

/* Role view: one incidents-topic document into the open transaction. */
int run_view_record(consume_ctx_t *ctx, unit_t *u, const am_record_t *rec, char *err, size_t errlen)
{
    if (!u->in_tx) {
        if (store_begin(u->st, err, errlen) != 0)
            return -1;
        u->in_tx = true;
    }
    u->in_batch = true;
    u->stats.records++;
    char why[1024] = "";
    int rc = CORR_REPLICA_REJECTED;
    json_error_t jerr;
    json_t *doc = rec->payload ? json_loadb(rec->payload, rec->len, 0, &jerr) : NULL;
    if (!rec->payload)
        snprintf(why, sizeof why, "%s", INGEST_REASON_NULL);
    else if (!doc)
        snprintf(why, sizeof why, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
                 jerr.text);
    else
        rc = corr_replica_apply_counted(u->st, doc, &u->pending, &u->stale_docs, why, sizeof why);
    json_decref(doc);
    if (rc == 0) {
        u->stats.events++;
        u->stats.stored++;
        return 0;
    }
    if (rc == CORR_REPLICA_REJECTED) {
        char place[AM_PLACE_LEN];
        u->stats.rejected++;
        am_log(ctx->log, AM_LOG_WARN, "record rejected", "place", am_record_place(rec, place),
               "reason", why, NULL);
        if (store_put_rejected(u->st, rec, why, err, errlen) == 0) {
            if (ctx->metrics)
                run_registry_reject(ctx->metrics, why);
            return 0;
        }
    } else {
        am_errf(err, errlen, "%s", why);
    }
    store_rollback(u->st);
    u->in_tx = false;
    am_strset_clear(&u->pending);
    return -1;
}

int run_view_offset(unit_t *u, const ingest_kafka_pos_t *pos, char *err, size_t errlen)
{
    if (!u->in_tx) {
        if (store_begin(u->st, err, errlen) != 0)
            return -1;
        u->in_tx = true;
    }
    return store_set_offset(u->st, pos->topic, pos->partition, pos->next, err, errlen);
}

int run_view_commit(unit_t *u, char *err, size_t errlen)
{
    if (!u->in_tx)
        return 0;
    /* Summaries whose parts came after them, or that were incomplete. */
    if (corr_replica_settle(u->st, &u->pending, &u->waiting, err, errlen) != 0) {
        run_view_abort(u);
        return -1;
    }
    u->in_tx = false;
    if (store_commit(u->st, err, errlen) != 0) {
        store_rollback(u->st);
        am_strset_clear(&u->pending);
        return -1;
    }
    for (size_t i = 0; i < u->pending.n; i++)
        am_strset_add(&u->changed, u->pending.v[i], NULL);
    return 0;
}

void run_view_abort(unit_t *u)
{
    if (!u->in_tx)
        return;
    store_rollback(u->st);
    u->in_tx = false;
    am_strset_clear(&u->pending);
}
