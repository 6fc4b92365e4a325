/*
 * rules.h - correlation rules (rules/NAME.yaml, documented in
 * rules/README.md), loaded strictly: an unknown key, a bad value or a
 * missing required key is an error naming file:line:column.
 */
#ifndef CORR_RULES_H
#define CORR_RULES_H

#include <stddef.h>
#include <stdint.h>

typedef struct corr_rules corr_rules_t;

/* Most rules one file may hold. */
#define CORR_RULES_MAX 1000
/* Most entries of one list in a rule (match, group_by, deploys.match,
 * deploys.same, deploys.acknowledge). */
#define CORR_RULE_LIST_MAX 100

/* Loads the rules file at path. Returns NULL with "path:line:col: what"
 * in err. The file must be within am_yaml_limits_default (1 MiB, nesting
 * 32 deep, aliases repeating at most 64 KiB: common/yaml_limits.h). */
corr_rules_t *corr_rules_load(const char *path, char *err, size_t errlen);
/* Loads rules from text; name is used in messages (e.g. the file name). */
corr_rules_t *corr_rules_load_string(const char *text, size_t len, const char *name, char *err,
                                     size_t errlen);
/* The rules shipped in rules/default.yaml, built into the binary. */
corr_rules_t *corr_rules_load_default(char *err, size_t errlen);
/* Loads and concatenates rule files in order (rule names must be unique
 * across them); n = 0 loads the built-in default rules. */
corr_rules_t *corr_rules_load_files(char *const *paths, size_t n, char *err, size_t errlen);
void corr_rules_destroy(corr_rules_t *rules);

size_t corr_rules_count(const corr_rules_t *rules);
/* Borrowed name of rule i. */
const char *corr_rules_name(const corr_rules_t *rules, size_t i);
/* Hex digest of the rules' meaning (not their formatting), used to tell
 * whether a database was correlated under other rules. */
const char *corr_rules_digest(const corr_rules_t *rules);

#endif
