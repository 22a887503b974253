#!/usr/bin/env bash
# Installs what Vitrina needs from Debian's packages, and only what is missing:
# PostgreSQL's server programs (for the embedded cluster and the test cluster), libargon2 (password hashing),
# pkg-config; and what a target names (e.g. dnsmasq for the tests, python3-venv for the local embeddings server);
# with --only, just what it names. Works as root, or through sudo for an ordinary user (without a terminal, sudo may
# not ask for a password: the server runs this when it installs the local embeddings server).
set -euo pipefail

only=false
if [ "${1:-}" = --only ]; then only=true; shift; fi
extra=("$@")   # e.g. wrk chromium for `make bench` / `make screenshots`
missing=()
if [ "$only" = false ]; then
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
    missing+=(postgresql)
  fi
  if [ ! -f /usr/include/argon2.h ]; then missing+=(libargon2-dev); fi
  if ! command -v pkg-config >/dev/null 2>&1; then missing+=(pkg-config); fi
fi
for program in "${extra[@]}"; do
  case "$program" in
    # The tests' DNS server on loopback (custom-domain verification); the binary lives in /usr/sbin.
    dnsmasq) [ -x /usr/sbin/dnsmasq ] || command -v dnsmasq >/dev/null 2>&1 || missing+=(dnsmasq-base) ;;
    # The local embeddings server's virtualenv (scripts/install-embeddings.sh): Debian splits venv and ensurepip out.
    python3-venv) python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv) ;;
    # docs/WIDGET.md's server-side example in PHP, which the tests run (Debian's package is php-cli, the program php).
    php) command -v php >/dev/null 2>&1 || missing+=(php-cli) ;;
    *) command -v "$program" >/dev/null 2>&1 || missing+=("$program") ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  if [ -t 0 ]; then as_root=(sudo); else as_root=(sudo -n); fi
else
  echo "Vitrina needs these Debian packages: ${missing[*]}" >&2
  echo "Install them as root: apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "Installed: ${missing[*]}"
