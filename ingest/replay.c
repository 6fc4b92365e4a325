/*
 * replay.c - reads NDJSON files (or stdin) into records.
 *
 * Each line is looked at once as JSON to tell a kcat -J envelope from a raw
 * payload; the payload itself is decoded later by the same decoder as a
 * Kafka message, so a replayed dump and a live topic take one path. A
 * pretty-printed document is recognised when its first line is not JSON
 * by itself but the whole input is. An envelope's ts is taken as the
 * daemon takes a Kafka timestamp (am_time_record): zero, negative or
 * absurd means no record time.
 */
#include "ingest/replay.h"
#include "common/buf.h"
#include "common/time.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fast path for envelope lines: a hand-written reader for the common
 * shape of a kcat -J line (known keys only, each once; values that are
 * ASCII strings, integers, true, false or null; headers null or absent),
 * which it reads without building a jansson tree. Anything else - an
 * unknown key, an array or object value, a non-ASCII byte, a real number,
 * an escape it does not handle, malformed text - makes it give up, and the
 * line goes through jansson as before, so it decides nothing jansson would
 * decide differently. */
enum {
    ENV_TOPIC,
    ENV_PARTITION,
    ENV_OFFSET,
    ENV_TSTYPE,
    ENV_TS,
    ENV_BROKER,
    ENV_KEY,
    ENV_PAYLOAD,
    ENV_HEADERS,
    ENV_NKEYS
};
static const char *const env_keys[ENV_NKEYS] = {"topic",  "partition", "offset",  "tstype", "ts",
                                                "broker", "key",       "payload", "headers"};

typedef struct env_value {
    int type; /* 0 absent, 's' string, 'i' integer, 'n' null, 'b' true/false, 'o' object/array */
    size_t at, len; /* a string's unescaped bytes in the scratch buffer */
    int64_t i;
} env_value_t;

static const char *env_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static int env_hex(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Reads the string at *pp (just after its opening quote) into b; returns
 * 0 and moves *pp past the closing quote, or -1 to give up. */
static int env_string(const char **pp, const char *end, am_buf_t *b)
{
    const char *p = *pp;
    while (p < end) {
        const char *run = p;
        while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20 &&
               (unsigned char)*p < 0x80)
            p++;
        am_buf_append(b, run, (size_t)(p - run));
        if (p >= end || (*p != '"' && *p != '\\'))
            return -1;
        if (*p == '"') {
            *pp = p + 1;
            return 0;
        }
        if (++p >= end)
            return -1;
        char c = *p++;
        unsigned u;
        switch (c) {
        case '"':
        case '\\':
        case '/':
            am_buf_putc(b, c);
            break;
        case 'b':
            am_buf_putc(b, '\b');
            break;
        case 'f':
            am_buf_putc(b, '\f');
            break;
        case 'n':
            am_buf_putc(b, '\n');
            break;
        case 'r':
            am_buf_putc(b, '\r');
            break;
        case 't':
            am_buf_putc(b, '\t');
            break;
        case 'u':
            /* ASCII other than NUL only; the rest is jansson's to judge. */
            if (end - p < 4 || env_hex(p, &u) != 0 || u == 0 || u >= 0x80)
                return -1;
            am_buf_putc(b, (char)u);
            p += 4;
            break;
        default:
            return -1;
        }
    }
    return -1;
}

/* Reads one value at *pp into v; returns 0, or -1 to give up. */
static int env_value(const char **pp, const char *end, am_buf_t *b, env_value_t *v)
{
    const char *p = *pp;
    if (p >= end)
        return -1;
    if (*p == '"') {
        p++;
        v->type = 's';
        v->at = b->len;
        if (env_string(&p, end, b) != 0)
            return -1;
        v->len = b->len - v->at;
        am_buf_putc(b, '\0');
    } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
        int neg = *p == '-';
        p += neg;
        const char *digits = p;
        int64_t i = 0;
        while (p < end && *p >= '0' && *p <= '9' && p - digits < 18)
            i = i * 10 + (*p++ - '0');
        size_t n = (size_t)(p - digits);
        /* No leading zero, no fraction or exponent, no overflow. */
        if (n == 0 || (n > 1 && *digits == '0') ||
            (p < end && ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E')))
            return -1;
        v->type = 'i';
        v->i = neg ? -i : i;
    } else if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
        v->type = 'n';
        p += 4;
    } else if (end - p >= 4 && memcmp(p, "true", 4) == 0) {
        v->type = 'b';
        p += 4;
    } else if (end - p >= 5 && memcmp(p, "false", 5) == 0) {
        v->type = 'b';
        p += 5;
    } else {
        return -1;
    }
    *pp = p;
    return 0;
}

