/*
 * decode.c - format detection, dispatch and the helpers decoders share.
 *
 * Detection asks each format in table order whether the parsed root looks
 * like it; the first yes wins, so more specific formats come first. The
 * payload is parsed once; decoders read the jansson tree and never see the
 * bytes. Everything a decoder appended is dropped again when it refuses
 * the record, so a record is taken whole or not at all. Event times are
 * judged plausible here, once for every format (check_times), not in
 * each decoder.
 *
 * ingest_decode_record() adds what only a record knows: its topic picks
 * the label map (a topic's own, else the decoder's), and its headers may
 * make it a binary-mode CloudEvent, which selects the cloudevents decoder
 * before any detection (the value alone would look like the bare data).
 */
#include "ingest/decode.h"
#include "common/buf.h"
#include "common/hash.h"
#include "ingest/decoders.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const ingest_limits_t ingest_limits_default = {
    .max_record_bytes = 1024 * 1024,
    .max_depth = 32,
    .max_events = 10000,
    .max_labels = 128,
    .max_value_bytes = 16 * 1024,
};

/* A topic's own label map (ingest_decoder_set_topic_map). */
typedef struct topic_map {
    char *topic;
    am_label_map_t map;
} topic_map_t;

struct ingest_decoder {
    am_label_map_t map;
    const ingest_limits_t *limits;
    topic_map_t *topics; /* a handful at most: searched in order */
    size_t ntopics;
};

/* Detection order, most specific first. A CloudEvents envelope is
 * unwrapped before anything looks inside it; CDEvents, GitHub, Flux and
 * PagerDuty have distinctive top-level keys; Grafana is an Alertmanager
 * webhook plus orgId/version "1", so it must come before Alertmanager; the
 * Alertmanager API is the only bare array; the event recorder's records
 * have "@timestamp" (or an older "timestamp") and "data", which no other
 * format has at the top; the generic format is known only
 * by its "kind", which a payload of another format could also carry.
 * Formats without detect() (aftermath's own keyed records) are chosen by
 * name only. */
static const ingest_format_t *const formats[] = {
    &ingest_format_cloudevents,  &ingest_format_cdevents,  &ingest_format_github,
    &ingest_format_flux,         &ingest_format_pagerduty, &ingest_format_grafana,
    &ingest_format_alertmanager, &ingest_format_amapi,     &ingest_format_amevents,
    &ingest_format_generic,      &ingest_format_keyed,
};
#define NFORMATS (sizeof formats / sizeof formats[0])

ingest_decoder_t *ingest_decoder_create(const am_label_map_t *map, const ingest_limits_t *limits)
{
    ingest_decoder_t *dec = am_xcalloc(1, sizeof *dec);
    dec->map = map ? *map : am_label_map_default;
    dec->limits = limits ? limits : &ingest_limits_default;
    return dec;
}

void ingest_decoder_destroy(ingest_decoder_t *dec)
{
    if (!dec)
        return;
    for (size_t i = 0; i < dec->ntopics; i++)
        free(dec->topics[i].topic);
    free(dec->topics);
    free(dec);
}

void ingest_decoder_set_topic_map(ingest_decoder_t *dec, const char *topic,
                                  const am_label_map_t *map)
{
    for (size_t i = 0; i < dec->ntopics; i++)
        if (strcmp(dec->topics[i].topic, topic) == 0) {
            dec->topics[i].map = *map;
            return;
        }
    dec->topics = am_xrealloc(dec->topics, (dec->ntopics + 1) * sizeof *dec->topics);
    dec->topics[dec->ntopics++] = (topic_map_t){am_xstrdup(topic), *map};
}

static const am_label_map_t *topic_map(const ingest_decoder_t *dec, const char *topic)
{
    for (size_t i = 0; topic && i < dec->ntopics; i++)
        if (strcmp(dec->topics[i].topic, topic) == 0)
            return &dec->topics[i].map;
    return &dec->map;
}

