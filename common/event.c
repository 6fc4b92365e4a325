/*
 * event.c - the normalised event, its label lists and the label mapping.
 *
 * Label lists are small (a dozen entries), so they are sorted arrays:
 * insertion by shifting, lookup by binary search, and iteration in name
 * order for free, which the fingerprint and the stored JSON both need.
 */
#include "common/event.h"
#include "common/buf.h"
#include "common/hash.h"

#include <stdlib.h>
#include <string.h>

static const char *const kind_names[AM_KIND_COUNT] = {"alert", "deploy",     "ack",
                                                      "note",  "correction", "action"};

const char *am_kind_name(am_kind_t kind)
{
    return (unsigned)kind < AM_KIND_COUNT ? kind_names[kind] : "unknown";
}

int am_kind_parse(const char *name, am_kind_t *kind)
{
    for (unsigned i = 0; i < AM_KIND_COUNT; i++)
        if (strcmp(name, kind_names[i]) == 0) {
            *kind = (am_kind_t)i;
            return 0;
        }
    return -1;
}

static const char *const source_names[] = {"alertmanager", "cdevents", "flux",     "generic",
                                           "github",       "grafana",  "pagerduty"};

const char *am_source_static(const char *name)
{
    for (size_t i = 0; name && i < sizeof source_names / sizeof source_names[0]; i++)
        if (strcmp(name, source_names[i]) == 0)
            return source_names[i];
    return NULL;
}

/* Index of name, or of where it would be inserted (then *found = false). */
static size_t labels_find(const am_labels_t *labels, const char *name, bool *found)
{
    size_t lo = 0, hi = labels->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(labels->v[mid].name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

void am_labels_set(am_labels_t *labels, const char *name, const char *value)
{
    bool found;
    size_t i = labels_find(labels, name, &found);
    if (found) {
        free(labels->v[i].value);
        labels->v[i].value = am_xstrdup(value);
        return;
    }
    if (labels->n == labels->cap) {
        labels->cap = labels->cap ? labels->cap * 2 : 8;
        labels->v = am_xrealloc(labels->v, labels->cap * sizeof *labels->v);
    }
    memmove(&labels->v[i + 1], &labels->v[i], (labels->n - i) * sizeof *labels->v);
    labels->v[i].name = am_xstrdup(name);
    labels->v[i].value = am_xstrdup(value);
    labels->n++;
}

const char *am_labels_get(const am_labels_t *labels, const char *name)
{
    bool found;
    size_t i = labels_find(labels, name, &found);
    return found ? labels->v[i].value : NULL;
}

void am_labels_unset(am_labels_t *labels, const char *name)
{
    bool found;
    size_t i = labels_find(labels, name, &found);
    if (!found)
        return;
    free(labels->v[i].name);
    free(labels->v[i].value);
    memmove(&labels->v[i], &labels->v[i + 1], (labels->n - i - 1) * sizeof *labels->v);
    labels->n--;
}

void am_labels_copy(am_labels_t *dst, const am_labels_t *src)
{
    for (size_t i = 0; i < src->n; i++)
        am_labels_set(dst, src->v[i].name, src->v[i].value);
}

void am_labels_free(am_labels_t *labels)
{
    for (size_t i = 0; i < labels->n; i++) {
        free(labels->v[i].name);
        free(labels->v[i].value);
    }
    free(labels->v);
    memset(labels, 0, sizeof *labels);
}

uint64_t am_labels_fingerprint(const am_labels_t *labels)
{
    uint64_t h = AM_FNV64_INIT;
    for (size_t i = 0; i < labels->n; i++) {
        h = am_fnv64_add(h, labels->v[i].name, strlen(labels->v[i].name));
        h = am_fnv64_add_byte(h, 0xff);
        h = am_fnv64_add(h, labels->v[i].value, strlen(labels->v[i].value));
        h = am_fnv64_add_byte(h, 0xff);
    }
    return h;
}

json_t *am_labels_to_json(const am_labels_t *labels)
{
    json_t *obj = json_object();
    for (size_t i = 0; i < labels->n; i++)
        json_object_set_new(obj, labels->v[i].name, json_string(labels->v[i].value));
    return obj;
}

int am_labels_from_json(am_labels_t *labels, const json_t *obj, char *err, size_t errlen)
{
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)obj, name, value)
    {
        if (!json_is_string(value)) {
            am_errf(err, errlen, "%s: expected a string", name);
            return -1;
        }
        am_labels_set(labels, name, json_string_value(value));
    }
    return 0;
}

