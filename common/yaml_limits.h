/*
 * yaml_limits.h - the checks every YAML file aftermath reads (rules files,
 * aftermath.yaml) passes before it is loaded into a document: a size, a
 * nesting depth, a bound on what aliases may repeat, and a bound on the
 * entries of one sequence or mapping. They keep a small hostile file from
 * taking minutes in libyaml's scanner (deep nesting is quadratic there)
 * or gigabytes in the loaders (an alias repeated thousands of times).
 */
#ifndef AM_YAML_LIMITS_H
#define AM_YAML_LIMITS_H

#include <stddef.h>
#include <stdio.h>

typedef struct am_yaml_limits {
    size_t max_bytes;       /* the file's size */
    size_t max_depth;       /* sequences and mappings nested in each other */
    size_t max_items;       /* entries of one sequence, or keys of one mapping */
    size_t max_alias_bytes; /* source bytes all aliases repeat, added up */
} am_yaml_limits_t;

/* The limits for rules files and aftermath.yaml (documented in
 * rules/README.md and aftermath.example.yaml): 1 MiB, depth 32, 4096
 * entries per collection, aliases repeating at most 64 KiB in total. */
extern const am_yaml_limits_t am_yaml_limits_default;

/* Checks len bytes of YAML named name (used in messages) against limits
 * without building a document. It reads libyaml's event stream and stops
 * at the first event past a limit, so a deep or aliased file costs only
 * the bytes read up to there. Returns 0 when the text is within limits
 * (or is not valid YAML: the loader then reports the syntax error), -1
 * with "name:line:col: what (limit N)" or "name: what" in err otherwise. */
int am_yaml_check(const char *bytes, size_t len, const char *name, const am_yaml_limits_t *limits,
                  char *err, size_t errlen);

/* Reads *f to its end (at most limits->max_bytes + 1 bytes), checks it
 * as am_yaml_check does, and leaves *f positioned at the start of the
 * same bytes: rewound, or, when *f cannot seek (a pipe), closed and
 * replaced by an owned in-memory stream of the bytes read. *f stays
 * owned by the caller either way. Returns 0, or -1 with the reason in
 * err. */
int am_yaml_check_file(FILE **f, const char *name, const am_yaml_limits_t *limits, char *err,
                       size_t errlen);

#endif
