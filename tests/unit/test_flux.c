/*
 * test_flux.c - Flux notification-controller events: errors are point
 * alerts, reconciliations of Kustomizations and HelmReleases are deploys,
 * everything else is no event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "decode_util.h"

#define OBS 1718721005000LL

static void event(char *buf, size_t len, const char *kind, const char *severity, const char *reason,
                  const char *ts, const char *message)
{
    snprintf(buf, len,
             "{'involvedObject':{'apiVersion':'kustomize.toolkit.fluxcd.io/v1','kind':'%s',"
             "'name':'webapp','namespace':'apps','uid':'7d0c'},'severity':'%s','timestamp':"
             "'%s','message':'%s','reason':'%s','metadata':{'kustomize.toolkit.fluxcd.io/"
             "revision':'main@sha1:731f7ead','env':'prod','cluster':'eu-1',"
             "'kustomize.toolkit.fluxcd.io/token':'t0k'},'reportingController':"
             "'kustomize-controller','reportingInstance':'kc-7c7b'}",
             kind, severity, ts, message, reason);
}

static void test_error_is_a_point_alert(void **state)
{
    (void)state;
    char buf[1024];
    am_event_list_t a = {0}, b = {0};
    event(buf, sizeof buf, "Kustomization", "error", "HealthCheckFailed", "2024-06-18T14:29:00Z",
          "timeout waiting for Deployment/apps/webapp");
    decode_ok_as("auto", buf, OBS, &a);
    assert_int_equal(a.n, 1);
    am_event_t *ev = &a.v[0];
    assert_int_equal(ev->kind, AM_KIND_ALERT);
    assert_string_equal(ev->source, "flux");
    assert_string_equal(ev->status, "resolved");
    assert_string_equal(ev->name, "HealthCheckFailed");
    assert_string_equal(ev->summary, "timeout waiting for Deployment/apps/webapp");
    assert_true(ev->starts_at == 1718720940000LL);
    assert_true(ev->ends_at == ev->starts_at);
    assert_string_equal(ev->severity, "error");
    assert_string_equal(ev->environment, "prod");
    assert_string_equal(am_labels_get(&ev->labels, "object"), "Kustomization/webapp");
    assert_string_equal(am_labels_get(&ev->labels, "namespace"), "apps");
    assert_string_equal(am_labels_get(&ev->labels, "cluster"), "eu-1");
    assert_string_equal(am_labels_get(&ev->labels, "controller"), "kustomize-controller");
    assert_null(ev->version); /* an alert has no version: the revision is an annotation */
    assert_string_equal(am_labels_get(&ev->annotations, "kustomize.toolkit.fluxcd.io/revision"),
                        "main@sha1:731f7ead");
    assert_null(am_labels_get(&ev->labels, "kustomize.toolkit.fluxcd.io/token"));
    /* The next retry: same alert (identity), another occurrence (id). */
    event(buf, sizeof buf, "Kustomization", "error", "HealthCheckFailed", "2024-06-18T14:39:00Z",
          "still failing");
    decode_ok_as("auto", buf, OBS, &b);
    assert_string_equal(a.v[0].identity, b.v[0].identity);
    assert_string_not_equal(a.v[0].id, b.v[0].id);
    am_event_list_free(&a);
    am_event_list_free(&b);
}

static void test_deploys(void **state)
{
    (void)state;
    static const struct {
        const char *kind, *reason, *status;
    } cases[] = {
        {"Kustomization", "ReconciliationSucceeded", "succeeded"},
        {"Kustomization", "Progressing", "started"},
        {"HelmRelease", "InstallSucceeded", "succeeded"},
        {"HelmRelease", "UpgradeSucceeded", "succeeded"},
        {"HelmRelease", "RollbackSucceeded", "rolled_back"},
        {"GitRepository", "ReconciliationSucceeded", NULL}, /* a fetch, not a deploy */
        {"Kustomization", "DependencyNotReady", NULL},
    };
    char buf[1024];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        am_event_list_t l = {0};
        event(buf, sizeof buf, cases[i].kind, "info", cases[i].reason,
              "2024-06-18T14:05:00.5+00:00", "Reconciliation finished in 2s");
        decode_ok_as("auto", buf, OBS, &l);
        if (!cases[i].status) {
            assert_int_equal(l.n, 0);
            continue;
        }
        assert_int_equal(l.n, 1);
        am_event_t *ev = &l.v[0];
        assert_int_equal(ev->kind, AM_KIND_DEPLOY);
        assert_string_equal(ev->status, cases[i].status);
        assert_string_equal(ev->name, "webapp");
        assert_string_equal(ev->service, "webapp");
        assert_string_equal(ev->environment, "prod");
        assert_string_equal(ev->version, "main@sha1:731f7ead");
        assert_string_equal(ev->actor, "kustomize-controller");
        assert_true(ev->starts_at == 1718719500500LL);
        am_event_list_free(&l);
    }
    am_event_list_t l = {0};
    event(buf, sizeof buf, "Kustomization", "trace", "Progressing", "2024-06-18T14:05:00Z", "x");
    decode_ok_as("auto", buf, OBS, &l);
    assert_int_equal(l.n, 0);
}

static void test_refusals(void **state)
{
    (void)state;
    assert_refused_as("auto",
                      "{'involvedObject':{},'severity':'','timestamp':null,'message':'',"
                      "'reason':'','metadata':{'foo':'bar'},'reportingController':''}",
                      OBS, "flux: field timestamp: missing");
    assert_refused_as("auto",
                      "{'involvedObject':{'kind':'Kustomization'},'severity':'error',"
                      "'reason':'X','timestamp':'2024-06-18T14:05:00Z'}",
                      OBS, "field involvedObject.name: missing");
    assert_refused_as("auto",
                      "{'involvedObject':{'kind':'Kustomization','name':'a'},'severity':'error',"
                      "'timestamp':'2024-06-18T14:05:00Z'}",
                      OBS, "field reason: missing");
    assert_refused_as("auto",
                      "{'involvedObject':{'kind':'Kustomization','name':'a'},'severity':'warning',"
                      "'reason':'X','timestamp':'2024-06-18T14:05:00Z'}",
                      OBS, "field severity: \"warning\" is not info, error or trace");
    assert_refused_as("auto",
                      "{'involvedObject':{'kind':'Kustomization','name':'a'},'severity':'error',"
                      "'reason':'X','timestamp':'2024-06-18T14:05:00Z','metadata':{'n':1}}",
                      OBS, "field metadata.n: expected a string");
    assert_refused_as("auto",
                      "{'involvedObject':{'kind':'Kustomization','name':'a'},'severity':'error',"
                      "'reason':'X','timestamp':'2024-06-18 14:05'}",
                      OBS, "field timestamp: time");
    assert_refused_as("flux", "{'involvedObject':'x','timestamp':'2024-06-18T14:05:00Z'}", OBS,
                      "field involvedObject: expected an object");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_is_a_point_alert),
        cmocka_unit_test(test_deploys),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
