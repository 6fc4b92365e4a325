#!/usr/bin/env bash
# bench/receive.sh - the webhook receiver's throughput from 127.0.0.1
# (bench/README.md): a real broker (tests/kafka/broker.sh on
# AFTERMATH_KAFKA_PORT, default 19892), `aftermath run --role receive`, and
# bench/receive_load.py posting Alertmanager bodies over keep-alive
# connections. Bounded: COUNT POSTs or 60 s, whichever first.
#
# Usage: bench/receive.sh [--count N] [--connections N] [--build DIR]
# Prints accepted POSTs/s and the latency percentiles, for 1 connection
# and for N (default 4), measured in the same run.
set -euo pipefail
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
count=5000 conns=4 build=$root/build
while [ $# -gt 0 ]; do
  case $1 in
    --count) count=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/receive.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
am=$build/cli/aftermath
[ -x "$am" ] || { echo "bench/receive.sh: $am missing: build first" >&2; exit 1; }
export AFTERMATH_KAFKA_PORT=${AFTERMATH_KAFKA_PORT:-19892}
export AFTERMATH_KAFKA_STATE=${AFTERMATH_KAFKA_STATE:-/tmp/aftermath-bench-receive-broker}
broker=$root/tests/kafka/broker.sh
work=$(mktemp -d)
pid=
cleanup() {
  [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
  "$broker" stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
"$broker" start >&2
B=$("$broker" bootstrap)
topic=bench-rx-$(date +%s)
"$broker" topic "$topic" 8 >/dev/null
rport=$((AFTERMATH_KAFKA_PORT + 6))
umask 077
echo "bench-token-$$" >"$work/token"
cat >"$work/receive.yaml" <<YML
kafka:
  bootstrap.servers: "$B"
role: receive
metrics: off
receive:
  listen: 127.0.0.1:$rport
  sources:
    - {name: alertmanager, topic: $topic, token_file: token}
YML
"$am" --log-level warn run --config "$work/receive.yaml" 2>"$work/receive.err" &
pid=$!
for _ in $(seq 300); do
  curl -fsS -o /dev/null "http://127.0.0.1:$rport/healthz" 2>/dev/null && break
  sleep 0.1
done
for c in 1 "$conns"; do
  python3 "$here/receive_load.py" "http://127.0.0.1:$rport" "bench-token-$$" "$count" "$c"
done
