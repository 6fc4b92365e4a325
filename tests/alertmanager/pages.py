#!/usr/bin/env python3
"""PagerDuty behind the real Alertmanager (issue 18), for it_alertmanager.sh.

am.sh gives the story's `hook` receiver a pagerduty_configs entry whose
url is the sink (path am-pagerduty), so pagerduty.ndjson holds the Events
API v2 messages Alertmanager 0.35.0 really sent: their dedup_key is what
PagerDuty's v3 webhooks carry as the incident's incident_key.

build CAP OUT   writes OUT: PagerDuty v3 webhooks, shaped as PagerDuty
                documents them (kcat -J lines, topic pagerduty-v3), for the
                incident each dedup_key opened: incident.triggered by the
                service at the first trigger, acknowledged by "Ack <n>" 1 s
                later, a note naming only PagerDuty's incident id 2 s later,
                reassigned to "Lead <n>" 3 s later, and at each resolve
                Alertmanager sent, incident.resolved by the service - except
                the first group resolved, which a person ("Lead 0") resolves
                5 s after Alertmanager did. No label in them names a group.
check CAP DB BASE   checks what aftermath derived (DB: the webhooks and
                OUT replayed; BASE: the webhooks alone):
  - every dedup_key is the SHA-256 of the groupKey of a webhook the same
    receiver got (the link is exact) and the store's pages hold its alerts;
  - every ack, note and reassignment joined exactly one incident, one that
    holds an alert paged under its key, and that incident's lead is the
    reassigned "Lead <n>" and its acknowledged_at no later than the ack;
  - the person's resolve set resolved_at (at or after mitigated_at), the
    services' resolves did not;
  - PagerDuty's triggers and resolves made no incident and moved no time:
    the incidents' alerts, started_at and mitigated_at equal BASE's.
Prints one line per check; exits 1 on the first failure.
"""
import hashlib
import json
import sqlite3
import sys


def lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def pd_messages(cap):
    out = []
    for rec in lines(cap + "/pagerduty.ndjson"):
        body = json.loads(rec["payload"])
        out.append((rec["ts"], body["event_action"], body["dedup_key"], body))
    return out


def iso(ms):
    import datetime
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def build(cap, out_path):
    msgs = pd_messages(cap)
    keys = []
    for ts, action, key, _ in msgs:
        if action == "trigger" and key not in keys:
            keys.append(key)
    if not keys:
        sys.exit("pages: Alertmanager sent no PagerDuty trigger")
    recs = []
    first_resolved = None
    for ts, action, key, _ in msgs:
        if action == "resolve" and first_resolved is None:
            first_resolved = key

    def event(n, typ, at, agent, agent_type, data):
        recs.append({"topic": "pagerduty-v3", "partition": 0, "offset": len(recs), "ts": at,
                     "key": None, "payload": json.dumps({"event": {
                         "id": "01E%06d" % len(recs), "event_type": typ,
                         "resource_type": "incident", "occurred_at": iso(at),
                         "agent": {"id": "PA%d" % n, "summary": agent, "type": agent_type},
                         "data": data}})})

    for n, key in enumerate(keys):
        pd_id = "PAM%04d" % n
        trig = min(ts for ts, a, k, _ in msgs if k == key and a == "trigger")
        title = next(b["payload"]["summary"] for ts, a, k, b in msgs if k == key and a == "trigger")
        inc = {"id": pd_id, "type": "incident", "number": n + 1, "incident_key": key,
               "title": title, "created_at": iso(trig), "status": "triggered",
               "html_url": "https://acme.pagerduty.com/incidents/" + pd_id,
               "service": {"id": "PSVC", "summary": "Story", "type": "service_reference"},
               "urgency": "high"}
        event(n, "incident.triggered", trig, "Story", "service_reference", inc)
        event(n, "incident.acknowledged", trig + 1000, "Ack %d" % n, "user_reference",
              dict(inc, status="acknowledged"))
        event(n, "incident.annotated", trig + 2000, "Ack %d" % n, "user_reference",
              {"id": "PN%d" % n, "type": "incident_note", "content": "looking at %s" % title,
               "incident": {"id": pd_id, "type": "incident_reference"}})
        event(n, "incident.reassigned", trig + 3000, "Ack %d" % n, "user_reference",
              dict(inc, assignees=[{"id": "PL%d" % n, "summary": "Lead %d" % n,
                                    "type": "user_reference"}]))
        for ts, action, k, _ in msgs:
            if k != key or action != "resolve":
                continue
            if key == first_resolved:
                event(n, "incident.resolved", ts + 5000, "Lead %d" % n, "user_reference",
                      dict(inc, status="resolved"))
                break
            event(n, "incident.resolved", ts, "Story", "service_reference",
                  dict(inc, status="resolved"))
    with open(out_path, "x") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")
    print("pages: %d PagerDuty v3 webhooks for %d pages (%d Events API messages)" %
          (len(recs), len(keys), len(msgs)))


