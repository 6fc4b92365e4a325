#!/usr/bin/env python3
"""Time per web page (aftermath serve) on a store of many incidents.

Generates N incidents (default 10,000) as generic-format alerts, one
cluster each, over 200 services, 2 of every 100 still firing; replays them
into a fresh store; starts `aftermath serve` on 127.0.0.1:PORT; then
fetches each page R times (default 5) over HTTP, one request at a time,
and prints the median and the slowest wall-clock time and the page size.

usage: bench/pages.py AFTERMATH [--incidents N] [--runs R] [--port PORT] [--work DIR]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("aftermath")
ap.add_argument("--incidents", type=int, default=10000)
ap.add_argument("--runs", type=int, default=5)
ap.add_argument("--port", type=int, default=9489)
ap.add_argument("--work", default="/tmp/aftermath-bench-pages")
a = ap.parse_args()

shutil.rmtree(a.work, ignore_errors=True)
os.makedirs(a.work)
events = os.path.join(a.work, "events.ndjson")
base_s = 1735689600  # 2025-01-01T00:00:00Z
with open(events, "w") as f:
    for i in range(a.incidents):
        start = base_s + i * 3600
        alert = {"kind": "alert", "name": f"Latency{i % 7}",
                 "starts_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start)),
                 "labels": {"severity": "critical" if i % 3 else "page", "cluster": f"c{i}",
                            "env": "prod", "service": f"svc{i % 200}"},
                 "annotations": {"summary": f"p99 latency above 2s on svc{i % 200}"}}
        if i % 50 != 7:
            alert["ends_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + 1200))
        f.write(json.dumps(alert) + "\n")
db = os.path.join(a.work, "pages.db")
t0 = time.monotonic()
subprocess.run([a.aftermath, "replay", "--db", db, events], check=True,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
replay_s = time.monotonic() - t0
ids = [o["id"] for o in json.loads(subprocess.run(
    [a.aftermath, "incidents", "--db", db, "--format", "json"], check=True,
    capture_output=True, text=True).stdout)]
srv = subprocess.Popen([a.aftermath, "serve", "--db", db, "--listen", f"127.0.0.1:{a.port}"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{a.port}"
try:
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/ui/static/aftermath.css", timeout=5).read()
            break
        except OSError:
            time.sleep(0.1)
    if srv.poll() is not None:
        sys.exit(f"bench/pages.py: serve exited {srv.returncode} (port {a.port} taken?)")
    with urllib.request.urlopen(base + "/ui/", timeout=120) as r:
        if f"{len(ids)} incidents".encode() not in r.read():
            sys.exit(f"bench/pages.py: the server on port {a.port} is not this benchmark's")
    mid = ids[len(ids) // 2]
    pages = [
        ("incidents, page 1", "/ui/"),
        ("incidents, page 100", "/ui/?page=100"),
        ("incidents, status=open", "/ui/?status=open"),
        ("incidents, service=svc7", "/ui/?service=svc7"),
        ("incidents, q=c1234", "/ui/?q=c1234"),
        ("incidents, severity=page", "/ui/?severity=page"),
        ("incidents, since..until", "/ui/?since=2025-06-01T00:00:00Z&until=2025-07-01T00:00:00Z"),
        ("incidents, all=1, page 150", "/ui/?all=1&page=150"),
        ("one incident", "/ui/incidents/" + mid),
        ("its version (live poll)", f"/ui/incidents/{mid}/version"),
        ("its Markdown draft", f"/ui/incidents/{mid}/draft.md"),
        ("metrics", "/ui/metrics"),
        ("metrics by rule", "/ui/metrics?by=rule"),
        ("action items", "/ui/actions"),
        ("unknown incident (404)", "/ui/incidents/INC-19990101-none"),
    ]
    print(f"{len(ids)} incidents (replayed in {replay_s:.1f} s); {a.runs} runs per page, "
          f"one request at a time, wall-clock")
    print(f"{'page':<30} {'median ms':>10} {'max ms':>8} {'KiB':>8}")
    for name, path in pages:
        times, size = [], 0
        for _ in range(a.runs):
            t = time.monotonic()
            try:
                with urllib.request.urlopen(base + path, timeout=120) as r:
                    size = len(r.read())
            except urllib.error.HTTPError as e:
                size = len(e.read())
            times.append((time.monotonic() - t) * 1000)
        print(f"{name:<30} {statistics.median(times):>10.1f} {max(times):>8.1f} "
              f"{size / 1024:>8.1f}")
finally:
    srv.terminate()
    srv.wait()
