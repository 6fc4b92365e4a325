/*
 * decode.h - turns one record's payload into normalised events.
 *
 * A payload is parsed once with jansson, its format detected (or forced
 * per source), and handed to that format's decoder, which appends zero or
 * more events (an Alertmanager payload carries many alerts). A payload that
 * cannot be decoded is refused whole with a reason naming the field.
 */
#ifndef INGEST_DECODE_H
#define INGEST_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "common/event.h"
#include "common/record.h"

/* Input limits: a record over any of them is refused with the limit named. */
typedef struct ingest_limits {
    size_t max_record_bytes; /* whole payload */
    size_t max_depth;        /* JSON nesting */
    size_t max_events;       /* alerts in one payload */
    size_t max_labels;       /* labels (and annotations) per event */
    size_t max_value_bytes;  /* one label name or value */
} ingest_limits_t;

extern const ingest_limits_t ingest_limits_default;

typedef struct ingest_decoder ingest_decoder_t;

/* Creates a decoder with the given label mapping and limits (NULL for the
 * defaults). The map struct is copied, its name lists borrowed; limits is
 * borrowed. Both must outlive the decoder. */
ingest_decoder_t *ingest_decoder_create(const am_label_map_t *map, const ingest_limits_t *limits);
void ingest_decoder_destroy(ingest_decoder_t *dec);

/* Uses map instead of the decoder's own for records of topic (see
 * ingest_decode_record); setting a topic again replaces its map. The topic
 * name and the map struct are copied, the name lists borrowed. */
void ingest_decoder_set_topic_map(ingest_decoder_t *dec, const char *topic,
                                  const am_label_map_t *map);

/* Names a format: "auto" or a decoder's name ("alertmanager",
 * "alertmanager-api", "alertmanager-events", "grafana", "pagerduty", "cdevents", "cloudevents",
 * "github", "flux", "generic", or "aftermath-event", aftermath's own
 * keyed-topic records, which are never detected: ingest/keyed.h;
 * docs/formats.md). Returns 0 when known. */
int ingest_format_check(const char *name);

/* Decodes payload (len bytes, not NUL-terminated) in format ("auto" or
 * NULL to detect). observed_at (or AM_TIME_NONE) is set on every event,
 * except in "aftermath-event", whose events carry their own.
 * Appends the events to out and returns 0; on refusal appends nothing,
 * returns -1 and writes the reason, naming the field, to err. */
int ingest_decode(ingest_decoder_t *dec, const char *format, const char *payload, size_t len,
                  int64_t observed_at, am_event_list_t *out, char *err, size_t errlen);

/* Decodes one record as ingest_decode does its payload, with what only the
 * record knows: its own format (rec->format) before format; its Kafka
 * timestamp as observed_at; the label map set for its topic; and its
 * headers, so that a binary-mode CloudEvent (ce_specversion header; see
 * docs/formats.md) is read as the same event in structured mode, or
 * refused naming the header at fault. A null payload is refused. */
int ingest_decode_record(ingest_decoder_t *dec, const am_record_t *rec, const char *format,
                         am_event_list_t *out, char *err, size_t errlen);

/* The reason the pipeline gives a record without a payload (a Kafka
 * tombstone); ingest_reject_class knows it. */
#define INGEST_REASON_NULL "record has no payload (null value)"

/* The class of a refusal reason written by ingest_decode (or
 * INGEST_REASON_NULL), one of a fixed set fit for a metric label:
 *   "null"            INGEST_REASON_NULL
 *   "too_large"       over a limit: record bytes, JSON depth, alerts, labels,
 *                     value length
 *   "invalid_json"    not JSON
 *   "unknown_format"  JSON of no known format, or a format name not known
 *   "missing_field"   a field the format requires is absent
 *   "invalid_value"   anything else: a field of the wrong type or value
 * Never NULL; reason is borrowed. */
const char *ingest_reject_class(const char *reason);

#endif
