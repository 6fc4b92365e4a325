#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs
# `aftermath demo`: librdkafka's in-process mock Kafka cluster is started,
# the bundled story (examples/payments-latency.ndjson) is produced into it
# and consumed by the same consumer as `aftermath run`, into demo.db.
# No broker, no Java needed.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh --build-only
cmake -S . -B build -G Ninja -DAFTERMATH_TESTS=OFF >/dev/null
cmake --build build >/dev/null
exec build/cli/aftermath demo --db demo.db --force
