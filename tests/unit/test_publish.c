/*
 * test_publish.c - incident documents to the incidents topic, on
 * librdkafka's mock cluster: delivered, keyed, and off when no topic is
 * configured.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "run/config.h"
#include "run/publish.h"
#include "ingest/kafka.h"
#include "ingest/mock.h"

#include <string.h>

static const am_log_t quiet = {.out = NULL, .level = AM_LOG_ERROR};

static void test_off_without_topic(void **state)
{
    (void)state;
    char err[256] = "x";
    run_config_t *cfg = run_config_create();
    assert_null(run_publish_create(cfg, &quiet, err, sizeof err));
    assert_string_equal(err, "");
    run_publish_destroy(NULL);
    run_config_destroy(cfg);
}

static void test_delivered(void **state)
{
    (void)state;
    char err[512];
    ingest_mock_t *m = ingest_mock_create(1, &quiet, err, sizeof err);
    assert_non_null(m);
    assert_int_equal(ingest_mock_topic(m, "incidents", 2, err, sizeof err), 0);
    run_config_t *cfg = run_config_create();
    assert_int_equal(run_config_set(cfg, "kafka.bootstrap.servers", ingest_mock_bootstraps(m),
                                    "test", err, sizeof err),
                     0);
    assert_int_equal(run_config_set(cfg, "incidents_topic", "incidents", "test", err, sizeof err),
                     0);
    run_publish_t *p = run_publish_create(cfg, &quiet, err, sizeof err);
    assert_non_null(p);
    static const char doc[] = "{\"schema\":1,\"id\":\"INC-1\",\"change\":\"opened\"}";
    for (int i = 0; i < 3; i++)
        assert_int_equal(run_publish_send(p, "INC-1", doc, strlen(doc), err, sizeof err), 0);
    if (run_publish_flush(p, 10000, err, sizeof err) != 0)
        fail_msg("%s", err);
    /* One key, one partition: all three changes on it, in order. */
    ingest_kafka_prop_t props[] = {{"bootstrap.servers", ingest_mock_bootstraps(m)}};
    ingest_kafka_pos_t pos[] = {{"incidents", 0, 0}, {"incidents", 1, 0}};
    int64_t end[2];
    assert_int_equal(ingest_kafka_query_ends(props, 1, pos, 2, end, 5000, &quiet, err, sizeof err),
                     0);
    assert_true((end[0] == 3 && end[1] == 0) || (end[0] == 0 && end[1] == 3));
    run_publish_destroy(p);
    run_config_destroy(cfg);
    ingest_mock_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off_without_topic),
        cmocka_unit_test(test_delivered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
