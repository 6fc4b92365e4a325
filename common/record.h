/*
 * record.h - one record as a source delivers it, before decoding: a Kafka
 * message, or a line of a file (possibly a Kafka record in kcat's -J
 * envelope). Every field is borrowed from the source for the duration of
 * one call.
 */
#ifndef AM_RECORD_H
#define AM_RECORD_H

#include <stddef.h>
#include <stdint.h>

typedef struct am_record {
    const char *payload; /* the record value; NULL for a null (tombstone) record */
    size_t len;
    const char *file;  /* file it was read from ("-" = stdin), or NULL */
    long line;         /* 1-based line in file */
    const char *topic; /* Kafka topic, or NULL when not from Kafka */
    int32_t partition;
    int64_t offset;
    int64_t ts;      /* Kafka timestamp (ms), AM_TIME_NONE when unknown */
    const char *key; /* Kafka key, or NULL */
    size_t key_len;
    const char *headers; /* Kafka headers as JSON text, or NULL */
    const char *format;  /* decode as this format (a topic's setting), or NULL
                            for the source's default */
} am_record_t;

#define AM_PLACE_LEN 512

/* Writes where the record came from: "file:line", "topic/partition/offset"
 * or both ("events.ndjson:12 (alerts/0/5)"). Returns out. */
char *am_record_place(const am_record_t *rec, char out[AM_PLACE_LEN]);

#endif
