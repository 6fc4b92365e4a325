/*
 * drafts.h - automatic postmortem drafts for the incidents a run changed,
 * shared by `replay` and `run`.
 */
#ifndef CLI_DRAFTS_H
#define CLI_DRAFTS_H

#include <stddef.h>

#include "common/log.h"
#include "report/draft.h"
#include "correlate/engine.h"
#include "store/store.h"

/* Writes (or refreshes) the drafts of the resolved incidents among those
 * the engine reports as changed, into dir (created if missing, mode 0750).
 * Incidents still open get their draft when they resolve. Returns the
 * number of incidents written, or -1 with err. */
int cli_write_drafts(store_t *st, const corr_engine_t *engine, const char *dir, const am_log_t *log,
                     char *err, size_t errlen);

/* The same for the n incident ids (or aliases) in changed. */
int cli_write_drafts_of(store_t *st, const char *const *changed, size_t n, const char *dir,
                        const am_log_t *log, char *err, size_t errlen);

/* Opens the existing database db and builds the draft of incident id (or
 * an alias). On failure prints "aftermath CMD: ..." (a database error, or
 * no such incident) and returns NULL with *st closed and NULL. Otherwise
 * the caller destroys the draft and closes *st. */
report_draft_t *cli_draft_open(const char *cmd, const char *db, const char *id,
                               const report_options_t *opts, store_t **st);

#endif
