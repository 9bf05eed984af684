#!/usr/bin/env bash
# connect-standalone.sh [-daemon] worker.properties connector.properties ...:
# runs `weir standalone` with Kafka Connect's files. Without bootstrap.servers
# in the worker file the bundled broker starts in the same process.
set -euo pipefail
source "$(dirname "$0")/_weir.sh"
if [ "${1:-}" = "-daemon" ]; then
    shift
    weir_daemon connect.log connect.pid standalone "$@"
    exit 0
fi
exec "$WEIR" standalone "$@"
