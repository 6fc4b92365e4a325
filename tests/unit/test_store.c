/*
 * test_store.c - the SQLite store: idempotence, earliest observed_at,
 * rejected records kept once, offsets, persistence, refusing foreign or
 * newer databases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "store/store.h"
#include "tmp_util.h"

static void make_alert(am_event_t *ev, const char *id, int64_t observed)
{
    ev->id = am_xstrdup(id);
    ev->kind = AM_KIND_ALERT;
    ev->status = am_xstrdup("firing");
    ev->source = "alertmanager";
    ev->name = am_xstrdup("HighErrorRate");
    ev->identity = am_xstrdup("21f9c7b04a1322f8");
    ev->service = am_xstrdup("web");
    am_labels_set(&ev->labels, "alertname", "HighErrorRate");
    am_labels_set(&ev->labels, "service", "web");
    am_labels_set(&ev->annotations, "summary", "5xx <b>|");
    ev->summary = am_xstrdup("5xx <b>|");
    ev->starts_at = 1718720940000LL;
    ev->observed_at = observed;
}

static store_t *open_ok(const char *path)
{
    char err[512];
    store_t *st = store_open(path, NULL, err, sizeof err);
    if (!st)
        fail_msg("store_open: %s", err);
    return st;
}

static void put(store_t *st, const am_record_t *rec, const am_event_list_t *l, store_outcome_t *out)
{
    char err[512];
    assert_int_equal(store_begin(st, err, sizeof err), 0);
    if (store_put(st, rec, l, out, err, sizeof err) != 0)
        fail_msg("store_put: %s", err);
    assert_int_equal(store_commit(st, err, sizeof err), 0);
}

typedef struct scan {
    int n;
    int64_t observed;
    char name[64], summary[64], annotation[64];
} scan_t;

static int on_event(void *arg, int64_t seq, const am_event_t *ev)
{
    scan_t *s = arg;
    (void)seq;
    s->n++;
    s->observed = ev->observed_at;
    snprintf(s->name, sizeof s->name, "%s", ev->name);
    snprintf(s->summary, sizeof s->summary, "%s", ev->summary);
    snprintf(s->annotation, sizeof s->annotation, "%s", am_labels_get(&ev->annotations, "summary"));
    return 0;
}

static void test_idempotent_and_earliest_observed(void **state)
{
    (void)state;
    char dir[64], path[128];
    tmp_dir(dir);
    snprintf(path, sizeof path, "%s/a.db", dir);
    store_t *st = open_ok(path);
    am_record_t rec = {.payload = "{raw}",
                       .len = 5,
                       .file = "x.ndjson",
                       .line = 1,
                       .ts = 2000,
                       .partition = -1,
                       .offset = -1};
    am_event_list_t l = {0};
    make_alert(am_event_list_push(&l), "alert:1", 2000);
    store_outcome_t out[1];

    put(st, &rec, &l, out);
    assert_int_equal(out[0], STORE_NEW);
    put(st, &rec, &l, out); /* same delivery again */
    assert_int_equal(out[0], STORE_DUPLICATE);
    l.v[0].observed_at = 3000; /* a later re-notification */
    put(st, &rec, &l, out);
    assert_int_equal(out[0], STORE_LATER);
    put(st, &rec, &l, out); /* the same again: nothing new */
    assert_int_equal(out[0], STORE_DUPLICATE);
    l.v[0].observed_at = 1000; /* an earlier delivery, arriving late */
    put(st, &rec, &l, out);
    assert_int_equal(out[0], STORE_EARLIER);
    l.v[0].observed_at = AM_TIME_NONE; /* a raw replay knows no time */
    put(st, &rec, &l, out);
    assert_int_equal(out[0], STORE_DUPLICATE);

    assert_int_equal(store_count(st, "events"), 1);
    /* The raw record is kept once: duplicates leave no record behind. */
    assert_int_equal(store_count(st, "records"), 1);
    scan_t s = {0};
    char err[256];
    assert_int_equal(store_scan_events(st, 0, on_event, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 1);
    assert_true(s.observed == 1000);
    assert_string_equal(s.summary, "5xx <b>|");
    assert_string_equal(s.annotation, "5xx <b>|");
    store_close(st);

    /* Survives a reopen. */
    st = open_ok(path);
    assert_int_equal(store_count(st, "events"), 1);
    memset(&s, 0, sizeof s);
    assert_int_equal(store_scan_events(st, 0, on_event, &s, err, sizeof err), 0);
    assert_true(s.observed == 1000);
    store_close(st);
    am_event_list_free(&l);
    tmp_rm_rf(dir);
}

