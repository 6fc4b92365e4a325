/*
 * config.c - loading aftermath.yaml strictly, and the environment and flag
 * overrides on top of it.
 *
 * Design: a table of top-level keys (name, type, field, range), in the
 * manner of Fluent Bit's config maps, drives the file, the environment
 * and the flags alike: each value ends up in set_key() as text, so a
 * number is range-checked and a duration parsed by am_duration_parse()
 * whichever layer gave it. The file is read with libyaml's document API
 * so that every node carries its line and column for error messages.
 *
 * The kafka: map is handed to librdkafka verbatim, but each property is
 * tried on a scratch rd_kafka_conf_t as it is set, so a misspelt property
 * or a bad value is a configuration error (exit 2) naming the file line,
 * not a runtime failure later. Properties that would let librdkafka move
 * offsets behind the store's back are refused. Secrets are never copied
 * into messages: librdkafka's own message may quote the value, so for a
 * secret only the property name is reported.
 *
 * labels: (top level, and per topic) only names the fields it changes; a
 * field's list is resolved when a decoder is made, topic over top level
 * over am_label_map_default, so the lists stay owned here and the decoder
 * borrows them.
 */
#include "run/config.h"
#include "correlate/engine.h"
#include "run/http.h"
#include "common/buf.h"
#include "common/time.h"
#include "common/yaml_limits.h"
#include "ingest/decode.h"
#include "ingest/kafka.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

typedef enum key_type {
    KEY_VERSION,
    KEY_STRING,
    KEY_TOPIC,  /* a string that must be a valid topic name */
    KEY_LISTEN, /* HOST:PORT or [IPV6]:PORT to listen on; "off" (or null) for none */
    KEY_INT,
    KEY_DURATION,
    KEY_DURATION_OFF, /* a duration, or "off" (or null) for 0 */
    KEY_KAFKA,
    KEY_TOPICS,
    KEY_LIST,
    KEY_LABELS,
    KEY_ROLE,
    KEY_RECEIVE,  /* the listen address as text; a map of receive_keys in the file */
    KEY_WEBHOOKS, /* receive.sources: a list of maps, file only */
} key_type_t;

typedef struct key_def {
    const char *name;
    key_type_t type;
    size_t off;
    int64_t min, max; /* KEY_INT: the value; durations: milliseconds */
    const char *def;  /* the default, as text set_key() reads; NULL: none (unset, empty) */
    const char *help; /* one line for --help and run_config_keys_usage() */
} key_def_t;

/* The config map: every top-level key of aftermath.yaml, in the order
 * --print-config writes them. Defaults are text and go through set_key()
 * like any other layer, so a default is checked against its own bounds.
 * The limits' defaults are ingest_limits_default's (test_config checks
 * that they agree). */
#define F(field) offsetof(run_config_t, field)
#define H(text) text
static const key_def_t keys[] = {
    {"version", KEY_VERSION, 0, 1, 1, "1", H("the file format; only 1 is known")},
    {"kafka", KEY_KAFKA, 0, 0, 0, NULL,
     H("librdkafka properties, passed through (bootstrap.servers, SASL/TLS, ...)")},
    {"topics", KEY_TOPICS, 0, 0, 0, NULL,
     H("source topics: NAME[:FORMAT], or maps of name, format and labels")},
    {"role", KEY_ROLE, 0, 0, 0, "all", H("all, decode, correlate or view (docs/scaling.md)")},
    {"group", KEY_STRING, F(group), 0, 0, NULL,
     H("consumer group; default per role: aftermath, aftermath-decode, ...")},
    {"store", KEY_STRING, F(store), 0, 0, "aftermath.db",
     H("SQLite database; for role correlate a directory of them")},
    {"drafts", KEY_STRING, F(drafts), 0, 0, NULL,
     H("directory for the drafts of resolved incidents; none when unset")},
    {"metrics", KEY_LISTEN, F(metrics), 0, 0, RUN_CONFIG_METRICS_DEFAULT,
     H("HOST:PORT of /metrics, /healthz and (roles all, view) the web pages under /ui/; off for "
       "none")},
    {"ui_edit_token_file", KEY_STRING, F(ui_edit_token_file), 0, 0, NULL,
     H("role all: corrections from the web pages, signed in with this file's token (docs/"
       "pages.md); read-only when unset")},
    {"receive", KEY_RECEIVE, F(receive), 0, 0, NULL,
     H("the webhook receiver: HOST:PORT, or a map of the receive.* keys; off by default")},
    {"dead_letter_topic", KEY_TOPIC, F(dead_letter_topic), 0, 0, NULL,
     H("refused records are copied there, with the reason in a header")},
    {"incidents_topic", KEY_TOPIC, F(incidents_topic), 0, 0, NULL,
     H("incident changes are published there (a compacted topic)")},
    {"keyed_topic", KEY_TOPIC, F(keyed_topic), 0, 0, RUN_CONFIG_KEYED_DEFAULT,
     H("the staged topology's internal topic, decode to correlate")},
    {"rules", KEY_LIST, 0, 0, 0, NULL, H("rule files; the built-in rules/default.yaml when none")},
    {"batch_size", KEY_INT, F(batch_size), 1, 1000000, "10000", H("records per transaction")},
    {"batch_timeout", KEY_DURATION, F(batch_timeout_ms), 1, 3600 * 1000, "1s",
     H("longest a batch stays open")},
    {"stats_interval", KEY_DURATION, F(stats_interval_ms), 1000, 86400 * 1000, "30s",
     H("how often lag and rates are logged (level info)")},
    {"retention", KEY_DURATION_OFF, F(retention_ms), 86400 * 1000, INT64_C(100) * 366 * 86400000,
     "off", H("prune what is older, hourly (docs/reliability.md); off keeps everything")},
    {"stale_after", KEY_DURATION_OFF, F(stale_after_ms), 60 * 1000, INT64_C(366) * 86400000,
     "4h30m",
     H("a firing alert not re-notified this long ends at its last delivery, inferred (per topic "
       "too; docs/formats.md)")},
    {"max_record_bytes", KEY_INT, F(max_record_bytes), 1024, 64 * 1024 * 1024, "1048576",
     H("larger records are refused")},
    {"max_json_depth", KEY_INT, F(max_json_depth), 2, 1000, "32", H("deeper JSON is refused")},
    {"max_alerts_per_payload", KEY_INT, F(max_alerts_per_payload), 1, 1000000, "10000",
     H("a record decoding to more events is refused")},
    {"max_labels_per_event", KEY_INT, F(max_labels_per_event), 1, 100000, "128",
     H("labels (and annotations) per event")},
    {"max_label_bytes", KEY_INT, F(max_label_bytes), 16, 1024 * 1024, "16384",
     H("one label name or value")},
    {"max_open_groups", KEY_INT, F(max_open_groups), 1, 10000000, "10000",
     H("group keys the correlator holds in memory; the oldest idle is flushed")},
    {"labels", KEY_LABELS, 0, 0, 0, NULL,
     H("which labels give service, environment, cluster, severity, version, actor")},
};

/* The keys of the receive: map (the webhook receiver, run/receive.h). */
static const key_def_t receive_keys[] = {
    {"listen", KEY_LISTEN, F(receive), 0, 0, NULL,
     H("HOST:PORT to listen on, 127.0.0.1 unless told; off for none")},
    {"sources", KEY_WEBHOOKS, 0, 0, 0, NULL,
     H("POST /webhook/<name> sources: name, topic, format, token_file, username and "
       "password_file, secret_file, signature; default alertmanager, grafana, pagerduty, "
       "github, cdevents, flux, generic")},
    {"token_file", KEY_STRING, F(receive_token_file), 0, 0, NULL,
     H("a bearer token for every source without credentials of its own")},
    {"max_body_bytes", KEY_INT, F(receive_max_body), 1024, 64 * 1024 * 1024, "1048576",
     H("a larger body is refused (413)")},
    {"ack_timeout", KEY_DURATION, F(receive_ack_timeout_ms), 100, 60 * 1000, "5s",
     H("longest wait for the broker's acknowledgement; then 503 and Retry-After")},
};
#define NRECEIVE_KEYS (sizeof receive_keys / sizeof receive_keys[0])
#undef H
#undef F
#define NKEYS (sizeof keys / sizeof keys[0])

/* librdkafka properties aftermath owns: the store is the source of truth
 * for offsets, and end-of-partition events drive --exit-when-idle. */
