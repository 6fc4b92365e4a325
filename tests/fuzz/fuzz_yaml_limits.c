/*
 * fuzz_yaml_limits.c - libFuzzer target for am_yaml_check, the pre-check
 * of every YAML file aftermath reads. Any bytes are either refused with
 * "fuzz.yaml:..." or, when libyaml then loads them, give a document the
 * limits promise: no deeper than max_depth, and, walked with every alias
 * expanded (as the loaders walk it), no more nodes than the text and the
 * alias allowance can hold. A walk past either bound is a check that let
 * something through, and aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/yaml_limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small limits, so that the fuzzer reaches them with short inputs. */
static const am_yaml_limits_t limits = {
    .max_bytes = 1 << 16,
    .max_depth = 8,
    .max_items = 64,
    .max_alias_bytes = 256,
};

typedef struct walk {
    yaml_document_t *doc;
    size_t nodes, budget;
} walk_t;

/* Visits n and what it holds, aliases expanded, as a loader would. */
static void visit(walk_t *w, const yaml_node_t *n, size_t depth)
{
    if (!n)
        return;
    if (++w->nodes > w->budget) {
        fprintf(stderr, "accepted, but aliases expand to more than %zu nodes\n", w->budget);
        abort();
    }
    if (n->type == YAML_SEQUENCE_NODE || n->type == YAML_MAPPING_NODE) {
        if (depth + 1 > limits.max_depth) {
            fprintf(stderr, "accepted, but nested deeper than %zu\n", limits.max_depth);
            abort();
        }
    }
    if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++)
            visit(w, yaml_document_get_node(w->doc, *it), depth + 1);
    } else if (n->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            visit(w, yaml_document_get_node(w->doc, p->key), depth + 1);
            visit(w, yaml_document_get_node(w->doc, p->value), depth + 1);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024] = "";
    if (am_yaml_check((const char *)data, size, "fuzz.yaml", &limits, err, sizeof err) != 0) {
        if (strncmp(err, "fuzz.yaml:", 10) != 0) {
            fprintf(stderr, "refusal without a place: %s\n", err);
            abort();
        }
        return 0;
    }
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        abort();
    yaml_parser_set_input_string(&parser, data, size);
    for (;;) {
        yaml_document_t doc;
        if (!yaml_parser_load(&parser, &doc))
            break;
        const yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (!root) {
            yaml_document_delete(&doc);
            break;
        }
        /* Each node spans at least one byte of text or is an empty
         * scalar next to an indicator, so a document without aliases
         * has at most about twice as many nodes as bytes; aliases add
         * at most what their allowance holds. */
        walk_t w = {.doc = &doc, .budget = 2 * (size + limits.max_alias_bytes) + 16};
        visit(&w, root, 0);
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    return 0;
}
