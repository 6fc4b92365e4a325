#!/usr/bin/env bash
# Golden test of the postmortem drafts: replays EVENTS (with RULES, or the
# default rules when RULES is '-') into a fresh database and compares the
# Markdown, HTML and JSON draft of every incident to GOLDEN_DIR/ID.{md,html,json}.
# With --update, writes the drafts there instead (scripts/update-golden.sh).
# Usage: golden.sh AFTERMATH EVENTS RULES GOLDEN_DIR WORK_DIR [--update]
set -euo pipefail
am=$1 events=$2 rules=$3 golden=$4 work=$5 update=${6:-}
rm -rf "$work" && mkdir -p "$work"
db=$work/golden.db
fail() { echo "FAIL: $*" >&2; exit 1; }

ruleopt=()
[ "$rules" = - ] || ruleopt=(--rules "$rules")
"$am" replay --db "$db" "${ruleopt[@]}" "$events" >/dev/null 2>"$work/replay.err" ||
  { cat "$work/replay.err"; fail "replay exited $?"; }
ids=$("$am" incidents --db "$db" --format json | sed -n 's/^    "id": "\(INC-[^"]*\)",$/\1/p')
[ -n "$ids" ] || fail "no incident in $events"
[ "$update" = --update ] && mkdir -p "$golden"
for id in $ids; do
  for fmt in md html json; do
    out=$work/$id.$fmt
    "$am" report "$id" --db "$db" --format "$fmt" --out "$out" || fail "report $id --format $fmt"
    if [ "$update" = --update ]; then
      cp "$out" "$golden/$id.$fmt"
    else
      diff -u "$golden/$id.$fmt" "$out" ||
        fail "$id.$fmt differs from $golden (review, then scripts/update-golden.sh)"
    fi
  done
done
if [ "$update" != --update ]; then
  # Every committed golden file still has an incident.
  for f in "$golden"/*; do
    [ -e "$work/$(basename "$f")" ] || fail "$f: no such incident any more"
  done
fi
echo "golden drafts of $(basename "$events"): ok"
