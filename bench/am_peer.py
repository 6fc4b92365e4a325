#!/usr/bin/env python3
"""am_peer.py - the real Alertmanager as the benchmark's peer: posts the
alerts of a stream file (Alertmanager webhook bodies, raw lines or kcat -J
envelopes) to Alertmanager's POST /api/v2/alerts as Prometheus does, in
batches of 64, over one keep-alive connection from 127.0.0.1, and prints
how many alerts it took per second (Alertmanager keeps them in memory).

usage: am_peer.py URL FILE
prints: 'alertmanager alerts A seconds S rate R batches B'
"""
import datetime
import http.client
import json
import sys
import time
import urllib.parse


def alerts_of(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            d = json.loads(line)
            if "payload" in d and "ts" in d:
                d = json.loads(d["payload"]) if d["payload"] else {}
            for a in d.get("alerts", []):
                alert = {"labels": a["labels"], "annotations": a.get("annotations", {}),
                         "startsAt": a["startsAt"]}
                if a.get("status") == "resolved" and a.get("endsAt"):
                    # Alertmanager wants the end after the start (the
                    # stream has resolves at their start too).
                    s, e = (datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))
                            for t in (a["startsAt"], a["endsAt"]))
                    if e <= s:
                        e = s + datetime.timedelta(seconds=1)
                    alert["endsAt"] = e.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
                if a.get("generatorURL"):
                    alert["generatorURL"] = a["generatorURL"]
                out.append(alert)
    return out


def main():
    url, path = sys.argv[1], sys.argv[2]
    alerts = alerts_of(path)
    bodies = [json.dumps(alerts[i:i + 64]).encode() for i in range(0, len(alerts), 64)]
    u = urllib.parse.urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    t0 = time.monotonic()
    for b in bodies:
        c.request("POST", "/api/v2/alerts", b, {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        if r.status != 200:
            print("am_peer: Alertmanager answered %d" % r.status, file=sys.stderr)
            return 1
    secs = time.monotonic() - t0
    print("alertmanager alerts %d seconds %.3f rate %.0f batches %d" %
          (len(alerts), secs, len(alerts) / secs, len(bodies)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
