/*
 * test_time.c - RFC 3339 and duration parsing and formatting, with the
 * hard cases: offsets, nanoseconds, leap days, Alertmanager's zero time,
 * PagerDuty's +hhmm, and garbage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "common/time.h"

static int64_t parse_ok(const char *s)
{
    int64_t ms;
    char err[256] = "";
    int rc = am_time_parse(s, strlen(s), &ms, err, sizeof err);
    if (rc != 0)
        fail_msg("'%s' did not parse: %s", s, err);
    return ms;
}

static void parse_bad(const char *s)
{
    int64_t ms;
    char err[256] = "";
    if (am_time_parse(s, strlen(s), &ms, err, sizeof err) != -1)
        fail_msg("'%s' parsed but should not", s);
    assert_true(strlen(err) > 0);
    assert_true(ms == AM_TIME_NONE);
}

static void test_rfc3339_basic(void **state)
{
    (void)state;
    assert_true(parse_ok("1970-01-01T00:00:00Z") == 0);
    assert_true(parse_ok("2024-06-18T14:29:00Z") == 1718720940000LL);
    assert_true(parse_ok("2024-06-18T14:29:00.000Z") == 1718720940000LL);
    assert_true(parse_ok("2024-06-18t14:29:00z") == 1718720940000LL);
    assert_true(parse_ok("2024-06-18 14:29:00Z") == 1718720940000LL);
    assert_true(parse_ok("1969-12-31T23:59:59.999Z") == -1);
}

static void test_rfc3339_offsets(void **state)
{
    (void)state;
    /* All the same instant. */
    int64_t utc = parse_ok("2021-03-30T12:17:50.814Z");
    assert_true(parse_ok("2021-03-30T20:17:50.814674209+08:00") == utc);
    assert_true(parse_ok("2021-03-30T07:17:50.814-05:00") == utc);
    assert_true(parse_ok("2021-03-30T12:17:50.814+0000") == utc);
    assert_true(parse_ok("2021-03-30T14:17:50.814+0200") == utc);
    assert_true(parse_ok("2021-03-30T12:17:50.814-00:00") == utc);
    /* Crossing a day and a year boundary. */
    assert_true(parse_ok("2024-01-01T01:00:00+02:00") == parse_ok("2023-12-31T23:00:00Z"));
}

static void test_rfc3339_fractions(void **state)
{
    (void)state;
    int64_t base = parse_ok("2024-06-18T14:29:00Z");
    assert_true(parse_ok("2024-06-18T14:29:00.1Z") == base + 100);
    assert_true(parse_ok("2024-06-18T14:29:00.12Z") == base + 120);
    assert_true(parse_ok("2024-06-18T14:29:00.123Z") == base + 123);
    assert_true(parse_ok("2024-06-18T14:29:00.123999999Z") == base + 123); /* truncated */
    assert_true(parse_ok("2024-06-18T14:29:00.000000001Z") == base);
    parse_bad("2024-06-18T14:29:00.Z");
    parse_bad("2024-06-18T14:29:00..1Z");
    parse_bad("2024-06-18T14:29:00.1x2Z");
}

/* RFC 3339 sets no limit on the fractional digits: more than 9 are valid,
 * and are truncated like the rest, never rounded into the next second,
 * minute, day or year. */
