/*
 * pipeline.c - decode, store, count; one transaction per batch.
 *
 * A refused record never stops the stream: it is stored in rejected with
 * the place and the reason, and the records around it go on. Only a store
 * failure stops the pipeline, after rolling the batch back, so a caller
 * that tracks positions (Kafka offsets) can retry from the batch start.
 *
 * Exact repeats are skipped before they are parsed (cli/repeats.h): a
 * record whose bytes were already taken, delivered no earlier than
 * before, would only find its events stored; it is counted as those
 * duplicates and goes no further. A rolled-back batch forgets them all.
 */

/* Records remembered for the repeat skip: 8 MiB. */
#define REPEATS_ENTRIES (256 * 1024)
#include "cli/pipeline.h"
#include "cli/repeats.h"
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
    cli_repeats_t *repeats;
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
    p->repeats = cli_repeats_create(REPEATS_ENTRIES);
    return p;
}

void cli_pipeline_destroy(cli_pipeline_t *p)
{
    if (!p)
        return;
    if (p->in_tx)
        store_rollback(p->st);
    am_event_list_free(&p->events);
    cli_repeats_destroy(p->repeats);
    free(p->outcome);
    free(p);
}

/* Rolls the open batch back; what it took is forgotten by the repeat
 * skip too, since it is no longer stored. */
static void rollback(cli_pipeline_t *p)
{
    store_rollback(p->st);
    cli_repeats_clear(p->repeats);
    p->in_tx = 0;
    p->in_batch = 0;
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
        rollback(p);
        return -1;
    }
    return 0;
}

int cli_pipeline_record(cli_pipeline_t *p, const am_record_t *rec, char *err, size_t errlen)
{
    char why[768];
    const char *format = rec->format ? rec->format : p->format;
    cli_repeats_key_t key = {0, 0};
    if (rec->payload) {
        uint32_t n;
        key = cli_repeats_key(p->repeats, format, rec->payload, rec->len);
        if (cli_repeats_skip(p->repeats, key, rec->ts, &n)) {
            p->stats.records++;
            p->stats.events += n;
            p->stats.duplicates += n;
            return 0;
        }
    }
    if (!p->in_tx) {
        if (store_begin(p->st, err, errlen) != 0)
            return -1;
        p->in_tx = 1;
    }
    p->stats.records++;
    am_event_list_clear(&p->events);
    int rc;
    if (!rec->payload) {
        rc = reject(p, rec, "record has no payload (null value)", err, errlen);
    } else if (ingest_decode(p->dec, format, rec->payload, rec->len, rec->ts, &p->events, why,
                             sizeof why) != 0) {
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
        if (rc == 0)
            cli_repeats_note(p->repeats, key, rec->ts, (uint32_t)p->events.n);
    }
    if (rc != 0) {
        rollback(p);
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
        rollback(p);
        return -1;
    }
    return 0;
}

const cli_stats_t *cli_pipeline_stats(const cli_pipeline_t *p)
{
    return &p->stats;
}
