#!/usr/bin/env bash
# aftermath run and status without a broker: configuration from the file,
# the environment and flags (in that order), secrets masked in
# --print-config, configuration errors named by file:line and exit 2.
# Usage: run_config.sh AFTERMATH PROJECT_DIR WORK_DIR
set -euo pipefail
am=$1 project=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() { # expect_rc RC CMD...
  local want=$1 rc=0
  shift
  "$@" >"$work/out" 2>"$work/err" || rc=$?
  [ "$rc" = "$want" ] || { cat "$work/out" "$work/err"; fail "$* exited $rc, want $want"; }
}

cat >"$work/a.yaml" <<'YAML'
kafka:
  bootstrap.servers: file:9092
  sasl.password: from-the-file
topics: [alerts]
group: file-group
store: file.db
YAML
AFTERMATH_KAFKA__SASL_PASSWORD=from-env AFTERMATH_GROUP=env-group AFTERMATH_BATCH_TIMEOUT=250ms \
  expect_rc 0 "$am" run --config "$work/a.yaml" --group flag-group --topic deploys:generic \
  --print-config
grep -q 'sasl.password: "\*\*\*"' "$work/out" || fail "secret not masked"
! grep -q 'from-' "$work/out" || fail "a secret was printed"
grep -q 'group: "flag-group"' "$work/out" || fail "flag over env over file"
grep -q 'batch_timeout: 250ms' "$work/out" || fail "env over file"
grep -q 'bootstrap.servers: "file:9092"' "$work/out" || fail "file value"
grep -q 'format: generic' "$work/out" || fail "--topic NAME:FORMAT"
! grep -q '^  - name: "alerts"' "$work/out" || fail "--topic replaces the file's topics"

printf 'kafka:\n  bootstrap.servers: x:1\ntopics: [alerts]\nbatch_sise: 10\n' >"$work/bad.yaml"
expect_rc 2 "$am" run --config "$work/bad.yaml"
grep -q "bad.yaml:4:1: unknown key 'batch_sise'" "$work/err" || fail "unknown key error"
expect_rc 2 "$am" run
grep -q 'no Kafka brokers' "$work/err" || fail "missing brokers"
grep -q -- '--help' "$work/err" || fail "usage hint"
expect_rc 2 "$am" run --brokers x:1
grep -q 'no topics' "$work/err" || fail "missing topics"
expect_rc 2 "$am" run --brokers x:1 --topic 'bad topic'
expect_rc 2 "$am" run --brokers x:1 --topic a --exit-when-idle soon
expect_rc 2 "$am" run --brokers x:1 --topic a --max-records -3
AFTERMATH_BATCH_SIZE=0 expect_rc 2 "$am" run --brokers x:1 --topic a
grep -q 'AFTERMATH_BATCH_SIZE: batch_size' "$work/err" || fail "env error names the variable"
expect_rc 0 "$am" run --config "$project/aftermath.example.yaml" --print-config
grep -q '^metrics: "127.0.0.1:10791"' "$work/out" || fail "the example's metrics address"
AFTERMATH_METRICS=off expect_rc 0 "$am" run --print-config
grep -q '^metrics: "off"' "$work/out" || fail "AFTERMATH_METRICS=off"
AFTERMATH_METRICS=off expect_rc 0 "$am" run --metrics-addr '[::]:10791' --print-config
grep -q '^metrics: "\[::\]:10791"' "$work/out" || fail "--metrics-addr over the environment"
expect_rc 2 "$am" run --brokers x:1 --topic a --metrics-addr 10791
grep -q -- "--metrics-addr: metrics: '10791' is not HOST:PORT" "$work/err" || fail "bad --metrics-addr"
AFTERMATH_METRICS=:1 expect_rc 2 "$am" run --brokers x:1 --topic a
grep -q 'AFTERMATH_METRICS: metrics' "$work/err" || fail "bad AFTERMATH_METRICS"
# librdkafka refusing the properties (before any connection): an error, not a crash.
AFTERMATH_METRICS=off AFTERMATH_KAFKA__FETCH_MAX_BYTES=4096 \
  expect_rc 1 "$am" run --brokers 127.0.0.1:1 --topic a --db "$work/rdk.db"
grep -q 'cannot create the Kafka consumer: `fetch.max.bytes` must be' "$work/err" ||
  fail "librdkafka's refusal of the properties"
# The pages' edit token: only in role all, and the file must be readable.
printf 'kafka:\n  bootstrap.servers: 127.0.0.1:1\ntopics: [alerts]\nrole: view\nincidents_topic: inc\nui_edit_token_file: %s/token\n' \
  "$work" >"$work/view.yaml"
echo "0123456789abcdef-token" >"$work/token"
expect_rc 2 "$am" run --config "$work/view.yaml" --metrics-addr 127.0.0.1:0 --db "$work/view.db"
grep -q 'ui_edit_token_file: only in role all' "$work/err" || fail "edit token in role view"
printf 'kafka:\n  bootstrap.servers: 127.0.0.1:1\ntopics: [alerts]\nui_edit_token_file: %s/none\n' \
  "$work" >"$work/all.yaml"
expect_rc 2 "$am" run --config "$work/all.yaml" --metrics-addr 127.0.0.1:0 --db "$work/all.db"
grep -q 'none: cannot open the edit token file' "$work/err" || fail "missing edit token file"
expect_rc 1 "$am" status --db "$work/none.db"
grep -q 'no such database' "$work/err" || fail "status on a missing db"
"$am" --help | grep '^  run ' >/dev/null || fail "--help lists run"
"$am" --help | grep '^  demo ' >/dev/null || fail "--help lists demo"
# (into a file: grep -q on a pipe would end it early, and pipefail would see SIGPIPE)
"$am" run --help >"$work/help" || fail "run --help exited $?"
grep -q 'Exit codes' "$work/help" || fail "run --help"
grep -q -- '--metrics-addr HOST:PORT' "$work/help" || fail "run --help: --metrics-addr"
echo "cli run config: ok"
