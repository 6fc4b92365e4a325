/*
 * route.c - rule matching and group keys, shared by the correlator and the
 * decode stage, and the partition function of the keyed topic.
 */
#include "correlate/route.h"
#include "common/hash.h"
#include "correlate/matcher.h"
#include "correlate/rules_int.h"

#include <jansson.h>
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

char *corr_group_key(const corr_rule_t *r, const am_event_t *ev, bool require_all)
{
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
