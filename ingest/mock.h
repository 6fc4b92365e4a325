/*
 * mock.h - librdkafka's in-process mock cluster, for the demo and for
 * fast tests: real Kafka protocol over local sockets, no broker to run.
 *
 * Measured caveats (librdkafka 2.0.2): it keeps at most 5 MiB per
 * partition, a consumer group's first join takes about 3 s, and an empty
 * fetch is held for the consumer's fetch.wait.max.ms (set it low).
 */
#ifndef INGEST_MOCK_H
#define INGEST_MOCK_H

#include <stddef.h>

#include "common/log.h"

typedef struct ingest_mock ingest_mock_t;

/* Starts a mock cluster of brokers (1 or more); log is borrowed and must
 * outlive it. Returns NULL with err. */
ingest_mock_t *ingest_mock_create(int brokers, const am_log_t *log, char *err, size_t errlen);

/* Its bootstrap.servers (borrowed). */
const char *ingest_mock_bootstraps(const ingest_mock_t *m);

/* Creates topic with partitions partitions. Returns 0, or -1 with err. */
int ingest_mock_topic(ingest_mock_t *m, const char *topic, int partitions, char *err,
                      size_t errlen);

/* The rd_kafka_mock_cluster_t, for error injection in tests
 * (rdkafka_mock.h); borrowed. */
void *ingest_mock_cluster(ingest_mock_t *m);

/* Accepts NULL. */
void ingest_mock_destroy(ingest_mock_t *m);

#endif
