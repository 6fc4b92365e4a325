/*
 * metrics.c - the registry behind /metrics and /healthz of `aftermath run`.
 *
 * The design choice a reader must know: the consuming thread keeps plain
 * counters and, at run_registry_publish(), renders the whole exposition and
 * the health document into text that replaces the snapshot under one
 * mutex; the HTTP thread copies that text out under the same mutex. So
 * nothing is locked per record, a scrape never sees half a batch, and
 * the HTTP thread never touches the store (whose connection the consuming
 * thread owns, inside open transactions). The incident histograms are
 * report/prom.c's, loaded from the store at start and fed each incident
 * once as it resolves.
 */
#include "run/registry.h"
#include "correlate/queries.h"
#include "common/time.h"
#include "ingest/decode.h"
#include "report/prom.h"
#include "report/metrics.h"

#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const reasons[] = {"too_large",     "invalid_json",  "unknown_format",
                                      "missing_field", "invalid_value", "null"};
#define NREASONS (sizeof reasons / sizeof reasons[0])

/* Upper bounds (seconds) of the batch commit latency buckets. */
static const double latency_le[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                    0.25,  0.5,    1,     2.5,  5,     10};
#define NLATENCY (sizeof latency_le / sizeof latency_le[0])

typedef struct topic_count {
    char *topic;
    uint64_t total, pending;
} topic_count_t;

typedef struct part_lag {
    char *topic;
    int32_t partition;
    int64_t next, end;
} part_lag_t;

struct run_registry {
    char *version;
    int64_t started_ms;

    topic_count_t *topics;
    size_t ntopics;
    uint64_t rejected[NREASONS], rejected_pending[NREASONS];
    run_stats_t mark; /* pipeline totals at the last commit or failure */
    uint64_t stored, duplicates, batches, store_errors;
    uint64_t latency[NLATENCY + 1]; /* non-cumulative; the last is over every bound */
    uint64_t latency_count;
    double latency_sum;
    int64_t last_commit_ms; /* wall clock; AM_TIME_NONE before the first */
    int64_t open_incidents; /* -1 before it is known */
    report_prom_t *incidents;
    report_followups_t follow; /* the people's follow-ups, at the last count */

    part_lag_t *parts; /* the assignment */
    size_t nparts;
    int joined, brokers_up, stopping;
    int receiving; /* role receive: 1 while the receiver's producer reaches the brokers */
    int64_t brokers_down_since;
    int store_failing;
    char store_err[512];
    int paused; /* consumption paused for store_err's reason (not the store) */
    const char *state;
    int64_t state_since;
    /* role view (run_registry_view) */
    int view;
    int64_t view_waiting, view_waiting_since, view_stale;
    char view_oldest[128];

    am_buf_t text; /* rendering scratch */

    pthread_mutex_t mu; /* guards the snapshot below */
    char *snap_metrics;
    char *snap_health; /* the health document without its verdict */
    const char *snap_state;
    int64_t snap_at;
};

/* Recomputes the state from what is known; `since` moves on a change. */
static void update_state(run_registry_t *m)
{
    const char *s = m->stopping                             ? "stopping"
                    : m->paused                             ? "paused"
                    : m->store_failing                      ? "store_error"
                    : m->brokers_down_since != AM_TIME_NONE ? "broker_down"
                    : m->receiving                          ? "receiving"
                    : !m->joined                            ? "starting"
                                                            : "consuming";
    if (!m->state || strcmp(s, m->state) != 0) {
        m->state = s;
        m->state_since = am_wall_ms();
    }
}

run_registry_t *run_registry_create(const char *version, int64_t started_ms)
{
    run_registry_t *m = am_xcalloc(1, sizeof *m);
    m->version = am_xstrdup(version);
    m->started_ms = started_ms;
    m->last_commit_ms = AM_TIME_NONE;
    m->open_incidents = -1;
    m->follow.close_p50 = AM_TIME_NONE;
    m->brokers_down_since = AM_TIME_NONE;
    m->incidents = report_prom_create();
    pthread_mutex_init(&m->mu, NULL);
    update_state(m);
    run_registry_publish(m);
    return m;
}

