/*
 * acked.h - a Kafka producer that answers for each record: produced and
 * acknowledged by the broker (acks=all, idempotent), or not. It is what
 * the webhook receiver needs to answer a sender 2xx only for what Kafka
 * holds, and 503 otherwise, from several threads at once.
 */
#ifndef INGEST_ACKED_H
#define INGEST_ACKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "ingest/kafka.h"
#include "ingest/producer.h"

typedef struct ingest_acked ingest_acked_t;

/* What ingest_acked_send() says of a record. */
typedef enum ingest_acked_result {
    INGEST_ACKED_OK = 0,           /* the broker acknowledged it */
    INGEST_ACKED_UNAVAILABLE = -1, /* not acknowledged in time, the local queue full, the broker
                                      unreachable: the sender should retry (503) */
    INGEST_ACKED_REFUSED = -2,     /* refused for good: too large for the topic, no such topic,
                                      ... (retrying the same record cannot help) */
} ingest_acked_result_t;

/* Creates the producer with props[0..n) on top of its defaults
 * (enable.idempotence, acks=all, linger.ms=0, message.timeout.ms = the
 * given ack_timeout_ms) and a thread serving its delivery reports. log is
 * borrowed and must outlive it. Returns NULL with err. */
ingest_acked_t *ingest_acked_create(const ingest_kafka_prop_t *props, size_t n, int ack_timeout_ms,
                                    const am_log_t *log, char *err, size_t errlen);

/* Produces value[0..len) to topic with key (NULL: none), timestamp ts_ms
 * (UTC ms) and headers[0..nheaders), copying them all, and waits until the
 * broker acknowledged it or refused it, at most the ack timeout (plus a
 * second; half a second while the brokers are known to be unreachable). Thread-safe. A record given
 * up on (UNAVAILABLE after the timeout) may still be delivered later: the sender's retry then makes
 * a second copy, which the store's dedup absorbs. err says why, for the log. */
ingest_acked_result_t ingest_acked_send(ingest_acked_t *p, const char *topic, const char *key,
                                        const void *value, size_t len, int64_t ts_ms,
                                        const ingest_header_t *headers, size_t nheaders, char *err,
                                        size_t errlen);

/* False while the brokers are known to be unreachable (any thread). */
bool ingest_acked_up(ingest_acked_t *p);

/* Records acknowledged and not acknowledged since creation (any thread). */
void ingest_acked_counts(ingest_acked_t *p, uint64_t *acked, uint64_t *failed);

/* Waits up to 5 s for records in flight, stops the thread and frees.
 * Accepts NULL. */
void ingest_acked_destroy(ingest_acked_t *p);

#endif
