/*
 * rdk.h - private to ingest/: what the Kafka consumer, producer and mock
 * cluster share on top of librdkafka (building a conf from properties,
 * routing librdkafka's log to am_log, Kafka headers as kcat's JSON).
 */
#ifndef INGEST_RDK_H
#define INGEST_RDK_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "common/log.h"
#include "ingest/kafka.h"

/* Every handle's opaque starts with this, so the log callback finds the
 * logger whatever the handle. */
typedef struct ingest_rdk_base {
    const am_log_t *log;
} ingest_rdk_base_t;

/* A new conf with the log routed to base->log (librdkafka's threads call
 * it: am_log writes each line with one stdio call), base as the opaque,
 * and the n properties set in order. Returns NULL with err naming the
 * property; a secret's value is never quoted. */
rd_kafka_conf_t *ingest_rdk_conf(const ingest_kafka_prop_t *props, size_t n,
                                 ingest_rdk_base_t *base, char *err, size_t errlen);

/* Sets one property on conf; same error rules. Returns 0 or -1. */
int ingest_rdk_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
                   size_t errlen);

/* The message's headers as kcat -J writes them, ["name","value",...] with
 * null for a null value, in a new string the caller frees; NULL when the
 * message has none. */
char *ingest_rdk_headers_json(rd_kafka_message_t *msg);

/* Parses kcat's header array into new headers (the caller owns them),
 * NULL for NULL text. Returns 0, or -1 with err. */
int ingest_rdk_headers_parse(const char *json, rd_kafka_headers_t **out, char *err, size_t errlen);

#endif
