#!/usr/bin/env bash
# Integration (e): the metrics endpoint of `aftermath run` against a real
# broker. The story is produced twice (so every event of the second copy
# is a duplicate) with three poison records; once the consumer has caught
# up, /metrics must agree with what was produced and with a replay of the
# same records (records per topic, events stored, duplicates, refusals per
# reason, lag 0, open incidents, the incident histograms against the
# store), pass `promtool check metrics`, and /healthz must say 200
# "consuming". A restart on the same database serves the same incident
# histograms (loaded from the store); stopping the broker turns /healthz
# to 503 "broker_down", and its return to 200. A second instance on a
# taken address exits 2. The endpoints bind 127.0.0.1 on a port the system
# chooses (--metrics-addr 127.0.0.1:0), read back from the log.
# Usage: it_metrics.sh AFTERMATH AM_PRODUCE BROKER_SH WORK STORY
AM=$1 PRODUCE=$2 BROKER=$3 WORK=$4 STORY=$5
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null ||
  fail "promtool is missing (Debian package prometheus; deploy/install-deps.sh installs it)"
command -v curl >/dev/null || fail "curl is missing (deploy/install-deps.sh installs it)"

prefix="itm-$RUN-"
{
  cat "$STORY" "$STORY"
  printf '{"topic":"misc","partition":0,"offset":0,"ts":1718719202000,"key":null,"payload":"{\\"kind\\": \\"alert\\", \\"status\\""}\n'
  printf '{"topic":"misc","partition":0,"offset":1,"ts":1718719204000,"key":"gone","payload":null}\n'
  printf '{"topic":"misc","partition":0,"offset":2,"ts":1718719206000,"key":null,"payload":"{\\"hello\\": \\"world\\"}"}\n'
  printf '{"topic":"misc","partition":0,"offset":3,"ts":1718719208000,"key":null,"payload":"{\\"kind\\":\\"note\\",\\"at\\":\\"2024-06-18T14:40:00Z\\",\\"summary\\":\\"good\\"}"}\n'
} >"$WORK/all.ndjson"
"$PRODUCE" --brokers "$B" --create-topics --topic-prefix "$prefix" "$WORK/all.ndjson" \
  2>"$WORK/produce.err" || { cat "$WORK/produce.err"; fail "am_produce"; }
