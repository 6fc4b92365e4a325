/*
 * kafka.c - the Kafka consumer: batches of records into a sink, with the
 * sink's store as the source of truth for positions.
 *
 * The loop is librdkafka's examples/consumer.c: poll with a short timeout,
 * destroy every message, log and go on after a message error, stop on a
 * fatal error, consumer_close then destroy. What it adds:
 *
 * - Batches. Messages are handed to the sink as they arrive and kept
 *   until the sink commits the batch (N records, T ms, every partition at
 *   its end, a rebalance or a stop). If the store fails, the sink has
 *   rolled the batch back, and the kept messages are written again after
 *   a backoff (0.5 s, 1 s, 2 s, ...); after store_retries failures the
 *   consumer gives up with an error and commits nothing, so the next start
 *   resumes from the stored offsets. Keeping the messages instead of
 *   seeking back means a retry sees exactly the same records.
 * - A full store (the sink returns INGEST_KAFKA_SINK_FULL: disk, quota or
 *   file-size limit) is not a failure but a pause: the kept batch is
 *   written again every 0.5, 1, 2, ... up to 10 s, without limit, and
 *   nothing is polled meanwhile, so no record is taken and no offset
 *   moves until it commits. A pause longer than max.poll.interval.ms
 *   makes librdkafka leave the group; the next poll rejoins it (the
 *   revoke finds no open batch), and partitions start again at the stored
 *   offsets. A stop requested during the pause ends the run with an error
 *   and nothing of the batch committed.
 * - Offsets. enable.auto.commit and enable.auto.offset.store are off. On
 *   assignment every partition starts at the offset the sink stored (none
 *   stored: where auto.offset.reset says, never at the group's committed
 *   offset, which may belong to another database - unless the options say
 *   so: the decode stage keeps no offsets of its own that matter, and a
 *   correlator always starts a new partition at its beginning). After a batch commits
 *   in the store, its offsets are committed to Kafka asynchronously, only
 *   so that lag tools see progress; failures there are logged, not fatal.
 * - Rebalances, eager or cooperative (rd_kafka_rebalance_protocol): the
 *   open batch is committed before any partition is given up.
 * - A view for health checks (sink.observe): the assigned partitions with
 *   their stored and end offsets, and whether a broker connection is up,
 *   read from librdkafka's statistics (brokers in state UP), since
 *   librdkafka reports "all brokers down" as an error but never the way
 *   back.
 *
 * - Authentication. An authentication or TLS failure (wrong SASL
 *   credentials, a certificate the CA does not vouch for) before the
 *   first assignment ends the run with an error that says so; later ones
 *   are logged and retried by librdkafka.
 *
 * Everything runs on the thread that calls ingest_kafka_run(): the
 * rebalance, error, commit and statistics callbacks are served from
 * consumer_poll.
 * Only the log callback runs on librdkafka's threads.
 */
#include "ingest/kafka.h"
#include "common/buf.h"
#include "common/time.h"
#include "ingest/rdk.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLL_MS 100
#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS 30000
#define FULL_PROBE_MAX_MS 10000
#define FULL_LOG_EVERY_MS 60000
#define OBSERVE_MS 1000

/* A partition seen in an assignment or a batch. */
typedef struct part {
    char *topic;
    int32_t partition;
    int assigned;
    int eof;            /* at its end since its last message */
    int64_t next;       /* next offset committed in the store; -1 unknown */
    int64_t batch_next; /* next offset after this partition's records in the
                           open batch; -1 when it has none */
} part_t;

struct ingest_kafka {
    ingest_rdk_base_t base; /* first: librdkafka's opaque */
    const ingest_kafka_options_t *opts;
    ingest_kafka_sink_t sink;
    rd_kafka_t *rk;
    int closed;
    int close_timed_out; /* the group could not be left: destroy without closing again */
    int64_t start_at;    /* where a partition with no stored offset starts */

    part_t *parts;
    size_t nparts;

    rd_kafka_message_t **batch;
    size_t nbatch, batch_cap;
    int64_t batch_opened_ms;
    int attempts;           /* consecutive failed writes of the open batch */
    int full_probes;        /* consecutive writes refused for want of space */
    int64_t full_since_ms;  /* when the store became full; 0 when it is not */
    int64_t full_logged_ms; /* last "still full" log line */

    int assigned_once; /* a partition was assigned since the start */
    int failed;        /* a callback failed: err holds why */
    int fatal;         /* librdkafka raised a fatal error */
    char err[1024];

