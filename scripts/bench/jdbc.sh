#!/usr/bin/env bash
# JDBC connector benchmark, release build, one run on this machine:
#   sink   - N rows (id bigint, name text, amount numeric(12,2), ts timestamptz)
#            from a topic of JSON records into PostgreSQL, insert mode (COPY)
#            and upsert mode, against `psql \copy` of the same rows from CSV;
#            into MariaDB against LOAD DATA LOCAL INFILE, into SQLite against
#            sqlite3 .import;
#   source - the PostgreSQL table to a topic in bulk and incrementing mode,
#            against `psql -c "\copy (select ...) to stdout" | kcat -P -l`;
#   the worker's peak RSS over the runs.
# Prints one table of rows/s and ratios. BENCH_ROWS (default 1000000).
# Not part of test.sh.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
trap cleanup_started EXIT

N="${BENCH_ROWS:-1000000}"
ensure_packages kcat curl sqlite3 postgresql postgresql-client mariadb-server mariadb-client
WEIR_PROFILE=release build_weir
WORK="$(mktemp -d)"
start_postgres
start_mariadb
PORT="$(free_port)"
B="127.0.0.1:$PORT"
start_broker "$WORK/broker" "$PORT" "$WORK/broker.log"

rate() { python3 -c "print(f'{$N / ($2 - $1):.0f}')"; }
PSQL=(psql "$WEIR_TEST_POSTGRES_URL" -qAt)
MY_PORT=$(echo "$WEIR_TEST_MYSQL_URL" | sed -E 's#.*:([0-9]+)/.*#\1#')
MY=(mariadb --local-infile=1 -h 127.0.0.1 -P "$MY_PORT" -utest -ptest)

log "writing $N rows as CSV and as JSON records"
python3 - "$WORK" "$N" <<'PY'
import sys
work, n = sys.argv[1], int(sys.argv[2])
with open(f"{work}/rows.csv", "w", buffering=1 << 22) as c, open(f"{work}/rows.json", "w", buffering=1 << 22) as j:
    for i in range(n):
        name, amount = f"customer {i % 10007}", f"{i % 100000}.{i % 100:02d}"
        ts = f"2026-01-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:{(i // 60) % 60:02d}.{i % 1000:03d}+00"
        c.write(f"{i},{name},{amount},{ts}\n")
        j.write(f'{{"id":{i},"name":"{name}","amount":{amount},"ts":"{ts}"}}\n')
PY
kcat -b "$B" -P -t rows -p 0 -l "$WORK/rows.json"
# MariaDB's DATETIME takes no zone suffix.
sed 's/+00"}$/"}/' "$WORK/rows.json" | kcat -b "$B" -P -t rows-my -p 0

"${PSQL[@]}" -c "CREATE TABLE ref (id BIGINT, name TEXT, amount NUMERIC(12,2), ts TIMESTAMPTZ)"
log "reference: psql \\copy from CSV"
t0=$(now)
"${PSQL[@]}" -c "\\copy ref FROM '$WORK/rows.csv' WITH (FORMAT csv)"
t1=$(now)
PSQL_COPY=$(rate "$t0" "$t1")

worker_properties "$WORK/worker.properties" "$B"

# run NAME METRIC PROPS...: a worker with one connector; the rows/s until
# METRIC reaches N.
run() {
    local name=$1 times
    shift
    times=$(run_connector "$name" "metric:$1" "${@:2}") || return 1
    rate $times
}
SINK=(connector.class=JdbcSinkConnector topics=rows "connection.url=jdbc:${WEIR_TEST_POSTGRES_URL/postgres:/postgresql:}")
PUT=kafka_connect_sink_task_metrics_sink_record_send_total

log "sink into PostgreSQL, insert mode"
"${PSQL[@]}" -c "CREATE TABLE ins (id BIGINT, name TEXT, amount NUMERIC(12,2), ts TIMESTAMPTZ)"
SINK_INSERT=$(run ins "$PUT" "${SINK[@]}" table.name.format=ins) || exit 1
[ "$("${PSQL[@]}" -c 'select count(*) from ins')" = "$N" ] || { echo "ins does not hold $N rows" >&2; exit 1; }

log "sink into PostgreSQL, upsert mode"
"${PSQL[@]}" -c "CREATE TABLE ups (id BIGINT PRIMARY KEY, name TEXT, amount NUMERIC(12,2), ts TIMESTAMPTZ)"
SINK_UPSERT=$(run ups "$PUT" "${SINK[@]}" table.name.format=ups insert.mode=upsert pk.mode=record_value pk.fields=id) || exit 1
[ "$("${PSQL[@]}" -c 'select count(*) from ups')" = "$N" ] || { echo "ups does not hold $N rows" >&2; exit 1; }

