/*
 * route.c - rule matching and group keys, shared by the correlator and the
 * decode stage, and the partition function of the keyed topic.
 */
#include "correlate/route.h"
#include "common/buf.h"
#include "common/hash.h"
#include "correlate/matcher.h"
#include "correlate/rules_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

bool corr_rule_matches(const corr_rule_t *r, const am_event_t *ev)
{
    if (ev->kind != AM_KIND_ALERT)
        return false;
    for (size_t i = 0; i < r->nmatch; i++)
        if (!corr_matcher_match(r->match[i], ev))
            return false;
    return true;
}

/* True when s needs no JSON escape: printable ASCII without '"' and '\\'
 * (jansson writes it as is). */
static bool plain(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e || *s == '"' || *s == '\\')
            return false;
    return true;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The group key as jansson writes it (compact, keys sorted) without
 * building a JSON object, for the common case of plain names and values;
 * NULL to let jansson write it. */
static char *fast_group_key(const corr_rule_t *r, const am_event_t *ev, bool require_all,
                            bool *missing)
{
    enum { MAX_FAST = 16 };
    const char *names[MAX_FAST], *values[MAX_FAST];
    size_t n = r->group_all ? ev->labels.n : r->ngroup;
    if (n > MAX_FAST)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        names[i] = r->group_all ? ev->labels.v[i].name : r->group_by[i];
        values[i] = r->group_all ? ev->labels.v[i].value : corr_event_value(ev, r->group_by[i]);
        if (require_all && !*values[i]) {
            *missing = true;
            return NULL;
        }
        if (!plain(names[i]) || !plain(values[i]))
            return NULL;
    }
    /* labels are sorted by name; group_by is sorted here (name, value
     * pairs move together) */
    const char *pairs[MAX_FAST][2];
    for (size_t i = 0; i < n; i++)
        pairs[i][0] = names[i], pairs[i][1] = values[i];
    if (!r->group_all)
        qsort(pairs, n, sizeof pairs[0], by_name);
    am_buf_t b = {0};
    am_buf_putc(&b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(pairs[i][0], pairs[i - 1][0]) == 0) {
            am_buf_free(&b); /* a name twice: jansson's (the last wins) */
            return NULL;
        }
        am_buf_printf(&b, "%s\"%s\":\"%s\"", i ? "," : "", pairs[i][0], pairs[i][1]);
    }
    am_buf_putc(&b, '}');
    return am_buf_steal(&b);
}

char *corr_group_key(const corr_rule_t *r, const am_event_t *ev, bool require_all)
{
    bool missing = false;
    char *fast = fast_group_key(r, ev, require_all, &missing);
    if (fast || missing)
        return fast;
    json_t *obj = json_object();
    if (r->group_all) {
        for (size_t i = 0; i < ev->labels.n; i++)
            json_object_set_new(obj, ev->labels.v[i].name, json_string(ev->labels.v[i].value));
    } else {
        for (size_t i = 0; i < r->ngroup; i++) {
            const char *v = corr_event_value(ev, r->group_by[i]);
            if (require_all && !*v) {
                json_decref(obj);
                return NULL;
            }
            json_object_set_new(obj, r->group_by[i], json_string(v));
        }
    }
    char *s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(obj);
    return s;
}

int corr_route_alert(const corr_rules_t *rules, const am_event_t *ev, corr_route_fn fn, void *arg)
{
    for (size_t i = 0; i < rules->n; i++) {
        const corr_rule_t *r = &rules->v[i];
        if (!corr_rule_matches(r, ev))
            continue;
        if (ev->starts_at == AM_TIME_NONE || !ev->identity)
            return 0;
        char *gkey = corr_group_key(r, ev, false);
        int rc = fn(arg, i, r->name, gkey);
        free(gkey);
        if (rc != 0)
            return rc;
        if (!r->cont)
            return 0;
    }
    return 0;
}

/* MurmurHash3's 64-bit finaliser: FNV-1a's low bits depend only on the
 * low bits of each byte, which a modulo would see alone. */
static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

uint64_t corr_route_hash(const void *data, size_t len)
{
    return mix(am_fnv64_add(AM_FNV64_INIT, data, len));
}

int32_t corr_route_partition(const char *rule, const char *gkey, int32_t nparts)
{
    uint64_t h = am_fnv64_add(AM_FNV64_INIT, rule, strlen(rule));
    h = am_fnv64_add_byte(h, 0x1f);
    h = am_fnv64_add(h, gkey, strlen(gkey));
    return (int32_t)(mix(h) % (uint64_t)nparts);
}
