#!/usr/bin/env bash
# aftermath's own keyed-topic records (format aftermath-event) end to end:
# the example is replayed; every stored event is written as a keyed value
# by SQLite's json_object (a writer independent of ingest_keyed_value,
# following docs/formats.md) in a kcat envelope whose ts is not the
# event's; replay --format aftermath-event stores the very same events
# (every column, observed_at included) and correlates them into the same
# incidents. Without --format the values are not detected; a value of
# another schema_version is refused by name.
# Usage: replay_keyed.sh AFTERMATH EXAMPLES_DIR WORK_DIR
set -euo pipefail
am=$1 examples=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
cols="id, kind, status, source, name, identity, service, environment, severity, labels,
      annotations, summary, starts_at, ends_at, observed_at, actor, version, url"
inc="id, rule, gkey, status, started_at, detected_at, acknowledged_at, mitigated_at, resolved_at,
     alerts, services, suspects, during, flapping, same_values, link_basis"

src=$work/source.db
"$am" replay -q --db "$src" "$examples/payments-latency.ndjson" 2>/dev/null || true
[ "$(sqlite3 "$src" 'SELECT count(*) FROM events')" = 15 ] || fail "example events"

sqlite3 "$src" "SELECT json_object('topic', 'aftermath.keyed', 'partition', 0, 'offset', seq,
  'ts', 1, 'key', id, 'payload', json_object('schema_version', 1, 'event', json_object(
  'id', id, 'kind', kind, 'status', status, 'source', source, 'name', name,
  'identity', identity, 'service', service, 'environment', environment, 'severity', severity,
  'labels', json(labels), 'annotations', json(annotations), 'summary', summary,
  'starts_at', starts_at, 'ends_at', ends_at, 'observed_at', observed_at, 'actor', actor,
  'version', version, 'url', url)) || '') FROM events ORDER BY seq" >"$work/keyed.ndjson"
[ "$(wc -l <"$work/keyed.ndjson")" = 15 ] || fail "keyed dump"

keyed=$work/keyed.db
"$am" replay --db "$keyed" --format aftermath-event "$work/keyed.ndjson" >"$work/out" 2>"$work/err" ||
  { cat "$work/err"; fail "replay --format aftermath-event exited $?"; }
grep -q 'stored      15 (alert 10, deploy 3, ack 1, note 1)' "$work/out" || { cat "$work/out"; fail "stored count"; }
grep -q 'rejected    0' "$work/out" || { cat "$work/out"; fail "nothing rejected"; }
q() { sqlite3 "$1" "SELECT $2 FROM $3 ORDER BY id"; }
[ "$(q "$src" "$cols" events)" = "$(q "$keyed" "$cols" events)" ] || fail "events differ"
[ "$(q "$src" "$inc" incidents)" = "$(q "$keyed" "$inc" incidents)" ] || fail "incidents differ"
[ "$(sqlite3 "$keyed" 'SELECT count(*) FROM incidents')" -ge 1 ] || fail "no incident"
[ "$(sqlite3 "$keyed" 'SELECT count(*) FROM events WHERE observed_at = 1')" = 0 ] ||
  fail "observed_at taken from the record timestamp"

# Not detected: the same values without --format are not a known format.
"$am" replay --db "$work/auto.db" "$work/keyed.ndjson" >"$work/out2" 2>"$work/err2" || true
grep -q 'stored      0 ' "$work/out2" || { cat "$work/out2"; fail "detected without --format"; }
grep -q 'not a known format' "$work/err2" || { cat "$work/err2"; fail "reason without --format"; }

# Another schema_version is refused, naming the field.
echo '{"schema_version":2,"event":{}}' >"$work/v2.ndjson"
"$am" replay --db "$work/v2.db" --format aftermath-event "$work/v2.ndjson" >"$work/out3" 2>"$work/err3" || true
grep -q 'rejected    1' "$work/out3" || { cat "$work/out3"; fail "version 2 not rejected"; }
grep -q 'aftermath-event: field schema_version: 2 is not 1' "$work/err3" || { cat "$work/err3"; fail "version 2 reason"; }
echo "replay_keyed: ok"
