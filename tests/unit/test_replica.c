/*
 * test_replica.c - a view rebuilt from incidents-topic documents equals
 * the correlator's database it came from (correlate/replica.c).
 *
 * A scenario is replayed through the real pipeline into a correlator's
 * store; every incident is exported as a document with its replica, every
 * alias as a merge notice, every deploy as a deploy document; they are
 * applied shuffled, each twice, to a fresh store; then the tables (but
 * updated_at and seq) and what `incidents`, `show`, `report` and
 * `metrics` print must be the same from both. Then the view's own rules:
 * ghosts, merge notices in either order, and refused documents.
 *
 *   test_replica [--seed DIR]   DIR: a shared scenario (events.ndjson,
 *                               rules.yaml), run instead of the cases
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <sqlite3.h>
#include <stdlib.h>

#include "corr_util.h"
#include "synth_util.h"
#include "tmp_util.h"
#include "correlate/replica.h"
#include "ingest/replay.h"
#include "report/draft.h"
#include "report/status.h"
#include "report/metrics.h"

static const char *seed_dir;

/* ---- the correlator's side ---- */

static int on_record(void *arg, const am_record_t *rec)
{
    harness_t *h = arg;
    char err[1024];
    if (h_record(h, rec, err, sizeof err) != 0)
        fail_msg("pipeline: %s", err);
    return 0;
}

/* Replays text (NDJSON, as `aftermath replay` reads it) into a fresh
 * correlator's store in h, batch records a transaction. */
static void correlate_text(harness_t *h, const char *rules_yaml, const char *text, size_t batch)
{
    h_open(h, ":memory:", rules_yaml, batch, 0);
    ingest_replay_buffer("scenario", text, strlen(text), on_record, h);
    json_decref(h_incidents(h));
}

/* The first column of every row of sql, in order. */
static void column(store_t *st, const char *sql, am_strset_t *out)
{
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL), SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW)
        am_strset_add(out, (const char *)sqlite3_column_text(s, 0), NULL);
    sqlite3_finalize(s);
}

static char *dumps(const json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    assert_non_null(text);
    return text;
}

/* Every document a correlator (and decode, for deploys) would publish for
 * the state of st, as the text that goes on the topic. */
static void export_documents(store_t *st, lines_t *docs, size_t *nincidents, size_t *naliases)
{
    char err[1024];
    am_strset_t ids = {0};
    column(st, "SELECT id FROM incidents ORDER BY id", &ids);
    *nincidents = ids.n;
    column(st, "SELECT alias FROM incident_aliases ORDER BY alias", &ids);
    *naliases = ids.n - *nincidents;
    for (size_t i = 0; i < ids.n; i++) {
        json_t *doc = corr_replica_document(st, ids.v[i], err, sizeof err);
        if (!doc)
            fail_msg("%s: no document: %s", ids.v[i], err);
        assert_true(i < *nincidents ? json_object_get(doc, "replica") != NULL
                                    : json_object_get(doc, "merged_into") != NULL);
        char *text = dumps(doc);
        lines_push(docs, text);
        free(text);
        json_decref(doc);
    }
    am_strset_free(&ids);
    /* decode sends deploys, corrections and actions (as "people") */
    column(st, "SELECT id FROM events WHERE kind IN ('deploy', 'correction', 'action') ORDER BY id",
           &ids);
    for (size_t i = 0; i < ids.n; i++) {
        json_t *ev = corr_replica_event_json(st, ids.v[i], err, sizeof err);
        if (!ev)
            fail_msg("%s: %s", ids.v[i], err);
        const char *member = strcmp(json_string_value(json_object_get(ev, "kind")), "deploy") == 0
                                 ? "deploy"
                                 : "people";
        json_t *doc = json_pack("{s:i,s:o}", "schema_version", 1, member, ev);
        char *text = dumps(doc);
        lines_push(docs, text);
        free(text);
        json_decref(doc);
    }
    am_strset_free(&ids);
}

/* ---- the view's side ---- */

static store_t *view_open(void)
{
    char err[1024];
    store_t *st = store_open(":memory:", NULL, err, sizeof err);
    if (!st)
        fail_msg("store: %s", err);
    return st;
}

/* Applies text as one record; returns corr_replica_apply's code, the
 * reason in err. */
static int apply_text(store_t *st, const char *text, am_strset_t *changed, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    if (!doc)
        fail_msg("not JSON: %s: %.200s", jerr.text, text);
    int rc = corr_replica_apply(st, doc, changed, err, errlen);
    json_decref(doc);
    return rc;
}

/* Applies docs in one transaction each (as one consumer batch); every
 * document must be taken. */
static void apply_all(store_t *st, char *const *docs, size_t n, am_strset_t *changed)
{
    char err[1024];
    assert_int_equal(store_begin(st, err, sizeof err), 0);
    for (size_t i = 0; i < n; i++)
        if (apply_text(st, docs[i], changed, err, sizeof err) != 0)
            fail_msg("document %zu refused: %s: %.300s", i, err, docs[i]);
    assert_int_equal(store_commit(st, err, sizeof err), 0);
}

/* Every document twice, shuffled, in batches of 1 to 16. */
static void apply_shuffled(store_t *st, const lines_t *docs, uint64_t *seed)
{
    lines_t twice = {0};
    for (size_t i = 0; i < docs->n; i++) {
        lines_push(&twice, docs->v[i]);
        lines_push(&twice, docs->v[i]);
    }
    for (size_t i = twice.n; i > 1; i--) {
        size_t j = synth_rnd(seed) % i;
        char *t = twice.v[i - 1];
        twice.v[i - 1] = twice.v[j];
        twice.v[j] = t;
    }
    for (size_t i = 0; i < twice.n;) {
        size_t k = 1 + synth_rnd(seed) % 16;
        if (k > twice.n - i)
            k = twice.n - i;
        apply_all(st, twice.v + i, k, NULL);
        i += k;
    }
    lines_free(&twice);
}

/* ---- comparing ---- */

/* The rows of table (but the columns in skip, a list ",a,b,"), each as
 * quoted values, sorted, one a line; where, when not NULL, filters. */
static char *dump_table(store_t *st, const char *table, const char *skip, const char *where)
{
    sqlite3 *db = store_db(st);
    am_buf_t q = {0}, out = {0};
    char sql[256];
    snprintf(sql, sizeof sql, "PRAGMA table_info(%s)", table);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    am_buf_puts(&q, "SELECT ''");
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 1);
        char key[128];
        snprintf(key, sizeof key, ",%s,", name);
        if (!skip || !strstr(skip, key))
            am_buf_printf(&q, " || '%s=' || quote(\"%s\") || ' '", name, name);
    }
    sqlite3_finalize(s);
    am_buf_printf(&q, " FROM %s%s%s ORDER BY 1", table, where ? " WHERE " : "", where ? where : "");
    assert_int_equal(sqlite3_prepare_v2(db, q.p, -1, &s, NULL), SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW) {
        am_buf_puts(&out, (const char *)sqlite3_column_text(s, 0));
        am_buf_putc(&out, '\n');
    }
    sqlite3_finalize(s);
    am_buf_free(&q);
    return out.p ? am_buf_steal(&out) : am_xstrdup("");
}

/* Fails on the first line where a and b differ. */
static void same_text(const char *what, const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return;
    size_t i = 0, line = 1, start = 0;
    while (a[i] && a[i] == b[i]) {
        if (a[i] == '\n') {
            line++;
            start = i + 1;
        }
        i++;
    }
    fail_msg("%s differs at line %zu:\n  correlator: %.300s\n  view:       %.300s", what, line,
             a + start, b + start);
}

static void same_table(store_t *a, store_t *b, const char *table, const char *skip,
                       const char *where)
{
    char *x = dump_table(a, table, skip, where), *y = dump_table(b, table, skip, where);
    same_text(table, x, y);
    free(x);
    free(y);
}

/* What the CLI prints about incident id: show, and report in each format,
 * the status as of now_ms. A view holds only the events it needs, so its
 * latest event time is not the correlator's: the daemon shows the status
 * as of the wall clock, and both are given the same "now" here. */