static const struct {
    const char *name, *why;
} owned_props[] = {
    {"group.id", "set 'group' instead"},
    {"enable.auto.commit", "aftermath commits offsets itself, after the store"},
    {"auto.commit.enable", "aftermath commits offsets itself, after the store"},
    {"enable.auto.offset.store", "aftermath stores offsets itself, with the events"},
    {"enable.partition.eof", "aftermath sets it"},
};

static const char *const label_fields = "service, environment, cluster, severity, version, actor";

/* "version, kafka, ..." into b: the known keys, for messages. */
static void key_names(am_buf_t *b)
{
    for (size_t i = 0; i < NKEYS; i++) {
        if (i)
            am_buf_puts(b, ", ");
        am_buf_puts(b, keys[i].name);
    }
}

static const key_def_t *find_receive_key(const char *name)
{
    for (size_t i = 0; i < NRECEIVE_KEYS; i++)
        if (strcmp(receive_keys[i].name, name) == 0)
            return &receive_keys[i];
    return NULL;
}

static const key_def_t *find_key(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

static int set_key(run_config_t *cfg, const key_def_t *k, const char *value, const char *origin,
                   char *err, size_t errlen);

/* The defaults of the config map. A default that set_key() refuses is a
 * bug in the table, caught by every test that makes a configuration. */
static void set_defaults(run_config_t *cfg)
{
    char err[256];
    for (size_t i = 0; i < NKEYS; i++) {
        if (!keys[i].def || keys[i].type == KEY_VERSION)
            continue;
        int rc = set_key(cfg, &keys[i], keys[i].def, "default", err, sizeof err);
        assert(rc == 0);
        (void)rc;
    }
    for (size_t i = 0; i < NRECEIVE_KEYS; i++) {
        if (!receive_keys[i].def)
            continue;
        int rc = set_key(cfg, &receive_keys[i], receive_keys[i].def, "default", err, sizeof err);
        assert(rc == 0);
        (void)rc;
    }
}

void run_config_limits(const run_config_t *cfg, ingest_limits_t *limits)
{
    *limits = (ingest_limits_t){
        .max_record_bytes = (size_t)cfg->max_record_bytes,
        .max_depth = (size_t)cfg->max_json_depth,
        .max_events = (size_t)cfg->max_alerts_per_payload,
        .max_labels = (size_t)cfg->max_labels_per_event,
        .max_value_bytes = (size_t)cfg->max_label_bytes,
    };
}

run_config_t *run_config_create(void)
{
    run_config_t *cfg = am_xcalloc(1, sizeof *cfg);
    set_defaults(cfg);
    return cfg;
}

static void free_names(char **names)
{
    for (size_t i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
}

static void free_labels(run_config_labels_t *labels)
{
    for (size_t f = 0; f < AM_LABEL_NFIELDS; f++) {
        free_names(labels->names[f]);
        labels->names[f] = NULL;
    }
}

static void free_topics(run_config_t *cfg)
{
    for (size_t i = 0; i < cfg->ntopics; i++) {
        free(cfg->topics[i].name);
        free(cfg->topics[i].format);
        free_labels(&cfg->topics[i].labels);
    }
    free(cfg->topics);
    cfg->topics = NULL;
    cfg->ntopics = 0;
}

static void free_webhooks(run_config_t *cfg)
{
    for (size_t i = 0; i < cfg->nwebhooks; i++) {
        run_config_webhook_t *w = &cfg->webhooks[i];
        free(w->name);
        free(w->topic);
        free(w->format);
        free(w->token_file);
        free(w->username);
        free(w->password_file);
        free(w->secret_file);
        free(w->signature);
    }
    free(cfg->webhooks);
    cfg->webhooks = NULL;
    cfg->nwebhooks = 0;
}

static void free_rules(run_config_t *cfg)
{
    for (size_t i = 0; i < cfg->nrules; i++)
        free(cfg->rules[i]);
    free(cfg->rules);
    cfg->rules = NULL;
    cfg->nrules = 0;
}

void run_config_destroy(run_config_t *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->nkafka; i++) {
        free(cfg->kafka[i].name);
        free(cfg->kafka[i].value);
    }
    free(cfg->kafka);
    free_topics(cfg);
    free_rules(cfg);
    free(cfg->group);
    free(cfg->view_group);
    free(cfg->store);
    free(cfg->keyed_topic);
    free(cfg->drafts);
    free(cfg->metrics);
    free(cfg->ui_edit_token_file);
    free(cfg->dead_letter_topic);
    free(cfg->incidents_topic);
    free_labels(&cfg->labels);
    free(cfg->receive);
    free(cfg->receive_token_file);
    free_webhooks(cfg);
    free(cfg);
}

/* Kafka's rule: 1 to 249 of [a-zA-Z0-9._-], and not "." or "..". */
static int valid_topic(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 249 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return 0;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
            return 0;
    return 1;
}

static int set_kafka(run_config_t *cfg, const char *name, const char *value, const char *origin,
                     char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof owned_props / sizeof owned_props[0]; i++)
        if (strcmp(name, owned_props[i].name) == 0) {
            am_errf(err, errlen, "%s: kafka property '%s' cannot be set: %s", origin, name,
                    owned_props[i].why);
            return -1;
        }
    char rkerr[512];
    rd_kafka_conf_t *scratch = rd_kafka_conf_new();
    rd_kafka_conf_res_t res = rd_kafka_conf_set(scratch, name, value, rkerr, sizeof rkerr);
    rd_kafka_conf_destroy(scratch);
    if (res == RD_KAFKA_CONF_UNKNOWN) {
        am_errf(err, errlen, "%s: unknown kafka property '%s' (see librdkafka's CONFIGURATION.md)",
                origin, name);
        return -1;
    }
    if (res != RD_KAFKA_CONF_OK) {
        if (ingest_kafka_is_secret(name))
            am_errf(err, errlen, "%s: invalid value for kafka property '%s' (value not shown)",
                    origin, name);
        else
            am_errf(err, errlen, "%s: %s", origin, rkerr);
        return -1;
    }
    for (size_t i = 0; i < cfg->nkafka; i++)
        if (strcmp(cfg->kafka[i].name, name) == 0) {
            free(cfg->kafka[i].value);
            cfg->kafka[i].value = am_xstrdup(value);
            return 0;
        }
    cfg->kafka = am_xrealloc(cfg->kafka, (cfg->nkafka + 1) * sizeof *cfg->kafka);
    cfg->kafka[cfg->nkafka].name = am_xstrdup(name);
    cfg->kafka[cfg->nkafka].value = am_xstrdup(value);
    cfg->nkafka++;
    return 0;
}

static int add_topic(run_config_t *cfg, const char *name, size_t name_len, const char *format,
                     const char *origin, char *err, size_t errlen)
{
    char *n = am_xstrndup(name, name_len);
    if (!valid_topic(n)) {
        am_errf(err, errlen,
                "%s: '%s' is not a valid topic name (1 to 249 of letters, digits, '.', '_', '-')",
                origin, n);
        free(n);
        return -1;
    }
    for (size_t i = 0; i < cfg->ntopics; i++)
        if (strcmp(cfg->topics[i].name, n) == 0) {
            am_errf(err, errlen, "%s: topic '%s' is listed twice", origin, n);
            free(n);
            return -1;
        }
    if (format && ingest_format_check(format) != 0) {
        am_errf(err, errlen, "%s: topic '%s': unknown format '%s'", origin, n, format);
        free(n);
        return -1;
    }
    cfg->topics = am_xrealloc(cfg->topics, (cfg->ntopics + 1) * sizeof *cfg->topics);
    cfg->topics[cfg->ntopics].name = n;
    cfg->topics[cfg->ntopics].format =
        format && strcmp(format, "auto") != 0 ? am_xstrdup(format) : NULL;
    memset(&cfg->topics[cfg->ntopics].labels, 0, sizeof cfg->topics[cfg->ntopics].labels);
    cfg->topics[cfg->ntopics].stale_after_ms = 0;
    cfg->ntopics++;
    return 0;
}

static void add_rule(run_config_t *cfg, const char *path, size_t len)
{
    cfg->rules = am_xrealloc(cfg->rules, (cfg->nrules + 1) * sizeof *cfg->rules);
    cfg->rules[cfg->nrules++] = am_xstrndup(path, len);
}

