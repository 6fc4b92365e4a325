/*
 * drafts.h - automatic postmortem drafts for the incidents a run changed,
 * shared by `replay` and `run`.
 */
#ifndef CLI_DRAFTS_H
#define CLI_DRAFTS_H

#include <stddef.h>

#include "common/log.h"
#include "correlate/engine.h"
#include "store/store.h"

/* Writes (or refreshes) the drafts of the resolved incidents among those
 * the engine reports as changed, into dir (created if missing, mode 0750).
 * Incidents still open get their draft when they resolve. Returns the
 * number of incidents written, or -1 with err. */
int cli_write_drafts(store_t *st, const corr_engine_t *engine, const char *dir, const am_log_t *log,
                     char *err, size_t errlen);

#endif
