/*
 * status.h - an incident's status as shown to people, computed when shown.
 *
 * The store keeps "open" (an alert still fires) or "resolved" (every
 * alert ended). Between the last alert's end (mitigated_at) and
 * resolved_at (mitigation plus the rule's quiet period, or a resolve
 * event) an alert of the group may still fire again and reopen the
 * incident, so a person is told "mitigated" until resolved_at has passed.
 * "Now" is the caller's: the wall clock for the daemon, the latest time
 * any stored event gives for replay, incidents and report, so that the
 * same store always reads the same (and goldens stay deterministic).
 */
#ifndef REPORT_STATUS_H
#define REPORT_STATUS_H

#include <jansson.h>
#include <stdint.h>

#include "store/store.h"

/* "open" when the incident (a corr_incident_json() object) has no
 * mitigated_at; "resolved" when its resolved_at is at or before now;
 * "mitigated" otherwise (now AM_TIME_NONE included). Static string. */
const char *report_status(const json_t *incident, int64_t now);

/* Sets *ms to the latest start, end or observation time of any event in
 * st (AM_TIME_NONE when there is none). Returns 0, or -1 with err on a
 * database error. */
int report_latest_event_time(store_t *st, int64_t *ms, char *err, size_t errlen);

#endif
