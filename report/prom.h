/*
 * prom.h - the incident duration histograms in the Prometheus text
 * exposition format (version 0.0.4), for the metrics endpoint of
 * `aftermath run` to serve.
 *
 * Families (base unit seconds, Prometheus naming conventions):
 *   aftermath_incident_time_to_detect_seconds       histogram
 *   aftermath_incident_time_to_acknowledge_seconds  histogram
 *   aftermath_incident_time_to_mitigate_seconds     histogram
 *   aftermath_incident_time_to_resolve_seconds      histogram
 *   aftermath_incident_durations_skipped_total      counter
 * with labels service and rule (and duration, reason on the counter).
 * Each resolved incident is observed once, for each of its services; a
 * missing or negative duration is not observed but counted as skipped.
 * The histograms live in a report_prom_t, fed from the store incident by
 * incident, so a daemon can keep them across scrapes and only add the
 * incidents that resolve.
 */
#ifndef REPORT_PROM_H
#define REPORT_PROM_H

#include <stddef.h>

#include "common/buf.h"
#include "store/store.h"

/* Upper bounds (seconds) of the histogram buckets, +Inf excluded. */
#define REPORT_PROM_BUCKETS 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400, 259200

typedef struct report_prom report_prom_t;

/* Empty histograms. Never NULL; free with report_prom_destroy (accepts
 * NULL). */
report_prom_t *report_prom_create(void);
void report_prom_destroy(report_prom_t *p);

/* Observes every resolved incident of st that p has not observed yet
 * (reads the whole incidents table: call it at start). Returns 0, or -1
 * with the SQLite error in err. */
int report_prom_load(report_prom_t *p, store_t *st, char *err, size_t errlen);

/* Observes incident id (borrowed) if st holds it as resolved and p has not
 * observed it yet: once per incident, whatever happens to it later.
 * Returns 1 when observed, 0 when not (open, unknown, seen), -1 with err
 * on a database error. */
int report_prom_observe_id(report_prom_t *p, store_t *st, const char *id, char *err, size_t errlen);

/* Appends the exposition of p's histograms to out (series sorted by
 * service then rule; HELP and TYPE once per family, even when empty). */
void report_prom_write(const report_prom_t *p, am_buf_t *out);

/* Appends v as a label value, escaped as the exposition format requires
 * (backslash, double quote, newline). */
void report_prom_label_value(am_buf_t *out, const char *v);

/* Appends the exposition of every resolved incident of st to out (series
 * sorted by service then rule; HELP and TYPE once per family). Reads the
 * whole incidents table: call it per scrape, not per event. Returns 0, or
 * -1 with the SQLite error in err (out may then hold a partial text: the
 * caller discards it). */
int report_prom_render(store_t *st, am_buf_t *out, char *err, size_t errlen);

#endif
