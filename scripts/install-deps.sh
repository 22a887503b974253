#!/usr/bin/env bash
# Installs what Vitrina needs from Debian's packages, and only what is missing:
# PostgreSQL's server programs (for the embedded cluster and the test cluster), libargon2 (password hashing),
# pkg-config. Works as root, or through sudo for an ordinary user.
set -euo pipefail

extra=("$@")   # e.g. wrk chromium for `make bench` / `make screenshots`
missing=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi
if [ ! -f /usr/include/argon2.h ]; then missing+=(libargon2-dev); fi
if ! command -v pkg-config >/dev/null 2>&1; then missing+=(pkg-config); fi
for program in "${extra[@]}"; do
  if ! command -v "$program" >/dev/null 2>&1; then missing+=("$program"); fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "Vitrina needs these Debian packages: ${missing[*]}" >&2
  echo "Install them as root: apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "Installed: ${missing[*]}"
