#!/usr/bin/env bash
# connect-distributed.sh [-daemon] worker.properties: runs `weir distributed`
# with Kafka Connect's distributed worker file; -daemon runs it in the
# background with its log in $LOG_DIR/connectDistributed.out (default ./logs)
# and its process id in $LOG_DIR/connectDistributed.pid.
set -euo pipefail
source "$(dirname "$0")/_weir.sh"
if [ "${1:-}" = "-daemon" ]; then
    shift
    weir_daemon connectDistributed.out connectDistributed.pid distributed "$@"
    exit 0
fi
if [ $# -lt 1 ]; then
    echo "USAGE: $0 [-daemon] connect-distributed.properties" >&2
    exit 1
fi
exec "$WEIR" distributed "$@"
