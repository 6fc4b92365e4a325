/*
 * buf.c - growable byte buffer and aborting allocators.
 *
 * The buffer doubles its capacity, so appending n bytes one at a time costs
 * O(n). It keeps a NUL after the data so callers can hand p to C string
 * functions, but len is the truth: Kafka payloads may contain NUL bytes.
 */
#include "common/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "aftermath: out of memory allocating %zu bytes\n", n);
    abort();
}

void *am_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *am_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *am_xrealloc(void *ptr, size_t n)
{
    void *p = realloc(ptr, n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

char *am_xstrdup(const char *s)
{
    return s ? am_xstrndup(s, strlen(s)) : NULL;
}

char *am_xstrndup(const char *s, size_t len)
{
    char *p = am_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

static void reserve(am_buf_t *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) {
        if (cap > ((size_t)-1) / 2)
            oom(b->len + extra + 1);
        cap *= 2;
    }
    b->p = am_xrealloc(b->p, cap);
    b->cap = cap;
}

void am_buf_append(am_buf_t *b, const void *data, size_t len)
{
    reserve(b, len);
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
}

void am_buf_puts(am_buf_t *b, const char *s)
{
    am_buf_append(b, s, strlen(s));
}

void am_buf_putc(am_buf_t *b, char c)
{
    am_buf_append(b, &c, 1);
}

void am_buf_vprintf(am_buf_t *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    reserve(b, (size_t)n);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void am_buf_printf(am_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    am_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void am_buf_reset(am_buf_t *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

char *am_buf_steal(am_buf_t *b)
{
    char *p = b->p ? b->p : am_xstrdup("");
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void am_buf_free(am_buf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void am_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int am_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