log "MariaDB: LOAD DATA LOCAL INFILE, then the sink"
"${MY[@]}" t -e "CREATE TABLE ref (id BIGINT, name TEXT, amount DECIMAL(12,2), ts DATETIME(3)); CREATE TABLE ins (id BIGINT, name TEXT, amount DECIMAL(12,2), ts DATETIME(3))"
sed 's/+00$//' "$WORK/rows.csv" >"$WORK/rows-my.csv"
t0=$(now)
"${MY[@]}" t -e "LOAD DATA LOCAL INFILE '$WORK/rows-my.csv' INTO TABLE ref FIELDS TERMINATED BY ','"
t1=$(now)
MY_LOAD=$(rate "$t0" "$t1")
MY_URL="jdbc:${WEIR_TEST_MYSQL_URL/mysql:/mariadb:}"
MY_SINK=$(run my-ins "$PUT" connector.class=JdbcSinkConnector topics=rows-my "connection.url=$MY_URL" table.name.format=ins) || exit 1

log "SQLite: sqlite3 .import, then the sink"
sqlite3 "$WORK/ref.db" "CREATE TABLE ref (id INTEGER, name TEXT, amount NUMERIC, ts TEXT)"
t0=$(now)
sqlite3 "$WORK/ref.db" ".mode csv" ".import $WORK/rows.csv ref"
t1=$(now)
LITE_IMPORT=$(rate "$t0" "$t1")
LITE_SINK=$(run lite-ins "$PUT" connector.class=JdbcSinkConnector topics=rows "connection.url=jdbc:sqlite:$WORK/sink.db" table.name.format=ins auto.create=true batch.size=3000) || exit 1

log "reference: psql \\copy (select ...) to stdout | kcat -P -l"
# The source runs and their reference each on a fresh broker (see common.sh).
fresh_broker
t0=$(now)
"${PSQL[@]}" -c "\\copy (select * from ref) to stdout" | kcat -b "$B" -P -t copied -l
t1=$(now)
COPY_KCAT=$(rate "$t0" "$t1")
SRC=(connector.class=JdbcSourceConnector "connection.url=jdbc:${WEIR_TEST_POSTGRES_URL/postgres:/postgresql:}" table.whitelist=ref batch.max.rows=10000 poll.interval.ms=100)
WRITE=kafka_connect_source_task_metrics_source_record_write_total
log "source from PostgreSQL, bulk mode"
fresh_broker
SRC_BULK=$(run src-bulk "$WRITE" "${SRC[@]}" mode=bulk topic.prefix=bulk- poll.interval.ms=3600000) || exit 1
# The incrementing column is indexed, as a table read this way would be.
"${PSQL[@]}" -c "ALTER TABLE ref ADD PRIMARY KEY (id)"
log "source from PostgreSQL, incrementing mode"
fresh_broker
SRC_INC=$(run src-inc "$WRITE" "${SRC[@]}" mode=incrementing incrementing.column.name=id topic.prefix=inc-) || exit 1
RSS=$(cat "$WORK"/rss-* | sort -n | tail -n 1)

echo
echo "| $N rows (id, name, amount numeric(12,2), ts) | rows/s | reference rows/s | ratio |"
echo "|---|---|---|---|"
echo "| sink into PostgreSQL, insert (COPY) | $SINK_INSERT | $PSQL_COPY (psql \\copy) | $(ratio "$SINK_INSERT" "$PSQL_COPY")x |"
echo "| sink into PostgreSQL, upsert | $SINK_UPSERT | $PSQL_COPY (psql \\copy) | $(ratio "$SINK_UPSERT" "$PSQL_COPY")x |"
echo "| sink into MariaDB, insert | $MY_SINK | $MY_LOAD (LOAD DATA LOCAL INFILE) | $(ratio "$MY_SINK" "$MY_LOAD")x |"
echo "| sink into SQLite, insert | $LITE_SINK | $LITE_IMPORT (sqlite3 .import) | $(ratio "$LITE_SINK" "$LITE_IMPORT")x |"
echo "| source from PostgreSQL, bulk | $SRC_BULK | $COPY_KCAT (psql \\copy to stdout \\| kcat -P) | $(ratio "$SRC_BULK" "$COPY_KCAT")x |"
echo "| source from PostgreSQL, incrementing | $SRC_INC | $COPY_KCAT (psql \\copy to stdout \\| kcat -P) | $(ratio "$SRC_INC" "$COPY_KCAT")x |"
echo "| worker peak RSS (MB) | $((RSS / 1024)) | | |"
rm -rf "$WORK"
