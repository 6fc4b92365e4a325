#!/bin/bash
# aftermath-healthcheck - the container image's HEALTHCHECK: GET /healthz
# on aftermath's metrics listener; healthy (exit 0) only on HTTP 200.
#
# debian:bookworm-slim has neither curl nor wget, and installing one (curl
# pulls libcurl4 and a dozen libraries) only for this adds packages to
# patch. bash, which the base image has anyway, opens the TCP connection
# itself (/dev/tcp), and an HTTP/1.0 GET is two lines.
#
# Usage: aftermath-healthcheck [HOST:PORT]   (default: $AFTERMATH_METRICS,
# which the image sets). A wildcard listen address (0.0.0.0, [::], empty
# host) is reached on loopback. Prints the status line; exit 1 otherwise.
set -u
addr=${1:-${AFTERMATH_METRICS:-}}
if [[ -z $addr || $addr != *:* ]]; then
    echo "aftermath-healthcheck: no HOST:PORT (set AFTERMATH_METRICS or pass it)" >&2
    exit 1
fi
port=${addr##*:}
host=${addr%:*}
host=${host#[}
host=${host%]}
case $host in
'' | 0.0.0.0 | '*') host=127.0.0.1 ;;
::) host=::1 ;;
esac
if [[ ! $port =~ ^[0-9]+$ ]]; then
    echo "aftermath-healthcheck: '$addr': the port is not a number" >&2
    exit 1
fi
if ! { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null; then
    echo "aftermath-healthcheck: cannot connect to $host:$port" >&2
    exit 1
fi
printf 'GET /healthz HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$host" >&3
if ! IFS= read -r -t 5 status <&3; then
    echo "aftermath-healthcheck: no answer from $host:$port" >&2
    exit 1
fi
status=${status%$'\r'}
case $status in
HTTP/1.?' 200' | HTTP/1.?' 200 '*)
    echo "$status"
    exit 0
    ;;
esac
echo "aftermath-healthcheck: $host:$port/healthz: ${status:-empty answer}" >&2
exit 1
