#!/usr/bin/env python3
"""Checks for the Alertmanager integration test (it_alertmanager.sh).

check.py capture DIR
    The capture does what the story claims, so that the feed checks test
    what they say: every episode the story means to be notified is in a
    webhook with its startsAt; those meant "resolved" have a resolved
    webhook with the true endsAt, those meant "unresolved" never do, those
    meant "absent" are in none; a truncated notification was sent; the
    event recorder wrote its startup and shutdown, a notification per
    webhook, the silence, and an alertResolved with the true end for every
    episode that ended before the last tick (the silenced one too).

check.py feed NAME KIND TRUTH INCIDENTS_JSON DB
    What aftermath derived from one feed against the truth; one line per
    check, PASS or FAIL, and exit 1 when any failed. KIND:
      exact    (event recorder, API v2): each true incident (the truth's
               episodes grouped by alertname, chained when less than GAP
               apart, as tests/alertmanager/rules.yaml does) is an incident
               with started_at and mitigated_at within a second of the true
               times, and no other incident of the story's alerts exists;
               each true episode is an episode of the store, start and end
               within a second
      webhook  (webhooks): every incident of the story's alerts is closed
               (mitigated_at set); every stored episode starts within a
               second of a true start of its alert and is closed; those
               whose resolve was sent end within a second of the true end;
               an incident whose last episode's resolve was never sent has
               its end marked inferred (a member of the incident's JSON
               whose name contains "inferred" is true: aftermath's
               mitigated_inferred), one whose resolve was sent has not
"""
import datetime
import json
import sqlite3
import sys

GAP = 2000   # ms, rules.yaml's gap
TOL = 1000   # ms: "to the second"


def ms(text):
    if text is None or text.startswith("0001-01-01"):
        return None
    t = text.replace("Z", "+00:00")
    # Python before 3.11 takes at most 6 fraction digits.
    if "." in t:
        head, rest = t.split(".", 1)
        digits = "".join(c for c in rest if c.isdigit())
        t = head + "." + (digits[:6] or "0") + rest[len(digits):]
    return int(datetime.datetime.fromisoformat(t).timestamp() * 1000)


def fmt(v, t0):
    return "-" if v is None else "%+.3fs" % ((v - t0) / 1000)


class Checks:
    def __init__(self, name):
        self.name, self.failed, self.n = name, 0, 0

    def check(self, ok, what):
        self.n += 1
        if not ok:
            self.failed += 1
        print("%s %s: %s" % ("PASS" if ok else "FAIL", self.name, what))

    def done(self):
        print("%s: %d checks, %d pass, %d fail" % (self.name, self.n, self.n - self.failed,
                                                       self.failed))
        sys.exit(1 if self.failed else 0)


