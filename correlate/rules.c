/*
 * rules.c - loading correlation rules from YAML with libyaml.
 *
 * The file is loaded as a libyaml document (a node tree that keeps every
 * node's line and column) and then walked with a key table per mapping,
 * so every unknown key, wrong type and bad value is reported at its place.
 * Defaults: gap 30m, quiet 10m, deploys.before 2h, deploys.during true,
 * group_by [] (one incident stream per rule), pending 0, continue false.
 *
 * The text first passes am_yaml_check (size, depth, aliases), and every
 * list in a rule holds at most CORR_RULE_LIST_MAX entries: an alias makes
 * one node stand for many, and each entry of a matcher list compiles a
 * regex, so the lists are bounded where they are walked too.
 */
#include "correlate/rules.h"
#include "common/buf.h"
#include "common/hash.h"
#include "common/time.h"
#include "common/yaml_limits.h"
#include "correlate/rules_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct loader {
    yaml_document_t doc;
    const char *name;
    char *err;
    size_t errlen;
} loader_t;

static int at(loader_t *ld, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int at(loader_t *ld, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    am_errf(ld->err, ld->errlen, "%s:%zu:%zu: %s", ld->name, n ? n->start_mark.line + 1 : 0,
            n ? n->start_mark.column + 1 : 0, msg);
    return -1;
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int get_string(loader_t *ld, const yaml_node_t *n, const char *key, char **out)
{
    const char *s = scalar(n);
    if (!s)
        return at(ld, n, "%s: expected a string", key);
    *out = am_xstrdup(s);
    return 0;
}

static int get_bool(loader_t *ld, const yaml_node_t *n, const char *key, bool *out)
{
    const char *s = scalar(n);
    if (s && strcmp(s, "true") == 0)
        *out = true;
    else if (s && strcmp(s, "false") == 0)
        *out = false;
    else
        return at(ld, n, "%s: expected true or false", key);
    return 0;
}

static int get_duration(loader_t *ld, const yaml_node_t *n, const char *key, int64_t *out)
{
    const char *s = scalar(n);
    char why[256];
    if (!s)
        return at(ld, n, "%s: expected a duration like 30m", key);
    if (am_duration_parse(s, strlen(s), out, why, sizeof why) != 0)
        return at(ld, n, "%s: %s", key, why);
    return 0;
}

static int get_matchers(loader_t *ld, const yaml_node_t *n, const char *key, corr_matcher_t ***out,
                        size_t *count)
{
    if (!n || n->type != YAML_SEQUENCE_NODE)
        return at(ld, n, "%s: expected a list of matchers like ['severity=\"page\"']", key);
    size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (len > CORR_RULE_LIST_MAX)
        return at(ld, n, "%s: %zu matchers, over the limit of %d", key, len, CORR_RULE_LIST_MAX);
    *out = am_xcalloc(len, sizeof **out);
    *count = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        const yaml_node_t *item = yaml_document_get_node(&ld->doc, *it);
        const char *s = scalar(item);
        char why[512];
        if (!s)
            return at(ld, item, "%s: expected a matcher string", key);
        corr_matcher_t *m = corr_matcher_parse(s, why, sizeof why);
        if (!m)
            return at(ld, item, "%s", why);
        (*out)[(*count)++] = m;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int get_labels(loader_t *ld, const yaml_node_t *n, const char *key, char ***out,
                      size_t *count, bool *all)
{
    if (!n || n->type != YAML_SEQUENCE_NODE)
        return at(ld, n, "%s: expected a list of label names", key);
    size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (len > CORR_RULE_LIST_MAX)
        return at(ld, n, "%s: %zu labels, over the limit of %d", key, len, CORR_RULE_LIST_MAX);
    *out = am_xcalloc(len, sizeof **out);
    *count = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        const yaml_node_t *item = yaml_document_get_node(&ld->doc, *it);
        const char *s = scalar(item);
        if (!s || !*s)
            return at(ld, item, "%s: expected a label name", key);
        if (strcmp(s, "...") == 0) {
            if (!all)
                return at(ld, item, "%s: '...' is only allowed in group_by", key);
            if (len != 1)
                return at(ld, item, "%s: '...' (all labels) must stand alone", key);
            *all = true;
            return 0;
        }
        for (size_t i = 0; i < *count; i++)
            if (strcmp((*out)[i], s) == 0)
                return at(ld, item, "%s: label '%s' is listed twice", key, s);
        (*out)[(*count)++] = am_xstrdup(s);
    }
    qsort(*out, *count, sizeof **out, cmp_str);
    return 0;
}

#define FOREACH_PAIR(ld, map, kn, vn, key)                                                         \
    for (yaml_node_pair_t *p_ = (map)->data.mapping.pairs.start;                                   \
         p_ < (map)->data.mapping.pairs.top &&                                                     \
         ((kn = yaml_document_get_node(&(ld)->doc, p_->key)),                                      \
          (vn = yaml_document_get_node(&(ld)->doc, p_->value)), (key = scalar(kn)), 1);            \
         p_++)

/* Refuses a mapping that names a key twice (libyaml keeps both). */
static int unique_keys(loader_t *ld, const yaml_node_t *map)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++)
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            const yaml_node_t *a = yaml_document_get_node(&ld->doc, p->key);
            const char *ka = scalar(a);
            const char *kb = scalar(yaml_document_get_node(&ld->doc, q->key));
            if (ka && kb && strcmp(ka, kb) == 0)
                return at(ld, a, "key '%s' is given twice", ka);
        }
    return 0;
}

