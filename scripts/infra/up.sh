#!/usr/bin/env bash
# Start Kafka and FerretDB (on its own PostgreSQL cluster) for tests, mongo-java-server (in memory)
# for the bench, and build kustomize for the deploy tests, in parallel (JVM start-up, and Go builds
# on first run). Progress goes to stderr; stdout carries only the environment, so this works:
#   eval "$(scripts/infra/up.sh)"
# Ports: KAFKA_PORT (9092), MONGO_PORT (27017), MONGO_FAST_PORT (27018), PG_PORT (54329); state in INFRA_DIR.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# The tests speak in KAFKA_BROKERS / MONGO_URI (the bench MONGO_FAST_URI too); honour a local port given there.
local_port='^(mongodb://)?(127\.0\.0\.1|localhost):([0-9]+)'
if [[ -z ${KAFKA_PORT:-} && ${KAFKA_BROKERS:-} =~ $local_port ]]; then export KAFKA_PORT=${BASH_REMATCH[3]}; fi
if [[ -z ${MONGO_PORT:-} && ${MONGO_URI:-} =~ $local_port ]]; then export MONGO_PORT=${BASH_REMATCH[3]}; fi
if [[ -z ${MONGO_FAST_PORT:-} && ${MONGO_FAST_URI:-} =~ $local_port ]]; then export MONGO_FAST_PORT=${BASH_REMATCH[3]}; fi

"$here/kafka.sh" up & kpid=$!
"$here/ferretdb.sh" up & fpid=$!
"$here/mongo-java.sh" up & mpid=$!
"$here/kustomize.sh" up & zpid=$!
rc=0
wait "$kpid" || rc=1
wait "$fpid" || rc=1
wait "$mpid" || rc=1
wait "$zpid" || rc=1
((rc == 0)) || { echo "up: a service failed to start or a build failed (see above)" >&2; exit 1; }

echo "export KAFKA_BROKERS=127.0.0.1:${KAFKA_PORT:-9092}"
echo "export MONGO_URI=${MONGO_URI:-mongodb://127.0.0.1:${MONGO_PORT:-27017}/agora}"
echo "export MONGO_FAST_URI=${MONGO_FAST_URI:-mongodb://127.0.0.1:${MONGO_FAST_PORT:-27018}/agora}"
