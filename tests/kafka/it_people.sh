#!/usr/bin/env bash
# Integration (issue 20): people's corrections and action items through a
# real broker. The shared seed scenario and tests/scenario/seed-corrections.ndjson
# (each correction kind, actions, one correction that follows its alerts,
# one that attaches nowhere) are produced to their topics and consumed
#   all      by one `run` into A.db, which must hold the people's record as
#            `aftermath replay` of the same files does (R.db);
#   config   `correct --config` produces a correction to the topic that run
#            consumes, and run applies it;
#   staged   by one decode and one correlate instance (the keyed topic has 4
#            partitions): decode sends every correction and action to every
#            keyed partition (as acks), and the correlator's stores
#            together hold the incidents of A.db, corrections included (a
#            merge of incidents on two partitions is applied where both are
#            visible); and by a view, which equals A.db, that merge too.
# Usage: it_people.sh AFTERMATH AM_PRODUCE BROKER_SH WORK SEED_DIR PEOPLE_NDJSON
AM=$1 PRODUCE=$2 BROKER=$3 WORK=$4 SEED=$5 PEOPLE=$6
. "$(dirname "$0")/lib.sh"

P="itp-$RUN-"
KEYED=4
export AFTERMATH_RULES=$SEED/rules.yaml
"$PRODUCE" --brokers "$B" --create-topics --topic-prefix "$P" "$SEED/events.ndjson" \
  2>"$WORK/produce.err" || { cat "$WORK/produce.err"; fail "am_produce the seed"; }
"$PRODUCE" --brokers "$B" --create "${P}people:1" --topic "${P}people" "$PEOPLE" \
  2>"$WORK/produce-people.err" || { cat "$WORK/produce-people.err"; fail "am_produce people"; }
"$BROKER" topic "${P}keyed" "$KEYED" || fail "creating ${P}keyed"
"$BROKER" topic "${P}incidents" 1 cleanup.policy=compact max.message.bytes=16777216 ||
  fail "creating ${P}incidents"
args=()
for t in alerts deploys acks notes people; do args+=(--topic "$P$t"); done

# ---- all: one instance, and replay ------------------------------------------
"$AM" run --brokers "$B" "${args[@]}" --group "${P}all" --db "$WORK/A.db" --exit-when-idle 5 \
  2>"$WORK/all.log" || { tail -20 "$WORK/all.log"; fail "run (role all) exited $?"; }
"$AM" replay --db "$WORK/R.db" --rules "$AFTERMATH_RULES" "$SEED/events.ndjson" "$PEOPLE" \
  >/dev/null 2>&1 || fail "replay exited $?"
"$AM" incidents --all --db "$WORK/A.db" --format json >"$WORK/A.json" || fail "incidents A.db"
"$AM" incidents --all --db "$WORK/R.db" --format json >"$WORK/R.json" || fail "incidents R.db"
python3 - "$WORK/A.json" "$WORK/R.json" <<'PY' || fail "run and replay differ"
import json, sys
a, r = (json.load(open(p)) for p in sys.argv[1:3])
assert a == r, "run:\n%s\nreplay:\n%s" % (json.dumps(a)[:2000], json.dumps(r)[:2000])
inc = next(i for i in a if i["key"] == {"cluster": "eu-west-1"})
assert inc["title"] == "Database misconfiguration" and inc["lead"] == "Ravi Patel", inc
assert inc["acknowledged_at"] == "2024-06-18T14:34:00Z", inc  # followed its alerts
assert len(inc["action_items"]) == 2
assert any(i.get("dismissed") for i in a)
print("run = replay: %d incidents, people's record included" % len(a))
PY

# ---- correct --config: produced to the topic run consumes --------------------
cat >"$WORK/aftermath.yaml" <<YAML
version: 1
kafka:
  bootstrap.servers: $B
topics:
  - name: ${P}alerts
    format: alertmanager
  - ${P}people
store: $WORK/A.db
YAML
inc=$(python3 -c 'import json,sys; print(next(i["id"] for i in json.load(open(sys.argv[1])) if i["key"] == {"cluster": "eu-west-1"}))' "$WORK/A.json")
"$AM" correct "$inc" --set severity=SEV1 --reason "set at the review" --actor "Ravi Patel" \
  --at 2024-06-21T09:00:00Z --config "$WORK/aftermath.yaml" >"$WORK/produced" ||
  fail "correct --config exited $?"
