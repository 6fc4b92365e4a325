/*
 * decode_util.h - helpers shared by the decoder tests.
 */
#ifndef TEST_DECODE_UTIL_H
#define TEST_DECODE_UTIL_H

#include <string.h>

#include "common/event.h"
#include "ingest/decode.h"

/* Decodes s (auto-detected) into list; returns the decoder's return code
 * and leaves the reason in err. */
static inline int decode_str(const char *s, int64_t observed_at, am_event_list_t *list, char *err,
                             size_t errlen)
{
    ingest_decoder_t *dec = ingest_decoder_create(NULL, NULL);
    err[0] = '\0';
    int rc = ingest_decode(dec, "auto", s, strlen(s), observed_at, list, err, errlen);
    ingest_decoder_destroy(dec);
    return rc;
}

/* Asserts that s is refused and that the reason contains want. */
#define assert_refused(s, want)                                                                    \
    do {                                                                                           \
        am_event_list_t l_ = {0};                                                                  \
        char e_[768];                                                                              \
        if (decode_str((s), AM_TIME_NONE, &l_, e_, sizeof e_) != -1)                               \
            fail_msg("accepted but should be refused: %s", (s));                                   \
        assert_int_equal(l_.n, 0);                                                                 \
        if (!strstr(e_, (want)))                                                                   \
            fail_msg("reason \"%s\" does not contain \"%s\"", e_, (want));                         \
        am_event_list_free(&l_);                                                                   \
    } while (0)

#endif
