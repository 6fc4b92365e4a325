#!/usr/bin/env bash
# The rules commands end to end: check names file:line:column and exits 2;
# test prints the incidents the example would form without a database;
# recorrelate applies new rules to a database, which refuses new events
# under other rules until then.
# Usage: rules_cli.sh AFTERMATH SOURCE_DIR WORK_DIR
set -euo pipefail
am=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
ex=$src/examples/payments-latency.ndjson

"$am" rules check "$src/rules/default.yaml" | grep -q 'ok, 1 rule: paging-outage' || fail "check default"
printf 'version: 1\nrules:\n  - name: a\n    match: []\n    gapp: 5m\n' >bad.yaml
set +e
"$am" rules check bad.yaml 2>err; rc=$?
set -e
[ $rc = 2 ] || fail "bad rules: exit $rc, want 2"
grep -q "^bad.yaml:5:5: unknown key 'gapp'" err || { cat err; fail "error place"; }

"$am" rules test "$ex" 2>/dev/null >out
grep -q 'INC-20250311-w8rchz3re8 .*checkout,payments' out || { cat out; fail "rules test incident"; }
[ ! -e aftermath.db ] || fail "rules test wrote a database"
"$am" rules test --format json "$ex" 2>/dev/null >out.json
python3 -c '
import json,sys
d = json.load(open("out.json"))
assert len(d["incidents"]) == 1, d
i = d["incidents"][0]
assert i["services"] == ["checkout", "payments"], i
assert i["suspects"][0]["version"] == "3.14.0", i
assert i["during"][0]["status"] == "rolled_back", i
assert i["users_impacted"] == 2300, i
assert d["not_in_any_incident"] == ["CacheEvictions", "PaymentsLatencyHigh"], d["not_in_any_incident"]
' || fail "rules test json"

# Another rule set: refused, then applied with recorrelate.
"$am" replay --db a.db "$ex" >/dev/null 2>&1
printf 'version: 1\nrules:\n  - name: per-service\n    match: [%s]\n    group_by: [service]\n' \
  "'severity=~\"page|critical\"', 'env=\"prod\"'" >per-service.yaml
set +e
"$am" replay --db a.db --rules per-service.yaml "$ex" >/dev/null 2>err; rc=$?
set -e
[ $rc = 2 ] || fail "other rules: exit $rc, want 2"
grep -q 'recorrelate' err || fail "hint to recorrelate"
"$am" recorrelate --db a.db --rules per-service.yaml | grep -c '^INC-' | grep -qx 2 || fail "recorrelate"
"$am" incidents --db a.db --format json | python3 -c '
import json,sys
d = json.load(sys.stdin)
assert sorted(i["key"]["service"] for i in d) == ["checkout", "payments"], d
assert all(i["id"] != "INC-20250311-w8rchz3re8" for i in d), "ids come from the rule: new rule, new ids"
' || fail "incidents after recorrelate"
echo "rules cli: ok"
