/*
 * buf.h - the project's one growable byte buffer, and allocation helpers.
 *
 * Allocation failure aborts the process with a message (as git's xmalloc
 * does): aftermath cannot make progress without memory, and checking every
 * small allocation would bury the real error paths.
 */
#ifndef AM_BUF_H
#define AM_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* A growable byte string, always NUL-terminated after its len bytes once
 * anything was appended. Zero-initialise ({0}) to start empty. */
typedef struct am_buf {
    char *p;
    size_t len;
    size_t cap;
} am_buf_t;

void *am_xmalloc(size_t n);
void *am_xcalloc(size_t n, size_t size);
void *am_xrealloc(void *ptr, size_t n);
/* Copies a NUL-terminated string; NULL in, NULL out. */
char *am_xstrdup(const char *s);
/* Copies len bytes and terminates them; the bytes may contain NUL. */
char *am_xstrndup(const char *s, size_t len);

void am_buf_append(am_buf_t *b, const void *data, size_t len);
void am_buf_puts(am_buf_t *b, const char *s);
void am_buf_putc(am_buf_t *b, char c);
void am_buf_printf(am_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void am_buf_vprintf(am_buf_t *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Empties the buffer, keeping its memory. */
void am_buf_reset(am_buf_t *b);
/* Hands the string to the caller (who frees it) and empties the buffer.
 * Returns an empty owned string when nothing was appended. */
char *am_buf_steal(am_buf_t *b);
void am_buf_free(am_buf_t *b);

/* The value of hexadecimal digit c (0-9, a-f, A-F), or -1. */
int am_hex_digit(char c);

/* snprintf into a fixed error buffer; safe with errlen 0 or err NULL. */
void am_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
