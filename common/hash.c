/*
 * hash.c - FNV-1a 64 (Fowler/Noll/Vo), byte at a time.
 */
#include "common/hash.h"

#define FNV64_PRIME 1099511628211ULL

uint64_t am_fnv64_add(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= FNV64_PRIME;
    }
    return h;
}

uint64_t am_fnv64_add_byte(uint64_t h, unsigned char b)
{
    h ^= b;
    h *= FNV64_PRIME;
    return h;
}
