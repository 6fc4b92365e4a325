/*
 * test_config.c - aftermath.yaml: the strict loader (unknown keys, ranges,
 * durations, formats, with file:line:column), the environment and flag
 * overrides, secrets kept out of what is printed, and the label maps
 * (top level and per topic) as the decoder applies them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "run/config.h"
#include "correlate/engine.h"
#include "common/buf.h"
#include "ingest/kafka.h"
#include "tmp_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[64];

static int setup(void **state)
{
    (void)state;
    tmp_dir(dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tmp_rm_rf(dir);
    return 0;
}

/* Loads text as a config file; returns the config or NULL with err. */
static run_config_t *load(const char *text, char *err, size_t errlen)
{
    const char *path = tmp_write(dir, "c.yaml", text);
    return run_config_load(path, err, errlen);
}

/* Asserts that text is refused with an error containing want. */
static void refused(const char *text, const char *want)
{
    char err[1024] = "";
    run_config_t *cfg = load(text, err, sizeof err);
    if (cfg || !strstr(err, want))
        fail_msg("want an error with '%s', got %s '%s'", want, cfg ? "success" : "error", err);
}

static void test_full(void **state)
{
    (void)state;
    char err[1024] = "";
    run_config_t *cfg = load("version: 1\n"
                             "kafka:\n"
                             "  bootstrap.servers: [b1:9092, b2:9092]\n"
                             "  security.protocol: SASL_SSL\n"
                             "  sasl.password: hunter2\n"
                             "  session.timeout.ms: 6000\n"
                             "topics:\n"
                             "  - name: alerts\n"
                             "    format: alertmanager\n"
                             "    stale_after: 2h\n"
                             "  - deploys\n"
                             "  - {name: events, format: auto, stale_after: off}\n"
                             "group: sre\n"
                             "store: /var/lib/a.db\n"
                             "rules: [r1.yaml, r2.yaml]\n"
                             "drafts: out\n"
                             "metrics: '[::]:10791'\n"
                             "dead_letter_topic: dlq\n"
                             "incidents_topic: incidents\n"
                             "batch_size: 50\n"
                             "batch_timeout: 250ms\n"
                             "stats_interval: 1m\n"
                             "retention: 90d\n"
                             "max_record_bytes: 4096\n"
                             "max_json_depth: 8\n"
                             "max_alerts_per_payload: 100\n"
                             "max_labels_per_event: 20\n"
                             "max_label_bytes: 256\n"
                             "max_open_groups: 500\n"
                             "stale_after: 6h\n",
                             err, sizeof err);
    if (!cfg)
        fail_msg("%s", err);
    assert_string_equal(run_config_kafka_get(cfg, "bootstrap.servers"), "b1:9092,b2:9092");
    assert_string_equal(run_config_kafka_get(cfg, "session.timeout.ms"), "6000");
    assert_null(run_config_kafka_get(cfg, "client.id"));
    assert_int_equal(cfg->ntopics, 3);
    assert_string_equal(cfg->topics[0].name, "alerts");
    assert_string_equal(cfg->topics[0].format, "alertmanager");
    assert_null(cfg->topics[1].format);
    assert_null(cfg->topics[2].format); /* auto = detect */
    assert_string_equal(cfg->group, "sre");
    char beside[512];
    assert_string_equal(cfg->store, "/var/lib/a.db"); /* absolute: as written */
    assert_int_equal(cfg->nrules, 2);
    /* relative paths of the file are relative to the file's directory */
    snprintf(beside, sizeof beside, "%s/r2.yaml", dir);
    assert_string_equal(cfg->rules[1], beside);
    snprintf(beside, sizeof beside, "%s/out", dir);
    assert_string_equal(cfg->drafts, beside);
    assert_string_equal(cfg->metrics, "[::]:10791");
    assert_string_equal(cfg->dead_letter_topic, "dlq");
    assert_string_equal(cfg->incidents_topic, "incidents");
    assert_int_equal(cfg->batch_size, 50);
    assert_int_equal(cfg->batch_timeout_ms, 250);
    assert_int_equal(cfg->stats_interval_ms, 60000);
    assert_int_equal(cfg->retention_ms, 90LL * 86400000);
    assert_int_equal(cfg->max_record_bytes, 4096);
    assert_int_equal(cfg->max_open_groups, 500);
    /* staleness: the top level, a topic's own, a topic's off */
    assert_int_equal(cfg->stale_after_ms, 6LL * 3600000);
    corr_options_t copts = {0};
    corr_stale_topic_t *stale;
    run_config_stale(cfg, &copts, &stale);
    assert_int_equal(copts.stale_after, 6LL * 3600000);
    assert_int_equal(copts.nstale_topics, 2);
    assert_string_equal(copts.stale_topics[0].topic, "alerts");
    assert_int_equal(copts.stale_topics[0].stale_after, 2LL * 3600000);
    assert_string_equal(copts.stale_topics[1].topic, "events");
    assert_int_equal(copts.stale_topics[1].stale_after, -1);
    free(stale);
    ingest_limits_t lim;
    run_config_limits(cfg, &lim);
    assert_int_equal(lim.max_record_bytes, 4096);
    assert_int_equal(lim.max_depth, 8);
    assert_int_equal(lim.max_events, 100);
    assert_int_equal(lim.max_labels, 20);
    assert_int_equal(lim.max_value_bytes, 256);
    assert_int_equal(run_config_check(cfg, err, sizeof err), 0);

    /* Printed and logged, the password is masked; printed text loads back. */
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    run_config_print(cfg, out);
    fclose(out);
    assert_null(strstr(text, "hunter2"));
    assert_non_null(strstr(text, "sasl.password: \"***\""));
    run_config_t *again = load(text, err, sizeof err);
    if (!again)
        fail_msg("printed config does not load: %s\n%s", err, text);
    assert_int_equal(again->ntopics, 3);
    assert_int_equal(again->batch_timeout_ms, 250);
    assert_int_equal(again->max_label_bytes, 256);
    assert_int_equal(again->retention_ms, 90LL * 86400000);
    assert_int_equal(again->stale_after_ms, 6LL * 3600000);
    assert_int_equal(again->topics[0].stale_after_ms, 2LL * 3600000);
    assert_int_equal(again->topics[2].stale_after_ms, -1);
    run_config_destroy(again);
    free(text);

    text = NULL;
    out = open_memstream(&text, &len);
    am_log_t log = {.out = out, .level = AM_LOG_DEBUG};
    run_config_log(cfg, &log);
    fclose(out);
    assert_null(strstr(text, "hunter2"));
    assert_non_null(strstr(text, "name=sasl.password value=***"));
    assert_non_null(strstr(text, "name=security.protocol value=SASL_SSL"));
    free(text);
    run_config_destroy(cfg);
}

