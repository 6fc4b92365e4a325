/*
 * fixtures.c - the conformance corpus: every real public payload under
 * ../shared/fixtures/<dir>/ for the directories listed in pinned_dirs[]
 * either decodes to the pinned events or is refused with the pinned
 * reason. A file in those directories without a pin fails the test, so a
 * new fixture cannot go unexamined. A file may have several pins: facts
 * about several of its events, or its outcome as a raw line and as a
 * Kafka record with a timestamp (formats that leave the time to the
 * receiver decode only in the second form).
 *
 * Usage: conformance_fixtures FIXTURES_DIR. The corpus is not part of the
 * project (some files carry licences the project cannot take), so a
 * missing directory is a failure that says so, never a silent pass.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "common/event.h"
#include "ingest/decode.h"
#include "tests/unit/tmp_util.h"

typedef struct pin {
    const char *file;     /* relative to the fixtures dir */
    const char *observed; /* decode as a Kafka record of this time; NULL: a raw line */
    int events;           /* events decoded, or -1 for a refusal */
    const char *reason;   /* refusal: substring of the reason */
    size_t at;            /* the event the facts below are about (0: the first) */
    const char *kind, *source, *name, *status, *identity, *service, *env, *severity, *version,
        *actor, *summary, *url;
    const char *starts;     /* starts_at, RFC 3339 UTC */
    const char *ends;       /* ends_at, RFC 3339 UTC; "" for none */
    const char *label;      /* "name=value" that the event's labels hold */
    const char *annotation; /* "name=value" that the event's annotations hold */
} pin_t;

static const char *const pinned_dirs[] = {
    "alertmanager",        "alertmanager-v2-api",      "grafana",
    "pagerduty-events-v2", "pagerduty-change-events",  "cdevents",
    "github-deployment",   "github-deployment-status", "flux-event",
};

#define OBSERVED "2024-06-18T14:30:05Z" /* a Kafka record time for formats that need one */