static void test_unknown_observed_then_known(void **state)
{
    (void)state;
    char dir[64], path[128], err[256];
    tmp_dir(dir);
    snprintf(path, sizeof path, "%s/b.db", dir);
    store_t *st = open_ok(path);
    am_record_t rec = {.payload = "x", .len = 1, .file = "f", .line = 1};
    am_event_list_t l = {0};
    make_alert(am_event_list_push(&l), "alert:2", AM_TIME_NONE);
    store_outcome_t out[1];
    put(st, &rec, &l, out);
    l.v[0].observed_at = 5000;
    put(st, &rec, &l, out);
    assert_int_equal(out[0], STORE_EARLIER); /* known beats unknown */
    scan_t s = {0};
    assert_int_equal(store_scan_events(st, 0, on_event, &s, err, sizeof err), 0);
    assert_true(s.observed == 5000);
    store_close(st);
    am_event_list_free(&l);
    tmp_rm_rf(dir);
}

static void test_rejected_once(void **state)
{
    (void)state;
    char dir[64], path[128], err[256];
    tmp_dir(dir);
    snprintf(path, sizeof path, "%s/c.db", dir);
    store_t *st = open_ok(path);
    am_record_t rec = {.payload = "nope", .len = 4, .topic = "alerts", .partition = 1, .offset = 9};
    assert_int_equal(store_begin(st, err, sizeof err), 0);
    assert_int_equal(store_put_rejected(st, &rec, "invalid JSON", err, sizeof err), 0);
    assert_int_equal(store_put_rejected(st, &rec, "invalid JSON", err, sizeof err), 0);
    rec.offset = 10; /* another delivery place: another row */
    assert_int_equal(store_put_rejected(st, &rec, "invalid JSON", err, sizeof err), 0);
    am_record_t nul = {.payload = NULL, .topic = "alerts", .partition = 1, .offset = 11};
    assert_int_equal(store_put_rejected(st, &nul, "null", err, sizeof err), 0);
    assert_int_equal(store_commit(st, err, sizeof err), 0);
    assert_int_equal(store_count(st, "rejected"), 3);
    store_close(st);

    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT place, reason, raw_len FROM rejected ORDER BY seq",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "alerts/1/9");
    assert_string_equal((const char *)sqlite3_column_text(q, 1), "invalid JSON");
    assert_int_equal(sqlite3_column_int(q, 2), 4);
    sqlite3_finalize(q);
    sqlite3_close(db);
    tmp_rm_rf(dir);
}

static int list_offset(void *ctx, const char *topic, int32_t partition, int64_t next_offset)
{
    am_buf_printf(ctx, "%s/%d=%lld ", topic, (int)partition, (long long)next_offset);
    return 0;
}

