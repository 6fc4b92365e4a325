/*
 * strset.c - string set: a vector of owned strings plus an open-addressing
 * index of FNV-1a hashes, grown at half load.
 */
#include "common/strset.h"
#include "common/buf.h"
#include "common/hash.h"

#include <stdlib.h>
#include <string.h>

static size_t slot_of(const am_strset_t *set, const char *s, bool *found)
{
    size_t mask = set->nslots - 1;
    size_t i = (size_t)am_fnv64_add(AM_FNV64_INIT, s, strlen(s)) & mask;
    for (;; i = (i + 1) & mask) {
        size_t k = set->slots[i];
        if (k == 0) {
            *found = false;
            return i;
        }
        if (strcmp(set->v[k - 1], s) == 0) {
            *found = true;
            return i;
        }
    }
}

static void grow(am_strset_t *set)
{
    size_t n = set->nslots ? set->nslots * 2 : 64;
    free(set->slots);
    set->slots = am_xcalloc(n, sizeof *set->slots);
    set->nslots = n;
    for (size_t k = 0; k < set->n; k++) {
        bool found;
        set->slots[slot_of(set, set->v[k], &found)] = k + 1;
    }
    set->v = am_xrealloc(set->v, n / 2 * sizeof *set->v);
}

size_t am_strset_add(am_strset_t *set, const char *s, bool *added)
{
    if (set->n + 1 > set->nslots / 2)
        grow(set);
    bool found;
    size_t i = slot_of(set, s, &found);
    if (added)
        *added = !found;
    if (found)
        return set->slots[i] - 1;
    set->v[set->n] = am_xstrdup(s);
    set->slots[i] = ++set->n;
    return set->n - 1;
}

size_t am_strset_find(const am_strset_t *set, const char *s)
{
    if (set->nslots == 0)
        return (size_t)-1;
    bool found;
    size_t i = slot_of(set, s, &found);
    return found ? set->slots[i] - 1 : (size_t)-1;
}

void am_strset_clear(am_strset_t *set)
{
    for (size_t k = 0; k < set->n; k++)
        free(set->v[k]);
    set->n = 0;
    if (set->slots)
        memset(set->slots, 0, set->nslots * sizeof *set->slots);
}

void am_strset_free(am_strset_t *set)
{
    am_strset_clear(set);
    free(set->v);
    free(set->slots);
    memset(set, 0, sizeof *set);
}
