/*
 * corr_util.h - a correlator harness for tests: events given as generic
 * JSON lines are decoded, stored and correlated into an in-memory (or
 * file) database, as the pipeline does; incidents come back as JSON. A
 * test that defines CORR_UTIL_WITH_PIPELINE (the scenario tests) goes
 * through run/pipeline.h itself and links am_run; the unit tests link only
 * the modules they test.
 */
#ifndef TEST_CORR_UTIL_H
#define TEST_CORR_UTIL_H

#include <stdio.h>
#include <string.h>

#ifdef CORR_UTIL_WITH_PIPELINE
#include "run/pipeline.h"
#endif
#include "common/buf.h"
#include "ingest/decode.h"
#include "store/store.h"
#include "correlate/engine.h"
#include "correlate/incident.h"

#define BASE_MS 1704067200000LL /* 2024-01-01T00:00:00Z */

/* RFC 3339 of BASE + minutes (static rotating buffers). */
static inline const char *T(double minutes)
{
    static char bufs[16][AM_TIME_STRLEN];
    static int k;
    char *b = bufs[k++ % 16];
    return am_time_format(BASE_MS + (int64_t)(minutes * 60000.0), b);
}

typedef struct harness {
    store_t *st;
    corr_rules_t *rules;
    corr_engine_t *engine;
    ingest_decoder_t *dec;
#ifdef CORR_UTIL_WITH_PIPELINE
    run_pipeline_t *p;
#else
    size_t batch, in_batch;
    int in_tx;
    size_t rejected;
    am_event_list_t events;
    store_outcome_t *outcome;
    size_t outcap;
#endif
    am_log_t log;
    long line;
} harness_t;

/* Opens db with the engine's options opts (NULL: defaults). */
static inline void h_open_opts(harness_t *h, const char *db, const char *rules_yaml, size_t batch,
                               const corr_options_t *opts)
{
    char err[1024];
    memset(h, 0, sizeof *h);
    h->rules = corr_rules_load_string(rules_yaml, strlen(rules_yaml), "rules", err, sizeof err);
    if (!h->rules)
        fail_msg("rules: %s", err);
    h->st = store_open(db, NULL, err, sizeof err);
    if (!h->st)
        fail_msg("store: %s", err);
    h->engine = corr_engine_create(h->st, h->rules, NULL, opts, err, sizeof err);
    if (!h->engine)
        fail_msg("engine: %s", err);
    h->dec = ingest_decoder_create(NULL, NULL);
#ifdef CORR_UTIL_WITH_PIPELINE
    h->p = run_pipeline_create(h->st, h->dec, h->engine, "auto", NULL, batch);
#else
    h->batch = batch ? batch : 1;
#endif
}

static inline void h_open(harness_t *h, const char *db, const char *rules_yaml, size_t batch,
                          size_t cap)
{
    corr_options_t opts = {.max_open_groups = cap};
    h_open_opts(h, db, rules_yaml, batch, &opts);
}

#ifndef CORR_UTIL_WITH_PIPELINE
/* Brings the incidents up to date and commits the open batch. */
static inline int h_commit(harness_t *h, char *err, size_t errlen)
{
    if (!h->in_tx)
        return 0;
    h->in_tx = 0;
    h->in_batch = 0;
    if (corr_engine_flush(h->engine, err, errlen) != 0 || store_commit(h->st, err, errlen) != 0) {
        store_rollback(h->st);
        return -1;
    }
    return 0;
}
#endif

/* One record as the pipeline takes it: decoded, stored (or kept as
 * rejected), the events the store took as new or earlier correlated, in
 * batches of one transaction. Without CORR_UTIL_WITH_PIPELINE this is
 * done here with the modules under test alone (decoder, store,
 * correlator); with it, through run/pipeline.h itself. */
