#!/usr/bin/env bash
# The main job on the embedded defaults: start the bundled broker, create a
# topic, produce a few messages with kcat, consume them back, stop.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap cleanup_started EXIT

ensure_packages kcat
build_weir

DATA="$(mktemp -d)"
PORT="${WEIR_DEMO_PORT:-$(free_port)}"
BOOT="127.0.0.1:$PORT"
log "starting the bundled broker on $BOOT (data in $DATA)"
start_broker "$DATA" "$PORT" "$DATA/broker.log" --override num.partitions=3

log "creating topic 'demo' (auto-created on first use, num.partitions=3)"
kcat -b "$BOOT" -L -t demo | sed -n '/topic "demo"/,$p'
printf 'hello weir\nkafka clients work unchanged\nthird message\n' |
    kcat -b "$BOOT" -P -t demo -k demo-key
log "produced 3 messages; reading them back:"
kcat -b "$BOOT" -C -t demo -o beginning -e -q -f '  partition %p offset %o key %k: %s\n'
n=$(kcat -b "$BOOT" -C -t demo -o beginning -e -q | wc -l)
[ "$n" -eq 3 ] || { echo "expected 3 messages, got $n" >&2; exit 1; }

log "stopping the broker"
stop_pid "$BROKER_PID"
STARTED_PIDS=()
grep -q "broker stopped cleanly" "$DATA/broker.log"
log "demo finished: 3 messages round-tripped through the bundled broker"
rm -rf "$DATA"