/* Each role's group default and what it requires. */
static void test_roles(void **state)
{
    (void)state;
    char err[1024] = "";
    run_config_t *cfg =
        load("kafka:\n  bootstrap.servers: b:9092\nrole: correlate\n", err, sizeof err);
    assert_non_null(cfg);
    assert_int_equal(cfg->role, RUN_ROLE_CORRELATE);
    assert_string_equal(run_config_group(cfg), "aftermath-correlate");
    /* correlate needs no source topics, but an incidents topic */
    assert_int_equal(run_config_check(cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "role correlate needs incidents_topic"));
    assert_int_equal(run_config_set(cfg, "incidents_topic", "inc", "t", err, sizeof err), 0);
    assert_int_equal(run_config_check(cfg, err, sizeof err), 0);
    /* decode needs sources, and a keyed topic of its own */
    assert_int_equal(run_config_set(cfg, "role", "decode", "AFTERMATH_ROLE", err, sizeof err), 0);
    assert_string_equal(run_config_group(cfg), "aftermath-decode");
    assert_int_equal(run_config_check(cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "no topics"));
    assert_int_equal(run_config_set(cfg, "topics", "alerts,inc", "t", err, sizeof err), 0);
    assert_int_equal(run_config_set(cfg, "keyed_topic", "alerts", "t", err, sizeof err), 0);
    assert_int_equal(run_config_check(cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "keyed_topic 'alerts' must differ"));
    assert_int_equal(run_config_set(cfg, "keyed_topic", "k", "t", err, sizeof err), 0);
    assert_int_equal(run_config_check(cfg, err, sizeof err), 0);
    /* every view its own group; an explicit group wins */
    assert_int_equal(run_config_set(cfg, "role", "view", "t", err, sizeof err), 0);
    assert_non_null(strstr(run_config_group(cfg), "aftermath-view-"));
    assert_int_equal(run_config_set(cfg, "group", "g", "t", err, sizeof err), 0);
    assert_string_equal(run_config_group(cfg), "g");
    assert_int_equal(run_config_set(cfg, "role", "worker", "--role", err, sizeof err), -1);
    assert_string_equal(
        err, "--role: role: 'worker' is not one of all, decode, correlate, view, receive");
    run_config_destroy(cfg);
}

