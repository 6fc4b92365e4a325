#!/usr/bin/env bash
# `aftermath prune` on the bundled example (March 2025, so older than any
# 90-day window today): events and raw records go, the incident list and
# every metric stay the same, a dry run changes nothing, replaying the old
# history again after the prune adds no incident, recorrelate keeps the
# pruned incident, and usage errors exit 2.
# Usage: prune.sh AFTERMATH EXAMPLES_DIR WORK_DIR
set -euo pipefail
am=$1 examples=$2 work=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work"
db=$work/p.db
story=$examples/payments-latency.ndjson
"$am" replay --db "$db" "$story" >/dev/null 2>&1 || fail "replay exited $?"
q() { sqlite3 "$db" "$1"; }
"$am" incidents --db "$db" --format json >"$work/i0.json"
"$am" metrics --db "$db" --format csv >"$work/m0.csv"
events=$(q 'SELECT count(*) FROM events')
deploys=$(q "SELECT count(*) FROM events WHERE kind = 'deploy'")

"$am" prune --db "$db" --older-than 90d --dry-run >"$work/dry" || fail "dry run exited $?"
grep -q '^would prune' "$work/dry" || fail "dry run output"
[ "$(q 'SELECT count(*) FROM events')" = "$events" ] || fail "the dry run deleted events"

"$am" prune --db "$db" --older-than 90d --vacuum >"$work/out" || fail "prune exited $?"
cat "$work/out"
[ "$(q 'SELECT count(*) FROM events')" = "$deploys" ] || fail "events left: want only the $deploys deploys"
[ "$(q "SELECT count(*) FROM records WHERE raw IS NOT NULL")" = "$deploys" ] || fail "raw records left"
"$am" incidents --db "$db" --format json >"$work/i1.json"
cmp -s "$work/i0.json" "$work/i1.json" || fail "the incidents changed"
"$am" metrics --db "$db" --format csv >"$work/m1.csv"
cmp -s "$work/m0.csv" "$work/m1.csv" || { diff "$work/m0.csv" "$work/m1.csv"; fail "the metrics changed"; }

# The pruned past is frozen: the same history again changes no incident.
"$am" replay --db "$db" "$story" >/dev/null 2>&1 || fail "second replay exited $?"
"$am" incidents --db "$db" --format json >"$work/i2.json"
cmp -s "$work/i0.json" "$work/i2.json" || fail "replaying pruned history changed the incidents"
"$am" recorrelate --db "$db" >/dev/null || fail "recorrelate exited $?"
"$am" incidents --db "$db" --format json >"$work/i3.json"
cmp -s "$work/i0.json" "$work/i3.json" || fail "recorrelate changed a pruned incident"

set +e
"$am" prune --db "$db" >/dev/null 2>"$work/e1"; [ $? = 2 ] || fail "no --older-than: want exit 2"
"$am" prune --db "$db" --older-than 2h >/dev/null 2>"$work/e2"; [ $? = 2 ] || fail "2h: want exit 2"
grep -q 'less than 1d' "$work/e2" || fail "2h: message"
"$am" prune --db "$work/nope.db" --older-than 90d >/dev/null 2>&1; [ $? = 1 ] || fail "missing db: want exit 1"
set -e
[ ! -e "$work/nope.db" ] || fail "prune created a database"
echo "prune: ok"