/* deploys.acknowledge: false, true (any deploy with an actor that is not a
 * "[bot]" account), or a list of matchers the deploy must also satisfy
 * (e.g. ['actor!~"ci-.*"']). */
static int get_acknowledge(loader_t *ld, const yaml_node_t *n, corr_rule_t *r)
{
    if (n && n->type == YAML_SEQUENCE_NODE) {
        r->ack_by_deploy = true;
        return get_matchers(ld, n, "deploys.acknowledge", &r->ack_match, &r->nack_match);
    }
    const char *s = scalar(n);
    if (s && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0))
        return get_bool(ld, n, "deploys.acknowledge", &r->ack_by_deploy);
    return at(ld, n, "deploys.acknowledge: expected true, false or a list of matchers");
}

static int load_deploys(loader_t *ld, const yaml_node_t *map, corr_rule_t *r)
{
    const yaml_node_t *kn, *vn;
    const char *key;
    if (map->type != YAML_MAPPING_NODE)
        return at(ld, map, "deploys: expected a mapping (match, same, before, during)");
    if (unique_keys(ld, map) != 0)
        return -1;
    FOREACH_PAIR(ld, map, kn, vn, key)
    {
        int rc;
        if (!key)
            return at(ld, kn, "deploys: keys must be strings");
        if (strcmp(key, "match") == 0)
            rc = get_matchers(ld, vn, "deploys.match", &r->deploy_match, &r->ndeploy_match);
        else if (strcmp(key, "same") == 0)
            rc = get_labels(ld, vn, "deploys.same", &r->same, &r->nsame, NULL);
        else if (strcmp(key, "before") == 0)
            rc = get_duration(ld, vn, "deploys.before", &r->before);
        else if (strcmp(key, "during") == 0)
            rc = get_bool(ld, vn, "deploys.during", &r->during);
        else if (strcmp(key, "acknowledge") == 0)
            rc = get_acknowledge(ld, vn, r);
        else
            return at(ld, kn,
                      "deploys: unknown key '%s' (known: match, same, before, during, "
                      "acknowledge)",
                      key);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static int load_impact(loader_t *ld, const yaml_node_t *map, corr_rule_t *r)
{
    const yaml_node_t *kn, *vn;
    const char *key;
    if (map->type != YAML_MAPPING_NODE)
        return at(ld, map, "impact: expected a mapping (users)");
    if (unique_keys(ld, map) != 0)
        return -1;
    FOREACH_PAIR(ld, map, kn, vn, key)
    {
        if (!key || strcmp(key, "users") != 0)
            return at(ld, kn, "impact: unknown key '%s' (known: users)", key ? key : "");
        const char *s = scalar(vn);
        if (s && strncmp(s, "annotation:", 11) == 0 && s[11]) {
            r->users_from = CORR_USERS_ANNOTATION;
            r->users_name = am_xstrdup(s + 11);
        } else if (s && strncmp(s, "label:", 6) == 0 && s[6]) {
            r->users_from = CORR_USERS_LABEL;
            r->users_name = am_xstrdup(s + 6);
        } else {
            return at(ld, vn, "impact.users: expected annotation:NAME or label:NAME");
        }
    }
    return 0;
}

/* impact_start: alert (default) or deploy. */
static int get_impact_start(loader_t *ld, const yaml_node_t *n, corr_rule_t *r)
{
    const char *s = scalar(n);
    if (s && strcmp(s, "alert") == 0)
        r->impact_from_deploy = false;
    else if (s && strcmp(s, "deploy") == 0)
        r->impact_from_deploy = true;
    else
        return at(ld, n, "impact_start: expected alert or deploy");
    return 0;
}

/* silences: note (default) or acknowledge. */
static int get_silences(loader_t *ld, const yaml_node_t *n, corr_rule_t *r)
{
    const char *s = scalar(n);
    if (s && strcmp(s, "note") == 0)
        r->silence_ack = false;
    else if (s && strcmp(s, "acknowledge") == 0)
        r->silence_ack = true;
    else
        return at(ld, n, "silences: expected note or acknowledge");
    return 0;
}

static int load_rule(loader_t *ld, const yaml_node_t *map, corr_rule_t *r)
{
    const yaml_node_t *kn, *vn;
    const char *key;
    r->gap = 30 * 60000;
    r->quiet = 10 * 60000;
    r->before = 2 * 3600000;
    r->during = true;
    bool has_match = false;
    if (map->type != YAML_MAPPING_NODE)
        return at(ld, map, "rules: each rule must be a mapping");
    if (unique_keys(ld, map) != 0)
        return -1;
    FOREACH_PAIR(ld, map, kn, vn, key)
    {
        int rc;
        if (!key)
            return at(ld, kn, "rule keys must be strings");
        if (strcmp(key, "name") == 0)
            rc = get_string(ld, vn, "name", &r->name);
        else if (strcmp(key, "description") == 0)
            rc = get_string(ld, vn, "description", &r->description);
        else if (strcmp(key, "match") == 0) {
            rc = get_matchers(ld, vn, "match", &r->match, &r->nmatch);
            has_match = true;
        } else if (strcmp(key, "group_by") == 0)
            rc = get_labels(ld, vn, "group_by", &r->group_by, &r->ngroup, &r->group_all);
        else if (strcmp(key, "gap") == 0)
            rc = get_duration(ld, vn, "gap", &r->gap);
        else if (strcmp(key, "quiet") == 0)
            rc = get_duration(ld, vn, "quiet", &r->quiet);
        else if (strcmp(key, "deploys") == 0)
            rc = load_deploys(ld, vn, r);
        else if (strcmp(key, "impact") == 0)
            rc = load_impact(ld, vn, r);
        else if (strcmp(key, "impact_start") == 0)
            rc = get_impact_start(ld, vn, r);
        else if (strcmp(key, "pending") == 0) {
            rc = get_duration(ld, vn, "pending", &r->pending);
            if (rc == 0 && r->pending > 7 * 24 * 3600000LL)
                rc = at(ld, vn, "pending: over 7d (the alerts' `for:`, a few minutes)");
        } else if (strcmp(key, "silences") == 0)
            rc = get_silences(ld, vn, r);
        else if (strcmp(key, "continue") == 0)
            rc = get_bool(ld, vn, "continue", &r->cont);
        else
            return at(ld, kn,
                      "unknown key '%s' (known: name, description, match, group_by, gap, quiet, "
                      "deploys, impact, impact_start, pending, silences, continue)",
                      key);
        if (rc != 0)
            return -1;
    }
    if (!r->name || !*r->name)
        return at(ld, map, "rule without a name");
    if (!has_match)
        return at(ld, map, "rule '%s' has no match list", r->name);
    if (r->gap <= 0)
        return at(ld, map, "rule '%s': gap must be more than 0", r->name);
    return 0;
}

static void rule_free(corr_rule_t *r)
{
    free(r->name);
    free(r->description);
    for (size_t i = 0; i < r->nmatch; i++)
        corr_matcher_destroy(r->match[i]);
    free(r->match);
    for (size_t i = 0; i < r->ngroup; i++)
        free(r->group_by[i]);
    free(r->group_by);
    for (size_t i = 0; i < r->ndeploy_match; i++)
        corr_matcher_destroy(r->deploy_match[i]);
    free(r->deploy_match);
    for (size_t i = 0; i < r->nack_match; i++)
        corr_matcher_destroy(r->ack_match[i]);
    free(r->ack_match);
    for (size_t i = 0; i < r->nsame; i++)
        free(r->same[i]);
    free(r->same);
    free(r->users_name);
}

void corr_rules_destroy(corr_rules_t *rules)
{
    if (!rules)
        return;
    for (size_t i = 0; i < rules->n; i++)
        rule_free(&rules->v[i]);
    free(rules->v);
    free(rules);
}

/* Digest over the canonical YAML events: formatting and comments do not
 * change it, any value does. */
static void digest_node(loader_t *ld, const yaml_node_t *n, uint64_t *h)
{
    if (!n)
        return;
    *h = am_fnv64_add_byte(*h, (unsigned char)n->type);
    if (n->type == YAML_SCALAR_NODE) {
        *h = am_fnv64_add(*h, n->data.scalar.value, n->data.scalar.length);
    } else if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++)
            digest_node(ld, yaml_document_get_node(&ld->doc, *it), h);
    } else if (n->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            digest_node(ld, yaml_document_get_node(&ld->doc, p->key), h);
            digest_node(ld, yaml_document_get_node(&ld->doc, p->value), h);
        }
    }
    *h = am_fnv64_add_byte(*h, 0xff);
}

