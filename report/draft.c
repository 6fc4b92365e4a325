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
#include "store/queries.h"
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

/* Whether a note or deploy not linked to the incident belongs to its
 * story: it agrees with the incident's key (every group_by label it has
 * holds the key's value) and names the incident by a key label or one of
 * its services (a deploy with a service must name one of them). */
static bool context_fits(const am_event_t *e, const json_t *inc)
{
    const json_t *key = json_object_get(inc, "key"), *services = json_object_get(inc, "services");
    const char *k;
    json_t *v;
    bool named = false;
    json_object_foreach((json_t *)key, k, v)
    {
        const char *have = am_labels_get(&e->labels, k);
        if (have && json_is_string(v) && strcmp(have, json_string_value(v)) != 0)
            return false;
        named |= have != NULL;
    }
    if (e->service) {
        size_t i;
        json_t *s;
        bool ours = false;
        json_array_foreach(services, i, s)
        {
            ours |= json_is_string(s) && strcmp(json_string_value(s), e->service) == 0;
        }
        if (e->kind == AM_KIND_DEPLOY && !ours)
            return false;
        named |= ours;
    }
    return named;
}

/* Appends to *v (n of them, cap allocated) with role the events of kind
 * starting in [from, to) that fit the incident and are not linked to it:
 * at most max of them, the latest when latest, else the earliest. */
static int read_context(sqlite3 *db, const json_t *inc, const char *kind, int64_t from, int64_t to,
                        report_role_t role, size_t max, bool latest, report_linked_t **v, size_t *n,
                        size_t *cap, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    size_t linked = *n, first = *n;
    int rc;
    if (sqlite3_prepare_v2(db, store_sql_events_around, -1, &s, NULL) != SQLITE_OK ||
        sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(s, 2, from) != SQLITE_OK || sqlite3_bind_int64(s, 3, to) != SQLITE_OK)
        goto db_error;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(s, 0);
        am_kind_t k;
        if (!id || am_kind_parse((const char *)sqlite3_column_text(s, 1), &k) != 0)
            continue;
        bool dup = false;
        for (size_t i = 0; i < linked && !dup; i++)
            dup = strcmp((*v)[i].ev.id, id) == 0;
        if (dup)
            continue;
        am_event_t e;
        am_event_init(&e);
        e.id = am_xstrdup(id);
        e.kind = k;
        e.status = col_str(s, 2);
        e.source = am_source_static((const char *)sqlite3_column_text(s, 3));
        if (!e.source)
            e.source = "other";
        e.name = col_str(s, 4);
        e.identity = col_str(s, 5);
        e.service = col_str(s, 6);
        e.severity = col_str(s, 8);
        labels_from_text(&e.labels, sqlite3_column_text(s, 9));
        labels_from_text(&e.annotations, sqlite3_column_text(s, 10));
        e.summary = col_str(s, 11);
        e.starts_at = col_time(s, 12);
        e.ends_at = col_time(s, 13);
        e.observed_at = col_time(s, 14);
        e.actor = col_str(s, 15);
        e.version = col_str(s, 16);
        e.url = col_str(s, 17);
        if (!context_fits(&e, inc)) {
            am_event_free(&e);
            continue;
        }
        if (*n - first == max) {
            if (!latest) {
                am_event_free(&e);
                break;
            }
            am_event_free(&(*v)[first].ev); /* keep the latest max */
            memmove(&(*v)[first], &(*v)[first + 1], (max - 1) * sizeof **v);
            (*n)--;
        }
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 32;
            *v = am_xrealloc(*v, *cap * sizeof **v);
        }
        (*v)[*n].role = role;
        (*v)[(*n)++].ev = e;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        goto db_error;
    sqlite3_finalize(s);
    return 0;
db_error:
    am_errf(err, errlen, "reading the events around the incident: %s", sqlite3_errmsg(db));
    sqlite3_finalize(s);
    return -1;
}

/* The lead-in (notes and deploys in the window before impact start) and
 * the deploys in the window after resolution, appended to *v. */
