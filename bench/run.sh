#!/usr/bin/env bash
# bench/run.sh - aftermath's throughput benchmark (bench/README.md).
#
# Usage: bench/run.sh [--events N] [--repeat F] [--clusters N] [--kafka] [--staged N] [--storm N]
#                     [--runs N] [--build DIR] [--work DIR] [--keep]
#
#   --events N   records of the replay stream (default 1000000)
#   --repeat F   share of re-notifications in it (default 0.6)
#   --clusters N clusters in it (default 4); the default rules group by
#                cluster, so the staged topology needs many (48) to spread
#                the work over its keyed partitions
#   --kafka      also the Kafka path: a real broker (tests/kafka/broker.sh,
#                AFTERMATH_KAFKA_PORT / AFTERMATH_KAFKA_STATE), `aftermath run
#                --exit-when-idle`, and kcat alone on the same topics
#   --staged N   with --kafka, also the staged topology (docs/scaling.md):
#                one decode instance into a keyed topic of 12 partitions,
#                then 1, 2, ... N correlate instances at once on it (a fresh
#                group and stores each time), then one view; each stage
#                timed on its own (default 0: none)
#   --storm N    also a storm of N distinct alerts over 500 services, firing
#                then resolving (2N records), with every draft written
#                (0: none; default 100000)
#   --growth N   also the endless storm (issue 23): raw Alertmanager webhook
#                lines of 1-3 alerts over 200 services in 8 clusters, 60 %
#                exact re-notifications, one wave that never ends (so each
#                cluster's incident keeps growing), N and 8N records of it;
#                replay against the parse baseline at both sizes, the growth
#                figure (rate at 8N / rate at N) and peak RSS (0: none,
#                the default; the issue's sizes are --growth 50000)
#   --alertmanager  with --growth, the real Alertmanager 0.35 as a peer
#                (tests/alertmanager/build.sh builds it): the same alerts
#                POSTed to /api/v2/alerts in batches of 64 from 127.0.0.1,
#                and aftermath's alerts/s against its
#   --runs N     measure each configuration N times and keep the fastest
#                (default 1)
#   --build DIR  the CMake build (default build); needs aftermath, am_bench_gen,
#                am_bench_parse and (--kafka) am_produce
#   --work DIR   scratch directory (default /tmp/aftermath-bench-$USER)
#
# Prints, per configuration: records, MB, seconds, records/s, MB/s, peak
# RSS, and the baselines measured in the same run on the same records (the
# jansson parse-only rate on one core; kcat's consume rate) with the ratios.
# Absolute numbers drift on a shared machine; the ratios are what we track.
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
events=1000000 repeat=0.6 clusters=4 kafka=0 staged=0 storm=100000 runs=1 build=$root/build
growth=0 alertmanager=0
work=/tmp/aftermath-bench-${USER:-$(id -u)}
while [ $# -gt 0 ]; do
  case $1 in
    --events) events=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --clusters) clusters=$2; shift 2 ;;
    --kafka) kafka=1; shift ;;
    --staged) staged=$2; shift 2 ;;
    --storm) storm=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --growth) growth=$2; shift 2 ;;
    --alertmanager) alertmanager=1; shift ;;
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --work) work=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

am=$build/cli/aftermath gen=$build/bench/am_bench_gen parse=$build/bench/am_bench_parse
produce=$build/tests/am_produce
[ -x "$produce" ] || produce=$build/bench/am_produce
for p in "$am" "$gen" "$parse"; do
  [ -x "$p" ] || { echo "bench/run.sh: $p missing: build first (cmake --build $build)" >&2; exit 1; }
done
mkdir -p "$work"

# timed OUT CMD...: runs CMD, stdout to OUT; sets secs (wall), cpu (user +
# system seconds) and rss_kb (peak).
timed() {
  local out=$1 u s; shift
  /usr/bin/time -f '%e %M %U %S' -o "$work/time" "$@" >"$out" 2>"$out.err" ||
    { tail -5 "$out.err" >&2; echo "bench/run.sh: '$*' failed" >&2; exit 1; }
  read -r secs rss_kb u s <"$work/time"
  cpu=$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u + s}')
}