static const ingest_format_t *format_by_name(const char *name)
{
    for (size_t i = 0; i < NFORMATS; i++)
        if (strcmp(formats[i]->name, name) == 0)
            return formats[i];
    return NULL;
}

const ingest_format_t *ingest_format_detect(const json_t *root)
{
    for (size_t i = 0; i < NFORMATS; i++)
        if (formats[i]->detect && formats[i]->detect(root))
            return formats[i];
    return NULL;
}

int ingest_format_check(const char *name)
{
    return strcmp(name, "auto") == 0 || format_by_name(name) ? 0 : -1;
}

static size_t json_depth(const json_t *v, size_t limit)
{
    size_t max = 0;
    if (limit == 0)
        return 1;
    if (json_is_object(v)) {
        const char *k;
        json_t *m;
        json_object_foreach((json_t *)v, k, m)
        {
            size_t d = json_depth(m, limit - 1);
            if (d > max)
                max = d;
        }
        return max + 1;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m)
        {
            size_t d = json_depth(m, limit - 1);
            if (d > max)
                max = d;
        }
        return max + 1;
    }
    return 0;
}

/* The one plausibility check of event times (am_time_plausible), run on
 * the events of out from index from after any format's decoder, so that
 * the eight decoders, the daemon and a replay judge times alike. An
 * implausible starts_at refuses the record naming the event and the field:
 * an event cannot be placed without its time, and the rejected table is
 * where a user looks for what was not taken. An implausible ends_at is
 * dropped rather than the event (the alert is real; only its end is
 * unknown, taken downstream as that of a resolve without an end time) and
 * said in the annotation AM_ANNOTATION_TIME_REFUSED, which the draft
 * shows. A sender's own annotation of that name is dropped unless the
 * events are aftermath's own keyed records (own), which carry the note
 * their first decoding wrote. observed_at is normalised as a record time
 * (am_time_record) first: the keyed format carries its own. */
static int check_times(am_event_list_t *out, size_t from, bool own, char *err, size_t errlen)
{
    for (size_t i = from; i < out->n; i++) {
        am_event_t *ev = &out->v[i];
        char why[160], t[AM_TIME_STRLEN];
        if (!own && am_labels_get(&ev->annotations, AM_ANNOTATION_TIME_REFUSED)) {
            am_labels_unset(&ev->annotations, AM_ANNOTATION_TIME_REFUSED);
            free(ev->annotations_json);
            ev->annotations_json = NULL;
        }
        ev->observed_at = am_time_record(ev->observed_at);
        if (ev->starts_at != AM_TIME_NONE &&
            am_time_plausible(ev->starts_at, ev->observed_at, why, sizeof why) != 0) {
            int named = ev->name && *ev->name;
            am_errf(err, errlen,
                    "event %zu (%s%s%.64s%s): starts_at %s is implausible: %s (docs/formats.md, "
                    "Time)",
                    i - from + 1, am_kind_name(ev->kind), named ? " \"" : "", named ? ev->name : "",
                    named ? "\"" : "", am_time_format(ev->starts_at, t), why);
            return -1;
        }
        if (ev->ends_at != AM_TIME_NONE &&
            am_time_plausible(ev->ends_at, ev->observed_at, why, sizeof why) != 0) {
            char note[256];
            snprintf(note, sizeof note, "ends_at %s refused as implausible (%s)",
                     am_time_format(ev->ends_at, t), why);
            am_labels_set(&ev->annotations, AM_ANNOTATION_TIME_REFUSED, note);
            free(ev->annotations_json);
            ev->annotations_json = NULL;
            ev->ends_at = AM_TIME_NONE;
        }
    }
    return 0;
}

