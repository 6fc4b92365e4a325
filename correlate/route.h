/*
 * route.h - which incidents an event can join, as routing data: the
 * (rule, group key) pairs of an alert and the keyed-topic partition of a
 * pair. The correlator groups by exactly these pairs, and the decode stage
 * of the staged topology (docs/scaling.md) sends each alert to the
 * partition of each of its pairs, so that every event of one pair meets
 * in one correlator.
 */
#ifndef CORR_ROUTE_H
#define CORR_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/event.h"
#include "correlate/rules.h"

/* Called for each pair: the rule's index and name, and the group key
 * (canonical JSON), borrowed for the call. A non-zero return stops the
 * walk and is returned by corr_route_alert. */
typedef int (*corr_route_fn)(void *arg, size_t rule, const char *name, const char *gkey);

/* Walks the (rule index, group key) pairs alert ev joins, in rule order:
 * each matching rule until one without `continue`. An alert without a
 * start time or an identity joins none. Returns 0 or fn's non-zero. */
int corr_route_alert(const corr_rules_t *rules, const am_event_t *ev, corr_route_fn fn, void *arg);

/* The partition of a pair among nparts (> 0): a 64-bit hash of
 * rule 0x1f gkey (FNV-1a, then a final mix so that every bit counts),
 * modulo nparts. Stable across versions: the keyed topic depends on it. */
int32_t corr_route_partition(const char *rule, const char *gkey, int32_t nparts);

/* The same hash over any bytes (e.g. an event id), for records that
 * belong to no pair. */
uint64_t corr_route_hash(const void *data, size_t len);

#endif
