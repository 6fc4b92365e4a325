# lib.sh - sourced by the Kafka integration tests (tests/kafka/it_*.sh).
# Expects: AM (aftermath), PRODUCE (am_produce), BROKER (broker.sh), WORK (a
# scratch dir, emptied here). Every test uses its own topics and group, so
# the tests do not depend on each other; ctest runs them one at a time
# (RESOURCE_LOCK) because the broker restart test stops the broker.
set -euo pipefail

B=$("$BROKER" bootstrap)
# `aftermath run` serves metrics on a fixed port by default; tests run
# side by side, so they do without unless they ask (it_metrics.sh).
export AFTERMATH_METRICS=${AFTERMATH_METRICS:-off}
# Distinguishes this run's topics and groups from an earlier run's on the
# same broker.
RUN=$(date +%s)$$
rm -rf "$WORK" && mkdir -p "$WORK"
pids=()

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Kills the consumers this test started, on any exit.
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

now_ms() { date +%s%3N; }

# events DB: the stored events as "id|observed_at" lines, by id.
events() { sqlite3 "$1" "SELECT id, observed_at FROM events ORDER BY id"; }
# offsets DB: "topic/partition=next" lines.
offsets() { sqlite3 "$1" "SELECT topic || '/' || partition || '=' || next_offset FROM offsets ORDER BY 1"; }
# committed DB: records committed so far (sum of next offsets; 0 before the first batch).
committed() { sqlite3 "$1" "SELECT coalesce(sum(next_offset), 0) FROM offsets" 2>/dev/null || echo 0; }
# Records stored twice at the same place: must be none.
doubled() {
  sqlite3 "$1" "SELECT topic, partition, \"offset\", count(*) FROM records GROUP BY 1, 2, 3 HAVING count(*) > 1"
}

# wait_until SECONDS CMD...: polls CMD every 50 ms until it succeeds.
wait_until() {
  local deadline=$(($(now_ms) + $1 * 1000))
  shift
  until "$@"; do
    (($(now_ms) < deadline)) || return 1
    sleep 0.05
  done
}

# The same events in two databases, or the difference and a failure.
same_events() {
  if ! diff <(events "$1") <(events "$2") >"$WORK/diff"; then
    head -20 "$WORK/diff" >&2
    fail "${3:-events differ}: $1 vs $2"
  fi
}

# published_is_store TOPIC DB OUT_DIR: the last document of every incident
# on TOPIC (as a compacted topic keeps it) is that incident in DB, and
# every incident of DB is there.
published_is_store() {
  kcat -C -J -e -q -b "$B" -t "$1" >"$3/published.ndjson" || fail "kcat $1"
  "$AM" incidents --db "$2" --format json >"$3/store-incidents.json" || fail "incidents --db $2"
  python3 - "$3/published.ndjson" "$3/store-incidents.json" <<'PY' || fail "published incidents on $1 differ from $2"
import json, sys
last = {}
for line in open(sys.argv[1]):
    if line.strip():
        r = json.loads(line)
        doc = json.loads(r["payload"])
        assert doc["schema_version"] in (1, 2), doc
        if "of" not in doc:  # a part (schema 2) is no incident
            last[r["key"]] = doc
store = {i["id"]: i for i in json.load(open(sys.argv[2]))}
live = {k: d["incident"] for k, d in last.items() if "incident" in d}
if live != store:
    only_pub, only_store = sorted(set(live) - set(store)), sorted(set(store) - set(live))
    if only_pub or only_store:
        sys.exit("published only: %s\nstore only: %s" % (only_pub[:20], only_store[:20]))
    for k in sorted(store):
        if live[k] != store[k]:
            f = sorted(f for f in set(live[k]) | set(store[k]) if live[k].get(f) != store[k].get(f))
            sys.exit("incident %s: fields %s differ: published %s, store %s" % (
                k, f, [live[k].get(x) for x in f], [store[k].get(x) for x in f]))
print("published: %d documents, the latest of each of the %d incidents equals the store"
      % (sum(1 for _ in open(sys.argv[1])), len(store)))
PY
}
