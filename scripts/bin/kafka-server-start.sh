#!/usr/bin/env bash
# kafka-server-start.sh [-daemon] server.properties [--override key=value ...]
# Starts `weir broker` with Kafka's server.properties; -daemon runs it in the
# background with its output in $LOG_DIR/kafkaServer.out (default ./logs) and
# its process id in $LOG_DIR/kafkaServer.pid.
set -euo pipefail
source "$(dirname "$0")/_weir.sh"
daemon=false
if [ "${1:-}" = "-daemon" ]; then
    daemon=true
    shift
fi
if [ $# -lt 1 ]; then
    echo "USAGE: $0 [-daemon] server.properties [--override property=value]*" >&2
    exit 1
fi
if $daemon; then
    log_dir="${LOG_DIR:-$PWD/logs}"
    mkdir -p "$log_dir"
    nohup "$WEIR" broker "$@" >"$log_dir/kafkaServer.out" 2>&1 &
    echo $! >"$log_dir/kafkaServer.pid"
    exit 0
fi
exec "$WEIR" broker "$@"