# best LABEL CMD...: runs CMD --runs times; keeps the fastest (wall) run's
# secs, cpu and rss_kb.
best() {
  local label=$1 b_secs= b_rss= b_cpu=; shift
  for ((r = 0; r < runs; r++)); do
    "$@"
    echo "  $label run $((r + 1)): ${secs}s wall, ${cpu}s CPU, peak RSS $((rss_kb / 1024)) MiB" >&2
    if [ -z "$b_secs" ] || awk -v a="$secs" -v b="$b_secs" 'BEGIN{exit !(a < b)}'; then
      b_secs=$secs b_rss=$rss_kb b_cpu=$cpu
    fi
  done
  secs=$b_secs rss_kb=$b_rss cpu=$b_cpu
}

# The parse-only baseline of FILE: sets base_rate and base_cpu_rate
# (records per wall-clock and per CPU second) of its fastest run.
baseline() {
  local file=$1 b= bc= s f c n
  n=$(wc -l <"$file")
  for ((r = 0; r < runs; r++)); do
    read -r _ _ _ _ _ s _ f _ c < <("$parse" "$file")
    [ "$f" = 0 ] || { echo "bench/run.sh: $f payloads of $file do not parse" >&2; exit 1; }
    echo "  jansson parse-only run $((r + 1)): ${s}s wall, ${c}s CPU" >&2
    if [ -z "$b" ] || awk -v a="$s" -v b="$b" 'BEGIN{exit !(a < b)}'; then b=$s bc=$c; fi
  done
  base_rate=$(awk -v n="$n" -v s="$b" 'BEGIN{printf "%.0f", n / s}')
  base_cpu_rate=$(awk -v n="$n" -v s="$bc" 'BEGIN{printf "%.0f", n / s}')
}

rows=()
# row NAME RECORDS BYTES SECS RSS_KB CPU BASE_NAME BASE_RATE BASE_CPU_RATE:
# the wall-clock rate against the baseline's (the tracked ratio), and the
# same per CPU second (steadier when other work shares the machine; a
# multi-threaded run spends more CPU than wall-clock time).
row() {
  rows+=("$(awk -v name="$1" -v n="$2" -v bytes="$3" -v s="$4" -v rss="$5" -v cpu="$6" \
    -v bn="$7" -v br="$8" -v bcr="$9" 'BEGIN{
    rate = n / s
    printf "%-10s %8d %7.1f %8.2f %9.0f %6.1f %6.0f %7.2f | %-13s %9.0f %6.2fx | %8.0f %6.2fx",
      name, n, bytes / 1048576, s, rate, bytes / 1048576 / s, rss / 1024, cpu, bn, br, (br > 0 ? rate / br : 0),
      (cpu > 0 ? n / cpu : 0), (cpu > 0 && bcr > 0 ? (n / cpu) / bcr : 0) }')")
}

replay_one() { rm -f "$work/$2.db"*; timed "$work/$2.out" "$am" replay --db "$work/$2.db" "${@:3}" "$1"; }

# 1. Replay of the stream with re-notifications.
stream=$work/stream-$events-$repeat-$clusters.ndjson
echo "generating $events records ($repeat re-notifications, $clusters clusters) into $stream" >&2
"$gen" --events "$events" --repeat "$repeat" --clusters "$clusters" >"$stream"
bytes=$(stat -c %s "$stream")
baseline "$stream"
replay_base=$base_rate
best replay replay_one "$stream" replay
replay_secs=$secs
row replay "$events" "$bytes" "$secs" "$rss_kb" "$cpu" "jansson-parse" "$base_rate" "$base_cpu_rate"
head -4 "$work/replay.out" | sed 's/^/  /' >&2

