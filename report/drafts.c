/*
 * drafts.c - writing drafts to a directory without clobbering a person's
 * edits (see drafts.h).
 *
 * Design choice: the record of what aftermath wrote is a sidecar file of
 * FNV-1a 64 hashes beside the draft rather than a table in the store, so
 * it travels with the directory (copied, synced, cleaned up together) and
 * writing drafts never needs the store's write lock. The hash only detects
 * change; it is not a security boundary. Files are replaced by writing a
 * temporary file and renaming it (am_file_replace: mkstemp, so never
 * through a link planted at a predictable name), so a reader never sees
 * half a draft. Existing files are read without following links; a draft
 * path that holds a link or anything but a regular file is treated like a
 * draft someone else wrote: left alone, the new version written beside it.
 * The directory is the trust boundary: one that others can write to lets
 * them replace drafts, so it is reported at every write.
 */
#include "report/drafts.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "common/file.h"
#include "common/hash.h"

static uint64_t hash_of(const char *p, size_t len)
{
    return am_fnv64_add(AM_FNV64_INIT, p, len);
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
    am_file_read_rc_t have = am_file_read(path.p, &cur);
    if (have == AM_FILE_ERROR) {
        am_errf(err, errlen, "%s: %s", path.p, strerror(errno));
        goto cleanup;
    }
    if (have == AM_FILE_ABSENT) {
        if (am_file_replace(path.p, content->p, content->len, err, errlen) != 0 ||
            am_file_replace(side.p, hex, strlen(hex), err, errlen) != 0)
            goto cleanup;
        am_log(log, AM_LOG_INFO, "draft written", "path", path.p, NULL);
        rc = 0;
        goto cleanup;
    }
    if (have == AM_FILE_NOT_REGULAR) {
        am_buf_printf(&alt, "%s/%s.new.%s", dir, id, ext);
        if (am_file_replace(alt.p, content->p, content->len, err, errlen) != 0)
            goto cleanup;
        am_log(log, AM_LOG_WARN,
               "draft path is a link or not a regular file: not written through, new version "
               "written beside it",
               "path", path.p, "new", alt.p, NULL);
        rc = 0;
        goto cleanup;
    }
    am_file_read_rc_t side_rc = am_file_read(side.p, &rec);
    if (side_rc == AM_FILE_ERROR) {
        am_errf(err, errlen, "%s: %s", side.p, strerror(errno));
        goto cleanup;
    }
    uint64_t written = 0;
    int known = side_rc == AM_FILE_READ && rec.p && sscanf(rec.p, "%" SCNx64, &written) == 1;
    uint64_t now = hash_of(cur.p ? cur.p : "", cur.len);
    if (known && now == written) {
        rc = 0;
        if (now == want)
            goto cleanup; /* unchanged */
        if (am_file_replace(path.p, content->p, content->len, err, errlen) != 0 ||
            am_file_replace(side.p, hex, strlen(hex), err, errlen) != 0) {
            rc = -1;
            goto cleanup;
        }
        am_log(log, AM_LOG_INFO, "draft refreshed", "path", path.p, NULL);
        goto cleanup;
    }
    if (now == want) { /* edited back to exactly the new draft */
        rc = am_file_replace(side.p, hex, strlen(hex), err, errlen);
        goto cleanup;
    }
    am_buf_printf(&alt, "%s/%s.new.%s", dir, id, ext);
    if (am_file_replace(alt.p, content->p, content->len, err, errlen) != 0)
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

/* Warns when others can write to dir: they could replace or remove drafts
 * (never redirect aftermath's writes: see am_file_replace). */
static void check_dir(const char *dir, const am_log_t *log)
{
    struct stat st;
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & (S_IWGRP | S_IWOTH))) {
        char mode[8];
        snprintf(mode, sizeof mode, "%04o", (unsigned)(st.st_mode & 07777));
        am_log(log, AM_LOG_WARN,
               "drafts directory is writable by group or others: they can replace drafts "
               "(chmod go-w it)",
               "dir", dir, "mode", mode, NULL);
    }
}

int report_write_drafts(store_t *st, const char *dir, const char *const *ids, size_t n,
                        const report_options_t *opts, const am_log_t *log, char *err, size_t errlen)
{
    int rc = 0;
    char e[1024];
    if (n)
        check_dir(dir, log);
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
