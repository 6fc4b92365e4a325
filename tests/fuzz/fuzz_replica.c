/*
 * fuzz_replica.c - libFuzzer target for the view's side of the incidents
 * topic (correlate/replica.c): any bytes that parse as JSON are applied
 * to a view's database and are either taken (and taken again, unchanged,
 * when they come twice) or refused with a reason, leaving the database as
 * it was. The database never fails: a store error here is a bug.
 *
 * One in-memory database serves every input (opening one per input would
 * spend the time on migrations); each input runs in a transaction that is
 * rolled back, so inputs do not see each other's rows.
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "correlate/replica.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every row of the tables a document writes, sorted, without the columns
 * that change on every write (updated_at) or reinsertion (seq). Caller
 * frees. */
static char *contents(store_t *st)
{
    static const char *const tables[] = {"incidents",        "episodes", "incident_events",
                                         "incident_aliases", "events",   "corr_meta"};
    am_buf_t all = {0};
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT * FROM %s", tables[t]);
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
            abort();
        char **rows = NULL;
        size_t n = 0;
        while (sqlite3_step(s) == SQLITE_ROW) {
            am_buf_t row = {0};
            for (int i = 0; i < sqlite3_column_count(s); i++) {
                const char *name = sqlite3_column_name(s, i);
                const unsigned char *v = sqlite3_column_text(s, i);
                if (strcmp(name, "updated_at") != 0 && strcmp(name, "seq") != 0)
                    am_buf_printf(&row, "%s=%s;", name, v ? (const char *)v : "NULL");
            }
            rows = am_xrealloc(rows, (n + 1) * sizeof *rows);
            rows[n++] = row.p ? am_buf_steal(&row) : am_xstrdup("");
        }
        sqlite3_finalize(s);
        if (n > 1)
            qsort(rows, n, sizeof *rows, cmp_str);
        am_buf_printf(&all, "%s:\n", tables[t]);
        for (size_t i = 0; i < n; i++) {
            am_buf_printf(&all, "%s\n", rows[i]);
            free(rows[i]);
        }
        free(rows);
    }
    return am_buf_steal(&all);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static store_t *st;
    char err[1024];
    if (!st && !(st = store_open(":memory:", NULL, err, sizeof err))) {
        fprintf(stderr, "store: %s\n", err);
        abort();
    }
    json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!doc)
        return 0;
    if (store_begin(st, err, sizeof err) != 0)
        abort();
    char *before = contents(st), *after = NULL;
    am_strset_t changed = {0};
    err[0] = '\0';
    int rc = corr_replica_apply(st, doc, &changed, err, sizeof err);
    if (rc == CORR_REPLICA_REJECTED) {
        after = contents(st);
        if (!err[0] || changed.n || strcmp(before, after) != 0) {
            fprintf(stderr, "refused without a reason, or with changes: '%s'\n", err);
            abort();
        }
    } else if (rc == 0) {
        free(before);
        before = contents(st);
        if (corr_replica_apply(st, doc, NULL, err, sizeof err) != 0) {
            fprintf(stderr, "taken once, not twice: %s\n", err);
            abort();
        }
        after = contents(st);
        if (strcmp(before, after) != 0) {
            fprintf(stderr, "the same document twice changed the database\n");
            abort();
        }
    } else {
        fprintf(stderr, "store failure on a document: %s\n", err);
        abort();
    }
    free(before);
    free(after);
    store_rollback(st);
    am_strset_free(&changed);
    json_decref(doc);
    return 0;
}
