#!/usr/bin/env bash
# `aftermath metrics` on ../shared/scenarios/seed-db-misconfig: the first
# incident (cluster eu-west-1, services db and web) takes 125 s to detect
# and 305 s to acknowledge; the second (billing, us-east-1) 20 s to detect
# and has no acknowledgement (missing, never 0). One suspect deploy of two.
# Usage: seed_metrics.sh AFTERMATH SCENARIOS_DIR WORK_DIR
set -euo pipefail
am=$1 scenarios=$2 work=$3
dir=$scenarios/seed-db-misconfig
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -f "$dir/events.ndjson" ] || fail "the shared scenario $dir is absent"
rm -rf "$work" && mkdir -p "$work"
db=$work/seed.db
"$am" replay --db "$db" --rules "$dir/rules.yaml" "$dir/events.ndjson" >/dev/null 2>&1 ||
    fail "replay exited $?"

"$am" metrics --db "$db" --by cluster --format csv >"$work/cluster.csv" || fail "metrics exited $?"
cat "$work/cluster.csv"
has() { grep -qxF "$1"$'\r' "$2" || fail "$2 lacks: $1"; }
has 'cluster,eu-west-1,1,detect,1,0,0,125,125,125' "$work/cluster.csv"
has 'cluster,eu-west-1,1,acknowledge,1,0,0,305,305,305' "$work/cluster.csv"
has 'cluster,us-east-1,1,detect,1,0,0,20,20,20' "$work/cluster.csv"
has 'cluster,us-east-1,1,acknowledge,0,1,0,,,' "$work/cluster.csv"
has 'cluster,*,2,detect,2,0,0,20,125,125' "$work/cluster.csv"
has 'cluster,*,2,acknowledge,1,1,0,305,305,305' "$work/cluster.csv"
has 'db,2,1,0.5000,1,4320' "$work/cluster.csv"
has '*,2,1,0.5000,2,1500' "$work/cluster.csv"

# By service, the first incident counts for db and for web.
"$am" metrics --db "$db" --format csv >"$work/service.csv" || fail "metrics exited $?"
has 'service,db,1,detect,1,0,0,125,125,125' "$work/service.csv"
has 'service,web,1,acknowledge,1,0,0,305,305,305' "$work/service.csv"
has 'service,billing,1,acknowledge,0,1,0,,,' "$work/service.csv"

# JSON: seconds, null when missing; the table: human durations, '-'.
"$am" metrics --db "$db" --by cluster --format json >"$work/m.json" || fail "json exited $?"
grep -q '"p50_s": 125' "$work/m.json" || fail "json detect"
grep -q '"p50_s": null' "$work/m.json" || fail "json missing ack"
"$am" metrics --db "$db" --by cluster >"$work/table" || fail "table exited $?"
cat "$work/table"
grep -Eq '^eu-west-1 +1 +detect +1 +0 +0 +2m5s ' "$work/table" || fail "table detect"
grep -Eq '^ +acknowledge +1 +0 +0 +5m5s ' "$work/table" || fail "table ack"
grep -Eq '^ +acknowledge +0 +1 +0 +- +- +-$' "$work/table" || fail "table missing ack"

# A period after the scenario: nothing, and no rate.
"$am" metrics --db "$db" --since 2024-06-19T00:00:00Z --format csv >"$work/later.csv" ||
    fail "later exited $?"
has 'service,*,0,detect,0,0,0,,,' "$work/later.csv"
has '*,0,0,,0,' "$work/later.csv"
echo ok