static void free_parts(run_registry_t *m)
{
    for (size_t i = 0; i < m->nparts; i++)
        free(m->parts[i].topic);
    free(m->parts);
    m->parts = NULL;
    m->nparts = 0;
}

void run_registry_destroy(run_registry_t *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m->snap_metrics);
    free(m->snap_health);
    am_buf_free(&m->text);
    free_parts(m);
    for (size_t i = 0; i < m->ntopics; i++)
        free(m->topics[i].topic);
    free(m->topics);
    report_prom_destroy(m->incidents);
    free(m->version);
    free(m);
}

int run_registry_load(run_registry_t *m, store_t *st, char *err, size_t errlen)
{
    if (report_prom_load(m->incidents, st, err, errlen) != 0)
        return -1;
    return run_registry_count_open(m, st, err, errlen);
}

static topic_count_t *topic_get(run_registry_t *m, const char *topic)
{
    for (size_t i = 0; i < m->ntopics; i++)
        if (strcmp(m->topics[i].topic, topic) == 0)
            return &m->topics[i];
    m->topics = am_xrealloc(m->topics, (m->ntopics + 1) * sizeof *m->topics);
    m->topics[m->ntopics] = (topic_count_t){.topic = am_xstrdup(topic)};
    return &m->topics[m->ntopics++];
}

void run_registry_record(run_registry_t *m, const char *topic)
{
    topic_get(m, topic ? topic : "")->pending++;
}

void run_registry_reject(run_registry_t *m, const char *reason)
{
    const char *c = ingest_reject_class(reason);
    for (size_t i = 0; i < NREASONS; i++)
        if (strcmp(reasons[i], c) == 0)
            m->rejected_pending[i]++;
}

static void drop_pending(run_registry_t *m, const run_stats_t *stats)
{
    for (size_t i = 0; i < m->ntopics; i++)
        m->topics[i].pending = 0;
    memset(m->rejected_pending, 0, sizeof m->rejected_pending);
    m->mark = *stats;
}

void run_registry_committed(run_registry_t *m, const run_stats_t *stats, double seconds)
{
    for (size_t i = 0; i < m->ntopics; i++)
        m->topics[i].total += m->topics[i].pending;
    for (size_t i = 0; i < NREASONS; i++)
        m->rejected[i] += m->rejected_pending[i];
    m->stored += stats->stored - m->mark.stored;
    m->duplicates += stats->duplicates - m->mark.duplicates;
    drop_pending(m, stats);
    m->batches++;
    size_t b = 0;
    while (b < NLATENCY && seconds > latency_le[b])
        b++;
    m->latency[b]++;
    m->latency_count++;
    m->latency_sum += seconds;
    m->last_commit_ms = am_wall_ms();
    m->store_failing = 0;
    m->paused = 0;
    update_state(m);
}

void run_registry_paused(run_registry_t *m, const run_stats_t *stats, const char *why)
{
    drop_pending(m, stats);
    m->paused = 1;
    am_errf(m->store_err, sizeof m->store_err, "%s", why ? why : "");
    update_state(m);
    run_registry_publish(m);
}

void run_registry_failed(run_registry_t *m, const run_stats_t *stats, const char *err)
{
    drop_pending(m, stats);
    m->store_errors++;
    m->store_failing = 1;
    am_errf(m->store_err, sizeof m->store_err, "%s", err ? err : "");
    update_state(m);
}

int run_registry_incident(run_registry_t *m, store_t *st, const char *id, char *err, size_t errlen)
{
    return report_prom_observe_id(m->incidents, st, id, err, errlen) < 0 ? -1 : 0;
}

int run_registry_count_open(run_registry_t *m, store_t *st, char *err, size_t errlen)
{
    if (corr_count_open(st, &m->open_incidents, err, errlen) != 0)
        return -1;
    return report_metrics_followups(st, AM_TIME_NONE, AM_TIME_NONE, am_wall_ms(), &m->follow, err,
                                    errlen);
}