    int64_t last_activity_ms;
    int joined;                 /* an assignment arrived */
    int brokers_up;             /* a broker connection is up, as last seen */
    int64_t brokers_down_since; /* wall-clock ms, AM_TIME_NONE while up */
    ingest_kafka_part_view_t *view;
    int64_t next_observe_ms;
    int64_t next_stats_ms;
    uint64_t stats_records, stats_events;
    int64_t stats_ms;
    ingest_kafka_stats_t stats;
};

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void set_brokers_up(ingest_kafka_t *k, int up)
{
    if (up)
        k->brokers_down_since = AM_TIME_NONE;
    else if (k->brokers_up || k->brokers_down_since == AM_TIME_NONE)
        k->brokers_down_since = am_wall_ms();
    k->brokers_up = up;
}

/* Hands the sink the consumer's view (sink.observe). */
static void observe(ingest_kafka_t *k)
{
    if (!k->sink.observe)
        return;
    size_t n = 0;
    k->view = am_xrealloc(k->view, (k->nparts + 1) * sizeof *k->view);
    for (size_t i = 0; i < k->nparts; i++) {
        const part_t *p = &k->parts[i];
        if (!p->assigned)
            continue;
        int64_t lo = -1, hi = -1;
        if (rd_kafka_get_watermark_offsets(k->rk, p->topic, p->partition, &lo, &hi) != 0)
            hi = -1;
        k->view[n++] = (ingest_kafka_part_view_t){p->topic, p->partition, p->next, hi};
    }
    ingest_kafka_view_t v = {
        .parts = k->view,
        .nparts = n,
        .joined = k->joined,
        .brokers_up = k->brokers_up,
        .brokers_down_since = k->brokers_down_since,
    };
    k->sink.observe(k->sink.ctx, &v);
}

static int stopping(const ingest_kafka_t *k)
{
    return k->opts->stop && *k->opts->stop;
}

static part_t *find_part(ingest_kafka_t *k, const char *topic, int32_t partition, int add)
{
    for (size_t i = 0; i < k->nparts; i++)
        if (k->parts[i].partition == partition && strcmp(k->parts[i].topic, topic) == 0)
            return &k->parts[i];
    if (!add)
        return NULL;
    k->parts = am_xrealloc(k->parts, (k->nparts + 1) * sizeof *k->parts);
    part_t *p = &k->parts[k->nparts++];
    *p = (part_t){.topic = am_xstrdup(topic), .partition = partition, .next = -1, .batch_next = -1};
    return p;
}

static const char *topic_format(const ingest_kafka_t *k, const char *topic)
{
    for (size_t i = 0; i < k->opts->ntopics; i++)
        if (strcmp(k->opts->topics[i].name, topic) == 0)
            return k->opts->topics[i].format;
    return NULL;
}

/* --- batches -------------------------------------------------------------- */

/* Hands one kept message to the sink. */
static int feed(ingest_kafka_t *k, rd_kafka_message_t *msg, char *err, size_t errlen)
{
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(msg, &tstype);
    const char *topic = rd_kafka_topic_name(msg->rkt);
    char *headers = ingest_rdk_headers_json(msg);
    am_record_t rec = {
        .payload = msg->payload,
        .len = msg->payload ? msg->len : 0,
        .topic = topic,
        .partition = msg->partition,
        .offset = msg->offset,
        .ts = tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? AM_TIME_NONE : am_time_record(ts),
        .key = msg->key,
        .key_len = msg->key ? msg->key_len : 0,
        .headers = headers,
        .format = topic_format(k, topic),
    };
    int rc = k->sink.record(k->sink.ctx, &rec, err, errlen);
    free(headers);
    return rc;
}

/* Destroys the open batch's messages without committing anything. */
static void batch_drop(ingest_kafka_t *k)
{
    for (size_t i = 0; i < k->nbatch; i++)
        rd_kafka_message_destroy(k->batch[i]);
    k->nbatch = 0;
    for (size_t i = 0; i < k->nparts; i++)
        k->parts[i].batch_next = -1;
}

/* The store is full: logs the pause (first time, then once a minute) and
 * returns how long to wait before the next attempt. */
static int full_wait(ingest_kafka_t *k, const char *why, bool full)
{
    int64_t now = am_monotonic_ms();
    char n[32], w[32];
    int wait = BACKOFF_FIRST_MS << (k->full_probes < 6 ? k->full_probes : 6);
    if (wait > FULL_PROBE_MAX_MS)
        wait = FULL_PROBE_MAX_MS;
    k->full_probes++;
    k->stats.full++;
    snprintf(n, sizeof n, "%zu", k->nbatch);
    snprintf(w, sizeof w, "%d", wait);
    if (!k->full_since_ms) {
        k->full_since_ms = k->full_logged_ms = now;
        am_log(k->base.log, AM_LOG_ERROR,
               full ? "storage full: consumption paused, no offset moves; the batch is written "
                      "again once space returns"
                    : "consumption paused, no offset moves; the batch is written again until "
                      "the cause clears",
               "records", n, "retry_in_ms", w, "error", why, NULL);
    } else if (now - k->full_logged_ms >= FULL_LOG_EVERY_MS) {
        char p[32];
        k->full_logged_ms = now;
        snprintf(p, sizeof p, "%" PRId64, now - k->full_since_ms);
        am_log(k->base.log, AM_LOG_ERROR,
               full ? "storage still full: consumption paused" : "consumption still paused",
               "paused_ms", p, "records", n, "error", why, NULL);
    }
    return wait;
}

