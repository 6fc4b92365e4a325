#!/usr/bin/env bash
# aftermath demo end to end (librdkafka's mock cluster, no broker): the
# bundled story is produced and consumed through the real consumer, and the
# stored events equal a replay of examples/payments-latency.ndjson (the
# embedded copy is the file's). Also: --db refuses to overwrite without
# --force, and status reads the offsets the demo stored.
# Usage: demo.sh AFTERMATH EXAMPLES_DIR WORK_DIR
set -euo pipefail
am=$1 examples=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

start=$(date +%s%N)
"$am" demo --db "$work/demo.db" >"$work/out" 2>"$work/err" || { cat "$work/out" "$work/err"; fail "demo exited $?"; }
echo "demo took $(( ($(date +%s%N) - start) / 1000000 )) ms"
cat "$work/out"
grep -q '17 records produced' "$work/out" || fail "records produced"
grep -q 'stored      15 events (alert 10, deploy 3, ack 1, note 1)' "$work/out" || fail "stored"
grep -q 'rejected    1 ' "$work/out" || fail "rejected"
grep -q 'place=alerts/0/3 ' "$work/err" || { cat "$work/err"; fail "poison record's place logged"; }

"$am" replay --db "$work/replay.db" "$examples/payments-latency.ndjson" >/dev/null 2>&1 || fail "replay"
q="SELECT id, observed_at FROM events ORDER BY id"
[ "$(sqlite3 "$work/demo.db" "$q")" = "$(sqlite3 "$work/replay.db" "$q")" ] ||
  fail "demo and replay stored different events"
[ "$(sqlite3 "$work/demo.db" "SELECT topic || '/' || partition || '=' || next_offset FROM offsets ORDER BY 1" | tr '\n' ' ')" \
  = "acks/0=1 alerts/0=12 deploys/0=3 notes/0=1 " ] || fail "offsets"
[ "$(sqlite3 "$work/demo.db" "SELECT place FROM rejected")" = "alerts/0/3" ] || fail "rejected place"

set +e
"$am" demo --db "$work/demo.db" >/dev/null 2>"$work/err2"; rc=$?
set -e
[ $rc = 2 ] || fail "existing --db without --force: exit $rc, want 2"
grep -q -- '--force' "$work/err2" || fail "hint to --force"

"$am" status --db "$work/demo.db" >"$work/status" || fail "status"
grep -qE '^  alerts +0 +12$' "$work/status" || { cat "$work/status"; fail "status offsets"; }
grep -qE '^  events +15$' "$work/status" || fail "status counts"
# --webhooks: the acks and notes go through the daemon's webhook receiver
# (POST /webhook/generic -> the notes topic); same events, same incident.
"$am" demo --db "$work/hooks.db" --webhooks >"$work/hooks.out" 2>"$work/hooks.err" ||
  { cat "$work/hooks.out" "$work/hooks.err"; fail "demo --webhooks"; }
grep -q '2 records (acks and notes) POSTed to the webhook receiver at 127.0.0.1:[0-9]*, each answered 202' \
  "$work/hooks.out" || { cat "$work/hooks.out"; fail "demo --webhooks: no POSTs"; }
q2="SELECT id FROM events ORDER BY id"
[ "$(sqlite3 "$work/hooks.db" "$q2")" = "$(sqlite3 "$work/demo.db" "$q2")" ] ||
  fail "demo --webhooks stored other events"
q3="SELECT id, acknowledged_at, mitigated_at FROM incidents"
[ "$(sqlite3 "$work/hooks.db" "$q3")" = "$(sqlite3 "$work/demo.db" "$q3")" ] ||
  fail "demo --webhooks found another incident"
echo "cli demo: ok"