corr_rules_t *corr_rules_load_string(const char *text, size_t len, const char *name, char *err,
                                     size_t errlen)
{
    loader_t ld = {.name = name, .err = err, .errlen = errlen};
    yaml_parser_t parser;
    if (am_yaml_check(text, len, name, &am_yaml_limits_default, err, errlen) != 0)
        return NULL;
    corr_rules_t *rules = am_xcalloc(1, sizeof *rules);
    int have_doc = 0;

    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &ld.doc)) {
        am_errf(err, errlen, "%s:%zu:%zu: %s%s%s", name, parser.problem_mark.line + 1,
                parser.problem_mark.column + 1, parser.problem ? parser.problem : "YAML error",
                parser.context ? " " : "", parser.context ? parser.context : "");
        goto init_error;
    }
    have_doc = 1;
    const yaml_node_t *root = yaml_document_get_root_node(&ld.doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        at(&ld, root, "expected a mapping with 'version: 1' and 'rules:'");
        goto init_error;
    }
    if (unique_keys(&ld, root) != 0)
        goto init_error;
    const yaml_node_t *kn, *vn, *list = NULL;
    const char *key;
    bool has_version = false;
    FOREACH_PAIR(&ld, root, kn, vn, key)
    {
        if (key && strcmp(key, "version") == 0) {
            const char *v = scalar(vn);
            if (!v || strcmp(v, "1") != 0) {
                at(&ld, vn, "version: only version 1 is known");
                goto init_error;
            }
            has_version = true;
        } else if (key && strcmp(key, "rules") == 0) {
            list = vn;
        } else {
            at(&ld, kn, "unknown key '%s' (known: version, rules)", key ? key : "");
            goto init_error;
        }
    }
    if (!has_version) {
        at(&ld, root, "missing 'version: 1'");
        goto init_error;
    }
    if (!list || list->type != YAML_SEQUENCE_NODE) {
        at(&ld, list ? list : root, "'rules' must be a list of rules");
        goto init_error;
    }
    size_t count = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    if (count > CORR_RULES_MAX) {
        at(&ld, list, "%zu rules, over the limit of %d", count, CORR_RULES_MAX);
        goto init_error;
    }
    rules->v = am_xcalloc(count, sizeof *rules->v);
    for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top;
         it++) {
        const yaml_node_t *rn = yaml_document_get_node(&ld.doc, *it);
        corr_rule_t *r = &rules->v[rules->n++];
        if (load_rule(&ld, rn, r) != 0)
            goto init_error;
        for (size_t i = 0; i + 1 < rules->n; i++)
            if (strcmp(rules->v[i].name, r->name) == 0) {
                at(&ld, rn, "rule name '%s' is used twice", r->name);
                goto init_error;
            }
    }
    /* A second document would be silently ignored: refuse it, as the
     * config does. */
    yaml_document_t extra;
    if (yaml_parser_load(&parser, &extra)) {
        const yaml_node_t *more = yaml_document_get_root_node(&extra);
        size_t line = more ? more->start_mark.line + 1 : 0;
        yaml_document_delete(&extra);
        if (more) {
            am_errf(err, errlen, "%s:%zu: a second YAML document (one rules file holds one)", name,
                    line);
            goto init_error;
        }
    } else {
        am_errf(err, errlen, "%s:%zu:%zu: %s", name, parser.problem_mark.line + 1,
                parser.problem_mark.column + 1, parser.problem ? parser.problem : "YAML error");
        goto init_error;
    }
    uint64_t h = AM_FNV64_INIT;
    digest_node(&ld, root, &h);
    snprintf(rules->digest, sizeof rules->digest, "%016" PRIx64, h);
    yaml_document_delete(&ld.doc);
    yaml_parser_delete(&parser);
    return rules;

