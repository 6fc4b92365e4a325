#!/usr/bin/env bash
# Start/stop a throwaway single-node Apache Kafka broker (KRaft, combined
# broker+controller) for aftermath's integration tests.
#
# Usage: tests/kafka/broker.sh start|restart|stop|status|bootstrap|fetch|check
#        tests/kafka/broker.sh topic NAME PARTITIONS [KEY=VALUE...]
#        tests/kafka/broker.sh ca     (path of the TLS listener's CA certificate)
#
# start formats fresh storage (an empty broker); restart stops the broker if
# it runs and starts it again on the data it already has (topics, records,
# committed offsets), as a real broker comes back after an outage.
#
# The broker runs from the jars pinned in tests/kafka/pom.xml, fetched by
# Maven from Maven Central into a cache directory on first use.  Needs java
# (17+), mvn (first use only) and kcat.  See tests/kafka/README.md.
#
# Environment:
#   AFTERMATH_KAFKA_HOME             jar cache   (default ~/.cache/aftermath-kafka)
#   AFTERMATH_KAFKA_STATE            state dir   (default /tmp/aftermath-kafka)
#   AFTERMATH_KAFKA_PORT             broker port (default 19092)
#   AFTERMATH_KAFKA_CONTROLLER_PORT  controller port (default broker port + 1)
#   AFTERMATH_KAFKA_JVM_OPTS         broker JVM options
#                                    (default -Xmx512m -Xms128m -XX:TieredStopAtLevel=1)
#   AFTERMATH_KAFKA_SASL_PORT        also listen with SASL_PLAINTEXT (mechanism PLAIN)
#                                    on this port; users: aftermath/aftermath-secret
#                                    (default: no such listener)
#   AFTERMATH_KAFKA_SSL_PORT         also listen with SSL (TLS) on this port, with a
#                                    server certificate for 127.0.0.1 signed by a
#                                    throwaway CA made at start: clients trust
#                                    STATE/tls/ca.pem ('broker.sh ca' prints the path)
#                                    (default: no such listener)
#   AFTERMATH_KAFKA_START_TIMEOUT    seconds to wait for the broker (default 60)
#   AFTERMATH_KAFKA_STOP_TIMEOUT     seconds before SIGKILL on stop (default 30)
set -euo pipefail

