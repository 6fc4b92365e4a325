/*
 * time.c - RFC 3339 and duration parsing/formatting in UTC milliseconds.
 *
 * Hand-written rather than strptime/timegm: those depend on the locale and
 * the TZ environment, accept what RFC 3339 does not, and cannot read
 * nanoseconds or "+hhmm". The date arithmetic is Howard Hinnant's
 * days-from-civil algorithm, exact for the proleptic Gregorian calendar.
 */
#include "common/time.h"
#include "common/buf.h"

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

int64_t am_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Reads exactly n digits at s[*i]. */
static bool digits(const char *s, size_t len, size_t *i, int n, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < n; k++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[*i] - '0');
        (*i)++;
    }
    *out = v;
    return true;
}

static bool expect(const char *s, size_t len, size_t *i, char c)
{
    if (*i >= len || s[*i] != c)
        return false;
    (*i)++;
    return true;
}

int am_time_parse(const char *s, size_t len, int64_t *ms, char *err, size_t errlen)
{
    unsigned y, mo, d, h, mi, sec, oh = 0, om = 0;
    size_t i = 0;
    int sign = 0;
    int64_t frac_ms = 0;

    *ms = AM_TIME_NONE;
    if (!digits(s, len, &i, 4, &y) || !expect(s, len, &i, '-') || !digits(s, len, &i, 2, &mo) ||
        !expect(s, len, &i, '-') || !digits(s, len, &i, 2, &d))
        goto bad_form;
    if (i >= len || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
        goto bad_form;
    i++;
    if (!digits(s, len, &i, 2, &h) || !expect(s, len, &i, ':') || !digits(s, len, &i, 2, &mi) ||
        !expect(s, len, &i, ':') || !digits(s, len, &i, 2, &sec))
        goto bad_form;
    if (i < len && s[i] == '.') {
        i++;
        size_t start = i;
        int64_t scale = 100;
        /* RFC 3339 sets no limit on the digits (time-secfrac = "." 1*DIGIT):
         * all are read, those past the millisecond dropped. Truncation,
         * never rounding: .9999999999 stays in its second. */
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            frac_ms += (s[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == start) {
            am_errf(err, errlen, "bad fractional seconds in time \"%.*s\" (no digit after '.')",
                    (int)(len > 64 ? 64 : len), s);
            return -1;
        }
    }
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        sign = s[i] == '-' ? -1 : 1;
        i++;
        if (!digits(s, len, &i, 2, &oh))
            goto bad_form;
        if (i < len && s[i] == ':')
            i++;
        if (!digits(s, len, &i, 2, &om))
            goto bad_form;
    } else {
        am_errf(err, errlen, "time \"%.*s\" has no UTC offset (Z or +hh:mm)",
                (int)(len > 64 ? 64 : len), s);
        return -1;
    }
    if (i != len)
        goto bad_form;

    if (y == 1 && mo == 1 && d == 1 && h == 0 && mi == 0 && sec == 0 && frac_ms == 0 && oh == 0 &&
        om == 0)
        return 1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60 ||
        oh > 23 || om > 59) {
        am_errf(err, errlen, "time \"%.*s\" is not a valid date and time",
                (int)(len > 64 ? 64 : len), s);
        return -1;
    }
    int64_t days = am_days_from_civil(y, mo, d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec;
    secs -= sign * (int64_t)(oh * 3600 + om * 60);
    *ms = secs * 1000 + frac_ms;
    return 0;

bad_form:
    am_errf(err, errlen, "time \"%.*s\" is not RFC 3339 (like 2024-06-18T14:29:00Z)",
            (int)(len > 64 ? 64 : len), s);
    return -1;
}

int am_time_plausible(int64_t t, int64_t record, char *why, size_t whylen)
{
    char b[AM_TIME_STRLEN], d[AM_TIME_STRLEN];
    if (t < AM_TIME_PLAUSIBLE_MIN) {
        am_errf(why, whylen, "before %s", am_time_format(AM_TIME_PLAUSIBLE_MIN, b));
        return -1;
    }
    if (t >= AM_TIME_PLAUSIBLE_MAX) {
        am_errf(why, whylen, "on or after %s", am_time_format(AM_TIME_PLAUSIBLE_MAX, b));
        return -1;
    }
    record = am_time_record(record);
    if (record != AM_TIME_NONE && t - record > AM_TIME_PLAUSIBLE_AHEAD) {
        am_errf(why, whylen, "more than %s after the record time %s",
                am_duration_format(AM_TIME_PLAUSIBLE_AHEAD, d), am_time_format(record, b));
        return -1;
    }
    return 0;
}

int64_t am_time_record(int64_t ts)
{
    return ts >= AM_TIME_PLAUSIBLE_MIN && ts < AM_TIME_PLAUSIBLE_MAX ? ts : AM_TIME_NONE;
}

char *am_time_format(int64_t ms, char out[AM_TIME_STRLEN])
{
    if (ms == AM_TIME_NONE) {
        out[0] = '\0';
        return out;
    }
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int64_t rem = ms - secs * 1000;
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t sod = secs - days * 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int n = snprintf(out, AM_TIME_STRLEN, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, m, d,
                     (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
    if (rem)
        snprintf(out + n, (size_t)(AM_TIME_STRLEN - n), ".%03dZ", (int)rem);
    else
        snprintf(out + n, (size_t)(AM_TIME_STRLEN - n), "Z");
    return out;
}

static const struct {
    const char *unit;
    int64_t ms;
} units[] = {
    {"y", 365LL * 86400000},
    {"w", 7LL * 86400000},
    {"d", 86400000},
    {"h", 3600000},
    {"m", 60000},
    {"s", 1000},
    {"ms", 1},
};
#define NUNITS (sizeof units / sizeof units[0])

int am_duration_parse(const char *s, size_t len, int64_t *ms, char *err, size_t errlen)
{
    size_t i = 0, next_unit = 0;
    int64_t total = 0;

    *ms = 0;
    if (len == 1 && s[0] == '0')
        return 0;
    if (len == 0)
        goto bad;
    while (i < len) {
        int64_t n = 0;
        size_t start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (n > (INT64_MAX - 9) / 10)
                goto overflow;
            n = n * 10 + (s[i] - '0');
            i++;
        }
        if (i == start)
            goto bad;
        /* "ms" must be tried before "m". */
        size_t u = NUNITS;
        if (i + 1 < len && s[i] == 'm' && s[i + 1] == 's')
            u = NUNITS - 1;
        else
            for (size_t k = 0; k < NUNITS - 1; k++)
                if (i < len && s[i] == units[k].unit[0])
                    u = k;
        if (u == NUNITS || u < next_unit)
            goto bad;
        i += u == NUNITS - 1 ? 2 : 1;
        next_unit = u + 1;
        if (n > INT64_MAX / units[u].ms || total > INT64_MAX - n * units[u].ms)
            goto overflow;
        total += n * units[u].ms;
    }
    *ms = total;
    return 0;

bad:
    am_errf(err, errlen,
            "bad duration \"%.*s\" (use units y w d h m s ms in that order, like 90s, 5m, 1h30m)",
            (int)(len > 64 ? 64 : len), s);
    return -1;
overflow:
    am_errf(err, errlen, "duration \"%.*s\" is too large", (int)(len > 64 ? 64 : len), s);
    return -1;
}

char *am_duration_format(int64_t ms, char out[AM_TIME_STRLEN])
{
    size_t n = 0;
    uint64_t v;
    if (ms < 0) {
        out[n++] = '-';
        v = (uint64_t)(-(ms + 1)) + 1;
    } else {
        v = (uint64_t)ms;
    }
    if (v == 0) {
        snprintf(out, AM_TIME_STRLEN, "0s");
        return out;
    }
    /* Weeks and years are left out: "14d" reads better than "2w". */
    for (size_t k = 2; k < NUNITS; k++) {
        uint64_t per = (uint64_t)units[k].ms;
        if (v >= per) {
            n += (size_t)snprintf(out + n, AM_TIME_STRLEN - n, "%llu%s",
                                  (unsigned long long)(v / per), units[k].unit);
            v %= per;
        }
    }
    out[n] = '\0';
    return out;
}

char *am_duration_human(int64_t ms, char out[AM_TIME_STRLEN])
{
    static const struct {
        const char *unit;
        uint64_t ms;
    } hu[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};
    size_t n = 0;
    uint64_t v;
    if (ms < 0) {
        out[n++] = '-';
        v = (uint64_t)(-(ms + 1)) + 1;
    } else {
        v = (uint64_t)ms;
    }
    size_t k = 0;
    while (k + 1 < sizeof hu / sizeof hu[0] && v < hu[k].ms)
        k++;
    /* The most significant unit, then the next one when it is not zero:
     * both rounded down, so a reader never sees more time than passed. */
    n += (size_t)snprintf(out + n, AM_TIME_STRLEN - n, "%llu%s", (unsigned long long)(v / hu[k].ms),
                          hu[k].unit);
    if (k + 1 < sizeof hu / sizeof hu[0]) {
        uint64_t next = v % hu[k].ms / hu[k + 1].ms;
        if (next)
            snprintf(out + n, AM_TIME_STRLEN - n, "%llu%s", (unsigned long long)next,
                     hu[k + 1].unit);
    }
    return out;
}

int64_t am_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t am_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double am_monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
