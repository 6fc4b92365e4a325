#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz for SECONDS each (default 10)
# in a clang build with ASan+UBSan (build-fuzz/), starting from the seed
# corpus in tests/fuzz/corpus/<target>/. New inputs go to
# build-fuzz/fuzz-work/<target>/ (the seeds are never touched); a crash,
# leak or timeout leaves its input in build-fuzz/fuzz-artifacts/ and makes
# the script exit 1 after all targets ran. To keep a finding as a
# regression test, copy that input into tests/fuzz/corpus/<target>/.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
# Environment: AFTERMATH_FUZZ_BUILD=DIR (default build-fuzz), CC (default clang)
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-10}
[ $# -gt 0 ] && shift
[[ $secs =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2; }
build=${AFTERMATH_FUZZ_BUILD:-build-fuzz}
cc=${CC:-clang}

cmake -S . -B "$build" -G Ninja -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DAFTERMATH_FUZZ=ON >/dev/null
cmake --build "$build" --target fuzz_all >/dev/null

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cd tests/fuzz/corpus && ls)
fi

mkdir -p "$build/fuzz-artifacts"
failed=()
printf '%-20s %12s %10s  %s\n' target executions exec/s result
for t in "${targets[@]}"; do
  bin=$build/tests/fuzz/$t
  [ -x "$bin" ] || { echo "fuzz: no target $t" >&2; exit 2; }
  work=$build/fuzz-work/$t
  mkdir -p "$work"
  dict=()
  case $t in fuzz_time | fuzz_duration | fuzz_replay) ;; *) dict=(-dict=tests/fuzz/json.dict) ;; esac
  log=$build/fuzz-work/$t.log
  set +e
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$t-" "${dict[@]}" \
    "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [ $rc -eq 0 ]; then
    result=ok
  else
    result="FAILED (exit $rc, log $log)"
    failed+=("$t")
  fi
  printf '%-20s %12s %10s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$result"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) found a problem: ${failed[*]}" >&2
  for t in "${failed[@]}"; do
    echo "---- $t" >&2
    grep -E 'ERROR|SUMMARY|invariant|Test unit written' "$build/fuzz-work/$t.log" | head -20 >&2 || true
  done
  exit 1
fi