# 1b. The endless storm, at N and 8N records, raw lines (issue 23).
if [ "$growth" -gt 0 ]; then
  big=$((growth * 8))
  storm_big=$work/storm-raw-$big.ndjson storm_small=$work/storm-raw-$growth.ndjson
  echo "generating the endless storm: $big raw webhook lines into $storm_big" >&2
  "$gen" --events "$big" --raw --wave 0 --group 3 --clusters 8 --services 200 --generic 0 \
    --deploys 0 --repeat 0.6 >"$storm_big"
  head -n "$growth" "$storm_big" >"$storm_small"
  declare -A storm_rate storm_alerts storm_secs
  for size in "$growth" "$big"; do
    f=$work/storm-raw-$size.ndjson
    baseline "$f"
    storm_alerts[$size]=$("$parse" "$f" | sed -n 's/^alerts \([0-9]*\).*/\1/p')
    best "storm $size" replay_one "$f" "storm-$size"
    storm_secs[$size]=$secs
    storm_rate[$size]=$(awk -v n="$size" -v s="$secs" 'BEGIN{printf "%.0f", n / s}')
    row "storm-$size" "$size" "$(stat -c %s "$f")" "$secs" "$rss_kb" "$cpu" "jansson-parse" \
      "$base_rate" "$base_cpu_rate"
  done
  growth_ratio=$(awk -v a="${storm_rate[$big]}" -v b="${storm_rate[$growth]}" 'BEGIN{printf "%.2f", a / b}')
  if [ "$alertmanager" = 1 ]; then
    ambin=$("$root/tests/alertmanager/build.sh")
    amport=${AFTERMATH_BENCH_AM_PORT:-19893}
    mkdir -p "$work/am"
    printf 'route:\n  receiver: none\nreceivers:\n  - name: none\n' >"$work/am/am.yml"
    "$ambin" --config.file="$work/am/am.yml" --storage.path="$work/am/data" \
      --web.listen-address="127.0.0.1:$amport" --cluster.listen-address= >"$work/am/log" 2>&1 &
    ampid=$!
    for _ in $(seq 300); do
      curl -fsS -o /dev/null "http://127.0.0.1:$amport/-/ready" 2>/dev/null && break
      sleep 0.1
    done
    read -r _ _ am_alerts _ am_secs _ am_rate _ < <(python3 "$here/am_peer.py" "http://127.0.0.1:$amport" "$storm_small")
    kill "$ampid" 2>/dev/null || true
    wait "$ampid" 2>/dev/null || true
    ours=$(awk -v n="${storm_alerts[$growth]}" -v s="${storm_secs[$growth]}" 'BEGIN{printf "%.0f", n / s}')
    peer_line="alerts/s at $growth records: aftermath $ours (stored and correlated, durable), Alertmanager 0.35 $am_rate (in memory, POST /api/v2/alerts, batches of 64): $(awk -v a="$ours" -v b="$am_rate" 'BEGIN{printf "%.2f", a / b}')x"
  fi
fi

