#!/usr/bin/env bash
# Integration (d): poison records between good ones on a real broker: a
# truncated JSON, a null value (tombstone), an oversized record and a
# payload of no known format. Each is kept in the rejected table with its
# topic/partition/offset and reason, copied to the dead-letter topic with
# the reason in an 'aftermath-reason' header, and the good records around
# it are stored; the partition's offset moves past it.
# Usage: it_poison.sh AFTERMATH AM_PRODUCE BROKER_SH WORK
AM=$1 PRODUCE=$2 BROKER=$3 WORK=$4
. "$(dirname "$0")/lib.sh"

big=$(python3 -c 'import json; print(json.dumps(json.dumps({"kind": "note", "at": "2024-06-18T14:40:00Z", "summary": "x" * 5000})))')
good() { # good PARTITION OFFSET N
  printf '{"topic":"events","partition":%d,"offset":%d,"ts":%d,"key":"k%d","headers":["h","%d"],"payload":"{\\"kind\\":\\"note\\",\\"at\\":\\"2024-06-18T14:%02d:00Z\\",\\"summary\\":\\"good %d\\"}"}\n' \
    "$1" "$2" $((1718719200000 + $3 * 1000)) "$3" "$3" "$3" "$3"
}
{
  good 0 0 1
  printf '{"topic":"events","partition":0,"offset":1,"ts":1718719202000,"key":null,"payload":"{\\"kind\\": \\"alert\\", \\"status\\""}\n'
  good 0 2 2
  printf '{"topic":"events","partition":0,"offset":3,"ts":1718719204000,"key":"gone","payload":null}\n'
  good 0 4 3
  printf '{"topic":"events","partition":0,"offset":5,"ts":1718719206000,"key":null,"payload":%s}\n' "$big"
  good 0 6 4
  printf '{"topic":"events","partition":0,"offset":7,"ts":1718719208000,"key":null,"payload":"{\\"hello\\": \\"world\\"}"}\n'
  good 0 8 5
  good 1 0 6
  good 1 1 7
} >"$WORK/poison.ndjson"
"$PRODUCE" --brokers "$B" --create-topics --create "itd-$RUN-dlq:1" --topic-prefix "itd-$RUN-" \
  "$WORK/poison.ndjson" 2>"$WORK/produce.err" || { cat "$WORK/produce.err"; fail "am_produce"; }

AFTERMATH_MAX_RECORD_BYTES=4096 AFTERMATH_DEAD_LETTER_TOPIC="itd-$RUN-dlq" \
  "$AM" run --brokers "$B" --topic "itd-$RUN-events" --group "itd-$RUN" --db "$WORK/run.db" \
  --exit-when-idle 1 2>"$WORK/run.err" || { tail "$WORK/run.err"; fail "run exited $?"; }

db=$WORK/run.db
t="itd-$RUN-events"
[ "$(sqlite3 "$db" 'SELECT count(*) FROM events')" = 7 ] || fail "good events: $(sqlite3 "$db" 'SELECT summary FROM events')"
[ "$(sqlite3 "$db" "SELECT group_concat(summary, ',') FROM (SELECT summary FROM events ORDER BY summary)")" = \
  "good 1,good 2,good 3,good 4,good 5,good 6,good 7" ] || fail "the good records"
[ "$(offsets "$db" | tr '\n' ' ')" = "$t/0=9 $t/1=2 " ] || fail "offsets: $(offsets "$db")"
sqlite3 "$db" "SELECT place || ' ' || reason FROM rejected ORDER BY \"offset\"" >"$WORK/rejected"
cat "$WORK/rejected"
[ "$(wc -l <"$WORK/rejected")" = 4 ] || fail "4 rejected records"
grep -q "^$t/0/1 invalid JSON" "$WORK/rejected" || fail "truncated JSON"
grep -q "^$t/0/3 record has no payload" "$WORK/rejected" || fail "null record"
grep -q "^$t/0/5 .*4096" "$WORK/rejected" || fail "oversized record (limit named)"
grep -q "^$t/0/7 " "$WORK/rejected" || fail "unknown format"
# Kafka headers kept with the good records, as kcat writes them.
[ "$(sqlite3 "$db" "SELECT headers FROM records WHERE \"offset\" = 2 AND partition = 0")" = '["h","2"]' ] ||
  fail "headers of a good record"

# The dead-letter topic: each poison record, value and key unchanged, the
# reason and place in headers.
kcat -C -J -e -q -b "$B" -t "itd-$RUN-dlq" >"$WORK/dlq.ndjson" || fail "kcat dlq"
python3 - "$WORK/dlq.ndjson" "$t" <<'PY' || fail "dead-letter topic"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
t = sys.argv[2]
assert len(recs) == 4, "%d dead letters, want 4" % len(recs)
places = []
for r in recs:
    h = r.get("headers") or []
    hd = dict(zip(h[0::2], h[1::2]))
    assert hd.get("aftermath-reason"), r
    places.append(hd["aftermath-place"])
assert places == ["%s/0/%d" % (t, o) for o in (1, 3, 5, 7)], places
assert recs[1]["payload"] is None and recs[1]["key"] == "gone", recs[1]
assert recs[0]["payload"].startswith('{"kind": "alert"'), recs[0]
assert len(recs[2]["payload"]) > 4096
print("dead-letter topic: 4 records with aftermath-reason and aftermath-place")
PY
echo "integration poison: ok"
