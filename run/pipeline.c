/*
 * pipeline.c - decode, store, count; one transaction per batch.
 *
 * A refused record never stops the stream: it is stored in rejected with
 * the place and the reason, and the records around it go on. Only a store
 * failure stops the pipeline, after rolling the batch back, so a caller
 * that tracks positions (Kafka offsets) can retry from the batch start.
 *
 * Exact repeats are skipped before they are parsed (run/repeats.h): a
 * record whose bytes were already taken, delivered no earlier than
 * before, would only find its events stored; it is counted as those
 * duplicates and goes no further. A rolled-back batch forgets them all.
 *
 * Decoding runs on other cores. A record is copied into a ring of slots;
 * decoder threads take the slots in turn (any thread any slot, the
 * decoder being read-only) and mark them decoded; the caller's thread -
 * the only one that touches the store and the correlator - stores the
 * slots strictly in ring order, as they become decoded, so the store sees
 * exactly the sequence a single thread would have produced. A store
 * failure can therefore surface on a later call than the record's own (or
 * at the offset/flush that ends the batch); either way the whole batch is
 * rolled back and the ring emptied, which is what a retrying caller needs.
 * The decoder threads also serialise each event's labels to JSON
 * (am_event_cache_json), which the store and the correlator would
 * otherwise each do on the store's thread.
 * With no decoder threads (one CPU, or AFTERMATH_DECODE_THREADS=0) each
 * record is decoded and stored within its own call, as before.
 */
#include "run/pipeline.h"
#include "run/repeats.h"
#include "ingest/keyed.h"
#include "common/buf.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Records remembered for the repeat skip: 8 MiB. */
#define REPEATS_ENTRIES (256 * 1024)
/* Records in flight between the source and the store. */
#define RING 256
/* At most this many decoder threads. */
#define MAX_THREADS 4
/* A slot keeps a buffer up to this size for the next record. */
#define SLOT_KEEP (64 * 1024)

enum { SLOT_FREE, SLOT_QUEUED, SLOT_DECODING, SLOT_DONE };

typedef struct slot {
    int state;
    am_record_t rec; /* points into bytes */
    am_buf_t bytes;
    run_repeats_key_t key;
    am_event_list_t events;
    int rc; /* of ingest_decode */
    char why[768];
} slot_t;

struct run_pipeline {
    store_t *st;
    ingest_decoder_t *dec;
    corr_engine_t *engine;
    const char *format;
    const am_log_t *log;
    size_t batch;
    size_t in_batch;
    int in_tx;
    am_event_list_t events;
    store_outcome_t *outcome;
    size_t outcome_cap;
    run_stats_t stats;
    run_reject_fn on_reject;
    void *on_reject_ctx;
    run_forward_fn forward;
    void *forward_ctx;
    run_repeats_t *repeats;

    /* Decoder threads; the counters only grow: slot = counter % RING. */
    int nthreads;
    pthread_t threads[MAX_THREADS];
    pthread_mutex_t mu;
    pthread_cond_t work;    /* a slot was queued, or stop */
    pthread_cond_t decoded; /* a slot was decoded */
    int stop;
    uint64_t head; /* next slot to store (caller's thread only) */
    uint64_t next; /* next slot to decode */
    uint64_t tail; /* next slot to fill */
    slot_t *ring;
};

static void *decoder_main(void *arg);

static int threads_wanted(void)
{
    const char *env = getenv("AFTERMATH_DECODE_THREADS");
    if (env && *env) {
        char *end;
        long n = strtol(env, &end, 10);
        if (*end == '\0' && n >= 0)
            return n > MAX_THREADS ? MAX_THREADS : (int)n;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus <= 1)
        return 0;
    return cpus - 1 > MAX_THREADS ? MAX_THREADS : (int)(cpus - 1);
}

run_pipeline_t *run_pipeline_create(store_t *st, ingest_decoder_t *dec, corr_engine_t *engine,
                                    const char *format, const am_log_t *log, size_t batch)
{
    return run_pipeline_create_sized(st, dec, engine, format, log, batch, REPEATS_ENTRIES);
}

