/*
 * test_github.c - GitHub deployment and deployment_status webhooks: one
 * deployment id is one deploy, each status an event of it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_util.h"

#define OBS 1718721005000LL

#define REPO                                                                                       \
    "'repository':{'id':1,'name':'checkout','full_name':'shop/checkout',"                          \
    "'html_url':'https://github.com/shop/checkout'},'sender':{'login':'octo-sender'}"
#define DEPLOYMENT                                                                                 \
    "'deployment':{'id':145988746,'sha':'f95f852b','ref':'v1.4.0','task':'deploy',"                \
    "'environment':'production','description':null,'payload':{},"                                  \
    "'creator':{'login':'alice'},'created_at':'2024-06-18T14:05:00Z',"                             \
    "'production_environment':null}"

static void status_payload(char *buf, size_t len, const char *state, long id)
{
    snprintf(
        buf, len,
        "{'action':'created','deployment_status':{'id':%ld,'state':'%s','environment':"
        "'production','description':'','target_url':'','log_url':'https://ci/run/%ld',"
        "'creator':{'login':'deploy-bot[bot]'},'created_at':'2024-06-18T14:06:%02ldZ'}," DEPLOYMENT
        "," REPO "}",
        id, state, id, id % 60);
}

static void test_deployment_created(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    decode_ok_as("auto", "{'action':'created'," DEPLOYMENT "," REPO ",'workflow':null}", OBS, &l);
    assert_int_equal(l.n, 1);
    am_event_t *ev = &l.v[0];
    assert_int_equal(ev->kind, AM_KIND_DEPLOY);
    assert_string_equal(ev->source, "github");
    assert_string_equal(ev->status, "started");
    assert_string_equal(ev->identity, "145988746");
    assert_string_equal(ev->name, "checkout");
    assert_string_equal(ev->service, "checkout");
    assert_string_equal(ev->environment, "production");
    assert_string_equal(ev->version, "f95f852b");
    assert_string_equal(ev->actor, "alice");
    assert_string_equal(ev->url, "https://github.com/shop/checkout");
    assert_null(ev->summary);
    assert_string_equal(am_labels_get(&ev->labels, "repository"), "shop/checkout");
    assert_string_equal(am_labels_get(&ev->labels, "ref"), "v1.4.0");
    assert_true(ev->starts_at == 1718719500000LL);
    am_event_list_free(&l);
}

/* The repository, environment, sha and creator are GitHub's own fields: a
 * label map that reads other labels changes none of them. */
static void test_native_fields_win_over_map(void **state)
{
    (void)state;
    static const char *const team[] = {"team", NULL};
    static const char *const stage[] = {"stage", NULL};
    static const char *const release[] = {"ref", NULL};
    static const char *const owner[] = {"repository", NULL};
    am_label_map_t map = am_label_map_default;
    map.names[AM_LABEL_SERVICE] = team;
    map.names[AM_LABEL_ENVIRONMENT] = stage;
    map.names[AM_LABEL_VERSION] = release;
    map.names[AM_LABEL_ACTOR] = owner;
    ingest_decoder_t *dec = ingest_decoder_create(&map, NULL);
    char *s = dq("{'action':'created'," DEPLOYMENT "," REPO "}");
    am_event_list_t l = {0};
    char err[512];
    assert_int_equal(ingest_decode(dec, "auto", s, strlen(s), OBS, &l, err, sizeof err), 0);
    assert_string_equal(l.v[0].service, "checkout");
    assert_string_equal(l.v[0].environment, "production");
    assert_string_equal(l.v[0].version, "f95f852b");
    assert_string_equal(l.v[0].actor, "alice");
    free(s);
    am_event_list_free(&l);
    ingest_decoder_destroy(dec);
}

