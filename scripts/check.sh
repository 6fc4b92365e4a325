#!/usr/bin/env bash
# The README's test command: installs what is missing, then builds and runs
# every test twice, in a Release build (the build type the package, the
# image and deploy/README build, so the integration tests run on what users
# get; timing-dependent tests meet its speed) and in a Debug ASan+UBSan
# build, with warnings as errors, and checks the formatting. The integration tests run
# against a real Apache Kafka broker (tests/kafka/broker.sh), whose jars are
# fetched from Maven Central on first use (~/.cache/aftermath-kafka).
#
# Environment:
#   AFTERMATH_SHARED=DIR   also run the conformance tests on DIR (a copy of
#                          the shared fixtures/ and scenarios/); .ci/run sets it
#   AFTERMATH_SKIP_ASAN=1  skip the sanitizer build (for a quick local run)
#   AFTERMATH_SKIP_KAFKA=1 do not register the integration tests (no Java,
#                          no broker); they are part of the check otherwise
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh

kafka=(-DAFTERMATH_KAFKA_TESTS=ON)
if [ "${AFTERMATH_SKIP_KAFKA:-0}" = 1 ]; then
  kafka=(-DAFTERMATH_KAFKA_TESTS=OFF)
else
  echo "== Kafka broker for the integration tests"
  # Java 17+, kcat and Maven, with a clear message naming what to install;
  # then the jars, once.
  tests/kafka/broker.sh check
  tests/kafka/broker.sh fetch
fi

shared=()
if [ -n "${AFTERMATH_SHARED:-}" ]; then
  [ -d "$AFTERMATH_SHARED" ] || { echo "check: AFTERMATH_SHARED=$AFTERMATH_SHARED is not a directory" >&2; exit 1; }
  shared=(-DAFTERMATH_SHARED="$(cd "$AFTERMATH_SHARED" && pwd)")
fi

echo "== format"
mapfile -t sources < <(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
clang-format --dry-run -Werror "${sources[@]}"

echo "== build (Release)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DAFTERMATH_TESTS=ON -DAFTERMATH_WERROR=ON "${shared[@]}" "${kafka[@]}" >/dev/null
cmake --build build
echo "== test"
ctest --test-dir build --output-on-failure -j2

if [ "${AFTERMATH_SKIP_ASAN:-0}" != 1 ]; then
  echo "== build (ASan+UBSan)"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DAFTERMATH_SANITIZE=ON \
    -DAFTERMATH_TESTS=ON -DAFTERMATH_WERROR=ON "${shared[@]}" "${kafka[@]}" >/dev/null
  cmake --build build-asan
  echo "== test (ASan+UBSan)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j2
fi
