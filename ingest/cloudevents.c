/*
 * cloudevents.c - CloudEvents 1.0 around a payload of any format aftermath
 * reads, most often a CDEvent, in both modes of the Kafka protocol binding:
 *
 * - structured: the record value is an envelope ({"specversion", "id",
 *   "source", "type", "data", ...});
 * - binary: the attributes travel as ce_* Kafka headers (ce_specversion,
 *   ce_id, ce_source, ce_type, ce_time, ...), the data's media type as the
 *   content-type header, and the record value is the data itself.
 *
 * Either way the envelope is only checked and unwrapped: the data is
 * detected and decoded like a record of its own, so the events are those
 * of the inner format (source "cdevents", "alertmanager"...) and nothing is
 * taken from the attributes (a CDEvent repeats id, source, type and time in
 * its context). The same attribute check applies to both modes, naming the
 * envelope field or the header, so one event sent either way is accepted or
 * refused alike and decodes to identical events. Only JSON data is read
 * ("data" an object or array); "data_base64", a non-JSON content-type and
 * nested envelopes are refused.
 */
#include "common/buf.h"
#include "common/time.h"
#include "ingest/decoders.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int ce_is_envelope(const json_t *root)
{
    return json_is_object(root) && json_is_string(json_object_get(root, "specversion")) &&
           json_is_string(json_object_get(root, "type")) &&
           (json_object_get(root, "data") || json_object_get(root, "data_base64"));
}

/* The attributes both modes check, as borrowed strings (NULL = absent). */
typedef struct ce_attrs {
    const char *specversion, *id, *source, *type, *time;
} ce_attrs_t;

/* Checks the required attributes and the optional time; prefix names an
 * attribute in err ("field " for an envelope, "header ce_" for binary
 * mode). */
static int check_attrs(const ce_attrs_t *a, const char *prefix, char *err, size_t errlen)
{
    const struct {
        const char *name, *value;
    } required[] = {
        {"specversion", a->specversion}, {"id", a->id}, {"source", a->source}, {"type", a->type}};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!required[i].value || !*required[i].value) {
            am_errf(err, errlen,
                    "%s%s: missing (a CloudEvent needs specversion, id, source and type)", prefix,
                    required[i].name);
            return -1;
        }
    if (strcmp(a->specversion, "1.0") != 0) {
        am_errf(err, errlen, "%sspecversion: \"%.32s\" is not supported (only 1.0)", prefix,
                a->specversion);
        return -1;
    }
    char why[256];
    int64_t ms;
    if (a->time && am_time_parse(a->time, strlen(a->time), &ms, why, sizeof why) < 0) {
        am_errf(err, errlen, "%stime: %s", prefix, why);
        return -1;
    }
    return 0;
}

int ingest_cloudevents_unwrap(const json_t *root, const json_t **data, char *err, size_t errlen)
{
    *data = root;
    if (!ce_is_envelope(root))
        return 0;
    ce_attrs_t a;
    if (ingest_get_string(root, "specversion", "", &a.specversion, err, errlen) != 0 ||
        ingest_get_string(root, "id", "", &a.id, err, errlen) != 0 ||
        ingest_get_string(root, "source", "", &a.source, err, errlen) != 0 ||
        ingest_get_string(root, "type", "", &a.type, err, errlen) != 0 ||
        ingest_get_string(root, "time", "", &a.time, err, errlen) != 0 ||
        check_attrs(&a, "field ", err, errlen) != 0)
        return -1;
    const json_t *d = json_object_get(root, "data");
    if (!d) {
        am_errf(err, errlen, "field data_base64: binary data is not read (only JSON in data)");
        return -1;
    }
    if (!json_is_object(d) && !json_is_array(d)) {
        am_errf(err, errlen, "field data: expected a JSON object or array");
        return -1;
    }
    *data = d;
    return 1;
}

/* A JSON media type: application/json, text/json or any type ending in
 * +json, parameters (";charset=utf-8") aside, in any case. */
static int is_json_type(const char *ct)
{
    size_t n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
           (n == 9 && strncasecmp(ct, "text/json", 9) == 0) ||
           (n > 5 && memchr(ct, '/', n) && strncasecmp(ct + n - 5, "+json", 5) == 0);
}

