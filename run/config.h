/*
 * config.h - aftermath.yaml, the daemon's configuration, with environment
 * and command-line overrides.
 *
 * Precedence, lowest first: built-in defaults, the file, AFTERMATH_*
 * environment variables, command-line flags. Every layer goes through
 * run_config_set(), so a value is validated the same way wherever it comes
 * from. The file is parsed strictly: unknown or repeated keys, numbers out
 * of range and bad durations are refused with file:line:column.
 *
 * run_config_t is a plain struct rather than an opaque handle: it is a
 * read-only record of settings that the run, status and demo commands read
 * field by field, and getters for each would add nothing. It is only
 * changed through the functions below.
 */
#ifndef RUN_CONFIG_H
#define RUN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/event.h"
#include "common/log.h"
#include "ingest/decode.h"

/* Label names per am_label_field_t, as a labels: map gives them: each a
 * NULL-terminated owned list (possibly empty), or NULL where the map does
 * not name the field. */
typedef struct run_config_labels {
    char **names[AM_LABEL_NFIELDS];
} run_config_labels_t;

/* Where `run` serves /metrics and /healthz unless told otherwise: loopback
 * only, on a port that Prometheus' default port allocation list leaves
 * free (docs/metrics.md). */
#define RUN_CONFIG_METRICS_DEFAULT "127.0.0.1:10791"

/* What `run` does (docs/scaling.md): everything in one process, or one
 * stage of the staged topology. */
typedef enum run_role {
    RUN_ROLE_ALL,       /* source topics -> store -> correlator (the default) */
    RUN_ROLE_DECODE,    /* source topics -> keyed topic */
    RUN_ROLE_CORRELATE, /* keyed topic -> one store per partition -> incidents topic */
    RUN_ROLE_VIEW,      /* incidents topic -> store, drafts, metrics */
    RUN_ROLE_RECEIVE,   /* webhooks -> source topics, nothing else (run/receive.h) */
} run_role_t;

/* "all", "decode", "correlate", "view", "receive". */
const char *run_role_name(run_role_t role);

/* The keyed topic's default name. */
#define RUN_CONFIG_KEYED_DEFAULT "aftermath.keyed"

typedef struct run_config_topic {
    char *name;
    char *format;               /* forced format ("generic", "alertmanager", ...); NULL = detect */
    run_config_labels_t labels; /* the fields this topic maps its own way */
    int64_t stale_after_ms;     /* 0: the top-level stale_after; -1: "off" (never stale) */
} run_config_topic_t;

/* One webhook source of the receiver (receive.sources): POST
 * /webhook/<name> becomes a record of topic. */
typedef struct run_config_webhook {
    char *name;          /* the path's last part: [a-z0-9_-], unique */
    char *topic;         /* where its bodies go */
    char *format;        /* what the bodies must decode as ("alertmanager", ...) */
    char *token_file;    /* a file holding the bearer token, or NULL */
    char *username;      /* basic auth user (with password_file), or NULL */
    char *password_file; /* a file holding the basic auth password, or NULL */
    char *secret_file;   /* a file holding the signing secret, or NULL */
    char *signature;     /* how the secret signs: "github" (X-Hub-Signature-256) or
                            "pagerduty" (X-PagerDuty-Signature); NULL without a secret */
} run_config_webhook_t;

/* One librdkafka property, passed through verbatim. */
typedef struct run_config_prop {
    char *name;
    char *value;
} run_config_prop_t;

