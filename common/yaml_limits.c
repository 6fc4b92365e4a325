/*
 * yaml_limits.c - bounding a YAML file before it is loaded.
 *
 * libyaml 0.2.5 has two costs that grow faster than the file: its scanner
 * keeps one "simple key" slot per open flow collection and walks all of
 * them for every token, so nesting N deep costs N^2 (80,000 '[' take 14 s,
 * a million never finish); and its document shares an aliased node, so our
 * loaders, which walk the document, do the aliased work once per alias
 * (one 1 KB matcher named 10,000 times through '*m' compiled 10,000
 * regexes). Both are bounded here, on libyaml's event stream rather than
 * on the document: the parser and scanner are lazy (a token is produced
 * after at most a line, or 1024 characters, of look-ahead), so stopping at
 * the first event past the depth limit means libyaml never holds more
 * than that many open collections, and a refusal costs the bytes read up
 * to it. The stream is exact, where guessing nesting from the raw bytes
 * would have to re-implement YAML's quoting, block scalars and plain
 * scalars to avoid counting brackets inside them.
 *
 * What an alias repeats is measured in source bytes: an anchored node
 * weighs the bytes it spans plus what aliases inside it repeat, and every
 * alias adds its anchor's weight to a total that has a ceiling. An alias
 * inside its own anchor (a recursive document) is refused.
 */
#include "common/yaml_limits.h"
#include "common/buf.h"
#include "common/hash.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <yaml.h>

const am_yaml_limits_t am_yaml_limits_default = {
    .max_bytes = 1024 * 1024,
    .max_depth = 32,
    .max_items = 4096,
    .max_alias_bytes = 64 * 1024,
};

/* One anchor: its name, and its weight once its node is complete. */
typedef struct anchor {
    char *name;
    size_t weight;
    bool open; /* its collection has not ended yet */
} anchor_t;

/* Anchors by name: an open-addressing table of indexes into v (slot
 * holds index + 1, 0 is empty). A later anchor of the same name replaces
 * the earlier one, as in YAML. */
typedef struct anchors {
    anchor_t *v;
    size_t n, cap;
    size_t *slot;
    size_t nslot; /* a power of two, more than twice n */
} anchors_t;

/* An open sequence or mapping. */
typedef struct frame {
    bool mapping;
    size_t items;  /* nodes inside it (keys and values for a mapping) */
    size_t start;  /* byte index of its first character */
    size_t repeat; /* bytes aliases inside it repeat */
    size_t anchor; /* index + 1 in anchors_t.v, or 0 */
} frame_t;

typedef struct checker {
    const char *name;
    const am_yaml_limits_t *limits;
    anchors_t anchors;
    frame_t *stack;
    size_t depth;
    size_t repeated; /* bytes all aliases repeat, so far */
    char *err;
    size_t errlen;
} checker_t;

static size_t add_sat(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* Fills err with "name:line:col: " and the rest of the message. */
static int refuse(checker_t *c, const yaml_mark_t *mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(checker_t *c, const yaml_mark_t *mark, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    am_errf(c->err, c->errlen, "%s:%zu:%zu: %s", c->name, mark->line + 1, mark->column + 1, msg);
    return -1;
}

static size_t *anchor_slot(anchors_t *a, const char *name)
{
    size_t mask = a->nslot - 1;
    size_t i = (size_t)am_fnv64_add(AM_FNV64_INIT, name, strlen(name)) & mask;
    while (a->slot[i] && strcmp(a->v[a->slot[i] - 1].name, name) != 0)
        i = (i + 1) & mask;
    return &a->slot[i];
}

static anchor_t *anchor_find(anchors_t *a, const char *name)
{
    if (!a->nslot)
        return NULL;
    size_t *s = anchor_slot(a, name);
    return *s ? &a->v[*s - 1] : NULL;
}

/* Adds (or replaces) the anchor name; returns its index + 1. */
static size_t anchor_add(anchors_t *a, const char *name)
{
    if (2 * (a->n + 1) >= a->nslot) {
        size_t nslot = a->nslot ? 2 * a->nslot : 64;
        free(a->slot);
        a->slot = am_xcalloc(nslot, sizeof *a->slot);
        a->nslot = nslot;
        for (size_t i = 0; i < a->n; i++)
            if (a->v[i].name) {
                size_t *s = anchor_slot(a, a->v[i].name);
                *s = i + 1;
            }
    }
    size_t *s = anchor_slot(a, name);
    if (*s) /* redefined (libyaml's loader refuses that): reuse the entry */
        return *s;
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 16;
        a->v = am_xrealloc(a->v, a->cap * sizeof *a->v);
    }
    a->v[a->n] = (anchor_t){.name = am_xstrdup(name)};
    *s = ++a->n;
    return *s;
}

static void anchors_free(anchors_t *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i].name);
    free(a->v);
    free(a->slot);
}

/* Counts one node (of any kind) in the collection that holds it. */
static int count_item(checker_t *c, const yaml_mark_t *mark)
{
    if (c->depth == 0)
        return 0;
    frame_t *top = &c->stack[c->depth - 1];
    top->items++;
    size_t entries = top->mapping ? (top->items + 1) / 2 : top->items;
    if (entries > c->limits->max_items)
        return refuse(c, mark, "more than the limit of %zu %s", c->limits->max_items,
                      top->mapping ? "keys in one mapping" : "entries in one sequence");
    return 0;
}

