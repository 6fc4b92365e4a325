/*
 * test_replay.c - the NDJSON/kcat -J replay source.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/time.h"
#include "ingest/replay.h"
#include "tmp_util.h"

typedef struct seen {
    int n;
    char *payload[16];
    long line[16];
    int has_payload[16];
    char *topic[16];
    int32_t partition[16];
    int64_t offset[16], ts[16];
    char *key[16], *headers[16];
} seen_t;

static int collect(void *arg, const am_record_t *rec)
{
    seen_t *s = arg;
    if (s->n == 16)
        return -1;
    int i = s->n++;
    s->has_payload[i] = rec->payload != NULL;
    s->payload[i] = rec->payload ? am_xstrndup(rec->payload, rec->len) : NULL;
    s->line[i] = rec->line;
    s->topic[i] = am_xstrdup(rec->topic);
    s->partition[i] = rec->partition;
    s->offset[i] = rec->offset;
    s->ts[i] = rec->ts;
    s->key[i] = rec->key ? am_xstrndup(rec->key, rec->key_len) : NULL;
    s->headers[i] = am_xstrdup(rec->headers);
    return 0;
}

static void seen_free(seen_t *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->payload[i]);
        free(s->topic[i]);
        free(s->key[i]);
        free(s->headers[i]);
    }
    memset(s, 0, sizeof *s);
}

static void test_ndjson_mixed(void **state)
{
    (void)state;
    char dir[64];
    tmp_dir(dir);
    const char *path = tmp_write(
        dir, "in.ndjson",
        "{\"kind\":\"note\",\"at\":\"2024-01-01T00:00:00Z\"}\n"
        "\n"
        "{\"topic\":\"alerts\",\"partition\":2,\"offset\":17,\"tstype\":\"create\","
        "\"ts\":1718721005000,\"broker\":1,\"key\":\"k1\",\"headers\":[\"ce_type\",\"x\"],"
        "\"payload\":\"{\\\"kind\\\":\\\"ack\\\"}\"}\r\n"
        "   \r\n"
        "{\"topic\":\"alerts\",\"partition\":0,\"offset\":3,\"ts\":5,\"key\":null,\"payload\":null}"
        "\n"
        "not json at all\n"
        "{\"payload\":\"a payload field but no ts\"}");
    seen_t s = {0};
    char err[256];
    assert_int_equal(ingest_replay_file(path, collect, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 5);
    /* A raw line: no timestamp, no topic. */
    assert_string_equal(s.payload[0], "{\"kind\":\"note\",\"at\":\"2024-01-01T00:00:00Z\"}");
    assert_int_equal(s.line[0], 1);
    assert_true(s.ts[0] == AM_TIME_NONE);
    assert_null(s.topic[0]);
    /* An envelope, CRLF stripped. */
    assert_string_equal(s.payload[1], "{\"kind\":\"ack\"}");
    assert_int_equal(s.line[1], 3);
    assert_string_equal(s.topic[1], "alerts");
    assert_int_equal(s.partition[1], 2);
    assert_true(s.offset[1] == 17);
    assert_true(s.ts[1] == 1718721005000LL);
    assert_string_equal(s.key[1], "k1");
    assert_string_equal(s.headers[1], "[\"ce_type\",\"x\"]");
    /* A null payload is a record without payload. */
    assert_int_equal(s.has_payload[2], 0);
    assert_int_equal(s.line[2], 5);
    assert_null(s.key[2]);
    /* Garbage and look-alikes are raw payloads for the decoder to judge. */
    assert_string_equal(s.payload[3], "not json at all");
    assert_string_equal(s.payload[4], "{\"payload\":\"a payload field but no ts\"}");
    assert_int_equal(s.line[4], 7);
    seen_free(&s);
    tmp_rm_rf(dir);
}

