# hostile_check.sh - sourced by the hostile-record tests (replay and Kafka).
# check_hostile DB EXPECT GOOD: the rejected table holds exactly the
# records of EXPECT (tests/lib/hostile.py), in order, each with a reason
# containing the expected text, and the GOOD good notes are all stored.
check_hostile() {
  local db=$1 expect=$2 ngood=$3 n=0 reason
  mapfile -t reasons < <(sqlite3 "$db" "SELECT replace(reason, char(10), ' ') FROM rejected ORDER BY seq")
  while IFS=$'\t' read -r _ kind want; do
    reason=${reasons[$n]:-}
    [[ -n $reason && $reason == *"$want"* ]] ||
      { echo "FAIL: $kind: reason '$reason' does not say '$want'" >&2; return 1; }
    printf '  %-58s %s\n' "$kind" "${reason:0:90}"
    n=$((n + 1))
  done <"$expect"
  [ "${#reasons[@]}" = "$n" ] || { echo "FAIL: ${#reasons[@]} records rejected, want $n" >&2; return 1; }
  local got
  got=$(sqlite3 "$db" "SELECT count(*) FROM events WHERE summary LIKE 'good %'")
  [ "$got" = "$ngood" ] || { echo "FAIL: $got of $ngood good records stored" >&2; return 1; }
  [ "$(sqlite3 "$db" 'SELECT count(*) FROM events')" = "$ngood" ] ||
    { echo "FAIL: events stored from hostile records" >&2; return 1; }
  [ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] || { echo "FAIL: integrity_check" >&2; return 1; }
  echo "$n hostile record kinds rejected with their reason, $ngood good records kept"
}