/* Sets a scalar top-level key from text. value NULL restores the default. */
static int set_key(run_config_t *cfg, const key_def_t *k, const char *value, const char *origin,
                   char *err, size_t errlen)
{
    char why[256];
    char *base = (char *)cfg;
    if (value && value[0] == '\0') {
        am_errf(err, errlen, "%s: %s: empty value", origin, k->name);
        return -1;
    }
    switch (k->type) {
    case KEY_VERSION:
        if (!value || strcmp(value, "1") != 0) {
            am_errf(err, errlen, "%s: version: only version 1 is known, got '%s'", origin,
                    value ? value : "");
            return -1;
        }
        return 0;
    case KEY_RECEIVE:
    case KEY_LISTEN: {
        char host[RUN_HTTP_HOSTLEN];
        int port;
        char **field = (char **)(void *)(base + k->off);
        if (value && strcmp(value, "off") != 0 &&
            run_http_parse_addr(value, host, &port, why, sizeof why) != 0) {
            am_errf(err, errlen, "%s: %s: %s", origin, k->name, why);
            return -1;
        }
        free(*field);
        *field = value && strcmp(value, "off") != 0 ? am_xstrdup(value) : NULL;
        return 0;
    }
    case KEY_ROLE:
        for (int r = RUN_ROLE_ALL; r <= RUN_ROLE_RECEIVE; r++)
            if (value && strcmp(value, run_role_name((run_role_t)r)) == 0) {
                cfg->role = (run_role_t)r;
                return 0;
            }
        am_errf(err, errlen, "%s: role: '%s' is not one of all, decode, correlate, view, receive",
                origin, value ? value : "");
        return -1;
    case KEY_TOPIC:
        if (value && !valid_topic(value)) {
            am_errf(err, errlen, "%s: %s: '%s' is not a valid topic name", origin, k->name, value);
            return -1;
        }
        /* fall through */
    case KEY_STRING: {
        char **field = (char **)(void *)(base + k->off);
        if (!value) {
            if (strcmp(k->name, "group") == 0 || strcmp(k->name, "store") == 0 ||
                strcmp(k->name, "keyed_topic") == 0) {
                am_errf(err, errlen, "%s: %s: a value is required", origin, k->name);
                return -1;
            }
            free(*field);
            *field = NULL;
            return 0;
        }
        free(*field);
        *field = am_xstrdup(value);
        return 0;
    }
    case KEY_INT: {
        if (!value) {
            am_errf(err, errlen, "%s: %s: a number is required", origin, k->name);
            return -1;
        }
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end || v < k->min || v > k->max) {
            am_errf(err, errlen, "%s: %s: '%s' is not a number from %lld to %lld", origin, k->name,
                    value, (long long)k->min, (long long)k->max);
            return -1;
        }
        *(long *)(void *)(base + k->off) = (long)v;
        return 0;
    }
    case KEY_DURATION_OFF:
        if (!value || strcmp(value, "off") == 0) {
            *(int64_t *)(void *)(base + k->off) = 0;
            return 0;
        }
        /* fall through */
    case KEY_DURATION: {
        int64_t ms;
        char lo[AM_TIME_STRLEN], hi[AM_TIME_STRLEN];
        if (!value) {
            am_errf(err, errlen, "%s: %s: a duration is required", origin, k->name);
            return -1;
        }
        if (am_duration_parse(value, strlen(value), &ms, why, sizeof why) != 0) {
            am_errf(err, errlen, "%s: %s: %s", origin, k->name, why);
            return -1;
        }
        if (ms < k->min || ms > k->max) {
            am_errf(err, errlen, "%s: %s: %s is not from %s to %s", origin, k->name, value,
                    am_duration_format(k->min, lo), am_duration_format(k->max, hi));
            return -1;
        }
        *(int64_t *)(void *)(base + k->off) = ms;
        return 0;
    }
    case KEY_TOPICS:
    case KEY_LIST:
    case KEY_KAFKA:
    case KEY_LABELS:
    case KEY_WEBHOOKS:
        break;
    }
    am_errf(err, errlen, "%s: %s cannot be set from text", origin, k->name);
    return -1;
}

/* "a, b:generic,c" -> calls back with each trimmed item. */
static int split_list(const char *value, const char *origin, char *err, size_t errlen,
                      int (*fn)(void *, const char *, size_t, const char *, char *, size_t),
                      void *ctx)
{
    const char *p = value;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && isspace((unsigned char)*p)) {
            p++;
            n--;
        }
        while (n > 0 && isspace((unsigned char)p[n - 1]))
            n--;
        if (n == 0) {
            am_errf(err, errlen, "%s: empty item in list '%s'", origin, value);
            return -1;
        }
        if (fn(ctx, p, n, origin, err, errlen) != 0)
            return -1;
        if (!end)
            return 0;
        p = end + 1;
    }
}

static int topic_item(void *ctx, const char *s, size_t n, const char *origin, char *err,
                      size_t errlen)
{
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return add_topic(ctx, s, n, NULL, origin, err, errlen);
    char *format = am_xstrndup(colon + 1, n - (size_t)(colon - s) - 1);
    int rc = add_topic(ctx, s, (size_t)(colon - s), format, origin, err, errlen);
    free(format);
    return rc;
}

static int rule_item(void *ctx, const char *s, size_t n, const char *origin, char *err,
                     size_t errlen)
{
    (void)origin;
    (void)err;
    (void)errlen;
    add_rule(ctx, s, n);
    return 0;
}

int run_config_set(run_config_t *cfg, const char *key, const char *value, const char *origin,
                   char *err, size_t errlen)
{
    if (strncmp(key, "kafka.", 6) == 0)
        return set_kafka(cfg, key + 6, value, origin, err, errlen);
    if (strncmp(key, "receive.", 8) == 0) {
        const key_def_t *rk = find_receive_key(key + 8);
        if (!rk || rk->type == KEY_WEBHOOKS) {
            am_errf(err, errlen, "%s: %s: %s", origin, key,
                    rk ? "webhook sources are set in the config file only" : "unknown setting");
            return -1;
        }
        return set_key(cfg, rk, value, origin, err, errlen);
    }
    const key_def_t *k = find_key(key);
    if (!k) {
        am_errf(err, errlen, "%s: unknown setting '%s'", origin, key);
        return -1;
    }
    if (k->type == KEY_TOPICS) {
        free_topics(cfg);
        return split_list(value, origin, err, errlen, topic_item, cfg);
    }
    if (k->type == KEY_LIST) {
        free_rules(cfg);
        return split_list(value, origin, err, errlen, rule_item, cfg);
    }
    if (k->type == KEY_KAFKA) {
        am_errf(err, errlen, "%s: set kafka properties one by one (kafka.NAME)", origin);
        return -1;
    }
    if (k->type == KEY_LABELS) {
        am_errf(err, errlen, "%s: labels are set in the config file only", origin);
        return -1;
    }
    return set_key(cfg, k, value, origin, err, errlen);
}

/* --- the YAML file ------------------------------------------------------- */

typedef struct loader {
    const char *path;
    yaml_document_t doc;
    run_config_t *cfg;
    char *err;
    size_t errlen;
    bool receive_token_set; /* receive.token_file came from the file: relative to it */
} loader_t;

/* "path:line:col" of a node, in origin (at least 64 + path bytes). */
static const char *where(const loader_t *ld, const yaml_node_t *node, char *origin, size_t len)
{
    snprintf(origin, len, "%s:%lu:%lu", ld->path, (unsigned long)node->start_mark.line + 1,
             (unsigned long)node->start_mark.column + 1);
    return origin;
}

static int node_fail(const loader_t *ld, const yaml_node_t *node, const char *what)
{
    char origin[1024];
    am_errf(ld->err, ld->errlen, "%s: %s", where(ld, node, origin, sizeof origin), what);
    return -1;
}

static int is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *v = (const char *)n->data.scalar.value;
    return n->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* Refuses a key given twice in one mapping. */
static int check_unique(const loader_t *ld, const yaml_node_t *map, const yaml_node_pair_t *pair)
{
    const yaml_node_t *key = yaml_document_get_node((yaml_document_t *)&ld->doc, pair->key);
    for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < pair; p++) {
        const yaml_node_t *other = yaml_document_get_node((yaml_document_t *)&ld->doc, p->key);
        if (other->type == YAML_SCALAR_NODE && strcmp(scalar(other), scalar(key)) == 0) {
            char msg[512];
            snprintf(msg, sizeof msg, "key '%s' is given twice", scalar(key));
            return node_fail(ld, key, msg);
        }
    }
    return 0;
}