typedef struct run_config {
    run_config_prop_t *kafka; /* in the order first set */
    size_t nkafka;
    run_config_topic_t *topics;
    size_t ntopics;
    run_role_t role;
    char *group;       /* consumer group (group.id), or NULL for the role's default: read it
                          through run_config_group() */
    char *store;       /* SQLite path; default "aftermath.db"; a directory in role correlate */
    char *keyed_topic; /* the staged topology's internal topic; default "aftermath.keyed" */
    char **rules;      /* rule files, for the correlator */
    size_t nrules;
    char *drafts;              /* draft directory, or NULL */
    char *metrics;             /* metrics listen address (HOST:PORT, [IPV6]:PORT); default
                                  RUN_CONFIG_METRICS_DEFAULT; NULL when "off" */
    char *ui_edit_token_file;  /* role all: the web pages' edit token, or NULL: read-only */
    char *dead_letter_topic;   /* where refused records are copied, or NULL */
    char *incidents_topic;     /* where incident changes are published, or NULL */
    long batch_size;           /* records per transaction; default 1000 */
    int64_t batch_timeout_ms;  /* longest a batch stays open; default 1s */
    int64_t stats_interval_ms; /* lag and rate log lines; default 30s */
    int64_t retention_ms;      /* run prunes what is older (hourly); 0 = off, the default */
    long max_record_bytes;     /* larger records are refused; default 1 MiB */
    /* Input and state limits (defaults: ingest_limits_default, corr_engine's). */
    long max_json_depth;         /* JSON nesting; default 32 */
    long max_alerts_per_payload; /* events in one record; default 10000 */
    long max_labels_per_event;   /* labels (and annotations) per event; default 128 */
    long max_label_bytes;        /* one label name or value; default 16 KiB */
    long max_open_groups;        /* group keys the correlator holds at once; default 10000 */
    int64_t stale_after_ms;      /* an open alert not re-notified for this long ends (inferred);
                                    default 4h30m; 0 = off (corr_options_t.stale_after) */
    run_config_labels_t labels;  /* top-level labels: fields not named keep the default */
    char *view_group;            /* run_config_group()'s default for role view, once made */
    /* The webhook receiver (receive:). */
    char *receive;                  /* listen address, or NULL: no receiver (the default) */
    run_config_webhook_t *webhooks; /* receive.sources; none given: the defaults */
    size_t nwebhooks;
    char *receive_token_file;       /* bearer token of the sources without credentials, or NULL */
    long receive_max_body;          /* largest body accepted; default 1 MiB */
    int64_t receive_ack_timeout_ms; /* longest wait for the broker's ack; default 5s */
} run_config_t;

/* The receiver's sources: receive.sources, or, when none are given, the
 * defaults (alertmanager and grafana -> alerts, pagerduty -> acks,
 * github, cdevents and flux -> deploys, generic -> notes, no credentials).
 * *n receives their count; borrowed. */
const run_config_webhook_t *run_config_webhooks(const run_config_t *cfg, size_t *n);

/* The correlator's staleness options under cfg: opts->stale_after and,
 * for each topic with its own stale_after, an entry of *topics (a new
 * array the caller frees; the names are cfg's) that opts points to. */
struct corr_options;
struct corr_stale_topic;
void run_config_stale(const run_config_t *cfg, struct corr_options *opts,
                      struct corr_stale_topic **topics);

/* The decoder limits cfg sets. */
void run_config_limits(const run_config_t *cfg, ingest_limits_t *limits);

/* A configuration holding the defaults and no topics. Never NULL. */
run_config_t *run_config_create(void);

/* Defaults, then the YAML file at path. Returns NULL with "path:line:col:
 * what" in err when the file cannot be read or is invalid. */
run_config_t *run_config_load(const char *path, char *err, size_t errlen);

/* Accepts NULL. */
void run_config_destroy(run_config_t *cfg);

/* One setting given on the command line: key as run_config_set() takes
 * it, value (NULL: the flag was not given, skipped), origin ("--db"). */
typedef struct run_config_flag {
    const char *key;
    const char *value;
    const char *origin;
} run_config_flag_t;

/* The one way a command builds its configuration, every layer in order,
 * lowest first: the defaults, the file at path (NULL: none), the
 * AFTERMATH_* variables of envp (NULL: none; see run_config_apply_env),
 * then flags[0..nflags). Returns the configuration (owned), or NULL with
 * err naming the file:line:col, the variable or the flag. */
