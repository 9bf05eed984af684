#!/usr/bin/env bash
# kafka-server-stop.sh: stops the broker that kafka-server-start.sh -daemon
# started, by the process id it left in $LOG_DIR/kafkaServer.pid (default
# ./logs), and waits for it to finish its shutdown.
set -euo pipefail
pid_file="${LOG_DIR:-$PWD/logs}/kafkaServer.pid"
pid="$(cat "$pid_file" 2>/dev/null || true)"
if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
    echo "No kafka server to stop"
    rm -f "$pid_file"
    exit 1
fi
kill -TERM "$pid"
for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pid_file"; exit 0; }
    sleep 0.1
done
echo "The kafka server (pid $pid) did not stop within 30 s" >&2
exit 1