static void test_rfc3339_long_fractions(void **state)
{
    (void)state;
    int64_t base = parse_ok("2024-06-18T14:29:00Z");
    assert_true(parse_ok("2024-06-18T14:29:00.1234567890Z") == base + 123);
    assert_true(parse_ok("2024-06-18T14:29:00.12345678901234567890123456789Z") == base + 123);
    assert_true(parse_ok("2024-06-18T14:29:00.0009999999999Z") == base);
    assert_true(parse_ok("2024-06-18T14:29:00.9999999999+02:00") ==
                parse_ok("2024-06-18T12:29:00.999Z"));
    assert_true(parse_ok("2024-12-31T23:59:59.99999999999999999999Z") ==
                parse_ok("2024-12-31T23:59:59.999Z"));
    /* A fraction as long as a record may hold (the parser keeps no copy). */
    char t[4096];
    int n = snprintf(t, sizeof t, "2024-06-18T14:29:00.");
    memset(t + n, '9', sizeof t - (size_t)n - 2);
    t[sizeof t - 2] = 'Z';
    t[sizeof t - 1] = '\0';
    assert_true(parse_ok(t) == base + 999);
    /* Still nothing after the '.', or a digit after the offset, is bad. */
    parse_bad("2024-06-18T14:29:00.Z");
    parse_bad("2024-06-18T14:29:00.1234567890Z1");
}

/* Plausible event times: [2000-01-01, 2100-01-01), and with a record
 * time at most a day after it; the record time itself judged first. */
static void test_plausible(void **state)
{
    (void)state;
    char why[160] = "";
    const int64_t min = parse_ok("2000-01-01T00:00:00Z"), max = parse_ok("2100-01-01T00:00:00Z");
    assert_true(min == AM_TIME_PLAUSIBLE_MIN);
    assert_true(max == AM_TIME_PLAUSIBLE_MAX);
    assert_int_equal(am_time_plausible(min, AM_TIME_NONE, why, sizeof why), 0);
    assert_int_equal(am_time_plausible(max - 1, AM_TIME_NONE, why, sizeof why), 0);
    assert_int_equal(am_time_plausible(min - 1, AM_TIME_NONE, why, sizeof why), -1);
    assert_string_equal(why, "before 2000-01-01T00:00:00Z");
    assert_int_equal(am_time_plausible(0, AM_TIME_NONE, NULL, 0), -1);
    assert_int_equal(am_time_plausible(INT64_MIN + 1, AM_TIME_NONE, NULL, 0), -1);
    assert_int_equal(am_time_plausible(max, AM_TIME_NONE, why, sizeof why), -1);
    assert_string_equal(why, "on or after 2100-01-01T00:00:00Z");
    assert_int_equal(
        am_time_plausible(parse_ok("9999-12-31T23:59:59Z"), AM_TIME_NONE, why, sizeof why), -1);
    assert_int_equal(am_time_plausible(INT64_MAX, AM_TIME_NONE, NULL, 0), -1);

    const int64_t rec = parse_ok("2024-06-18T14:30:05Z");
    assert_int_equal(am_time_plausible(rec + AM_TIME_PLAUSIBLE_AHEAD, rec, why, sizeof why), 0);
    assert_int_equal(am_time_plausible(rec + AM_TIME_PLAUSIBLE_AHEAD + 1, rec, why, sizeof why),
                     -1);
    assert_string_equal(why, "more than 1d after the record time 2024-06-18T14:30:05Z");
    /* A backfill: long before its record, still plausible. */
    assert_int_equal(am_time_plausible(parse_ok("2001-01-01T00:00:00Z"), rec, why, sizeof why), 0);
    /* An absurd record time is no record time: only the fixed bounds. */
    assert_int_equal(
        am_time_plausible(rec + 30 * AM_TIME_PLAUSIBLE_AHEAD, -937840000000000LL, why, sizeof why),
        0);
    assert_int_equal(am_time_plausible(rec, 5, why, sizeof why), 0);
}

/* Record times: librdkafka's -1 for none, a zero, a negative or an absurd
 * kcat ts are all "no record time". */
