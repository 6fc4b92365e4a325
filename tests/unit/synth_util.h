/*
 * synth_util.h - a random multi-cluster stream for tests: overlapping,
 * flapping and bridging alerts (some paged through PagerDuty, some with a
 * Kafka timestamp), alerts still firing re-notified later (some in
 * truncated Alertmanager notifications), acks naming alerts or labels,
 * notes and deploys, so that merges, splits, inferred ends and staleness
 * happen in many orders; and its rules.
 */
#ifndef TEST_SYNTH_UTIL_H
#define TEST_SYNTH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corr_util.h"

/* xorshift64: the next number of the stream *seed (not 0). */
static inline uint64_t synth_rnd(uint64_t *seed)
{
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    return *seed;
}

typedef struct lines {
    char **v;
    size_t n, cap;
} lines_t;

static inline void lines_push(lines_t *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = strdup(s);
}

static inline void lines_free(lines_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static const char *const SYNTH_RULES = "version: 1\n"
                                       "rules:\n"
                                       "  - name: pages\n"
                                       "    match: ['severity=\"page\"']\n"
                                       "    group_by: [cluster]\n"
                                       "    gap: 20m\n"
                                       "    quiet: 45m\n"
                                       "    deploys:\n"
                                       "      match: []\n"
                                       "      same: [service, cluster]\n"
                                       "      before: 1h\n"
                                       "    impact:\n"
                                       "      users: annotation:users\n"
                                       "    silences: acknowledge\n"
                                       "    continue: true\n"
                                       "  - name: per-service\n"
                                       "    match: ['service=~\"web|db\"']\n"
                                       "    group_by: [service, cluster]\n"
                                       "    gap: 5m\n"
                                       "    quiet: 5m\n"
                                       "    impact_start: deploy\n"
                                       "    deploys:\n"
                                       "      acknowledge: true\n";

/* One kcat line of topic am-events: an events/v2 record (written to the
 * proto, Alertmanager 0.35) whose data is data, recorded at minute at. */
static inline void synth_recorder_line(lines_t *out, double at, const char *data, long offset)
{
    am_buf_t v = {0};
    am_buf_printf(&v, "{\"@timestamp\":\"%s\",\"instance\":\"am-0\",\"data\":{%s}}", T(at), data);
    json_t *env = json_pack("{s:s,s:i,s:i,s:I,s:s}", "topic", "am-events", "partition", 0, "offset",
                            (int)offset, "ts", (json_int_t)(BASE_MS + at * 60000), "payload", v.p);
    char *line = json_dumps(env, JSON_COMPACT);
    lines_push(out, line);
    free(line);
    json_decref(env);
    am_buf_free(&v);
}

/* The event recorder's view of one alert (labels: JSON members): its
 * notification at obs, its alertResolved at end (when it ends), and with
 * silence 0 a silence that mutes it a minute after it starts. */
static inline void synth_recorder(lines_t *out, const char *labels, double start, double obs,
                                  double end, int silence, long i)
{
    am_buf_t alert = {0}, d = {0};
    am_buf_printf(&alert,
                  "\"labels\":{\"alertname\":\"Recorded\",%s},\"annotations\":{\"summary\":"
                  "\"recorded\"},\"startsAt\":\"%s\"",
                  labels, T(start));
    am_buf_printf(&d,
                  "\"notification\":{\"alerts\":[{\"fingerprint\":\"1\",\"details\":{%s,"
                  "\"endsAt\":\"0001-01-01T00:00:00Z\"}}],\"groupInfo\":{\"receiverName\":"
                  "\"oncall\"},\"reason\":\"NOTIFY_REASON_FIRST_NOTIFICATION\"}",
                  alert.p);
    synth_recorder_line(out, obs + 0.5, d.p, i * 10 + 5);
    if (end >= 0) {
        am_buf_reset(&d);
        am_buf_printf(&d,
                      "\"alertResolved\":{\"alert\":{\"fingerprint\":\"1\",\"details\":{%s,"
                      "\"endsAt\":\"%s\",\"resolved\":true}}}",
                      alert.p, T(end));
        synth_recorder_line(out, end + 0.2, d.p, i * 10 + 6);
    }
    if (silence == 0) {
        am_buf_reset(&d);
        am_buf_printf(&d,
                      "\"silenceMutedAlert\":{\"silence\":{\"id\":\"s%ld\",\"matchers\":[],"
                      "\"startsAt\":\"%s\",\"endsAt\":\"%s\",\"createdBy\":\"op%ld\","
                      "\"comment\":\"muted\"},\"mutedAlert\":{\"labels\":{\"alertname\":"
                      "\"Recorded\",%s}}}",
                      i, T(start + 1), T(start + 61), i % 3, labels);
        synth_recorder_line(out, start + 1, d.p, i * 10 + 7);
    }
    am_buf_free(&alert);
    am_buf_free(&d);
}

static inline void synth(long n, uint64_t *seed, lines_t *out)
{
    static const char *const clusters[] = {"c1", "c2", "c3"};
    static const char *const services[] = {"web", "db", "cache"};
    static const char *const sev[] = {"page", "page", "warning"};
    char buf[1024];
    for (long i = 0; i < n; i++) {
        const char *cl = clusters[synth_rnd(seed) % 3], *sv = services[synth_rnd(seed) % 3];
        double start = (double)(synth_rnd(seed) % 2400);
        double obs = start + (double)(synth_rnd(seed) % 5);
        uint64_t kind = synth_rnd(seed) % 10;
        if (kind < 7) {
            int inst = (int)(synth_rnd(seed) % 4);
            double end =
                synth_rnd(seed) % 12 == 0 ? -1 : start + 1 + (double)(synth_rnd(seed) % 30);
            char labels[256];
            snprintf(labels, sizeof labels,
                     "\"severity\":\"%s\",\"cluster\":\"%s\",\"service\":\"%s\","
                     "\"instance\":\"i%d\"",
                     sev[synth_rnd(seed) % 3], cl, sv, inst);
            char *a = alert(inst % 2 ? "Errors" : "Latency", start, end, labels);
            if (inst == 3) { /* paged through PagerDuty: the alert has a dedup key */
                am_buf_t b = {0};
                am_buf_printf(&b, "{\"dedup_key\":\"pd-%s-%s\",%s", cl, sv, a + 1);
                free(a);
                a = am_buf_steal(&b);
            }
            /* kcat envelope, with a Kafka timestamp */
            json_t *env =
                json_pack("{s:s,s:i,s:i,s:I,s:s}", "topic", "alerts", "partition", 0, "offset",
                          (int)i, "ts", (json_int_t)(BASE_MS + obs * 60000), "payload", a);
            char *line = json_dumps(env, JSON_COMPACT);
            lines_push(out, line);
            free(line);
            json_decref(env);
            /* still firing: re-notified later (the same bytes, a later
             * Kafka timestamp), sometimes in a truncated Alertmanager
             * notification that leaves the rest of its group out */
            for (int k = 1; end < 0 && k <= 3 && synth_rnd(seed) % 2; k++) {
                double again = obs + 60.0 * k * (double)(1 + synth_rnd(seed) % 5);
                char *p = a;
                am_buf_t w = {0};
                if (synth_rnd(seed) % 3 == 0) {
                    am_buf_printf(&w,
                                  "{\"receiver\":\"r\",\"status\":\"firing\",\"truncatedAlerts\":"
                                  "%d,\"alerts\":[{\"labels\":{\"alertname\":\"Trunc\",%s},"
                                  "\"startsAt\":\"%s\"}]}",
                                  1 + (int)(synth_rnd(seed) % 3), labels, T(start));
                    p = w.p;
                }
                env = json_pack("{s:s,s:i,s:i,s:I,s:s}", "topic", "alerts", "partition", 0,
                                "offset", (int)i * 10 + k, "ts",
                                (json_int_t)(BASE_MS + again * 60000), "payload", p);
                line = json_dumps(env, JSON_COMPACT);
                lines_push(out, line);
                free(line);
                json_decref(env);
                am_buf_free(&w);
            }
            free(a);
            /* Alertmanager's event recorder on its own topic: the
             * notification (detection), the exact resolve, a silence */
            if (inst == 2 && synth_rnd(seed) % 2)
                synth_recorder(out, labels, start, obs, end, (int)(synth_rnd(seed) % 3), i);
            if (end >= 0 && synth_rnd(seed) % 2) { /* the firing notification too */
                a = alert(inst % 2 ? "Errors" : "Latency", start, -1, labels);
                lines_push(out, a);
                free(a);
            }
        } else if (kind == 7 && synth_rnd(seed) % 2) { /* an ack naming a paged alert */
            snprintf(buf, sizeof buf,
                     "{\"kind\":\"ack\",\"at\":\"%s\",\"actor\":\"p%d\",\"dedup_key\":"
                     "\"pd-%s-%s\"}",
                     T(start), (int)(synth_rnd(seed) % 3), cl, sv);
            lines_push(out, buf);
        } else if (kind == 7) {
            snprintf(buf, sizeof buf,
                     "{\"kind\":\"ack\",\"at\":\"%s\",\"actor\":\"a%d\",\"labels\":{\"cluster\":"
                     "\"%s\",\"service\":\"%s\"}}",
                     T(start), (int)(synth_rnd(seed) % 3), cl, sv);
            lines_push(out, buf);
        } else if (kind == 8) {
            snprintf(buf, sizeof buf,
                     "{\"kind\":\"note\",\"at\":\"%s\",\"summary\":\"n%ld\",\"labels\":{"
                     "\"cluster\":\"%s\"},\"annotations\":{\"users\":\"%d\"}}",
                     T(start), i, cl, (int)(synth_rnd(seed) % 1000));
            lines_push(out, buf);
        } else {
            snprintf(buf, sizeof buf,
                     "{\"kind\":\"deploy\",\"name\":\"%s-app\",\"version\":\"v%ld\",\"at\":\"%s\","
                     "\"service\":\"%s\",\"actor\":\"%s\",\"labels\":{\"cluster\":\"%s\"}}",
                     sv, i, T(start), sv, i % 3 ? "ann" : "ci[bot]", cl);
            lines_push(out, buf);
        }
    }
}

#endif