static const pin_t pins[] = {
    /* alertmanager/: webhook v4. A firing alert with a future endsAt
     * (Alertmanager <= 0.15) is firing, its end unknown. */
    {.file = "alertmanager/alertmanager-bot-firing.json",
     .events = 1,
     .kind = "alert",
     .source = "alertmanager",
     .name = "Fire",
     .status = "firing",
     .starts = "2018-11-04T21:43:58.283Z",
     .ends = "",
     .severity = "critical",
     .summary = "Something is on fire",
     .identity = "88cbf0084cf27726"},
    {.file = "alertmanager/alertmanager-bot-resolved.json",
     .events = 1,
     .name = "Fire",
     .status = "resolved",
     .starts = "2018-11-04T21:43:58.283Z",
     .ends = "2018-11-04T21:48:13.283Z",
     .identity = "88cbf0084cf27726"},
    /* fingerprint "", no version/groupKey, URL-encoded fragment kept. */
    {.file = "alertmanager/am-executor-alert-payload.json",
     .events = 2,
     .name = "InstanceDown",
     .status = "firing",
     .starts = "2016-04-07T16:08:52Z",
     .service = "broken",
     .url =
         "http://oldpad:9090/graph#%5B%7B%22expr%22%3A%22up%20%3D%3D%200%22%2C%22tab%22%3A0%7D%5D"},
    /* Wrong payload fingerprints: ours are Alertmanager's real ones; +08:00
     * with nanoseconds. */
    {.file = "alertmanager/bougou-alert-firing.json",
     .events = 3,
     .name = "CPUHigh",
     .status = "firing",
     .starts = "2021-03-30T12:17:50.814Z",
     .identity = "72d99c17d805fc56",
     .severity = "warning"},
    {.file = "alertmanager/bougou-alert-firing.json",
     .events = 3,
     .at = 1,
     .name = "CPUHigh1",
     .identity = "08a9f5e706cb2da6",
     .severity = "critical"},
    {.file = "alertmanager/bougou-alert-firing.json",
     .events = 3,
     .at = 2,
     .name = "CPUHigh2",
     .identity = "bef551aceb6e332e"},
    /* 3 firing and 1 resolved under a top-level status "firing". */
    {.file = "alertmanager/bougou-alert-mixed.json",
     .events = 4,
     .at = 1,
     .status = "resolved",
     .identity = "aca87c508efac354",
     .ends = "2021-03-30T13:17:50.814Z"},
    {.file = "alertmanager/bougou-alert-mixed.json",
     .events = 4,
     .at = 3,
     .status = "firing",
     .name = "CPUHigh2"},
    {.file = "alertmanager/bougou-alert-resolved.json",
     .events = 2,
     .status = "resolved",
     .identity = "aca87c508efac354",
     .ends = "2021-03-30T13:17:50.814Z"},
    {.file = "alertmanager/bougou-alert-resolved.json",
     .events = 2,
     .at = 1,
     .identity = "caa4018fc449b512"},
    /* No per-alert status: the payload's applies. -05:00 offsets. */
    {.file = "alertmanager/msteams-prom-post-request-12-alerts.json",
     .events = 12,
     .name = "high_memory_load",
     .status = "firing",
     .starts = "2018-03-07T11:33:21.873Z"},
    {.file = "alertmanager/msteams-prom-post-request-12-alerts.json",
     .events = 12,
     .at = 11,
     .name = "high_memory_load12"},
    {.file = "alertmanager/msteams-prom-post-request.json",
     .events = 1,
     .name = "high_memory_load",
     .status = "firing",
     .service = "docker_nodes",
     .severity = "warning",
     .summary = "Server High Memory usage"},
    /* OnCall's own numFiring/numResolved are ignored; fingerprints right. */
    {.file = "alertmanager/oncall-alertmanager-example.json",
     .events = 2,
     .name = "InstanceDown",
     .status = "firing",
     .identity = "f404ecabc8dd5cd7",
     .service = "node",
     .starts = "2023-06-12T08:24:38.326Z"},
    {.file = "alertmanager/oncall-alertmanager-example.json",
     .events = 2,
     .at = 1,
     .identity = "f8f08d4e32c61a9d"},
    /* "amixr_demo": true per alert, no fingerprint, empty group labels. */
    {.file = "alertmanager/oncall-example-2023-amixr-demo.json",
     .events = 1,
     .name = "TestAlert",
     .status = "firing",
     .starts = "2018-12-25T15:47:47.377Z",
     .label = "region=eu-1"},
    /* version and groupKey are numbers; alerts have no status or endsAt. */
    {.file = "alertmanager/prometheus-bot-production-example.json",
     .events = 11,
     .name = "LoadAverage_15MIN",
     .status = "firing",
     .service = "statsd",
     .severity = "Critical",
     .starts = "2017-01-26T13:31:54.865Z"},
    {.file = "alertmanager/prometheus-bot-production-example.json",
     .events = 11,
     .at = 10,
     .name = "Test fisic measure from KN"},
    /* Two alerts with identical labels: one identity, one id (a duplicate). */
    {.file = "alertmanager/zulip-alert.json",
     .events = 2,
     .name = "High CPU Temperature",
     .status = "firing",
     .identity = "a1bc48475b20e73d",
     .starts = "2020-02-06T00:17:58.432Z"},
    {.file = "alertmanager/zulip-alert.json", .events = 2, .at = 1, .identity = "a1bc48475b20e73d"},
    /* Resolved with the zero endsAt: resolved, end unknown. */
    {.file = "alertmanager/zulip-single-alert-resolved.json",
     .events = 1,
     .status = "resolved",
     .identity = "a1bc48475b20e73d",
     .ends = ""},

    /* alertmanager-v2-api/: no startsAt at all. A raw line has no time to
     * give them; as a Kafka record, the record's time stands in. */
    {.file = "alertmanager-v2-api/alertmanager-ha-send-alerts.json",
     .events = -1,
     .reason = "alertmanager-api: field [0].startsAt: missing, and no record timestamp"},
    {.file = "alertmanager-v2-api/alertmanager-ha-send-alerts.json",
     .observed = OBSERVED,
     .events = 6,
     .kind = "alert",
     .source = "alertmanager",
     .name = "DiskRunningFull",
     .status = "firing",
     .starts = OBSERVED,
     .ends = "",
     .label = "dev=sda1",
     .summary = "please check the instance example1"},
    {.file = "alertmanager-v2-api/alertmanager-ha-send-alerts.json",
     .observed = OBSERVED,
     .events = 6,
     .at = 5,
     .severity = "warning",
     .summary = "DiskRunningFull"},

    /* grafana/ */
    {.file = "grafana/bougou-grafana-alert.json",
     .events = 1,
     .kind = "alert",
     .source = "grafana",
     .name = "CPU Usage High",
     .status = "firing",
     .starts = "2023-03-29T09:41:10Z",
     .ends = "",
     .url = "http://localhost/grafana/alerting/grafana/fOO_kffVz/view?orgId=1",
     .annotation = "panelURL=http://localhost/grafana/d/200ac8fdbfbb74b39aff88118e4d1c2c"
                   "?orgId=1&viewPanel=1"},
    {.file = "grafana/bougou-grafana-alert.json",
     .events = 1,
     .annotation = "values={\"C\":12,\"D\":1}"},
    /* +02:00 with microseconds. */
    {.file = "grafana/grafana-docs-webhook-notifier.json",
     .events = 2,
     .source = "grafana",
     .name = "High memory usage",
     .status = "firing",
     .starts = "2021-10-12T07:51:03.157Z"},
    {.file = "grafana/grafana-docs-webhook-notifier.json",
     .events = 2,
     .at = 1,
     .name = "High CPU usage",
     .starts = "2021-10-12T07:56:03.157Z"},
    /* Named Grafana, shaped like Alertmanager (version 4, no orgId). */
    {.file = "grafana/oncall-grafana-alerting-example.json",
     .events = 3,
     .source = "alertmanager",
     .name = "InstanceDown",
     .identity = "f404ecabc8dd5cd7"},
    {.file = "grafana/oncall-grafana-alerting-example.json",
     .events = 3,
     .at = 2,
     .identity = "39f38c0611ee7abd"},
    /* A firing group of 2 resolved and 1 firing alerts. */
    {.file = "grafana/zulip-alert-9-mixed.json",
     .events = 3,
     .name = "Test alert",
     .status = "resolved",
     .service = "rabbitmq",
     .starts = "2022-06-17T01:04:00.782Z",
     .ends = "2022-06-17T01:08:28.652Z"},
    {.file = "grafana/zulip-alert-9-mixed.json",
     .events = 3,
     .at = 2,
     .name = "Second webhook test",
     .status = "firing",
     .ends = ""},
    {.file = "grafana/zulip-alert-9-resolved.json",
     .events = 1,
     .status = "resolved",
     .summary = "This is a summary field, failure on <no value>",
     .ends = "2022-06-17T00:51:24.067Z"},
    /* state "alerting" but status resolved; truncatedAlerts 1 is kept. */
    {.file = "grafana/zulip-alert-v8-truncated.json",
     .events = 1,
     .name = "TestAlert",
     .status = "resolved",
     .identity = "57c6d9296de2ad39",
     .annotation = "truncated_alerts=1"},
    /* Tab indentation, a large integer among the values. */
    {.file = "grafana/zulip-alert-values-v11.json",
     .events = 1,
     .name = "Memory (copy)",
     .status = "firing",
     .starts = "2024-03-01T02:09:00Z",
     .annotation = "values={\"A\":2473545728,\"B\":0,\"C\":1,\"minute\":9}"},

    /* pagerduty-events-v2/: +0000 offsets without a colon. */
    {.file = "pagerduty-events-v2/pd-openapi-trigger.json",
     .events = 1,
     .kind = "alert",
     .source = "pagerduty",
     .name = "disk",
     .status = "firing",
     .identity = "srv01/mysql",
     .severity = "critical",
     .starts = "2015-07-17T08:42:58.315Z",
     .summary = "DISK at 99% on machine prod-datapipe03.example.com",
     .url = "http://pagerduty.example.com",
     .annotation = "load avg=0.75"},
    {.file = "pagerduty-events-v2/pd-openapi-trigger.json",
     .events = 1,
     .label = "component=mysql"},
    {.file = "pagerduty-events-v2/pd-openapi-trigger.json",
     .events = 1,
     .label = "instance=prod-datapipe03.example.com"},
    {.file = "pagerduty-events-v2/pd-devdocs-trigger.json",
     .events = 1,
     .name = "deploy",
     .identity = "samplekeyhere",
     .severity = "info",
     .label = "group=prod-datapipe"},
    /* No time on the wire: refused raw, the record's time as Kafka. */
    {.file = "pagerduty-events-v2/pd-devdocs-acknowledge.json",
     .events = -1,
     .reason = "pagerduty: field payload.timestamp: missing, and no record timestamp"},
    {.file = "pagerduty-events-v2/pd-devdocs-acknowledge.json",
     .observed = OBSERVED,
     .events = 1,
     .kind = "ack",
     .source = "pagerduty",
     .status = "acknowledged",
     .identity = "dedupkeyhere",
     .starts = OBSERVED},
    {.file = "pagerduty-events-v2/pd-devdocs-resolve.json",
     .events = -1,
     .reason = "pagerduty: field payload.timestamp: missing"},
    {.file = "pagerduty-events-v2/pd-devdocs-resolve.json",
     .observed = OBSERVED,
     .events = 1,
     .kind = "alert",
     .status = "resolved",
     .identity = "dedupkeyhere",
     .starts = OBSERVED,
     .ends = OBSERVED},

    /* pagerduty-change-events/ */
    {.file = "pagerduty-change-events/pd-devdocs-change-event.json",
     .events = 1,
     .kind = "deploy",
     .source = "pagerduty",
     .status = "succeeded",
     .name = "acme-build-pipeline-tool-default-i-9999",
     .starts = "2020-07-17T08:42:58.315Z",
     .url = "https://acme.pagerduty.dev/build/2",
     .annotation = "build_number=2"},
    {.file = "pagerduty-change-events/pd-openapi-build-change-event.json",
     .events = 1,
     .kind = "deploy",
     .name = "prod-build-agent-i-0b148d1040d565540",
     .summary = "Build Success: Increase snapshot create timeout to 30 seconds",
     .annotation = "run_time=1236s"},
    {.file = "pagerduty-change-events/pd-openapi-git-change-event.json",
     .events = 1,
     .kind = "deploy",
     .name = "git",
     .summary = "Merge Pull Request",
     .starts = "2015-07-17T08:42:58.315Z",
     .annotation = "author=Pagerduty"},

    /* cdevents/: every release (context.version 0.3/0.4, specversion 0.5+)
     * reads alike; the same event in two releases has the same id. */
    {.file = "cdevents/v0.3.0-service-deployed.json",
     .events = 1,
     .kind = "deploy",
     .source = "cdevents",
     .status = "succeeded",
     .name = "myapp",
     .service = "mySubject123",
     .env = "test123",
     .starts = "2023-03-20T14:27:05.315Z",
     .version = "sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427"},
    {.file = "cdevents/v0.3.0-service-upgraded.json",
     .events = 1,
     .kind = "deploy",
     .status = "succeeded",
     .name = "myapp"},
    {.file = "cdevents/v0.3.0-service-rolledback.json",
     .events = 1,
     .kind = "deploy",
     .status = "rolled_back",
     .name = "myapp",
     .env = "test123"},
    {.file = "cdevents/v0.3.0-incident-detected.json",
     .events = 1,
     .kind = "alert",
     .source = "cdevents",
     .status = "firing",
     .name = "incident-123",
     .identity = "/monitoring/prod1#incident-123",
     .service = "myApp",
     .env = "prod1",
     .starts = "2022-11-11T13:52:20.079Z",
     .summary = "Response time above threshold of 100ms",
     .annotation = "value=200ms"},
    {.file = "cdevents/v0.3.0-incident-resolved.json",
     .events = 1,
     .kind = "alert",
     .status = "resolved",
     .identity = "/monitoring/prod1#incident-123",
     .ends = "2022-11-11T13:52:20.079Z",
     .summary = "Response time restored below 100ms"},
    {.file = "cdevents/v0.4.1-service-deployed.json",
     .events = 1,
     .kind = "deploy",
     .source = "cdevents",
     .status = "succeeded",
     .name = "myapp",
     .service = "mySubject123",
     .env = "test123",
     .starts = "2023-03-20T14:27:05.315Z",
     .version = "sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427"},
    {.file = "cdevents/v0.4.1-service-upgraded.json",
     .events = 1,
     .kind = "deploy",
     .status = "succeeded",
     .name = "myapp"},
    {.file = "cdevents/v0.4.1-service-rolledback.json",
     .events = 1,
     .kind = "deploy",
     .status = "rolled_back",
     .name = "myapp",
     .env = "test123"},
    {.file = "cdevents/v0.4.1-incident-detected.json",
     .events = 1,
     .kind = "alert",
     .source = "cdevents",
     .status = "firing",
     .name = "incident-123",
     .identity = "/monitoring/prod1#incident-123",
     .service = "myApp",
     .env = "prod1",
     .starts = "2022-11-11T13:52:20.079Z",
     .summary = "Response time above threshold of 100ms",
     .annotation = "value=200ms"},
    {.file = "cdevents/v0.4.1-incident-resolved.json",
     .events = 1,
     .kind = "alert",
     .status = "resolved",
     .identity = "/monitoring/prod1#incident-123",
     .ends = "2022-11-11T13:52:20.079Z",
     .summary = "Response time restored below 100ms"},
    {.file = "cdevents/v0.5.1-service-deployed.json",
     .events = 1,
     .kind = "deploy",
     .source = "cdevents",
     .status = "succeeded",
     .name = "myapp",
     .service = "mySubject123",
     .env = "test123",
     .starts = "2023-03-20T14:27:05.315Z",
     .version = "sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427"},
    {.file = "cdevents/v0.5.1-service-upgraded.json",
     .events = 1,
     .kind = "deploy",
     .status = "succeeded",
     .name = "myapp"},
    {.file = "cdevents/v0.5.1-service-rolledback.json",
     .events = 1,
     .kind = "deploy",
     .status = "rolled_back",
     .name = "myapp",
     .env = "test123"},
    {.file = "cdevents/v0.5.1-incident-detected.json",
     .events = 1,
     .kind = "alert",
     .source = "cdevents",
     .status = "firing",
     .name = "incident-123",
     .identity = "/monitoring/prod1#incident-123",
     .service = "myApp",
     .env = "prod1",
     .starts = "2022-11-11T13:52:20.079Z",
     .summary = "Response time above threshold of 100ms",
     .annotation = "value=200ms"},
    {.file = "cdevents/v0.5.1-incident-resolved.json",
     .events = 1,
     .kind = "alert",
     .status = "resolved",
     .identity = "/monitoring/prod1#incident-123",
     .ends = "2022-11-11T13:52:20.079Z",
     .summary = "Response time restored below 100ms"},
    {.file = "cdevents/main-0.6.0-draft-service-deployed.json",
     .events = 1,
     .kind = "deploy",
     .source = "cdevents",
     .status = "succeeded",
     .name = "myapp",
     .service = "mySubject123",
     .env = "test123",
     .starts = "2023-03-20T14:27:05.315Z",
     .version = "sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427"},
    {.file = "cdevents/main-0.6.0-draft-service-upgraded.json",
     .events = 1,
     .kind = "deploy",
     .status = "succeeded",
     .name = "myapp"},
    {.file = "cdevents/main-0.6.0-draft-service-rolledback.json",
     .events = 1,
     .kind = "deploy",
     .status = "rolled_back",
     .name = "myapp",
     .env = "test123"},
    {.file = "cdevents/main-0.6.0-draft-incident-detected.json",
     .events = 1,
     .kind = "alert",
     .source = "cdevents",
     .status = "firing",
     .name = "incident-123",
     .identity = "/monitoring/prod1#incident-123",
     .service = "myApp",
     .env = "prod1",
     .starts = "2022-11-11T13:52:20.079Z",
     .summary = "Response time above threshold of 100ms",
     .annotation = "value=200ms"},
    {.file = "cdevents/main-0.6.0-draft-incident-resolved.json",
     .events = 1,
     .kind = "alert",
     .status = "resolved",
     .identity = "/monitoring/prod1#incident-123",
     .ends = "2022-11-11T13:52:20.079Z",
     .summary = "Response time restored below 100ms"},

    /* github-deployment/ and github-deployment-status/: one deployment id
     * is one deploy, its identity. */
    {.file = "github-deployment/octokit-deployment.json",
     .events = 1,
     .kind = "deploy",
     .source = "github",
     .status = "started",
     .name = "Hello-World",
     .identity = "145988746",
     .service = "Hello-World",
     .env = "production",
     .actor = "Codertocat",
     .version = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
     .starts = "2019-05-15T15:20:53Z",
     .label = "repository=Codertocat/Hello-World"},
    {.file = "github-deployment/octokit-deployment-gh-pages.json",
     .events = 1,
     .status = "started",
     .identity = "145988746",
     .env = "github-pages",
     .actor = "github-pages[bot]",
     .starts = "2022-01-03T01:28:30Z",
     .label = "ref=gh-pages"},
    {.file = "github-deployment-status/octokit-deployment-status.json",
     .events = 1,
     .kind = "deploy",
     .source = "github",
     .status = "succeeded",
     .identity = "145988746",
     .env = "production",
     .actor = "Codertocat",
     .starts = "2019-05-15T15:20:55Z",
     .url = "https://github.com/Codertocat/Hello-World"},
    {.file = "github-deployment-status/octokit-deployment-status-gh-pages.json",
     .events = 1,
     .status = "started",
     .identity = "145988746",
     .actor = "github-pages[bot]",
     .starts = "2022-01-03T01:28:40Z",
     .url = "https://github.com/CorsixTH/CorsixTH/runs/4687056418?check_suite_focus=true"},

    /* flux-event/: an error is a point-in-time alert named by its reason. */
    {.file = "flux-event/nc-v1beta2-events-example.json",
     .events = 1,
     .kind = "alert",
     .source = "flux",
     .name = "ValidationFailed",
     .status = "resolved",
     .severity = "error",
     .starts = "2022-10-28T07:26:19Z",
     .ends = "2022-10-28T07:26:19Z",
     .label = "object=Kustomization/webapp",
     .annotation =
         "kustomize.toolkit.fluxcd.io/revision=main/731f7eaddfb6af01cb2173e18f0f75b0ba780ef1"},
    {.file = "flux-event/nc-v1beta3-providers-generic-webhook.json",
     .events = 1,
     .name = "ValidationFailed",
     .status = "resolved",
     .label = "controller=kustomize-controller",
     .summary = "service/apps/webapp validation error: spec.type: Unsupported value: Ingress"},
    /* An empty event: nothing to place it in time. */
    {.file = "flux-event/nc-pubsub-test-minimal-event.json",
     .events = -1,
     .reason = "flux: field timestamp: missing"},
    {.file = "flux-event/nc-pubsub-test-minimal-event.json",
     .observed = OBSERVED,
     .events = -1,
     .reason = "flux: field timestamp: missing"},
};
#define NPINS (sizeof pins / sizeof pins[0])

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s: ", p->file);                                                 \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            failures++;                                                                            \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

