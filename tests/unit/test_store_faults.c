/*
 * test_store_faults.c - the store under storage faults: a full database
 * (PRAGMA max_page_count) and a file-size limit (RLIMIT_FSIZE, the
 * nearest thing to a full disk without mounting one) make writes fail
 * with store_failed_full() set and nothing half-written; once space
 * returns the same writes succeed. Damaged databases (garbage, truncated,
 * a page overwritten) are refused at open with the file named. Every test
 * ends with PRAGMA integrity_check on the databases it kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "store/store.h"
#include "tmp_util.h"

/* A record with one alert of id "<prefix>-<i>" and a 2 KiB summary, so a
 * few dozen fill pages quickly. */
static int put_one(store_t *st, const char *prefix, int i, char *err, size_t errlen)
{
    char id[64], line[32];
    char summary[2048];
    memset(summary, 'x', sizeof summary - 1);
    summary[sizeof summary - 1] = '\0';
    snprintf(id, sizeof id, "%s-%d", prefix, i);
    snprintf(line, sizeof line, "%d", i);
    am_event_list_t l = {0};
    am_event_t *ev = am_event_list_push(&l);
    ev->id = am_xstrdup(id);
    ev->kind = AM_KIND_ALERT;
    ev->status = am_xstrdup("firing");
    ev->source = "alertmanager";
    ev->identity = am_xstrdup(id);
    ev->summary = am_xstrdup(summary);
    ev->starts_at = 1718720940000LL + i;
    am_record_t rec = {.payload = summary, .len = strlen(summary), .file = prefix, .line = i + 1};
    int rc = store_put(st, &rec, &l, NULL, err, errlen);
    am_event_list_free(&l);
    return rc;
}

/* Writes up to batches batches of n records, stopping at the first that
 * fails; returns the number of records committed before the failure (-1
 * if none failed). */
static int fill(store_t *st, const char *prefix, int n, int batches, char *err, size_t errlen)
{
    int done = 0;
    for (int b = 0; b < batches; b++) {
        if (store_begin(st, err, errlen) != 0)
            return done;
        int ok = 1;
        for (int i = 0; ok && i < n; i++)
            ok = put_one(st, prefix, done + i, err, errlen) == 0;
        if (!ok || store_commit(st, err, errlen) != 0) {
            store_rollback(st);
            return done;
        }
        done += n;
    }
    return -1;
}

static void assert_intact(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static void test_max_page_count(void **state)
{
    (void)state;
    char dir[64], path[128], err[512];
    tmp_dir(dir);
    snprintf(path, sizeof path, "%s/full.db", dir);
    store_t *st = store_open(path, NULL, err, sizeof err);
    assert_non_null(st);
    assert_int_equal(fill(st, "a", 10, 2, err, sizeof err), -1);
    int64_t pages = 0;
    sqlite3_stmt *s = NULL;
    sqlite3_prepare_v2(store_db(st), "PRAGMA page_count", -1, &s, NULL);
    sqlite3_step(s);
    pages = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld", (long long)pages + 5);
    assert_int_equal(sqlite3_exec(store_db(st), sql, NULL, NULL, NULL), SQLITE_OK);

    int committed = fill(st, "b", 4, 1000, err, sizeof err);
    assert_true(committed >= 0);
    assert_true(store_failed_full(st));
    assert_non_null(strstr(err, "storage full"));
    assert_non_null(strstr(err, path));
    int64_t events = store_count(st, "events");

    /* Space returns: the failed batch is written whole, once. */
    assert_int_equal(
        sqlite3_exec(store_db(st), "PRAGMA max_page_count = 1000000", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(store_begin(st, err, sizeof err), 0);
    assert_false(store_failed_full(st));
    for (int i = committed; i < committed + 4; i++)
        assert_int_equal(put_one(st, "b", i, err, sizeof err), 0);
    assert_int_equal(store_commit(st, err, sizeof err), 0);
    assert_int_equal(store_count(st, "events"), events + 4);
    store_close(st);
    assert_intact(path);
    tmp_rm_rf(dir);
}

static void test_file_size_limit(void **state)
{
    (void)state;
    char dir[64], path[128], err[512];
    struct rlimit old, lim;
    tmp_dir(dir);
    snprintf(path, sizeof path, "%s/fsize.db", dir);
    store_t *st = store_open(path, NULL, err, sizeof err);
    assert_non_null(st);
    assert_int_equal(store_begin(st, err, sizeof err), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(put_one(st, "a", i, err, sizeof err), 0);
    assert_int_equal(store_commit(st, err, sizeof err), 0);

    /* Every file write past the first byte fails (EFBIG) from now on. */
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 1;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int committed = fill(st, "b", 20, 1, err, sizeof err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    assert_int_equal(committed, 0);
    if (!store_failed_full(st))
        fail_msg("not seen as full: %s (errno %d)", err, sqlite3_system_errno(store_db(st)));
    assert_non_null(strstr(err, "storage full"));
    assert_int_equal(store_count(st, "events"), 5);

    assert_int_equal(store_begin(st, err, sizeof err), 0);
    for (int i = 0; i < 20; i++)
        assert_int_equal(put_one(st, "b", i, err, sizeof err), 0);
    assert_int_equal(store_commit(st, err, sizeof err), 0);
    assert_false(store_failed_full(st));
    assert_int_equal(store_count(st, "events"), 25);
    store_close(st);
    assert_intact(path);
    tmp_rm_rf(dir);
}

/* Opening path must fail with a message naming it and containing want. */
static void refused(const char *path, const char *want)
{
    char err[512] = "";
    store_t *st = store_open(path, NULL, err, sizeof err);
    if (st)
        fail_msg("%s: a damaged database was opened", path);
    if (!strstr(err, path) || !strstr(err, want))
        fail_msg("%s: unclear message: %s", path, err);
}

static void damage(const char *from, const char *to, long cut, long overwrite_at)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
    struct stat sb;
    assert_int_equal(stat(to, &sb), 0);
    if (cut)
        assert_int_equal(truncate(to, sb.st_size - cut), 0);
    if (overwrite_at) {
        FILE *f = fopen(to, "r+b");
        assert_non_null(f);
        fseek(f, overwrite_at, SEEK_SET);
        for (int i = 0; i < 4096; i++)
            fputc((i * 7919) & 0xff, f);
        fclose(f);
    }
}

static void test_damaged_refused(void **state)
{
    (void)state;
    char dir[64], good[128], bad[128], err[512];
    tmp_dir(dir);
    snprintf(good, sizeof good, "%s/good.db", dir);
    store_t *st = store_open(good, NULL, err, sizeof err);
    assert_non_null(st);
    assert_int_equal(fill(st, "a", 20, 3, err, sizeof err), -1);
    store_close(st);

    snprintf(bad, sizeof bad, "%s/garbage.db", dir);
    FILE *f = fopen(bad, "wb");
    for (int i = 0; i < 100000; i++)
        fputc((i * 31 + 7) & 0xff, f);
    fclose(f);
    refused(bad, "not a database");

    snprintf(bad, sizeof bad, "%s/truncated.db", dir);
    damage(good, bad, 4096, 0);
    refused(bad, "malformed");

    snprintf(bad, sizeof bad, "%s/overwritten.db", dir);
    damage(good, bad, 0, 8 * 4096);
    refused(bad, "corrupt");
    struct stat sb;
    assert_int_equal(stat(bad, &sb), 0); /* refused, not replaced */

    assert_intact(good);
    tmp_rm_rf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_page_count),
        cmocka_unit_test(test_file_size_limit),
        cmocka_unit_test(test_damaged_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
