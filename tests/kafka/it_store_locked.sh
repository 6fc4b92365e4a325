#!/usr/bin/env bash
# Integration (store failure): another process holds the database's write
# lock while records arrive. The batch fails ("database is locked" after
# the 5 s busy timeout), is rolled back with its offsets, and is written
# again after a backoff once the lock is gone: every record stored once,
# offsets at the end. (A store that never recovers makes the consumer exit
# 1 with nothing moved: tests/unit/test_kafka_mock.c.)
# Usage: it_store_locked.sh AFTERMATH AM_PRODUCE BROKER_SH WORK EXAMPLE
AM=$1 PRODUCE=$2 BROKER=$3 WORK=$4 EXAMPLE=$5
. "$(dirname "$0")/lib.sh"

prefix="ite-$RUN-"
"$PRODUCE" --brokers "$B" --create "${prefix}alerts:1" --create "${prefix}deploys:1" \
  --create "${prefix}acks:1" --create "${prefix}notes:1" 2>"$WORK/produce.err" ||
  { cat "$WORK/produce.err"; fail "creating topics"; }
db=$WORK/run.db
"$AM" --log-level info run --brokers "$B" --group "ite-$RUN" --db "$db" \
  --topic "${prefix}alerts" --topic "${prefix}deploys" --topic "${prefix}acks" --topic "${prefix}notes" \
  2>"$WORK/run.err" &
pid=$!
pids+=("$pid")
wait_until 30 grep -q 'msg="partitions assigned"' "$WORK/run.err" || fail "no assignment"

# Hold the write lock for 8 s, then let go.
python3 -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(8)
c.execute("ROLLBACK")' "$db" >"$WORK/lock.out" &
locker=$!
pids+=("$locker")
wait_until 10 grep -q locked "$WORK/lock.out" || fail "could not take the lock"
"$PRODUCE" --brokers "$B" --topic-prefix "$prefix" "$EXAMPLE" 2>>"$WORK/produce.err" ||
  { cat "$WORK/produce.err"; fail "am_produce"; }
wait "$locker"
wait_until 60 bash -c "[ \$(sqlite3 '$db' 'SELECT coalesce(sum(next_offset),0) FROM offsets' 2>/dev/null || echo 0) -ge 17 ]" ||
  { tail "$WORK/run.err"; fail "records not stored after the lock was released"; }
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ $rc = 0 ] || { tail "$WORK/run.err"; fail "exit $rc after SIGTERM"; }
grep -q 'store failed, batch rolled back' "$WORK/run.err" || fail "the store failure was not logged"
grep -q 'database is locked' "$WORK/run.err" || fail "the cause was not logged"
grep 'store failed' "$WORK/run.err" | head -2 | cut -c1-200

"$AM" replay --db "$WORK/replay.db" "$EXAMPLE" >/dev/null 2>&1 || fail "replay"
same_events "$db" "$WORK/replay.db" "events after the lock differ from a replay"
[ -z "$(doubled "$db")" ] || fail "records stored twice"
[ "$(offsets "$db" | tr '\n' ' ')" = \
  "${prefix}acks/0=1 ${prefix}alerts/0=12 ${prefix}deploys/0=3 ${prefix}notes/0=1 " ] ||
  fail "offsets: $(offsets "$db")"
echo "integration store locked: ok"
