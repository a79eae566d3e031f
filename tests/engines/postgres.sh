#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests: Debian's PostgreSQL 15, on a temporary
# directory and port, as the `postgres` user (it refuses to run as root). fsync is off
# (tests need no durability) unless HASTEN_PG_FSYNC=on (the benchmarks).
#
#   tests/engines/postgres.sh start DIR PORT   # prints the cluster's URL
#   tests/engines/postgres.sh stop DIR
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ]; then
  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "${1:-}" in
  start)
    dir=$2 port=$3
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_pg "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >"$dir.initdb.log" 2>&1 \
      || { cat "$dir.initdb.log"; exit 1; }
    as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 30 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=${HASTEN_PG_FSYNC:-off} -c max_connections=300" start >/dev/null \
      || { cat "$dir/server.log"; exit 1; }
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    as_pg "$bin/pg_ctl" -D "$2" -m fast -w stop >/dev/null || true
    rm -rf "$2" "$2.initdb.log"
    ;;
  *)
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
