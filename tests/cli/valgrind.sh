#!/usr/bin/env bash
# Memory check: `aftermath replay` (with drafts) and `aftermath report` in
# every format, `incidents` and `metrics` on the bundled example, each
# under valgrind --leak-check=full: any invalid access, use of
# uninitialised memory or leak (definite, indirect or possible) fails.
# Usage: valgrind.sh AFTERMATH EXAMPLES_DIR WORK
set -euo pipefail
am=$1 examples=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
n=0
vg() { # vg NAME ARGS...: runs aftermath ARGS under valgrind
  local name=$1
  shift
  n=$((n + 1))
  valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
    --log-file="$work/$name.vg" "$am" "$@" >"$work/$name.out" 2>"$work/$name.err" || {
    local rc=$?
    cat "$work/$name.vg" >&2
    tail -3 "$work/$name.err" >&2
    fail "$name: exit $rc under valgrind"
  }
  [ ! -s "$work/$name.vg" ] || { cat "$work/$name.vg" >&2; fail "$name: valgrind reported errors"; }
}
db=$work/example.db
vg replay replay --db "$db" --drafts "$work/drafts" "$examples/payments-latency.ndjson"
id=$(sqlite3 "$db" 'SELECT id FROM incidents ORDER BY num LIMIT 1')
[ -n "$id" ] || fail "no incident"
for f in md html json; do
  vg "report-$f" report "$id" --db "$db" --format "$f"
done
vg incidents incidents --db "$db"
vg metrics metrics --db "$db"
echo "valgrind: $n runs, no errors, no leaks"
