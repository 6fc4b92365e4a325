#!/usr/bin/env python3
"""Drives a story through a real Alertmanager's API v2 the way Prometheus
does, and writes down what really happened.

Prometheus evaluates its rules every EVAL seconds and POSTs the alerts that
are due to /api/v2/alerts: a firing alert on its first evaluation and then
every RESEND seconds, always with the same startsAt and endsAt = now + 4 x
RESEND (Prometheus's ValidUntil), so that Alertmanager resolves it itself
if Prometheus goes away; a resolved alert with endsAt = the evaluation that
found it resolved, re-sent every RESEND seconds until the story ends (as
Prometheus keeps resolved alerts for 15 minutes), until the same labels
fire again (a new episode: a new startsAt). The alerts are sent in one
array per evaluation, as Prometheus batches them.

The story (seconds after T0, a whole second; group_wait 1s,
group_interval 10s, repeat_interval 15s in am.sh's configuration):
  AmSteady{instance="s"}       fires 0, resolves 30: the plain case
  AmFlap{instance="f"}         fires 2, resolves 5, fires again 8 (new
                               startsAt), resolves 40: the resolve at 5
                               falls between two group_interval ticks (3
                               and 13), so no webhook ever reports it
  AmSilenced{instance="q"}     fires 0; silenced at 10 (POST
                               /api/v2/silences); resolves 20 while silenced
  AmTrunc{instance="a"|"b"|"c"} fire 1, resolve 35; their receiver has
                               max_alerts 2: every notification of the group
                               is truncated (truncatedAlerts 1)
  AmLate{instance="l"}         fires 55, resolves 58 (notified at 56 and
                               66): a webhook on the same receiver more than
                               a minute after AmSilenced's last one (at 1),
                               so that a consumer judging staleness on the
                               topic's clock with stale_after 1m (the least
                               aftermath takes) sees AmSilenced go stale
The story ends at 69 s, after every resolve has been re-sent and the last
group_interval tick (66) has notified it.

Writes into OUT:
  truth.json            {"t0": ms, "end": ms, "alerts": [{"labels",
                        "episodes": [{"start": ms, "end": ms, "webhook"}]}],
                        "silences": [...]}: the true start and end of every
                        episode (and what webhooks are meant to show of it)
  amapi.ndjson          every POSTed body as a kcat -J line (topic
                        "am-api-v2", ts = the time it was sent)
  amapi.raw.ndjson      the same bodies, one per line, without an envelope
                        (as a file of captured bodies has no record time)

Usage: story.py ALERTMANAGER_URL OUT [--speed-check]
"""
import json
import sys
import time
import urllib.request

EVAL = 1.0      # rule evaluation interval, seconds
RESEND = 2.0    # Prometheus's resend delay (scaled down from 1m)
VALID = 4 * RESEND
END = 69.0

# labels, [(start, end, webhook)] in seconds after T0; webhook: what the
# story is built to make Alertmanager's webhooks show of the episode:
# "resolved" (its resolve is sent), "unresolved" (it is notified firing but
# its resolve is never sent), "absent" (never listed: truncated away).
# check.py verifies these against the captured webhooks, so that the story
# keeps exercising what it claims to.
STORY = [
    ({"alertname": "AmSteady", "instance": "s"}, [(0, 30, "resolved")]),
    ({"alertname": "AmFlap", "instance": "f"}, [(2, 5, "unresolved"), (8, 40, "resolved")]),
    ({"alertname": "AmSilenced", "instance": "q"}, [(0, 20, "unresolved")]),
    ({"alertname": "AmTrunc", "instance": "a"}, [(1, 35, "resolved")]),
    ({"alertname": "AmTrunc", "instance": "b"}, [(1, 35, "resolved")]),
    ({"alertname": "AmTrunc", "instance": "c"}, [(1, 35, "absent")]),
    ({"alertname": "AmLate", "instance": "l"}, [(55, 58, "resolved")]),
]
SILENCE_AT = 10
SILENCE = {"name": "alertname", "value": "AmSilenced"}


def rfc3339(ms):
    s, m = divmod(int(ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + ".%03dZ" % m


def post(url, doc):
    data = json.dumps(doc).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        body = resp.read()
        if resp.status // 100 != 2:
            raise SystemExit("story: POST %s: HTTP %d %s" % (url, resp.status, body[:200]))
        return body


def main():
    base, out = sys.argv[1].rstrip("/"), sys.argv[2]
    t0 = (int(time.time()) + 2) * 1000
    common = {"job": "aftermath-story", "severity": "critical", "env": "prod"}
    alerts = []
    for labels, eps in STORY:
        full = dict(common, **labels)
        alerts.append({"labels": full,
                       "episodes": [{"start": t0 + s * 1000, "end": t0 + e * 1000, "webhook": w}
                                    for s, e, w in eps],
                       "sent": None, "state": None})

    api = open(out + "/amapi.ndjson", "x")
    raw = open(out + "/amapi.raw.ndjson", "x")
    silences = []
    offset = 0
    tick = 0
    while True:
        now = t0 + int(tick * EVAL * 1000)
        while time.time() * 1000 < now:
            time.sleep(min(0.05, max(0.0, now / 1000 - time.time())))
        if tick * EVAL >= END:
            break
        if tick * EVAL == SILENCE_AT:
            sil = {"matchers": [dict(SILENCE, isRegex=False, isEqual=True)],
                   "startsAt": rfc3339(now), "endsAt": rfc3339(now + 3600 * 1000),
                   "createdBy": "aftermath-story",
                   "comment": "silenced while it resolves (aftermath integration test)"}
            sid = json.loads(post(base + "/api/v2/silences", sil))["silenceID"]
            silences.append({"id": sid, "at": now, "matchers": sil["matchers"],
                             "createdBy": sil["createdBy"], "comment": sil["comment"]})
        batch = []
        for a in alerts:
            # The episode this evaluation is in: the latest one started.
            ep = None
            for e in a["episodes"]:
                if e["start"] <= now:
                    ep = e
            if ep is None:
                continue
            firing = now < ep["end"]
            state = (ep["start"], firing)
            due = (a["state"] != state or a["sent"] is None or
                   now - a["sent"] >= RESEND * 1000)
            if not due:
                continue
            a["state"], a["sent"] = state, now
            body = {"labels": a["labels"],
                    "annotations": {"summary": "%s on %s" % (a["labels"]["alertname"],
                                                             a["labels"]["instance"])},
                    "startsAt": rfc3339(ep["start"]),
                    "endsAt": rfc3339(now + VALID * 1000 if firing else ep["end"]),
                    "generatorURL": "http://prometheus.invalid/graph?g0.expr=up"}
            batch.append(body)
        if batch:
            sent = int(time.time() * 1000)
            post(base + "/api/v2/alerts", batch)
            text = json.dumps(batch, separators=(",", ":"))
            api.write(json.dumps({"topic": "am-api-v2", "partition": 0, "offset": offset,
                                  "ts": sent, "key": None, "payload": text}) + "\n")
            raw.write(text + "\n")
            offset += 1
        tick += 1
    api.close()
    raw.close()
    truth = {"t0": t0, "end": t0 + int(END * 1000),
             "alerts": [{"labels": a["labels"], "episodes": a["episodes"]} for a in alerts],
             "silences": silences}
    with open(out + "/truth.json", "x") as f:
        json.dump(truth, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
