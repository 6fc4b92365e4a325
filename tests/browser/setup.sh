#!/usr/bin/env bash
# Installs the browser tests' client: the Selenium Python bindings from
# PyPI into a virtual environment of their own (default
# ~/.cache/aftermath-browser/venv; AFTERMATH_BROWSER_VENV overrides). The
# browser and its driver are Debian's chromium and chromium-driver
# (deploy/install-deps.sh); nothing here downloads a browser or a driver,
# and the tests never let Selenium Manager run.
# Idempotent: prints nothing when the client is there.
set -euo pipefail
venv=${AFTERMATH_BROWSER_VENV:-$HOME/.cache/aftermath-browser/venv}
# Pinned: a version whose dependencies PyPI's mirror here holds.
version=4.27.1
if [ -x "$venv/bin/python" ] &&
   "$venv/bin/python" -c "import selenium, sys; sys.exit(selenium.__version__ != '$version')" 2>/dev/null; then
  exit 0
fi
echo "browser setup: installing selenium $version into $venv" >&2
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "selenium==$version"