static int load_kafka(loader_t *ld, const yaml_node_t *map)
{
    if (map->type != YAML_MAPPING_NODE)
        return node_fail(ld, map, "kafka: expected a map of librdkafka properties");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&ld->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&ld->doc, p->value);
        if (k->type != YAML_SCALAR_NODE)
            return node_fail(ld, k, "kafka: property names are strings");
        if (check_unique(ld, map, p) != 0)
            return -1;
        char origin[1024], msg[512];
        where(ld, v, origin, sizeof origin);
        am_buf_t value = {0};
        if (v->type == YAML_SCALAR_NODE && !is_null(v)) {
            am_buf_puts(&value, scalar(v));
        } else if (v->type == YAML_SEQUENCE_NODE) {
            /* bootstrap.servers: [a:9092, b:9092] reads as "a:9092,b:9092". */
            for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
                 i++) {
                yaml_node_t *item = yaml_document_get_node(&ld->doc, *i);
                if (item->type != YAML_SCALAR_NODE || is_null(item)) {
                    am_buf_free(&value);
                    snprintf(msg, sizeof msg, "kafka.%s: list items must be values", scalar(k));
                    return node_fail(ld, item, msg);
                }
                if (value.len)
                    am_buf_putc(&value, ',');
                am_buf_puts(&value, scalar(item));
            }
        }
        if (value.len == 0) {
            am_buf_free(&value);
            snprintf(msg, sizeof msg, "kafka.%s: a value is required", scalar(k));
            return node_fail(ld, v, msg);
        }
        int rc = set_kafka(ld->cfg, scalar(k), value.p, origin, ld->err, ld->errlen);
        am_buf_free(&value);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Reads one field's label names (a name, or a list of names, [] for none)
 * into a new NULL-terminated list. what names the field in errors. */
static int load_names(loader_t *ld, const yaml_node_t *v, const char *what, char ***out)
{
    char msg[512];
    const yaml_node_t *one = v;
    size_t n = 1;
    if (v->type == YAML_SEQUENCE_NODE)
        n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    else if (v->type != YAML_SCALAR_NODE || is_null(v)) {
        snprintf(msg, sizeof msg, "%s: expected a label name or a list of them ([] for none)",
                 what);
        return node_fail(ld, v, msg);
    }
    char **names = am_xcalloc(n + 1, sizeof *names);
    for (size_t i = 0; i < n; i++) {
        if (v->type == YAML_SEQUENCE_NODE)
            one = yaml_document_get_node(&ld->doc, v->data.sequence.items.start[i]);
        if (one->type != YAML_SCALAR_NODE || is_null(one) || one->data.scalar.length == 0) {
            snprintf(msg, sizeof msg, "%s: each item is a label name", what);
            goto fail;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(names[j], scalar(one)) == 0) {
                snprintf(msg, sizeof msg, "%s: label '%.200s' is listed twice", what, scalar(one));
                goto fail;
            }
        names[i] = am_xstrdup(scalar(one));
    }
    *out = names;
    return 0;
fail:
    free_names(names);
    return node_fail(ld, one, msg);
}

/* Reads a labels: map ({field: names, ...}) into labels, replacing the
 * fields it names; what prefixes errors ("labels", "topics: labels"). */
static int load_labels(loader_t *ld, const yaml_node_t *map, const char *what,
                       run_config_labels_t *labels)
{
    char msg[512], field[256];
    if (map->type != YAML_MAPPING_NODE) {
        snprintf(msg, sizeof msg, "%s: expected a map of field: label names (fields: %s)", what,
                 label_fields);
        return node_fail(ld, map, msg);
    }
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&ld->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&ld->doc, p->value);
        am_label_field_t f;
        if (k->type != YAML_SCALAR_NODE) {
            snprintf(msg, sizeof msg, "%s: field names are strings", what);
            return node_fail(ld, k, msg);
        }
        if (check_unique(ld, map, p) != 0)
            return -1;
        if (am_label_field_parse(scalar(k), &f) != 0) {
            snprintf(msg, sizeof msg, "%s: unknown field '%.100s' (known: %s)", what, scalar(k),
                     label_fields);
            return node_fail(ld, k, msg);
        }
        char **names;
        snprintf(field, sizeof field, "%s.%s", what, scalar(k));
        if (load_names(ld, v, field, &names) != 0)
            return -1;
        free_names(labels->names[f]);
        labels->names[f] = names;
    }
    return 0;
}

static int load_topics(loader_t *ld, const yaml_node_t *seq)
{
    if (seq->type != YAML_SEQUENCE_NODE)
        return node_fail(ld, seq, "topics: expected a list of topic names or {name, format} maps");
    free_topics(ld->cfg);
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top;
         i++) {
        yaml_node_t *item = yaml_document_get_node(&ld->doc, *i);
        char origin[1024];
        where(ld, item, origin, sizeof origin);
        if (item->type == YAML_SCALAR_NODE && !is_null(item)) {
            if (add_topic(ld->cfg, scalar(item), item->data.scalar.length, NULL, origin, ld->err,
                          ld->errlen) != 0)
                return -1;
            continue;
        }
        if (item->type != YAML_MAPPING_NODE)
            return node_fail(ld, item,
                             "topics: each item is a topic name or {name, format, labels}");
        const yaml_node_t *name = NULL, *format = NULL, *labels = NULL, *stale = NULL;
        for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = yaml_document_get_node(&ld->doc, p->key);
            yaml_node_t *v = yaml_document_get_node(&ld->doc, p->value);
            if (k->type != YAML_SCALAR_NODE)
                return node_fail(ld, k, "topics: keys are strings");
            if (check_unique(ld, item, p) != 0)
                return -1;
            if (strcmp(scalar(k), "labels") == 0) {
                labels = v;
                continue;
            }
            if (v->type != YAML_SCALAR_NODE || is_null(v)) {
                char msg[512];
                snprintf(msg, sizeof msg, "topics: %s: expected a value", scalar(k));
                return node_fail(ld, v, msg);
            }
            if (strcmp(scalar(k), "name") == 0) {
                name = v;
            } else if (strcmp(scalar(k), "format") == 0) {
                format = v;
            } else if (strcmp(scalar(k), "stale_after") == 0) {
                stale = v;
            } else {
                char msg[512];
                snprintf(msg, sizeof msg,
                         "topics: unknown key '%s' (known: name, format, labels, stale_after)",
                         scalar(k));
                return node_fail(ld, k, msg);
            }
        }
        if (!name)
            return node_fail(ld, item, "topics: a topic needs a name");
        if (add_topic(ld->cfg, scalar(name), name->data.scalar.length,
                      format ? scalar(format) : NULL, origin, ld->err, ld->errlen) != 0)
            return -1;
        if (stale && strcmp(scalar(stale), "off") == 0) {
            ld->cfg->topics[ld->cfg->ntopics - 1].stale_after_ms = -1;
        } else if (stale) {
            char why[256];
            int64_t ms = 0;
            int bad =
                am_duration_parse(scalar(stale), stale->data.scalar.length, &ms, why, sizeof why);
            if (bad || ms < 60 * 1000 || ms > INT64_C(366) * 86400000) {
                char msg[512];
                snprintf(msg, sizeof msg, "topics: stale_after: %s",
                         bad ? why : "not from 1m to 366d, or off");
                return node_fail(ld, stale, msg);
            }
            ld->cfg->topics[ld->cfg->ntopics - 1].stale_after_ms = ms;
        }
        char what[320];
        snprintf(what, sizeof what, "topics: %.200s: labels", scalar(name));
        if (labels &&
            load_labels(ld, labels, what, &ld->cfg->topics[ld->cfg->ntopics - 1].labels) != 0)
            return -1;
    }
    return 0;
}

static int load_rules(loader_t *ld, const yaml_node_t *node)
{
    free_rules(ld->cfg);
    if (node->type == YAML_SCALAR_NODE && !is_null(node)) {
        add_rule(ld->cfg, scalar(node), node->data.scalar.length);
        return 0;
    }
    if (node->type != YAML_SEQUENCE_NODE)
        return node_fail(ld, node, "rules: expected a list of rule files");
    for (yaml_node_item_t *i = node->data.sequence.items.start; i < node->data.sequence.items.top;
         i++) {
        yaml_node_t *item = yaml_document_get_node(&ld->doc, *i);
        if (item->type != YAML_SCALAR_NODE || is_null(item))
            return node_fail(ld, item, "rules: each item is a file path");
        add_rule(ld->cfg, scalar(item), item->data.scalar.length);
    }
    return 0;
}

