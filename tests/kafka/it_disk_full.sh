#!/usr/bin/env bash
# Integration (storage full): the disk fills up under a running consumer.
# Without mounting anything, the consumer's file-size limit is lowered to
# 1 byte with prlimit(1) (RLIMIT_FSIZE: every file write past the first
# byte fails, as on a full disk) while records arrive. The consumer must
# pause: the batch is rolled back, no offset moves, the pause is logged;
# then the limit is lifted ("space returns") and the same records are
# written once: the events equal a replay of the file, no record is stored
# twice, the offsets are at the end and PRAGMA integrity_check passes.
# Logs go through a pipe, which the limit does not touch.
# Usage: it_disk_full.sh AFTERMATH AM_PRODUCE BROKER_SH WORK EXAMPLE
AM=$1 PRODUCE=$2 BROKER=$3 WORK=$4 EXAMPLE=$5
. "$(dirname "$0")/lib.sh"

prefix="itf-$RUN-"
"$PRODUCE" --brokers "$B" --create "${prefix}alerts:1" --create "${prefix}deploys:1" \
  --create "${prefix}acks:1" --create "${prefix}notes:1" 2>"$WORK/produce.err" ||
  { cat "$WORK/produce.err"; fail "creating topics"; }
db=$WORK/run.db
"$AM" --log-level info run --brokers "$B" --group "itf-$RUN" --db "$db" \
  --topic "${prefix}alerts" --topic "${prefix}deploys" --topic "${prefix}acks" --topic "${prefix}notes" \
  2> >(cat >"$WORK/run.err") &
pid=$!
pids+=("$pid")
wait_until 30 grep -q 'msg="partitions assigned"' "$WORK/run.err" || fail "no assignment"
[ "$(stat -c %a "$db")" = 600 ] || fail "database mode $(stat -c %a "$db"), want 600"

# The disk is full from now on.
prlimit --pid "$pid" --fsize=1:unlimited || fail "prlimit"
"$PRODUCE" --brokers "$B" --topic-prefix "$prefix" "$EXAMPLE" 2>>"$WORK/produce.err" ||
  { cat "$WORK/produce.err"; fail "am_produce"; }
wait_until 60 grep -q 'msg="storage full: consumption paused' "$WORK/run.err" ||
  { tail "$WORK/run.err"; fail "the full store was not logged"; }
# Paused: a few more probes fail, and nothing moves meanwhile.
sleep 3
[ "$(committed "$db")" = 0 ] || fail "offsets moved while the store was full: $(offsets "$db")"
[ "$(sqlite3 "$db" 'SELECT count(*) FROM events')" = 0 ] || fail "events stored while full"
kill -0 "$pid" || fail "the consumer exited while the store was full"

# Space returns.
prlimit --pid "$pid" --fsize=unlimited:unlimited || fail "prlimit"
wait_until 60 bash -c "[ \$(sqlite3 '$db' 'SELECT coalesce(sum(next_offset),0) FROM offsets' 2>/dev/null || echo 0) -ge 17 ]" ||
  { tail "$WORK/run.err"; fail "records not stored after space returned"; }
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ $rc = 0 ] || { tail "$WORK/run.err"; fail "exit $rc after SIGTERM"; }
grep -q 'msg="storage writable again: consumption resumed"' "$WORK/run.err" ||
  fail "the resume was not logged"
grep -E 'storage (full|writable)' "$WORK/run.err" | cut -c1-220

"$AM" replay --db "$WORK/replay.db" "$EXAMPLE" >/dev/null 2>&1 || fail "replay"
same_events "$db" "$WORK/replay.db" "events after the full disk differ from a replay"
[ -z "$(doubled "$db")" ] || fail "records stored twice"
[ "$(offsets "$db" | tr '\n' ' ')" = \
  "${prefix}acks/0=1 ${prefix}alerts/0=12 ${prefix}deploys/0=3 ${prefix}notes/0=1 " ] ||
  fail "offsets: $(offsets "$db")"
[ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] || fail "integrity_check"
for f in "$db" "$db-wal" "$db-shm"; do
  [ ! -e "$f" ] || [ "$(stat -c %a "$f")" = 600 ] || fail "$f mode $(stat -c %a "$f")"
done
echo "integration disk full: ok"
