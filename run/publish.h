/*
 * publish.h - incident changes out to Kafka: each change a JSON document,
 * keyed by incident id, on the configured incidents_topic, so that other
 * systems can follow along (a compacted topic keeps the latest of each).
 *
 * The correlator builds the documents (with their schema version field);
 * this module only delivers them, through an idempotent producer with the
 * config's kafka: properties. Call run_publish_flush() after the store
 * transaction that recorded the changes has committed: a crash in between
 * re-publishes on restart (at least once), never publishes what the store
 * does not hold.
 */
#ifndef RUN_PUBLISH_H
#define RUN_PUBLISH_H

#include <stddef.h>

#include "run/config.h"
#include "common/log.h"
#include "ingest/producer.h"

typedef struct run_publish run_publish_t;

/* A publisher for cfg->incidents_topic; cfg and log are borrowed (log must
 * outlive it). Returns NULL with err set to "" when cfg has no
 * incidents_topic (publishing is off), NULL with a message on failure. */
run_publish_t *run_publish_create(const run_config_t *cfg, const am_log_t *log, char *err,
                                  size_t errlen);

/* A producer for aftermath's own documents (incidents topic, keyed topic):
 * cfg's kafka: properties over 16 MiB records and lz4 compression. NULL
 * with err when librdkafka refuses the properties. */
ingest_producer_t *run_publish_producer(const run_config_t *cfg, const am_log_t *log, char *err,
                                        size_t errlen);

/* Queues json (len bytes) keyed by key (the incident id). Returns 0, or
 * -1 with err. */
int run_publish_send(run_publish_t *p, const char *key, const char *json, size_t len, char *err,
                     size_t errlen);

/* Waits up to timeout_ms for delivery. Returns 0 when everything sent
 * since the previous flush was delivered, -1 with err otherwise. */
int run_publish_flush(run_publish_t *p, int timeout_ms, char *err, size_t errlen);

/* Flushes for at most 5 s and frees. Accepts NULL. */
void run_publish_destroy(run_publish_t *p);

#endif
