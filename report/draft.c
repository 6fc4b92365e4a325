/*
 * draft.c - assembling the postmortem draft's model from the store.
 *
 * The incident itself comes from corr_incident_json() (which resolves
 * aliases); its linked events are read through incident_events joined to
 * events; Lessons Learned come from the services' history
 * (draft_lessons.c). The model is plain JSON so the renderers only read
 * it, and the JSON rendering is the model itself. A missing time stays
 * JSON null all the way to the renderers, which write "unknown".
 */
#include "report/draft.h"
#include "report/draft_int.h"
#include "correlate/queries.h"
#include "report/status.h"
#include "report/timeline.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/time.h"
#include "correlate/incident.h"

struct report_draft {
    json_t *model;
    char *id;
    bool no_names;
};

static char *col_str(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? am_xstrdup((const char *)t) : NULL;
}

static int64_t col_time(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? AM_TIME_NONE : sqlite3_column_int64(s, i);
}

static void labels_from_text(am_labels_t *labels, const unsigned char *text)
{
    if (!text)
        return;
    json_t *o = json_loads((const char *)text, 0, NULL);
    if (json_is_object(o))
        am_labels_from_json(labels, o, NULL, 0);
    json_decref(o);
}

static void free_linked(report_linked_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        am_event_free(&v[i].ev);
    free(v);
}

/* Reads the events linked to incident id into *out (owned, *n of them). */
static int read_linked(sqlite3 *db, const char *id, report_linked_t **out, size_t *n, char *err,
                       size_t errlen)
{
    sqlite3_stmt *s = NULL;
    report_linked_t *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc;
    if (sqlite3_prepare_v2(db, corr_sql_incident_links, -1, &s, NULL) != SQLITE_OK ||
        sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT) != SQLITE_OK)
        goto db_error;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        report_role_t role;
        am_kind_t kind;
        const char *rname = (const char *)sqlite3_column_text(s, 0);
        const char *kname = (const char *)sqlite3_column_text(s, 2);
        if (!rname || !kname || report_role_parse(rname, &role) != 0 ||
            am_kind_parse(kname, &kind) != 0)
            continue; /* a role or kind of a newer schema: not ours to draw */
        if (cnt == cap) {
            cap = cap ? cap * 2 : 32;
            v = am_xrealloc(v, cap * sizeof *v);
        }
        report_linked_t *l = &v[cnt++];
        l->role = role;
        am_event_init(&l->ev);
        am_event_t *e = &l->ev;
        e->id = col_str(s, 1);
        e->kind = kind;
        e->status = col_str(s, 3);
        e->source = am_source_static((const char *)sqlite3_column_text(s, 4));
        if (!e->source)
            e->source = "other"; /* a source this build does not know */
        e->name = col_str(s, 5);
        e->identity = col_str(s, 6);
        e->service = col_str(s, 7);
        e->severity = col_str(s, 8);
        e->summary = col_str(s, 9);
        e->starts_at = col_time(s, 10);
        e->ends_at = col_time(s, 11);
        e->observed_at = col_time(s, 12);
        e->actor = col_str(s, 13);
        e->version = col_str(s, 14);
        labels_from_text(&e->labels, sqlite3_column_text(s, 15));
        labels_from_text(&e->annotations, sqlite3_column_text(s, 16));
        e->url = col_str(s, 17);
    }
    if (rc != SQLITE_DONE)
        goto db_error;
    sqlite3_finalize(s);
    *out = v;
    *n = cnt;
    return 0;
db_error:
    am_errf(err, errlen, "reading the events of %s: %s", id, sqlite3_errmsg(db));
    sqlite3_finalize(s);
    free_linked(v, cnt);
    return -1;
}

/* The correlator's ends of the incident's alert episodes, over what the
 * events say: an episode with no resolve takes its inferred end (marked
 * by the annotation end_inferred), and an unconfirmed end (an API v2 body
 * without a record time) counts only as the episode's own. */
