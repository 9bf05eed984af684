#!/usr/bin/env bash
# Runs every test: formatting, lints, Rust unit and integration tests (real
# librdkafka clients, SIGKILLed broker processes), then kcat (Debian's
# librdkafka and a current one), kafka-python, confluent-kafka and aiokafka
# against the weir broker binary. Installs what is missing, stops what it started.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap cleanup_started EXIT
cd "$ROOT"

ensure_packages kcat openssl netcat-openbsd python3-venv build-essential pkg-config libssl-dev curl postgresql postgresql-client mariadb-server mariadb-client
ensure_venv

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
log "PostgreSQL and MariaDB in temporary directories"
start_postgres
start_mariadb
export PG_BIN PG_DIR
log "cargo test (the JDBC tests use the PostgreSQL and MariaDB just started)"
cargo test --workspace
if [ -z "${WEIR_TEST_HDFS_URL:-}" ]; then
    log "NOT RUN: hdfs:// against an HDFS cluster (WEIR_TEST_HDFS_URL is not set, and no HDFS can be installed here); hdfs:// was tested up to the wire, webhdfs:// against the WebHDFS protocol fake"
else
    log "hdfs:// ran against the cluster at $WEIR_TEST_HDFS_URL"
fi

build_weir
WORK="$(mktemp -d)"
PORT="$(free_port)"
BOOT="127.0.0.1:$PORT"
log "client compatibility against weir broker on $BOOT"
start_broker "$WORK/data" "$PORT" "$WORK/broker.log"

log "kcat with Debian's librdkafka"
scripts/tests/kcat.sh "$BOOT" debian

log "kcat with the current librdkafka shipped in the confluent-kafka wheel"
lib=$(find "$VENV" -path '*confluent_kafka.libs*' -name 'librdkafka*.so*' | head -n 1)
[ -n "$lib" ] || { echo "no librdkafka in the confluent-kafka wheel" >&2; exit 1; }
mkdir -p "$WORK/rdkafka"
ln -sf "$lib" "$WORK/rdkafka/librdkafka.so.1"
LD_LIBRARY_PATH="$WORK/rdkafka:$(dirname "$lib")" scripts/tests/kcat.sh "$BOOT" current

log "weir producer-perf-test prints Kafka's summary line"
"$WEIR" producer-perf-test --topic perf --num-records 5000 --record-size 100 --throughput -1 \
    --producer-props "bootstrap.servers=$BOOT" acks=all | tail -n 1 | tee "$WORK/perf.txt"
grep -Eq '^5000 records sent, [0-9.]+ records/sec \([0-9.]+ MB/sec\), [0-9.]+ ms avg latency, [0-9.]+ ms max latency, [0-9]+ ms 50th, [0-9]+ ms 95th, [0-9]+ ms 99th, [0-9]+ ms 99.9th\.$' "$WORK/perf.txt"
[ "$(kcat -b "$BOOT" -C -t perf -o beginning -e -q | wc -l)" -eq 5000 ]

log "the tutorials' Kafka commands through the Kafka-named shims"
scripts/tests/seeds.sh "$WEIR"

log "Kafka 4's quickstart through the shims: kafka-storage.sh format, the broker, console clients, Connect's FileStream quickstart, kafka-server-stop.sh"
WEIR_BIN="$WEIR" scripts/tests/quickstart.sh "$VENV/bin/python"

log "weir standalone: the tutorial's connector files, 1,000,000 lines with a SIGKILL, REST"
scripts/tests/standalone.sh "$WEIR"

log "transforms, error tolerance with a dead letter queue (1,000,000 records, a SIGKILL), topic creation"
"$VENV/bin/python" scripts/tests/transforms.py "$WEIR" "$BOOT"

log "JDBC sink: the tutorial's JSON into SQLite, PostgreSQL and MariaDB; a database restart; 1,000,000 upserts with a SIGKILL"
"$VENV/bin/python" scripts/tests/jdbc.py "$WEIR" "$BOOT"

log "HDFS on file://: 1,000,000 records exactly once through six SIGKILLs; Avro and Parquet read by fastavro and pyarrow; a backup restored through the HDFS source"
"$VENV/bin/python" scripts/tests/hdfs.py "$WEIR" "$BOOT"

log "Flume: the user guide's and the tutorial's agents through flume-ng, spooldir with 200 files and two SIGKILLs, fan-out to HDFS and SQLite, chained agents"
ensure_hadoop_jars
WEIR_HADOOP_JARS="$HADOOP_JARS" "$VENV/bin/python" scripts/tests/flume.py "$WEIR" "$BOOT"

log "weir distributed: three workers, failover, rejoin, internal topics"
scripts/tests/distributed.sh "$WEIR"

log "docker-compose.yml and Dockerfile (structure; a worker started from its CONNECT_* environment runs the compose walk-through on PostgreSQL)"
"$VENV/bin/python" scripts/tests/compose.py "$WEIR"

log "REST: every endpoint against its golden file, /metrics parsed, /openapi.json as committed"
"$VENV/bin/python" scripts/tests/rest_golden.py "$WEIR"

log "First contact: a newcomer's mistakes named before anything starts, weir validate, a broker lost and regained"
"$VENV/bin/python" scripts/tests/first_contact.py "$WEIR"

log "The REST contract: openapi-spec-validator, schemathesis against standalone and distributed workers, a generated client"
"$VENV/bin/python" scripts/tests/openapi.py "$WEIR" "$BOOT"

log "Python clients"
"$VENV/bin/python" scripts/tests/clients.py "$BOOT"

log "Security: TLS and SASL listeners with kcat, confluent-kafka, kafka-python and aiokafka"
"$VENV/bin/python" scripts/tests/security.py "$WEIR"

log "ACLs: weir acls, a principal's allowed and refused requests, standalone and three distributed workers on a SASL_SSL-only broker"
"$VENV/bin/python" scripts/tests/acls.py "$WEIR"

stop_pid "$BROKER_PID"
grep -q "broker stopped cleanly" "$WORK/broker.log" || { echo "broker did not stop cleanly" >&2; exit 1; }
rm -rf "$WORK"
log "all tests passed"
