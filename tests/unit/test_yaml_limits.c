/*
 * test_yaml_limits.c - am_yaml_check: hostile YAML (alias bombs, deep
 * nesting, huge collections, recursive aliases, oversized text) is refused
 * with a message naming name:line:column and the limit, and ordinary YAML
 * with a few aliases passes; am_yaml_check_file hands back the same bytes
 * from a file and from a pipe.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/yaml_limits.h"

static void ok(const char *yaml)
{
    char err[512] = "";
    if (am_yaml_check(yaml, strlen(yaml), "t.yaml", &am_yaml_limits_default, err, sizeof err) != 0)
        fail_msg("refused '%s': %s", yaml, err);
}

static void refused_n(const char *yaml, size_t len, const char *want)
{
    char err[512] = "";
    if (am_yaml_check(yaml, len, "t.yaml", &am_yaml_limits_default, err, sizeof err) == 0)
        fail_msg("accepted but should be refused: %.200s", yaml);
    if (!strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
}

static void refused(const char *yaml, const char *want)
{
    refused_n(yaml, strlen(yaml), want);
}

/* The alias bomb: a 40 KB rules file naming one regex matcher
 * 10,000 times through an alias. */
static char *alias_bomb(size_t aliases)
{
    am_buf_t b = {0};
    am_buf_puts(&b, "version: 1\nrules:\n  - name: bomb\n"
                    "    match: [&m 'a=~\"[a-z]{1,70}[0-9]{1,70}\"'");
    for (size_t i = 0; i < aliases; i++)
        am_buf_puts(&b, ", *m");
    am_buf_puts(&b, "]\n");
    return am_buf_steal(&b);
}

static void test_alias_bomb(void **state)
{
    (void)state;
    char *yaml = alias_bomb(10000);
    assert_true(strlen(yaml) > 40000);
    /* The anchored node weighs 32 bytes ("&m '...'"): the 2049th alias
     * passes 64 KiB (column 47 + 4 * 2048). */
    refused(yaml, "t.yaml:4:8239: aliases repeat more than the limit of 65536 bytes");
    free(yaml);
}

/* Aliases of aliases (a "billion laughs"): each level's weight includes
 * what its aliases repeat, so the total passes the limit after a few
 * levels although each level names only ten aliases. */
static void test_nested_alias_bomb(void **state)
{
    (void)state;
    am_buf_t b = {0};
    am_buf_puts(&b, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int level = 1; level < 10; level++) {
        am_buf_printf(&b, "a%d: &a%d [", level, level);
        for (int i = 0; i < 10; i++)
            am_buf_printf(&b, "%s*a%d", i ? ", " : "", level - 1);
        am_buf_puts(&b, "]\n");
    }
    refused(b.p, "aliases repeat more than the limit of 65536 bytes");
    assert_true(b.len < 1000);
    am_buf_free(&b);
}

static void test_recursive_alias(void **state)
{
    (void)state;
    refused("a: &a [x, *a]\n", "t.yaml:1:11: alias *a is inside its own anchor");
    refused("a: &a {b: [*a]}\n", "alias *a is inside its own anchor");
}

static void test_few_aliases_pass(void **state)
{
    (void)state;
    ok("common: &c ['service=\"pay\"', 'env=\"prod\"']\n"
       "one: *c\ntwo: *c\nthree: {m: *c}\n");
    /* Unknown aliases and syntax errors are the loader's to report. */
    ok("a: *nowhere\n");
    ok("a: [\n");
    ok("");
}

/* 100,000 levels of flow nesting took libyaml minutes; the check stops at
 * level 33 and names the place. */
static void test_deep_flow(void **state)
{
    (void)state;
    size_t depth = 100000;
    am_buf_t b = {0};
    am_buf_puts(&b, "version: 1\nrules: ");
    for (size_t i = 0; i < depth; i++)
        am_buf_putc(&b, '[');
    for (size_t i = 0; i < depth; i++)
        am_buf_putc(&b, ']');
    am_buf_putc(&b, '\n');
    refused_n(b.p, b.len, "t.yaml:2:39: sequences and mappings nested deeper than the limit of 32");
    am_buf_free(&b);
}

/* Block nesting (compact sequences, indented mappings) counts the same. */
static void test_deep_block(void **state)
{
    (void)state;
    am_buf_t b = {0};
    for (int i = 0; i < 100000; i++)
        am_buf_puts(&b, "- ");
    am_buf_puts(&b, "x\n");
    refused_n(b.p, b.len, "t.yaml:1:65: sequences and mappings nested deeper than the limit");
    am_buf_reset(&b);
    for (int i = 0; i < 40; i++)
        am_buf_printf(&b, "%*sk%d:\n", 2 * i, "", i);
    refused(b.p, "t.yaml:33:");
    am_buf_reset(&b);
    /* Exactly at the limit passes. */
    for (int i = 0; i < 31; i++)
        am_buf_printf(&b, "%*sk%d:\n", 2 * i, "", i);
    ok(b.p);
    am_buf_free(&b);
}