static char *draft_text(store_t *st, const char *id, int64_t now_ms)
{
    char err[1024];
    report_options_t opts = {.now_ms = now_ms};
    report_draft_t *d = report_draft_create(st, id, &opts, err, sizeof err);
    if (!d)
        fail_msg("draft of %s: %s", id, err[0] ? err : "no such incident");
    am_buf_t b = {0};
    report_draft_text(d, &b);
    report_draft_markdown(d, &b);
    report_draft_json(d, &b);
    report_draft_html(d, &b);
    report_draft_destroy(d);
    return am_buf_steal(&b);
}

/* `aftermath metrics --by by` in every format. */
static char *metrics_text(store_t *st, const char *by)
{
    char err[1024];
    report_metrics_options_t opts = {.since = AM_TIME_NONE, .until = AM_TIME_NONE, .by = by};
    report_metrics_t *m = report_metrics_compute(st, &opts, err, sizeof err);
    if (!m)
        fail_msg("metrics: %s", err);
    json_t *j = report_metrics_json(m);
    am_buf_t b = {0};
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    am_buf_puts(&b, text);
    free(text);
    json_decref(j);
    report_metrics_table(m, &b);
    report_metrics_csv(m, &b);
    report_metrics_html(m, &b);
    report_metrics_destroy(m);
    return am_buf_steal(&b);
}

/* The view equals the correlator: tables and printed outputs. */
static void same_stores(store_t *corr, store_t *view)
{
    char err[1024];
    same_table(corr, view, "incidents", ",updated_at,", NULL);
    same_table(corr, view, "episodes", ",seq,", NULL);
    same_table(corr, view, "incident_events", NULL, NULL);
    same_table(corr, view, "incident_aliases", NULL, NULL);
    same_table(corr, view, "events", ",seq,record_seq,",
               "kind IN ('deploy', 'correction', 'action') OR id IN (SELECT event FROM "
               "incident_events)");
    same_table(corr, view, "incident_overlay", NULL, NULL);
    same_table(corr, view, "action_items", NULL, NULL);
    same_table(corr, view, "people_unattached", NULL, NULL);
    json_t *ia = corr_incidents_json(corr, err, sizeof err);
    json_t *ib = corr_incidents_json(view, err, sizeof err);
    assert_non_null(ia);
    assert_non_null(ib);
    char *x = json_dumps(ia, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    char *y = json_dumps(ib, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    same_text("aftermath incidents", x, y);
    free(x);
    free(y);
    json_decref(ib);
    size_t i;
    json_t *o;
    int64_t now;
    assert_int_equal(report_latest_event_time(corr, &now, err, sizeof err), 0);
    json_array_foreach(ia, i, o)
    {
        const char *id = json_string_value(json_object_get(o, "id"));
        x = draft_text(corr, id, now);
        y = draft_text(view, id, now);
        same_text(id, x, y);
        free(x);
        free(y);
    }
    json_decref(ia);
    static const char *const bys[] = {"service", "rule", "severity", "cluster"};
    for (size_t k = 0; k < sizeof bys / sizeof *bys; k++) {
        x = metrics_text(corr, bys[k]);
        y = metrics_text(view, bys[k]);
        same_text(bys[k], x, y);
        free(x);
        free(y);
    }
}

/* Correlates text, rebuilds a view from the documents, compares. */
static void check_scenario(const char *name, const char *rules_yaml, const char *text, size_t batch,
                           size_t min_aliases)
{
    harness_t h;
    correlate_text(&h, rules_yaml, text, batch);
    lines_t docs = {0};
    size_t nincidents, naliases;
    export_documents(h.st, &docs, &nincidents, &naliases);
    assert_true(nincidents > 0);
    assert_true(naliases >= min_aliases);
    store_t *view = view_open();
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    apply_shuffled(view, &docs, &seed);
    same_stores(h.st, view);
    printf("%s: %zu incidents, %zu aliases, %zu documents (each twice, shuffled): the view "
           "prints the same\n",
           name, nincidents, naliases, docs.n);
    store_close(view);
    lines_free(&docs);
    h_close(&h);
}

static char *default_rules(void)
{
    return tmp_slurp(AM_PROJECT "/rules/default.yaml");
}

static void test_example(void **state)
{
    (void)state;
    char *rules = default_rules(), *text = tmp_slurp(AM_EXAMPLES "/payments-latency.ndjson");
    check_scenario("payments-latency", rules, text, 1000, 0);
    free(rules);
    free(text);
}

/* The random stream, one record a batch: merges happen, so aliases too. */
static void test_synthetic(void **state)
{
    (void)state;
    lines_t l = {0};
    uint64_t seed = 11;
    synth(300, &seed, &l);
    am_buf_t b = {0};
    for (size_t i = 0; i < l.n; i++) {
        am_buf_puts(&b, l.v[i]);
        am_buf_putc(&b, '\n');
    }
    check_scenario("synthetic", SYNTH_RULES, b.p, 1, 1);
    am_buf_free(&b);
    lines_free(&l);
}

static void test_seed(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/rules.yaml", seed_dir);
    char *rules = tmp_slurp(path);
    snprintf(path, sizeof path, "%s/events.ndjson", seed_dir);
    char *text = tmp_slurp(path);
    check_scenario(seed_dir, rules, text, 1000, 0);
    free(rules);
    free(text);
}

/* The seed with people's corrections and actions: the view applies them
 * itself and prints the same, whatever order the documents come in. */
static void test_seed_people(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/rules.yaml", seed_dir);
    char *rules = tmp_slurp(path);
    snprintf(path, sizeof path, "%s/events.ndjson", seed_dir);
    char *text = tmp_slurp(path);
    char *people = tmp_slurp(AM_PROJECT "/tests/scenario/seed-corrections.ndjson");
    am_buf_t b = {0};
    am_buf_puts(&b, text);
    am_buf_puts(&b, people);
    check_scenario("seed with corrections", rules, b.p, 1000, 0);
    am_buf_free(&b);
    free(people);
    free(rules);
    free(text);
}

/* ---- the view's own rules, on hand-made documents ---- */

/* An alert event of the tests' rule, at minute start. */
static json_t *alert_event(const char *id, int start)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s},s:{},s:I,s:n,s:I}", "id", id, "kind",
                     "alert", "status", "firing", "source", "generic", "name", "Latency",
                     "identity", id, "labels", "cluster", "c1", "annotations", "starts_at",
                     (json_int_t)(BASE_MS + start * 60000LL), "ends_at", "observed_at",
                     (json_int_t)(BASE_MS + start * 60000LL + 1000));
}

/* An incident document: id with episodes (and an alert event each) of
 * the identities in idents, separated by commas: a letter (a starts at
 * minute 0, b at 1, ...) and, for an episode that ended, the minutes it
 * lasted (e.g. "a,b5"). */
static char *incident_doc(const char *id, long long num, const char *idents)
{
    json_t *eps = json_array(), *links = json_array(), *events = json_array();
    char buf[256];
    snprintf(buf, sizeof buf, "%s", idents);
    int k = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int start = t[0] - 'a';
        json_t *ends = t[1] ? json_integer(BASE_MS + (start + atoi(t + 1)) * 60000LL) : json_null();
        t[1] = '\0';
        json_array_append_new(
            eps, json_pack("{s:s,s:s,s:s,s:I,s:o,s:I,s:s,s:n,s:s,s:n}", "rule", "pages", "gkey",
                           "{\"cluster\":\"c1\"}", "identity", t, "starts_at",
                           (json_int_t)(BASE_MS + start * 60000LL), "ends_at", ends, "observed_at",
                           (json_int_t)(BASE_MS + start * 60000LL + 1000), "name", "Latency",
                           "service", "labels", "{\"cluster\":\"c1\"}", "users"));
        json_array_append_new(links, json_pack("{s:s,s:s}", "event", t, "role", "alert"));
        json_array_append_new(events, alert_event(t, start));
        k++;
    }
    json_t *inc = json_pack(
        "{s:s,s:I,s:s,s:s,s:s,s:I,s:I,s:n,s:n,s:n,s:i,s:n,s:n,s:s,s:s,s:s,s:s,s:n,s:n,"
        "s:s,s:n,s:n,s:n}",
        "id", id, "num", (json_int_t)num, "rule", "pages", "gkey", "{\"cluster\":\"c1\"}", "status",
        "open", "started_at", (json_int_t)BASE_MS, "detected_at", (json_int_t)BASE_MS + 1000,
        "acknowledged_at", "mitigated_at", "resolved_at", "alerts", k, "users_impacted", "lead",
        "services", "[]", "suspects", "[]", "during", "[]", "flapping", "{}", "alert_users",
        "link_users", "same_values", "[]", "link_basis", "impact_start", "ack_kind");
    json_t *doc =
        json_pack("{s:i,s:{s:s},s:{s:o,s:o,s:o,s:o}}", "schema_version", 1, "incident", "id", id,
                  "replica", "incident", inc, "episodes", eps, "links", links, "events", events);
    char *text = dumps(doc);
    json_decref(doc);
    return text;
}

