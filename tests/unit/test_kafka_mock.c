/*
 * test_kafka_mock.c - the Kafka consumer (ingest/kafka.c) against
 * librdkafka's mock cluster, with injected broker errors and a sink whose
 * "store" fails on purpose: every record is committed exactly once with
 * its partition's next offset, positions come from the store and not from
 * the group's committed offsets, and a fatal error stops the consumer with
 * its cause; the consumer's view (sink.observe) follows the assignment, the
 * offsets and the broker going down and up. The real-broker tests are in
 * tests/kafka/.
 *
 * Each consumer's first group join on the mock cluster takes about 3 s.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/buf.h"
#include "common/time.h"
#include "ingest/kafka.h"
#include "ingest/mock.h"
#include "ingest/producer.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Kafka protocol API keys (librdkafka keeps its names private). */
enum { API_FETCH = 1, API_OFFSET_COMMIT = 8, API_JOIN_GROUP = 11, API_HEARTBEAT = 12 };

#define NPART 3
#define PER_PART 100
#define TOPIC "events"

/* An in-memory store: records of the open batch, committed records, and
 * the next offset of each partition. fail_record / fail_commit make the
 * Nth call fail (rolling the batch back), like a full disk would. */
typedef struct fake_store {
    int64_t pending[NPART * PER_PART * 2][2];
    size_t npending;
    int seen[NPART][PER_PART]; /* times each record was committed */
    int64_t next[NPART];
    int record_calls, commit_calls;
    int fail_record, fail_commit;
    int fail_all_commits;
} fake_store_t;

static int fs_record(void *ctx, const am_record_t *rec, char *err, size_t errlen)
{
    fake_store_t *fs = ctx;
    if (++fs->record_calls == fs->fail_record) {
        fs->npending = 0;
        am_errf(err, errlen, "injected: disk full");
        return -1;
    }
    assert_string_equal(rec->topic, TOPIC);
    assert_string_equal(rec->format, "generic");
    assert_true(rec->ts == 1718719503000 + rec->offset);
    fs->pending[fs->npending][0] = rec->partition;
    fs->pending[fs->npending][1] = rec->offset;
    fs->npending++;
    return 0;
}

static int fs_commit(void *ctx, const ingest_kafka_pos_t *pos, size_t npos, char *err,
                     size_t errlen)
{
    fake_store_t *fs = ctx;
    if (++fs->commit_calls == fs->fail_commit || fs->fail_all_commits) {
        fs->npending = 0;
        am_errf(err, errlen, "injected: database is locked");
        return -1;
    }
    for (size_t i = 0; i < fs->npending; i++)
        fs->seen[fs->pending[i][0]][fs->pending[i][1]]++;
    fs->npending = 0;
    for (size_t i = 0; i < npos; i++) {
        assert_string_equal(pos[i].topic, TOPIC);
        fs->next[pos[i].partition] = pos[i].next;
    }
    return 0;
}

static int fs_stored(void *ctx, const char *topic, int32_t partition, int64_t *next, char *err,
                     size_t errlen)
{
    fake_store_t *fs = ctx;
    (void)err;
    (void)errlen;
    assert_string_equal(topic, TOPIC);
    *next = fs->next[partition];
    return 0;
}

static const am_log_t quiet = {.out = NULL, .level = AM_LOG_ERROR};

/* A mock cluster with NPART x PER_PART records on TOPIC. */
static ingest_mock_t *mock_with_records(void)
{
    char err[512];
    ingest_mock_t *m = ingest_mock_create(1, &quiet, err, sizeof err);
    assert_non_null(m);
    assert_int_equal(ingest_mock_topic(m, TOPIC, NPART, err, sizeof err), 0);
    ingest_kafka_prop_t props[] = {{"bootstrap.servers", ingest_mock_bootstraps(m)}};
    ingest_producer_t *p = ingest_producer_create(props, 1, &quiet, err, sizeof err);
    assert_non_null(p);
    for (int32_t part = 0; part < NPART; part++)
        for (int64_t off = 0; off < PER_PART; off++) {
            char payload[64];
            snprintf(payload, sizeof payload, "{\"kind\":\"note\",\"n\":%d}", (int)off);
            am_record_t rec = {.payload = payload,
                               .len = strlen(payload),
                               .topic = TOPIC,
                               .partition = part,
                               .ts = 1718719503000 + off};
            assert_int_equal(ingest_producer_send(p, &rec, NULL, 1, NULL, 0, err, sizeof err), 0);
        }
    if (ingest_producer_flush(p, 10000, err, sizeof err) != 0)
        fail_msg("%s", err);
    ingest_producer_destroy(p);
    return m;
}

