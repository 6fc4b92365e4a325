/*
 * kafka.h - the Kafka source: a librdkafka high-level consumer in a
 * consumer group, whose positions live in the caller's store, not in Kafka.
 *
 * The consumer hands records to a sink in batches. A batch counts as
 * consumed only once the sink's commit() has made its records and the next
 * offset of each of its partitions durable together (one SQLite
 * transaction); only then are the same offsets committed to Kafka, as a
 * hint for lag tools. On assignment each partition starts at the offset
 * the sink has stored, so a crash at any point neither loses nor repeats
 * a record.
 */
#ifndef INGEST_KAFKA_H
#define INGEST_KAFKA_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "common/record.h"

typedef struct ingest_kafka ingest_kafka_t;

/* One librdkafka property, by name, as text. */
typedef struct ingest_kafka_prop {
    const char *name;
    const char *value;
} ingest_kafka_prop_t;

/* A partition's position: the next offset to consume. */
typedef struct ingest_kafka_pos {
    const char *topic;
    int32_t partition;
    int64_t next;
} ingest_kafka_pos_t;

/* An assigned partition as the consumer sees it. */
typedef struct ingest_kafka_part_view {
    const char *topic;
    int32_t partition;
    int64_t next; /* next offset committed in the store; -1 unknown */
    int64_t end;  /* high watermark last seen from the broker; -1 unknown */
} ingest_kafka_part_view_t;

/* The consumer's state, for health checks and metrics. Valid during the
 * observe() call only. */
typedef struct ingest_kafka_view {
    const ingest_kafka_part_view_t *parts; /* the assigned partitions */
    size_t nparts;
    int joined;                 /* the group gave an assignment (possibly empty) */
    int brokers_up;             /* a broker connection is up (librdkafka statistics, or
                                   records arriving) */
    int64_t brokers_down_since; /* wall-clock ms since no broker connection has been up
                                   (all brokers down); AM_TIME_NONE otherwise */
} ingest_kafka_view_t;

/* Where records go. record() is called for each record of the open batch
 * (the first one opens it); commit() then makes the whole batch durable
 * together with pos, the next offset of every partition in it. Either
 * returns 0, or -1 when the store failed, in which case the sink must have
 * discarded the whole open batch (rolled back): the consumer then retries
 * the same records, up to store_retries times. INGEST_KAFKA_SINK_FULL
 * instead of -1 says the store is out of space (same rollback): the
 * consumer then stops taking records and writes the same batch again at
 * growing intervals (up to 10 s) for as long as it takes, with no limit. stored() gives the next
 * offset stored for a partition
 * (-1 when none). events(), optional, counts the events decoded so far,
 * for the progress log. observe(), optional, receives the consumer's view
 * after each committed batch and about once a second, on the consuming
 * thread; with it, librdkafka statistics are enabled every second (unless
 * the props set statistics.interval.ms) to follow the broker connections. */
#define INGEST_KAFKA_SINK_FULL (-2)
/* Like INGEST_KAFKA_SINK_FULL, for a reason other than space that time or
 * an operator will clear (a keyed record made under other rules): the
 * same rollback, the same unbounded retry, the sink's err as the reason. */
#define INGEST_KAFKA_SINK_PAUSE (-3)

typedef struct ingest_kafka_sink {
    void *ctx;
    int (*record)(void *ctx, const am_record_t *rec, char *err, size_t errlen);
    int (*commit)(void *ctx, const ingest_kafka_pos_t *pos, size_t npos, char *err, size_t errlen);
    int (*stored)(void *ctx, const char *topic, int32_t partition, int64_t *next, char *err,
                  size_t errlen);
    uint64_t (*events)(void *ctx);
    void (*observe)(void *ctx, const ingest_kafka_view_t *view);
    /* Optional: told of each partition assigned, after stored(), with the
     * offset it starts at (-1: none stored) and its high watermark asked
     * from the broker then (-1 when that failed), so that the sink knows
     * when it has caught up with what was there. */
    void (*assigned)(void *ctx, const char *topic, int32_t partition, int64_t next, int64_t end);
} ingest_kafka_sink_t;

