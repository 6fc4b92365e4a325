#!/usr/bin/env bash
# The exposition of `aftermath run` (a registry with every kind of series:
# records per topic, refusals per reason, lag, the commit latency and
# incident histograms with escaped label values) passes
# `promtool check metrics`, Prometheus' own parser and linter. promtool is
# required, not optional: deploy/install-deps.sh installs it (Debian
# package prometheus), so its absence is a failure, not a skip.
# Usage: promtool_check.sh TEST_RUN_METRICS WORK_DIR
set -euo pipefail
bin=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
command -v promtool >/dev/null || {
  echo "FAIL: promtool not found: install the Debian package 'prometheus' (deploy/install-deps.sh does)" >&2
  exit 1
}
"$bin" --print-sample >"$work/sample.prom"
grep -q '^aftermath_incident_time_to_detect_seconds_bucket{service="a\\"b\\\\c"' "$work/sample.prom" ||
  { echo "FAIL: the sample lacks the escaped service" >&2; exit 1; }
if ! promtool check metrics <"$work/sample.prom" >"$work/promtool.out" 2>&1; then
  cat "$work/promtool.out" >&2
  echo "FAIL: promtool check metrics" >&2
  exit 1
fi
echo "promtool check metrics: ok ($(grep -vc '^#' "$work/sample.prom") samples)"
