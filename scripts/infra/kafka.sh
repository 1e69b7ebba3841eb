#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft) on 127.0.0.1 for tests, built from Maven
# Central jars because the release tarball is not downloadable from CI.
#   kafka.sh up | down [--wipe] | status
set -euo pipefail
SVC=kafka
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${KAFKA_PORT:-9092}"
CTRL_PORT="${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
HEAP="${KAFKA_HEAP_OPTS:--Xmx512m -Xms128m}"  # the machine is shared with the test run
DIR="$INFRA_DIR/kafka"
LIBS="$DIR/libs" PIDFILE="$DIR/kafka.pid" LOG="$DIR/kafka.log" CONF="$DIR/server.properties"
POM="$INFRA_SRC/kafka/pom.xml" LOG4J="$INFRA_SRC/kafka/log4j2.properties"

# CLI tools get a small heap and WARN logging: they only need to say yes or no.
tool() { java -Dlog4j2.configurationFile="$LOG4J" -Dagora.log.level=WARN -Xmx256m -cp "$LIBS/*" "$@"; }

fetch_libs() {
  # A stamp of the pom's hash makes a pom edit refetch, and a warm run skip Maven.
  local want; want=$(sha256sum "$POM" | cut -d' ' -f1)
  [[ -f $LIBS/.pom.sha256 && $(<"$LIBS/.pom.sha256") == "$want" ]] && return 0
  say "fetching Kafka jars with Maven (first run only, cached in ~/.m2)..."
  rm -rf "$LIBS.tmp"
  mvn -B -f "$POM" dependency:copy-dependencies -DoutputDirectory="$LIBS.tmp" >"$DIR/mvn.log" 2>&1 \
    || fail_with_log "mvn dependency:copy-dependencies failed" "$DIR/mvn.log"
  echo "$want" >"$LIBS.tmp/.pom.sha256"
  rm -rf "$LIBS" && mv "$LIBS.tmp" "$LIBS"
}

write_config() {
  # Rewritten on every start so a KAFKA_PORT change takes effect; the cluster
  # identity lives in data/meta.properties and is unaffected.
  cat >"$CONF" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CTRL_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CTRL_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DIR/data
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
# 50 partitions by default: each start then loads 50 coordinator shards for nothing.
offsets.topic.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
CONF
}

format_storage() {
  [[ -f $DIR/data/meta.properties ]] && return 0
  # Cluster ids are 16 random bytes in unpadded base64url; no JVM needed for that.
  local id; id=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
  say "formatting KRaft storage (cluster id $id)"
  # "--cluster-id=": an id may start with "-", which would read as an option after a space.
  tool kafka.tools.StorageTool format --standalone --cluster-id="$id" -c "$CONF" >/dev/null \
    || die "storage format failed"
}

# The log line comes after the broker is unfenced, so it is cheap and reliable.
broker_started() { port_open "$PORT" && grep -q "Kafka Server started" "$LOG"; }

wait_ready() {
  say "waiting for broker on 127.0.0.1:$PORT..."
  wait_until "$1" 120 0.5 broker_started
  # A real metadata round trip through the admin client then confirms it.
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$PORT" --list >/dev/null \
    || fail_with_log "broker is up but topic listing failed" "$LOG"
}

up() {
  local pid t0=$SECONDS
  lock_dir "$DIR"
  if pid=$(our_pid "$PIDFILE" kafka.Kafka); then
    grep -q "^listeners=PLAINTEXT://127.0.0.1:$PORT," "$CONF" \
      || die "our broker (pid $pid) listens on another port; run '$0 down' first"
    port_open "$PORT" || wait_ready "$pid"
    say "already running (pid $pid) on 127.0.0.1:$PORT"; return 0
  fi
  if port_open "$PORT"; then
    say "port $PORT is already in use by another process; reusing it as the broker"; return 0
  fi
  command -v java >/dev/null || die "java not found (need JDK 17+)"
  fetch_libs
  write_config
  format_storage
  # shellcheck disable=SC2086 # HEAP holds several JVM options
  spawn "$LOG" "$PIDFILE" java -Dlog4j2.configurationFile="$LOG4J" $HEAP \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true -cp "$LIBS/*" kafka.Kafka "$CONF"
  pid=$(<"$PIDFILE")
  wait_ready "$pid"
  say "up (pid $pid) on 127.0.0.1:$PORT in $((SECONDS - t0))s, log $LOG"
}

down() {
  stop_pid "$PIDFILE" kafka.Kafka 30
  if [[ ${1:-} == --wipe ]]; then rm -rf "$DIR/data" "$CONF" "$LOG"; say "data wiped"; fi
}

status() {
  local pid
  if pid=$(our_pid "$PIDFILE" kafka.Kafka); then say "running (pid $pid) on 127.0.0.1:$PORT"
  elif port_open "$PORT"; then say "port $PORT served by a process not started by this script"
  else say "stopped"; return 3; fi
}

case "${1:-}" in
  up) up ;;
  down) down "${2:-}" ;;
  status) status ;;
  *) echo "usage: $0 up | down [--wipe] | status" >&2; exit 2 ;;
esac
