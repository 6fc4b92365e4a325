#!/usr/bin/env bash
# Integration (b): the consumer is killed with SIGKILL at random points
# while it consumes a larger stream (RECORDS records over 4 partitions of
# two topics, with re-sent duplicates), and restarted each time; the final
# events, offsets and the correlator's state (incidents with their events,
# episodes: tests/lib/incidents.sql) equal those of an uninterrupted run,
# and no record is stored twice: nothing lost, nothing doubled.
#
# Restarts rejoin at once because the consumer is a static group member
# (group.instance.id): the broker hands the killed member's partitions to
# its successor without waiting for a session timeout.
# Usage: it_crash.sh AFTERMATH AM_PRODUCE BROKER_SH WORK [RECORDS [KILLS]]
AM=$1 PRODUCE=$2 BROKER=$3 WORK=$4 RECORDS=${5:-20000} KILLS=${6:-6}
. "$(dirname "$0")/lib.sh"

gen=$(dirname "$0")/gen_stream.py
half=$((RECORDS / 2))
python3 "$gen" "$half" 4 --topic alerts --seed 1 >"$WORK/stream.ndjson"
python3 "$gen" "$half" 4 --topic deploys --seed 2 --start "$half" >>"$WORK/stream.ndjson"
"$PRODUCE" --brokers "$B" --create-topics --topic-prefix "itb-$RUN-" "$WORK/stream.ndjson" \
  2>"$WORK/produce.err" || { cat "$WORK/produce.err"; fail "am_produce"; }
topics=(--topic "itb-$RUN-alerts" --topic "itb-$RUN-deploys")
export AFTERMATH_BATCH_SIZE=200 AFTERMATH_BATCH_TIMEOUT=200ms

# The reference: one uninterrupted run.
t0=$(now_ms)
"$AM" run --brokers "$B" "${topics[@]}" --group "itb-$RUN-ref" --db "$WORK/ref.db" \
  --exit-when-idle 1 2>"$WORK/ref.err" || { tail "$WORK/ref.err"; fail "reference run"; }
echo "uninterrupted run: $RECORDS records in $(($(now_ms) - t0)) ms"
[ "$(committed "$WORK/ref.db")" = "$RECORDS" ] || fail "reference run consumed $(committed "$WORK/ref.db")"

# Killed runs: half of them killed once a random number of records is
# committed, half after a random time (in the group join, mid-batch, ...).
# Each kill point lies within what is left of the stream, so that the kills
# spread over it however fast the build consumes: a count target is a
# random share of the remaining records (never past the total), and a timed
# kill also comes early when the run gets past such a share, so that it
# cannot finish the stream and leave nothing for the kills after it. Should
# a run still commit the last record before its kill (a kill lands late),
# the next one has no progress to wait for: it checks that the stream is
# complete, and kills the idle consumer.
mid=0
for ((i = 1; i <= KILLS; i++)); do
  AFTERMATH_KAFKA__GROUP_INSTANCE_ID=itb-member AFTERMATH_KAFKA__SESSION_TIMEOUT_MS=10000 \
    "$AM" run --brokers "$B" "${topics[@]}" --group "itb-$RUN-crash" --db "$WORK/crash.db" \
    2>>"$WORK/crash.err" &
  pid=$!
  pids+=("$pid")
  before=$(committed "$WORK/crash.db")
  left=$((RECORDS - before)) kills_left=$((KILLS - i + 1))
  if ((left <= 0)); then
    ((before == RECORDS)) || fail "$before records committed, more than the $RECORDS produced"
    how="with the stream already complete"
  elif ((i % 2)); then
    # Between 1/2 and 3/2 of an even share of the rest, at least one record.
    share=$((left * (50 + RANDOM % 101) / (100 * (kills_left + 1))))
    target=$((before + (share > 0 ? share : 1)))
    wait_until 30 bash -c "[ \$(sqlite3 '$WORK/crash.db' 'SELECT coalesce(sum(next_offset),0) FROM offsets' 2>/dev/null || echo 0) -ge $target ]" ||
      fail "no progress to $target of $RECORDS records in 30 s"
    how="after $target records"
  else
    ms=$((200 + RANDOM % 1800))
    cap=$((before + 2 * left / (kills_left + 1)))
    end=$(($(now_ms) + ms))
    while (($(now_ms) < end)) && (($(committed "$WORK/crash.db") < cap)); do sleep 0.02; done
    how="after ${ms} ms or $cap records"
  fi
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  now=$(committed "$WORK/crash.db")
  ((now < RECORDS)) && mid=$((mid + 1))
  echo "kill $i ($how): $now of $RECORDS records committed"
done
((mid >= KILLS / 2)) || fail "only $mid of $KILLS kills landed mid-stream"

# The last run finishes the stream.
AFTERMATH_KAFKA__GROUP_INSTANCE_ID=itb-member \
  "$AM" run --brokers "$B" "${topics[@]}" --group "itb-$RUN-crash" --db "$WORK/crash.db" \
  --exit-when-idle 1 2>>"$WORK/crash.err" || { tail "$WORK/crash.err"; fail "final run exited $?"; }

same_events "$WORK/crash.db" "$WORK/ref.db" "killed and uninterrupted runs differ"
[ "$(offsets "$WORK/crash.db")" = "$(offsets "$WORK/ref.db")" ] || fail "offsets differ"
sql=$(dirname "$0")/../lib/incidents.sql
diff <(sqlite3 "$WORK/crash.db" <"$sql") <(sqlite3 "$WORK/ref.db" <"$sql") >"$WORK/diff" ||
  { head -c 2000 "$WORK/diff"; fail "incidents of the killed and uninterrupted runs differ"; }
[ "$(sqlite3 "$WORK/ref.db" 'SELECT count(*) FROM incidents')" -gt 0 ] || fail "no incidents to compare"
[ "$(sqlite3 "$WORK/crash.db" 'PRAGMA integrity_check')" = ok ] || fail "integrity_check"
[ -z "$(doubled "$WORK/crash.db")" ] || fail "records stored twice: $(doubled "$WORK/crash.db" | head -3)"
[ "$(sqlite3 "$WORK/crash.db" 'SELECT count(*) FROM records')" = \
  "$(sqlite3 "$WORK/ref.db" 'SELECT count(*) FROM records')" ] || fail "record counts differ"
echo "$(sqlite3 "$WORK/crash.db" 'SELECT count(*) FROM events') events, $(sqlite3 "$WORK/crash.db" 'SELECT count(*) FROM incidents') incidents, $(committed "$WORK/crash.db") records after $KILLS kills ($mid mid-stream): same as uninterrupted"
echo "integration crash: ok"