void am_event_init(am_event_t *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->starts_at = ev->ends_at = ev->observed_at = AM_TIME_NONE;
}

void am_event_free(am_event_t *ev)
{
    free(ev->id);
    free(ev->status);
    free(ev->name);
    free(ev->identity);
    free(ev->service);
    free(ev->environment);
    free(ev->severity);
    am_labels_free(&ev->labels);
    am_labels_free(&ev->annotations);
    free(ev->summary);
    free(ev->actor);
    free(ev->version);
    free(ev->url);
    free(ev->page);
    free(ev->labels_json);
    free(ev->annotations_json);
    am_event_init(ev);
}

void am_event_copy(am_event_t *dst, const am_event_t *src)
{
    am_event_init(dst);
    dst->id = am_xstrdup(src->id);
    dst->kind = src->kind;
    dst->status = am_xstrdup(src->status);
    dst->source = src->source;
    dst->name = am_xstrdup(src->name);
    dst->identity = am_xstrdup(src->identity);
    dst->service = am_xstrdup(src->service);
    dst->environment = am_xstrdup(src->environment);
    dst->severity = am_xstrdup(src->severity);
    am_labels_copy(&dst->labels, &src->labels);
    am_labels_copy(&dst->annotations, &src->annotations);
    dst->summary = am_xstrdup(src->summary);
    dst->starts_at = src->starts_at;
    dst->ends_at = src->ends_at;
    dst->observed_at = src->observed_at;
    dst->actor = am_xstrdup(src->actor);
    dst->version = am_xstrdup(src->version);
    dst->url = am_xstrdup(src->url);
    dst->page = am_xstrdup(src->page);
    dst->labels_json = am_xstrdup(src->labels_json);
    dst->annotations_json = am_xstrdup(src->annotations_json);
}

static char *labels_dump(const am_labels_t *labels)
{
    json_t *j = am_labels_to_json(labels);
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    return text;
}

void am_event_cache_json(am_event_t *ev)
{
    if (!ev->labels_json)
        ev->labels_json = labels_dump(&ev->labels);
    if (!ev->annotations_json)
        ev->annotations_json = labels_dump(&ev->annotations);
}

const char *am_event_labels_json(const am_event_t *ev, bool annotations, char **owned)
{
    const char *cached = annotations ? ev->annotations_json : ev->labels_json;
    *owned = NULL;
    if (cached)
        return cached;
    *owned = labels_dump(annotations ? &ev->annotations : &ev->labels);
    return *owned;
}

static const char *const field_names[AM_LABEL_NFIELDS] = {
    "service", "environment", "cluster", "severity", "version", "actor",
};

const char *am_label_field_name(am_label_field_t field)
{
    return (unsigned)field < AM_LABEL_NFIELDS ? field_names[field] : "unknown";
}

int am_label_field_parse(const char *name, am_label_field_t *field)
{
    for (unsigned i = 0; i < AM_LABEL_NFIELDS; i++)
        if (strcmp(name, field_names[i]) == 0) {
            *field = (am_label_field_t)i;
            return 0;
        }
    return -1;
}

/* service, job, app, then the workload labels kube-prometheus alerts
 * carry (kube-state-metrics' deployment, statefulset, daemonset, job_name;
 * cAdvisor's container) and the sanitised app.kubernetes.io/name; values
 * naming an exporter are passed over (exporter_name()). */
