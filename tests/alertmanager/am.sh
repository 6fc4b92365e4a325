#!/usr/bin/env bash
# Runs story.py through a real Alertmanager and captures what it emits:
# starts a webhook sink (sink.py) and Alertmanager (built by build.sh) on
# 127.0.0.1, with the event recorder writing to a topic of the test Kafka
# broker, drives the story through the API v2, stops Alertmanager (so that
# its event recorder flushes and records its shutdown) and reads the topic
# back with kcat. Needs the broker running (tests/kafka/broker.sh start).
#
# Usage: tests/alertmanager/am.sh OUT
# Writes into OUT (which must not exist):
#   truth.json, amapi.ndjson, amapi.raw.ndjson   from story.py
#   webhook.ndjson   every webhook body Alertmanager POSTed, as kcat -J
#                    lines (topic = receiver path: am-webhook, am-webhook-trunc;
#                    ts = when the sink received it)
#   pagerduty.ndjson the Events API v2 messages of the hook receiver's
#                    PagerDuty integration (its url is the sink's
#                    am-pagerduty), in the same form (pages.py)
#   events.ndjson    the event recorder's records (events/v2 JSON), as
#                    kcat -C -J read them from the topic
#   alertmanager.yml, alertmanager.log, sink.log
# Environment:
#   AFTERMATH_KAFKA_PORT  the test broker's port (default 19092)
#   AFTERMATH_AM_PORT     Alertmanager's web port (default broker port + 4);
#                         the sink listens on the next port
#   AFTERMATH_AM_BIN      an Alertmanager binary (default: build.sh builds one)
#   AFTERMATH_RECEIVER_URL, AFTERMATH_RECEIVER_TOKEN_FILE
#                         also send every notification to aftermath's webhook
#                         receiver (URL/webhook/alertmanager), with the bearer
#                         token of the file, as a second webhook_config of
#                         each receiver (the same max_alerts)
set -euo pipefail
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
prog=${0##*/}
die() {
  printf '%s: %s\n' "$prog" "$*" >&2
  exit 1
}
[ $# -eq 1 ] || die "usage: $prog OUT"
out=$1
[ ! -e "$out" ] || die "$out exists"
kport=${AFTERMATH_KAFKA_PORT:-19092}
port=${AFTERMATH_AM_PORT:-$((kport + 4))}
sport=$((port + 1))
command -v kcat >/dev/null || die "kcat is not installed (deploy/install-deps.sh)"
bin=${AFTERMATH_AM_BIN:-$("$here/build.sh")}
[ -x "$bin" ] || die "no Alertmanager binary at '$bin'"
mkdir -p "$out"
out=$(cd "$out" && pwd)
topic="am-events-$(date +%s)$$"

am_pid= sink_pid=
cleanup() {
  [ -z "$am_pid" ] || kill "$am_pid" 2>/dev/null || true
  [ -z "$sink_pid" ] || kill "$sink_pid" 2>/dev/null || true
}
trap cleanup EXIT

# Readiness: poll an URL for up to 30 s.
wait_url() {
  local i
  for i in $(seq 300); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

python3 "$here/sink.py" "$sport" "$out/webhook.ndjson" >"$out/sink.log" 2>&1 &
sink_pid=$!
# The sink prints its line once it listens.
for i in $(seq 300); do
  grep -q listening "$out/sink.log" 2>/dev/null && break
  kill -0 "$sink_pid" 2>/dev/null || die "the webhook sink exited: $(cat "$out/sink.log")"
  sleep 0.1
done
grep -q listening "$out/sink.log" || die "the webhook sink did not start"

# A second webhook_config per receiver: aftermath's own receiver.
rx_hook= rx_trunc=
if [ -n "${AFTERMATH_RECEIVER_URL:-}" ]; then
  rx_http="http_config: {authorization: {type: Bearer, credentials_file: '$AFTERMATH_RECEIVER_TOKEN_FILE'}}"
  rx_hook="      - url: $AFTERMATH_RECEIVER_URL/webhook/alertmanager
        $rx_http"
  rx_trunc="      - url: $AFTERMATH_RECEIVER_URL/webhook/alertmanager
        max_alerts: 2
        $rx_http"
fi

cat >"$out/alertmanager.yml" <<YML
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 10s
  repeat_interval: 15s
  routes:
    - matchers: ['alertname="AmTrunc"']
      receiver: hook-trunc
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:$sport/am-webhook
$rx_hook
    pagerduty_configs:
      - routing_key: aftermath-test-routing-key
        url: http://127.0.0.1:$sport/am-pagerduty
  - name: hook-trunc
    webhook_configs:
      - url: http://127.0.0.1:$sport/am-webhook-trunc
        max_alerts: 2
$rx_trunc
event_recorder:
  kafka_outputs:
    - name: aftermath-test
      brokers: ['127.0.0.1:$kport']
      topic: $topic
      format: json
      acks: all
YML

# The topic first: the broker may not create topics on first use.
kcat -b "127.0.0.1:$kport" -L >/dev/null 2>&1 || die "no Kafka broker on 127.0.0.1:$kport"
if [ -n "${BROKER_SH:-}" ]; then
  "$BROKER_SH" topic "$topic" 1 >/dev/null || die "creating topic $topic"
fi

"$bin" --config.file="$out/alertmanager.yml" --storage.path="$out/data" \
  --web.listen-address="127.0.0.1:$port" --cluster.listen-address= \
  --enable-feature=event-recorder --log.level=debug >"$out/alertmanager.log" 2>&1 &
am_pid=$!
wait_url "http://127.0.0.1:$port/-/ready" || { tail -20 "$out/alertmanager.log" >&2; die "Alertmanager did not become ready"; }

t0=$(date +%s%3N)
python3 "$here/story.py" "http://127.0.0.1:$port" "$out" || die "story.py failed"
kill "$am_pid"
wait "$am_pid" || true
am_pid=
kill "$sink_pid"
wait "$sink_pid" || true
sink_pid=
# The PagerDuty integration's messages apart from the webhooks.
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
recs = [l for l in open(out + "/webhook.ndjson") if l.strip()]
with open(out + "/webhook.ndjson", "w") as wh, open(out + "/pagerduty.ndjson", "x") as pd:
    for l in recs:
        (pd if json.loads(l)["topic"] == "am-pagerduty" else wh).write(l)
PY

kcat -C -b "127.0.0.1:$kport" -t "$topic" -J -e -q -o beginning >"$out/events.ndjson" 2>"$out/kcat.err" ||
  die "kcat could not read $topic: $(head -3 "$out/kcat.err")"
n_ev=$(wc -l <"$out/events.ndjson")
n_wh=$(wc -l <"$out/webhook.ndjson")
n_api=$(wc -l <"$out/amapi.ndjson")
n_pd=$(wc -l <"$out/pagerduty.ndjson")
[ "$n_ev" -gt 0 ] || die "the event recorder wrote nothing to $topic (see $out/alertmanager.log)"
[ "$n_wh" -gt 0 ] || die "no webhook reached the sink (see $out/alertmanager.log)"
echo "$prog: story done in $((($(date +%s%3N) - t0) / 1000)) s: $n_api API v2 posts, $n_wh webhooks, $n_pd PagerDuty messages, $n_ev event records (topic $topic)"