void run_registry_consumer(run_registry_t *m, const ingest_kafka_view_t *view)
{
    free_parts(m);
    m->parts = am_xcalloc(view->nparts + 1, sizeof *m->parts);
    for (size_t i = 0; i < view->nparts; i++) {
        const ingest_kafka_part_view_t *p = &view->parts[i];
        m->parts[i] = (part_lag_t){am_xstrdup(p->topic), p->partition, p->next, p->end};
        topic_get(m, p->topic); /* a consumed topic has a series from the start */
    }
    m->nparts = view->nparts;
    m->joined = view->joined;
    m->brokers_up = view->brokers_up;
    m->brokers_down_since = view->brokers_down_since;
    update_state(m);
}

void run_registry_view(run_registry_t *m, int64_t waiting, int64_t since_ms, const char *oldest,
                       int64_t stale_docs)
{
    m->view = 1;
    m->view_waiting = waiting;
    m->view_waiting_since = waiting > 0 ? since_ms : AM_TIME_NONE;
    snprintf(m->view_oldest, sizeof m->view_oldest, "%s", waiting > 0 && oldest ? oldest : "");
    m->view_stale = stale_docs;
}

void run_registry_stopping(run_registry_t *m)
{
    m->stopping = 1;
    update_state(m);
}

/* --- rendering ------------------------------------------------------------ */