/* One item of receive.sources. */
static int load_webhook(loader_t *ld, const yaml_node_t *item)
{
    static const char *const fields[] = {"name",     "topic",         "format",      "token_file",
                                         "username", "password_file", "secret_file", "signature"};
    enum { NFIELDS = sizeof fields / sizeof fields[0] };
    const yaml_node_t *val[NFIELDS] = {0};
    char msg[512];
    if (item->type != YAML_MAPPING_NODE)
        return node_fail(ld, item,
                         "receive: sources: each item is a map (name, topic, format, ...)");
    for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&ld->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&ld->doc, p->value);
        if (k->type != YAML_SCALAR_NODE)
            return node_fail(ld, k, "receive: sources: keys are strings");
        if (check_unique(ld, item, p) != 0)
            return -1;
        size_t f = 0;
        while (f < NFIELDS && strcmp(fields[f], scalar(k)) != 0)
            f++;
        if (f == NFIELDS) {
            snprintf(msg, sizeof msg,
                     "receive: sources: unknown key '%s' (known: name, topic, format, "
                     "token_file, username, password_file, secret_file, signature)",
                     scalar(k));
            return node_fail(ld, k, msg);
        }
        if (v->type != YAML_SCALAR_NODE || is_null(v)) {
            snprintf(msg, sizeof msg, "receive: sources: %s: expected a value", fields[f]);
            return node_fail(ld, v, msg);
        }
        val[f] = v;
    }
    if (!val[0])
        return node_fail(ld, item, "receive: sources: a source needs a name");
    const char *name = scalar(val[0]);
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
            return node_fail(ld, val[0],
                             "receive: sources: a name is made of a-z, 0-9, '-' and '_' (it is "
                             "the path /webhook/<name>)");
    for (size_t i = 0; i < ld->cfg->nwebhooks; i++)
        if (strcmp(ld->cfg->webhooks[i].name, name) == 0) {
            snprintf(msg, sizeof msg, "receive: sources: '%s' is named twice", name);
            return node_fail(ld, val[0], msg);
        }
    /* A default source's topic and format are its defaults. */
    size_t ndef;
    const run_config_webhook_t *defs = run_config_webhooks(NULL, &ndef), *def = NULL;
    for (size_t i = 0; i < ndef; i++)
        if (strcmp(defs[i].name, name) == 0)
            def = &defs[i];
    const char *topic = val[1] ? scalar(val[1]) : def ? def->topic : NULL;
    const char *format = val[2] ? scalar(val[2]) : def ? def->format : NULL;
    if (!topic || !format) {
        snprintf(msg, sizeof msg, "receive: sources: %s: a topic and a format are needed", name);
        return node_fail(ld, item, msg);
    }
    if (!valid_topic(topic))
        return node_fail(ld, val[1], "receive: sources: not a valid topic name");
    if (ingest_format_check(format) != 0) {
        snprintf(msg, sizeof msg, "receive: sources: %s: unknown format '%s'", name, format);
        return node_fail(ld, val[2] ? val[2] : item, msg);
    }
    if (!val[4] != !val[5])
        return node_fail(ld, item,
                         "receive: sources: basic auth needs both username and password_file");
    const char *sig = val[7]                           ? scalar(val[7])
                      : !val[6]                        ? NULL
                      : strcmp(name, "pagerduty") == 0 ? "pagerduty"
                                                       : "github";
    if (sig && strcmp(sig, "github") != 0 && strcmp(sig, "pagerduty") != 0)
        return node_fail(ld, val[7],
                         "receive: sources: signature: 'github' (X-Hub-Signature-256) or "
                         "'pagerduty' (X-PagerDuty-Signature)");
    if (sig && !val[6])
        return node_fail(ld, val[7], "receive: sources: signature needs secret_file");
    ld->cfg->webhooks =
        am_xrealloc(ld->cfg->webhooks, (ld->cfg->nwebhooks + 1) * sizeof *ld->cfg->webhooks);
    run_config_webhook_t *w = &ld->cfg->webhooks[ld->cfg->nwebhooks++];
    *w = (run_config_webhook_t){
        .name = am_xstrdup(name),
        .topic = am_xstrdup(topic),
        .format = am_xstrdup(format),
        .token_file = val[3] ? am_xstrdup(scalar(val[3])) : NULL,
        .username = val[4] ? am_xstrdup(scalar(val[4])) : NULL,
        .password_file = val[5] ? am_xstrdup(scalar(val[5])) : NULL,
        .secret_file = val[6] ? am_xstrdup(scalar(val[6])) : NULL,
        .signature = sig ? am_xstrdup(sig) : NULL,
    };
    return 0;
}

/* receive: as a map of receive_keys. */
static int load_receive(loader_t *ld, const yaml_node_t *map)
{
    char msg[512], origin[1024];
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&ld->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&ld->doc, p->value);
        if (k->type != YAML_SCALAR_NODE)
            return node_fail(ld, k, "receive: keys are strings");
        if (check_unique(ld, map, p) != 0)
            return -1;
        const key_def_t *def = find_receive_key(scalar(k));
        if (!def) {
            snprintf(msg, sizeof msg,
                     "receive: unknown key '%s' (known: listen, sources, token_file, "
                     "max_body_bytes, ack_timeout)",
                     scalar(k));
            return node_fail(ld, k, msg);
        }
        if (def->type == KEY_WEBHOOKS) {
            free_webhooks(ld->cfg);
            if (is_null(v))
                continue;
            if (v->type != YAML_SEQUENCE_NODE)
                return node_fail(ld, v, "receive: sources: expected a list of sources");
            for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
                 i++)
                if (load_webhook(ld, yaml_document_get_node(&ld->doc, *i)) != 0)
                    return -1;
            continue;
        }
        if (v->type != YAML_SCALAR_NODE) {
            snprintf(msg, sizeof msg, "receive: %s: expected a single value", def->name);
            return node_fail(ld, v, msg);
        }
        if (def->type == KEY_STRING && strcmp(def->name, "token_file") == 0)
            ld->receive_token_set = true;
        if (set_key(ld->cfg, def, is_null(v) ? NULL : scalar(v),
                    where(ld, v, origin, sizeof origin), ld->err, ld->errlen) != 0)
            return -1;
    }
    return 0;
}

static int load_root(loader_t *ld)
{
    yaml_node_t *root = yaml_document_get_root_node(&ld->doc);
    if (!root)
        return 0; /* an empty file: the defaults */
    if (root->type != YAML_MAPPING_NODE)
        return node_fail(ld, root, "expected a map of settings at the top level");
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&ld->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&ld->doc, p->value);
        char msg[1024], origin[1024];
        if (k->type != YAML_SCALAR_NODE)
            return node_fail(ld, k, "setting names are strings");
        if (check_unique(ld, root, p) != 0)
            return -1;
        const key_def_t *def = find_key(scalar(k));
        if (!def) {
            am_buf_t known = {0};
            key_names(&known);
            snprintf(msg, sizeof msg, "unknown key '%s' (known: %s)", scalar(k), known.p);
            am_buf_free(&known);
            return node_fail(ld, k, msg);
        }
        int rc;
        if (def->type == KEY_KAFKA) {
            rc = is_null(v) ? 0 : load_kafka(ld, v);
        } else if (def->type == KEY_TOPICS) {
            rc = is_null(v) ? (free_topics(ld->cfg), 0) : load_topics(ld, v);
        } else if (def->type == KEY_LIST) {
            rc = is_null(v) ? (free_rules(ld->cfg), 0) : load_rules(ld, v);
        } else if (def->type == KEY_LABELS) {
            rc = is_null(v) ? 0 : load_labels(ld, v, "labels", &ld->cfg->labels);
        } else if (def->type == KEY_RECEIVE && v->type == YAML_MAPPING_NODE) {
            rc = load_receive(ld, v);
        } else if (v->type != YAML_SCALAR_NODE) {
            snprintf(msg, sizeof msg, "%s: expected a single value", def->name);
            rc = node_fail(ld, v, msg);
        } else {
            rc = set_key(ld->cfg, def, is_null(v) ? NULL : scalar(v),
                         where(ld, v, origin, sizeof origin), ld->err, ld->errlen);
        }
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* True when the file's root mapping names key. */
static bool file_sets(loader_t *ld, const char *key)
{
    yaml_node_t *root = yaml_document_get_root_node(&ld->doc);
    if (!root || root->type != YAML_MAPPING_NODE)
        return false;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&ld->doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE &&
            strcmp((const char *)k->data.scalar.value, key) == 0)
            return true;
    }
    return false;
}

