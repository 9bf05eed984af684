#!/usr/bin/env bash
# A Connect cluster on this machine: one `weir broker` and three
# `weir distributed` workers as local processes, their data, configs, logs
# and pid files in one folder.
#
#   scripts/cluster.sh start    # starts whatever is not running
#   scripts/cluster.sh status   # pids, /health, each worker's generation
#   scripts/cluster.sh stop     # workers first, then the broker
#
# Settings (environment): WEIR_CLUSTER_DIR (default ./weir-cluster),
# WEIR_BIN (default: built from this checkout), BROKER_PORT (9092),
# WORKER_PORTS ("8083 8084 8085"), WORKER_EXTRA (a file of worker
# properties appended to each worker's config, for example shorter
# timeouts).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

DIR="$(mkdir -p "${WEIR_CLUSTER_DIR:-weir-cluster}" && cd "${WEIR_CLUSTER_DIR:-weir-cluster}" && pwd)"
BROKER_PORT="${BROKER_PORT:-9092}"
read -r -a PORTS <<<"${WORKER_PORTS:-8083 8084 8085}"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

worker_config() {
    local i=$1 port=$2
    cat >"$DIR/worker-$i.properties" <<PROPS
bootstrap.servers=127.0.0.1:$BROKER_PORT
group.id=connect-cluster
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
offset.storage.topic=connect-offsets
offset.storage.replication.factor=-1
config.storage.topic=connect-configs
config.storage.replication.factor=-1
status.storage.topic=connect-status
status.storage.replication.factor=-1
offset.flush.interval.ms=10000
listeners=http://127.0.0.1:$port
PROPS
    if [ -n "${WORKER_EXTRA:-}" ]; then
        cat "$WORKER_EXTRA" >>"$DIR/worker-$i.properties"
    fi
}

start() {
    if [ -z "${WEIR_BIN:-}" ]; then
        build_weir
        WEIR_BIN="$WEIR"
    fi
    if ! alive "$DIR/broker.pid"; then
        "$WEIR_BIN" broker --override "log.dirs=$DIR/broker-data" \
            --override "listeners=PLAINTEXT://127.0.0.1:$BROKER_PORT" >>"$DIR/broker.log" 2>&1 &
        echo $! >"$DIR/broker.pid"
        wait_port "$BROKER_PORT"
        echo "broker on 127.0.0.1:$BROKER_PORT (pid $(cat "$DIR/broker.pid"))"
    fi
    local i=0 port
    for port in "${PORTS[@]}"; do
        i=$((i + 1))
        alive "$DIR/worker-$i.pid" && continue
        worker_config "$i" "$port"
        "$WEIR_BIN" distributed "$DIR/worker-$i.properties" >>"$DIR/worker-$i.log" 2>&1 &
        echo $! >"$DIR/worker-$i.pid"
        echo "worker $i on http://127.0.0.1:$port (pid $(cat "$DIR/worker-$i.pid"))"
    done
    i=0
    for port in "${PORTS[@]}"; do
        i=$((i + 1))
        wait_port "$port"
    done
    echo "logs in $DIR"
}

status() {
    local i=0 port
    if alive "$DIR/broker.pid"; then
        echo "broker   pid $(cat "$DIR/broker.pid")   127.0.0.1:$BROKER_PORT"
    else
        echo "broker   not running"
    fi
    for port in "${PORTS[@]}"; do
        i=$((i + 1))
        if alive "$DIR/worker-$i.pid"; then
            local health gen
            health=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health" || true)
            gen=$(grep -o 'generation [0-9]*:.*' "$DIR/worker-$i.log" | tail -n 1 || true)
            echo "worker $i pid $(cat "$DIR/worker-$i.pid")   http://127.0.0.1:$port   /health $health   ${gen:-no generation yet}"
        else
            echo "worker $i not running"
        fi
    done
}

stop() {
    local f
    for f in "$DIR"/worker-*.pid "$DIR/broker.pid"; do
        [ -f "$f" ] || continue
        alive "$f" && stop_pid "$(cat "$f")"
        rm -f "$f"
    done
    echo "stopped; data and logs stay in $DIR"
}

case "${1:-}" in
start) start ;;
status) status ;;
stop) stop ;;
*)
    echo "usage: $0 start|status|stop" >&2
    exit 2
    ;;
esac
