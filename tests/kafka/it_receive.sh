#!/usr/bin/env bash
# Integration: the webhook receiver (issue 19) against the real broker.
#  1. every refusal over real HTTP (401 with a challenge, bad GitHub
#     signature, 404, 405, 413, 415, 400), counted in /metrics; the body
#     refused with 400 is kept and ends in the consumer's rejected table;
#  2. 300 generic notes posted while the broker is stopped for a while:
#     503 with Retry-After during the outage, every note acknowledged in
#     the end, and each stored exactly once (the sender's retries after a
#     lost answer are absorbed by the store's dedup);
#  3. kill -9 of the receiver right after 50 acknowledged notes: every one
#     of them is in Kafka;
#  4. the credentials appear in no record and no log line.
# The receiver runs as `run --role receive`; `run` then reads the topic.
#
# Usage: it_receive.sh AFTERMATH AM_PRODUCE BROKER_SH WORK
set -euo pipefail
AM=$1 BROKER=$3 WORK=$4
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"

kport=${AFTERMATH_KAFKA_PORT:-19092}
rport=$((kport + 6)) mport=$((kport + 7))
url=http://127.0.0.1:$rport
topic=rx-notes-$RUN deploys=rx-deploys-$RUN
"$BROKER" topic "$topic" 1 >/dev/null
"$BROKER" topic "$deploys" 1 >/dev/null

umask 077
printf 'tok-%s-secret\n' "$RUN" >"$WORK/token"
printf 'gh-%s-secret' "$RUN" >"$WORK/gh"
token=$(cat "$WORK/token") gh=$(cat "$WORK/gh")
cat >"$WORK/receive.yaml" <<YML
version: 1
kafka:
  bootstrap.servers: "$B"
role: receive
receive:
  listen: 127.0.0.1:$rport
  max_body_bytes: 4096
  ack_timeout: 2s
  sources:
    - {name: generic, topic: $topic, token_file: token}
    - {name: github, topic: $deploys, secret_file: gh}
YML

pid=
start_receiver() {
  "$AM" --log-level info run --config "$WORK/receive.yaml" --metrics-addr "127.0.0.1:$mport" \
    >>"$WORK/receive.out" 2>>"$WORK/receive.err" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 300); do
    curl -fsS -o /dev/null "$url/healthz" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/receive.err"; fail "the receiver exited"; }
    sleep 0.1
  done
  fail "the receiver did not answer /healthz"
}

start_receiver
python3 "$here/webhook_client.py" checks "$url" "$token" "$gh" || fail "refusals over HTTP"
python3 "$here/webhook_client.py" notes "$url" "$token" 1 300 "$WORK/acked1" --outage "$BROKER" ||
  fail "notes through a broker outage"
curl -fsS "http://127.0.0.1:$mport/metrics" >"$WORK/metrics" || fail "no /metrics"
metric() { sed -n "s/^aftermath_webhook_requests_total{source=\"$1\",outcome=\"$2\"} //p" "$WORK/metrics"; }
[ "$(metric generic unauthorized)" = 2 ] || fail "unauthorized count: $(metric generic unauthorized)"
[ "$(metric github bad_signature)" = 1 ] || fail "bad_signature count: $(metric github bad_signature)"
[ "$(metric generic bad_content_type)" = 1 ] || fail "bad_content_type count"
[ "$(metric generic malformed)" = 1 ] || fail "malformed count"
[ "$(metric generic unavailable)" -gt 0 ] || fail "no 503 counted during the outage"
[ "$(metric generic accepted)" -ge 301 ] || fail "accepted count: $(metric generic accepted)"
grep -q 'aftermath_http_requests_too_large_total{listener="webhook"} 1' "$WORK/metrics" ||
  fail "the 413 is not counted"
kill -TERM "$pid"
wait "$pid" || fail "the receiver did not stop cleanly on SIGTERM"
pid=

# kill -9 right after the acknowledgements: nothing acknowledged is lost.
start_receiver
python3 "$here/webhook_client.py" notes "$url" "$token" 1001 50 "$WORK/acked2" || fail "notes before kill"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=

# What Kafka holds, read back by run.
"$AM" run --brokers "$B" --topic "$topic:generic" --topic "$deploys:github" --group "rx-$RUN" \
  --db "$WORK/rx.db" --metrics-addr off --exit-when-idle 3s 2>"$WORK/run.err" ||
  { cat "$WORK/run.err"; fail "run could not read the topics"; }
stored=$(sqlite3 "$WORK/rx.db" "SELECT count(*) FROM events WHERE kind = 'note'")
expected=$(cat "$WORK/acked1" "$WORK/acked2" | sort -u | wc -l)
# The notes of the checks: one accepted (rx-note-0) besides the 350.
[ "$stored" = $((expected + 1)) ] || fail "stored $stored notes, acknowledged $expected + 1"
missing=$(cat "$WORK/acked1" "$WORK/acked2" | while read -r id; do
  [ "$(sqlite3 "$WORK/rx.db" "SELECT count(*) FROM events WHERE id = '$id'")" = 1 ] || echo "$id"
done | head -3)
[ -z "$missing" ] || fail "acknowledged but not stored: $missing"
records=$(sqlite3 "$WORK/rx.db" "SELECT count(*) FROM records")
[ "$(sqlite3 "$WORK/rx.db" "SELECT count(*) FROM events WHERE kind = 'deploy'")" = 1 ] ||
  fail "the signed GitHub deploy is not stored once"
# The one body refused with 400 (not a generic event) was kept, and the
# consumer holds it as rejected, with the decoder's reason.
[ "$(sqlite3 "$WORK/rx.db" "SELECT count(*) FROM rejected")" = 1 ] || fail "rejected: not only the refused body"
[ "$(sqlite3 "$WORK/rx.db" "SELECT CAST(raw AS TEXT) FROM rejected")" = '{"kind": "nonsense"}' ] ||
  fail "the refused body is not the rejected record"
sqlite3 "$WORK/rx.db" "SELECT reason FROM rejected" | grep -q "kind" || fail "the rejected record's reason does not name the field"

# No credential in a record or a log.
kcat -C -b "$B" -t "$topic" -J -e -q >"$WORK/topic.json"
! grep -q "tok-$RUN" "$WORK/topic.json" "$WORK/receive.err" "$WORK/receive.out" ||
  fail "the token leaked into a record or the log"
! grep -qi 'authorization\|signature' "$WORK/topic.json" || fail "a credential header was copied"
echo "receiver: $expected notes acknowledged ($records records in Kafka), all stored once"
echo "integration receive: ok"
