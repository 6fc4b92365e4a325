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

#include <sqlite3.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idempotent_and_earliest_observed),
        cmocka_unit_test(test_unknown_observed_then_known),
        cmocka_unit_test(test_rejected_once),
        cmocka_unit_test(test_confirmed_by_another_record),
        cmocka_unit_test(test_offsets_and_rollback),
        cmocka_unit_test(test_refuses_foreign_and_newer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
