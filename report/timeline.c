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
    return strcmp(json_string_value(json_object_get(x, "name")),
                  json_string_value(json_object_get(y, "name")));
}

json_t *report_timeline_alerts(const report_linked_t *ev, size_t n)
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
        add_unique(json_object_get(a, "instances"), am_labels_get(&e->labels, "instance"));
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
};

typedef struct entry {
    int64_t at;
    int rank;
    size_t order;
    json_t *obj;
} entry_t;

typedef struct entries {
    entry_t *v;
    size_t n, cap;
} entries_t;

/* Adds an entry and returns its object (borrowed). */
static json_t *add(entries_t *es, int64_t at, int rank, const char *type, const char *text,
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
    es->n++;
    return o;
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

static void add_deploy(entries_t *es, const am_event_t *e, int64_t started, bool no_names)
{
    am_buf_t text = {0}, src = {0};
    int suspect =
        started != AM_TIME_NONE && e->starts_at != AM_TIME_NONE && e->starts_at <= started;
    int rollback = e->status && strcmp(e->status, "rolled_back") == 0;
    if (rollback)
        am_buf_printf(&text, "Rollback of %s to %s", nz(e->name, "unnamed artifact"),
                      nz(e->version, "unknown version"));
    else
        am_buf_printf(&text, "Deploy of %s %s", nz(e->name, "unnamed artifact"),
                      nz(e->version, "unknown version"));
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
    json_t *o = add(es, e->starts_at, suspect ? RANK_SUSPECT : RANK_DEPLOY,
                    suspect ? "suspect_deploy" : (rollback ? "rollback" : "deploy"), text.p, src.p,
                    no_names ? NULL : e->actor);
    json_object_set_new(o, "name", str_or_null(e->name));
    json_object_set_new(o, "version", str_or_null(e->version));
    am_buf_free(&text);
    am_buf_free(&src);
}

static void add_alert_lines(entries_t *es, const json_t *a)
{
    const char *name = json_string_value(json_object_get(a, "name"));
    const char *service = json_string_value(json_object_get(a, "service"));
    const char *summary = json_string_value(json_object_get(a, "summary"));
    json_int_t cycles = json_integer_value(json_object_get(a, "cycles"));
    /* Times refused as implausible are said on the alert's line: the
     * reader must know why its end is unknown or taken from elsewhere. */
    am_buf_t refused = {0};
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(a, "times_refused"), i, r)
    {
        am_buf_printf(&refused, "; %s", json_string_value(r));
    }
    am_buf_t text = {0}, src = {0};
    am_buf_printf(&src, "alert %s, service %s", name, nz(service, "unknown"));
    int64_t first = report_json_time(json_object_get(a, "first_firing"));
    if (cycles > 1) {
        char t1[AM_TIME_STRLEN], t2[AM_TIME_STRLEN], du[AM_TIME_STRLEN];
        int64_t last = report_json_time(json_object_get(a, "last_resolved"));
        am_time_format(first, t1);
        am_buf_printf(&text, "Alert %s flapped: %lld cycles", name, (long long)cycles);
        if (last == AM_TIME_NONE) {
            am_buf_printf(&text, " from %.8s, still firing", t1 + 11);
        } else {
            am_time_format(last, t2);
            am_buf_printf(&text, " between %.8s and ", t1 + 11);
            if (strncmp(t1, t2, 10) == 0) /* the end's date only when it is another day */
                am_buf_printf(&text, "%.8s", t2 + 11);
            else
                am_buf_printf(&text, "%.10s %.8s", t2, t2 + 11);
            am_buf_printf(&text, ", over %s", am_duration_human(last - first, du));
            if (json_is_true(json_object_get(a, "end_inferred")))
                am_buf_puts(&text, " (an end inferred)");
        }
        if (summary)
            am_buf_printf(&text, " - %s", summary);
        if (refused.p)
            am_buf_puts(&text, refused.p);
        add(es, first, RANK_FIRING, "alert_flapping", text.p, src.p, NULL);
        goto done;
    }
    am_buf_printf(&text, "Alert %s fired", name);
    if (summary)
        am_buf_printf(&text, ": %s", summary);
    if (refused.p)
        am_buf_puts(&text, refused.p);
    add(es, first, RANK_FIRING, "alert_firing", text.p, src.p, NULL);
    int64_t end = report_json_time(json_object_get(a, "last_resolved"));
    if (end != AM_TIME_NONE) {
        am_buf_reset(&text);
        am_buf_printf(&text, "Alert %s %s", name,
                      json_is_true(json_object_get(a, "end_inferred"))
                          ? "ended (inferred: no resolve was received)"
                          : "resolved");
        add(es, end, RANK_RESOLVED, "alert_resolved", text.p, src.p, NULL);
    }
done:
    am_buf_free(&refused);
    am_buf_free(&text);
    am_buf_free(&src);
}

/* "alert A, alert B" of the alerts first delivered at detected. */
static void detection_source(am_buf_t *src, const json_t *alerts, int64_t detected)
{
    size_t i, k = 0;
    json_t *a;
    if (detected == AM_TIME_NONE) {
        am_buf_puts(src, "no delivery time recorded for the incident's alerts");
        return;
    }
    json_array_foreach(alerts, i, a)
    {
        if (report_json_time(json_object_get(a, "notified_at")) != detected)
            continue;
        am_buf_printf(src, "%salert %s, service %s", k++ ? "; " : "",
                      json_string_value(json_object_get(a, "name")),
                      nz(json_string_value(json_object_get(a, "service")), "unknown"));
    }
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
    add(&es, started, RANK_IMPACT, "impact_start", "Impact starts",
        by_alert ? "earliest alert start, monitoring clock"
                 : "incident record: the rule's impact start",
        NULL);
    detection_source(&src, alerts, detected);
    add(&es, detected, RANK_DETECTION, "detection",
        detected == AM_TIME_NONE ? "Detection: unknown" : "Detected: first notification delivered",
        src.p, NULL);
    int ack_seen = 0;
    for (i = 0; i < n; i++) {
        const am_event_t *e = &ev[i].ev;
        if (ev[i].role == REPORT_ROLE_SUSPECT || ev[i].role == REPORT_ROLE_DURING) {
            add_deploy(&es, e, started, no_names);
        } else if (ev[i].role == REPORT_ROLE_ACK) {
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
        } else if (ev[i].role == REPORT_ROLE_NOTE) {
            am_buf_reset(&text);
            am_buf_reset(&src);
            am_buf_printf(&text, "Note: %s", nz(e->summary, "(empty note)"));
            am_buf_printf(&src, "note via %s", nz(e->source, "unknown source"));
            add(&es, e->starts_at, RANK_NOTE, "note", text.p, src.p, no_names ? NULL : e->actor);
        }
    }
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
    for (i = 0; i < es.n; i++)
        json_array_append_new(out, es.v[i].obj);
    free(es.v);
    am_buf_free(&src);
    am_buf_free(&text);
    return out;
}
