/*
 * pipeline.c - decode, store, count; one transaction per batch.
 *
 * A refused record never stops the stream: it is stored in rejected with
 * the place and the reason, and the records around it go on. Only a store
 * failure stops the pipeline, after rolling the batch back, so a caller
 * that tracks positions (Kafka offsets) can retry from the batch start.
 */
#include "cli/pipeline.h"
#include "common/buf.h"

#include <stdlib.h>

struct cli_pipeline {
    store_t *st;
    ingest_decoder_t *dec;
    corr_engine_t *engine;
    const char *format;
    const am_log_t *log;
    size_t batch;
    size_t in_batch;
    int in_tx;
    am_event_list_t events;
    store_outcome_t *outcome;
    size_t outcome_cap;
    cli_stats_t stats;
    cli_reject_fn on_reject;
    void *on_reject_ctx;
};

cli_pipeline_t *cli_pipeline_create(store_t *st, ingest_decoder_t *dec, corr_engine_t *engine,
                                    const char *format, const am_log_t *log, size_t batch)
{
    cli_pipeline_t *p = am_xcalloc(1, sizeof *p);
    p->st = st;
    p->dec = dec;
    p->engine = engine;
    p->format = format ? format : "auto";
    p->log = log;
    p->batch = batch ? batch : 1000;
    return p;
}

void cli_pipeline_destroy(cli_pipeline_t *p)
{
    if (!p)
        return;
    if (p->in_tx)
        store_rollback(p->st);
    am_event_list_free(&p->events);
    free(p->outcome);
    free(p);
}

static int reject(cli_pipeline_t *p, const am_record_t *rec, const char *reason, char *err,
                  size_t errlen)
{
    char place[AM_PLACE_LEN];
    p->stats.rejected++;
    am_log(p->log, AM_LOG_WARN, "record rejected", "place", am_record_place(rec, place), "reason",
           reason, NULL);
    if (store_put_rejected(p->st, rec, reason, err, errlen) != 0)
        return -1;
    if (p->on_reject)
        p->on_reject(p->on_reject_ctx, rec, reason);
    return 0;
}

void cli_pipeline_on_reject(cli_pipeline_t *p, cli_reject_fn fn, void *ctx)
{
    p->on_reject = fn;
    p->on_reject_ctx = ctx;
}

int cli_pipeline_offset(cli_pipeline_t *p, const char *topic, int32_t partition,
                        int64_t next_offset, char *err, size_t errlen)
{
    if (!p->in_tx) {
        if (store_begin(p->st, err, errlen) != 0)
            return -1;
        p->in_tx = 1;
    }
    if (store_set_offset(p->st, topic, partition, next_offset, err, errlen) != 0) {
        store_rollback(p->st);
        p->in_tx = 0;
        p->in_batch = 0;
        return -1;
    }
    return 0;
}

int cli_pipeline_record(cli_pipeline_t *p, const am_record_t *rec, char *err, size_t errlen)
{
    char why[768];
    if (!p->in_tx) {
        if (store_begin(p->st, err, errlen) != 0)
            return -1;
        p->in_tx = 1;
    }
    p->stats.records++;
    am_event_list_clear(&p->events);
    int rc;
    if (!rec->payload) {
        rc = reject(p, rec, INGEST_REASON_NULL, err, errlen);
    } else if (ingest_decode_record(p->dec, rec, p->format, &p->events, why, sizeof why) != 0) {
        rc = reject(p, rec, why, err, errlen);
    } else {
        if (p->events.n > p->outcome_cap) {
            p->outcome_cap = p->events.n;
            p->outcome = am_xrealloc(p->outcome, p->outcome_cap * sizeof *p->outcome);
        }
        rc = store_put(p->st, rec, &p->events, p->outcome, err, errlen);
        for (size_t i = 0; rc == 0 && i < p->events.n; i++) {
            p->stats.events++;
            if (p->outcome[i] == STORE_NEW) {
                p->stats.stored++;
                p->stats.by_kind[p->events.v[i].kind]++;
            } else {
                p->stats.duplicates++;
                p->stats.earlier += p->outcome[i] == STORE_EARLIER;
            }
            /* The correlator sees what the store took as new or earlier. */
            if (p->engine && p->outcome[i] != STORE_DUPLICATE)
                rc = corr_engine_add(p->engine, &p->events.v[i], err, errlen);
        }
    }
    if (rc != 0) {
        store_rollback(p->st);
        p->in_tx = 0;
        p->in_batch = 0;
        return -1;
    }
    if (++p->in_batch >= p->batch)
        return cli_pipeline_flush(p, err, errlen);
    return 0;
}

int cli_pipeline_flush(cli_pipeline_t *p, char *err, size_t errlen)
{
    if (!p->in_tx)
        return 0;
    p->in_tx = 0;
    p->in_batch = 0;
    if ((p->engine && corr_engine_flush(p->engine, err, errlen) != 0) ||
        store_commit(p->st, err, errlen) != 0) {
        store_rollback(p->st);
        return -1;
    }
    return 0;
}

const cli_stats_t *cli_pipeline_stats(const cli_pipeline_t *p)
{
    return &p->stats;
}
