/*
 * consume.h - the Kafka consumer wired to the pipeline and the store: the
 * one consuming path, run by `aftermath run` against real brokers and by
 * `aftermath demo` against the in-process mock cluster.
 */
#ifndef RUN_DAEMON_H
#define RUN_DAEMON_H

#include <stddef.h>
#include <stdint.h>

#include "run/config.h"
#include "run/registry.h"
#include "run/pipeline.h"
#include "common/log.h"
#include "correlate/engine.h"
#include "ingest/kafka.h"
#include "store/store.h"

typedef struct run_consume_opts {
    uint64_t max_records; /* stop once this many records are committed; 0 = no limit */
    int idle_exit_ms;     /* stop once every partition has been at its end this long; 0 = never */
    int deadline_ms;      /* fail after this long; 0 = never */
    run_registry_t *metrics; /* borrowed; receives the pipeline's figures and publishes them;
                               NULL = none */
} run_consume_opts_t;

typedef struct run_consume_result {
    run_stats_t pipeline;       /* decoded, stored, rejected, ... (retried batches count twice) */
    ingest_kafka_stats_t kafka; /* records and batches committed */
    uint64_t dead_lettered;     /* refused records copied to the dead-letter topic */
    uint64_t published;         /* incident changes published */
} run_consume_result_t;

/* Consumes in cfg->role (cfg must pass run_config_check) until SIGINT or
 * SIGTERM (handled only while this runs: the open batch is committed; a
 * second SIGINT ends the process at once, which loses nothing), a limit
 * of o, or a failure:
 * - all: cfg's topics into st (borrowed, open), correlating with engine
 *   (borrowed; NULL: store only) in each batch's transaction, and
 *   publishing the incidents a batch changed to cfg->incidents_topic once
 *   it committed;
 * - decode: cfg's topics to cfg->keyed_topic under rules (borrowed);
 *   st keeps refused records and offsets; engine unused (NULL);
 * - correlate: cfg->keyed_topic into one store per partition under
 *   cfg->store (a directory), correlated under rules; st and engine
 *   unused (NULL);
 * - view: cfg->incidents_topic applied to st; engine unused (NULL).
 * result, when not NULL, receives the counts. Returns 0 on such a stop,
 * -1 with err on a runtime failure (fatal Kafka error, store failing after
 * retries, a keyed topic that does not exist). */
int run_consume(const run_config_t *cfg, store_t *st, corr_engine_t *engine,
                const corr_rules_t *rules, const run_consume_opts_t *o, const am_log_t *log,
                run_consume_result_t *result, char *err, size_t errlen);

#endif
