#!/usr/bin/env bash
# Stop what up.sh started (only processes recorded in our pid files).
#   down.sh [--wipe]   --wipe also deletes broker and database data
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rc=0
"$here/kafka.sh" down "$@" || rc=1
"$here/ferretdb.sh" down "$@" || rc=1
"$here/mongo-java.sh" down "$@" || rc=1
exit "$rc"
