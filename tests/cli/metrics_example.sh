#!/usr/bin/env bash
# `aftermath metrics` on the bundled example (one incident: payments and
# checkout, detected in 70 s, acknowledged 200 s later; three deploys, the
# payments one a suspect) in every format, and its usage errors (exit 2 with a hint).
# Then hostile label values and a hostile --by: the table writes no terminal
# control (C0, C1, invalid UTF-8, bidi), the CSV neutralises formula cells,
# the HTML page escapes its SVG titles and carries a CSP.
# Usage: metrics_example.sh AFTERMATH EXAMPLES_DIR WORK_DIR
set -euo pipefail
am=$1 examples=$2 work=$3
lib=$(cd "$(dirname "$0")/../lib" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work"
db=$work/example.db
"$am" replay --db "$db" "$examples/payments-latency.ndjson" >/dev/null 2>&1 ||
    fail "replay exited $?"

"$am" metrics --db "$db" --format csv >"$work/m.csv" || fail "metrics exited $?"
cat "$work/m.csv"
has() { grep -qxF "$1"$'\r' "$2" || fail "$2 lacks: $1"; }
has 'service,payments,1,detect,1,0,0,70,70,70' "$work/m.csv"
has 'service,checkout,1,acknowledge,1,0,0,200,200,200' "$work/m.csv"
has 'service,*,1,mitigate,1,0,0,1440,1440,1440' "$work/m.csv"
has 'payments,2,1,0.5000,1,2040' "$work/m.csv"
has 'search,1,0,0.0000,0,' "$work/m.csv"
has '*,3,1,0.3333,1,2040' "$work/m.csv"
"$am" metrics --db "$db" --by rule >"$work/table" || fail "table exited $?"
grep -q 'paging-outage' "$work/table" || fail "by rule"
"$am" metrics --db "$db" --format html >"$work/m.html" || fail "html exited $?"
grep -q '<svg' "$work/m.html" || fail "html chart"
! grep -qiE 'https?:|src=|<script|<link' "$work/m.html" || fail "html refers to the network"
grep -qF 'http-equiv="Content-Security-Policy" content="default-src '"'none'"'; style-src '"'unsafe-inline'"'"' \
    "$work/m.html" || fail "html CSP"
"$am" metrics --help | grep 'ceil(q\*N/100)' >/dev/null || fail "--help documents the method"

usage() {
    set +e
    "$am" metrics --db "$db" "$@" >/dev/null 2>"$work/err"
    rc=$?
    set -e
    [ $rc = 2 ] || fail "metrics $* exited $rc, not 2"
    grep -q "Try 'aftermath metrics --help'" "$work/err" || fail "metrics $*: no hint"
}
usage --format xml
usage --since yesterday
usage --until 2024-13-01T00:00:00Z
usage --since 2024-06-02T00:00:00Z --until 2024-06-01T00:00:00Z
usage --by ''
usage --bogus
usage extra

# Hostile label values (generic events): ESC/OSC/BEL, C1 CSI (U+009B), a
# bidi override and isolates, a line separator, CR; services and labels
# that a spreadsheet reads as formulas.
term_check() { python3 "$lib/term_check.py" "$@" || fail "terminal controls in $*"; }
cat >"$work/hostile.ndjson" <<'EOF'
{"kind":"alert","name":"X","severity":"page","environment":"prod","service":"=HYPERLINK(\"http://e.test\",\"x\")","starts_at":"2024-01-01T00:00:00Z","labels":{"cluster":"c\u001b]0;pwn\u0007\u009b31m\u202ex\u2028y\r"}}
{"kind":"alert","name":"Y","severity":"page","environment":"prod","service":"@SUM(A1)","starts_at":"2024-01-02T00:00:00Z","labels":{"cluster":"-1+2"}}
{"kind":"alert","name":"Z","severity":"page","environment":"prod","service":"\tx","starts_at":"2024-01-03T00:00:00Z","labels":{"cluster":"\u2066rtl\u2069"}}
{"kind":"deploy","status":"succeeded","name":"z","version":"1","service":"+cmd","environment":"prod","at":"2024-01-01T00:00:00Z"}
EOF
hdb=$work/hostile.db
"$am" replay -q --db "$hdb" "$work/hostile.ndjson" 2>/dev/null || fail "replay hostile"
for by in cluster service; do
    "$am" metrics --db "$hdb" --by $by >"$work/h-$by.table" || fail "hostile table by $by"
    term_check "$work/h-$by.table"
done
grep -qF 'c?]0;pwn??31m?x?y?  1 ' "$work/h-cluster.table" || fail "hostile cluster row"
grep -qF '?rtl?  ' "$work/h-cluster.table" || fail "bidi isolates replaced"
# a raw C1 byte (CSI to an 8-bit terminal) and an OSC in --by itself
"$am" metrics --db "$hdb" --by $'cluster\x9b2J\x1b]0;t\x07' >"$work/h-by.table" || fail "hostile --by"
term_check "$work/h-by.table"
grep -qF 'All incidents, by cluster?2J?]0;t?.' "$work/h-by.table" || fail "hostile --by heading"
"$am" metrics --db "$hdb" --by cluster --format csv >"$work/h.csv" || fail "hostile csv"
q="'"
has "cluster,\"${q}-1+2\",1,detect,0,1,0,,," "$work/h.csv"
has "\"${q}=HYPERLINK(\"\"http://e.test\"\",\"\"x\"\")\",0,0,,1," "$work/h.csv"
has "\"${q}@SUM(A1)\",0,0,,1," "$work/h.csv"
has "\"${q}+cmd\",1,0,0.0000,0," "$work/h.csv"
has "\"${q}"$'\t'"x\",0,0,,1," "$work/h.csv"
# no cell starts with = + - @ TAB or CR (in quotes: right after the quote;
# the CR of each CRLF line end is dropped first)
formula=$(sed 's/\r$//' "$work/h.csv" | grep -nE $'(^|,)"?[-=+@\t\r]' || true)
[ -z "$formula" ] || fail "a formula cell: $formula"
python3 - "$work/h.csv" <<'PY' || fail "the csv does not parse back"
import csv, sys
cells = [c for r in csv.reader(open(sys.argv[1], newline="")) for c in r]
for want in ["'=HYPERLINK(\"http://e.test\",\"x\")", "'@SUM(A1)", "'-1+2", "'+cmd", "'\tx"]:
    assert want in cells, (want, cells)
PY
"$am" metrics --db "$hdb" --by 'x</title><script>alert(1)</script>' --format html >"$work/h.html" ||
    fail "hostile html"
! grep -q '<script' "$work/h.html" || fail "--by reached the html unescaped"
grep -qF '<title>time to detect per x&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>' \
    "$work/h.html" || fail "svg title not escaped"
grep -qF 'Content-Security-Policy' "$work/h.html" || fail "hostile html CSP"
echo ok