run_pipeline_t *run_pipeline_create_sized(store_t *st, ingest_decoder_t *dec, corr_engine_t *engine,
                                          const char *format, const am_log_t *log, size_t batch,
                                          size_t repeats)
{
    run_pipeline_t *p = am_xcalloc(1, sizeof *p);
    p->st = st;
    p->dec = dec;
    p->engine = engine;
    p->format = format ? format : "auto";
    p->log = log;
    p->batch = batch ? batch : 1000;
    p->repeats = run_repeats_create(repeats);
    int want = threads_wanted();
    if (want > 0) {
        p->ring = am_xcalloc(RING, sizeof *p->ring);
        pthread_mutex_init(&p->mu, NULL);
        pthread_cond_init(&p->work, NULL);
        pthread_cond_init(&p->decoded, NULL);
        for (int i = 0; i < want; i++) {
            if (pthread_create(&p->threads[i], NULL, decoder_main, p) != 0)
                break; /* fewer threads, or none: still correct */
            p->nthreads++;
        }
    }
    return p;
}

/* Waits until no decoder thread holds a slot, then empties the ring. */
static void ring_discard(run_pipeline_t *p)
{
    if (!p->nthreads)
        return;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        int busy = 0;
        for (uint64_t i = p->head; i < p->tail; i++)
            busy |= p->ring[i % RING].state == SLOT_DECODING;
        if (!busy)
            break;
        pthread_cond_wait(&p->decoded, &p->mu);
    }
    for (uint64_t i = p->head; i < p->tail; i++) {
        slot_t *s = &p->ring[i % RING];
        am_event_list_clear(&s->events);
        s->state = SLOT_FREE;
    }
    p->head = p->next = p->tail;
    pthread_mutex_unlock(&p->mu);
}

void run_pipeline_destroy(run_pipeline_t *p)
{
    if (!p)
        return;
    if (p->nthreads) {
        pthread_mutex_lock(&p->mu);
        p->stop = 1;
        pthread_cond_broadcast(&p->work);
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < p->nthreads; i++)
            pthread_join(p->threads[i], NULL);
        pthread_cond_destroy(&p->work);
        pthread_cond_destroy(&p->decoded);
        pthread_mutex_destroy(&p->mu);
    }
    if (p->ring)
        for (size_t i = 0; i < RING; i++) {
            am_buf_free(&p->ring[i].bytes);
            am_event_list_free(&p->ring[i].events);
        }
    free(p->ring);
    if (p->in_tx)
        store_rollback(p->st);
    am_event_list_free(&p->events);
    run_repeats_destroy(p->repeats);
    free(p->outcome);
    free(p);
}

/* Rolls the open batch back; what it took is forgotten by the repeat
 * skip too, since it is no longer stored, and records not yet stored are
 * dropped (the caller writes the batch again). */
static void rollback(run_pipeline_t *p)
{
    store_rollback(p->st);
    run_repeats_clear(p->repeats);
    ring_discard(p);
    p->in_tx = 0;
    p->in_batch = 0;
}

static int reject(run_pipeline_t *p, const am_record_t *rec, const char *reason, char *err,
                  size_t errlen)
{
    char place[AM_PLACE_LEN];
    p->stats.rejected++;
    am_log(p->log, AM_LOG_WARN, "record rejected", "place", am_record_place(rec, place), "reason",
           reason, NULL);
    if (store_put_rejected(p->st, rec, reason, err, errlen) != 0)
        return -1;
    if (p->on_reject)
        p->on_reject(p->on_reject_ctx, rec, reason);
    return 0;
}

void run_pipeline_on_reject(run_pipeline_t *p, run_reject_fn fn, void *ctx)
{
    p->on_reject = fn;
    p->on_reject_ctx = ctx;
}

void run_pipeline_abort(run_pipeline_t *p)
{
    if (p->in_tx || p->head < p->tail)
        rollback(p);
}

void run_pipeline_forward(run_pipeline_t *p, run_forward_fn fn, void *ctx)
{
    p->forward = fn;
    p->forward_ctx = ctx;
}

/* Brings the incidents up to date and commits the open batch (every
 * record handed over before has been stored). */
static int commit(run_pipeline_t *p, char *err, size_t errlen)
{
    if (!p->in_tx)
        return 0;
    p->in_tx = 0;
    p->in_batch = 0;
    if ((p->engine && corr_engine_flush(p->engine, err, errlen) != 0) ||
        store_commit(p->st, err, errlen) != 0) {
        rollback(p);
        return -1;
    }
    return 0;
}

/* The record time that moves its topic's clock (staleness): its own; but
 * a keyed-topic record's is the event's observed_at, or "now" where the
 * event had none (the producer's 0), so the events' own is taken. */
