/*
 * corr_util.h - a correlator harness for tests: events given as generic
 * JSON lines go through the real pipeline (decode, store, correlate) into
 * an in-memory (or file) database; incidents come back as JSON.
 */
#ifndef TEST_CORR_UTIL_H
#define TEST_CORR_UTIL_H

#include <stdio.h>
#include <string.h>

#include "run/pipeline.h"
#include "common/buf.h"
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
    run_pipeline_t *p;
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
    h->p = run_pipeline_create(h->st, h->dec, h->engine, "auto", NULL, batch);
}

static inline void h_open(harness_t *h, const char *db, const char *rules_yaml, size_t batch,
                          size_t cap)
{
    corr_options_t opts = {.max_open_groups = cap};
    h_open_opts(h, db, rules_yaml, batch, &opts);
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
    if (run_pipeline_record(h->p, &rec, err, sizeof err) != 0)
        fail_msg("pipeline: %s", err);
    if (run_pipeline_stats(h->p)->rejected)
        fail_msg("refused: %s", payload);
}

static inline void h_feed(harness_t *h, const char *payload)
{
    h_feed_at(h, payload, -1);
}

static inline json_t *h_incidents(harness_t *h)
{
    char err[1024];
    if (run_pipeline_flush(h->p, err, sizeof err) != 0)
        fail_msg("flush: %s", err);
    json_t *arr = corr_incidents_json(h->st, err, sizeof err);
    if (!arr)
        fail_msg("incidents: %s", err);
    return arr;
}

static inline void h_close(harness_t *h)
{
    run_pipeline_destroy(h->p);
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
