#!/usr/bin/env bash
# Smoke test of the benchmark programs (not the benchmark): a 1,000-record
# stream is generated twice (the same bytes: the generator is
# deterministic), parsed by the jansson baseline, and replayed; the counts
# must agree and nothing may be refused.
# Usage: smoke.sh AM_BENCH_GEN AM_BENCH_PARSE AFTERMATH WORKDIR
set -euo pipefail
GEN=$1 PARSE=$2 AM=$3 WORK=$4
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$WORK" && mkdir -p "$WORK"
"$GEN" --events 1000 --seed 7 >"$WORK/a.ndjson"
"$GEN" --events 1000 --seed 7 >"$WORK/b.ndjson"
cmp -s "$WORK/a.ndjson" "$WORK/b.ndjson" || fail "the generator is not deterministic"
[ "$(wc -l <"$WORK/a.ndjson")" -eq 1000 ] || fail "expected 1000 lines"
read -r _ records _ _ _ _ _ failed _ _ < <("$PARSE" "$WORK/a.ndjson")
[ "$records" = 1000 ] && [ "$failed" = 0 ] || fail "parse baseline: $records records, $failed failed"
"$AM" replay --db "$WORK/a.db" "$WORK/a.ndjson" >"$WORK/replay.out" 2>"$WORK/replay.err" ||
  { cat "$WORK/replay.err"; fail "replay"; }
grep -q ': 1000 records' "$WORK/replay.out" || fail "replay did not read 1000 records: $(head -1 "$WORK/replay.out")"
grep -qE '^  rejected +0$' "$WORK/replay.out" || fail "records refused: $(grep rejected "$WORK/replay.out")"
# Every event is stored once or counted as a duplicate, and the 60 %
# re-notifications make most of them duplicates.
python3 - "$WORK/replay.out" <<'PY' || fail "replay counts"
import re, sys
t = open(sys.argv[1]).read()
events = int(re.search(r"records, (\d+) events", t).group(1))
stored = int(re.search(r"stored +(\d+)", t).group(1))
dups = int(re.search(r"duplicates +(\d+)", t).group(1))
assert stored + dups == events, (stored, dups, events)
assert dups > events // 3, (dups, events)
print("smoke: %d events, %d stored, %d duplicates" % (events, stored, dups))
PY