/* The store failed (rc: the sink's return) and the sink rolled the open
 * batch back: waits, then writes the kept records again, up to
 * store_retries times, or without limit while the store is full. Returns 0
 * once they are all written (uncommitted) again, -1 with err when giving
 * up. */
static int batch_recover(ingest_kafka_t *k, int rc, char *err, size_t errlen)
{
    int retries = k->opts->store_retries > 0 ? k->opts->store_retries : 5;
    for (;;) {
        int wait;
        bool paused = rc == INGEST_KAFKA_SINK_FULL || rc == INGEST_KAFKA_SINK_PAUSE;
        if (stopping(k) || (!paused && ++k->attempts > retries)) {
            char last[1024];
            snprintf(last, sizeof last, "%s", err);
            if (paused)
                am_errf(err, errlen,
                        "stopped while %s (%s); nothing of the open batch was "
                        "committed, the next start resumes from the stored offsets",
                        rc == INGEST_KAFKA_SINK_FULL ? "the store was full" : "paused", last);
            else
                am_errf(err, errlen,
                        "the store failed %d time%s in a row (%s); nothing of the open "
                        "batch was committed, the next start resumes from the stored offsets",
                        k->attempts, k->attempts == 1 ? "" : "s", last);
            return -1;
        }
        if (paused) {
            wait = full_wait(k, err, rc == INGEST_KAFKA_SINK_FULL);
        } else {
            wait = BACKOFF_FIRST_MS << (k->attempts - 1 < 6 ? k->attempts - 1 : 6);
            if (wait > BACKOFF_MAX_MS)
                wait = BACKOFF_MAX_MS;
            char n[32], w[32];
            snprintf(n, sizeof n, "%zu", k->nbatch);
            snprintf(w, sizeof w, "%d", wait);
            am_log(k->base.log, AM_LOG_WARN, "store failed, batch rolled back; writing it again",
                   "records", n, "retry_in_ms", w, "error", err, NULL);
            k->stats.retries++;
        }
        for (int slept = 0; slept < wait && !stopping(k); slept += 100)
            sleep_ms(100);
        size_t i = 0;
        while (i < k->nbatch && (rc = feed(k, k->batch[i], err, errlen)) == 0)
            i++;
        if (i == k->nbatch)
            return 0;
    }
}

/* Commits the open batch: records and offsets in the store, then the
 * offsets to Kafka. skip_kafka when the partitions were lost. Returns 0,
 * or -1 with err when the store kept failing (the batch is dropped). */
static int batch_commit(ingest_kafka_t *k, int skip_kafka, char *err, size_t errlen)
{
    if (k->nbatch == 0)
        return 0;
    ingest_kafka_pos_t *pos = am_xcalloc(k->nparts, sizeof *pos);
    size_t npos = 0;
    for (size_t i = 0; i < k->nparts; i++)
        if (k->parts[i].batch_next >= 0)
            pos[npos++] = (ingest_kafka_pos_t){
                .topic = k->parts[i].topic,
                .partition = k->parts[i].partition,
                .next = k->parts[i].batch_next,
            };
    int rc;
    while ((rc = k->sink.commit(k->sink.ctx, pos, npos, err, errlen)) != 0) {
        if (batch_recover(k, rc, err, errlen) != 0) {
            free(pos);
            batch_drop(k);
            return -1;
        }
    }
    k->attempts = 0;
    if (k->full_since_ms) {
        char p[32];
        snprintf(p, sizeof p, "%" PRId64, am_monotonic_ms() - k->full_since_ms);
        am_log(k->base.log, AM_LOG_WARN, "storage writable again: consumption resumed", "paused_ms",
               p, NULL);
        k->full_since_ms = 0;
        k->full_probes = 0;
    }
    k->stats.records += k->nbatch;
    k->stats.batches++;

    rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new((int)npos);
    for (size_t i = 0; i < npos; i++)
        rd_kafka_topic_partition_list_add(offsets, pos[i].topic, pos[i].partition)->offset =
            pos[i].next;
    for (size_t i = 0; i < k->nparts; i++)
        if (k->parts[i].batch_next >= 0)
            k->parts[i].next = k->parts[i].batch_next;
    batch_drop(k);
    free(pos);
    observe(k);
    if (!skip_kafka) {
        rd_kafka_resp_err_t e = rd_kafka_commit(k->rk, offsets, 1);
        if (e)
            am_log(k->base.log, AM_LOG_WARN, "committing offsets to Kafka failed (a hint only)",
                   "error", rd_kafka_err2str(e), NULL);
    }
    rd_kafka_topic_partition_list_destroy(offsets);
    return 0;
}