static int64_t clock_time(const run_pipeline_t *p, const am_record_t *rec,
                          const am_event_list_t *events)
{
    const char *format = rec->format ? rec->format : p->format;
    if (strcmp(format, INGEST_FORMAT_KEYED) != 0)
        return rec->ts;
    int64_t t = AM_TIME_NONE;
    for (size_t i = 0; i < events->n; i++)
        if (events->v[i].observed_at != AM_TIME_NONE &&
            (t == AM_TIME_NONE || events->v[i].observed_at > t))
            t = events->v[i].observed_at;
    return t;
}

/* True when an event of the record has an unconfirmed end: the same bytes
 * from another record confirm it (store_put, STORE_REPEATED), so the
 * record is not remembered by the repeat skip. */
static bool confirmable(const am_event_list_t *events)
{
    for (size_t i = 0; i < events->n; i++)
        if (am_labels_get(&events->v[i].annotations, AM_ENDS_UNCONFIRMED))
            return true;
    return false;
}

/* Stores one decoded record (decode_rc/why: ingest_decode's outcome;
 * events: what it decoded to) and ends the batch when it is full. */
static int store_one(run_pipeline_t *p, const am_record_t *rec, run_repeats_key_t key,
                     int decode_rc, const char *why, am_event_list_t *events, char *err,
                     size_t errlen)
{
    if (!p->in_tx) {
        if (store_begin(p->st, err, errlen) != 0) {
            rollback(p);
            return -1;
        }
        p->in_tx = 1;
    }
    int rc;
    if (!rec->payload) {
        rc = reject(p, rec, INGEST_REASON_NULL, err, errlen);
    } else if (decode_rc != 0) {
        rc = reject(p, rec, why, err, errlen);
    } else if (p->forward) {
        char reason[768];
        rc = p->forward(p->forward_ctx, rec, events, reason, sizeof reason);
        if (rc == RUN_FORWARD_REFUSED)
            rc = reject(p, rec, reason, err, errlen);
        else if (rc != 0)
            am_errf(err, errlen, "%s", reason);
        else
            for (size_t i = 0; i < events->n; i++) {
                p->stats.events++;
                p->stats.stored++;
                p->stats.by_kind[events->v[i].kind]++;
            }
        if (rc == 0)
            run_repeats_note(p->repeats, key, rec->ts, (uint32_t)events->n);
    } else {
        if (events->n > p->outcome_cap) {
            p->outcome_cap = events->n;
            p->outcome = am_xrealloc(p->outcome, p->outcome_cap * sizeof *p->outcome);
        }
        rc = store_put(p->st, rec, events, p->outcome, err, errlen);
        if (rc == 0 && p->engine)
            rc = corr_engine_record(p->engine, rec->topic, clock_time(p, rec, events));
        for (size_t i = 0; rc == 0 && i < events->n; i++) {
            p->stats.events++;
            if (p->outcome[i] == STORE_NEW) {
                p->stats.stored++;
                p->stats.by_kind[events->v[i].kind]++;
            } else {
                p->stats.duplicates++;
                p->stats.earlier += p->outcome[i] == STORE_EARLIER;
            }
            /* The correlator sees what the store took as new, earlier or
             * later (a re-notification: the episode's latest delivery). */
            if (p->engine && p->outcome[i] != STORE_DUPLICATE)
                rc = corr_engine_add(p->engine, &events->v[i], err, errlen);
        }
        if (rc == 0 && !confirmable(events))
            run_repeats_note(p->repeats, key, rec->ts, (uint32_t)events->n);
    }
    if (rc != 0) {
        rollback(p);
        return -1;
    }
    if (++p->in_batch >= p->batch)
        return commit(p, err, errlen);
    return 0;
}

/* Stores the decoded slots at the head of the ring, in order; with wait,
 * waits for each until the ring is empty. Returns 0 or -1 (rolled back). */
static int drain(run_pipeline_t *p, int wait, char *err, size_t errlen)
{
    while (p->head < p->tail) {
        slot_t *s = &p->ring[p->head % RING];
        pthread_mutex_lock(&p->mu);
        while (wait && s->state != SLOT_DONE)
            pthread_cond_wait(&p->decoded, &p->mu);
        int done = s->state == SLOT_DONE;
        pthread_mutex_unlock(&p->mu);
        if (!done)
            return 0;
        int rc = store_one(p, &s->rec, s->key, s->rc, s->why, &s->events, err, errlen);
        if (rc != 0)
            return -1; /* rollback emptied the ring */
        am_event_list_clear(&s->events);
        if (s->bytes.cap > SLOT_KEEP)
            am_buf_free(&s->bytes);
        pthread_mutex_lock(&p->mu);
        s->state = SLOT_FREE;
        p->head++;
        pthread_mutex_unlock(&p->mu);
    }
    return 0;
}

