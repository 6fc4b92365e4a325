/*
 * cloudevents.c - CloudEvents 1.0 in structured JSON mode: an envelope
 * ({"specversion", "id", "source", "type", "data", ...}) around a payload of
 * any format aftermath reads, most often a CDEvent.
 *
 * The envelope is only unwrapped: its data is detected and decoded like a
 * record of its own, so the events are those of the inner format (source
 * "cdevents", "alertmanager"...) and nothing is taken from the envelope's
 * attributes (a CDEvent repeats id, source, type and time in its context).
 * Only JSON data is read ("data" an object or array); "data_base64" and
 * nested envelopes are refused. ingest_cloudevents_unwrap() is the reusable
 * part; binary mode, where the attributes travel as ce_* Kafka headers and
 * the value is the data itself, needs no unwrapping at all.
 */
#include "common/buf.h"
#include "ingest/decoders.h"

#include <stdio.h>
#include <string.h>

static int ce_is_envelope(const json_t *root)
{
    return json_is_object(root) && json_is_string(json_object_get(root, "specversion")) &&
           json_is_string(json_object_get(root, "type")) &&
           (json_object_get(root, "data") || json_object_get(root, "data_base64"));
}

int ingest_cloudevents_unwrap(const json_t *root, const json_t **data, char *err, size_t errlen)
{
    *data = root;
    if (!ce_is_envelope(root))
        return 0;
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

static int ce_decode(const json_t *root, const ingest_ctx_t *ctx, am_event_list_t *out, char *err,
                     size_t errlen)
{
    const json_t *data;
    int rc = ingest_cloudevents_unwrap(root, &data, err, errlen);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        am_errf(err, errlen, "not a CloudEvents envelope (needs specversion, type and data)");
        return -1;
    }
    const ingest_format_t *fmt = ingest_format_detect(data);
    if (!fmt) {
        am_errf(err, errlen, "field data: not a known format");
        return -1;
    }
    if (fmt == &ingest_format_cloudevents) {
        am_errf(err, errlen, "field data: a CloudEvents envelope inside another");
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
