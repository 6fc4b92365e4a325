#!/usr/bin/env bash
# CloudEvents binary mode through replay: a kcat -J dump whose records
# carry ce_* headers and a bare CDEvent as value stores the same events as
# the same CDEvents in structured mode (envelopes, no headers); a record
# missing ce_id is refused naming the header; unrelated headers change
# nothing.
# Usage: replay_cloudevents.sh AFTERMATH WORK_DIR
set -euo pipefail
am=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
q() { sqlite3 "$1" "$2"; }

deployed='{"context":{"version":"0.4.1","id":"d-1","source":"/ci/argo","type":"dev.cdevents.service.deployed.0.2.0","timestamp":"2024-06-18T14:05:00Z"},"subject":{"id":"checkout","content":{"environment":{"id":"prod"},"artifactId":"pkg:oci/shop/checkout@v1.2.3"}}}'
rolledback='{"context":{"version":"0.4.1","id":"r-1","source":"/ci/argo","type":"dev.cdevents.service.rolledback.0.1.1","timestamp":"2024-06-18T14:40:00Z"},"subject":{"id":"checkout","content":{"environment":{"id":"prod"},"artifactId":"pkg:oci/shop/checkout@v1.2.2"}}}'
# envelope TS OFFSET PAYLOAD [HEADERS]: one kcat -J line (the payload is
# JSON-encoded by escaping its quotes: the payloads hold no backslash).
envelope() {
  local payload=${3//\"/\\\"}
  printf '{"topic":"deploys","partition":0,"offset":%s,"tstype":"create","ts":%s,"broker":1,"key":null,%s"payload":"%s"}\n' \
    "$2" "$1" "${4:+\"headers\":$4,}" "$payload"
}
ce() { # ce ID TYPE: the ce_* headers of a binary-mode CDEvent
  printf '["ce_specversion","1.0","ce_id","%s","ce_source","/ci/argo","ce_type","%s","content-type","application/json","traceparent","00-4bf92f-01"]' "$1" "$2"
}
structured() { # structured ID TYPE DATA
  printf '{"specversion":"1.0","id":"%s","source":"/ci/argo","type":"%s","datacontenttype":"application/json","data":%s}' "$1" "$2" "$3"
}
{
  envelope 1718719510000 0 "$deployed" "$(ce d-1 dev.cdevents.service.deployed.0.2.0)"
  envelope 1718721610000 1 "$rolledback" "$(ce r-1 dev.cdevents.service.rolledback.0.1.1)"
  envelope 1718721620000 2 "$rolledback" '["ce_specversion","1.0","ce_source","/ci/argo","ce_type","dev.cdevents.service.rolledback.0.1.1"]'
} >"$work/binary.ndjson"
{
  envelope 1718719510000 0 "$(structured d-1 dev.cdevents.service.deployed.0.2.0 "$deployed")" '["traceparent","00-4bf92f-01"]'
  envelope 1718721610000 1 "$(structured r-1 dev.cdevents.service.rolledback.0.1.1 "$rolledback")"
} >"$work/structured.ndjson"

"$am" replay -q --db "$work/b.db" "$work/binary.ndjson" 2>"$work/err" || fail "binary replay exited $?"
"$am" replay -q --db "$work/s.db" "$work/structured.ndjson" 2>/dev/null || fail "structured replay exited $?"
cols="id, kind, status, source, name, service, environment, version, labels, annotations, starts_at, observed_at"
[ "$(q "$work/b.db" "SELECT count(*) FROM events")" = 2 ] || fail "binary events"
[ "$(q "$work/b.db" "SELECT $cols FROM events ORDER BY id")" = "$(q "$work/s.db" "SELECT $cols FROM events ORDER BY id")" ] ||
  fail "binary and structured mode stored different events"
[ "$(q "$work/b.db" "SELECT group_concat(status) FROM (SELECT status FROM events ORDER BY starts_at)")" = succeeded,rolled_back ] ||
  fail "deploy statuses"
[ "$(q "$work/b.db" "SELECT place FROM rejected")" = "$work/binary.ndjson:3 (deploys/0/2)" ] || fail "rejected place"
q "$work/b.db" "SELECT reason FROM rejected" | grep -q '^cloudevents: header ce_id: missing' ||
  { q "$work/b.db" "SELECT reason FROM rejected"; fail "rejection names ce_id"; }
grep -q 'header ce_id' "$work/err" || fail "the refusal is logged"
# Records 2 and 3 share their value and differ in headers only: decoding
# inline, record 3 meets record 2 in the pipeline's memory of records
# already taken, which must tell them apart by their headers.
AFTERMATH_DECODE_THREADS=0 "$am" replay -q --db "$work/b0.db" "$work/binary.ndjson" 2>/dev/null ||
  fail "inline binary replay exited $?"
[ "$(q "$work/b0.db" "SELECT count(*) FROM rejected")" = 1 ] ||
  fail "a record differing only in its headers was taken for a repeat"
# Without its headers the binary dump's values are bare CDEvents: the same
# events again, so the headers add no event and lose none.
sed 's/"headers":\[[^]]*\],//' "$work/binary.ndjson" >"$work/bare.ndjson"
"$am" replay -q --db "$work/n.db" "$work/bare.ndjson" 2>/dev/null || fail "bare replay"
[ "$(q "$work/n.db" "SELECT count(*) FROM events")" = 2 ] || fail "bare events"
[ "$(q "$work/n.db" "SELECT count(*) FROM rejected")" = 0 ] || fail "bare rejected"
echo "replay_cloudevents: ok"
