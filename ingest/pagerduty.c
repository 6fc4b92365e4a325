/*
 * pagerduty.c - the three PagerDuty shapes, source "pagerduty":
 *   Events API v2 (POST /v2/enqueue, has "event_action"): trigger -> alert
 *     firing, acknowledge -> ack, resolve -> alert resolved;
 *   Change Events (POST /v2/change/enqueue, "routing_key" and "payload"
 *     without "event_action") -> deploy succeeded;
 *   webhooks v3 ({"event": {"event_type": ...}}): incident.triggered and
 *     .reopened -> alert firing, .resolved -> alert resolved, .acknowledged
 *     -> ack (the agent is the actor), .annotated and
 *     .status_update_published -> note, .reassigned -> note with the
 *     annotation "assignee" (the lead, correlate/engine.c); other event
 *     types carry nothing aftermath uses and decode to no event.
 *
 * Pages of Alertmanager. An incident whose key (v3 incident_key, v2
 * dedup_key) is a SHA-256 in hex was opened by Alertmanager's PagerDuty
 * integration (or Grafana's, a fork): the key is the hash of the
 * notification's group key, and aftermath's own alerts name it (their
 * page, common/event.h). Such an incident is no alert of its own: its
 * triggers, reopens and resolves decode to notes (status triggered,
 * reopened, resolved), timeline lines that neither keep an incident open
 * nor move its times; a resolve notes who resolved (annotation
 * "resolved_by": "person" when the agent is a user, else "service"), since
 * a person's resolve sets the incident's resolved_at. Any other key keeps
 * the alert reading above (PagerDuty incidents of other integrations).
 *
 * PagerDuty's dedup_key (a v3 incident's incident_key, else its id) is the
 * event identity of the alert, of its resolve and of its ack, so that an
 * ack joins the incident of the alert it names; a v3 event that carries
 * both keeps the id as its page, so that notes, which name only the id,
 * follow the key. An acknowledge or resolve
 * carries no labels and no time of its own: the resolve is an alert that
 * starts and ends at that time, matched to its trigger by identity. Where
 * PagerDuty stamps the arrival time itself (payload.timestamp is optional;
 * acknowledge/resolve have none), observed_at stands in, and a raw line
 * without one is refused. The routing_key is a credential: it is never
 * stored. payload.custom_details become annotations (non-strings as compact
 * JSON); the payload's severity, component, group and class become labels
 * of those names, and its source - "the unique location of the affected
 * system" - the label instance, as Prometheus names it (a label "source"
 * would shadow the event's own source).
 */
#include "common/buf.h"
#include "common/hash.h"
#include "ingest/decoders.h"

#include <stdio.h>
#include <string.h>

static int pd_detect(const json_t *root)
{
    if (!json_is_object(root))
        return 0;
    const json_t *event = json_object_get(root, "event");
    return json_is_string(json_object_get(root, "event_action")) ||
           (json_object_get(root, "routing_key") &&
            json_is_object(json_object_get(root, "payload"))) ||
           (json_is_object(event) && json_is_string(json_object_get(event, "event_type")));
}

/* The first links[].href, or NULL. */
static const char *first_link(const json_t *root)
{
    const json_t *link = json_array_get(json_object_get(root, "links"), 0);
    return json_string_value(json_object_get(link, "href"));
}

