#!/usr/bin/env bash
# The main job, on the embedded defaults: the tutorial's exercise of an
# Apache access log flowing FileStreamSource -> topic log-test ->
# FileStreamSink -> logout.txt, with Kafka Connect's own three properties
# files and no broker to install (weir standalone starts the bundled one);
# then JSON records into a SQLite table through the JDBC sink, and the log's
# topic into hourly-partitioned JSON files through the HDFS sink (file://).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap cleanup_started EXIT

ensure_packages curl sqlite3
build_weir

DIR="$(mktemp -d)"
cd "$DIR"
REST="${WEIR_DEMO_REST_PORT:-$(free_port)}"

log "an Apache access log sample: $DIR/access_log_small.txt"
paths=(/ /index.html /about.html /images/logo.png /search?q=kafka /api/orders /login)
write_log() {
    local i
    for i in $(seq "$1" "$2"); do
        printf '10.0.%d.%d - - [22/Nov/2026:10:%02d:%02d +0000] "GET %s HTTP/1.1" %d %d "-" "Mozilla/5.0"\n' \
            $((i % 7)) $((i % 250)) $((i / 60 % 60)) $((i % 60)) "${paths[i % ${#paths[@]}]}" \
            $((i % 13 == 0 ? 404 : 200)) $((i * 37 % 5000 + 200))
    done >>access_log_small.txt
}
write_log 1 500

log "Kafka Connect's files, as in the tutorial (no bootstrap.servers: the bundled broker starts in-process)"
write_connect_files "" "$DIR/connect.offsets" "$REST" "$DIR/access_log_small.txt" topic "$DIR/logout.txt"
head -n 20 connect-*.properties

log "weir standalone connect-standalone.properties connect-file-source.properties connect-file-sink.properties"
"$WEIR" standalone connect-standalone.properties connect-file-source.properties \
    connect-file-sink.properties >worker.log 2>&1 &
WORKER=$!
STARTED_PIDS+=("$WORKER")
wait_port "$REST"
BROKER=$(grep -o 'started the bundled broker on [0-9.:]*' worker.log | awk '{print $NF}')
log "bundled broker on $BROKER; REST API on http://127.0.0.1:$REST"

wait_for_lines() {
    local i
    for i in $(seq 1 300); do
        [ "$(wc -l <logout.txt 2>/dev/null || echo 0)" -ge "$1" ] && return 0
        sleep 0.1
    done
    echo "logout.txt did not reach $1 lines; worker log:" >&2
    tail -n 20 worker.log >&2
    exit 1
}
wait_for_lines 500
log "appending 250 lines to the access log while the connectors run"
write_log 501 750
wait_for_lines 750

log "curl http://127.0.0.1:$REST/connectors/local-file-source/status"
curl -s "http://127.0.0.1:$REST/connectors/local-file-source/status"
echo
log "curl http://127.0.0.1:$REST/connectors?expand=status"
curl -s "http://127.0.0.1:$REST/connectors?expand=status"
echo
log "the topic, through weir consume --bootstrap-server $BROKER --topic log-test --from-beginning --max-messages 3"
"$WEIR" consume --bootstrap-server "$BROKER" --topic log-test --from-beginning --max-messages 3

if cmp -s access_log_small.txt logout.txt; then
    log "logout.txt is identical to access_log_small.txt ($(wc -l <logout.txt) lines)"
else
    echo "logout.txt differs from the input" >&2
    exit 1
fi

log "the database leg: {\"number\": n} JSON into a SQLite table through the JDBC sink"
for n in $(seq 1 10); do echo "{\"number\": $n}"; done |
    "$WEIR" produce --bootstrap-server "$BROKER" --topic numtest
curl -s -X POST -H 'Content-Type: application/json' "http://127.0.0.1:$REST/connectors" --data "{
  \"name\": \"numtest-sink\",
  \"config\": {
    \"connector.class\": \"io.confluent.connect.jdbc.JdbcSinkConnector\",
    \"connection.url\": \"jdbc:sqlite:$DIR/demo.db\",
    \"topics\": \"numtest\",
    \"auto.create\": \"true\",
    \"value.converter\": \"org.apache.kafka.connect.json.JsonConverter\",
    \"value.converter.schemas.enable\": \"false\"
  }
}"
echo
for i in $(seq 1 100); do
    [ "$(sqlite3 "$DIR/demo.db" 'select count(*) from numtest' 2>/dev/null || echo 0)" = 10 ] && break
    sleep 0.2
done
log "sqlite3 $DIR/demo.db 'select number from numtest'"
sqlite3 "$DIR/demo.db" 'select number from numtest' | paste -sd' '
[ "$(sqlite3 "$DIR/demo.db" 'select sum(number) from numtest')" = 55 ] || { echo "numtest does not hold 1..10" >&2; exit 1; }

log "the HDFS leg: the access log's topic into hourly-partitioned JSON files on a file:// store"
curl -s -X POST -H 'Content-Type: application/json' "http://127.0.0.1:$REST/connectors" --data "{
  \"name\": \"log-files\",
  \"config\": {
    \"connector.class\": \"io.confluent.connect.hdfs3.Hdfs3SinkConnector\",
    \"topics\": \"log-test\",
    \"store.url\": \"file://$DIR/hdfs\",
    \"format.class\": \"io.confluent.connect.hdfs3.json.JsonFormat\",
    \"flush.size\": \"250\",
    \"partitioner.class\": \"io.confluent.connect.storage.partitioner.HourlyPartitioner\",
    \"timestamp.extractor\": \"Record\",
    \"locale\": \"en-US\",
    \"timezone\": \"UTC\"
  }
}"
echo
committed_lines() { find "$DIR/hdfs/topics/log-test" -type f -name 'log-test+*' -exec cat {} + 2>/dev/null | wc -l; }
for i in $(seq 1 150); do
    [ "$(committed_lines)" -ge 750 ] && break
    sleep 0.2
done
log "find $DIR/hdfs -type f"
(cd "$DIR/hdfs" && find . -type f | sort)
[ "$(committed_lines)" = 750 ] || { echo "the HDFS sink did not commit the 750 lines" >&2; exit 1; }
log "the first committed file begins:"
head -n 2 "$(find "$DIR/hdfs/topics/log-test" -type f -name 'log-test+0+0000000000+*')"

log "stopping the worker (and its bundled broker)"
stop_pid "$WORKER"
STARTED_PIDS=()
grep -q "broker stopped cleanly" worker.log
log "demo finished"
cd /
rm -rf "$DIR"
