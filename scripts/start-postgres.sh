#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster for the test suite and print its URL.
# Usage: eval "$(scripts/start-postgres.sh)"   → exports DUNBOT_TEST_POSTGRES_URL
# Needs Debian's postgresql package; as root the server runs as the `postgres` user.
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "PostgreSQL server binaries not found: apt-get install postgresql" >&2
  exit 1
fi
port=${DUNBOT_PG_PORT:-55432}
dir=${DUNBOT_PG_DIR:-/tmp/dunbot-pg-$port}
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if ! run "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
  rm -rf "$dir"; mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  run "$bindir/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null
  run "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
    -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
fi
echo "export DUNBOT_TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:$port/postgres"