static void test_offsets_and_rollback(void **state)
{
    (void)state;
    char dir[64], path[128], err[256];
    tmp_dir(dir);
    snprintf(path, sizeof path, "%s/d.db", dir);
    store_t *st = open_ok(path);
    int64_t off;
    assert_int_equal(store_get_offset(st, "alerts", 0, &off, err, sizeof err), 0);
    assert_true(off == -1);
    assert_int_equal(store_begin(st, err, sizeof err), 0);
    assert_int_equal(store_set_offset(st, "alerts", 0, 42, err, sizeof err), 0);
    assert_int_equal(store_commit(st, err, sizeof err), 0);
    /* A rolled back batch moves neither events nor offsets. */
    am_record_t rec = {.payload = "x", .len = 1, .topic = "alerts", .partition = 0, .offset = 42};
    am_event_list_t l = {0};
    make_alert(am_event_list_push(&l), "alert:3", 1);
    assert_int_equal(store_begin(st, err, sizeof err), 0);
    assert_int_equal(store_put(st, &rec, &l, NULL, err, sizeof err), 0);
    assert_int_equal(store_set_offset(st, "alerts", 0, 43, err, sizeof err), 0);
    store_rollback(st);
    assert_int_equal(store_get_offset(st, "alerts", 0, &off, err, sizeof err), 0);
    assert_true(off == 42);
    assert_int_equal(store_count(st, "events"), 0);

    /* Offsets are listed by topic, then partition. */
    assert_int_equal(store_begin(st, err, sizeof err), 0);
    assert_int_equal(store_set_offset(st, "deploys", 2, 7, err, sizeof err), 0);
    assert_int_equal(store_set_offset(st, "alerts", 1, 5, err, sizeof err), 0);
    assert_int_equal(store_commit(st, err, sizeof err), 0);
    am_buf_t b = {0};
    assert_int_equal(store_scan_offsets(st, list_offset, &b, err, sizeof err), 0);
    assert_string_equal(b.p, "alerts/0=42 alerts/1=5 deploys/2=7 ");
    am_buf_free(&b);
    store_close(st);
    am_event_list_free(&l);
    tmp_rm_rf(dir);
}

