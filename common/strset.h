/*
 * strset.h - a set of strings (owned copies) with insertion order kept,
 * for the small working sets of one batch.
 */
#ifndef AM_STRSET_H
#define AM_STRSET_H

#include <stdbool.h>
#include <stddef.h>

typedef struct am_strset {
    char **v; /* the strings, in insertion order */
    size_t n;
    size_t *slots; /* open addressing: index + 1, 0 = empty */
    size_t nslots;
} am_strset_t;

/* Adds a copy of s; returns its index (existing or new). *added, when
 * not NULL, says whether it was new. */
size_t am_strset_add(am_strset_t *set, const char *s, bool *added);
/* Index of s, or (size_t)-1. */
size_t am_strset_find(const am_strset_t *set, const char *s);
void am_strset_clear(am_strset_t *set);
void am_strset_free(am_strset_t *set);

#endif
