/*
 * hash.h - FNV-1a 64, the hash Alertmanager uses for label fingerprints,
 * and SHA-256 as hex, the hash of its notification group keys (PagerDuty's
 * dedup_key: Alertmanager notify/util.go Key.Hash).
 */
#ifndef AM_HASH_H
#define AM_HASH_H

#include <stddef.h>
#include <stdint.h>

#define AM_FNV64_INIT 14695981039346656037ULL

/* Folds len bytes into h (start from AM_FNV64_INIT). */
uint64_t am_fnv64_add(uint64_t h, const void *data, size_t len);
uint64_t am_fnv64_add_byte(uint64_t h, unsigned char b);

#define AM_SHA256_HEXLEN 64

/* The SHA-256 of len bytes as 64 lowercase hex digits and a NUL. */
void am_sha256_hex(const void *data, size_t len, char out[AM_SHA256_HEXLEN + 1]);

/* True when s is 64 lowercase hex digits: the shape of a group key's
 * hash. */
int am_is_sha256_hex(const char *s);

#endif
