/*
 * escape.h - escaping text taken from events for each output format of the
 * postmortem draft. Event text is untrusted: an alert annotation may hold
 * "<script>", "](javascript:...)", a table pipe or a newline, and none of
 * them may change the structure of the document it lands in.
 *
 * Every function appends to b the escaped form of the len bytes at s (which
 * need not be NUL-terminated; NULL appends nothing). Line breaks and other
 * control characters become a space in every format, so one value always
 * stays on its line or table cell.
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

/* A label in a Mermaid gantt block: only letters, digits, space and
 * . - _ / @ are kept (other bytes, UTF-8 included, become a space), so a
 * label cannot end the task (':'), start a comment ('%%'), set a
 * directive or close the code fence. */
void report_escape_mermaid(am_buf_t *b, const char *s, size_t len);

/* Text for a terminal: control bytes (ESC included) become '?', so event
 * text cannot move the cursor or change colours. UTF-8 passes through. */
void report_escape_term(am_buf_t *b, const char *s, size_t len);

/* The same, for NUL-terminated s (NULL appends nothing). */
void report_md(am_buf_t *b, const char *s);
void report_html(am_buf_t *b, const char *s);
void report_mermaid(am_buf_t *b, const char *s);
void report_term(am_buf_t *b, const char *s);

#endif
