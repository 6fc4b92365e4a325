/*
 * log.c - logfmt/JSON log lines.
 *
 * Values are passed as strings; callers format numbers first. Quoting
 * follows logfmt: a value with a space, '=', '"' or a control character is
 * written in double quotes with \" \\ \n escapes, so a hostile alert name
 * cannot forge a second log line.
 */
#include "common/log.h"
#include "common/buf.h"
#include "common/time.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int am_log_level_parse(const char *name, am_log_level_t *level)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0) {
            *level = (am_log_level_t)i;
            return 0;
        }
    return -1;
}

static void put_escaped(am_buf_t *b, const char *s, bool json)
{
    bool quote = json || *s == '\0';
    for (const char *p = s; *p && !quote; p++)
        if (*p == ' ' || *p == '=' || *p == '"' || (unsigned char)*p < 0x20)
            quote = true;
    if (!quote) {
        am_buf_puts(b, s);
        return;
    }
    am_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            am_buf_putc(b, '\\');
            am_buf_putc(b, (char)*p);
        } else if (*p == '\n') {
            am_buf_puts(b, "\\n");
        } else if (*p < 0x20) {
            am_buf_printf(b, "\\u%04x", *p);
        } else {
            am_buf_putc(b, (char)*p);
        }
    }
    am_buf_putc(b, '"');
}

static void put_pair(am_buf_t *b, const char *key, const char *value, bool json, bool first)
{
    if (json) {
        am_buf_puts(b, first ? "{" : ",");
        put_escaped(b, key, true);
        am_buf_putc(b, ':');
    } else {
        if (!first)
            am_buf_putc(b, ' ');
        am_buf_puts(b, key);
        am_buf_putc(b, '=');
    }
    put_escaped(b, value ? value : "", json);
}

void am_log(const am_log_t *log, am_log_level_t level, const char *msg, ...)
{
    if (!log || !log->out || level < log->level)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char when[AM_TIME_STRLEN];
    am_time_format((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, when);

    am_buf_t b = {0};
    put_pair(&b, "ts", when, log->json, true);
    put_pair(&b, "level", level_names[level], log->json, false);
    put_pair(&b, "msg", msg, log->json, false);
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (!key)
            break;
        const char *value = va_arg(ap, const char *);
        put_pair(&b, key, value, log->json, false);
    }
    va_end(ap);
    am_buf_puts(&b, log->json ? "}\n" : "\n");
    fwrite(b.p, 1, b.len, log->out);
    fflush(log->out);
    am_buf_free(&b);
}
