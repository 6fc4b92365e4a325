/*
 * receive.h - the webhook receiver (docs/webhooks.md): each POST
 * /webhook/<name> of a configured source (run_config_webhooks) becomes one
 * Kafka record of the source's topic, the body unchanged, and the sender
 * is answered 202 only once the broker acknowledged it.
 *
 * What a request must pass, in order, each refusal counted per source and
 * logged with the reason (never with a credential):
 *   404  no source of that name
 *   401  credentials: the source's bearer token or basic auth (either, when
 *        both are set), then its signature (GitHub X-Hub-Signature-256,
 *        PagerDuty X-PagerDuty-Signature: HMAC-SHA256 of the body),
 *        compared in constant time
 *   415  a body that is not JSON (Content-Type), unless binary-mode
 *        CloudEvents headers (ce-*) say what it is
 *   400  a body that the source's format does not decode
 *   503  the broker did not acknowledge in time, or the queue is full:
 *        Retry-After says when to try again; the sender retries, and a
 *        record that was delivered after all is stored once (dedup)
 *   500  the broker refused the record for good (no such topic, too large)
 * The record keeps the headers a decoder needs (content-type; ce-* as the
 * Kafka binding's ce_*; the sender's event and delivery ids) and never a
 * credential; its key is the source's own id where the body or headers
 * carry one (Alertmanager's groupKey, GitHub's delivery, a CloudEvent's
 * id, ...); its timestamp is the time it was received.
 *
 * The HTTP server is run/http.h's; this module sees requests through
 * run_receive_request_t, so it can be tested and fuzzed without a socket,
 * and produces through a callback (ingest_acked_send in the daemon).
 */
#ifndef RUN_RECEIVE_H
#define RUN_RECEIVE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/log.h"
#include "ingest/producer.h"
#include "run/config.h"

typedef struct run_receive run_receive_t;

/* Calls fn for each header of a request (name as received, value). */
typedef void (*run_receive_header_cb)(void *arg, const char *name, const char *value);

/* A request as the receiver needs it. Borrowed for the call. */
typedef struct run_receive_request {
    const char *method;
    const char *path; /* percent-decoded, no query */
    /* The value of a header (case-insensitive), or NULL. */
    const char *(*header)(const void *ctx, const char *name);
    /* Every header, in order. */
    void (*each_header)(const void *ctx, run_receive_header_cb fn, void *arg);
    const void *ctx;
    const char *body;
    size_t len;
    const char *peer; /* the client's address, for the log; may be NULL */
} run_receive_request_t;

/* The answer: status, a one-line message for the body, and Retry-After
 * seconds (0: none) and the WWW-Authenticate challenge (NULL: none). */
typedef struct run_receive_answer {
    unsigned status;
    int retry_after;
    const char *challenge;
    char message[512];
} run_receive_answer_t;

/* Produces one record and waits for the broker: returns an
 * ingest_acked_result_t (INGEST_ACKED_OK, _UNAVAILABLE, _REFUSED) with err
 * set when not OK. */
typedef int (*run_receive_send_fn)(void *opaque, const char *topic, const char *key,
                                   const char *value, size_t len, int64_t ts_ms,
                                   const ingest_header_t *headers, size_t nheaders, char *err,
                                   size_t errlen);

/* A receiver for cfg's sources (cfg borrowed; it must outlive the
 * receiver): reads every credential file now (a missing, empty or
 * unreadable one is an error naming it; one that others may read is
 * logged as a warning). send and opaque are borrowed. Returns NULL with
 * err. */
run_receive_t *run_receive_create(const run_config_t *cfg, run_receive_send_fn send, void *opaque,
                                  const am_log_t *log, char *err, size_t errlen);

/* Handles one request (any thread; requests may run concurrently). */
void run_receive_handle(run_receive_t *r, const run_receive_request_t *req,
                        run_receive_answer_t *answer);

/* Appends the per-source counters to out, in the Prometheus text format
 * (aftermath_webhook_requests_total{source,outcome}); any thread. */
void run_receive_expose(run_receive_t *r, am_buf_t *out);

/* The count of one source's outcome ("accepted", "unauthorized", ...), or
 * 0; for tests. */
uint64_t run_receive_count(run_receive_t *r, const char *source, const char *outcome);

/* Wipes the credentials and frees. Accepts NULL. */
void run_receive_destroy(run_receive_t *r);

#endif
