/*
 * keyed.c - the decode stage's sender: routing by corr_route_*, values
 * by ingest_keyed_value, one idempotent producer for both topics.
 */
#include "run/rekey.h"
#include "run/pipeline.h"
#include "run/publish.h"
#include "common/buf.h"
#include "common/event_json.h"
#include "correlate/replica.h"
#include "correlate/route.h"
#include "ingest/keyed.h"
#include "ingest/producer.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct run_rekey {
    ingest_producer_t *producer;
    const char *topic;     /* the keyed topic (borrowed from cfg) */
    const char *incidents; /* the incidents topic, or NULL */
    const corr_rules_t *rules;
    int32_t nparts;
    /* per event: the key chosen for each partition, or NULL */
    char **keys;
};

run_rekey_t *run_rekey_create(const run_config_t *cfg, const corr_rules_t *rules,
                              const am_log_t *log, char *err, size_t errlen)
{
    ingest_producer_t *producer = run_publish_producer(cfg, log, err, errlen);
    if (!producer)
        return NULL;
    int32_t n = 0;
    if (ingest_producer_partitions(producer, cfg->keyed_topic, &n, 30000, err, errlen) != 0) {
        size_t len = strlen(err);
        snprintf(err + len, errlen - len,
                 " (create the keyed topic first, with as many partitions as correlators may "
                 "ever run: docs/scaling.md)");
        ingest_producer_destroy(producer);
        return NULL;
    }
    run_rekey_t *k = am_xcalloc(1, sizeof *k);
    k->producer = producer;
    k->topic = cfg->keyed_topic;
    k->incidents = cfg->incidents_topic;
    k->rules = rules;
    k->nparts = n;
    k->keys = am_xcalloc((size_t)n, sizeof *k->keys);
    return k;
}

void run_rekey_destroy(run_rekey_t *k)
{
    if (!k)
        return;
    ingest_producer_destroy(k->producer);
    free(k->keys);
    free(k);
}

int run_rekey_partitions(const run_rekey_t *k)
{
    return k->nparts;
}

/* Remembers the first pair of each partition an alert goes to, as the
 * record key ("rule 0x1f gkey"). */
static int note_pair(void *arg, size_t rule, const char *name, const char *gkey)
{
    (void)rule;
    run_rekey_t *k = arg;
    int32_t p = corr_route_partition(name, gkey, k->nparts);
    if (!k->keys[p]) {
        am_buf_t b = {0};
        am_buf_printf(&b, "%s\x1f%s", name, gkey);
        k->keys[p] = b.p;
    }
    return 0;
}

static int produce(run_rekey_t *k, const char *topic, int32_t partition, const char *key,
                   const char *value, int64_t ts, const char *place, char *err, size_t errlen)
{
    am_record_t out = {
        .payload = value,
        .len = strlen(value),
        .key = key,
        .key_len = strlen(key),
        .partition = partition,
        .ts = ts,
    };
    /* The rules digest: a correlator under other rules must not take the
     * record (it would group it under keys decode did not route by). */
    const ingest_header_t h[] = {{"aftermath-source", place},
                                 {RUN_REKEY_RULES_HEADER, corr_rules_digest(k->rules)}};
    return ingest_producer_send(k->producer, &out, topic, partition >= 0, h, 2, err, errlen);
}

/* The deploy's (or a correction's or action's: member "people") document
 * for the incidents topic. */
static int send_deploy(run_rekey_t *k, const am_event_t *ev, const char *place, char *err,
                       size_t errlen)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "schema_version", json_integer(1));
    json_t *e = am_event_to_json(ev);
    json_object_set_new(doc, ev->kind == AM_KIND_DEPLOY ? "deploy" : "people", e ? e : json_null());
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    char *key = corr_replica_event_key(am_kind_name(ev->kind), ev->id);
    int rc = produce(k, k->incidents, -1, key, text, ev->observed_at, place, err, errlen);
    free(key);
    free(text);
    return rc;
}

/* Sends one event, whose keyed value is value. */
static int send_event(run_rekey_t *k, const am_event_t *ev, const char *value, const char *place,
                      char *err, size_t errlen)
{
    int rc = 0;
    if (ev->kind == AM_KIND_ALERT) {
        corr_route_alert(k->rules, ev, note_pair, k);
        bool any = false;
        for (int32_t p = 0; p < k->nparts; p++)
            any = any || k->keys[p];
        if (!any) {
            int32_t p = (int32_t)(corr_route_hash(ev->id, strlen(ev->id)) % (uint64_t)k->nparts);
            k->keys[p] = am_xstrdup(ev->id);
        }
        for (int32_t p = 0; p < k->nparts; p++) {
            if (k->keys[p] && rc == 0)
                rc =
                    produce(k, k->topic, p, k->keys[p], value, ev->observed_at, place, err, errlen);
            free(k->keys[p]);
            k->keys[p] = NULL;
        }
    } else {
        for (int32_t p = 0; p < k->nparts && rc == 0; p++)
            rc = produce(k, k->topic, p, ev->id, value, ev->observed_at, place, err, errlen);
        if (rc == 0 && k->incidents &&
            (ev->kind == AM_KIND_DEPLOY || ev->kind == AM_KIND_CORRECTION ||
             ev->kind == AM_KIND_ACTION))
            rc = send_deploy(k, ev, place, err, errlen);
    }
    return rc;
}

int run_rekey_send(void *arg, const am_record_t *rec, const am_event_list_t *events, char *err,
                   size_t errlen)
{
    run_rekey_t *k = arg;
    char place[AM_PLACE_LEN];
    am_record_place(rec, place);
    /* Every value first: a record one of whose events cannot go is
     * refused whole, before anything of it is sent. */
    char **values = am_xcalloc(events->n + 1, sizeof *values);
    int rc = 0;
    for (size_t i = 0; i < events->n && rc == 0; i++) {
        values[i] = ingest_keyed_value(&events->v[i]);
        if (!values[i]) {
            am_errf(err, errlen, "event %s cannot be written as JSON (not UTF-8)", events->v[i].id);
            rc = RUN_FORWARD_REFUSED;
        } else if (strlen(values[i]) > RUN_REKEY_MAX_VALUE) {
            am_errf(err, errlen, "event %s is %zu bytes as a keyed record, over the %d allowed",
                    events->v[i].id, strlen(values[i]), RUN_REKEY_MAX_VALUE);
            rc = RUN_FORWARD_REFUSED;
        }
    }
    for (size_t i = 0; i < events->n && rc == 0; i++)
        rc = send_event(k, &events->v[i], values[i], place, err, errlen);
    for (size_t i = 0; i < events->n; i++)
        free(values[i]);
    free(values);
    return rc;
}

size_t run_rekey_pending(const run_rekey_t *k)
{
    return ingest_producer_pending(k->producer);
}

int run_rekey_flush(run_rekey_t *k, char *err, size_t errlen)
{
    return ingest_producer_flush(k->producer, 30000, err, errlen);
}
