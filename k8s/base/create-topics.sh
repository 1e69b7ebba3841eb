#!/bin/sh
# Creates (or widens) the Kafka topics that carry Agora's durable domain events and pushes. Idempotent: run
# it after every deploy. Used by the Kubernetes Job (k8s/base/kafka-topics.yaml) and by
# docker-compose.yml's kafka-init service, inside the apache/kafka image.
#
# Settings (environment):
#   BOOTSTRAP_SERVER     kafka:9092
#   TOPIC_PREFIX         empty; when set, topics are "<prefix>.<event>" as @moleculer/channels names them
#   ORDER_PARTITIONS     6   order.*, payment.*, inventory.*: the saga's hot path; caps consumers per group
#   CATALOG_PARTITIONS   3   product.*, user.registered, dead-letter
#   REPLICATION_FACTOR   1   never more than the number of brokers (3 in overlays/large)
#   MIN_INSYNC_REPLICAS  1   2 with replication 3: a write survives one broker down
set -eu

BOOTSTRAP="${BOOTSTRAP_SERVER:-kafka:9092}"
PREFIX="${TOPIC_PREFIX:-}"
HOT="${ORDER_PARTITIONS:-6}"
COLD="${CATALOG_PARTITIONS:-3}"
RF="${REPLICATION_FACTOR:-1}"
MIN_ISR="${MIN_INSYNC_REPLICAS:-1}"
KAFKA_TOPICS="${KAFKA_HOME:-/opt/kafka}/bin/kafka-topics.sh"
WEEK_MS=604800000
MONTH_MS=2592000000
HOUR_MS=3600000

tries=0
until "$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP" --list >/dev/null 2>&1; do
	tries=$((tries + 1))
	if [ "$tries" -ge 60 ]; then
		echo "create-topics: Kafka at $BOOTSTRAP did not answer in 2 minutes" >&2
		exit 1
	fi
	sleep 2
done

# topic <event> <partitions> <retention ms>
topic() {
	name="${PREFIX:+$PREFIX.}$1"
	"$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$name" \
		--partitions "$2" --replication-factor "$RF" \
		--config "min.insync.replicas=$MIN_ISR" --config "retention.ms=$3"
	# Partitions can grow but never shrink. Growing moves keys to other partitions, so per-key
	# order holds again only for messages produced after the change.
	current=$("$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP" --describe --topic "$name" |
		sed -n 's/.*PartitionCount: *\([0-9][0-9]*\).*/\1/p' | head -n 1)
	if [ -n "$current" ] && [ "$current" -lt "$2" ]; then
		echo "create-topics: $name: $current -> $2 partitions"
		"$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP" --alter --topic "$name" --partitions "$2"
	fi
}

# Events are kept a week, so a consumer group can be replayed after an incident.
for event in order.created order.updated order.cancelled \
	payment.succeeded payment.failed payment.refunded \
	inventory.updated inventory.low-stock; do
	topic "$event" "$HOT" "$WEEK_MS"
done
for event in product.created product.updated product.deleted user.registered; do
	topic "$event" "$COLD" "$WEEK_MS"
done
# What the gateways push to browsers. Each gateway reads it from its own start, in order, so it has
# one partition. It is kept an hour: long enough for a gateway to catch up after a Kafka outage.
topic pushes 1 "$HOUR_MS"
# Messages that kept failing (@moleculer/channels dead-lettering), kept a month for replay.
topic dead-letter "$COLD" "$MONTH_MS"

echo "create-topics: done ($BOOTSTRAP, replication $RF, min.insync.replicas $MIN_ISR)"
