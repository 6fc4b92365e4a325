/*
 * incidents_table.h - the human-readable incident table shared by
 * `incidents`, `replay`, `rules test` and the demo.
 */
#ifndef CLI_INCIDENTS_TABLE_H
#define CLI_INCIDENTS_TABLE_H

#include <jansson.h>
#include <stdio.h>

#include "store/store.h"

/* Prints one line per incident of arr (as corr_incidents_json makes from
 * st). STATUS is open, mitigated or resolved as of the latest event time
 * in st (report/status.h); durations as am_duration_human() writes them. */
void cli_print_incidents(FILE *out, const json_t *arr, store_t *st);

#endif