static char *merged_doc(const char *old, const char *new)
{
    json_t *doc = json_pack("{s:i,s:s,s:s}", "schema_version", 1, "id", old, "merged_into", new);
    char *text = dumps(doc);
    json_decref(doc);
    return text;
}

/* Applies the documents, one transaction each; changed collects. */
static void apply_docs(store_t *st, am_strset_t *changed, char **docs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        apply_all(st, &docs[i], 1, changed);
        free(docs[i]);
    }
}

/* The incidents a view holds with their episodes' identities, its
 * aliases and its links, e.g. "A:a,b B:c | X>B | A~a A~b B~c". */
static char *view_state(store_t *st)
{
    sqlite3_stmt *s = NULL;
    const char *sql =
        "SELECT coalesce((SELECT group_concat(x, ' ') FROM (SELECT i.id || ':' || "
        "coalesce((SELECT group_concat(identity || coalesce((ends_at - starts_at) / 60000, ''), "
        "',') FROM (SELECT * FROM episodes WHERE incident = i.id ORDER BY identity)), '') AS x "
        "FROM incidents i ORDER BY i.id)), "
        "'') || ' | ' || coalesce((SELECT group_concat(y, ' ') FROM (SELECT alias || '>' || "
        "incident AS y FROM incident_aliases ORDER BY alias)), '') || ' | ' || "
        "coalesce((SELECT group_concat(z, ' ') FROM (SELECT incident || '~' || event AS z "
        "FROM incident_events ORDER BY 1)), '')";
    assert_int_equal(sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    char *out = am_xstrdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return out;
}

/* Every row of every table a document may write. */
static char *whole_state(store_t *st)
{
    static const char *const tables[] = {"incidents",        "episodes", "incident_events",
                                         "incident_aliases", "events",   "corr_meta"};
    am_buf_t b = {0};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        char *t = dump_table(st, tables[i], NULL, NULL);
        am_buf_printf(&b, "%s:\n%s", tables[i], t);
        free(t);
    }
    return am_buf_steal(&b);
}

static void expect_state(store_t *st, const char *want)
{
    char *got = view_state(st);
    if (strcmp(got, want) != 0)
        fail_msg("view holds\n  %s\nwant\n  %s", got, want);
    free(got);
}

static void expect_changed(am_strset_t *changed, const char *want)
{
    am_buf_t b = {0};
    for (size_t i = 0; i < changed->n; i++)
        am_buf_printf(&b, "%s%s", i ? "," : "", changed->v[i]);
    if (strcmp(b.p ? b.p : "", want) != 0)
        fail_msg("changed: %s, want %s", b.p ? b.p : "", want);
    am_buf_free(&b);
    am_strset_clear(changed);
}

static void test_ghost(void **state)
{
    (void)state;
    am_strset_t changed = {0};
    /* every episode of A claimed by B: A is a ghost, X (an alias of A) follows */
    store_t *st = view_open();
    char *d1[] = {incident_doc("A", 1, "a,b"), merged_doc("X", "A"),
                  incident_doc("B", 2, "a9,b,c")};
    apply_docs(st, &changed, d1, 3);
    expect_state(st, "B:a9,b,c | A>B X>B | B~a B~b B~c");
    expect_changed(&changed, "A,X,B");
    store_close(st);

    /* only some: A keeps the rest, nothing is aliased */
    st = view_open();
    char *d2[] = {incident_doc("A", 1, "a,b"), incident_doc("C", 3, "b2,c")};
    apply_docs(st, &changed, d2, 2);
    expect_state(st, "A:a C:b2,c |  | A~a A~b C~b C~c");
    expect_changed(&changed, "A,C");
    store_close(st);
    am_strset_free(&changed);
}

static void test_merged(void **state)
{
    (void)state;
    am_strset_t changed = {0};
    const char *want = "B:a,b,c | A>B | B~a B~b B~c";
    /* the notice after the new incident */
    store_t *st = view_open();
    char *d1[] = {incident_doc("A", 1, "a,b"), incident_doc("B", 2, "a,b,c"), merged_doc("A", "B")};
    apply_docs(st, &changed, d1, 3);
    expect_state(st, want);
    expect_changed(&changed, "A,B");
    store_close(st);

    /* the notice before the new incident */
    st = view_open();
    char *d2[] = {incident_doc("A", 1, "a,b"), merged_doc("A", "B"), incident_doc("B", 2, "a,b,c")};
    apply_docs(st, &changed, d2, 3);
    expect_state(st, want);
    expect_changed(&changed, "A,B");
    store_close(st);

    /* a stale A that came after B took its episodes back: the notice
     * returns them to B */
    st = view_open();
    char *d3[] = {incident_doc("B", 2, "a,b,c"), incident_doc("A", 1, "a,b"), merged_doc("A", "B")};
    apply_docs(st, &changed, d3, 3);
    expect_state(st, want);
    expect_changed(&changed, "B,A");
    store_close(st);

    /* a merge notice before the new incident, whose episodes another
     * incident then takes (a split): the new one is no ghost, only late */
    st = view_open();
    char *d7[] = {incident_doc("A", 1, "a,b"), merged_doc("A", "B"), incident_doc("C", 3, "a,b"),
                  incident_doc("B", 2, "c")};
    apply_docs(st, &changed, d7, 4);
    expect_state(st, "B:c C:a,b | A>B | B~c C~a C~b");
    expect_changed(&changed, "A,B,C");
    store_close(st);

    /* into an incident merged on: the alias goes to the end of the chain;
     * an id that comes back as an incident is no alias any more */
    st = view_open();
    char *d4[] = {merged_doc("B", "C"), merged_doc("A", "B"), incident_doc("C", 3, "a")};
    apply_docs(st, &changed, d4, 3);
    expect_state(st, "C:a | A>C B>C | C~a");
    char *d5[] = {incident_doc("A", 1, "b")};
    apply_docs(st, &changed, d5, 1);
    expect_state(st, "A:b C:a | B>C | A~b C~a");
    /* a notice that reverses an earlier one leaves no cycle */
    char *d6[] = {merged_doc("C", "B"), merged_doc("B", "C")};
    apply_docs(st, &changed, d6, 2);
    expect_state(st, "A:b | B>C | A~b");
    store_close(st);
    am_strset_free(&changed);
}