static int apply_episode_ends(sqlite3 *db, const char *id, report_linked_t *v, size_t n, char *err,
                              size_t errlen)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, corr_sql_episode_ends, -1, &s, NULL) != SQLITE_OK ||
        sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT) != SQLITE_OK)
        goto db_error;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *identity = (const char *)sqlite3_column_text(s, 0);
        int64_t starts = sqlite3_column_int64(s, 1);
        int64_t ends = col_time(s, 2), inferred = col_time(s, 3);
        for (size_t i = 0; identity && i < n; i++) {
            am_event_t *e = &v[i].ev;
            if (e->kind != AM_KIND_ALERT || e->starts_at != starts || !e->identity ||
                strcmp(e->identity, identity) != 0)
                continue;
            bool unconfirmed = am_labels_get(&e->annotations, AM_ENDS_UNCONFIRMED) != NULL;
            if (e->ends_at != AM_TIME_NONE && !unconfirmed)
                continue;
            e->ends_at = ends != AM_TIME_NONE ? ends : inferred;
            if (ends == AM_TIME_NONE && inferred != AM_TIME_NONE)
                am_labels_set(&e->annotations, "end_inferred", "true");
        }
    }
    if (rc != SQLITE_DONE)
        goto db_error;
    sqlite3_finalize(s);
    return 0;
db_error:
    am_errf(err, errlen, "reading the episodes of %s: %s", id, sqlite3_errmsg(db));
    sqlite3_finalize(s);
    return -1;
}

const char *report_duration(int64_t ms, char out[REPORT_DURATION_STRLEN])
{
    char d[AM_TIME_STRLEN];
    if (ms == AM_TIME_NONE)
        snprintf(out, REPORT_DURATION_STRLEN, "unknown");
    else if (ms < 0)
        snprintf(out, REPORT_DURATION_STRLEN, "%s (negative: check the clocks)",
                 am_duration_human(ms, d));
    else
        snprintf(out, REPORT_DURATION_STRLEN, "%s", am_duration_human(ms, d));
    return out;
}

int64_t report_diff(int64_t to, int64_t from)
{
    return to == AM_TIME_NONE || from == AM_TIME_NONE ? AM_TIME_NONE : to - from;
}

json_t *report_duration_json(int64_t ms)
{
    return ms == AM_TIME_NONE ? json_null() : json_integer(ms / 1000);
}

const char *report_start_note(const json_t *summary)
{
    const char *from = report_str(summary, "started_from");
    return from && strcmp(from, "deploy") == 0 ? "the first suspect deploy" : NULL;
}

const char *report_ack_note(const json_t *summary)
{
    const char *by = report_str(summary, "acknowledged_by");
    return by && strcmp(by, "deploy") == 0 ? "the first deploy after detection; no ack" : NULL;
}

/* The people's record (correlate/incident.h) into the summary, where
 * set: title, severity, roles, dismissed, merged_into and corrections
 * (who, when, why and the derived value). --no-names drops roles and who
 * corrected; a corrected lead is dropped with the lead. */
static void people(json_t *s, const json_t *inc, bool no_names)
{
    static const char *const keys[] = {"title", "severity", "roles", "dismissed", "merged_into"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(inc, keys[i]);
        if (v && !(no_names && strcmp(keys[i], "roles") == 0))
            json_object_set(s, keys[i], v);
    }
    const json_t *corr = json_object_get(inc, "corrections");
    if (!corr)
        return;
    json_t *c = json_deep_copy(corr);
    if (no_names) {
        const char *field;
        json_t *e;
        void *tmp;
        json_object_foreach_safe(c, tmp, field, e)
        {
            if (strcmp(field, "lead") == 0 || strncmp(field, "roles.", 6) == 0)
                json_object_del(c, field);
            else
                json_object_del(e, "actor");
        }
    }
    json_object_set_new(s, "corrections", c);
}