static void family(am_buf_t *b, const char *name, const char *type, const char *help)
{
    am_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_metrics(const run_registry_t *m, am_buf_t *b)
{
    family(b, "aftermath_build_info", "gauge", "Always 1; the version of aftermath running.");
    am_buf_puts(b, "aftermath_build_info{version=\"");
    report_prom_label_value(b, m->version);
    am_buf_puts(b, "\"} 1\n");
    family(b, "process_start_time_seconds", "gauge",
           "Start time of the process since the Unix epoch, in seconds.");
    am_buf_printf(b, "process_start_time_seconds %.3f\n", (double)m->started_ms / 1000.0);

    family(b, "aftermath_records_consumed_total", "counter",
           "Kafka records consumed and committed to the store, by topic.");
    for (size_t i = 0; i < m->ntopics; i++) {
        am_buf_puts(b, "aftermath_records_consumed_total{topic=\"");
        report_prom_label_value(b, m->topics[i].topic);
        am_buf_printf(b, "\"} %" PRIu64 "\n", m->topics[i].total);
    }
    family(b, "aftermath_records_rejected_total", "counter",
           "Records refused (kept in the rejected table), by reason class.");
    for (size_t i = 0; i < NREASONS; i++)
        am_buf_printf(b, "aftermath_records_rejected_total{reason=\"%s\"} %" PRIu64 "\n",
                      reasons[i], m->rejected[i]);
    family(b, "aftermath_events_stored_total", "counter",
           "Events decoded from records and stored for the first time.");
    am_buf_printf(b, "aftermath_events_stored_total %" PRIu64 "\n", m->stored);
    family(b, "aftermath_duplicate_events_total", "counter",
           "Events decoded from records that the store already held.");
    am_buf_printf(b, "aftermath_duplicate_events_total %" PRIu64 "\n", m->duplicates);
    family(b, "aftermath_batches_committed_total", "counter",
           "Batches committed to the store (events and offsets in one transaction).");
    am_buf_printf(b, "aftermath_batches_committed_total %" PRIu64 "\n", m->batches);
    family(b, "aftermath_batch_commit_duration_seconds", "histogram",
           "Time to commit a batch: offsets, correlation and the SQLite commit.");
    uint64_t cum = 0;
    for (size_t i = 0; i < NLATENCY; i++) {
        cum += m->latency[i];
        am_buf_printf(b, "aftermath_batch_commit_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                      latency_le[i], cum);
    }
    am_buf_printf(b,
                  "aftermath_batch_commit_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n"
                  "aftermath_batch_commit_duration_seconds_sum %.6f\n"
                  "aftermath_batch_commit_duration_seconds_count %" PRIu64 "\n",
                  m->latency_count, m->latency_sum, m->latency_count);
    family(b, "aftermath_last_batch_commit_timestamp_seconds", "gauge",
           "When the last batch committed, since the Unix epoch, in seconds.");
    if (m->last_commit_ms != AM_TIME_NONE)
        am_buf_printf(b, "aftermath_last_batch_commit_timestamp_seconds %.3f\n",
                      (double)m->last_commit_ms / 1000.0);
    family(b, "aftermath_store_errors_total", "counter",
           "Store failures that rolled a batch back (it is written again).");
    am_buf_printf(b, "aftermath_store_errors_total %" PRIu64 "\n", m->store_errors);

    family(b, "aftermath_consumer_lag", "gauge",
           "Records of an assigned partition not yet committed to the store: high watermark "
           "minus the stored next offset.");
    for (size_t i = 0; i < m->nparts; i++) {
        const part_lag_t *p = &m->parts[i];
        if (p->next < 0 || p->end < 0)
            continue; /* unknown: no sample rather than a made-up one */
        am_buf_puts(b, "aftermath_consumer_lag{topic=\"");
        report_prom_label_value(b, p->topic);
        am_buf_printf(b, "\",partition=\"%" PRId32 "\"} %" PRId64 "\n", p->partition,
                      p->end > p->next ? p->end - p->next : 0);
    }
    family(b, "aftermath_kafka_brokers_up", "gauge",
           "1 when a connection to a Kafka broker is up, else 0.");
    am_buf_printf(b, "aftermath_kafka_brokers_up %d\n", m->brokers_up);
    family(b, "aftermath_incidents_open", "gauge", "Incidents not resolved yet, in the store.");
    if (m->open_incidents >= 0)
        am_buf_printf(b, "aftermath_incidents_open %" PRId64 "\n", m->open_incidents);
    /* The people's record (correlate/people.h), counted apart from the
     * histograms, which observe each incident once. */
    family(b, "aftermath_incidents_corrected", "gauge",
           "Incidents a person corrected (aftermath correct), dismissed ones included.");
    am_buf_printf(b, "aftermath_incidents_corrected %" PRId64 "\n", m->follow.corrected);
    family(b, "aftermath_action_items", "gauge", "Action items of the incidents, by status.");
    am_buf_printf(b, "aftermath_action_items{status=\"open\"} %" PRId64 "\n", m->follow.open);
    am_buf_printf(b, "aftermath_action_items{status=\"done\"} %" PRId64 "\n", m->follow.done);
    family(b, "aftermath_action_items_overdue", "gauge",
           "Open action items past their due time, at the last change of an incident.");
    am_buf_printf(b, "aftermath_action_items_overdue %" PRId64 "\n", m->follow.overdue);
    family(b, "aftermath_action_items_close_seconds_p50", "gauge",
           "Median time from an action item opened to done (absent until one is done).");
    if (m->follow.close_p50 != AM_TIME_NONE)
        am_buf_printf(b, "aftermath_action_items_close_seconds_p50 %.3f\n",
                      (double)m->follow.close_p50 / 1000.0);
    if (m->view) {
        family(b, "aftermath_view_incidents_waiting", "gauge",
               "Incidents whose latest summary waits for parts (each keeps its last complete "
               "state).");
        am_buf_printf(b, "aftermath_view_incidents_waiting %" PRId64 "\n", m->view_waiting);
        family(b, "aftermath_view_incident_waiting_since_timestamp_seconds", "gauge",
               "Since when the incident waiting longest waits (absent: none waits).");
        if (m->view_waiting_since != AM_TIME_NONE)
            am_buf_printf(b, "aftermath_view_incident_waiting_since_timestamp_seconds %.3f\n",
                          (double)m->view_waiting_since / 1000.0);
        family(b, "aftermath_view_stale_documents_total", "counter",
               "Incident documents dropped as older than what the view held (a correlator that "
               "lost its partition), over the store's life.");
        am_buf_printf(b, "aftermath_view_stale_documents_total %" PRId64 "\n", m->view_stale);
    }
    report_prom_write(m->incidents, b);
}

static json_t *time_json(int64_t ms)
{
    char t[AM_TIME_STRLEN];
    return ms == AM_TIME_NONE ? json_null() : json_string(am_time_format(ms, t));
}

static char *render_health(const run_registry_t *m)
{
    json_t *doc = json_object(), *parts = json_array();
    json_object_set_new(doc, "state", json_string(m->state));
    json_object_set_new(doc, "since", time_json(m->state_since));
    json_object_set_new(doc, "brokers_up", json_boolean(m->brokers_up));
    json_object_set_new(doc, "brokers_down_since", time_json(m->brokers_down_since));
    json_object_set_new(doc, "store_error",
                        m->store_failing && !m->paused ? json_string(m->store_err) : json_null());
    json_object_set_new(doc, "paused", m->paused ? json_string(m->store_err) : json_null());
    json_object_set_new(doc, "last_batch_commit", time_json(m->last_commit_ms));
    for (size_t i = 0; i < m->nparts; i++) {
        const part_lag_t *p = &m->parts[i];
        json_t *o = json_object();
        json_object_set_new(o, "topic", json_string(p->topic));
        json_object_set_new(o, "partition", json_integer(p->partition));
        json_object_set_new(o, "next_offset", p->next >= 0 ? json_integer(p->next) : json_null());
        json_object_set_new(o, "end_offset", p->end >= 0 ? json_integer(p->end) : json_null());
        json_object_set_new(o, "lag",
                            p->next >= 0 && p->end >= 0
                                ? json_integer(p->end > p->next ? p->end - p->next : 0)
                                : json_null());
        json_array_append_new(parts, o);
    }
    json_object_set_new(doc, "assignment", parts);
    if (m->view) {
        json_t *v = json_object();
        json_object_set_new(v, "incidents_waiting", json_integer(m->view_waiting));
        json_object_set_new(v, "waiting_since", time_json(m->view_waiting_since));
        json_object_set_new(v, "oldest_waiting",
                            m->view_oldest[0] ? json_string(m->view_oldest) : json_null());
        json_object_set_new(v, "stale_documents", json_integer(m->view_stale));
        json_object_set_new(doc, "view", v);
    }
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

void run_registry_publish(run_registry_t *m)
{
    am_buf_reset(&m->text);
    render_metrics(m, &m->text);
    char *metrics = am_xstrndup(m->text.p ? m->text.p : "", m->text.len);
    char *health = render_health(m);
    pthread_mutex_lock(&m->mu);
    char *old_metrics = m->snap_metrics, *old_health = m->snap_health;
    m->snap_metrics = metrics;
    m->snap_health = health;
    m->snap_state = m->state; /* a static string */
    m->snap_at = am_wall_ms();
    pthread_mutex_unlock(&m->mu);
    free(old_metrics);
    free(old_health);
}

void run_registry_scrape(run_registry_t *m, am_buf_t *out)
{
    pthread_mutex_lock(&m->mu);
    am_buf_puts(out, m->snap_metrics);
    pthread_mutex_unlock(&m->mu);
}

void run_registry_receiver(run_registry_t *m, bool brokers_up)
{
    m->receiving = 1;
    if (brokers_up)
        m->brokers_down_since = AM_TIME_NONE;
    else if (m->brokers_down_since == AM_TIME_NONE)
        m->brokers_down_since = am_wall_ms();
    update_state(m);
}

int run_registry_health(run_registry_t *m, int64_t now_ms, am_buf_t *out)
{
    pthread_mutex_lock(&m->mu);
    json_t *doc = json_loads(m->snap_health, 0, NULL);
    int stale = now_ms - m->snap_at > RUN_REGISTRY_STALE_MS;
    int healthy = !stale && (strcmp(m->snap_state, "consuming") == 0 ||
                             strcmp(m->snap_state, "receiving") == 0);
    int64_t at = m->snap_at;
    pthread_mutex_unlock(&m->mu);
    if (!doc)
        doc = json_object();
    json_object_set_new(doc, "healthy", json_boolean(healthy));
    json_object_set_new(doc, "stale", json_boolean(stale));
    json_object_set_new(doc, "updated", time_json(at));
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    am_buf_puts(out, text);
    am_buf_putc(out, '\n');
    free(text);
    json_decref(doc);
    return healthy;
}
