#!/usr/bin/env bash
# Crash-restart of replay: `aftermath replay` is killed with SIGKILL at
# random points (KILLS times, each within the first quarter of an
# uninterrupted replay's time: while opening and migrating the database,
# mid-batch, mid-commit, while correlating; the later ones during a pass
# that finds most events already stored) and run again on the same
# database; after a last complete run the events, rejected records,
# incidents and episodes equal those of one uninterrupted replay, no record
# is stored twice, and PRAGMA integrity_check passes.
# Usage: crash_replay.sh AFTERMATH PROJECT_DIR WORK [RECORDS [KILLS]]
set -euo pipefail
am=$1 project=$2 work=$3 records=${4:-4000} kills=${5:-20}
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }
sql=$project/tests/lib/incidents.sql

# A stream with duplicates (gen_stream.py) after the example's story, with
# its poison record.
cp "$project/examples/payments-latency.ndjson" "$work/stream.ndjson"
python3 "$project/tests/kafka/gen_stream.py" "$records" 4 --topic alerts --seed 3 >>"$work/stream.ndjson"
total=$(wc -l <"$work/stream.ndjson")
replay() { "$am" replay -q --batch 100 --db "$1" "$work/stream.ndjson"; }

t0=$(now_ms)
replay "$work/ref.db" 2>"$work/ref.err" || { tail "$work/ref.err"; fail "reference replay"; }
ref_ms=$(($(now_ms) - t0))
echo "uninterrupted replay: $total records in $ref_ms ms"

# The kill point is drawn from a window that starts at a quarter of the
# reference's time and halves each time a run finishes before its kill (a
# machine that got faster than when the reference ran), so that the kills
# land mid-run however the load changes; a run that finished is not a
# kill and another run is made (at most three times the kills in all).
mid=0 partial=0 window=$((ref_ms / 4 + 1)) runs=0
for ((i = 1; mid < kills && runs < 3 * kills; i++)); do
  runs=$((runs + 1))
  # aftermath itself in the background, not the replay function: $! of a
  # function is its subshell, and killing that would leave aftermath
  # running on (and locking) the database.
  "$am" replay -q --batch 100 --db "$work/crash.db" "$work/stream.ndjson" 2>>"$work/crash.err" &
  pid=$!
  ms=$((RANDOM % window))
  sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
  if kill -9 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
    mid=$((mid + 1))
    how=killed
  else
    wait "$pid" || fail "replay $i failed on its own"
    how=finished
    window=$((window / 2 > 20 ? window / 2 : 20))
  fi
  n=$(sqlite3 "$work/crash.db" 'SELECT count(*) FROM events' 2>/dev/null || echo 0)
  [ $how = killed ] && ((n < $(sqlite3 "$work/ref.db" 'SELECT count(*) FROM events'))) && partial=$((partial + 1))
  echo "run $i: $how after $ms ms, $n events stored"
done
((mid >= kills * 3 / 4)) || fail "only $mid of $runs runs were killed before they finished"
((partial >= 3)) || fail "only $partial kills left the events incomplete"

replay "$work/crash.db" 2>>"$work/crash.err" || { tail "$work/crash.err"; fail "final replay"; }
events() { sqlite3 "$1" "SELECT id, observed_at, starts_at, ends_at, status FROM events ORDER BY id"; }
diff <(events "$work/crash.db") <(events "$work/ref.db") >"$work/diff" || { head "$work/diff"; fail "events differ"; }
diff <(sqlite3 "$work/crash.db" <"$sql") <(sqlite3 "$work/ref.db" <"$sql") >"$work/diff" ||
  { head -c 2000 "$work/diff"; fail "incidents differ"; }
q="SELECT place, reason FROM rejected ORDER BY 1"
[ "$(sqlite3 "$work/crash.db" "$q")" = "$(sqlite3 "$work/ref.db" "$q")" ] || fail "rejected records differ"
q="SELECT count(*) FROM records"
[ "$(sqlite3 "$work/crash.db" "$q")" = "$(sqlite3 "$work/ref.db" "$q")" ] || fail "record counts differ"
[ "$(sqlite3 "$work/crash.db" 'PRAGMA integrity_check')" = ok ] || fail "integrity_check"
echo "$(sqlite3 "$work/crash.db" 'SELECT count(*) FROM events') events, $(sqlite3 "$work/crash.db" 'SELECT count(*) FROM incidents') incidents after $runs runs ($mid killed, $partial with events missing): same as uninterrupted"
echo "crash replay: ok"
