/*
 * amevents.c - Alertmanager's event recorder (0.35+, --enable-feature=
 * event-recorder), events/v2 JSON as its Kafka output writes it: one
 * record per event, value = protojson of events.v2.Event (lowerCamelCase
 * names, enums as their names, uint64 as decimal strings, RFC 3339 times),
 * key = the Alertmanager instance name. Schema: Alertmanager's
 * proto/eventrecorder/events/v2/events.proto.
 *
 * It holds what webhooks lack, so each event type maps as follows:
 * - notification: one alert event per listed alert with details (firing,
 *   or resolved at its endsAt), observed at the record's time - the
 *   notification went out then, which is what detection means; without a
 *   record time (a raw line), at the event's "@timestamp" - with the
 *   receiver, integration and reason as annotations, and the group's
 *   page: groupInfo.groupId, which is the group key's SHA-256 (else the
 *   SHA-256 of groupInfo.groupKey), the dedup_key of the PagerDuty
 *   incident the notification opened when its integration is PagerDuty;
 * - alertResolved: the alert resolved at its exact endsAt (silenced and
 *   inhibited alerts included, which webhooks never send resolved);
 *   alertCreated and alertGrouped: the alert's episode (firing, or
 *   resolved when the snapshot says so). None of these three is a
 *   notification, so none carries an observed_at: they do not count as
 *   detection, and a firing one does not refresh the episode's staleness;
 * - silenceCreated, silenceUpdated: a note (who, why, which matchers,
 *   until when) with the equality matchers as labels, so that it joins the
 *   incident whose group key they carry; silenceMutedAlert: a note with
 *   the muted alert's labels, which joins that alert's incident. A note
 *   with the annotation silence_id is the acknowledgement where a rule
 *   says `silences: acknowledge`;
 * - startup, shutdown and inhibitionMutedAlert: no event (valid records
 *   that hold nothing aftermath uses).
 * Alert identities are computed from the labels as for the webhook (never
 * the payload's fingerprint), so the same alert from both has one identity.
 * The recorder's protobuf output format and other schemas (proto field
 * names, events/v1) are refused with a reason that says so.
 */
#include "common/buf.h"
#include "common/hash.h"
#include "ingest/decoders.h"

#include <stdio.h>
#include <string.h>

/* Recognised by the envelope: "@timestamp" (v2's JSON name) or a bare
 * "timestamp" (proto field names, older schemas: refused by decode with a
 * reason), and an object "data". */
static int amev_detect(const json_t *root)
{
    return json_is_object(root) && json_is_object(json_object_get(root, "data")) &&
           (json_object_get(root, "@timestamp") || json_object_get(root, "timestamp"));
}

/* One alert snapshot (events.v2.Alert) as an alert event; observed is its
 * observed_at (AM_TIME_NONE when it is no notification). */
static int read_alert(const json_t *alert, const char *field, int64_t observed,
                      const ingest_ctx_t *ctx, am_event_list_t *out, char *err, size_t errlen)
{
    am_event_t *ev = am_event_list_push(out);
    if (ingest_alert_read(alert, field, "alertmanager", ctx, ev, err, errlen) != 0)
        return -1;
    if (ev->starts_at == AM_TIME_NONE) {
        am_errf(err, errlen, "field %sstartsAt: missing or unset", field);
        return -1;
    }
    const json_t *resolved = json_object_get(alert, "resolved");
    if (resolved && !json_is_boolean(resolved)) {
        am_errf(err, errlen, "field %sresolved: expected true or false", field);
        return -1;
    }
    if (json_is_true(resolved)) {
        if (ingest_get_time(alert, "endsAt", field, &ev->ends_at, err, errlen) != 0)
            return -1;
        if (ev->ends_at == AM_TIME_NONE) {
            am_errf(err, errlen, "field %sendsAt: missing on a resolved alert", field);
            return -1;
        }
    }
    ev->status = am_xstrdup(json_is_true(resolved) ? "resolved" : "firing");
    ingest_alert_finish(ev, ctx);
    ev->observed_at = observed;
    return 0;
}

/* A GroupedAlert's details (absent in fingerprint-only references). */
static int grouped_details(const json_t *grouped, const char *field, const json_t **details,
                           char *err, size_t errlen)
{
    if (!json_is_object(grouped)) {
        am_errf(err, errlen, "field %s: expected an object", field);
        return -1;
    }
    char sub[112];
    snprintf(sub, sizeof sub, "%s.", field);
    return ingest_get_object(grouped, "details", sub, details, err, errlen);
}

