#!/usr/bin/env bash
# Installs schemathesis (PyPI, MIT), the API's contract checker (scripts/api-contract.py), into a virtualenv and prints
# the path of its program: scripts/install-schemathesis.sh [<venv-dir>]. The default folder is
# ${XDG_CACHE_HOME:-~/.cache}/vitrina/schemathesis-venv, which outlives .build and fresh clones. Idempotent: does nothing
# when the pinned version is there. Needs python3 with its venv module (install-deps.sh python3-venv) and PyPI.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${XDG_CACHE_HOME:-}" ]; then cache="$XDG_CACHE_HOME"; elif [ -n "${HOME:-}" ]; then cache="$HOME/.cache"; else cache="$here/../.build"; fi
venv=${1:-$cache/vitrina/schemathesis-venv}
version=${VITRINA_SCHEMATHESIS_VERSION:-4.32.5}
marker="$venv/schemathesis.version"

installed() { [ -x "$venv/bin/schemathesis" ] && [ "$(cat "$marker" 2>/dev/null)" = "$version" ]; }
if ! installed; then
  mkdir -p "$(dirname "$venv")"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$venv.lock"
    flock 9
  fi
  if ! installed; then
    if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
      "$here/install-deps.sh" --only python3-venv >&2
    fi
    echo "Installing schemathesis $version into $venv (once)…" >&2
    if [ ! -x "$venv/bin/pip" ]; then
      rm -rf "$venv"
      python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input "schemathesis==$version" >&2
    [ -x "$venv/bin/schemathesis" ] || { echo "schemathesis installed, but $venv/bin/schemathesis is missing." >&2; exit 1; }
    echo "$version" >"$marker"
  fi
fi
echo "$venv/bin/schemathesis"
