#!/usr/bin/env bash
# Flume-style sources benchmark, release build, one run on this machine:
#   spooldir - BENCH_LINES (default 10,000,000) lines of 100 bytes in 10
#              files through SpoolDirLineDelimitedSourceConnector into a
#              topic, against `kcat -P -l` of the same files (MB/s);
#   taildir  - the same files followed by TAILDIR, same reference;
#   latency  - a line appended to a tailed file until a consumer has its
#              record, at 10,000 lines/s for 20 s (p50, p99, max);
#   the worker's peak RSS over the runs.
# Prints one table. Not part of test.sh.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
trap cleanup_started EXIT

N="${BENCH_LINES:-10000000}"
FILES=10
ensure_packages kcat curl
ensure_venv
WEIR_PROFILE=release build_weir
WORK="$(mktemp -d)"
PORT="$(free_port)"
B="127.0.0.1:$PORT"
start_broker "$WORK/broker" "$PORT" "$WORK/broker.log"

mb_s() { python3 -c "print(f'{$1 / ($3 - $2) / 1e6:.1f}')"; }

log "writing $N lines of 100 bytes in $FILES files"
mkdir -p "$WORK/lines"
python3 - "$WORK/lines" "$N" "$FILES" <<'PY'
import sys
d, n, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per = n // files
for f in range(files):
    with open(f"{d}/part-{f:02d}.log", "w", buffering=1 << 22) as out:
        for i in range(per):
            head = f"{f:02d} {i:09d} "
            out.write(head + "x" * (99 - len(head)) + "\n")
PY
N=$(( (N / FILES) * FILES ))
BYTES=$(cat "$WORK"/lines/* | wc -c)

log "reference: kcat -P -l, file by file"
"$WEIR" topics --bootstrap-server "$B" --create --topic ref --partitions 1 >/dev/null
t0=$(now)
for f in "$WORK"/lines/*; do kcat -b "$B" -P -t ref -p 0 -l "$f"; done
t1=$(now)
KCAT=$(mb_s "$BYTES" "$t0" "$t1")

worker_properties "$WORK/worker.properties" "$B"
written() { metric_reached kafka_connect_source_task_metrics_source_record_write_total "$1"; }
COMMON=(value.converter=org.apache.kafka.connect.storage.StringConverter topic.creation.default.partitions=1 topic.creation.default.replication.factor=1)

log "spooldir"
mkdir -p "$WORK/spool/in" "$WORK/spool/done" "$WORK/spool/err"
cp -l "$WORK"/lines/* "$WORK/spool/in/"
read -r t0 t1 < <(run_connector spool written connector.class=SpoolDirLineDelimitedSourceConnector topic=spooled \
    "input.path=$WORK/spool/in" "finished.path=$WORK/spool/done" "error.path=$WORK/spool/err" \
    'input.file.pattern=.*\.log' batch.size=10000 "${COMMON[@]}")
SPOOL=$(mb_s "$BYTES" "$t0" "$t1")
RSS_SPOOL=$(cat "$WORK/rss-spool")

log "taildir"
mkdir -p "$WORK/tail"
cp -l "$WORK"/lines/* "$WORK/tail/"
read -r t0 t1 < <(run_connector tail written connector.class=TAILDIR topic=tailed filegroups=g \
    "filegroups.g=$WORK/tail/part-.*\.log" "positionFile=$WORK/tail-positions.json" batchSize=10000 "${COMMON[@]}")
TAIL=$(mb_s "$BYTES" "$t0" "$t1")
RSS_TAIL=$(cat "$WORK/rss-tail")

log "tail latency at 10,000 lines/s"
mkdir -p "$WORK/live"
: >"$WORK/live/app.log"
printf '%s\n' name=live connector.class=TAILDIR topic=live filegroups=g "filegroups.g=$WORK/live/app\.log" \
    "positionFile=$WORK/live-positions.json" "${COMMON[@]}" >"$WORK/live.properties"
"$WEIR" standalone "$WORK/worker.properties" "$WORK/live.properties" >"$WORK/live.log" 2>&1 &
W=$!
STARTED_PIDS+=("$W")
until curl -s "http://127.0.0.1:$REST/connectors/live/status" | grep -q '"RUNNING"'; do sleep 0.1; done
LAT=$("$VENV/bin/python" - "$B" "$WORK/live/app.log" <<'PY'
import sys, threading, time
from confluent_kafka import Consumer
boot, path = sys.argv[1], sys.argv[2]
rate, seconds = 10_000, 20
lat, done = [], threading.Event()
c = Consumer({"bootstrap.servers": boot, "group.id": "lat", "auto.offset.reset": "earliest", "fetch.wait.max.ms": 5})
c.subscribe(["live"])
def consume():
    while not done.is_set() or len(lat) < rate * seconds:
        for m in c.consume(1000, 0.2):
            if not m.error():
                lat.append(time.time_ns() - int(m.value().split(b" ")[0]))
        if done.is_set() and time.time() > deadline:
            break
deadline = time.time() + seconds + 30
t = threading.Thread(target=consume)
t.start()
with open(path, "a", buffering=1) as f:
    start = time.time()
    for i in range(rate * seconds):
        due = start + i / rate
        while time.time() < due:
            time.sleep(0.0002)
        f.write(f"{time.time_ns()} line {i}\n")
done.set()
t.join()
c.close()
lat.sort()
ms = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] / 1e6
print(f"{len(lat)} {ms(0.5):.1f} {ms(0.99):.1f} {lat[-1] / 1e6:.1f}")
PY
)
stop_pid "$W"
read -r LAT_N P50 P99 PMAX <<<"$LAT"

echo
echo "| run | lines | MB/s | reference (kcat -P -l) MB/s | ratio | peak RSS |"
echo "|---|---|---|---|---|---|"
echo "| spooldir | $N | $SPOOL | $KCAT | $(ratio "$SPOOL" "$KCAT")x | $((RSS_SPOOL / 1024)) MB |"
echo "| taildir | $N | $TAIL | $KCAT | $(ratio "$TAIL" "$KCAT")x | $((RSS_TAIL / 1024)) MB |"
echo
echo "tail latency (line appended -> record consumed), 10,000 lines/s for 20 s: $LAT_N lines, p50 ${P50} ms, p99 ${P99} ms, max ${PMAX} ms"
rm -rf "$WORK"
