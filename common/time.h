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
 * separated by T, t or a space; any number of fractional digits (RFC 3339
 * sets no limit), truncated to ms, never rounded into the next second;
 * an offset of Z, z, +hh:mm or +hhmm (PagerDuty's form). Calendar dates
 * are checked (no Feb 30; leap years). A leap second (:60) is read as the
 * next second.
 * Returns 0 and sets *ms; 1 for Alertmanager's zero time
 * 0001-01-01T00:00:00Z ("unset", *ms = AM_TIME_NONE); -1 on error with a
 * message in err. s need not be NUL-terminated. */
int am_time_parse(const char *s, size_t len, int64_t *ms, char *err, size_t errlen);

/* Plausible times. A parsed time can still be absurd: a sender's epoch
 * zero, a year-0001 time that is not Alertmanager's exact zero time, an
 * "until further notice" endsAt of 9999-12-31, a producer clock decades
 * off. Believed, one such time turns a mitigation into 2.9 million days.
 * So an event or record time is plausible when it lies in
 * [AM_TIME_PLAUSIBLE_MIN, AM_TIME_PLAUSIBLE_MAX) (2000-01-01 to
 * 2100-01-01 UTC: no alert or deploy this tool reads happened before, and
 * none will be read after) and, for an event time with a known record time
 * (observed_at), at most AM_TIME_PLAUSIBLE_AHEAD after it: an event cannot
 * have happened a day after Kafka took the record that reports it (a day
 * leaves room for clock skew and a sender writing local time as Z), while
 * an event long before its record is an ordinary backfill. Both bounds
 * depend on the record alone, never on other records (a bound against "the
 * latest time seen" would make the outcome depend on arrival order), so a
 * replay and the daemon decide alike. docs/formats.md, "Time". */
#define AM_TIME_PLAUSIBLE_MIN 946684800000LL  /* 2000-01-01T00:00:00Z */
#define AM_TIME_PLAUSIBLE_MAX 4102444800000LL /* 2100-01-01T00:00:00Z, excluded */
#define AM_TIME_PLAUSIBLE_AHEAD 86400000LL    /* 1d */

/* Returns 0 when t (not AM_TIME_NONE) is a plausible event time for a
 * record taken at record (AM_TIME_NONE when unknown, and then only the
 * fixed bounds apply), else -1 with the bound it breaks in why ("before
 * 2000-01-01T00:00:00Z"); why may be NULL. */
int am_time_plausible(int64_t t, int64_t record, char *why, size_t whylen);

/* A record timestamp as the pipeline takes it: ts when it is plausible,
 * else AM_TIME_NONE ("no record time"). librdkafka reports -1 for none and
 * kcat -J writes what it got, so a negative, zero or absurd ts means none,
 * for the daemon and for a replayed dump alike. */
int64_t am_time_record(int64_t ts);

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

/* Formats a duration for people, as they write it: the two most
 * significant of d, h, m and s, each rounded down, the second left out
 * when zero, no padding ("52s", "1m33s", "2h5m", "2h", "1d4h"); under a
 * second reads "0s"; a negative duration gets a leading '-'. Every human
 * output (drafts, show, the incidents and metrics tables, the charts)
 * uses it; exact values stay in JSON. */
char *am_duration_human(int64_t ms, char out[AM_TIME_STRLEN]);

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