/* ingest_decode with the label map and the binary-mode flag given. */
static int decode_with(const ingest_decoder_t *dec, const am_label_map_t *map, int ce_binary,
                       const char *format, const char *payload, size_t len, int64_t observed_at,
                       am_event_list_t *out, char *err, size_t errlen)
{
    const ingest_limits_t *lim = dec->limits;
    if (len > lim->max_record_bytes) {
        am_errf(err, errlen, "record of %zu bytes is over the limit of %zu", len,
                lim->max_record_bytes);
        return -1;
    }
    json_error_t jerr;
    json_t *root = json_loadb(payload, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root) {
        if (format && strcmp(format, ingest_format_amevents.name) == 0)
            am_errf(err, errlen,
                    "%s: not JSON (invalid at line %d column %d: %s): the event recorder's "
                    "protobuf format is not read; set format: json on its Kafka output",
                    ingest_format_amevents.name, jerr.line, jerr.column, jerr.text);
        else
            am_errf(err, errlen, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
                    jerr.text);
        return -1;
    }
    int rc = -1;
    if (json_depth(root, lim->max_depth + 1) > lim->max_depth) {
        am_errf(err, errlen, "JSON nested deeper than the limit of %zu", lim->max_depth);
        goto done;
    }
    const ingest_format_t *fmt = NULL;
    if (ce_binary) {
        fmt = &ingest_format_cloudevents;
    } else if (format && strcmp(format, "auto") != 0) {
        fmt = format_by_name(format);
        if (!fmt) {
            am_errf(err, errlen, "unknown format \"%s\"", format);
            goto done;
        }
    } else {
        fmt = ingest_format_detect(root);
        if (!fmt) {
            am_errf(err, errlen,
                    "not a known format (expected an Alertmanager webhook, API array or event "
                    "recorder record, Grafana, "
                    "PagerDuty, CDEvents/CloudEvents, GitHub deployment or Flux event, or an "
                    "aftermath event with \"kind\"; see docs/formats.md)");
            goto done;
        }
    }
    ingest_ctx_t ctx = {.map = map,
                        .limits = lim,
                        .observed_at = am_time_record(observed_at),
                        .ce_binary = ce_binary};
    size_t before = out->n;
    char why[512];
    if (fmt->decode(root, &ctx, out, why, sizeof why) != 0 ||
        check_times(out, before, fmt == &ingest_format_keyed, why, sizeof why) != 0) {
        am_errf(err, errlen, "%s: %s", fmt->name, why);
        while (out->n > before)
            am_event_free(&out->v[--out->n]);
        goto done;
    }
    rc = 0;
done:
    json_decref(root);
    return rc;
}

int ingest_decode(ingest_decoder_t *dec, const char *format, const char *payload, size_t len,
                  int64_t observed_at, am_event_list_t *out, char *err, size_t errlen)
{
    return decode_with(dec, &dec->map, 0, format, payload, len, observed_at, out, err, errlen);
}

int ingest_decode_record(ingest_decoder_t *dec, const am_record_t *rec, const char *format,
                         am_event_list_t *out, char *err, size_t errlen)
{
    if (!rec->payload) {
        am_errf(err, errlen, "record has no payload (null value)");
        return -1;
    }
    if (rec->format)
        format = rec->format;
    /* Binary-mode CloudEvents are detected by their headers; a format
     * other than cloudevents forced on the record reads the value alone. */
    int ce_binary = 0;
    if (!format || strcmp(format, "auto") == 0 || strcmp(format, "cloudevents") == 0) {
        char why[512];
        ce_binary = ingest_cloudevents_headers(rec->headers, why, sizeof why);
        if (ce_binary < 0) {
            am_errf(err, errlen, "cloudevents: %s", why);
            return -1;
        }
    }
    return decode_with(dec, topic_map(dec, rec->topic), ce_binary, format, rec->payload, rec->len,
                       rec->ts, out, err, errlen);
}

int ingest_get_string(const json_t *obj, const char *key, const char *field, const char **out,
                      char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        am_errf(err, errlen, "field %s%s: expected a string", field ? field : "", key);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

int ingest_get_object(const json_t *obj, const char *key, const char *field, const json_t **out,
                      char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v)) {
        am_errf(err, errlen, "field %s%s: expected an object", field ? field : "", key);
        return -1;
    }
    *out = v;
    return 0;
}

