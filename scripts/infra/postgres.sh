#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for FerretDB's PostgreSQL backend (tests only:
# trust auth, no fsync). Debian's `postgresql` package provides the binaries.
#   postgres.sh up | down [--wipe] | status | psql [args...]
set -euo pipefail
SVC=postgres
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${PG_PORT:-54329}"
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}"
DIR="$INFRA_DIR/postgres"
DATA="$DIR/data" PIDFILE="$DIR/postgres.pid" LOG="$DIR/postgres.log"
DB=ferretdb
SQL="$INFRA_SRC/postgres/ferretdb-gin-indexes.sql"

# PostgreSQL refuses to run as root; a root CI machine runs it as the package's `postgres` user.
# setpriv execs without forking, so the pid that `spawn` records is the postmaster's.
as_owner=()
((EUID != 0)) || as_owner=(setpriv --reuid=postgres --regid=postgres --init-groups --)

psql_cmd() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres "$@"; }

init_cluster() {
  [[ -f $DATA/PG_VERSION ]] && return 0
  [[ -x $PG_BIN/initdb ]] || die "PostgreSQL not found (install Debian's postgresql: scripts/infra/install-system.sh)"
  mkdir -p "$DIR"
  # The server's user must reach its folder (a test's private INFRA_DIR is made mode 0700).
  if ((EUID == 0)); then chown postgres: "$DIR"; chmod a+x "$INFRA_DIR"; fi
  say "initialising a cluster in $DATA"
  "${as_owner[@]}" "$PG_BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
    || fail_with_log "initdb failed" "$DIR/initdb.log"
}

wait_ready() { wait_until "$1" 60 0.2 "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; }

# FerretDB's database, and the event trigger that gives its indexes a form its queries can use.
prepare_database() {
  psql_cmd -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
    || psql_cmd -d postgres -c "CREATE DATABASE $DB"
  psql_cmd -d "$DB" -f "$SQL"
}

up() {
  local pid t0=$SECONDS
  lock_dir "$DIR"
  if pid=$(our_pid "$PIDFILE" "$PG_BIN/postgres"); then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "-p $PORT " \
      || die "our server (pid $pid) listens on another port; run '$0 down' first"
    wait_ready "$pid"
    prepare_database
    say "already running (pid $pid) on 127.0.0.1:$PORT"; return 0
  fi
  if port_open "$PORT"; then die "port $PORT is in use by another process (set PG_PORT)"; fi
  init_cluster
  # Durability off (a test stand-in that is wiped at will); custom plans always, so the key that
  # FerretDB binds as a parameter (`_jsonb -> $1 @> $2`) is known when the planner picks an index;
  # the data lives in memory, so a random read costs about what a sequential one does.
  spawn "$LOG" "$PIDFILE" "${as_owner[@]}" "$PG_BIN/postgres" -D "$DATA" -p "$PORT" -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories="$DIR" -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    -c max_connections=300 -c shared_buffers=256MB -c plan_cache_mode=force_custom_plan \
    -c random_page_cost=1.1 -c log_min_messages=warning
  pid=$(<"$PIDFILE")
  wait_ready "$pid"
  prepare_database
  say "up (pid $pid) on 127.0.0.1:$PORT in $((SECONDS - t0))s, log $LOG"
}

down() {
  # SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for FerretDB's pooled connections.
  stop_pid "$PIDFILE" "$PG_BIN/postgres" 20 INT
  if [[ ${1:-} == --wipe ]]; then rm -rf "$DATA" "$LOG"; say "data wiped"; fi
}

status() {
  local pid
  if pid=$(our_pid "$PIDFILE" "$PG_BIN/postgres"); then say "running (pid $pid) on 127.0.0.1:$PORT"
  elif port_open "$PORT"; then say "port $PORT served by a process not started by this script"
  else say "stopped"; return 3; fi
}

case "${1:-}" in
  up) up ;;
  down) down "${2:-}" ;;
  status) status ;;
  psql) shift; psql_cmd -d "$DB" "$@" ;;
  *) echo "usage: $0 up | down [--wipe] | status | psql [args...]" >&2; exit 2 ;;
esac
