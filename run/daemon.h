/*
 * daemon.h - the daemon: the Kafka consumer wired to the pipeline, the
 * store, the correlator and the HTTP endpoint, in one of its roles; the
 * one consuming path, run by `aftermath run` against real brokers and by
 * `aftermath demo` against the in-process mock cluster.
 */
#ifndef RUN_DAEMON_H
#define RUN_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "run/config.h"
#include "run/pipeline.h"
#include "common/log.h"
#include "correlate/engine.h"
#include "ingest/kafka.h"
#include "store/store.h"

/* The daemon: `aftermath run` in any role, and `aftermath demo`. */
typedef struct run_daemon run_daemon_t;

typedef struct run_daemon_opts {
    uint64_t max_records; /* stop once this many records are committed; 0 = no limit */
    int idle_exit_ms;     /* stop once every partition has been at its end this long; 0 = never */
    int deadline_ms;      /* fail after this long; 0 = never */
    bool drafts_no_links; /* drafts without any URL (run --no-links) */
} run_daemon_opts_t;

typedef struct run_daemon_result {
    run_stats_t pipeline;       /* decoded, stored, rejected, ... (retried batches count twice) */
    ingest_kafka_stats_t kafka; /* records and batches committed */
    uint64_t dead_lettered;     /* refused records copied to the dead-letter topic */
    uint64_t published;         /* incident changes published */
} run_daemon_result_t;

/* Why run_daemon_create() failed: the configuration (exit 2: a listen
 * address taken, rules that do not load) or the machine (exit 1: a
 * database that cannot be opened). */
typedef enum run_daemon_error {
    RUN_DAEMON_ECONFIG = 2,
    RUN_DAEMON_EFAILED = 1,
} run_daemon_error_t;

/* Makes a daemon for cfg (borrowed: it must outlive the daemon; it must
 * pass run_config_check). In this order, so that a configuration error
 * shows before anything is consumed: listens on cfg->metrics unless it
 * is off (/metrics, /healthz), loads cfg->rules (the built-in rules when
 * none), opens the store of its role (role correlate: one per keyed
 * partition later, as they are assigned) and, in role all, the correlator
 * with cfg's limits, and loads the incident histograms from the store
 * (roles all and view). o may be NULL (no limits). Returns the daemon
 * (owned), or NULL with err and *why. */
run_daemon_t *run_daemon_create(const run_config_t *cfg, const run_daemon_opts_t *o,
                                const am_log_t *log, run_daemon_error_t *why, char *err,
                                size_t errlen);

/* Consumes in cfg->role until SIGINT or SIGTERM (handled only while this
 * runs: the open batch is committed; a second SIGINT ends the process at
 * once, which loses nothing), a limit of the options, or a failure:
 * - all: cfg's topics into the store, correlated in each batch's
 *   transaction; the incidents a batch changed are published to
 *   cfg->incidents_topic once it committed;
 * - decode: cfg's topics to cfg->keyed_topic under the rules; the store
 *   keeps refused records and offsets;
 * - correlate: cfg->keyed_topic into one store per partition under
 *   cfg->store (a directory), correlated under the rules;
 * - view: cfg->incidents_topic applied to the store (run/view.c).
 * result, when not NULL, receives the counts. Returns 0 on such a stop,
 * -1 with err on a runtime failure (fatal Kafka error, store failing after
 * retries, a keyed topic that does not exist). Run it once. */
int run_daemon_run(run_daemon_t *d, run_daemon_result_t *result, char *err, size_t errlen);

/* Where the webhook receiver listens ("host:port", the port chosen when
 * cfg said 0), or NULL without one. Borrowed. */
const char *run_daemon_receive_address(const run_daemon_t *d);

/* The daemon's store (borrowed), or NULL in role correlate. */
store_t *run_daemon_store(const run_daemon_t *d);

/* Stops listening and closes everything. Accepts NULL. */
void run_daemon_destroy(run_daemon_t *d);

#endif