def ndjson(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def capture(d):
    truth = json.load(open(d + "/truth.json"))
    t0 = truth["t0"]
    c = Checks("capture")
    hooks = [json.loads(r["payload"]) for r in ndjson(d + "/webhook.ndjson")]
    seen = []   # (labels, status, startsAt, endsAt) of every webhook alert
    for h in hooks:
        for a in h["alerts"]:
            seen.append((a["labels"], a["status"], ms(a["startsAt"]), ms(a["endsAt"])))
    for a in truth["alerts"]:
        for ep in a["episodes"]:
            mine = [s for s in seen if s[0] == a["labels"] and s[2] == ep["start"]]
            what = "%s %s episode %s..%s" % (a["labels"]["alertname"], a["labels"]["instance"],
                                             fmt(ep["start"], t0), fmt(ep["end"], t0))
            if ep["webhook"] == "absent":
                c.check(not [s for s in seen if s[0] == a["labels"]],
                        what + " is in no webhook (truncated away)")
                continue
            c.check(any(s[1] == "firing" for s in mine), what + " is notified firing")
            resolved = [s for s in mine if s[1] == "resolved"]
            if ep["webhook"] == "resolved":
                c.check(any(s[3] == ep["end"] for s in resolved),
                        what + " is notified resolved with its true end")
            else:
                c.check(not resolved, what + " is never notified resolved")
    c.check(any(h.get("truncatedAlerts", 0) > 0 for h in hooks),
            "a webhook has truncatedAlerts > 0")

    events = []
    for r in ndjson(d + "/events.ndjson"):
        doc = json.loads(r["payload"])
        (kind, body), = doc["data"].items()
        events.append((kind, body))
    kinds = [k for k, _ in events]
    c.check("alertmanagerStartupEvent" in kinds and "alertmanagerShutdownEvent" in kinds,
            "the event recorder recorded startup and shutdown")
    # one per notification of each integration: count the webhooks' (the
    # hook receiver also pages PagerDuty, pages.py)
    notified = [b for k, b in events if k == "notification" and
                (b.get("integration") or {}).get("name") == "webhook"]
    c.check(len(notified) == len(hooks),
            "one webhook notification event per webhook (%d, %d)" % (len(notified), len(hooks)))
    paged = [b for k, b in events if k == "notification" and
             (b.get("integration") or {}).get("name") == "pagerduty"]
    c.check(len(paged) == len(ndjson(d + "/pagerduty.ndjson")),
            "one pagerduty notification event per PagerDuty message (%d, %d)" %
            (len(paged), len(ndjson(d + "/pagerduty.ndjson"))))
    sil = [b["silence"] for k, b in events if k == "silenceCreated"]
    c.check(len(sil) == len(truth["silences"]) and
            all(s["id"] == t["id"] and s["createdBy"] == t["createdBy"] and
                s["comment"] == t["comment"] for s, t in zip(sil, truth["silences"])),
            "silenceCreated names the story's silence, its author and comment")
    c.check("silenceMutedAlert" in kinds, "a silenceMutedAlert was recorded")
    resolved = [b["alert"]["details"] for k, b in events if k == "alertResolved"]
    for a in truth["alerts"]:
        ep = a["episodes"][-1]
        c.check(any(r["labels"] == a["labels"] and ms(r["startsAt"]) == ep["start"] and
                    ms(r["endsAt"]) == ep["end"] for r in resolved),
                "alertResolved for %s %s with its true start and end" %
                (a["labels"]["alertname"], a["labels"]["instance"]))
    c.done()


def true_incidents(truth):
    by_name = {}
    for a in truth["alerts"]:
        for ep in a["episodes"]:
            by_name.setdefault(a["labels"]["alertname"], []).append(ep)
    out = []
    for name, eps in sorted(by_name.items()):
        eps.sort(key=lambda e: e["start"])
        cur = None
        for ep in eps:
            if cur and ep["start"] - cur["end"] < GAP:
                cur["end"] = max(cur["end"], ep["end"])
                cur["episodes"].append(ep)
            else:
                cur = {"name": name, "start": ep["start"], "end": ep["end"], "episodes": [ep]}
                out.append(cur)
    return out


def inferred_mark(inc):
    """True when a member whose name contains "inferred" (aftermath's
    mitigated_inferred, present only when true) is true."""
    return any(bool(inc[k]) for k in inc if "inferred" in k)


def feed(name, kind, truth_path, inc_path, db_path):
    truth = json.load(open(truth_path))
    t0 = truth["t0"]
    names = {a["labels"]["alertname"] for a in truth["alerts"]}
    incs = [i for i in json.load(open(inc_path)) if i["key"].get("alertname") in names]
    for i in incs:
        i["_start"], i["_end"] = ms(i["started_at"]), ms(i["mitigated_at"])
    db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
    # An episode's end: its resolve, else the end aftermath inferred
    # (episodes.inferred_end; ends_at holds only resolves).
    cols = {r[1] for r in db.execute("PRAGMA table_info(episodes)")}
    end = "COALESCE(ends_at, inferred_end)" if "inferred_end" in cols else "ends_at"
    episodes = [(json.loads(l), s, e) for l, s, e in
                db.execute("SELECT labels, starts_at, %s FROM episodes" % end)]
    c = Checks(name)
    print("%s: incidents of the story's alerts (seconds after t0):" % name)
    for i in sorted(incs, key=lambda i: (i["key"]["alertname"], i["_start"])):
        print("  %-11s %s..%s inferred=%s" % (i["key"]["alertname"], fmt(i["_start"], t0),
                                              fmt(i["_end"], t0), inferred_mark(i)))

    if kind == "exact":
        want = true_incidents(truth)
        for w in want:
            what = "%s incident %s..%s" % (w["name"], fmt(w["start"], t0), fmt(w["end"], t0))
            got = [i for i in incs if i["key"]["alertname"] == w["name"] and
                   abs(i["_start"] - w["start"]) < TOL]
            c.check(len(got) == 1, what + ": one incident starts then (%d)" % len(got))
            if got:
                e = got[0]["_end"]
                c.check(e is not None and abs(e - w["end"]) < TOL,
                        what + ": mitigated_at %s" % fmt(e, t0))
        c.check(len(incs) == len(want),
                "%d incidents of the story's alerts, as in the truth (%d)" % (len(incs), len(want)))
        for a in truth["alerts"]:
            mine = sorted((s, e) for l, s, e in episodes if l == a["labels"])
            what = "%s %s episodes" % (a["labels"]["alertname"], a["labels"]["instance"])
            want_eps = [(ep["start"], ep["end"]) for ep in a["episodes"]]
            ok = len(mine) == len(want_eps) and all(
                abs(s - ws) < TOL and e is not None and abs(e - we) < TOL
                for (s, e), (ws, we) in zip(mine, want_eps))
            c.check(ok, what + " %s, true %s" % (
                [(fmt(s, t0), fmt(e, t0)) for s, e in mine],
                [(fmt(s, t0), fmt(e, t0)) for s, e in want_eps]))
    else:
        c.check(bool(incs), "incidents of the story's alerts exist")
        for i in incs:
            c.check(i["_end"] is not None, "%s incident from %s is closed (mitigated_at %s)" %
                    (i["key"]["alertname"], fmt(i["_start"], t0), fmt(i["_end"], t0)))
        for a in truth["alerts"]:
            starts = {ep["start"]: ep for ep in a["episodes"]}
            for l, s, e in sorted((x for x in episodes if x[0] == a["labels"]),
                                  key=lambda x: x[1]):
                what = "%s %s episode from %s" % (a["labels"]["alertname"],
                                                   a["labels"]["instance"], fmt(s, t0))
                ep = next((ep for st, ep in starts.items() if abs(s - st) < TOL), None)
                c.check(ep is not None, what + " starts at a true start")
                c.check(e is not None, what + " is closed (ends %s)" % fmt(e, t0))
                if ep and ep["webhook"] == "resolved":
                    c.check(e is not None and abs(e - ep["end"]) < TOL,
                            what + " ends at its true end, which was sent")
        # Whether an incident's end is inferred follows its last episode.
        for i in incs:
            eps = [ep for a in truth["alerts"] if a["labels"]["alertname"] == i["key"]["alertname"]
                   for ep in a["episodes"] if ep["webhook"] != "absent" and
                   ep["start"] >= i["_start"] - TOL and
                   (i["_end"] is None or ep["start"] <= i["_end"] + TOL)]
            if not eps:
                continue
            last = max(eps, key=lambda ep: (ep["end"], ep["webhook"] == "resolved"))
            mark = inferred_mark(i)
            want = last["webhook"] != "resolved"
            c.check(mark == want, "%s incident from %s: end %s (marked inferred: %s)" % (
                i["key"]["alertname"], fmt(i["_start"], t0),
                "inferred" if want else "not inferred", mark))
    c.done()


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "capture":
        capture(sys.argv[2])
    elif len(sys.argv) == 7 and sys.argv[1] == "feed" and sys.argv[3] in ("exact", "webhook"):
        feed(*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