/* Header values named ce_*, looked up in kcat's flat array. */
typedef struct ce_header {
    const char *name; /* attribute name without "ce_", or "content-type" */
    const char **value;
    int seen;
} ce_header_t;

int ingest_cloudevents_headers(const char *headers, char *err, size_t errlen)
{
    /* Most records carry no CloudEvents header: skip the parse for them. */
    if (!headers || !strstr(headers, "ce_specversion"))
        return 0;
    json_t *arr = json_loads(headers, 0, NULL);
    int rc = 0;
    if (!json_is_array(arr) || json_array_size(arr) % 2 != 0)
        goto done; /* not kcat's form: not something binary mode can be read from */
    ce_attrs_t a = {0};
    const char *content_type = NULL;
    ce_header_t wanted[] = {
        {"specversion", &a.specversion, 0},
        {"id", &a.id, 0},
        {"source", &a.source, 0},
        {"type", &a.type, 0},
        {"time", &a.time, 0},
        {"content-type", &content_type, 0},
    };
    size_t nwanted = sizeof wanted / sizeof wanted[0];
    for (size_t i = 0; i < json_array_size(arr); i += 2) {
        const char *name = json_string_value(json_array_get(arr, i));
        const char *value = json_string_value(json_array_get(arr, i + 1));
        if (!name)
            continue;
        for (size_t w = 0; w < nwanted; w++) {
            int is_ct = w == nwanted - 1;
            if (is_ct ? strcasecmp(name, wanted[w].name) != 0
                      : strncmp(name, "ce_", 3) != 0 || strcmp(name + 3, wanted[w].name) != 0)
                continue;
            if (wanted[w].seen++) {
                am_errf(err, errlen, "header %s: given twice", name);
                rc = -1;
                goto done;
            }
            *wanted[w].value = value ? value : "";
        }
    }
    /* No ce_specversion header (the name was only in a value), or, as the
     * binding says, a content-type of application/cloudevents... marking
     * structured mode whatever other headers say: not binary mode. */
    if (!wanted[0].seen ||
        (content_type && strncasecmp(content_type, "application/cloudevents", 23) == 0))
        goto done;
    if (check_attrs(&a, "header ce_", err, errlen) != 0) {
        rc = -1;
        goto done;
    }
    if (content_type && !is_json_type(content_type)) {
        am_errf(err, errlen,
                "header content-type: \"%.64s\" is not JSON (only JSON data is read in binary "
                "mode)",
                content_type);
        rc = -1;
        goto done;
    }
    rc = 1;
done:
    json_decref(arr);
    return rc;
}

static int ce_decode(const json_t *root, const ingest_ctx_t *ctx, am_event_list_t *out, char *err,
                     size_t errlen)
{
    const json_t *data = root;
    const char *what = "record value (the data of a binary-mode CloudEvent)";
    if (ctx->ce_binary) {
        if (!json_is_object(root) && !json_is_array(root)) {
            am_errf(err, errlen, "%s: expected a JSON object or array", what);
            return -1;
        }
    } else {
        int rc = ingest_cloudevents_unwrap(root, &data, err, errlen);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            am_errf(err, errlen,
                    "not a CloudEvents envelope (needs specversion, type and data) nor a "
                    "binary-mode record (ce_specversion header)");
            return -1;
        }
        what = "field data";
    }
    const ingest_format_t *fmt = ingest_format_detect(data);
    if (!fmt) {
        am_errf(err, errlen, "%s: not a known format", what);
        return -1;
    }
    if (fmt == &ingest_format_cloudevents) {
        am_errf(err, errlen, "%s: a CloudEvents envelope inside another", what);
        return -1;
    }
    char why[400];
    if (fmt->decode(data, ctx, out, why, sizeof why) != 0) {
        am_errf(err, errlen, "in data, %s: %s", fmt->name, why);
        return -1;
    }
    return 0;
}

const ingest_format_t ingest_format_cloudevents = {
    .name = "cloudevents",
    .detect = ce_is_envelope,
    .decode = ce_decode,
};
