/*
 * fuzz_escape.c - libFuzzer target for the terminal and CSV escapers
 * (report/escape.c), checked by properties rather than by a second
 * decoder: the terminal output holds no C0 byte and no DEL, none of the
 * UTF-8 forms of C1, bidi or line-separator characters, and is a fixed
 * point (escaping it again changes nothing, so it is well-formed UTF-8
 * with nothing left to replace); the CSV cell unquotes back to the input,
 * behind a ' exactly when the input starts a formula.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/escape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_term(const char *in, size_t size)
{
    static const char *const unsafe[] = {
        "\xe2\x80\x8e", "\xe2\x80\x8f", "\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x80\xaa",
        "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad", "\xe2\x80\xae", "\xe2\x81\xa6",
        "\xe2\x81\xa7", "\xe2\x81\xa8", "\xe2\x81\xa9", "\xd8\x9c"};
    am_buf_t a = {0}, b = {0};
    report_escape_term(&a, in, size);
    for (size_t i = 0; i < a.len; i++) {
        unsigned char c = (unsigned char)a.p[i];
        if (c < 0x20 || c == 0x7f)
            abort();
        if (c == 0xc2 && i + 1 < a.len && (unsigned char)a.p[i + 1] >= 0x80 &&
            (unsigned char)a.p[i + 1] <= 0x9f)
            abort();
    }
    for (size_t k = 0; a.len && k < sizeof unsafe / sizeof unsafe[0]; k++)
        if (strstr(a.p, unsafe[k]))
            abort();
    report_escape_term(&b, a.p, a.len);
    if (a.len != b.len || (a.len && memcmp(a.p, b.p, a.len) != 0)) {
        fprintf(stderr, "terminal escaping is not a fixed point\n");
        abort();
    }
    am_buf_free(&a);
    am_buf_free(&b);
}

static void check_csv(const char *in, size_t size)
{
    am_buf_t a = {0}, back = {0};
    report_escape_csv(&a, in, size);
    int formula = size && strchr("=+-@\t\r", in[0]) && in[0];
    if (a.len && a.p[0] == '"') {
        if (a.len < 2 || a.p[a.len - 1] != '"')
            abort();
        for (size_t i = 1; i + 1 < a.len; i++) {
            if (a.p[i] == '"') {
                if (a.p[i + 1] != '"' || i + 2 >= a.len)
                    abort(); /* a lone quote would end the cell */
                i++;
            }
            am_buf_putc(&back, a.p[i]);
        }
        size_t skip = formula ? 1 : 0;
        if (back.len != size + skip || (formula && back.p[0] != '\'') ||
            (size && memcmp(back.p + skip, in, size) != 0))
            abort();
    } else {
        if (formula || a.len != size || (size && memcmp(a.p, in, size) != 0))
            abort();
        for (size_t i = 0; i < size; i++)
            if (in[i] == ',' || in[i] == '"' || in[i] == '\r' || in[i] == '\n')
                abort();
    }
    am_buf_free(&a);
    am_buf_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_term((const char *)data, size);
    check_csv((const char *)data, size);
    return 0;
}