static json_t *summary(const json_t *inc, bool no_names)
{
    int64_t started = report_json_time(json_object_get(inc, "started_at"));
    int64_t resolved = report_json_time(json_object_get(inc, "resolved_at"));
    int64_t mitigated = report_json_time(json_object_get(inc, "mitigated_at"));
    char t[AM_TIME_STRLEN];
    json_t *date = json_null(), *start = json_null();
    if (started != AM_TIME_NONE) {
        am_time_format(started, t);
        date = json_stringn(t, 10);
        start = json_stringn(t + 11, 8);
    }
    const json_t *lead = json_object_get(inc, "lead");
    json_t *s = json_pack(
        "{s:O,s:o,s:o,s:O,s:O,s:O,s:O,s:O,s:o,s:O,s:O}", "id", json_object_get(inc, "id"), "date",
        date, "start_time", start, "started_at", json_object_get(inc, "started_at"), "detected_at",
        json_object_get(inc, "detected_at"), "acknowledged_at",
        json_object_get(inc, "acknowledged_at"), "mitigated_at",
        json_object_get(inc, "mitigated_at"), "resolved_at", json_object_get(inc, "resolved_at"),
        "duration_s", report_duration_json(report_diff(mitigated, started)), "services",
        json_object_get(inc, "services"), "users_impacted", json_object_get(inc, "users_impacted"));
    json_object_set_new(s, "resolution_s", report_duration_json(report_diff(resolved, started)));
    json_object_set(s, "started_from", json_object_get(inc, "started_from"));
    json_object_set(s, "acknowledged_by", json_object_get(inc, "acknowledged_by"));
    /* Only when so, like the incident's own keys (correlate/incident.c). */
    if (json_is_true(json_object_get(inc, "mitigated_inferred")))
        json_object_set_new(s, "mitigated_inferred", json_true());
    if (json_is_integer(json_object_get(inc, "truncated_alerts")))
        json_object_set(s, "truncated_alerts", json_object_get(inc, "truncated_alerts"));
    if (no_names)
        json_object_set_new(s, "lead_withheld", json_boolean(json_is_string(lead)));
    else
        json_object_set(s, "lead", lead ? (json_t *)lead : json_null());
    people(s, inc, no_names);
    return s;
}

/* Suspects (deploys before impact) with the time to impact start. */
static json_t *root_cause(const json_t *inc, bool no_names)
{
    int64_t started = report_json_time(json_object_get(inc, "started_at"));
    const char *rule = json_string_value(json_object_get(inc, "rule"));
    json_t *out = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(inc, "suspects"), i, d)
    {
        json_t *c = json_deep_copy(d);
        if (no_names)
            json_object_del(c, "actor");
        int64_t at = report_json_time(json_object_get(d, "at"));
        json_object_set_new(c, "before_impact_s", report_duration_json(report_diff(started, at)));
        am_buf_t why = {0};
        am_buf_printf(&why, "linked by rule %s: a deploy", rule ? rule : "(unknown)");
        const char *svc = json_string_value(json_object_get(d, "service"));
        if (svc)
            am_buf_printf(&why, " to service %s", svc);
        am_buf_puts(&why, " matching the rule's deploy selector, within its look-back window"
                          " before impact start");
        json_object_set_new(c, "why", json_string(why.p));
        am_buf_free(&why);
        json_array_append_new(out, c);
    }
    return out;
}

/* Total time covered by the intervals [s[i], e[i]] (unsorted); sets *open
 * when one has no end. */
static int64_t union_ms(int64_t *s, int64_t *e, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && s[j - 1] > s[j]; j--) {
            int64_t t = s[j];
            s[j] = s[j - 1];
            s[j - 1] = t;
            t = e[j];
            e[j] = e[j - 1];
            e[j - 1] = t;
        }
    int64_t total = 0, cs = 0, ce = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || s[i] > ce) {
            if (i)
                total += ce - cs;
            cs = s[i];
            ce = e[i];
        } else if (e[i] > ce) {
            ce = e[i];
        }
    }
    if (n)
        total += ce - cs;
    return total;
}

/* Impact Analysis: per service, its alerts, instances, components and
 * how long it alerted. */
