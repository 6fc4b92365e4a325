/*
 * timeline.c - the incident's story, rebuilt from the events linked to it.
 *
 * Alerts are grouped by identity (Alertmanager's label fingerprint), so a
 * re-sent notification and the firing/resolved pair of one episode are one
 * alert; an identity with several episodes (distinct starts_at) is a
 * flapping alert and gets one timeline line with its cycle count and span.
 * Entries are sorted by time, then by a fixed rank of their type (impact
 * start before the alert that marks it, mitigation before resolution),
 * then by the order they were made; entries whose time is unknown go last
 * and are written as unknown, never as 1970. A time the decoder refused as
 * implausible (the annotation AM_ANNOTATION_TIME_REFUSED) is said on its
 * alert's line, so the reader knows why an end is missing.
 */
#include "report/timeline.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/time.h"

int report_role_parse(const char *name, report_role_t *role)
{
    static const char *const names[] = {"alert", "ack", "note", "suspect", "during"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0) {
            *role = (report_role_t)i;
            return 0;
        }
    return -1;
}

int64_t report_json_time(const json_t *v)
{
    int64_t ms;
    if (!json_is_string(v))
        return AM_TIME_NONE;
    if (am_time_parse(json_string_value(v), json_string_length(v), &ms, NULL, 0) != 0)
        return AM_TIME_NONE;
    return ms;
}

static json_t *time_json(int64_t ms)
{
    char t[AM_TIME_STRLEN];
    return ms == AM_TIME_NONE ? json_null() : json_string(am_time_format(ms, t));
}

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

/* Appends s to the JSON array of strings arr unless it is there already. */
static void add_unique(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    if (!s || !*s)
        return;
    json_array_foreach(arr, i, v)
    {
        if (strcmp(json_string_value(v), s) == 0)
            return;
    }
    json_array_append_new(arr, json_string(s));
}

/* Key grouping the notifications of one alert: its identity, else name
 * and service. Owned. */
static char *alert_key(const am_event_t *ev)
{
    am_buf_t b = {0};
    if (ev->identity && *ev->identity)
        am_buf_puts(&b, ev->identity);
    else
        am_buf_printf(&b, "%s\x1f%s", ev->name ? ev->name : "", ev->service ? ev->service : "");
    return am_buf_steal(&b);
}

static void add_episode(json_t *episodes, int64_t starts, int64_t ends)
{
    size_t i;
    json_t *e;
    json_array_foreach(episodes, i, e)
    {
        if (report_json_time(json_object_get(e, "starts_at")) != starts)
            continue;
        int64_t cur = report_json_time(json_object_get(e, "ends_at"));
        if (ends != AM_TIME_NONE && (cur == AM_TIME_NONE || ends > cur))
            json_object_set_new(e, "ends_at", time_json(ends));
        return;
    }
    /* Keep episodes ordered by start. */
    for (i = 0; i < json_array_size(episodes); i++)
        if (report_json_time(json_object_get(json_array_get(episodes, i), "starts_at")) > starts)
            break;
    json_array_insert_new(
        episodes, i,
        json_pack("{s:o,s:o}", "starts_at", time_json(starts), "ends_at", time_json(ends)));
}

static int cmp_string(const void *a, const void *b)
{
    return strcmp(json_string_value(*(const json_t *const *)a),
                  json_string_value(*(const json_t *const *)b));
}

/* Sorts a JSON array of strings in place (NULL: nothing), so that what it
 * says does not depend on the order the events were read in. */
static void sort_strings(json_t *arr)
{
    size_t n = json_array_size(arr);
    if (n < 2)
        return;
    json_t **v = am_xcalloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(arr, i));
    qsort(v, n, sizeof *v, cmp_string);
    json_array_clear(arr);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, v[i]);
    free(v);
}

static int cmp_first_firing(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    int64_t tx = report_json_time(json_object_get(x, "first_firing"));
    int64_t ty = report_json_time(json_object_get(y, "first_firing"));
    if (tx != ty)
        return tx < ty ? -1 : 1;
    int c = strcmp(json_string_value(json_object_get(x, "name")),
                   json_string_value(json_object_get(y, "name")));
    if (c)
        return c;
    /* Alerts of one name that start together: by service, then place,
     * so that a group names its places in the same order every time. */
    const char *sx = json_string_value(json_object_get(x, "service"));
    const char *sy = json_string_value(json_object_get(y, "service"));
    if ((c = strcmp(sx ? sx : "", sy ? sy : "")) != 0)
        return c;
    const char *wx = json_string_value(json_array_get(json_object_get(x, "instances"), 0));
    const char *wy = json_string_value(json_array_get(json_object_get(y, "instances"), 0));
    return strcmp(wx ? wx : "", wy ? wy : "");
}