static int read_around(sqlite3 *db, const json_t *inc, const report_options_t *opts,
                       report_linked_t **v, size_t *n, char *err, size_t errlen)
{
    int64_t started = report_json_time(json_object_get(inc, "started_at"));
    int64_t resolved = report_json_time(json_object_get(inc, "resolved_at"));
    int64_t lead = opts && opts->lead_in_ms ? opts->lead_in_ms : REPORT_LEAD_IN_MS;
    int64_t after = opts && opts->after_ms ? opts->after_ms : REPORT_AFTER_MS;
    size_t cap = *n;
    if (started != AM_TIME_NONE && lead > 0 &&
        (read_context(db, inc, "note", started - lead, started, REPORT_ROLE_LEAD_IN, 10, true, v, n,
                      &cap, err, errlen) != 0 ||
         read_context(db, inc, "deploy", started - lead, started, REPORT_ROLE_LEAD_IN, 10, true, v,
                      n, &cap, err, errlen) != 0))
        return -1;
    if (resolved != AM_TIME_NONE && after > 0 &&
        read_context(db, inc, "deploy", resolved + 1, resolved + after + 1, REPORT_ROLE_AFTER, 3,
                     false, v, n, &cap, err, errlen) != 0)
        return -1;
    return 0;
}

/* The correlator's ends of the incident's alert episodes, over what the
 * events say: an episode with no resolve takes its inferred end (marked
 * by the annotation end_inferred), and an unconfirmed end (an API v2 body
 * without a record time) counts only as the episode's own. */
static int apply_episode_ends(sqlite3 *db, const char *id, report_linked_t *v, size_t n, char *err,
                              size_t errlen)
{
    sqlite3_stmt *s = NULL;
    /* The alert events by identity and start: one lookup per episode (a
     * scan of every event per episode made a 10,000-alert draft
     * quadratic). */
    json_t *index = json_object();
    am_buf_t key = {0};
    for (size_t i = 0; i < n; i++) {
        const am_event_t *e = &v[i].ev;
        if (e->kind != AM_KIND_ALERT || !e->identity)
            continue;
        am_buf_reset(&key);
        am_buf_printf(&key, "%s\x1f%lld", e->identity, (long long)e->starts_at);
        json_t *list = json_object_get(index, key.p);
        if (!list) {
            list = json_array();
            json_object_set_new(index, key.p, list);
        }
        json_array_append_new(list, json_integer((json_int_t)i));
    }
    if (sqlite3_prepare_v2(db, corr_sql_episode_ends, -1, &s, NULL) != SQLITE_OK ||
        sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT) != SQLITE_OK)
        goto db_error;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *identity = (const char *)sqlite3_column_text(s, 0);
        int64_t starts = sqlite3_column_int64(s, 1);
        int64_t ends = col_time(s, 2), inferred = col_time(s, 3);
        if (!identity)
            continue;
        am_buf_reset(&key);
        am_buf_printf(&key, "%s\x1f%lld", identity, (long long)starts);
        size_t k;
        json_t *ix;
        json_array_foreach(json_object_get(index, key.p), k, ix)
        {
            am_event_t *e = &v[json_integer_value(ix)].ev;
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
    json_decref(index);
    am_buf_free(&key);
    return 0;
db_error:
    am_errf(err, errlen, "reading the episodes of %s: %s", id, sqlite3_errmsg(db));
    sqlite3_finalize(s);
    json_decref(index);
    am_buf_free(&key);
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
    if (from && strcmp(from, "deploy") == 0)
        return "the first suspect deploy";
    if (from && strcmp(from, "pending") == 0)
        return "the first alert's start less the rule's pending (Prometheus `for:`)";
    return NULL;
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

typedef struct span {
    int64_t s, e;
} span_t;

static int cmp_span(const void *a, const void *b)
{
    const span_t *x = a, *y = b;
    return x->s != y->s ? (x->s < y->s ? -1 : 1) : (x->e > y->e) - (x->e < y->e);
}

size_t report_union(int64_t *s, int64_t *e, size_t n)
{
    span_t *v = am_xcalloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = (span_t){s[i], e[i]};
    qsort(v, n, sizeof *v, cmp_span);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && v[i].s <= e[m - 1]) {
            if (v[i].e > e[m - 1])
                e[m - 1] = v[i].e;
            continue;
        }
        s[m] = v[i].s;
        e[m++] = v[i].e;
    }
    free(v);
    return m;
}

