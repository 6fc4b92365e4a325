#!/usr/bin/env bash
# `aftermath metrics` on the bundled example (one incident: payments and
# checkout, detected in 70 s, acknowledged 200 s later; three deploys, the
# payments one a suspect) in every format, and its usage errors (exit 2 with a hint).
# Usage: metrics_example.sh AFTERMATH EXAMPLES_DIR WORK_DIR
set -euo pipefail
am=$1 examples=$2 work=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work"
db=$work/example.db
"$am" replay --db "$db" "$examples/payments-latency.ndjson" >/dev/null 2>&1 ||
    fail "replay exited $?"

"$am" metrics --db "$db" --format csv >"$work/m.csv" || fail "metrics exited $?"
cat "$work/m.csv"
has() { grep -qxF "$1"$'\r' "$2" || fail "$2 lacks: $1"; }
has 'service,payments,1,detect,1,0,0,70,70,70' "$work/m.csv"
has 'service,checkout,1,acknowledge,1,0,0,200,200,200' "$work/m.csv"
has 'service,*,1,mitigate,1,0,0,1440,1440,1440' "$work/m.csv"
has 'payments,2,1,0.5000,1,2040' "$work/m.csv"
has 'search,1,0,0.0000,0,' "$work/m.csv"
has '*,3,1,0.3333,1,2040' "$work/m.csv"
"$am" metrics --db "$db" --by rule >"$work/table" || fail "table exited $?"
grep -q 'paging-outage' "$work/table" || fail "by rule"
"$am" metrics --db "$db" --format html >"$work/m.html" || fail "html exited $?"
grep -q '<svg' "$work/m.html" || fail "html chart"
! grep -qi 'http' "$work/m.html" || fail "html refers to the network"
"$am" metrics --help | grep 'ceil(q\*N/100)' >/dev/null || fail "--help documents the method"

usage() {
    set +e
    "$am" metrics --db "$db" "$@" >/dev/null 2>"$work/err"
    rc=$?
    set -e
    [ $rc = 2 ] || fail "metrics $* exited $rc, not 2"
    grep -q "Try 'aftermath metrics --help'" "$work/err" || fail "metrics $*: no hint"
}
usage --format xml
usage --since yesterday
usage --until 2024-13-01T00:00:00Z
usage --since 2024-06-02T00:00:00Z --until 2024-06-01T00:00:00Z
usage --by ''
usage --bogus
usage extra
echo ok