int ingest_get_id(const json_t *obj, const char *key, const char *field, char *buf, size_t buflen,
                  char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    int n = 0;
    buf[0] = '\0';
    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v))
        n = snprintf(buf, buflen, "%s", json_string_value(v));
    else if (json_is_integer(v))
        n = snprintf(buf, buflen, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else {
        am_errf(err, errlen, "field %s%s: expected a string or an integer", field ? field : "",
                key);
        return -1;
    }
    if (n < 0 || (size_t)n >= buflen) {
        am_errf(err, errlen, "field %s%s: longer than %zu bytes", field ? field : "", key,
                buflen - 1);
        return -1;
    }
    return 0;
}

int ingest_get_time_or_observed(const json_t *obj, const char *key, const char *field,
                                const ingest_ctx_t *ctx, int64_t *ms, char *err, size_t errlen)
{
    if (ingest_get_time(obj, key, field, ms, err, errlen) != 0)
        return -1;
    if (*ms == AM_TIME_NONE)
        *ms = ctx->observed_at;
    if (*ms == AM_TIME_NONE) {
        am_errf(err, errlen,
                "field %s%s: missing, and no record timestamp to stand in for it (the event "
                "has no time)",
                field ? field : "", key);
        return -1;
    }
    return 0;
}

void ingest_set_label(am_labels_t *labels, const char *name, const char *value)
{
    if (value && *value)
        am_labels_set(labels, name, value);
}

void ingest_set_native(am_labels_t *labels, const char *name, char **field, const char *value)
{
    if (!value || !*value)
        return;
    am_labels_set(labels, name, value);
    if (!*field)
        *field = am_xstrdup(value);
}

int ingest_set_json_text(am_labels_t *labels, const char *name, const json_t *value,
                         const char *field, const ingest_limits_t *limits, char *err, size_t errlen)
{
    if (strlen(name) > limits->max_value_bytes) {
        am_errf(err, errlen, "field %s%.64s: name longer than the limit of %zu bytes",
                field ? field : "", name, limits->max_value_bytes);
        return -1;
    }
    if (json_is_string(value)) {
        if (json_string_length(value) > limits->max_value_bytes)
            goto too_long;
        am_labels_set(labels, name, json_string_value(value));
        return 0;
    }
    /* 15 significant digits: 0.07 stays 0.07 rather than 0.070000000000000007. */
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    if (!text) {
        am_errf(err, errlen, "field %s%.64s: cannot be written as JSON", field ? field : "", name);
        return -1;
    }
    if (strlen(text) > limits->max_value_bytes) {
        free(text);
        goto too_long;
    }
    am_labels_set(labels, name, text);
    free(text);
    return 0;
too_long:
    am_errf(err, errlen, "field %s%.64s: longer than the limit of %zu bytes", field ? field : "",
            name, limits->max_value_bytes);
    return -1;
}

int ingest_get_time(const json_t *obj, const char *key, const char *field, int64_t *ms, char *err,
                    size_t errlen)
{
    const char *s;
    *ms = AM_TIME_NONE;
    if (ingest_get_string(obj, key, field, &s, err, errlen) != 0)
        return -1;
    if (!s || !*s)
        return 0;
    char why[256];
    if (am_time_parse(s, strlen(s), ms, why, sizeof why) < 0) {
        am_errf(err, errlen, "field %s%s: %s", field ? field : "", key, why);
        return -1;
    }
    return 0;
}

int ingest_get_labels(const json_t *obj, const char *key, const char *field,
                      const ingest_limits_t *limits, am_labels_t *labels, char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v)) {
        am_errf(err, errlen, "field %s%s: expected an object", field ? field : "", key);
        return -1;
    }
    if (json_object_size(v) > limits->max_labels) {
        am_errf(err, errlen, "field %s%s: %zu entries, over the limit of %zu", field ? field : "",
                key, json_object_size(v), limits->max_labels);
        return -1;
    }
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)v, name, value)
    {
        if (!json_is_string(value)) {
            am_errf(err, errlen, "field %s%s.%s: expected a string", field ? field : "", key, name);
            return -1;
        }
        if (strlen(name) > limits->max_value_bytes ||
            json_string_length(value) > limits->max_value_bytes) {
            am_errf(err, errlen, "field %s%s.%.64s: longer than the limit of %zu bytes",
                    field ? field : "", key, name, limits->max_value_bytes);
            return -1;
        }
        am_labels_set(labels, name, json_string_value(value));
    }
    return 0;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    if (s)
        h = am_fnv64_add(h, s, strlen(s));
    return am_fnv64_add_byte(h, 0xff);
}

