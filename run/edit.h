/*
 * edit.h - the people's edits of an incident, as events: build and check a
 * correction or an action item the way `aftermath correct` and `aftermath
 * action` do, and store it. One builder for the command line
 * (cli/cmd_correct.c) and the web pages (run/ui.c), so a person at either
 * is held to the same fields, the same checks and the same messages, and
 * writes the same event (docs/formats.md, kinds correction and action).
 *
 * Errors: functions return 0, RUN_EDIT_USAGE (the person's mistake: err
 * says which field and what is wrong, the CLI exits 2, a page answers 400)
 * or RUN_EDIT_FAILED (the database failed: err says how).
 */
#ifndef RUN_EDIT_H
#define RUN_EDIT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/event.h"
#include "common/record.h"
#include "store/store.h"

enum { RUN_EDIT_USAGE = -1, RUN_EDIT_FAILED = -2 };

/* The fields a correction may set, as the CLI's help and errors name them. */
#define RUN_EDIT_FIELDS                                                                            \
    "title, severity, lead, commander, role.NAME, started_at, detected_at, acknowledged_at, "      \
    "mitigated_at, resolved_at, users_impacted"

/* Puts field=value into set (value NULL: unset the field, back to its
 * derived value): role.NAME (or roles.NAME) into set.roles, commander as
 * lead, times checked as RFC 3339, users_impacted as a count. err (usage)
 * starts with the field: "mitigated_at: 'soon' is not an RFC 3339 time",
 * or "'colour' is not a field: ...". */
int run_edit_set_field(json_t *set, const char *field, const char *value, char *err, size_t errlen);

/* Puts obj.suspect from "NAME@VERSION=confirmed|rejected|none" (none:
 * withdraw the verdict); one per correction. */
int run_edit_suspect(json_t *obj, const char *spec, char *err, size_t errlen);

/* Completes correction obj (which may hold suspect, dismiss, merge_into)
 * of incident id (or an alias) with set (borrowed; fields of
 * run_edit_set_field), actor, when and reason (NULL: none): refuses
 * nothing to correct, an unknown incident or merge target, a merge into
 * itself and a time order that makes no sense (mitigated or resolved
 * before the start, resolved before mitigated, after this correction);
 * fills kind, incident (the canonical id), at, actor, reason, set and
 * about (rule, key, derived start, alert identities). */
int run_edit_correction(store_t *st, json_t *obj, const json_t *set, const char *id,
                        const char *actor, int64_t when, const char *reason, char *err,
                        size_t errlen);

/* Completes action event obj (which may hold task, owner, due, url,
 * status) of incident id for verb add, set or done and item (NULL with
 * add: AI-<next number>): add needs a task and a new item, set and done a
 * known one; done sets status done, add status open unless given. Fills
 * kind, incident, item, at and actor. */
int run_edit_action(store_t *st, json_t *obj, const char *id, const char *verb, const char *item,
                    const char *actor, int64_t when, char *err, size_t errlen);

/* Decodes obj with the generic decoder (what a topic or file is held to):
 * *text (owned, the JSON that is stored or produced) and evs (one event).
 * Returns 0 or RUN_EDIT_USAGE with err. */
int run_edit_decode(const json_t *obj, char **text, am_event_list_t *evs, char *err, size_t errlen);

/* Stores decoded text/evs (from source, e.g. "correct" or "ui") in one
 * transaction with the refreshed people's record, queueing the incident
 * in the outbox; *outcome says whether it was new. 0 or RUN_EDIT_FAILED. */
int run_edit_store(store_t *st, const char *text, const char *source, am_event_list_t *evs,
                   store_outcome_t *outcome, char *err, size_t errlen);

#endif
