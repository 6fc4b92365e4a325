/*
 * event.h - the normalised event: what every decoder produces and every
 * other module reads. Nothing downstream looks at the wire format again.
 *
 * am_event_t is a plain struct rather than an opaque handle (STYLE rule 3):
 * it is the data model shared by all modules, read field by field
 * everywhere, and getters for twenty fields would hide nothing. Every
 * string in it is owned by the event and freed by am_event_free().
 */
#ifndef AM_EVENT_H
#define AM_EVENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/time.h"

typedef enum am_kind {
    AM_KIND_ALERT,
    AM_KIND_DEPLOY,
    AM_KIND_ACK,
    AM_KIND_NOTE,
    AM_KIND_CORRECTION, /* people's record (DESIGN.md "People's corrections") */
    AM_KIND_ACTION,
} am_kind_t;
#define AM_KIND_COUNT 6

/* "alert", "deploy", "ack", "note", "correction", "action". */
const char *am_kind_name(am_kind_t kind);
/* Returns 0 and sets *kind, or -1 for an unknown name. */
int am_kind_parse(const char *name, am_kind_t *kind);

/* The static source name equal to name: "alertmanager", "cdevents", "flux",
 * "generic", "github", "grafana" or "pagerduty" (every source a decoder
 * sets), or NULL when name is NULL or none of them. For readers of a
 * stored or serialised event, whose am_event_t.source must be static. */
const char *am_source_static(const char *name);

typedef struct am_label {
    char *name;
    char *value;
} am_label_t;

/* A list of name/value pairs kept sorted by name, names unique. */
typedef struct am_labels {
    am_label_t *v;
    size_t n;
    size_t cap;
} am_labels_t;

/* Sets name to value (both copied), replacing an existing value. */
void am_labels_set(am_labels_t *labels, const char *name, const char *value);
/* Borrowed value of name, or NULL. */
const char *am_labels_get(const am_labels_t *labels, const char *name);
/* Removes name (and its value) when present. */
void am_labels_unset(am_labels_t *labels, const char *name);
void am_labels_copy(am_labels_t *dst, const am_labels_t *src);
void am_labels_free(am_labels_t *labels);
/* Alertmanager's fingerprint of a label set: FNV-1a 64 over the labels
 * sorted by name, each name and value followed by the byte 0xff. */
uint64_t am_labels_fingerprint(const am_labels_t *labels);
/* New JSON object {name: value, ...} (owned reference). */
json_t *am_labels_to_json(const am_labels_t *labels);
/* Fills labels from a JSON object of strings. Returns 0, or -1 naming the
 * first non-string member in err. */
int am_labels_from_json(am_labels_t *labels, const json_t *obj, char *err, size_t errlen);

typedef struct am_event {
    char *id; /* stable dedup key: the same real event gets the same id */
    am_kind_t kind;
    char *status;       /* firing|resolved; started|succeeded|failed|rolled_back; acknowledged */
    const char *source; /* static: "alertmanager", "generic", ... */
    char *name;         /* alertname, or the deployed artifact */
    char *identity;     /* what repeats of the same thing share: an alert's label
                           fingerprint (16 hex digits), PagerDuty's dedup_key */
    char *service;
    char *environment;
    char *severity;
    am_labels_t labels; /* include "env" when the environment is known */
    am_labels_t annotations;
    char *summary;
    int64_t starts_at;   /* event time; for a deploy/ack/note, when it happened */
    int64_t ends_at;     /* an alert's end, AM_TIME_NONE while firing */
    int64_t observed_at; /* Kafka record timestamp, AM_TIME_NONE when unknown */
    char *actor;
    char *version;
    char *url;
    /* The page the event belongs to, by a name other than its identity
     * (not part of its id: the same alert paged twice is one event):
     * - an alert: the sha256 (64 lowercase hex digits) of the Alertmanager
     *   group key it was notified under - what Alertmanager's PagerDuty
     *   integration sends as dedup_key, and PagerDuty's v3 webhooks carry
     *   as the incident's incident_key;
     * - a PagerDuty event whose identity is that key: PagerDuty's own id of
     *   the incident, which events naming only the id (notes) follow.
     * NULL otherwise. The store keeps each pair (store/schema.sql pages,
     * page_aliases); correlate/engine.c joins PagerDuty events by them. */
    char *page;
    /* Optional caches of labels and annotations as compact JSON with sorted
     * keys (what the store and the correlator write), filled by
     * am_event_cache_json once the event is complete; NULL when not. Read
     * them through am_event_labels_json. */
    char *labels_json;
    char *annotations_json;
} am_event_t;

