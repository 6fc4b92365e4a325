/*
 * edit.c - the people's edits as events (run/edit.h): the builder and the
 * checks that `aftermath correct`, `aftermath action` and the web pages
 * share. It only builds JSON of the generic format and hands it to the
 * generic decoder and the store (correlate/people.h refreshes the
 * people's record); it never writes correlate's tables itself.
 */
#include "run/edit.h"
#include "common/buf.h"
#include "common/time.h"
#include "correlate/incident.h"
#include "correlate/people.h"
#include "correlate/queries.h"
#include "ingest/decode.h"

#include <errno.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t time_arg(const char *s)
{
    int64_t ms;
    if (am_time_parse(s, strlen(s), &ms, NULL, 0) != 0 || ms == AM_TIME_NONE)
        return AM_TIME_NONE;
    return ms;
}

static int usage(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int usage(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return RUN_EDIT_USAGE;
}

static const char *const time_fields[] = {"started_at",   "detected_at", "acknowledged_at",
                                          "mitigated_at", "resolved_at", NULL};

int run_edit_set_field(json_t *set, const char *field, const char *value, char *err, size_t errlen)
{
    json_t *v = value ? json_string(value) : json_null();
    int rc = 0;
    if (!v)
        return usage(err, errlen, "%s: not UTF-8 text", field);
    if (strncmp(field, "role.", 5) == 0 || strncmp(field, "roles.", 6) == 0) {
        const char *role = field + (field[4] == '.' ? 5 : 6);
        if (!*role) {
            rc = usage(err, errlen, "'%s' names no role", field);
        } else {
            json_t *roles = json_object_get(set, "roles");
            if (!roles)
                json_object_set_new(set, "roles", roles = json_object());
            json_object_set(roles, role, v);
        }
        json_decref(v);
        return rc;
    }
    bool is_time = false;
    for (const char *const *t = time_fields; *t; t++)
        is_time |= strcmp(field, *t) == 0;
    if (is_time && value) {
        if (time_arg(value) == AM_TIME_NONE)
            rc = usage(err, errlen, "%s: '%s' is not an RFC 3339 time", field, value);
    } else if (strcmp(field, "users_impacted") == 0 && value) {
        char *end;
        errno = 0;
        long long u = strtoll(value, &end, 10);
        if (errno || end == value || *end || u < 0)
            rc = usage(err, errlen, "users_impacted: '%s' is not a count", value);
        json_decref(v);
        v = json_integer(u);
    } else if (!is_time && strcmp(field, "users_impacted") != 0 && strcmp(field, "title") != 0 &&
               strcmp(field, "severity") != 0 && strcmp(field, "lead") != 0 &&
               strcmp(field, "commander") != 0) {
        rc = usage(err, errlen, "'%s' is not a field: " RUN_EDIT_FIELDS, field);
    } else if (value && !*value) {
        rc = usage(err, errlen, "%s: empty (--unset %s drops a correction)", field, field);
    }
    if (rc == 0)
        json_object_set(set, strcmp(field, "commander") == 0 ? "lead" : field, v);
    json_decref(v);
    return rc;
}

int run_edit_suspect(json_t *obj, const char *spec, char *err, size_t errlen)
{
    const char *eq = strrchr(spec, '=');
    if (json_object_get(obj, "suspect"))
        return usage(err, errlen, "one per correction");
    if (!eq || eq == spec ||
        (strcmp(eq + 1, "confirmed") != 0 && strcmp(eq + 1, "rejected") != 0 &&
         strcmp(eq + 1, "none") != 0))
        return usage(err, errlen, "'%s' is not NAME@VERSION=confirmed|rejected|none", spec);
    char *deploy = am_xstrndup(spec, (size_t)(eq - spec));
    json_object_set_new(obj, "suspect",
                        json_pack("{s:s,s:o}", "deploy", deploy, "verdict",
                                  strcmp(eq + 1, "none") == 0 ? json_null() : json_string(eq + 1)));
    free(deploy);
    return 0;
}

/* The incident id or alias names (owned JSON), or NULL with *rc and err. */
static json_t *incident_of(store_t *st, const char *id, int *rc, char *err, size_t errlen)
{
    err[0] = '\0';
    json_t *inc = corr_incident_json(st, id, err, errlen);
    if (!inc && err[0])
        *rc = RUN_EDIT_FAILED;
    else if (!inc)
        *rc = usage(err, errlen, "no incident %s", id);
    return inc;
}

/* `about`: the rule, key, derived start and alert identities of inc. */
static json_t *about_of(store_t *st, const json_t *inc)
{
    json_t *about = json_object();
    json_object_set(about, "rule", json_object_get(inc, "rule"));
    json_object_set(about, "key", json_object_get(inc, "key"));
    json_t *derived = json_object_get(
        json_object_get(json_object_get(inc, "corrections"), "started_at"), "derived");
    json_object_set(about, "started_at", derived ? derived : json_object_get(inc, "started_at"));
    json_t *alerts = json_array();
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(store_db(st), corr_sql_episode_ends, -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, json_string_value(json_object_get(inc, "id")), -1, SQLITE_STATIC);
        while (sqlite3_step(s) == SQLITE_ROW) {
            const char *ident = (const char *)sqlite3_column_text(s, 0);
            size_t i;
            json_t *a;
            bool seen = false;
            json_array_foreach(alerts, i, a) seen |= strcmp(json_string_value(a), ident) == 0;
            if (!seen)
                json_array_append_new(alerts, json_string(ident));
        }
    }
    sqlite3_finalize(s);
    json_object_set_new(about, "alerts", alerts);
    return about;
}

