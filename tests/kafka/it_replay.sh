#!/usr/bin/env bash
# Integration (a): a story produced to a real broker with its original
# timestamps, keys and headers, consumed by `aftermath run`, stores exactly
# what `aftermath replay` of the same file stores; what is on the topics is
# cross-checked with an independent client (kcat -C -J), and the kcat dump
# replayed gives the same events again. Run on the project's own example
# and, when given, on the shared seed scenario.
# Usage: it_replay.sh AFTERMATH AM_PRODUCE BROKER_SH WORK FILE...
AM=$1 PRODUCE=$2 BROKER=$3 WORK=$4
shift 4
. "$(dirname "$0")/lib.sh"

check_file() {
  local file=$1 name prefix dir topics=() t
  name=$(basename "$(dirname "$file")")-$(basename "$file" .ndjson)
  prefix="ita-$RUN-$name-"
  dir=$WORK/$name
  mkdir -p "$dir"
  "$PRODUCE" --brokers "$B" --create-topics --topic-prefix "$prefix" "$file" 2>"$dir/produce.err" ||
    { cat "$dir/produce.err"; fail "am_produce $file"; }
  mapfile -t topics < <(python3 -c '
import json, sys
seen = []
for line in open(sys.argv[1]):
    line = line.strip()
    if line:
        t = json.loads(line)["topic"]
        if t not in seen:
            seen.append(t)
print("\n".join(seen))' "$file")
  local args=()
  for t in "${topics[@]}"; do args+=(--topic "$prefix$t"); done

  # A scenario that comes with its own rules is correlated under them.
  local rules=() rules_env=()
  if [ -f "$(dirname "$file")/rules.yaml" ]; then
    rules=(--rules "$(dirname "$file")/rules.yaml")
    rules_env=(AFTERMATH_RULES="$(dirname "$file")/rules.yaml")
  fi
  # Incident changes are published to a topic of their own.
  "$BROKER" topic "${prefix}incidents" 1 >/dev/null || fail "creating ${prefix}incidents"
  rules_env+=(AFTERMATH_INCIDENTS_TOPIC="${prefix}incidents")
  local t0=$(now_ms)
  env "${rules_env[@]}" "$AM" --log-level info run --brokers "$B" "${args[@]}" --group "ita-$RUN-$name" --db "$dir/run.db" \
    --exit-when-idle 1 2>"$dir/run.err" || { tail -20 "$dir/run.err"; fail "run exited $?"; }
  echo "$name: consumed in $(($(now_ms) - t0)) ms"
  "$AM" replay "${rules[@]}" --db "$dir/replay.db" "$file" >/dev/null 2>&1 || fail "replay $file"
  same_events "$dir/run.db" "$dir/replay.db" "run and replay of $name differ"
  # The incidents too, field by field (ids aside: numbering follows the
  # order incidents were first seen in). The replay's are checked against
  # the scenario's expected.json by the conformance tests.
  "$AM" incidents --db "$dir/run.db" --format json >"$dir/run-incidents.json" || fail "incidents"
  "$AM" incidents --db "$dir/replay.db" --format json >"$dir/replay-incidents.json" || fail "incidents"
  python3 - "$dir/run-incidents.json" "$dir/replay-incidents.json" <<'PY' || fail "$name: run and replay formed different incidents"
import json, sys
def load(p):
    out = json.load(open(p))
    for o in out:
        o.pop("id"); o.pop("aliases")
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
if not a:
    sys.exit("no incidents at all")
if a != b:
    sys.exit("run: %s\nreplay: %s" % (json.dumps(a)[:800], json.dumps(b)[:800]))
print("incidents: %d, the same from Kafka as from the file" % len(a))
PY
  # What was published, read back with kcat: the last document of every
  # incident (as a compacted topic keeps it) is the incident in the store.
  published_is_store "${prefix}incidents" "$dir/run.db" "$dir"
  [ "$(sqlite3 "$dir/run.db" 'SELECT count(*) FROM rejected')" = \
    "$(sqlite3 "$dir/replay.db" 'SELECT count(*) FROM rejected')" ] || fail "$name: rejected counts differ"
  # Kafka metadata kept: timestamps, keys and headers of the stored records.
  local q="SELECT ts, quote(key), headers, raw FROM records ORDER BY ts, raw"
  [ "$(sqlite3 "$dir/run.db" "$q")" = "$(sqlite3 "$dir/replay.db" "$q")" ] ||
    fail "$name: record timestamps, keys or headers differ"
  [ -z "$(doubled "$dir/run.db")" ] || fail "$name: a record stored twice"

  # Independent client: what kcat reads back is the file, record for record.
  : >"$dir/kcat.ndjson"
  for t in "${topics[@]}"; do
    kcat -C -J -e -q -b "$B" -t "$prefix$t" >>"$dir/kcat.ndjson" || fail "kcat -C $prefix$t"
  done
  python3 - "$file" "$dir/kcat.ndjson" "$prefix" <<'PY' || fail "$name: topics differ from the file"
import json, sys
src, got, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
def load(path, strip):
    recs = {}
    for line in open(path):
        if not line.strip():
            continue
        r = json.loads(line)
        topic = r["topic"][len(prefix):] if strip else r["topic"]
        recs.setdefault((topic, r["partition"]), []).append(
            (r["ts"], r.get("key"), r["payload"], r.get("headers")))
    return recs
want, have = load(src, False), load(got, True)
if want != have:
    for k in sorted(set(want) | set(have)):
        if want.get(k) != have.get(k):
            print("partition %s/%d differs: %d records in the file, %d on the topic"
                  % (k[0], k[1], len(want.get(k, [])), len(have.get(k, []))), file=sys.stderr)
    sys.exit(1)
print("kcat: %d partitions, %d records as in the file" % (len(have), sum(map(len, have.values()))))
PY
  "$AM" replay --db "$dir/kcat.db" "$dir/kcat.ndjson" >/dev/null 2>&1 || fail "replay of the kcat dump"
  same_events "$dir/run.db" "$dir/kcat.db" "run and the replayed kcat dump of $name differ"
  # Offsets: the end of every partition.
  local want_offsets
  want_offsets=$(python3 -c '
import json, sys
n = {}
for line in open(sys.argv[1]):
    if line.strip():
        r = json.loads(line)
        k = (sys.argv[2] + r["topic"], r["partition"])
        n[k] = n.get(k, 0) + 1
for k in sorted("%s/%d=%d" % (t, p, c) for (t, p), c in n.items()):
    print(k)' "$file" "$prefix")
  [ "$(offsets "$dir/run.db")" = "$want_offsets" ] || fail "$name: stored offsets"
  "$AM" status --db "$dir/run.db" --brokers "$B" >"$dir/status" || fail "status"
  grep -q 'total lag 0' "$dir/status" || { cat "$dir/status"; fail "$name: status lag"; }
  echo "$name: $(sqlite3 "$dir/run.db" 'SELECT count(*) FROM events') events, same as replay"
}

for f in "$@"; do check_file "$f"; done
echo "integration replay: ok"
