/*
 * repeats.h - remembers the records the pipeline has already taken whole,
 * by a hash of their bytes, so that an exact repeat (Alertmanager's
 * re-notification of an unchanged group) is skipped before it is parsed.
 *
 * What is remembered per record: two 64-bit hashes of (format, topic,
 * headers, payload) - the topic picks the label map, the headers may make
 * it a binary-mode CloudEvent -
 * the number of events it decoded to, and the earliest and latest
 * timestamps it was delivered with. A repeat may be skipped only when it
 * can change nothing: decoding depends on those alone, except observed_at,
 * which the store moves back to the earliest delivery and keeps as the
 * latest one (a re-notification says the alert still fires: the correlator
 * judges staleness by it); so a repeat delivered with a timestamp outside
 * the span seen still goes through.
 * The table is a fixed number of 4-way buckets (the oldest entry of a full
 * bucket is replaced): memory is bounded whatever the stream, and a
 * forgotten record only costs a full decode, never a wrong result.
 */
#ifndef RUN_REPEATS_H
#define RUN_REPEATS_H

#include <stddef.h>
#include <stdint.h>

typedef struct run_repeats run_repeats_t;

/* The key of one record: fill with run_repeats_key. */
typedef struct run_repeats_key {
    uint64_t h1, h2;
} run_repeats_key_t;

/* A table of about `entries` records (rounded up to a power of two, at
 * least 64). Never fails (aborts when out of memory, like am_xmalloc). */
run_repeats_t *run_repeats_create(size_t entries);
void run_repeats_destroy(run_repeats_t *r);

/* Hashes format, topic and headers (NUL-terminated, each may be NULL) and
 * payload (len bytes) with the table's per-process seed: everything the
 * decoding of a record depends on besides its timestamp. */
run_repeats_key_t run_repeats_key(const run_repeats_t *r, const char *format, const char *topic,
                                  const char *headers, const char *payload, size_t len);

/* Returns 1 and sets *nevents when the record of key was taken before with
 * timestamps at or before ts and at or after it (ts AM_TIME_NONE: taken
 * before at all, since a delivery without a time adds nothing), so that
 * taking it again would change nothing; else 0. */
int run_repeats_skip(const run_repeats_t *r, run_repeats_key_t key, int64_t ts, uint32_t *nevents);

/* Notes that the record of key was taken (decoded and stored) with
 * timestamp ts and decoded to nevents events. */
void run_repeats_note(run_repeats_t *r, run_repeats_key_t key, int64_t ts, uint32_t nevents);

/* Forgets everything (after a rolled-back batch). */
void run_repeats_clear(run_repeats_t *r);

#endif
