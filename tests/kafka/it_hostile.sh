#!/usr/bin/env bash
# Integration: the hostile-record corpus (tests/lib/hostile.py) through a
# real broker, one partition, between good records: `aftermath run`
# rejects each with its reason (rejected table, in order) and stores every
# good record; the offset ends past the last record. The 4 MiB record
# travels lz4-compressed, as the broker's 1 MiB limit applies to the
# compressed batch.
# Usage: it_hostile.sh AFTERMATH AM_PRODUCE BROKER_SH WORK
AM=$1 PRODUCE=$2 BROKER=$3 WORK=$4
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/hostile_check.sh"

ngood=$(python3 "$(dirname "$0")/../lib/hostile.py" "$WORK/hostile.ndjson" "$WORK/expect.txt")
t="ith-$RUN-events"
"$PRODUCE" --brokers "$B" --create "$t:1" --topic "$t" -X compression.type=lz4 \
  -X message.max.bytes=10000000 "$WORK/hostile.ndjson" 2>"$WORK/produce.err" ||
  { cat "$WORK/produce.err"; fail "am_produce"; }
total=$(wc -l <"$WORK/hostile.ndjson")
"$AM" run --brokers "$B" --topic "$t" --group "ith-$RUN" --db "$WORK/run.db" --exit-when-idle 1 \
  2>"$WORK/run.err" || { tail "$WORK/run.err"; fail "run exited $?"; }
[ "$(committed "$WORK/run.db")" = "$total" ] || fail "offset $(offsets "$WORK/run.db"), want $total"
check_hostile "$WORK/run.db" "$WORK/expect.txt" "$ngood" || fail "hostile records"
echo "integration hostile: ok"