/* Adds a message to the open batch and hands it to the sink. */
static int batch_add(ingest_kafka_t *k, rd_kafka_message_t *msg, char *err, size_t errlen)
{
    if (k->nbatch == k->batch_cap) {
        k->batch_cap = k->batch_cap ? 2 * k->batch_cap : 256;
        k->batch = am_xrealloc(k->batch, k->batch_cap * sizeof *k->batch);
    }
    if (k->nbatch == 0)
        k->batch_opened_ms = am_monotonic_ms();
    k->batch[k->nbatch++] = msg;
    part_t *p = find_part(k, rd_kafka_topic_name(msg->rkt), msg->partition, 1);
    p->batch_next = msg->offset + 1;
    p->eof = 0;
    int rc = feed(k, msg, err, errlen);
    if (rc == 0)
        return 0;
    if (batch_recover(k, rc, err, errlen) == 0)
        return 0;
    batch_drop(k);
    return -1;
}

/* --- callbacks (served from consumer_poll) -------------------------------- */

static void fail_in_callback(ingest_kafka_t *k, const char *why)
{
    if (!k->failed)
        snprintf(k->err, sizeof k->err, "%s", why);
    k->failed = 1;
}

static void describe(const rd_kafka_topic_partition_list_t *parts, am_buf_t *b)
{
    for (int i = 0; i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &parts->elems[i];
        am_buf_printf(b, "%s%s/%" PRId32, i ? "," : "", tp->topic, tp->partition);
        if (tp->offset >= 0)
            am_buf_printf(b, "@%" PRId64, tp->offset);
        else if (tp->offset == RD_KAFKA_OFFSET_BEGINNING)
            am_buf_puts(b, "@beginning");
        else if (tp->offset == RD_KAFKA_OFFSET_END)
            am_buf_puts(b, "@end");
    }
}

static void on_assign(ingest_kafka_t *k, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts,
                      int cooperative)
{
    char err[1024];
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        int64_t next = -1;
        if (k->sink.stored(k->sink.ctx, tp->topic, tp->partition, &next, err, sizeof err) != 0) {
            /* Starting anywhere else could skip records: give up. */
            fail_in_callback(k, err);
            next = -1;
        }
        tp->offset = next >= 0 ? next : k->start_at;
        if (k->sink.assigned) {
            int64_t lo = -1, hi = -1;
            if (rd_kafka_query_watermark_offsets(rk, tp->topic, tp->partition, &lo, &hi, 5000))
                hi = -1;
            k->sink.assigned(k->sink.ctx, tp->topic, tp->partition, next, hi);
        }
        part_t *p = find_part(k, tp->topic, tp->partition, 1);
        p->assigned = 1;
        k->assigned_once = 1;
        p->eof = 0;
        p->next = next;
    }
    k->joined = 1;
    am_buf_t b = {0};
    describe(parts, &b);
    am_log(k->base.log, AM_LOG_INFO, "partitions assigned", "protocol",
           cooperative ? "cooperative" : "eager", "partitions", b.p ? b.p : "", NULL);
    am_buf_free(&b);
    if (cooperative) {
        rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, parts);
        if (e) {
            am_log(k->base.log, AM_LOG_ERROR, "incremental assign failed", "error",
                   rd_kafka_error_string(e), NULL);
            rd_kafka_error_destroy(e);
        }
    } else {
        rd_kafka_resp_err_t e = rd_kafka_assign(rk, parts);
        if (e)
            am_log(k->base.log, AM_LOG_ERROR, "assign failed", "error", rd_kafka_err2str(e), NULL);
    }
    k->last_activity_ms = am_monotonic_ms();
}

