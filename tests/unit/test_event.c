/*
 * test_event.c - label lists, Alertmanager fingerprints, the label map.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/event.h"

static void test_labels_sorted_unique(void **state)
{
    (void)state;
    am_labels_t l = {0};
    am_labels_set(&l, "zone", "a");
    am_labels_set(&l, "app", "web");
    am_labels_set(&l, "m", "1");
    am_labels_set(&l, "app", "api"); /* replaces */
    assert_int_equal(l.n, 3);
    assert_string_equal(l.v[0].name, "app");
    assert_string_equal(l.v[0].value, "api");
    assert_string_equal(l.v[1].name, "m");
    assert_string_equal(l.v[2].name, "zone");
    assert_string_equal(am_labels_get(&l, "zone"), "a");
    assert_null(am_labels_get(&l, "nope"));
    assert_null(am_labels_get(&l, ""));
    am_labels_t copy = {0};
    am_labels_copy(&copy, &l);
    assert_int_equal(copy.n, 3);
    assert_true(am_labels_fingerprint(&copy) == am_labels_fingerprint(&l));
    am_labels_free(&copy);
    am_labels_free(&l);
    assert_int_equal(l.n, 0);
}

static void test_fingerprint_matches_alertmanager(void **state)
{
    (void)state;
    /* Labels and fingerprint of an alert Alertmanager sent (the seed
     * scenario's DBConnectionErrors): insertion order must not matter. */
    am_labels_t l = {0};
    am_labels_set(&l, "severity", "critical");
    am_labels_set(&l, "env", "prod");
    am_labels_set(&l, "instance", "db-1");
    am_labels_set(&l, "cluster", "eu-west-1");
    am_labels_set(&l, "alertname", "DBConnectionErrors");
    am_labels_set(&l, "service", "db");
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, am_labels_fingerprint(&l));
    assert_string_equal(hex, "1ac71ae7704eb751");
    am_labels_free(&l);

    /* The empty label set hashes to FNV-1a's offset basis. */
    am_labels_t empty = {0};
    assert_true(am_labels_fingerprint(&empty) == 0xcbf29ce484222325ULL);

    /* Name/value boundaries matter: {a: "bc"} differs from {ab: "c"}. */
    am_labels_t x = {0}, y = {0};
    am_labels_set(&x, "a", "bc");
    am_labels_set(&y, "ab", "c");
    assert_true(am_labels_fingerprint(&x) != am_labels_fingerprint(&y));
    am_labels_free(&x);
    am_labels_free(&y);
}

static void test_label_map(void **state)
{
    (void)state;
    am_event_t ev;
    am_event_init(&ev);
    assert_true(ev.starts_at == AM_TIME_NONE && ev.ends_at == AM_TIME_NONE &&
                ev.observed_at == AM_TIME_NONE);
    am_labels_set(&ev.labels, "job", "node");
    am_labels_set(&ev.labels, "app", "ignored-job-wins");
    am_labels_set(&ev.labels, "environment", "staging");
    am_labels_set(&ev.labels, "severity", "page");
    am_event_apply_label_map(&ev, &am_label_map_default);
    assert_string_equal(ev.service, "node");
    assert_string_equal(ev.environment, "staging");
    assert_string_equal(ev.severity, "page");
    /* The environment is visible to matchers as env. */
    assert_string_equal(am_labels_get(&ev.labels, "env"), "staging");
    am_event_free(&ev);

    /* service wins over job; an empty value is skipped. */
    am_event_init(&ev);
    am_labels_set(&ev.labels, "service", "");
    am_labels_set(&ev.labels, "job", "api");
    am_event_apply_label_map(&ev, &am_label_map_default);
    assert_string_equal(ev.service, "api");
    assert_null(ev.environment);
    assert_null(am_labels_get(&ev.labels, "env"));
    am_event_free(&ev);
}

/* The default service of kube-prometheus alerts (labels as the
 * kubernetes-mixin rules and prometheus-operator's ServiceMonitors give
 * them) is the workload, not the exporter that scraped the metric. */