static inline int h_record(harness_t *h, const am_record_t *rec, char *err, size_t errlen)
{
#ifdef CORR_UTIL_WITH_PIPELINE
    return run_pipeline_record(h->p, rec, err, errlen);
#else
    char why[768] = "";
    if (!h->in_tx) {
        if (store_begin(h->st, err, errlen) != 0)
            return -1;
        h->in_tx = 1;
    }
    am_event_list_clear(&h->events);
    int rc = rec->payload ? ingest_decode_record(h->dec, rec, rec->format ? rec->format : "auto",
                                                 &h->events, why, sizeof why)
                          : -1;
    if (rc != 0) {
        h->rejected++;
        rc = store_put_rejected(h->st, rec, rec->payload ? why : INGEST_REASON_NULL, err, errlen);
    } else {
        if (h->events.n > h->outcap) {
            h->outcap = h->events.n;
            h->outcome = am_xrealloc(h->outcome, h->outcap * sizeof *h->outcome);
        }
        rc = store_put(h->st, rec, &h->events, h->outcome, err, errlen);
        /* The record's time moves its topic's clock (staleness), as in
         * the pipeline (which takes keyed records' events' time instead). */
        if (rc == 0)
            rc = corr_engine_record(h->engine, rec->topic, rec->ts);
        for (size_t i = 0; rc == 0 && i < h->events.n; i++)
            if (h->outcome[i] != STORE_DUPLICATE)
                rc = corr_engine_add(h->engine, &h->events.v[i], err, errlen);
    }
    if (rc != 0) {
        store_rollback(h->st);
        h->in_tx = 0;
        h->in_batch = 0;
        return -1;
    }
    if (++h->in_batch >= h->batch)
        return h_commit(h, err, errlen);
    return 0;
#endif
}

/* Records refused so far. */
static inline size_t h_rejected(const harness_t *h)
{
#ifdef CORR_UTIL_WITH_PIPELINE
    return run_pipeline_stats(h->p)->rejected;
#else
    return h->rejected;
#endif
}

/* Feeds one payload, observed at BASE + observed minutes (< 0: unknown). */
static inline void h_feed_at(harness_t *h, const char *payload, double observed)
{
    char err[1024];
    am_record_t rec = {.payload = payload,
                       .len = strlen(payload),
                       .file = "test",
                       .line = ++h->line,
                       .ts = observed < 0 ? AM_TIME_NONE : BASE_MS + (int64_t)(observed * 60000.0),
                       .partition = -1,
                       .offset = -1};
    if (h_record(h, &rec, err, sizeof err) != 0)
        fail_msg("pipeline: %s", err);
    if (h_rejected(h))
        fail_msg("refused: %s", payload);
}

static inline void h_feed(harness_t *h, const char *payload)
{
    h_feed_at(h, payload, -1);
}

/* Commits what was fed. */
static inline void h_flush(harness_t *h)
{
    char err[1024];
#ifdef CORR_UTIL_WITH_PIPELINE
    if (run_pipeline_flush(h->p, err, sizeof err) != 0)
#else
    if (h_commit(h, err, sizeof err) != 0)
#endif
        fail_msg("flush: %s", err);
}

static inline json_t *h_incidents(harness_t *h)
{
    char err[1024];
    h_flush(h);
    json_t *arr = corr_incidents_json(h->st, err, sizeof err);
    if (!arr)
        fail_msg("incidents: %s", err);
    return arr;
}

static inline void h_close(harness_t *h)
{
#ifdef CORR_UTIL_WITH_PIPELINE
    run_pipeline_destroy(h->p);
#else
    if (h->in_tx)
        store_rollback(h->st);
    am_event_list_free(&h->events);
    free(h->outcome);
#endif
    ingest_decoder_destroy(h->dec);
    corr_engine_destroy(h->engine);
    store_close(h->st);
    corr_rules_destroy(h->rules);
}

/* Incidents without their ids and aliases, canonical: for comparing
 * content across orders. Caller frees. */
static inline char *content_of(const json_t *arr)
{
    json_t *copy = json_deep_copy(arr);
    size_t i;
    json_t *o;
    json_array_foreach(copy, i, o)
    {
        json_object_del(o, "id");
        json_object_del(o, "aliases");
    }
    char *s = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(copy);
    return s;
}

/* A generic alert line. end_min < 0: still firing. labels: JSON members. */
static inline char *alert(const char *name, double start_min, double end_min, const char *labels)
{
    am_buf_t b = {0};
    am_buf_printf(&b, "{\"kind\":\"alert\",\"name\":\"%s\",\"starts_at\":\"%s\"", name,
                  T(start_min));
    if (end_min >= 0)
        am_buf_printf(&b, ",\"ends_at\":\"%s\"", T(end_min));
    am_buf_printf(&b, ",\"labels\":{%s}}", labels);
    return am_buf_steal(&b);
}

#endif
