/*
 * replay.c - reads NDJSON files (or stdin) into records.
 *
 * Each line is looked at once as JSON to tell a kcat -J envelope from a raw
 * payload; the payload itself is decoded later by the same decoder as a
 * Kafka message, so a replayed dump and a live topic take one path. A
 * pretty-printed document is recognised when its first line is not JSON
 * by itself but the whole input is.
 */
#include "ingest/replay.h"
#include "common/buf.h"
#include "common/time.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fills rec from an envelope line; returns 1 if line is an envelope. The
 * record borrows from root and headers (owned by the caller). */
static int parse_envelope(const json_t *root, am_record_t *rec, char **headers)
{
    if (!json_is_object(root))
        return 0;
    const json_t *payload = json_object_get(root, "payload");
    const json_t *ts = json_object_get(root, "ts");
    if (!payload || !(json_is_string(payload) || json_is_null(payload)) || !json_is_integer(ts))
        return 0;
    rec->payload = json_is_string(payload) ? json_string_value(payload) : NULL;
    rec->len = json_is_string(payload) ? json_string_length(payload) : 0;
    rec->ts = json_integer_value(ts);
    const json_t *topic = json_object_get(root, "topic");
    if (json_is_string(topic)) {
        rec->topic = json_string_value(topic);
        rec->partition = (int32_t)json_integer_value(json_object_get(root, "partition"));
        rec->offset = json_integer_value(json_object_get(root, "offset"));
    }
    const json_t *key = json_object_get(root, "key");
    if (json_is_string(key)) {
        rec->key = json_string_value(key);
        rec->key_len = json_string_length(key);
    }
    const json_t *h = json_object_get(root, "headers");
    if (h && !json_is_null(h))
        *headers = json_dumps(h, JSON_COMPACT);
    rec->headers = *headers;
    return 1;
}

static int emit(const char *file, long line, const char *text, size_t len, ingest_record_fn fn,
                void *ctx)
{
    am_record_t rec = {.payload = text,
                       .len = len,
                       .file = file,
                       .line = line,
                       .ts = AM_TIME_NONE,
                       .partition = -1,
                       .offset = -1};
    char *headers = NULL;
    json_t *root = NULL;
    /* Only an object can be an envelope; skip the parse for anything else. */
    if (len > 0 && text[0] == '{')
        root = json_loadb(text, len, 0, NULL);
    if (root)
        parse_envelope(root, &rec, &headers);
    int rc = fn(ctx, &rec);
    free(headers);
    json_decref(root);
    return rc;
}

static int blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

/* Splits buf into lines and emits each non-blank one. */
static int emit_lines(const char *file, long first_line, const char *buf, size_t len,
                      ingest_record_fn fn, void *ctx)
{
    long line = first_line;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && buf[i] != '\n')
            continue;
        size_t end = i;
        if (end > start && buf[end - 1] == '\r')
            end--;
        if (!blank(buf + start, end - start)) {
            int rc = emit(file, line, buf + start, end - start, fn, ctx);
            if (rc < 0)
                return rc;
        }
        line++;
        start = i + 1;
    }
    return 0;
}

static int read_rest(FILE *f, am_buf_t *b)
{
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        am_buf_append(b, chunk, n);
    return ferror(f) ? -1 : 0;
}

int ingest_replay_file(const char *path, ingest_record_fn fn, void *ctx, char *err, size_t errlen)
{
    int is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "-" : path;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        am_errf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    int rc = 0;
    int first = 1;
    am_buf_t whole = {0};

    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t len = (size_t)n;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (blank(line, len))
            continue;
        if (first) {
            first = 0;
            json_t *probe = json_loadb(line, len, 0, NULL);
            if (!probe) {
                /* Perhaps one document over many lines: read it all. */
                am_buf_append(&whole, line, (size_t)n);
                if (read_rest(f, &whole) != 0) {
                    am_errf(err, errlen, "%s: %s", path, strerror(errno));
                    rc = -1;
                    goto done;
                }
                json_t *doc = json_loadb(whole.p, whole.len, 0, NULL);
                if (doc) {
                    json_decref(doc);
                    size_t end = whole.len;
                    while (end > 0 && blank(whole.p + end - 1, 1))
                        end--;
                    rc = emit(name, lineno, whole.p, end, fn, ctx);
                } else {
                    rc = emit_lines(name, lineno, whole.p, whole.len, fn, ctx);
                }
                goto done;
            }
            json_decref(probe);
        }
        rc = emit(name, lineno, line, len, fn, ctx);
        if (rc < 0)
            goto done;
    }
    if (ferror(f)) {
        am_errf(err, errlen, "%s: %s", path, strerror(errno));
        rc = -1;
    }
done:
    am_buf_free(&whole);
    free(line);
    if (!is_stdin)
        fclose(f);
    return rc;
}

int ingest_replay_buffer(const char *name, const char *buf, size_t len, ingest_record_fn fn,
                         void *ctx)
{
    return emit_lines(name, 1, buf, len, fn, ctx);
}