static uint64_t hash_i64(uint64_t h, int64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%" PRId64, v);
    return am_fnv64_add(am_fnv64_add(h, buf, (size_t)n), "\xff", 1);
}

void ingest_event_default_id(am_event_t *ev)
{
    if (ev->id)
        return;
    uint64_t h = AM_FNV64_INIT;
    h = hash_str(h, am_kind_name(ev->kind));
    h = hash_str(h, ev->status);
    h = hash_str(h, ev->name);
    h = hash_str(h, ev->identity);
    h = hash_str(h, ev->service);
    h = hash_str(h, ev->environment);
    h = hash_str(h, ev->actor);
    h = hash_str(h, ev->version);
    h = hash_str(h, ev->summary);
    h = hash_i64(h, ev->starts_at);
    h = hash_i64(h, ev->ends_at);
    h = hash_i64(h, (int64_t)am_labels_fingerprint(&ev->labels));
    char buf[64];
    snprintf(buf, sizeof buf, "%s:%016" PRIx64, am_kind_name(ev->kind), h);
    ev->id = am_xstrdup(buf);
}

void ingest_event_id_from(am_event_t *ev, const char *const *parts, size_t n)
{
    if (ev->id)
        return;
    uint64_t h = AM_FNV64_INIT;
    for (size_t i = 0; i < n; i++)
        h = hash_str(h, parts[i]);
    char buf[96];
    snprintf(buf, sizeof buf, "%s:%s:%016" PRIx64, am_kind_name(ev->kind),
             ev->source ? ev->source : "", h);
    ev->id = am_xstrdup(buf);
}

void ingest_alert_set_id(am_event_t *ev)
{
    char buf[128];
    if (!ev->identity) {
        snprintf(buf, sizeof buf, "%016" PRIx64, am_labels_fingerprint(&ev->labels));
        ev->identity = am_xstrdup(buf);
    }
    if (ev->id)
        return;
    int resolved = ev->status && strcmp(ev->status, "resolved") == 0;
    if (resolved && ev->ends_at != AM_TIME_NONE)
        snprintf(buf, sizeof buf, "alert:%s:resolved:%" PRId64 ":%" PRId64, ev->identity,
                 ev->starts_at, ev->ends_at);
    else
        snprintf(buf, sizeof buf, "alert:%s:%s:%" PRId64, ev->identity,
                 ev->status ? ev->status : "firing", ev->starts_at);
    ev->id = am_xstrdup(buf);
}

/* The reasons are this module's own messages (and its decoders'), whose
 * forms are fixed: "record of N bytes is over the limit", "invalid JSON
 * at ...", "... over the limit of N", "... longer than ...", "field X:
 * missing ...", "not a known format", "unknown format ...". Matching them
 * here, next to where they are written, keeps the rejected table's reason
 * text free while the metrics get a closed set; test_detect checks each
 * class on real refusals. */
const char *ingest_reject_class(const char *reason)
{
    if (strncmp(reason, INGEST_REASON_NULL, sizeof INGEST_REASON_NULL - 1) == 0)
        return "null";
    if (strncmp(reason, "invalid JSON", 12) == 0)
        return "invalid_json";
    if (strstr(reason, "over the limit") || strstr(reason, "longer than") ||
        strstr(reason, "nested deeper"))
        return "too_large";
    if (strstr(reason, "not a known format") || strstr(reason, "unknown format"))
        return "unknown_format";
    if (strstr(reason, ": missing"))
        return "missing_field";
    return "invalid_value";
}