grep -q "^produced correction:generic:.* to ${P}people" "$WORK/produced" || fail "correct --config: $(cat "$WORK/produced")"
# and a merge by hand of the two incidents, which the staged topology holds
# on different keyed partitions
other=$(python3 -c 'import json,sys; print(next(i["id"] for i in json.load(open(sys.argv[1])) if i["key"] != {"cluster": "eu-west-1"}))' "$WORK/A.json")
"$AM" correct "$other" --merge-into "$inc" --reason "one outage" --actor "Ravi Patel" \
  --at 2024-06-21T09:01:00Z --config "$WORK/aftermath.yaml" >/dev/null || fail "correct --merge-into"
"$AM" run --config "$WORK/aftermath.yaml" "${args[@]}" --group "${P}all" --exit-when-idle 5 \
  2>"$WORK/all2.log" || { tail -20 "$WORK/all2.log"; fail "run again exited $?"; }
"$AM" incidents --db "$WORK/A.db" --format json | python3 -c '
import json, sys
inc = next(i for i in json.load(sys.stdin) if i["key"] == {"cluster": "eu-west-1"})
assert inc.get("severity") == "SEV1", inc.get("severity")
assert len(inc.get("merged", [])) == 1, inc.get("merged")
print("correct --config: produced, consumed and applied")' || fail "the produced correction was not applied"
"$AM" incidents --all --db "$WORK/A.db" --format json >"$WORK/A.json" || fail "incidents A.db"

# ---- staged: decode, then one correlator over every keyed partition ----------
AFTERMATH_ROLE=decode AFTERMATH_KEYED_TOPIC="${P}keyed" AFTERMATH_INCIDENTS_TOPIC="${P}incidents" \
  "$AM" run --brokers "$B" "${args[@]}" --group "${P}decode" --db "$WORK/decode.db" \
  --exit-when-idle 5 2>"$WORK/decode.log" || { tail -20 "$WORK/decode.log"; fail "decode exited $?"; }
mkdir -p "$WORK/corr"
AFTERMATH_ROLE=correlate AFTERMATH_KEYED_TOPIC="${P}keyed" AFTERMATH_INCIDENTS_TOPIC="${P}incidents" \
  "$AM" run --brokers "$B" --group "${P}correlate" --db "$WORK/corr" --exit-when-idle 5 \
  2>"$WORK/correlate.log" || { tail -20 "$WORK/correlate.log"; fail "correlate exited $?"; }
people=$(($(wc -l <"$PEOPLE") + 2)) # and the two correct --config produced
n=0
for db in "$WORK"/corr/keyed-*.db; do
  n=$((n + 1))
  got=$(sqlite3 "$db" "SELECT count(*) FROM events WHERE kind IN ('correction', 'action')")
  [ "$got" = "$people" ] || fail "$db holds $got of the $people corrections and actions"
  "$AM" incidents --all --db "$db" --format json >"$db.json" || fail "incidents $db"
done
[ "$n" = "$KEYED" ] || fail "$n keyed stores, want $KEYED"
python3 - "$WORK/A.json" "$WORK"/corr/keyed-*.db.json <<'PY' || fail "the staged stores differ from one instance"
import json, sys
want = {i["id"]: i for i in json.load(open(sys.argv[1]))}
got, where = {}, {}
for p in sys.argv[2:]:
    for i in json.load(open(p)):
        assert i["id"] not in got, "incident %s in two stores" % i["id"]
        got[i["id"]] = i
        where[i["id"]] = p
assert len(set(where.values())) == 2, "the two incidents share a keyed partition: %s" % where
# A merge across partitions is applied where both incidents are visible
# (one instance, the view): in the merged incident's store, not the other.
for i in list(want.values()) + list(got.values()):
    i.pop("merged", None)
assert got == want, "staged:\n%s\none instance:\n%s" % (json.dumps(got)[:2000], json.dumps(want)[:2000])
print("staged = one instance: %d incidents over %d keyed stores" % (len(got), len(set(where.values()))))
PY
# The view applies the people's record itself, every incident visible.
AFTERMATH_ROLE=view AFTERMATH_INCIDENTS_TOPIC="${P}incidents" \
  "$AM" run --brokers "$B" --group "${P}view" --db "$WORK/V.db" --exit-when-idle 5 \
  2>"$WORK/view.log" || { tail -20 "$WORK/view.log"; fail "view exited $?"; }
"$AM" incidents --all --db "$WORK/V.db" --format json >"$WORK/V.json" || fail "incidents V.db"
python3 - "$WORK/A.json" "$WORK/V.json" <<'PY' || fail "the view differs from one instance"
import json, sys
a, v = (json.load(open(p)) for p in sys.argv[1:3])
assert a == v, "one instance:\n%s\nview:\n%s" % (json.dumps(a)[:2000], json.dumps(v)[:2000])
assert any(i.get("merged") for i in v), "the cross-partition merge is not in the view"
print("view = one instance: %d incidents, the cross-partition merge included" % len(v))
PY
echo "ok"