prog=${0##*/}
script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
pom="$script_dir/pom.xml"

cache_dir=${AFTERMATH_KAFKA_HOME:-${HOME:?HOME is not set}/.cache/aftermath-kafka}
state_dir=${AFTERMATH_KAFKA_STATE:-/tmp/aftermath-kafka}
while [[ $state_dir == ?*/ ]]; do state_dir=${state_dir%/}; done
port=${AFTERMATH_KAFKA_PORT:-19092}
controller_port=${AFTERMATH_KAFKA_CONTROLLER_PORT:-}  # default: port + 1
sasl_port=${AFTERMATH_KAFKA_SASL_PORT:-}
ssl_port=${AFTERMATH_KAFKA_SSL_PORT:-}
# C1-only JIT: the broker answers ~1-2 s sooner; peak speed is irrelevant here.
jvm_opts=${AFTERMATH_KAFKA_JVM_OPTS:--Xmx512m -Xms128m -XX:TieredStopAtLevel=1}
start_timeout=${AFTERMATH_KAFKA_START_TIMEOUT:-60}
stop_timeout=${AFTERMATH_KAFKA_STOP_TIMEOUT:-30}

libs_dir="$cache_dir/libs"
pid_file="$state_dir/broker.pid"
config="$state_dir/server.properties"
log_dir="$state_dir/logs"
data_dir="$state_dir/data"
broker_log="$log_dir/server.log"
bootstrap="127.0.0.1:$port"

die() {
  printf '%s: %s\n' "$prog" "$*" >&2
  exit 1
}

usage() {
  cat >&2 <<EOF
usage: $prog start|restart|stop|status|bootstrap|fetch|check|ca
       $prog topic NAME PARTITIONS [KEY=VALUE...]
EOF
  exit 2
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
is_port() { [[ $1 =~ ^[1-9][0-9]{0,4}$ ]] && (($1 < 65536)); }

check_settings() {
  is_port "$port" || die "AFTERMATH_KAFKA_PORT must be a port number, got '$port'"
  [[ -n $controller_port ]] || controller_port=$((port + 1))
  is_port "$controller_port" ||
    die "AFTERMATH_KAFKA_CONTROLLER_PORT must be a port number, got '$controller_port'"
  ((port != controller_port)) || die "broker and controller ports are both $port"
  [[ -z $sasl_port ]] || is_port "$sasl_port" ||
    die "AFTERMATH_KAFKA_SASL_PORT must be a port number, got '$sasl_port'"
  [[ -z $ssl_port ]] || is_port "$ssl_port" ||
    die "AFTERMATH_KAFKA_SSL_PORT must be a port number, got '$ssl_port'"
  is_uint "$start_timeout" || die "AFTERMATH_KAFKA_START_TIMEOUT must be a number of seconds"
  is_uint "$stop_timeout" || die "AFTERMATH_KAFKA_STOP_TIMEOUT must be a number of seconds"
  [[ $state_dir == /?* ]] ||
    die "AFTERMATH_KAFKA_STATE must be an absolute path other than /, got '$state_dir'"
}

need() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found in PATH ($2)"
}

java_bin() {
  if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then
    printf '%s\n' "$JAVA_HOME/bin/java"
  else
    need java "install a Java 17+ runtime, e.g. apt-get install openjdk-17-jre-headless"
    printf 'java\n'
  fi
}

# Java 17+ and kcat present, Maven too unless the jars are cached: what a
# fresh machine needs before the integration tests, with what to install.
check() {
  local java version major
  java=$(java_bin)
  version=$("$java" -version 2>&1 | head -n 1) || die "'$java -version' failed"
  # "17.0.15", or "1.8.0_292" for Java 8.
  major=$(sed -E 's/.*version "1\.([0-9]+).*/\1/; t; s/.*version "([0-9]+).*/\1/' <<<"$version")
  [[ $major =~ ^[0-9]+$ ]] || die "cannot read the Java version from: $version"
  ((major >= 17)) ||
    die "Java $major found, Kafka 4 needs 17 or newer: apt-get install openjdk-17-jre-headless"
  need kcat "install it with apt-get install kcat"
  libs_ready || need mvn "the Kafka jars are not cached yet and Maven fetches them: apt-get install maven"
}

# --- jar cache -------------------------------------------------------------

pom_stamp() { sha256sum "$pom" | cut -d' ' -f1; }

libs_ready() {
  [[ -f $libs_dir/.pom-sha256 && $(<"$libs_dir/.pom-sha256") == "$(pom_stamp)" ]]
}

# Copy the jars named by pom.xml (and their runtime dependencies) into
# $libs_dir, unless a copy made from the same pom.xml is already there.
fetch() {
  [[ -f $pom ]] || die "missing $pom"
  libs_ready && return 0
  mkdir -p "$cache_dir" || die "cannot create cache dir $cache_dir"
  exec 8>"$cache_dir/.lock"
  flock 8
  if ! libs_ready; then
    need mvn "install Maven, e.g. apt-get install maven"
    local tmp="$cache_dir/libs.tmp.$$" out="$cache_dir/fetch.log"
    rm -rf "$tmp"
    echo "$prog: fetching Kafka jars from Maven Central into $libs_dir" >&2
    if ! mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >"$out" 2>&1; then
      rm -rf "$tmp"
      tail -n 40 "$out" >&2
      die "mvn failed to fetch the Kafka jars (full output: $out)"
    fi
    pom_stamp >"$tmp/.pom-sha256"
    rm -rf "$libs_dir"
    mv "$tmp" "$libs_dir"
  fi
  exec 8>&-
}

# --- broker process --------------------------------------------------------

# Prints the broker's pid if the pid file names a live broker of this
# state dir (guards against a stale pid file and pid reuse).
running_pid() {
  local pid cmdline
  [[ -f $pid_file ]] || return 1
  pid=$(<"$pid_file")
  is_uint "$pid" || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *" kafka.Kafka $config"* ]] || return 1
  printf '%s\n' "$pid"
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

broker_answers() {
  local md
  md=$(timeout 5 kcat -L -b "$bootstrap" -m 1 2>/dev/null) || return 1
  [[ $md == *"broker 1 at 127.0.0.1:$port"* ]]
}

