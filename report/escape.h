/*
 * escape.h - escaping text taken from events for each output format of the
 * postmortem draft. Event text is untrusted: an alert annotation may hold
 * "<script>", "](javascript:...)", a table pipe or a newline, and none of
 * them may change the structure of the document it lands in.
 *
 * Every function appends to b the escaped form of the len bytes at s (which
 * need not be NUL-terminated; NULL appends nothing). Line breaks and other
 * control characters become a space in every document format, so one value
 * always stays on its line or table cell.
 *
 * One escaper per medium (STYLE rule 28): whatever writes Markdown, HTML
 * (SVG included), a terminal or CSV goes through the function for that
 * medium here, never through a local copy. docs/escaping.md lists what
 * each output escapes.
 */
#ifndef REPORT_ESCAPE_H
#define REPORT_ESCAPE_H

#include <stddef.h>

#include "common/buf.h"

/* Markdown (CommonMark/GFM) inline text, also safe inside a table cell:
 * the characters that start markup (\ ` * _ { } [ ] ( ) # + ! | ~ $) are
 * backslash-escaped and < > & become entities, so no link, image, HTML
 * tag, code span or cell break can form. */
void report_escape_md(am_buf_t *b, const char *s, size_t len);

/* HTML text or a double- or single-quoted attribute value: & < > " '
 * become entities. */
void report_escape_html(am_buf_t *b, const char *s, size_t len);

/* The Content-Security-Policy of every HTML page aftermath writes (the
 * drafts, `metrics --format html`), in a <meta http-equiv> element: the
 * pages are self-contained (inline CSS and SVG, no script, no image, no
 * network), so nothing but inline style may load or run, even if markup
 * got past escaping. */
#define REPORT_HTML_CSP "default-src 'none'; style-src 'unsafe-inline'"

/* A label in a Mermaid gantt block: only letters, digits, space and
 * . - _ / @ are kept (other bytes, UTF-8 included, become a space), so a
 * label cannot end the task (':'), start a comment ('%%'), set a
 * directive or close the code fence. */
void report_escape_mermaid(am_buf_t *b, const char *s, size_t len);

/* Text for a terminal. Each of these becomes one '?', so event text cannot
 * move the cursor, change colours, set the title, break a line or reorder
 * what is displayed:
 * - C0 controls (U+0000-U+001F, ESC and CR included) and DEL;
 * - C1 controls U+0080-U+009F (CSI is U+009B), encoded as UTF-8;
 * - every byte that is not part of well-formed UTF-8 (so a raw 0x9B, which
 *   an 8-bit terminal reads as CSI, an overlong form, a surrogate, a
 *   truncated sequence);
 * - bidirectional controls U+061C, U+200E, U+200F, U+202A-U+202E and
 *   U+2066-U+2069, and the line and paragraph separators U+2028, U+2029.
 * Every other character (well-formed UTF-8) passes through unchanged. */
void report_escape_term(am_buf_t *b, const char *s, size_t len);

/* One CSV cell (RFC 4180), the separators left to the caller. A cell that
 * starts with '=', '+', '-', '@', TAB or CR (a formula to a spreadsheet)
 * is neutralised as OWASP recommends: quoted and prefixed with a single
 * quote, so "=1+1" is written "'=1+1" between double quotes. Any other
 * cell is quoted when it holds a comma, a double quote, CR or LF; a double
 * quote inside a quoted cell is doubled. Bytes are otherwise kept. */
void report_escape_csv(am_buf_t *b, const char *s, size_t len);

/* Slack message text (mrkdwn), as Slack documents it: & < > become
 * &amp; &lt; &gt;, so no link (<url|text>), mention (<@U1>, <!channel>)
 * or date token can form; C0 controls and DEL become a space, so a value
 * stays on its line. Slack has no escape for * _ ~ and `: text from
 * events may show as bold or code, but cannot change the message's
 * structure or notify anyone. */
void report_escape_slack(am_buf_t *b, const char *s, size_t len);

/* The same, for NUL-terminated s (NULL appends nothing). */
void report_md(am_buf_t *b, const char *s);
void report_html(am_buf_t *b, const char *s);
void report_mermaid(am_buf_t *b, const char *s);
void report_term(am_buf_t *b, const char *s);
void report_csv(am_buf_t *b, const char *s);
void report_slack(am_buf_t *b, const char *s);

#endif