static int add_details(const json_t *payload, const ingest_ctx_t *ctx, am_event_t *ev, char *err,
                       size_t errlen)
{
    const json_t *details = json_object_get(payload, "custom_details");
    if (!details || json_is_null(details))
        return 0;
    if (!json_is_object(details))
        return ingest_set_json_text(&ev->annotations, "custom_details", details, "payload.",
                                    ctx->limits, err, errlen);
    if (json_object_size(details) > ctx->limits->max_labels) {
        am_errf(err, errlen, "field payload.custom_details: %zu entries, over the limit of %zu",
                json_object_size(details), ctx->limits->max_labels);
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)details, k, v)
    {
        if (ingest_set_json_text(&ev->annotations, k, v, "payload.custom_details.", ctx->limits,
                                 err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* Reads payload's summary (required) and fixed fields into labels. */
static int read_payload(const json_t *payload, const ingest_ctx_t *ctx, am_event_t *ev, char *err,
                        size_t errlen)
{
    static const char *const keys[] = {"severity", "source", "component", "group", "class"};
    static const char *const labels[] = {"severity", "instance", "component", "group", "class"};
    const char *summary;
    if (ingest_get_string(payload, "summary", "payload.", &summary, err, errlen) != 0)
        return -1;
    if (!summary || !*summary) {
        am_errf(err, errlen, "field payload.summary: missing");
        return -1;
    }
    ev->summary = am_xstrdup(summary);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v;
        if (ingest_get_string(payload, keys[i], "payload.", &v, err, errlen) != 0)
            return -1;
        if (i == 0) /* payload.severity is PagerDuty's own field */
            ingest_set_native(&ev->labels, labels[i], &ev->severity, v);
        else
            ingest_set_label(&ev->labels, labels[i], v);
    }
    return add_details(payload, ctx, ev, err, errlen);
}

static int decode_events_v2(const json_t *root, const ingest_ctx_t *ctx, am_event_t *ev, char *err,
                            size_t errlen)
{
    const char *action, *dedup_key, *client_url;
    const json_t *payload;
    if (ingest_get_string(root, "event_action", "", &action, err, errlen) != 0 ||
        ingest_get_string(root, "dedup_key", "", &dedup_key, err, errlen) != 0 ||
        ingest_get_string(root, "client_url", "", &client_url, err, errlen) != 0 ||
        ingest_get_object(root, "payload", "", &payload, err, errlen) != 0)
        return -1;
    int trigger = action && strcmp(action, "trigger") == 0;
    int ack = action && strcmp(action, "acknowledge") == 0;
    if (!trigger && !ack && !(action && strcmp(action, "resolve") == 0)) {
        am_errf(err, errlen, "field event_action: \"%.32s\" is not trigger, acknowledge or resolve",
                action ? action : "");
        return -1;
    }
    if (dedup_key && strlen(dedup_key) > ctx->limits->max_value_bytes) {
        am_errf(err, errlen, "field dedup_key: longer than the limit of %zu bytes",
                ctx->limits->max_value_bytes);
        return -1;
    }
    if (!trigger && (!dedup_key || !*dedup_key)) {
        am_errf(err, errlen, "field dedup_key: missing (it names the alert to %s)", action);
        return -1;
    }
    if (trigger && !payload) {
        am_errf(err, errlen, "field payload: missing (a trigger needs its summary)");
        return -1;
    }
    ev->source = "pagerduty";
    ev->identity = dedup_key && *dedup_key ? am_xstrdup(dedup_key) : NULL;
    if (ingest_get_time_or_observed(payload, "timestamp", "payload.", ctx, &ev->starts_at, err,
                                    errlen) != 0)
        return -1;
    ev->observed_at = ctx->observed_at;
    if (ack) {
        ev->kind = AM_KIND_ACK;
        ev->status = am_xstrdup("acknowledged");
        am_event_apply_label_map(ev, ctx->map);
        ingest_event_default_id(ev);
        return 0;
    }
    if (dedup_key && am_is_sha256_hex(dedup_key)) {
        /* Alertmanager's page: a timeline line, no alert of its own. */
        ev->kind = AM_KIND_NOTE;
        ev->status = am_xstrdup(trigger ? "triggered" : "resolved");
        am_buf_t text = {0};
        if (trigger && read_payload(payload, ctx, ev, err, errlen) != 0)
            return -1;
        am_buf_printf(&text, "PagerDuty incident %s%s%s", trigger ? "triggered" : "resolved",
                      trigger ? ": " : " by the integration", trigger ? ev->summary : "");
        free(ev->summary);
        ev->summary = am_buf_steal(&text);
        if (!trigger)
            ingest_set_label(&ev->annotations, "resolved_by", "service");
        am_event_apply_label_map(ev, ctx->map);
        ingest_event_default_id(ev);
        return 0;
    }
    ev->kind = AM_KIND_ALERT;
    if (!trigger) {
        ev->status = am_xstrdup("resolved");
        ev->ends_at = ev->starts_at;
        ev->name = am_xstrdup(dedup_key);
        ev->summary = am_xstrdup(dedup_key);
    } else {
        if (read_payload(payload, ctx, ev, err, errlen) != 0)
            return -1;
        ev->status = am_xstrdup("firing");
        const char *cls = am_labels_get(&ev->labels, "class");
        ev->name = am_xstrdup(cls ? cls : ev->summary);
        am_labels_set(&ev->labels, "alertname", ev->name);
        const char *link = first_link(root);
        ev->url = am_xstrdup(link && *link ? link : client_url && *client_url ? client_url : NULL);
    }
    ingest_alert_set_id(ev);
    am_event_apply_label_map(ev, ctx->map);
    return 0;
}

static int decode_change(const json_t *root, const ingest_ctx_t *ctx, am_event_t *ev, char *err,
                         size_t errlen)
{
    const json_t *payload = json_object_get(root, "payload");
    ev->kind = AM_KIND_DEPLOY;
    ev->source = "pagerduty";
    ev->status = am_xstrdup("succeeded");
    if (read_payload(payload, ctx, ev, err, errlen) != 0 ||
        ingest_get_time_or_observed(payload, "timestamp", "payload.", ctx, &ev->starts_at, err,
                                    errlen) != 0)
        return -1;
    const char *source = am_labels_get(&ev->labels, "instance");
    ev->name = am_xstrdup(source ? source : ev->summary);
    const char *link = first_link(root);
    ev->url = am_xstrdup(link && *link ? link : NULL);
    ev->observed_at = ctx->observed_at;
    am_event_apply_label_map(ev, ctx->map);
    ingest_event_default_id(ev);
    return 0;
}

/* Fields of a v3 "incident" data object: identity, name, labels, url. */
static int read_incident(const json_t *data, am_event_t *ev, char *err, size_t errlen)
{
    char id[256], key[256];
    const char *title, *urgency, *url;
    if (!data) {
        am_errf(err, errlen, "field event.data: missing");
        return -1;
    }
    if (ingest_get_id(data, "id", "event.data.", id, sizeof id, err, errlen) != 0 ||
        ingest_get_id(data, "incident_key", "event.data.", key, sizeof key, err, errlen) != 0 ||
        ingest_get_string(data, "title", "event.data.", &title, err, errlen) != 0 ||
        ingest_get_string(data, "urgency", "event.data.", &urgency, err, errlen) != 0 ||
        ingest_get_string(data, "html_url", "event.data.", &url, err, errlen) != 0)
        return -1;
    if (!*id && !*key) {
        am_errf(err, errlen, "field event.data.id: missing (names the incident)");
        return -1;
    }
    ev->identity = am_xstrdup(*key ? key : id);
    ev->page = *key && *id ? am_xstrdup(id) : NULL;
    ev->name = am_xstrdup(title && *title ? title : ev->identity);
    ev->summary = am_xstrdup(ev->name);
    ev->url = am_xstrdup(url && *url ? url : NULL);
    const json_t *service = json_object_get(data, "service");
    const json_t *priority = json_object_get(data, "priority");
    ingest_set_native(&ev->labels, "service", &ev->service,
                      json_string_value(json_object_get(service, "summary")));
    ingest_set_label(&ev->labels, "priority",
                     json_string_value(json_object_get(priority, "summary")));
    ingest_set_label(&ev->labels, "urgency", urgency);
    if (ev->kind == AM_KIND_ALERT)
        am_labels_set(&ev->labels, "alertname", ev->name);
    return 0;
}

/* The names of the incident's assignees (v3 "assignees", else the REST
 * shape's "assignments[].assignee"), joined by ", ", or NULL. */
static char *assignees_of(const json_t *data)
{
    am_buf_t b = {0};
    const json_t *list = json_object_get(data, "assignees");
    bool rest = !json_is_array(list);
    if (rest)
        list = json_object_get(data, "assignments");
    size_t i;
    const json_t *a;
    json_array_foreach(list, i, a)
    {
        const char *name = json_string_value(
            json_object_get(rest ? json_object_get(a, "assignee") : a, "summary"));
        if (name && *name)
            am_buf_printf(&b, "%s%s", b.len ? ", " : "", name);
    }
    return b.len ? am_buf_steal(&b) : (am_buf_free(&b), NULL);
}

static int decode_webhook_v3(const json_t *root, const ingest_ctx_t *ctx, am_event_list_t *out,
                             char *err, size_t errlen)
{
    const json_t *event = json_object_get(root, "event"), *data, *agent;
    const char *type = json_string_value(json_object_get(event, "event_type"));
    char event_id[256];
    if (ingest_get_object(event, "data", "event.", &data, err, errlen) != 0 ||
        ingest_get_object(event, "agent", "event.", &agent, err, errlen) != 0 ||
        ingest_get_id(event, "id", "event.", event_id, sizeof event_id, err, errlen) != 0)
        return -1;
    am_kind_t kind;
    const char *status = NULL;
    if (strcmp(type, "incident.triggered") == 0 || strcmp(type, "incident.reopened") == 0)
        kind = AM_KIND_ALERT, status = "firing";
    else if (strcmp(type, "incident.resolved") == 0)
        kind = AM_KIND_ALERT, status = "resolved";
    else if (strcmp(type, "incident.acknowledged") == 0)
        kind = AM_KIND_ACK, status = "acknowledged";
    else if (strcmp(type, "incident.annotated") == 0 ||
             strcmp(type, "incident.status_update_published") == 0)
        kind = AM_KIND_NOTE;
    else if (strcmp(type, "incident.reassigned") == 0)
        kind = AM_KIND_NOTE, status = "reassigned";
    else
        return 0; /* priority changes, escalations, services...: nothing to keep */

    int64_t occurred;
    if (ingest_get_time(event, "occurred_at", "event.", &occurred, err, errlen) != 0)
        return -1;
    if (occurred == AM_TIME_NONE) {
        am_errf(err, errlen, "field event.occurred_at: missing");
        return -1;
    }
    am_event_t *ev = am_event_list_push(out);
    ev->kind = kind;
    ev->source = "pagerduty";
    ev->status = am_xstrdup(status);
    ev->starts_at = occurred;
    ev->observed_at = ctx->observed_at;
    const char *actor = json_string_value(json_object_get(agent, "summary"));
    ev->actor = am_xstrdup(actor && *actor ? actor : NULL);
    /* Alertmanager's page: its trigger, reopen and resolve are lines. */
    const char *key = json_string_value(json_object_get(data, "incident_key"));
    if (kind == AM_KIND_ALERT && am_is_sha256_hex(key)) {
        kind = ev->kind = AM_KIND_NOTE;
        free(ev->status);
        ev->status = am_xstrdup(strcmp(type, "incident.triggered") == 0  ? "triggered"
                                : strcmp(type, "incident.reopened") == 0 ? "reopened"
                                                                         : "resolved");
    }
    if (kind == AM_KIND_NOTE && status) {
        if (read_incident(data, ev, err, errlen) != 0)
            return -1;
        am_buf_t text = {0};
        const char *agent_type = json_string_value(json_object_get(agent, "type"));
        bool person = agent_type && strcmp(agent_type, "user_reference") == 0;
        if (strcmp(ev->status, "reassigned") == 0) {
            char *to = assignees_of(data);
            ingest_set_label(&ev->annotations, "assignee", to);
            am_buf_printf(&text, "PagerDuty incident reassigned to %s", to ? to : "nobody");
            free(to);
        } else if (strcmp(ev->status, "resolved") == 0) {
            ingest_set_label(&ev->annotations, "resolved_by", person ? "person" : "service");
            am_buf_printf(&text, "PagerDuty incident resolved%s",
                          person ? "" : " by the integration");
        } else {
            am_buf_printf(&text, "PagerDuty incident %s: %s", ev->status, ev->name);
        }
        free(ev->summary);
        ev->summary = am_buf_steal(&text);
    } else if (kind == AM_KIND_NOTE) {
        const json_t *incident = json_object_get(data, "incident");
        const char *text = json_string_value(json_object_get(data, "content"));
        if (!text)
            text = json_string_value(json_object_get(data, "message"));
        const char *inc = json_string_value(json_object_get(incident, "id"));
        ev->identity = am_xstrdup(inc && *inc ? inc : NULL);
        ev->summary = am_xstrdup(text && *text ? text : NULL);
    } else if (read_incident(data, ev, err, errlen) != 0) {
        return -1;
    }
    if (kind == AM_KIND_ALERT) {
        if (strcmp(type, "incident.resolved") == 0) {
            ev->ends_at = occurred;
            if (ingest_get_time(data, "created_at", "event.data.", &ev->starts_at, err, errlen) !=
                0)
                return -1;
            if (ev->starts_at == AM_TIME_NONE || ev->starts_at > occurred)
                ev->starts_at = occurred;
        } else if (strcmp(type, "incident.triggered") == 0) {
            if (ingest_get_time(data, "created_at", "event.data.", &ev->starts_at, err, errlen) !=
                0)
                return -1;
            if (ev->starts_at == AM_TIME_NONE)
                ev->starts_at = occurred;
        }
        ingest_alert_set_id(ev);
    } else if (*event_id) {
        const char *parts[] = {"v3", event_id, type};
        ingest_event_id_from(ev, parts, 3);
    }
    am_event_apply_label_map(ev, ctx->map);
    ingest_event_default_id(ev);
    return 0;
}

static int pd_decode(const json_t *root, const ingest_ctx_t *ctx, am_event_list_t *out, char *err,
                     size_t errlen)
{
    if (!json_is_object(root)) {
        am_errf(err, errlen, "expected a JSON object");
        return -1;
    }
    const json_t *event = json_object_get(root, "event");
    if (json_is_object(event) && json_is_string(json_object_get(event, "event_type")))
        return decode_webhook_v3(root, ctx, out, err, errlen);
    if (json_object_get(root, "event_action"))
        return decode_events_v2(root, ctx, am_event_list_push(out), err, errlen);
    const json_t *payload = json_object_get(root, "payload");
    if (!json_is_object(payload)) {
        am_errf(err, errlen,
                "field payload: missing or not an object (neither an event with "
                "event_action nor a change event)");
        return -1;
    }
    return decode_change(root, ctx, am_event_list_push(out), err, errlen);
}

const ingest_format_t ingest_format_pagerduty = {
    .name = "pagerduty",
    .detect = pd_detect,
    .decode = pd_decode,
};
