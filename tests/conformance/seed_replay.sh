#!/usr/bin/env bash
# Replays ../shared/scenarios/seed-db-misconfig/events.ndjson and checks the
# counts: every good event stored once, also when the file is given twice
# and when replayed again into the same database; re-sent notifications
# are duplicates; nothing is refused.
# Usage: seed_replay.sh AFTERMATH SCENARIOS_DIR WORK_DIR
set -euo pipefail
am=$1 scenarios=$2 work=$3
ev=$scenarios/seed-db-misconfig/events.ndjson
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -f "$ev" ] || fail "the shared scenario $ev is absent; this test needs ../shared/scenarios"
rm -rf "$work" && mkdir -p "$work"
db=$work/seed.db

"$am" replay --db "$db" "$ev" "$ev" >"$work/out1" 2>"$work/err1" || fail "replay exited $?"
cat "$work/out1"
grep -q '42 records, 48 events' "$work/out1" || fail "records/events read"
grep -q 'stored      22 (alert 15, deploy 2, ack 1, note 4)' "$work/out1" || fail "stored"
grep -q 'duplicates  26 ' "$work/out1" || fail "duplicates"
grep -q 'rejected    0' "$work/out1" || fail "rejected"
[ ! -s "$work/err1" ] || { cat "$work/err1"; fail "unexpected log lines"; }

"$am" replay --db "$db" "$ev" >"$work/out2" || fail "second replay exited $?"
grep -q 'stored      0 ' "$work/out2" || fail "second replay stored something"
[ "$(sqlite3 "$db" 'SELECT count(*) FROM events')" = 22 ] || fail "events table"
# detected_at depends on the earliest delivery: the first HighErrorRate
# notification (ts 1718721005000), not its re-send (1718721305000).
[ "$(sqlite3 "$db" "SELECT observed_at FROM events WHERE name = 'HighErrorRate' AND status = 'firing'")" \
  = 1718721005000 ] || fail "earliest observed_at kept"
# Shuffled and reversed, the same rows come out.
tac "$ev" >"$work/reversed.ndjson"
"$am" replay --db "$work/rev.db" "$work/reversed.ndjson" >/dev/null || fail "reversed replay"
q="SELECT id, observed_at FROM events ORDER BY id"
[ "$(sqlite3 "$db" "$q")" = "$(sqlite3 "$work/rev.db" "$q")" ] || fail "order changed the stored events"
echo "1 passed, 0 failed"