static void test_defaults(void **state)
{
    (void)state;
    char err[1024] = "";
    run_config_t *cfg = load("# nothing but a comment\n", err, sizeof err);
    assert_non_null(cfg);
    assert_null(cfg->group);
    assert_string_equal(run_config_group(cfg), "aftermath");
    assert_int_equal(cfg->role, RUN_ROLE_ALL);
    assert_string_equal(cfg->keyed_topic, "aftermath.keyed");
    assert_string_equal(cfg->store, "aftermath.db");
    assert_int_equal(cfg->batch_size, 10000);
    assert_int_equal(cfg->batch_timeout_ms, 1000);
    assert_int_equal(cfg->stats_interval_ms, 30000);
    assert_int_equal(cfg->retention_ms, 0); /* off */
    assert_int_equal(cfg->max_record_bytes, 1024 * 1024);
    ingest_limits_t lim;
    run_config_limits(cfg, &lim);
    assert_memory_equal(&lim, &ingest_limits_default, sizeof lim);
    assert_int_equal(cfg->max_open_groups, 10000);
    assert_null(cfg->dead_letter_topic);
    assert_string_equal(cfg->metrics, "127.0.0.1:10791");
    assert_int_equal(run_config_check(cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "bootstrap.servers"));
    run_config_destroy(cfg);

    /* ~ switches an optional setting off. */
    cfg = load("dead_letter_topic: dlq\ndrafts: d\n", err, sizeof err);
    assert_non_null(cfg);
    run_config_destroy(cfg);
    cfg = load("dead_letter_topic: ~\ndrafts:\n", err, sizeof err);
    assert_non_null(cfg);
    assert_null(cfg->dead_letter_topic);
    assert_null(cfg->drafts);
    run_config_destroy(cfg);
    /* the metrics endpoint is on by default; off (or ~) switches it off */
    cfg = load("metrics: off\n", err, sizeof err);
    assert_non_null(cfg);
    assert_null(cfg->metrics);
    run_config_destroy(cfg);
    cfg = load("metrics: 0.0.0.0:10791\n", err, sizeof err);
    assert_non_null(cfg);
    assert_string_equal(cfg->metrics, "0.0.0.0:10791");
    run_config_destroy(cfg);
}

