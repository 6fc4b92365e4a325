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
} ingest_ctx_t;

typedef struct ingest_format {
    const char *name;
    /* True when root looks like this format (cheap key checks). */
    int (*detect)(const json_t *root);
    /* Appends events for root to out; on error returns -1 with err. The
     * caller removes any events appended before the error. */
    int (*decode)(const json_t *root, const ingest_ctx_t *ctx, am_event_list_t *out, char *err,
                  size_t errlen);
} ingest_format_t;

extern const ingest_format_t ingest_format_generic;
extern const ingest_format_t ingest_format_alertmanager;

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
/* Sets ev->id to "<kind>:<16 hex>" from an FNV-1a 64 over the event's
 * identifying fields, unless the id is already set. */
void ingest_event_default_id(am_event_t *ev);
/* The alert's identity (label fingerprint) and id: identity, status,
 * starts_at, and ends_at when resolved. */
void ingest_alert_set_id(am_event_t *ev);

#endif