def check(cap, db_path, base_path):
    def fail(msg):
        print("FAIL pages: " + msg)
        sys.exit(1)

    msgs = pd_messages(cap)
    keys = []
    for ts, action, key, _ in msgs:
        if action == "trigger" and key not in keys:
            keys.append(key)
    hooks = {}
    for rec in lines(cap + "/webhook.ndjson"):
        if rec["topic"] == "am-webhook":
            gk = json.loads(rec["payload"])["groupKey"]
            hooks[hashlib.sha256(gk.encode()).hexdigest()] = gk
    for key in keys:
        if key not in hooks:
            fail("dedup_key %s is the hash of no webhook's groupKey" % key)
    print("pages: every dedup_key is sha256(groupKey) of a webhook of the same receiver (%d)" %
          len(keys))
    db = sqlite3.connect(db_path)
    q = db.execute
    first_resolved = next((k for ts, a, k, _ in msgs if a == "resolve"), None)
    for n, key in enumerate(keys):
        paged = {r[0] for r in q("SELECT identity FROM pages WHERE key = ?", (key,))}
        if not paged:
            fail("no alert stored as paged under %s (%s)" % (key, hooks[key]))
        holders = {r[0] for r in q(
            "SELECT DISTINCT incident FROM episodes WHERE identity IN (%s)" %
            ",".join("?" * len(paged)), tuple(paged))}
        for role, actor, status in (("ack", "Ack %d" % n, "acknowledged"),
                                    ("note", "Ack %d" % n, None),
                                    ("note", "Ack %d" % n, "reassigned")):
            rows = q("SELECT ie.incident, ev.starts_at FROM events ev JOIN incident_events ie ON "
                     "ie.event = ev.id AND ie.role = ? WHERE ev.source = 'pagerduty' AND "
                     "ev.actor = ? AND ev.status IS ?", (role, actor, status)).fetchall()
            if len(rows) != 1:
                fail("%s %s by %s of %s joined %d incidents, not 1" %
                     (role, status, actor, hooks[key], len(rows)))
            inc, at = rows[0]
            if inc not in holders:
                fail("%s by %s joined %s, which holds none of the alerts of %s" %
                     (role, actor, inc, hooks[key]))
            if role == "ack":
                acked, lead = q("SELECT acknowledged_at, lead FROM incidents WHERE id = ?",
                                (inc,)).fetchone()
                if acked is None or acked > at:
                    fail("%s: acknowledged_at %s, the ack at %s" % (inc, acked, at))
                if lead != "Lead %d" % n:
                    fail("%s: lead %r, reassigned to 'Lead %d'" % (inc, lead, n))
        if key == first_resolved:
            at = q("SELECT starts_at FROM events WHERE source = 'pagerduty' AND status = "
                   "'resolved' AND actor = ?", ("Lead %d" % n,)).fetchone()[0]
            rows = q("SELECT i.id, i.mitigated_at, i.resolved_at FROM incidents i JOIN "
                     "incident_events ie ON ie.incident = i.id JOIN events ev ON ev.id = ie.event "
                     "WHERE ev.source = 'pagerduty' AND ev.status = 'resolved' AND ev.actor = ?",
                     ("Lead %d" % n,)).fetchall()
            if len(rows) != 1:
                fail("the person's resolve of %s joined %d incidents" % (hooks[key], len(rows)))
            inc, mitigated, resolved = rows[0]
            if mitigated is not None and at >= mitigated and resolved != at:
                fail("%s: resolved_at %s, resolved by a person at %s" % (inc, resolved, at))
            print("pages: %s resolved by a person at %s: resolved_at %s" % (inc, at, resolved))
    print("pages: every ack, note and reassignment joined the incident of its page's alerts, "
          "and the reassigned lead leads")
    base = sqlite3.connect(base_path)
    cols = "SELECT rule, gkey, started_at, mitigated_at, alerts FROM incidents ORDER BY 1, 2, 3"
    if q(cols).fetchall() != base.execute(cols).fetchall():
        fail("PagerDuty's events changed the incidents' alerts, starts or mitigations")
    print("pages: PagerDuty's triggers and resolves made no incident and moved no time")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "build":
        build(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("usage: pages.py build CAP OUT | check CAP DB BASE")