static void on_revoke(ingest_kafka_t *k, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts,
                      int cooperative)
{
    int lost = rd_kafka_assignment_lost(rk);
    char err[1024];
    /* The batch may hold records of the partitions going away: commit it
     * while they are still ours (to the store in any case; to Kafka only
     * if the assignment was not lost meanwhile). */
    if (batch_commit(k, lost, err, sizeof err) != 0)
        fail_in_callback(k, err);
    for (int i = 0; i < parts->cnt; i++) {
        part_t *p = find_part(k, parts->elems[i].topic, parts->elems[i].partition, 0);
        if (p)
            p->assigned = 0;
    }
    am_buf_t b = {0};
    describe(parts, &b);
    am_log(k->base.log, lost ? AM_LOG_WARN : AM_LOG_INFO,
           lost ? "partitions lost" : "partitions revoked", "protocol",
           cooperative ? "cooperative" : "eager", "partitions", b.p ? b.p : "", NULL);
    am_buf_free(&b);
    if (cooperative) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
        if (e) {
            am_log(k->base.log, AM_LOG_ERROR, "incremental unassign failed", "error",
                   rd_kafka_error_string(e), NULL);
            rd_kafka_error_destroy(e);
        }
    } else {
        rd_kafka_resp_err_t e = rd_kafka_assign(rk, NULL);
        if (e)
            am_log(k->base.log, AM_LOG_ERROR, "unassign failed", "error", rd_kafka_err2str(e),
                   NULL);
    }
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    ingest_kafka_t *k = opaque;
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    k->stats.rebalances++;
    switch (err) {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        on_assign(k, rk, parts, cooperative);
        break;
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        on_revoke(k, rk, parts, cooperative);
        break;
    default:
        am_log(k->base.log, AM_LOG_ERROR, "rebalance failed", "error", rd_kafka_err2str(err), NULL);
        on_revoke(k, rk, parts, cooperative);
        break;
    }
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    ingest_kafka_t *k = opaque;
    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        k->fatal = 1;
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        set_brokers_up(k, 0);
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR__SSL) {
        /* Wrong credentials or an untrusted certificate do not mend on
         * their own: at start they end the run; once the consumer has
         * worked (credentials rotated under it?) librdkafka retries. */
        am_log(k->base.log, AM_LOG_ERROR,
               k->assigned_once ? "kafka authentication failed (librdkafka retries)"
                                : "kafka authentication failed",
               "error", rd_kafka_err2name((rd_kafka_resp_err_t)err), "reason", reason, NULL);
        if (!k->assigned_once) {
            char why[1024];
            snprintf(why, sizeof why,
                     "Kafka authentication failed: %s (check kafka security.protocol, "
                     "sasl.mechanisms, sasl.username, sasl.password and ssl.ca.location)",
                     reason);
            fail_in_callback(k, why);
        }
        return;
    }
    am_log(k->base.log, AM_LOG_WARN, "kafka error (librdkafka retries)", "error",
           rd_kafka_err2name((rd_kafka_resp_err_t)err), "reason", reason, NULL);
}

static void commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    ingest_kafka_t *k = opaque;
    (void)rk;
    (void)offsets;
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        am_log(k->base.log, AM_LOG_WARN, "offset commit to Kafka failed (a hint only)", "error",
               rd_kafka_err2str(err), NULL);
}

/* librdkafka's statistics: a broker connection is up when any broker is
 * in state UP. Returns 0: librdkafka frees the JSON. */
static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    ingest_kafka_t *k = opaque;
    (void)rk;
    json_t *root = json_loadb(json, len, 0, NULL);
    const char *name;
    json_t *b;
    int up = 0;
    json_object_foreach(json_object_get(root, "brokers"), name, b)
    {
        const char *state = json_string_value(json_object_get(b, "state"));
        up |= state && strcmp(state, "UP") == 0;
    }
    if (root)
        set_brokers_up(k, up);
    json_decref(root);
    return 0;
}

/* --- lifecycle ------------------------------------------------------------ */

/* auto.offset.reset, as a start offset for partitions with none stored. */
static int64_t start_offset(rd_kafka_conf_t *conf)
{
    char v[64];
    size_t n = sizeof v;
    if (rd_kafka_conf_get(conf, "auto.offset.reset", v, &n) != RD_KAFKA_CONF_OK)
        return RD_KAFKA_OFFSET_BEGINNING;
    if (strcmp(v, "smallest") == 0 || strcmp(v, "earliest") == 0 || strcmp(v, "beginning") == 0)
        return RD_KAFKA_OFFSET_BEGINNING;
    if (strcmp(v, "largest") == 0 || strcmp(v, "latest") == 0 || strcmp(v, "end") == 0)
        return RD_KAFKA_OFFSET_END;
    return RD_KAFKA_OFFSET_INVALID; /* "error": let librdkafka raise it */
}

