#!/usr/bin/env bash
# mongo-java-server (MongoDB wire protocol) with its in-memory backend on 127.0.0.1, for the bench:
# a stand-in that costs little CPU per command, where FerretDB on PostgreSQL spends milliseconds
# and so decides how fast the distributed pods look on a small machine. Memory only (a restart
# loses everything) and no query planner: FerretDB stays the stand-in of the tests.
# Jars from Maven Central; StandIn.java, its main, is compiled here.
#   mongo-java.sh up | down [--wipe] | status
set -euo pipefail
SVC=mongo-java
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${MONGO_FAST_PORT:-27018}"
HEAP="${MONGO_FAST_HEAP_OPTS:--Xmx512m -Xms64m}"  # the machine is shared with the pods it serves
DIR="$INFRA_DIR/mongo-java"
LIBS="$DIR/libs" CLASSES="$DIR/classes" PIDFILE="$DIR/mongo-java.pid" LOG="$DIR/mongo-java.log"
POM="$INFRA_SRC/mongo-java/pom.xml" MAIN="$INFRA_SRC/mongo-java/StandIn.java"

fetch_libs() {
  # A stamp of the pom's hash makes a pom edit refetch, and a warm run skip Maven.
  local want; want=$(sha256sum "$POM" | cut -d' ' -f1)
  [[ -f $LIBS/.pom.sha256 && $(<"$LIBS/.pom.sha256") == "$want" ]] && return 0
  say "fetching mongo-java-server jars with Maven (first run only, cached in ~/.m2)..."
  rm -rf "$LIBS.tmp"
  mvn -B -f "$POM" dependency:copy-dependencies -DoutputDirectory="$LIBS.tmp" >"$DIR/mvn.log" 2>&1 \
    || fail_with_log "mvn dependency:copy-dependencies failed" "$DIR/mvn.log"
  echo "$want" >"$LIBS.tmp/.pom.sha256"
  rm -rf "$LIBS" && mv "$LIBS.tmp" "$LIBS"
}

# Recompiles when StandIn.java or the jars (their stamp) are newer than the class.
compile_main() {
  local class=$CLASSES/StandIn.class
  [[ -f $class && ! $MAIN -nt $class && ! $LIBS/.pom.sha256 -nt $class ]] && return 0
  command -v javac >/dev/null || die "javac not found (need a JDK 17+, not only a JRE)"
  rm -rf "$CLASSES.tmp"
  javac -d "$CLASSES.tmp" -cp "$LIBS/*" "$MAIN" >"$DIR/javac.log" 2>&1 || fail_with_log "javac failed" "$DIR/javac.log"
  rm -rf "$CLASSES" && mv "$CLASSES.tmp" "$CLASSES"
}

wait_ready() { wait_until "$1" 60 0.3 mongo_ping "$PORT"; }

up() {
  local pid t0=$SECONDS
  lock_dir "$DIR"
  if pid=$(our_pid "$PIDFILE" StandIn); then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- " StandIn $PORT \$" \
      || die "our server (pid $pid) listens on another port; run '$0 down' first"
    mongo_ping "$PORT" || wait_ready "$pid"
    say "already running (pid $pid) on 127.0.0.1:$PORT"; return 0
  fi
  if port_open "$PORT"; then
    say "port $PORT is already in use by another process; reusing it as the fast MongoDB stand-in"; return 0
  fi
  command -v java >/dev/null || die "java not found (need JDK 17+)"
  fetch_libs
  compile_main
  # Serial GC: one collector thread on a heap this small, rather than one per core taken from the pods.
  # WARN: the library logs every client connection at INFO.
  # shellcheck disable=SC2086 # HEAP holds several JVM options
  spawn "$LOG" "$PIDFILE" java $HEAP -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CLASSES:$LIBS/*" StandIn "$PORT"
  pid=$(<"$PIDFILE")
  wait_ready "$pid"
  say "up (pid $pid) on 127.0.0.1:$PORT in $((SECONDS - t0))s, log $LOG"
}

down() {
  stop_pid "$PIDFILE" StandIn 10
  # The data lives in the process only; a wipe takes the log too.
  if [[ ${1:-} == --wipe ]]; then rm -f "$LOG"; say "log wiped (the data went with the process)"; fi
}

status() {
  local pid
  if pid=$(our_pid "$PIDFILE" StandIn); then say "running (pid $pid) on 127.0.0.1:$PORT"
  elif port_open "$PORT"; then say "port $PORT served by a process not started by this script"
  else say "stopped"; return 3; fi
}

case "${1:-}" in
  up) up ;;
  down) down "${2:-}" ;;
  status) status ;;
  *) echo "usage: $0 up | down [--wipe] | status" >&2; exit 2 ;;
esac
