/*
 * fuzz_matcher.c - libFuzzer target for corr_matcher_parse(): any text is
 * either refused with a message or parsed into a matcher that can be
 * evaluated against an event.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "correlate/matcher.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = am_xstrndup((const char *)data, size);
    char err[512] = "";
    if (strlen(text) != size) { /* an embedded NUL: the C string is shorter */
        free(text);
        return 0;
    }
    corr_matcher_t *m = corr_matcher_parse(text, err, sizeof err);
    if (!m && !err[0])
        abort(); /* a refusal always says why */
    if (m) {
        am_event_t ev;
        am_event_init(&ev);
        ev.name = am_xstrdup("HighErrorRate");
        am_labels_set(&ev.labels, "severity", "page");
        am_labels_set(&ev.labels, corr_matcher_name(m), text);
        (void)corr_matcher_match(m, &ev);
        am_event_free(&ev);
    }
    corr_matcher_destroy(m);
    free(text);
    return 0;
}
