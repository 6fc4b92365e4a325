/*
 * repeats.c - the table of records already taken (repeats.h).
 *
 * Open hashing in 4-way buckets of 40-byte entries; the bucket is chosen by
 * h1 and an entry matches on both hashes, so a false skip needs a 128-bit
 * collision. The hash is seeded per process (time and pid) so that a
 * sender cannot craft two records that collide. Timestamps are kept with
 * "none" as INT64_MAX in min_ts, which makes "no earlier than" a plain
 * comparison; max_ts holds real timestamps only (INT64_MIN before one), so
 * a delivery without a time never hides a later one.
 */
#include "run/repeats.h"
#include "common/buf.h"
#include "common/time.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WAYS 4

typedef struct entry {
    uint64_t h1, h2;
    int64_t min_ts; /* INT64_MAX: only seen without a timestamp */
    int64_t max_ts; /* latest timestamp, INT64_MIN when only seen without one */
    uint32_t nevents;
    uint32_t age; /* insertion tick, 0 = free */
} entry_t;

struct run_repeats {
    entry_t *v;
    size_t mask; /* buckets - 1 */
    uint32_t tick;
    uint64_t seed;
};

run_repeats_t *run_repeats_create(size_t entries)
{
    run_repeats_t *r = am_xcalloc(1, sizeof *r);
    size_t buckets = 16;
    while (buckets * WAYS < entries)
        buckets <<= 1;
    r->v = am_xcalloc(buckets * WAYS, sizeof *r->v);
    r->mask = buckets - 1;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    r->seed = ((uint64_t)now.tv_nsec << 20) ^ (uint64_t)now.tv_sec ^ ((uint64_t)getpid() << 40);
    return r;
}

void run_repeats_destroy(run_repeats_t *r)
{
    if (!r)
        return;
    free(r->v);
    free(r);
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* Two independent lanes over 8-byte words, each multiply-rotate-xor. */
static void hash_bytes(uint64_t *a, uint64_t *b, const char *p, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        *a = ((*a ^ w) * 0x9e3779b97f4a7c15ULL);
        *a = (*a << 29) | (*a >> 35);
        *b = ((*b + w) * 0xd6e8feb86659fd93ULL);
        *b = (*b << 31) | (*b >> 33);
    }
    uint64_t w = 0;
    memcpy(&w, p + i, len - i);
    *a = mix(*a ^ w ^ len);
    *b = mix(*b + w + (len << 7));
}

run_repeats_key_t run_repeats_key(const run_repeats_t *r, const char *format, const char *topic,
                                  const char *headers, const char *payload, size_t len)
{
    uint64_t a = r->seed ^ 0x243f6a8885a308d3ULL, b = ~r->seed ^ 0x13198a2e03707344ULL;
    const char *ctx[3] = {format, topic, headers};
    for (int i = 0; i < 3; i++) /* each with its NUL, "" for NULL: no two lists hash alike */
        hash_bytes(&a, &b, ctx[i] ? ctx[i] : "", ctx[i] ? strlen(ctx[i]) + 1 : 1);
    hash_bytes(&a, &b, payload, len);
    return (run_repeats_key_t){a, b};
}

static entry_t *bucket(const run_repeats_t *r, run_repeats_key_t key)
{
    return &r->v[(key.h1 & r->mask) * WAYS];
}

static int64_t eff(int64_t ts)
{
    return ts == AM_TIME_NONE ? INT64_MAX : ts;
}

int run_repeats_skip(const run_repeats_t *r, run_repeats_key_t key, int64_t ts, uint32_t *nevents)
{
    const entry_t *e = bucket(r, key);
    for (int i = 0; i < WAYS; i++)
        if (e[i].age && e[i].h1 == key.h1 && e[i].h2 == key.h2) {
            if (ts != AM_TIME_NONE && (ts < e[i].min_ts || ts > e[i].max_ts))
                return 0;
            *nevents = e[i].nevents;
            return 1;
        }
    return 0;
}

void run_repeats_note(run_repeats_t *r, run_repeats_key_t key, int64_t ts, uint32_t nevents)
{
    entry_t *e = bucket(r, key), *victim = &e[0];
    if (++r->tick == 0) { /* wrapped: start the ages again */
        run_repeats_clear(r);
        r->tick = 1;
    }
    for (int i = 0; i < WAYS; i++) {
        if (e[i].age && e[i].h1 == key.h1 && e[i].h2 == key.h2) {
            if (eff(ts) < e[i].min_ts)
                e[i].min_ts = eff(ts);
            if (ts != AM_TIME_NONE && ts > e[i].max_ts)
                e[i].max_ts = ts;
            return;
        }
        if (!e[i].age || (victim->age && e[i].age < victim->age))
            victim = &e[i];
    }
    *victim =
        (entry_t){key.h1, key.h2, eff(ts), ts == AM_TIME_NONE ? INT64_MIN : ts, nevents, r->tick};
}

void run_repeats_clear(run_repeats_t *r)
{
    memset(r->v, 0, (r->mask + 1) * WAYS * sizeof *r->v);
}
