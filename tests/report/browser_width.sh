#!/usr/bin/env bash
# The HTML draft of a 10,000-alert incident (big_incident.py), and of the
# bundled example, in a real browser at 1280 and 390 px wide: headless Chromium loads the draft,
# unchanged (its Content-Security-Policy allows no script), in an iframe of
# that width, and a script of the wrapping page measures the draft's
# document: no horizontal scroll (scrollWidth <= clientWidth). The draft's
# figure is bounded too (its SVG under 1,500 px tall).
# Usage: browser_width.sh AFTERMATH PROJECT_DIR WORK_DIR
set -euo pipefail
am=$1 project=$2 work=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || fail "chromium is not installed (deploy/install-deps.sh installs it)"
rm -rf "$work" && mkdir -p "$work"
python3 "$project/tests/report/big_incident.py" 10000 >"$work/big.ndjson"
"$am" replay -q --db "$work/x.db" "$work/big.ndjson" 2>/dev/null
id=$("$am" incidents --db "$work/x.db" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
"$am" report "$id" --db "$work/x.db" --format html --out "$work/draft.html"
"$am" replay -q --db "$work/ex.db" "$project/examples/payments-latency.ndjson" 2>/dev/null
ex=$("$am" incidents --db "$work/ex.db" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
"$am" report "$ex" --db "$work/ex.db" --format html --out "$work/example.html"
h=$(sed -n 's/.*<svg [^>]*height="\([0-9]*\)".*/\1/p' "$work/draft.html" | head -1)
[ -n "$h" ] && [ "$h" -lt 1500 ] || fail "the SVG is ${h:-?} px tall"
for page in draft example; do
for w in 1280 390; do
  cat >"$work/wrap$w.html" <<HTML
<!DOCTYPE html><html><body style="margin:0"><iframe id="f" src="$page.html"
style="width:${w}px;height:900px;border:0"></iframe><script>
document.getElementById('f').onload = function () {
  var d = this.contentDocument.documentElement;
  document.body.setAttribute('data-width', d.scrollWidth + ' ' + d.clientWidth);
};</script></body></html>
HTML
  timeout 90 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --allow-file-access-from-files --user-data-dir="$work/profile" --window-size=1400,1000 \
    --virtual-time-budget=10000 --dump-dom "file://$work/wrap$w.html" >"$work/dom$w.html" \
    2>"$work/log$w" || { tail "$work/log$w"; fail "chromium could not load the draft at $w px"; }
  m=$(sed -n 's/.*data-width="\([0-9]*\) \([0-9]*\)".*/\1 \2/p' "$work/dom$w.html")
  [ -n "$m" ] || fail "no measure at $w px (the draft did not load in the frame)"
  read -r sw cw <<<"$m"
  [ "$cw" -eq "$w" ] || fail "the frame is $cw px wide, not $w"
  [ "$sw" -le "$cw" ] || fail "$page: horizontal scroll at $w px: the page is $sw px wide"
  echo "$page at $w px: scrollWidth $sw <= clientWidth $cw"
done
done
echo "browser widths: the drafts fit"