static void test_bad_documents(void **state)
{
    (void)state;
    static const struct {
        const char *doc, *reason;
    } bad[] = {
        {"[1]", "not a JSON object"},
        {"{\"id\":\"A\",\"merged_into\":\"B\"}", "schema_version: missing"},
        {"{\"schema_version\":3,\"id\":\"A\",\"merged_into\":\"B\"}",
         "schema_version: 3 is not 1 or 2"},
        {"{\"schema_version\":2,\"id\":\"A\",\"merged_into\":\"B\"}", "as_of: missing"},
        {"{\"schema_version\":2,\"of\":\"A\",\"part\":\"xx/1\",\"as_of\":1}",
         "part: 'xx/1' is neither"},
        {"{\"schema_version\":2,\"of\":\"A\",\"part\":\"ev/"
         "e\",\"as_of\":1,\"event_id\":\"f\",\"roles\":[]}",
         "event_id: 'f' is not the part's event 'e'"},
        {"{\"schema_version\":1,\"incident\":{}}",
         "none of replica, merged_into, deploy or people"},
        {"{\"schema_version\":1,\"id\":\"A\",\"merged_into\":\"A\"}", "merged_into: 'A' is"},
        {"{\"schema_version\":1,\"id\":\"\",\"merged_into\":\"B\"}", "id: empty"},
        {"{\"schema_version\":1,\"id\":\"A\",\"merged_into\":3}", "merged_into: not a string"},
        {"{\"schema_version\":1,\"replica\":[]}", "replica: not an object"},
        {"{\"schema_version\":1,\"replica\":{\"episodes\":[],\"links\":[],\"events\":[]}}",
         "replica.incident: missing"},
        {"{\"schema_version\":1,\"deploy\":{\"id\":\"d\",\"kind\":\"alert\",\"source\":\"x\"}}",
         "deploy.kind: 'alert' is not deploy"},
        {"{\"schema_version\":1,\"deploy\":{\"id\":\"d\",\"kind\":\"deploy\"}}",
         "deploy.source: missing"},
        {"{\"schema_version\":1,\"deploy\":{\"id\":\"d\",\"kind\":\"deploy\",\"source\":\"x\","
         "\"starts_at\":\"2024-01-01T00:00:00Z\"}}",
         "deploy.starts_at: not an integer"},
        {"{\"schema_version\":1,\"deploy\":{\"id\":\"d\",\"kind\":\"deploy\",\"source\":\"x\","
         "\"labels\":{\"a\":1}}}",
         "deploy.labels.a: not a string"},
    };
    char err[512];
    store_t *st = view_open();
    char *good[] = {incident_doc("A", 1, "a,b")};
    apply_docs(st, NULL, good, 1);
    char *before = whole_state(st);
    /* documents made bad in one member, late in the document, so that
     * what came before it must be undone */
    char *base_text = incident_doc("B", 2, "c,d");
    json_t *base = json_loads(base_text, 0, NULL);
    free(base_text);
    json_t *variants[8];
    const char *reasons[8];
    size_t nv = 0;
#define VARIANT(path_set, why)                                                                     \
    do {                                                                                           \
        json_t *v = json_deep_copy(base);                                                          \
        json_t *r = json_object_get(v, "replica");                                                 \
        path_set;                                                                                  \
        variants[nv] = v;                                                                          \
        reasons[nv++] = why;                                                                       \
    } while (0)
    VARIANT(json_object_set_new(json_array_get(json_object_get(r, "episodes"), 1), "starts_at",
                                json_string("x")),
            "replica.episodes[1].starts_at: not an integer");
    VARIANT(json_object_set_new(json_array_get(json_object_get(r, "episodes"), 1), "labels",
                                json_string("{")),
            "replica.episodes[1].labels: not the JSON text");
    VARIANT(json_object_del(json_array_get(json_object_get(r, "links"), 1), "role"),
            "replica.links[1].role: missing");
    VARIANT(json_object_set_new(json_array_get(json_object_get(r, "events"), 1), "kind",
                                json_string("page")),
            "replica.events[1].kind: 'page' is not alert, deploy, ack or note");
    VARIANT(json_object_set_new(json_object_get(r, "incident"), "status", json_null()),
            "replica.incident.status: missing");
    VARIANT(json_object_set_new(json_object_get(r, "incident"), "services", json_string("[")),
            "replica.incident.services: not the JSON text");
    VARIANT(json_object_set_new(json_object_get(r, "incident"), "num", json_integer(1)),
            "replica.incident.num: 1 is already incident A's");
    VARIANT(json_object_set_new(r, "links", json_object()), "replica.links: not an array");
#undef VARIANT
    assert_int_equal(store_begin(st, err, sizeof err), 0);
    am_strset_t changed = {0};
    for (size_t i = 0; i < sizeof bad / sizeof *bad + nv; i++) {
        char *text = i < sizeof bad / sizeof *bad ? am_xstrdup(bad[i].doc)
                                                  : dumps(variants[i - sizeof bad / sizeof *bad]);
        const char *why =
            i < sizeof bad / sizeof *bad ? bad[i].reason : reasons[i - sizeof bad / sizeof *bad];
        err[0] = '\0';
        int rc = apply_text(st, text, &changed, err, sizeof err);
        if (rc != CORR_REPLICA_REJECTED || !strstr(err, why))
            fail_msg("%s: returned %d, '%s'; want %d, '%s'", text, rc, err, CORR_REPLICA_REJECTED,
                     why);
        char *after = whole_state(st);
        same_text("a refused document's effect", before, after);
        free(after);
        free(text);
    }
    assert_int_equal(changed.n, 0);
    /* the stream goes on: the same transaction takes a good document */
    char *text = dumps(base);
    assert_int_equal(apply_text(st, text, &changed, err, sizeof err), 0);
    assert_int_equal(store_commit(st, err, sizeof err), 0);
    expect_state(st, "A:a,b B:c,d |  | A~a A~b B~c B~d");
    free(text);
    for (size_t i = 0; i < nv; i++)
        json_decref(variants[i]);
    json_decref(base);
    free(before);
    am_strset_free(&changed);
    store_close(st);
}

/* An event delivered again keeps its earliest observed_at, as the store's
 * events do, whichever document brings it. */
static void test_events_earliest(void **state)
{
    (void)state;
    static const long long observed[] = {700, 300, -1, 500};
    store_t *st = view_open();
    for (size_t i = 0; i < sizeof observed / sizeof *observed; i++) {
        json_t *doc = json_pack("{s:i,s:{s:s,s:s,s:s,s:s,s:I,s:o}}", "schema_version", 1, "deploy",
                                "id", "deploy:1", "kind", "deploy", "source", "generic", "name",
                                "api", "starts_at", (json_int_t)BASE_MS, "observed_at",
                                observed[i] < 0 ? json_null() : json_integer(observed[i]));
        char *text = dumps(doc);
        json_decref(doc);
        apply_docs(st, NULL, &text, 1);
    }
    char *doc = incident_doc("A", 1, "a");
    apply_docs(st, NULL, &doc, 1);
    doc = incident_doc("A", 1, "a"); /* a's observed_at: 1000 ms after its start */
    json_t *j = json_loads(doc, 0, NULL);
    free(doc);
    json_object_set_new(json_array_get(json_object_get(json_object_get(j, "replica"), "events"), 0),
                        "observed_at", json_integer(BASE_MS + 10));
    doc = dumps(j);
    json_decref(j);
    apply_docs(st, NULL, &doc, 1);
    char *events = dump_table(st, "events", ",seq,record_seq,labels,annotations,", NULL);
    assert_non_null(strstr(events, "id='a' kind='alert'"));
    assert_non_null(strstr(events, "observed_at=1704067200010 "));
    assert_non_null(strstr(events, "id='deploy:1' kind='deploy'"));
    assert_non_null(strstr(events, "observed_at=300 "));
    assert_int_equal(store_count(st, "events"), 2);
    free(events);
    store_close(st);
}

/* A view's database and a correlator's are not mixed up. */
static void test_roles(void **state)
{
    (void)state;
    char err[1024];
    harness_t h;
    char *rules = default_rules(), *text = tmp_slurp(AM_EXAMPLES "/payments-latency.ndjson");
    correlate_text(&h, rules, text, 1000);
    char *doc = incident_doc("A", 1, "a");
    assert_int_equal(store_begin(h.st, err, sizeof err), 0);
    assert_int_equal(apply_text(h.st, doc, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "holds a correlator's incidents"));
    store_rollback(h.st);

    store_t *view = view_open();
    char *docs[] = {doc};
    apply_docs(view, NULL, docs, 1);
    corr_engine_t *e = corr_engine_create(view, h.rules, NULL, NULL, err, sizeof err);
    assert_null(e);
    assert_non_null(strstr(err, "is a view's database"));
    assert_int_not_equal(corr_recorrelate(view, h.rules, NULL, err, sizeof err), 0);
    assert_non_null(strstr(err, "is a view's database"));
    expect_state(view, "A:a |  | A~a");
    store_close(view);
    h_close(&h);
    free(rules);
    free(text);
}

