/*
 * people.c - the generic format's people's record: kinds "correction" and
 * "action" (DESIGN.md "People's corrections and follow-ups"), decoded for
 * generic.c.
 *
 * Unlike the other kinds, these are parsed strictly: a member the contract
 * does not name, a time that does not parse or a value of the wrong type
 * is refused with the field named, because a person's correction that
 * silently lost a field would be worse than one refused (the rejected
 * table keeps it with the reason). The checked object is written back,
 * times made canonical (RFC 3339 UTC, milliseconds) and `commander` made
 * `lead`, as compact JSON with sorted keys into the annotation
 * AM_ANNOTATION_BODY, so that the store, the event JSON and the keyed
 * topic carry it unchanged; correlate/people.c reads it back. The id
 * hashes that body with the incident, time and actor: the same correction
 * sent twice is stored once.
 */
#include "common/buf.h"
#include "ingest/decoders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_one_of(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

static int only_members(const json_t *obj, const char *field, const char *const *allowed, char *err,
                        size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (!is_one_of(key, allowed)) {
            am_errf(err, errlen, "field %s%.64s: not a member of a%s", field, key,
                    *field ? "n object here" : " correction or action (docs/formats.md)");
            return -1;
        }
    }
    return 0;
}

/* A required non-empty string member. */
static int need_string(const json_t *obj, const char *key, const char *field, const char **out,
                       char *err, size_t errlen)
{
    if (ingest_get_string(obj, key, field, out, err, errlen) != 0)
        return -1;
    if (!*out || !**out) {
        am_errf(err, errlen, "field %s%s: missing", field, key);
        return -1;
    }
    return 0;
}

/* A time member rewritten canonical in out (null kept); absent: nothing. */
static int copy_time(const json_t *in, json_t *out, const char *key, const char *field, char *err,
                     size_t errlen)
{
    json_t *v = json_object_get(in, key);
    if (!v)
        return 0;
    if (json_is_null(v)) {
        json_object_set_new(out, key, json_null());
        return 0;
    }
    int64_t ms;
    if (ingest_get_time(in, key, field, &ms, err, errlen) != 0)
        return -1;
    char why[96];
    if (ms == AM_TIME_NONE) {
        am_errf(err, errlen, "field %s%s: not a time", field, key);
        return -1;
    }
    if (am_time_plausible(ms, AM_TIME_NONE, why, sizeof why) != 0) {
        am_errf(err, errlen, "field %s%s: implausible (%s)", field, key, why);
        return -1;
    }
    char buf[AM_TIME_STRLEN];
    json_object_set_new(out, key, json_string(am_time_format(ms, buf)));
    return 0;
}

/* A string (or null) member copied to out; absent: nothing. */
static int copy_string(const json_t *in, json_t *out, const char *key, const char *field,
                       int allow_null, char *err, size_t errlen)
{
    json_t *v = json_object_get(in, key);
    if (!v)
        return 0;
    if ((json_is_null(v) && allow_null) || (json_is_string(v) && json_string_length(v) > 0)) {
        json_object_set(out, key, v);
        return 0;
    }
    am_errf(err, errlen, "field %s%s: %s", field, key,
            json_is_string(v) ? "empty"
            : allow_null      ? "not a string or null"
                              : "not a string");
    return -1;
}

static const char *const time_fields[] = {"started_at",   "detected_at", "acknowledged_at",
                                          "mitigated_at", "resolved_at", NULL};

static int check_set(const json_t *set, json_t *out, char *err, size_t errlen)
{
    static const char *const allowed[] = {"title",       "severity",        "lead",
                                          "commander",   "roles",           "started_at",
                                          "detected_at", "acknowledged_at", "mitigated_at",
                                          "resolved_at", "users_impacted",  NULL};
    if (!json_is_object(set) || json_object_size(set) == 0) {
        am_errf(err, errlen, "field set: not an object naming at least one field");
        return -1;
    }
    if (only_members(set, "set.", allowed, err, errlen) != 0)
        return -1;
    if (json_object_get(set, "lead") && json_object_get(set, "commander")) {
        am_errf(err, errlen, "field set.commander: an alias of set.lead, which is also given");
        return -1;
    }
    json_t *o = json_object();
    if (copy_string(set, o, "title", "set.", 1, err, errlen) != 0 ||
        copy_string(set, o, "severity", "set.", 1, err, errlen) != 0 ||
        copy_string(set, o, "lead", "set.", 1, err, errlen) != 0)
        goto fail;
    json_t *commander = json_object_get(set, "commander");
    if (commander) {
        if (!json_is_null(commander) &&
            !(json_is_string(commander) && json_string_length(commander) > 0)) {
            am_errf(err, errlen, "field set.commander: not a string or null");
            goto fail;
        }
        json_object_set(o, "lead", commander);
    }
    for (const char *const *t = time_fields; *t; t++)
        if (copy_time(set, o, *t, "set.", err, errlen) != 0)
            goto fail;
    json_t *users = json_object_get(set, "users_impacted");
    if (users) {
        if (!json_is_null(users) && !(json_is_integer(users) && json_integer_value(users) >= 0)) {
            am_errf(err, errlen, "field set.users_impacted: not a count (integer >= 0) or null");
            goto fail;
        }
        json_object_set(o, "users_impacted", users);
    }
    json_t *roles = json_object_get(set, "roles");
    if (roles) {
        if (!json_is_object(roles) || json_object_size(roles) == 0) {
            am_errf(err, errlen, "field set.roles: not an object of role: person");
            goto fail;
        }
        json_t *r = json_object();
        json_object_set_new(o, "roles", r);
        const char *role;
        json_t *who;
        json_object_foreach(roles, role, who)
        {
            if (!*role || strcmp(role, "commander") == 0 || strcmp(role, "lead") == 0) {
                am_errf(err, errlen, "field set.roles.%.64s: %s", role,
                        *role ? "the lead is set as set.lead" : "an empty role name");
                goto fail;
            }
            if (copy_string(roles, r, role, "set.roles.", 1, err, errlen) != 0)
                goto fail;
        }
    }
    json_object_set_new(out, "set", o);
    return 0;
fail:
    json_decref(o);
    return -1;
}