static void test_refuses_foreign_and_newer(void **state)
{
    (void)state;
    char dir[64], path[128], err[512];
    tmp_dir(dir);
    sqlite3 *db;

    snprintf(path, sizeof path, "%s/foreign.db", dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(store_open(path, NULL, err, sizeof err));
    assert_non_null(strstr(err, "not an aftermath database"));
    assert_non_null(strstr(err, path));

    snprintf(path, sizeof path, "%s/newer.db", dir);
    store_close(open_ok(path));
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "INSERT INTO schema_version VALUES (999)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_null(store_open(path, NULL, err, sizeof err));
    assert_non_null(strstr(err, "newer"));

    snprintf(path, sizeof path, "%s/garbage.db", dir);
    tmp_write(dir, "garbage.db",
              "this is not a database file, not even close............"
              "................................................................");
    assert_null(store_open(path, NULL, err, sizeof err));
    assert_non_null(strstr(err, path));

    assert_null(store_open("/nonexistent-dir/x.db", NULL, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent-dir/x.db"));
    store_close(NULL);
    tmp_rm_rf(dir);
}

/* An unconfirmed end (AM_ENDS_UNCONFIRMED) is confirmed by another
 * record only: not by the same place again, and not by a keyed-topic
 * record that carries the same source (aftermath-source header). */
static void test_confirmed_by_another_record(void **state)
{
    (void)state;
    char dir[64], path[128];
    tmp_dir(dir);
    snprintf(path, sizeof path, "%s/c.db", dir);
    store_t *st = open_ok(path);
    am_event_list_t l = {0};
    am_event_t *ev = am_event_list_push(&l);
    make_alert(ev, "alert:x:resolved:1:2", AM_TIME_NONE);
    free(ev->status);
    ev->status = am_xstrdup("resolved");
    ev->ends_at = 1718721000000LL;
    am_labels_set(&ev->annotations, AM_ENDS_UNCONFIRMED, "true");
    store_outcome_t out[1];
    am_record_t a = {.payload = "x", .len = 1, .file = "f", .line = 1};
    put(st, &a, &l, out);
    assert_int_equal(out[0], STORE_NEW);
    put(st, &a, &l, out); /* the same line replayed */
    assert_int_equal(out[0], STORE_DUPLICATE);
    const char *h = "[\"aftermath-source\",\"f:1\"]";
    am_record_t k = {.payload = "x", .len = 1, .topic = "keyed", .offset = 7, .headers = h};
    put(st, &k, &l, out); /* the same source record, through the keyed topic */
    assert_int_equal(out[0], STORE_DUPLICATE);
    am_record_t b = {.payload = "x", .len = 1, .file = "f", .line = 2};
    put(st, &b, &l, out); /* another record: the repeat that confirms */
    assert_int_equal(out[0], STORE_REPEATED);
    put(st, &b, &l, out);
    assert_int_equal(out[0], STORE_DUPLICATE);
    store_close(st);
    am_event_list_free(&l);
    tmp_rm_rf(dir);
}

/* The shape of every table and index of db, one sorted line each:
 * columns (name, type, NOT NULL, default, primary key), indexes (name
 * aside for the automatic ones, uniqueness, columns), WITHOUT ROWID. */
static char *shape_of(sqlite3 *db)
{
    am_buf_t out = {0};
    sqlite3_stmt *t = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                                        "AND name NOT LIKE 'sqlite_%' ORDER BY name",
                                        -1, &t, NULL),
                     SQLITE_OK);
    while (sqlite3_step(t) == SQLITE_ROW) {
        const char *table = (const char *)sqlite3_column_text(t, 0);
        const char *sql = (const char *)sqlite3_column_text(t, 1);
        char q[256];
        sqlite3_stmt *c = NULL;
        am_buf_printf(&out, "table %s%s\n", table,
                      strstr(sql, "WITHOUT ROWID") ? " without rowid" : "");
        snprintf(q, sizeof q, "PRAGMA table_info(\"%s\")", table);
        assert_int_equal(sqlite3_prepare_v2(db, q, -1, &c, NULL), SQLITE_OK);
        while (sqlite3_step(c) == SQLITE_ROW)
            am_buf_printf(&out, "  column %s %s notnull=%d default=%s pk=%d\n",
                          sqlite3_column_text(c, 1), sqlite3_column_text(c, 2),
                          sqlite3_column_int(c, 3),
                          sqlite3_column_text(c, 4) ? (const char *)sqlite3_column_text(c, 4) : "-",
                          sqlite3_column_int(c, 5));
        sqlite3_finalize(c);
        snprintf(q, sizeof q, "PRAGMA index_list(\"%s\")", table);
        assert_int_equal(sqlite3_prepare_v2(db, q, -1, &c, NULL), SQLITE_OK);
        am_buf_t idx = {0};
        while (sqlite3_step(c) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(c, 1);
            const char *origin = (const char *)sqlite3_column_text(c, 3);
            am_buf_printf(&idx, "  index %s unique=%d origin=%s (",
                          strcmp(origin, "c") == 0 ? name : "auto", sqlite3_column_int(c, 2),
                          origin);
            char qi[256];
            sqlite3_stmt *ic = NULL;
            snprintf(qi, sizeof qi, "PRAGMA index_info(\"%s\")", name);
            assert_int_equal(sqlite3_prepare_v2(db, qi, -1, &ic, NULL), SQLITE_OK);
            while (sqlite3_step(ic) == SQLITE_ROW)
                am_buf_printf(&idx, " %s", sqlite3_column_text(ic, 2));
            sqlite3_finalize(ic);
            am_buf_puts(&idx, " )\n");
        }
        sqlite3_finalize(c);
        /* index_list's order is not the creation order: sort the lines. */
        if (idx.len) {
            char *lines[64];
            size_t n = 0;
            for (char *l = strtok(idx.p, "\n"); l && n < 64; l = strtok(NULL, "\n"))
                lines[n++] = l;
            for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && strcmp(lines[j - 1], lines[j]) > 0; j--) {
                    char *x = lines[j];
                    lines[j] = lines[j - 1];
                    lines[j - 1] = x;
                }
            for (size_t i = 0; i < n; i++)
                am_buf_printf(&out, "%s\n", lines[i]);
        }
        am_buf_free(&idx);
    }
    sqlite3_finalize(t);
    return am_buf_steal(&out);
}

/* store/schema.sql is the schema the migrations build, and
 * STORE_SCHEMA_VERSION is how many there are. */
