#!/usr/bin/env python3
"""receive_load.py - a bounded load run against aftermath's webhook
receiver from 127.0.0.1 (bench/receive.sh starts everything).

usage: receive_load.py URL TOKEN COUNT CONNECTIONS [SECONDS]

Posts COUNT Alertmanager webhook bodies (1-3 alerts each, distinct), over
CONNECTIONS keep-alive connections in as many threads, stopping early
after SECONDS (default 60). Prints accepted POSTs/s and the latency
percentiles of the accepted ones; exits 1 if any POST was not 202.
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse


def body(i):
    n = 1 + i % 3
    alerts = [{"status": "firing",
               "labels": {"alertname": "Load%d" % (i % 50), "service": "svc-%d" % (i % 200),
                          "cluster": "c%d" % (i % 8), "severity": "page", "env": "prod",
                          "instance": "i-%d-%d" % (i, k)},
               "annotations": {"summary": "load"},
               "startsAt": "2024-06-18T14:%02d:00Z" % (i % 60),
               "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "%016x" % (i * 8 + k)}
              for k in range(n)]
    return json.dumps({"receiver": "aftermath", "status": "firing", "alerts": alerts,
                       "groupLabels": {"alertname": "Load%d" % (i % 50)},
                       "commonLabels": {}, "commonAnnotations": {}, "externalURL": "",
                       "version": "4", "groupKey": "{}:{alertname=\"Load%d\"}" % (i % 50),
                       "truncatedAlerts": 0}).encode()


def main():
    url, token, count, conns = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    limit = float(sys.argv[5]) if len(sys.argv) > 5 else 60.0
    u = urllib.parse.urlparse(url)
    bodies = [body(i) for i in range(count)]
    lat, bad, lock = [], [], threading.Lock()
    nxt = [0]
    t0 = time.monotonic()

    def worker():
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        mine = []
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= count or time.monotonic() - t0 > limit:
                break
            s = time.monotonic()
            c.request("POST", "/webhook/alertmanager", bodies[i],
                      {"Content-Type": "application/json", "Authorization": "Bearer " + token})
            r = c.getresponse()
            r.read()
            if r.status == 202:
                mine.append(time.monotonic() - s)
            else:
                with lock:
                    bad.append(r.status)
        c.close()
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    lat.sort()
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")
    print("accepted %d POSTs in %.2f s over %d connections: %.0f POSTs/s; latency p50 %.2f ms, "
          "p99 %.2f ms, max %.2f ms; refused %d" % (len(lat), wall, conns, len(lat) / wall,
                                                    pct(0.5), pct(0.99), pct(1.0), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
