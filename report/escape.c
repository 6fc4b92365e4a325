/*
 * escape.c - per-format escaping of event text (see escape.h).
 *
 * Design choice: escape by character class, never by looking for "bad"
 * sequences. Markdown gets every character that can start markup in the
 * middle of a line escaped, whatever follows it (an intraword '_' aside); Mermaid labels are an
 * allow-list, because the gantt grammar has no escape that every renderer honours. The terminal
 * escaper decodes UTF-8 strictly, so a byte it cannot place in a
 * well-formed character is replaced rather than guessed at: terminals
 * disagree on invalid input, and some read a lone 0x9B as CSI.
 */
#include "report/escape.h"

#include <stdint.h>
#include <string.h>

static int is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Only what can start markup in the middle of a line (values never start
 * one: the template always writes something before them, and control
 * characters, newlines included, become spaces): backslash, code,
 * emphasis, brackets (so no link or image can form, which makes '(' ')'
 * and '!' inert), table cells, GFM strikethrough, GitHub math. '_' between
 * two letters or digits ("ends_at") can neither open nor close emphasis in
 * CommonMark, so it stays as is; '#' and '+' mark up only at a line start,
 * '{' '}' nothing. */
void report_escape_md(am_buf_t *b, const char *s, size_t len)
{
    static const char special[] = "\\`*[]|~$";
    for (size_t i = 0; s && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '_' && i > 0 && i + 1 < len && is_alnum((unsigned char)s[i - 1]) &&
            is_alnum((unsigned char)s[i + 1]))
            am_buf_putc(b, '_');
        else if (c == '_')
            am_buf_puts(b, "\\_");
        else if (is_ctl(c))
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

/* Length of the well-formed UTF-8 character at s[0..len) (1 to 4) and its
 * code point in *cp, or 0 when s[0] starts no well-formed character
 * (Unicode 15, table 3-7: no overlong form, no surrogate, <= U+10FFFF). */
static size_t utf8_char(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        *cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        *cp = c & 0x0f;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        *cp = c & 0x07;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3f);
    }
    return n;
}

/* Code points a terminal must not receive from event text. */
static int term_unsafe(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
           cp == 0x200f || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

void report_escape_term(am_buf_t *b, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (s && i < len) {
        uint32_t cp = 0;
        size_t n = utf8_char(u + i, len - i, &cp);
        if (n == 0) {
            am_buf_putc(b, '?');
            i++;
        } else {
            if (term_unsafe(cp))
                am_buf_putc(b, '?');
            else
                am_buf_append(b, s + i, n);
            i += n;
        }
    }
}

void report_escape_csv(am_buf_t *b, const char *s, size_t len)
{
    if (!s || len == 0)
        return;
    int formula =
        s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r';
    int quote = formula;
    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        am_buf_append(b, s, len);
        return;
    }
    am_buf_putc(b, '"');
    if (formula)
        am_buf_putc(b, '\'');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            am_buf_putc(b, '"');
        am_buf_putc(b, s[i]);
    }
    am_buf_putc(b, '"');
}

void report_escape_slack(am_buf_t *b, const char *s, size_t len)
{
    for (size_t i = 0; s && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '&')
            am_buf_puts(b, "&amp;");
        else if (c == '<')
            am_buf_puts(b, "&lt;");
        else if (c == '>')
            am_buf_puts(b, "&gt;");
        else
            am_buf_putc(b, is_ctl(c) ? ' ' : (char)c);
    }
}

void report_slack(am_buf_t *b, const char *s)
{
    if (s)
        report_escape_slack(b, s, strlen(s));
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

void report_csv(am_buf_t *b, const char *s)
{
    if (s)
        report_escape_csv(b, s, strlen(s));
}