static void test_refusals(void **state)
{
    (void)state;
    refused("group: g\ngrop: x\n", "c.yaml:2:1: unknown key 'grop'");
    refused("group: a\ngroup: b\n", "c.yaml:2:1: key 'group' is given twice");
    refused("batch_size: 0\n", "c.yaml:1:13: batch_size: '0' is not a number from 1 to 1000000");
    refused("topics: [{name: a, stale_after: 10s}]\n",
            "c.yaml:1:33: topics: stale_after: not from 1m to 366d, or off");
    refused("topics: [{name: a, stale_after: soon}]\n", "topics: stale_after: ");
    refused("stale_after: 5s\n", "stale_after: 5s is not from");
    refused("batch_size: 12x\n", "batch_size: '12x' is not a number");
    refused("batch_size: 99999999999999999999\n", "is not a number");
    refused("batch_timeout: 5 minutes\n", "c.yaml:1:16: batch_timeout:");
    refused("batch_timeout: 2h\n", "batch_timeout: 2h is not from 1ms to 1h");
    refused("stats_interval: 10ms\n", "stats_interval: 10ms is not from 1s to 1d");
    refused("retention: 2h\n", "retention: 2h is not from 1d to");
    refused("retention: forever\n", "c.yaml:1:12: retention:");
    refused("max_record_bytes: 10\n", "max_record_bytes: '10' is not a number from 1024");
    refused("max_json_depth: 100000\n", "max_json_depth: '100000' is not a number from 2 to 1000");
    refused("max_open_groups: 0\n", "max_open_groups: '0' is not a number from 1");
    refused("topics:\n  - name: alerts\n    format: prometheus\n",
            "c.yaml:2:5: topic 'alerts': unknown format 'prometheus'");
    refused("topics:\n  - name: alerts\n    fmt: generic\n",
            "c.yaml:3:5: topics: unknown key 'fmt'");
    refused("topics: [alerts, alerts]\n", "topic 'alerts' is listed twice");
    refused("topics: ['bad topic']\n", "'bad topic' is not a valid topic name");
    refused("topics:\n  - format: generic\n", "a topic needs a name");
    refused("topics: alerts\n", "topics: expected a list");
    refused("kafka:\n  bootstrap.servrs: x\n",
            "c.yaml:2:21: unknown kafka property 'bootstrap.servrs'");
    refused("kafka:\n  auto.offset.reset: sometimes\n",
            "c.yaml:2:22: Invalid value \"sometimes\" for configuration property");
    refused("kafka:\n  enable.auto.commit: true\n",
            "kafka property 'enable.auto.commit' cannot be set");
    refused("kafka:\n  group.id: x\n", "set 'group' instead");
    refused("kafka:\n  client.id:\n", "kafka.client.id: a value is required");
    refused("kafka: [a, b]\n", "kafka: expected a map");
    refused("group: ''\n", "group: empty value");
    refused("metrics: ':9464'\n", "c.yaml:1:10: metrics: ':9464': the host is missing");
    refused("metrics: 127.0.0.1\n", "metrics: '127.0.0.1' is not HOST:PORT");
    refused("metrics: localhost:65536\n", "the port is not a number from 0 to 65535");
    refused("metrics: localhost:http\n", "the port is not a number");
    refused("metrics: '::1:80'\n", "an IPv6 address goes in brackets");
    refused("metrics: '[::1]80'\n", "is not [IPV6]:PORT");
    refused("group: ~\n", "group: a value is required");
    refused("store: [a, b]\n", "store: expected a single value");
    refused("version: 2\n", "only version 1 is known");
    refused("- a\n- b\n", "c.yaml:1:1: expected a map of settings");
    refused("group: [unclosed\n", "c.yaml:2:1:");
    refused("group: a\n---\ngroup: b\n", "more than one YAML document");
    refused("dead_letter_topic: 'no/slash'\n", "not a valid topic name");

    char err[256];
    assert_null(run_config_load("/nonexistent/a.yaml", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/a.yaml"));
}

/* Asserts that a map field reads exactly the names given (NULL-ended; a
 * NULL list reads none). */
static void assert_names(const char *const *got, const char *const *want)
{
    size_t i = 0;
    for (; want && want[i]; i++) {
        if (!got || !got[i])
            fail_msg("missing label name '%s'", want[i]);
        assert_string_equal(got[i], want[i]);
    }
    assert_true(!got || !got[i]);
}

/* The events of a generic alert with many candidate labels, decoded as a
 * record of topic (NULL: none) by dec. */
static void decode_topic(ingest_decoder_t *dec, const char *topic, am_event_list_t *out)
{
    static const char payload[] =
        "{\"kind\":\"alert\",\"name\":\"Down\",\"starts_at\":\"2024-06-18T14:29:00Z\","
        "\"labels\":{\"team\":\"payments\",\"app\":\"web-app\",\"service\":\"svc\","
        "\"k8s_cluster\":\"eu-1\",\"owner\":\"jane\",\"release\":\"\"}}";
    am_record_t rec = {.payload = payload, .len = strlen(payload), .topic = topic, .ts = 1};
    char err[512];
    if (ingest_decode_record(dec, &rec, "auto", out, err, sizeof err) != 0)
        fail_msg("refused: %s", err);
    assert_int_equal(out->n, 1);
}

static void test_labels(void **state)
{
    (void)state;
    char err[1024] = "";
    run_config_t *cfg = load("labels:\n"
                             "  service: [team, service]\n"
                             "  cluster: k8s_cluster\n"
                             "  version: [release]\n"
                             "  actor: []\n"
                             "topics:\n"
                             "  - name: alerts\n"
                             "    labels:\n"
                             "      service: [app]\n"
                             "      actor: [owner]\n"
                             "  - deploys\n",
                             err, sizeof err);
    if (!cfg)
        fail_msg("refused: %s", err);
    am_label_map_t top, alerts, deploys;
    run_config_label_map(cfg, NULL, &top);
    run_config_label_map(cfg, run_config_topic(cfg, "alerts"), &alerts);
    run_config_label_map(cfg, run_config_topic(cfg, "deploys"), &deploys);
    assert_null(run_config_topic(cfg, "other"));
    assert_names(top.names[AM_LABEL_SERVICE], (const char *const[]){"team", "service", NULL});
    assert_names(top.names[AM_LABEL_ENVIRONMENT],
                 (const char *const[]){"env", "environment", NULL});
    assert_names(top.names[AM_LABEL_CLUSTER], (const char *const[]){"k8s_cluster", NULL});
    assert_names(top.names[AM_LABEL_SEVERITY], (const char *const[]){"severity", NULL});
    assert_names(top.names[AM_LABEL_VERSION], (const char *const[]){"release", NULL});
    assert_names(top.names[AM_LABEL_ACTOR], (const char *const[]){NULL});
    /* A topic overrides the fields it names and inherits the others. */
    assert_names(alerts.names[AM_LABEL_SERVICE], (const char *const[]){"app", NULL});
    assert_names(alerts.names[AM_LABEL_ACTOR], (const char *const[]){"owner", NULL});
    assert_names(alerts.names[AM_LABEL_CLUSTER], (const char *const[]){"k8s_cluster", NULL});
    for (size_t f = 0; f < AM_LABEL_NFIELDS; f++)
        assert_ptr_equal(deploys.names[f], top.names[f]);

    /* The decoder run and replay build applies them by the record's topic. */
    ingest_decoder_t *dec = run_config_decoder(cfg, NULL);
    am_event_list_t a = {0}, d = {0}, none = {0};
    decode_topic(dec, "alerts", &a);
    decode_topic(dec, "deploys", &d);
    decode_topic(dec, NULL, &none);
    assert_string_equal(a.v[0].service, "web-app");
    assert_string_equal(a.v[0].actor, "jane");
    assert_string_equal(am_labels_get(&a.v[0].labels, "cluster"), "eu-1");
    assert_null(a.v[0].version); /* release is empty */
    assert_string_equal(d.v[0].service, "payments");
    assert_null(d.v[0].actor);
    assert_string_equal(none.v[0].service, "payments");
    assert_string_equal(a.v[0].id, d.v[0].id); /* an alert's id is its labels' */
    am_event_list_free(&a);
    am_event_list_free(&d);
    am_event_list_free(&none);
    ingest_decoder_destroy(dec);

    /* Printed, the maps load back the same. */
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    run_config_print(cfg, out);
    fclose(out);
    run_config_t *again = load(text, err, sizeof err);
    if (!again)
        fail_msg("printed config does not load: %s\n%s", err, text);
    am_label_map_t top2, alerts2;
    run_config_label_map(again, NULL, &top2);
    run_config_label_map(again, run_config_topic(again, "alerts"), &alerts2);
    for (size_t f = 0; f < AM_LABEL_NFIELDS; f++) {
        assert_names(top2.names[f], top.names[f]);
        assert_names(alerts2.names[f], alerts.names[f]);
    }
    run_config_destroy(again);
    free(text);

    /* Logged at start: the top-level map and each topic's own. */
    text = NULL;
    out = open_memstream(&text, &len);
    am_log_t log = {.out = out, .level = AM_LOG_INFO};
    run_config_log(cfg, &log);
    fclose(out);
    if (!strstr(text, "topic=* service=team,service environment=env,environment "
                      "cluster=k8s_cluster severity=severity version=release actor=\"\"") ||
        !strstr(text, "topic=alerts service=app ") || strstr(text, "topic=deploys"))
        fail_msg("label maps not logged as expected:\n%s", text);
    free(text);
    run_config_destroy(cfg);

    /* No labels: the defaults, and the same decoder as before. */
    cfg = run_config_create();
    run_config_label_map(cfg, NULL, &top);
    for (size_t f = 0; f < AM_LABEL_NFIELDS; f++)
        assert_ptr_equal(top.names[f], am_label_map_default.names[f]);
    run_config_destroy(cfg);
}

/* The YAML limits (common/yaml_limits.h) hold for aftermath.yaml too:
 * deep nesting and alias bombs are refused before the document is built,
 * naming file:line:column. */
static void test_yaml_limits(void **state)
{
    (void)state;
    am_buf_t b = {0};
    am_buf_puts(&b, "version: 1\ntopics: ");
    for (int i = 0; i < 100000; i++)
        am_buf_putc(&b, '[');
    for (int i = 0; i < 100000; i++)
        am_buf_putc(&b, ']');
    am_buf_putc(&b, '\n');
    refused(b.p, "c.yaml:2:40: sequences and mappings nested deeper than the limit of 32");
    am_buf_reset(&b);
    am_buf_puts(&b, "version: 1\nkafka: {bootstrap.servers: [&b 'broker-with-a-long-name:9092'");
    for (int i = 0; i < 10000; i++)
        am_buf_puts(&b, ", *b");
    am_buf_puts(&b, "]}\n");
    refused(b.p, "aliases repeat more than the limit of 65536 bytes");
    am_buf_free(&b);
}

static void test_label_refusals(void **state)
{
    (void)state;
    refused("labels:\n  team: [x]\n",
            "c.yaml:2:3: labels: unknown field 'team' (known: service, environment, cluster, "
            "severity, version, actor)");
    refused("labels: [service]\n", "c.yaml:1:9: labels: expected a map of field: label names");
    refused("labels:\n  service: ~\n",
            "c.yaml:2:12: labels.service: expected a label name or a list of them");
    refused("labels:\n  service: {a: b}\n", "c.yaml:2:12: labels.service: expected a label");
    refused("labels:\n  service: [a, [b]]\n",
            "c.yaml:2:16: labels.service: each item is a label name");
    refused("labels:\n  service: ['']\n", "labels.service: each item is a label name");
    refused("labels:\n  service: [a, b, a]\n",
            "c.yaml:2:19: labels.service: label 'a' is listed twice");
    refused("labels:\n  service: a\n  service: b\n", "c.yaml:3:3: key 'service' is given twice");
    refused("topics:\n  - name: alerts\n    labels:\n      sevrity: [x]\n",
            "c.yaml:4:7: topics: alerts: labels: unknown field 'sevrity'");
    refused("topics:\n  - name: alerts\n    labels: [x]\n",
            "c.yaml:3:13: topics: alerts: labels: expected a map");
    refused("topics:\n  - name: alerts\n    labels:\n      actor: ~\n",
            "c.yaml:4:14: topics: alerts: labels.actor: expected a label name");

    char err[256];
    run_config_t *cfg = run_config_create();
    char *envp[] = {"AFTERMATH_LABELS=service:team", NULL};
    assert_int_equal(run_config_apply_env(cfg, envp, err, sizeof err), -1);
    assert_non_null(strstr(err, "AFTERMATH_LABELS: labels are set in the config file only"));
    run_config_destroy(cfg);
}

static void test_env_and_flags(void **state)
{
    (void)state;
    char err[1024] = "";
    run_config_t *cfg = load("kafka:\n  bootstrap.servers: file:9092\n  client.id: c\n"
                             "topics: [alerts]\nbatch_size: 10\n",
                             err, sizeof err);
    assert_non_null(cfg);
    char *env[] = {
        "PATH=/bin",
        "AFTERMATH_SHARED=/work/shared", /* not a setting: ignored */
        "AFTERMATH_KAFKA_PORT=19092",    /* the test broker's, ignored */
        "AFTERMATH_KAFKA__BOOTSTRAP_SERVERS=generic:9092",
        "AFTERMATH_KAFKA_BOOTSTRAP_SERVERS=env:9092", /* wins over the generic form */
        "AFTERMATH_KAFKA__SASL_PASSWORD=s3cret",
        "AFTERMATH_KAFKA__SECURITY_PROTOCOL=sasl_ssl",
        "AFTERMATH_BATCH_SIZE=20",
        "AFTERMATH_BATCH_TIMEOUT=2s",
        "AFTERMATH_TOPICS=alerts:alertmanager, deploys",
        "AFTERMATH_RULES=a.yaml,b.yaml",
        "AFTERMATH_DEAD_LETTER_TOPIC=dlq",
        NULL,
    };
    assert_int_equal(run_config_apply_env(cfg, env, err, sizeof err), 0);
    assert_string_equal(run_config_kafka_get(cfg, "bootstrap.servers"), "env:9092");
    assert_string_equal(run_config_kafka_get(cfg, "sasl.password"), "s3cret");
    assert_string_equal(run_config_kafka_get(cfg, "security.protocol"), "sasl_ssl");
    assert_string_equal(run_config_kafka_get(cfg, "client.id"), "c");
    assert_int_equal(cfg->batch_size, 20);
    assert_int_equal(cfg->batch_timeout_ms, 2000);
    assert_int_equal(cfg->ntopics, 2);
    assert_string_equal(cfg->topics[0].format, "alertmanager");
    assert_string_equal(cfg->topics[1].name, "deploys");
    assert_int_equal(cfg->nrules, 2);
    assert_string_equal(cfg->rules[0],
                        "a.yaml"); /* from the environment: the working directory's */
    assert_string_equal(cfg->dead_letter_topic, "dlq");

    /* Flags go through the same setter, after the environment. */
    assert_int_equal(
        run_config_set(cfg, "kafka.bootstrap.servers", "flag:9092", "--brokers", err, sizeof err),
        0);
    assert_string_equal(run_config_kafka_get(cfg, "bootstrap.servers"), "flag:9092");
    assert_int_equal(run_config_set(cfg, "store", "x.db", "--db", err, sizeof err), 0);
    assert_string_equal(cfg->store, "x.db");
    assert_int_equal(run_config_set(cfg, "topics", "a,,b", "--topic", err, sizeof err), -1);
    assert_non_null(strstr(err, "--topic: empty item"));

    /* A bad variable is named; so is a bad number. */
    char *bad1[] = {"AFTERMATH_BATCH_SIZE=lots", NULL};
    assert_int_equal(run_config_apply_env(cfg, bad1, err, sizeof err), -1);
    assert_non_null(strstr(err, "AFTERMATH_BATCH_SIZE: batch_size: 'lots'"));
    char *bad2[] = {"AFTERMATH_KAFKA__NO_SUCH_THING=1", NULL};
    assert_int_equal(run_config_apply_env(cfg, bad2, err, sizeof err), -1);
    assert_non_null(strstr(err, "AFTERMATH_KAFKA__NO_SUCH_THING: unknown kafka property "
                                "'no.such.thing'"));
    run_config_destroy(cfg);
}

static void test_secrets(void **state)
{
    (void)state;
    assert_true(ingest_kafka_is_secret("sasl.password"));
    assert_true(ingest_kafka_is_secret("ssl.key.password"));
    assert_true(ingest_kafka_is_secret("ssl.keystore.password"));
    assert_true(ingest_kafka_is_secret("sasl.oauthbearer.client.secret"));
    assert_true(ingest_kafka_is_secret("sasl.jaas.config"));
    assert_true(ingest_kafka_is_secret("ssl.key.pem"));
    assert_true(ingest_kafka_is_secret("SASL.PASSWORD"));
    assert_false(ingest_kafka_is_secret("sasl.username"));
    assert_false(ingest_kafka_is_secret("bootstrap.servers"));
    assert_false(ingest_kafka_is_secret("ssl.ca.location"));
}

/* The shipped example is valid. */
static void test_example(void **state)
{
    (void)state;
    char err[1024] = "";
    run_config_t *cfg = run_config_load(AM_PROJECT "/aftermath.example.yaml", err, sizeof err);
    if (!cfg)
        fail_msg("%s", err);
    assert_int_equal(run_config_check(cfg, err, sizeof err), 0);
    assert_int_equal(cfg->ntopics, 3);
    /* The labels it shows are the defaults. */
    am_label_map_t map;
    run_config_label_map(cfg, NULL, &map);
    for (size_t f = 0; f < AM_LABEL_NFIELDS; f++)
        assert_names(map.names[f], am_label_map_default.names[f]);
    run_config_destroy(cfg);
}

/* The config map and the shipped example agree: every key is documented
 * there (set, or commented out as "# key: value"), and a key with a
 * default shows that default, so the example cannot drift from the code. */
static void test_example_documents_every_key(void **state)
{
    (void)state;
    char *text = tmp_slurp(AM_PROJECT "/aftermath.example.yaml");
    assert_non_null(text);
    size_t n = 0;
    for (const char *key; (key = run_config_key_name(n)) != NULL; n++) {
        const char *def = run_config_key_default(n);
        const char *found = NULL;
        for (const char *line = text; line && *line;) {
            const char *p = line;
            if (p[0] == '#' && p[1] == ' ')
                p += 2;
            size_t klen = strlen(key);
            if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
                found = p + klen + 1;
                break;
            }
            line = strchr(line, '\n');
            line = line ? line + 1 : NULL;
        }
        if (!found)
            fail_msg("aftermath.example.yaml does not document '%s'", key);
        if (def) {
            while (*found == ' ')
                found++;
            size_t vlen = strcspn(found, " #\n");
            if (vlen != strlen(def) || strncmp(found, def, vlen) != 0)
                fail_msg("aftermath.example.yaml shows %s: %.*s, the default is %s", key, (int)vlen,
                         found, def);
        }
    }
    assert_true(n > 20);
    free(text);
}

/* The limits' defaults in the config map are the decoder's own. */
static void test_map_defaults(void **state)
{
    (void)state;
    run_config_t *cfg = run_config_create();
    ingest_limits_t limits;
    run_config_limits(cfg, &limits);
    assert_int_equal(limits.max_record_bytes, ingest_limits_default.max_record_bytes);
    assert_int_equal(limits.max_depth, ingest_limits_default.max_depth);
    assert_int_equal(limits.max_events, ingest_limits_default.max_events);
    assert_int_equal(limits.max_labels, ingest_limits_default.max_labels);
    assert_int_equal(limits.max_value_bytes, ingest_limits_default.max_value_bytes);
    run_config_destroy(cfg);
}

/* run_config_build layers file < environment < flags, and skips flags
 * that were not given. */
static void test_build_layers(void **state)
{
    (void)state;
    char err[1024] = "";
    char path[128];
    snprintf(path, sizeof path, "%s/layers.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("store: from-file.db\ngroup: file-group\nbatch_size: 10\n", f);
    fclose(f);
    char *env[] = {"AFTERMATH_GROUP=env-group", "AFTERMATH_BATCH_SIZE=20", NULL};
    const run_config_flag_t flags[] = {
        {"group", "flag-group", "--group"},
        {"store", NULL, "--db"},
    };
    run_config_t *cfg = run_config_build(path, env, flags, 2, err, sizeof err);
    if (!cfg)
        fail_msg("%s", err);
    assert_string_equal(cfg->group, "flag-group");
    assert_int_equal(cfg->batch_size, 20);
    assert_non_null(strstr(cfg->store, "from-file.db"));
    run_config_destroy(cfg);
    const run_config_flag_t bad[] = {{"batch_size", "0", "--batch"}};
    assert_null(run_config_build(NULL, NULL, bad, 1, err, sizeof err));
    assert_non_null(strstr(err, "--batch: batch_size"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),           cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_roles),          cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_env_and_flags),  cmocka_unit_test(test_secrets),
        cmocka_unit_test(test_example),        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_label_refusals), cmocka_unit_test(test_example_documents_every_key),
        cmocka_unit_test(test_map_defaults),   cmocka_unit_test(test_build_layers),
        cmocka_unit_test(test_yaml_limits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