static void test_schema_sql_is_current(void **state)
{
    (void)state;
    char dir[64], path[128], *errmsg = NULL;
    tmp_dir(dir);
    snprintf(path, sizeof path, "%s/m.db", dir);
    store_t *st = open_ok(path);
    char *migrated = shape_of(store_db(st));
    assert_non_null(strstr(migrated, "table incidents\n"));
    assert_non_null(strstr(migrated, "  column impact_start INTEGER notnull=0"));

    char *sql = tmp_slurp(AM_PROJECT "/store/schema.sql");
    assert_non_null(sql);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &errmsg) != SQLITE_OK)
        fail_msg("store/schema.sql: %s", errmsg);
    char *documented = shape_of(db);
    if (strcmp(migrated, documented) != 0)
        fail_msg("store/schema.sql differs from the migrations.\n--- migrations\n%s\n--- "
                 "schema.sql\n%s",
                 migrated, documented);

    sqlite3_stmt *v = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(store_db(st), "SELECT max(version) FROM schema_version", -1, &v, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(v), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(v, 0), STORE_SCHEMA_VERSION);
    sqlite3_finalize(v);

    sqlite3_close(db);
    free(sql);
    free(migrated);
    free(documented);
    store_close(st);
    tmp_rm_rf(dir);
}

/* tests/lib/incidents.sql, which the crash tests compare databases with,
 * names every column of incidents and episodes but those that depend on
 * when or in what order the work was done. */
static void test_comparison_sql_has_every_column(void **state)
{
    (void)state;
    static const struct {
        const char *table, *alias;
        const char *const skip[10]; /* columns left out, and why */
    } tables[] = {
        {"incidents", "i.", {"updated_at" /* the wall clock of the work */, NULL}},
        /* seq: insertion order; the staleness bookkeeping names the topic
         * (test runs name theirs apart) and follows its clock, which the
         * tests that compare runs check through the ends it infers */
        {"episodes",
         "",
         {"seq", "last_seen", "stale_at", "topic", "trunc_stale_at", "trunc_seen", "trunc_topic",
          "tent_end", NULL}},
    };
    char *sql = tmp_slurp(AM_PROJECT "/tests/lib/incidents.sql");
    assert_non_null(sql);
    store_t *st = open_ok(":memory:");
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        char q[128];
        sqlite3_stmt *c = NULL;
        snprintf(q, sizeof q, "PRAGMA table_info(%s)", tables[t].table);
        assert_int_equal(sqlite3_prepare_v2(store_db(st), q, -1, &c, NULL), SQLITE_OK);
        while (sqlite3_step(c) == SQLITE_ROW) {
            const char *col = (const char *)sqlite3_column_text(c, 1);
            int skipped = 0;
            for (size_t k = 0; k < 10 && tables[t].skip[k]; k++)
                skipped |= strcmp(col, tables[t].skip[k]) == 0;
            if (skipped)
                continue;
            char word[128];
            snprintf(word, sizeof word, "%s%s", tables[t].alias, col);
            /* As a whole word: "i.alerts" must not match "i.alert_users". */
            const char *p = sql;
            int found = 0;
            size_t n = strlen(word);
            while (!found && (p = strstr(p, word)) != NULL) {
                char before = p == sql ? ' ' : p[-1], after = p[n];
                found = !(isalnum((unsigned char)before) || before == '_' || before == '.') &&
                        !(isalnum((unsigned char)after) || after == '_');
                p += n;
            }
            if (!found)
                fail_msg("tests/lib/incidents.sql does not compare %s.%s", tables[t].table, col);
        }
        sqlite3_finalize(c);
    }
    store_close(st);
    free(sql);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idempotent_and_earliest_observed),
        cmocka_unit_test(test_unknown_observed_then_known),
        cmocka_unit_test(test_rejected_once),
        cmocka_unit_test(test_confirmed_by_another_record),
        cmocka_unit_test(test_offsets_and_rollback),
        cmocka_unit_test(test_refuses_foreign_and_newer),
        cmocka_unit_test(test_schema_sql_is_current),
        cmocka_unit_test(test_comparison_sql_has_every_column),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
