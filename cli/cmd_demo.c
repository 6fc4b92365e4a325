/*
 * cmd_demo.c - `aftermath demo`: the whole Kafka path with no broker to
 * run.
 *
 * It starts librdkafka's in-process mock cluster, creates the story's
 * topics, produces the story's records into them with their original
 * partition, key, headers and timestamp (RD_KAFKA_V_TIMESTAMP, so that
 * detection times are the story's, not today's), and then consumes them
 * with run_daemon_run(), the very path `aftermath run` takes, stopping once
 * every produced record is committed. The story is compiled in from
 * examples/payments-latency.ndjson (cli/embed.cmake), so the demo works
 * from a fresh clone and after installation; --story plays another kcat
 * -J file instead.
 */
#include "cli/commands.h"
#include "cli/incidents_table.h"
#include "correlate/incident.h"
#include "run/config.h"
#include "run/daemon.h"
#include "common/buf.h"
#include "common/time.h"
#include "ingest/mock.h"
#include "ingest/producer.h"
#include "ingest/replay.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>
#include "run/http.h"

extern const char cli_demo_story[];
extern const size_t cli_demo_story_len;

static const char demo_help[] =
    "usage: aftermath demo [--db PATH] [--story FILE] [--force] [--webhooks]\n"
    "\n"
    "Shows aftermath end to end with nothing else running: starts librdkafka's\n"
    "in-process mock Kafka cluster, produces the bundled story (a payments latency\n"
    "incident caused by a deploy, examples/payments-latency.ndjson) into it with\n"
    "the records' original timestamps, consumes it through the same consumer as\n"
    "'aftermath run' into a fresh SQLite database, and prints what was found.\n"
    "\n"
    "Options:\n"
    "  --db PATH     database to write (default demo.db, replaced if it exists)\n"
    "  --story FILE  play this kcat -J NDJSON file instead of the bundled story\n"
    "                (the mock cluster keeps at most 5 MiB per partition)\n"
    "  --force       replace PATH even when given with --db\n"
    "  --webhooks    deliver the story's acks and notes as webhooks instead: the\n"
    "                daemon's receiver listens on 127.0.0.1 (docs/webhooks.md), the\n"
    "                demo POSTs each to /webhook/generic, and the receiver puts it\n"
    "                on the notes topic, answering 202 once the cluster has it\n"
    "  -h, --help    this help\n"
    "\n"
    "Joining the mock cluster's consumer group takes about 3 s.\n"
    "\n"
    "Exit codes: 0 done; 1 the mock cluster, the database or the consumer failed;\n"
    "2 usage error (or --db names an existing file without --force).\n"
    "\n"
    "Then:\n"
    "  aftermath status --db demo.db\n"
    "  sqlite3 demo.db 'SELECT kind, status, name, service FROM events'\n";

/* The story's topics and how many partitions each needs. */
typedef struct story {
    char **topic;
    int *partitions;
    size_t ntopics;
    size_t records;
    ingest_producer_t *producer;
    char err[1024];
    bool webhooks;   /* acks and notes go through the receiver */
    am_buf_t *posts; /* their payloads, kept for posting */
    size_t nposts;
} story_t;

static int scan_record(void *arg, const am_record_t *rec)
{
    story_t *s = arg;
    if (!rec->topic) {
        am_errf(s->err, sizeof s->err, "%s:%ld: not a Kafka record (kcat -J envelope)", rec->file,
                rec->line);
        return -1;
    }
    s->records++;
    int need = rec->partition >= 0 ? rec->partition + 1 : 1;
    for (size_t i = 0; i < s->ntopics; i++)
        if (strcmp(s->topic[i], rec->topic) == 0) {
            if (s->partitions[i] < need)
                s->partitions[i] = need;
            return 0;
        }
    s->topic = am_xrealloc(s->topic, (s->ntopics + 1) * sizeof *s->topic);
    s->partitions = am_xrealloc(s->partitions, (s->ntopics + 1) * sizeof *s->partitions);
    s->topic[s->ntopics] = am_xstrdup(rec->topic);
    s->partitions[s->ntopics++] = need;
    return 0;
}

