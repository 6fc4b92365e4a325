#!/usr/bin/env bash
# Integration (issue 11): the scaled-out pipeline forms exactly the
# incidents of one instance. A seeded multi-cluster stream (gen_scaleout.py:
# Alertmanager, generic and CDEvents records, out of order, duplicated) is
# produced to fresh topics and consumed
#
#   single     by one `run` (role all) into A.db, which must equal
#              `aftermath replay` of the same file (R.db); the comparison is
#              also shown to fail on a mutated copy of A.db;
#   scenarios  (needs the roles: AFTERMATH_ROLE) in addition, each on fresh topics, by
#              1 decode + 3 correlate + 1 view instances into V.db, which
#              must equal A.db field by field (compare_incidents.py):
#              a  undisturbed;
#              b  one correlate instance killed with -9 mid-stream and
#                 another one started;
#              c  the decode instance killed with -9 mid-stream and restarted;
#              l  undisturbed, then a late view (started after everything
#                 was published: it reads what compaction keeps) into L.db;
#                 with AFTERMATH_SCALEOUT_STORM the stream holds a storm
#                 incident, whose drafts (report --format json and md)
#                 must be equal too, and the incidents topic's bytes per
#                 alert are printed;
#              f  fencing: a correlate instance frozen (SIGSTOP) past the
#                 session timeout, its partitions taken over, then resumed
#                 (it may publish what it had: the view drops what is older
#                 than what it holds); then an old summary of the busiest
#                 incident is produced again, and the view, run once more,
#                 must drop it and stay equal.
#
# Every run ends with --exit-when-idle. A downstream role can go idle while
# its upstream is still working (a rebalance, a restart): when the last
# instance of a role stopped before its upstream did, or a keyed partition
# is not consumed to its end, one more instance of that role finishes the
# work (resuming from its store), as an operator would.
#
# Usage: it_scaleout.sh AFTERMATH AM_PRODUCE BROKER_SH WORK [single|scenarios]
# Environment:
#   AFTERMATH_SCALEOUT_SEED       seed of the stream and the kill points
#                                 (default: from the clock; printed, so a
#                                 failure can be run again with it)
#   AFTERMATH_SCALEOUT_REPEAT     run everything N times, seeds SEED..SEED+N-1
#   AFTERMATH_SCALEOUT_RECORDS    records of the stream (default 3000)
#   AFTERMATH_SCALEOUT_SCENARIOS  which of a b c l f to run (default "a b c")
#   AFTERMATH_SCALEOUT_STORM      alerts of one storm incident added to the
#                                 stream (gen_scaleout.py --storm; default 0)
AM=$1 PRODUCE=$2 BROKER=$3 WORK=$4 MODE=${5:-single}
. "$(dirname "$0")/lib.sh"

here=$(cd -- "$(dirname -- "$0")" && pwd)
GEN=$here/gen_scaleout.py
CMP=$here/compare_incidents.py
SEED=${AFTERMATH_SCALEOUT_SEED:-$(($(date +%s) % 1000000))}
REPEAT=${AFTERMATH_SCALEOUT_REPEAT:-1}
RECORDS=${AFTERMATH_SCALEOUT_RECORDS:-3000}
SCENARIOS=${AFTERMATH_SCALEOUT_SCENARIOS:-a b c}
STORM=${AFTERMATH_SCALEOUT_STORM:-0}
KEYED_PARTITIONS=6
CORRELATORS=3
[[ $MODE == single || $MODE == scenarios ]] || fail "mode must be single or scenarios, got '$MODE'"
[[ $SEED =~ ^[0-9]+$ && $REPEAT =~ ^[1-9][0-9]*$ && $RECORDS =~ ^[1-9][0-9]+$ ]] ||
  fail "AFTERMATH_SCALEOUT_SEED, _REPEAT and _RECORDS must be numbers"
# Small batches: many transactions per run, so kills land between them and
# the correlator works incrementally (as a long-running consumer does).
export AFTERMATH_BATCH_SIZE=100 AFTERMATH_BATCH_TIMEOUT=200ms
# A killed member's partitions move after 6 s (the broker's minimum).
export AFTERMATH_KAFKA__SESSION_TIMEOUT_MS=6000