/* Whether the incident's key (its group_by labels) has label name: then
 * every alert of the incident shares its value, and naming it on each
 * line would only repeat the key. */
static bool key_has(const json_t *key, const char *name)
{
    return json_object_get(key, name) != NULL;
}

/* Where an alert fired, from the labels Prometheus and kube-prometheus put
 * on it: the first of instance, pod, node, deployment, statefulset,
 * daemonset, job_name, persistentvolumeclaim (the namespaced ones as
 * "namespace/name"), else the namespace; then "in cluster C" unless the
 * key holds the cluster. Owned, or NULL when the labels name no place. */
static char *alert_where(const am_labels_t *l, const json_t *key)
{
    static const struct {
        const char *label;
        bool namespaced;
    } primary[] = {
        {"instance", false},   {"pod", true},
        {"node", false},       {"deployment", true},
        {"statefulset", true}, {"daemonset", true},
        {"job_name", true},    {"persistentvolumeclaim", true},
    };
    am_buf_t b = {0};
    const char *ns = am_labels_get(l, "namespace");
    if (ns && (!*ns || key_has(key, "namespace")))
        ns = NULL;
    for (size_t i = 0; i < sizeof primary / sizeof primary[0] && !b.len; i++) {
        const char *v = am_labels_get(l, primary[i].label);
        if (!v || !*v)
            continue;
        if (primary[i].namespaced && ns)
            am_buf_printf(&b, "%s/", ns);
        am_buf_puts(&b, v);
    }
    if (!b.len && ns)
        am_buf_printf(&b, "namespace %s", ns);
    const char *cluster = am_labels_get(l, "cluster");
    if (cluster && *cluster && !key_has(key, "cluster"))
        am_buf_printf(&b, "%scluster %s", b.len ? " in " : "", cluster);
    if (!b.len) {
        am_buf_free(&b);
        return NULL;
    }
    return am_buf_steal(&b);
}

json_t *report_timeline_alerts(const report_linked_t *ev, size_t n, const json_t *group_key)
{
    json_t *by_key = json_object();
    for (size_t i = 0; i < n; i++) {
        const am_event_t *e = &ev[i].ev;
        if (ev[i].role != REPORT_ROLE_ALERT || e->kind != AM_KIND_ALERT)
            continue;
        char *key = alert_key(e);
        json_t *a = json_object_get(by_key, key);
        if (!a) {
            a = json_pack("{s:s,s:o,s:o,s:[],s:[],s:n,s:n,s:n,s:n,s:n,s:i,s:[]}", "name",
                          e->name ? e->name : "(unnamed alert)", "service", str_or_null(e->service),
                          "severity", str_or_null(e->severity), "instances", "components",
                          "summary", "description", "first_firing", "last_resolved", "notified_at",
                          "cycles", 0, "episodes");
            json_object_set_new(by_key, key, a);
        }
        free(key);
        char *where = alert_where(&e->labels, group_key);
        add_unique(json_object_get(a, "instances"), where);
        free(where);
        add_unique(json_object_get(a, "components"), am_labels_get(&e->labels, "component"));
        add_unique(json_object_get(a, "components"), am_labels_get(&e->labels, "job"));
        /* A resolved notification often carries no annotations: the
         * firing one's summary and description describe the alert. */
        const char *summary = am_labels_get(&e->annotations, "summary");
        const char *desc = am_labels_get(&e->annotations, "description");
        int firing = !e->status || strcmp(e->status, "firing") == 0;
        if (summary && (firing || json_is_null(json_object_get(a, "summary"))) &&
            !(summary && e->name && strcmp(summary, e->name) == 0))
            json_object_set_new(a, "summary", json_string(summary));
        if (desc && (firing || json_is_null(json_object_get(a, "description"))))
            json_object_set_new(a, "description", json_string(desc));
        const char *refused = am_labels_get(&e->annotations, AM_ANNOTATION_TIME_REFUSED);
        if (refused) {
            if (!json_object_get(a, "times_refused"))
                json_object_set_new(a, "times_refused", json_array());
            add_unique(json_object_get(a, "times_refused"), refused);
        }
        if (e->starts_at != AM_TIME_NONE)
            add_episode(json_object_get(a, "episodes"), e->starts_at, e->ends_at);
        if (am_labels_get(&e->annotations, "end_inferred"))
            json_object_set_new(a, "end_inferred", json_true());
        int64_t obs = report_json_time(json_object_get(a, "notified_at"));
        if (e->observed_at != AM_TIME_NONE && (obs == AM_TIME_NONE || e->observed_at < obs))
            json_object_set_new(a, "notified_at", time_json(e->observed_at));
    }
    /* Derived fields, then order by first firing. */
    size_t count = json_object_size(by_key), k = 0;
    json_t **list = am_xcalloc(count ? count : 1, sizeof *list);
    const char *key;
    json_t *a;
    json_object_foreach(by_key, key, a)
    {
        sort_strings(json_object_get(a, "times_refused"));
        json_t *eps = json_object_get(a, "episodes");
        size_t ne = json_array_size(eps);
        json_object_set_new(a, "cycles", json_integer((json_int_t)ne));
        if (ne) {
            json_object_set(a, "first_firing",
                            json_object_get(json_array_get(eps, 0), "starts_at"));
            int64_t last = AM_TIME_NONE;
            int open = 0;
            size_t i;
            json_t *ep;
            json_array_foreach(eps, i, ep)
            {
                int64_t end = report_json_time(json_object_get(ep, "ends_at"));
                if (end == AM_TIME_NONE)
                    open = 1;
                else if (last == AM_TIME_NONE || end > last)
                    last = end;
            }
            json_object_set_new(a, "last_resolved", open ? json_null() : time_json(last));
        }
        list[k++] = a;
    }
    qsort(list, count, sizeof *list, cmp_first_firing);
    json_t *out = json_array();
    for (k = 0; k < count; k++)
        json_array_append(out, list[k]);
    free(list);
    json_decref(by_key);
    return out;
}

