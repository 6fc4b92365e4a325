/*
 * incidents_table.h - the human-readable incident table shared by
 * `incidents`, `replay`, `rules test` and the demo.
 */
#ifndef CLI_INCIDENTS_TABLE_H
#define CLI_INCIDENTS_TABLE_H

#include <jansson.h>
#include <stdio.h>

#include "correlate/rules.h"

/* Prints one line per incident of arr (as corr_incidents_json makes). */
void cli_print_incidents(FILE *out, const json_t *arr);

/* Loads rules from path, or the built-in default rules when path is NULL;
 * prints the error as "aftermath CMD: ..." and returns NULL on failure. */
corr_rules_t *cli_load_rules(const char *cmd, const char *path);

#endif
