#!/usr/bin/env bash
# HDFS connector benchmark, release build, one run on this machine, on a
# file:// store:
#   sink   - N records of 100 bytes (JSON) from a topic into JSON-lines
#            files, against `kcat -C -e > file` of the same topic (MB/s);
#            the same records as Parquet and as Avro files reported beside
#            it (rows/s and file size against the JSON);
#   source - the JSON files back into a topic, against `kcat -P -l` of the
#            same records (the files joined: kcat takes one in line mode);
#   the worker's peak RSS over the runs.
# Prints one table. BENCH_ROWS (default 1000000). Not part of test.sh.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
trap cleanup_started EXIT

N="${BENCH_ROWS:-1000000}"
FILES=10
ensure_packages kcat curl
WEIR_PROFILE=release build_weir
WORK="$(mktemp -d)"
PORT="$(free_port)"
B="127.0.0.1:$PORT"
start_broker "$WORK/broker" "$PORT" "$WORK/broker.log"

per_s() { python3 -c "print(f'{$1 / ($3 - $2):.0f}')"; }
mb_s() { python3 -c "print(f'{$1 / ($3 - $2) / 1e6:.1f}')"; }

log "writing $N records of 100 bytes"
python3 - "$WORK/records.json" "$N" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w", buffering=1 << 22) as f:
    for i in range(n):
        head = f'{{"id":{i},"pad":"'
        f.write(head + "x" * (100 - len(head) - 2) + '"}\n')
PY
BYTES=$(wc -c <"$WORK/records.json")
"$WEIR" topics --bootstrap-server "$B" --create --topic records --partitions 1 >/dev/null
kcat -b "$B" -P -t records -p 0 -l "$WORK/records.json"

log "reference: kcat -C -e > file"
t0=$(now)
kcat -b "$B" -C -t records -o beginning -e -q >"$WORK/ref.out"
t1=$(now)
[ "$(wc -l <"$WORK/ref.out")" = "$N" ] || { echo "kcat read $(wc -l <"$WORK/ref.out") records" >&2; exit 1; }
KCAT_C=$(mb_s "$BYTES" "$t0" "$t1")

worker_properties "$WORK/worker.properties" "$B" consumer.max.poll.records=5000

committed_files() { find "$1/topics/records" -type f -name "records+*$2" 2>/dev/null | wc -l; }
json_done() { [ "$(committed_files "$WORK/json" .json)" -ge "$FILES" ]; }
avro_done() { [ "$(committed_files "$WORK/avro" .avro)" -ge "$FILES" ]; }
parquet_done() { [ "$(committed_files "$WORK/parquet" .parquet)" -ge "$FILES" ]; }
SINK=(connector.class=Hdfs3SinkConnector topics=records "flush.size=$((N / FILES))")

log "sink: JSON lines"
read -r t0 t1 < <(run_connector json json_done "${SINK[@]}" "store.url=file://$WORK/json" format.class=io.confluent.connect.hdfs3.json.JsonFormat)
SINK_JSON=$(mb_s "$BYTES" "$t0" "$t1")
SINK_JSON_ROWS=$(per_s "$N" "$t0" "$t1")
JSON_SIZE=$(du -sb "$WORK/json/topics" | awk '{print $1}')
[ "$(find "$WORK/json/topics/records" -type f -exec cat {} + | wc -l)" = "$N" ] || { echo "the JSON files do not hold $N records" >&2; exit 1; }

log "sink: Parquet"
read -r t0 t1 < <(run_connector parquet parquet_done "${SINK[@]}" "store.url=file://$WORK/parquet" format.class=io.confluent.connect.hdfs3.parquet.ParquetFormat)
SINK_PARQUET_ROWS=$(per_s "$N" "$t0" "$t1")
PARQUET_SIZE=$(du -sb "$WORK/parquet/topics" | awk '{print $1}')

log "sink: Avro"
read -r t0 t1 < <(run_connector avro avro_done "${SINK[@]}" "store.url=file://$WORK/avro" format.class=io.confluent.connect.hdfs3.avro.AvroFormat avro.codec=snappy)
SINK_AVRO_ROWS=$(per_s "$N" "$t0" "$t1")
AVRO_SIZE=$(du -sb "$WORK/avro/topics" | awk '{print $1}')

log "reference: kcat -P -l of the JSON files"
"$WEIR" topics --bootstrap-server "$B" --create --topic copied --partitions 1 >/dev/null
# kcat takes one file in line mode: the files, in order, as one.
find "$WORK/json/topics/records" -type f | sort | xargs cat >"$WORK/all.json"
t0=$(now)
kcat -b "$B" -P -t copied -p 0 -l "$WORK/all.json"
t1=$(now)
KCAT_P=$(per_s "$N" "$t0" "$t1")

log "source: the JSON files back into a topic"
"$WEIR" topics --bootstrap-server "$B" --create --topic restored --partitions 1 >/dev/null
read -r t0 t1 < <(run_connector restore metric:kafka_connect_source_task_metrics_source_record_write_total connector.class=Hdfs3SourceConnector "store.url=file://$WORK/json" \
    format.class=io.confluent.connect.hdfs3.json.JsonFormat record.batch.max.size=10000 \
    transforms=r transforms.r.type=org.apache.kafka.connect.transforms.RegexRouter transforms.r.regex=records transforms.r.replacement=restored)
SOURCE=$(per_s "$N" "$t0" "$t1")
RSS=$(cat "$WORK"/rss-* | sort -n | tail -n 1)

echo
echo "| $N records of 100 bytes, file:// store | result | reference | ratio |"
echo "|---|---|---|---|"
echo "| sink, JSON lines | $SINK_JSON MB/s ($SINK_JSON_ROWS rows/s) | $KCAT_C MB/s (kcat -C -e > file) | $(ratio "$SINK_JSON" "$KCAT_C")x |"
echo "| sink, Parquet (snappy) | $SINK_PARQUET_ROWS rows/s; files $((PARQUET_SIZE / 1000)) kB | JSON files $((JSON_SIZE / 1000)) kB | $(ratio "$PARQUET_SIZE" "$JSON_SIZE")x the size |"
echo "| sink, Avro (snappy) | $SINK_AVRO_ROWS rows/s; files $((AVRO_SIZE / 1000)) kB | JSON files $((JSON_SIZE / 1000)) kB | $(ratio "$AVRO_SIZE" "$JSON_SIZE")x the size |"
echo "| source, JSON files to a topic | $SOURCE rows/s | $KCAT_P rows/s (kcat -P -l) | $(ratio "$SOURCE" "$KCAT_P")x |"
echo "| worker peak RSS (MB) | $((RSS / 1024)) | | |"
rm -rf "$WORK"
