/*
 * keyed.h - the decode stage's output (docs/scaling.md): each decoded
 * event to the keyed topic, on the partition of each (rule, group key) it
 * joins, so that one correlator sees every event of a key.
 *
 *   alert          one record per distinct partition of its pairs
 *                  (corr_route_alert, corr_route_partition); an alert that
 *                  joins no pair goes to the partition of its id's hash
 *                  (stored there, correlated nowhere, as in one instance)
 *   deploy, ack,   one record on EVERY partition: they are linked, not
 *   note           grouped, and each incident lives on one partition only,
 *                  so each partition must see them all (they are few)
 *
 * and every deploy also to the incidents topic as {"schema_version": 1,
 * "deploy": {...}} keyed "deploy:<id>", so that a view counts every deploy
 * for the change failure rate, not only the linked ones.
 *
 * Records carry the event's observed_at as their timestamp and the source
 * record's place in an 'aftermath-source' header. The producer is
 * idempotent; run_rekey_flush() must succeed before the source offsets of
 * the batch may move (a decode stage that dies before then sends the
 * batch again, and the correlators' event-id dedup absorbs the copies).
 */
#ifndef RUN_REKEY_H
#define RUN_REKEY_H

#include <stddef.h>

#include "run/config.h"
#include "common/event.h"
#include "common/log.h"
#include "common/record.h"
#include "correlate/rules.h"

typedef struct run_rekey run_rekey_t;

/* A sender to cfg->keyed_topic (and cfg->incidents_topic) under rules;
 * cfg, rules and log are borrowed and must outlive it. Asks the brokers
 * for the keyed topic's partition count: NULL with err when the topic does
 * not exist or the brokers do not answer within 30 s. */
run_rekey_t *run_rekey_create(const run_config_t *cfg, const corr_rules_t *rules,
                              const am_log_t *log, char *err, size_t errlen);
void run_rekey_destroy(run_rekey_t *k);

/* The keyed topic's partition count. */
int run_rekey_partitions(const run_rekey_t *k);

/* The largest keyed record value sent (the keyed and incidents topics are
 * created with max.message.bytes of 16 MiB, docs/scaling.md). */
#define RUN_REKEY_MAX_VALUE (15 * 1024 * 1024)

/* Queues the events decoded from rec (a run_forward_fn). Returns 0;
 * RUN_FORWARD_REFUSED (err: why) when one of them cannot be written or is
 * larger than RUN_REKEY_MAX_VALUE, nothing of rec being sent; or -1 with
 * err when the producer refused. */
int run_rekey_send(void *k, const am_record_t *rec, const am_event_list_t *events, char *err,
                   size_t errlen);

/* Records queued and not yet known delivered. */
size_t run_rekey_pending(const run_rekey_t *k);

/* Waits for every queued record. Returns 0 when all were delivered, -1
 * with err otherwise (the caller writes the batch again). */
int run_rekey_flush(run_rekey_t *k, char *err, size_t errlen);

/* The header of every keyed record naming the rules digest
 * (corr_rules_digest) decode routed it by. */
#define RUN_REKEY_RULES_HEADER "aftermath-rules"

#endif
