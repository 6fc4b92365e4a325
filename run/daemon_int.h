/*
 * daemon_int.h - the daemon's private state, shared by daemon.c (the
 * consume loop and its roles) and view.c (role view's apply path). No
 * other file includes it.
 */
#ifndef RUN_DAEMON_INT_H
#define RUN_DAEMON_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/strset.h"
#include "ingest/producer.h"
#include "run/daemon.h"
#include "run/publish.h"
#include "correlate/replica.h"
#include "run/registry.h"
#include "run/rekey.h"

/* Where the records of one partition go: a store, maybe a correlator, a
 * pipeline (none in role view). */
typedef struct unit {
    int32_t part;             /* keyed partition (role correlate), else -1 */
    store_t *st;              /* owned in role correlate, else borrowed */
    corr_engine_t *engine;    /* owned in role correlate; NULL: none */
    run_pipeline_t *pipeline; /* NULL in role view */
    int64_t catchup;          /* publish nothing before this offset is stored; -1: caught up */
    bool in_batch;            /* records or offsets in the open batch */
    /* role view */
    bool in_tx;
    am_strset_t changed; /* incidents changed by committed batches, not yet delivered */
    am_strset_t pending; /* ... by the open batch */
    uint64_t stale_docs, stale_logged; /* documents dropped as older than the view's */
    size_t waiting, waiting_logged;    /* incidents whose parts have not all come */
    int64_t overdue_warned;            /* waiting_since of the last overdue warning */
    run_stats_t stats;
} unit_t;

typedef struct consume_ctx {
    const run_config_t *cfg;
    run_role_t role;
    unit_t *units;
    size_t nunits, capunits;
    const corr_rules_t *rules;
    ingest_decoder_t *dec;
    int32_t nparts; /* role correlate: the keyed topic's partitions */
    run_rekey_t *keyed;
    run_publish_t *pub;
    const char *drafts;
    bool drafts_no_links;
    uint64_t published;
    corr_replica_pub_stats_t pub_stats; /* incidents topic records, parts, bytes */
    ingest_producer_t *dlq;
    const char *dlq_topic;
    const am_log_t *log;
    uint64_t dead_lettered;
    run_registry_t *metrics; /* NULL: no metrics endpoint */
    double commit_began;     /* monotonic seconds, for the commit latency */
    double published_at;     /* monotonic seconds of the last snapshot */
    int64_t retention_ms;    /* prune what is older, hourly; 0 = never */
    double pruned_at;        /* monotonic seconds of the last prune, or < 0 */
    run_stats_t total;       /* the units' stats added up */
} consume_ctx_t;

/* Role view (view.c). One incidents-topic document into u's open
 * transaction (begun on first use); a malformed one goes to the rejected
 * table. Returns 0, or -1 with err (rolled back). */
int run_view_record(consume_ctx_t *ctx, unit_t *u, const am_record_t *rec, char *err,
                    size_t errlen);

/* The partition's next offset, in the open transaction. */
int run_view_offset(unit_t *u, const ingest_kafka_pos_t *pos, char *err, size_t errlen);

/* Commits the open transaction; the incidents it changed are then due for
 * delivery. Returns 0, or -1 with err (rolled back). */
int run_view_commit(unit_t *u, char *err, size_t errlen);

/* Rolls the open transaction back, if any. */
void run_view_abort(unit_t *u);

/* The view's waiting incidents and stale documents, from st, into
 * metrics (/metrics, /healthz) when not NULL; a warning when the oldest
 * wait is overdue (once per incident and start of its wait: *warned
 * keeps when it began). Logged when they cannot be read. */
void run_view_report(const am_log_t *log, run_registry_t *metrics, store_t *st, int64_t *warned);

/* Drafts of what the committed batches changed (kept for the next batch
 * when they cannot be written). */
void run_view_deliver(consume_ctx_t *ctx, unit_t *u);

#endif
