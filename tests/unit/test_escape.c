/*
 * test_escape.c - per-medium escaping (report/escape.c), table-driven:
 * input, expected output, per medium (Markdown, HTML, Mermaid, terminal,
 * CSV).
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
        {"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
        {"[x](javascript:alert(1))", "\\[x\\](javascript:alert(1))"},
        {"![i](x)", "!\\[i\\](x)"},
        {"a | b", "a \\| b"},
        {"line\nbreak\r\t", "line break  "},
        {"*bold* _it_ `code` # ~s~ !", "\\*bold\\* \\_it\\_ \\`code\\` # \\~s\\~ !"},
        {"ends_at a_1 x_ _y __z__", "ends_at a_1 x\\_ \\_y \\_\\_z\\_\\_"},
        {"a & b \\", "a &amp; b \\\\"},
        {"{x}+$y$", "{x}+\\$y\\$"},
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
        {"a\rb\x08\x00", "a?b?"}, /* strlen stops at the NUL */
        {"\x1b]0;title\x07", "?]0;title?"},
    };
    run(report_escape_term, c, sizeof c / sizeof c[0]);
}

/* C1 controls, U+0080-U+009F: as UTF-8 (C2 80..C2 9F) one '?' per
 * character; U+00A0 and above pass. */
static void test_term_c1(void **state)
{
    (void)state;
    static const tcase_t c[] = {
        {"\xc2\x9b"
         "31mred",
         "?31mred"},
        {"\xc2\x80\xc2\x85\xc2\x9d\xc2\x9f", "????"},
        {"x\xc2\x9d"
         "0;t\xc2\x9c",
         "x?0;t?"},
        {"\xc2\xa0\xc2\xa9", "\xc2\xa0\xc2\xa9"},
    };
    run(report_escape_term, c, sizeof c / sizeof c[0]);
}

/* Bytes outside well-formed UTF-8 become '?', one per byte: a raw 0x9B
 * (CSI to an 8-bit terminal), other raw C1 bytes, lone continuation and
 * lead bytes, overlong forms, surrogates, code points past U+10FFFF. */
static void test_term_invalid_utf8(void **state)
{
    (void)state;
    static const tcase_t c[] = {
        {"\x9b"
         "31mred",
         "?31mred"},
        {"\x80\x85\x9f", "???"},
        {"a\xc3", "a?"},
        {"\xc3("
         "x",
         "?(x"},
        {"\xc0\xaf\xc1\x9b", "????"},
        {"\xe0\x82\x9b", "???"},      /* overlong U+009B */
        {"\xed\xa0\x80", "???"},      /* surrogate U+D800 */
        {"\xf4\x90\x80\x80", "????"}, /* U+110000 */
        {"\xf5\xff\xfe", "???"},
        {"\xe2\x82", "??"},
        {"\xf0\x9f\x98\x80 ok", "\xf0\x9f\x98\x80 ok"},
        {"\xe2\x82\xac\xef\xbf\xbd", "\xe2\x82\xac\xef\xbf\xbd"},
    };
    run(report_escape_term, c, sizeof c / sizeof c[0]);
}

/* Bidirectional controls and line separators: one '?' each; their
 * neighbours (U+2027, U+202F, U+2065, U+206A, U+200D) pass. */
static void test_term_bidi(void **state)
{
    (void)state;
    static const tcase_t c[] = {
        {"\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad\xe2\x80\xae", "?????"},
        {"\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9", "????"},
        {"a\xe2\x80\xa8"
         "b\xe2\x80\xa9"
         "c",
         "a?b?c"},
        {"\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", "???"},
        {"user\xe2\x80\xaegnp.exe", "user?gnp.exe"},
        {"\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa\xe2\x80\x8d",
         "\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa\xe2\x80\x8d"},
    };
    run(report_escape_term, c, sizeof c / sizeof c[0]);
}

/* CSV cells: formula starters quoted and prefixed with ', other cells
 * quoted only when they must be. */
static void test_csv(void **state)
{
    (void)state;
    static const tcase_t c[] = {
        {"payments", "payments"},
        {"=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\""},
        {"+1", "\"'+1\""},
        {"-2+3", "\"'-2+3\""},
        {"@SUM(A1)", "\"'@SUM(A1)\""},
        {"\t=1", "\"'\t=1\""},
        {"\r=1", "\"'\r=1\""},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"a\nb", "\"a\nb\""},
        {"a=b-c", "a=b-c"},
        {" =1", " =1"},
        {"*", "*"},
        {"", ""},
    };
    run(report_escape_csv, c, sizeof c / sizeof c[0]);
}

static void test_null_and_len(void **state)
{
    (void)state;
    am_buf_t b = {0};
    report_escape_md(&b, NULL, 5);
    report_md(&b, NULL);
    report_html(&b, NULL);
    report_term(&b, NULL);
    report_csv(&b, NULL);
    report_escape_term(&b, NULL, 3);
    report_escape_csv(&b, NULL, 3);
    assert_int_equal(b.len, 0);
    report_escape_html(&b, "<ab", 2); /* not NUL-terminated use: only len bytes */
    assert_string_equal(b.p, "&lt;a");
    am_buf_reset(&b);
    report_escape_term(&b, "a\xc2\x9b", 2); /* a character cut by len is invalid */
    assert_string_equal(b.p, "a?");
    am_buf_reset(&b);
    report_escape_csv(&b, "=1,2", 2);
    assert_string_equal(b.p, "\"'=1\"");
    am_buf_free(&b);
}

static void test_slack(void **state)
{
    (void)state;
    am_buf_t b = {0};
    report_slack(&b, "<!channel> <@U1> <http://x|y> a&b\nc\x1b*bold*");
    assert_string_equal(b.p, "&lt;!channel&gt; &lt;@U1&gt; &lt;http://x|y&gt; a&amp;b c *bold*");
    am_buf_free(&b);
    report_escape_slack(&b, "<a", 1);
    assert_string_equal(b.p, "&lt;");
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
        cmocka_unit_test(test_term_c1),      cmocka_unit_test(test_term_invalid_utf8),
        cmocka_unit_test(test_term_bidi),    cmocka_unit_test(test_csv),
        cmocka_unit_test(test_null_and_len), cmocka_unit_test(test_duration),
        cmocka_unit_test(test_slack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