/* ---- documents in parts (schema 2) ---- */

/* What a correlator sends, in order. */
typedef struct sent {
    lines_t docs;
    size_t bytes;
} sent_t;

static int collect(void *arg, const char *key, const char *value, size_t len, char *err,
                   size_t errlen)
{
    (void)err;
    (void)errlen;
    sent_t *s = arg;
    lines_push(&s->docs, value);
    s->bytes += len + strlen(key);
    return 0;
}

/* Decode's deploy documents (schema 1) of every deploy in st. */
static void deploy_docs(store_t *st, sent_t *out)
{
    char err[1024];
    am_strset_t ids = {0};
    column(st, "SELECT id FROM events WHERE kind = 'deploy' ORDER BY id", &ids);
    for (size_t i = 0; i < ids.n; i++) {
        json_t *doc = json_pack("{s:i,s:o}", "schema_version", 1, "deploy",
                                corr_replica_event_json(st, ids.v[i], err, sizeof err));
        char *text = dumps(doc);
        lines_push(&out->docs, text);
        free(text);
        json_decref(doc);
    }
    am_strset_free(&ids);
}

/* Publishes every incident and alias of st in parts at as_of. */
static void publish_all(store_t *st, int64_t as_of, sent_t *out)
{
    char err[1024];
    am_strset_t ids = {0};
    column(st, "SELECT id FROM incidents ORDER BY id", &ids);
    column(st, "SELECT alias FROM incident_aliases ORDER BY alias", &ids);
    for (size_t i = 0; i < ids.n; i++)
        if (corr_replica_publish(st, ids.v[i], as_of, collect, out, NULL, err, sizeof err) != 0)
            fail_msg("%s: %s", ids.v[i], err);
    am_strset_free(&ids);
}

/* Publishes what the engine changed in the committed batches, as the
 * daemon does after each commit; *whole adds the bytes the whole
 * documents (schema 1) of the same incidents would have taken. */
static void publish_changed(harness_t *h, int64_t as_of, sent_t *out, size_t *whole)
{
    char err[1024];
    for (size_t i = 0; i < corr_engine_changed_count(h->engine); i++) {
        const char *id = corr_engine_changed_id(h->engine, i);
        if (corr_replica_publish(h->st, id, as_of, collect, out, NULL, err, sizeof err) != 0)
            fail_msg("%s: %s", id, err);
        json_t *doc = corr_replica_document(h->st, id, err, sizeof err);
        if (doc) {
            char *text = dumps(doc);
            *whole += strlen(text) + strlen(id);
            free(text);
            json_decref(doc);
        }
    }
    assert_int_equal(corr_engine_changed_done(h->engine, err, sizeof err), 0);
}

/* Applies docs in order, in batches of 1 to 16 that each end as the
 * view's do (corr_replica_settle); returns the incidents left waiting. */
static size_t apply_batches(store_t *st, char *const *docs, size_t n, uint64_t *seed,
                            uint64_t *stale)
{
    char err[1024];
    size_t waiting = 0;
    for (size_t i = 0; i < n;) {
        size_t k = 1 + synth_rnd(seed) % 16;
        if (k > n - i)
            k = n - i;
        assert_int_equal(store_begin(st, err, sizeof err), 0);
        for (size_t j = i; j < i + k; j++) {
            json_t *doc = json_loads(docs[j], 0, NULL);
            assert_non_null(doc);
            if (corr_replica_apply_counted(st, doc, NULL, stale, err, sizeof err) != 0)
                fail_msg("document %zu refused: %s: %.300s", j, err, docs[j]);
            json_decref(doc);
        }
        if (corr_replica_settle(st, NULL, &waiting, err, sizeof err) != 0)
            fail_msg("settle: %s", err);
        assert_int_equal(store_commit(st, err, sizeof err), 0);
        i += k;
    }
    return waiting;
}

/* The key a document goes under on the incidents topic. */
static char *doc_key(const char *text)
{
    json_t *d = json_loads(text, 0, NULL);
    const char *of = json_string_value(json_object_get(d, "of"));
    const char *id = json_string_value(json_object_get(d, "id"));
    const json_t *inc = json_object_get(json_object_get(d, "replica"), "incident");
    const json_t *event = json_object_get(d, "deploy");
    if (!event)
        event = json_object_get(d, "people");
    am_buf_t b = {0};
    if (of)
        am_buf_printf(&b, "%s/%s", of, json_string_value(json_object_get(d, "part")));
    else if (id)
        am_buf_puts(&b, id);
    else if (inc)
        am_buf_puts(&b, json_string_value(json_object_get(inc, "id")));
    else {
        char *key = corr_replica_event_key(json_string_value(json_object_get(event, "kind")),
                                           json_string_value(json_object_get(event, "id")));
        am_buf_puts(&b, key);
        free(key);
    }
    json_decref(d);
    return am_buf_steal(&b);
}

/* Correlates text batch records a transaction, publishing what changed
 * after each commit (as_of: the records consumed); a view applying the
 * parts in order equals the correlator, and so does a late view that
 * reads only the latest document of each key (a compacted topic). */
static void check_parts(const char *name, const char *rules_yaml, const char *text, size_t batch)
{
    harness_t h;
    char err[1024];
    h_open(&h, ":memory:", rules_yaml, batch, 0);
    sent_t out = {0};
    size_t whole = 0;
    int64_t consumed = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > 0)
            ingest_replay_buffer("scenario", p, len, on_record, &h);
        consumed++;
        p += len + (nl ? 1 : 0);
        if (consumed % (int64_t)batch == 0 || !*p) {
            h_flush(&h);
            publish_changed(&h, consumed, &out, &whole);
        }
    }
    deploy_docs(h.st, &out);
    store_t *view = view_open();
    uint64_t seed = 0x2545f4914f6cdd1dULL, stale = 0;
    assert_int_equal(apply_batches(view, out.docs.v, out.docs.n, &seed, &stale), 0);
    assert_int_equal(stale, 0);
    printf("%s: a view from the start\n", name);
    same_stores(h.st, view);
    store_close(view);
    /* a late view: the latest document of each key, in the order kept */
    lines_t last = {0}, keys = {0};
    am_strset_t seen = {0};
    for (size_t i = 0; i < out.docs.n; i++) {
        char *key = doc_key(out.docs.v[i]);
        lines_push(&keys, key);
        free(key);
    }
    for (size_t i = out.docs.n; i-- > 0;) { /* the latest of each key, last to first */
        bool added;
        am_strset_add(&seen, keys.v[i], &added);
        if (!added)
            free(out.docs.v[i]), out.docs.v[i] = NULL;
    }
    for (size_t i = 0; i < out.docs.n; i++)
        if (out.docs.v[i])
            lines_push(&last, out.docs.v[i]);
    lines_free(&keys);
    am_strset_free(&seen);
    printf("%s: a late view\n", name);
    view = view_open();
    assert_int_equal(apply_batches(view, last.v, last.n, &seed, &stale), 0);
    same_stores(h.st, view);
    store_close(view);
    printf("%s: %zu documents in parts (%zu bytes; whole documents: %zu bytes), %zu kept by "
           "compaction: both views print the same\n",
           name, out.docs.n, out.bytes, whole, last.n);
    (void)err;
    lines_free(&last);
    lines_free(&out.docs);
    h_close(&h);
}

static void test_parts_synthetic(void **state)
{
    (void)state;
    lines_t l = {0};
    uint64_t seed = 11;
    synth(300, &seed, &l);
    am_buf_t b = {0};
    for (size_t i = 0; i < l.n; i++) {
        am_buf_puts(&b, l.v[i]);
        am_buf_putc(&b, '\n');
    }
    check_parts("synthetic in parts", SYNTH_RULES, b.p, 7);
    am_buf_free(&b);
    lines_free(&l);
}

static void test_parts_example(void **state)
{
    (void)state;
    char *rules = default_rules(), *text = tmp_slurp(AM_EXAMPLES "/payments-latency.ndjson");
    check_parts("payments-latency in parts", rules, text, 5);
    free(rules);
    free(text);
}