# A throwaway CA and a server certificate for 127.0.0.1 signed by it, in
# $state_dir/tls, made afresh on every start: ca.pem for clients, and
# server.pem (unencrypted PKCS#8 key + certificate) as a PEM keystore.
make_tls() {
  local d=$state_dir/tls
  need openssl "install it with apt-get install openssl"
  rm -rf -- "$d" && mkdir -p "$d"
  {
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=aftermath test CA" \
      -keyout "$d/ca.key" -out "$d/ca.pem" &&
      openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$d/server.key" -out "$d/server.csr" &&
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/san.ext" &&
      openssl x509 -req -days 2 -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
        -CAcreateserial -extfile "$d/san.ext" -out "$d/server.crt" &&
      openssl pkcs8 -topk8 -nocrypt -in "$d/server.key" -out "$d/server.p8"
  } >"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; die "making the test CA failed"; }
  cat "$d/server.p8" "$d/server.crt" >"$d/server.pem"
}

write_config() {
  local listeners="PLAINTEXT://127.0.0.1:$port"
  local protocols="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
  [[ -z $sasl_port ]] || {
    listeners+=",SASL_PLAINTEXT://127.0.0.1:$sasl_port"
    protocols+=",SASL_PLAINTEXT:SASL_PLAINTEXT"
  }
  [[ -z $ssl_port ]] || {
    listeners+=",SSL://127.0.0.1:$ssl_port"
    protocols+=",SSL:SSL"
    make_tls
  }
  cat >"$config" <<EOF
# Generated by $prog; rewritten on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=$listeners,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=$listeners
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=$protocols
log.dirs=$data_dir
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
# Test records carry old (2024) timestamps: never delete by time.
log.retention.ms=-1
log.retention.bytes=-1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
EOF
  [[ -z $sasl_port ]] || cat >>"$config" <<'EOF'
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_aftermath="aftermath-secret";
EOF
  [[ -z $ssl_port ]] || cat >>"$config" <<EOF
listener.name.ssl.ssl.keystore.type=PEM
listener.name.ssl.ssl.keystore.location=$state_dir/tls/server.pem
listener.name.ssl.ssl.client.auth=none
EOF

  # Broker log goes to a file only; Kafka's own console output is empty.
  cat >"$state_dir/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $broker_log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
EOF

  # Command-line tools (storage tool, topic tool): warnings to stderr.
  cat >"$state_dir/tools-log4j2.properties" <<'EOF'
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
EOF
}