static void *decoder_main(void *arg)
{
    run_pipeline_t *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->next == p->tail)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop)
            break;
        slot_t *s = &p->ring[p->next++ % RING];
        s->state = SLOT_DECODING;
        pthread_mutex_unlock(&p->mu);
        s->rc = s->rec.payload ? ingest_decode_record(p->dec, &s->rec, s->rec.format, &s->events,
                                                      s->why, sizeof s->why)
                               : 0;
        for (size_t i = 0; s->rc == 0 && i < s->events.n; i++)
            am_event_cache_json(&s->events.v[i]);
        pthread_mutex_lock(&p->mu);
        s->state = SLOT_DONE;
        pthread_cond_broadcast(&p->decoded);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Copies rec (and the format it is to be decoded in) into slot s. */
static void slot_fill(slot_t *s, const am_record_t *rec, const char *format)
{
    am_buf_t *b = &s->bytes;
    am_buf_reset(b);
    /* Offsets first: the buffer may move while it grows. */
    size_t payload = b->len;
    if (rec->payload)
        am_buf_append(b, rec->payload, rec->len);
    am_buf_putc(b, '\0');
    size_t key = b->len;
    if (rec->key)
        am_buf_append(b, rec->key, rec->key_len);
    am_buf_putc(b, '\0');
    size_t strs[4];
    const char *src[4] = {rec->file, rec->topic, rec->headers, format};
    for (int i = 0; i < 4; i++) {
        strs[i] = b->len;
        if (src[i])
            am_buf_append(b, src[i], strlen(src[i]) + 1);
    }
    s->rec = *rec;
    s->rec.payload = rec->payload ? b->p + payload : NULL;
    s->rec.key = rec->key ? b->p + key : NULL;
    const char **dst[4] = {&s->rec.file, &s->rec.topic, &s->rec.headers, &s->rec.format};
    for (int i = 0; i < 4; i++)
        *dst[i] = src[i] ? b->p + strs[i] : NULL;
}

int run_pipeline_offset(run_pipeline_t *p, const char *topic, int32_t partition,
                        int64_t next_offset, char *err, size_t errlen)
{
    if (p->nthreads && drain(p, 1, err, errlen) != 0)
        return -1;
    if (!p->in_tx) {
        if (store_begin(p->st, err, errlen) != 0)
            return -1;
        p->in_tx = 1;
    }
    if (store_set_offset(p->st, topic, partition, next_offset, err, errlen) != 0) {
        rollback(p);
        return -1;
    }
    return 0;
}

int run_pipeline_record(run_pipeline_t *p, const am_record_t *rec, char *err, size_t errlen)
{
    const char *format = rec->format ? rec->format : p->format;
    run_repeats_key_t key = {0, 0};
    p->stats.records++;
    if (rec->payload) {
        uint32_t n;
        key = run_repeats_key(p->repeats, format, rec->topic, rec->headers, rec->payload, rec->len);
        if (run_repeats_skip(p->repeats, key, rec->ts, &n)) {
            p->stats.events += n;
            p->stats.duplicates += n;
            return 0;
        }
    }
    if (!p->nthreads) {
        char why[768];
        am_event_list_clear(&p->events);
        int rc = rec->payload
                     ? ingest_decode_record(p->dec, rec, format, &p->events, why, sizeof why)
                     : 0;
        return store_one(p, rec, key, rc, why, &p->events, err, errlen);
    }
    /* Store what is decoded; make room when the ring is full. */
    if (drain(p, 0, err, errlen) != 0)
        return -1;
    while (p->tail - p->head == RING) {
        slot_t *s = &p->ring[p->head % RING];
        pthread_mutex_lock(&p->mu);
        while (s->state != SLOT_DONE)
            pthread_cond_wait(&p->decoded, &p->mu);
        pthread_mutex_unlock(&p->mu);
        if (drain(p, 0, err, errlen) != 0)
            return -1;
    }
    slot_t *s = &p->ring[p->tail % RING];
    slot_fill(s, rec, format);
    s->key = key;
    s->rc = 0;
    pthread_mutex_lock(&p->mu);
    s->state = SLOT_QUEUED;
    p->tail++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

int run_pipeline_flush(run_pipeline_t *p, char *err, size_t errlen)
{
    if (p->nthreads && drain(p, 1, err, errlen) != 0)
        return -1;
    return commit(p, err, errlen);
}

const run_stats_t *run_pipeline_stats(const run_pipeline_t *p)
{
    return &p->stats;
}