# The decoder fetches a few record batches per partition every 50 ms: the
# stream takes some seconds, so the kill points land while it flows and the
# correlators work while records still arrive.
THROTTLE=(AFTERMATH_KAFKA__FETCH_MIN_BYTES=100000000 AFTERMATH_KAFKA__FETCH_WAIT_MAX_MS=50
  AFTERMATH_KAFKA__MAX_PARTITION_FETCH_BYTES=6144)

# alive PID: the process exists and is not a zombie.
alive() {
  local st
  st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) && [[ $st != Z ]]
}

# hw TOPIC PARTITIONS: "p=high-watermark" lines of the topic's partitions.
hw() {
  local p args=() out
  for ((p = 0; p < $2; p++)); do args+=(-t "$1:$p:-1"); done
  out=$(kcat -Q -b "$B" "${args[@]}" 2>/dev/null) || return 1
  out=$(sed -nE 's/.* \[([0-9]+)\] offset ([0-9]+)$/\1=\2/p' <<<"$out" | sort -n)
  [ "$(wc -l <<<"$out")" = "$2" ] || return 1
  echo "$out"
}
hw_total() { hw "$@" | awk -F= '{s += $2} END {print s + 0}'; }

# Which ids the stores have: content-derived ones compare by id, numbered
# ones (before issue 11) only by content.
match_mode() {
  if [ "$(sqlite3 "$1" "SELECT count(*) FROM incidents WHERE id NOT GLOB 'INC-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]-??????????'")" = 0 ]; then
    echo id
  else
    echo content
  fi
}

# leaders TOPIC N: the broker's metadata shows N partitions, each with a leader.
leaders() {
  local md
  md=$(timeout 10 kcat -L -b "$B" -t "$1" -m 5 2>/dev/null) || return 1
  [[ $md == *"topic \"$1\" with $2 partitions:"* ]] && [ "$(grep -c 'leader 1,' <<<"$md")" -eq "$2" ]
}

# produce PREFIX: the stream onto fresh source topics PREFIX<topic>, one
# record per record batch (so that a consumer can be slowed down, THROTTLE).
# The topics are created first and produced to once every partition has a
# leader: producing one-record batches at once after CreateTopics lost one
# or two of the first records of a partition in about 1 run of 6 here
# (librdkafka 2.0.2, Kafka 4.3.1), every delivery reported as successful.
produce() {
  local tp create=()
  for tp in $SOURCE_PARTITIONS; do create+=(--create "$1$tp"); done
  "$PRODUCE" --brokers "$B" "${create[@]}" 2>"$ITER/produce-$1.err" ||
    { cat "$ITER/produce-$1.err"; fail "creating the topics $1*"; }
  for tp in $SOURCE_PARTITIONS; do
    wait_until 30 leaders "$1${tp%:*}" "${tp#*:}" || fail "topic $1${tp%:*}: no leaders after 30 s"
  done
  "$PRODUCE" --brokers "$B" --topic-prefix "$1" -X batch.num.messages=1 "$STREAM" \
    2>"$ITER/produce-$1.err" || { cat "$ITER/produce-$1.err"; fail "am_produce to $1*"; }
}

# same_metrics X Y WHAT: `aftermath metrics` (detection latencies, change
# failure rate: every deploy counts, linked or not) agrees on both stores.
same_metrics() {
  "$AM" metrics --db "$1" --format json >"$1.metrics.json" || fail "metrics --db $1"
  "$AM" metrics --db "$2" --format json >"$2.metrics.json" || fail "metrics --db $2"
  diff <(python3 -m json.tool "$1.metrics.json") <(python3 -m json.tool "$2.metrics.json") \
    >"$2.metrics.diff" || { head -30 "$2.metrics.diff"; fail "seed $SEED: $3: metrics differ"; }
}

source_args() { # source_args PREFIX: --topic lines of the source topics
  local tp
  for tp in $SOURCE_PARTITIONS; do printf -- '--topic\n%s%s\n' "$1" "${tp%:*}"; done
}

# ---- single: one instance over Kafka vs replay ------------------------------