/* *p, a relative path read from the file at cfg_path, made relative to
 * that file's directory (as Prometheus reads rule_files), so that the
 * file means the same whatever directory aftermath is started from. */
static void beside_file(const char *cfg_path, char **p)
{
    const char *slash = strrchr(cfg_path, '/');
    if (!*p || !**p || **p == '/' || !slash)
        return;
    am_buf_t b = {0};
    am_buf_append(&b, cfg_path, (size_t)(slash - cfg_path) + 1);
    am_buf_puts(&b, *p);
    free(*p);
    *p = am_buf_steal(&b);
}

run_config_t *run_config_load(const char *path, char *err, size_t errlen)
{
    FILE *f = NULL;
    yaml_parser_t parser;
    int parser_ok = 0, doc_ok = 0;
    loader_t ld = {.path = path, .err = err, .errlen = errlen};

    f = fopen(path, "rb");
    if (!f) {
        am_errf(err, errlen, "%s: %s", path, strerror(errno));
        goto init_error;
    }
    if (am_yaml_check_file(&f, path, &am_yaml_limits_default, err, errlen) != 0)
        goto init_error;
    if (!yaml_parser_initialize(&parser)) {
        am_errf(err, errlen, "%s: cannot initialise the YAML parser", path);
        goto init_error;
    }
    parser_ok = 1;
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &ld.doc)) {
        am_errf(err, errlen, "%s:%lu:%lu: %s%s%s", path,
                (unsigned long)parser.problem_mark.line + 1,
                (unsigned long)parser.problem_mark.column + 1,
                parser.problem ? parser.problem : "invalid YAML", parser.context ? " " : "",
                parser.context ? parser.context : "");
        goto init_error;
    }
    doc_ok = 1;
    ld.cfg = run_config_create();
    if (load_root(&ld) != 0)
        goto init_error;
    /* Paths the file gives are relative to the file (environment and
     * flags, applied later, stay relative to the working directory). */
    if (file_sets(&ld, "store"))
        beside_file(path, &ld.cfg->store);
    if (file_sets(&ld, "drafts"))
        beside_file(path, &ld.cfg->drafts);
    for (size_t i = 0; i < ld.cfg->nrules; i++)
        beside_file(path, &ld.cfg->rules[i]);
    if (ld.receive_token_set)
        beside_file(path, &ld.cfg->receive_token_file);
    for (size_t i = 0; i < ld.cfg->nwebhooks; i++) {
        run_config_webhook_t *w = &ld.cfg->webhooks[i];
        beside_file(path, &w->token_file);
        beside_file(path, &w->password_file);
        beside_file(path, &w->secret_file);
    }
    /* A second document in the file would be silently ignored: refuse it. */
    yaml_document_t extra;
    if (yaml_parser_load(&parser, &extra)) {
        int more = yaml_document_get_root_node(&extra) != NULL;
        yaml_document_delete(&extra);
        if (more) {
            am_errf(err, errlen, "%s: more than one YAML document", path);
            goto init_error;
        }
    }
    yaml_document_delete(&ld.doc);
    yaml_parser_delete(&parser);
    fclose(f);
    return ld.cfg;

init_error:
    run_config_destroy(ld.cfg);
    if (doc_ok)
        yaml_document_delete(&ld.doc);
    if (parser_ok)
        yaml_parser_delete(&parser);
    if (f)
        fclose(f);
    return NULL;
}

/* --- environment ---------------------------------------------------------- */

int run_config_apply_env(run_config_t *cfg, char *const *envp, char *err, size_t errlen)
{
    static const char prefix[] = "AFTERMATH_", kafka[] = "AFTERMATH_KAFKA__";
    static const char bootstrap[] = "AFTERMATH_KAFKA_BOOTSTRAP_SERVERS";
    const char *bootstrap_value = NULL;
    for (char *const *e = envp; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || strncmp(*e, prefix, sizeof prefix - 1) != 0)
            continue;
        size_t nlen = (size_t)(eq - *e);
        char name[256], key[256];
        if (nlen >= sizeof name)
            continue;
        memcpy(name, *e, nlen);
        name[nlen] = '\0';
        const char *value = eq + 1;
        if (strcmp(name, bootstrap) == 0) {
            bootstrap_value = value; /* applied last: it wins over the generic form */
            continue;
        }
        if (strncmp(name, kafka, sizeof kafka - 1) == 0) {
            size_t i = 0;
            memcpy(key, "kafka.", 6);
            for (const char *p = name + sizeof kafka - 1; *p && i + 7 < sizeof key; p++)
                key[6 + i++] = *p == '_' ? '.' : (char)tolower((unsigned char)*p);
            key[6 + i] = '\0';
            if (i == 0) {
                am_errf(err, errlen, "%s: no kafka property named", name);
                return -1;
            }
        } else if (strncmp(name, "AFTERMATH_RECEIVE_", 18) == 0) {
            /* AFTERMATH_RECEIVE_TOKEN_FILE: receive.token_file */
            size_t i = 0;
            memcpy(key, "receive.", 8);
            for (const char *p = name + 18; *p && i + 9 < sizeof key; p++)
                key[8 + i++] = (char)tolower((unsigned char)*p);
            key[8 + i] = '\0';
            if (!find_receive_key(key + 8))
                continue; /* not a setting */
        } else {
            size_t i = 0;
            for (const char *p = name + sizeof prefix - 1; *p && i + 1 < sizeof key; p++)
                key[i++] = (char)tolower((unsigned char)*p);
            key[i] = '\0';
            const key_def_t *def = find_key(key);
            if (!def || def->type == KEY_KAFKA || def->type == KEY_VERSION)
                continue; /* not a setting: AFTERMATH_SHARED, AFTERMATH_KAFKA_PORT, ... */
            /* KEY_LABELS goes on, to be refused by name: file only. */
        }
        if (run_config_set(cfg, key, value, name, err, errlen) != 0)
            return -1;
    }
    if (bootstrap_value && run_config_set(cfg, "kafka.bootstrap.servers", bootstrap_value,
                                          bootstrap, err, errlen) != 0)
        return -1;
    return 0;
}

run_config_t *run_config_build(const char *path, char *const *envp, const run_config_flag_t *flags,
                               size_t nflags, char *err, size_t errlen)
{
    run_config_t *cfg = path ? run_config_load(path, err, errlen) : run_config_create();
    if (!cfg)
        return NULL;
    if (run_config_apply_env(cfg, envp, err, errlen) != 0)
        goto init_error;
    for (size_t i = 0; i < nflags; i++)
        if (flags[i].value &&
            run_config_set(cfg, flags[i].key, flags[i].value, flags[i].origin, err, errlen) != 0)
            goto init_error;
    return cfg;

init_error:
    run_config_destroy(cfg);
    return NULL;
}

/* --- use ------------------------------------------------------------------ */

const char *run_config_kafka_get(const run_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nkafka; i++)
        if (strcmp(cfg->kafka[i].name, name) == 0)
            return cfg->kafka[i].value;
    return NULL;
}

const run_config_topic_t *run_config_topic(const run_config_t *cfg, const char *name)
{
    for (size_t i = 0; name && i < cfg->ntopics; i++)
        if (strcmp(cfg->topics[i].name, name) == 0)
            return &cfg->topics[i];
    return NULL;
}

void run_config_label_map(const run_config_t *cfg, const run_config_topic_t *topic,
                          am_label_map_t *map)
{
    for (size_t f = 0; f < AM_LABEL_NFIELDS; f++) {
        char **names =
            topic && topic->labels.names[f] ? topic->labels.names[f] : cfg->labels.names[f];
        map->names[f] = names ? (const char *const *)names : am_label_map_default.names[f];
    }
}

static int has_labels(const run_config_labels_t *labels)
{
    for (size_t f = 0; f < AM_LABEL_NFIELDS; f++)
        if (labels->names[f])
            return 1;
    return 0;
}

ingest_decoder_t *run_config_decoder(const run_config_t *cfg, const ingest_limits_t *limits)
{
    am_label_map_t map;
    run_config_label_map(cfg, NULL, &map);
    ingest_decoder_t *dec = ingest_decoder_create(&map, limits);
    for (size_t i = 0; i < cfg->ntopics; i++)
        if (has_labels(&cfg->topics[i].labels)) {
            run_config_label_map(cfg, &cfg->topics[i], &map);
            ingest_decoder_set_topic_map(dec, cfg->topics[i].name, &map);
        }
    return dec;
}

