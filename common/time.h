/*
 * time.h - timestamps and durations, all as UTC milliseconds (int64_t).
 *
 * AM_TIME_NONE stands for "unknown" everywhere (a missing timestamp is never
 * 0 or 1970). Durations use Alertmanager's/Prometheus' units.
 */
#ifndef AM_TIME_H
#define AM_TIME_H

#include <stddef.h>
#include <stdint.h>

#define AM_TIME_NONE INT64_MIN
/* Large enough for "-292278994-08-17T07:12:55.807Z" and any duration. */
#define AM_TIME_STRLEN 40

/* Parses RFC 3339 ("2024-06-18T14:29:00.123456789+02:00"): date and time
 * separated by T, t or a space; 0-9 fractional digits (truncated to ms);
 * an offset of Z, z, +hh:mm or +hhmm (PagerDuty's form). Calendar dates
 * are checked (no Feb 30; leap years). A leap second (:60) is read as the
 * next second.
 * Returns 0 and sets *ms; 1 for Alertmanager's zero time
 * 0001-01-01T00:00:00Z ("unset", *ms = AM_TIME_NONE); -1 on error with a
 * message in err. s need not be NUL-terminated. */
int am_time_parse(const char *s, size_t len, int64_t *ms, char *err, size_t errlen);

/* Formats ms as RFC 3339 UTC: "2024-06-18T14:29:00Z", with ".123" when the
 * milliseconds are not zero. AM_TIME_NONE formats as "" and returns
 * out. out must hold AM_TIME_STRLEN bytes. */
char *am_time_format(int64_t ms, char out[AM_TIME_STRLEN]);

/* Parses a Prometheus duration: one or more of <n>y <n>w <n>d <n>h <n>m
 * <n>s <n>ms in that order, each at most once ("1h30m", "90s", "2d"), or
 * "0". A year is 365 days. Returns 0 and sets *ms, or -1 with a message. */
int am_duration_parse(const char *s, size_t len, int64_t *ms, char *err, size_t errlen);

/* Formats a duration the way am_duration_parse reads it ("1h30m", "0s");
 * a negative duration gets a leading '-'. */
char *am_duration_format(int64_t ms, char out[AM_TIME_STRLEN]);

/* The wall clock (CLOCK_REALTIME) as UTC milliseconds. */
int64_t am_wall_ms(void);

/* A monotonic clock (CLOCK_MONOTONIC) in milliseconds, for measuring
 * durations and deadlines; its origin means nothing. */
int64_t am_monotonic_ms(void);
/* The same clock in seconds, to the nanosecond. */
double am_monotonic_s(void);

/* Days since 1970-01-01 of a proleptic Gregorian date (no range check). */
int64_t am_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
