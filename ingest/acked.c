/*
 * acked.c - one record, one answer: produce, then wait for its own
 * delivery report.
 *
 * Each send carries a heap "ticket" as the message's opaque. A thread of
 * the producer's own polls librdkafka, and the delivery callback marks the
 * ticket done (acknowledged or with the error) and wakes its sender. A
 * sender that stops waiting (its deadline passed) marks the ticket
 * abandoned instead; the callback then frees it when the report finally
 * comes. librdkafka fails a record itself after message.timeout.ms, which
 * is the ack timeout, so a ticket never outlives the producer's flush at
 * destroy by much. Tickets are guarded by one mutex: the reports are few
 * per second compared with what a mutex costs.
 */
#include "ingest/acked.h"
#include "common/buf.h"
#include "common/time.h"
#include "ingest/rdk.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct ticket {
    bool done, abandoned;
    rd_kafka_resp_err_t err;
} ticket_t;

struct ingest_acked {
    ingest_rdk_base_t base; /* first: librdkafka's opaque */
    rd_kafka_t *rk;
    int ack_timeout_ms;
    pthread_t poller;
    bool poller_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;  /* under mu */
    uint64_t acked; /* under mu */
    uint64_t failed;
    bool down; /* under mu: the brokers are unreachable (error callback, or a record that
                  timed out) until a record is acknowledged again */
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    ingest_acked_t *p = opaque;
    ticket_t *t = msg->_private;
    (void)rk;
    pthread_mutex_lock(&p->mu);
    if (msg->err)
        p->failed++;
    else
        p->acked++;
    if (!msg->err)
        p->down = false;
    else if (msg->err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT ||
             msg->err == RD_KAFKA_RESP_ERR__TIMED_OUT || msg->err == RD_KAFKA_RESP_ERR__TRANSPORT)
        p->down = true;
    if (t && t->abandoned) {
        free(t);
    } else if (t) {
        t->done = true;
        t->err = msg->err;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    ingest_acked_t *p = opaque;
    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        pthread_mutex_lock(&p->mu);
        p->down = true;
        pthread_mutex_unlock(&p->mu);
    }
    am_log(p->base.log, AM_LOG_WARN, "webhook producer: Kafka error", "error",
           rd_kafka_err2str((rd_kafka_resp_err_t)err), "reason", reason, NULL);
}

static void *poll_loop(void *arg)
{
    ingest_acked_t *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        bool stop = p->stopping;
        pthread_mutex_unlock(&p->mu);
        if (stop)
            break;
        rd_kafka_poll(p->rk, 100);
    }
    return NULL;
}

ingest_acked_t *ingest_acked_create(const ingest_kafka_prop_t *props, size_t n, int ack_timeout_ms,
                                    const am_log_t *log, char *err, size_t errlen)
{
    ingest_acked_t *p = am_xcalloc(1, sizeof *p);
    p->base.log = log;
    p->ack_timeout_ms = ack_timeout_ms > 0 ? ack_timeout_ms : 5000;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%d", p->ack_timeout_ms);
    /* linger.ms 0: a sender waits for its record, so batching would only
     * add to every answer's latency. */
    const ingest_kafka_prop_t defaults[] = {
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"linger.ms", "0"},
        {"message.timeout.ms", timeout},
    };
    rd_kafka_conf_t *conf = ingest_rdk_conf(defaults, 4, &p->base, err, errlen);
    if (!conf)
        goto init_error;
    for (size_t i = 0; i < n; i++)
        if (ingest_rdk_set(conf, props[i].name, props[i].value, err, errlen) != 0) {
            rd_kafka_conf_destroy(conf);
            goto init_error;
        }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    char rkerr[512];
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rkerr, sizeof rkerr);
    if (!p->rk) {
        rd_kafka_conf_destroy(conf);
        am_errf(err, errlen, "cannot create the Kafka producer: %s", rkerr);
        goto init_error;
    }
    if (pthread_create(&p->poller, NULL, poll_loop, p) != 0) {
        am_errf(err, errlen, "cannot start the producer's thread: %s", strerror(errno));
        goto init_error;
    }
    p->poller_started = true;
    return p;

