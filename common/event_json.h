/*
 * event_json.h - the one JSON shape of an event between aftermath's own
 * processes: the value of a keyed-topic record and the events of an
 * incident's replica document (issue #11, the scale-out design; the keyed
 * topic's format is in docs/formats.md).
 *
 * An object with the events table's column names: id, kind, status,
 * source, name, identity, service, environment, severity, labels and
 * annotations (objects of strings), summary, starts_at, ends_at,
 * observed_at (integer UTC milliseconds, or null when unknown), actor,
 * version, url. A string the event lacks is omitted (null reads the same).
 * The round trip event -> JSON -> event is exact: the id is carried, never
 * recomputed, and the source maps back to its static name.
 */
#ifndef AM_EVENT_JSON_H
#define AM_EVENT_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "common/event.h"

/* New JSON object of ev (owned reference), members in column order. NULL
 * when a string of ev is not valid UTF-8, which JSON cannot carry (no
 * decoder makes one: they read their strings from JSON). The label caches
 * of ev are not read. */
json_t *am_event_to_json(const am_event_t *ev);

/* Fills ev (overwritten, not freed first) from obj. id, kind and source
 * are required; kind must be one of alert, deploy, ack, note and source a
 * name am_source_static knows; every other string member is a string or
 * null; times are integers or null; labels and annotations objects of
 * strings (or null). Unknown members are ignored, so that a newer writer
 * may add some. Returns 0; or -1 with ev initialised (owning nothing) and
 * err starting with the name of the member at fault ("starts_at: expected
 * an integer (UTC ms) or null"), for the caller to prefix with where the
 * object was. */
int am_event_from_json(const json_t *obj, am_event_t *ev, char *err, size_t errlen);

#endif
