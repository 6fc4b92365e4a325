#!/usr/bin/env bash
# Installs every build and test dependency of aftermath on a Debian machine.
# Idempotent: when everything is present it prints nothing and exits 0.
# Chromium renders the HTML draft in a test and, driven through
# chromium-driver by Selenium (tests/browser/setup.sh, in a python3-venv),
# the web pages; cmark-gfm the Markdown one; promtool (package prometheus)
# checks the metrics exposition and curl scrapes it in tests. Java and Maven run the
# integration tests' real Kafka broker
# (tests/kafka/broker.sh), whose jars scripts/check.sh then fetches.
# Usage: deploy/install-deps.sh [--build-only] [--list]   (as root, or with sudo)
#   --build-only: only what building and running aftermath needs (the
#   demo), not the test tools (cmocka, clang, Chromium, Java, Maven, kcat).
set -euo pipefail

pkgs=(
  build-essential cmake ninja-build pkg-config
  librdkafka-dev libjansson-dev libyaml-dev libsqlite3-dev sqlite3
  libmicrohttpd-dev libgnutls28-dev
)
if [ "${1:-}" != --build-only ]; then
  pkgs+=(
    libcmocka-dev
    clang libclang-rt-14-dev clang-format
    kcat python3 python3-venv chromium chromium-driver valgrind openssl cmark-gfm
    prometheus curl
    openjdk-17-jre-headless maven
  )
fi

# The deploy kit's checks (tests/deploy): YAML parsing, systemd-analyze
# verify, man -l on the generated man page.
if [ "${1:-}" != --build-only ]; then
  pkgs+=(python3-yaml systemd man-db)
fi
# --list (after --build-only, if given): print the packages and exit; the
# deploy test compares them with deploy/Dockerfile.
if [ "${1:-}" = --list ] || [ "${2:-}" = --list ]; then
  printf '%s\n' "${pkgs[@]}"
  exit 0
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
