/*
 * gen.c - am_bench_gen: a deterministic generator of alert streams for the
 * benchmark, written as kcat -J NDJSON (one Kafka record per line, with its
 * topic, partition, offset and timestamp), which `aftermath replay` reads
 * directly and am_produce loads into a real broker.
 *
 * The stream models what a Kafka topic fed by Alertmanager looks like:
 * webhook v4 group notifications (most records), each carrying one to
 * --group alerts of one service and cluster; alerts that resolve, some
 * that flap (resolve and fire again with a new startsAt); Alertmanager's
 * re-notifications, which re-send a group's payload byte for byte on
 * every group interval (a share of them, as from a second Alertmanager
 * replica, carries a timestamp earlier than the first delivery's); alerts
 * in the generic format, and deploys in the generic and CDEvents formats.
 *
 * Everything comes from one seeded PRNG (splitmix64) and a simulated clock,
 * so a given command line always writes the same bytes.
 */
#include "common/buf.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: am_bench_gen [OPTIONS] > stream.ndjson\n"
    "\n"
    "Writes a deterministic stream of Kafka records (kcat -J NDJSON) for the\n"
    "benchmark (bench/README.md).\n"
    "  --events N        records to write (default 100000)\n"
    "  --services N      services (default 200)\n"
    "  --clusters N      clusters (default 4)\n"
    "  --repeat F        share of records that are re-notifications: the exact\n"
    "                    bytes of an earlier record again (default 0.6)\n"
    "  --earlier F       share of re-notifications whose timestamp is earlier\n"
    "                    than the first delivery's (default 0.02)\n"
    "  --flap F          share of resolved alerts that fire again (default 0.1)\n"
    "  --deploys N       deploys spread over the stream (default events/500)\n"
    "  --generic F       share of new alerts in the generic format (default 0.1)\n"
    "  --resolve F       share of new alert records that resolve an open alert\n"
    "                    (default 0.25; 0: every new record fires new alerts)\n"
    "  --group N         at most N alerts per Alertmanager notification (default 2)\n"
    "  --open N          alerts firing at once before the oldest resolve (default 2000)\n"
    "  --wave N          alerts fired per wave of trouble: then every open alert\n"
    "                    resolves and the clock moves on 2 hours, so incidents end\n"
    "                    (default 1000; 0: one endless wave, as in a storm)\n"
    "  --partitions N    partitions of each topic (default 1)\n"
    "  --raw             write each record's payload alone on its line (no kcat\n"
    "                    envelope, so no record time): a file of captured bodies\n"
    "  --seed N          PRNG seed (default 1)\n";

typedef struct gen_opts {
    long events, services, clusters, deploys, group, open, partitions, wave;
    double repeat, earlier, flap, generic, resolve;
    int raw; /* payload lines, no envelope */
    uint64_t seed;
} gen_opts_t;

/* An alert that has fired (it may be resolved again). */
typedef struct gen_alert {
    int name, service, cluster;
    long instance;
    int64_t starts_ms;
    int fmt_generic;
} gen_alert_t;

typedef struct gen {
    gen_opts_t o;
    uint64_t rng;
    int64_t now_ms; /* simulated clock: Kafka timestamps */
    gen_alert_t *open;
    size_t nopen;
    long next_instance;
    long fired;   /* alerts fired in this wave */
    int draining; /* the wave is over: resolving what is open */
    /* The last sent notifications, re-sent byte for byte. */
    char **sent;
    int64_t *sent_ts;
    size_t nsent, sent_cap, sent_next;
    int64_t offsets[2][64]; /* [alerts|deploys][partition] */
    long deploy_no;
    am_buf_t payload, line;
} gen_t;