static int check_suspect(const json_t *suspect, json_t *out, char *err, size_t errlen)
{
    static const char *const allowed[] = {"deploy", "verdict", NULL};
    static const char *const verdicts[] = {"confirmed", "rejected", NULL};
    const char *deploy, *verdict;
    if (!json_is_object(suspect)) {
        am_errf(err, errlen, "field suspect: not an object {deploy, verdict}");
        return -1;
    }
    if (only_members(suspect, "suspect.", allowed, err, errlen) != 0 ||
        need_string(suspect, "deploy", "suspect.", &deploy, err, errlen) != 0 ||
        ingest_get_string(suspect, "verdict", "suspect.", &verdict, err, errlen) != 0)
        return -1;
    const char *at = strrchr(deploy, '@');
    if (!at || at == deploy || !at[1]) {
        am_errf(err, errlen, "field suspect.deploy: \"%.64s\" is not NAME@VERSION", deploy);
        return -1;
    }
    if (!json_object_get(suspect, "verdict") || (verdict && !is_one_of(verdict, verdicts))) {
        am_errf(err, errlen, "field suspect.verdict: %s%.32s%s is not confirmed, rejected or null",
                verdict ? "\"" : "", verdict ? verdict : "missing", verdict ? "\"" : "");
        return -1;
    }
    json_object_set_new(out, "suspect", json_deep_copy(suspect));
    return 0;
}

static int check_about(const json_t *about, json_t *out, char *err, size_t errlen)
{
    static const char *const allowed[] = {"rule", "key", "started_at", "alerts", NULL};
    if (!json_is_object(about)) {
        am_errf(err, errlen, "field about: not an object {rule, key, started_at, alerts}");
        return -1;
    }
    if (only_members(about, "about.", allowed, err, errlen) != 0)
        return -1;
    json_t *o = json_object();
    json_t *key = json_object_get(about, "key");
    json_t *alerts = json_object_get(about, "alerts");
    if (copy_string(about, o, "rule", "about.", 0, err, errlen) != 0 ||
        copy_time(about, o, "started_at", "about.", err, errlen) != 0)
        goto fail;
    if (key) {
        const char *k;
        json_t *v;
        json_object_foreach(key, k, v) if (!json_is_string(v)) key = NULL;
        if (!json_is_object(key)) {
            am_errf(err, errlen, "field about.key: not an object of strings");
            goto fail;
        }
        json_object_set(o, "key", key);
    }
    if (alerts) {
        size_t i;
        json_t *a;
        json_array_foreach(alerts, i, a) if (!json_is_string(a)) alerts = NULL;
        if (!json_is_array(alerts)) {
            am_errf(err, errlen, "field about.alerts: not an array of alert identities");
            goto fail;
        }
        json_object_set(o, "alerts", alerts);
    }
    json_object_set_new(out, "about", o);
    return 0;
fail:
    json_decref(o);
    return -1;
}

