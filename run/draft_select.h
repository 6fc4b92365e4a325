/*
 * draft_select.h - automatic postmortem drafts for the incidents a run changed,
 * shared by `replay` and `run`.
 */
#ifndef RUN_DRAFT_SELECT_H
#define RUN_DRAFT_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/log.h"
#include "report/draft.h"
#include "correlate/engine.h"
#include "store/store.h"

/* Writes (or refreshes) the drafts (without any URL when no_links: drafts
 * that leave the company) of the incidents whose alerts have all
 * ended (mitigated or resolved) among those the engine reports as
 * changed, into dir (created if missing, mode 0750), their status as of
 * the latest event in st (replay). Incidents still open get their draft
 * when their last alert ends. Returns the
 * number of incidents written, or -1 with err. */
int run_write_drafts(store_t *st, const corr_engine_t *engine, const char *dir, bool no_links,
                     const am_log_t *log, char *err, size_t errlen);

/* The same for the n incident ids (or aliases) in changed, the status as
 * of the wall clock (run). */
int run_write_drafts_of(store_t *st, const char *const *changed, size_t n, const char *dir,
                        bool no_links, const am_log_t *log, char *err, size_t errlen);

#endif
