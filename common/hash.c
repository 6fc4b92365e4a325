/*
 * hash.c - FNV-1a 64 (Fowler/Noll/Vo), byte at a time; SHA-256 by GnuTLS.
 */
#include "common/hash.h"

#include <gnutls/crypto.h>
#include <stdlib.h>

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

void am_sha256_hex(const void *data, size_t len, char out[AM_SHA256_HEXLEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    /* gnutls_hash_fast fails only for an unknown algorithm. */
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, md) != 0)
        abort();
    for (size_t i = 0; i < sizeof md; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[AM_SHA256_HEXLEN] = '\0';
}

int am_is_sha256_hex(const char *s)
{
    size_t n = 0;
    for (; s && s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return 0;
    return n == AM_SHA256_HEXLEN;
}
