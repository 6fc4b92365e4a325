/*
 * metrics.h - the metric registry of `aftermath run`: pipeline counters,
 * consumer lag, batch commit latency, open incidents, the incident
 * duration histograms (report/prom.h) and the consumer's health, served by
 * run/http.c at /metrics and /healthz (docs/metrics.md lists them all).
 *
 * Two threads use a registry. The consuming thread owns the live figures
 * and changes them without locking (per record, per batch, per
 * observation of the consumer); run_registry_publish() then renders them
 * into a snapshot under the registry's mutex. The HTTP thread only reads
 * the last snapshot (run_registry_scrape, run_registry_health). Every
 * function below is for the consuming thread unless it says otherwise.
 *
 * Counts follow committed batches only: the records and refusals of the
 * open batch are pending until it commits and are dropped if the store
 * rolls it back, so a batch written again is not counted twice.
 */
#ifndef RUN_REGISTRY_H
#define RUN_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "run/pipeline.h"
#include "common/buf.h"
#include "ingest/kafka.h"
#include "store/store.h"

typedef struct run_registry run_registry_t;

/* An empty registry in state "starting"; version goes to
 * aftermath_build_info, started_ms (wall clock) to
 * process_start_time_seconds. Never NULL. */
run_registry_t *run_registry_create(const char *version, int64_t started_ms);
/* Accepts NULL. No other thread may use m any more. */
void run_registry_destroy(run_registry_t *m);

/* Loads the incident histograms (every resolved incident of st) and the
 * number of open incidents. Returns 0, or -1 with err. */
int run_registry_load(run_registry_t *m, store_t *st, char *err, size_t errlen);

/* A record of the open batch, from topic (borrowed). */
void run_registry_record(run_registry_t *m, const char *topic);
/* A refused record of the open batch, with its reason (classified by
 * ingest_reject_class). */
void run_registry_reject(run_registry_t *m, const char *reason);

/* The open batch committed in `seconds` (offsets and transaction); stats
 * are the pipeline's running totals, whose growth since the last commit or
 * failure is this batch's events. Moves the pending counts to the totals. */
void run_registry_committed(run_registry_t *m, const run_stats_t *stats, double seconds);
/* The store failed and rolled the open batch back (err: why, borrowed):
 * drops the pending counts, counts a store error and sets state
 * "store_error" until the next commit. */
void run_registry_failed(run_registry_t *m, const run_stats_t *stats, const char *err);

/* After a commit: observes incident id if it resolved (once per incident)
 * and refreshes the open incident count. Returns 0, or -1 with err (the
 * figures are then unchanged). */
int run_registry_incident(run_registry_t *m, store_t *st, const char *id, char *err, size_t errlen);
int run_registry_count_open(run_registry_t *m, store_t *st, char *err, size_t errlen);

/* The consumer's view (assignment, lag, brokers); sets the state. */
void run_registry_consumer(run_registry_t *m, const ingest_kafka_view_t *view);

/* Sets state "stopping": the consumer is leaving; health turns 503. */
void run_registry_stopping(run_registry_t *m);

/* Renders the live figures into the snapshot the HTTP thread serves.
 * Cheap enough per batch; the caller need not rate-limit. */
void run_registry_publish(run_registry_t *m);

/* HTTP thread: appends the last snapshot's exposition (text format
 * 0.0.4) to out. */
void run_registry_scrape(run_registry_t *m, am_buf_t *out);

/* Consumption is paused for why (a keyed record routed under other
 * rules): the state is "paused" (unhealthy), with why in /healthz, until a
 * batch commits. Publishes the snapshot at once. */
void run_registry_paused(run_registry_t *m, const run_stats_t *stats, const char *why);

/* Role receive (no consumer): the receiver's producer reaches the
 * brokers or not; the state is then "receiving" (healthy) or
 * "broker_down". Consuming thread, then run_registry_publish. */
void run_registry_receiver(run_registry_t *m, bool brokers_up);

/* Role view: the incidents whose summary waits for parts (their number,
 * since when the oldest waits, wall ms or AM_TIME_NONE, and its id,
 * borrowed) and the stale documents dropped, as the view's store counts
 * them (correlate/replica.h corr_replica_view_state). Shown in /metrics
 * and /healthz from then on; the view stays healthy. */
void run_registry_view(run_registry_t *m, int64_t waiting, int64_t since_ms, const char *oldest,
                       int64_t stale_docs);

/* HTTP thread: appends the health document (JSON) to out and returns 1
 * when healthy: state "consuming" and a snapshot published within
 * RUN_REGISTRY_STALE_MS of now_ms (wall clock); else 0. */
#define RUN_REGISTRY_STALE_MS 60000
int run_registry_health(run_registry_t *m, int64_t now_ms, am_buf_t *out);

#endif