static int str_is(const char *got, const char *want)
{
    return !want || (got && strcmp(got, want) == 0);
}

static int time_is(int64_t got, const char *want)
{
    char buf[AM_TIME_STRLEN];
    return !want || strcmp(am_time_format(got, buf), want) == 0;
}

/* want is "name=value"; labels must hold exactly that. */
static int holds(const am_labels_t *labels, const char *want)
{
    if (!want)
        return 1;
    const char *eq = strchr(want, '=');
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(eq - want), want);
    const char *v = am_labels_get(labels, name);
    return v && strcmp(v, eq + 1) == 0;
}

static void check_pin(const char *dir, const pin_t *p, ingest_decoder_t *dec)
{
    char path[1024], err[768] = "", when[AM_TIME_STRLEN];
    am_event_list_t l = {0};
    size_t len = 0;
    int64_t observed = AM_TIME_NONE;
    snprintf(path, sizeof path, "%s/%s", dir, p->file);
    char *data = tmp_read(path, &len);
    CHECK(data, "cannot read %s", path);
    if (p->observed)
        CHECK(am_time_parse(p->observed, strlen(p->observed), &observed, err, sizeof err) == 0,
              "bad observed time in the pin: %s", err);
    int rc = ingest_decode(dec, "auto", data, len, observed, &l, err, sizeof err);
    if (p->events < 0) {
        CHECK(rc == -1, "decoded %zu events, want a refusal", l.n);
        CHECK(strstr(err, p->reason), "reason \"%s\" lacks \"%s\"", err, p->reason);
        goto done;
    }
    CHECK(rc == 0, "refused: %s", err);
    CHECK((int)l.n == p->events, "%zu events, want %d", l.n, p->events);
    for (size_t i = 0; i < l.n; i++) {
        const am_event_t *e = &l.v[i];
        CHECK(e->id && e->source, "event %zu lacks an id or a source", i);
        CHECK(e->status || e->kind == AM_KIND_NOTE, "event %zu has no status", i);
        CHECK(e->starts_at != AM_TIME_NONE, "event %zu has no time", i);
        CHECK(e->observed_at == observed, "event %zu: observed_at not the record's", i);
        CHECK(e->kind != AM_KIND_ALERT || (e->identity && e->name),
              "alert %zu: no identity or name", i);
    }
    if (l.n == 0)
        goto done;
    CHECK(p->at < l.n, "no event %zu", p->at);
    const am_event_t *ev = &l.v[p->at];
    CHECK(!p->kind || strcmp(am_kind_name(ev->kind), p->kind) == 0, "[%zu] kind %s, want %s", p->at,
          am_kind_name(ev->kind), p->kind);
#define FACT(field)                                                                                \
    CHECK(str_is(ev->field, p->field), "[%zu] " #field " %s, want %s", p->at,                      \
          ev->field ? ev->field : "(none)", p->field)
    FACT(source);
    FACT(name);
    FACT(status);
    FACT(identity);
    FACT(service);
    FACT(severity);
    FACT(version);
    FACT(actor);
    FACT(summary);
    FACT(url);
#undef FACT
    CHECK(str_is(ev->environment, p->env), "[%zu] environment %s, want %s", p->at,
          ev->environment ? ev->environment : "(none)", p->env);
    CHECK(time_is(ev->starts_at, p->starts), "[%zu] starts_at %s, want %s", p->at,
          am_time_format(ev->starts_at, when), p->starts);
    CHECK(time_is(ev->ends_at, p->ends), "[%zu] ends_at %s, want %s", p->at,
          am_time_format(ev->ends_at, when), p->ends);
    CHECK(holds(&ev->labels, p->label), "[%zu] no label %s", p->at, p->label);
    CHECK(holds(&ev->annotations, p->annotation), "[%zu] no annotation %s", p->at, p->annotation);
done:
    am_event_list_free(&l);
    free(data);
}

