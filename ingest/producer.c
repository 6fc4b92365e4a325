/*
 * producer.c - an idempotent librdkafka producer with delivery checking.
 *
 * Delivery reports arrive through rd_kafka_poll/rd_kafka_flush on the
 * caller's thread and are counted in the handle, so flush() can say
 * whether everything since the previous flush got through. The first
 * failure's reason is kept for the error message.
 */
#include "ingest/producer.h"
#include "common/buf.h"
#include "common/time.h"
#include "ingest/rdk.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ingest_producer {
    ingest_rdk_base_t base; /* first: librdkafka's opaque */
    rd_kafka_t *rk;
    size_t pending;     /* queued since the last flush, not yet reported */
    size_t failed;      /* failed since the last flush */
    uint64_t delivered; /* since creation */
    char first_failure[512];
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    ingest_producer_t *p = opaque;
    (void)rk;
    if (p->pending)
        p->pending--;
    if (!msg->err) {
        p->delivered++;
        return;
    }
    if (p->failed++ == 0)
        snprintf(p->first_failure, sizeof p->first_failure, "%s/%d: %s",
                 msg->rkt ? rd_kafka_topic_name(msg->rkt) : "?", (int)msg->partition,
                 rd_kafka_err2str(msg->err));
}

ingest_producer_t *ingest_producer_create(const ingest_kafka_prop_t *props, size_t n,
                                          const am_log_t *log, char *err, size_t errlen)
{
    ingest_producer_t *p = am_xcalloc(1, sizeof *p);
    p->base.log = log;
    static const ingest_kafka_prop_t defaults[] = {
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"linger.ms", "5"},
    };
    rd_kafka_conf_t *conf = ingest_rdk_conf(defaults, 3, &p->base, err, errlen);
    if (!conf)
        goto init_error;
    for (size_t i = 0; i < n; i++)
        if (ingest_rdk_set(conf, props[i].name, props[i].value, err, errlen) != 0) {
            rd_kafka_conf_destroy(conf);
            goto init_error;
        }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    char rkerr[512];
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rkerr, sizeof rkerr);
    if (!p->rk) {
        rd_kafka_conf_destroy(conf);
        am_errf(err, errlen, "cannot create the Kafka producer: %s", rkerr);
        goto init_error;
    }
    return p;

init_error:
    ingest_producer_destroy(p);
    return NULL;
}

int ingest_producer_send(ingest_producer_t *p, const am_record_t *rec, const char *topic,
                         int keep_partition, const ingest_header_t *extra, size_t nextra, char *err,
                         size_t errlen)
{
    rd_kafka_headers_t *hdrs = NULL;
    if (!topic)
        topic = rec->topic;
    if (!topic) {
        am_errf(err, errlen, "no topic to produce to");
        return -1;
    }
    if (ingest_rdk_headers_parse(rec->headers, &hdrs, err, errlen) != 0)
        return -1;
    if (nextra && !hdrs)
        hdrs = rd_kafka_headers_new(nextra);
    for (size_t i = 0; i < nextra; i++)
        rd_kafka_header_add(hdrs, extra[i].name, -1, extra[i].value, -1);
    int32_t partition =
        keep_partition && rec->partition >= 0 ? rec->partition : RD_KAFKA_PARTITION_UA;
    int64_t ts = rec->ts == AM_TIME_NONE ? 0 : rec->ts;
    for (;;) {
        /* With RD_KAFKA_V_HEADERS the headers are owned by librdkafka
         * only when producev succeeds. */
        rd_kafka_resp_err_t e =
            rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_VALUE((void *)rec->payload, rec->payload ? rec->len : 0),
                              RD_KAFKA_V_KEY(rec->key, rec->key ? rec->key_len : 0),
                              RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(p->rk, 100);
            continue;
        }
        if (e) {
            rd_kafka_headers_destroy(hdrs);
            am_errf(err, errlen, "producing to %s: %s", topic, rd_kafka_err2str(e));
            return -1;
        }
        break;
    }
    p->pending++;
    rd_kafka_poll(p->rk, 0);
    return 0;
}

int ingest_producer_partitions(ingest_producer_t *p, const char *topic, int32_t *n, int timeout_ms,
                               char *err, size_t errlen)
{
    /* Metadata until every partition has a leader: a record produced to a
     * partition that has none yet, right after the topic was created, was
     * once reported delivered and lost (docs/scaling.md). */
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(p->rk, topic, NULL);
    int64_t until = am_monotonic_ms() + timeout_ms;
    int rc = -1;
    for (;;) {
        const struct rd_kafka_metadata *md = NULL;
        int left = (int)(until - am_monotonic_ms());
        rd_kafka_resp_err_t e = rkt ? rd_kafka_metadata(p->rk, 0, rkt, &md, left > 0 ? left : 1)
                                    : rd_kafka_last_error();
        int32_t leaderless = 0;
        if (e) {
            am_errf(err, errlen, "topic %s: no metadata: %s", topic, rd_kafka_err2str(e));
        } else if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt < 1) {
            am_errf(err, errlen, "topic %s: %s", topic,
                    md->topic_cnt == 1 && md->topics[0].err ? rd_kafka_err2str(md->topics[0].err)
                                                            : "no partitions");
        } else {
            for (int i = 0; i < md->topics[0].partition_cnt; i++)
                leaderless +=
                    md->topics[0].partitions[i].leader < 0 || md->topics[0].partitions[i].err != 0;
            *n = md->topics[0].partition_cnt;
            if (leaderless == 0)
                rc = 0;
            else
                am_errf(err, errlen, "topic %s: %d of %d partitions have no leader after %d ms",
                        topic, (int)leaderless, (int)*n, timeout_ms);
        }
        bool retry = rc != 0 && leaderless > 0 && am_monotonic_ms() + 200 < until;
        if (md)
            rd_kafka_metadata_destroy(md);
        if (!retry)
            break;
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    return rc;
}

size_t ingest_producer_pending(const ingest_producer_t *p)
{
    return p->pending;
}

uint64_t ingest_producer_delivered(const ingest_producer_t *p)
{
    return p->delivered;
}

int ingest_producer_flush(ingest_producer_t *p, int timeout_ms, char *err, size_t errlen)
{
    rd_kafka_resp_err_t e = rd_kafka_flush(p->rk, timeout_ms);
    int rc = 0;
    if (p->failed) {
        am_errf(err, errlen, "%zu record%s not delivered (first: %s)", p->failed,
                p->failed == 1 ? "" : "s", p->first_failure);
        rc = -1;
    } else if (e) {
        am_errf(err, errlen, "%zu record%s not delivered within %d ms: %s", p->pending,
                p->pending == 1 ? "" : "s", timeout_ms, rd_kafka_err2str(e));
        rc = -1;
    }
    p->failed = 0;
    return rc;
}

void ingest_producer_destroy(ingest_producer_t *p)
{
    if (!p)
        return;
    if (p->rk) {
        rd_kafka_flush(p->rk, 5000);
        rd_kafka_destroy(p->rk);
    }
    free(p);
}
