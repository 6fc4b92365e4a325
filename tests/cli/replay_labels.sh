#!/usr/bin/env bash
# Label mapping end to end: replay --config reads service from the labels
# the config names (top level for one topic, the topic's own labels for
# another), as stored in the events and the incident, and links the
# deploy that the mapped services make a suspect; without the config the
# same records keep the default mapping. Also: a topic's format from the
# config, --format over it, and config errors named by file:line:col.
# Usage: replay_labels.sh AFTERMATH WORK_DIR
set -euo pipefail
am=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
q() { sqlite3 "$1" "$2"; }

cat >"$work/aftermath.yaml" <<'YAML'
version: 1
labels:
  service: [team]
topics:
  - name: alerts
  - name: deploys
    labels:
      service: [component]
YAML
# A deploy whose service label says db but whose component is payments,
# and an alert whose service label says web-frontend but whose team is
# payments: only the mapping makes them the same service.
cat >"$work/in.ndjson" <<'NDJSON'
{"topic":"deploys","partition":0,"offset":0,"ts":1718719510000,"key":null,"payload":"{\"kind\":\"deploy\",\"name\":\"payments-api\",\"version\":\"2024.06.18-1\",\"at\":\"2024-06-18T14:05:00Z\",\"actor\":\"deploy-bot\",\"labels\":{\"component\":\"payments\",\"service\":\"db\",\"cluster\":\"eu-1\",\"env\":\"prod\"}}"}
{"topic":"alerts","partition":0,"offset":0,"ts":1718721005000,"key":null,"payload":"{\"receiver\":\"r\",\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"HighErrorRate\",\"team\":\"payments\",\"service\":\"web-frontend\",\"severity\":\"page\",\"env\":\"prod\",\"cluster\":\"eu-1\"},\"annotations\":{\"summary\":\"5xx above 5%\"},\"startsAt\":\"2024-06-18T14:29:00Z\"}]}"}
NDJSON

db=$work/mapped.db
"$am" replay --db "$db" --config "$work/aftermath.yaml" "$work/in.ndjson" >"$work/out" 2>"$work/err" ||
  { cat "$work/err"; fail "replay --config exited $?"; }
[ "$(q "$db" "SELECT service FROM events WHERE kind = 'alert'")" = payments ] || fail "alert service from team"
[ "$(q "$db" "SELECT service FROM events WHERE kind = 'deploy'")" = payments ] || fail "deploy service from the topic's component"
# The labels themselves are kept as sent.
[ "$(q "$db" "SELECT json_extract(labels, '$.service') FROM events WHERE kind = 'alert'")" = web-frontend ] ||
  fail "the alert's own service label"
[ "$(q "$db" 'SELECT services FROM incidents')" = '["payments"]' ] || fail "incident services"
[ "$(q "$db" "SELECT json_extract(suspects, '\$[0].service') FROM incidents")" = payments ] ||
  fail "the deploy is a suspect under the mapping"
grep -q 'payments ' "$work/out" || { cat "$work/out"; fail "printed incident"; }

# Without the config: the default mapping, other services, no suspect.
plain=$work/plain.db
"$am" replay -q --db "$plain" "$work/in.ndjson" 2>/dev/null || fail "plain replay"
[ "$(q "$plain" "SELECT service FROM events WHERE kind = 'alert'")" = web-frontend ] || fail "default alert service"
[ "$(q "$plain" "SELECT service FROM events WHERE kind = 'deploy'")" = db ] || fail "default deploy service"
[ "$(q "$plain" 'SELECT suspects FROM incidents')" = '[]' ] || fail "no suspect without the mapping"

# A topic's format comes from the config; --format wins over it.
cat >"$work/format.yaml" <<'YAML'
topics:
  - name: deploys
    format: alertmanager
YAML
f=$work/format.db
"$am" replay -q --db "$f" --config "$work/format.yaml" "$work/in.ndjson" 2>"$work/err" || fail "format replay"
[ "$(q "$f" "SELECT count(*) FROM rejected WHERE reason LIKE 'alertmanager:%'")" = 1 ] ||
  fail "the deploys topic read as alertmanager"
"$am" replay -q --db "$work/format2.db" --config "$work/format.yaml" --format auto "$work/in.ndjson" 2>/dev/null ||
  fail "format replay with --format"
[ "$(q "$work/format2.db" 'SELECT count(*) FROM events')" = 2 ] || fail "--format over the topic's format"

# A bad mapping is a configuration error: exit 2, file:line:col.
printf 'labels:\n  servce: [team]\n' >"$work/bad.yaml"
set +e
"$am" replay --db "$work/bad.db" --config "$work/bad.yaml" "$work/in.ndjson" >/dev/null 2>"$work/err"; rc=$?
set -e
[ $rc = 2 ] || fail "bad config: exit $rc, want 2"
grep -q "bad.yaml:2:3: labels: unknown field 'servce'" "$work/err" || { cat "$work/err"; fail "bad config message"; }
[ ! -e "$work/bad.db" ] || fail "a database was created for a bad config"
"$am" run --config "$work/aftermath.yaml" --print-config >"$work/printed" 2>/dev/null || fail "run --print-config"
grep -q '^  service: \["team"\]' "$work/printed" || { cat "$work/printed"; fail "printed top-level labels"; }
grep -q '^      service: \["component"\]' "$work/printed" || fail "printed topic labels"
"$am" replay --help | grep -- '--config FILE' >/dev/null || fail "replay --help names --config"
echo "replay_labels: ok"
