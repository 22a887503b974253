#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster: created in a temporary folder, listening on a Unix socket
# only, tuned for tests (no fsync), and removed afterwards whatever happens. The command sees its address in
# VITRINA_TEST_DATABASE_URL. As root, the cluster runs as the unprivileged 'postgres' user (PostgreSQL refuses root).
# It runs beside a local embeddings server too (scripts/with-test-embeddings.sh: VITRINA_TEST_EMBEDDINGS_URL).
set -euo pipefail

bindir=""
if command -v initdb >/dev/null 2>&1; then bindir=$(dirname "$(readlink -f "$(command -v initdb)")"); fi
if [ -z "$bindir" ]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "PostgreSQL server programs not found; run 'make deps' (apt-get install postgresql)." >&2
  exit 1
fi

as_owner=()
dir=$(mktemp -d /tmp/vitrina-test-pg.XXXXXX)
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$dir"
  as_owner=(runuser -u postgres --)
fi
cleanup() {
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

"${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U vitrina --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
  --no-instructions >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
"${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
  -o "-k $dir -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=600" \
  start >/dev/null || { cat "$dir/postgres.log" >&2; exit 1; }

export VITRINA_TEST_DATABASE_URL="postgres://vitrina@/postgres?host=$dir"
echo "Throwaway PostgreSQL ($("$bindir/postgres" --version)) at $dir"
"$(dirname "$0")/with-test-embeddings.sh" "$@"