static const char *const default_service[] = {
    "service",    "job",         "app",       "app_kubernetes_io_name",
    "deployment", "statefulset", "daemonset", "job_name",
    "container",  NULL};
static const char *const default_environment[] = {"env", "environment", NULL};
static const char *const default_cluster[] = {"cluster", NULL};
static const char *const default_severity[] = {"severity", NULL};

const am_label_map_t am_label_map_default = {.names = {
                                                 [AM_LABEL_SERVICE] = default_service,
                                                 [AM_LABEL_ENVIRONMENT] = default_environment,
                                                 [AM_LABEL_CLUSTER] = default_cluster,
                                                 [AM_LABEL_SEVERITY] = default_severity,
                                             }};

/* Borrowed value of the first of names present with a non-empty value. */
static const char *first_label(const am_labels_t *labels, const char *const *names)
{
    for (; names && *names; names++) {
        const char *v = am_labels_get(labels, *names);
        if (v && *v)
            return v;
    }
    return NULL;
}

/* Whether v names what scraped the metric rather than what it is about:
 * kube-state-metrics, an exporter (node-exporter, blackbox-exporter,
 * prometheus-operator's "<release>-prometheus-node-exporter"), the
 * kubelet (cAdvisor's metrics). */
static bool exporter_name(const char *v)
{
    static const char *const suffixes[] = {"kube-state-metrics", "exporter", "kubelet"};
    size_t n = strlen(v);
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t m = strlen(suffixes[i]);
        if (n >= m && strcmp(v + n - m, suffixes[i]) == 0)
            return true;
    }
    return false;
}

/* The service: the first of names present, non-empty and not an
 * exporter's name; else the first present (an alert about the exporter
 * itself, or a node). */
static const char *service_label(const am_labels_t *labels, const char *const *names)
{
    for (const char *const *n = names; n && *n; n++) {
        const char *v = am_labels_get(labels, *n);
        if (v && *v && !exporter_name(v))
            return v;
    }
    return first_label(labels, names);
}

static void fill(char **field, const am_labels_t *labels, const char *const *names)
{
    if (!*field)
        *field = am_xstrdup(first_label(labels, names));
}

void am_event_apply_label_map(am_event_t *ev, const am_label_map_t *map)
{
    if (!ev->service)
        ev->service = am_xstrdup(service_label(&ev->labels, map->names[AM_LABEL_SERVICE]));
    fill(&ev->environment, &ev->labels, map->names[AM_LABEL_ENVIRONMENT]);
    fill(&ev->severity, &ev->labels, map->names[AM_LABEL_SEVERITY]);
    fill(&ev->version, &ev->labels, map->names[AM_LABEL_VERSION]);
    fill(&ev->actor, &ev->labels, map->names[AM_LABEL_ACTOR]);
    const char *cluster = first_label(&ev->labels, map->names[AM_LABEL_CLUSTER]);
    if (cluster && cluster != am_labels_get(&ev->labels, "cluster")) {
        char *copy = am_xstrdup(cluster); /* the value lives in the list being changed */
        am_labels_set(&ev->labels, "cluster", copy);
        free(copy);
    }
    const char *env = am_labels_get(&ev->labels, "env");
    if (ev->environment && (!env || strcmp(env, ev->environment) != 0))
        am_labels_set(&ev->labels, "env", ev->environment);
}

am_event_t *am_event_list_push(am_event_list_t *list)
{
    if (list->n == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 8;
        list->v = am_xrealloc(list->v, list->cap * sizeof *list->v);
    }
    am_event_t *ev = &list->v[list->n++];
    am_event_init(ev);
    return ev;
}

void am_event_list_clear(am_event_list_t *list)
{
    for (size_t i = 0; i < list->n; i++)
        am_event_free(&list->v[i]);
    list->n = 0;
}

void am_event_list_free(am_event_list_t *list)
{
    am_event_list_clear(list);
    free(list->v);
    memset(list, 0, sizeof *list);
}
