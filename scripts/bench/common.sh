# What the benchmarks share: timing, ratios, a process's peak RSS and the
# worker's metrics. Sourced after ../lib.sh.

now() { date +%s.%N; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

# watch_rss PID FILE: writes the peak RSS (kB) of PID to FILE until PID
# ends (read with shell builtins: no process started per sample).
watch_rss() {
    local peak=0 k v
    while kill -0 "$1" 2>/dev/null; do
        while read -r k v _; do
            [ "$k" = VmRSS: ] && [ "$v" -gt "$peak" ] && peak=$v
        done <"/proc/$1/status" 2>/dev/null || true
        echo "$peak" >"$2"
        sleep 0.2
    done
}

# worker_properties FILE BOOT [LINE...]: a standalone worker's file (string
# keys, JSON values without schemas, offsets under $WORK) with its REST port
# in $REST; further lines are added as they are.
worker_properties() {
    local file=$1 boot=$2
    shift 2
    REST="$(free_port)"
    printf '%s\n' "bootstrap.servers=$boot" \
        key.converter=org.apache.kafka.connect.storage.StringConverter \
        value.converter=org.apache.kafka.connect.json.JsonConverter \
        value.converter.schemas.enable=false \
        "offset.storage.file.filename=$WORK/connect.offsets" \
        offset.flush.interval.ms=10000 \
        "listeners=http://127.0.0.1:$REST" "$@" >"$file"
}

# run_connector NAME CHECK PROPS...: a worker ($WORK/worker.properties)
# with one connector, from its start until `CHECK NAME` succeeds; prints
# the start and end times, or nothing (and fails) when the connector fails
# or the worker exits. CHECK `metric:METRIC` waits for METRIC to reach $N
# through await_metric.py, one process on one connection, so the wait takes
# next to no CPU from the run it times.
run_connector() {
    local name=$1 check=$2 t0 t1 w
    shift 2
    printf '%s\n' "name=$name" "$@" >"$WORK/$name.properties"
    sync
    t0=$(now)
    "$WEIR" standalone "$WORK/worker.properties" "$WORK/$name.properties" >"$WORK/$name.log" 2>&1 &
    w=$!
    STARTED_PIDS+=("$w")
    watch_rss "$w" "$WORK/rss-$name" &
    if [[ $check == metric:* ]]; then
        t1=$(python3 "$(dirname "${BASH_SOURCE[0]}")/await_metric.py" "$REST" "${check#metric:}" "$name" "$N" "$w") || {
            tail -n 5 "$WORK/$name.log" >&2
            stop_pid "$w"
            return 1
        }
        # Stopped before the times are printed: the caller reads them and
        # goes on, and the next worker takes the same REST port.
        stop_pid "$w"
        echo "$t0 $t1"
        return 0
    fi
    until $check "$name"; do
        if curl -s "http://127.0.0.1:$REST/connectors/$name/status" 2>/dev/null | grep -q '"FAILED"'; then
            echo "$name failed: $(curl -s "http://127.0.0.1:$REST/connectors/$name/status")" >&2
            stop_pid "$w"
            return 1
        fi
        kill -0 "$w" 2>/dev/null || { echo "$name: the worker exited; $(tail -n 5 "$WORK/$name.log")" >&2; return 1; }
        sleep 0.05
    done
    t1=$(now)
    stop_pid "$w"
    echo "$t0 $t1"
}

# fresh_broker [LINE...]: stops the broker this script runs (BROKER_PID),
# starts another on an empty $WORK/broker and a new port ($B), and writes
# $WORK/worker.properties for it (LINEs added). A broker that has already
# taken gigabytes answers fsyncs more slowly, which would favour whichever
# side of a comparison runs first; each measured run gets its own.
fresh_broker() {
    [ -n "${BROKER_PID:-}" ] && stop_pid "$BROKER_PID"
    rm -rf "$WORK/broker"
    BROKER_RUN=$((${BROKER_RUN:-0} + 1))
    PORT="$(free_port)"
    B="127.0.0.1:$PORT"
    start_broker "$WORK/broker" "$PORT" "$WORK/broker-$BROKER_RUN.log"
    worker_properties "$WORK/worker.properties" "$B" "$@"
    sync
}
