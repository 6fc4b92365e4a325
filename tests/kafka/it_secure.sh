#!/usr/bin/env bash
# Integration (broker security): the test broker's SASL_PLAINTEXT (PLAIN)
# and SSL listeners (tests/kafka/broker.sh with AFTERMATH_KAFKA_SASL_PORT
# and AFTERMATH_KAFKA_SSL_PORT; the TLS certificate is signed by a
# throwaway CA made at broker start). `aftermath run` consumes the example
# through each with the right credentials / CA; with a wrong password or
# without the CA it exits 1 at once with a message saying authentication
# failed and why. The password never appears in the logs (at debug level),
# in the error or in --print-config.
# Usage: it_secure.sh AFTERMATH AM_PRODUCE BROKER_SH WORK EXAMPLE
AM=$1 PRODUCE=$2 BROKER=$3 WORK=$4 EXAMPLE=$5
. "$(dirname "$0")/lib.sh"
: "${AFTERMATH_KAFKA_SASL_PORT:?the broker needs AFTERMATH_KAFKA_SASL_PORT}"
: "${AFTERMATH_KAFKA_SSL_PORT:?the broker needs AFTERMATH_KAFKA_SSL_PORT}"
ca=$("$BROKER" ca)
pw=aftermath-secret

prefix="its-$RUN-"
"$PRODUCE" --brokers "$B" --create-topics --topic-prefix "$prefix" "$EXAMPLE" 2>"$WORK/produce.err" ||
  { cat "$WORK/produce.err"; fail "am_produce"; }
topics="${prefix}alerts,${prefix}deploys,${prefix}acks,${prefix}notes"
"$AM" replay --db "$WORK/replay.db" "$EXAMPLE" >/dev/null 2>&1 || fail "replay"

sasl_config() { # sasl_config FILE PASSWORD
  cat >"$1" <<YAML
version: 1
kafka:
  bootstrap.servers: 127.0.0.1:$AFTERMATH_KAFKA_SASL_PORT
  security.protocol: SASL_PLAINTEXT
  sasl.mechanisms: PLAIN
  sasl.username: aftermath
  sasl.password: $2
YAML
}
no_password() { # no_password SECRET FILE...: the secret is in none of the files
  local s=$1
  shift
  ! grep -l -- "$s" "$@" || fail "the password appears in $*"
}

# SASL, right credentials: consumes everything.
sasl_config "$WORK/sasl.yaml" "$pw"
AFTERMATH_TOPICS=$topics "$AM" --log-level debug run --config "$WORK/sasl.yaml" --group "its-$RUN-sasl" \
  --db "$WORK/sasl.db" --exit-when-idle 1 >"$WORK/sasl.out" 2>"$WORK/sasl.err" ||
  { tail "$WORK/sasl.err"; fail "SASL run exited $?"; }
same_events "$WORK/sasl.db" "$WORK/replay.db" "events through SASL differ from a replay"
"$AM" run --config "$WORK/sasl.yaml" --print-config >"$WORK/print.out" 2>&1 || fail "--print-config"
grep -q 'sasl.password: "\*\*\*"' "$WORK/print.out" || fail "--print-config does not mask the password"
no_password "$pw" "$WORK/sasl.err" "$WORK/sasl.out" "$WORK/print.out"
echo "SASL/PLAIN with the right password: $(sqlite3 "$WORK/sasl.db" 'SELECT count(*) FROM events') events"

# SASL, wrong password: exit 1 at once, saying why.
sasl_config "$WORK/wrong.yaml" "not-the-$pw"
rc=0
AFTERMATH_TOPICS=$topics "$AM" --log-level debug run --config "$WORK/wrong.yaml" --group "its-$RUN-wrong" \
  --db "$WORK/wrong.db" --exit-when-idle 1 >"$WORK/wrong.out" 2>"$WORK/wrong.err" || rc=$?
[ $rc = 1 ] || { tail "$WORK/wrong.err"; fail "wrong password: exit $rc, want 1"; }
grep -q '^aftermath run: Kafka authentication failed: .*Invalid username or password' "$WORK/wrong.err" ||
  { tail -3 "$WORK/wrong.err"; fail "wrong password: unclear message"; }
no_password "not-the-$pw" "$WORK/wrong.err" "$WORK/wrong.out"
[ "$(committed "$WORK/wrong.db")" = 0 ] || fail "records consumed with a wrong password"
grep '^aftermath run:' "$WORK/wrong.err" | cut -c1-160

# TLS, trusting the test CA: consumes everything.
export AFTERMATH_TOPICS=$topics AFTERMATH_KAFKA__SECURITY_PROTOCOL=SSL
AFTERMATH_KAFKA__SSL_CA_LOCATION=$ca "$AM" run --brokers "127.0.0.1:$AFTERMATH_KAFKA_SSL_PORT" \
  --group "its-$RUN-tls" --db "$WORK/tls.db" --exit-when-idle 1 2>"$WORK/tls.err" ||
  { tail "$WORK/tls.err"; fail "TLS run exited $?"; }
same_events "$WORK/tls.db" "$WORK/replay.db" "events through TLS differ from a replay"
echo "TLS with the test CA: $(sqlite3 "$WORK/tls.db" 'SELECT count(*) FROM events') events"

# TLS, another CA: the broker's certificate is refused.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=not the test CA" \
  -keyout "$WORK/other.key" -out "$WORK/other.pem" >/dev/null 2>&1 || fail "openssl"
rc=0
AFTERMATH_KAFKA__SSL_CA_LOCATION=$WORK/other.pem "$AM" run --brokers "127.0.0.1:$AFTERMATH_KAFKA_SSL_PORT" \
  --group "its-$RUN-untrusted" --db "$WORK/untrusted.db" --exit-when-idle 1 2>"$WORK/untrusted.err" || rc=$?
[ $rc = 1 ] || { tail "$WORK/untrusted.err"; fail "untrusted certificate: exit $rc, want 1"; }
grep -q '^aftermath run: Kafka authentication failed: .*certificate verify failed' "$WORK/untrusted.err" ||
  { tail -3 "$WORK/untrusted.err"; fail "untrusted certificate: unclear message"; }
grep '^aftermath run:' "$WORK/untrusted.err" | cut -c1-160
echo "integration secure: ok"