static void test_record_time(void **state)
{
    (void)state;
    assert_true(am_time_record(-1) == AM_TIME_NONE);
    assert_true(am_time_record(0) == AM_TIME_NONE);
    assert_true(am_time_record(5) == AM_TIME_NONE);
    assert_true(am_time_record(-937840000000000LL) == AM_TIME_NONE);
    assert_true(am_time_record(AM_TIME_NONE) == AM_TIME_NONE);
    assert_true(am_time_record(AM_TIME_PLAUSIBLE_MAX) == AM_TIME_NONE);
    assert_true(am_time_record(INT64_MAX) == AM_TIME_NONE);
    assert_true(am_time_record(AM_TIME_PLAUSIBLE_MIN) == AM_TIME_PLAUSIBLE_MIN);
    assert_true(am_time_record(1718721005000LL) == 1718721005000LL);
}

static void test_rfc3339_calendar(void **state)
{
    (void)state;
    assert_true(parse_ok("2024-02-29T00:00:00Z") == parse_ok("2024-02-28T00:00:00Z") + 86400000);
    assert_true(parse_ok("2000-02-29T00:00:00Z") > 0); /* divisible by 400: leap */
    parse_bad("2023-02-29T00:00:00Z");
    parse_bad("1900-02-29T00:00:00Z"); /* divisible by 100: not leap */
    parse_bad("2024-02-30T00:00:00Z");
    parse_bad("2024-04-31T00:00:00Z");
    parse_bad("2024-13-01T00:00:00Z");
    parse_bad("2024-00-01T00:00:00Z");
    parse_bad("2024-01-00T00:00:00Z");
    parse_bad("2024-01-01T24:00:00Z");
    parse_bad("2024-01-01T23:60:00Z");
    parse_bad("2024-01-01T00:00:00+24:00");
    /* A leap second reads as the next second. */
    assert_true(parse_ok("2016-12-31T23:59:60Z") == parse_ok("2017-01-01T00:00:00Z"));
}

static void test_rfc3339_zero_and_garbage(void **state)
{
    (void)state;
    int64_t ms = 0;
    const char *zero = "0001-01-01T00:00:00Z";
    assert_int_equal(am_time_parse(zero, strlen(zero), &ms, NULL, 0), 1);
    assert_true(ms == AM_TIME_NONE);
    /* Year 1 otherwise is a real (if odd) date. */
    assert_true(parse_ok("0001-01-01T00:00:01Z") < 0);
    parse_bad("");
    parse_bad("now");
    parse_bad("2024-06-18");
    parse_bad("2024-06-18T14:29:00"); /* no offset */
    parse_bad("2024-06-18T14:29Z");   /* no seconds */
    parse_bad("2024-6-18T14:29:00Z");
    parse_bad("2024-06-18T14:29:00Zjunk");
    parse_bad("2024-06-18T14:29:00+2");
    parse_bad("1718720940");
    /* Not NUL-terminated: only len bytes are read. */
    const char buf[] = "2024-06-18T14:29:00Z999";
    assert_int_equal(am_time_parse(buf, 20, &ms, NULL, 0), 0);
    assert_true(ms == 1718720940000LL);
}

static void test_format(void **state)
{
    (void)state;
    char out[AM_TIME_STRLEN];
    assert_string_equal(am_time_format(1718720940000LL, out), "2024-06-18T14:29:00Z");
    assert_string_equal(am_time_format(1718720940123LL, out), "2024-06-18T14:29:00.123Z");
    assert_string_equal(am_time_format(0, out), "1970-01-01T00:00:00Z");
    assert_string_equal(am_time_format(-1, out), "1969-12-31T23:59:59.999Z");
    assert_string_equal(am_time_format(AM_TIME_NONE, out), "");
    assert_string_equal(am_time_format(parse_ok("2024-02-29T23:59:59Z"), out),
                        "2024-02-29T23:59:59Z");
    /* Round trip over many instants, including before 1970. */
    for (int64_t t = -5000000000000LL; t < 5000000000000LL; t += 123456789123LL) {
        am_time_format(t, out);
        assert_true(parse_ok(out) == t);
    }
}

static int64_t dur_ok(const char *s)
{
    int64_t ms;
    char err[256] = "";
    if (am_duration_parse(s, strlen(s), &ms, err, sizeof err) != 0)
        fail_msg("duration '%s' did not parse: %s", s, err);
    return ms;
}

