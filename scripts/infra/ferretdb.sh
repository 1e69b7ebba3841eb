#!/usr/bin/env bash
# FerretDB v1 (MongoDB wire protocol) on 127.0.0.1 for tests, on its PostgreSQL backend over the
# throwaway cluster of postgres.sh: a real Mongo-compatible server without mongod, which has no
# Debian/registry package. Not the SQLite backend: it pushes down only `{_id}` filters and ignores
# secondary indexes, so every other lookup scans and slows as the data grows.
#   ferretdb.sh up | down [--wipe] | status
set -euo pipefail
SVC=ferretdb
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${MONGO_PORT:-27017}"
DIR="$INFRA_DIR/ferretdb"
BIN="$INFRA_DIR/bin/ferretdb" SRC="$INFRA_SRC/ferretdb"
PIDFILE="$DIR/ferretdb.pid" LOG="$DIR/ferretdb.log"
PG_URL="postgres://postgres@127.0.0.1:${PG_PORT:-54329}/ferretdb"

wait_ready() { wait_until "$1" 60 0.3 mongo_ping "$PORT"; }

up() {
  local pid t0=$SECONDS
  lock_dir "$DIR"
  if pid=$(our_pid "$PIDFILE" "$BIN"); then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--postgresql-url=$PG_URL --listen-addr=127.0.0.1:$PORT " \
      || die "our server (pid $pid) runs on another port or backend (SQLite?); run '$0 down' first"
    "$INFRA_SRC/postgres.sh" up
    mongo_ping "$PORT" || wait_ready "$pid"
    say "already running (pid $pid) on 127.0.0.1:$PORT"; return 0
  fi
  if port_open "$PORT"; then
    say "port $PORT is already in use by another process; reusing it as MongoDB"; return 0
  fi
  go_build "$BIN" "$SRC" "FerretDB v1.24.2" .
  "$INFRA_SRC/postgres.sh" up
  spawn "$LOG" "$PIDFILE" "$BIN" --handler=postgresql --postgresql-url="$PG_URL" \
    --listen-addr="127.0.0.1:$PORT"
  pid=$(<"$PIDFILE")
  wait_ready "$pid"
  say "up (pid $pid) on 127.0.0.1:$PORT in $((SECONDS - t0))s, log $LOG"
}

down() {
  stop_pid "$PIDFILE" "$BIN" 10
  # The SQLite backend's data of earlier versions of this script goes with a wipe too.
  if [[ ${1:-} == --wipe ]]; then rm -rf "$DIR/data" "$LOG"; say "data wiped"; fi
  "$INFRA_SRC/postgres.sh" down "$@"
}

status() {
  local pid
  "$INFRA_SRC/postgres.sh" status || true
  if pid=$(our_pid "$PIDFILE" "$BIN"); then say "running (pid $pid) on 127.0.0.1:$PORT"
  elif port_open "$PORT"; then say "port $PORT served by a process not started by this script"
  else say "stopped"; return 3; fi
}

case "${1:-}" in
  up) up ;;
  down) down "${2:-}" ;;
  status) status ;;
  *) echo "usage: $0 up | down [--wipe] | status" >&2; exit 2 ;;
esac
