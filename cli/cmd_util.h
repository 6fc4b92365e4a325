/*
 * cmd_util.h - what several commands do alike before their own work:
 * load the rules a flag names, open a store and build one incident's
 * draft, printing the error as "aftermath CMD: ..." on failure.
 */
#ifndef CLI_CMD_UTIL_H
#define CLI_CMD_UTIL_H

#include "correlate/rules.h"
#include "report/draft.h"
#include "store/store.h"

/* Loads rules from path, or the built-in default rules when path is NULL;
 * prints the error as "aftermath CMD: ..." and returns NULL on failure. */
corr_rules_t *cli_load_rules(const char *cmd, const char *path);

/* Opens the existing database db and builds the draft of incident id (or
 * an alias). On failure prints "aftermath CMD: ..." (a database error, or
 * no such incident) and returns NULL with *st closed and NULL. Otherwise
 * the caller destroys the draft and closes *st. */
report_draft_t *cli_draft_open(const char *cmd, const char *db, const char *id,
                               const report_options_t *opts, store_t **st);

#endif