run_config_t *run_config_build(const char *path, char *const *envp, const run_config_flag_t *flags,
                               size_t nflags, char *err, size_t errlen);

/* Sets one setting from text, as the environment and flags give it:
 *   key "kafka.PROP"     a librdkafka property (validated by librdkafka)
 *   key "topics"         comma-separated NAME[:FORMAT] list, replacing the list
 *   key "rules"          comma-separated file list, replacing the list
 *   any other key        the top-level key of the same name in the file
 * origin names where the value came from ("--db", "AFTERMATH_STORE") and
 * starts the error message. A secret's value (ingest_kafka_is_secret)
 * never appears in err.
 * Returns 0, or -1 with err. */
int run_config_set(run_config_t *cfg, const char *key, const char *value, const char *origin,
                   char *err, size_t errlen);

/* Applies the AFTERMATH_* variables of envp (a NULL-terminated
 * "NAME=value" array such as environ):
 *   AFTERMATH_KAFKA_BOOTSTRAP_SERVERS  kafka.bootstrap.servers
 *   AFTERMATH_KAFKA__<PROP>            kafka.<prop>, lower-cased, '_' read as '.'
 *                                      (AFTERMATH_KAFKA__SASL_PASSWORD: sasl.password)
 *   AFTERMATH_<KEY>                    the top-level key <key> (AFTERMATH_GROUP,
 *                                      AFTERMATH_TOPICS, AFTERMATH_BATCH_SIZE, ...)
 * Other AFTERMATH_* variables are not configuration and are ignored.
 * Returns 0, or -1 with err naming the variable. */
int run_config_apply_env(run_config_t *cfg, char *const *envp, char *err, size_t errlen);

/* True when cfg's receiver listens on more than the loopback interface. */
bool run_config_receive_exposed(const run_config_t *cfg);

/* Checks that cfg is complete enough to consume in its role:
 * kafka.bootstrap.servers always; source topics for roles all and decode;
 * incidents_topic for decode, correlate and view. Returns 0, or -1 with
 * err. */
int run_config_check(const run_config_t *cfg, char *err, size_t errlen);

/* The label map of records from topic (NULL: records of no configured
 * topic): each field as the topic's labels name it, else as the top-level
 * labels do, else am_label_map_default's. The lists are borrowed from cfg
 * (and the defaults). */
void run_config_label_map(const run_config_t *cfg, const run_config_topic_t *topic,
                          am_label_map_t *map);

/* A decoder (owned; ingest_decoder_destroy) that reads records as run
 * does under cfg: the top-level label map, each topic's own map for its
 * records, and limits (borrowed, or NULL for the defaults). cfg must
 * outlive it. */
ingest_decoder_t *run_config_decoder(const run_config_t *cfg, const ingest_limits_t *limits);

/* The consumer group: the configured one, else the role's default
 * ("aftermath", "aftermath-decode", "aftermath-correlate",
 * "aftermath-view-<hostname>": every view reads the whole incidents topic,
 * so no two may share a group). Borrowed from cfg. */
const char *run_config_group(const run_config_t *cfg);

/* The topic of cfg named name, or NULL. */
const run_config_topic_t *run_config_topic(const run_config_t *cfg, const char *name);

/* Borrowed value of a librdkafka property, or NULL when not set. */
const char *run_config_kafka_get(const run_config_t *cfg, const char *name);

/* Writes cfg as YAML that run_config_load reads back, secrets as "***". */
void run_config_print(const run_config_t *cfg, FILE *out);

/* Writes the config map, two lines a key: name, type, bounds and
 * default, then its help; `run --help` ends with it. */
void run_config_keys_usage(FILE *out);

/* The i-th key of the config map and its default as text (NULL: none),
 * or NULL past the last key: what the example file must document. */
const char *run_config_key_name(size_t i);
const char *run_config_key_default(size_t i);

/* Logs the effective settings at info level, secrets as "***". */
void run_config_log(const run_config_t *cfg, const am_log_t *log);

#endif