init_error:
    if (have_doc)
        yaml_document_delete(&ld.doc);
    yaml_parser_delete(&parser);
    corr_rules_destroy(rules);
    return NULL;
}

corr_rules_t *corr_rules_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        am_errf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    am_buf_t b = {0};
    char chunk[8192];
    size_t n;
    size_t max = am_yaml_limits_default.max_bytes;
    while (b.len <= max && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        am_buf_append(&b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    corr_rules_t *rules = NULL;
    if (bad)
        am_errf(err, errlen, "%s: read error", path);
    else if (b.len > max)
        am_errf(err, errlen, "%s: larger than the limit of %zu bytes", path, max);
    else
        rules = corr_rules_load_string(b.p ? b.p : "", b.len, path, err, errlen);
    am_buf_free(&b);
    return rules;
}

extern const char corr_default_rules_yaml[];

corr_rules_t *corr_rules_load_default(char *err, size_t errlen)
{
    return corr_rules_load_string(corr_default_rules_yaml, strlen(corr_default_rules_yaml),
                                  "rules/default.yaml", err, errlen);
}

size_t corr_rules_count(const corr_rules_t *rules)
{
    return rules->n;
}

const char *corr_rules_name(const corr_rules_t *rules, size_t i)
{
    return rules->v[i].name;
}

const char *corr_rules_digest(const corr_rules_t *rules)
{
    return rules->digest;
}

corr_rules_t *corr_rules_load_files(char *const *paths, size_t n, char *err, size_t errlen)
{
    if (n == 0)
        return corr_rules_load_default(err, errlen);
    corr_rules_t *all = NULL;
    uint64_t h = AM_FNV64_INIT;
    for (size_t f = 0; f < n; f++) {
        corr_rules_t *one = corr_rules_load(paths[f], err, errlen);
        if (!one) {
            corr_rules_destroy(all);
            return NULL;
        }
        h = am_fnv64_add(h, one->digest, strlen(one->digest));
        if (!all) {
            all = one;
            continue;
        }
        for (size_t i = 0; i < one->n; i++)
            for (size_t k = 0; k < all->n; k++)
                if (strcmp(one->v[i].name, all->v[k].name) == 0) {
                    am_errf(err, errlen, "%s: rule name '%s' is already used in an earlier file",
                            paths[f], one->v[i].name);
                    corr_rules_destroy(one);
                    corr_rules_destroy(all);
                    return NULL;
                }
        all->v = am_xrealloc(all->v, (all->n + one->n) * sizeof *all->v);
        memcpy(all->v + all->n, one->v, one->n * sizeof *one->v);
        all->n += one->n;
        one->n = 0;
        corr_rules_destroy(one);
    }
    if (n > 1)
        snprintf(all->digest, sizeof all->digest, "%016" PRIx64, h);
    return all;
}
