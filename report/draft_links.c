/*
 * draft_links.c - the URLs an incident's events carry, for the draft's
 * alert and deploy lines, its impact table and its "Links" section.
 *
 * A decoder keeps one URL per event in events.url (Alertmanager's
 * generatorURL, a CI run, a GitHub deployment's log or target, a
 * PagerDuty incident's html_url) and leaves others in annotations
 * (runbook_url, a dashboard, a silence, Grafana's panelURL). Any of them
 * may be hostile: only an absolute http or https URL with a host and no
 * control character or space is kept; anything else is dropped, never
 * linked, so "javascript:" or a data: URL cannot become a link. What is
 * kept is stored as the sender wrote it; each medium escapes it when it
 * writes it (report_link_md, report_link_html). Repeated notifications
 * of one alert carry the same URLs: a link is listed once per alert or
 * deploy (kind, name, service, version) and label.
 */
#include "report/draft_int.h"

#include <string.h>
#include <strings.h>

#include "report/escape.h"

bool report_url_ok(const char *u)
{
    size_t skip;
    if (!u)
        return false;
    if (strncasecmp(u, "https://", 8) == 0)
        skip = 8;
    else if (strncasecmp(u, "http://", 7) == 0)
        skip = 7;
    else
        return false;
    if (!u[skip] || u[skip] == '/' || u[skip] == '?' || u[skip] == '#')
        return false; /* no host */
    if (strlen(u) > 2048)
        return false;
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* Annotation keys holding a link worth showing, with the label shown. */
static const char *annotation_label(const char *key)
{
    static const char *const map[][2] = {
        {"runbook_url", "runbook"}, {"runbook", "runbook"},       {"dashboard_url", "dashboard"},
        {"dashboard", "dashboard"}, {"grafana_url", "dashboard"}, {"panelURL", "panel"},
        {"silence_url", "silence"}, {"silenceURL", "silence"},    {"imageURL", "image"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i][0], key) == 0)
            return map[i][1];
    return NULL;
}

/* The label of an event's own URL, by what the event is. */
static const char *url_label(const am_event_t *e)
{
    switch (e->kind) {
    case AM_KIND_ALERT:
        return "source";
    case AM_KIND_DEPLOY:
        return "run";
    default: /* an ack or a note: PagerDuty's is its incident page */
        return e->source && strcmp(e->source, "pagerduty") == 0 ? "PagerDuty incident" : "link";
    }
}

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Whether links has url for the thing e is about, under label. */
static bool listed(const json_t *links, const am_event_t *e, const char *label, const char *url)
{
    size_t i;
    json_t *l;
    json_array_foreach(links, i, l)
    {
        if (strcmp(report_str(l, "url"), url) == 0 && strcmp(report_str(l, "label"), label) == 0 &&
            strcmp(report_str(l, "kind"), am_kind_name(e->kind)) == 0 &&
            same(report_str(l, "name"), e->name) && same(report_str(l, "service"), e->service) &&
            same(report_str(l, "version"), e->version))
            return true;
    }
    return false;
}

static void add(json_t *links, const am_event_t *e, const char *label, const char *url)
{
    if (!report_url_ok(url) || listed(links, e, label, url))
        return;
    json_t *o =
        json_pack("{s:s,s:s,s:s}", "kind", am_kind_name(e->kind), "label", label, "url", url);
    json_object_set_new(o, "name", e->name ? json_string(e->name) : json_null());
    json_object_set_new(o, "service", e->service ? json_string(e->service) : json_null());
    json_object_set_new(o, "version", e->version ? json_string(e->version) : json_null());
    json_array_append_new(links, o);
}

json_t *report_draft_links(const report_linked_t *ev, size_t n)
{
    json_t *links = json_array();
    for (size_t i = 0; i < n; i++) {
        const am_event_t *e = &ev[i].ev;
        add(links, e, url_label(e), e->url);
        for (size_t k = 0; k < e->annotations.n; k++) {
            const char *label = annotation_label(e->annotations.v[k].name);
            if (label)
                add(links, e, label, e->annotations.v[k].value);
        }
    }
    return links;
}

/* Bytes a Markdown link destination or a plain-text reader can take as
 * they are; every other byte is percent-encoded, so a URL cannot close
 * the destination ( ) < >, break a table cell |, start an entity &...;
 * or hide a space. */
static bool md_url_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("-._~:/?#@!$'*+,;=%&", c) != NULL;
}

/* Whether the '&' at p starts what CommonMark reads as an entity or a
 * numeric character reference ("&lt;", "&#60;"). */
static bool entity_at(const char *p)
{
    size_t i = 1;
    while ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
           (p[i] >= '0' && p[i] <= '9') || p[i] == '#')
        i++;
    return i > 1 && p[i] == ';';
}

void report_link_md(am_buf_t *b, const char *label, const char *url)
{
    am_buf_putc(b, '[');
    report_md(b, label);
    am_buf_puts(b, "](");
    for (const char *p = url; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '&' && entity_at(p))
            am_buf_puts(b, "&amp;"); /* read back as '&' */
        else if (md_url_byte(c))
            am_buf_putc(b, (char)c);
        else
            am_buf_printf(b, "%%%02X", c);
    }
    am_buf_putc(b, ')');
}

void report_link_html(am_buf_t *b, const char *label, const char *url)
{
    am_buf_puts(b, "<a href=\"");
    report_html(b, url);
    am_buf_puts(b, "\" rel=\"noreferrer\">");
    report_html(b, label);
    am_buf_puts(b, "</a>");
}
