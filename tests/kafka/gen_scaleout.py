#!/usr/bin/env python3
"""Generates the multi-cluster stream of the scale-out test (it_scaleout.sh).

Usage: gen_scaleout.py [--seed N] [--records N] [--storm N] [--out FILE] [--stats]

Writes kcat -J NDJSON (one record envelope per line: topic, partition,
offset, ts, key, payload) that am_produce puts on a broker with each
record's timestamp, and `aftermath replay` reads as it is. Deterministic
for a seed. About --records records (default 3000) over three topics:

  am       (4 partitions)  Alertmanager webhook notifications (v4), several
                           alerts per notification, re-notifications
  generic  (3 partitions)  generic-format alerts, deploys, acks, notes
  cdevents (2 partitions)  CDEvents service.deployed / rolledback deploys
  pagerduty (2 partitions) PagerDuty v3 webhooks of the incidents
                           Alertmanager's PagerDuty integration opened

The world: clusters x environments x services. Under rules/default.yaml
(paging alerts grouped by env and cluster, gap 30m, deploys same service,
cluster, env) every (env, cluster) of a production environment forms a
sequence of incidents; staging alerts and warnings match no rule. Per
(env, cluster) the generator lays out bursts of paging alerts, and puts
in on purpose:

  - bursts separated by exactly the gap (two incidents) and by just less
    (one incident), and chains broken by a longer gap;
  - late alerts (observed hours later) that bridge two bursts (a merge) or
    start before a burst (its start moves back);
  - flapping alerts (the same labels firing and resolving repeatedly);
  - alerts still firing at the end (open incidents);
  - deploys (generic or CDEvents) before the burst (suspects, some beyond
    the 2h window), during it (fixes), and unrelated ones, whose records
    arrive before or after the alerts;
  - keyed acks (env and cluster labels), acks naming an alert by dedup_key
    (with or without labels, some before the alert's record), notes with a
    users_impacted annotation;
  - PagerDuty behind Alertmanager: the webhooks' groupKey is that of a
    route grouping by cluster and env (as the rule does, so a page's
    alerts share a keyed partition), and for some bursts PagerDuty's v3
    webhooks of the incident its dedup_key (sha256 of the groupKey) opened:
    the trigger, an ack, a note naming only PagerDuty's id, a reassignment,
    and a resolve by the integration or by a person (some before the
    alerts resolved), some arriving before the alerts' records;
  - duplicates: the same payload delivered two or three times, some with
    later record timestamps; the records are shuffled within windows.

With --storm N, one more (env, cluster), prod/storm-1, has an alert storm
of N distinct paging alerts in one incident (issue 25): a deploy before
it, the alerts firing over 20 minutes in Alertmanager notifications of 100
alerts, the first half resolved 30 minutes in. The rest of the stream is
the same as without it.
"""
import argparse
import hashlib
import json
import sys
import zlib
from datetime import datetime, timezone

BASE_MS = 1718668800000  # 2024-06-18T00:00:00Z
MIN = 60000
GAP = 30 * MIN  # rules/default.yaml paging-outage gap

CLUSTERS = ["eu-west-1", "us-east-1", "ap-south-1", "eu-central-1"]
ENVS = ["prod", "canary", "staging"]  # staging: excluded by the default rule
SERVICES = ["api", "web", "db", "cache", "queue", "auth"]
ALERTS = ["HighLatency", "ErrorRate", "Saturation", "PodCrashLoop", "DiskFull"]
PEOPLE = ["Jane Doe", "Ravi Patel", "Li Wei", "Ana Gomez", "Tom Berg"]
TOPICS = {"am": 4, "generic": 3, "cdevents": 2, "pagerduty": 2}
FP_SEP = b"\xff"