/* Timeline ranks: the order of entries that share a time. */
enum {
    RANK_LEAD_IN,
    RANK_SUSPECT,
    RANK_IMPACT,
    RANK_FIRING,
    RANK_DETECTION,
    RANK_ACK,
    RANK_NOTE,
    RANK_DEPLOY,
    RANK_RESOLVED,
    RANK_MITIGATION,
    RANK_RESOLUTION,
    RANK_AFTER,
};

/* What an alert line says; its text is written once the lines are grouped
 * (alert_text()). */
typedef enum alert_what {
    WHAT_NONE, /* not an alert line */
    WHAT_FIRED,
    WHAT_RESOLVED,
    WHAT_ENDED, /* end inferred */
    WHAT_FLAPPED,
} alert_what_t;

typedef struct entry {
    int64_t at;
    int rank;
    size_t order;
    json_t *obj;
    /* Alert lines: the alert's fields (borrowed from its JSON object). */
    alert_what_t what;
    const json_t *alert;
    bool alone; /* never grouped (a time refused: its line says so) */
} entry_t;

typedef struct entries {
    entry_t *v;
    size_t n, cap;
} entries_t;

/* Adds an entry and returns it (valid until the next add). */
static entry_t *add_entry(entries_t *es, int64_t at, int rank, const char *type, const char *text,
                          const char *source, const char *actor)
{
    if (es->n == es->cap) {
        es->cap = es->cap ? es->cap * 2 : 16;
        es->v = am_xrealloc(es->v, es->cap * sizeof *es->v);
    }
    json_t *o = json_pack("{s:o,s:s,s:s,s:s}", "at", time_json(at), "type", type, "text", text,
                          "source", source);
    if (actor && *actor)
        json_object_set_new(o, "actor", json_string(actor));
    es->v[es->n] = (entry_t){.at = at, .rank = rank, .order = es->n, .obj = o};
    return &es->v[es->n++];
}

/* Adds an entry and returns its object (borrowed). */
static json_t *add(entries_t *es, int64_t at, int rank, const char *type, const char *text,
                   const char *source, const char *actor)
{
    return add_entry(es, at, rank, type, text, source, actor)->obj;
}

static int cmp_entry(const void *a, const void *b)
{
    const entry_t *x = a, *y = b;
    int xu = x->at == AM_TIME_NONE, yu = y->at == AM_TIME_NONE;
    if (xu != yu)
        return xu - yu;
    if (!xu && x->at != y->at)
        return x->at < y->at ? -1 : 1;
    if (x->rank != y->rank)
        return x->rank - y->rank;
    return x->order < y->order ? -1 : x->order > y->order;
}

static const char *nz(const char *s, const char *dflt)
{
    return s && *s ? s : dflt;
}

/* Where a deploy stands to the incident: linked (suspect or during), in
 * the lead-in before impact start, or after resolution. */
typedef enum deploy_ctx { DEPLOY_LINKED, DEPLOY_LEAD_IN, DEPLOY_AFTER } deploy_ctx_t;