static void dur_bad(const char *s)
{
    int64_t ms;
    char err[256] = "";
    if (am_duration_parse(s, strlen(s), &ms, err, sizeof err) == 0)
        fail_msg("duration '%s' parsed but should not", s);
    assert_true(strlen(err) > 0);
}

static void test_duration(void **state)
{
    (void)state;
    assert_true(dur_ok("0") == 0);
    assert_true(dur_ok("0s") == 0);
    assert_true(dur_ok("90s") == 90000);
    assert_true(dur_ok("5m") == 300000);
    assert_true(dur_ok("1h30m") == 5400000);
    assert_true(dur_ok("2d") == 172800000);
    assert_true(dur_ok("1w") == 604800000);
    assert_true(dur_ok("1y") == 31536000000LL);
    assert_true(dur_ok("500ms") == 500);
    assert_true(dur_ok("1m500ms") == 60500);
    assert_true(dur_ok("1d2h3m4s5ms") == 93784005);
    dur_bad("");
    dur_bad("5");
    dur_bad("m");
    dur_bad("5x");
    dur_bad("30m1h"); /* out of order */
    dur_bad("1h1h");  /* repeated */
    dur_bad("-5m");
    dur_bad("1.5h");
    dur_bad(" 5m");
    dur_bad("99999999999999999999s");
    dur_bad("999999999999y");
}

static void test_duration_format(void **state)
{
    (void)state;
    char out[AM_TIME_STRLEN];
    assert_string_equal(am_duration_format(0, out), "0s");
    assert_string_equal(am_duration_format(5400000, out), "1h30m");
    assert_string_equal(am_duration_format(125000, out), "2m5s");
    assert_string_equal(am_duration_format(60500, out), "1m500ms");
    assert_string_equal(am_duration_format(-90000, out), "-1m30s");
    assert_string_equal(am_duration_format(172800000, out), "2d");
    assert_true(dur_ok(am_duration_format(93784005, out)) == 93784005);
}

static void test_duration_human(void **state)
{
    (void)state;
    char out[AM_TIME_STRLEN];
    assert_string_equal(am_duration_human(0, out), "0s");
    assert_string_equal(am_duration_human(999, out), "0s");
    assert_string_equal(am_duration_human(52711, out), "52s");
    assert_string_equal(am_duration_human(93289, out), "1m33s");
    assert_string_equal(am_duration_human(60000, out), "1m");
    assert_string_equal(am_duration_human(60999, out), "1m");
    assert_string_equal(am_duration_human(7500000 + 59999, out), "2h5m");
    assert_string_equal(am_duration_human(7200000 + 300000 + 59000, out), "2h5m");
    assert_string_equal(am_duration_human(7200000 + 30000, out), "2h");
    assert_string_equal(am_duration_human(100800000 + 3599999, out), "1d4h");
    assert_string_equal(am_duration_human(86400000 + 59 * 60000, out), "1d");
    assert_string_equal(am_duration_human(400LL * 86400000 + 3600000, out), "400d1h");
    assert_string_equal(am_duration_human(-93289, out), "-1m33s");
    assert_string_equal(am_duration_human(INT64_MIN + 1, out), "-106751991167d7h");
    assert_string_equal(am_duration_human(INT64_MAX, out), "106751991167d7h");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3339_basic),
        cmocka_unit_test(test_rfc3339_offsets),
        cmocka_unit_test(test_rfc3339_fractions),
        cmocka_unit_test(test_rfc3339_long_fractions),
        cmocka_unit_test(test_plausible),
        cmocka_unit_test(test_record_time),
        cmocka_unit_test(test_rfc3339_calendar),
        cmocka_unit_test(test_rfc3339_zero_and_garbage),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_duration_format),
        cmocka_unit_test(test_duration_human),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
