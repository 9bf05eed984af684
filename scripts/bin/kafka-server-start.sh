#!/usr/bin/env bash
# kafka-server-start.sh [-daemon] server.properties [--override key=value ...]
# Starts `weir broker` with Kafka's server.properties; -daemon runs it in the
# background with its log in $LOG_DIR/server.log (default ./logs; also reachable
# as kafkaServer.out) and its process id in $LOG_DIR/kafkaServer.pid.
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
    ln -sfn server.log "$log_dir/kafkaServer.out"
    nohup "$WEIR" broker "$@" >>"$log_dir/server.log" 2>&1 &
    echo $! >"$log_dir/kafkaServer.pid"
    exit 0
fi
exec "$WEIR" broker "$@"