static void add_deploy(entries_t *es, const am_event_t *e, int64_t started, deploy_ctx_t ctx,
                       bool no_names)
{
    am_buf_t text = {0}, src = {0};
    int suspect = ctx == DEPLOY_LINKED && started != AM_TIME_NONE && e->starts_at != AM_TIME_NONE &&
                  e->starts_at <= started;
    int rollback = e->status && strcmp(e->status, "rolled_back") == 0;
    if (ctx == DEPLOY_LEAD_IN)
        am_buf_puts(&text, "Lead-in: ");
    else if (ctx == DEPLOY_AFTER)
        am_buf_puts(&text, "After resolution: ");
    if (rollback)
        am_buf_printf(&text, "%s of %s to %s", ctx == DEPLOY_LINKED ? "Rollback" : "rollback",
                      nz(e->name, "unnamed artifact"), nz(e->version, "unknown version"));
    else
        am_buf_printf(&text, "%s of %s %s", ctx == DEPLOY_LINKED ? "Deploy" : "deploy",
                      nz(e->name, "unnamed artifact"), nz(e->version, "unknown version"));
    if (e->service)
        am_buf_printf(&text, " to service %s", e->service);
    if (e->status && !rollback)
        am_buf_printf(&text, ", %s", e->status);
    if (suspect && started == e->starts_at) {
        am_buf_puts(&text, " - suspect, at impact start");
    } else if (suspect) {
        char d[AM_TIME_STRLEN];
        am_buf_printf(&text, " - suspect, %s before impact start",
                      am_duration_human(started - e->starts_at, d));
    }
    if (e->summary && *e->summary)
        am_buf_printf(&text, ": %s", e->summary);
    am_buf_printf(&src, "deploy %s %s via %s", nz(e->name, "unnamed"), nz(e->version, "unknown"),
                  nz(e->source, "unknown source"));
    if (ctx == DEPLOY_LEAD_IN)
        am_buf_puts(&src, "; not linked by the rule: shown as context before impact start");
    else if (ctx == DEPLOY_AFTER)
        am_buf_puts(&src, "; not linked by the rule: the first deploys after resolution, often "
                          "the fix");
    const char *type = ctx == DEPLOY_LEAD_IN ? "lead_in"
                       : ctx == DEPLOY_AFTER ? "after_resolution"
                       : suspect             ? "suspect_deploy"
                       : rollback            ? "rollback"
                                             : "deploy";
    int rank = ctx == DEPLOY_LEAD_IN ? RANK_LEAD_IN
               : ctx == DEPLOY_AFTER ? RANK_AFTER
               : suspect             ? RANK_SUSPECT
                                     : RANK_DEPLOY;
    json_t *o = add(es, e->starts_at, rank, type, text.p, src.p, no_names ? NULL : e->actor);
    json_object_set_new(o, "name", str_or_null(e->name));
    json_object_set_new(o, "version", str_or_null(e->version));
    am_buf_free(&text);
    am_buf_free(&src);
}

static void add_alert_lines(entries_t *es, const json_t *a)
{
    const char *name = json_string_value(json_object_get(a, "name"));
    const char *service = json_string_value(json_object_get(a, "service"));
    json_int_t cycles = json_integer_value(json_object_get(a, "cycles"));
    bool alone = json_array_size(json_object_get(a, "times_refused")) > 0;
    am_buf_t src = {0};
    am_buf_printf(&src, "alert %s, service %s", name, nz(service, "unknown"));
    int64_t first = report_json_time(json_object_get(a, "first_firing"));
    entry_t *e;
    if (cycles > 1) {
        e = add_entry(es, first, RANK_FIRING, "alert_flapping", "", src.p, NULL);
        e->what = WHAT_FLAPPED;
    } else {
        e = add_entry(es, first, RANK_FIRING, "alert_firing", "", src.p, NULL);
        e->what = WHAT_FIRED;
    }
    e->alert = a;
    e->alone = alone;
    int64_t end = report_json_time(json_object_get(a, "last_resolved"));
    if (cycles <= 1 && end != AM_TIME_NONE) {
        e = add_entry(es, end, RANK_RESOLVED, "alert_resolved", "", src.p, NULL);
        e->what = json_is_true(json_object_get(a, "end_inferred")) ? WHAT_ENDED : WHAT_RESOLVED;
        e->alert = a;
        e->alone = alone;
    }
    am_buf_free(&src);
}

/* "14:05:00", or "2024-06-19 02:00:00" when t is not on the day of ref. */
static void put_clock(am_buf_t *b, int64_t t, int64_t ref)
{
    char t1[AM_TIME_STRLEN], t2[AM_TIME_STRLEN];
    am_time_format(t, t1);
    am_time_format(ref, t2);
    if (strncmp(t1, t2, 10) == 0)
        am_buf_printf(b, "%.8s", t1 + 11);
    else
        am_buf_printf(b, "%.10s %.8s", t1, t1 + 11);
}

/* How many places a grouped line names before "(+N)". */
enum { GROUP_NAMED = 3 };

/* The text of an alert line standing for the alert lines g[0..k) (same
 * what, name and service; sorted by time), and its JSON fields count and
 * instances when k > 1. */
