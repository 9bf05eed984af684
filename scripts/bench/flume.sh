#!/usr/bin/env bash
# Flume-style sources benchmark, release build, one run on this machine:
#   spooldir - BENCH_LINES (default 10,000,000) lines of 100 bytes in 10
#              files through SpoolDirLineDelimitedSourceConnector into a
#              topic, against `kcat -P -l` of the same files (MB/s);
#   taildir  - the same files followed by TAILDIR, same reference;
#   latency  - a line appended to a tailed file until a consumer has its
#              record, at 10,000 lines/s for 20 s (p50, p99, max, the
#              slowest line, and the lines that took over 500 ms);
#   the worker's peak RSS over the runs.
# Two rounds, sides alternating, best of each, each run on a fresh broker.
# Prints one table. Not part of test.sh. BENCH_ONLY=latency runs the
# latency measure alone.
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
fresh_broker

mb_s() { python3 -c "print(f'{$1 / ($3 - $2) / 1e6:.1f}')"; }

COMMON=(value.converter=org.apache.kafka.connect.storage.StringConverter topic.creation.default.partitions=1 topic.creation.default.replication.factor=1)
if [ "${BENCH_ONLY:-}" != latency ]; then
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

WRITTEN=metric:kafka_connect_source_task_metrics_source_record_write_total
best() { python3 -c "print(max($1, $2))"; }
KCAT=0 SPOOL=0 TAIL=0 RSS_SPOOL=0 RSS_TAIL=0
# Two rounds, the sides alternating; the best run of each side counts
# (this machine's speed drifts from run to run).
for r in 1 2; do
    log "round $r: kcat -P -l, file by file"
    fresh_broker
    "$WEIR" topics --bootstrap-server "$B" --create --topic "ref-$r" --partitions 1 >/dev/null
    sync
    t0=$(now)
    for f in "$WORK"/lines/*; do kcat -b "$B" -P -t "ref-$r" -p 0 -l "$f"; done
    t1=$(now)
    KCAT=$(best "$KCAT" "$(mb_s "$BYTES" "$t0" "$t1")")

    log "round $r: spooldir"
    fresh_broker
    mkdir -p "$WORK/spool-$r/in" "$WORK/spool-$r/done" "$WORK/spool-$r/err"
    cp -l "$WORK"/lines/* "$WORK/spool-$r/in/"
    read -r t0 t1 < <(run_connector "spool-$r" "$WRITTEN" connector.class=SpoolDirLineDelimitedSourceConnector "topic=spooled-$r" \
        "input.path=$WORK/spool-$r/in" "finished.path=$WORK/spool-$r/done" "error.path=$WORK/spool-$r/err" \
        'input.file.pattern=.*\.log' batch.size=10000 "${COMMON[@]}")
    SPOOL=$(best "$SPOOL" "$(mb_s "$BYTES" "$t0" "$t1")")
    RSS_SPOOL=$(best "$RSS_SPOOL" "$(cat "$WORK/rss-spool-$r")")

    log "round $r: taildir"
    fresh_broker
    mkdir -p "$WORK/tail-$r"
    cp -l "$WORK"/lines/* "$WORK/tail-$r/"
    read -r t0 t1 < <(run_connector "tail-$r" "$WRITTEN" connector.class=TAILDIR "topic=tailed-$r" filegroups=g \
        "filegroups.g=$WORK/tail-$r/part-.*\.log" "positionFile=$WORK/tail-$r.json" batchSize=10000 "${COMMON[@]}")
    TAIL=$(best "$TAIL" "$(mb_s "$BYTES" "$t0" "$t1")")
    RSS_TAIL=$(best "$RSS_TAIL" "$(cat "$WORK/rss-tail-$r")")
done

fi

log "tail latency at 10,000 lines/s"
fresh_broker
mkdir -p "$WORK/live"
: >"$WORK/live/app.log"
# The topic exists before the measuring consumer subscribes: a consumer whose
# first metadata lookup misses a topic looks again only about 2 s later, which
# would be counted against the first lines.
"$WEIR" topics --bootstrap-server "$B" --create --topic live --partitions 1 >/dev/null
printf '%s\n' name=live connector.class=TAILDIR topic=live filegroups=g "filegroups.g=$WORK/live/app\.log" \
    "positionFile=$WORK/live-positions.json" "${COMMON[@]}" >"$WORK/live.properties"
"$WEIR" standalone "$WORK/worker.properties" "$WORK/live.properties" >"$WORK/live.log" 2>&1 &
W=$!
STARTED_PIDS+=("$W")
until curl -s "http://127.0.0.1:$REST/connectors/live/status" | grep -q '"RUNNING"'; do sleep 0.1; done
LAT=$("$VENV/bin/python" - "$B" "$WORK/live/app.log" <<'PY'
# The writer is a process of its own, so that it and the consumer do not
# take turns on one interpreter; the consumer takes each record as it comes.
import subprocess, sys, time
from confluent_kafka import Consumer
boot, path = sys.argv[1], sys.argv[2]
rate, seconds = 10_000, 20
c = Consumer({"bootstrap.servers": boot, "group.id": "lat", "auto.offset.reset": "earliest", "fetch.wait.max.ms": 5})
assigned = []
c.subscribe(["live"], on_assign=lambda _, parts: assigned.extend(parts))
# The first line is written once the consumer has its partition.
joined = time.time() + 30
while not assigned and time.time() < joined:
    c.poll(0.1)
if not assigned:
    sys.exit("the latency consumer was not assigned a partition of live within 30 s")
writer = subprocess.Popen([sys.executable, "-c", f'''
import time
with open({path!r}, "a", buffering=1) as f:
    start = time.time()
    for i in range({rate * seconds}):
        d = start + i / {rate} - time.time()
        if d > 0:
            time.sleep(d)
        f.write(f"{{time.time_ns()}} line {{i}}\\n")
'''])
lat, deadline = [], time.time() + seconds + 30
while len(lat) < rate * seconds and time.time() < deadline:
    m = c.poll(0.1)
    if m is not None and not m.error():
        sent_ns, _, i = m.value().split(b" ")[:3]
        lat.append((time.time_ns() - int(sent_ns), int(i)))
writer.wait()
c.close()
lat.sort()
ms = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))][0] / 1e6
# Where the slow lines are: the slowest line's number, and how many lines
# took over 500 ms with the first and last of them (- when none).
late = sorted(i for ns, i in lat if ns > 500e6)
span = f"{late[0]} {late[-1]}" if late else "- -"
print(f"{len(lat)} {ms(0.5):.1f} {ms(0.99):.1f} {lat[-1][0] / 1e6:.1f} {lat[-1][1]} {len(late)} {span}")
PY
)
stop_pid "$W"
read -r LAT_N P50 P99 PMAX SLOWEST LATE FIRST_LATE LAST_LATE <<<"$LAT"

if [ "${BENCH_ONLY:-}" != latency ]; then
    echo
    echo "| run | lines | MB/s | reference (kcat -P -l) MB/s | ratio | peak RSS |"
    echo "|---|---|---|---|---|---|"
    echo "| spooldir | $N | $SPOOL | $KCAT | $(ratio "$SPOOL" "$KCAT")x | $((RSS_SPOOL / 1024)) MB |"
    echo "| taildir | $N | $TAIL | $KCAT | $(ratio "$TAIL" "$KCAT")x | $((RSS_TAIL / 1024)) MB |"
fi
echo
echo "tail latency (line appended -> record consumed), 10,000 lines/s for 20 s: $LAT_N lines, p50 ${P50} ms, p99 ${P99} ms, max ${PMAX} ms (line ${SLOWEST}); ${LATE} lines over 500 ms (lines ${FIRST_LATE} to ${LAST_LATE})"
rm -rf "$WORK"
