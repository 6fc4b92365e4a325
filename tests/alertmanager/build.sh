#!/usr/bin/env bash
# Builds the real Prometheus Alertmanager (pinned version) for aftermath's
# integration tests, from the Go module proxy with the machine's Go, into a
# cache directory; idempotent: a finished build is reused, and the script
# only prints the binary's path.
#
# The module as the proxy serves it lacks the web UI's build output
# (ui/web.go embeds app/dist, made by npm in Alertmanager's own release
# process), so the build copies the module to a scratch directory and adds
# one placeholder index.html for each of the two UIs ui/web.go serves
# (app/dist/elm, app/dist/mantine). The tests use only the HTTP API.
# Dependencies come from the proxy too, checked against the module's go.sum.
#
# Usage: tests/alertmanager/build.sh          build if needed; print the path
# Environment:
#   AFTERMATH_AM_HOME   cache directory (default ~/.cache/aftermath-alertmanager)
#   AFTERMATH_AM_VERSION  module version (default 0.35.0; the tests are written for it)
set -euo pipefail

prog=${0##*/}
version=${AFTERMATH_AM_VERSION:-0.35.0}
cache=${AFTERMATH_AM_HOME:-${HOME:?HOME is not set}/.cache/aftermath-alertmanager}
out="$cache/alertmanager-$version"
bin="$out/alertmanager"

die() {
  printf '%s: %s\n' "$prog" "$*" >&2
  exit 1
}

if [ -x "$bin" ] && "$bin" --version 2>&1 | grep -q "version $version "; then
  printf '%s\n' "$bin"
  exit 0
fi

command -v go >/dev/null 2>&1 || {
  [ -x /usr/local/go/bin/go ] && PATH=/usr/local/go/bin:$PATH
  command -v go >/dev/null 2>&1 ||
    die "Go is not installed (need go >= 1.26 on PATH, or in /usr/local/go): it builds Alertmanager $version for the tests"
}

module=github.com/prometheus/alertmanager
printf '%s: building Alertmanager %s with %s (first time: a few minutes)\n' \
  "$prog" "$version" "$(go version)" >&2

# The module's directory in the Go module cache (read-only there).
json=$(go mod download -json "$module@v$version") ||
  die "go mod download $module@v$version failed (the Go module proxy: GOPROXY=$(go env GOPROXY))"
src=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -n "$src" ] && [ -f "$src/go.mod" ] || die "go mod download $module@v$version gave no module directory"

mkdir -p "$cache"
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -R "$src/." "$work/src"
chmod -R u+w "$work/src"

# The two roots ui/web.go serves from its embedded app/dist.
for ui in elm mantine; do
  mkdir -p "$work/src/ui/app/dist/$ui"
  printf '<!doctype html><title>Alertmanager</title><p>UI not built (aftermath test build): use the API.\n' \
    >"$work/src/ui/app/dist/$ui/index.html"
done

(
  cd "$work/src"
  GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0 go build -trimpath \
    -ldflags "-X github.com/prometheus/common/version.Version=$version -X github.com/prometheus/common/version.Branch=module-proxy" \
    -o "$work/alertmanager" ./cmd/alertmanager
) || die "go build of Alertmanager $version failed"

mkdir -p "$out"
mv -f "$work/alertmanager" "$bin.tmp"
mv -f "$bin.tmp" "$bin"
"$bin" --version 2>&1 | grep -q "version $version " || die "$bin does not report version $version"
printf '%s\n' "$bin"
