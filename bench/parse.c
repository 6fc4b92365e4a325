/*
 * parse.c - am_bench_parse: the jansson baseline of the benchmark. Reads
 * the same NDJSON as `aftermath replay` and times json_loadb of every
 * record's payload, a walk over each alert's labels, startsAt and status
 * (an Alertmanager notification's "alerts"), and json_decref, on one
 * core: the floor of any decoder built on jansson, and the figure the
 * replay rate is divided by.
 *
 * Unwrapping the kcat -J envelope is not timed: records are unwrapped in
 * chunks into memory first, then the chunk's payloads are parsed under the
 * clock, so only the payload parse is measured.
 */
#include "common/buf.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK 10000

static double now_s(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Appends the payload of line (the envelope's, or the line itself). */
static void unwrap(const char *line, size_t len, char **out, size_t *outlen)
{
    json_t *root = NULL;
    if (len > 0 && line[0] == '{')
        root = json_loadb(line, len, 0, NULL);
    const json_t *payload = json_object_get(root, "payload");
    if (json_is_string(payload) && json_is_integer(json_object_get(root, "ts"))) {
        *out = am_xstrndup(json_string_value(payload), json_string_length(payload));
        *outlen = json_string_length(payload);
    } else {
        *out = am_xstrndup(line, len);
        *outlen = len;
    }
    json_decref(root);
}

int main(int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs("usage: am_bench_parse FILE\n"
              "Times jansson's json_loadb of every record payload of FILE, a walk over its\n"
              "alerts' labels, startsAt and status, and json_decref\n"
              "(NDJSON, raw payloads or kcat -J envelopes) on one core and prints\n"
              "'records N bytes B seconds S failed F cpu C' (S wall-clock, C CPU seconds),\n"
              "then 'alerts A walked W'.\n",
              argc == 2 ? stdout : stderr);
        return argc == 2 ? 0 : 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    char **payload = am_xcalloc(CHUNK, sizeof *payload);
    size_t *plen = am_xcalloc(CHUNK, sizeof *plen);
    size_t have = 0;
    unsigned long long records = 0, bytes = 0, failed = 0, alerts = 0;
    volatile size_t walked = 0; /* what the walk read, so that it is not optimised away */
    double secs = 0, cpu = 0;
    int eof = 0;
    while (!eof) {
        eof = (n = getline(&line, &cap, f)) < 0;
        if (!eof) {
            size_t len = (size_t)n;
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                len--;
            if (len == 0)
                continue;
            unwrap(line, len, &payload[have], &plen[have]);
            have++;
        }
        if (have == CHUNK || (eof && have > 0)) {
            double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
            for (size_t i = 0; i < have; i++) {
                json_t *root = json_loadb(payload[i], plen[i], 0, NULL);
                failed += root == NULL;
                size_t k;
                json_t *alert;
                json_array_foreach(json_object_get(root, "alerts"), k, alert)
                {
                    const char *key;
                    json_t *v;
                    json_object_foreach(json_object_get(alert, "labels"), key, v) walked +=
                        strlen(key) + json_string_length(v);
                    walked += json_string_length(json_object_get(alert, "startsAt"));
                    walked += json_string_length(json_object_get(alert, "status"));
                    alerts++;
                }
                json_decref(root);
            }
            secs += now_s(CLOCK_MONOTONIC) - t0;
            cpu += now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
            for (size_t i = 0; i < have; i++) {
                records++;
                bytes += plen[i];
                free(payload[i]);
            }
            have = 0;
        }
    }
    int rc = ferror(f) ? 1 : 0;
    fclose(f);
    free(line);
    free(payload);
    free(plen);
    printf("records %llu bytes %llu seconds %.3f failed %llu cpu %.3f\n", records, bytes, secs,
           failed, cpu);
    printf("alerts %llu walked %zu\n", alerts, (size_t)walked);
    return rc;
}
