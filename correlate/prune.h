/*
 * prune.h - retention: dropping old detail from a database while keeping
 * every incident's summary (its times, services, suspects, counts), so
 * that metrics history and the incident list stay whole.
 */
#ifndef CORR_PRUNE_H
#define CORR_PRUNE_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

typedef struct corr_prune_stats {
    int64_t incidents_frozen; /* incidents resolved before the horizon (kept, detail dropped) */
    int64_t links;            /* incident_events rows deleted */
    int64_t events;           /* events deleted */
    int64_t records;          /* raw records deleted */
    int64_t rejected;         /* rejected records deleted */
} corr_prune_stats_t;

/* Drops, in one transaction: the links of incidents resolved before
 * horizon (ms UTC) to their alerts, acks and notes (deploy links stay); events other than deploys
 * whose latest time (start, end, observation) is before horizon and that no remaining incident
 * links; the raw records no
 * remaining event came from, when received before horizon or without a
 * Kafka timestamp; rejected records refused before horizon. Incident rows,
 * aliases and alert episodes stay. The horizon is kept (it only moves
 * forward): from then on the correlator freezes incidents resolved before
 * it (nothing chains with them, their links are not rebuilt, recorrelate
 * keeps them) and stores but does not correlate events older than it.
 * With dry_run the counts are computed and everything is rolled back.
 * Returns 0, or -1 with err. */
int corr_prune(store_t *st, int64_t horizon, bool dry_run, corr_prune_stats_t *stats, char *err,
               size_t errlen);

#endif
