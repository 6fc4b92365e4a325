/*
 * drafts.c - writing drafts to a directory without clobbering a person's
 * edits (see drafts.h).
 *
 * Design choice: the record of what aftermath wrote is a sidecar file of
 * FNV-1a 64 hashes beside the draft rather than a table in the store, so
 * it travels with the directory (copied, synced, cleaned up together) and
 * writing drafts never needs the store's write lock. The hash only detects
 * change; it is not a security boundary. Files are replaced by writing a
 * temporary file and renaming it, so a reader never sees half a draft.
 */
#include "report/drafts.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/hash.h"

static uint64_t hash_of(const char *p, size_t len)
{
    return am_fnv64_add(AM_FNV64_INIT, p, len);
}

/* Reads the whole file into b. Returns 1 when read, 0 when it does not
 * exist, -1 on error (errno set). */
static int read_file(const char *path, am_buf_t *b)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? 0 : -1;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        am_buf_append(b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    return bad ? -1 : 1;
}

/* Writes len bytes to path through path.tmp and a rename. */
static int write_file(const char *path, const char *p, size_t len, char *err, size_t errlen)
{
    am_buf_t tmp = {0};
    am_buf_printf(&tmp, "%s.tmp", path);
    FILE *f = fopen(tmp.p, "wb");
    int bad = !f;
    if (f) {
        bad |= fwrite(p, 1, len, f) != len;
        bad |= fclose(f) != 0;
    }
    if (!bad && rename(tmp.p, path) != 0)
        bad = 1;
    if (bad) {
        am_errf(err, errlen, "%s: %s", path, strerror(errno));
        remove(tmp.p);
    }
    am_buf_free(&tmp);
    return bad ? -1 : 0;
}

/* Writes one draft file (dir/id.ext) following the rules of drafts.h. */
static int write_one(const char *dir, const char *id, const char *ext, const am_buf_t *content,
                     const am_log_t *log, char *err, size_t errlen)
{
    am_buf_t path = {0}, side = {0}, cur = {0}, rec = {0}, alt = {0};
    int rc = -1;
    am_buf_printf(&path, "%s/%s.%s", dir, id, ext);
    am_buf_printf(&side, "%s/.%s.%s.written", dir, id, ext);
    uint64_t want = hash_of(content->p, content->len);
    char hex[32];
    snprintf(hex, sizeof hex, "%016" PRIx64 "\n", want);
    int have = read_file(path.p, &cur);
    if (have < 0) {
        am_errf(err, errlen, "%s: %s", path.p, strerror(errno));
        goto cleanup;
    }
    if (have == 0) {
        if (write_file(path.p, content->p, content->len, err, errlen) != 0 ||
            write_file(side.p, hex, strlen(hex), err, errlen) != 0)
            goto cleanup;
        am_log(log, AM_LOG_INFO, "draft written", "path", path.p, NULL);
        rc = 0;
        goto cleanup;
    }
    int side_rc = read_file(side.p, &rec);
    if (side_rc < 0) {
        am_errf(err, errlen, "%s: %s", side.p, strerror(errno));
        goto cleanup;
    }
    uint64_t written = 0;
    int known = side_rc == 1 && rec.p && sscanf(rec.p, "%" SCNx64, &written) == 1;
    uint64_t now = hash_of(cur.p ? cur.p : "", cur.len);
    if (known && now == written) {
        rc = 0;
        if (now == want)
            goto cleanup; /* unchanged */
        if (write_file(path.p, content->p, content->len, err, errlen) != 0 ||
            write_file(side.p, hex, strlen(hex), err, errlen) != 0) {
            rc = -1;
            goto cleanup;
        }
        am_log(log, AM_LOG_INFO, "draft refreshed", "path", path.p, NULL);
        goto cleanup;
    }
    if (now == want) { /* edited back to exactly the new draft */
        rc = write_file(side.p, hex, strlen(hex), err, errlen);
        goto cleanup;
    }
    am_buf_printf(&alt, "%s/%s.new.%s", dir, id, ext);
    if (write_file(alt.p, content->p, content->len, err, errlen) != 0)
        goto cleanup;
    am_log(log, AM_LOG_WARN,
           known ? "draft edited since aftermath wrote it: new version written beside it"
                 : "draft not written by aftermath: new version written beside it",
           "path", path.p, "new", alt.p, NULL);
    rc = 0;
cleanup:
    am_buf_free(&path);
    am_buf_free(&side);
    am_buf_free(&cur);
    am_buf_free(&rec);
    am_buf_free(&alt);
    return rc;
}

/* An id is used as a file name: no separator, no leading dot. */
static int safe_name(const char *id)
{
    return id && *id && id[0] != '.' && !strchr(id, '/') && !strchr(id, '\\');
}

int report_write_drafts(store_t *st, const char *dir, const char *const *ids, size_t n,
                        const report_options_t *opts, const am_log_t *log, char *err, size_t errlen)
{
    int rc = 0;
    char e[1024];
    for (size_t i = 0; i < n; i++) {
        report_draft_t *d = report_draft_create(st, ids[i], opts, e, sizeof e);
        if (!d) {
            if (e[0]) {
                if (rc == 0)
                    am_errf(err, errlen, "draft of %s: %s", ids[i], e);
                rc = -1;
            } else {
                am_log(log, AM_LOG_WARN, "no such incident: no draft", "id", ids[i], NULL);
            }
            continue;
        }
        const char *id = report_draft_id(d);
        if (!safe_name(id)) {
            am_log(log, AM_LOG_WARN, "incident id unusable as a file name: no draft", "id", id,
                   NULL);
            report_draft_destroy(d);
            continue;
        }
        am_buf_t md = {0}, html = {0};
        report_draft_markdown(d, &md);
        report_draft_html(d, &html);
        if ((write_one(dir, id, "md", &md, log, e, sizeof e) != 0 ||
             write_one(dir, id, "html", &html, log, e, sizeof e) != 0)) {
            if (rc == 0)
                am_errf(err, errlen, "%s", e);
            rc = -1;
        }
        am_buf_free(&md);
        am_buf_free(&html);
        report_draft_destroy(d);
    }
    return rc;
}
