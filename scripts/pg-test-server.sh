#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1 for tests, from Debian's
# `postgresql` package (scripts/deps-test.txt): initdb into DIR, pg_ctl on a
# port. As root the server runs as the `postgres` system user (initdb and
# postgres refuse root); DIR is handed to that user.
#
#   scripts/pg-test-server.sh start DIR PORT    wipes DIR, initdb, starts, prints the URI
#   scripts/pg-test-server.sh stop DIR [MODE]    stop; MODE immediate (default: like a crash, WAL
#                                                replays on start) or fast (clean)
#   scripts/pg-test-server.sh resume DIR         start a stopped server again (same port and data)
#   scripts/pg-test-server.sh restart DIR [MODE]  stop (MODE fast|immediate, default fast), start again
#   scripts/pg-test-server.sh createdb DIR NAME  creates database NAME, prints its URI
#
# `start` prints one line on stdout, the URI of database `carelog`:
#   postgresql://carelog:carelog-test@127.0.0.1:PORT/carelog
# Test settings: fsync=off (writes still reach the kernel before COMMIT
# returns, so they survive the server being killed, not the machine),
# small buffers, 200 connections.
# Env: CARELOG_PG_BINDIR overrides /usr/lib/postgresql/<newest>/bin.
set -euo pipefail

usage() {
  echo "usage: $0 start DIR PORT | stop DIR [fast|immediate] | resume DIR | restart DIR [fast|immediate] |" \
       "createdb DIR NAME" >&2
  exit 2
}
[[ $# -ge 2 ]] || usage
cmd=$1
dir=$(realpath -m "$2")
user=carelog
password=carelog-test

bindir=${CARELOG_PG_BINDIR:-}
if [[ -z $bindir ]]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
fi
if [[ -z $bindir || ! -x $bindir/initdb || ! -x $bindir/pg_ctl ]]; then
  echo "pg-test-server: PostgreSQL server binaries not found (install the Debian package 'postgresql'," \
       "listed in scripts/deps-test.txt, or set CARELOG_PG_BINDIR)" >&2
  exit 1
fi

# as_pg CMD...: runs CMD as the server's owner.
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_ctl_() { as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" "$@"; }

start_server() {
  local port
  port=$(cat "$dir/port")
  # -w waits until the server accepts connections.
  pg_ctl_ -w -t 60 -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off \
-c full_page_writes=off -c synchronous_commit=on -c shared_buffers=16MB -c max_connections=200 \
-c log_min_messages=warning" start >/dev/null || {
    echo "pg-test-server: server did not start; log:" >&2
    tail -n 40 "$dir/server.log" >&2 || true
    exit 1
  }
}

psql_() {
  PGPASSWORD=$password "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(cat "$dir/port")" -U "$user" "$@"
}

case $cmd in
  start)
    [[ $# -eq 3 ]] || usage
    port=$3
    if [[ -f $dir/data/postmaster.pid ]]; then pg_ctl_ -m immediate stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    mkdir -p "$dir"
    echo "$port" >"$dir/port"
    printf '%s\n' "$password" >"$dir/pwfile"
    if [[ $(id -u) -eq 0 ]]; then
      id postgres >/dev/null 2>&1 || { echo "pg-test-server: no 'postgres' user (the postgresql package creates it)" >&2; exit 1; }
      chown -R postgres: "$dir"
    fi
    as_pg "$bindir/initdb" -D "$dir/data" -U "$user" --pwfile="$dir/pwfile" --auth=scram-sha-256 \
      -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
      echo "pg-test-server: initdb failed:" >&2; cat "$dir/initdb.log" >&2; exit 1; }
    start_server
    psql_ -d postgres -c "CREATE DATABASE carelog"
    echo "postgresql://$user:$password@127.0.0.1:$port/carelog"
    ;;
  stop)
    [[ -d $dir/data ]] || exit 0
    pg_ctl_ -m "${3:-immediate}" stop >/dev/null 2>&1 || true
    ;;
  resume)
    start_server
    ;;
  restart)
    mode=${3:-fast}
    pg_ctl_ -m "$mode" stop >/dev/null 2>&1 || true
    start_server
    ;;
  createdb)
    [[ $# -eq 3 ]] || usage
    psql_ -d postgres -c "CREATE DATABASE \"$3\""
    echo "postgresql://$user:$password@127.0.0.1:$(cat "$dir/port")/$3"
    ;;
  *) usage ;;
esac