/* Every *.json in a pinned directory must have a pin. */
static void check_all_pinned(const char *dir)
{
    for (size_t d = 0; d < sizeof pinned_dirs / sizeof pinned_dirs[0]; d++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, pinned_dirs[d]);
        DIR *dh = opendir(path);
        if (!dh) {
            fprintf(stderr, "FAIL: fixture directory %s is missing\n", path);
            failures++;
            continue;
        }
        struct dirent *de;
        while ((de = readdir(dh))) {
            size_t n = strlen(de->d_name);
            if (n < 5 || strcmp(de->d_name + n - 5, ".json") != 0)
                continue;
            char rel[512];
            snprintf(rel, sizeof rel, "%s/%s", pinned_dirs[d], de->d_name);
            int found = 0;
            for (size_t i = 0; i < NPINS && !found; i++)
                found = strcmp(pins[i].file, rel) == 0;
            if (!found) {
                fprintf(stderr, "FAIL: fixture %s has no pinned outcome\n", rel);
                failures++;
            }
        }
        closedir(dh);
    }
}

int main(int argc, char **argv)
{
    struct stat sb;
    if (argc != 2 || stat(argv[1], &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr,
                "FAIL: the shared fixtures directory (%s) is absent; this test needs "
                "../shared/fixtures\n",
                argc > 1 ? argv[1] : "no argument");
        return 1;
    }
    ingest_decoder_t *dec = ingest_decoder_create(NULL, NULL);
    for (size_t i = 0; i < NPINS; i++)
        check_pin(argv[1], &pins[i], dec);
    check_all_pinned(argv[1]);
    ingest_decoder_destroy(dec);
    printf("%zu passed, %d failed\n", NPINS - (size_t)failures, failures);
    return failures ? 1 : 0;
}