const run_config_webhook_t *run_config_webhooks(const run_config_t *cfg, size_t *n)
{
#define W(name, topic)                                                                             \
    {                                                                                              \
        (char *)name, (char *)topic, (char *)name, NULL, NULL, NULL, NULL, NULL                    \
    }
    static const run_config_webhook_t defaults[] = {
        W("alertmanager", "alerts"), W("grafana", "alerts"),   W("pagerduty", "acks"),
        W("github", "deploys"),      W("cdevents", "deploys"), W("flux", "deploys"),
        W("generic", "notes"),
    };
#undef W
    if (cfg && cfg->nwebhooks) {
        *n = cfg->nwebhooks;
        return cfg->webhooks;
    }
    *n = sizeof defaults / sizeof defaults[0];
    return defaults;
}

const char *run_role_name(run_role_t role)
{
    static const char *const names[] = {"all", "decode", "correlate", "view", "receive"};
    return names[role];
}

const char *run_config_group(const run_config_t *cfg)
{
    if (cfg->group)
        return cfg->group;
    switch (cfg->role) {
    case RUN_ROLE_DECODE:
        return "aftermath-decode";
    case RUN_ROLE_CORRELATE:
        return "aftermath-correlate";
    case RUN_ROLE_VIEW:
        if (!cfg->view_group) {
            char host[256] = "";
            if (gethostname(host, sizeof host - 1) != 0 || !*host)
                snprintf(host, sizeof host, "%s", "localhost");
            am_buf_t b = {0};
            am_buf_printf(&b, "aftermath-view-%s", host);
            ((run_config_t *)cfg)->view_group = b.p; /* a cache: cfg stays the same config */
        }
        return cfg->view_group;
    case RUN_ROLE_RECEIVE: /* consumes nothing */
    case RUN_ROLE_ALL:
        break;
    }
    return "aftermath";
}

bool run_config_receive_exposed(const run_config_t *cfg)
{
    char host[RUN_HTTP_HOSTLEN], why[256];
    int port;
    if (!cfg->receive || run_http_parse_addr(cfg->receive, host, &port, why, sizeof why) != 0)
        return false;
    return !(strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
             strncmp(host, "127.", 4) == 0);
}

int run_config_check(const run_config_t *cfg, char *err, size_t errlen)
{
    if (!run_config_kafka_get(cfg, "bootstrap.servers")) {
        am_errf(err, errlen,
                "no Kafka brokers: set kafka.bootstrap.servers in the config, "
                "AFTERMATH_KAFKA_BOOTSTRAP_SERVERS or --brokers");
        return -1;
    }
    if (cfg->role == RUN_ROLE_RECEIVE && !cfg->receive) {
        am_errf(err, errlen,
                "role receive needs receive (a listen address: --receive, AFTERMATH_RECEIVE or "
                "receive.listen in the config)");
        return -1;
    }
    if (cfg->receive && cfg->role != RUN_ROLE_ALL && cfg->role != RUN_ROLE_RECEIVE) {
        am_errf(err, errlen,
                "receive: the webhook receiver runs in role all or receive, not in role %s",
                run_role_name(cfg->role));
        return -1;
    }
    if (cfg->receive && run_config_receive_exposed(cfg)) {
        size_t n;
        const run_config_webhook_t *w = run_config_webhooks(cfg, &n);
        for (size_t i = 0; i < n; i++)
            if (!w[i].token_file && !w[i].password_file && !w[i].secret_file &&
                !cfg->receive_token_file) {
                am_errf(err, errlen,
                        "receive: %s listens beyond this host, but webhook source '%s' has no "
                        "token_file, username/password_file or secret_file: anyone who reaches "
                        "the port could write events. Give every source credentials, or listen "
                        "on 127.0.0.1 behind a proxy that authenticates",
                        cfg->receive, w[i].name);
                return -1;
            }
    }
    bool sources = cfg->role == RUN_ROLE_ALL || cfg->role == RUN_ROLE_DECODE;
    if (sources && cfg->ntopics == 0) {
        am_errf(err, errlen, "no topics: set topics in the config, AFTERMATH_TOPICS or --topic");
        return -1;
    }
    if (cfg->role != RUN_ROLE_ALL && cfg->role != RUN_ROLE_RECEIVE && !cfg->incidents_topic) {
        am_errf(err, errlen,
                "role %s needs incidents_topic (in the config or AFTERMATH_INCIDENTS_TOPIC): %s",
                run_role_name(cfg->role),
                cfg->role == RUN_ROLE_VIEW ? "the view reads it"
                : cfg->role == RUN_ROLE_DECODE
                    ? "decode sends every deploy there, for the view's change failure rate"
                    : "correlate publishes the incidents there");
        return -1;
    }
    if (cfg->role == RUN_ROLE_DECODE && (strcmp(cfg->keyed_topic, cfg->incidents_topic) == 0 ||
                                         run_config_topic(cfg, cfg->keyed_topic))) {
        am_errf(err, errlen,
                "keyed_topic '%s' must differ from the source topics and incidents_topic",
                cfg->keyed_topic);
        return -1;
    }
    return 0;
}

static const char *shown(const char *name, const char *value)
{
    return ingest_kafka_is_secret(name) ? "***" : value;
}

/* Double-quoted YAML scalar. */
static void put_quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\x%02x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* Prints labels at indent: every field when all is set (the effective
 * top-level map), else only the fields labels names. */
static void print_labels(FILE *out, const run_config_labels_t *labels, const char *indent, int all)
{
    am_label_map_t map;
    for (size_t f = 0; f < AM_LABEL_NFIELDS; f++)
        map.names[f] = labels->names[f] ? (const char *const *)labels->names[f]
                                        : am_label_map_default.names[f];
    for (size_t f = 0; f < AM_LABEL_NFIELDS; f++) {
        if (!all && !labels->names[f])
            continue;
        fprintf(out, "%s%s: [", indent, am_label_field_name((am_label_field_t)f));
        for (size_t i = 0; map.names[f] && map.names[f][i]; i++) {
            fputs(i ? ", " : "", out);
            put_quoted(out, map.names[f][i]);
        }
        fputs("]\n", out);
    }
}

