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
#include "tests/unit/event_eq.h"

#define OBSERVED 1718721005000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_keyed: invariant broken: %s\n", what);
        abort();
    }
}

static int one_of(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

static void check_event(const am_event_t *ev)
{
    static const char *const alert[] = {"firing", "resolved", NULL};
    static const char *const deploy[] = {"started", "succeeded", "failed", "rolled_back", NULL};
    check(ev->id && *ev->id, "event without id");
    check(ev->source && am_source_static(ev->source) == ev->source, "source not static");
    check(ev->starts_at != AM_TIME_NONE, "event without time");
    switch (ev->kind) {
    case AM_KIND_ALERT:
        check(ev->identity && ev->name, "alert without identity or name");
        check(one_of(ev->status, alert), "alert status");
        check(strcmp(ev->status, "firing") != 0 || ev->ends_at == AM_TIME_NONE,
              "firing alert with an end");
        break;
    case AM_KIND_DEPLOY:
        check(one_of(ev->status, deploy), "deploy status");
        check(ev->name != NULL, "deploy without name");
        break;
    case AM_KIND_ACK:
        check(ev->status && strcmp(ev->status, "acknowledged") == 0, "ack status");
        break;
    case AM_KIND_NOTE:
        break;
    default:
        check(0, "unknown kind");
    }
    if (ev->environment)
        check(am_labels_get(&ev->labels, "env") != NULL, "environment not in label env");
    for (size_t k = 1; k < ev->labels.n; k++)
        check(strcmp(ev->labels.v[k - 1].name, ev->labels.v[k].name) < 0, "labels unsorted");
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
        check_event(&l->v[0]);
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