static void alert_text(entry_t *const *g, size_t k)
{
    const json_t *a = g[0]->alert;
    const char *name = json_string_value(json_object_get(a, "name"));
    const char *summary = json_string_value(json_object_get(a, "summary"));
    alert_what_t what = g[0]->what;
    am_buf_t t = {0};
    static const char *const verbs[] = {"", "fired", "resolved", "ended", "flapped"};
    am_buf_printf(&t, "Alert %s %s", name, verbs[what]);
    /* Places, each once, in time order. */
    json_t *places = json_array();
    for (size_t i = 0; i < k; i++) {
        size_t j;
        json_t *w;
        json_array_foreach(json_object_get(g[i]->alert, "instances"), j, w)
        {
            add_unique(places, json_string_value(w));
        }
    }
    size_t np = json_array_size(places);
    if (k == 1 && np) {
        am_buf_puts(&t, " on ");
        for (size_t i = 0; i < np; i++)
            am_buf_printf(&t, "%s%s", i ? ", " : "", json_string_value(json_array_get(places, i)));
    } else if (k > 1) {
        if (np == k)
            am_buf_printf(&t, " on %zu instances", k);
        else if (np)
            am_buf_printf(&t, " (%zu alerts) on %zu instances", k, np);
        else
            am_buf_printf(&t, " (%zu alerts)", k);
        for (size_t i = 0; i < np && i < GROUP_NAMED; i++)
            am_buf_printf(&t, "%s%s", i ? ", " : ": ",
                          json_string_value(json_array_get(places, i)));
        if (np > GROUP_NAMED)
            am_buf_printf(&t, " \u2026 (+%zu)", np - GROUP_NAMED);
    }
    int64_t t0 = g[0]->at, t1 = g[k - 1]->at;
    if (what == WHAT_FLAPPED) {
        json_int_t cycles = 0;
        int64_t first = AM_TIME_NONE, last = AM_TIME_NONE;
        bool open = false, inferred = false;
        for (size_t i = 0; i < k; i++) {
            const json_t *x = g[i]->alert;
            cycles += json_integer_value(json_object_get(x, "cycles"));
            int64_t f = report_json_time(json_object_get(x, "first_firing"));
            int64_t l = report_json_time(json_object_get(x, "last_resolved"));
            if (f != AM_TIME_NONE && (first == AM_TIME_NONE || f < first))
                first = f;
            if (l == AM_TIME_NONE)
                open = true;
            else if (last == AM_TIME_NONE || l > last)
                last = l;
            inferred |= json_is_true(json_object_get(x, "end_inferred"));
        }
        char t1s[AM_TIME_STRLEN], du[AM_TIME_STRLEN];
        am_time_format(first, t1s);
        am_buf_printf(&t, ": %lld cycles%s", (long long)cycles, k > 1 ? " in all" : "");
        if (open && k == 1) {
            am_buf_printf(&t, " from %.8s, still firing", t1s + 11);
        } else if (last != AM_TIME_NONE) {
            am_buf_printf(&t, " between %.8s and ", t1s + 11);
            put_clock(&t, last, first);
            am_buf_printf(&t, ", over %s", am_duration_human(last - first, du));
            if (open)
                am_buf_puts(&t, ", some still firing");
            if (inferred)
                am_buf_puts(&t, " (an end inferred)");
        }
        if (summary)
            am_buf_printf(&t, " - %s", summary);
    } else {
        if (k > 1 && t1 != t0) {
            am_buf_puts(&t, " between ");
            put_clock(&t, t0, t0);
            am_buf_puts(&t, " and ");
            put_clock(&t, t1, t0);
        }
        if (what == WHAT_ENDED)
            am_buf_puts(&t, " (inferred: no resolve was received)");
        else if (what == WHAT_FIRED && summary)
            am_buf_printf(&t, ": %s", summary);
    }
    if (g[0]->alone && (what == WHAT_FIRED || what == WHAT_FLAPPED)) {
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(a, "times_refused"), i, r)
        {
            am_buf_printf(&t, "; %s", json_string_value(r));
        }
    }
    json_object_set_new(g[0]->obj, "text", json_string(t.p));
    if (k > 1) {
        json_object_set_new(g[0]->obj, "count", json_integer((json_int_t)k));
        json_object_set_new(g[0]->obj, "instances", places);
    } else {
        json_decref(places);
    }
    am_buf_free(&t);
}

/* Alert lines of one alert name and service saying the same thing within
 * GROUP_WINDOW of the first are one line; past FOLD_OVER alert lines, the
 * first and last FOLD_KEEP are kept and the rest folded into one line. */
#define GROUP_WINDOW (5 * 60 * 1000)
enum { FOLD_OVER = 120, FOLD_KEEP = 50 };