# 2. The Kafka path.
if [ "$kafka" = 1 ]; then
  [ -x "$produce" ] || { echo "bench/run.sh: $produce missing" >&2; exit 1; }
  broker=$root/tests/kafka/broker.sh
  export AFTERMATH_KAFKA_STATE=${AFTERMATH_KAFKA_STATE:-$work/kafka}
  "$broker" start >&2
  trap '"$broker" stop >/dev/null 2>&1 || true' EXIT
  B=$("$broker" bootstrap)
  run_id=$(date +%s)$$
  prefix=bench-$run_id-
  echo "producing the stream to ${prefix}alerts and ${prefix}deploys" >&2
  "$produce" --brokers "$B" --create-topics --topic-prefix "$prefix" "$stream" >&2
  kcat_one() {
    timed "$work/kcat.out" bash -c 'for t in alerts deploys; do
      kcat -C -b "$1" -t "$2$t" -o beginning -e -q -f "%s\n" || exit 1; done' kcat "$B" "$prefix"
  }
  best kcat kcat_one
  kcat_rate=$(awk -v n="$events" -v s="$secs" 'BEGIN{printf "%.0f", n / s}')
  kcat_cpu_rate=$(awk -v n="$events" -v s="$cpu" 'BEGIN{printf "%.0f", (s > 0 ? n / s : 0)}')
  kcat_lines=$(wc -l <"$work/kcat.out")
  [ "$kcat_lines" -ge "$events" ] || { echo "bench/run.sh: kcat read $kcat_lines records" >&2; exit 1; }
  run_n=0
  run_one() {
    run_n=$((run_n + 1))
    rm -f "$work/run.db"*
    # The same records per transaction as replay's default.
    timed "$work/run.out" env AFTERMATH_BATCH_SIZE="${AFTERMATH_BATCH_SIZE:-10000}" \
      "$am" --log-level warn run --brokers "$B" --topic "${prefix}alerts" \
      --topic "${prefix}deploys" --group "bench-$run_id-$run_n" --db "$work/run.db" \
      --exit-when-idle 1
    # The second of idle waiting that ends the run is not consumption.
    secs=$(awk -v s="$secs" 'BEGIN{printf "%.2f", s - 1}')
  }
  best run run_one
  row kafka-run "$events" "$bytes" "$secs" "$rss_kb" "$cpu" "kcat" "$kcat_rate" "$kcat_cpu_rate"
  run_rate=$(awk -v n="$events" -v s="$secs" 'BEGIN{printf "%.0f", n / s}')
  run_cpu_rate=$(awk -v n="$events" -v s="$cpu" 'BEGIN{printf "%.0f", (s > 0 ? n / s : 0)}')
  rows+=("$(awk -v r="$events" -v s="$secs" -v rs="$replay_secs" \
    'BEGIN{printf "%-16s %s %.2fx", "", "kafka-run / replay rate:", (r / s) / (r / rs)}')")
  sqlite3 "$work/run.db" "SELECT count(*) FROM events" >/dev/null 2>&1 &&
    echo "  run stored $(sqlite3 "$work/run.db" 'SELECT count(*) FROM events') events," \
      "replay $(sqlite3 "$work/replay.db" 'SELECT count(*) FROM events')" >&2
fi

# 2b. The staged topology on the same topics: each stage alone, from a full
# topic to idle, so that its rate is its own.
if [ "$kafka" = 1 ] && [ "$staged" -gt 0 ]; then
  keyed=${prefix}keyed incidents=${prefix}incidents
  "$broker" topic "$keyed" 12 >&2
  "$broker" topic "$incidents" 1 cleanup.policy=compact max.message.bytes=16777216 >&2
  export AFTERMATH_KEYED_TOPIC=$keyed AFTERMATH_INCIDENTS_TOPIC=$incidents
  export AFTERMATH_BATCH_SIZE=${AFTERMATH_BATCH_SIZE:-10000} AFTERMATH_METRICS=off
  rm -f "$work/decode.db"*
  timed "$work/decode.out" "$am" --log-level warn run --role decode --brokers "$B" \
    --topic "${prefix}alerts" --topic "${prefix}deploys" --group "bench-$run_id-decode" \
    --db "$work/decode.db" --exit-when-idle 1
  secs=$(awk -v s="$secs" 'BEGIN{printf "%.2f", s - 1}')
  keyed_records=$(kcat -C -b "$B" -t "$keyed" -o beginning -e -q -f 'x\n' | wc -l)
  keyed_bytes=$(kcat -C -b "$B" -t "$keyed" -o beginning -e -q -f '%S\n' |
    awk '{n += $1} END {print n + 0}')
  row decode "$events" "$bytes" "$secs" "$rss_kb" "$cpu" "kafka-run" "$run_rate" "$run_cpu_rate"
  rows+=("$(printf '%-10s %s' "" "keyed topic: $keyed_records records, $((keyed_bytes / 1048576)) MiB ($((keyed_bytes / (keyed_records > 0 ? keyed_records : 1))) bytes/record)")")
  for ((n = 1; n <= staged; n++)); do
    rm -rf "$work"/corr-*
    start=$(date +%s.%N)
    pids=()
    for ((i = 0; i < n; i++)); do
      /usr/bin/time -f '%e %M %U %S' -o "$work/time-corr-$i" "$am" --log-level warn run \
        --role correlate --brokers "$B" --group "bench-$run_id-corr-$n" --db "$work/corr-$i" \
        --exit-when-idle 3 >"$work/corr-$i.out" 2>&1 &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || { tail -5 "$work"/corr-*.out >&2; exit 1; }; done
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b - a - 3}')
    cpu=$(cat "$work"/time-corr-* | awk '{c += $3 + $4} END {printf "%.2f", c}')
    rss_kb=$(cat "$work"/time-corr-* | awk '$2 > m {m = $2} END {print m}')
    if [ "$n" = 1 ]; then
      corr1_rate=$(awk -v n="$events" -v s="$secs" 'BEGIN{printf "%.0f", n / s}')
      corr1_cpu_rate=$(awk -v n="$events" -v s="$cpu" 'BEGIN{printf "%.0f", n / s}')
    fi
    row "correl-x$n" "$events" "$keyed_bytes" "$secs" "$rss_kb" "$cpu" "correl-x1" \
      "$corr1_rate" "$corr1_cpu_rate"
  done
  rm -f "$work/view.db"*
  timed "$work/view.out" "$am" --log-level warn run --role view --brokers "$B" \
    --group "bench-$run_id-view" --db "$work/view.db" --exit-when-idle 1
  secs=$(awk -v s="$secs" 'BEGIN{printf "%.2f", s - 1}')
  docs=$(kcat -C -b "$B" -t "$incidents" -o beginning -e -q -f 'x\n' | wc -l)
  row view "$docs" 0 "$secs" "$rss_kb" "$cpu" "-" 0 0
  "$am" incidents --db "$work/view.db" --format json >"$work/view.json"
  "$am" incidents --db "$work/run.db" --format json >"$work/run.json"
  # Aliases are the names an incident had along the way, which depend on
  # the order events were seen in: not part of what it is.
  if python3 -c 'import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