static const char *const reasons[][2] = {
    {"NOTIFY_REASON_FIRST_NOTIFICATION", "first notification"},
    {"NOTIFY_REASON_NEW_ALERTS_IN_GROUP", "new alerts in group"},
    {"NOTIFY_REASON_NEW_RESOLVED_ALERTS", "new resolved alerts"},
    {"NOTIFY_REASON_ALL_ALERTS_RESOLVED", "all alerts resolved"},
    {"NOTIFY_REASON_REPEAT_INTERVAL_ELAPSED", "repeat interval elapsed"},
};

static int decode_notification(const json_t *n, int64_t at, const ingest_ctx_t *ctx,
                               am_event_list_t *out, char *err, size_t errlen)
{
    const json_t *alerts = json_object_get(n, "alerts");
    if (alerts && !json_is_array(alerts)) {
        am_errf(err, errlen, "field data.notification.alerts: expected an array");
        return -1;
    }
    if (json_array_size(alerts) > ctx->limits->max_events) {
        am_errf(err, errlen, "field data.notification.alerts: %zu alerts, over the limit of %zu",
                json_array_size(alerts), ctx->limits->max_events);
        return -1;
    }
    const json_t *group = NULL, *integ = NULL;
    const char *receiver = NULL, *integration = NULL, *reason = NULL;
    if (ingest_get_object(n, "groupInfo", "data.notification.", &group, err, errlen) != 0 ||
        ingest_get_object(n, "integration", "data.notification.", &integ, err, errlen) != 0 ||
        ingest_get_string(n, "reason", "data.notification.", &reason, err, errlen) != 0 ||
        (group && ingest_get_string(group, "receiverName", "data.notification.groupInfo.",
                                    &receiver, err, errlen) != 0) ||
        (integ && ingest_get_string(integ, "name", "data.notification.integration.", &integration,
                                    err, errlen) != 0))
        return -1;
    for (size_t i = 0; reason && i < sizeof reasons / sizeof reasons[0]; i++)
        if (strcmp(reason, reasons[i][0]) == 0)
            reason = reasons[i][1];
    const char *group_id = json_string_value(json_object_get(group, "groupId"));
    const json_t *group_key = json_object_get(group, "groupKey");
    char page[AM_SHA256_HEXLEN + 1] = "";
    if (am_is_sha256_hex(group_id))
        snprintf(page, sizeof page, "%s", group_id);
    else if (json_is_string(group_key) && json_string_length(group_key) > 0)
        am_sha256_hex(json_string_value(group_key), json_string_length(group_key), page);
    size_t i;
    const json_t *g;
    json_array_foreach(alerts, i, g)
    {
        char field[64], sub[80];
        snprintf(field, sizeof field, "data.notification.alerts[%zu]", i);
        const json_t *details;
        if (grouped_details(g, field, &details, err, errlen) != 0)
            return -1;
        if (!details)
            continue; /* a fingerprint alone: nothing to read */
        snprintf(sub, sizeof sub, "%s.details.", field);
        if (read_alert(details, sub, at, ctx, out, err, errlen) != 0)
            return -1;
        am_event_t *ev = &out->v[out->n - 1];
        ingest_set_label(&ev->annotations, "notification_receiver", receiver);
        ingest_set_label(&ev->annotations, "notification_integration", integration);
        ingest_set_label(&ev->annotations, "notification_reason", reason);
        ev->page = *page ? am_xstrdup(page) : NULL;
    }
    return 0;
}

/* A silence (events.v2.Silence) as a note; labels: the muted alert's
 * (muted, borrowed) or else the silence's equality matchers. */
