/*
 * matcher.c - parsing and evaluating Alertmanager matchers.
 *
 * Alertmanager's regexes are RE2 and anchored as ^(?:re)$; here they are
 * POSIX extended regexes anchored as ^(re)$, which agree for the usual
 * alternations and classes. RE2-only syntax (\d, (?i), non-greedy
 * operators) is refused at load time by regcomp with its message rather
 * than silently meaning something else.
 */
#include "correlate/matcher.h"
#include "common/buf.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

typedef enum { OP_EQ, OP_NE, OP_RE, OP_NRE } op_t;

struct corr_matcher {
    char *name;
    char *value;
    op_t op;
    regex_t re;
    bool has_re;
};

#define REGEX_MAX 1024

/* Refuses what RE2 refuses too and what makes POSIX regex engines blow
 * up (found by fuzzing: "a++++..." took seconds and gigabytes in glibc's
 * regcomp): stacked quantifiers and back-references, and very long
 * patterns. Returns NULL, or why. */
static const char *regex_unsafe(const char *re)
{
    if (strlen(re) > REGEX_MAX)
        return "longer than 1024 characters";
    bool after_quantifier = false;
    for (const char *p = re; *p; p++) {
        if (*p == '\\') {
            if (p[1] >= '1' && p[1] <= '9')
                return "back-references are not supported";
            if (p[1])
                p++;
            after_quantifier = false;
            continue;
        }
        if (*p == '[') { /* a bracket expression: skip to its end */
            const char *q = p + 1;
            if (*q == '^')
                q++;
            if (*q == ']')
                q++;
            while (*q && *q != ']')
                q++;
            if (!*q)
                return "unterminated [";
            p = q;
            after_quantifier = false;
            continue;
        }
        bool quantifier = *p == '*' || *p == '+' || *p == '?' || *p == '{';
        if (quantifier && after_quantifier)
            return "repeated quantifier (lazy and possessive quantifiers are not supported)";
        if (*p == '{') {
            while (*p && *p != '}')
                p++;
            if (!*p)
                return "unterminated {";
        }
        after_quantifier = quantifier;
    }
    return NULL;
}

static bool name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

corr_matcher_t *corr_matcher_parse(const char *text, char *err, size_t errlen)
{
    const char *p = text;
    corr_matcher_t *m = am_xcalloc(1, sizeof *m);
    am_buf_t value = {0};

    while (*p == ' ')
        p++;
    const char *name = p;
    while (name_char(*p, p == name))
        p++;
    if (p == name) {
        am_errf(err, errlen, "matcher '%s': expected a label name", text);
        goto init_error;
    }
    m->name = am_xstrndup(name, (size_t)(p - name));
    while (*p == ' ')
        p++;
    if (p[0] == '=' && p[1] == '~') {
        m->op = OP_RE;
        p += 2;
    } else if (p[0] == '!' && p[1] == '~') {
        m->op = OP_NRE;
        p += 2;
    } else if (p[0] == '!' && p[1] == '=') {
        m->op = OP_NE;
        p += 2;
    } else if (p[0] == '=') {
        m->op = OP_EQ;
        p += 1;
    } else {
        am_errf(err, errlen, "matcher '%s': expected =, !=, =~ or !~ after '%s'", text, m->name);
        goto init_error;
    }
    while (*p == ' ')
        p++;
    if (*p == '"') {
        p++;
        for (; *p && *p != '"'; p++) {
            if (*p == '\\') {
                p++;
                if (*p == 'n')
                    am_buf_putc(&value, '\n');
                else if (*p == '"' || *p == '\\')
                    am_buf_putc(&value, *p);
                else {
                    am_errf(err, errlen, "matcher '%s': unknown escape '\\%c'", text,
                            *p ? *p : ' ');
                    goto init_error;
                }
            } else {
                am_buf_putc(&value, *p);
            }
        }
        if (*p != '"') {
            am_errf(err, errlen, "matcher '%s': unterminated quoted value", text);
            goto init_error;
        }
        p++;
    } else {
        const char *v = p;
        while (*p && *p != ' ' && *p != '"')
            p++;
        am_buf_append(&value, v, (size_t)(p - v));
    }
    while (*p == ' ')
        p++;
    if (*p) {
        am_errf(err, errlen, "matcher '%s': unexpected text after the value", text);
        goto init_error;
    }
    m->value = am_buf_steal(&value);
    if (m->op == OP_RE || m->op == OP_NRE) {
        const char *why = regex_unsafe(m->value);
        if (why) {
            am_errf(err, errlen, "matcher '%s': bad regular expression: %s", text, why);
            goto init_error;
        }
        am_buf_t anchored = {0};
        am_buf_printf(&anchored, "^(%s)$", m->value);
        int rc = regcomp(&m->re, anchored.p, REG_EXTENDED | REG_NOSUB);
        am_buf_free(&anchored);
        if (rc != 0) {
            char msg[256];
            regerror(rc, &m->re, msg, sizeof msg);
            am_errf(err, errlen, "matcher '%s': bad regular expression: %s", text, msg);
            goto init_error;
        }
        m->has_re = true;
    }
    return m;

init_error:
    am_buf_free(&value);
    corr_matcher_destroy(m);
    return NULL;
}

void corr_matcher_destroy(corr_matcher_t *m)
{
    if (!m)
        return;
    if (m->has_re)
        regfree(&m->re);
    free(m->name);
    free(m->value);
    free(m);
}

const char *corr_event_value(const am_event_t *ev, const char *name)
{
    const char *v = NULL;
    if (strcmp(name, "kind") == 0)
        return am_kind_name(ev->kind);
    if (strcmp(name, "status") == 0)
        v = ev->status;
    else if (strcmp(name, "service") == 0)
        v = ev->service;
    else if (strcmp(name, "severity") == 0)
        v = ev->severity;
    else if (strcmp(name, "environment") == 0)
        v = ev->environment;
    else if (strcmp(name, "name") == 0)
        v = ev->name;
    else if (strcmp(name, "actor") == 0)
        v = ev->actor;
    if (!v)
        v = am_labels_get(&ev->labels, name);
    return v ? v : "";
}

bool corr_matcher_match(const corr_matcher_t *m, const am_event_t *ev)
{
    const char *v = corr_event_value(ev, m->name);
    switch (m->op) {
    case OP_EQ:
        return strcmp(v, m->value) == 0;
    case OP_NE:
        return strcmp(v, m->value) != 0;
    case OP_RE:
        return regexec(&m->re, v, 0, NULL, 0) == 0;
    case OP_NRE:
        return regexec(&m->re, v, 0, NULL, 0) != 0;
    }
    return false;
}

const char *corr_matcher_name(const corr_matcher_t *m)
{
    return m->name;
}