static json_t *impact(const json_t *inc, const json_t *alerts)
{
    json_t *out = json_array();
    size_t i, j, k;
    json_t *svc, *a, *ep;
    json_array_foreach(json_object_get(inc, "services"), i, svc)
    {
        json_t *o =
            json_pack("{s:O,s:[],s:[],s:[]}", "service", svc, "alerts", "instances", "components");
        int64_t *s = NULL, *e = NULL;
        size_t n = 0;
        int open = 0;
        json_array_foreach(alerts, j, a)
        {
            if (!json_equal(json_object_get(a, "service"), svc))
                continue;
            json_array_append(json_object_get(o, "alerts"), json_object_get(a, "name"));
            json_array_extend(json_object_get(o, "instances"), json_object_get(a, "instances"));
            json_array_extend(json_object_get(o, "components"), json_object_get(a, "components"));
            json_array_foreach(json_object_get(a, "episodes"), k, ep)
            {
                int64_t st = report_json_time(json_object_get(ep, "starts_at"));
                int64_t en = report_json_time(json_object_get(ep, "ends_at"));
                if (en == AM_TIME_NONE) {
                    open = 1;
                    continue;
                }
                s = am_xrealloc(s, (n + 1) * sizeof *s);
                e = am_xrealloc(e, (n + 1) * sizeof *e);
                s[n] = st;
                e[n] = en;
                n++;
            }
        }
        /* Distinct instances and components across alerts. */
        for (const char *f = "instances"; f;
             f = strcmp(f, "instances") == 0 ? "components" : NULL) {
            json_t *arr = json_object_get(o, f), *uniq = json_array();
            json_t *x;
            json_array_foreach(arr, k, x)
            {
                size_t m;
                json_t *y;
                int dup = 0;
                json_array_foreach(uniq, m, y)
                {
                    dup |= json_equal(x, y);
                }
                if (!dup)
                    json_array_append(uniq, x);
            }
            json_object_set_new(o, f, uniq);
        }
        json_object_set_new(
            o, "instance_count",
            json_integer((json_int_t)json_array_size(json_object_get(o, "instances"))));
        json_object_set_new(o, "alerting_s",
                            open || !n ? json_null() : json_integer(union_ms(s, e, n) / 1000));
        json_object_set_new(o, "still_alerting", json_boolean(open));
        free(s);
        free(e);
        json_array_append_new(out, o);
    }
    return out;
}

report_draft_t *report_draft_create(store_t *st, const char *id, const report_options_t *opts,
                                    char *err, size_t errlen)
{
    report_draft_t *d = NULL;
    report_linked_t *ev = NULL;
    size_t n = 0;
    bool no_names = opts && opts->no_names;
    json_t *inc = NULL, *alerts = NULL, *less = NULL;
    if (err && errlen)
        err[0] = '\0';
    inc = corr_incident_json(st, id, err, errlen);
    if (!inc)
        goto init_error;
    const char *cid = json_string_value(json_object_get(inc, "id"));
    if (!cid) {
        am_errf(err, errlen, "incident %s has no id", id);
        goto init_error;
    }
    sqlite3 *db = store_db(st);
    if (read_linked(db, cid, &ev, &n, err, errlen) != 0 ||
        apply_episode_ends(db, cid, ev, n, err, errlen) != 0)
        goto init_error;
    less = report_draft_lessons(db, inc, cid, err, errlen);
    if (!less)
        goto init_error;
    int64_t now = opts && opts->now_ms ? opts->now_ms : AM_TIME_NONE;
    if (now == AM_TIME_NONE && report_latest_event_time(st, &now, err, errlen) != 0)
        goto init_error;
    json_object_set_new(inc, "status", json_string(report_status(inc, now)));
    alerts = report_timeline_alerts(ev, n);
    d = am_xcalloc(1, sizeof *d);
    d->no_names = no_names;
    d->id = am_xstrdup(cid);
    d->model = json_pack(
        "{s:s,s:O,s:O,s:O,s:O,s:o,s:o,s:O,s:{s:o,s:[sss],s:[sss]},s:o,s:o,s:[]}", "id", cid, "rule",
        json_object_get(inc, "rule"), "key", json_object_get(inc, "key"), "status",
        json_object_get(inc, "status"), "aliases", json_object_get(inc, "aliases"), "summary",
        summary(inc, no_names), "timeline", report_timeline_build(inc, alerts, ev, n, no_names),
        "alerts", alerts, "root_cause", "suspects", root_cause(inc, no_names), "factors",
        "technical", "human", "process", "prompts",
        "What evidence confirms or rules out each suspect?",
        "Which technical, human (blameless) and process factors contributed?",
        "Why did the safeguards in place not stop it?", "impact", impact(inc, alerts), "lessons",
        less, "action_items");
    less = NULL;
    json_t *items = json_object_get(d->model, "action_items");
    size_t ai;
    json_t *item;
    json_array_foreach(json_object_get(inc, "action_items"), ai, item)
    {
        json_t *copy = json_deep_copy(item);
        if (no_names)
            json_object_del(copy, "owner");
        json_array_append_new(items, copy);
    }
    json_object_set_new(d->model, "during", json_deep_copy(json_object_get(inc, "during")));
    if (no_names) {
        size_t i;
        json_t *x;
        json_array_foreach(json_object_get(d->model, "during"), i, x)
        {
            json_object_del(x, "actor");
        }
    }
    json_object_set_new(d->model, "flapping", json_deep_copy(json_object_get(inc, "flapping")));
    char asof[AM_TIME_STRLEN];
    json_object_set_new(d->model, "status_as_of",
                        now == AM_TIME_NONE ? json_null() : json_string(am_time_format(now, asof)));
    json_object_set_new(d->model, "links",
                        opts && opts->no_links ? json_array() : report_draft_links(ev, n));
    free_linked(ev, n);
    json_decref(alerts);
    json_decref(inc);
    return d;
init_error:
    json_decref(less);
    json_decref(alerts);
    free_linked(ev, n);
    json_decref(inc);
    report_draft_destroy(d);
    return NULL;
}

