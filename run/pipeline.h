/*
 * pipeline.h - the one path every record takes, whatever its source:
 * decode -> store (-> correlate), in batches of one transaction.
 *
 * Sources (replay, the Kafka consumer) hand records to
 * run_pipeline_record(); the pipeline owns nothing it is given.
 */
#ifndef RUN_PIPELINE_H
#define RUN_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "common/record.h"
#include "correlate/engine.h"
#include "ingest/decode.h"
#include "store/store.h"

typedef struct run_stats {
    uint64_t records;    /* records read */
    uint64_t events;     /* events decoded */
    uint64_t stored;     /* events stored for the first time */
    uint64_t duplicates; /* events already stored */
    uint64_t earlier;    /* duplicates that moved observed_at back */
    uint64_t rejected;   /* records refused */
    /* stored, by am_kind_t */
    uint64_t by_kind[AM_KIND_COUNT];
} run_stats_t;

typedef struct run_pipeline run_pipeline_t;

/* st, dec, engine and log are borrowed; engine may be NULL (store only).
 * format: "auto" or a decoder's name, for records that do not name their
 * own (am_record_t.format). batch: records per transaction; SIZE_MAX when
 * the caller ends every batch itself with run_pipeline_flush (the Kafka
 * consumer does, so that the offsets of a batch commit with its events). */
run_pipeline_t *run_pipeline_create(store_t *st, ingest_decoder_t *dec, corr_engine_t *engine,
                                    const char *format, const am_log_t *log, size_t batch);
/* The same with room for `repeats` records in the repeat skip (the
 * default is 256 Ki, 8 MiB; a correlator with a pipeline per partition,
 * whose records rarely repeat, takes less). */
run_pipeline_t *run_pipeline_create_sized(store_t *st, ingest_decoder_t *dec, corr_engine_t *engine,
                                          const char *format, const am_log_t *log, size_t batch,
                                          size_t repeats);
void run_pipeline_destroy(run_pipeline_t *p);

/* Decodes and stores one record; a refused record goes to the rejected
 * table with its reason and is logged. Returns 0, or -1 when the store
 * failed (the open batch is rolled back; err says why). */
int run_pipeline_record(run_pipeline_t *p, const am_record_t *rec, char *err, size_t errlen);

/* Stores next_offset as the position of topic/partition in the open batch
 * (opening one if needed): it commits with the batch's events or not at
 * all. Returns 0, or -1 when the store failed (the open batch is rolled
 * back; err says why). */
int run_pipeline_offset(run_pipeline_t *p, const char *topic, int32_t partition,
                        int64_t next_offset, char *err, size_t errlen);

/* Called for every refused record once it is in the rejected table, with
 * the reason; rec and reason are valid during the call only. The Kafka
 * consumer uses it for its dead-letter topic. fn may be NULL. */
typedef void (*run_reject_fn)(void *ctx, const am_record_t *rec, const char *reason);
void run_pipeline_on_reject(run_pipeline_t *p, run_reject_fn fn, void *ctx);

/* Hands the events of every decoded record to fn instead of the store
 * (the decode stage sends them on to the keyed topic): fn returns 0;
 * RUN_FORWARD_REFUSED with the reason in err, and the record is refused
 * like an undecodable one (rejected table, dead-letter topic); or -1 with
 * err, which fails the batch like a store failure. Refused records,
 * offsets and the transaction stay as they are. The stats count the
 * handed events as stored. fn NULL: store them (the default). */
#define RUN_FORWARD_REFUSED 1
typedef int (*run_forward_fn)(void *ctx, const am_record_t *rec, const am_event_list_t *events,
                              char *err, size_t errlen);
void run_pipeline_forward(run_pipeline_t *p, run_forward_fn fn, void *ctx);

/* Rolls the open batch back, if any (the caller could not finish it, e.g.
 * its events were not delivered): the records will be handed over again. */
void run_pipeline_abort(run_pipeline_t *p);

/* Brings the incidents up to date and commits the open batch, if any. */
int run_pipeline_flush(run_pipeline_t *p, char *err, size_t errlen);

const run_stats_t *run_pipeline_stats(const run_pipeline_t *p);

#endif