static bool same_group(const entry_t *x, const entry_t *y)
{
    if (x->what != y->what || x->alone || y->alone)
        return false;
    const json_t *a = x->alert, *b = y->alert;
    return json_equal(json_object_get(a, "name"), json_object_get(b, "name")) &&
           json_equal(json_object_get(a, "service"), json_object_get(b, "service"));
}

/* Groups and folds the sorted entries es into out. */
static void emit(entries_t *es, json_t *out)
{
    size_t n = es->n;
    size_t *lead = am_xcalloc(n ? n : 1, sizeof *lead); /* the group's first entry */
    size_t *open = am_xcalloc(n ? n : 1, sizeof *open), nopen = 0;
    for (size_t i = 0; i < n; i++) {
        lead[i] = i;
        entry_t *e = &es->v[i];
        if (e->what == WHAT_NONE)
            continue;
        size_t keep = 0;
        bool found = false;
        for (size_t j = 0; j < nopen; j++) {
            entry_t *g = &es->v[open[j]];
            if (e->at == AM_TIME_NONE || g->at == AM_TIME_NONE || e->at - g->at > GROUP_WINDOW)
                continue; /* closed: dropped from the open list */
            open[keep++] = open[j];
            if (!found && same_group(g, e)) {
                lead[i] = open[j];
                found = true;
            }
        }
        nopen = keep;
        if (!found)
            open[nopen++] = i;
    }
    /* Members of each group, in order. */
    size_t *count = am_xcalloc(n ? n : 1, sizeof *count);
    for (size_t i = 0; i < n; i++)
        count[lead[i]]++;
    entry_t **members = am_xcalloc(n ? n : 1, sizeof *members);
    size_t *at = am_xcalloc(n ? n : 1, sizeof *at), pos = 0;
    for (size_t i = 0; i < n; i++)
        if (lead[i] == i) {
            at[i] = pos;
            pos += count[i];
            count[i] = 0;
        }
    for (size_t i = 0; i < n; i++)
        members[at[lead[i]] + count[lead[i]]++] = &es->v[i];
    size_t lines = 0;
    for (size_t i = 0; i < n; i++)
        if (lead[i] == i && es->v[i].what != WHAT_NONE) {
            alert_text(members + at[i], count[i]);
            lines++;
        }
    /* Out, folding the middle of a long run of alert lines. */
    size_t seen = 0, folded = 0;
    int64_t fold_from = AM_TIME_NONE, fold_to = AM_TIME_NONE;
    json_t *fold = NULL;
    for (size_t i = 0; i < n; i++) {
        entry_t *e = &es->v[i];
        if (lead[i] != i) {
            json_decref(e->obj);
            continue;
        }
        if (e->what != WHAT_NONE) {
            size_t k = seen++;
            if (lines > FOLD_OVER && k >= FOLD_KEEP && k < lines - FOLD_KEEP) {
                if (!fold) {
                    fold = json_pack("{s:o,s:s,s:s,s:s}", "at",
                                     json_copy(json_object_get(e->obj, "at")), "type",
                                     "alerts_folded", "text", "", "source", "");
                    json_array_append_new(out, fold);
                    fold_from = e->at;
                }
                folded += count[i];
                fold_to = e->at;
                json_decref(e->obj);
                continue;
            }
        }
        json_array_append_new(out, e->obj);
    }
    if (fold) {
        am_buf_t t = {0};
        size_t nfold = lines - 2 * FOLD_KEEP;
        am_buf_printf(&t, "%zu more alert lines (%zu alerts firing or resolving) between ", nfold,
                      folded);
        put_clock(&t, fold_from, fold_from);
        am_buf_puts(&t, " and ");
        put_clock(&t, fold_to, fold_from);
        am_buf_puts(&t, ", folded");
        json_object_set_new(fold, "text", json_string(t.p));
        json_object_set_new(fold, "source",
                            json_string("every alert is in the draft's alerts (JSON) and the "
                                        "impact table"));
        json_object_set_new(fold, "count", json_integer((json_int_t)folded));
        am_buf_free(&t);
    }
    free(lead);
    free(open);
    free(count);
    free(members);
    free(at);
}

/* "alert A, service S (N alerts); ..." of the alerts first delivered at
 * detected, each name and service once. */