static void test_kube_service(void **state)
{
    (void)state;
    static const struct {
        const char *labels[12];
        const char *service;
    } c[] = {
        /* KubePodCrashLooping: kube-state-metrics, honorLabels */
        {{"alertname", "KubePodCrashLooping", "container", "checkout", "job", "kube-state-metrics",
          "namespace", "shop", "service", "kube-prometheus-stack-kube-state-metrics"},
         "checkout"},
        /* KubeDeploymentReplicasMismatch: the exporter's container too */
        {{"alertname", "KubeDeploymentReplicasMismatch", "container", "kube-state-metrics",
          "deployment", "cart", "job", "kube-state-metrics", "service",
          "kube-prometheus-stack-kube-state-metrics"},
         "cart"},
        /* CPUThrottlingHigh: cAdvisor through the kubelet */
        {{"alertname", "CPUThrottlingHigh", "container", "api", "job", "kubelet", "service",
          "kube-prometheus-stack-kubelet"},
         "api"},
        /* NodeFilesystemAlmostFull: about the node: every candidate is an
         * exporter, the first present stays */
        {{"alertname", "NodeFilesystemAlmostFull", "container", "node-exporter", "job",
          "node-exporter", "service", "kube-prometheus-stack-prometheus-node-exporter"},
         "kube-prometheus-stack-prometheus-node-exporter"},
        /* an application's own alert: unchanged */
        {{"alertname", "PaymentsLatencyHigh", "job", "payments-api", "service", "payments"},
         "payments"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        am_event_t ev;
        am_event_init(&ev);
        for (size_t k = 0; k + 1 < 12 && c[i].labels[k]; k += 2)
            am_labels_set(&ev.labels, c[i].labels[k], c[i].labels[k + 1]);
        am_event_apply_label_map(&ev, &am_label_map_default);
        assert_string_equal(ev.service, c[i].service);
        am_event_free(&ev);
    }
    /* A configured list passes exporters over too, in its own order. */
    static const char *const mine[] = {"service", "container", "deployment", NULL};
    am_label_map_t map = am_label_map_default;
    map.names[AM_LABEL_SERVICE] = mine;
    am_event_t ev;
    am_event_init(&ev);
    am_labels_set(&ev.labels, "service", "kube-prometheus-stack-kube-state-metrics");
    am_labels_set(&ev.labels, "container", "checkout");
    am_labels_set(&ev.labels, "deployment", "checkout-v2");
    am_event_apply_label_map(&ev, &map);
    assert_string_equal(ev.service, "checkout");
    am_event_free(&ev);
}

static void test_custom_label_map(void **state)
{
    (void)state;
    static const char *const team[] = {"team", "service", NULL};
    static const char *const stage[] = {"stage", NULL};
    static const char *const k8s[] = {"k8s_cluster", NULL};
    static const char *const release[] = {"release", NULL};
    static const char *const owner[] = {"owner", NULL};
    am_label_map_t map = am_label_map_default;
    map.names[AM_LABEL_SERVICE] = team;
    map.names[AM_LABEL_ENVIRONMENT] = stage;
    map.names[AM_LABEL_CLUSTER] = k8s;
    map.names[AM_LABEL_SEVERITY] = NULL; /* severity read from no label */
    map.names[AM_LABEL_VERSION] = release;
    map.names[AM_LABEL_ACTOR] = owner;

    am_event_t ev;
    am_event_init(&ev);
    am_labels_set(&ev.labels, "team", "payments");
    am_labels_set(&ev.labels, "service", "api");
    am_labels_set(&ev.labels, "env", "dev");
    am_labels_set(&ev.labels, "stage", "prod");
    am_labels_set(&ev.labels, "cluster", "sender-said");
    am_labels_set(&ev.labels, "k8s_cluster", "eu-1");
    am_labels_set(&ev.labels, "severity", "page");
    am_labels_set(&ev.labels, "release", "v2");
    am_labels_set(&ev.labels, "owner", "");
    am_event_apply_label_map(&ev, &map);
    assert_string_equal(ev.service, "payments");
    assert_string_equal(ev.environment, "prod");
    /* The labels env and cluster follow the mapped values. */
    assert_string_equal(am_labels_get(&ev.labels, "env"), "prod");
    assert_string_equal(am_labels_get(&ev.labels, "cluster"), "eu-1");
    assert_null(ev.severity);
    assert_string_equal(ev.version, "v2");
    assert_null(ev.actor); /* an empty value is no value */
    am_event_free(&ev);

    /* Missing labels: fields stay unset, the sender's cluster stays. */
    am_event_init(&ev);
    am_labels_set(&ev.labels, "cluster", "sender-said");
    am_labels_set(&ev.labels, "job", "not-mapped-here");
    am_event_apply_label_map(&ev, &map);
    assert_null(ev.service);
    assert_null(ev.environment);
    assert_null(ev.version);
    assert_null(am_labels_get(&ev.labels, "env"));
    assert_string_equal(am_labels_get(&ev.labels, "cluster"), "sender-said");
    assert_int_equal(ev.labels.n, 2);
    am_event_free(&ev);

    /* A field the decoder set from the format itself wins over the map. */
    am_event_init(&ev);
    ev.service = am_xstrdup("from-payload");
    ev.actor = am_xstrdup("deploy-bot");
    am_labels_set(&ev.labels, "team", "payments");
    am_labels_set(&ev.labels, "owner", "jane");
    am_event_apply_label_map(&ev, &map);
    assert_string_equal(ev.service, "from-payload");
    assert_string_equal(ev.actor, "deploy-bot");
    am_event_free(&ev);

    /* The defaults read no version and no actor from labels. */
    am_event_init(&ev);
    am_labels_set(&ev.labels, "version", "1.0");
    am_labels_set(&ev.labels, "actor", "x");
    am_labels_set(&ev.labels, "cluster", "c1");
    am_event_apply_label_map(&ev, &am_label_map_default);
    assert_null(ev.version);
    assert_null(ev.actor);
    assert_string_equal(am_labels_get(&ev.labels, "cluster"), "c1");
    am_event_free(&ev);

    am_label_field_t f;
    assert_int_equal(am_label_field_parse("cluster", &f), 0);
    assert_int_equal(f, AM_LABEL_CLUSTER);
    assert_string_equal(am_label_field_name(AM_LABEL_ACTOR), "actor");
    assert_int_equal(am_label_field_parse("Service", &f), -1);
}

static void test_kind_names(void **state)
{
    (void)state;
    am_kind_t k;
    assert_int_equal(am_kind_parse("deploy", &k), 0);
    assert_int_equal(k, AM_KIND_DEPLOY);
    assert_string_equal(am_kind_name(AM_KIND_ACK), "ack");
    assert_int_equal(am_kind_parse("Deploy", &k), -1);
}

static void test_source_static(void **state)
{
    (void)state;
    static const char *const names[] = {"alertmanager", "cdevents", "flux",     "generic",
                                        "github",       "grafana",  "pagerduty"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char copy[32];
        snprintf(copy, sizeof copy, "%s", names[i]);
        const char *s = am_source_static(copy);
        assert_non_null(s);
        assert_ptr_not_equal(s, copy);
        assert_string_equal(s, names[i]);
        assert_ptr_equal(am_source_static(names[i]), s);
    }
    assert_null(am_source_static("amapi"));
    assert_null(am_source_static("Alertmanager"));
    assert_null(am_source_static(""));
    assert_null(am_source_static(NULL));
}

static void test_event_list(void **state)
{
    (void)state;
    am_event_list_t list = {0};
    for (int i = 0; i < 100; i++) {
        am_event_t *ev = am_event_list_push(&list);
        ev->name = am_xstrdup("x");
    }
    assert_int_equal(list.n, 100);
    am_event_list_clear(&list);
    assert_int_equal(list.n, 0);
    am_event_list_push(&list)->id = am_xstrdup("y");
    am_event_list_free(&list);
}

static void test_buf(void **state)
{
    (void)state;
    am_buf_t b = {0};
    for (int i = 0; i < 1000; i++)
        am_buf_printf(&b, "%d,", i % 10);
    assert_int_equal(b.len, 2000);
    am_buf_append(&b, "\0x", 2); /* embedded NUL kept */
    assert_int_equal(b.len, 2002);
    assert_int_equal(b.p[2001], 'x');
    char *s = am_buf_steal(&b);
    assert_null(b.p);
    free(s);
    s = am_buf_steal(&b);
    assert_string_equal(s, "");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_labels_sorted_unique),
        cmocka_unit_test(test_fingerprint_matches_alertmanager),
        cmocka_unit_test(test_label_map),
        cmocka_unit_test(test_custom_label_map),
        cmocka_unit_test(test_kube_service),
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_source_static),
        cmocka_unit_test(test_event_list),
        cmocka_unit_test(test_buf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
