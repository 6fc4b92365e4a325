/*
 * fuzz_replay.c - libFuzzer target for the replay source: line splitting,
 * CR handling, the kcat -J envelope and the whole-document fallback. The
 * source reads files, so each input is written to one scratch file first.
 * Every record must lie within what was read and name its line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/record.h"
#include "common/time.h"
#include "ingest/replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char scratch[64];

static int on_record(void *ctx, const am_record_t *rec)
{
    size_t *count = ctx;
    volatile char sink = 0;
    for (size_t i = 0; rec->payload && i < rec->len; i++)
        sink ^= rec->payload[i]; /* ASan checks every byte is readable */
    for (size_t i = 0; rec->key && i < rec->key_len; i++)
        sink ^= rec->key[i];
    (void)sink;
    if (rec->line < 1 || !rec->file)
        abort();
    (*count)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!scratch[0]) {
        snprintf(scratch, sizeof scratch, "/tmp/aftermath-fuzz-replay-%ld", (long)getpid());
    }
    FILE *f = fopen(scratch, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    size_t count = 0;
    char err[512];
    ingest_replay_file(scratch, on_record, &count, err, sizeof err);
    unlink(scratch);
    return 0;
}