static int consume(ingest_mock_t *m, fake_store_t *fs, const char *group, const char *strategy,
                   uint64_t max, int batch, const ingest_kafka_prop_t *extra, size_t nextra,
                   char *err, size_t errlen)
{
    ingest_kafka_prop_t props[8] = {
        {"bootstrap.servers", ingest_mock_bootstraps(m)},
        {"fetch.wait.max.ms", "10"},
        {"partition.assignment.strategy", strategy},
    };
    size_t n = 3;
    for (size_t i = 0; i < nextra; i++)
        props[n++] = extra[i];
    static const ingest_kafka_topic_t topics[] = {{TOPIC, "generic"}};
    ingest_kafka_options_t o = {
        .props = props,
        .nprops = n,
        .group = group,
        .topics = topics,
        .ntopics = 1,
        .batch_records = (size_t)batch,
        .batch_ms = 50,
        .max_records = max,
        .store_retries = 3,
        .deadline_ms = 30000,
        .log = &quiet,
    };
    ingest_kafka_sink_t sink = {
        .ctx = fs, .record = fs_record, .commit = fs_commit, .stored = fs_stored};
    ingest_kafka_t *k = ingest_kafka_create(&o, &sink, err, errlen);
    assert_non_null(k);
    int rc = ingest_kafka_run(k, err, errlen);
    ingest_kafka_destroy(k);
    return rc;
}

static void assert_exactly_once(const fake_store_t *fs)
{
    for (int p = 0; p < NPART; p++) {
        assert_int_equal(fs->next[p], PER_PART);
        for (int o = 0; o < PER_PART; o++)
            if (fs->seen[p][o] != 1)
                fail_msg("record %d/%d committed %d times", p, o, fs->seen[p][o]);
    }
}

/* Broker errors on fetch, commit and join, and a store that fails twice:
 * every record lands once, with its offset. */
