/*
 * mock.c - a mock Kafka cluster owned by a producer handle that does
 * nothing else (rd_kafka_mock_cluster_new needs a handle to run on).
 * Clients reach it through its bootstrap.servers like a real cluster, so
 * the code under test or on show is the real consumer.
 */
#include "ingest/mock.h"
#include "common/buf.h"
#include "ingest/rdk.h"

#include <librdkafka/rdkafka_mock.h>
#include <stdlib.h>

struct ingest_mock {
    ingest_rdk_base_t base; /* first: librdkafka's opaque */
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
};

ingest_mock_t *ingest_mock_create(int brokers, const am_log_t *log, char *err, size_t errlen)
{
    ingest_mock_t *m = am_xcalloc(1, sizeof *m);
    m->base.log = log;
    rd_kafka_conf_t *conf = ingest_rdk_conf(NULL, 0, &m->base, err, errlen);
    char rkerr[512];
    m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rkerr, sizeof rkerr);
    if (!m->rk) {
        rd_kafka_conf_destroy(conf);
        am_errf(err, errlen, "cannot create the mock cluster's client: %s", rkerr);
        goto init_error;
    }
    m->mc = rd_kafka_mock_cluster_new(m->rk, brokers);
    if (!m->mc) {
        am_errf(err, errlen, "cannot start librdkafka's mock cluster");
        goto init_error;
    }
    return m;

init_error:
    ingest_mock_destroy(m);
    return NULL;
}

const char *ingest_mock_bootstraps(const ingest_mock_t *m)
{
    return rd_kafka_mock_cluster_bootstraps(m->mc);
}

int ingest_mock_topic(ingest_mock_t *m, const char *topic, int partitions, char *err, size_t errlen)
{
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(m->mc, topic, partitions, 1);
    if (e) {
        am_errf(err, errlen, "mock cluster: creating topic %s: %s", topic, rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

void *ingest_mock_cluster(ingest_mock_t *m)
{
    return m->mc;
}

void ingest_mock_destroy(ingest_mock_t *m)
{
    if (!m)
        return;
    if (m->mc)
        rd_kafka_mock_cluster_destroy(m->mc);
    if (m->rk)
        rd_kafka_destroy(m->rk);
    free(m);
}