/* The time of key after this correction: set's, else the incident's. */
static int64_t after(const json_t *set, const json_t *inc, const char *key)
{
    const json_t *v = json_object_get(set, key);
    if (!v)
        v = json_object_get(inc, key);
    const char *s = json_string_value(v);
    return s ? time_arg(s) : AM_TIME_NONE;
}

static int check_order(const json_t *set, const json_t *inc, char *err, size_t errlen)
{
    int64_t started = after(set, inc, "started_at"), mitigated = after(set, inc, "mitigated_at"),
            resolved = after(set, inc, "resolved_at");
    char a[AM_TIME_STRLEN], b[AM_TIME_STRLEN];
    if (started != AM_TIME_NONE && mitigated != AM_TIME_NONE && mitigated < started)
        return usage(err, errlen, "mitigated_at %s would be before started_at %s",
                     am_time_format(mitigated, a), am_time_format(started, b));
    if (started != AM_TIME_NONE && resolved != AM_TIME_NONE && resolved < started)
        return usage(err, errlen, "resolved_at %s would be before started_at %s",
                     am_time_format(resolved, a), am_time_format(started, b));
    if (mitigated != AM_TIME_NONE && resolved != AM_TIME_NONE && resolved < mitigated)
        return usage(err, errlen, "resolved_at %s would be before mitigated_at %s",
                     am_time_format(resolved, a), am_time_format(mitigated, b));
    return 0;
}

int run_edit_correction(store_t *st, json_t *obj, const json_t *set, const char *id,
                        const char *actor, int64_t when, const char *reason, char *err,
                        size_t errlen)
{
    json_t *inc = NULL, *into = NULL;
    int rc = 0;
    if (!actor || !*actor)
        return usage(err, errlen, "actor: who is correcting?");
    if (json_object_size(set) == 0 && json_object_size(obj) == 0)
        return usage(err, errlen, "nothing to correct (--set, --suspect, --dismiss, ...)");
    if (!(inc = incident_of(st, id, &rc, err, errlen)))
        goto done;
    const char *target = json_string_value(json_object_get(obj, "merge_into"));
    if (target) {
        if (!(into = incident_of(st, target, &rc, err, errlen)))
            goto done;
        if (json_equal(json_object_get(into, "id"), json_object_get(inc, "id"))) {
            rc = usage(err, errlen, "--merge-into: %s is the incident itself", target);
            goto done;
        }
        json_object_set(obj, "merge_into", json_object_get(into, "id"));
    }
    if ((rc = check_order(set, inc, err, errlen)) != 0)
        goto done;
    char buf[AM_TIME_STRLEN];
    json_object_set_new(obj, "kind", json_string("correction"));
    json_object_set(obj, "incident", json_object_get(inc, "id"));
    json_object_set_new(obj, "at", json_string(am_time_format(when, buf)));
    json_object_set_new(obj, "actor", json_string(actor));
    if (reason)
        json_object_set_new(obj, "reason", json_string(reason));
    if (json_object_size(set))
        json_object_set(obj, "set", (json_t *)set);
    json_object_set_new(obj, "about", about_of(st, inc));
done:
    json_decref(into);
    json_decref(inc);
    return rc;
}