# Runs a Kafka tool class from the cached jars.
run_tool() {
  "$java" -Xmx256m -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$state_dir/tools-log4j2.properties" \
    -cp "$libs_dir/*" "$@"
}

print_log_tail() {
  if [[ -s $broker_log ]]; then
    echo "---- last lines of $broker_log ----" >&2
    tail -n 40 "$broker_log" >&2
  fi
  if [[ -s $log_dir/stdout.log ]]; then
    echo "---- last lines of $log_dir/stdout.log ----" >&2
    tail -n 20 "$log_dir/stdout.log" >&2
  fi
}

# start [keep]: with keep, reuse the formatted data dir of an earlier start.
start() {
  local keep=${1:-} java pid cluster_id jvm deadline
  java=$(java_bin)
  need kcat "install it with apt-get install kcat"
  need flock "install util-linux"
  fetch

  mkdir -p "$state_dir" || die "cannot create state dir $state_dir"
  exec 9>"$state_dir/.lock"
  flock 9

  if pid=$(running_pid); then
    echo "$prog: broker already running (pid $pid) on $bootstrap" >&2
    return 0
  fi
  port_in_use "$port" && die "port $port on 127.0.0.1 is already in use (set AFTERMATH_KAFKA_PORT)"
  port_in_use "$controller_port" &&
    die "controller port $controller_port on 127.0.0.1 is already in use (set AFTERMATH_KAFKA_CONTROLLER_PORT)"
  for p in $sasl_port $ssl_port; do
    port_in_use "$p" && die "port $p on 127.0.0.1 is already in use (AFTERMATH_KAFKA_SASL_PORT/SSL_PORT)"
  done

  if [[ -n $keep ]]; then
    [[ -f $data_dir/meta.properties ]] ||
      die "restart: no formatted data in $data_dir (run '$prog start' first)"
    rm -f -- "$pid_file"
    mkdir -p "$log_dir"
    write_config
  else
    rm -rf -- "$data_dir" "$log_dir" "$pid_file"
    mkdir -p "$data_dir" "$log_dir"
    write_config

    cluster_id=$(run_tool kafka.tools.StorageTool random-uuid) ||
      die "kafka.tools.StorageTool random-uuid failed"
    if ! run_tool kafka.tools.StorageTool format -t "$cluster_id" -c "$config" \
      >"$log_dir/format.log" 2>&1; then
      cat "$log_dir/format.log" >&2
      die "formatting $data_dir failed"
    fi
  fi

  read -r -a jvm <<<"$jvm_opts"
  # fds: no stdin, output to a file, and the start lock (fd 9) not inherited.
  "$java" "${jvm[@]}" -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$state_dir/log4j2.properties" \
    -Dkafka.logs.dir="$log_dir" \
    -cp "$libs_dir/*" kafka.Kafka "$config" \
    </dev/null >"$log_dir/stdout.log" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$pid_file"

  deadline=$((SECONDS + start_timeout))
  until broker_answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      print_log_tail
      rm -f "$pid_file"
      die "broker exited during startup"
    fi
    if ((SECONDS >= deadline)); then
      print_log_tail
      stop_pid "$pid"
      rm -f "$pid_file"
      die "broker did not answer on $bootstrap within ${start_timeout}s"
    fi
    sleep 0.2
  done
  echo "$prog: broker running (pid $pid) on $bootstrap" >&2
}

stop_pid() {
  local pid=$1 deadline
  kill -TERM "$pid" 2>/dev/null || return 0
  deadline=$((SECONDS + stop_timeout))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      echo "$prog: broker (pid $pid) ignored SIGTERM for ${stop_timeout}s, sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$((SECONDS + 5))
      while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
      break
    fi
    sleep 0.1
  done
  # Reap it if it is our child (only when start failed); harmless otherwise.
  wait "$pid" 2>/dev/null || true
}

stop() {
  local pid
  need flock "install util-linux"
  [[ -d $state_dir ]] || return 0
  exec 9>"$state_dir/.lock"
  flock 9
  if pid=$(running_pid); then
    stop_pid "$pid"
    echo "$prog: broker (pid $pid) stopped" >&2
  fi
  rm -f "$pid_file"
}

status() {
  local pid
  if pid=$(running_pid); then
    echo "running (pid $pid) on $bootstrap"
  else
    echo "not running"
    return 3
  fi
}

# topic NAME PARTITIONS [KEY=VALUE...]: creates the topic with those topic
# configs (retention.ms=-1 unless one is given), e.g. cleanup.policy=compact.
topic() {
  local name=$1 partitions=$2 java deadline md kv configs=()
  shift 2
  [[ -n $name ]] || die "topic: empty topic name"
  [[ $partitions =~ ^[1-9][0-9]*$ ]] ||
    die "topic: PARTITIONS must be a positive number, got '$partitions'"
  for kv in "$@"; do
    [[ $kv =~ ^[a-z][a-z0-9.]*=[^[:space:]]+$ ]] || die "topic: config must be KEY=VALUE, got '$kv'"
    configs+=(--config "$kv")
  done
  [[ " $* " == *" retention.ms="* ]] || configs+=(--config retention.ms=-1)
  java=$(java_bin)
  running_pid >/dev/null || die "broker is not running (run '$prog start' first)"
  libs_ready || die "Kafka jars missing from $libs_dir (run '$prog fetch')"
  run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
    --create --topic "$name" --partitions "$partitions" --replication-factor 1 \
    "${configs[@]}" >/dev/null ||
    die "creating topic '$name' failed"
  # Wait until the broker's metadata shows every partition with a leader.
  deadline=$((SECONDS + 30))
  while :; do
    md=$(timeout 10 kcat -L -b "$bootstrap" -t "$name" -m 5 2>/dev/null) || md=
    if [[ $md == *"topic \"$name\" with $partitions partitions:"* ]] &&
      [[ $(grep -c 'leader 1,' <<<"$md") -eq $partitions ]]; then
      break
    fi
    ((SECONDS < deadline)) || die "topic '$name' created but its partitions have no leader after 30s"
    sleep 0.1
  done
}

check_settings
case ${1:-} in
  start) (($# == 1)) || usage; start ;;
  restart) (($# == 1)) || usage; stop; start keep ;;
  stop) (($# == 1)) || usage; stop ;;
  status) (($# == 1)) || usage; status ;;
  bootstrap) (($# == 1)) || usage; echo "$bootstrap" ;;
  fetch) (($# == 1)) || usage; fetch ;;
  check) (($# == 1)) || usage; check ;;
  topic) (($# >= 3)) || usage; shift; topic "$@" ;;
  ca)
    (($# == 1)) || usage
    [[ -f $state_dir/tls/ca.pem ]] || die "no CA: start the broker with AFTERMATH_KAFKA_SSL_PORT set"
    echo "$state_dir/tls/ca.pem"
    ;;
  *) usage ;;
esac