/* The documents of one part of incident id in sent (its index), or of its
 * summary with part NULL: the last one. */
static size_t find_doc(const sent_t *s, const char *id, bool part)
{
    size_t found = SIZE_MAX;
    for (size_t i = 0; i < s->docs.n; i++) {
        json_t *d = json_loads(s->docs.v[i], 0, NULL);
        const char *of = json_string_value(json_object_get(d, "of"));
        const json_t *inc = json_object_get(json_object_get(d, "replica"), "incident");
        if (part ? of && strcmp(of, id) == 0
                 : inc && strcmp(json_string_value(json_object_get(inc, "id")), id) == 0)
            found = i;
        json_decref(d);
    }
    return found;
}

/* A summary whose parts have not all come is not applied: the incident
 * stays absent (or as it last was complete), the view says it waits; the
 * missing part completes it. */
static void test_parts_incomplete(void **state)
{
    (void)state;
    harness_t h;
    char err[1024];
    char *rules = default_rules(), *text = tmp_slurp(AM_EXAMPLES "/payments-latency.ndjson");
    correlate_text(&h, rules, text, 1000);
    sent_t out = {0};
    deploy_docs(h.st, &out);
    publish_all(h.st, 100, &out);
    am_strset_t ids = {0};
    column(h.st, "SELECT id FROM incidents ORDER BY alerts DESC, id LIMIT 1", &ids);
    size_t part = find_doc(&out, ids.v[0], true);
    assert_true(part != SIZE_MAX);
    lines_t without = {0};
    for (size_t i = 0; i < out.docs.n; i++)
        if (i != part)
            lines_push(&without, out.docs.v[i]);
    store_t *view = view_open();
    uint64_t seed = 5, stale = 0;
    corr_replica_view_state_t vs;
    assert_int_equal(corr_replica_view_state(view, &vs, err, sizeof err), 0);
    assert_false(vs.view);
    assert_int_equal(vs.waiting, 0);
    int64_t before = am_wall_ms();
    assert_int_equal(apply_batches(view, without.v, without.n, &seed, &stale), 1);
    int64_t after = am_wall_ms();
    /* the view says which incident waits, and since when */
    assert_int_equal(corr_replica_view_state(view, &vs, err, sizeof err), 0);
    assert_true(vs.view);
    assert_int_equal(vs.waiting, 1);
    assert_string_equal(vs.oldest, ids.v[0]);
    assert_true(vs.waiting_since >= before && vs.waiting_since <= after);
    assert_int_equal(vs.stale_docs, 0);
    /* overdue only past twice the correlators' snapshot bound */
    assert_false(corr_replica_wait_overdue(&vs, vs.waiting_since + CORR_REPLICA_WAIT_WARN_MS));
    assert_true(corr_replica_wait_overdue(&vs, vs.waiting_since + CORR_REPLICA_WAIT_WARN_MS + 1));
    /* a batch that does not complete it keeps the first time it waited */
    int64_t since = vs.waiting_since;
    assert_int_equal(apply_batches(view, without.v, 1, &seed, &stale), 1);
    assert_int_equal(corr_replica_view_state(view, &vs, err, sizeof err), 0);
    assert_int_equal(vs.waiting_since, since);
    am_strset_t got = {0};
    column(view, "SELECT id FROM incidents", &got);
    assert_true(am_strset_find(&got, ids.v[0]) == SIZE_MAX); /* absent, not partial */
    assert_int_equal(store_count(view, "incidents"), store_count(h.st, "incidents") - 1);
    /* the part comes (later, in another batch): complete */
    assert_int_equal(apply_batches(view, &out.docs.v[part], 1, &seed, &stale), 0);
    same_stores(h.st, view);
    assert_int_equal(corr_replica_view_state(view, &vs, err, sizeof err), 0);
    assert_int_equal(vs.waiting, 0);
    assert_int_equal(vs.waiting_since, AM_TIME_NONE);
    assert_string_equal(vs.oldest, "");
    assert_false(corr_replica_wait_overdue(&vs, am_wall_ms() + 10 * CORR_REPLICA_WAIT_WARN_MS));
    am_strset_free(&got);
    am_strset_free(&ids);
    lines_free(&without);
    lines_free(&out.docs);
    store_close(view);
    h_close(&h);
    free(rules);
    free(text);
}

/* A waiting summary found invalid once its parts came is dropped at the
 * batch's end, not retried forever: the batch commits. */
static void test_parts_invalid_waiting(void **state)
{
    (void)state;
    harness_t h;
    char *rules = default_rules(), *text = tmp_slurp(AM_EXAMPLES "/payments-latency.ndjson");
    correlate_text(&h, rules, text, 1000);
    sent_t out = {0};
    publish_all(h.st, 100, &out);
    am_strset_t ids = {0};
    column(h.st, "SELECT id FROM incidents ORDER BY alerts DESC, id LIMIT 1", &ids);
    size_t part = find_doc(&out, ids.v[0], true), sum = find_doc(&out, ids.v[0], false);
    assert_true(part != SIZE_MAX && sum != SIZE_MAX);
    json_t *bad = json_loads(out.docs.v[sum], 0, NULL);
    json_object_set_new(json_object_get(json_object_get(bad, "replica"), "incident"), "status",
                        json_null());
    free(out.docs.v[sum]);
    out.docs.v[sum] = dumps(bad);
    json_decref(bad);
    lines_t first = {0};
    for (size_t i = 0; i < out.docs.n; i++)
        if (i != part)
            lines_push(&first, out.docs.v[i]);
    store_t *view = view_open();
    uint64_t seed = 3, stale = 0;
    assert_int_equal(apply_batches(view, first.v, first.n, &seed, &stale), 1);
    assert_int_equal(apply_batches(view, &out.docs.v[part], 1, &seed, &stale), 0);
    am_strset_t got = {0};
    column(view, "SELECT id FROM incidents", &got);
    assert_true(am_strset_find(&got, ids.v[0]) == SIZE_MAX);
    am_strset_free(&got);
    am_strset_free(&ids);
    lines_free(&first);
    lines_free(&out.docs);
    store_close(view);
    h_close(&h);
    free(rules);
    free(text);
}

/* Fencing: documents of a correlator that lost its partition (an older
 * as_of) arriving after its successor's are dropped, whatever they say. */
static void test_parts_stale(void **state)
{
    (void)state;
    harness_t h;
    char err[1024];
    char *rules = default_rules(), *text = tmp_slurp(AM_EXAMPLES "/payments-latency.ndjson");
    size_t half = 0, lines = 0;
    for (const char *q = text; *q; q++)
        lines += *q == '\n';
    for (const char *q = text; *q && half < lines / 2; q++)
        if (*q == '\n' && ++half == lines / 2)
            half = (size_t)(q - text + 1), lines = 0;
    h_open(&h, ":memory:", rules, 1000, 0);
    ingest_replay_buffer("scenario", text, half, on_record, &h);
    h_flush(&h);
    sent_t old = {0}, now = {0};
    deploy_docs(h.st, &old);
    publish_all(h.st, 10, &old); /* the owner that will be frozen */
    ingest_replay_buffer("scenario", text + half, strlen(text + half), on_record, &h);
    h_flush(&h);
    assert_int_equal(corr_replica_forget(h.st, err, sizeof err), 0); /* a successor */
    deploy_docs(h.st, &now);
    publish_all(h.st, 20, &now);
    /* the frozen owner resumes and publishes again what it had */
    lines_t all = {0};
    for (size_t i = 0; i < old.docs.n; i++)
        lines_push(&all, old.docs.v[i]);
    for (size_t i = 0; i < now.docs.n; i++)
        lines_push(&all, now.docs.v[i]);
    size_t fresh = all.n;
    for (size_t i = 0; i < old.docs.n; i++)
        lines_push(&all, old.docs.v[i]);
    store_t *view = view_open();
    uint64_t seed = 9, stale = 0;
    assert_int_equal(apply_batches(view, all.v, fresh, &seed, &stale), 0);
    same_stores(h.st, view);
    assert_int_equal(apply_batches(view, all.v + fresh, all.n - fresh, &seed, &stale), 0);
    same_stores(h.st, view);
    assert_true(stale > 0);
    printf("stale: %" PRIu64 " documents of the older owner dropped\n", stale);
    /* the view's store counts them too (aftermath status) */
    corr_replica_view_state_t vs;
    assert_int_equal(corr_replica_view_state(view, &vs, err, sizeof err), 0);
    assert_int_equal(vs.stale_docs, (int64_t)stale);
    lines_free(&all);
    lines_free(&old.docs);
    lines_free(&now.docs);
    store_close(view);
    h_close(&h);
    free(rules);
    free(text);
}