ingest_kafka_t *ingest_kafka_create(const ingest_kafka_options_t *opts,
                                    const ingest_kafka_sink_t *sink, char *err, size_t errlen)
{
    ingest_kafka_t *k = am_xcalloc(1, sizeof *k);
    rd_kafka_conf_t *conf = NULL;
    rd_kafka_topic_partition_list_t *subs = NULL;
    k->base.log = opts->log;
    k->opts = opts;
    k->sink = *sink;

    k->brokers_down_since = AM_TIME_NONE;
    static const ingest_kafka_prop_t defaults[] = {{"auto.offset.reset", "earliest"},
                                                   {"statistics.interval.ms", "1000"}};
    conf = ingest_rdk_conf(defaults, sink->observe ? 2 : 1, &k->base, err, errlen);
    if (!conf)
        goto init_error;
    for (size_t i = 0; i < opts->nprops; i++)
        if (ingest_rdk_set(conf, opts->props[i].name, opts->props[i].value, err, errlen) != 0)
            goto init_error;
    if (ingest_rdk_set(conf, "group.id", opts->group, err, errlen) != 0 ||
        ingest_rdk_set(conf, "enable.auto.commit", "false", err, errlen) != 0 ||
        ingest_rdk_set(conf, "enable.auto.offset.store", "false", err, errlen) != 0 ||
        ingest_rdk_set(conf, "enable.partition.eof", "true", err, errlen) != 0)
        goto init_error;
    k->start_at = opts->start == INGEST_KAFKA_START_BEGINNING   ? RD_KAFKA_OFFSET_BEGINNING
                  : opts->start == INGEST_KAFKA_START_COMMITTED ? RD_KAFKA_OFFSET_STORED
                                                                : start_offset(conf);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_offset_commit_cb(conf, commit_cb);
    if (sink->observe)
        rd_kafka_conf_set_stats_cb(conf, stats_cb);

    char rkerr[512];
    k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rkerr, sizeof rkerr);
    if (!k->rk) {
        am_errf(err, errlen, "cannot create the Kafka consumer: %s", rkerr);
        goto init_error;
    }
    conf = NULL; /* owned by k->rk now */
    rd_kafka_poll_set_consumer(k->rk);

    subs = rd_kafka_topic_partition_list_new((int)opts->ntopics);
    for (size_t i = 0; i < opts->ntopics; i++)
        rd_kafka_topic_partition_list_add(subs, opts->topics[i].name, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(k->rk, subs);
    if (e) {
        am_errf(err, errlen, "cannot subscribe to %zu topic%s: %s", opts->ntopics,
                opts->ntopics == 1 ? "" : "s", rd_kafka_err2str(e));
        goto init_error;
    }
    rd_kafka_topic_partition_list_destroy(subs);
    return k;

init_error:
    if (subs) /* librdkafka's destroy does not take NULL */
        rd_kafka_topic_partition_list_destroy(subs);
    if (conf)
        rd_kafka_conf_destroy(conf);
    ingest_kafka_destroy(k);
    return NULL;
}

/* Leaves the group, serving the rebalance that comes with it, for at most
 * CLOSE_TIMEOUT_MS: with the brokers down the synchronous
 * rd_kafka_consumer_close() waited without end (over 200 s on the mock
 * cluster), and a stop (SIGTERM from systemd or Kubernetes) must not.
 * Giving up loses nothing: the offsets that matter are in the store, and
 * the coordinator drops the member when its session times out. The
 * rd_kafka_destroy() that follows still waits up to session.timeout.ms
 * (librdkafka's default 45 s) for the group handler to end, so a stop
 * during an outage takes at most about 5 s + session.timeout.ms. */
#define CLOSE_TIMEOUT_MS 5000

/* One event of the closing consumer's queue: a rebalance (the revocation
 * that leaving the group brings) is answered by unassigning, as the
 * rebalance callback would; nothing else matters any more. */
static void serve_close_event(ingest_kafka_t *k, rd_kafka_event_t *ev)
{
    if (!ev)
        return;
    if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE) {
        if (strcmp(rd_kafka_rebalance_protocol(k->rk), "COOPERATIVE") == 0) {
            rd_kafka_error_t *e =
                rd_kafka_incremental_unassign(k->rk, rd_kafka_event_topic_partition_list(ev));
            if (e)
                rd_kafka_error_destroy(e);
        } else {
            rd_kafka_assign(k->rk, NULL);
        }
    }
    rd_kafka_event_destroy(ev);
}

static void close_consumer(ingest_kafka_t *k)
{
    if (!k->rk || k->closed)
        return;
    k->closed = 1;
    rd_kafka_queue_t *q = rd_kafka_queue_new(k->rk);
    rd_kafka_error_t *e = rd_kafka_consumer_close_queue(k->rk, q);
    if (e) {
        am_log(k->base.log, AM_LOG_WARN, "closing the consumer", "error", rd_kafka_error_string(e),
               NULL);
        rd_kafka_error_destroy(e);
        k->close_timed_out = 1;
    } else {
        int64_t deadline = am_monotonic_ms() + CLOSE_TIMEOUT_MS;
        while (!rd_kafka_consumer_closed(k->rk)) {
            if (am_monotonic_ms() >= deadline) {
                am_log(k->base.log, AM_LOG_WARN,
                       "the consumer could not leave its group in time (brokers down?); "
                       "stopping anyway, the stored offsets are intact",
                       NULL);
                k->close_timed_out = 1;
                break;
            }
            serve_close_event(k, rd_kafka_queue_poll(q, 100));
        }
    }
    rd_kafka_queue_destroy(q);
}

