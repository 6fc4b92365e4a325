/*
 * draft_int.h - what the draft's renderers (draft_md.c, draft_html.c,
 * draft_text.c) share with draft.c. Private to report/.
 */
#ifndef REPORT_DRAFT_INT_H
#define REPORT_DRAFT_INT_H

#include <stdbool.h>

#include "common/time.h"
#include "report/draft.h"
#include "report/timeline.h"

/* Whether url is one the draft links: an absolute http or https URL with
 * a host, no space or control character, at most 2048 bytes. */
bool report_url_ok(const char *url);

/* The links of the events ev[0..n) (only read): a new JSON array of
 * {kind, name, service, version, label, url}, each once per event
 * subject (kind, name, service, version) and label, only those
 * report_url_ok() accepts: the event's url (labelled "source" for an
 * alert, "run" for a deploy, "PagerDuty incident" for a PagerDuty ack or note,
 * "link" otherwise) and the annotations
 * runbook_url, runbook, dashboard_url, dashboard, grafana_url, panelURL,
 * silence_url, silenceURL, imageURL. */
json_t *report_draft_links(const report_linked_t *ev, size_t n);

/* A link whose label is plain text (escaped here) and url passed
 * report_url_ok(): Markdown "[label](url)" with the bytes that could end
 * the destination, break a table cell or read as an entity encoded;
 * HTML <a href> with the url escaped as an attribute. */
void report_link_md(am_buf_t *b, const char *label, const char *url);
void report_link_html(am_buf_t *b, const char *label, const char *url);
/* Slack "<url|label>": the label through report_slack(), in the url '&'
 * as "&amp;" and '<' '>' '|' percent-encoded. */
void report_link_slack(am_buf_t *b, const char *label, const char *url);

/* Whether the draft was made with no_names. */
bool report_draft_no_names(const report_draft_t *d);

/* Borrowed string member of o, or NULL. */
static inline const char *report_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* "2024-06-18 14:05:00" (UTC) of an RFC 3339 JSON string, or "unknown"
 * for null. out holds AM_TIME_STRLEN bytes. */
const char *report_when(const json_t *v, char out[AM_TIME_STRLEN]);

/* Human duration text ("14m5s") of seconds v (JSON integer or null),
 * flagged when negative; see report_duration(). */
const char *report_secs(const json_t *v, char out[REPORT_DURATION_STRLEN]);

/* Words saying where the summary's start and acknowledgement came from
 * when not from the alerts and an ack (impact_start: deploy,
 * deploys.acknowledge), or NULL. Template text: no escaping needed. */
const char *report_start_note(const json_t *summary);
const char *report_ack_note(const json_t *summary);

/* The summary's facts as one paragraph of plain text (draft_facts.c) from
 * the draft model's summary, key, impact and suspects: what alerted where,
 * when and how long, users, detection and acknowledgement, the first
 * suspect as a hypothesis; people's names left out with no_names. NULL
 * when the incident has no start. Caller frees. */
char *report_facts(const json_t *model, bool no_names);

/* How a format marks up the sections draft_doc.c writes for both
 * Markdown and HTML: the escape for values from events, and the strings
 * around headings, paragraphs, lists and tables. */
typedef struct report_doc_style {
    void (*escape)(am_buf_t *b, const char *s);
    void (*link)(am_buf_t *b, const char *label, const char *url);
    const char *prompt; /* "[to fill]" */
    const char *h2_open, *h2_close, *h3_open, *h3_close;
    const char *p_open, *p_close, *note_open; /* note_open: a paragraph of notes */
    const char *ul_open, *ul_close, *li_open, *li_close, *ol_open, *ol_close;
    const char *strong_open, *strong_close;
    bool numbered;          /* ordered items carry their number ("1. ") */
    const char *hypothesis; /* opens a suspect's item */
    const char *why_open, *why_close;
    const char *kv_table_open, *kv_open, *kv_mid, *kv_close; /* field/value table */
    const char *table_open, *table_close, *th_row_open, *th_open, *th_close, *th_row_close;
    const char *th_rule; /* per column after the header row, or NULL */
    const char *row_open, *cell_sep, *row_close;
    const char *tl_open, *tl_close, *tl_when_open, *tl_when_close, *tl_src_open, *tl_src_close;
} report_doc_style_t;

/* The shared sections (draft_doc.c), in the style's markup. */
void report_doc_summary(const report_doc_style_t *st, const report_draft_t *d, am_buf_t *b);
void report_doc_timeline(const report_doc_style_t *st, const report_draft_t *d, am_buf_t *b);
void report_doc_root_cause(const report_doc_style_t *st, const report_draft_t *d, am_buf_t *b);
void report_doc_impact(const report_doc_style_t *st, const report_draft_t *d, am_buf_t *b);
/* "Links": every link of the draft, one item each; nothing when none. */
void report_doc_links(const report_doc_style_t *st, const report_draft_t *d, am_buf_t *b);
void report_doc_lessons(const report_doc_style_t *st, const report_draft_t *d, am_buf_t *b);

/* The incident's own span, what the charts' axis covers: the alerts'
 * episodes and the timeline's entries from impact start to resolution
 * (suspects, the lead-in and deploys after resolution are outside it and
 * drawn at its edges): *lo and *hi in ms; AM_TIME_NONE when nothing has a
 * time. */
void report_draft_span(const json_t *model, int64_t *lo, int64_t *hi);

/* Sorts the intervals [s[i], e[i]] and merges the overlapping ones in
 * place; returns how many are left. */
size_t report_union(int64_t *s, int64_t *e, size_t n);

/* The charts' rows: one per service (in the summary's order) and alert
 * name, a new JSON array of {service, name, count, instances (a single
 * alert's), bars: [[start_ms, end_ms, still_firing], ...]}; a single
 * alert's bars are its episodes, a group's the union of theirs; an open
 * episode ends at hi; past max_bars, one bar over the row's span. */
json_t *report_alert_rows(const json_t *model, int64_t hi, size_t max_bars);

/* The label of a timeline entry's type ("Suspect deploy", ...). */
const char *report_type_label(const char *type);

/* to - from in ms, or AM_TIME_NONE when either is unknown. */
int64_t report_diff(int64_t to, int64_t from);
/* Seconds of ms as a new JSON integer, or JSON null for AM_TIME_NONE. */
json_t *report_duration_json(int64_t ms);

/* Lessons Learned of incident (its corr_incident_json() object, canonical
 * id): a new JSON array of {metric, this_s, negative, services: [{service,
 * past_incidents, measured, p50_s}]} for detect, acknowledge, mitigate and
 * resolve. NULL with err on a database error. */
typedef struct sqlite3 sqlite3;
json_t *report_draft_lessons(sqlite3 *db, const json_t *incident, const char *id, char *err,
                             size_t errlen);

#endif