static void detection_source(am_buf_t *src, const json_t *alerts, int64_t detected)
{
    size_t i, k = 0;
    json_t *a;
    if (detected == AM_TIME_NONE) {
        am_buf_puts(src, "no delivery time recorded for the incident's alerts");
        return;
    }
    json_t *seen = json_object();
    am_buf_t key = {0};
    json_array_foreach(alerts, i, a)
    {
        if (report_json_time(json_object_get(a, "notified_at")) != detected)
            continue;
        const char *name = json_string_value(json_object_get(a, "name"));
        const char *svc = nz(json_string_value(json_object_get(a, "service")), "unknown");
        am_buf_reset(&key);
        am_buf_printf(&key, "%s\x1f%s", name, svc);
        json_t *c = json_object_get(seen, key.p);
        if (c) {
            json_array_set_new(c, 2, json_integer(json_integer_value(json_array_get(c, 2)) + 1));
            continue;
        }
        json_object_set_new(seen, key.p, json_pack("[ssi]", name, svc, 1));
        json_array_append_new(json_object_get(seen, key.p), json_integer((json_int_t)k++));
    }
    /* In the order first met. */
    json_t **list = am_xcalloc(k ? k : 1, sizeof *list);
    const char *kk;
    json_t *c;
    json_object_foreach(seen, kk, c)
    {
        list[json_integer_value(json_array_get(c, 3))] = c;
    }
    for (i = 0; i < k; i++) {
        json_int_t cnt = json_integer_value(json_array_get(list[i], 2));
        am_buf_printf(src, "%salert %s, service %s", i ? "; " : "",
                      json_string_value(json_array_get(list[i], 0)),
                      json_string_value(json_array_get(list[i], 1)));
        if (cnt > 1)
            am_buf_printf(src, " (%lld alerts)", (long long)cnt);
    }
    free(list);
    am_buf_free(&key);
    json_decref(seen);
    if (!k)
        am_buf_puts(src, "incident record");
    am_buf_puts(src, " - first delivery, Kafka timestamp");
}

/* The incident's own lines (impact start, detection, the recorded
 * acknowledgement, mitigation, resolution) whose time a person corrected
 * (correlate/incident.h "corrections") say so, rather than the derivation
 * they no longer follow. */
static void people_lines(entries_t *es, const json_t *incident, bool no_names)
{
    static const struct {
        const char *type, *field, *text;
    } map[] = {
        {"impact_start", "started_at", "Impact starts"},
        {"detection", "detected_at", "Detected"},
        {"ack", "acknowledged_at", "Acknowledged"},
        {"mitigation", "mitigated_at", "Mitigated"},
        {"resolution", "resolved_at", "Resolved"},
    };
    const json_t *corr = json_object_get(incident, "corrections");
    for (size_t i = 0; corr && i < es->n; i++) {
        json_t *o = es->v[i].obj;
        const char *type = json_string_value(json_object_get(o, "type"));
        const char *source = json_string_value(json_object_get(o, "source"));
        for (size_t k = 0; k < sizeof map / sizeof map[0]; k++) {
            const json_t *c = json_object_get(corr, map[k].field);
            if (!c || strcmp(type, map[k].type) != 0 ||
                (strcmp(type, "ack") == 0 && strcmp(source, "incident record") != 0))
                continue;
            am_buf_t src = {0};
            char t[AM_TIME_STRLEN];
            am_buf_puts(&src, "a person's correction");
            if (!no_names && json_string_value(json_object_get(c, "actor")))
                am_buf_printf(&src, " by %s", json_string_value(json_object_get(c, "actor")));
            const char *at = json_string_value(json_object_get(c, "at"));
            int64_t ms;
            if (at && am_time_parse(at, strlen(at), &ms, NULL, 0) == 0)
                am_buf_printf(&src, " at %s", am_time_format(ms, t));
            if (json_string_value(json_object_get(c, "reason")))
                am_buf_printf(&src, ": %s", json_string_value(json_object_get(c, "reason")));
            json_object_set_new(o, "text", json_string(map[k].text));
            json_object_set_new(o, "source", json_string(src.p));
            am_buf_free(&src);
        }
    }
}

