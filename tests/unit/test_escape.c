/*
 * test_escape.c - the draft's per-format escaping (report/escape.c),
 * table-driven: input, expected output, per format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "report/draft.h"
#include "report/escape.h"

typedef struct tcase {
    const char *in;
    const char *out;
} tcase_t;

static void run(void (*fn)(am_buf_t *, const char *, size_t), const tcase_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        am_buf_t b = {0};
        fn(&b, c[i].in, strlen(c[i].in));
        assert_string_equal(b.p ? b.p : "", c[i].out);
        am_buf_free(&b);
    }
}

static void test_md(void **state)
{
    (void)state;
    static const tcase_t c[] = {
        {"plain text 1.2-3", "plain text 1.2-3"},
        {"<script>alert(1)</script>", "&lt;script&gt;alert\\(1\\)&lt;/script&gt;"},
        {"[x](javascript:alert(1))", "\\[x\\]\\(javascript:alert\\(1\\)\\)"},
        {"a | b", "a \\| b"},
        {"line\nbreak\r\t", "line break  "},
        {"*bold* _it_ `code` # ~s~ !", "\\*bold\\* \\_it\\_ \\`code\\` \\# \\~s\\~ \\!"},
        {"a & b \\", "a &amp; b \\\\"},
        {"{x}+$y$", "\\{x\\}\\+\\$y\\$"},
        {"caf\xc3\xa9", "caf\xc3\xa9"},
    };
    run(report_escape_md, c, sizeof c / sizeof c[0]);
}

static void test_html(void **state)
{
    (void)state;
    static const tcase_t c[] = {
        {"plain", "plain"},
        {"<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"},
        {"\"onload=x &", "&quot;onload=x &amp;"},
        {"a\nb\x1b", "a b "},
        {"caf\xc3\xa9 | [x](javascript:y)", "caf\xc3\xa9 | [x](javascript:y)"},
    };
    run(report_escape_html, c, sizeof c / sizeof c[0]);
}

static void test_mermaid(void **state)
{
    (void)state;
    static const tcase_t c[] = {
        {"db-config 2024.06.18_1/x@y", "db-config 2024.06.18_1/x@y"},
        {"a:b;c#d%%e", "a b c d  e"},
        {"```\nsection x", "    section x"},
        {"<b>caf\xc3\xa9</b>", " b caf   /b "},
    };
    run(report_escape_mermaid, c, sizeof c / sizeof c[0]);
}

static void test_term(void **state)
{
    (void)state;
    static const tcase_t c[] = {
        {"ok", "ok"},
        {"\x1b[31mred\x1b[0m", "?[31mred?[0m"},
        {"a\nb\x7f", "a?b?"},
        {"caf\xc3\xa9", "caf\xc3\xa9"},
    };
    run(report_escape_term, c, sizeof c / sizeof c[0]);
}

static void test_null_and_len(void **state)
{
    (void)state;
    am_buf_t b = {0};
    report_escape_md(&b, NULL, 5);
    report_md(&b, NULL);
    report_html(&b, NULL);
    assert_int_equal(b.len, 0);
    report_escape_html(&b, "<ab", 2); /* not NUL-terminated use: only len bytes */
    assert_string_equal(b.p, "&lt;a");
    am_buf_free(&b);
}

static void test_duration(void **state)
{
    (void)state;
    char d[REPORT_DURATION_STRLEN];
    assert_string_equal(report_duration(125000, d), "2m5s");
    assert_string_equal(report_duration(AM_TIME_NONE, d), "unknown");
    assert_non_null(strstr(report_duration(-120000, d), "negative"));
    int64_t v[] = {300, 100, 200, 400};
    assert_int_equal(report_p50(v, 4), 200);
    int64_t one[] = {7};
    assert_int_equal(report_p50(one, 1), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md),           cmocka_unit_test(test_html),
        cmocka_unit_test(test_mermaid),      cmocka_unit_test(test_term),
        cmocka_unit_test(test_null_and_len), cmocka_unit_test(test_duration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