/* Brackets inside quoted scalars, block scalars and comments are text,
 * not nesting. */
static void test_brackets_in_text(void **state)
{
    (void)state;
    am_buf_t b = {0};
    am_buf_puts(&b, "a: '");
    for (int i = 0; i < 1000; i++)
        am_buf_putc(&b, '[');
    am_buf_puts(&b, "'\nb: |\n  {{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\n"
                    "# [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n"
                    "c: \"x=~\\\"[a-z]+\\\"\"\n");
    ok(b.p);
    am_buf_free(&b);
}

static void test_items(void **state)
{
    (void)state;
    am_buf_t b = {0};
    am_buf_putc(&b, '[');
    for (int i = 0; i < 4097; i++)
        am_buf_puts(&b, "x,");
    am_buf_puts(&b, "x]\n");
    refused(b.p, "t.yaml:1:8194: more than the limit of 4096 entries in one sequence");
    am_buf_reset(&b);
    for (int i = 0; i < 4097; i++)
        am_buf_printf(&b, "k%d: v\n", i);
    refused(b.p, "t.yaml:4097:1: more than the limit of 4096 keys in one mapping");
    am_buf_reset(&b);
    for (int i = 0; i < 4096; i++)
        am_buf_printf(&b, "k%d: v\n", i);
    ok(b.p);
    am_buf_free(&b);
}

static void test_size(void **state)
{
    (void)state;
    size_t len = am_yaml_limits_default.max_bytes + 1;
    char *yaml = am_xmalloc(len);
    memset(yaml, '#', len);
    refused_n(yaml, len, "t.yaml: 1048577 bytes, over the limit of 1048576");
    memset(yaml, ' ', len);
    char err[512];
    assert_int_equal(
        am_yaml_check(yaml, len - 1, "t.yaml", &am_yaml_limits_default, err, sizeof err), 0);
    free(yaml);
}

/* The stream handed back reads the same bytes: rewound for a file,
 * replaced by a memory stream for a pipe. */
static void test_check_file(void **state)
{
    (void)state;
    static const char yaml[] = "a: [1, 2]\nb: {c: d}\n";
    char err[512], back[64] = "";
    FILE *f = tmpfile();
    assert_non_null(f);
    fputs(yaml, f);
    rewind(f);
    assert_int_equal(am_yaml_check_file(&f, "file.yaml", &am_yaml_limits_default, err, sizeof err),
                     0);
    assert_int_equal(fread(back, 1, sizeof back - 1, f), strlen(yaml));
    assert_string_equal(back, yaml);
    fclose(f);

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], yaml, strlen(yaml)), (ssize_t)strlen(yaml));
    close(fds[1]);
    f = fdopen(fds[0], "rb");
    assert_non_null(f);
    assert_int_equal(am_yaml_check_file(&f, "pipe.yaml", &am_yaml_limits_default, err, sizeof err),
                     0);
    memset(back, 0, sizeof back);
    assert_int_equal(fread(back, 1, sizeof back - 1, f), strlen(yaml));
    assert_string_equal(back, yaml);
    fclose(f);

    f = tmpfile();
    assert_non_null(f);
    fputs("a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]\n", f);
    rewind(f);
    assert_int_equal(am_yaml_check_file(&f, "deep.yaml", &am_yaml_limits_default, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "deep.yaml:1:35: sequences and mappings nested deeper"));
    fclose(f);

    f = tmpfile();
    assert_non_null(f);
    for (size_t i = 0; i <= am_yaml_limits_default.max_bytes; i++)
        fputc('#', f);
    rewind(f);
    assert_int_equal(am_yaml_check_file(&f, "big.yaml", &am_yaml_limits_default, err, sizeof err),
                     -1);
    assert_string_equal(err, "big.yaml: larger than the limit of 1048576 bytes");
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alias_bomb),
        cmocka_unit_test(test_nested_alias_bomb),
        cmocka_unit_test(test_recursive_alias),
        cmocka_unit_test(test_few_aliases_pass),
        cmocka_unit_test(test_deep_flow),
        cmocka_unit_test(test_deep_block),
        cmocka_unit_test(test_brackets_in_text),
        cmocka_unit_test(test_items),
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_check_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