/* Moves *pp past the JSON value there without reading it (the members of
 * a raw payload that are no envelope key); returns 0, or -1 to give up.
 * Lenient on what it skips: a line it takes as no envelope is decoded by
 * the decoder, which refuses malformed JSON with its own reason. */
static int env_skip(const char **pp, const char *end)
{
    char closers[64];
    size_t depth = 0;
    const char *p = *pp;
    do {
        if (p >= end)
            return -1;
        char c = *p++;
        if (c == '"') {
            while (p < end && *p != '"')
                p += *p == '\\' ? 2 : 1;
            if (p >= end)
                return -1;
            p++;
        } else if (c == '{' || c == '[') {
            if (depth == sizeof closers)
                return -1;
            closers[depth++] = c == '{' ? '}' : ']';
        } else if (c == '}' || c == ']') {
            if (depth == 0 || closers[--depth] != c)
                return -1;
        } else if (c == ',' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (depth == 0)
                return -1;
        } else {
            /* a number, true, false or null: up to the next delimiter */
            while (p < end && !strchr(",:]} \t\r\n\"{[", *p))
                p++;
        }
    } while (depth > 0);
    *pp = p;
    return 0;
}

/* Returns 1 with rec filled (borrowing from b) when text is an envelope,
 * 0 when it is not one (a raw payload: its other members are skipped,
 * not parsed), -1 to let jansson decide. */
static int fast_envelope(const char *text, size_t len, am_record_t *rec, am_buf_t *b)
{
    env_value_t v[ENV_NKEYS] = {{0}};
    const char *p = text, *end = text + len;
    am_buf_reset(b);
    p = env_ws(p + 1, end);
    if (p < end && *p == '}')
        p++;
    else
        for (;;) {
            if (p >= end || *p != '"')
                return -1;
            const char *key = ++p;
            while (p < end && *p != '"' && *p != '\\')
                p++;
            if (p >= end || *p != '"')
                return -1;
            size_t klen = (size_t)(p - key);
            int k = 0;
            while (k < ENV_NKEYS &&
                   !(strlen(env_keys[k]) == klen && memcmp(env_keys[k], key, klen) == 0))
                k++;
            if (k < ENV_NKEYS && v[k].type)
                return -1;
            p = env_ws(p + 1, end);
            if (p >= end || *p != ':')
                return -1;
            p = env_ws(p + 1, end);
            if (k < ENV_NKEYS && p < end && (*p == '{' || *p == '[')) {
                v[k].type = 'o'; /* no envelope's value (headers: jansson's) */
                if (env_skip(&p, end) != 0)
                    return -1;
            } else if (k == ENV_NKEYS ? env_skip(&p, end) != 0
                                      : env_value(&p, end, b, &v[k]) != 0) {
                return -1;
            }
            p = env_ws(p, end);
            if (p < end && *p == ',') {
                p = env_ws(p + 1, end);
                continue;
            }
            if (p < end && *p == '}') {
                p++;
                break;
            }
            return -1;
        }
    if (env_ws(p, end) != end || (v[ENV_HEADERS].type && v[ENV_HEADERS].type != 'n'))
        return -1;
    /* The same decisions as parse_envelope. */
    if (!(v[ENV_PAYLOAD].type == 's' || v[ENV_PAYLOAD].type == 'n') || v[ENV_TS].type != 'i')
        return 0;
    if (v[ENV_PAYLOAD].type == 's') {
        rec->payload = b->p + v[ENV_PAYLOAD].at;
        rec->len = v[ENV_PAYLOAD].len;
    } else {
        rec->payload = NULL;
        rec->len = 0;
    }
    rec->ts = am_time_record(v[ENV_TS].i);
    if (v[ENV_TOPIC].type == 's') {
        rec->topic = b->p + v[ENV_TOPIC].at;
        rec->partition = v[ENV_PARTITION].type == 'i' ? (int32_t)v[ENV_PARTITION].i : 0;
        rec->offset = v[ENV_OFFSET].type == 'i' ? v[ENV_OFFSET].i : 0;
    }
    if (v[ENV_KEY].type == 's') {
        rec->key = b->p + v[ENV_KEY].at;
        rec->key_len = v[ENV_KEY].len;
    }
    return 1;
}

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
    rec->ts = am_time_record(json_integer_value(ts));
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
    am_buf_t scratch = {0};
    /* Only an object can be an envelope; skip the parse for anything else. */
    if (len > 0 && text[0] == '{' && fast_envelope(text, len, &rec, &scratch) < 0) {
        root = json_loadb(text, len, 0, NULL);
        if (root)
            parse_envelope(root, &rec, &headers);
    }
    int rc = fn(ctx, &rec);
    free(headers);
    json_decref(root);
    am_buf_free(&scratch);
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
