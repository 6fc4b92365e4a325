#!/usr/bin/env bash
# Integration (f): CDEvents in CloudEvents binary mode on a real broker,
# produced with ce_* headers (am_produce) and consumed by `aftermath run`
# under a config whose label map reads the service from a custom label:
# the binary-mode CDEvent becomes a deploy, a record missing ce_id is
# refused naming the header, the alert's service comes from its team
# label so the deploy is linked as a suspect, and `replay --config` of a
# kcat -J dump of the topics stores the same events.
# Usage: it_cloudevents.sh AFTERMATH AM_PRODUCE BROKER_SH WORK
AM=$1 PRODUCE=$2 BROKER=$3 WORK=$4
. "$(dirname "$0")/lib.sh"

p="itf-$RUN-"
deployed='{\"context\":{\"version\":\"0.4.1\",\"id\":\"d-1\",\"source\":\"/ci/argo\",\"type\":\"dev.cdevents.service.deployed.0.2.0\",\"timestamp\":\"2024-06-18T14:05:00Z\"},\"subject\":{\"id\":\"checkout\",\"content\":{\"environment\":{\"id\":\"prod\"},\"artifactId\":\"pkg:oci/shop/checkout@v1.2.3\"}}}'
ce='"ce_specversion","1.0","ce_source","/ci/argo","ce_type","dev.cdevents.service.deployed.0.2.0","content-type","application/json"'
alert='{\"receiver\":\"r\",\"status\":\"firing\",\"alerts\":[{\"labels\":{\"alertname\":\"HighErrorRate\",\"team\":\"checkout\",\"service\":\"web\",\"severity\":\"page\",\"env\":\"prod\",\"cluster\":\"eu-1\"},\"startsAt\":\"2024-06-18T14:29:00Z\"}]}'
cat >"$WORK/in.ndjson" <<NDJSON
{"topic":"deploys","partition":0,"offset":0,"ts":1718719510000,"key":"checkout","headers":[$ce,"ce_id","d-1"],"payload":"$deployed"}
{"topic":"deploys","partition":0,"offset":1,"ts":1718719520000,"key":"checkout","headers":[$ce],"payload":"$deployed"}
{"topic":"alerts","partition":0,"offset":0,"ts":1718721005000,"key":null,"payload":"$alert"}
NDJSON
"$PRODUCE" --brokers "$B" --create-topics --topic-prefix "$p" "$WORK/in.ndjson" 2>"$WORK/produce.err" ||
  { cat "$WORK/produce.err"; fail "am_produce"; }
cat >"$WORK/aftermath.yaml" <<YAML
version: 1
kafka:
  bootstrap.servers: $B
topics:
  - ${p}deploys
  - name: ${p}alerts
    labels:
      service: [team]
group: ${p}group
store: $WORK/run.db
YAML
"$AM" run --config "$WORK/aftermath.yaml" --exit-when-idle 1 2>"$WORK/run.err" ||
  { tail -20 "$WORK/run.err"; fail "run exited $?"; }

db=$WORK/run.db
[ "$(sqlite3 "$db" "SELECT kind, status, source, service, environment, version FROM events WHERE kind = 'deploy'")" = \
  "deploy|succeeded|cdevents|checkout|prod|v1.2.3" ] || fail "deploy: $(sqlite3 "$db" 'SELECT * FROM events')"
[ "$(sqlite3 "$db" "SELECT service FROM events WHERE kind = 'alert'")" = checkout ] || fail "alert service from team"
[ "$(sqlite3 "$db" "SELECT place || ' ' || reason FROM rejected")" = \
  "${p}deploys/0/1 cloudevents: header ce_id: missing (a CloudEvent needs specversion, id, source and type)" ] ||
  fail "rejected: $(sqlite3 "$db" 'SELECT place, reason FROM rejected')"
[ "$(sqlite3 "$db" "SELECT json_extract(suspects, '\$[0].name') FROM incidents")" = checkout ] ||
  fail "the binary-mode deploy is the incident's suspect: $(sqlite3 "$db" 'SELECT suspects FROM incidents')"
[ "$(offsets "$db" | tr '\n' ' ')" = "${p}alerts/0=1 ${p}deploys/0=2 " ] || fail "offsets: $(offsets "$db")"

# What is on the topics, dumped by an independent client, replays under
# the same config into the same events.
for t in deploys alerts; do
  kcat -C -J -e -q -b "$B" -t "$p$t" >>"$WORK/dump.ndjson" || fail "kcat $t"
done
grep -q '"ce_id","d-1"' "$WORK/dump.ndjson" || fail "headers in the kcat dump"
"$AM" replay -q --config "$WORK/aftermath.yaml" --db "$WORK/replay.db" "$WORK/dump.ndjson" 2>/dev/null ||
  fail "replay --config"
same_events "$db" "$WORK/replay.db" "run and replay --config differ"
[ "$(sqlite3 "$WORK/replay.db" "SELECT service FROM events WHERE kind = 'alert'")" = checkout ] ||
  fail "replay mapped the alert's service"
echo "integration cloudevents: ok"
