/*
 * hash.h - FNV-1a 64, the hash Alertmanager uses for label fingerprints.
 */
#ifndef AM_HASH_H
#define AM_HASH_H

#include <stddef.h>
#include <stdint.h>

#define AM_FNV64_INIT 14695981039346656037ULL

/* Folds len bytes into h (start from AM_FNV64_INIT). */
uint64_t am_fnv64_add(uint64_t h, const void *data, size_t len);
uint64_t am_fnv64_add_byte(uint64_t h, unsigned char b);

#endif