for x in a + b: x.pop("aliases", None)
sys.exit(a != b)' "$work/view.json" "$work/run.json"; then
    rows+=("$(printf '%-10s %s' "" "view: $docs documents; incidents equal to the one-instance run's")")
  else
    rows+=("$(printf '%-10s %s' "" "VIEW: incidents differ from the one-instance run's")")
  fi
fi

# 3. The storm: N distinct alerts fire (one record each), then all resolve
# (one record each); every incident gets its draft.
if [ "$storm" -gt 0 ]; then
  sfile=$work/storm-$storm.ndjson
  "$gen" --events $((2 * storm + 20)) --repeat 0 --resolve 0 --group 1 --services 500 \
    --open "$storm" --wave "$storm" --deploys 20 --seed 2 >"$sfile"
  sbytes=$(stat -c %s "$sfile")
  baseline "$sfile"
  storm_one() {
    rm -rf "$work/drafts"
    replay_one "$sfile" storm --drafts "$work/drafts"
  }
  best storm storm_one
  row storm $((2 * storm + 20)) "$sbytes" "$secs" "$rss_kb" "$cpu" "jansson-parse" "$base_rate" "$base_cpu_rate"
  incidents=$("$am" incidents --db "$work/storm.db" --format json |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  drafts=$(find "$work/drafts" -name '*.md' | wc -l)
  alerts=$(sqlite3 "$work/storm.db" "SELECT count(*) FROM events WHERE kind = 'alert'" 2>/dev/null || echo '?')
  rows+=("$(printf '%-10s %s' "" "storm: $alerts alert events stored (firing and resolved), $incidents incidents, $drafts drafts written")")
  [ "$incidents" = "$drafts" ] || rows+=("$(printf '%-10s %s' "" "STORM: drafts and incidents differ")")
fi

echo
printf '%-10s %8s %7s %8s %9s %6s %6s %7s | %-13s %9s %7s | %8s %7s\n' config records MB \
  wall-s rec/s MB/s RSSMiB cpu-s baseline base-rec/s ratio rec/cpu-s ratio
for r in "${rows[@]}"; do echo "$r"; done
if [ "$growth" -gt 0 ]; then
  echo "growth: rate at $((growth * 8)) records / rate at $growth = $growth_ratio (1.00: flat cost per record as incidents grow)"
  [ -z "${peer_line:-}" ] || echo "$peer_line"
fi
