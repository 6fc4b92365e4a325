#!/usr/bin/env bash
# Drafts of large incidents (tests/report/big_incident.py: bursts of
# alerts in one cluster, a lead-in note, a GitHub deploy sent as a
# deployment and its in_progress status, a deploy after resolution):
# - 127 alerts: the Markdown, HTML and JSON drafts against the goldens in
#   tests/golden/large-127 (golden.sh; --update rewrites them);
# - 127 and 10,000 alerts: the Markdown's structure (sections in order,
#   no two identical consecutive lines, the lead-in, the deploy start once,
#   the fix after resolution, one impact row per service and alert name,
#   grouped alert lines that name their instances), the 10,000-alert
#   draft under 200 KB with its timeline folded, and both as
#   CommonMark/GitHub render them (commonmark.py with cmark-gfm).
# Usage: large.sh AFTERMATH PROJECT_DIR WORK_DIR [--update]
set -euo pipefail
am=$1 project=$2 work=$3 update=${4:-}
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work/md"
for n in 127 10000; do
  python3 "$project/tests/report/big_incident.py" "$n" >"$work/big$n.ndjson"
done
"$project/tests/report/golden.sh" "$am" "$work/big127.ndjson" - "$project/tests/golden/large-127" \
  "$work/golden" $update
for n in 127 10000; do
  "$am" replay -q --db "$work/big$n.db" "$work/big$n.ndjson" 2>"$work/replay$n.err" ||
    { cat "$work/replay$n.err"; fail "replay of $n alerts"; }
  id=$("$am" incidents --db "$work/big$n.db" --format json |
    python3 -c 'import json,sys; v=json.load(sys.stdin); assert len(v)==1, len(v); print(v[0]["id"])') ||
    fail "$n alerts are not one incident"
  "$am" report "$id" --db "$work/big$n.db" --format md --out "$work/md/big$n.md"
  python3 - "$work/md/big$n.md" "$n" <<'PY' || fail "the draft of $n alerts"
import re, sys
path, n = sys.argv[1], int(sys.argv[2])
text = open(path, encoding="utf-8").read()
lines = text.split("\n")
def check(cond, what):
    if not cond:
        sys.exit(f"{path}: {what}")
size = len(text.encode())
if n >= 10000:
    check(size < 200 * 1024, f"{size} bytes, not under 200 KB")
heads = [l for l in lines if l.startswith("## ")]
want = ["## Incident Summary", "## Timeline (UTC)", "## Root Cause Analysis",
        "## Impact Analysis", "## Lessons Learned", "## Action Items"]
check([h for h in heads if h in want] == want, f"sections {heads}")
for a, b in zip(lines, lines[1:]):
    check(not (a.strip() and a == b), f"identical consecutive lines: {a[:120]}")
tl = text[text.index("## Timeline (UTC)"):text.index("```mermaid")]
bullets = [l for l in tl.split("\n") if l.startswith("- **")]
check(len(bullets) <= 130, f"{len(bullets)} timeline lines")
check(len(set(bullets)) == len(bullets), "a timeline line twice")
one = lambda pat: len([b for b in bullets if re.search(pat, b)])
check(one(r"Lead-in: note: Starting the edge config rollout") == 1, "the lead-in note")
check(one(r"edge 9fceb02d0ae598e95dc970b74767f19372d61af8 to service edge, started") == 1,
      "the GitHub deploy start once")
check(one(r"After resolution: deploy of edge 2\.8\.1") == 1, "the deploy after resolution")
check(one(r"Alert EdgeHTTP5xxHigh resolved on \d+ instances: edge-\d+\.prod-eu-1:9100, ") >= 1,
      "a grouped line naming its instances")
check(one(r"more alert lines .* folded") == (1 if n >= 10000 else 0), "the folded run")
gantt = text[text.index("```mermaid"):text.index("## Root Cause")]
check(gantt.count(":crit,") <= 6 * 12, "gantt bars")
check(gantt.count("deploy edge 9fceb02d0ae598e95dc970b74767f19372d61af8") == 1, "gantt deploy once")
i = text.index("## Impact Analysis")
imp = text[i:text.index("Users impacted", i)]
rows = [l for l in imp.split("\n") if l.startswith("| ") and not l.startswith(("| Service", "| ---"))]
check(len(rows) == 6, f"{len(rows)} impact rows, not one per service and alert name")
print(f"{path}: {size} bytes, {len(bullets)} timeline lines, {len(rows)} impact rows")
PY
done
python3 "$project/tests/report/commonmark.py" "$work/md"
echo "large drafts: ok"
