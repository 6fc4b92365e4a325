#!/usr/bin/env bash
# Integration: incident changes committed but never delivered are
# delivered by the next `run`. The state a crash between a batch's commit
# and its publication leaves behind is made deterministically: `replay`
# correlates into a database (its changes wait in the outbox, since replay
# publishes nothing), then `run` on that database, with nothing to
# consume, must publish every incident (the latest document of each equals
# the store), write the drafts of the resolved ones, empty the outbox, and
# a second run (with retention set) must publish nothing more.
# Usage: it_outbox.sh AFTERMATH AM_PRODUCE BROKER_SH WORK FILE
AM=$1 PRODUCE=$2 BROKER=$3 WORK=$4 FILE=$5
. "$(dirname "$0")/lib.sh"

db=$WORK/o.db
"$AM" replay --db "$db" "$FILE" >/dev/null 2>&1 || fail "replay $FILE"
n=$(sqlite3 "$db" 'SELECT count(*) FROM incidents')
[ "$n" -gt 0 ] || fail "no incidents from $FILE"
[ "$(sqlite3 "$db" 'SELECT count(*) FROM outbox')" = "$n" ] || fail "outbox after replay: want $n"

topic=ito-$RUN-incidents src=ito-$RUN-empty
"$BROKER" topic "$topic" 1 >/dev/null || fail "creating $topic"
"$BROKER" topic "$src" 1 >/dev/null || fail "creating $src"
run() {
  AFTERMATH_INCIDENTS_TOPIC=$topic AFTERMATH_DRAFTS=$WORK/drafts \
    "$AM" --log-level info run --brokers "$B" --topic "$src" --group "ito-$RUN" --db "$db" \
    --exit-when-idle 1 2>>"$WORK/run.err" || { tail -20 "$WORK/run.err"; fail "run exited $?"; }
}
run
grep -q 'outbox' "$WORK/run.err" || fail "run did not say it delivered the outbox"
[ "$(sqlite3 "$db" 'SELECT count(*) FROM outbox')" = 0 ] || fail "outbox not emptied"
published_is_store "$topic" "$db" "$WORK"
resolved=$(sqlite3 "$db" "SELECT count(*) FROM incidents WHERE status = 'resolved'")
[ "$(find "$WORK/drafts" -name '*.md' | wc -l)" = "$resolved" ] || fail "drafts: want $resolved"

# The second run also applies retention (the example is from March 2025):
# it prunes at start, which changes no incident and so publishes nothing.
before=$(wc -l <"$WORK/published.ndjson")
: >"$WORK/run.err"
AFTERMATH_RETENTION=90d run
after=$(kcat -C -J -e -q -b "$B" -t "$topic" | wc -l)
[ "$after" = "$before" ] || fail "a second run published again ($before -> $after documents)"
grep -q 'msg=pruned' "$WORK/run.err" || { cat "$WORK/run.err"; fail "run did not prune"; }
[ "$(sqlite3 "$db" "SELECT count(*) FROM events WHERE kind <> 'deploy'")" = 0 ] ||
  fail "retention left old alerts"
"$AM" incidents --db "$db" --format json >"$WORK/after-prune.json" || fail "incidents"
cmp -s "$WORK/store-incidents.json" "$WORK/after-prune.json" || fail "retention changed the incidents"
echo "integration outbox: ok"
