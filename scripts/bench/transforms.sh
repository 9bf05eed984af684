#!/usr/bin/env bash
# Transform and error-handling cost on the sink path: a topic of JSON records
# (about 100 bytes, schemaless) read by FileStreamSink three ways in the same
# run, each its own connector and consumer group:
#   plain      - no transforms, errors.tolerance=none
#   chain      - Cast$Value (n:int64) + InsertField$Value (static field)
#                + RegexRouter (topic renamed)
#   tolerant   - no transforms, errors.tolerance=all with a dead letter topic
#                (and no bad records)
# Each is timed from start until its task has put every record (read from
# /metrics), BENCH_ROUNDS times (default 3) alternating, best run kept.
# Prints records/s and the ratio to `plain`. Not part of test.sh.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
trap cleanup_started EXIT

N="${BENCH_RECORDS:-2000000}"
ROUNDS="${BENCH_ROUNDS:-3}"
ensure_packages kcat curl
WEIR_PROFILE=release build_weir
WORK="$(mktemp -d)"
PORT="$(free_port)"
B="127.0.0.1:$PORT"
start_broker "$WORK/broker" "$PORT" "$WORK/broker.log"

log "writing $N JSON records to topic bench-in"
python3 - "$WORK/in.json" "$N" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
pad = "x" * 40
with open(path, "w", buffering=1 << 22) as f:
    for i in range(n):
        f.write('{"id":"%012d","n":"%d","text":"%s"}\n' % (i, i, pad))
PY
kcat -b "$B" -P -t bench-in -p 0 -l "$WORK/in.json"

worker_properties "$WORK/worker.properties" "$B"

# connector NAME ROUND: the sink's properties for one configuration.
connector() {
    local name="bench-$1-$2"
    printf 'name=%s\nconnector.class=FileStreamSink\nfile=%s\ntopics=bench-in\n' "$name" "$WORK/$1.out"
    case "$1" in
    chain)
        cat <<'P'
transforms=cast,insert,route
transforms.cast.type=org.apache.kafka.connect.transforms.Cast$Value
transforms.cast.spec=n:int64
transforms.insert.type=org.apache.kafka.connect.transforms.InsertField$Value
transforms.insert.static.field=origin
transforms.insert.static.value=bench
transforms.route.type=org.apache.kafka.connect.transforms.RegexRouter
transforms.route.regex=bench-(.*)
transforms.route.replacement=out-$1
P
        ;;
    tolerant)
        printf 'errors.tolerance=all\nerrors.deadletterqueue.topic.name=bench-dlq\nerrors.deadletterqueue.topic.replication.factor=1\n'
        ;;
    esac
}

# run CONFIG ROUND: records/s of one sink until every record is put.
run() {
    connector "$1" "$2" >"$WORK/$1.properties"
    rm -f "$WORK/$1.out"
    sync
    sleep 1
    local t0 t1 m=kafka_connect_sink_task_metrics_sink_record_send_total n
    t0=$(now)
    "$WEIR" standalone "$WORK/worker.properties" "$WORK/$1.properties" >"$WORK/$1-$2.log" 2>&1 &
    local w=$!
    STARTED_PIDS+=("$w")
    while :; do
        n=$(curl -s "http://127.0.0.1:$REST/metrics" 2>/dev/null | awk -v m="$m" '$1 ~ "^"m"[{]" {print $2}')
        [ -n "$n" ] && [ "${n%.*}" -ge "$N" ] && break
        sleep 0.05
    done
    t1=$(now)
    stop_pid "$w"
    [ "$(wc -l <"$WORK/$1.out")" -eq "$N" ] || { echo "$1: the output does not hold $N lines" >&2; exit 1; }
    if [ "$1" = chain ]; then
        head -n 1 "$WORK/$1.out" | grep -q 'origin=bench' || { echo "chain: no inserted field in $(head -n 1 "$WORK/$1.out")" >&2; exit 1; }
    fi
    python3 -c "print(f'{$N / ($t1 - $t0):.0f}')"
}

declare -A BEST=([plain]=0 [chain]=0 [tolerant]=0)
for round in $(seq 1 "$ROUNDS"); do
    for cfg in plain chain tolerant; do
        log "round $round: $cfg"
        r=$(run "$cfg" "$round")
        log "round $round: $cfg $r records/s"
        BEST[$cfg]=$(python3 -c "print(max(${BEST[$cfg]}, $r))")
    done
done

echo
echo "| sink of $N JSON records (best of $ROUNDS) | records/s | ratio to plain |"
echo "|---|---|---|"
echo "| plain (no transforms, errors.tolerance=none) | ${BEST[plain]} | 1.00x |"
echo "| Cast + InsertField + RegexRouter | ${BEST[chain]} | $(ratio "${BEST[chain]}" "${BEST[plain]}")x |"
echo "| errors.tolerance=all with a dead letter topic, no bad records | ${BEST[tolerant]} | $(ratio "${BEST[tolerant]}" "${BEST[plain]}")x |"
stop_pid "$BROKER_PID"
rm -rf "$WORK"
