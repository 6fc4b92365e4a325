#!/usr/bin/env bash
# ctest's entry to the browser tests: runs pages.py with the Selenium client
# that tests/browser/setup.sh installed, or fails saying what is missing.
# usage: run.sh AFTERMATH EXAMPLES_DIR WORK_DIR PORT [--docs DIR]
set -euo pipefail
venv=${AFTERMATH_BROWSER_VENV:-$HOME/.cache/aftermath-browser/venv}
if [ ! -x "$venv/bin/python" ]; then
  echo "browser_pages: FAIL: no Selenium client in $venv: run tests/browser/setup.sh" >&2
  exit 1
fi
exec "$venv/bin/python" "$(dirname "$0")/pages.py" "$@"