static const char *const alert_names[] = {
    "HighErrorRate",    "LatencyHigh",      "PodCrashLooping",   "KubeDeploymentReplicasMismatch",
    "DiskWillFillIn4h", "TargetDown",       "CPUThrottlingHigh", "MemoryPressure",
    "ErrorBudgetBurn",  "QueueBacklogHigh", "CertificateExpiry", "DatabaseConnectionsHigh",
};
#define NNAMES (sizeof alert_names / sizeof alert_names[0])
static const char *const severities[] = {"page", "ticket", "warning", "critical"};

static uint64_t next_u64(gen_t *g)
{
    uint64_t z = (g->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double next_unit(gen_t *g)
{
    return (double)(next_u64(g) >> 11) / 9007199254740992.0;
}

static long next_below(gen_t *g, long n)
{
    return n > 0 ? (long)(next_u64(g) % (uint64_t)n) : 0;
}

static void put_time(am_buf_t *b, int64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char text[40];
    strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    am_buf_printf(b, "%s.%03dZ", text, (int)(ms % 1000));
}

static void put_labels(am_buf_t *b, const gen_alert_t *a)
{
    am_buf_printf(b,
                  "{\"alertname\":\"%s\",\"service\":\"svc-%03d\",\"cluster\":\"cluster-%d\","
                  "\"namespace\":\"svc-%03d\",\"instance\":\"10.%d.%d.%d:9100\","
                  "\"job\":\"svc-%03d\",\"severity\":\"%s\",\"env\":\"prod\"}",
                  alert_names[a->name], a->service, a->cluster, a->service,
                  (int)(a->instance >> 16) & 255, (int)(a->instance >> 8) & 255,
                  (int)a->instance & 255, a->service, severities[a->name % 4]);
}

static void put_am_alert(am_buf_t *b, const gen_alert_t *a, int resolved, int64_t ends_ms)
{
    am_buf_printf(b, "{\"status\":\"%s\",\"labels\":", resolved ? "resolved" : "firing");
    put_labels(b, a);
    am_buf_printf(b,
                  ",\"annotations\":{\"summary\":\"%s on svc-%03d in cluster-%d\","
                  "\"description\":\"%s has been active for more than 5 minutes on instance "
                  "%ld; see the dashboard for the affected endpoints.\","
                  "\"runbook_url\":\"https://runbooks.example/%s\"},\"startsAt\":\"",
                  alert_names[a->name], a->service, a->cluster, alert_names[a->name], a->instance,
                  alert_names[a->name]);
    put_time(b, a->starts_ms);
    am_buf_puts(b, "\",\"endsAt\":\"");
    if (resolved)
        put_time(b, ends_ms);
    else
        am_buf_puts(b, "0001-01-01T00:00:00Z");
    am_buf_printf(b,
                  "\",\"generatorURL\":\"http://prometheus.example/graph?g0.expr=%s\","
                  "\"fingerprint\":\"%016" PRIx64 "\"}",
                  alert_names[a->name], (uint64_t)a->instance * UINT64_C(0x9e3779b97f4a7c15));
}

/* An Alertmanager webhook v4 notification of alerts v[0..n) (one service
 * and cluster), all firing or all resolved at ends_ms. */
static void put_am(gen_t *g, gen_alert_t *const *v, size_t n, int resolved, int64_t ends_ms)
{
    am_buf_t *b = &g->payload;
    const gen_alert_t *a = v[0];
    am_buf_printf(b, "{\"receiver\":\"aftermath\",\"status\":\"%s\",\"alerts\":[",
                  resolved ? "resolved" : "firing");
    for (size_t i = 0; i < n; i++) {
        if (i)
            am_buf_putc(b, ',');
        put_am_alert(b, v[i], resolved, ends_ms);
    }
    am_buf_printf(b,
                  "],\"groupLabels\":{\"alertname\":\"%s\",\"service\":\"svc-%03d\"},"
                  "\"commonLabels\":{\"alertname\":\"%s\",\"service\":\"svc-%03d\","
                  "\"cluster\":\"cluster-%d\"},\"commonAnnotations\":{},"
                  "\"externalURL\":\"http://alertmanager.example:9093\",\"version\":\"4\","
                  "\"groupKey\":\"{}:{alertname=\\\"%s\\\",service=\\\"svc-%03d\\\"}\","
                  "\"truncatedAlerts\":0}",
                  alert_names[a->name], a->service, alert_names[a->name], a->service, a->cluster,
                  alert_names[a->name], a->service);
}

static void put_generic_alert(gen_t *g, const gen_alert_t *a, int resolved, int64_t ends_ms)
{
    am_buf_t *b = &g->payload;
    am_buf_printf(b, "{\"kind\":\"alert\",\"status\":\"%s\",\"name\":\"%s\",\"starts_at\":\"",
                  resolved ? "resolved" : "firing", alert_names[a->name]);
    put_time(b, a->starts_ms);
    if (resolved) {
        am_buf_puts(b, "\",\"ends_at\":\"");
        put_time(b, ends_ms);
    }
    am_buf_puts(b, "\",\"labels\":");
    put_labels(b, a);
    am_buf_printf(b, ",\"summary\":\"%s on svc-%03d\"}", alert_names[a->name], a->service);
}

static void put_deploy(gen_t *g)
{
    am_buf_t *b = &g->payload;
    long svc = next_below(g, g->o.services);
    long n = ++g->deploy_no;
    if (n % 2) {
        am_buf_printf(b,
                      "{\"kind\":\"deploy\",\"status\":\"succeeded\",\"name\":\"svc-%03ld-api\","
                      "\"version\":\"1.%ld.0\",\"service\":\"svc-%03ld\",\"environment\":"
                      "\"prod\",\"at\":\"",
                      svc, n, svc);
        put_time(b, g->now_ms - 1000);
        am_buf_printf(b,
                      "\",\"actor\":\"ci-bot\",\"labels\":{\"cluster\":\"cluster-%ld\"},"
                      "\"url\":\"https://ci.example/pipelines/%ld\"}",
                      next_below(g, g->o.clusters), n);
    } else {
        am_buf_printf(b,
                      "{\"context\":{\"version\":\"0.4.1\",\"id\":\"deploy-%ld\",\"source\":"
                      "\"/ci/pipelines\",\"type\":\"dev.cdevents.service.deployed.0.2.0\","
                      "\"timestamp\":\"",
                      n);
        put_time(b, g->now_ms - 1000);
        am_buf_printf(b,
                      "\"},\"subject\":{\"id\":\"svc-%03ld\",\"source\":\"/ci/pipelines\","
                      "\"type\":\"service\",\"content\":{\"environment\":{\"id\":\"prod\"},"
                      "\"artifactId\":\"pkg:oci/svc-%03ld-api@sha256%%3A%016" PRIx64 "\"}}}",
                      svc, svc, next_u64(g));
    }
}

/* Writes g->payload as one envelope line on stdout. */
static void emit(gen_t *g, int topic, int64_t ts)
{
    am_buf_t *l = &g->line;
    am_buf_reset(l);
    int part = (int)next_below(g, g->o.partitions);
    if (g->o.raw) {
        /* The same draws as with an envelope, so both forms hold the same
         * records; the payload is one line of JSON already. */
        g->offsets[topic][part]++;
        (void)ts;
        am_buf_append(l, g->payload.p, g->payload.len);
        am_buf_putc(l, '\n');
        fwrite(l->p, 1, l->len, stdout);
        return;
    }
    am_buf_printf(l,
                  "{\"topic\":\"%s\",\"partition\":%d,\"offset\":%" PRId64
                  ",\"tstype\":\"create\",\"ts\":%" PRId64 ",\"broker\":1,\"key\":null,"
                  "\"payload\":\"",
                  topic ? "deploys" : "alerts", part, g->offsets[topic][part]++, ts);
    for (size_t i = 0; i < g->payload.len; i++) {
        char c = g->payload.p[i];
        if (c == '"' || c == '\\')
            am_buf_putc(l, '\\');
        am_buf_putc(l, c);
    }
    am_buf_puts(l, "\"}\n");
    fwrite(l->p, 1, l->len, stdout);
}

static void remember(gen_t *g, int64_t ts)
{
    if (g->nsent < g->sent_cap) {
        g->sent[g->nsent] = am_xstrndup(g->payload.p, g->payload.len);
        g->sent_ts[g->nsent++] = ts;
        return;
    }
    free(g->sent[g->sent_next]);
    g->sent[g->sent_next] = am_xstrndup(g->payload.p, g->payload.len);
    g->sent_ts[g->sent_next] = ts;
    g->sent_next = (g->sent_next + 1) % g->sent_cap;
}

static gen_alert_t new_alert(gen_t *g)
{
    gen_alert_t a = {
        .name = (int)next_below(g, NNAMES),
        .service = (int)next_below(g, g->o.services),
        .cluster = (int)next_below(g, g->o.clusters),
        .instance = ++g->next_instance,
        .starts_ms = g->now_ms - 30000 - next_below(g, 60000),
        .fmt_generic = next_unit(g) < g->o.generic,
    };
    return a;
}

/* One new (non-repeat) alert record: fire new alerts, or resolve (and
 * perhaps re-fire) open ones. */
static void alert_record(gen_t *g)
{
    am_buf_reset(&g->payload);
    gen_alert_t *group[16];
    size_t n = 1 + (size_t)next_below(g, g->o.group);
    if (g->draining && g->nopen == 0) {
        /* The quiet time between waves: longer than any rule's gap. */
        g->draining = 0;
        g->fired = 0;
        g->now_ms += 2 * 3600 * 1000;
    }
    if (g->draining || g->nopen >= (size_t)g->o.open ||
        (g->nopen > 0 && next_unit(g) < g->o.resolve)) {
        /* Resolve the oldest open alert (the front), alone. */
        gen_alert_t a = g->open[0];
        memmove(g->open, g->open + 1, (g->nopen - 1) * sizeof *g->open);
        g->nopen--;
        int64_t ends = g->now_ms - next_below(g, 5000);
        if (a.fmt_generic) {
            put_generic_alert(g, &a, 1, ends);
        } else {
            group[0] = &a;
            put_am(g, group, 1, 1, ends);
        }
        if (!g->draining && next_unit(g) < g->o.flap) {
            /* It flaps: the same labels fire again later. */
            a.starts_ms = g->now_ms + 1000;
            g->open[g->nopen++] = a;
        }
        return;
    }
    gen_alert_t first = new_alert(g);
    if (first.fmt_generic)
        n = 1;
    size_t k = 0;
    while (k < n && g->nopen < (size_t)g->o.open) {
        gen_alert_t a = first;
        if (k > 0)
            a.instance = ++g->next_instance;
        g->open[g->nopen] = a;
        group[k++] = &g->open[g->nopen++];
    }
    n = k;
    g->fired += (long)n;
    if (g->o.wave > 0 && g->fired >= g->o.wave)
        g->draining = 1;
    if (first.fmt_generic)
        put_generic_alert(g, group[0], 0, 0);
    else
        put_am(g, group, n, 0, 0);
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_share(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end || !(v >= 0.0 && v <= 1.0))
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"events", required_argument, NULL, 'e'},
        {"services", required_argument, NULL, 's'},
        {"clusters", required_argument, NULL, 'c'},
        {"repeat", required_argument, NULL, 'r'},
        {"earlier", required_argument, NULL, 'E'},
        {"flap", required_argument, NULL, 'f'},
        {"deploys", required_argument, NULL, 'd'},
        {"generic", required_argument, NULL, 'g'},
        {"group", required_argument, NULL, 'G'},
        {"open", required_argument, NULL, 'o'},
        {"partitions", required_argument, NULL, 'p'},
        {"seed", required_argument, NULL, 'S'},
        {"resolve", required_argument, NULL, 'R'},
        {"wave", required_argument, NULL, 'W'},
        {"raw", no_argument, NULL, 'X'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    gen_t g = {.o = {.events = 100000,
                     .services = 200,
                     .clusters = 4,
                     .deploys = -1,
                     .group = 2,
                     .open = 2000,
                     .partitions = 1,
                     .wave = 1000,
                     .repeat = 0.6,
                     .earlier = 0.02,
                     .flap = 0.1,
                     .generic = 0.1,
                     .resolve = 0.25,
                     .seed = 1}};
    int c, bad = 0;
    long seed = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'e':
            bad |= parse_long(optarg, 1, 1000000000, &g.o.events);
            break;
        case 's':
            bad |= parse_long(optarg, 1, 1000, &g.o.services);
            break;
        case 'c':
            bad |= parse_long(optarg, 1, 255, &g.o.clusters);
            break;
        case 'd':
            bad |= parse_long(optarg, 0, 1000000000, &g.o.deploys);
            break;
        case 'G':
            bad |= parse_long(optarg, 1, 16, &g.o.group);
            break;
        case 'o':
            bad |= parse_long(optarg, 1, 10000000, &g.o.open);
            break;
        case 'p':
            bad |= parse_long(optarg, 1, 64, &g.o.partitions);
            break;
        case 'S':
            bad |= parse_long(optarg, 0, 1000000000, &seed);
            break;
        case 'r':
            bad |= parse_share(optarg, &g.o.repeat);
            break;
        case 'E':
            bad |= parse_share(optarg, &g.o.earlier);
            break;
        case 'f':
            bad |= parse_share(optarg, &g.o.flap);
            break;
        case 'g':
            bad |= parse_share(optarg, &g.o.generic);
            break;
        case 'R':
            bad |= parse_share(optarg, &g.o.resolve);
            break;
        case 'W':
            bad |= parse_long(optarg, 0, 1000000000, &g.o.wave);
            break;
        case 'X':
            g.o.raw = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            bad = 1;
        }
        if (bad) {
            fprintf(stderr, "am_bench_gen: bad option '%s' (see --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "am_bench_gen: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (g.o.deploys < 0)
        g.o.deploys = g.o.events / 500;
    g.rng = (uint64_t)seed * 0x2545f4914f6cdd1dULL + 1;
    g.now_ms = INT64_C(1718668800000); /* 2024-06-18T00:00:00Z */
    g.open = am_xcalloc((size_t)g.o.open + 1, sizeof *g.open);
    g.sent_cap = 4096;
    g.sent = am_xcalloc(g.sent_cap, sizeof *g.sent);
    g.sent_ts = am_xcalloc(g.sent_cap, sizeof *g.sent_ts);

    long deploys_left = g.o.deploys;
    for (long i = 0; i < g.o.events; i++) {
        g.now_ms += 5 + next_below(&g, 20);
        long left = g.o.events - i;
        if (deploys_left > 0 && next_below(&g, left) < deploys_left) {
            deploys_left--;
            am_buf_reset(&g.payload);
            put_deploy(&g);
            emit(&g, 1, g.now_ms);
        } else if (g.nsent > 0 && next_unit(&g) < g.o.repeat) {
            size_t k = (size_t)next_below(&g, (long)g.nsent);
            int64_t ts = g.now_ms;
            if (next_unit(&g) < g.o.earlier)
                ts = g.sent_ts[k] - 1 - next_below(&g, 2000);
            am_buf_reset(&g.payload);
            am_buf_puts(&g.payload, g.sent[k]);
            emit(&g, 0, ts);
        } else {
            alert_record(&g);
            emit(&g, 0, g.now_ms);
            remember(&g, g.now_ms);
        }
    }
    for (size_t i = 0; i < g.nsent; i++)
        free(g.sent[i]);
    free(g.sent);
    free(g.sent_ts);
    free(g.open);
    am_buf_free(&g.payload);
    am_buf_free(&g.line);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("am_bench_gen: stdout");
        return 1;
    }
    return 0;
}