/* ---- bounded waits and bounded publication state ---- */

#define T0 1700000000000LL
#define AGE CORR_REPLICA_SNAPSHOT_AGE_MS

/* Publishes every incident and alias of st in parts at as_of, at wall
 * clock now. */
static void publish_all_at(store_t *st, int64_t as_of, int64_t now, sent_t *out,
                           corr_replica_pub_stats_t *stats)
{
    char err[1024];
    am_strset_t ids = {0};
    column(st, "SELECT id FROM incidents ORDER BY id", &ids);
    column(st, "SELECT alias FROM incident_aliases ORDER BY alias", &ids);
    for (size_t i = 0; i < ids.n; i++)
        if (corr_replica_publish_at(st, ids.v[i], as_of, now, false, collect, out, stats, err,
                                    sizeof err) != 0)
            fail_msg("%s: %s", ids.v[i], err);
    am_strset_free(&ids);
}

/* A correlator that lost its partition sent parts of an incident (at an
 * as_of past its successor's snapshot) and died before their summary: the
 * successor's next summaries count other marks and the view waits. Once
 * the successor's snapshot is older than the bound, corr_replica_sweep
 * names the incident, its publication as a snapshot completes the view,
 * and it is not due again. */
static void test_parts_overwritten_snapshot(void **state)
{
    (void)state;
    harness_t h;
    char err[1024];
    char *rules = default_rules(), *text = tmp_slurp(AM_EXAMPLES "/payments-latency.ndjson");
    correlate_text(&h, rules, text, 1000);
    sent_t out = {0}, again = {0}, snap = {0};
    deploy_docs(h.st, &out);
    publish_all_at(h.st, 10, T0, &out, NULL);
    store_t *view = view_open();
    uint64_t seed = 11, stale = 0;
    assert_int_equal(apply_batches(view, out.docs.v, out.docs.n, &seed, &stale), 0);
    am_strset_t ids = {0}, due = {0};
    column(h.st, "SELECT id FROM incidents ORDER BY alerts DESC, id LIMIT 1", &ids);
    /* the stale owner's parts of the incident, at as_of 15, no summary */
    lines_t ghost = {0};
    for (size_t i = 0; i < out.docs.n; i++) {
        json_t *d = json_loads(out.docs.v[i], 0, NULL);
        const char *of = json_string_value(json_object_get(d, "of"));
        if (of && strcmp(of, ids.v[0]) == 0) {
            json_object_set_new(d, "as_of", json_integer(15));
            char *t = dumps(d);
            lines_push(&ghost, t);
            free(t);
        }
        json_decref(d);
    }
    assert_true(ghost.n > 0);
    assert_int_equal(apply_batches(view, ghost.v, ghost.n, &seed, &stale), 0);
    /* the owner publishes it again, unchanged: its summary only */
    assert_int_equal(corr_replica_publish_at(h.st, ids.v[0], 20, T0 + 1000, false, collect, &again,
                                             NULL, err, sizeof err),
                     0);
    assert_int_equal(again.docs.n, 1);
    assert_int_equal(apply_batches(view, again.docs.v, again.docs.n, &seed, &stale), 1);
    /* not due before the bound, due at it */
    int64_t forgotten = -1;
    assert_int_equal(corr_replica_sweep(h.st, T0 + AGE - 1, AGE, &due, &forgotten, err, sizeof err),
                     0);
    assert_int_equal(due.n, 0);
    assert_int_equal(forgotten, 0);
    assert_int_equal(corr_replica_sweep(h.st, T0 + AGE, AGE, &due, NULL, err, sizeof err), 0);
    assert_int_equal(due.n, 1);
    assert_string_equal(due.v[0], ids.v[0]);
    corr_replica_pub_stats_t stats = {0};
    assert_int_equal(corr_replica_publish_at(h.st, due.v[0], 20, T0 + AGE, true, collect, &snap,
                                             &stats, err, sizeof err),
                     0);
    assert_int_equal(stats.snapshots, 1);
    assert_true(snap.docs.n > 1);
    assert_int_equal(apply_batches(view, snap.docs.v, snap.docs.n, &seed, &stale), 0);
    same_stores(h.st, view);
    /* a snapshot leaves nothing due, however long after */
    am_strset_clear(&due);
    assert_int_equal(corr_replica_sweep(h.st, T0 + 3 * AGE, AGE, &due, NULL, err, sizeof err), 0);
    assert_int_equal(due.n, 0);
    printf("overwritten: %zu parts of a stale owner, a waiting summary, then a snapshot of %zu "
           "records: complete\n",
           ghost.n, snap.docs.n);
    am_strset_free(&due);
    am_strset_free(&ids);
    lines_free(&ghost);
    lines_free(&out.docs);
    lines_free(&again.docs);
    lines_free(&snap.docs);
    store_close(view);
    h_close(&h);
    free(rules);
    free(text);
}

/* What a correlator remembers of the incidents resolved and published
 * longer than the bound ago is forgotten; the open ones are kept; a
 * forgotten incident goes whole the next time, and a view reading it all
 * is the same. */
static void test_parts_forget_resolved(void **state)
{
    (void)state;
    harness_t h;
    char err[1024];
    lines_t l = {0};
    uint64_t sseed = 11;
    synth(300, &sseed, &l);
    am_buf_t text = {0};
    for (size_t i = 0; i < l.n; i++) {
        am_buf_puts(&text, l.v[i]);
        am_buf_putc(&text, '\n');
    }
    correlate_text(&h, SYNTH_RULES, text.p, 7);
    am_strset_t resolved = {0}, all = {0}, due = {0};
    column(h.st, "SELECT id FROM incidents WHERE resolved_at IS NOT NULL", &resolved);
    column(h.st, "SELECT id FROM incidents", &all);
    assert_true(resolved.n > 0 && resolved.n < all.n); /* open ones too */
    sent_t out = {0};
    corr_replica_pub_stats_t first = {0}, second = {0};
    deploy_docs(h.st, &out);
    publish_all_at(h.st, 10, T0, &out, &first);
    assert_int_equal(first.snapshots, all.n);
    int64_t forgotten = -1;
    assert_int_equal(corr_replica_sweep(h.st, T0 + AGE - 1, AGE, &due, &forgotten, err, sizeof err),
                     0);
    assert_int_equal(forgotten, 0);
    assert_int_equal(corr_replica_sweep(h.st, T0 + AGE, AGE, &due, &forgotten, err, sizeof err), 0);
    assert_int_equal(forgotten, (int64_t)resolved.n);
    assert_int_equal(due.n, 0);
    /* the next publication: the forgotten ones whole, the others their summary */
    publish_all_at(h.st, 20, T0 + AGE + 1, &out, &second);
    assert_int_equal(second.snapshots, resolved.n);
    store_t *view = view_open();
    uint64_t seed = 13, stale = 0;
    assert_int_equal(apply_batches(view, out.docs.v, out.docs.n, &seed, &stale), 0);
    same_stores(h.st, view);
    printf("forgotten: %zu resolved incidents of %zu\n", resolved.n, all.n);
    am_strset_free(&due);
    am_strset_free(&resolved);
    am_strset_free(&all);
    lines_free(&out.docs);
    store_close(view);
    h_close(&h);
    am_buf_free(&text);
    lines_free(&l);
}

/* Records with their keys, as they go on the incidents topic. */
typedef struct keyed {
    am_strset_t keys; /* distinct, in order of first use */
    lines_t last;     /* the latest value of each key (what compaction keeps) */
    size_t records;
} keyed_t;

