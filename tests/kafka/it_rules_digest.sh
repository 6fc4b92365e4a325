#!/usr/bin/env bash
# Integration (issue 25, item 3): decode stamps each keyed record with the
# digest of the rules it routed by; a correlator running other rules takes
# none of them: it pauses (log, /healthz 503 "paused", status shows both
# digests), moves no offset and drops nothing; restarted with decode's
# rules, it correlates every record, as one instance does.
#
# Usage: it_rules_digest.sh AFTERMATH AM_PRODUCE BROKER_SH WORK STORY
set -euo pipefail
AM=$1 PRODUCE=$2 BROKER=$3 WORK=$4 STORY=$5
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
root=$(cd "$here/../.." && pwd)
P=rd-$RUN-
kport=${AFTERMATH_KAFKA_PORT:-19092}
mport=$((kport + 8))

"$PRODUCE" --brokers "$B" --create-topics --topic-prefix "$P" "$STORY" >/dev/null 2>"$WORK/produce.err" ||
  { cat "$WORK/produce.err"; fail "producing the story"; }
"$BROKER" topic "${P}keyed" 2 >/dev/null
"$BROKER" topic "${P}incidents" 1 cleanup.policy=compact >/dev/null
topics=()
for t in $(python3 -c 'import json,sys; print(" ".join(sorted({json.loads(l)["topic"] for l in open(sys.argv[1]) if l.strip()})))' "$STORY"); do
  topics+=(--topic "$P$t")
done
export AFTERMATH_KEYED_TOPIC=${P}keyed AFTERMATH_INCIDENTS_TOPIC=${P}incidents

AFTERMATH_ROLE=decode "$AM" run --brokers "$B" "${topics[@]}" --group "${P}decode" \
  --db "$WORK/decode.db" --exit-when-idle 3s 2>"$WORK/decode.err" || { cat "$WORK/decode.err"; fail "decode"; }

# Other rules: the default ones with another gap.
sed 's/^\(    gap: \).*/\145m/' "$root/rules/default.yaml" >"$WORK/other.yaml"
cmp -s "$WORK/other.yaml" "$root/rules/default.yaml" && fail "could not make other rules"
AFTERMATH_ROLE=correlate AFTERMATH_RULES="$WORK/other.yaml" "$AM" --log-level info run --brokers "$B" \
  --group "${P}correlate" --db "$WORK/corr" --metrics-addr "127.0.0.1:$mport" \
  2>"$WORK/other.err" &
pid=$!
pids+=("$pid")
paused=
for _ in $(seq 300); do
  if grep -q 'consumption paused' "$WORK/other.err"; then paused=1; break; fi
  kill -0 "$pid" 2>/dev/null || { cat "$WORK/other.err"; fail "the correlator under other rules exited"; }
  sleep 0.1
done
[ -n "$paused" ] || { tail -5 "$WORK/other.err"; fail "the correlator under other rules did not pause"; }
grep -q 'this correlator runs rules' "$WORK/other.err" || fail "the pause does not say why"
code=$(curl -s -o "$WORK/health.json" -w '%{http_code}' "http://127.0.0.1:$mport/healthz")
[ "$code" = 503 ] || fail "/healthz answered $code while paused"
grep -q '"state":"paused"' "$WORK/health.json" || fail "/healthz: $(cat "$WORK/health.json")"
grep -q 'routed it under rules' "$WORK/health.json" || fail "/healthz does not say why"
sleep 2 # a few more attempts: still nothing may be taken
AFTERMATH_RULES="$WORK/other.yaml" "$AM" status --db "$WORK/corr" >"$WORK/status" 2>&1 || true
kill -TERM "$pid"
wait "$pid" 2>/dev/null || true
for db in "$WORK"/corr/keyed-*.db; do
  [ "$(sqlite3 "$db" 'SELECT count(*) FROM events')" = 0 ] || fail "$db took records under other rules"
  [ "$(committed "$db")" = 0 ] || fail "$db moved an offset under other rules"
done

# Decode's rules: every record correlated, as by one instance.
AFTERMATH_ROLE=correlate "$AM" run --brokers "$B" --group "${P}correlate" --db "$WORK/corr" \
  --exit-when-idle 3s 2>"$WORK/corr.err" || { cat "$WORK/corr.err"; fail "correlate"; }
"$AM" status --db "$WORK/corr" >"$WORK/status2"
grep -q '^  rules ' "$WORK/status2" || fail "status does not show the stores' rules digest"
"$AM" replay --db "$WORK/single.db" "$STORY" >/dev/null 2>&1 || true
single=$(sqlite3 "$WORK/single.db" 'SELECT count(*) FROM events')
keyed=0
for db in "$WORK"/corr/keyed-*.db; do
  keyed=$((keyed + $(sqlite3 "$db" "SELECT count(*) FROM events WHERE kind = 'alert'")))
done
alerts=$(sqlite3 "$WORK/single.db" "SELECT count(*) FROM events WHERE kind = 'alert'")
[ "$keyed" -ge "$alerts" ] && [ "$alerts" -gt 0 ] || fail "correlated $keyed alerts, one instance $alerts"
ids_single=$(sqlite3 "$WORK/single.db" 'SELECT id FROM incidents ORDER BY id')
ids_keyed=$(for db in "$WORK"/corr/keyed-*.db; do sqlite3 "$db" 'SELECT id FROM incidents'; done | sort)
[ "$ids_single" = "$ids_keyed" ] || fail "incidents differ: one instance '$ids_single', staged '$ids_keyed'"
echo "rules digest: paused under other rules with nothing taken; with decode's, $single events, incidents as one instance"
echo "integration rules digest: ok"
