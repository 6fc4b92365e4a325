/*
 * replay.h - the file/stdin source: NDJSON where each line is a raw
 * payload or a Kafka record in kcat's -J envelope, or one JSON document
 * spread over many lines (a pretty-printed payload).
 */
#ifndef INGEST_REPLAY_H
#define INGEST_REPLAY_H

#include <stddef.h>

#include "common/record.h"

/* Called once per record; a negative return stops the replay and is
 * returned by ingest_replay_file. */
typedef int (*ingest_record_fn)(void *ctx, const am_record_t *rec);

/* Reads path ("-" = stdin) and calls fn for every non-blank line (or once
 * for a whole multi-line document). A line in the envelope form
 * {"payload": string|null, "ts": ms, "topic", "partition", "offset", "key",
 * "headers"} becomes a record with those fields; any other line is the
 * payload itself, with no timestamp. Returns 0; -1 when the file cannot be
 * read (err says why); or fn's negative return. */
int ingest_replay_file(const char *path, ingest_record_fn fn, void *ctx, char *err, size_t errlen);

/* Same as ingest_replay_file for text already in memory (len bytes, not
 * NUL-terminated), read line by line; name stands for the file in records'
 * places. Returns 0 or fn's negative return. */
int ingest_replay_buffer(const char *name, const char *buf, size_t len, ingest_record_fn fn,
                         void *ctx);

#endif
