/*
 * cmd_run.c - `aftermath run`: the Kafka consumer daemon.
 *
 * Builds the configuration (file, then AFTERMATH_* variables, then flags:
 * run_config_build) and runs the daemon (run/daemon.h), the path
 * `aftermath demo` takes as well.
 */
#include "cli/commands.h"
#include "run/config.h"
#include "run/daemon.h"
#include "common/buf.h"
#include "common/time.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static const char run_help[] =
    "usage: aftermath run [--config FILE] [OPTIONS]\n"
    "\n"
    "Consumes alert and deploy events from Kafka topics into the store, as a\n"
    "member of a consumer group, until stopped, and correlates them into\n"
    "incidents under the config's rules (default: the built-in\n"
    "rules/default.yaml; see rules/README.md). The incidents a batch changed are\n"
    "published to incidents_topic, if set, as {\"schema_version\": 1, \"incident\":\n"
    "{...}} keyed by incident id, once the batch has committed; changes not yet\n"
    "delivered (a crash, replay, recorrelate) wait in the store's outbox and go\n"
    "out when run starts, so delivery is at least once.\n"
    "\n"
    "Roles (--role, role:, AFTERMATH_ROLE; docs/scaling.md): 'all' (the default)\n"
    "does everything in this process. Past one process, run the stages apart:\n"
    "  decode     source topics -> keyed_topic (default aftermath.keyed): each\n"
    "             alert to the partition of its rule and group key, deploys, acks\n"
    "             and notes to every partition, deploys also to incidents_topic;\n"
    "             the store keeps refused records; group aftermath-decode\n"
    "  correlate  keyed_topic -> one store per partition it is given, in the\n"
    "             directory --db names (keyed-<N>.db), -> incidents_topic; a\n"
    "             partition new to it is rebuilt from the topic's beginning, and\n"
    "             publishes once caught up; group aftermath-correlate\n"
    "  view       incidents_topic -> the store, so that incidents, show, report,\n"
    "             metrics and drafts see the whole organisation; group\n"
    "             aftermath-view-<hostname> (every view reads the whole topic)\n"
    "  receive    webhooks -> their topics, nothing else (the receiver alone, for\n"
    "             the staged topology or a team that only wants the bridge)\n"
    "The keyed topic's partition count is the most correlators that can share\n"
    "the work, and must not change once used. The three stages need\n"
    "incidents_topic. The result equals one 'all' instance's, incident ids\n"
    "included.\n"
    "\n"
    "Options (each overrides the config file and the environment):\n"
    "  -c, --config FILE          aftermath.yaml (see aftermath.example.yaml); without\n"
    "                             it, flags and AFTERMATH_* variables are the whole config.\n"
    "                             Its labels: say which labels give each event's service,\n"
    "                             environment, cluster, severity, version and actor, for\n"
    "                             all topics and per topic (docs/formats.md); 'aftermath\n"
    "                             replay --config' decodes the same way\n"
    "  --brokers LIST             kafka.bootstrap.servers (host:port,...)\n"
    "  --topic NAME[:FORMAT]      a topic to consume, optionally forcing its format\n"
    "                             (see 'aftermath replay --help' for the names);\n"
    "                             repeat for more topics\n"
    "  --role ROLE                all, decode, correlate, view or receive (default all)\n"
    "  --group ID                 consumer group (default: per role, see Roles)\n"
    "  --db PATH                  SQLite database (default aftermath.db); for role\n"
    "                             correlate a directory of them\n"
    "  --exit-when-idle DURATION  stop once every assigned partition has been at its\n"
    "                             end for DURATION (5s, 500ms; a plain number is\n"
    "                             seconds): a one-shot catch-up, and what tests use\n"
    "  --max-records N            stop once N records are committed\n"
    "  --no-links                 drafts (setting drafts) without any URL, for\n"
    "                             drafts leaving the company\n"
    "  --metrics-addr HOST:PORT   serve /metrics (Prometheus) and /healthz there;\n"
    "                             default 127.0.0.1:10791, 0.0.0.0:10791 or\n"
    "                             [::]:10791 in a container, port 0 any free port\n"
    "                             (logged), 'off' none (docs/metrics.md)\n"
    "  --receive HOST:PORT        also receive webhooks there: POST /webhook/<name>\n"
    "                             becomes a Kafka record of the source's topic, answered\n"
    "                             202 once the broker has it, 503 otherwise\n"
    "                             (docs/webhooks.md; sources and credentials: receive: in\n"
    "                             the config; beyond 127.0.0.1 every source needs them)\n"
    "  --print-config             print the effective configuration (secrets masked)\n"
    "                             and exit\n"
    "  -h, --help                 this help\n"
    "\n"
    "Delivery: records are written in batches, one SQLite transaction each, that\n"
    "also hold the next offset of every partition in the batch. On assignment a\n"
    "partition resumes from its stored offset (none stored: auto.offset.reset,\n"
    "default earliest), so a crash at any point loses and repeats nothing. The\n"
    "group's offsets in Kafka are committed after the store, for lag tools only.\n"
    "Undecodable, oversized and null records go to the rejected table (and the\n"
    "dead_letter_topic, if set) and never block a partition. If the store fails\n"
    "(database locked past the 5 s busy timeout, I/O error) the batch is rolled\n"
    "back and written again after 0.5, 1, 2, 4 and 8 s; then aftermath exits 1\n"
    "without moving any offset. A full store (disk full, quota, file-size limit)\n"
    "pauses instead: no record is taken and no offset moves, the batch is written\n"
    "again every 0.5 s growing to every 10 s until space returns, and the pause is\n"
    "logged (level error) at once and then once a minute.\n"
    "A database that is not one or is damaged (PRAGMA quick_check) is refused at\n"
    "start, naming the file; the database, its -wal and -shm are created 0600.\n"
    "A broker that is down (at start or later) is retried; consumption resumes\n"
    "when it is back. Wrong SASL credentials or a broker certificate that\n"
    "ssl.ca.location does not vouch for end the run at start (exit 1, \"Kafka\n"
    "authentication failed: ...\"); later such errors are logged and retried.\n"
    "Lag per partition and events/s are logged every stats_interval at\n"
    "--log-level info. Input and state limits (max_record_bytes, max_json_depth,\n"
    "max_alerts_per_payload, max_labels_per_event, max_label_bytes,\n"
    "max_open_groups): aftermath.example.yaml and docs/reliability.md.\n"
    "\n"
    "Metrics: GET /metrics gives records consumed per topic, events stored and\n"
    "duplicate, rejected records per reason, lag per partition, batch commit\n"
    "latency, open incidents and the incident duration histograms; GET /healthz\n"
    "gives the consumer's state as JSON, 200 while it is \"consuming\" (joined\n"
    "the group, a broker connection up, the last store write succeeded), 503\n"
    "otherwise. The endpoint listens from the start; if it cannot (address in\n"
    "use), aftermath exits 2.\n"
    "\n"
    "Environment (between the config file and the flags; see aftermath.example.yaml):\n"
    "  AFTERMATH_KAFKA_BOOTSTRAP_SERVERS   kafka.bootstrap.servers\n"
    "  AFTERMATH_KAFKA__<PROPERTY>         any librdkafka property, '.' written as '_'\n"
    "                                      (AFTERMATH_KAFKA__SASL_PASSWORD)\n"
    "  AFTERMATH_<KEY>                     a top-level key (AFTERMATH_GROUP, AFTERMATH_STORE,\n"
    "                                      AFTERMATH_METRICS=0.0.0.0:10791,\n"
    "                                      AFTERMATH_TOPICS=alerts:alertmanager,deploys, ...;\n"
    "                                      not labels, which only the file sets)\n"
    "Secrets (names holding password or secret, JAAS, PEM keys) are never logged.\n"
    "\n"
    "Signals: SIGINT or SIGTERM commits the open batch, leaves the group and exits\n"
    "0; a second SIGINT ends the process at once (nothing is lost). During a\n"
    "storage-full pause the batch cannot commit: it exits 1, moving no offset.\n"
    "\n"
    "Exit codes: 0 stopped (signal, --exit-when-idle, --max-records); 1 runtime\n"
    "failure (the store kept failing, a fatal Kafka error, the database cannot be\n"
    "opened); 2 usage or configuration error (including a metrics address that\n"
    "cannot be listened on).\n"
    "\n"
    "Example:\n"
    "  aftermath --log-level info run --config aftermath.yaml\n"
    "  aftermath run --brokers localhost:9092 --topic alerts:alertmanager --topic deploys\n"
    "\n"
    "Configuration keys (aftermath.yaml; AFTERMATH_<KEY> in the environment):\n";