mapfile -t topics < <(python3 -c '
import json, sys
seen = []
for line in open(sys.argv[1]):
    t = json.loads(line)["topic"]
    if t not in seen:
        seen.append(t)
print("\n".join(seen))' "$WORK/all.ndjson")
args=()
for t in "${topics[@]}"; do args+=(--topic "$prefix$t"); done

# The reference: a replay of the same records.
"$AM" replay --db "$WORK/ref.db" "$WORK/all.ndjson" >"$WORK/replay.out" 2>/dev/null ||
  fail "replay"
ref_stored=$(awk '$1 == "stored" {print $2}' "$WORK/replay.out")
ref_dups=$(awk '$1 == "duplicates" {print $2}' "$WORK/replay.out")
[ -n "$ref_stored" ] && [ -n "$ref_dups" ] || { cat "$WORK/replay.out"; fail "replay figures"; }

export AFTERMATH_BATCH_TIMEOUT=100ms AFTERMATH_KAFKA__RECONNECT_BACKOFF_MAX_MS=500
unset AFTERMATH_METRICS
start_run() { # start_run LOG: starts a consumer; sets pid and addr
  "$AM" --log-level info run --brokers "$B" "${args[@]}" --group "itm-$RUN" --db "$WORK/run.db" \
    --metrics-addr 127.0.0.1:0 2>"$1" &
  pid=$!
  pids+=("$pid")
  wait_until 30 grep -q 'msg="metrics endpoint listening"' "$1" ||
    { tail "$1"; fail "no metrics endpoint logged"; }
  addr=$(sed -n 's/.*msg="metrics endpoint listening" address=\([^ ]*\).*/\1/p' "$1" | head -1)
  [[ $addr == 127.0.0.1:* ]] || fail "bound address '$addr'"
}
stop_run() {
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  [ $rc = 0 ] || fail "SIGTERM: exit $rc, want 0"
}
scrape() { curl -sf "http://$addr/metrics" >"$1"; }
health() { # health FILE: the status code, the body in FILE
  curl -s -o "$1" -w '%{http_code}' "http://$addr/healthz"
}
# value FILE SERIES: the sample's value ('name{labels}' exactly as written), or empty.
value() { awk -v k="$2" '$1 == k {print $2}' "$1"; }
# caught_up FILE: every record consumed and every partition's lag 0.
total=$(wc -l <"$WORK/all.ndjson")
caught_up() {
  scrape "$1" || return 1
  python3 - "$1" "$total" "${#topics[@]}" <<'PY'
import re, sys
consumed, lags = 0, []
for line in open(sys.argv[1]):
    if line.startswith("aftermath_records_consumed_total{"):
        consumed += int(line.split()[-1])
    elif line.startswith("aftermath_consumer_lag{"):
        lags.append(float(line.split()[-1]))
sys.exit(0 if consumed == int(sys.argv[2]) and len(lags) == int(sys.argv[3])
         and all(l == 0 for l in lags) else 1)
PY
}

# 1. Consume everything; the scrape agrees with what was produced.
start_run "$WORK/run.err"
wait_until 120 caught_up "$WORK/m1.txt" || { cat "$WORK/m1.txt"; tail "$WORK/run.err"; fail "not caught up"; }
promtool check metrics <"$WORK/m1.txt" >"$WORK/promtool.out" 2>&1 ||
  { cat "$WORK/promtool.out"; fail "promtool check metrics"; }
db=$WORK/run.db
python3 - "$WORK/m1.txt" "$WORK/all.ndjson" "$prefix" "$ref_stored" "$ref_dups" \
  "$(sqlite3 "$db" 'SELECT count(*) FROM events')" \
  "$(sqlite3 "$db" "SELECT count(*) FROM incidents WHERE status = 'open'")" \
  "$(sqlite3 "$db" "SELECT coalesce(sum(max(1, json_array_length(services))), 0) FROM incidents WHERE status = 'resolved'")" \
  "$(sqlite3 "$WORK/ref.db" "SELECT count(*) FROM rejected")" \
  "$(sqlite3 "$WORK/ref.db" "SELECT count(*) FROM rejected WHERE reason LIKE 'invalid JSON%'")" \
  <<'PY' || fail "the scrape disagrees"
import collections, json, sys
path, allf, prefix, stored, dups, events, open_, observations, rejected, bad_json = sys.argv[1:]
m = {}
for line in open(path):
    if line.startswith("#") or not line.strip():
        continue
    k, v = line.rsplit(" ", 1)
    m[k] = float(v)
def total(name, **labels):
    s = 0
    for k, v in m.items():
        if k == name or k.startswith(name + "{"):
            if all('%s="%s"' % kv in k for kv in labels.items()):
                s += v
    return s
want = collections.Counter(json.loads(l)["topic"] for l in open(allf))
for t, n in want.items():
    got = m.get('aftermath_records_consumed_total{topic="%s%s"}' % (prefix, t))
    assert got == n, "records of %s: %s, want %d" % (t, got, n)
assert m["aftermath_events_stored_total"] == int(stored) == int(events), \
    "stored %s, replay %s, events table %s" % (m["aftermath_events_stored_total"], stored, events)
assert m["aftermath_duplicate_events_total"] == int(dups), \
    "duplicates %s, replay %s" % (m["aftermath_duplicate_events_total"], dups)
assert int(dups) >= int(stored), "every event of the second copy is a duplicate"
# the story has refusals of its own (invalid JSON), twice; the poison adds one
# of invalid_json, null and unknown_format
assert total("aftermath_records_rejected_total") == int(rejected), "rejected in all"
assert int(bad_json) >= 1
for reason, n in [("invalid_json", int(bad_json)), ("null", 1), ("unknown_format", 1),
                  ("too_large", 0), ("missing_field", 0), ("invalid_value", 0)]:
    got = m['aftermath_records_rejected_total{reason="%s"}' % reason]
    assert got == n, "rejected %s: %s, want %d" % (reason, got, n)
b = m["aftermath_batches_committed_total"]
assert b >= 1 and m["aftermath_batch_commit_duration_seconds_count"] == b, "batches"
assert m['aftermath_batch_commit_duration_seconds_bucket{le="+Inf"}'] == b, "latency buckets"
assert m["aftermath_store_errors_total"] == 0
assert m["aftermath_kafka_brokers_up"] == 1
assert m["aftermath_incidents_open"] == int(open_), "open incidents"
seen = total("aftermath_incident_time_to_resolve_seconds_count") + \
    total("aftermath_incident_durations_skipped_total", duration="time_to_resolve")
assert seen == int(observations) and seen > 0, \
    "resolve observations %s, want %s (resolved incidents x services)" % (seen, observations)
print("scrape: %d records on %d topics, %s events stored, %s duplicates, %s refusals by reason, "
      "lag 0, %s resolved observations" % (sum(want.values()), len(want), stored, dups,
                                            rejected, observations))
PY
code=$(health "$WORK/h1.json")
[ "$code" = 200 ] || { cat "$WORK/h1.json"; fail "healthz $code while consuming"; }
python3 - "$WORK/h1.json" "${#topics[@]}" <<'PY' || fail "healthz document"
import json, sys
h = json.load(open(sys.argv[1]))
assert h["healthy"] is True and h["state"] == "consuming", h
assert len(h["assignment"]) == int(sys.argv[2]), h["assignment"]
assert all(p["lag"] == 0 for p in h["assignment"]), h["assignment"]
assert h["last_batch_commit"], h
PY
[ "$(curl -s -o /dev/null -w '%{http_code}' -I "http://$addr/metrics")" = 200 ] || fail "HEAD /metrics"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/nothing")" = 404 ] || fail "404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$addr/metrics")" = 405 ] || fail "405"
curl -s -D - -o /dev/null "http://$addr/metrics" | grep -qi '^content-type: text/plain; version=0.0.4' ||
  fail "content type of /metrics"
stop_run

# 2. A restart serves the same incident histograms, from the store.
grep '^aftermath_incident_' "$WORK/m1.txt" >"$WORK/hist1"
start_run "$WORK/run2.err"
wait_until 60 bash -c "curl -s -o /dev/null -w '%{http_code}' 'http://$addr/healthz' | grep -q 200" ||
  { tail "$WORK/run2.err"; fail "healthz not 200 after the restart"; }
scrape "$WORK/m2.txt" || fail "scrape after the restart"
grep '^aftermath_incident_' "$WORK/m2.txt" >"$WORK/hist2"
diff "$WORK/hist1" "$WORK/hist2" || fail "incident histograms differ after a restart"
[ "$(value "$WORK/m2.txt" aftermath_events_stored_total)" = 0 ] || fail "nothing new stored"

# 3. The address is taken: a second instance exits 2, naming it.
rc=0
"$AM" run --brokers "$B" --topic "${prefix}misc" --group "itm-$RUN-2" --db "$WORK/two.db" \
  --metrics-addr "$addr" 2>"$WORK/two.err" || rc=$?
[ $rc = 2 ] || { cat "$WORK/two.err"; fail "a taken metrics address: exit $rc, want 2"; }
grep -q "cannot listen on $addr for metrics: Address already in use" "$WORK/two.err" ||
  { cat "$WORK/two.err"; fail "the bind error"; }

# 4. The broker goes away: 503 broker_down; it returns: 200 again.
"$BROKER" stop
wait_until 60 bash -c "[ \$(curl -s -o '$WORK/h2.json' -w '%{http_code}' 'http://$addr/healthz') = 503 ]" ||
  { "$BROKER" start; fail "healthz not 503 with the broker stopped"; }
grep -q '"state":"broker_down"' "$WORK/h2.json" || { cat "$WORK/h2.json"; fail "state with the broker down"; }
grep -q '"brokers_down_since":"20' "$WORK/h2.json" || fail "brokers_down_since"
"$BROKER" restart
wait_until 90 bash -c "[ \$(curl -s -o '$WORK/h3.json' -w '%{http_code}' 'http://$addr/healthz') = 200 ]" ||
  { cat "$WORK/h3.json"; fail "healthz not 200 once the broker is back"; }
stop_run
echo "healthz: 200 consuming, 503 broker_down with the broker stopped, 200 after its return"
echo "integration metrics: ok"