void run_config_print(const run_config_t *cfg, FILE *out)
{
    char d[AM_TIME_STRLEN];
    const char *base = (const char *)cfg;
    for (size_t i = 0; i < NKEYS; i++) {
        const key_def_t *k = &keys[i];
        switch (k->type) {
        case KEY_VERSION:
            fprintf(out, "version: 1\n");
            break;
        case KEY_KAFKA:
            fprintf(out, "kafka:\n");
            for (size_t j = 0; j < cfg->nkafka; j++) {
                fprintf(out, "  %s: ", cfg->kafka[j].name);
                put_quoted(out, shown(cfg->kafka[j].name, cfg->kafka[j].value));
                fputc('\n', out);
            }
            break;
        case KEY_TOPICS:
            fprintf(out, "topics:%s\n", cfg->ntopics ? "" : " []");
            for (size_t j = 0; j < cfg->ntopics; j++) {
                fprintf(out, "  - name: ");
                put_quoted(out, cfg->topics[j].name);
                if (cfg->topics[j].format)
                    fprintf(out, "\n    format: %s", cfg->topics[j].format);
                if (cfg->topics[j].stale_after_ms)
                    fprintf(out, "\n    stale_after: %s",
                            cfg->topics[j].stale_after_ms < 0
                                ? "off"
                                : am_duration_format(cfg->topics[j].stale_after_ms, d));
                fputc('\n', out);
                if (has_labels(&cfg->topics[j].labels)) {
                    fprintf(out, "    labels:\n");
                    print_labels(out, &cfg->topics[j].labels, "      ", 0);
                }
            }
            break;
        case KEY_ROLE:
            fprintf(out, "%s: ", k->name);
            put_quoted(out, run_role_name(cfg->role));
            fputc('\n', out);
            break;
        case KEY_LISTEN:
        case KEY_STRING:
        case KEY_TOPIC: {
            const char *v = strcmp(k->name, "group") == 0
                                ? run_config_group(cfg)
                                : *(char *const *)(const void *)(base + k->off);
            if (!v && k->type == KEY_LISTEN)
                v = "off";
            fprintf(out, "%s: ", k->name);
            if (v)
                put_quoted(out, v);
            else
                fputc('~', out);
            fputc('\n', out);
            break;
        }
        case KEY_RECEIVE: {
            size_t n;
            const run_config_webhook_t *w = run_config_webhooks(cfg, &n);
            fprintf(out, "%s:\n  listen: ", k->name);
            if (cfg->receive)
                put_quoted(out, cfg->receive);
            else
                fputs("off", out);
            if (cfg->receive_token_file) {
                fprintf(out, "\n  token_file: ");
                put_quoted(out, cfg->receive_token_file);
            }
            fprintf(out, "\n  max_body_bytes: %ld\n  ack_timeout: %s\n  sources:\n",
                    cfg->receive_max_body, am_duration_format(cfg->receive_ack_timeout_ms, d));
            for (size_t j = 0; j < n; j++) {
                const struct {
                    const char *name, *value;
                } f[] = {{"topic", w[j].topic},
                         {"format", w[j].format},
                         {"token_file", w[j].token_file},
                         {"username", w[j].username},
                         {"password_file", w[j].password_file},
                         {"secret_file", w[j].secret_file},
                         {"signature", w[j].signature}};
                fprintf(out, "    - name: %s\n", w[j].name);
                for (size_t m = 0; m < sizeof f / sizeof f[0]; m++)
                    if (f[m].value) {
                        fprintf(out, "      %s: ", f[m].name);
                        put_quoted(out, f[m].value);
                        fputc('\n', out);
                    }
            }
            break;
        }
        case KEY_LIST:
            fprintf(out, "%s:%s\n", k->name, cfg->nrules ? "" : " []");
            for (size_t j = 0; j < cfg->nrules; j++) {
                fprintf(out, "  - ");
                put_quoted(out, cfg->rules[j]);
                fputc('\n', out);
            }
            break;
        case KEY_INT:
            fprintf(out, "%s: %ld\n", k->name, *(const long *)(const void *)(base + k->off));
            break;
        case KEY_DURATION:
        case KEY_DURATION_OFF: {
            int64_t ms = *(const int64_t *)(const void *)(base + k->off);
            fprintf(out, "%s: %s\n", k->name,
                    k->type == KEY_DURATION_OFF && ms == 0 ? "off" : am_duration_format(ms, d));
            break;
        }
        case KEY_LABELS:
            fprintf(out, "%s:\n", k->name);
            print_labels(out, &cfg->labels, "  ", 1);
            break;
        case KEY_WEBHOOKS: /* printed within receive */
            break;
        }
    }
}

static const char *type_name(key_type_t t)
{
    switch (t) {
    case KEY_VERSION:
    case KEY_INT:
        return "number";
    case KEY_STRING:
        return "text";
    case KEY_TOPIC:
        return "topic";
    case KEY_LISTEN:
        return "address";
    case KEY_DURATION:
        return "duration";
    case KEY_DURATION_OFF:
        return "duration|off";
    case KEY_KAFKA:
    case KEY_LABELS:
        return "map";
    case KEY_TOPICS:
    case KEY_LIST:
        return "list";
    case KEY_ROLE:
        return "role";
    case KEY_RECEIVE:
        return "address|map";
    case KEY_WEBHOOKS:
        return "list";
    }
    return "?";
}

void run_config_keys_usage(FILE *out)
{
    char lo[AM_TIME_STRLEN], hi[AM_TIME_STRLEN];
    for (size_t i = 0; i < NKEYS; i++) {
        const key_def_t *k = &keys[i];
        char extra[128] = "";
        if (k->type == KEY_INT && k->min != k->max)
            snprintf(extra, sizeof extra, ", %lld..%lld", (long long)k->min, (long long)k->max);
        else if (k->type == KEY_DURATION || k->type == KEY_DURATION_OFF)
            snprintf(extra, sizeof extra, ", %s..%s", am_duration_format(k->min, lo),
                     am_duration_format(k->max, hi));
        fprintf(out, "  %-23s %s%s%s%s%s\n", k->name, type_name(k->type), extra,
                k->def ? ", default " : "", k->def ? k->def : "", "");
        fprintf(out, "  %-23s %s\n", "", k->help);
        if (k->type == KEY_RECEIVE)
            for (size_t j = 0; j < NRECEIVE_KEYS; j++) {
                const key_def_t *r = &receive_keys[j];
                char name[64];
                snprintf(name, sizeof name, "receive.%s", r->name);
                extra[0] = '\0';
                if (r->type == KEY_INT)
                    snprintf(extra, sizeof extra, ", %lld..%lld", (long long)r->min,
                             (long long)r->max);
                else if (r->type == KEY_DURATION)
                    snprintf(extra, sizeof extra, ", %s..%s", am_duration_format(r->min, lo),
                             am_duration_format(r->max, hi));
                fprintf(out, "  %-23s %s%s%s%s\n", name, type_name(r->type), extra,
                        r->def ? ", default " : "", r->def ? r->def : "");
                fprintf(out, "  %-23s %s\n", "", r->help);
            }
    }
}

const char *run_config_key_name(size_t i)
{
    return i < NKEYS ? keys[i].name : NULL;
}

const char *run_config_key_default(size_t i)
{
    return i < NKEYS ? keys[i].def : NULL;
}

/* Logs the label map of topic (NULL: the top-level one), one line. */
static void log_label_map(const run_config_t *cfg, const run_config_topic_t *topic,
                          const am_log_t *log)
{
    am_label_map_t map;
    am_buf_t v[AM_LABEL_NFIELDS] = {{0}};
    run_config_label_map(cfg, topic, &map);
    for (size_t f = 0; f < AM_LABEL_NFIELDS; f++) {
        am_buf_puts(&v[f], "");
        for (size_t i = 0; map.names[f] && map.names[f][i]; i++)
            am_buf_printf(&v[f], "%s%s", i ? "," : "", map.names[f][i]);
    }
    am_log(log, AM_LOG_INFO, "label map", "topic", topic ? topic->name : "*", "service", v[0].p,
           "environment", v[1].p, "cluster", v[2].p, "severity", v[3].p, "version", v[4].p, "actor",
           v[5].p, NULL);
    for (size_t f = 0; f < AM_LABEL_NFIELDS; f++)
        am_buf_free(&v[f]);
}

void run_config_log(const run_config_t *cfg, const am_log_t *log)
{
    char n[32], d1[AM_TIME_STRLEN], d2[AM_TIME_STRLEN];
    am_buf_t topics = {0};
    for (size_t i = 0; i < cfg->ntopics; i++)
        am_buf_printf(&topics, "%s%s%s%s", i ? "," : "", cfg->topics[i].name,
                      cfg->topics[i].format ? ":" : "",
                      cfg->topics[i].format ? cfg->topics[i].format : "");
    snprintf(n, sizeof n, "%ld", cfg->batch_size);
    am_log(log, AM_LOG_INFO, "config", "role", run_role_name(cfg->role), "topics",
           topics.p ? topics.p : "", "group", run_config_group(cfg), "store", cfg->store,
           "batch_size", n, "batch_timeout", am_duration_format(cfg->batch_timeout_ms, d1),
           "stats_interval", am_duration_format(cfg->stats_interval_ms, d2), "dead_letter_topic",
           cfg->dead_letter_topic ? cfg->dead_letter_topic : "", NULL);
    for (size_t i = 0; i < cfg->nkafka; i++)
        am_log(log, AM_LOG_INFO, "kafka property", "name", cfg->kafka[i].name, "value",
               shown(cfg->kafka[i].name, cfg->kafka[i].value), NULL);
    log_label_map(cfg, NULL, log);
    for (size_t i = 0; i < cfg->ntopics; i++)
        if (has_labels(&cfg->topics[i].labels))
            log_label_map(cfg, &cfg->topics[i], log);
    am_buf_free(&topics);
}

void run_config_stale(const run_config_t *cfg, corr_options_t *opts, corr_stale_topic_t **topics)
{
    opts->stale_after = cfg->stale_after_ms ? cfg->stale_after_ms : -1;
    *topics = am_xcalloc(cfg->ntopics ? cfg->ntopics : 1, sizeof **topics);
    size_t n = 0;
    for (size_t i = 0; i < cfg->ntopics; i++)
        if (cfg->topics[i].stale_after_ms)
            (*topics)[n++] =
                (corr_stale_topic_t){cfg->topics[i].name, cfg->topics[i].stale_after_ms};
    opts->stale_topics = *topics;
    opts->nstale_topics = n;
}
