#!/usr/bin/env bash
# aftermath correct, action, actions and status on the shared seed
# scenario: each correction kind from the command line, the refusals (exit
# 2 naming the problem), the draft showing corrected values with who, when,
# why and the derived value, the Action Items table, the follow-up figures,
# and recorrelate under changed rules (every incident renamed) keeping
# every correction and action attached through `about`.
# Usage: correct_cli.sh AFTERMATH SEED_DIR PROJECT_DIR WORK_DIR
set -euo pipefail
am=$1 seed=$2 project=$3 work=$4
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work"
db=$work/seed.db
export AFTERMATH_ACTOR="Ravi Patel"
"$am" replay --db "$db" --rules "$seed/rules.yaml" "$seed/events.ndjson" >/dev/null 2>&1 ||
    fail "replay exited $?"
inc=INC-20240618-dfrra268m3 other=INC-20240618-9rbw9ghfyb

for c in correct action actions; do
    "$am" "$c" --help | grep -q "usage: aftermath $c" || fail "$c --help"
done

# Refusals: exit 2, saying what.
refused() {
    local want=$1; shift
    set +e
    "$am" "$@" --db "$db" >"$work/out" 2>"$work/err"
    local rc=$?
    set -e
    [ "$rc" = 2 ] || fail "$* exited $rc, want 2"
    grep -q -- "$want" "$work/err" || { cat "$work/err" >&2; fail "$*: no '$want'"; }
}
refused "no incident INC-nope" correct INC-nope --set title=x
refused "'colour' is not a field" correct "$inc" --set colour=red
refused "'soon' is not an RFC 3339 time" correct "$inc" --set mitigated_at=soon
refused "mitigated_at 2024-06-18T14:00:00Z would be before started_at" \
    correct "$inc" --set mitigated_at=2024-06-18T14:00:00Z
refused "nothing to correct" correct "$inc"
refused "has no action item AI-7" action "$inc" done AI-7
refused "add: --task is required" action "$inc" add
refused "--topic: needs --config" correct "$inc" --set title=x --topic people
[ "$(sqlite3 "$db" "SELECT count(*) FROM events WHERE kind IN ('correction','action')")" = 0 ] ||
    fail "a refused correction was stored"

# Each kind.
"$am" correct "$inc" --set title="Bad DB config" --set commander="Ravi Patel" \
    --set role.comms="Jane Doe" --set mitigated_at=2024-06-18T15:20:00Z \
    --set users_impacted=12000 --reason "restart at 15:20 restored service" \
    --at 2024-06-19T09:00:00Z --db "$db" >/dev/null || fail "correct set"
"$am" correct "$inc" --suspect db-config@2024.06.18-1=confirmed --at 2024-06-19T09:05:00Z \
    --db "$db" >/dev/null || fail "correct suspect"
"$am" correct "$other" --dismiss "load test" --at 2024-06-19T09:06:00Z --db "$db" >/dev/null ||
    fail "correct dismiss"
# The same correction again is the same event: stored once.
"$am" correct "$other" --dismiss "load test" --at 2024-06-19T09:06:00Z --db "$db" |
    grep -q "already recorded" || fail "a repeated correction was stored twice"
"$am" action "$inc" add --task "Review config changes before rollout" --owner "John Smith" \
    --due 2024-06-19 --at 2024-06-19T09:10:00Z --db "$db" | grep -q recorded || fail "action add"
"$am" action "$inc" add --task "Alert on config drift" --owner "Jane Doe" --due 2024-07-01 \
    --at 2024-06-19T09:11:00Z --db "$db" >/dev/null || fail "action add 2"
"$am" action "$inc" done AI-1 --at 2024-06-20T10:00:00Z --db "$db" >/dev/null || fail "action done"

# incidents: the dismissed one only with --all; corrected values.
"$am" incidents --db "$db" >"$work/list"
grep -q "$other" "$work/list" && fail "a dismissed incident is listed"
"$am" incidents --all --db "$db" | grep "$other" | grep -q dismissed || fail "--all"
"$am" incidents --db "$db" --format json >"$work/inc.json"
python3 - "$work/inc.json" <<'EOF' || fail "incidents json"
import json, sys
inc, = json.load(open(sys.argv[1]))
assert inc["title"] == "Bad DB config", inc["title"]
assert inc["lead"] == "Ravi Patel" and inc["corrections"]["lead"]["derived"] == "Jane Doe"
assert inc["mitigated_at"] == "2024-06-18T15:20:00Z"
assert inc["corrections"]["mitigated_at"]["derived"] == "2024-06-18T15:30:00Z"
assert inc["users_impacted"] == 12000 and inc["roles"] == {"comms": "Jane Doe"}
assert inc["suspects"][0]["verdict"] == "confirmed"
assert [a["item"] for a in inc["action_items"]] == ["AI-1", "AI-2"]
EOF