static int decode_correction(const json_t *root, json_t *body, char *err, size_t errlen)
{
    static const char *const allowed[] = {"kind",    "id",         "incident", "at",
                                          "actor",   "reason",     "set",      "suspect",
                                          "dismiss", "merge_into", "about",    NULL};
    if (only_members(root, "", allowed, err, errlen) != 0 ||
        copy_string(root, body, "reason", "", 0, err, errlen) != 0 ||
        copy_string(root, body, "dismiss", "", 1, err, errlen) != 0 ||
        copy_string(root, body, "merge_into", "", 1, err, errlen) != 0)
        return -1;
    const json_t *v;
    if ((v = json_object_get(root, "set")) && check_set(v, body, err, errlen) != 0)
        return -1;
    if ((v = json_object_get(root, "suspect")) && check_suspect(v, body, err, errlen) != 0)
        return -1;
    if ((v = json_object_get(root, "about")) && check_about(v, body, err, errlen) != 0)
        return -1;
    if (!json_object_get(body, "set") && !json_object_get(body, "suspect") &&
        !json_object_get(body, "dismiss") && !json_object_get(body, "merge_into")) {
        am_errf(err, errlen,
                "field set: missing (a correction has set, suspect, dismiss or "
                "merge_into)");
        return -1;
    }
    const char *into = json_string_value(json_object_get(body, "merge_into"));
    const char *incident = json_string_value(json_object_get(body, "incident"));
    if (into && incident && strcmp(into, incident) == 0) {
        am_errf(err, errlen, "field merge_into: the incident itself");
        return -1;
    }
    return 0;
}

static int decode_action(const json_t *root, json_t *body, am_event_t *ev, char *err, size_t errlen)
{
    static const char *const allowed[] = {"kind", "id",    "incident", "item",   "at",  "actor",
                                          "task", "owner", "due",      "status", "url", NULL};
    static const char *const statuses[] = {"open", "done", NULL};
    const char *item, *status;
    if (only_members(root, "", allowed, err, errlen) != 0 ||
        need_string(root, "item", "", &item, err, errlen) != 0 ||
        ingest_get_string(root, "status", "", &status, err, errlen) != 0)
        return -1;
    if (status && !is_one_of(status, statuses)) {
        am_errf(err, errlen, "field status: \"%.32s\" is not open or done", status);
        return -1;
    }
    json_object_set_new(body, "item", json_string(item));
    if (copy_string(root, body, "task", "", 1, err, errlen) != 0 ||
        copy_string(root, body, "owner", "", 1, err, errlen) != 0 ||
        copy_string(root, body, "url", "", 1, err, errlen) != 0 ||
        copy_string(root, body, "status", "", 0, err, errlen) != 0)
        return -1;
    json_t *due = json_object_get(root, "due");
    if (due && !json_is_null(due)) {
        /* A day (2024-06-19: its end, UTC) or a time. */
        const char *s = json_string_value(due);
        int64_t ms = AM_TIME_NONE;
        char buf[40];
        if (s && strlen(s) == 10) {
            snprintf(buf, sizeof buf, "%sT23:59:59Z", s);
            s = buf;
        }
        if (!s || am_time_parse(s, strlen(s), &ms, NULL, 0) != 0) {
            am_errf(err, errlen, "field due: not a day (YYYY-MM-DD) or an RFC 3339 time");
            return -1;
        }
        char out[AM_TIME_STRLEN];
        json_object_set_new(body, "due", json_string(am_time_format(ms, out)));
    } else if (due) {
        json_object_set_new(body, "due", json_null());
    }
    ev->status = am_xstrdup(status);
    return 0;
}

int ingest_generic_people(const json_t *root, const ingest_ctx_t *ctx, am_event_t *ev, char *err,
                          size_t errlen)
{
    const char *incident, *actor, *id;
    int64_t at;
    if (need_string(root, "incident", "", &incident, err, errlen) != 0 ||
        need_string(root, "actor", "", &actor, err, errlen) != 0 ||
        ingest_get_string(root, "id", "", &id, err, errlen) != 0 ||
        ingest_get_time(root, "at", "", &at, err, errlen) != 0)
        return -1;
    if (at == AM_TIME_NONE) {
        am_errf(err, errlen, "field at: missing (when it was made)");
        return -1;
    }
    json_t *body = json_object();
    json_object_set_new(body, "incident", json_string(incident));
    int rc = ev->kind == AM_KIND_CORRECTION ? decode_correction(root, body, err, errlen)
                                            : decode_action(root, body, ev, err, errlen);
    char *text = NULL;
    if (rc == 0) {
        text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
        if (!text || strlen(text) > ctx->limits->max_value_bytes) {
            am_errf(err, errlen, "field %s: longer than the limit of %zu bytes",
                    ev->kind == AM_KIND_CORRECTION ? "set" : "task", ctx->limits->max_value_bytes);
            rc = -1;
        }
    }
    if (rc == 0) {
        const char *summary = json_string_value(
            json_object_get(body, ev->kind == AM_KIND_CORRECTION ? "reason" : "task"));
        ev->name = am_xstrdup(incident);
        ev->actor = am_xstrdup(actor);
        ev->summary = am_xstrdup(summary);
        ev->starts_at = at;
        ev->observed_at = ctx->observed_at;
        am_labels_set(&ev->annotations, AM_ANNOTATION_BODY, text);
        ev->id = am_xstrdup(id && *id ? id : NULL);
        char atbuf[AM_TIME_STRLEN];
        const char *parts[] = {incident, am_time_format(at, atbuf), actor, text};
        ingest_event_id_from(ev, parts, 4);
    }
    free(text);
    json_decref(body);
    return rc;
}