void ingest_kafka_destroy(ingest_kafka_t *k)
{
    if (!k)
        return;
    batch_drop(k);
    close_consumer(k);
    batch_drop(k); /* nothing is added while closing; kept for safety */
    if (k->rk)
        rd_kafka_destroy_flags(k->rk,
                               k->close_timed_out ? RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE : 0);
    for (size_t i = 0; i < k->nparts; i++)
        free(k->parts[i].topic);
    free(k->parts);
    free(k->batch);
    free(k->view);
    free(k);
}

const ingest_kafka_stats_t *ingest_kafka_stats(const ingest_kafka_t *k)
{
    return &k->stats;
}

/* --- the loop ------------------------------------------------------------- */

static void log_stats(ingest_kafka_t *k, int64_t now)
{
    double secs = (double)(now - k->stats_ms) / 1000.0;
    uint64_t events = k->sink.events ? k->sink.events(k->sink.ctx) : 0;
    int64_t total_lag = 0;
    int lag_known = 1;
    for (size_t i = 0; i < k->nparts; i++) {
        part_t *p = &k->parts[i];
        if (!p->assigned)
            continue;
        int64_t lo = -1, hi = -1;
        char next[32], end[32], lag[32], part[16];
        rd_kafka_get_watermark_offsets(k->rk, p->topic, p->partition, &lo, &hi);
        snprintf(part, sizeof part, "%" PRId32, p->partition);
        snprintf(next, sizeof next, "%" PRId64, p->next);
        snprintf(end, sizeof end, "%" PRId64, hi);
        if (p->next >= 0 && hi >= 0) {
            int64_t l = hi > p->next ? hi - p->next : 0;
            total_lag += l;
            snprintf(lag, sizeof lag, "%" PRId64, l);
        } else {
            lag_known = 0;
            snprintf(lag, sizeof lag, "unknown");
        }
        am_log(k->base.log, AM_LOG_INFO, "consumer lag", "topic", p->topic, "partition", part,
               "next", p->next >= 0 ? next : "unknown", "end", hi >= 0 ? end : "unknown", "lag",
               lag, NULL);
    }
    char rec[32], rps[32], ev[32], eps[32], lag[32];
    snprintf(rec, sizeof rec, "%" PRIu64, k->stats.records);
    snprintf(rps, sizeof rps, "%.1f",
             secs > 0 ? (double)(k->stats.records - k->stats_records) / secs : 0.0);
    snprintf(ev, sizeof ev, "%" PRIu64, events);
    snprintf(eps, sizeof eps, "%.1f", secs > 0 ? (double)(events - k->stats_events) / secs : 0.0);
    snprintf(lag, sizeof lag, "%" PRId64, total_lag);
    am_log(k->base.log, AM_LOG_INFO, "consumer progress", "records", rec, "records_per_s", rps,
           "events", ev, "events_per_s", eps, "lag", lag_known ? lag : "unknown", NULL);
    k->stats_records = k->stats.records;
    k->stats_events = events;
    k->stats_ms = now;
}

/* True when partitions are assigned and every one is at its end. */
static int all_at_end(const ingest_kafka_t *k)
{
    int any = 0;
    for (size_t i = 0; i < k->nparts; i++) {
        if (!k->parts[i].assigned)
            continue;
        if (!k->parts[i].eof)
            return 0;
        any = 1;
    }
    return any;
}

static void on_message_error(ingest_kafka_t *k, rd_kafka_message_t *msg)
{
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        part_t *p = find_part(k, rd_kafka_topic_name(msg->rkt), msg->partition, 0);
        if (p && !p->eof) {
            p->eof = 1;
            k->last_activity_ms = am_monotonic_ms();
        }
        return;
    }
    if (msg->err == RD_KAFKA_RESP_ERR__FATAL) {
        k->fatal = 1;
        return;
    }
    char part[16] = "";
    if (msg->rkt)
        snprintf(part, sizeof part, "%" PRId32, msg->partition);
    am_log(k->base.log, AM_LOG_WARN, "consume error (librdkafka retries)", "topic",
           msg->rkt ? rd_kafka_topic_name(msg->rkt) : "", "partition", part, "error",
           rd_kafka_message_errstr(msg), NULL);
}