single() {
  local p="so-$RUN-$SEED-all-" d=$ITER/single mode args
  mkdir -p "$d"
  produce "$p"
  "$BROKER" topic "${p}incidents" 1 cleanup.policy=compact max.message.bytes=16777216 ||
    fail "creating ${p}incidents"
  mapfile -t args < <(source_args "$p")
  local t0=$(now_ms)
  AFTERMATH_INCIDENTS_TOPIC="${p}incidents" "$AM" --log-level info run --brokers "$B" "${args[@]}" \
    --group "${p}g" --db "$d/A.db" --exit-when-idle 2 2>"$d/run.log" ||
    { tail -20 "$d/run.log"; fail "run (role all) exited $?"; }
  echo "single instance: consumed in $(($(now_ms) - t0)) ms"
  A=$d/A.db
  [ "$(sqlite3 "$A" 'SELECT count(*) FROM incidents')" -gt 50 ] || fail "fewer than 50 incidents in A.db"
  "$AM" replay --db "$d/R.db" "$STREAM" >/dev/null 2>"$d/replay.log" || fail "replay of the stream"
  same_events "$d/R.db" "$A" "run and replay stored different events"
  mode=$(match_mode "$A")
  echo "run (role all) vs replay, incidents matched by $mode:"
  "$CMP" --aftermath "$AM" --match "$mode" "$d/R.db" "$A" ||
    fail "seed $SEED: one instance over Kafka and replay of the same stream formed different incidents"
  same_metrics "$d/R.db" "$A" "run and replay"
  published_is_store "${p}incidents" "$A" "$d"

  # The comparison can fail: one field of one incident changed, one link gone.
  cp "$A" "$d/M.db"
  sqlite3 "$d/M.db" "UPDATE incidents SET lead = 'mutant' WHERE id =
      (SELECT id FROM incidents ORDER BY started_at, id LIMIT 1 OFFSET 7)" || fail "mutating M.db"
  if "$CMP" --aftermath "$AM" --match "$mode" "$A" "$d/M.db" >"$d/mutant.diff"; then
    fail "the comparison did not see a changed lead"
  fi
  grep -q "field lead: .*'mutant'" "$d/mutant.diff" || { cat "$d/mutant.diff"; fail "mutant diff"; }
  cp "$A" "$d/M.db"
  sqlite3 "$d/M.db" "DELETE FROM incident_events WHERE (incident, event, role) IN
      (SELECT incident, event, role FROM incident_events WHERE role = 'suspect' LIMIT 1)" ||
    fail "mutating M.db"
  if "$CMP" --match "$mode" "$A" "$d/M.db" >"$d/mutant.diff"; then
    fail "the comparison did not see a missing link"
  fi
  grep -q "link suspect .* only in $A" "$d/mutant.diff" || { cat "$d/mutant.diff"; fail "mutant diff"; }
  echo "comparison fails on a mutated store: ok"
}

# ---- scenarios: decode / correlate / view ----------------------------------

declare -A PID ROLE EXITSEQ RC KILLED
SEQ=0

# start NAME ROLE: one instance of ROLE in the background; its log is
# SCEN/NAME.log. The command lines of the roles are here only.
start() {
  local name=$1 role=$2 args=() envs=()
  case $role in
    decode)
      envs=("${THROTTLE[@]}")
      mapfile -t args < <(source_args "$P")
      args+=(--group "${P}decode" --db "$SCEN/decode.db")
      ;;
    correlate)
      mkdir -p "$SCEN/$name"
      args=(--group "${P}correlate" --db "$SCEN/$name")
      ;;
    view)
      if [[ $name == view-late* ]]; then
        args=(--group "${P}view-late" --db "$SCEN/L.db")
      else
        args=(--group "${P}view" --db "$SCEN/V.db")
      fi
      ;;
  esac
  env "${envs[@]}" AFTERMATH_ROLE="$role" AFTERMATH_KEYED_TOPIC="${P}keyed" \
    AFTERMATH_INCIDENTS_TOPIC="${P}incidents" AFTERMATH_KAFKA__GROUP_INSTANCE_ID="${P}$name" \
    "$AM" --log-level info run --brokers "$B" "${args[@]}" --exit-when-idle 5 \
    2>>"$SCEN/$name.log" &
  PID[$name]=$!
  ROLE[$name]=$role
  unset "EXITSEQ[$name]" "KILLED[$name]"
  pids+=("$!")
  echo "  started $role $name (pid $!)"
}

