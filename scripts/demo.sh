#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs
# aftermath on its bundled example (examples/payments-latency.ndjson) into
# demo.db, printing what it found.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
cmake -S . -B build -G Ninja >/dev/null
cmake --build build >/dev/null
rm -f demo.db demo.db-wal demo.db-shm
exec build/cli/aftermath replay --db demo.db examples/payments-latency.ndjson