json_t *report_timeline_build(const json_t *incident, const json_t *alerts,
                              const report_linked_t *ev, size_t n, bool no_names)
{
    entries_t es = {0};
    int64_t started = report_json_time(json_object_get(incident, "started_at"));
    int64_t detected = report_json_time(json_object_get(incident, "detected_at"));
    int64_t acked = report_json_time(json_object_get(incident, "acknowledged_at"));
    int64_t mitigated = report_json_time(json_object_get(incident, "mitigated_at"));
    int64_t resolved = report_json_time(json_object_get(incident, "resolved_at"));
    int open = strcmp(nz(json_string_value(json_object_get(incident, "status")), ""), "open") == 0;
    am_buf_t src = {0}, text = {0};

    size_t i;
    json_t *a;
    int by_alert = 0;
    json_array_foreach(alerts, i, a)
    {
        add_alert_lines(&es, a);
        by_alert |= report_json_time(json_object_get(a, "first_firing")) == started;
    }
    const char *from = json_string_value(json_object_get(incident, "started_from"));
    add(&es, started, RANK_IMPACT, "impact_start", "Impact starts",
        by_alert ? "earliest alert start, monitoring clock"
        : from && strcmp(from, "pending") == 0
            ? "incident record: earliest alert start less the rule's pending (Prometheus for:)"
            : "incident record: the rule's impact start",
        NULL);
    detection_source(&src, alerts, detected);
    add(&es, detected, RANK_DETECTION, "detection",
        detected == AM_TIME_NONE ? "Detection: unknown" : "Detected: first notification delivered",
        src.p, NULL);
    int ack_seen = 0;
    /* A deploy's identity and status once: GitHub sends a deployment and
     * then its pending or in_progress status, two events that both say the
     * deploy started (the earlier is kept: ev is in time order). */
    json_t *deploys_seen = json_object();
    for (i = 0; i < n; i++) {
        const am_event_t *e = &ev[i].ev;
        report_role_t role = ev[i].role;
        if (e->kind == AM_KIND_DEPLOY && e->identity && *e->identity &&
            (role == REPORT_ROLE_SUSPECT || role == REPORT_ROLE_DURING ||
             role == REPORT_ROLE_LEAD_IN || role == REPORT_ROLE_AFTER)) {
            am_buf_reset(&text);
            am_buf_printf(&text, "%s\x1f%s\x1f%s", e->source ? e->source : "", e->identity,
                          e->status ? e->status : "");
            if (json_object_get(deploys_seen, text.p))
                continue;
            json_object_set_new(deploys_seen, text.p, json_true());
        }
        if (role == REPORT_ROLE_SUSPECT || role == REPORT_ROLE_DURING) {
            add_deploy(&es, e, started, DEPLOY_LINKED, no_names);
        } else if ((role == REPORT_ROLE_LEAD_IN || role == REPORT_ROLE_AFTER) &&
                   e->kind == AM_KIND_DEPLOY) {
            add_deploy(&es, e, started, role == REPORT_ROLE_LEAD_IN ? DEPLOY_LEAD_IN : DEPLOY_AFTER,
                       no_names);
        } else if (role == REPORT_ROLE_ACK) {
            am_buf_reset(&text);
            am_buf_reset(&src);
            am_buf_puts(&text, "Acknowledged");
            if (e->summary && *e->summary)
                am_buf_printf(&text, ": %s", e->summary);
            am_buf_printf(&src, "ack via %s", nz(e->source, "unknown source"));
            if (e->service)
                am_buf_printf(&src, ", service %s", e->service);
            add(&es, e->starts_at, RANK_ACK, "ack", text.p, src.p, no_names ? NULL : e->actor);
            ack_seen |= e->starts_at == acked;
        } else if (role == REPORT_ROLE_NOTE || role == REPORT_ROLE_LEAD_IN) {
            bool lead_in = role == REPORT_ROLE_LEAD_IN;
            am_buf_reset(&text);
            am_buf_reset(&src);
            am_buf_printf(&text, "%s: %s", lead_in ? "Lead-in: note" : "Note",
                          nz(e->summary, "(empty note)"));
            am_buf_printf(&src, "note via %s", nz(e->source, "unknown source"));
            if (lead_in)
                am_buf_puts(&src, "; before impact start, shown as context");
            add(&es, e->starts_at, lead_in ? RANK_LEAD_IN : RANK_NOTE, lead_in ? "lead_in" : "note",
                text.p, src.p, no_names ? NULL : e->actor);
        }
    }
    json_decref(deploys_seen);
    if (acked == AM_TIME_NONE)
        add(&es, AM_TIME_NONE, RANK_ACK, "ack", "Acknowledgement: none recorded",
            "no ack event linked to the incident", NULL);
    else if (!ack_seen)
        add(&es, acked, RANK_ACK, "ack", "Acknowledged: first human response", "incident record",
            NULL);
    if (json_is_true(json_object_get(incident, "mitigated_inferred")))
        add(&es, mitigated, RANK_MITIGATION, "mitigation",
            "Mitigated (inferred): no resolve was received for the last alert",
            "inferred end: the alert fired again, or its last notification before it stopped "
            "being re-notified (stale_after)",
            NULL);
    else
        add(&es, mitigated, RANK_MITIGATION, "mitigation",
            mitigated == AM_TIME_NONE ? "Mitigation: unknown, an alert is still firing"
                                      : "Mitigated: last alert of the incident resolved",
            "latest alert end, monitoring clock", NULL);
    add(&es, resolved, RANK_RESOLUTION, "resolution",
        resolved != AM_TIME_NONE ? "Resolved"
        : open                   ? "Resolution: unknown, the incident is still open"
                                 : "Resolution: unknown",
        "incident record: mitigation plus the rule's quiet period, or a resolve event", NULL);
    people_lines(&es, incident, no_names);

    qsort(es.v, es.n, sizeof *es.v, cmp_entry);
    json_t *out = json_array();
    emit(&es, out);
    free(es.v);
    am_buf_free(&src);
    am_buf_free(&text);
    return out;
}