static void test_pretty_document(void **state)
{
    (void)state;
    char dir[64];
    tmp_dir(dir);
    const char *path =
        tmp_write(dir, "doc.json", "\n{\n  \"receiver\": \"r\",\r\n  \"alerts\": []\n}\n\n");
    seen_t s = {0};
    char err[256];
    assert_int_equal(ingest_replay_file(path, collect, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.line[0], 2);
    assert_non_null(strstr(s.payload[0], "\"alerts\": []"));
    seen_free(&s);

    /* A first line that is not JSON, and a whole that is not either: lines. */
    path = tmp_write(dir, "bad.ndjson", "{\"a\":\n{\"b\":1}\n");
    assert_int_equal(ingest_replay_file(path, collect, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.payload[0], "{\"a\":");
    assert_string_equal(s.payload[1], "{\"b\":1}");
    assert_int_equal(s.line[1], 2);
    seen_free(&s);
    tmp_rm_rf(dir);
}

static void test_missing_file_and_stop(void **state)
{
    (void)state;
    seen_t s = {0};
    char err[256] = "";
    assert_int_equal(ingest_replay_file("/nonexistent/x.ndjson", collect, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/x.ndjson"));

    /* The callback's negative return stops the replay and is returned. */
    char dir[64];
    tmp_dir(dir);
    am_buf_t b = {0};
    for (int i = 0; i < 40; i++)
        am_buf_puts(&b, "{\"kind\":\"note\"}\n");
    const char *path = tmp_write(dir, "many.ndjson", b.p);
    am_buf_free(&b);
    assert_int_equal(ingest_replay_file(path, collect, &s, err, sizeof err), -1);
    assert_int_equal(s.n, 16);
    seen_free(&s);
    tmp_rm_rf(dir);
}

/* The in-memory form (the demo's embedded story) reads like a file. */
static void test_buffer(void **state)
{
    (void)state;
    seen_t s = {0};
    static const char text[] =
        "{\"topic\":\"alerts\",\"partition\":1,\"offset\":4,\"ts\":1718721005000,\"key\":\"k\","
        "\"headers\":[\"a\",\"1\"],\"payload\":\"{}\"}\n"
        "\n"
        "{\"kind\":\"note\"}"; /* no final newline */
    assert_int_equal(ingest_replay_buffer("story", text, sizeof text - 1, collect, &s), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.topic[0], "alerts");
    assert_int_equal(s.partition[0], 1);
    assert_int_equal(s.offset[0], 4);
    assert_int_equal(s.ts[0], 1718721005000LL);
    assert_string_equal(s.key[0], "k");
    assert_string_equal(s.headers[0], "[\"a\",\"1\"]");
    assert_int_equal(s.line[1], 3);
    assert_string_equal(s.payload[1], "{\"kind\":\"note\"}");
    seen_free(&s);
}

/* The hand-written reader of envelope lines must take every line exactly
 * as jansson does: each envelope below is read as written (the fast path,
 * or jansson when the fast path gives up), with an extra unknown key whose
 * value the fast path skips, and with an unknown key spelled with an
 * escape, which always sends it through jansson. */
static void test_fast_envelope_matches_jansson(void **state)
{
    (void)state;
    static const char *const envelopes[] = {
        "{\"topic\":\"t\",\"partition\":3,\"offset\":9,\"ts\":12,\"key\":\"k\",\"payload\":\"p\"}",
        "{ \"payload\" : \"a\\\"b\\\\c\\/d\\n\\t\\u0041\\u007f\" , \"ts\" : -5 }  ",
        "{\"ts\":0,\"payload\":null,\"topic\":\"x\"}",
        "{\"ts\":1,\"payload\":\"\",\"topic\":null,\"key\":null,\"headers\":null,\"broker\":true}",
        "{\"ts\":1,\"payload\":\"p\",\"topic\":\"t\",\"partition\":\"2\",\"offset\":false}",
        "{\"ts\":1,\"payload\":\"d\",\"payload\":\"dup\"}",
        "{\"ts\":1,\"payload\":\"\\u00e9t\\u00e9 \\ud83d\\ude00\"}",
        "{\"ts\":1,\"payload\":\"caf\xc3\xa9\"}",
        "{\"ts\":123456789012345678,\"payload\":\"big\"}",
        "{\"ts\":1,\"payload\":\"p\",\"headers\":[\"a\",\"b\"]}",
    };
    for (size_t i = 0; i < sizeof envelopes / sizeof envelopes[0]; i++) {
        const char *line = envelopes[i];
        char other[512], skipped[512];
        snprintf(other, sizeof other, "{\"z\\u007a\":[0],%s", line + 1);
        snprintf(skipped, sizeof skipped,
                 "{\"zz\":[0,{\"a\":\"}\\\"]\",\"b\":[true,null,-1.5e3]}], %s", line + 1);
        seen_t a = {0}, b = {0}, c = {0};
        assert_int_equal(ingest_replay_buffer("a", line, strlen(line), collect, &a), 0);
        assert_int_equal(ingest_replay_buffer("b", other, strlen(other), collect, &b), 0);
        assert_int_equal(ingest_replay_buffer("c", skipped, strlen(skipped), collect, &c), 0);
        assert_int_equal(c.n, 1);
        assert_int_equal(c.has_payload[0], b.has_payload[0]);
        if (c.has_payload[0])
            assert_string_equal(c.payload[0], b.payload[0]);
        assert_true(c.ts[0] == b.ts[0]);
        seen_free(&c);
        assert_int_equal(a.n, 1);
        assert_int_equal(b.n, 1);
        /* Every line above is an envelope: its payload is not the line. */
        assert_true(!a.has_payload[0] || strcmp(a.payload[0], line) != 0);
        assert_int_equal(a.has_payload[0], b.has_payload[0]);
        if (a.has_payload[0])
            assert_string_equal(a.payload[0], b.payload[0]);
        assert_true(a.ts[0] == b.ts[0]);
        assert_true((a.topic[0] == NULL) == (b.topic[0] == NULL));
        if (a.topic[0]) {
            assert_string_equal(a.topic[0], b.topic[0]);
            assert_int_equal(a.partition[0], b.partition[0]);
            assert_true(a.offset[0] == b.offset[0]);
        }
        assert_true((a.key[0] == NULL) == (b.key[0] == NULL));
        if (a.key[0])
            assert_string_equal(a.key[0], b.key[0]);
        assert_true((a.headers[0] == NULL) == (b.headers[0] == NULL));
        seen_free(&a);
        seen_free(&b);
    }
    /* Not envelopes (no ts, a real ts, bad JSON): the line is the payload. */
    static const char *const raw[] = {
        "{\"payload\":\"p\"}",
        "{\"payload\":\"p\",\"ts\":1.5}",
        "{\"payload\":\"p\",\"ts\":1",
        "{\"payload\":\"p\",\"ts\":01}",
        "{\"payload\":\"a\\u0000b\",\"ts\":1}",
        "{}",
        "{\"payload\":\"p\",\"ts\":1} x",
        /* jansson refuses an integer that does not fit. */
        "{\"ts\":1,\"payload\":\"p\",\"partition\":1234567890123456789012}",
        /* raw payloads whose members the fast path skips */
        "{\"receiver\":\"r\",\"alerts\":[{\"labels\":{\"a\":\"b]}\\\"\"}}],\"n\":-1}",
        "{\"routing_key\":\"k\",\"event_action\":\"trigger\",\"payload\":{\"summary\":\"s\"},"
        "\"ts\":1}",
        "{\"a\":[1,2}",
    };
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        seen_t a = {0};
        assert_int_equal(ingest_replay_buffer("a", raw[i], strlen(raw[i]), collect, &a), 0);
        assert_int_equal(a.n, 1);
        assert_string_equal(a.payload[0], raw[i]);
        assert_true(a.ts[0] == AM_TIME_NONE);
        seen_free(&a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ndjson_mixed),
        cmocka_unit_test(test_pretty_document),
        cmocka_unit_test(test_missing_file_and_stop),
        cmocka_unit_test(test_buffer),
        cmocka_unit_test(test_fast_envelope_matches_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
