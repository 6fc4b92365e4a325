/*
 * decoders.h - private to ingest/: the interface every wire-format decoder
 * implements, and helpers they share. Not for other modules.
 */
#ifndef INGEST_DECODERS_H
#define INGEST_DECODERS_H

#include <jansson.h>

#include "common/event.h"
#include "ingest/decode.h"

typedef struct ingest_ctx {
    const am_label_map_t *map;
    const ingest_limits_t *limits;
    int64_t observed_at;
    int ce_binary; /* a binary-mode CloudEvent whose headers were checked:
                      the root is its data (cloudevents.c) */
} ingest_ctx_t;

typedef struct ingest_format {
    const char *name;
    /* True when root looks like this format (cheap key checks); NULL for a
     * format chosen by name only, never detected. */
    int (*detect)(const json_t *root);
    /* Appends events for root to out; on error returns -1 with err. The
     * caller removes any events appended before the error. */
    int (*decode)(const json_t *root, const ingest_ctx_t *ctx, am_event_list_t *out, char *err,
                  size_t errlen);
} ingest_format_t;

extern const ingest_format_t ingest_format_generic;
extern const ingest_format_t ingest_format_alertmanager;
extern const ingest_format_t ingest_format_amapi;
extern const ingest_format_t ingest_format_amevents;
extern const ingest_format_t ingest_format_grafana;
extern const ingest_format_t ingest_format_pagerduty;
extern const ingest_format_t ingest_format_cdevents;
extern const ingest_format_t ingest_format_cloudevents;
extern const ingest_format_t ingest_format_github;
extern const ingest_format_t ingest_format_flux;
extern const ingest_format_t ingest_format_keyed;

/* The first format in detection order whose detect() says yes to root, or
 * NULL (decode.c). */
const ingest_format_t *ingest_format_detect(const json_t *root);

/* The generic format's kinds correction and action (people.c): fills ev,
 * whose kind is set, from root, strictly. Returns 0, or -1 with err naming
 * the field. */
int ingest_generic_people(const json_t *root, const ingest_ctx_t *ctx, am_event_t *ev, char *err,
                          size_t errlen);

/* Shared helpers (decode.c). Each returns 0, or -1 with err naming field. */

/* Borrowed string member, NULL when absent or JSON null; -1 when of
 * another type. */
int ingest_get_string(const json_t *obj, const char *key, const char *field, const char **out,
                      char *err, size_t errlen);
/* Parses an RFC 3339 member into *ms (AM_TIME_NONE when absent, null or
 * Alertmanager's zero time). */
int ingest_get_time(const json_t *obj, const char *key, const char *field, int64_t *ms, char *err,
                    size_t errlen);
/* Reads a JSON object of strings into labels, checking the limits. */
int ingest_get_labels(const json_t *obj, const char *key, const char *field,
                      const ingest_limits_t *limits, am_labels_t *labels, char *err, size_t errlen);
/* Borrowed object member, NULL when absent or JSON null; -1 when of
 * another type. */
int ingest_get_object(const json_t *obj, const char *key, const char *field, const json_t **out,
                      char *err, size_t errlen);
/* A member that is a string or an integer (ids: GitHub's are numbers,
 * PagerDuty's strings), as text in buf; "" when absent or null. -1 when of
 * another type or longer than buflen - 1. */
int ingest_get_id(const json_t *obj, const char *key, const char *field, char *buf, size_t buflen,
                  char *err, size_t errlen);
/* The event time of a format whose time field is optional on the wire
 * (the receiver then stamps it): the member parsed as by ingest_get_time,
 * else ctx->observed_at (the Kafka timestamp), else -1 naming the field,
 * so that a raw replayed line never gets a made-up time. */
int ingest_get_time_or_observed(const json_t *obj, const char *key, const char *field,
                                const ingest_ctx_t *ctx, int64_t *ms, char *err, size_t errlen);
/* Sets name to value in labels unless value is NULL or empty. */
void ingest_set_label(am_labels_t *labels, const char *name, const char *value);
/* A field the format carries itself (GitHub's repository as the service, a
 * CDEvent's environment id): sets the label name to value, as
 * ingest_set_label, and *field to a copy unless it is already set. The
 * label map only fills fields still unset, so a native field wins over a
 * mapped label (docs/formats.md). Nothing when value is NULL or empty. */
void ingest_set_native(am_labels_t *labels, const char *name, char **field, const char *value);
/* Sets name to a free-form JSON value as text (a string as it is, anything
 * else as compact JSON), checking the value limit; for annotations taken
 * from members such as custom_details or values. */
int ingest_set_json_text(am_labels_t *labels, const char *name, const json_t *value,
                         const char *field, const ingest_limits_t *limits, char *err,
                         size_t errlen);
/* Sets ev->id to "<kind>:<source>:<16 hex>" from an FNV-1a 64 over the n
 * parts (NULL reads as ""), for formats whose payload carries a unique id
 * of its own, unless the id is already set. */
void ingest_event_id_from(am_event_t *ev, const char *const *parts, size_t n);
/* Sets ev->id to "<kind>:<16 hex>" from an FNV-1a 64 over the event's
 * identifying fields, unless the id is already set. */
void ingest_event_default_id(am_event_t *ev);
/* The alert's identity (label fingerprint) and id: identity, status,
 * starts_at, and ends_at when resolved. */
void ingest_alert_set_id(am_event_t *ev);

/* Alertmanager-shaped alerts, shared by the Alertmanager webhook, its API
 * and Grafana (alertmanager.c). ingest_alert_read() fills kind, source,
 * labels (refusing none), annotations, name (the alertname label), url
 * (generatorURL) and starts_at (AM_TIME_NONE when absent; the caller
 * decides); field is the prefix naming the alert ("alerts[2]."). */
int ingest_alert_read(const json_t *alert, const char *field, const char *source,
                      const ingest_ctx_t *ctx, am_event_t *ev, char *err, size_t errlen);
/* Completes an alert whose status and times are set: the summary (the
 * annotations summary, description, message or title, else the name),
 * observed_at, the identity and id from the labels, then the label map. */
void ingest_alert_finish(am_event_t *ev, const ingest_ctx_t *ctx);
/* Appends one alert event per member of root's "alerts" array, read as an
 * Alertmanager webhook (status falls back to the payload's; endsAt is read
 * for resolved alerts only), with the given source. */
int ingest_am_decode_alerts(const json_t *root, const char *source, const ingest_ctx_t *ctx,
                            am_event_list_t *out, char *err, size_t errlen);

/* CloudEvents structured mode (cloudevents.c). Returns 1 and sets *data
 * (borrowed from root) when root is a CloudEvents JSON envelope, 0 when it
 * is not one (*data = root), -1 when it is one with a missing or invalid
 * attribute or whose data cannot be read (err names the field). */
int ingest_cloudevents_unwrap(const json_t *root, const json_t **data, char *err, size_t errlen);
/* CloudEvents binary mode (cloudevents.c): looks at a record's Kafka
 * headers (kcat's ["name", "value", ...] JSON text, or NULL). Returns 0
 * when they do not make the record a binary-mode CloudEvent (no
 * ce_specversion header, or a structured-mode content-type), 1 when they
 * do and the attributes are valid, -1 when they do but a required
 * attribute is missing or one is invalid (err names the header). */
int ingest_cloudevents_headers(const char *headers, char *err, size_t errlen);

#endif