int ingest_kafka_run(ingest_kafka_t *k, char *err, size_t errlen)
{
    const ingest_kafka_options_t *o = k->opts;
    size_t batch_records = o->batch_records ? o->batch_records : 1000;
    int batch_ms = o->batch_ms > 0 ? o->batch_ms : 1000;
    int rc = 0;
    int64_t started = am_monotonic_ms();
    k->last_activity_ms = started;
    k->stats_ms = started;
    k->next_stats_ms = o->stats_interval_ms > 0 ? started + o->stats_interval_ms : INT64_MAX;

    while (!stopping(k)) {
        int timeout = POLL_MS;
        if (k->nbatch) {
            int64_t left = k->batch_opened_ms + batch_ms - am_monotonic_ms();
            timeout = left < 0 ? 0 : left < POLL_MS ? (int)left : POLL_MS;
        }
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(k->rk, timeout);
        if (k->failed) {
            /* A callback failed (the store, during a rebalance). */
            if (msg)
                rd_kafka_message_destroy(msg);
            am_errf(err, errlen, "%s", k->err);
            rc = -1;
            break;
        }
        if (msg && msg->err) {
            if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && !k->brokers_up)
                set_brokers_up(k, 1);
            on_message_error(k, msg);
            rd_kafka_message_destroy(msg);
        } else if (msg) {
            if (!k->brokers_up)
                set_brokers_up(k, 1);
            k->last_activity_ms = am_monotonic_ms();
            if (batch_add(k, msg, err, errlen) != 0) {
                rc = -1;
                break;
            }
        }
        if (k->fatal) {
            char why[512];
            rd_kafka_resp_err_t fe = rd_kafka_fatal_error(k->rk, why, sizeof why);
            /* The batch's records were consumed correctly: keep them. */
            char cerr[1024];
            if (batch_commit(k, 1, cerr, sizeof cerr) != 0)
                am_log(k->base.log, AM_LOG_ERROR, "store failed", "error", cerr, NULL);
            am_errf(err, errlen, "fatal Kafka error %s: %s", rd_kafka_err2name(fe), why);
            rc = -1;
            break;
        }
        int64_t now = am_monotonic_ms();
        if (k->nbatch &&
            (k->nbatch >= batch_records || now - k->batch_opened_ms >= batch_ms || all_at_end(k) ||
             (o->max_records && k->stats.records + k->nbatch >= o->max_records))) {
            if (batch_commit(k, 0, err, errlen) != 0) {
                rc = -1;
                break;
            }
        }
        if (now >= k->next_observe_ms) {
            observe(k);
            k->next_observe_ms = now + OBSERVE_MS;
        }
        if (now >= k->next_stats_ms) {
            log_stats(k, now);
            k->next_stats_ms = now + o->stats_interval_ms;
        }
        if (o->max_records && k->stats.records >= o->max_records)
            break;
        if (o->idle_exit_ms && k->nbatch == 0 && all_at_end(k) &&
            now - k->last_activity_ms >= o->idle_exit_ms) {
            am_log(k->base.log, AM_LOG_INFO, "every partition at its end: stopping", NULL);
            break;
        }
        if (o->deadline_ms && now - started >= o->deadline_ms) {
            char n[32];
            snprintf(n, sizeof n, "%" PRIu64, k->stats.records);
            am_errf(err, errlen, "gave up after %d ms with %s records consumed", o->deadline_ms, n);
            rc = -1;
            break;
        }
    }
    if (rc == 0 && batch_commit(k, 0, err, errlen) != 0)
        rc = -1;
    if (rc != 0)
        batch_drop(k);
    if (o->stats_interval_ms > 0)
        log_stats(k, am_monotonic_ms());
    close_consumer(k);
    if (rc == 0 && k->failed) {
        am_errf(err, errlen, "%s", k->err);
        rc = -1;
    }
    return rc;
}

/* --- watermarks for `aftermath status` ------------------------------------ */

int ingest_kafka_query_ends(const ingest_kafka_prop_t *props, size_t nprops,
                            const ingest_kafka_pos_t *pos, size_t n, int64_t *end, int timeout_ms,
                            const am_log_t *log, char *err, size_t errlen)
{
    ingest_rdk_base_t base = {.log = log};
    rd_kafka_conf_t *conf = ingest_rdk_conf(props, nprops, &base, err, errlen);
    if (!conf)
        return -1;
    char rkerr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rkerr, sizeof rkerr);
    if (!rk) {
        am_errf(err, errlen, "cannot create a Kafka client: %s", rkerr);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t lo, hi;
        rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, pos[i].topic, pos[i].partition,
                                                                 &lo, &hi, timeout_ms);
        end[i] = e ? -1 : hi;
        if (e && rc == 0) {
            am_errf(err, errlen, "%s/%" PRId32 ": %s", pos[i].topic, pos[i].partition,
                    rd_kafka_err2str(e));
            rc = -1;
        }
    }
    rd_kafka_destroy(rk);
    return rc;
}