/* Total time covered by the intervals [s[i], e[i]] (unsorted; merged in
 * place). */
static int64_t union_ms(int64_t *s, int64_t *e, size_t n)
{
    int64_t total = 0;
    size_t m = report_union(s, e, n);
    for (size_t i = 0; i < m; i++)
        total += e[i] - s[i];
    return total;
}

/* A new array of the incident's services, then null: the rows of alerts
 * with no service come last. */
static json_t *services_and_none(const json_t *services)
{
    json_t *v = json_array();
    json_array_extend(v, (json_t *)services);
    json_array_append_new(v, json_null());
    return v;
}

/* Appends the strings of arr to the array uniq unless there already;
 * seen (an object) makes it linear. */
static void extend_unique(json_t *uniq, json_t *seen, const json_t *arr)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
    {
        const char *v = json_string_value(x);
        if (!v || json_object_get(seen, v))
            continue;
        json_object_set_new(seen, v, json_true());
        json_array_append(uniq, x);
    }
}

/* Impact Analysis: one row per service and alert name (in the order of
 * the incident's services, then of first firing): how many alerts, where
 * (instances, each once), components, and how long it alerted. */
static json_t *impact(const json_t *inc, const json_t *alerts)
{
    json_t *out = json_array();
    size_t i, j, k;
    json_t *svc, *a, *ep;
    size_t na = json_array_size(alerts);
    bool *done = am_xcalloc(na ? na : 1, sizeof *done);
    json_t *svcs = services_and_none(json_object_get(inc, "services"));
    json_array_foreach(svcs, i, svc)
    {
        json_array_foreach(alerts, j, a)
        {
            if (done[j] || !json_equal(json_object_get(a, "service"), svc))
                continue;
            const json_t *name = json_object_get(a, "name");
            json_t *o = json_pack("{s:O,s:O,s:i,s:[],s:[]}", "service", svc, "alert", name,
                                  "alerts", 0, "instances", "components");
            json_t *seen_i = json_object(), *seen_c = json_object();
            int64_t *s = NULL, *e = NULL;
            size_t n = 0, cnt = 0;
            int open = 0;
            for (size_t m = j; m < na; m++) {
                const json_t *b = json_array_get(alerts, m);
                if (done[m] || !json_equal(json_object_get(b, "service"), svc) ||
                    !json_equal(json_object_get(b, "name"), name))
                    continue;
                done[m] = true;
                cnt++;
                extend_unique(json_object_get(o, "instances"), seen_i,
                              json_object_get(b, "instances"));
                extend_unique(json_object_get(o, "components"), seen_c,
                              json_object_get(b, "components"));
                json_array_foreach(json_object_get(b, "episodes"), k, ep)
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
            json_decref(seen_i);
            json_decref(seen_c);
            json_object_set_new(o, "alerts", json_integer((json_int_t)cnt));
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
    }
    free(done);
    json_decref(svcs);
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
        apply_episode_ends(db, cid, ev, n, err, errlen) != 0 ||
        read_around(db, inc, opts, &ev, &n, err, errlen) != 0)
        goto init_error;
    less = report_draft_lessons(db, inc, cid, err, errlen);
    if (!less)
        goto init_error;
    int64_t now = opts && opts->now_ms ? opts->now_ms : AM_TIME_NONE;
    if (now == AM_TIME_NONE && report_latest_event_time(st, &now, err, errlen) != 0)
        goto init_error;
    json_object_set_new(inc, "status", json_string(report_status(inc, now)));
    alerts = report_timeline_alerts(ev, n, json_object_get(inc, "key"));
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
    char *facts = report_facts(d->model, no_names);
    json_object_set_new(json_object_get(d->model, "summary"), "facts",
                        facts ? json_string(facts) : json_null());
    free(facts);
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
    static const char *const own[] = {
        "impact_start", "detection",  "ack",          "note",           "deploy",        "rollback",
        "mitigation",   "resolution", "alert_firing", "alert_flapping", "alert_resolved"};
    size_t i, j;
    json_t *x, *ep;
    *lo = *hi = AM_TIME_NONE;
    json_array_foreach(json_object_get(model, "timeline"), i, x)
    {
        const char *type = report_str(x, "type");
        for (j = 0; type && j < sizeof own / sizeof own[0]; j++)
            if (strcmp(type, own[j]) == 0)
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

json_t *report_alert_rows(const json_t *model, int64_t hi, size_t max_bars)
{
    const json_t *alerts = json_object_get(model, "alerts");
    size_t na = json_array_size(alerts), i, k;
    json_t *out = json_array(), *svc, *ep;
    bool *done = am_xcalloc(na ? na : 1, sizeof *done);
    int64_t *s = NULL, *e = NULL, *os = NULL, *oe = NULL;
    json_t *svcs =
        services_and_none(json_object_get(json_object_get(model, "summary"), "services"));
    json_array_foreach(svcs, i, svc)
    {
        for (size_t j = 0; j < na; j++) {
            const json_t *a = json_array_get(alerts, j);
            if (done[j] || !json_equal(json_object_get(a, "service"), svc))
                continue;
            const json_t *name = json_object_get(a, "name");
            size_t n = 0, no = 0, count = 0;
            for (size_t m = j; m < na; m++) {
                const json_t *b = json_array_get(alerts, m);
                if (done[m] || !json_equal(json_object_get(b, "service"), svc) ||
                    !json_equal(json_object_get(b, "name"), name))
                    continue;
                done[m] = true;
                count++;
                json_array_foreach(json_object_get(b, "episodes"), k, ep)
                {
                    int64_t st = report_json_time(json_object_get(ep, "starts_at"));
                    int64_t en = report_json_time(json_object_get(ep, "ends_at"));
                    if (st == AM_TIME_NONE)
                        continue;
                    bool open = en == AM_TIME_NONE;
                    int64_t **ps = open ? &os : &s, **pe = open ? &oe : &e;
                    size_t *pn = open ? &no : &n;
                    *ps = am_xrealloc(*ps, (*pn + 1) * sizeof **ps);
                    *pe = am_xrealloc(*pe, (*pn + 1) * sizeof **pe);
                    (*ps)[*pn] = st;
                    (*pe)[*pn] = open ? (hi > st ? hi : st) : en;
                    (*pn)++;
                }
            }
            json_t *row = json_pack("{s:O,s:O,s:i,s:[]}", "service", svc, "name", name, "count",
                                    (json_int_t)count, "bars");
            if (count == 1)
                json_object_set(row, "instances", json_object_get(a, "instances"));
            /* A single alert keeps its episodes (its cycles); a group's
             * are merged. */
            size_t m = count == 1 ? n : report_union(s, e, n);
            size_t mo = count == 1 ? no : report_union(os, oe, no);
            json_t *bars = json_object_get(row, "bars");
            if (m + mo > max_bars) { /* one bar over the whole span */
                int64_t lo_t = m ? s[0] : os[0], hi_t = m ? e[0] : oe[0];
                for (size_t q = 0; q < m; q++) {
                    lo_t = s[q] < lo_t ? s[q] : lo_t;
                    hi_t = e[q] > hi_t ? e[q] : hi_t;
                }
                for (size_t q = 0; q < mo; q++) {
                    lo_t = os[q] < lo_t ? os[q] : lo_t;
                    hi_t = oe[q] > hi_t ? oe[q] : hi_t;
                }
                json_array_append_new(
                    bars, json_pack("[I,I,b]", (json_int_t)lo_t, (json_int_t)hi_t, mo > 0));
            } else {
                for (size_t q = 0; q < m; q++)
                    json_array_append_new(
                        bars, json_pack("[I,I,b]", (json_int_t)s[q], (json_int_t)e[q], 0));
                for (size_t q = 0; q < mo; q++)
                    json_array_append_new(
                        bars, json_pack("[I,I,b]", (json_int_t)os[q], (json_int_t)oe[q], 1));
            }
            json_array_append_new(out, row);
        }
    }
    free(s);
    free(e);
    free(os);
    free(oe);
    free(done);
    json_decref(svcs);
    return out;
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
        {"lead_in", "Lead-in"},
        {"after_resolution", "After resolution"},
        {"alerts_folded", "Alerts folded"},
    };
    for (size_t i = 0; type && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i][0], type) == 0)
            return map[i][1];
    return "Event";
}
