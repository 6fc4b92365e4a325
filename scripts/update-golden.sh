#!/usr/bin/env bash
# Regenerates the golden postmortem drafts under tests/golden/ from the
# project's example and the shared seed scenario, with the aftermath of
# BUILD_DIR (default build). Review the diff (git diff tests/golden) by eye
# before committing: every fact must match the events.
# Usage: scripts/update-golden.sh [BUILD_DIR] [SHARED_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shared=${2:-$root/../shared}
am=$build/cli/aftermath
[ -x "$am" ] || { echo "no $am: build first" >&2; exit 1; }
g=$root/tests/report/golden.sh
"$g" "$am" "$root/examples/payments-latency.ndjson" - "$root/tests/golden/payments-latency" \
  "$build/golden-update/example" --update
"$root/tests/report/large.sh" "$am" "$root" "$build/golden-update/large" --update
seed=$shared/scenarios/seed-db-misconfig
if [ -d "$seed" ]; then
  "$g" "$am" "$seed/events.ndjson" "$seed/rules.yaml" "$root/tests/golden/seed-db-misconfig" \
    "$build/golden-update/seed" --update
else
  echo "no $seed: seed drafts not regenerated" >&2
fi
