#!/usr/bin/env bash
# The hostile-record corpus (tests/lib/hostile.py: invalid JSON, wrong
# types, Feb 30, a lone surrogate, invalid UTF-8, a 4 MiB string,
# 100,000-deep nesting, a null payload, JSON of no known format, and one
# record over each input limit) through `aftermath replay`: each is
# rejected with its reason, the good records between them are all stored,
# and replay exits 0.
# Usage: hostile_replay.sh AFTERMATH PROJECT_DIR WORK
set -euo pipefail
am=$1 project=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
. "$project/tests/lib/hostile_check.sh"
ngood=$(python3 "$project/tests/lib/hostile.py" "$work/hostile.ndjson" "$work/expect.txt")
"$am" replay --db "$work/h.db" "$work/hostile.ndjson" >"$work/out" 2>"$work/err" ||
  { tail "$work/err"; echo "FAIL: replay exited $?" >&2; exit 1; }
check_hostile "$work/h.db" "$work/expect.txt" "$ngood"
echo "hostile replay: ok"