static int produce_record(void *arg, const am_record_t *rec)
{
    story_t *s = arg;
    char why[1024];
    if (s->webhooks && rec->payload &&
        (strcmp(rec->topic, "acks") == 0 || strcmp(rec->topic, "notes") == 0)) {
        s->posts = am_xrealloc(s->posts, (s->nposts + 1) * sizeof *s->posts);
        s->posts[s->nposts] = (am_buf_t){0};
        am_buf_append(&s->posts[s->nposts++], rec->payload, rec->len);
        return 0;
    }
    if (ingest_producer_send(s->producer, rec, NULL, 1, NULL, 0, why, sizeof why) != 0) {
        am_errf(s->err, sizeof s->err, "%s:%ld: %s", rec->file, rec->line, why);
        return -1;
    }
    return 0;
}

static int read_story(const char *path, ingest_record_fn fn, story_t *s, char *err, size_t errlen)
{
    int rc = path ? ingest_replay_file(path, fn, s, err, errlen)
                  : ingest_replay_buffer("payments-latency.ndjson", cli_demo_story,
                                         cli_demo_story_len, fn, s);
    if (rc != 0 && s->err[0])
        am_errf(err, errlen, "%s", s->err);
    return rc;
}

/* --- --webhooks: a minimal HTTP client for the receiver ------------------- */

typedef struct poster {
    const story_t *s;
    char host[RUN_HTTP_HOSTLEN];
    int port;
    int accepted;
    char err[256];
} poster_t;

/* POSTs body to http://host:port/webhook/generic; returns the status, or
 * -1 with p->err. */
