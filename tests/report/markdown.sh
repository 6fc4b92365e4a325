#!/usr/bin/env bash
# The Markdown drafts as CommonMark/GitHub render them (commonmark.py with
# cmark-gfm): the golden drafts, and the draft of a hostile incident whose
# names, summaries and URLs try to open tags, links and table cells.
# Usage: markdown.sh AFTERMATH PROJECT_DIR WORK_DIR
set -euo pipefail
am=$1 project=$2 work=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v cmark-gfm >/dev/null || fail "cmark-gfm is not installed (deploy/install-deps.sh installs it)"
rm -rf "$work" && mkdir -p "$work/drafts"
python3 "$project/tests/report/commonmark.py" "$project/tests/golden/payments-latency" \
  "$project/tests/golden/seed-db-misconfig"

cat >"$work/rules.yaml" <<'YAML'
version: 1
rules:
  - name: r
    match: ['severity="page"']
    group_by: [cluster]
    deploys:
      match: ['env="prod"']
      same: [cluster]
      before: 1h
YAML
cat >"$work/hostile.ndjson" <<'NDJSON'
{"kind":"deploy","name":"api<script>alert(1)</script>","version":"1.0](javascript:x)","at":"2024-01-01T09:50:00Z","environment":"prod","labels":{"cluster":"c1","service":"web|x"},"url":"javascript:alert(1)","summary":"<img src=x onerror=alert(1)> `code` | cell"}
{"kind":"alert","name":"A|B<i>","starts_at":"2024-01-01T10:00:00Z","ends_at":"2024-01-01T10:20:00Z","labels":{"severity":"page","cluster":"c1","service":"web|x"},"annotations":{"summary":"[x](javascript:alert(1)) <b>bold</b> # not a heading","runbook_url":"https://rb.example/a)b|c<d>","dashboard":"data:text/html,<script>"}}
NDJSON
"$am" replay -q --db "$work/h.db" --rules "$work/rules.yaml" --drafts "$work/drafts" \
  "$work/hostile.ndjson" 2>"$work/err" || { cat "$work/err"; fail "replay"; }
python3 "$project/tests/report/commonmark.py" "$work/drafts"
md=$(ls "$work"/drafts/*.md)
cmark-gfm --unsafe -e table "$md" >"$work/draft.html"
# The one link from the alert's annotations, encoded; nothing else linked.
grep -q 'href="https://rb.example/a%29b%7Cc%3Cd%3E"' "$work/draft.html" || fail "runbook link"
! grep -q 'href="javascript\|href="data' "$work/draft.html" || fail "a javascript: or data: link"
echo "markdown: golden and hostile drafts render as intended"