init_error:
    ingest_acked_destroy(p);
    return NULL;
}

/* Is e a refusal that a retry of the same record cannot get past? */
static bool permanent(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
        return true;
    default:
        return false;
    }
}

ingest_acked_result_t ingest_acked_send(ingest_acked_t *p, const char *topic, const char *key,
                                        const void *value, size_t len, int64_t ts_ms,
                                        const ingest_header_t *headers, size_t nheaders, char *err,
                                        size_t errlen)
{
    ticket_t *t = am_xcalloc(1, sizeof *t);
    rd_kafka_headers_t *hdrs = nheaders ? rd_kafka_headers_new(nheaders) : NULL;
    for (size_t i = 0; i < nheaders; i++)
        rd_kafka_header_add(hdrs, headers[i].name, -1, headers[i].value, -1);
    rd_kafka_resp_err_t e =
        rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_VALUE((void *)value, len),
                          RD_KAFKA_V_KEY(key, key ? strlen(key) : 0), RD_KAFKA_V_TIMESTAMP(ts_ms),
                          RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(t), RD_KAFKA_V_END);
    if (e) {
        /* Not queued: the headers and the ticket are still ours. */
        rd_kafka_headers_destroy(hdrs);
        free(t);
        am_errf(err, errlen, "producing to %s: %s", topic, rd_kafka_err2str(e));
        return permanent(e) ? INGEST_ACKED_REFUSED : INGEST_ACKED_UNAVAILABLE;
    }
    /* While the brokers are known to be down, a sender is told so after
     * a short wait instead of the whole timeout, so that one thread can
     * keep answering; the record stays queued, and its acknowledgement
     * when the brokers return is what marks them up again. */
    pthread_mutex_lock(&p->mu);
    bool down = p->down;
    pthread_mutex_unlock(&p->mu);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    int64_t wait_ms = down ? 500 : p->ack_timeout_ms + 1000;
    until.tv_sec += (time_t)(wait_ms / 1000);
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    while (!t->done) {
        if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT && !t->done) {
            t->abandoned = true; /* the delivery report frees it */
            pthread_mutex_unlock(&p->mu);
            am_errf(err, errlen, "%s: no acknowledgement within %d ms", topic, (int)wait_ms);
            return INGEST_ACKED_UNAVAILABLE;
        }
    }
    e = t->err;
    pthread_mutex_unlock(&p->mu);
    free(t);
    if (!e)
        return INGEST_ACKED_OK;
    am_errf(err, errlen, "%s: %s", topic, rd_kafka_err2str(e));
    return permanent(e) ? INGEST_ACKED_REFUSED : INGEST_ACKED_UNAVAILABLE;
}

bool ingest_acked_up(ingest_acked_t *p)
{
    pthread_mutex_lock(&p->mu);
    bool up = !p->down;
    pthread_mutex_unlock(&p->mu);
    return up;
}

void ingest_acked_counts(ingest_acked_t *p, uint64_t *acked, uint64_t *failed)
{
    pthread_mutex_lock(&p->mu);
    *acked = p->acked;
    *failed = p->failed;
    pthread_mutex_unlock(&p->mu);
}

void ingest_acked_destroy(ingest_acked_t *p)
{
    if (!p)
        return;
    if (p->rk) {
        rd_kafka_flush(p->rk, 5000);
        /* What is left fails now, and its reports free the tickets of
         * senders that gave up. */
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        for (int i = 0; i < 50 && rd_kafka_outq_len(p->rk) > 0; i++)
            rd_kafka_poll(p->rk, 100);
    }
    if (p->poller_started) {
        pthread_mutex_lock(&p->mu);
        p->stopping = true;
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->poller, NULL);
    }
    if (p->rk)
        rd_kafka_destroy(p->rk);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
