/*
 * fuzz_keyed.c - libFuzzer target for the keyed-topic records (format
 * "aftermath-event", ingest/keyed.h): the input is a record value.
 *
 * Besides the sanitizers' verdict, it aborts when what the correlate role
 * relies on does not hold: a refusal appends nothing and says why; an
 * accepted value gives exactly one event, with an id, a static source, a
 * time, and what its kind needs (as fuzz_decode.c checks of every
 * decoder); the record's timestamp never leaks into it; and the round trip
 * is exact: the event written again with ingest_keyed_value decodes to the
 * same event, field by field, and that value is a fixed point.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/event.h"
#include "common/record.h"
#include "ingest/decode.h"
#include "ingest/keyed.h"
#include "tests/fuzz/event_check.h"
#include "tests/unit/event_eq.h"

#define OBSERVED 1718721005000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
    fuzz_check(cond, "fuzz_keyed", what);
}

/* Decodes value (len bytes) as a keyed record with Kafka timestamp ts. */
static int decode(ingest_decoder_t *dec, const char *value, size_t len, int64_t ts,
                  am_event_list_t *l)
{
    char err[768] = "";
    am_record_t rec = {.payload = value,
                       .len = len,
                       .topic = "aftermath.keyed",
                       .ts = ts,
                       .format = INGEST_FORMAT_KEYED};
    int rc = ingest_decode_record(dec, &rec, NULL, l, err, sizeof err);
    check(rc == 0 || rc == -1, "return code");
    if (rc != 0) {
        check(l->n == 0, "refusal left events behind");
        check(err[0] != '\0', "refusal without a reason");
    } else {
        check(l->n == 1, "not exactly one event");
        fuzz_check_event(&l->v[0], "fuzz_keyed");
        check(am_source_static(l->v[0].source) == l->v[0].source, "source not static");
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ingest_decoder_t *dec = ingest_decoder_create(NULL, NULL);
    am_event_list_t a = {0}, b = {0}, c = {0};
    int rc = decode(dec, (const char *)data, size, OBSERVED, &a);
    check(decode(dec, (const char *)data, size, AM_TIME_NONE, &b) == rc,
          "the record timestamp changed the outcome");
    if (rc == 0) {
        check(event_diff(&a.v[0], &b.v[0]) == NULL, "the record timestamp changed the event");
        char *value = ingest_keyed_value(&a.v[0]);
        check(value != NULL, "an accepted event cannot be written");
        check(decode(dec, value, strlen(value), OBSERVED, &c) == 0, "written value refused");
        check(event_diff(&a.v[0], &c.v[0]) == NULL, "round trip not exact");
        char *again = ingest_keyed_value(&c.v[0]);
        check(again && strcmp(value, again) == 0, "written value not a fixed point");
        free(again);
        free(value);
    }
    am_event_list_free(&a);
    am_event_list_free(&b);
    am_event_list_free(&c);
    ingest_decoder_destroy(dec);
    return 0;
}