static void test_errors_exactly_once(void **state)
{
    (void)state;
    ingest_mock_t *m = mock_with_records();
    rd_kafka_mock_cluster_t *mc = ingest_mock_cluster(m);
    rd_kafka_mock_push_request_errors(mc, API_FETCH, 3, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                      RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
    rd_kafka_mock_push_request_errors(mc, API_OFFSET_COMMIT, 2,
                                      RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
                                      RD_KAFKA_RESP_ERR_NOT_COORDINATOR);
    rd_kafka_mock_push_request_errors(mc, API_JOIN_GROUP, 1,
                                      RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE);
    fake_store_t *fs = calloc(1, sizeof *fs);
    for (int p = 0; p < NPART; p++)
        fs->next[p] = -1;
    fs->fail_record = 40; /* mid-batch */
    fs->fail_commit = 2;  /* at a commit */
    char err[1024] = "";
    if (consume(m, fs, "test", "range,roundrobin", NPART * PER_PART, 25, NULL, 0, err,
                sizeof err) != 0)
        fail_msg("%s", err);
    assert_exactly_once(fs);
    free(fs);
    ingest_mock_destroy(m);
}

/* Two runs, cooperative protocol: the second resumes where the store
 * says, and a partition the store has no offset for starts from the
 * beginning (auto.offset.reset=earliest). The second run uses another
 * group: librdkafka 2.0.2's mock never answers a join after the group's
 * last member left (its group stays "Joining" with no timer). */
static void test_resume_from_store(void **state)
{
    (void)state;
    ingest_mock_t *m = mock_with_records();
    fake_store_t *fs = calloc(1, sizeof *fs);
    for (int p = 0; p < NPART; p++)
        fs->next[p] = -1;
    char err[1024] = "";
    if (consume(m, fs, "test", "cooperative-sticky", 120, 10, NULL, 0, err, sizeof err) != 0)
        fail_msg("%s", err);
    int64_t done = 0;
    for (int p = 0; p < NPART; p++)
        done += fs->next[p] < 0 ? 0 : fs->next[p];
    assert_true(done >= 120);
    /* The store lost partition 0 (restored from an old backup): it is
     * consumed again from the start although Kafka has its offset. */
    int64_t again = fs->next[0] < 0 ? 0 : fs->next[0];
    fs->next[0] = -1;
    memset(fs->seen[0], 0, sizeof fs->seen[0]);
    uint64_t left = (uint64_t)(NPART * PER_PART - done + again);
    if (consume(m, fs, "test-2", "cooperative-sticky", left, 10, NULL, 0, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_exactly_once(fs);
    free(fs);
    ingest_mock_destroy(m);
}

/* A store that never recovers: the consumer gives up with the store's
 * error after store_retries (3) more attempts, and nothing moved. */
static void test_store_gives_up(void **state)
{
    (void)state;
    ingest_mock_t *m = mock_with_records();
    fake_store_t *fs = calloc(1, sizeof *fs);
    for (int p = 0; p < NPART; p++)
        fs->next[p] = -1;
    fs->fail_all_commits = 1;
    char err[1024] = "";
    assert_int_equal(consume(m, fs, "test", "range", 0, 1000, NULL, 0, err, sizeof err), -1);
    if (!strstr(err, "the store failed 4 times in a row (injected: database is locked)"))
        fail_msg("unexpected error: %s", err);
    assert_int_equal(fs->commit_calls, 4);
    for (int p = 0; p < NPART; p++) {
        assert_true(fs->next[p] == -1);
        for (int o = 0; o < PER_PART; o++)
            assert_int_equal(fs->seen[p][o], 0);
    }
    free(fs);
    ingest_mock_destroy(m);
}

/* A fatal error (a static member fenced by another with the same
 * group.instance.id) stops the consumer with librdkafka's reason. */
static void test_fatal(void **state)
{
    (void)state;
    ingest_mock_t *m = mock_with_records();
    rd_kafka_mock_cluster_t *mc = ingest_mock_cluster(m);
    rd_kafka_mock_push_request_errors(mc, API_HEARTBEAT, 1, RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID);
    fake_store_t *fs = calloc(1, sizeof *fs);
    for (int p = 0; p < NPART; p++)
        fs->next[p] = -1;
    ingest_kafka_prop_t extra[] = {{"group.instance.id", "a1"}, {"heartbeat.interval.ms", "100"}};
    char err[1024] = "";
    assert_int_equal(consume(m, fs, "test", "range", 0, 25, extra, 2, err, sizeof err), -1);
    if (!strstr(err, "fatal Kafka error") || !strstr(err, "fenced"))
        fail_msg("unexpected error: %s", err);
    free(fs);
    ingest_mock_destroy(m);
}

/* What the observer saw: the last view, and the broker's ups and downs. */
typedef struct watcher {
    fake_store_t *fs;
    rd_kafka_mock_cluster_t *mc;
    volatile sig_atomic_t stop;
    int phase; /* 0 consuming, 1 broker set down, 2 broker set up again */
    int views, waited, saw_down, saw_up_again;
    size_t nparts;
    int64_t next[NPART], end[NPART];
} watcher_t;

static void watch(void *ctx, const ingest_kafka_view_t *v)
{
    watcher_t *w = ctx;
    w->views++;
    w->nparts = v->nparts;
    int caught_up = v->joined && v->nparts == NPART;
    for (size_t i = 0; i < v->nparts; i++) {
        assert_string_equal(v->parts[i].topic, TOPIC);
        assert_true(v->parts[i].partition >= 0 && v->parts[i].partition < NPART);
        w->next[v->parts[i].partition] = v->parts[i].next;
        w->end[v->parts[i].partition] = v->parts[i].end;
        caught_up &= v->parts[i].next == PER_PART && v->parts[i].end == PER_PART;
    }
    if (w->phase == 0 && caught_up && v->brokers_up && v->brokers_down_since == AM_TIME_NONE) {
        rd_kafka_mock_broker_set_down(w->mc, 1);
        w->phase = 1;
    } else if (w->phase == 1 && !v->brokers_up && v->brokers_down_since != AM_TIME_NONE) {
        w->saw_down = 1;
        rd_kafka_mock_broker_set_up(w->mc, 1);
        w->phase = 2;
    } else if (w->phase == 1 && ++w->waited > 30) {
        /* not seen down in 30 views (about 30 s): bring it back and stop,
         * so that the test fails on saw_down rather than hangs */
        rd_kafka_mock_broker_set_up(w->mc, 1);
        w->stop = 1;
    } else if (w->phase == 2 && v->brokers_up && v->brokers_down_since == AM_TIME_NONE) {
        w->saw_up_again = 1;
        w->stop = 1;
    }
}

static int watcher_record(void *ctx, const am_record_t *rec, char *err, size_t errlen)
{
    return fs_record(((watcher_t *)ctx)->fs, rec, err, errlen);
}

static int watcher_commit(void *ctx, const ingest_kafka_pos_t *pos, size_t npos, char *err,
                          size_t errlen)
{
    return fs_commit(((watcher_t *)ctx)->fs, pos, npos, err, errlen);
}

static int watcher_stored(void *ctx, const char *topic, int32_t partition, int64_t *next, char *err,
                          size_t errlen)
{
    return fs_stored(((watcher_t *)ctx)->fs, topic, partition, next, err, errlen);
}

/* A watcher (and its fake store) for m's cluster, run as a consumer of
 * group with observe as its observer until it stops; extra, when given,
 * is one more client property. The caller frees w->fs and w. */
static watcher_t *watched_run(ingest_mock_t *m, const char *group,
                              void (*observe)(void *, const ingest_kafka_view_t *),
                              const ingest_kafka_prop_t *extra)
{
    watcher_t *w = calloc(1, sizeof *w);
    w->fs = calloc(1, sizeof *w->fs);
    w->mc = ingest_mock_cluster(m);
    for (int p = 0; p < NPART; p++)
        w->fs->next[p] = -1;
    ingest_kafka_prop_t props[4] = {
        {"bootstrap.servers", ingest_mock_bootstraps(m)},
        {"fetch.wait.max.ms", "10"},
        {"reconnect.backoff.max.ms", "200"},
    };
    if (extra)
        props[3] = *extra;
    static const ingest_kafka_topic_t topics[] = {{TOPIC, "generic"}};
    ingest_kafka_options_t o = {
        .props = props,
        .nprops = extra ? 4 : 3,
        .group = group,
        .topics = topics,
        .ntopics = 1,
        .batch_records = 50,
        .batch_ms = 50,
        .store_retries = 3,
        .deadline_ms = 60000,
        .stop = &w->stop,
        .log = &quiet,
    };
    /* every callback gets the sink's ctx: the watcher, which holds the store */
    ingest_kafka_sink_t sink = {.ctx = w,
                                .record = watcher_record,
                                .commit = watcher_commit,
                                .stored = watcher_stored,
                                .observe = observe};
    char err[1024] = "";
    ingest_kafka_t *k = ingest_kafka_create(&o, &sink, err, sizeof err);
    assert_non_null(k);
    if (ingest_kafka_run(k, err, sizeof err) != 0)
        fail_msg("%s (phase %d, %d views)", err, w->phase, w->views);
    ingest_kafka_destroy(k); /* must return, whatever state the broker is in */
    return w;
}

/* The observer: every partition assigned with its stored and end offsets
 * once all is consumed; the broker down is seen as down (since a time),
 * and up again once it is back. */
static void test_observe(void **state)
{
    (void)state;
    ingest_mock_t *m = mock_with_records();
    watcher_t *w = watched_run(m, "observe", watch, NULL);
    assert_true(w->saw_down);
    assert_true(w->saw_up_again);
    assert_int_equal(w->nparts, NPART);
    for (int p = 0; p < NPART; p++) {
        assert_int_equal(w->next[p], PER_PART);
        assert_int_equal(w->end[p], PER_PART);
    }
    assert_exactly_once(w->fs);
    free(w->fs);
    free(w);
    ingest_mock_destroy(m);
}

/* Stops once the broker is seen down, and leaves it down. */
static void watch_down_then_stop(void *ctx, const ingest_kafka_view_t *v)
{
    watcher_t *w = ctx;
    int caught_up = v->joined && v->nparts == NPART;
    for (size_t i = 0; i < v->nparts; i++)
        caught_up &= v->parts[i].next == PER_PART;
    if (w->phase == 0 && caught_up && v->brokers_up) {
        rd_kafka_mock_broker_set_down(w->mc, 1);
        w->phase = 1;
    } else if (w->phase == 1 && (!v->brokers_up || ++w->waited > 30)) {
        w->saw_down = !v->brokers_up;
        w->stop = 1;
    }
}

/* A stop while the broker is down returns: leaving the group cannot
 * complete, and the consumer gives up on it after a bounded wait instead
 * of hanging (ctest's timeout fails the test if it hangs). */
static void test_close_broker_down(void **state)
{
    (void)state;
    ingest_mock_t *m = mock_with_records();
    /* a short session bounds the teardown after a leave that failed */
    static const ingest_kafka_prop_t session = {"session.timeout.ms", "6000"};
    watcher_t *w = watched_run(m, "close-down", watch_down_then_stop, &session);
    assert_true(w->saw_down);
    assert_exactly_once(w->fs);
    rd_kafka_mock_broker_set_up(w->mc, 1);
    free(w->fs);
    free(w);
    ingest_mock_destroy(m);
}

/* A topic whose partition has no leader: the partition count is refused
 * until the leader is back (producing right after a topic's creation,
 * before its leaders, once lost records silently). */
static void test_leaders(void **state)
{
    (void)state;
    char err[512] = "";
    am_log_t log = {.out = stderr, .level = AM_LOG_ERROR};
    ingest_mock_t *m = ingest_mock_create(1, &log, err, sizeof err);
    assert_non_null(m);
    assert_int_equal(ingest_mock_topic(m, "led", 2, err, sizeof err), 0);
    const ingest_kafka_prop_t props[] = {{"bootstrap.servers", ingest_mock_bootstraps(m)}};
    ingest_producer_t *p = ingest_producer_create(props, 1, &log, err, sizeof err);
    assert_non_null(p);
    int32_t n = 0;
    assert_int_equal(ingest_producer_partitions(p, "led", &n, 5000, err, sizeof err), 0);
    assert_int_equal(n, 2);
    rd_kafka_mock_partition_set_leader(ingest_mock_cluster(m), "led", 1, -1);
    assert_int_equal(ingest_producer_partitions(p, "led", &n, 1500, err, sizeof err), -1);
    assert_non_null(strstr(err, "1 of 2 partitions have no leader"));
    rd_kafka_mock_partition_set_leader(ingest_mock_cluster(m), "led", 1, 1);
    assert_int_equal(ingest_producer_partitions(p, "led", &n, 5000, err, sizeof err), 0);
    ingest_producer_destroy(p);
    ingest_mock_destroy(m);
}

/* argv[1], when given, runs only the test of that name (ctest runs each
 * on its own, in parallel). */
int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors_exactly_once),
        cmocka_unit_test(test_resume_from_store),
        cmocka_unit_test(test_close_broker_down),
        cmocka_unit_test(test_store_gives_up),
        cmocka_unit_test(test_fatal),
        cmocka_unit_test(test_observe),
        cmocka_unit_test(test_leaders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
