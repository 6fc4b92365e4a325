/*
 * incident.h - reading incidents back from the store, as the JSON objects
 * that `aftermath incidents --format json` prints (a contract other tools
 * and the report rely on; see rules/README.md).
 */
#ifndef CORR_INCIDENT_H
#define CORR_INCIDENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

/* New JSON array of every incident, by start time then id. Each object:
 * id, rule, key (object), status ("open"|"resolved"), services,
 * started_at, detected_at, acknowledged_at, mitigated_at, resolved_at
 * (RFC 3339 UTC or null), alerts, users_impacted (or null), lead (or
 * null), suspects and during ([{name, version, service, status, at,
 * actor}]), flapping ({alert name: cycles}), aliases (ids merged into
 * it). A person's correction replaces a derived value (people.h); the
 * keys title, severity, roles, dismissed, merged_into, merged,
 * corrections ({field: {value, derived, actor, at, reason}}) and
 * action_items appear only when people set them, and a judged suspect has
 * a verdict. NULL with err on a database error. */
json_t *corr_incidents_json(store_t *st, char *err, size_t errlen);
/* As corr_incidents_json, which leaves out the incidents people dismissed
 * or merged into another; with all, those too. */
json_t *corr_incidents_json_all(store_t *st, bool all, char *err, size_t errlen);

/* The incident with id (or one of its aliases), or NULL when there is
 * none (err empty) or on error (err set). */
json_t *corr_incident_json(store_t *st, const char *id, char *err, size_t errlen);

#endif
