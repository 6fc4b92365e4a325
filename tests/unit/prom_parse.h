/*
 * prom_parse.h - a small parser of the Prometheus text exposition format
 * (0.0.4), written from the format's specification rather than from the
 * renderers, for the tests of report/prom.c and run/registry.c: every line
 * is a HELP, a TYPE or a sample; names and label names are valid; label
 * values are quoted with only the three escapes; values are numbers; each
 * family has one HELP and one TYPE before its samples; histogram buckets
 * are cumulative with ascending le, end in +Inf and agree with _count.
 * Include after cmocka.h.
 */
#ifndef TEST_PROM_PARSE_H
#define TEST_PROM_PARSE_H

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a small exposition parser ---------------------------------------- */

#define MAXL 8

typedef struct sample {
    char name[128];
    int nlabels;
    char lname[MAXL][64];
    char lvalue[MAXL][256];
    double value;
} sample_t;

static int name_char(int c, int first, int colon)
{
    return isalpha(c) || c == '_' || (colon && c == ':') || (!first && isdigit(c));
}

/* Reads a metric (colon 1) or label name at *p; returns its length. */
static size_t read_name(const char **p, char *out, size_t outlen, int colon)
{
    size_t n = 0;
    while (name_char((unsigned char)(*p)[0], n == 0, colon)) {
        if (n + 1 >= outlen)
            fail_msg("name too long");
        out[n++] = *(*p)++;
    }
    out[n] = '\0';
    return n;
}

static double read_value(const char *p)
{
    if (strcmp(p, "+Inf") == 0)
        return INFINITY;
    char *end;
    double v = strtod(p, &end);
    if (end == p || *end != '\0')
        fail_msg("bad value '%s'", p);
    return v;
}

/* Parses one sample line; fails the test on any deviation. */
static void parse_sample(const char *line, sample_t *s)
{
    const char *p = line;
    memset(s, 0, sizeof *s);
    if (!read_name(&p, s->name, sizeof s->name, 1))
        fail_msg("no metric name: %s", line);
    if (*p == '{') {
        p++;
        while (*p != '}') {
            if (s->nlabels == MAXL)
                fail_msg("too many labels: %s", line);
            if (!read_name(&p, s->lname[s->nlabels], sizeof s->lname[0], 0))
                fail_msg("bad label name: %s", line);
            if (strncmp(p, "=\"", 2) != 0)
                fail_msg("label without =\": %s", line);
            p += 2;
            size_t n = 0;
            while (*p != '"') {
                if (!*p || *p == '\n')
                    fail_msg("unterminated label value: %s", line);
                char c = *p++;
                if (c == '\\') {
                    c = *p++;
                    if (c == 'n')
                        c = '\n';
                    else if (c != '\\' && c != '"')
                        fail_msg("bad escape: %s", line);
                }
                if (n + 1 >= sizeof s->lvalue[0])
                    fail_msg("label value too long");
                s->lvalue[s->nlabels][n++] = c;
            }
            s->lvalue[s->nlabels][n] = '\0';
            for (int i = 0; i < s->nlabels; i++)
                if (strcmp(s->lname[i], s->lname[s->nlabels]) == 0)
                    fail_msg("repeated label: %s", line);
            s->nlabels++;
            p++;
            if (*p == ',')
                p++;
            else if (*p != '}')
                fail_msg("expected , or }: %s", line);
        }
        p++;
    }
    if (*p != ' ')
        fail_msg("expected a space before the value: %s", line);
    s->value = read_value(p + 1);
}

static const char *label(const sample_t *s, const char *name)
{
    for (int i = 0; i < s->nlabels; i++)
        if (strcmp(s->lname[i], name) == 0)
            return s->lvalue[i];
    return NULL;
}

/* The labels of s without le, as one comparable string. */
/* The series of a histogram sample within its family: its labels but le
 * (a bucket's bound). */
static void series_id(const sample_t *s, char *out, size_t outlen)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < s->nlabels; i++)
        if (strcmp(s->lname[i], "le") != 0)
            n += (size_t)snprintf(out + n, outlen - n, "%s=%s;", s->lname[i], s->lvalue[i]);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Validates a whole exposition; returns the number of samples. */
