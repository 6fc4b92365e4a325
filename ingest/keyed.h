/*
 * keyed.h - the records of the keyed topic (issue #11, scale-out): what
 * the decode role produces and the correlate role consumes, one event per
 * record, already decoded. Format name "aftermath-event" (docs/formats.md,
 * "aftermath's own keyed records").
 *
 * The value is {"schema_version":1,"event":{...}} where the event is the
 * event JSON of common/event_json.h. The decoder of that format (picked
 * only by name, never detected) yields exactly the event written: the id
 * as given and observed_at from the JSON, not from the record timestamp.
 */
#ifndef INGEST_KEYED_H
#define INGEST_KEYED_H

#include "common/event.h"

/* The format name that selects the keyed-record decoder (am_record_t.format,
 * a topic's format:, replay --format). */
#define INGEST_FORMAT_KEYED "aftermath-event"
/* The one schema_version this build writes and reads. */
#define INGEST_KEYED_SCHEMA_VERSION 1

/* The keyed-topic record value of ev: compact JSON, NUL-terminated, owned
 * by the caller (free()). Decoding it in format "aftermath-event" gives ev
 * back exactly (every field the store keeps). NULL when ev cannot be
 * written: a string that is not UTF-8 (am_event_to_json), which no
 * decoder produces. */
char *ingest_keyed_value(const am_event_t *ev);

#endif
