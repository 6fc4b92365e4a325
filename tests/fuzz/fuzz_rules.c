/*
 * fuzz_rules.c - libFuzzer target for the rules loader: any bytes are
 * either refused with "name:line:col: ..." or loaded into rules whose
 * digest is stable (loading the same bytes twice gives the same digest).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024] = "";
    corr_rules_t *a =
        corr_rules_load_string((const char *)data, size, "fuzz.yaml", err, sizeof err);
    if (!a) {
        if (strncmp(err, "fuzz.yaml:", 10) != 0) {
            fprintf(stderr, "refusal without a place: %s\n", err);
            abort();
        }
        return 0;
    }
    corr_rules_t *b =
        corr_rules_load_string((const char *)data, size, "fuzz.yaml", err, sizeof err);
    if (!b || strcmp(corr_rules_digest(a), corr_rules_digest(b)) != 0)
        abort();
    for (size_t i = 0; i < corr_rules_count(a); i++)
        if (!corr_rules_name(a, i) || !*corr_rules_name(a, i))
            abort();
    corr_rules_destroy(a);
    corr_rules_destroy(b);
    return 0;
}