def iso(ms, offset_min=0):
    """RFC 3339 of UTC ms, written with the given UTC offset (minutes)."""
    t = datetime.fromtimestamp((ms + offset_min * MIN) / 1000, tz=timezone.utc)
    text = t.strftime("%Y-%m-%dT%H:%M:%S") + ".%03d" % (ms % 1000)
    if offset_min == 0:
        return text + "Z"
    sign = "+" if offset_min > 0 else "-"
    h, m = divmod(abs(offset_min), 60)
    return text + "%s%02d:%02d" % (sign, h, m)


def fingerprint(labels):
    """aftermath's alert identity: FNV-1a 64 over the sorted labels."""
    h = 0xCBF29CE484222325
    for name in sorted(labels, key=lambda s: s.encode()):
        for part in (name.encode(), FP_SEP, labels[name].encode(), FP_SEP):
            for b in part:
                h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def group_key(labels):
    """Alertmanager's group key of a route grouping by cluster and env."""
    return '{}:{cluster="%s", env="%s"}' % (labels["cluster"], labels["env"])


class Gen:
    def __init__(self, seed):
        import random

        self.rng = random.Random(seed)
        self.out = []  # (ts, topic, key, payload)
        self.n_inst = 0
        self.n_deploy = 0
        self.n_pd = 0
        self.stats = {}

    def count(self, what, n=1):
        self.stats[what] = self.stats.get(what, 0) + n

    def emit(self, ts, topic, key, payload):
        self.out.append((ts, topic, key, compact(payload)))

    def delay(self):
        """Observation delay of a record after its event (mostly seconds)."""
        r = self.rng.random()
        if r < 0.8:
            return self.rng.randint(500, 90000)
        if r < 0.97:
            return self.rng.randint(90000, 20 * MIN)
        return self.rng.randint(1 * 60 * MIN, 4 * 60 * MIN)  # late

    # ---- alerts ----------------------------------------------------------

    def new_alert(self, cluster, env, start, end, sev=None, generic=None, labels=None):
        rng = self.rng
        self.n_inst += 1
        svc = rng.choice(SERVICES)
        if labels is None:
            labels = {
                "alertname": rng.choice(ALERTS),
                "cluster": cluster,
                "env": env,
                "service": svc,
                "instance": "i-%d" % self.n_inst,
                "severity": sev or rng.choice(["page"] * 5 + ["critical"] * 2 + ["warning"]),
            }
        a = {
            "labels": labels,
            "start": start,
            "end": end,
            "generic": rng.random() < 0.35 if generic is None else generic,
            "users": rng.choice([None] * 4 + [rng.randint(10, 5000)]),
        }
        if a["generic"] and rng.random() < 0.5:
            a["dedup"] = "gen-%s-%d" % (cluster, self.n_inst)
        a["identity"] = a.get("dedup") or fingerprint(labels)
        return a

    def am_alert(self, a, resolved, ends):
        ann = {"summary": "%s on %s" % (a["labels"]["alertname"], a["labels"]["service"])}
        if a["users"] is not None:
            ann["users_impacted"] = str(a["users"])
        off = self.rng.choice([0, 0, 0, 120, -300])
        return {
            "status": "resolved" if resolved else "firing",
            "labels": a["labels"],
            "annotations": ann,
            "startsAt": iso(a["start"], off),
            "endsAt": iso(ends, off) if resolved else "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus/graph?g0.expr=%s" % a["labels"]["alertname"],
            "fingerprint": "ignored",
        }

    def am_notification(self, alerts, status_of, at, late=0):
        """One webhook carrying alerts (each firing or resolved at `at`)."""
        items = [self.am_alert(a, status_of[i], a["end"]) for i, a in enumerate(alerts)]
        body = {
            "version": "4",
            "groupKey": group_key(alerts[0]["labels"]),
            "status": "resolved" if all(status_of) else "firing",
            "receiver": "oncall",
            "groupLabels": {"cluster": alerts[0]["labels"]["cluster"],
                            "env": alerts[0]["labels"]["env"]},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "truncatedAlerts": 0,
            "alerts": items,
        }
        self.emit(at + (late or self.delay()), "am", alerts[0]["labels"]["cluster"], body)
        self.count("am notifications")

    def generic_alert(self, a, resolved, late=0):
        lab = dict(a["labels"])
        ev = {
            "kind": "alert",
            "status": "resolved" if resolved else "firing",
            "name": lab.pop("alertname"),
            "starts_at": iso(a["start"]),
            "service": lab.pop("service"),
            "severity": lab.pop("severity"),
            "environment": lab.pop("env"),
            "labels": lab,
            "annotations": {"summary": "generic %s" % a["identity"]},
        }
        if resolved:
            ev["ends_at"] = iso(a["end"])
        if a.get("dedup"):
            ev["dedup_key"] = a["dedup"]
        if a["users"] is not None:
            ev["annotations"]["users_impacted"] = str(a["users"])
        at = a["end"] if resolved else a["start"]
        self.emit(at + (late or self.delay()), "generic", a["labels"]["cluster"], ev)
        self.count("generic alert records")

    def send_alerts(self, alerts, late=0):
        """Firing and (when ended) resolved notifications of alerts."""
        am = [a for a in alerts if not a["generic"]]
        for a in alerts:
            if a["generic"]:
                self.generic_alert(a, False, late)
                if self.rng.random() < 0.15:  # re-sent firing (same event)
                    self.generic_alert(a, False, late)
                if a["end"] is not None:
                    self.generic_alert(a, True, late)
        # Alertmanager groups alerts of a cluster into notifications.
        i = 0
        while i < len(am):
            group = am[i : i + self.rng.randint(1, 3)]
            i += len(group)
            first = max(a["start"] for a in group)
            self.am_notification(group, [False] * len(group), first, late)
            if self.rng.random() < 0.25:  # repeat_interval re-notification
                self.am_notification(group, [False] * len(group), first + 20 * MIN, late)
            ended = [a for a in group if a["end"] is not None]
            if ended:
                self.am_notification(ended, [True] * len(ended), max(a["end"] for a in ended), late)
        self.count("alerts", len(alerts))

    # ---- deploys, acks, notes ----------------------------------------------

    def deploy(self, cluster, env, svc, at, arrive=None):
        rng = self.rng
        self.n_deploy += 1
        if rng.random() < 0.4:
            kind = rng.choice(["deployed"] * 4 + ["rolledback"])
            ev = {
                "context": {
                    "version": "0.4.1",
                    "id": "dep-%d" % self.n_deploy,
                    "source": "/ci/%s" % cluster,
                    "type": "dev.cdevents.service.%s.0.2.0" % kind,
                    "timestamp": iso(at),
                },
                "subject": {
                    "id": svc,
                    "type": "service",
                    "content": {
                        "environment": {"id": env},
                        "artifactId": "pkg:oci/%s@sha256%%3A%08x" % (svc, rng.getrandbits(32)),
                    },
                },
            }
            topic = "cdevents"
        else:
            ev = {
                "kind": "deploy",
                "status": rng.choice(["succeeded"] * 5 + ["failed", "rolled_back"]),
                "name": svc,
                "version": "2024.%d" % self.n_deploy,
                "service": svc,
                "environment": env,
                "at": iso(at),
                "actor": rng.choice(PEOPLE + ["deploy-bot[bot]", "ci"]),
                "labels": {"cluster": cluster},
            }
            topic = "generic"
        self.emit(arrive if arrive is not None else at + self.delay(), topic, cluster, ev)
        self.count("deploys")

    def ack(self, cluster, env, at, alert=None, labels=True, arrive=None):
        ev = {"kind": "ack", "at": iso(at), "actor": self.rng.choice(PEOPLE)}
        if labels:
            ev["labels"] = {"cluster": cluster}
            ev["environment"] = env
        if alert is not None:
            ev["dedup_key"] = alert["identity"]
            self.count("acks naming an alert")
        else:
            self.count("keyed acks")
        self.emit(arrive if arrive is not None else at + self.delay(), "generic", cluster, ev)

    def note(self, cluster, env, at):
        ev = {
            "kind": "note",
            "at": iso(at),
            "actor": self.rng.choice(PEOPLE),
            "environment": env,
            "labels": {"cluster": cluster},
            "summary": "status update",
        }
        if self.rng.random() < 0.4:
            ev["annotations"] = {"users_impacted": str(self.rng.randint(1, 20000))}
        self.emit(at + self.delay(), "generic", cluster, ev)
        self.count("notes")

    def pagerduty(self, alerts, t0, end):
        """PagerDuty's v3 webhooks of the incident Alertmanager paged for
        the burst's group (one PagerDuty incident per burst)."""
        rng = self.rng
        labels = alerts[0]["labels"]
        key = hashlib.sha256(group_key(labels).encode()).hexdigest()
        self.n_pd += 1
        pd_id = "PSC%05d" % self.n_pd
        inc = {"id": pd_id, "type": "incident", "number": self.n_pd, "incident_key": key,
               "title": "[FIRING] %s" % labels["alertname"], "created_at": iso(t0),
               "html_url": "https://acme.pagerduty.com/incidents/" + pd_id,
               "service": {"id": "PSVC", "summary": "Platform", "type": "service_reference"},
               "urgency": "high"}

        def send(typ, at, agent, person, data):
            body = {"event": {"id": "01SC%s%s" % (pd_id, typ[9:12]), "event_type": typ,
                              "resource_type": "incident", "occurred_at": iso(at),
                              "agent": {"id": "PU", "summary": agent,
                                        "type": "user_reference" if person else
                                        "service_reference"},
                              "data": data}}
            arrive = at + self.delay()
            if rng.random() < 0.2:  # before the alerts' records
                arrive = t0 - rng.randint(1000, 60000)
            self.emit(arrive, "pagerduty", labels["cluster"], body)
            self.count("pagerduty webhooks")

        send("incident.triggered", t0 + 30000, "Platform", False, inc)
        ack = t0 + rng.randint(1, 12) * MIN
        send("incident.acknowledged", ack, rng.choice(PEOPLE), True, inc)
        send("incident.annotated", ack + rng.randint(1, 5) * MIN, rng.choice(PEOPLE), True,
             {"id": "N" + pd_id, "type": "incident_note", "content": "investigating",
              "incident": {"id": pd_id, "type": "incident_reference"}})
        if rng.random() < 0.6:
            send("incident.reassigned", ack + rng.randint(2, 10) * MIN, rng.choice(PEOPLE), True,
                 dict(inc, assignees=[{"id": "PL", "summary": rng.choice(PEOPLE),
                                       "type": "user_reference"}]))
            self.count("pagerduty reassignments")
        if end is not None:
            if rng.random() < 0.5:  # a person: some before the alerts resolved
                send("incident.resolved", end + rng.randint(-5, 30) * MIN, rng.choice(PEOPLE),
                     True, inc)
                self.count("pagerduty resolves by a person")
            else:
                send("incident.resolved", end, "Platform", False, inc)
        self.count("pagerduty incidents")

    # ---- bursts --------------------------------------------------------------

    def burst(self, cluster, env, t0, open_ok):
        """Alerts of one would-be incident from t0; returns its last end."""
        rng = self.rng
        alerts = []
        t = t0
        for _ in range(rng.randint(2, 7)):
            dur = rng.randint(2 * MIN, 25 * MIN)
            alerts.append(self.new_alert(cluster, env, t, t + dur))
            t += rng.randint(0, 20 * MIN)
        if rng.random() < 0.25:  # flapping: the same labels again and again
            base = alerts[0]
            s = base["end"] + rng.randint(1 * MIN, 6 * MIN)
            for _ in range(rng.randint(2, 4)):
                e = s + rng.randint(1 * MIN, 4 * MIN)
                alerts.append(self.new_alert(cluster, env, s, e, labels=base["labels"],
                                             generic=base["generic"]))
                alerts[-1]["dedup"] = base.get("dedup")
                alerts[-1]["identity"] = base["identity"]
                s = e + rng.randint(1 * MIN, 6 * MIN)
            self.count("flapping alerts")
        if open_ok and rng.random() < 0.5:  # still firing at the end
            alerts[-1]["end"] = None
            self.count("open bursts")
        end = max(a["end"] if a["end"] is not None else a["start"] for a in alerts)
        self.send_alerts(alerts)
        paging = [a for a in alerts if a["labels"]["severity"] != "warning"]

        # Deploys: a suspect (some outside the 2h window), a fix during.
        if rng.random() < 0.6 and paging:
            svc = rng.choice(paging)["labels"]["service"]
            at = t0 - rng.randint(5 * MIN, 150 * MIN)
            arrive = None
            if rng.random() < 0.4:  # its record after the alerts'
                arrive = t0 + rng.randint(10 * MIN, 120 * MIN)
                self.count("deploys arriving after their alerts")
            self.deploy(cluster, env, svc, at, arrive)
        if rng.random() < 0.3 and paging:
            self.deploy(cluster, env, rng.choice(paging)["labels"]["service"],
                        t0 + rng.randint(1 * MIN, 20 * MIN))
        # Acks and notes.
        if rng.random() < 0.6:
            self.ack(cluster, env, t0 + rng.randint(0, 15 * MIN))
        if rng.random() < 0.4 and paging:
            a = rng.choice(paging)
            arrive = None
            if rng.random() < 0.3:  # the ack's record before the alert's
                arrive = a["start"] - rng.randint(1000, 60000)
                self.count("acks before their alert")
            self.ack(cluster, env, a["start"] + rng.randint(0, 10 * MIN), alert=a,
                     labels=rng.random() < 0.5, arrive=arrive)
        if rng.random() < 0.4:
            self.note(cluster, env, t0 + rng.randint(0, 30 * MIN))
        paged = [a for a in paging if not a["generic"]]
        if paged and rng.random() < 0.45:
            last = [a["end"] for a in paged]
            self.pagerduty(paged, min(a["start"] for a in paged),
                           None if None in last else max(last))
        return end, alerts

    def bridge(self, cluster, env, prev_end, next_start):
        """A late alert spanning the quiet time between two bursts."""
        a = self.new_alert(cluster, env, prev_end - 2 * MIN, next_start + 2 * MIN, sev="page")
        self.send_alerts([a], late=next_start - a["start"] + self.rng.randint(1, 3) * 60 * MIN)
        self.count("late bridging alerts")

    def early(self, cluster, env, t0):
        """A late alert that started before a burst (moves its start)."""
        a = self.new_alert(cluster, env, t0 - self.rng.randint(5, 25) * MIN,
                           t0 + MIN, sev="critical")
        self.send_alerts([a], late=self.rng.randint(2, 5) * 60 * MIN)
        self.count("late earlier alerts")

    def stream(self, cluster, env, start, until_records):
        rng = self.rng
        t = start
        prev_end = None
        while len(self.out) < until_records:
            if prev_end is not None:
                r = rng.random()
                if r < 0.12:
                    t = prev_end + GAP  # exactly the gap: two incidents
                    self.count("bursts exactly a gap apart")
                elif r < 0.24:
                    t = prev_end + GAP - rng.randint(1000, 60000)  # just chains
                    self.count("bursts just under a gap apart")
                else:
                    t = prev_end + rng.randint(GAP + MIN, 6 * 60 * MIN)
            if prev_end is not None and prev_end + GAP < t < prev_end + 3 * 60 * MIN \
                    and rng.random() < 0.2:
                self.bridge(cluster, env, prev_end, t)
            if rng.random() < 0.1:
                self.early(cluster, env, t)
            end, _ = self.burst(cluster, env, t, open_ok=False)
            prev_end = end
            if rng.random() < 0.1:  # unrelated deploy
                self.deploy(cluster, env, rng.choice(SERVICES), t + rng.randint(-300, 300) * MIN)
        return prev_end

    def storm(self, n):
        cluster, env = "storm-1", "prod"
        t0 = BASE_MS + 60 * MIN
        self.deploy(cluster, env, "api", t0 - 10 * MIN, arrive=t0 - 9 * MIN)
        step = max(1, 20 * MIN // n)
        alerts = [self.new_alert(cluster, env, t0 + i * step, t0 + 30 * MIN, sev="page",
                                 generic=False) for i in range(n)]
        for i in range(0, n, 100):
            chunk = alerts[i:i + 100]
            self.am_notification(chunk, [False] * len(chunk), chunk[-1]["start"], late=1000)
        for i in range(0, n // 2, 100):
            chunk = alerts[i:min(i + 100, n // 2)]
            self.am_notification(chunk, [True] * len(chunk), t0 + 30 * MIN + i, late=1000)
        self.count("storm alerts", n)

    def run(self, records, storm=0):
        keys = [(c, e) for c in CLUSTERS for e in ENVS]
        per_key = int(records / 1.1) // len(keys)  # duplicates add ~10%
        # Streams side by side in time: each key's bursts start within the
        # first hours, so the keys interleave on the topics.
        starts = {k: BASE_MS + self.rng.randint(0, 180) * MIN for k in keys}
        budget = 0
        for k in keys:
            budget += per_key
            last = self.stream(k[0], k[1], starts[k], budget)
            # One more burst left firing: an open incident.
            self.burst(k[0], k[1], last + 2 * GAP, open_ok=True)
        self.duplicate()
        if storm:
            self.storm(storm)
        return self.place()

    def duplicate(self):
        """The same payload delivered again, some with later timestamps."""
        rng = self.rng
        extra = []
        for rec in self.out:
            if rng.random() < 0.08:
                for _ in range(rng.choice([1, 1, 1, 2])):
                    later = rng.choice([0, rng.randint(1000, 600000), rng.randint(1, 48) * 3600000])
                    extra.append((rec[0] + later, rec[1], rec[2], rec[3]))
        self.out.extend(extra)
        self.count("duplicate deliveries", len(extra))

    def place(self):
        """Orders records by timestamp, shuffled within windows, and gives
        them partitions and offsets."""
        rng = self.rng
        recs = sorted(self.out, key=lambda r: (r[0], r[1], r[3]))
        i = 0
        while i < len(recs):
            w = rng.randint(5, 40)
            window = recs[i : i + w]
            rng.shuffle(window)
            recs[i : i + w] = window
            i += w
        next_off = {}
        lines = []
        for ts, topic, key, payload in recs:
            part = zlib.crc32(key.encode()) % TOPICS[topic]
            off = next_off.get((topic, part), 0)
            next_off[(topic, part)] = off + 1
            lines.append(compact({"topic": topic, "partition": part, "offset": off,
                                  "tstype": "create", "ts": ts, "broker": 1, "key": key,
                                  "payload": payload}))
        return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--records", type=int, default=3000)
    ap.add_argument("--storm", type=int, default=0, help="alerts of one storm incident")
    ap.add_argument("--out", default="-")
    ap.add_argument("--stats", action="store_true", help="print what was generated to stderr")
    a = ap.parse_args()
    if a.records < 100:
        ap.error("--records must be at least 100")
    g = Gen(a.seed)
    lines = g.run(a.records, a.storm)
    out = sys.stdout if a.out == "-" else open(a.out, "w", encoding="utf-8")
    for line in lines:
        out.write(line + "\n")
    if out is not sys.stdout:
        out.close()
    if a.stats:
        g.stats["records"] = len(lines)
        for k in sorted(g.stats):
            print("%-40s %d" % (k, g.stats[k]), file=sys.stderr)


if __name__ == "__main__":
    main()