/* Parses "5s", "500ms" or a plain number of seconds into ms (1 ms .. 1 d). */
static int parse_wait(const char *s, int *ms)
{
    char *end;
    errno = 0;
    long secs = strtol(s, &end, 10);
    int64_t v;
    if (!errno && end != s && *end == '\0') {
        v = (int64_t)secs * 1000;
    } else {
        char why[256];
        if (am_duration_parse(s, strlen(s), &v, why, sizeof why) != 0)
            return -1;
    }
    if (v < 1 || v > 86400 * 1000)
        return -1;
    *ms = (int)v;
    return 0;
}

static int run_run(const cli_global_t *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"brokers", required_argument, NULL, 'B'},
        {"topic", required_argument, NULL, 't'},
        {"group", required_argument, NULL, 'g'},
        {"db", required_argument, NULL, 'd'},
        {"exit-when-idle", required_argument, NULL, 'I'},
        {"max-records", required_argument, NULL, 'M'},
        {"print-config", no_argument, NULL, 'P'},
        {"metrics-addr", required_argument, NULL, 'm'},
        {"role", required_argument, NULL, 'R'},
        {"receive", required_argument, NULL, 'W'},
        {"no-links", no_argument, NULL, 'L'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *brokers = NULL, *group = NULL, *db = NULL, *maddr = NULL,
               *role = NULL, *receive = NULL;
    am_buf_t topics = {0};
    run_daemon_opts_t o = {0};
    int print = 0, c, rc = CLI_EXIT_USAGE;
    char err[1024];
    run_config_t *cfg = NULL;
    run_daemon_t *daemon = NULL;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+c:", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'L':
            o.drafts_no_links = true;
            break;
        case 'B':
            brokers = optarg;
            break;
        case 't':
            if (topics.len)
                am_buf_putc(&topics, ',');
            am_buf_puts(&topics, optarg);
            break;
        case 'g':
            group = optarg;
            break;
        case 'd':
            db = optarg;
            break;
        case 'I':
            if (parse_wait(optarg, &o.idle_exit_ms) != 0) {
                rc = cli_usage_error("run",
                                     "--exit-when-idle: '%s' is not a duration from 1ms "
                                     "to 1d (5s, 500ms, or seconds)",
                                     optarg);
                goto done;
            }
            break;
        case 'M': {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || n == 0 || optarg[0] == '-') {
                rc = cli_usage_error("run", "--max-records: '%s' is not a positive number", optarg);
                goto done;
            }
            o.max_records = n;
            break;
        }
        case 'P':
            print = 1;
            break;
        case 'm':
            maddr = optarg;
            break;
        case 'R':
            role = optarg;
            break;
        case 'W':
            receive = optarg;
            break;
        default:
            rc = cli_usage_error("run", "unknown or incomplete option '%s'", argv[optind - 1]);
            goto done;
        }
    }
    if (optind < argc) {
        rc = cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
        goto done;
    }

    const run_config_flag_t flags[] = {
        {"kafka.bootstrap.servers", brokers, "--brokers"},
        {"topics", topics.len ? topics.p : NULL, "--topic"},
        {"group", group, "--group"},
        {"store", db, "--db"},
        {"metrics", maddr, "--metrics-addr"},
        {"role", role, "--role"},
        {"receive", receive, "--receive"},
    };
    cfg = run_config_build(config, environ, flags, sizeof flags / sizeof flags[0], err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "aftermath run: %s\n", err);
        goto done;
    }
    if (print) {
        run_config_print(cfg, stdout);
        rc = CLI_EXIT_OK;
        goto done;
    }
    if (run_config_check(cfg, err, sizeof err) != 0) {
        rc = cli_usage_error("run", "%s", err);
        goto done;
    }
    run_config_log(cfg, &g->log);
    run_daemon_error_t why;
    daemon = run_daemon_create(cfg, &o, &g->log, &why, err, sizeof err);
    if (!daemon) {
        fprintf(stderr, "aftermath run: %s\n", err);
        rc = why == RUN_DAEMON_ECONFIG ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
        goto done;
    }
    rc = CLI_EXIT_FAILURE;
    run_daemon_result_t res = {0};
    if (run_daemon_run(daemon, &res, err, sizeof err) != 0) {
        am_log(&g->log, AM_LOG_ERROR, "consumer stopped on a failure", "error", err, NULL);
        fprintf(stderr, "aftermath run: %s\n", err);
        goto done;
    }
    char n1[32], n2[32], n3[32], n4[32];
    snprintf(n1, sizeof n1, "%" PRIu64, res.kafka.records);
    snprintf(n2, sizeof n2, "%" PRIu64, res.pipeline.stored);
    snprintf(n3, sizeof n3, "%" PRIu64, res.pipeline.rejected);
    snprintf(n4, sizeof n4, "%" PRIu64, res.kafka.batches);
    am_log(&g->log, AM_LOG_INFO, "consumer stopped", "records", n1, "stored", n2, "rejected", n3,
           "batches", n4, NULL);
    rc = CLI_EXIT_OK;
done:
    run_daemon_destroy(daemon);
    run_config_destroy(cfg);
    am_buf_free(&topics);
    return rc;
}

const cli_command_t cli_cmd_run = {
    .name = "run",
    .summary = "consume events from Kafka into the store (the daemon)",
    .help = run_help,
    .help_more = run_config_keys_usage,
    .run = run_run,
};