static void test_status_states(void **state)
{
    (void)state;
    static const struct {
        const char *state, *status;
    } cases[] = {
        {"pending", "started"},   {"queued", "started"}, {"in_progress", "started"},
        {"success", "succeeded"}, {"failure", "failed"}, {"error", "failed"},
        {"inactive", NULL},
    };
    char buf[2048];
    char first_id[64] = "";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        am_event_list_t l = {0};
        status_payload(buf, sizeof buf, cases[i].state, (long)(100 + i));
        decode_ok_as("auto", buf, OBS, &l);
        if (!cases[i].status) {
            assert_int_equal(l.n, 0); /* superseded: says nothing new */
            am_event_list_free(&l);
            continue;
        }
        assert_int_equal(l.n, 1);
        assert_string_equal(l.v[0].status, cases[i].status);
        assert_string_equal(l.v[0].identity, "145988746"); /* one deploy */
        assert_string_equal(l.v[0].actor, "deploy-bot[bot]");
        assert_string_not_equal(l.v[0].id, first_id); /* each status its own event */
        if (i == 0)
            snprintf(first_id, sizeof first_id, "%s", l.v[0].id);
        am_event_list_free(&l);
    }
    /* A redelivered status is the same event. */
    am_event_list_t a = {0}, b = {0};
    status_payload(buf, sizeof buf, "success", 103);
    decode_ok_as("auto", buf, OBS, &a);
    decode_ok_as("github", buf, OBS + 1000, &b);
    assert_string_equal(a.v[0].id, b.v[0].id);
    assert_string_equal(a.v[0].url, "https://ci/run/103");
    am_event_list_free(&b);
    /* GitHub's own examples reuse one status id for two states: two
     * events, not a duplicate (found replaying the shared fixtures). */
    status_payload(buf, sizeof buf, "in_progress", 103);
    decode_ok_as("auto", buf, OBS, &b);
    assert_string_not_equal(a.v[0].id, b.v[0].id);
    am_event_list_free(&a);
    am_event_list_free(&b);
}

static void test_status_fields(void **state)
{
    (void)state;
    am_event_list_t l = {0};
    /* String ids, an environment_url only, the status's own environment
     * and description, no creators: the sender acts. */
    decode_ok_as("auto",
                 "{'deployment_status':{'id':'DS_1','state':'failure','environment':'staging',"
                 "'description':'health check failed','environment_url':'https://stg',"
                 "'created_at':'2024-06-18T14:07:00.5+02:00'},'deployment':{'id':'D_9',"
                 "'environment':'production','created_at':'2024-06-18T12:00:00Z'}," REPO "}",
                 OBS, &l);
    am_event_t *ev = &l.v[0];
    assert_string_equal(ev->status, "failed");
    assert_string_equal(ev->identity, "D_9");
    assert_string_equal(ev->environment, "staging");
    assert_string_equal(ev->summary, "health check failed");
    assert_string_equal(ev->url, "https://stg");
    assert_string_equal(ev->actor, "octo-sender");
    assert_null(ev->version);
    assert_true(ev->starts_at == 1718712420500LL);
    am_event_list_free(&l);
}

static void test_refusals(void **state)
{
    (void)state;
    assert_refused_as("auto",
                      "{'deployment':{'sha':'x','created_at':'2024-06-18T14:05:00Z'}," REPO "}",
                      OBS, "github: field deployment.id: missing");
    assert_refused_as("auto", "{'deployment':{'id':1.5}," REPO "}", OBS,
                      "field deployment.id: expected a string or an integer");
    assert_refused_as("auto",
                      "{'deployment':{'id':7,'created_at':'2024-06-18T14:05:00Z'},"
                      "'repository':{'full_name':'a/b'}}",
                      OBS, "field repository.name: missing");
    assert_refused_as("auto", "{'deployment':{'id':7}," REPO "}", OBS,
                      "field deployment.created_at: missing");
    assert_refused_as("auto",
                      "{'deployment_status':{'id':1,'state':'success'},"
                      "'deployment':{'id':7,'created_at':'2024-06-18T14:05:00Z'}," REPO "}",
                      OBS, "field deployment_status.created_at: missing");
    assert_refused_as("auto",
                      "{'deployment_status':{'id':1,'state':'done','created_at':"
                      "'2024-06-18T14:05:00Z'},'deployment':{'id':7}," REPO "}",
                      OBS, "field deployment_status.state: \"done\" is not one of");
    assert_refused_as("github", "{'repository':{}}", OBS, "field deployment: missing");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deployment_created),
        cmocka_unit_test(test_native_fields_win_over_map),
        cmocka_unit_test(test_status_states),
        cmocka_unit_test(test_status_fields),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