# reap: notes the instances that have exited, in order.
reap() {
  local n rc
  for n in "${!PID[@]}"; do
    [[ -z ${EXITSEQ[$n]:-} ]] || continue
    alive "${PID[$n]}" && continue
    rc=0
    { wait "${PID[$n]}"; } 2>/dev/null || rc=$? # (no "Killed" notice)
    SEQ=$((SEQ + 1))
    EXITSEQ[$n]=$SEQ RC[$n]=$rc
    if [[ -z ${KILLED[$n]:-} && $rc != 0 ]]; then
      tail -20 "$SCEN/$n.log" >&2
      fail "seed $SEED scenario $SCENARIO: ${ROLE[$n]} $n exited $rc"
    fi
  done
}

kill9() {
  local rc=0
  KILLED[$1]=1
  kill -9 "${PID[$1]}" 2>/dev/null || true
  { wait "${PID[$1]}"; } 2>/dev/null || rc=$? # reaped here: no "Killed" notice
  SEQ=$((SEQ + 1))
  EXITSEQ[$1]=$SEQ RC[$1]=$rc
  echo "  killed ${ROLE[$1]} $1 with -9"
}

# running ROLE: the live instances of ROLE as of the last reap (call reap
# first: this runs in a subshell, which cannot reap).
running() {
  local n
  for n in "${!PID[@]}"; do
    if [[ ${ROLE[$n]} == "$1" && -z ${EXITSEQ[$n]:-} ]]; then echo "$n"; fi
  done | sort
}

# last_exit ROLE: the exit order of the role's last instance to stop.
last_exit() {
  local n m=0
  for n in "${!PID[@]}"; do
    [[ ${ROLE[$n]} == "$1" && -z ${KILLED[$n]:-} ]] || continue
    if ((${EXITSEQ[$n]:-0} > m)); then m=${EXITSEQ[$n]}; fi
  done
  echo "$m"
}

wait_role() { # wait_role ROLE: until every instance of ROLE has stopped
  local deadline=$(($(now_ms) + 300000))
  reap
  while [ -n "$(running "$1")" ]; do
    (($(now_ms) < deadline)) || fail "seed $SEED scenario $SCENARIO: $1 still running after 300 s"
    sleep 0.1
    reap
  done
}

# The keyed partitions' consumed offsets, best copy of each (kept by the
# correlators with their incidents), as "p=next" lines.
keyed_consumed() {
  local p db best n
  for ((p = 0; p < KEYED_PARTITIONS; p++)); do
    best=0
    for db in "$SCEN"/corr-*/keyed-"$p".db; do
      [ -f "$db" ] || continue
      n=$(sqlite3 "$db" "SELECT coalesce(max(next_offset), 0) FROM offsets WHERE partition = $p" 2>/dev/null) || n=0
      if ((n > best)); then best=$n; fi
    done
    echo "$p=$best"
  done
}

# finish ROLE UPSTREAM: waits for ROLE; if its last instance stopped before
# UPSTREAM's did (it may have gone idle too early), one more finishes.
NFIN=0
finish() {
  wait_role "$1"
  local up=${2:+$(last_exit "$2")}
  if ((up > 0 && $(last_exit "$1") < up)); then
    NFIN=$((NFIN + 1))
    echo "  $1 stopped before $2: one more $1 finishes"
    if [ "$1" = view ]; then start "view-fin$NFIN" view; else start "corr-fin$NFIN" "$1"; fi
    wait_role "$1"
  fi
}

