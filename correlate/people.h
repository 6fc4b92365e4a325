/*
 * people.h - the people's record over the derived incidents: corrections
 * in effect, action items, and people's events that attach nowhere
 * (DESIGN.md "People's corrections and follow-ups"; tables
 * incident_overlay, action_items and people_unattached).
 */
#ifndef CORR_PEOPLE_H
#define CORR_PEOPLE_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

/* Called with each incident whose people's record changed; non-zero
 * stops the refresh and is returned. */
typedef int (*corr_people_changed_fn)(void *ctx, const char *incident);

/* Recomputes the whole people's record from the stored correction and
 * action events against the incidents as they now are, inside the open
 * transaction (the correlator calls it at the end of every flush, so it
 * commits with the incidents). The result is a function of the stored
 * events and incidents only: per field the latest event by (at, event id)
 * wins, whatever the order they arrived in, and running it twice changes
 * nothing. Each event attaches to the incident it names, else to the
 * incident that id is now an alias of, else (a correction with `about`)
 * to the incident holding most of its alerts, nearest its start, else to
 * where another correction's `about` took the same id; else it is kept
 * as unattached. changed NULL: each changed incident is queued in
 * the outbox (for a writer without an engine: aftermath correct).
 *
 * Unless force (a people's event was added), it recomputes only when one
 * of the touched incidents (ids, borrowed; the correlator passes those
 * its flush touched) could change the record: one with corrections or
 * action items, one an unattached event names, or one holding an alert
 * of some correction's `about`. Otherwise it costs a few indexed queries,
 * and nothing when the store has no people's events. Returns 0, or -1
 * with err. */
int corr_people_refresh(store_t *st, const char *const *touched, size_t ntouched, bool force,
                        corr_people_changed_fn changed, void *ctx, char *err, size_t errlen);

#endif
