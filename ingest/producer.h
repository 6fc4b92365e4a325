/*
 * producer.h - a Kafka producer for what aftermath writes to Kafka: the
 * demo's story, the dead-letter topic, incident changes, and the test
 * tool that loads a kcat -J dump into a topic.
 *
 * Records are given as am_record_t, so a record read from a kcat -J dump
 * (ingest_replay_file) is produced again with its topic, partition, key,
 * headers and original timestamp. Delivery is checked: flush() reports
 * any record that was not delivered since the previous flush.
 */
#ifndef INGEST_PRODUCER_H
#define INGEST_PRODUCER_H

#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "common/record.h"
#include "ingest/kafka.h"

typedef struct ingest_producer ingest_producer_t;

/* An extra header added to a produced record. */
typedef struct ingest_header {
    const char *name;
    const char *value; /* NUL-terminated; NULL for a null value */
} ingest_header_t;

/* Creates an idempotent producer (enable.idempotence=true, acks=all) with
 * the n properties applied on top; props and log are borrowed for the
 * call (log must outlive the producer). Returns NULL with err. */
ingest_producer_t *ingest_producer_create(const ingest_kafka_prop_t *props, size_t n,
                                          const am_log_t *log, char *err, size_t errlen);

/* Queues rec: its payload (NULL = a null value), key, ts (AM_TIME_NONE:
 * now) and headers (kcat's JSON array text), plus the nextra headers.
 * topic, when not NULL, replaces rec->topic; partition is rec->partition
 * when keep_partition and it is >= 0, else chosen by the partitioner.
 * Waits while the local queue is full. Returns 0, or -1 with err (a bad
 * headers text, an unknown partition, ...). */
int ingest_producer_send(ingest_producer_t *p, const am_record_t *rec, const char *topic,
                         int keep_partition, const ingest_header_t *extra, size_t nextra, char *err,
                         size_t errlen);

/* Asks the brokers how many partitions topic has, into *n, waiting up to
 * timeout_ms until every partition has a leader (right after a topic is
 * created it may not: producing then has lost records). Returns 0, or -1
 * with err (no such topic, no answer, partitions still leaderless). */
int ingest_producer_partitions(ingest_producer_t *p, const char *topic, int32_t *n, int timeout_ms,
                               char *err, size_t errlen);

/* Records queued since the last flush that were not yet delivered. */
size_t ingest_producer_pending(const ingest_producer_t *p);

/* Waits up to timeout_ms for every queued record. Returns 0 when all
 * records sent since the previous flush were delivered; -1 with err
 * naming the first failure and the count otherwise. */
int ingest_producer_flush(ingest_producer_t *p, int timeout_ms, char *err, size_t errlen);

/* Total records delivered and failed since creation. */
uint64_t ingest_producer_delivered(const ingest_producer_t *p);

/* Flushes for at most 5 s and frees. Accepts NULL. */
void ingest_producer_destroy(ingest_producer_t *p);

#endif
