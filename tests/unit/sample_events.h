/*
 * sample_events.h - real events from every decoder, for round-trip tests:
 * the example's kcat dump (examples/payments-latency.ndjson) replayed
 * record by record, and every payload of the fuzz_decode seed corpus (one
 * or more per format; a first line "headers: [...]" gives the record's
 * Kafka headers, as fuzz_decode.c reads it).
 */
#ifndef TEST_SAMPLE_EVENTS_H
#define TEST_SAMPLE_EVENTS_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/event.h"
#include "common/record.h"
#include "ingest/decode.h"
#include "ingest/replay.h"

typedef struct sample_ctx {
    ingest_decoder_t *dec;
    am_event_list_t *out;
} sample_ctx_t;

/* The example holds one truncated record on purpose: refusals add nothing. */
static inline int sample_record(void *ctx, const am_record_t *rec)
{
    sample_ctx_t *c = ctx;
    char err[768];
    ingest_decode_record(c->dec, rec, NULL, c->out, err, sizeof err);
    return 0;
}

/* Decodes the corpus file path into out; a file refused by the decoders
 * (the corpus holds bad payloads too) adds nothing. */
static inline void sample_corpus_file(ingest_decoder_t *dec, const char *path, am_event_list_t *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    am_buf_t b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        am_buf_append(&b, chunk, n);
    fclose(f);
    am_record_t rec = {
        .payload = b.p ? b.p : "", .len = b.len, .topic = "sample", .ts = 1718721005000LL};
    char *headers = NULL;
    if (b.len > 8 && memcmp(b.p, "headers:", 8) == 0) {
        const char *nl = memchr(b.p, '\n', b.len);
        size_t hlen = (nl ? (size_t)(nl - b.p) : b.len) - 8;
        headers = am_xstrndup(b.p + 8, hlen);
        rec.headers = headers;
        rec.payload = nl ? nl + 1 : "";
        rec.len = nl ? b.len - (size_t)(nl + 1 - b.p) : 0;
    }
    char err[768];
    ingest_decode_record(dec, &rec, NULL, out, err, sizeof err);
    free(headers);
    am_buf_free(&b);
}

/* Appends the sample events to out. Returns 0, or -1 when the example or
 * the corpus cannot be read. */
static inline int sample_events(am_event_list_t *out)
{
    ingest_decoder_t *dec = ingest_decoder_create(NULL, NULL);
    sample_ctx_t ctx = {dec, out};
    char err[512];
    int rc = ingest_replay_file(AM_EXAMPLES "/payments-latency.ndjson", sample_record, &ctx, err,
                                sizeof err);
    DIR *d = opendir(AM_PROJECT "/tests/fuzz/corpus/fuzz_decode");
    if (!d)
        rc = -1;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", AM_PROJECT "/tests/fuzz/corpus/fuzz_decode",
                 e->d_name);
        sample_corpus_file(dec, path, out);
    }
    if (d)
        closedir(d);
    ingest_decoder_destroy(dec);
    return rc;
}

#endif
