#!/usr/bin/env bash
# aftermath run serves the web pages under /ui/ on its metrics address in
# role all (beside /metrics), with no broker reachable: the endpoint
# listens before anything is consumed. Then `serve`'s usage errors.
# The endpoint takes any free port (127.0.0.1:0) and logs it.
# Usage: run_pages.sh AFTERMATH PROJECT_DIR WORK_DIR
set -euo pipefail
am=$1 project=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null || true' EXIT

"$am" replay --db "$work/r.db" "$project/examples/payments-latency.ndjson" >/dev/null 2>&1
cat >"$work/c.yaml" <<YAML
version: 1
kafka:
  bootstrap.servers: 127.0.0.1:1
topics: [events]
role: all
store: $work/r.db
rules: [$project/rules/default.yaml]
metrics: 127.0.0.1:0
YAML
"$am" --log-level info run --config "$work/c.yaml" >"$work/run.log" 2>&1 &
pid=$!
addr=
for _ in $(seq 200); do # up to 20 s to listen
  addr=$(sed -n 's/.*msg="metrics endpoint listening" address=\([^ ]*\).*/\1/p' "$work/run.log")
  [ -n "$addr" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/run.log"; fail "run exited"; }
  sleep 0.1
done
[ -n "$addr" ] || { cat "$work/run.log"; fail "run did not log its metrics address"; }
base=http://$addr
code=$(curl -s -D "$work/h" -o "$work/list.html" -w '%{http_code}' "$base/ui/")
[ "$code" = 200 ] || { cat "$work/list.html"; fail "/ui/ answered $code"; }
grep -qi "^Content-Security-Policy: default-src 'none'; style-src 'self'; script-src 'self'" "$work/h" ||
  fail "no CSP header on /ui/"
grep -q 'id="count">1 incident,' "$work/list.html" || fail "the incident is not listed"
id=$("$am" incidents --db "$work/r.db" --format json | sed -n 's/.*"id": "\(INC-[^"]*\)".*/\1/p' | head -1)
[ -n "$id" ] || fail "no incident id"
[ "$(curl -s -o "$work/inc.html" -w '%{http_code}' "$base/ui/incidents/$id")" = 200 ] ||
  fail "the incident page"
grep -q '<section class="draft" id="draft">' "$work/inc.html" || fail "no draft on the incident page"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/ui/?status=nope")" = 400 ] || fail "400"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/metrics")" = 200 ] || fail "/metrics"
kill "$pid"
wait "$pid" || true
pid=

# serve: usage errors exit 2, a missing database 1.
rc=0; "$am" serve --listen nope >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "serve --listen nope exited $rc"
rc=0; "$am" serve --db "$work/none.db" --listen 127.0.0.1:0 >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "serve on a missing database exited $rc"
rc=0; "$am" serve extra >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "serve extra exited $rc"
echo "run_pages: ok"