static size_t validate(const char *text)
{
    char family[128] = "", type[32] = "", seen[64][128];
    int nseen = 0, have_help = 0;
    char bucket_series[1024] = "";
    double last_le = -INFINITY, last_bucket = -1, inf_bucket = -1;
    size_t samples = 0;
    const char *p = text;
    assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
    while (*p) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        char line[2048];
        size_t len = (size_t)(nl - p);
        assert_true(len < sizeof line);
        memcpy(line, p, len);
        line[len] = '\0';
        p = nl + 1;
        if (strncmp(line, "# HELP ", 7) == 0) {
            const char *q = line + 7;
            char name[128];
            assert_true(read_name(&q, name, sizeof name, 1) > 0);
            assert_true(*q == ' ' && q[1]);
            for (int i = 0; i < nseen; i++)
                if (strcmp(seen[i], name) == 0)
                    fail_msg("family %s twice", name);
            assert_true(nseen < 64);
            snprintf(seen[nseen++], sizeof seen[0], "%s", name);
            snprintf(family, sizeof family, "%s", name);
            have_help = 1;
            type[0] = '\0';
            continue;
        }
        if (strncmp(line, "# TYPE ", 7) == 0) {
            const char *q = line + 7;
            char name[128];
            assert_true(read_name(&q, name, sizeof name, 1) > 0);
            assert_true(have_help);
            assert_string_equal(name, family);
            assert_true(*q == ' ');
            snprintf(type, sizeof type, "%s", q + 1);
            assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0 ||
                        strcmp(type, "histogram") == 0 || strcmp(type, "summary") == 0 ||
                        strcmp(type, "untyped") == 0);
            continue;
        }
        assert_true(line[0] != '#' && line[0] != '\0');
        sample_t s;
        parse_sample(line, &s);
        samples++;
        assert_true(type[0]); /* TYPE before the samples */
        if (strcmp(type, "counter") == 0) {
            assert_true(ends_with(family, "_total"));
            assert_string_equal(s.name, family);
            assert_true(s.value >= 0);
        } else if (strcmp(type, "histogram") == 0) {
            assert_true(ends_with(family, "_seconds")); /* base unit */
            char id[512];
            series_id(&s, id, sizeof id);
            char fid[sizeof id + sizeof family + 1]; /* the series within the exposition */
            snprintf(fid, sizeof fid, "%s;%s", family, id);
            size_t fl = strlen(family);
            assert_true(strncmp(s.name, family, fl) == 0);
            const char *suffix = s.name + fl;
            if (strcmp(suffix, "_bucket") == 0) {
                const char *le = label(&s, "le");
                assert_non_null(le);
                double lev = read_value(le);
                if (strcmp(fid, bucket_series) != 0) { /* a new series starts */
                    snprintf(bucket_series, sizeof bucket_series, "%s", fid);
                    last_le = -INFINITY;
                    last_bucket = -1;
                    inf_bucket = -1;
                }
                assert_true(lev > last_le);          /* ascending bounds */
                assert_true(s.value >= last_bucket); /* cumulative */
                last_le = lev;
                last_bucket = s.value;
                if (isinf(lev))
                    inf_bucket = s.value;
            } else if (strcmp(suffix, "_sum") == 0) {
                assert_string_equal(fid, bucket_series);
                assert_true(inf_bucket >= 0); /* +Inf bucket present */
                assert_null(label(&s, "le"));
            } else if (strcmp(suffix, "_count") == 0) {
                assert_string_equal(fid, bucket_series);
                assert_true(s.value == inf_bucket);
            } else {
                fail_msg("sample %s in histogram %s", s.name, family);
            }
        }
    }
    return samples;
}

/* The value of the sample whose line starts with prefix (exactly one). */
static double value_of(const char *text, const char *prefix)
{
    const char *hit = NULL;
    for (const char *p = text; (p = strstr(p, prefix)) != NULL; p++) {
        if (p != text && p[-1] != '\n')
            continue;
        if (hit)
            fail_msg("two samples start with %s", prefix);
        hit = p;
    }
    if (!hit)
        fail_msg("no sample %s", prefix);
    sample_t s;
    char line[2048];
    size_t len = strcspn(hit, "\n");
    memcpy(line, hit, len);
    line[len] = '\0';
    parse_sample(line, &s);
    return s.value;
}

#endif