static int decode_silence(const json_t *sil, const char *field, const char *what,
                          const json_t *muted, const ingest_ctx_t *ctx, am_event_list_t *out,
                          char *err, size_t errlen)
{
    char sub[112];
    snprintf(sub, sizeof sub, "%s.", field);
    if (!json_is_object(sil)) {
        am_errf(err, errlen, "field %s: missing or not an object", field);
        return -1;
    }
    const char *id, *by, *comment, *upd;
    int64_t starts, ends, updated;
    if (ingest_get_string(sil, "id", sub, &id, err, errlen) != 0 ||
        ingest_get_string(sil, "createdBy", sub, &by, err, errlen) != 0 ||
        ingest_get_string(sil, "comment", sub, &comment, err, errlen) != 0 ||
        ingest_get_string(sil, "updatedAt", sub, &upd, err, errlen) != 0 ||
        ingest_get_time(sil, "startsAt", sub, &starts, err, errlen) != 0 ||
        ingest_get_time(sil, "endsAt", sub, &ends, err, errlen) != 0 ||
        ingest_get_time(sil, "updatedAt", sub, &updated, err, errlen) != 0)
        return -1;
    if (!id || !*id) {
        am_errf(err, errlen, "field %sid: missing (a silence has one)", sub);
        return -1;
    }
    const json_t *matchers = json_object_get(sil, "matchers");
    if (matchers && !json_is_array(matchers)) {
        am_errf(err, errlen, "field %smatchers: expected an array", sub);
        return -1;
    }
    am_event_t *ev = am_event_list_push(out);
    ev->kind = AM_KIND_NOTE;
    ev->source = "alertmanager";
    am_buf_t rendered = {0};
    size_t i;
    const json_t *m;
    json_array_foreach(matchers, i, m)
    {
        const char *type = json_string_value(json_object_get(m, "type"));
        const char *name = json_string_value(json_object_get(m, "name"));
        const char *pattern = json_string_value(json_object_get(m, "pattern"));
        const char *text = json_string_value(json_object_get(m, "rendered"));
        if (!name || !pattern) {
            am_buf_free(&rendered);
            am_errf(err, errlen, "field %smatchers[%zu]: name and pattern are required strings",
                    sub, i);
            return -1;
        }
        if (!muted && type && strcmp(type, "TYPE_EQUAL") == 0)
            am_labels_set(&ev->labels, name, pattern);
        am_buf_printf(&rendered, "%s%s", i ? ", " : "", text ? text : name);
        if (!text)
            am_buf_printf(&rendered, "~%s", pattern);
    }
    if (muted && ingest_get_labels(muted, "labels", "data.silenceMutedAlert.mutedAlert.",
                                   ctx->limits, &ev->labels, err, errlen) != 0) {
        am_buf_free(&rendered);
        return -1;
    }
    char until[AM_TIME_STRLEN] = "";
    if (ends != AM_TIME_NONE)
        am_time_format(ends, until);
    am_buf_t sum = {0};
    am_buf_printf(&sum, "Silence %s: %s%s%s", what, rendered.p ? rendered.p : "(no matchers)",
                  *until ? " until " : "", until);
    if (comment && *comment)
        am_buf_printf(&sum, " (%s)", comment);
    ev->summary = am_buf_steal(&sum);
    ingest_set_label(&ev->annotations, "silence_id", id);
    ingest_set_label(&ev->annotations, "silence_matchers", rendered.p);
    ingest_set_label(&ev->annotations, "silence_comment", comment);
    ingest_set_label(&ev->annotations, "silence_ends_at", *until ? until : NULL);
    am_buf_free(&rendered);
    ev->actor = by && *by ? am_xstrdup(by) : NULL;
    /* Created: when it starts; updated: when it was changed; muting: when
     * it starts (the same for every re-evaluation, so one note). */
    ev->starts_at = strcmp(what, "updated") == 0 && updated != AM_TIME_NONE ? updated : starts;
    if (ev->starts_at == AM_TIME_NONE) {
        am_errf(err, errlen, "field %sstartsAt: missing (a silence has one)", sub);
        return -1;
    }
    ev->observed_at = ctx->observed_at;
    char fp[24] = "";
    if (muted)
        snprintf(fp, sizeof fp, "%016llx", (unsigned long long)am_labels_fingerprint(&ev->labels));
    const char *parts[] = {"silence", what, id, strcmp(what, "updated") == 0 ? upd : NULL, fp};
    ingest_event_id_from(ev, parts, sizeof parts / sizeof parts[0]);
    am_event_apply_label_map(ev, ctx->map);
    return 0;
}

static const char *const known_types =
    "alertmanagerStartupEvent, alertmanagerShutdownEvent, alertCreated, alertResolved, "
    "alertGrouped, notification, silenceCreated, silenceUpdated, silenceMutedAlert, "
    "inhibitionMutedAlert";