static void keyed_put(keyed_t *k, const char *key, const char *value)
{
    bool added;
    size_t i = am_strset_add(&k->keys, key, &added);
    if (added) {
        lines_push(&k->last, value);
    } else {
        free(k->last.v[i]);
        k->last.v[i] = strdup(value);
    }
    k->records++;
}

static int collect_keyed(void *arg, const char *key, const char *value, size_t len, char *err,
                         size_t errlen)
{
    (void)err;
    (void)errlen;
    (void)len;
    keyed_put(arg, key, value);
    return 0;
}

/* Corrections and action item updates go on the incidents topic under one
 * key per event: a view started after compaction (the latest record of
 * each key) still applies every one, and equals the correlator. */
static void test_people_compacted(void **state)
{
    (void)state;
    harness_t h;
    char err[1024];
    char *rules = default_rules(), *text = tmp_slurp(AM_EXAMPLES "/payments-latency.ndjson");
    correlate_text(&h, rules, text, 1000);
    am_strset_t ids = {0}, people = {0};
    column(h.st, "SELECT id FROM incidents ORDER BY alerts DESC, id LIMIT 1", &ids);
    int64_t start = 0;
    {
        sqlite3_stmt *s = NULL;
        assert_int_equal(sqlite3_prepare_v2(store_db(h.st),
                                            "SELECT started_at FROM incidents WHERE id = ?1", -1,
                                            &s, NULL),
                         SQLITE_OK);
        sqlite3_bind_text(s, 1, ids.v[0], -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        start = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    h_close(&h);
    /* three corrections of one incident, an action item opened then done */
    static const char *const bodies[] = {
        "\"kind\":\"correction\",\"reason\":\"first\",\"set\":{\"title\":\"First title\"}",
        "\"kind\":\"correction\",\"reason\":\"second\",\"set\":{\"title\":\"Pool exhaustion\","
        "\"severity\":\"SEV2\"}",
        "\"kind\":\"correction\",\"reason\":\"third\",\"set\":{\"commander\":\"Ravi Patel\"}",
        "\"kind\":\"action\",\"item\":\"pool-alert\",\"task\":\"alert on pool use\","
        "\"status\":\"open\"",
        "\"kind\":\"action\",\"item\":\"pool-alert\",\"task\":\"alert on pool use\","
        "\"status\":\"done\"",
    };
    am_buf_t b = {0};
    am_buf_puts(&b, text);
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        char at[AM_TIME_STRLEN];
        am_buf_printf(&b, "{%s,\"incident\":\"%s\",\"at\":\"%s\",\"actor\":\"Jane Doe\"}\n",
                      bodies[i], ids.v[0], am_time_format(start + (int64_t)(i + 1) * 3600000, at));
    }
    correlate_text(&h, rules, b.p, 1000);
    /* the correlator's records, then decode's, each under its key */
    keyed_t topic = {0};
    sent_t parts = {0};
    publish_all_at(h.st, 10, T0, &parts, NULL);
    (void)parts;
    am_strset_t all = {0};
    column(h.st, "SELECT id FROM incidents ORDER BY id", &all);
    column(h.st, "SELECT alias FROM incident_aliases ORDER BY alias", &all);
    assert_int_equal(corr_replica_forget(h.st, err, sizeof err), 0);
    for (size_t i = 0; i < all.n; i++)
        assert_int_equal(corr_replica_publish_at(h.st, all.v[i], 10, T0, false, collect_keyed,
                                                 &topic, NULL, err, sizeof err),
                         0);
    column(h.st,
           "SELECT id FROM events WHERE kind IN ('deploy', 'correction', 'action') ORDER BY id",
           &people);
    size_t npeople = 0;
    for (size_t i = 0; i < people.n; i++) {
        json_t *ev = corr_replica_event_json(h.st, people.v[i], err, sizeof err);
        assert_non_null(ev);
        const char *kind = json_string_value(json_object_get(ev, "kind"));
        bool deploy = strcmp(kind, "deploy") == 0;
        npeople += !deploy;
        char *key = corr_replica_event_key(kind, people.v[i]);
        json_t *doc = json_pack("{s:i,s:o}", "schema_version", 1, deploy ? "deploy" : "people", ev);
        char *t = dumps(doc);
        keyed_put(&topic, key, t);
        free(t);
        free(key);
        json_decref(doc);
    }
    assert_int_equal(npeople, 5);
    /* no record replaced another: compaction keeps every one */
    assert_int_equal(topic.keys.n, topic.records);
    store_t *view = view_open();
    uint64_t seed = 17, stale = 0;
    assert_int_equal(apply_batches(view, topic.last.v, topic.last.n, &seed, &stale), 0);
    same_stores(h.st, view);
    am_strset_t items = {0}; /* the update came through, and the title's latest */
    column(view, "SELECT item || ' ' || status FROM action_items", &items);
    assert_int_equal(items.n, 1);
    assert_string_equal(items.v[0], "pool-alert done");
    am_strset_free(&items);
    am_strset_free(&all);
    am_strset_free(&people);
    am_strset_free(&ids);
    am_strset_free(&topic.keys);
    lines_free(&topic.last);
    lines_free(&parts.docs);
    am_buf_free(&b);
    store_close(view);
    h_close(&h);
    free(rules);
    free(text);
}

/* --write-view PATH: a view's database at PATH (a new file) holding the
 * example's incidents, its largest waiting for a part, and one stale
 * document dropped: for tests/cli/status_view.sh. */
static int write_view(const char *path)
{
    harness_t h;
    char err[1024];
    char *rules = default_rules(), *text = tmp_slurp(AM_EXAMPLES "/payments-latency.ndjson");
    correlate_text(&h, rules, text, 1000);
    sent_t out = {0};
    deploy_docs(h.st, &out);
    publish_all(h.st, 100, &out);
    am_strset_t ids = {0};
    column(h.st, "SELECT id FROM incidents ORDER BY alerts DESC, id LIMIT 1", &ids);
    size_t part = find_doc(&out, ids.v[0], true);
    json_t *old = json_loads(out.docs.v[part], 0, NULL);
    json_object_set_new(old, "as_of", json_integer(5));
    char *stale_text = dumps(old);
    json_decref(old);
    lines_t docs = {0};
    for (size_t i = 0; i < out.docs.n; i++)
        if (i != part)
            lines_push(&docs, out.docs.v[i]);
    lines_push(&docs, stale_text); /* older than the summary's base: dropped */
    store_t *view = store_open(path, NULL, err, sizeof err);
    int rc = 1;
    if (view) {
        uint64_t seed = 1, stale = 0;
        rc = apply_batches(view, docs.v, docs.n, &seed, &stale) == 1 && stale == 1 ? 0 : 1;
        printf("%s: a view with %s waiting\n", path, ids.v[0]);
    } else {
        fprintf(stderr, "%s\n", err);
    }
    store_close(view);
    free(stale_text);
    lines_free(&docs);
    lines_free(&out.docs);
    am_strset_free(&ids);
    h_close(&h);
    free(rules);
    free(text);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-view") == 0)
        return write_view(argv[2]);
    if (argc == 3 && strcmp(argv[1], "--seed") == 0) {
        seed_dir = argv[2];
        const struct CMUnitTest seed_tests[] = {cmocka_unit_test(test_seed),
                                                cmocka_unit_test(test_seed_people)};
        return cmocka_run_group_tests(seed_tests, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example),
        cmocka_unit_test(test_synthetic),
        cmocka_unit_test(test_ghost),
        cmocka_unit_test(test_merged),
        cmocka_unit_test(test_bad_documents),
        cmocka_unit_test(test_events_earliest),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_parts_synthetic),
        cmocka_unit_test(test_parts_example),
        cmocka_unit_test(test_parts_incomplete),
        cmocka_unit_test(test_parts_stale),
        cmocka_unit_test(test_parts_invalid_waiting),
        cmocka_unit_test(test_parts_overwritten_snapshot),
        cmocka_unit_test(test_parts_forget_resolved),
        cmocka_unit_test(test_people_compacted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
