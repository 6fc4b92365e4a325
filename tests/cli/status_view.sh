#!/usr/bin/env bash
# aftermath status on a view's store: the incidents waiting for their parts
# (the oldest, since when) and the stale incident documents it dropped
# (docs/scaling.md, "Incident documents"); a correlator's store shows neither.
# Usage: status_view.sh AFTERMATH TEST_REPLICA EXAMPLES_DIR WORK_DIR
set -euo pipefail
am=$1 writer=$2 examples=$3 work=$4
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work"
"$writer" --write-view "$work/view.db" >"$work/writer.out" || fail "test_replica --write-view"
inc=$(sed -n 's/^.*: a view with \(INC-[^ ]*\) waiting$/\1/p' "$work/writer.out")
[ -n "$inc" ] || fail "no incident named by the writer"
"$am" status --db "$work/view.db" >"$work/out" 2>"$work/err" || fail "status exited $?"
cat "$work/out"
grep -qE "^  waiting   1 incidents waiting for their parts \(each keeps its last complete state\); the oldest, $inc, since [0-9]{4}-[0-9]{2}-[0-9]{2}T" \
    "$work/out" || fail "waiting line"
grep -qx "  stale     1 incident documents dropped as older than the view's" "$work/out" ||
    fail "stale line"
# a correlator's store: neither line
"$am" replay --db "$work/corr.db" "$examples/payments-latency.ndjson" >/dev/null 2>&1 ||
    fail "replay exited $?"
"$am" status --db "$work/corr.db" >"$work/corr.out" 2>&1 || fail "status (correlator) exited $?"
! grep -qE '^  (waiting|stale) ' "$work/corr.out" || fail "a correlator's store shows view lines"
"$am" status --help | grep -q 'waiting for their parts' || fail "--help"
echo "status_view: ok"