static int amev_decode(const json_t *root, const ingest_ctx_t *ctx, am_event_list_t *out, char *err,
                       size_t errlen)
{
    if (!json_object_get(root, "@timestamp")) {
        am_errf(err, errlen,
                "field @timestamp: missing: not events/v2 JSON (Alertmanager 0.35+ protojson; "
                "proto field names and older event recorder schemas are not read)");
        return -1;
    }
    int64_t at;
    if (ingest_get_time(root, "@timestamp", "", &at, err, errlen) != 0)
        return -1;
    if (at == AM_TIME_NONE) {
        am_errf(err, errlen, "field @timestamp: unset");
        return -1;
    }
    const json_t *data = json_object_get(root, "data");
    if (json_object_size(data) != 1) {
        am_errf(err, errlen, "field data: expected exactly one event (one of %s)", known_types);
        return -1;
    }
    const char *type = json_object_iter_key(json_object_iter((json_t *)data));
    const json_t *body = json_object_iter_value(json_object_iter((json_t *)data));
    if (!json_is_object(body)) {
        am_errf(err, errlen, "field data.%s: expected an object", type);
        return -1;
    }
    char field[96];
    snprintf(field, sizeof field, "data.%.40s.alert", type);
    if (strcmp(type, "alertCreated") == 0) {
        char sub[112];
        snprintf(sub, sizeof sub, "%s.", field);
        const json_t *alert = json_object_get(body, "alert");
        if (!json_is_object(alert)) {
            am_errf(err, errlen, "field %s: missing or not an object", field);
            return -1;
        }
        return read_alert(alert, sub, AM_TIME_NONE, ctx, out, err, errlen);
    }
    if (strcmp(type, "alertResolved") == 0 || strcmp(type, "alertGrouped") == 0) {
        const json_t *details;
        if (grouped_details(json_object_get(body, "alert"), field, &details, err, errlen) != 0)
            return -1;
        if (!details)
            return 0;
        char sub[112];
        snprintf(sub, sizeof sub, "%s.details.", field);
        if (read_alert(details, sub, AM_TIME_NONE, ctx, out, err, errlen) != 0)
            return -1;
        if (strcmp(type, "alertResolved") == 0 &&
            strcmp(out->v[out->n - 1].status, "resolved") != 0) {
            am_errf(err, errlen, "field %sresolved: an alertResolved alert is not resolved", sub);
            return -1;
        }
        return 0;
    }
    if (strcmp(type, "notification") == 0)
        return decode_notification(body, ctx->observed_at != AM_TIME_NONE ? ctx->observed_at : at,
                                   ctx, out, err, errlen);
    if (strcmp(type, "silenceCreated") == 0 || strcmp(type, "silenceUpdated") == 0) {
        snprintf(field, sizeof field, "data.%s.silence", type);
        return decode_silence(json_object_get(body, "silence"), field,
                              strcmp(type, "silenceCreated") == 0 ? "created" : "updated", NULL,
                              ctx, out, err, errlen);
    }
    if (strcmp(type, "silenceMutedAlert") == 0) {
        const json_t *muted = json_object_get(body, "mutedAlert");
        if (!json_is_object(muted)) {
            am_errf(err, errlen,
                    "field data.silenceMutedAlert.mutedAlert: missing or not an object");
            return -1;
        }
        return decode_silence(json_object_get(body, "silence"), "data.silenceMutedAlert.silence",
                              "muting", muted, ctx, out, err, errlen);
    }
    if (strcmp(type, "alertmanagerStartupEvent") == 0 ||
        strcmp(type, "alertmanagerShutdownEvent") == 0 || strcmp(type, "inhibitionMutedAlert") == 0)
        return 0;
    if (strchr(type, '_'))
        am_errf(err, errlen,
                "field data.%.64s: a proto field name: aftermath reads events/v2 protojson "
                "(lowerCamelCase names, e.g. alertCreated)",
                type);
    else
        am_errf(err, errlen, "field data.%.64s: not an events/v2 event type (known: %s)", type,
                known_types);
    return -1;
}

const ingest_format_t ingest_format_amevents = {
    .name = "alertmanager-events",
    .detect = amev_detect,
    .decode = amev_decode,
};
