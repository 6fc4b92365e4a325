/*
 * draft.h - the postmortem draft of one incident: a model assembled from
 * the store (the incident, its linked events, the history of its
 * services) and its renderings as Markdown, HTML and JSON.
 *
 * The model is a JSON object (report_draft_model()); it is also the JSON
 * rendering, so every fact of the draft is machine-readable. Its sections:
 * id, rule, key, status (open, mitigated or resolved as of status_as_of:
 * report/status.h), status_as_of, aliases, summary, timeline, alerts, root_cause,
 * impact, lessons, action_items, links ([{kind, name, service, version,
 * label, url}]: the http(s) URLs the events carry, empty with no_links). Facts come from events;
 * judgement is left to people as prompts in the Markdown and HTML renderings.
 */
#ifndef REPORT_DRAFT_H
#define REPORT_DRAFT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "store/store.h"

typedef struct report_draft report_draft_t;

typedef struct report_options {
    bool no_names; /* drop people (actors, the lead) everywhere */
    bool no_links; /* drop every URL (for drafts leaving the company) */
    /* The time the status is shown at (report/status.h), UTC ms: the
     * daemon's wall clock; 0 for the latest event time in the store. */
    int64_t now_ms;
    /* The windows around the incident the draft shows unlinked context
     * from, in ms: notes and deploys before impact start (the lead-in),
     * deploys after resolution (often the fix); 0 for the defaults below,
     * negative for none. */
    int64_t lead_in_ms, after_ms;
} report_options_t;

#define REPORT_LEAD_IN_MS (30 * 60 * 1000)
#define REPORT_AFTER_MS (60 * 60 * 1000)

/* Reads incident id (or one of its aliases) from st and assembles its
 * draft. opts may be NULL for the defaults. Returns an owned draft; NULL
 * with err empty when there is no such incident, NULL with err set on a
 * database error. */
report_draft_t *report_draft_create(store_t *st, const char *id, const report_options_t *opts,
                                    char *err, size_t errlen);
/* Accepts NULL. */
void report_draft_destroy(report_draft_t *d);

/* The model, borrowed: valid until report_draft_destroy(). */
const json_t *report_draft_model(const report_draft_t *d);
/* The incident's canonical id, borrowed. */
const char *report_draft_id(const report_draft_t *d);

/* Append the draft to out, in each format. */
void report_draft_markdown(const report_draft_t *d, am_buf_t *out);
void report_draft_html(const report_draft_t *d, am_buf_t *out);
void report_draft_json(const report_draft_t *d, am_buf_t *out);
/* A short summary for a chat channel, in Slack mrkdwn (report --format
 * summary): status and services, what alerted where, from when to when
 * and how long, users impacted, detection and acknowledgement, the
 * suspects as hypotheses, and up to 5 links. */
void report_draft_summary(const report_draft_t *d, am_buf_t *out);
/* The timeline for a terminal (aftermath show): one line an entry, then
 * the draft's links (unless no_links), control characters neutralised. */
void report_draft_text(const report_draft_t *d, am_buf_t *out);

/* p50 of v[0..n) by nearest rank (the lower median); sorts v. n > 0. */
int64_t report_p50(int64_t *v, size_t n);

/* "14m5s" (am_duration_human()), or "-2m (negative: check the clocks)" for a
 * negative duration, or
 * "unknown" for AM_TIME_NONE, into out (AM_TIME_STRLEN + 32 bytes). */
#define REPORT_DURATION_STRLEN (AM_TIME_STRLEN + 32)
const char *report_duration(int64_t ms, char out[REPORT_DURATION_STRLEN]);

#endif