static int on_alias(checker_t *c, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    anchor_t *a = anchor_find(&c->anchors, name);
    if (!a)
        return 1; /* undefined: the loader says so */
    if (a->open)
        return refuse(c, &ev->start_mark, "alias *%s is inside its own anchor", name);
    c->repeated = add_sat(c->repeated, a->weight);
    for (size_t i = 0; i < c->depth; i++)
        c->stack[i].repeat = add_sat(c->stack[i].repeat, a->weight);
    if (c->repeated > c->limits->max_alias_bytes)
        return refuse(c, &ev->start_mark,
                      "aliases repeat more than the limit of %zu bytes of the file (each alias "
                      "counts the text of its anchor's node)",
                      c->limits->max_alias_bytes);
    return 0;
}

static int on_start(checker_t *c, const yaml_event_t *ev, bool mapping, const yaml_char_t *anchor)
{
    if (c->depth == c->limits->max_depth)
        return refuse(c, &ev->start_mark,
                      "sequences and mappings nested deeper than the limit of %zu",
                      c->limits->max_depth);
    size_t a = 0;
    if (anchor) {
        a = anchor_add(&c->anchors, (const char *)anchor);
        c->anchors.v[a - 1].open = true;
    }
    c->stack[c->depth++] =
        (frame_t){.mapping = mapping, .start = ev->start_mark.index, .anchor = a};
    return 0;
}

static void on_end(checker_t *c, const yaml_event_t *ev)
{
    if (c->depth == 0)
        return;
    frame_t *top = &c->stack[--c->depth];
    if (top->anchor) {
        anchor_t *a = &c->anchors.v[top->anchor - 1];
        size_t span = ev->end_mark.index > top->start ? ev->end_mark.index - top->start : 1;
        a->weight = add_sat(span, top->repeat);
        a->open = false;
    }
}

/* Handles one event: 0 to go on, 1 to stop with the text within limits,
 * -1 to refuse it. */
static int on_event(checker_t *c, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        if (count_item(c, &ev->start_mark) != 0)
            return -1;
        if (ev->data.scalar.anchor) {
            size_t a = anchor_add(&c->anchors, (const char *)ev->data.scalar.anchor);
            size_t span = ev->end_mark.index > ev->start_mark.index
                              ? ev->end_mark.index - ev->start_mark.index
                              : 1;
            c->anchors.v[a - 1].weight = span;
        }
        return 0;
    case YAML_ALIAS_EVENT:
        if (count_item(c, &ev->start_mark) != 0)
            return -1;
        return on_alias(c, ev);
    case YAML_SEQUENCE_START_EVENT:
        if (count_item(c, &ev->start_mark) != 0)
            return -1;
        return on_start(c, ev, false, ev->data.sequence_start.anchor);
    case YAML_MAPPING_START_EVENT:
        if (count_item(c, &ev->start_mark) != 0)
            return -1;
        return on_start(c, ev, true, ev->data.mapping_start.anchor);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        on_end(c, ev);
        return 0;
    case YAML_STREAM_END_EVENT:
        return 1;
    default:
        return 0;
    }
}

int am_yaml_check(const char *bytes, size_t len, const char *name, const am_yaml_limits_t *limits,
                  char *err, size_t errlen)
{
    if (len > limits->max_bytes) {
        am_errf(err, errlen, "%s: %zu bytes, over the limit of %zu", name, len, limits->max_bytes);
        return -1;
    }
    checker_t c = {.name = name, .limits = limits, .err = err, .errlen = errlen};
    c.stack = am_xcalloc(limits->max_depth + 1, sizeof *c.stack);
    yaml_parser_t parser;
    int rc = 0;
    if (!yaml_parser_initialize(&parser)) {
        am_errf(err, errlen, "%s: cannot initialise the YAML parser", name);
        rc = -1;
        goto done;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)bytes, len);
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev))
            break; /* a syntax error: the loader reports it */
        int r = on_event(&c, &ev);
        yaml_event_delete(&ev);
        if (r != 0) {
            rc = r < 0 ? -1 : 0;
            break;
        }
    }
    yaml_parser_delete(&parser);
done:
    anchors_free(&c.anchors);
    free(c.stack);
    return rc;
}

int am_yaml_check_file(FILE **f, const char *name, const am_yaml_limits_t *limits, char *err,
                       size_t errlen)
{
    am_buf_t b = {0};
    char chunk[8192];
    size_t n;
    int rc = -1;
    while (b.len <= limits->max_bytes && (n = fread(chunk, 1, sizeof chunk, *f)) > 0)
        am_buf_append(&b, chunk, n);
    if (ferror(*f)) {
        am_errf(err, errlen, "%s: read error", name);
        goto done;
    }
    if (b.len > limits->max_bytes) {
        am_errf(err, errlen, "%s: larger than the limit of %zu bytes", name, limits->max_bytes);
        goto done;
    }
    if (am_yaml_check(b.p ? b.p : "", b.len, name, limits, err, errlen) != 0)
        goto done;
    if (fseek(*f, 0, SEEK_SET) == 0) {
        rc = 0;
        goto done;
    }
    /* A pipe: hand back the bytes already read, in memory. */
    FILE *m = fmemopen(NULL, b.len + 1, "w+");
    if (!m || fwrite(b.p ? b.p : "", 1, b.len, m) != b.len || fseek(m, 0, SEEK_SET) != 0) {
        am_errf(err, errlen, "%s: cannot buffer the file: %s", name, strerror(errno));
        if (m)
            fclose(m);
        goto done;
    }
    fclose(*f);
    *f = m;
    rc = 0;
done:
    am_buf_free(&b);
    return rc;
}
