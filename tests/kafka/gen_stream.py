#!/usr/bin/env python3
"""Generates a kcat -J NDJSON stream for the Kafka integration tests.

Usage: gen_stream.py RECORDS PARTITIONS [--topic T] [--seed N] [--start I]

Records are spread round-robin over PARTITIONS partitions of topic T, with
per-partition offsets from 0 (--start shifts both the event numbers and the
offsets, to make a second part of the same stream). The payloads are
aftermath's generic format: firing and resolved alerts of many services,
deploys, acks and notes, one event each, with every 10th record a re-send
of an earlier one (a duplicate that must be stored once). Timestamps
increase one second per record from 2024-06-18T00:00:00Z. Deterministic
for a given seed.
"""
import argparse
import json
import random
import sys

BASE_MS = 1718668800000  # 2024-06-18T00:00:00Z


def iso(ms):
    s, m = divmod(ms, 1000)
    import datetime
    t = datetime.datetime.fromtimestamp(s, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % m


def payload(i, rng):
    at = BASE_MS + i * 1000
    service = "svc-%d" % (i % 37)
    kind = rng.choice(["alert"] * 6 + ["deploy", "ack", "note"])
    labels = {"cluster": "c%d" % (i % 3), "env": "prod"}
    if kind == "alert":
        status = rng.choice(["firing", "firing", "resolved"])
        ev = {"kind": "alert", "status": status, "name": "Alert%d" % (i % 11),
              "starts_at": iso(at - 60000),
              "ends_at": iso(at) if status == "resolved" else None,
              "service": service, "severity": rng.choice(["page", "warning"]),
              "labels": dict(labels, instance="i-%d" % i),
              "annotations": {"summary": "event %d" % i}}
    elif kind == "deploy":
        ev = {"kind": "deploy", "status": "succeeded", "name": service,
              "version": "1.%d" % i, "service": service, "environment": "prod",
              "at": iso(at), "actor": "ci", "labels": labels}
    elif kind == "ack":
        ev = {"kind": "ack", "service": service, "at": iso(at),
              "actor": "oncall-%d" % (i % 5), "labels": labels}
    else:
        ev = {"kind": "note", "at": iso(at), "actor": "oncall",
              "labels": labels, "summary": "note %d" % i}
    return json.dumps(ev, separators=(",", ":"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("records", type=int)
    ap.add_argument("partitions", type=int)
    ap.add_argument("--topic", default="events")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=int, default=0)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    made = {}
    out = sys.stdout
    for n in range(a.start, a.start + a.records):
        part = n % a.partitions
        offset = n // a.partitions
        if n % 10 == 9 and made:
            # A re-sent record: same payload, a later timestamp.
            text = made[rng.choice(sorted(made))]
        else:
            text = payload(n, rng)
            made[n] = text
        rec = {"topic": a.topic, "partition": part, "offset": offset,
               "tstype": "create", "ts": BASE_MS + n * 1000, "broker": 1,
               "key": "k%d" % (n % 17), "payload": text}
        out.write(json.dumps(rec, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
