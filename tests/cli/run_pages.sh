#!/usr/bin/env bash
# aftermath run serves the web pages under /ui/ on its metrics address in
# role all (beside /metrics), with no broker reachable: the endpoint
# listens before anything is consumed; with ui_edit_token_file a signed-in
# form stores a correction in run's store. Then `serve`'s usage errors.
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
ui_edit_token_file: $work/token
YAML
echo "run-pages-edit-token-0123" >"$work/token"
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
# A correction from the pages, into run's store.
[ "$(curl -s -o /dev/null -w '%{http_code}' -d "actor=x&title=y" "$base/ui/incidents/$id/correct")" = 403 ] ||
  fail "a form without signing in"
curl -s -D "$work/login.h" -o /dev/null -d "token=run-pages-edit-token-0123" "$base/ui/login"
session=$(sed -n 's/^Set-Cookie: \(aftermath_edit=[0-9a-f]*\);.*/\1/p' "$work/login.h" | tr -d '\r')
[ -n "$session" ] || { cat "$work/login.h"; fail "no session cookie"; }
csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$work/inc.html" | head -1)
[ -n "$csrf" ] || fail "no CSRF token in the incident's forms"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$session" \
  -d "csrf=$csrf&actor=Ravi&title=Corrected+from+run" "$base/ui/incidents/$id/correct")
[ "$code" = 303 ] || fail "the correction answered $code"
"$am" incidents --db "$work/r.db" --format json | grep -q '"title": "Corrected from run"' ||
  fail "the correction is not in run's store"
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
echo short >"$work/short"
rc=0; "$am" serve --db "$work/r.db" --listen 127.0.0.1:0 --edit-token-file "$work/short" \
  >/dev/null 2>"$work/err" || rc=$?
[ "$rc" = 2 ] || fail "serve with a short edit token exited $rc"
grep -q 'shorter than 16 bytes' "$work/err" || fail "the short token's message"
echo "run_pages: ok"
