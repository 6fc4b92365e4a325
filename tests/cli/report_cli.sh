#!/usr/bin/env bash
# aftermath report and show on the bundled example: formats, --out (never
# through a link), --no-names, the terminal timeline, --help, and the exit
# codes (0 ok, 1 unknown incident, 2 usage).
# Usage: report_cli.sh AFTERMATH EXAMPLES_DIR WORK_DIR
set -euo pipefail
am=$1 examples=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
db=$work/example.db
id=INC-20250311-w8rchz3re8
fail() { echo "FAIL: $*" >&2; exit 1; }
"$am" replay --db "$db" "$examples/payments-latency.ndjson" >/dev/null 2>&1 || fail "replay"

"$am" report "$id" --db "$db" >"$work/d.md" || fail "report md exited $?"
grep -q '^## Timeline (UTC)$' "$work/d.md" || fail "md timeline"
grep -q '^```mermaid$' "$work/d.md" || fail "md gantt"
"$am" report --db "$db" --format html --out "$work/d.html" "$id" || fail "report html"
grep -q '<svg' "$work/d.html" || fail "html svg"
grep -qi 'http-equiv="Content-Security-Policy"' "$work/d.html" || fail "html CSP"
! grep -q '<script\|<link\|src=' "$work/d.html" || fail "html is not self-contained"
"$am" report "$id" --db "$db" --format json >"$work/d.json" || fail "report json"
grep -q '"timeline"' "$work/d.json" || fail "json"
"$am" report "$id" --db "$db" --no-names >"$work/n.md" || fail "--no-names"
! grep -q 'Sam Lee\|ci-bot' "$work/n.md" || fail "--no-names left a name"
grep -q 'Sam Lee' "$work/d.md" || fail "names by default"
grep -q '(\[run\](https://ci.example/payments-api/pipelines/8812))' "$work/d.md" || fail "deploy link"
grep -q '^## Links$' "$work/d.md" || fail "Links section"
"$am" report "$id" --db "$db" --format summary >"$work/s.txt" || fail "report summary"
grep -q '^\*When:\* 2025-03-11 10:02:00 UTC to 10:26:00 UTC (mitigated), \*24m\*' "$work/s.txt" ||
  { cat "$work/s.txt"; fail "summary: when"; }
grep -q '^\*Hypothesis to confirm:\* the deploy of payments-api 3.14.0' "$work/s.txt" || fail "summary: suspect"
[ "$(wc -l <"$work/s.txt")" -le 8 ] || fail "summary: more than 8 lines"
"$am" report "$id" --db "$db" --no-links >"$work/l.md" || fail "--no-links"
! grep -q '://' "$work/l.md" || fail "--no-links left a URL"
"$am" report "$id" --db "$db" --format json --no-links >"$work/l.json" || fail "--no-links json"
! grep -q '://' "$work/l.json" || fail "--no-links left a URL in JSON"
"$am" show "$id" --db "$db" >"$work/show" || fail "show exited $?"
grep -q 'Acknowledged, by Sam Lee' "$work/show" || { cat "$work/show"; fail "show ack"; }
grep -q 'Rollback of payments-api to 3.13.2' "$work/show" || fail "show rollback"
grep -q '^  deploy payments-api 3.14.0, run: https://ci.example/payments-api/pipelines/8812$' "$work/show" ||
  fail "show links"
"$am" show "$id" --db "$db" --no-links | grep -q '://' && fail "show --no-links left a URL"

rc_of() { set +e; "$@" >/dev/null 2>"$work/err"; echo $?; set -e; }
[ "$(rc_of "$am" report INC-19990101-9 --db "$db")" = 1 ] || fail "unknown id: want exit 1"
grep -q "no incident 'INC-19990101-9'" "$work/err" || fail "unknown id message"
[ "$(rc_of "$am" show INC-19990101-9 --db "$db")" = 1 ] || fail "show unknown id: want exit 1"
[ "$(rc_of "$am" report --db "$db")" = 2 ] || fail "missing id: want exit 2"
grep -q -- '--help' "$work/err" || fail "usage hint"
[ "$(rc_of "$am" report "$id" --db "$db" --format pdf)" = 2 ] || fail "bad format: want 2"
[ "$(rc_of "$am" report "$id" x --db "$db")" = 2 ] || fail "two ids: want 2"
[ "$(rc_of "$am" report "$id" --db "$db" --out /nonexistent/dir/x.md)" = 1 ] || fail "bad --out: want 1"
# --out never writes through a link: a symbolic link (here to a stand-in
# for the database) or a FIFO at FILE is refused, exit 1, target untouched;
# an existing regular FILE is replaced whole, with no temporary file left.
printf 'precious\n' >"$work/victim.db"
ln -s "$work/victim.db" "$work/link.md"
[ "$(rc_of "$am" report "$id" --db "$db" --out "$work/link.md")" = 1 ] || fail "--out to a link: want 1"
grep -q 'a symbolic link' "$work/err" || fail "--out link: message"
[ "$(cat "$work/victim.db")" = precious ] || fail "--out wrote through a link"
[ -L "$work/link.md" ] || fail "--out replaced the link"
mkfifo "$work/fifo.md"
[ "$(rc_of "$am" report "$id" --db "$db" --out "$work/fifo.md")" = 1 ] || fail "--out to a FIFO: want 1"
printf 'old\n' >"$work/again.md"
"$am" report "$id" --db "$db" --out "$work/again.md" || fail "--out over a file"
cmp -s "$work/again.md" "$work/d.md" || fail "--out over a file: not the draft"
! ls -A "$work" | grep -q '\.tmp\.' || fail "a temporary file was left: $(ls -A "$work")"
[ "$(rc_of "$am" show --db "$db")" = 2 ] || fail "show without id: want 2"
"$am" report --help >"$work/h1" && grep -q -- '--no-names' "$work/h1" || fail "report --help"
"$am" show --help >"$work/h2" && grep -q 'timeline' "$work/h2" || fail "show --help"
"$am" --help >"$work/h3" && grep -q 'report' "$work/h3" || fail "--help lists report"
echo "cli report: ok"
