/*
 * fuzz_decode.c - libFuzzer target for ingest_decode_record(): format
 * detection and every decoder ("auto"), or one decoder forced when built
 * with -DFUZZ_FORMAT="name" (one target per decoder, sharing this file).
 * An input whose first line starts with "headers:" gives the rest of that
 * line as the record's Kafka headers (kcat's JSON array, as a CloudEvent
 * in binary mode carries its ce_* attributes) and the next lines as the
 * payload; any other input is the payload alone.
 *
 * Besides the sanitizers' verdict, it checks what every consumer of the
 * events relies on, and aborts when it does not hold: a refusal appends
 * nothing and says why; an accepted event has an id, a source, a time and
 * the record's observed_at (but where the event recorder says otherwise);
 * an alert has an identity, a name and a firing
 * or resolved status; a deploy has a known status; decoding is
 * deterministic (the same bytes give the same ids).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/event.h"
#include "common/record.h"
#include "ingest/decode.h"
#include "tests/fuzz/event_check.h"

#ifndef FUZZ_FORMAT
#define FUZZ_FORMAT "auto"
#endif

#define OBSERVED 1718721005000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WHO "fuzz_decode(" FUZZ_FORMAT ")"

static void check(int cond, const char *what)
{
    fuzz_check(cond, WHO, what);
}

static void check_events(const am_event_list_t *l, int64_t observed)
{
    for (size_t i = 0; i < l->n; i++) {
        fuzz_check_event(&l->v[i], WHO);
        /* The event recorder (alertmanager-events) gives none to what is
         * no notification, and a notification without a record time the
         * time it went out ("@timestamp"). */
        const am_event_t *ev = &l->v[i];
        check(ev->observed_at == observed ||
                  (strcmp(ev->source, "alertmanager") == 0 &&
                   (ev->observed_at == AM_TIME_NONE || observed == AM_TIME_NONE)),
              "observed_at not the record's");
    }
}

static int decode(ingest_decoder_t *dec, const am_record_t *rec, int64_t observed,
                  am_event_list_t *l)
{
    char err[768] = "";
    am_record_t r = *rec;
    r.ts = observed;
    int rc = ingest_decode_record(dec, &r, FUZZ_FORMAT, l, err, sizeof err);
    check(rc == 0 || rc == -1, "return code");
    if (rc != 0) {
        check(l->n == 0, "refusal left events behind");
        check(err[0] != '\0', "refusal without a reason");
    } else {
        check_events(l, observed);
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char prefix[] = "headers:";
    am_record_t rec = {.payload = (const char *)data, .len = size, .topic = "fuzz"};
    char *headers = NULL;
    if (size >= sizeof prefix - 1 && memcmp(data, prefix, sizeof prefix - 1) == 0) {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t hlen = (nl ? (size_t)(nl - data) : size) - (sizeof prefix - 1);
        headers = malloc(hlen + 1);
        if (!headers)
            return 0;
        memcpy(headers, data + sizeof prefix - 1, hlen);
        headers[hlen] = '\0';
        rec.headers = headers;
        rec.payload = nl ? (const char *)nl + 1 : "";
        rec.len = nl ? size - (size_t)(nl + 1 - data) : 0;
    }
    ingest_decoder_t *dec = ingest_decoder_create(NULL, NULL);
    am_event_list_t raw = {0}, a = {0}, b = {0};
    decode(dec, &rec, AM_TIME_NONE, &raw);
    int rc = decode(dec, &rec, OBSERVED, &a);
    check(decode(dec, &rec, OBSERVED, &b) == rc, "same bytes, different outcome");
    check(a.n == b.n, "same bytes, different event counts");
    for (size_t i = 0; i < a.n; i++)
        check(strcmp(a.v[i].id, b.v[i].id) == 0, "same bytes, different ids");
    am_event_list_free(&raw);
    am_event_list_free(&a);
    am_event_list_free(&b);
    ingest_decoder_destroy(dec);
    free(headers);
    return 0;
}
