#!/usr/bin/env bash
# Integration (issue 19): the real Alertmanager 0.35.0 posts its webhooks
# to aftermath's receiver (`run --role receive`, bearer token from
# http_config.authorization.credentials_file, the README's snippet) as well
# as to a plain capture sink, through the same story as kafka_alertmanager.
# What the receiver put on the real broker must be every body the sink
# captured, unchanged, and `run` reading that topic must derive the same
# incidents as `replay` of the sink's capture.
#
# Usage: it_receive_am.sh AFTERMATH BROKER_SH WORK
set -euo pipefail
AM=$1 BROKER=$2 WORK=$3
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
rm -rf "$WORK" && mkdir -p "$WORK"
export AFTERMATH_METRICS=off
B=$("$BROKER" bootstrap)
kport=${AFTERMATH_KAFKA_PORT:-19092}
rport=$((kport + 6))
run_id=$(date +%s)$$
topic=rx-am-$run_id
"$BROKER" topic "$topic" 1 >/dev/null

umask 077
printf 'am-%s-token\n' "$run_id" >"$WORK/token"
cat >"$WORK/receive.yaml" <<YML
kafka:
  bootstrap.servers: "$B"
role: receive
receive:
  listen: 127.0.0.1:$rport
  sources:
    - {name: alertmanager, topic: $topic, token_file: token}
YML
"$AM" --log-level info run --config "$WORK/receive.yaml" 2>"$WORK/receive.err" &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true' EXIT
for _ in $(seq 300); do
  curl -fsS -o /dev/null "http://127.0.0.1:$rport/healthz" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$WORK/receive.err"; fail "the receiver exited"; }
  sleep 0.1
done

BROKER_SH=$BROKER AFTERMATH_RECEIVER_URL="http://127.0.0.1:$rport" \
  AFTERMATH_RECEIVER_TOKEN_FILE="$WORK/token" "$here/am.sh" "$WORK/capture" ||
  fail "am.sh could not run the story"
kill -TERM "$pid"
wait "$pid" || fail "the receiver did not stop cleanly"
grep -q 'webhook refused' "$WORK/receive.err" && { grep 'webhook refused' "$WORK/receive.err" | head -3; fail "the receiver refused a webhook of the real Alertmanager"; }

# Every body the sink got is a record, unchanged (as multisets: the two
# webhook_configs of a receiver are notified apart).
kcat -C -b "$B" -t "$topic" -J -e -q >"$WORK/topic.ndjson"
python3 - "$WORK/capture/webhook.ndjson" "$WORK/topic.ndjson" <<'PY' || fail "the records differ from the bodies"
import collections, json, sys
sink = collections.Counter(json.loads(l)["payload"] for l in open(sys.argv[1]))
topic = collections.Counter(json.loads(l)["payload"] for l in open(sys.argv[2]))
print("sink %d bodies, topic %d records" % (sum(sink.values()), sum(topic.values())))
# A record produced twice (a retry) is allowed: the store keeps it once.
missing = sink - topic
if missing:
    print("missing from the topic: %d, e.g. %s" % (sum(missing.values()), next(iter(missing))[:200]))
    sys.exit(1)
extra = set(topic) - set(sink)
if extra:
    print("records no sink body matches: %d" % len(extra))
    sys.exit(1)
PY

# The same incidents from the receiver's topic (run) and from the capture (replay).
cat >"$WORK/replay.yaml" <<YML
topics:
  - {name: am-webhook, format: alertmanager}
  - {name: am-webhook-trunc, format: alertmanager}
YML
"$AM" replay --rules "$here/rules.yaml" --config "$WORK/replay.yaml" --db "$WORK/sink.db" \
  "$WORK/capture/webhook.ndjson" >/dev/null 2>"$WORK/replay.err" || { cat "$WORK/replay.err"; fail "replay"; }
cat >"$WORK/run.yaml" <<YML
kafka:
  bootstrap.servers: "$B"
topics:
  - {name: $topic, format: alertmanager}
rules: ["$here/rules.yaml"]
YML
"$AM" run --config "$WORK/run.yaml" --group "rx-am-$run_id" --db "$WORK/rx.db" --exit-when-idle 3s \
  2>"$WORK/run.err" || { cat "$WORK/run.err"; fail "run"; }
shape() {
  "$AM" incidents --db "$1" --format json |
    python3 -c 'import json,sys; [print(i["id"], i["status"], i["started_at"], i.get("mitigated_at"), i["alerts"]) for i in json.load(sys.stdin)]'
}
shape "$WORK/sink.db" >"$WORK/sink.txt"
shape "$WORK/rx.db" >"$WORK/rx.txt"
[ -s "$WORK/sink.txt" ] || fail "no incidents from the capture"
diff "$WORK/sink.txt" "$WORK/rx.txt" || fail "run over the receiver's topic differs from replay of the capture"
[ "$(sqlite3 "$WORK/rx.db" 'SELECT count(*) FROM rejected')" = 0 ] || fail "records rejected"
echo "receiver behind the real Alertmanager: $(wc -l <"$WORK/rx.txt") incidents, as from the capture"
echo "integration receive + alertmanager: ok"
