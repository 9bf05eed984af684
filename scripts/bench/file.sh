#!/usr/bin/env bash
# File connector benchmark: a file of 100-byte lines (1 GB by default)
# through FileStreamSource into a `weir broker`, against `kcat -P -l` on the
# same file; and the topic back out through FileStreamSink, against
# `kcat -C -e > file`. Also the worker's peak RSS, and how soon a standalone
# worker with the bundled broker answers /health. Prints one table with ratios
# measured in this run (best of BENCH_ROUNDS alternating runs per side,
# default 2). Not part of test.sh.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
trap cleanup_started EXIT

BYTES="${BENCH_FILE_BYTES:-1000000000}"
N=$((BYTES / 100))

ensure_packages kcat curl
WEIR_PROFILE=release build_weir
WORK="$(mktemp -d)"
IN="$WORK/in.txt"
log "writing $N lines of 100 bytes ($((N * 100 / 1000000)) MB)"
python3 - "$IN" "$N" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "wb", buffering=1 << 22) as f:
    for start in range(0, n, 100000):
        f.write(b"".join(b"%099d\n" % i for i in range(start, min(n, start + 100000))))
PY

# Every timed run starts with no dirty pages left by the one before, so
# neither side pays for the other's writeback.
settle() { sync; sleep 1; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }
mbps() { python3 -c "print(f'{$1 / 1e6 / ($3 - $2):.1f}')"; }

PORT="$(free_port)"
B="127.0.0.1:$PORT"
start_broker "$WORK/broker" "$PORT" "$WORK/broker.log"

# wait_written: until the worker's source task reports every record
# acknowledged by the broker (acks=all), read from its /metrics by one
# process on one connection, which takes next to no CPU from the run.
wait_written() {
    python3 "$(dirname "$0")/await_metric.py" "$REST" kafka_connect_source_task_metrics_source_record_write_total bench-source "$N" "$W" >/dev/null
}

REST="$(free_port)"
# worker_files ROUND: a worker config with its own offsets file, a source
# into weir-in-ROUND and a sink (its own group) out of kcat-in-1.
worker_files() {
    cat >"$WORK/worker.properties" <<PROPS
bootstrap.servers=$B
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.storage.StringConverter
offset.storage.file.filename=$WORK/connect-$1.offsets
offset.flush.interval.ms=10000
listeners=http://:$REST
PROPS
    printf 'name=bench-source\nconnector.class=FileStreamSource\nfile=%s\ntopic=weir-in-%s\n' "$IN" "$1" >"$WORK/source.properties"
    printf 'name=bench-sink-%s\nconnector.class=FileStreamSink\nfile=%s\ntopics=kcat-in-1\n' "$1" "$WORK/sink.out" >"$WORK/sink.properties"
}

# best A B: the larger of two rates.
best() { python3 -c "print(max($1, $2))"; }
KCAT_P=0 WEIR_P=0 KCAT_C=0 WEIR_C=0
# The machine's speed drifts between runs: each side runs ROUNDS times,
# alternating, and the best run of each side is compared.
ROUNDS="${BENCH_ROUNDS:-2}"
for round in $(seq 1 "$ROUNDS"); do
    worker_files "$round"
    log "round $round: kcat -P -l (reference producer, acks=all)"
    settle
    t0=$(now)
    kcat -b "$B" -P -t "kcat-in-$round" -l "$IN"
    t1=$(now)
    KCAT_P=$(best "$KCAT_P" "$(mbps "$BYTES" "$t0" "$t1")")

    log "round $round: FileStreamSource into the broker"
    settle
    t0=$(now)
    "$WEIR" standalone "$WORK/worker.properties" "$WORK/source.properties" >"$WORK/source.log" 2>&1 &
    W=$!
    STARTED_PIDS+=("$W")
    watch_rss "$W" "$WORK/rss-source-$round" &
    wait_written
    t1=$(now)
    [ "$(kcat -b "$B" -Q -t "weir-in-$round:0:-1" | awk '{print $NF}')" = "$N" ] ||
        { echo "weir-in-$round does not hold $N records" >&2; exit 1; }
    WEIR_P=$(best "$WEIR_P" "$(mbps "$BYTES" "$t0" "$t1")")
    stop_pid "$W"

    log "round $round: kcat -C -e > file (reference consumer)"
    settle
    t0=$(now)
    kcat -b "$B" -C -t kcat-in-1 -o beginning -e -q >"$WORK/kcat.out"
    t1=$(now)
    KCAT_C=$(best "$KCAT_C" "$(mbps "$BYTES" "$t0" "$t1")")
    cmp -s "$IN" "$WORK/kcat.out" || echo "note: kcat's output differs from the input" >&2
    rm -f "$WORK/kcat.out"

    log "round $round: FileStreamSink out of the broker"
    settle
    t0=$(now)
    "$WEIR" standalone "$WORK/worker.properties" "$WORK/sink.properties" >"$WORK/sink.log" 2>&1 &
    W=$!
    STARTED_PIDS+=("$W")
    watch_rss "$W" "$WORK/rss-sink-$round" &
    while [ "$(stat -c %s "$WORK/sink.out" 2>/dev/null || echo 0)" -lt "$BYTES" ]; do sleep 0.2; done
    t1=$(now)
    WEIR_C=$(best "$WEIR_C" "$(mbps "$BYTES" "$t0" "$t1")")
    stop_pid "$W"
    cmp -s "$IN" "$WORK/sink.out" || { echo "FileStreamSink output differs from the input" >&2; exit 1; }
    rm -f "$WORK/sink.out"
done
sleep 0.5
RSS=$(cat "$WORK"/rss-* | sort -n | tail -n 1)

log "standalone worker with the bundled broker: time to /health 200"
REST2="$(free_port)"
mkdir -p "$WORK/embedded"
cat >"$WORK/embedded.properties" <<PROPS
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.storage.StringConverter
offset.storage.file.filename=$WORK/embedded/connect.offsets
listeners=http://:$REST2
PROPS
t0=$(now)
"$WEIR" standalone "$WORK/embedded.properties" >"$WORK/embedded.log" 2>&1 &
W=$!
STARTED_PIDS+=("$W")
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$REST2/health")" = 200 ]; do sleep 0.01; done
t1=$(now)
HEALTH=$(secs "$t0" "$t1")
stop_pid "$W"

echo
echo "| measure | Weir | kcat (reference) | ratio |"
echo "|---|---|---|---|"
echo "| source: $((BYTES / 1000000)) MB file into the broker (MB/s) | $WEIR_P | $KCAT_P (kcat -P -l) | $(ratio "$WEIR_P" "$KCAT_P")x |"
echo "| sink: topic out to a file (MB/s) | $WEIR_C | $KCAT_C (kcat -C -e) | $(ratio "$WEIR_C" "$KCAT_C")x |"
echo "| worker peak RSS (MB) | $((RSS / 1024)) | | |"
echo "| standalone with bundled broker: /health 200 after (s) | $HEALTH | | |"
stop_pid "$BROKER_PID"
rm -rf "$WORK"
