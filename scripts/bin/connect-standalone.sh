#!/usr/bin/env bash
# connect-standalone.sh [-daemon] worker.properties connector.properties ...:
# runs `weir standalone` with Kafka Connect's files. Without bootstrap.servers
# in the worker file the bundled broker starts in the same process.
set -euo pipefail
source "$(dirname "$0")/_weir.sh"
if [ "${1:-}" = "-daemon" ]; then
    shift
    log_dir="${LOG_DIR:-$PWD/logs}"
    mkdir -p "$log_dir"
    nohup "$WEIR" standalone "$@" >>"$log_dir/connect.log" 2>&1 &
    echo $! >"$log_dir/connect.pid"
    exit 0
fi
exec "$WEIR" standalone "$@"