/* The annotation that says an event time was refused as implausible
 * (am_time_plausible), e.g. "ends_at 9999-12-31T23:59:59Z refused as
 * implausible (on or after 2100-01-01T00:00:00Z)". Only the decoder sets
 * it (a sender's is dropped); the draft shows it. The dot keeps it apart
 * from Prometheus annotation names, which cannot hold one. */
#define AM_ANNOTATION_TIME_REFUSED "aftermath.time_refused"

/* The annotation of an alert whose ends_at may not be its end: an API v2
 * body without a record time (ingest/amapi.c). The store notes the first
 * record it came from, and an event repeated by another record is
 * confirmed (store_put, STORE_REPEATED); the correlator takes an
 * unconfirmed end as an inferred one. */
#define AM_ENDS_UNCONFIRMED "ends_at_unconfirmed"

/* The annotation that carries a correction's or an action's fields (the
 * generic format's object, checked and written as compact JSON with sorted
 * keys) through the store, the event JSON and Kafka. Such an event's name
 * is the incident it names, its starts_at the time it was made (`at`), its
 * actor who made it and its summary the reason (correction) or the task
 * (action). Only the generic decoder sets it. */
#define AM_ANNOTATION_BODY "aftermath.body"

/* A zeroed event with every time set to AM_TIME_NONE. */
void am_event_init(am_event_t *ev);
/* Frees what the event owns and re-initialises it. */
void am_event_free(am_event_t *ev);

/* Deep copy of src into dst (dst is overwritten, not freed first). */
void am_event_copy(am_event_t *dst, const am_event_t *src);

/* Fills the JSON caches from labels and annotations. Call it only when the
 * event will not change any more (the pipeline's decoder threads do, so
 * that the store's thread does not serialise them). */
void am_event_cache_json(am_event_t *ev);
/* The labels (annotations when annotations is true) as compact JSON with
 * sorted keys: the cache when filled (borrowed), else a new string also
 * stored in *owned, which the caller frees (*owned is NULL otherwise). */
const char *am_event_labels_json(const am_event_t *ev, bool annotations, char **owned);

/* The event fields a label map fills from labels. cluster has no field of
 * its own: it is the label "cluster", which group_by and same read. */
typedef enum am_label_field {
    AM_LABEL_SERVICE,
    AM_LABEL_ENVIRONMENT,
    AM_LABEL_CLUSTER,
    AM_LABEL_SEVERITY,
    AM_LABEL_VERSION,
    AM_LABEL_ACTOR,
} am_label_field_t;
#define AM_LABEL_NFIELDS 6

/* "service", "environment", "cluster", "severity", "version", "actor". */
const char *am_label_field_name(am_label_field_t field);
/* Returns 0 and sets *field, or -1 for an unknown name. */
int am_label_field_parse(const char *name, am_label_field_t *field);

/* For each field, the names of the labels it is read from, first present
 * and non-empty wins. Each list is NULL-terminated; a NULL list reads no
 * label. The struct is copied by value; the lists are borrowed. The
 * defaults are DESIGN.md's, Kubernetes-aware for the service: service,
 * job, app, app_kubernetes_io_name, deployment, statefulset, daemonset,
 * job_name, container; for the service (default or configured), a value
 * that names an exporter (ending in kube-state-metrics, exporter or
 * kubelet) is passed over unless every present one does;
 * environment
 * from env, environment; cluster from cluster; severity from severity;
 * version and actor from no label (formats that carry them say so). */
typedef struct am_label_map {
    const char *const *names[AM_LABEL_NFIELDS];
} am_label_map_t;

extern const am_label_map_t am_label_map_default;

/* Fills service, environment, severity, version and actor from the labels
 * where the decoder has not already set them (a field the format carries
 * itself wins over a mapped label); sets the label "cluster" to the first
 * mapped cluster label found (keeping the sender's "cluster" when none
 * is); and sets the label "env" to the environment, so that matchers see
 * it under that name. */
void am_event_apply_label_map(am_event_t *ev, const am_label_map_t *map);

/* A growable list of events; owns them. */
typedef struct am_event_list {
    am_event_t *v;
    size_t n;
    size_t cap;
} am_event_list_t;

/* Appends an initialised event and returns it (valid until the next push). */
am_event_t *am_event_list_push(am_event_list_t *list);
/* Frees every event, keeps the memory. */
void am_event_list_clear(am_event_list_t *list);
void am_event_list_free(am_event_list_t *list);

#endif