static int post_one(poster_t *p, const am_buf_t *body)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", p->port);
    if (getaddrinfo(p->host, port, &hints, &ai) != 0) {
        snprintf(p->err, sizeof p->err, "cannot resolve the receiver's address");
        return -1;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        snprintf(p->err, sizeof p->err, "cannot connect to the receiver: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    am_buf_t req = {0};
    am_buf_printf(&req,
                  "POST /webhook/generic HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: "
                  "application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                  p->host, p->port, body->len);
    am_buf_append(&req, body->p, body->len);
    size_t off = 0;
    while (off < req.len) {
        ssize_t n = write(fd, req.p + off, req.len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    am_buf_free(&req);
    char head[64] = "";
    size_t got = 0;
    ssize_t n;
    while (got < sizeof head - 1 && (n = read(fd, head + got, sizeof head - 1 - got)) > 0)
        got += (size_t)n;
    head[got] = '\0';
    close(fd);
    int status = 0;
    if (sscanf(head, "HTTP/1.%*d %d", &status) != 1) {
        snprintf(p->err, sizeof p->err, "no HTTP answer from the receiver");
        return -1;
    }
    return status;
}

static void *post_all(void *arg)
{
    poster_t *p = arg;
    for (size_t i = 0; i < p->s->nposts; i++) {
        int status = post_one(p, &p->s->posts[i]);
        if (status != 202) {
            if (status > 0)
                snprintf(p->err, sizeof p->err, "the receiver answered %d", status);
            return NULL;
        }
        p->accepted++;
    }
    return NULL;
}

/* What the demo found: the counts, then the incidents from the store. */
static void cli_demo_print_results(store_t *st, const story_t *s, const run_daemon_result_t *res,
                                   double secs)
{
    const run_stats_t *p = &res->pipeline;
    printf("aftermath demo: %zu records produced to librdkafka's mock cluster (", s->records);
    for (size_t i = 0; i < s->ntopics; i++)
        printf("%s%s", i ? ", " : "topics ", s->topic[i]);
    printf(") and consumed into %s in %.1fs\n", store_path(st), secs);
    printf("  stored      %" PRId64 " events (alert %" PRIu64 ", deploy %" PRIu64 ", ack %" PRIu64
           ", note %" PRIu64 ")\n",
           store_count(st, "events"), p->by_kind[AM_KIND_ALERT], p->by_kind[AM_KIND_DEPLOY],
           p->by_kind[AM_KIND_ACK], p->by_kind[AM_KIND_NOTE]);
    printf("  duplicates  %" PRIu64 " (re-sent notifications; stored once)\n", p->duplicates);
    printf("  rejected    %" PRId64 "%s\n", store_count(st, "rejected"),
           store_count(st, "rejected") > 0 ? " (place and reason in the log above and in the "
                                             "rejected table)"
                                           : "");
    printf("  offsets     %" PRId64 " partitions stored with the events\n",
           store_count(st, "offsets"));
    char err[1024];
    json_t *incidents = corr_incidents_json(st, err, sizeof err);
    printf("\n");
    if (incidents)
        cli_print_incidents(stdout, incidents, st);
    else
        fprintf(stderr, "aftermath demo: %s\n", err);
    const char *first = json_string_value(json_object_get(json_array_get(incidents, 0), "id"));
    printf("\nNext: aftermath incidents --db %s --format json\n", store_path(st));
    if (first)
        printf("      aftermath report %s --db %s --format md   (the postmortem draft)\n", first,
               store_path(st));
    printf("      aftermath status --db %s\n", store_path(st));
    json_decref(incidents);
}

/* Removes path and its WAL files. */
static int remove_db(const char *path, char *err, size_t errlen)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < 4; i++) {
        char name[4096];
        snprintf(name, sizeof name, "%s%s", path, suffix[i]);
        if (unlink(name) != 0 && errno != ENOENT) {
            am_errf(err, errlen, "%s: %s", name, strerror(errno));
            return -1;
        }
    }
    return 0;
}

static int demo_run(const cli_global_t *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"story", required_argument, NULL, 's'},
        {"force", no_argument, NULL, 'f'},
        {"webhooks", no_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    const char *db = "demo.db", *story_path = NULL;
    int db_given = 0, force = 0, webhooks = 0, c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            db_given = 1;
            break;
        case 's':
            story_path = optarg;
            break;
        case 'f':
            force = 1;
            break;
        case 'w':
            webhooks = 1;
            break;
        default:
            return cli_usage_error("demo", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("demo", "unexpected argument '%s'", argv[optind]);
    if (db_given && !force && access(db, F_OK) == 0)
        return cli_usage_error("demo",
                               "%s exists: the demo writes a fresh database (use --force "
                               "to replace it)",
                               db);

    int rc = CLI_EXIT_FAILURE;
    char err[1024];
    story_t s = {0};
    ingest_mock_t *mock = NULL;
    run_config_t *cfg = NULL;
    run_daemon_t *daemon = NULL;
    store_t *st = NULL; /* the daemon's */
    am_buf_t topics = {0};
    double t0 = am_monotonic_s();

    s.webhooks = webhooks;
    if (read_story(story_path, scan_record, &s, err, sizeof err) != 0)
        goto fail;
    if (s.records == 0) {
        am_errf(err, sizeof err, "the story has no records");
        goto fail;
    }
    mock = ingest_mock_create(1, &g->log, err, sizeof err);
    if (!mock)
        goto fail;
    for (size_t i = 0; i < s.ntopics; i++) {
        if (ingest_mock_topic(mock, s.topic[i], s.partitions[i], err, sizeof err) != 0)
            goto fail;
        am_buf_printf(&topics, "%s%s", i ? "," : "", s.topic[i]);
    }
    const ingest_kafka_prop_t props[] = {{"bootstrap.servers", ingest_mock_bootstraps(mock)}};
    s.producer = ingest_producer_create(props, 1, &g->log, err, sizeof err);
    if (!s.producer)
        goto fail;
    s.err[0] = '\0';
    if (read_story(story_path, produce_record, &s, err, sizeof err) != 0 ||
        ingest_producer_flush(s.producer, 30000, err, sizeof err) != 0)
        goto fail;
    ingest_producer_destroy(s.producer);
    s.producer = NULL;

    /* The consumer's configuration, as `run` would get it from a file;
     * the limits are the config map's defaults, as for `run`. */
    const run_config_flag_t flags[] = {
        {"kafka.bootstrap.servers", ingest_mock_bootstraps(mock), "demo"},
        {"kafka.fetch.wait.max.ms", "10", "demo"},
        {"topics", topics.p, "demo"},
        {"group", "aftermath-demo", "demo"},
        {"store", db, "demo"},
        {"batch_timeout", "100ms", "demo"},
        {"metrics", "off", "demo"},
        {"receive", webhooks ? "127.0.0.1:0" : NULL, "demo"},
    };
    cfg = run_config_build(NULL, NULL, flags, sizeof flags / sizeof flags[0], err, sizeof err);
    if (!cfg || run_config_check(cfg, err, sizeof err) != 0)
        goto fail;

    if (webhooks) {
        bool notes = false;
        for (size_t i = 0; i < s.ntopics; i++)
            notes |= strcmp(s.topic[i], "notes") == 0;
        if (!notes) {
            am_errf(err, sizeof err, "--webhooks: the story has no notes topic for the receiver");
            goto fail;
        }
    }
    if (remove_db(db, err, sizeof err) != 0)
        goto fail;
    run_daemon_opts_t o = {.max_records = s.records, .deadline_ms = 60000};
    run_daemon_error_t why;
    daemon = run_daemon_create(cfg, &o, &g->log, &why, err, sizeof err);
    if (!daemon)
        goto fail;
    poster_t poster = {.s = &s};
    pthread_t poster_thread;
    bool posting = false;
    if (webhooks) {
        /* The receiver listens already; the daemon consumes what it puts
         * on the notes topic with the rest. */
        char bad[256];
        if (run_http_parse_addr(run_daemon_receive_address(daemon), poster.host, &poster.port, bad,
                                sizeof bad) != 0 ||
            pthread_create(&poster_thread, NULL, post_all, &poster) != 0) {
            am_errf(err, sizeof err, "--webhooks: cannot post to the receiver");
            goto fail;
        }
        posting = true;
    }
    run_daemon_result_t res = {0};
    int drc = run_daemon_run(daemon, &res, err, sizeof err);
    if (posting)
        pthread_join(poster_thread, NULL);
    if (drc != 0)
        goto fail;
    if (webhooks) {
        if ((size_t)poster.accepted != s.nposts) {
            am_errf(err, sizeof err, "--webhooks: %s", poster.err);
            goto fail;
        }
        printf("aftermath demo: %zu records (acks and notes) POSTed to the webhook receiver at "
               "%s, each answered 202 once the cluster had it\n",
               s.nposts, run_daemon_receive_address(daemon));
    }
    st = run_daemon_store(daemon);
    cli_demo_print_results(st, &s, &res, am_monotonic_s() - t0);
    rc = CLI_EXIT_OK;
    goto done;

fail:
    fprintf(stderr, "aftermath demo: %s\n", err);
done:
    run_daemon_destroy(daemon);
    run_config_destroy(cfg);
    ingest_producer_destroy(s.producer);
    ingest_mock_destroy(mock);
    for (size_t i = 0; i < s.ntopics; i++)
        free(s.topic[i]);
    free(s.topic);
    free(s.partitions);
    for (size_t i = 0; i < s.nposts; i++)
        am_buf_free(&s.posts[i]);
    free(s.posts);
    am_buf_free(&topics);
    return rc;
}

const cli_command_t cli_cmd_demo = {
    .name = "demo",
    .summary = "the whole Kafka path on a bundled story, no broker needed",
    .help = demo_help,
    .run = demo_run,
};
