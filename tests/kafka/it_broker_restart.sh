#!/usr/bin/env bash
# Integration (c): the broker is down when the consumer starts, and is
# stopped and restarted (same data) while the consumer is in the middle of
# a stream. The consumer logs the outage, librdkafka retries, consumption
# resumes, SIGTERM then ends it with exit 0, and nothing is lost or stored
# twice: the events equal a replay of everything produced.
# Usage: it_broker_restart.sh AFTERMATH AM_PRODUCE BROKER_SH WORK [RECORDS]
AM=$1 PRODUCE=$2 BROKER=$3 WORK=$4 RECORDS=${5:-12000}
. "$(dirname "$0")/lib.sh"

gen=$(dirname "$0")/gen_stream.py
third=$((RECORDS / 3))
python3 "$gen" "$third" 3 --topic events --seed 3 >"$WORK/part1.ndjson"
python3 "$gen" "$third" 3 --topic events --seed 3 --start "$third" >"$WORK/part2.ndjson"
python3 "$gen" "$third" 3 --topic events --seed 3 --start $((2 * third)) >"$WORK/part3.ndjson"
topic="itc-$RUN-events"
produce() {
  "$PRODUCE" --brokers "$B" --create-topics --topic-prefix "itc-$RUN-" "$1" 2>>"$WORK/produce.err" ||
    { cat "$WORK/produce.err"; fail "am_produce $1"; }
}
produce "$WORK/part1.ndjson"
export AFTERMATH_KAFKA__RECONNECT_BACKOFF_MAX_MS=500 AFTERMATH_BATCH_SIZE=100 AFTERMATH_BATCH_TIMEOUT=100ms
export AFTERMATH_STATS_INTERVAL=1s

# 1. Broker down at start.
"$BROKER" stop
"$AM" --log-level info run --brokers "$B" --topic "$topic" --group "itc-$RUN" \
  --db "$WORK/run.db" 2>"$WORK/run.err" &
pid=$!
pids+=("$pid")
sleep 2
kill -0 "$pid" 2>/dev/null || fail "the consumer gave up while the broker was down"
[ "$(committed "$WORK/run.db")" = 0 ] || fail "consumed with the broker down?"
grep -qE 'Connection refused|brokers are down|ALL_BROKERS_DOWN|TRANSPORT' "$WORK/run.err" ||
  { tail "$WORK/run.err"; fail "the outage was not logged"; }
t0=$(now_ms)
"$BROKER" restart
wait_until 60 bash -c "[ \$(sqlite3 '$WORK/run.db' 'SELECT coalesce(sum(next_offset),0) FROM offsets' 2>/dev/null || echo 0) -ge $third ]" ||
  fail "nothing consumed within 60 s of the broker's return"
echo "broker down at start: part 1 consumed $(($(now_ms) - t0)) ms after the broker came back"

# 2. Broker stopped while a stream is being consumed.
produce "$WORK/part2.ndjson"
wait_until 30 bash -c "[ \$(sqlite3 '$WORK/run.db' 'SELECT coalesce(sum(next_offset),0) FROM offsets' 2>/dev/null || echo 0) -gt $third ]" ||
  fail "part 2 not being consumed"
at=$(committed "$WORK/run.db")
"$BROKER" stop
echo "broker stopped with $at of $((2 * third)) records committed"
sleep 2
kill -0 "$pid" 2>/dev/null || fail "the consumer died with the broker"
"$BROKER" restart
produce "$WORK/part3.ndjson"
wait_until 60 bash -c "[ \$(sqlite3 '$WORK/run.db' 'SELECT coalesce(sum(next_offset),0) FROM offsets' 2>/dev/null || echo 0) -ge $RECORDS ]" ||
  fail "only $(committed "$WORK/run.db") of $RECORDS records after the restart"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ $rc = 0 ] || { tail "$WORK/run.err"; fail "SIGTERM: exit $rc, want 0"; }
grep -q 'msg="consumer stopped"' "$WORK/run.err" || fail "no clean stop logged"
grep -q 'msg="consumer lag"' "$WORK/run.err" || fail "no lag logged"

cat "$WORK/part1.ndjson" "$WORK/part2.ndjson" "$WORK/part3.ndjson" >"$WORK/all.ndjson"
"$AM" replay --db "$WORK/replay.db" "$WORK/all.ndjson" >/dev/null 2>&1 || fail "replay"
same_events "$WORK/run.db" "$WORK/replay.db" "events after the outages differ from a replay"
[ -z "$(doubled "$WORK/run.db")" ] || fail "records stored twice"
[ "$(committed "$WORK/run.db")" = "$RECORDS" ] || fail "offsets: $(offsets "$WORK/run.db")"
echo "$(sqlite3 "$WORK/run.db" 'SELECT count(*) FROM events') events from $RECORDS records across two broker outages: same as replay"
echo "integration broker restart: ok"