# The draft: corrected beside derived, who/when/why, the verdict, the items.
"$am" report "$inc" --db "$db" --format md >"$work/draft.md" || fail "report"
grep -qF "| Title | Bad DB config (corrected by Ravi Patel at 2024-06-19 09:00:00 UTC: restart at 15:20 restored service) |" "$work/draft.md" || fail "draft title"
grep -qF "| Mitigated (UTC) | 2024-06-18 15:20:00 (corrected by Ravi Patel at 2024-06-19 09:00:00 UTC: restart at 15:20 restored service; derived: 2024-06-18 15:30:00) |" "$work/draft.md" || fail "draft mitigated"
grep -qF "| Roles | comms: Jane Doe |" "$work/draft.md" || fail "draft roles"
grep -qF "Verdict: confirmed (corrected by Ravi Patel at 2024-06-19 09:05:00 UTC)" "$work/draft.md" || fail "draft verdict"
grep -qF "| AI-1: Review config changes before rollout (done 2024-06-20 10:00:00 UTC) | John Smith | 2024-06-19 23:59:59 |  |" "$work/draft.md" || fail "draft action item"
grep -qF "|  |  |  | mitigate / prevent / process |" "$work/draft.md" || fail "draft empty rows"
"$am" show "$inc" --db "$db" | grep -qF "Mitigated  [a person's correction by Ravi Patel at 2024-06-19T09:00:00Z: restart at 15:20 restored service]" ||
    fail "show: the corrected mitigation"
"$am" report "$inc" --db "$db" --format md --no-names >"$work/anon.md"
grep -q "Ravi Patel\|John Smith" "$work/anon.md" && fail "--no-names kept a name"

# actions: filters and formats.
"$am" actions --db "$db" --now 2024-07-02T00:00:00Z --overdue --format csv >"$work/overdue.csv"
[ "$(wc -l <"$work/overdue.csv")" = 2 ] || fail "overdue: $(cat "$work/overdue.csv")"
grep -q "AI-2,overdue,Jane Doe" "$work/overdue.csv" || fail "overdue row"
"$am" actions --db "$db" --done --format json | grep -q '"closed_at": "2024-06-20T10:00:00Z"' ||
    fail "done json"
"$am" actions --db "$db" --owner "John Smith" | grep -q "AI-1" || fail "by owner"

# metrics: confirmed-suspect basis named, corrected time, follow-ups.
"$am" metrics --db "$db" --format json >"$work/m.json"
python3 - "$work/m.json" <<'EOF' || fail "metrics json"
import json, sys
m = json.load(open(sys.argv[1]))
cf = m["change_failure"]
assert cf["basis"] == "confirmed_suspects" and cf["failed"] == 1, cf
assert m["overall"]["incidents"] == 1
assert m["overall"]["time_to_mitigate"]["p50_s"] == 52 * 60
f = m["follow_ups"]
assert (f["action_items_open"], f["action_items_overdue"], f["action_items_done"]) == (1, 1, 1), f
assert abs(f["median_days_to_close"] - (24 * 60 + 50) / 1440) < 1e-9, f
assert f["incidents_corrected"] == 2, f
EOF
"$am" metrics --db "$db" | grep -qF "Follow-ups: 1 action items open (1 overdue), 1 done, median 1.0 days to close; 2 incidents corrected by people." ||
    fail "metrics table follow-ups"

# recorrelate under rules that rename every incident: corrections follow
# their alerts (about), so nothing is lost; one naming nothing is listed.
sed 's/name: prod-outage/name: prod-outage-v2/' "$seed/rules.yaml" >"$work/rules2.yaml"
"$am" replay --db "$db" --rules "$seed/rules.yaml" \
    "$project/tests/scenario/seed-corrections.ndjson" >"$work/replayed" 2>&1 || fail "replay corrections"
# AI-1 as the file has it was already made by `action add` above: the same event, stored once.
grep -qF "stored      9 (alert 0, deploy 0, ack 0, note 0, correction 7, action 2)" "$work/replayed" ||
    { cat "$work/replayed"; fail "replay's summary of people's events"; }
"$am" recorrelate --db "$db" --rules "$work/rules2.yaml" >/dev/null || fail "recorrelate"
"$am" incidents --db "$db" --format json >"$work/after.json"
python3 - "$work/after.json" "$inc" <<'EOF' || fail "after recorrelate"
import json, sys
incs = json.load(open(sys.argv[1]))
assert len(incs) == 1, [i["id"] for i in incs]
inc = incs[0]
assert inc["id"] != sys.argv[2] and inc["rule"] == "prod-outage-v2"
assert inc["title"] == "Database misconfiguration", inc.get("title")
assert inc["mitigated_at"] == "2024-06-18T15:20:00Z"
assert inc["acknowledged_at"] == "2024-06-18T14:34:00Z"
assert inc["suspects"][0]["verdict"] == "confirmed"
assert len(inc["action_items"]) == 2
EOF
"$am" status --db "$db" >"$work/status"
grep -q "INC-20240101-nowhere" "$work/status" || fail "status lacks the unattached correction"
[ "$(grep -c '^    correction:\|^    action:' "$work/status")" = 1 ] ||
    { cat "$work/status"; fail "status lists more than the one unattached"; }
echo "ok"
