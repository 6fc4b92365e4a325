#!/usr/bin/env python3
"""Writes one large incident as kcat -J NDJSON (deterministic for a seed):
N paging alerts in one cluster and environment (so the default rules make
them one incident), fired in bursts of up to 20 alerts of one name at one
second, as Alertmanager groups them, most resolving together too; a few
flap. Names, services and labels are shaped like kube-prometheus alerts:
an instance label on some, pod/namespace (kube-state-metrics) or node on
others. Around them: a note 10 minutes before the first alert (the
lead-in), a GitHub deployment and its in_progress status for the same
deploy before impact start (one deploy start), an ack and a note during,
and a deploy 5 minutes after the incident resolves (the fix).

Usage: big_incident.py N [SEED] > incident.ndjson
"""
import json
import random
import sys
from datetime import datetime, timedelta, timezone

T0 = datetime(2025, 6, 3, 14, 0, 0, tzinfo=timezone.utc)
CLUSTER, ENV = "prod-eu-1", "prod"

# (name, service, summary, label kind)
KINDS = [
    ("EdgeHTTP5xxHigh", "edge", "Edge 5xx ratio above 5%", "instance"),
    ("KubePodCrashLooping", "checkout", "Pod is crash looping", "pod"),
    ("PaymentsLatencyHigh", "payments", "Payments API p99 latency above 2s", "instance"),
    ("NodeFilesystemAlmostFull", "node-exporter", "Filesystem has less than 5% space left",
     "node"),
    ("KubeDeploymentReplicasMismatch", "checkout", "Deployment has not matched the expected "
     "number of replicas", "deployment"),
    ("CartErrorsHigh", "cart", "Cart API errors above 1%", "instance"),
]


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    n = int(sys.argv[1])
    rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    recs = []  # (ts, topic, payload)

    def alert(labels, start, end, summary):
        ann = {"summary": summary}
        base = {"kind": "alert", "name": labels["alertname"], "severity": "page",
                "environment": ENV, "labels": {k: v for k, v in labels.items()
                                               if k != "alertname"},
                "annotations": ann}
        fire = dict(base, starts_at=iso(start))
        recs.append((start + timedelta(seconds=30), "alerts", fire))
        if end is not None:
            res = dict(base, status="resolved", starts_at=iso(start), ends_at=iso(end))
            recs.append((end + timedelta(seconds=30), "alerts", res))

    made, burst, last_end = 0, 0, T0
    while made < n:
        name, service, summary, kind = KINDS[rnd.choice([0, 0, 0, 1, 2, 2, 3, 4, 5])]
        size = min(n - made, rnd.randint(1, 20))
        start = T0 + timedelta(seconds=burst * 37 % 1800 + (0 if burst else 0))
        common_end = start + timedelta(minutes=rnd.randint(20, 50))
        for k in range(size):
            idx = made + k
            labels = {"alertname": name, "service": service, "cluster": CLUSTER}
            if kind == "instance":
                labels["instance"] = f"{service}-{idx:05d}.{CLUSTER}:9100"
            elif kind == "pod":
                labels.update(pod=f"{service}-7d9f-{idx:05d}", namespace="shop",
                              job="kube-state-metrics")
            elif kind == "node":
                labels.update(node=f"ip-10-0-{idx // 250}-{idx % 250}", mountpoint="/var")
            else:
                labels.update(deployment=f"{service}-{idx:05d}", namespace="shop",
                              job="kube-state-metrics")
            # Most of a burst resolve together; some later; one in 30 flaps.
            end = common_end if rnd.random() < 0.8 else common_end + timedelta(
                seconds=rnd.randint(1, 600))
            if rnd.random() < 1 / 30:
                alert(labels, start, start + timedelta(minutes=3), summary)
                start2 = start + timedelta(minutes=5)
                alert(labels, start2, end + timedelta(minutes=5), summary)
                end = end + timedelta(minutes=5)
            else:
                alert(labels, start, end, summary)
            last_end = max(last_end, end)
        made += size
        burst += 1

    cl = {"cluster": CLUSTER}
    recs.append((T0 - timedelta(minutes=10), "notes", {
        "kind": "note", "at": iso(T0 - timedelta(minutes=10)), "actor": "Ana Ruiz",
        "environment": ENV, "labels": cl,
        "summary": "Starting the edge config rollout (change 4411)"}))
    dep = {"id": 7001, "sha": "9fceb02d0ae598e95dc970b74767f19372d61af8", "ref": "main",
           "environment": ENV, "description": "Deploy edge config 4411",
           "created_at": iso(T0 - timedelta(minutes=8)), "creator": {"login": "ana-ruiz"}}
    repo = {"name": "edge", "full_name": "shop/edge", "html_url": "https://github.com/shop/edge"}
    recs.append((T0 - timedelta(minutes=8), "deploys",
                 {"action": "created", "deployment": dep, "repository": repo}))
    recs.append((T0 - timedelta(minutes=8) + timedelta(seconds=2), "deploys", {
        "action": "created", "deployment": dep, "repository": repo,
        "deployment_status": {"id": 9001, "state": "in_progress", "environment": ENV,
                              "created_at": iso(T0 - timedelta(minutes=8)),
                              "log_url": "https://github.com/shop/edge/actions/runs/77",
                              "creator": {"login": "ana-ruiz"}}}))
    recs.append((T0 + timedelta(minutes=6), "acks", {
        "kind": "ack", "at": iso(T0 + timedelta(minutes=6)), "actor": "Sam Lee",
        "environment": ENV, "labels": cl}))
    recs.append((T0 + timedelta(minutes=12), "notes", {
        "kind": "note", "at": iso(T0 + timedelta(minutes=12)), "actor": "Sam Lee",
        "environment": ENV, "labels": cl, "summary": "Rolling back edge config 4411"}))
    fix = last_end + timedelta(minutes=10 + 5)  # after resolution (quiet 10m)
    recs.append((fix, "deploys", {
        "kind": "deploy", "status": "succeeded", "name": "edge", "version": "2.8.1",
        "service": "edge", "environment": ENV, "at": iso(fix), "actor": "Sam Lee",
        "labels": cl, "summary": "Edge config validation (the fix)"}))

    recs.sort(key=lambda r: (r[0], r[1]))
    offsets = {}
    for ts, topic, payload in recs:
        off = offsets.get(topic, 0)
        offsets[topic] = off + 1
        print(json.dumps({"topic": topic, "partition": 0, "offset": off, "tstype": "create",
                          "ts": int(ts.timestamp() * 1000), "broker": 1, "key": None,
                          "payload": json.dumps(payload, sort_keys=True)}))


if __name__ == "__main__":
    main()
