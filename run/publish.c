/*
 * publish.c - incident documents to the incidents topic.
 *
 * A thin layer over ingest_producer: the topic and the client properties
 * come from the config, the key is the caller's (an incident id for a
 * summary, "<id>/ep/..." or "<id>/ev/..." for a part: a compacted topic
 * keeps the latest of each, docs/scaling.md), and the record carries a
 * content-type header for consumers that route on it.
 */
#include "run/publish.h"
#include "common/buf.h"
#include "common/time.h"
#include "ingest/producer.h"

#include <stdlib.h>
#include <string.h>

struct run_publish {
    ingest_producer_t *producer;
    char *topic;
};

ingest_producer_t *run_publish_producer(const run_config_t *cfg, const am_log_t *log, char *err,
                                        size_t errlen)
{
    /* Documents up to 16 MiB (a large incident, an event with large
     * annotations), compressed: JSON shrinks well, and the keyed topic
     * carries deploys, acks and notes once per partition. The config's
     * kafka: properties come after and may change both. */
    ingest_kafka_prop_t *props = am_xcalloc(cfg->nkafka + 2, sizeof *props);
    props[0] = (ingest_kafka_prop_t){"message.max.bytes", "16777216"};
    props[1] = (ingest_kafka_prop_t){"compression.type", "lz4"};
    for (size_t i = 0; i < cfg->nkafka; i++)
        props[i + 2] = (ingest_kafka_prop_t){cfg->kafka[i].name, cfg->kafka[i].value};
    ingest_producer_t *producer = ingest_producer_create(props, cfg->nkafka + 2, log, err, errlen);
    free(props);
    return producer;
}

run_publish_t *run_publish_create(const run_config_t *cfg, const am_log_t *log, char *err,
                                  size_t errlen)
{
    if (!cfg->incidents_topic) {
        am_errf(err, errlen, "%s", "");
        return NULL;
    }
    ingest_producer_t *producer = run_publish_producer(cfg, log, err, errlen);
    if (!producer)
        return NULL;
    run_publish_t *p = am_xcalloc(1, sizeof *p);
    p->producer = producer;
    p->topic = am_xstrdup(cfg->incidents_topic);
    return p;
}

int run_publish_send(run_publish_t *p, const char *key, const char *json, size_t len, char *err,
                     size_t errlen)
{
    am_record_t rec = {
        .payload = json,
        .len = len,
        .key = key,
        .key_len = key ? strlen(key) : 0,
        .partition = -1,
        .ts = AM_TIME_NONE,
    };
    static const ingest_header_t headers[] = {{"content-type", "application/json"}};
    return ingest_producer_send(p->producer, &rec, p->topic, 0, headers, 1, err, errlen);
}

int run_publish_flush(run_publish_t *p, int timeout_ms, char *err, size_t errlen)
{
    return ingest_producer_flush(p->producer, timeout_ms, err, errlen);
}

void run_publish_destroy(run_publish_t *p)
{
    if (!p)
        return;
    ingest_producer_destroy(p->producer);
    free(p->topic);
    free(p);
}
