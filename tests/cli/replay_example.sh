#!/usr/bin/env bash
# The CLI end to end on the bundled example: replay stores every good event
# once (also when the file is given twice, and when replayed again), names
# the poison record's place, and keeps it in the rejected table. Values
# from events reach the terminal (incidents, show, rules test) without
# C0/C1 controls, bidi controls or line separators.
# Usage: replay_example.sh AFTERMATH EXAMPLES_DIR WORK_DIR
set -euo pipefail
am=$1 examples=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
db=$work/example.db
ex=$examples/payments-latency.ndjson
fail() { echo "FAIL: $*" >&2; exit 1; }

"$am" replay --db "$db" "$ex" "$ex" >"$work/out1" 2>"$work/err1" || fail "replay exited $?"
grep -q 'stored      15 (alert 10, deploy 3, ack 1, note 1)' "$work/out1" || { cat "$work/out1"; fail "stored count"; }
grep -q 'rejected    2' "$work/out1" || { cat "$work/out1"; fail "the poison record, once per copy"; }
grep -q 'payments-latency.ndjson:6 (alerts/0/3)' "$work/err1" || { cat "$work/err1"; fail "place of the refusal"; }
grep -q 'invalid JSON' "$work/err1" || fail "reason of the refusal"

"$am" replay --db "$db" "$ex" >"$work/out2" 2>/dev/null || fail "second replay exited $?"
grep -q 'stored      0 ' "$work/out2" || { cat "$work/out2"; fail "second replay stored something"; }

[ "$(sqlite3 "$db" 'SELECT count(*) FROM events')" = 15 ] || fail "events table"
[ "$(sqlite3 "$db" 'SELECT count(*) FROM rejected')" = 1 ] || fail "rejected table keeps one row per place"
[ "$(sqlite3 "$db" "SELECT place FROM rejected")" = "$ex:6 (alerts/0/3)" ] || fail "rejected place"
[ "$(sqlite3 "$db" 'PRAGMA journal_mode')" = wal ] || fail "WAL mode"

