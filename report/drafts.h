/*
 * drafts.h - automatic drafts: the Markdown and HTML draft of incidents
 * written to a directory, refreshed when an incident changes, and never
 * overwriting a draft a person has edited since aftermath wrote it.
 */
#ifndef REPORT_DRAFTS_H
#define REPORT_DRAFTS_H

#include <stddef.h>

#include "common/log.h"
#include "report/draft.h"
#include "store/store.h"

/* Writes DIR/ID.md and DIR/ID.html for each of ids[0..n) (ids or
 * aliases; the file is named by the canonical id). dir must exist.
 * Beside each file aftermath keeps a hidden sidecar, DIR/.ID.md.written,
 * with the hash of what it last wrote there:
 * - no file yet: the draft is written, and the sidecar;
 * - the file still holds what aftermath wrote: it is replaced (atomically,
 *   by rename) when the draft changed;
 * - the file was edited (or has no sidecar): it is left alone, the new
 *   draft goes to DIR/ID.new.md (or .new.html), and a warning is logged.
 * - the draft path holds a link, a FIFO or anything but a regular file: it
 *   is not opened through or replaced; the draft goes to DIR/ID.new.md and
 *   a warning is logged.
 * Every file is written through am_file_replace() (common/file.h): a new
 * file created exclusively, renamed into place, so a link planted at any
 * name in DIR never redirects a write. When others can write to DIR
 * (mode g+w or o+w) a warning is logged at each call that has ids.
 * opts may be NULL (names included). An unknown id is logged and skipped.
 * Returns 0, or -1 with the first failure in err (the other ids are still
 * attempted). log may be NULL. */
int report_write_drafts(store_t *st, const char *dir, const char *const *ids, size_t n,
                        const report_options_t *opts, const am_log_t *log, char *err,
                        size_t errlen);

#endif
