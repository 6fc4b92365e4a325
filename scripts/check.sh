#!/usr/bin/env bash
# The README's test command: installs what is missing, then builds and runs
# every test twice, in a Release build (the build type the package, the
# image and deploy/README build, so the integration tests run on what users
# get; timing-dependent tests meet its speed) and in a Debug ASan+UBSan
# build, with warnings as errors, and checks the formatting. The integration tests run
# against a real Apache Kafka broker (tests/kafka/broker.sh), whose jars are
# fetched from Maven Central on first use (~/.cache/aftermath-kafka), and
# one against the real Prometheus Alertmanager, built with Go from the Go
# module proxy on first use (~/.cache/aftermath-alertmanager).
#
# Environment:
#   AFTERMATH_SHARED=DIR   also run the conformance tests on DIR (a copy of
#                          the shared fixtures/ and scenarios/); .ci/run sets it
#   AFTERMATH_SKIP_ASAN=1  skip the sanitizer build (for a quick local run)
#   AFTERMATH_SKIP_KAFKA=1 do not register the integration tests (no Java,
#                          no broker); they are part of the check otherwise
#   AFTERMATH_SKIP_ALERTMANAGER=1  do not register kafka_alertmanager (no Go);
#                          otherwise tests/alertmanager/build.sh builds the real
#                          Alertmanager it runs, once (~/.cache/aftermath-alertmanager),
#                          and it runs in one build: the sanitizer one unless skipped
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh
# The browser tests' Selenium client (PyPI), once.
tests/browser/setup.sh

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
# kafka_alertmanager (~1.5 min) runs once: in the sanitizer build when
# there is one (aftermath on the real feeds under ASan+UBSan), else in the
# normal build.
am_normal=(-DAFTERMATH_ALERTMANAGER_TESTS=OFF) am_asan=(-DAFTERMATH_ALERTMANAGER_TESTS=OFF)
if [ "${AFTERMATH_SKIP_KAFKA:-0}" != 1 ] && [ "${AFTERMATH_SKIP_ALERTMANAGER:-0}" != 1 ]; then
  echo "== Alertmanager for the integration tests"
  # Built once with Go from the Go module proxy (~2-4 min), then cached.
  tests/alertmanager/build.sh >/dev/null
  if [ "${AFTERMATH_SKIP_ASAN:-0}" != 1 ]; then
    am_asan=(-DAFTERMATH_ALERTMANAGER_TESTS=ON)
  else
    am_normal=(-DAFTERMATH_ALERTMANAGER_TESTS=ON)
  fi
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
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DAFTERMATH_TESTS=ON -DAFTERMATH_WERROR=ON "${shared[@]}" \
  "${kafka[@]}" "${am_normal[@]}" >/dev/null
cmake --build build
echo "== test"
ctest --test-dir build --output-on-failure -j2

if [ "${AFTERMATH_SKIP_ASAN:-0}" != 1 ]; then
  echo "== build (ASan+UBSan)"
  # The 20,000-alert storm (kafka_scaleout_large) runs in the Release build
  # only: under the sanitizers it would take most of the check's time.
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DAFTERMATH_SANITIZE=ON \
    -DAFTERMATH_TESTS=ON -DAFTERMATH_WERROR=ON -DAFTERMATH_SCALEOUT_LARGE_TESTS=OFF \
    "${shared[@]}" "${kafka[@]}" "${am_asan[@]}" >/dev/null
  cmake --build build-asan
  echo "== test (ASan+UBSan)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j2
fi
