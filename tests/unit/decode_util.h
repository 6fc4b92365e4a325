/*
 * decode_util.h - helpers shared by the decoder tests.
 */
#ifndef TEST_DECODE_UTIL_H
#define TEST_DECODE_UTIL_H

#include <stdlib.h>
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

/* Tests write their JSON with ' for " so that it stays readable; none of
 * their strings needs a '. Returns a new string. */
static inline char *dq(const char *sq)
{
    char *s = strdup(sq);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    return s;
}

/* Decodes the single-quoted sq in format ("auto" to detect). */
static inline int decode_as(const char *format, const char *sq, int64_t observed_at,
                            am_event_list_t *list, char *err, size_t errlen)
{
    ingest_decoder_t *dec = ingest_decoder_create(NULL, NULL);
    char *s = dq(sq);
    err[0] = '\0';
    int rc = ingest_decode(dec, format, s, strlen(s), observed_at, list, err, errlen);
    free(s);
    ingest_decoder_destroy(dec);
    return rc;
}

/* Asserts that the single-quoted sq decodes in format; returns the number
 * of events appended. */
#define decode_ok_as(format, sq, observed, list)                                                   \
    do {                                                                                           \
        char e_[768];                                                                              \
        if (decode_as((format), (sq), (observed), (list), e_, sizeof e_) != 0)                     \
            fail_msg("refused: %s\n  payload: %s", e_, (sq));                                      \
    } while (0)

/* Asserts that the single-quoted sq is refused in format (observed_at as
 * given) with a reason containing want. */
#define assert_refused_as(format, sq, observed, want)                                              \
    do {                                                                                           \
        am_event_list_t l_ = {0};                                                                  \
        char e_[768];                                                                              \
        if (decode_as((format), (sq), (observed), &l_, e_, sizeof e_) != -1)                       \
            fail_msg("accepted but should be refused: %s", (sq));                                  \
        assert_int_equal(l_.n, 0);                                                                 \
        if (!strstr(e_, (want)))                                                                   \
            fail_msg("reason \"%s\" does not contain \"%s\"", e_, (want));                         \
        am_event_list_free(&l_);                                                                   \
    } while (0)

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