# stdin works too, and usage errors exit 2 with a hint.
"$am" replay --db "$work/stdin.db" - <"$ex" >"$work/out3" 2>/dev/null || fail "stdin replay"
grep -q 'stored      15 ' "$work/out3" || fail "stdin stored count"
set +e
"$am" replay --db "$db" >/dev/null 2>"$work/err4"; rc=$?
set -e
[ $rc = 2 ] || fail "no FILE: exit $rc, want 2"
grep -q -- "--help" "$work/err4" || fail "usage hint"
set +e
"$am" replay --db "$db" /nonexistent.ndjson >/dev/null 2>"$work/err5"; rc=$?
set -e
[ $rc = 1 ] || fail "missing file: exit $rc, want 1"
grep -q '/nonexistent.ndjson' "$work/err5" || fail "missing file named"
"$am" --help | grep replay >/dev/null || fail "--help lists replay"
"$am" replay --help | grep 'kcat' >/dev/null || fail "replay --help"
"$am" --version | grep -q '^aftermath ' || fail "--version"
# Values from events cannot drive the terminal or forge a table row.
printf '{"kind":"alert","name":"X","severity":"page","environment":"prod","service":"we\\u001b[31mb\\nINC-FAKE","starts_at":"2024-01-01T00:00:00Z","labels":{"cluster":"c\\u001b]0;x"}}\n' >"$work/evil.ndjson"
"$am" replay -q --db "$work/evil.db" "$work/evil.ndjson" 2>/dev/null || fail "replay evil"
"$am" incidents --db "$work/evil.db" >"$work/evil.out" || fail "incidents evil"
! grep -q $'\x1b' "$work/evil.out" || fail "an escape sequence reached the terminal"
[ "$(grep -c '^INC-' "$work/evil.out")" = 1 ] || fail "a forged row"
# ... nor through C1 controls (U+009B is CSI), bidi overrides and isolates,
# or line separators, in incidents, show and rules test (which prints the
# names of alerts no rule matched).
term_check() { python3 "$(dirname "$0")/../lib/term_check.py" "$@" || fail "terminal controls in $*"; }
cat >"$work/evil2.ndjson" <<'EOF'
{"kind":"alert","name":"Disk\u009b2J\u202efull","severity":"page","environment":"prod","service":"db\u009b31m\u2066x\u2069","starts_at":"2024-02-01T00:00:00Z","labels":{"cluster":"k\u2028INC-FAKE\u2029\u200f\u061c"},"annotations":{"summary":"sum\u009d0;t\u009c\u202d\u200e"}}
{"kind":"ack","at":"2024-02-01T00:05:00Z","actor":"eve\u009b1;31m\u202e","service":"db\u009b31m\u2066x\u2069","labels":{"cluster":"k\u2028INC-FAKE\u2029\u200f\u061c"}}
EOF
"$am" replay -q --db "$work/evil2.db" "$work/evil2.ndjson" 2>/dev/null || fail "replay evil2"
"$am" incidents --db "$work/evil2.db" >"$work/evil2.out" || fail "incidents evil2"
term_check "$work/evil2.out"
[ "$(grep -c '^INC-' "$work/evil2.out")" = 1 ] || fail "a forged row"
grep -qF 'db?31m?x?' "$work/evil2.out" || { cat "$work/evil2.out"; fail "C1 and isolates replaced"; }
id2=$(grep -o '^INC-[^ ]*' "$work/evil2.out")
"$am" show "$id2" --db "$work/evil2.db" >"$work/evil2.show" || fail "show evil2"
term_check "$work/evil2.show"
grep -qF 'Disk?2J?full' "$work/evil2.show" || { cat "$work/evil2.show"; fail "show: alert name"; }
printf 'version: 1\nrules:\n  - name: none\n    match: [%s]\n' "'severity=\"none\"'" >"$work/none.yaml"
"$am" rules test --rules "$work/none.yaml" "$work/evil2.ndjson" >"$work/evil2.rules" 2>/dev/null ||
  fail "rules test evil2"
term_check "$work/evil2.rules"
grep -qF 'matched no rule): Disk?2J?full' "$work/evil2.rules" || { cat "$work/evil2.rules"; fail "rules test: name"; }
# Reading commands refuse a database that is not there (no empty file left).
set +e
"$am" incidents --db "$work/missing.db" >/dev/null 2>"$work/err6"; rc=$?
set -e
[ $rc = 1 ] || fail "incidents on a missing database: exit $rc, want 1"
grep -q 'no such database' "$work/err6" || fail "missing database named"
[ ! -e "$work/missing.db" ] || fail "an empty database was created"
# Files aftermath creates are private: 0600, directories 0700, even under
# a permissive umask.
(umask 022 && "$am" replay -q --db "$work/modes.db" --drafts "$work/modes-drafts" "$ex" 2>/dev/null) ||
  fail "replay with drafts"
modes=$(cd "$work" && stat -c '%n %a' modes.db modes.db-* modes-drafts modes-drafts/* 2>/dev/null | sort || true)
grep -q '^modes-drafts/INC-20250311-w8rchz3re8.md 600$' <<<"$modes" || fail "no draft written: $modes"
bad=$(grep -vE '^(modes-drafts 700|.* 600)$' <<<"$modes" || true)
[ -z "$bad" ] || fail "files not private: $bad"
# Drafts with links, and with --no-links none: no URL in either format.
grep -q 'https://ci.example' "$work/modes-drafts/INC-20250311-w8rchz3re8.md" || fail "no link in the draft"
"$am" replay -q --no-links --db "$work/nolinks.db" --drafts "$work/nolinks" "$ex" 2>/dev/null ||
  fail "replay --no-links"
! grep -l 'https\?://' "$work"/nolinks/*.md && ! grep -l 'href=' "$work"/nolinks/*.html || fail "a URL in a --no-links draft"
echo "cli replay example: ok"