int run_edit_action(store_t *st, json_t *obj, const char *id, const char *verb, const char *item,
                    const char *actor, int64_t when, char *err, size_t errlen)
{
    json_t *inc = NULL;
    int rc = 0;
    if (!verb ||
        (strcmp(verb, "add") != 0 && strcmp(verb, "set") != 0 && strcmp(verb, "done") != 0))
        return usage(err, errlen, "expected ID add|set|done [ITEM]");
    if (!item && strcmp(verb, "add") != 0)
        return usage(err, errlen, "%s: which item?", verb);
    if (strcmp(verb, "add") == 0 && !json_object_get(obj, "task"))
        return usage(err, errlen, "add: --task is required");
    if (!actor || !*actor)
        return usage(err, errlen, "actor: who is it?");
    if (!(inc = incident_of(st, id, &rc, err, errlen)))
        return rc;
    /* The items it has: add names the next, set and done need one. */
    const json_t *items = json_object_get(inc, "action_items");
    bool known = false;
    size_t i, next = 1;
    json_t *a;
    json_array_foreach(items, i, a)
    {
        const char *name = json_string_value(json_object_get(a, "item"));
        known |= item && strcmp(name, item) == 0;
        unsigned long n;
        if (sscanf(name, "AI-%lu", &n) == 1 && n >= next)
            next = n + 1;
    }
    char itembuf[32];
    if (!item) {
        snprintf(itembuf, sizeof itembuf, "AI-%zu", next);
        item = itembuf;
    } else if (strcmp(verb, "add") == 0 && known) {
        rc = usage(err, errlen, "add: %s already has %s (use set)",
                   json_string_value(json_object_get(inc, "id")), item);
        goto done;
    } else if (strcmp(verb, "add") != 0 && !known) {
        rc = usage(err, errlen, "%s: %s has no action item %s", verb,
                   json_string_value(json_object_get(inc, "id")), item);
        goto done;
    }
    if (strcmp(verb, "done") == 0)
        json_object_set_new(obj, "status", json_string("done"));
    else if (strcmp(verb, "add") == 0 && !json_object_get(obj, "status"))
        json_object_set_new(obj, "status", json_string("open"));
    char buf[AM_TIME_STRLEN];
    json_object_set_new(obj, "kind", json_string("action"));
    json_object_set(obj, "incident", json_object_get(inc, "id"));
    json_object_set_new(obj, "item", json_string(item));
    json_object_set_new(obj, "at", json_string(am_time_format(when, buf)));
    json_object_set_new(obj, "actor", json_string(actor));
done:
    json_decref(inc);
    return rc;
}

int run_edit_decode(const json_t *obj, char **text, am_event_list_t *evs, char *err, size_t errlen)
{
    ingest_decoder_t *dec = ingest_decoder_create(NULL, NULL);
    int rc = RUN_EDIT_USAGE;
    *text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    if (!*text || !dec) {
        am_errf(err, errlen, "out of memory");
        rc = RUN_EDIT_FAILED;
    } else if (ingest_decode(dec, "generic", *text, strlen(*text), AM_TIME_NONE, evs, err,
                             errlen) == 0) {
        rc = 0;
    }
    ingest_decoder_destroy(dec);
    if (rc != 0) {
        free(*text);
        *text = NULL;
    }
    return rc;
}

int run_edit_store(store_t *st, const char *text, const char *source, am_event_list_t *evs,
                   store_outcome_t *outcome, char *err, size_t errlen)
{
    am_record_t rec = {.payload = text,
                       .len = strlen(text),
                       .file = source,
                       .line = 1,
                       .partition = -1,
                       .offset = -1,
                       .ts = AM_TIME_NONE};
    *outcome = STORE_NEW;
    if (store_begin(st, err, errlen) != 0 || store_put(st, &rec, evs, outcome, err, errlen) != 0 ||
        corr_people_refresh(st, NULL, 0, true, NULL, NULL, err, errlen) != 0 ||
        store_commit(st, err, errlen) != 0) {
        store_rollback(st);
        return RUN_EDIT_FAILED;
    }
    return 0;
}
