/*
 * escape.c - per-format escaping of event text (see escape.h).
 *
 * Design choice: escape by character class, never by looking for "bad"
 * sequences. Markdown gets every markup-starting character escaped,
 * whatever follows it; Mermaid labels are an allow-list, because the
 * gantt grammar has no escape that every renderer honours.
 */
#include "report/escape.h"

#include <string.h>

static int is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

void report_escape_md(am_buf_t *b, const char *s, size_t len)
{
    static const char special[] = "\\`*_{}[]()#+!|~$";
    for (size_t i = 0; s && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_ctl(c))
            am_buf_putc(b, ' ');
        else if (c == '<')
            am_buf_puts(b, "&lt;");
        else if (c == '>')
            am_buf_puts(b, "&gt;");
        else if (c == '&')
            am_buf_puts(b, "&amp;");
        else if (strchr(special, c)) {
            am_buf_putc(b, '\\');
            am_buf_putc(b, (char)c);
        } else
            am_buf_putc(b, (char)c);
    }
}

void report_escape_html(am_buf_t *b, const char *s, size_t len)
{
    for (size_t i = 0; s && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&':
            am_buf_puts(b, "&amp;");
            break;
        case '<':
            am_buf_puts(b, "&lt;");
            break;
        case '>':
            am_buf_puts(b, "&gt;");
            break;
        case '"':
            am_buf_puts(b, "&quot;");
            break;
        case '\'':
            am_buf_puts(b, "&#39;");
            break;
        default:
            am_buf_putc(b, is_ctl(c) ? ' ' : (char)c);
        }
    }
}

void report_escape_mermaid(am_buf_t *b, const char *s, size_t len)
{
    for (size_t i = 0; s && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == ' ' || c == '.' || c == '-' || c == '_' || c == '/' || c == '@';
        am_buf_putc(b, ok ? (char)c : ' ');
    }
}

void report_escape_term(am_buf_t *b, const char *s, size_t len)
{
    for (size_t i = 0; s && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        am_buf_putc(b, is_ctl(c) ? '?' : (char)c);
    }
}

void report_md(am_buf_t *b, const char *s)
{
    if (s)
        report_escape_md(b, s, strlen(s));
}

void report_html(am_buf_t *b, const char *s)
{
    if (s)
        report_escape_html(b, s, strlen(s));
}

void report_mermaid(am_buf_t *b, const char *s)
{
    if (s)
        report_escape_mermaid(b, s, strlen(s));
}

void report_term(am_buf_t *b, const char *s)
{
    if (s)
        report_escape_term(b, s, strlen(s));
}