void report_draft_destroy(report_draft_t *d)
{
    if (!d)
        return;
    json_decref(d->model);
    free(d->id);
    free(d);
}

const json_t *report_draft_model(const report_draft_t *d)
{
    return d->model;
}

const char *report_draft_id(const report_draft_t *d)
{
    return d->id;
}

bool report_draft_no_names(const report_draft_t *d)
{
    return d->no_names;
}

void report_draft_json(const report_draft_t *d, am_buf_t *out)
{
    char *s = json_dumps(d->model, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    am_buf_puts(out, s);
    am_buf_putc(out, '\n');
    free(s);
}

const char *report_when(const json_t *v, char out[AM_TIME_STRLEN])
{
    int64_t ms = report_json_time(v);
    if (ms == AM_TIME_NONE) {
        snprintf(out, AM_TIME_STRLEN, "unknown");
        return out;
    }
    am_time_format(ms, out);
    char *t = strchr(out, 'T');
    if (t)
        *t = ' ';
    size_t n = strlen(out);
    if (n && out[n - 1] == 'Z')
        out[n - 1] = '\0';
    return out;
}

const char *report_secs(const json_t *v, char out[REPORT_DURATION_STRLEN])
{
    return report_duration(json_is_integer(v) ? json_integer_value(v) * 1000 : AM_TIME_NONE, out);
}

static void widen(int64_t t, int64_t *lo, int64_t *hi)
{
    if (t == AM_TIME_NONE)
        return;
    if (*lo == AM_TIME_NONE || t < *lo)
        *lo = t;
    if (*hi == AM_TIME_NONE || t > *hi)
        *hi = t;
}

void report_draft_span(const json_t *model, int64_t *lo, int64_t *hi)
{
    size_t i, j;
    json_t *x, *ep;
    *lo = *hi = AM_TIME_NONE;
    json_array_foreach(json_object_get(model, "timeline"), i, x)
    {
        widen(report_json_time(json_object_get(x, "at")), lo, hi);
    }
    json_array_foreach(json_object_get(model, "alerts"), i, x)
    {
        json_array_foreach(json_object_get(x, "episodes"), j, ep)
        {
            widen(report_json_time(json_object_get(ep, "starts_at")), lo, hi);
            widen(report_json_time(json_object_get(ep, "ends_at")), lo, hi);
        }
    }
}

const char *report_type_label(const char *type)
{
    static const char *const map[][2] = {
        {"suspect_deploy", "Suspect deploy"},
        {"impact_start", "Impact start"},
        {"alert_firing", "Alert firing"},
        {"alert_flapping", "Alert flapping"},
        {"detection", "Detection"},
        {"ack", "Acknowledgement"},
        {"note", "Note"},
        {"deploy", "Deploy"},
        {"rollback", "Rollback"},
        {"alert_resolved", "Alert resolved"},
        {"mitigation", "Mitigation"},
        {"resolution", "Resolution"},
    };
    for (size_t i = 0; type && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i][0], type) == 0)
            return map[i][1];
    return "Event";
}