scenario() {
  SCENARIO=$1
  P="so-$RUN-$SEED-$SCENARIO-" SCEN=$ITER/$SCENARIO
  mkdir -p "$SCEN"
  PID=() ROLE=() EXITSEQ=() RC=() KILLED=()
  echo "scenario $SCENARIO (seed $SEED): topics $P*"
  # A storm: batches of 1000, as a busy stream makes them.
  if [[ $SCENARIO == l && $STORM -gt 0 ]]; then export AFTERMATH_BATCH_SIZE=1000; fi
  produce "$P"
  "$BROKER" topic "${P}keyed" "$KEYED_PARTITIONS" retention.ms=-1 || fail "creating ${P}keyed"
  "$BROKER" topic "${P}incidents" 1 cleanup.policy=compact max.message.bytes=16777216 ||
    fail "creating ${P}incidents"
  local t0=$(now_ms) i victim target lines
  lines=$(wc -l <"$STREAM")
  # The kill point: once decode has put this many records on the keyed topic.
  target=$((lines * (20 + RANDOM % 60) / 100))
  start decode-1 decode
  for ((i = 1; i <= CORRELATORS; i++)); do start "corr-$i" correlate; done
  start view-1 view
  case $SCENARIO in
    b | c | f)
      local deadline=$(($(now_ms) + 240000))
      until (($(hw_total "${P}keyed" "$KEYED_PARTITIONS") >= target)); do
        (($(now_ms) < deadline)) ||
          fail "seed $SEED scenario $SCENARIO: the keyed topic never reached $target records"
        reap
        sleep 0.2
      done
      reap
      if [ "$SCENARIO" = f ]; then
        mapfile -t live < <(running correlate)
        ((${#live[@]} > 1)) || fail "seed $SEED scenario f: fewer than two correlate instances"
        victim=${live[RANDOM % ${#live[@]}]}
        echo "  kill point: $target records on the keyed topic; $victim frozen (SIGSTOP)"
        kill -STOP "${PID[$victim]}"
        # past session.timeout.ms (6 s): the group gives its partitions away
        sleep 12
        kill -CONT "${PID[$victim]}"
        echo "  $victim resumed (SIGCONT) after 12 s"
      elif [ "$SCENARIO" = b ]; then
        mapfile -t live < <(running correlate)
        ((${#live[@]})) || fail "seed $SEED scenario b: no correlate instance left to kill"
        victim=${live[RANDOM % ${#live[@]}]}
        echo "  kill point: $target records on the keyed topic; victim $victim"
        kill9 "$victim"
        start "corr-$((CORRELATORS + 1))" correlate
      else
        echo "  kill point: $target records on the keyed topic"
        alive "${PID[decode-1]}" || fail "seed $SEED scenario c: decode finished before the kill point"
        kill9 decode-1
        start decode-2 decode
      fi
      ;;
  esac
  finish decode
  finish correlate decode
  # Every keyed partition consumed to its end, or one more round.
  local want
  want=$(hw "${P}keyed" "$KEYED_PARTITIONS") || fail "reading the keyed topic's offsets"
  if [ "$(keyed_consumed)" != "$want" ]; then
    echo "  keyed partitions not all consumed: one more correlate"
    NFIN=$((NFIN + 1))
    start "corr-fin$NFIN" correlate
    wait_role correlate
    [ "$(keyed_consumed)" = "$want" ] ||
      fail "seed $SEED scenario $SCENARIO: keyed partitions consumed $(keyed_consumed | tr '\n' ' ') of $(tr '\n' ' ' <<<"$want")"
  fi
  finish view correlate
  echo "  pipeline done in $(($(now_ms) - t0)) ms: $(hw_total "${P}keyed" "$KEYED_PARTITIONS") keyed records, $(hw_total "${P}incidents" 1) incident documents"
  if ! "$CMP" --aftermath "$AM" "$A" "$SCEN/V.db" >"$SCEN/compare.out"; then
    head -40 "$SCEN/compare.out"
    local dirs="" dir
    for dir in "$SCEN"/corr-*/; do dirs+="${dir%/}:"; done
    echo "---- for debugging: A.db against the correlators' stores (equal: the view is wrong) ----"
    "$CMP" "$A" "${dirs%:}" | head -20 || true
    fail "seed $SEED scenario $SCENARIO: the view differs from one instance"
  fi
  same_metrics "$A" "$SCEN/V.db" "scenario $SCENARIO: one instance and the view"
  echo "  view = one instance: $(cat "$SCEN/compare.out"); same metrics"
  case $SCENARIO in
    l) late_view ;;
    f) fenced ;;
  esac
}

# same_drafts X Y ID WHAT: the drafts of incident ID (json and md) agree.
# Two members of the json differ by nature and are left out: status_as_of
# is the store's latest event time, which a view's events need not reach
# (it holds the events its incidents link; the daemon's drafts use the
# wall clock), and aliases are the ids the incident had while it formed,
# which depend on the order its alerts arrived in (one instance and a keyed
# partition see different orders; the view has its correlator's).
same_drafts() {
  local f
  for f in json md; do
    "$AM" report "$3" --db "$1" --format $f >"$2.$3.$f" 2>&1 || fail "report $3 --db $1"
    "$AM" report "$3" --db "$2" --format $f >"$2.$3.$f.view" 2>&1 || fail "report $3 --db $2"
    if [ $f = json ]; then
      python3 - "$2.$3.$f" "$2.$3.$f.view" <<'PY' || fail "seed $SEED: $4: normalising the json drafts"
import json, sys
def drop(o):
    if isinstance(o, dict):
        o.pop("status_as_of", None)
        for v in o.values():
            drop(v)
    elif isinstance(o, list):
        for v in o:
            drop(v)
for path in sys.argv[1:]:
    d = json.load(open(path))
    d.pop("aliases", None)
    drop(d)
    json.dump(d, open(path, "w"), indent=1, sort_keys=True)
PY
    fi
    diff "$2.$3.$f" "$2.$3.$f.view" >"$2.$3.$f.diff" ||
      { head -20 "$2.$3.$f.diff"; fail "seed $SEED: $4: the $f drafts of $3 differ"; }
  done
}

# Scenario l: a view started once everything was published, then the
# drafts of the largest incident and the incidents topic's size.
late_view() {
  local big alerts
  start view-late view
  wait_role view
  "$CMP" --aftermath "$AM" "$A" "$SCEN/L.db" >"$SCEN/compare-late.out" ||
    { head -40 "$SCEN/compare-late.out"; fail "seed $SEED scenario l: the late view differs from one instance"; }
  same_metrics "$A" "$SCEN/L.db" "scenario l: one instance and the late view"
  echo "  late view = one instance: $(cat "$SCEN/compare-late.out"); same metrics"
  big=$(sqlite3 "$A" "SELECT id FROM incidents ORDER BY alerts DESC, id LIMIT 1")
  alerts=$(sqlite3 "$A" "SELECT alerts FROM incidents WHERE id = '$big'")
  same_drafts "$A" "$SCEN/V.db" "$big" "scenario l: the view"
  same_drafts "$A" "$SCEN/L.db" "$big" "scenario l: the late view"
  [ "$(sqlite3 "$SCEN/V.db" "SELECT count(*) FROM incident_events WHERE incident = '$big' AND role = 'alert'")" -gt 0 ] ||
    fail "the view holds no alert of $big"
  echo "  drafts of $big ($alerts alerts) equal in both views (json, md)"
  kcat -C -J -e -q -b "$B" -t "${P}incidents" >"$SCEN/incidents.ndjson" || fail "kcat ${P}incidents"
  python3 - "$SCEN/incidents.ndjson" "$big" "$alerts" <<'PY'
import json, sys
total = big = n = nbig = mx = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    size = len((r.get("key") or "").encode()) + len((r.get("payload") or "").encode())
    total += size; n += 1; mx = max(mx, size)
    if (r.get("key") or "").startswith(sys.argv[2]):
        big += size; nbig += 1
alerts = int(sys.argv[3])
print("  incidents topic: %d records, %d bytes (largest record %d bytes); incident %s: "
      "%d records, %d bytes, %.0f bytes per alert (%d alerts)"
      % (n, total, mx, sys.argv[2], nbig, big, big / max(alerts, 1), alerts))
PY
}

# Scenario f: what the frozen correlator published after it resumed was
# dropped (or was no older); an old summary produced again is dropped.
fenced() {
  local key dropped
  kcat -C -J -e -q -b "$B" -t "${P}incidents" >"$SCEN/incidents.ndjson" || fail "kcat ${P}incidents"
  key=$(python3 - "$SCEN/incidents.ndjson" <<'PY'
import json, sys, collections
n = collections.Counter()
first, latest = {}, {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    d = json.loads(r["payload"])
    if "replica" in d and d.get("schema_version") == 2:
        n[r["key"]] += 1
        first.setdefault(r["key"], (d["as_of"], r["payload"]))
        latest[r["key"]] = d["as_of"]
# an incident summarised at two offsets: its first summary is older than
# its latest (two summaries at one as_of, a snapshot sent again by the
# partition's next owner, would not be)
older = [k for k in n if first[k][0] < latest[k]]
if older:
    key = max(older, key=lambda k: (n[k], k))
    print(key + "\t" + first[key][1])
else:
    # every incident was summarised at one offset (the correlators caught
    # up after decode was done): the latest summary of one, made older
    key = max((k for k in n if latest[k] > 0), key=lambda k: (n[k], k))
    d = json.loads(first[key][1])
    d["as_of"] -= 1
    d["base"] = min(d["base"], d["as_of"])
    print(key + "\t" + json.dumps(d, separators=(",", ":")))
PY
  ) || fail "no old summary to produce again"
  dropped=$({ grep -h 'stale incident documents dropped' "$SCEN"/view-*.log || true; } |
    grep -o 'total=[0-9]*' | cut -d= -f2 | sort -n | tail -1) || dropped=0
  echo "  stale documents the view dropped after the resume: ${dropped:-0}"
  printf '%s\n' "$key" | kcat -P -q -b "$B" -t "${P}incidents" -p 0 -K $'\t' ||
    fail "producing an old summary again"
  echo "  an old summary of ${key%%$'\t'*} produced again"
  start view-again view
  wait_role view
  grep -q 'stale incident documents dropped' "$SCEN/view-again.log" ||
    { tail -5 "$SCEN/view-again.log"; fail "seed $SEED scenario f: the view did not drop the old summary"; }
  "$CMP" --aftermath "$AM" "$A" "$SCEN/V.db" >"$SCEN/compare-again.out" ||
    { head -40 "$SCEN/compare-again.out"; fail "seed $SEED scenario f: an old summary changed the view"; }
  same_metrics "$A" "$SCEN/V.db" "scenario f: after an old summary"
  echo "  the old summary was dropped: the view still equals one instance"
  # the view's store says so: nothing waits, the stale documents counted
  "$AM" status --db "$SCEN/V.db" >"$SCEN/status-view.out" 2>&1 ||
    { cat "$SCEN/status-view.out"; fail "status on the view's store"; }
  grep -q '^  waiting   0 incidents waiting for their parts' "$SCEN/status-view.out" ||
    { cat "$SCEN/status-view.out"; fail "seed $SEED scenario f: status: the view still waits"; }
  dropped=$(sed -n 's/^  stale *\([0-9]*\) incident documents dropped.*/\1/p' "$SCEN/status-view.out")
  ((${dropped:-0} >= 1)) ||
    { cat "$SCEN/status-view.out"; fail "seed $SEED scenario f: status counts no stale document"; }
  echo "  status on the view: nothing waits, $dropped stale documents dropped"
}

if [ "$MODE" = scenarios ]; then
  AFTERMATH_ROLE=correlate AFTERMATH_INCIDENTS_TOPIC=x "$AM" run --brokers "$B" --print-config \
    2>&1 | grep -q '^role: "correlate"' ||
    fail "this aftermath has no role correlate (issue 11): the scenarios cannot run"
fi
FIRST=$SEED
for ((it = 0; it < REPEAT; it++)); do
  SEED=$((FIRST + it))
  RANDOM=$SEED
  ITER=$WORK/seed-$SEED
  mkdir -p "$ITER"
  STREAM=$ITER/stream.ndjson
  echo "== seed $SEED (AFTERMATH_SCALEOUT_SEED=$SEED reproduces it) =="
  python3 "$GEN" --seed "$SEED" --records "$RECORDS" --storm "$STORM" --out "$STREAM" ||
    fail "gen_scaleout.py"
  # "topic:partitions" of the stream's topics.
  SOURCE_PARTITIONS=$(python3 -c '
import json, sys
n = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    n[r["topic"]] = max(n.get(r["topic"], 0), r["partition"] + 1)
print(" ".join("%s:%d" % kv for kv in sorted(n.items())))' "$STREAM")
  single
  if [ "$MODE" = scenarios ]; then
    for s in $SCENARIOS; do
      [[ $s == [abclf] ]] || fail "unknown scenario '$s'"
      scenario "$s"
    done
  fi
done
echo "integration scaleout ($MODE, $REPEAT run(s) from seed $FIRST): ok"
