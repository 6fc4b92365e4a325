/*
 * timeline.h - reconstructing an incident's story from its linked events:
 * the chronological timeline of the postmortem draft and the per-alert
 * facts (episodes, instances, summaries) the other sections use.
 */
#ifndef REPORT_TIMELINE_H
#define REPORT_TIMELINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/event.h"

/* Why an event is linked to an incident (incident_events.role). */
typedef enum report_role {
    REPORT_ROLE_ALERT,
    REPORT_ROLE_ACK,
    REPORT_ROLE_NOTE,
    REPORT_ROLE_SUSPECT,
    REPORT_ROLE_DURING,
    /* Not links of the incident: context the draft reads around it
     * (report/draft.c), never parsed from incident_events. */
    REPORT_ROLE_LEAD_IN, /* a note or deploy shortly before impact start */
    REPORT_ROLE_AFTER,   /* a deploy shortly after resolution */
} report_role_t;

/* Returns 0 and sets *role, or -1 for an unknown role name (lead-in and
 * after are never names of a link). */
int report_role_parse(const char *name, report_role_t *role);

/* One event linked to the incident, with its role. */
typedef struct report_linked {
    report_role_t role;
    am_event_t ev;
} report_linked_t;

/* Per-alert facts: a new JSON array, one object per alert identity (the
 * label fingerprint, so repeated notifications collapse), ordered by first
 * firing: name, service, severity, instances (where it fired: the first of
 * the labels instance, pod, node, deployment, statefulset, daemonset,
 * job_name, persistentvolumeclaim, namespaced ones as "namespace/name",
 * then "in cluster C" unless key, the incident's group_by labels, holds
 * the cluster), components, summary,
 * description (from the firing notifications' annotations, else null),
 * first_firing, last_resolved (null while it fires), notified_at (earliest
 * delivery, or null), cycles, episodes ([{starts_at, ends_at}]),
 * end_inferred (true, only when an event's end was inferred by the
 * correlator: the annotation end_inferred, report/draft.c), and only when
 * a time of the alert was refused as implausible, times_refused (the
 * events' AM_ANNOTATION_TIME_REFUSED notes, sorted, each once; the
 * timeline line of the alert says them too). Times are RFC 3339 UTC or
 * null. ev[0..n) is only read. */
json_t *report_timeline_alerts(const report_linked_t *ev, size_t n, const json_t *key);

/* The timeline: a new JSON array of {at (RFC 3339 or null for unknown),
 * type, text, source, actor (omitted when unknown or no_names)}, in time
 * order, unknown times last. type is one of lead_in, suspect_deploy,
 * impact_start, alert_firing, alert_flapping, detection, ack, note,
 * deploy, rollback, alert_resolved, mitigation, resolution,
 * after_resolution, alerts_folded. Alert lines of one name and service
 * that say the same thing (fired, resolved, flapped) within 5 minutes of
 * the first are one line naming the first three places and how many more,
 * with count and instances (all of them) in its object; past 120 alert
 * lines, the first and last 50 are kept and the rest are one
 * alerts_folded line with count. A deploy (source and identity) says it
 * started once. incident is the object of
 * corr_incident_json(); alerts the array of report_timeline_alerts(). text
 * and source are plain (unescaped) text: renderers escape them. */
json_t *report_timeline_build(const json_t *incident, const json_t *alerts,
                              const report_linked_t *ev, size_t n, bool no_names);

/* Milliseconds of an RFC 3339 JSON string, or AM_TIME_NONE for null, a
 * non-string or an unparsable one. */
int64_t report_json_time(const json_t *v);

#endif
