/*
 * cmd_util.c - the steps several commands share (see cmd_util.h): they
 * print their own errors, so a command only maps NULL to its exit code.
 */
#include "cli/cmd_util.h"

#include <stdio.h>

corr_rules_t *cli_load_rules(const char *cmd, const char *path)
{
    char err[1024];
    char *const paths[] = {(char *)path};
    corr_rules_t *rules = corr_rules_load_files(paths, path ? 1 : 0, err, sizeof err);
    if (!rules)
        fprintf(stderr, "aftermath %s: %s\n", cmd, err);
    return rules;
}

report_draft_t *cli_draft_open(const char *cmd, const char *db, const char *id,
                               const report_options_t *opts, store_t **st)
{
    char err[1024];
    *st = store_open(db, &store_existing, err, sizeof err);
    if (!*st) {
        fprintf(stderr, "aftermath %s: %s\n", cmd, err);
        return NULL;
    }
    report_draft_t *d = report_draft_create(*st, id, opts, err, sizeof err);
    if (!d) {
        if (err[0])
            fprintf(stderr, "aftermath %s: %s\n", cmd, err);
        else
            fprintf(stderr, "aftermath %s: no incident '%s' in %s\n", cmd, id, db);
        store_close(*st);
        *st = NULL;
    }
    return d;
}
