/*
 * fixtures.c - the conformance corpus: every real public payload under
 * ../shared/fixtures/<dir>/ for the directories listed in pinned_dirs[]
 * either decodes to the pinned events or is refused with the pinned
 * reason. A file in those directories without a pin fails the test, so a
 * new fixture cannot go unexamined.
 *
 * Usage: conformance_fixtures FIXTURES_DIR. The corpus is not part of the
 * project (some files carry licences the project cannot take), so a
 * missing directory is a failure that says so, never a silent pass.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "common/event.h"
#include "ingest/decode.h"

typedef struct pin {
    const char *file;     /* relative to the fixtures dir */
    int events;           /* events decoded, or -1 for a refusal */
    const char *reason;   /* refusal: substring of the reason */
    const char *name;     /* first event's name */
    const char *status;   /* first event's status */
    const char *starts;   /* first event's starts_at, RFC 3339 UTC */
    const char *identity; /* first event's identity */
} pin_t;

static const char *const pinned_dirs[] = {"alertmanager"};

static const pin_t pins[] = {
    /* A firing alert with a future endsAt (Alertmanager <= 0.15). */
    {"alertmanager/alertmanager-bot-firing.json", 1, NULL, "Fire", "firing",
     "2018-11-04T21:43:58.283Z", NULL},
    {"alertmanager/alertmanager-bot-resolved.json", 1, NULL, "Fire", "resolved",
     "2018-11-04T21:43:58.283Z", NULL},
    {"alertmanager/am-executor-alert-payload.json", 2, NULL, "InstanceDown", "firing",
     "2016-04-07T16:08:52Z", NULL},
    /* Wrong payload fingerprints: ours are Alertmanager's real ones. */
    {"alertmanager/bougou-alert-firing.json", 3, NULL, NULL, "firing", "2021-03-30T12:17:50.814Z",
     "72d99c17d805fc56"},
    {"alertmanager/bougou-alert-mixed.json", 4, NULL, NULL, NULL, NULL, NULL},
    {"alertmanager/bougou-alert-resolved.json", 2, NULL, NULL, "resolved", NULL,
     "aca87c508efac354"},
    /* No per-alert status: the payload's applies. */
    {"alertmanager/msteams-prom-post-request-12-alerts.json", 12, NULL, NULL, "firing", NULL, NULL},
    {"alertmanager/msteams-prom-post-request.json", 1, NULL, NULL, "firing", NULL, NULL},
    {"alertmanager/oncall-alertmanager-example.json", 2, NULL, NULL, "firing", NULL, NULL},
    {"alertmanager/oncall-example-2023-amixr-demo.json", 1, NULL, NULL, NULL, NULL, NULL},
    /* version and groupKey are numbers; alerts have no status or endsAt. */
    {"alertmanager/prometheus-bot-production-example.json", 11, NULL, NULL, NULL, NULL, NULL},
    /* Two alerts with identical labels: one identity (a duplicate). */
    {"alertmanager/zulip-alert.json", 2, NULL, NULL, "firing", NULL, "a1bc48475b20e73d"},
    {"alertmanager/zulip-single-alert-resolved.json", 1, NULL, NULL, "resolved", NULL, NULL},
};
#define NPINS (sizeof pins / sizeof pins[0])

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s: ", p->file);                                                 \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            failures++;                                                                            \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    am_buf_t b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        am_buf_append(&b, chunk, n);
    fclose(f);
    *len = b.len;
    return am_buf_steal(&b);
}

static void check_pin(const char *dir, const pin_t *p, ingest_decoder_t *dec)
{
    char path[1024], err[768] = "", when[AM_TIME_STRLEN];
    am_event_list_t l = {0};
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", dir, p->file);
    char *data = slurp(path, &len);
    CHECK(data, "cannot read %s", path);
    int rc = ingest_decode(dec, "auto", data, len, AM_TIME_NONE, &l, err, sizeof err);
    if (p->events < 0) {
        CHECK(rc == -1, "decoded %zu events, want a refusal", l.n);
        CHECK(strstr(err, p->reason), "reason \"%s\" lacks \"%s\"", err, p->reason);
        goto done;
    }
    CHECK(rc == 0, "refused: %s", err);
    CHECK((int)l.n == p->events, "%zu events, want %d", l.n, p->events);
    if (l.n == 0)
        goto done;
    const am_event_t *ev = &l.v[0];
    CHECK(ev->id && ev->identity, "event without id or identity");
    CHECK(!p->name || strcmp(ev->name, p->name) == 0, "name %s, want %s", ev->name, p->name);
    CHECK(!p->status || strcmp(ev->status, p->status) == 0, "status %s, want %s", ev->status,
          p->status);
    CHECK(!p->starts || strcmp(am_time_format(ev->starts_at, when), p->starts) == 0,
          "starts_at %s, want %s", am_time_format(ev->starts_at, when), p->starts);
    CHECK(!p->identity || strcmp(ev->identity, p->identity) == 0, "identity %s, want %s",
          ev->identity, p->identity);
    for (size_t i = 0; i < l.n; i++)
        CHECK(l.v[i].starts_at != AM_TIME_NONE, "event %zu has no time", i);
done:
    am_event_list_free(&l);
    free(data);
}

/* Every *.json in a pinned directory must have a pin. */
static void check_all_pinned(const char *dir)
{
    for (size_t d = 0; d < sizeof pinned_dirs / sizeof pinned_dirs[0]; d++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, pinned_dirs[d]);
        DIR *dh = opendir(path);
        if (!dh) {
            fprintf(stderr, "FAIL: fixture directory %s is missing\n", path);
            failures++;
            continue;
        }
        struct dirent *de;
        while ((de = readdir(dh))) {
            size_t n = strlen(de->d_name);
            if (n < 5 || strcmp(de->d_name + n - 5, ".json") != 0)
                continue;
            char rel[512];
            snprintf(rel, sizeof rel, "%s/%s", pinned_dirs[d], de->d_name);
            int found = 0;
            for (size_t i = 0; i < NPINS && !found; i++)
                found = strcmp(pins[i].file, rel) == 0;
            if (!found) {
                fprintf(stderr, "FAIL: fixture %s has no pinned outcome\n", rel);
                failures++;
            }
        }
        closedir(dh);
    }
}

int main(int argc, char **argv)
{
    struct stat sb;
    if (argc != 2 || stat(argv[1], &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr,
                "FAIL: the shared fixtures directory (%s) is absent; this test needs "
                "../shared/fixtures\n",
                argc > 1 ? argv[1] : "no argument");
        return 1;
    }
    ingest_decoder_t *dec = ingest_decoder_create(NULL, NULL);
    for (size_t i = 0; i < NPINS; i++)
        check_pin(argv[1], &pins[i], dec);
    check_all_pinned(argv[1]);
    ingest_decoder_destroy(dec);
    printf("%zu passed, %d failed\n", NPINS - (size_t)failures, failures);
    return failures ? 1 : 0;
}