/* Where a partition with no stored offset starts. */
typedef enum ingest_kafka_start {
    INGEST_KAFKA_START_RESET,     /* where auto.offset.reset says (default earliest) */
    INGEST_KAFKA_START_BEGINNING, /* the first offset, whatever auto.offset.reset says */
    INGEST_KAFKA_START_COMMITTED, /* the group's committed offset (e.g. a stateless stage
                                     whose offsets live in Kafka), else auto.offset.reset */
} ingest_kafka_start_t;

typedef struct ingest_kafka_topic {
    const char *name;
    const char *format; /* set as am_record_t.format on its records; NULL = detect */
} ingest_kafka_topic_t;

typedef struct ingest_kafka_options {
    /* librdkafka properties, applied after aftermath's defaults
     * (auto.offset.reset=earliest) and before what it owns (group.id,
     * enable.auto.commit=false, enable.auto.offset.store=false,
     * enable.partition.eof=true). */
    const ingest_kafka_prop_t *props;
    size_t nprops;
    const char *group;
    const ingest_kafka_topic_t *topics;
    size_t ntopics;
    size_t batch_records;              /* a batch closes after this many records ... */
    int batch_ms;                      /* ... or this long after its first record */
    int stats_interval_ms;             /* progress and lag log lines; 0 = none */
    uint64_t max_records;              /* stop once this many records are committed; 0 = no limit */
    int idle_exit_ms;                  /* stop once every assigned partition has been at its
                                          end for this long; 0 = never */
    int store_retries;                 /* attempts to write a failed batch again (default 5) */
    ingest_kafka_start_t start;        /* partitions with no stored offset */
    int deadline_ms;                   /* give up (error) after this long; 0 = no deadline */
    const volatile sig_atomic_t *stop; /* non-zero: commit the batch and stop */
    const am_log_t *log;
} ingest_kafka_options_t;

typedef struct ingest_kafka_stats {
    uint64_t records; /* records committed */
    uint64_t batches; /* batches committed */
    uint64_t retries; /* batch writes retried after a store failure */
    uint64_t full;    /* batch writes retried because the store was full */
    uint64_t rebalances;
} ingest_kafka_stats_t;

/* Creates the consumer and subscribes to the topics; opts (and what it
 * points to) and sink must outlive the consumer. Returns NULL with err on
 * a configuration librdkafka refuses. The broker is not contacted yet: a
 * broker that is down is retried by librdkafka while running. */
ingest_kafka_t *ingest_kafka_create(const ingest_kafka_options_t *opts,
                                    const ingest_kafka_sink_t *sink, char *err, size_t errlen);

/* Consumes until *stop, max_records, idle_exit_ms, or a failure, then
 * commits the open batch and closes the consumer (leaving the group).
 * Returns 0 on such a stop; -1 with err when librdkafka raised a fatal
 * error (err has its real cause), the store still failed after
 * store_retries, or the deadline passed. After -1 nothing of the open
 * batch was committed anywhere. */
int ingest_kafka_run(ingest_kafka_t *k, char *err, size_t errlen);

const ingest_kafka_stats_t *ingest_kafka_stats(const ingest_kafka_t *k);

/* Closes the consumer if ingest_kafka_run did not, and frees it.
 * Accepts NULL. */
void ingest_kafka_destroy(ingest_kafka_t *k);

/* Asks the brokers for the end offset (high watermark) of each of the n
 * partitions in pos, into end[] (-1 when it could not be had). props
 * configure the client (bootstrap.servers, security). Returns 0 when every
 * partition answered, -1 with the first error in err. */
int ingest_kafka_query_ends(const ingest_kafka_prop_t *props, size_t nprops,
                            const ingest_kafka_pos_t *pos, size_t n, int64_t *end, int timeout_ms,
                            const am_log_t *log, char *err, size_t errlen);

/* True for a librdkafka property whose value must never be shown: a name
 * holding "password" or "secret", the JAAS and OAuth configs, the PEM key. */
int ingest_kafka_is_secret(const char *name);

#endif
