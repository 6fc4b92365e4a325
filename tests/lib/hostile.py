#!/usr/bin/env python3
"""Writes the hostile-record corpus: each kind of bad record between two
good ones, for `aftermath replay` and for am_produce --topic T (a line that
is not a kcat envelope is produced as the record's value; the null record
is an envelope with "payload": null).

Usage: hostile.py OUT.ndjson EXPECT.txt

EXPECT.txt gets one line per hostile record: "<n>\t<kind>\t<reason
substring>", n counting records from 1 in file order, so a test can check
that record n was refused for that reason. The good records are notes
"good 1", "good 2", ... that must all be stored.
"""
import json
import sys

out, expect = sys.argv[1], sys.argv[2]
records = []  # (bytes, kind or None, reason)
good_n = 0


def good():
    global good_n
    good_n += 1
    doc = {"kind": "note", "at": "2024-06-18T14:%02d:00Z" % good_n, "summary": "good %d" % good_n}
    records.append((json.dumps(doc).encode(), None, None))


def bad(kind, payload, reason):
    good()
    records.append((payload, kind, reason))


bad("invalid JSON", b'{"kind": "alert", "status"', "invalid JSON")
bad("wrong types", b'{"kind": "alert", "status": "firing", "name": 42, "starts_at": "2024-06-18T14:00:00Z"}',
    "field name: expected a string")
bad("wrong type at the top", b"[1, 2, 3]", "not a known format")
bad("impossible date (Feb 30)", b'{"kind": "note", "at": "2024-02-30T10:00:00Z", "summary": "x"}', "2024-02-30")
bad("lone surrogate", b'{"kind": "note", "at": "2024-06-18T14:00:00Z", "summary": "\\ud800"}', "invalid JSON")
bad("invalid UTF-8", b'{"kind": "note", "at": "2024-06-18T14:00:00Z", "summary": "\xff\xfe"}', "invalid JSON")
bad("4 MiB string",
    json.dumps({"kind": "note", "at": "2024-06-18T14:00:00Z", "summary": "x" * (4 << 20)}).encode(),
    "over the limit of")
bad("100,000-deep nesting", b"[" * 100000 + b"]" * 100000, "invalid JSON")
bad("nesting over max_json_depth", b'{"kind": "note", "x": ' + b"[" * 40 + b"]" * 40 + b"}", "nested deeper")
bad("null payload",
    json.dumps({"topic": "events", "partition": 0, "offset": 0, "ts": 1718719200000, "key": "gone",
                "payload": None}).encode(), "null")
bad("valid JSON of no known format", b'{"hello": "world"}', "not a known format")
bad("too many labels (max_labels_per_event)",
    json.dumps({"kind": "note", "at": "2024-06-18T14:00:00Z", "summary": "x",
                "labels": {"l%d" % i: "v" for i in range(200)}}).encode(), "labels")
bad("label value too long (max_label_bytes)",
    json.dumps({"kind": "note", "at": "2024-06-18T14:00:00Z", "summary": "x",
                "labels": {"team": "v" * 20000}}).encode(), "limit")
bad("too many alerts in one payload (max_alerts_per_payload)",
    json.dumps({"version": "4", "status": "firing", "receiver": "r", "groupLabels": {},
                "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am",
                "alerts": [{"labels": {"alertname": "A%d" % i}, "startsAt": "2024-06-18T14:00:00Z"}
                           for i in range(10001)]}, separators=(",", ":")).encode(), "alerts")
good()

with open(out, "wb") as f:
    for payload, _, _ in records:
        assert b"\n" not in payload
        f.write(payload + b"\n")
with open(expect, "w") as f:
    for n, (_, kind, reason) in enumerate(records, 1):
        if kind:
            f.write("%d\t%s\t%s\n" % (n, kind, reason))
print(good_n)
