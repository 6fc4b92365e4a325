#!/usr/bin/env bash
# The HTML draft in a real browser: headless Chromium (Debian's chromium)
# loads the example's draft from a file, with no network; the test checks
# that the page rendered (its DOM has the summary, the timeline list and
# the inline SVG timeline), that the browser logged no console message
# (the draft has no script; a Content-Security-Policy violation would be
# logged), and writes a screenshot as a build artifact.
# Usage: browser.sh AFTERMATH EXAMPLES_DIR WORK_DIR
set -euo pipefail
am=$1 examples=$2 work=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || fail "chromium is not installed (deploy/install-deps.sh installs it)"
rm -rf "$work" && mkdir -p "$work"
"$am" replay -q --db "$work/x.db" "$examples/payments-latency.ndjson" 2>/dev/null
id=$("$am" incidents --db "$work/x.db" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
"$am" report "$id" --db "$work/x.db" --format html --out "$work/draft.html"

run() { timeout 90 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --user-data-dir="$work/profile" --enable-logging=stderr --v=0 "$@" "file://$work/draft.html"; }
run --dump-dom >"$work/dom.html" 2>"$work/dom.log" || { tail "$work/dom.log"; fail "chromium could not load the draft"; }
grep -q "Postmortem draft: $id" "$work/dom.html" || fail "no title in the rendered page"
grep -q '<svg' "$work/dom.html" || fail "no SVG timeline in the rendered page"
grep -q 'Rollback of payments-api to 3.13.2' "$work/dom.html" || fail "timeline entry missing"
if grep -E 'CONSOLE|Refused to' "$work/dom.log"; then fail "the page logged console messages"; fi
run --window-size=1200,1800 --screenshot="$work/draft.png" 2>"$work/shot.log" ||
  { tail "$work/shot.log"; fail "screenshot"; }
[ -s "$work/draft.png" ] || fail "empty screenshot"
echo "browser: the draft renders; screenshot in $work/draft.png"
