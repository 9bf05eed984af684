#!/usr/bin/env bash
# weir distributed: a broker and three workers as processes, started and
# restarted with scripts/cluster.sh. Connectors are
# created through a follower; their tasks spread over the workers; every
# worker answers /connectors?expand=status the same; a SIGKILLed worker's
# tasks run elsewhere within the rebalance delay and nothing is lost; the
# worker comes back and rejoins; kcat reads Kafka Connect's keys and values
# in the internal topics.
# Usage: distributed.sh <weir binary>
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
WEIR="$1"
WORK="$(mktemp -d)"
export WEIR_CLUSTER_DIR="$WORK" WEIR_BIN="$WEIR"
CLUSTER="$ROOT/scripts/cluster.sh"
trap '"$CLUSTER" stop >/dev/null; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT
cd "$WORK"

fail() {
    echo "distributed: $*" >&2
    for i in 1 2 3; do
        echo "--- worker $i" >&2
        tail -n 20 "worker-$i.log" >&2 || true
    done
    exit 1
}

DELAY_MS=3000
SESSION_MS=6000
# The leader renews the session key this often, so the run sees it renewed.
KEY_TTL_MS=20000
cat >extra.properties <<PROPS
session.timeout.ms=$SESSION_MS
heartbeat.interval.ms=1000
scheduled.rebalance.max.delay.ms=$DELAY_MS
offset.flush.interval.ms=1000
# Sink consumers of a dead worker leave their group after this, not 45 s.
consumer.session.timeout.ms=$SESSION_MS
consumer.heartbeat.interval.ms=1000
weir.task.auto.restart.enable=true
weir.task.auto.restart.max.backoff.ms=4000
inter.worker.key.ttl.ms=$KEY_TTL_MS
PROPS
declare -A PORT
export BROKER_PORT WORKER_PORTS WORKER_EXTRA="$WORK/extra.properties"
BROKER_PORT="$(free_port)"
B="127.0.0.1:$BROKER_PORT"
for i in 1 2 3; do PORT[$i]="$(free_port)"; done
WORKER_PORTS="${PORT[1]} ${PORT[2]} ${PORT[3]}"
"$CLUSTER" start >cluster-start.txt 2>&1 || fail "the cluster did not start: $(tail -n 5 cluster-start.txt)"
"$WEIR" topics --bootstrap-server "$B" --create --topic lines --partitions 6 >/dev/null ||
    fail "creating the topic lines failed"
"$CLUSTER" status | grep -q "worker 3 pid" || fail "the cluster did not start: $("$CLUSTER" status)"
api() { curl -s "http://127.0.0.1:${PORT[$1]}$2" "${@:3}"; }

# Everyone in one generation; a follower is a worker whose last line says so.
for _ in $(seq 1 100); do
    # Nothing logged yet is not a failure (grep finds nothing at first).
    n=$(grep -h " INFO generation" worker-1.log worker-2.log worker-3.log | awk '{print $4}' | sort -u | tail -n 1 || true)
    c=$(for i in 1 2 3; do grep " INFO generation" "worker-$i.log" | tail -n 1 | awk '{print $4}'; done | grep -cx "$n" || true)
    [ "$c" = 3 ] && break
    sleep 0.2
done
[ "$c" = 3 ] || fail "the workers did not settle in one generation"
FOLLOWER=""
for i in 1 2 3; do
    grep " INFO generation" "worker-$i.log" | tail -n 1 | grep -q "(leader)" || FOLLOWER=$i
done
[ -n "$FOLLOWER" ] || fail "no follower"
log "three workers in generation $n; creating connectors through follower $FOLLOWER"

seq 1 2000 | sed 's/^/line-/' >in.txt
t0=$(date +%s.%N)
api "$FOLLOWER" /connectors -X POST -H 'Content-Type: application/json' \
    --data "{\"name\":\"src\",\"config\":{\"connector.class\":\"FileStreamSource\",\"file\":\"$WORK/in.txt\",\"topic\":\"lines\"}}" >/dev/null
# all_running NAME TASKS: every worker shows the connector and its tasks RUNNING.
all_running() {
    local i s
    for i in "${!PORT[@]}"; do
        s=$(api "$i" "/connectors/$1/status")
        [ "$(grep -o '"state":"RUNNING"' <<<"$s" | wc -l)" = $(($2 + 1)) ] || return 1
    done
}
for _ in $(seq 1 100); do all_running src 1 && break; sleep 0.1; done
all_running src 1 || fail "src is not RUNNING: $(api 1 /connectors/src/status)"
t1=$(date +%s.%N)
SECS=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
grep -q "forwarding POST /connectors to http" "worker-$FOLLOWER.log" || fail "the follower did not forward the POST"
code=$(api "$FOLLOWER" "/connectors/src/config?forward=false" -o conflict.json -w '%{http_code}' -X PUT \
    -H 'Content-Type: application/json' --data '{"connector.class":"FileStreamSource","topic":"lines"}')
[ "$code" = 409 ] && grep -q 'Cannot complete request because of a conflicting operation' conflict.json ||
    fail "a follower took a write marked forward=false: $code $(cat conflict.json)"
python3 -c "import sys; sys.exit(0 if $t1 - $t0 < 3 else 1)" || fail "src took ${SECS}s to run on an idle cluster"
log "src (created through follower $FOLLOWER, forwarded to the leader) RUNNING on every worker's view ${SECS}s after the POST"

api "$FOLLOWER" /connectors -X POST -H 'Content-Type: application/json' \
    --data "{\"name\":\"snk\",\"config\":{\"connector.class\":\"FileStreamSink\",\"file\":\"$WORK/out.txt\",\"topics\":\"lines\",\"tasks.max\":\"3\"}}" >/dev/null
for _ in $(seq 1 150); do all_running snk 3 && break; sleep 0.1; done
all_running snk 3 || fail "snk is not RUNNING: $(api 1 /connectors/snk/status)"
for i in 1 2 3; do api "$i" "/connectors?expand=status" >"view$i.json"; done
cmp -s view1.json view2.json && cmp -s view1.json view3.json || fail "workers disagree: $(cat view1.json view2.json view3.json)"
owners=$(grep -o '"worker_id":"[^"]*"' view1.json | sort -u | wc -l)
[ "$owners" -ge 2 ] || fail "the work is not spread: $(cat view1.json)"
log "statuses identical on all three workers; work spread over $owners workers"

# Only the leader writes task configs: a follower owning a connector hands
# them over with a request signed with the session key (KIP-507).
LEADER=""
for i in 1 2 3; do [ "$i" != "$FOLLOWER" ] && grep " INFO generation" "worker-$i.log" | tail -n 1 | grep -q "(leader)" && LEADER=$i; done
[ -n "$LEADER" ] || fail "no leader"
grep -l "handed [0-9]* task config(s) to the leader" worker-*.log >/dev/null || fail "no follower handed task configs to the leader"
for i in 1 2 3; do
    [ "$i" = "$LEADER" ] || ! grep -q "wrote [0-9]* task config(s)" "worker-$i.log" || fail "follower $i wrote task configs itself"
done
kcat -b "$B" -C -t connect-configs -o beginning -e -q -f '%k=%s\n' >configs.txt
grep -Eq '^session-key=\{"key":"[A-Za-z0-9+/]{43}=","algorithm":"HmacSHA256","creation-timestamp":[0-9]{13}\}$' configs.txt ||
    fail "session key record: $(grep session-key configs.txt)"
api "$LEADER" /connectors/snk/tasks >tasks.json
# sign: the current session key's signature of the task configs (line 1: body, line 2: signature).
sign() {
    kcat -b "$B" -C -t connect-configs -o beginning -e -q -f '%k=%s\n' | grep '^session-key=' | tail -n 1 |
        sed 's/^session-key=//' >key.json
    python3 - key.json tasks.json >signed.txt <<'PY'
import base64, hashlib, hmac, json, sys
key = base64.b64decode(json.load(open(sys.argv[1]))["key"])
body = json.dumps([t["config"] for t in json.load(open(sys.argv[2]))], separators=(",", ":"))
print(body)
print(base64.b64encode(hmac.new(key, body.encode(), hashlib.sha256).digest()).decode())
PY
    BODY=$(sed -n 1p signed.txt)
    SIG=$(sed -n 2p signed.txt)
}
sign
internal() { api "$LEADER" /connectors/snk/tasks -o internal.json -w '%{http_code}' -X POST -H 'Content-Type: application/json' "$@" --data "$BODY"; }
code=$(internal)
[ "$code" = 400 ] && grep -q 'Internal request missing required signature' internal.json || fail "unsigned task configs: $code $(cat internal.json)"
code=$(internal -H 'X-Connect-Request-Signature-Algorithm: HmacSHA256' -H 'X-Connect-Authorization: AAAA')
[ "$code" = 403 ] && grep -q 'Internal request contained invalid signature' internal.json || fail "badly signed task configs: $code $(cat internal.json)"
# The key is renewed every KEY_TTL_MS: one that turned over in between is read again.
for _ in 1 2 3; do
    code=$(internal -H 'X-Connect-Request-Signature-Algorithm: HmacSHA256' -H "X-Connect-Authorization: $SIG")
    [ "$code" = 403 ] || break
    sign
done
[ "$code" = 204 ] || fail "signed task configs: $code $(cat internal.json)"
log "task configs written by the leader only; internal requests refused unsigned (400) or badly signed (403), taken when signed"

# A task restart asked of a worker that does not run the task reaches its owner.
OWNER_PORT=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["tasks"][0]["worker_id"].split(":")[1])' <<<"$(api 1 /connectors/snk/status)")
OTHER=""
for i in 1 2 3; do [ "${PORT[$i]}" != "$OWNER_PORT" ] && { [ -z "$OTHER" ] || [ "$i" != "$LEADER" ]; } && OTHER=$i; done
code=$(api "$OTHER" /connectors/snk/tasks/0/restart -X POST -o restart.json -w '%{http_code}')
[ "$code" = 204 ] || fail "task restart through worker $OTHER: $code $(cat restart.json)"
for i in 1 2 3; do [ "${PORT[$i]}" = "$OWNER_PORT" ] && OWNER=$i; done
grep -q "\[snk|task-0\] restarting as asked" "worker-$OWNER.log" || fail "the owner (worker $OWNER) did not restart snk task 0"
for _ in $(seq 1 50); do all_running snk 3 && break; sleep 0.1; done
all_running snk 3 || fail "snk is not RUNNING after the task restart: $(api 1 /connectors/snk/status)"
log "a task restart asked of worker $OTHER ran on its owner, worker $OWNER"

# Topic tracking: the status topic records what each connector used; any
# worker answers, and a reset through one is seen by all.
topics_are() { [ "$(api "$2" "/connectors/$1/topics")" = "{\"$1\":{\"topics\":[$3]}}" ]; }
for i in 1 2 3; do
    for _ in $(seq 1 50); do topics_are src "$i" '"lines"' && topics_are snk "$i" '"lines"' && break; sleep 0.1; done
    topics_are src "$i" '"lines"' && topics_are snk "$i" '"lines"' || fail "active topics on worker $i: $(api "$i" /connectors/src/topics) $(api "$i" /connectors/snk/topics)"
done
api "$FOLLOWER" /connectors/snk/topics/reset -X PUT >/dev/null
for i in 1 2 3; do topics_are snk "$i" "" || fail "topics after the reset on worker $i: $(api "$i" /connectors/snk/topics)"; done
# Workers learn of the reset within a second; lines that keep coming are recorded again.
for n in $(seq 1 40); do
    echo "line-after-reset-$n" >>in.txt
    sleep 0.25
    topics_are snk "$OTHER" '"lines"' && break
done
topics_are snk "$OTHER" '"lines"' || fail "the topic in use was not recorded again after the reset: $(api "$OTHER" /connectors/snk/topics)"
log "active topics the same on every worker; a reset clears them and use records them again"

# /metrics on each worker covers what runs there: snk's connector on one
# worker, each of its three tasks on the worker running it, and the lines
# read since the topic reset counted.
for i in 1 2 3; do api "$i" /metrics >"metrics$i.txt"; done
infos=$(cat metrics1.txt metrics2.txt metrics3.txt | grep -c '^kafka_connect_connector_metrics_info{connector="snk"' || true)
[ "$infos" = 1 ] || fail "snk's connector metrics appear on $infos workers"
reads=$(cat metrics1.txt metrics2.txt metrics3.txt | grep '^kafka_connect_sink_task_metrics_sink_record_read_total{connector="snk"')
[ "$(wc -l <<<"$reads")" = 3 ] || fail "snk's task metrics: $reads"
read_total=$(awk '{s += $NF} END {print s + 0}' <<<"$reads")
[ "$read_total" -ge "$n" ] || fail "snk's tasks read $read_total records by their metrics, expected at least the $n lines since the reset"
log "per-worker /metrics: snk's connector on one worker, its 3 tasks on theirs, $read_total records read"

wait_lines() {
    local i n=0
    for i in $(seq 1 $(($3 * 10))); do
        n=$(sort -u "$1" 2>/dev/null | wc -l || true)
        [ "$n" -ge "$2" ] && return 0
        sleep 0.1
    done
    fail "$1 has $n distinct lines, expected $2 within $3 s"
}
wait_lines out.txt 2000 30

# SIGKILL a worker that runs a sink task (and not the source), while lines arrive.
VICTIM=""
for i in 1 2 3; do
    p=${PORT[$i]}
    grep -q "\"worker_id\":\"127.0.0.1:$p\"" <<<"$(api 1 /connectors/snk/status)" &&
        ! grep -q "\"worker_id\":\"127.0.0.1:$p\"" <<<"$(api 1 /connectors/src/status)" && VICTIM=$i
done
[ -n "$VICTIM" ] || VICTIM=$FOLLOWER
kill -9 "$(cat "worker-$VICTIM.pid")"
k0=$(date +%s.%N)
seq 2001 4000 | sed 's/^/line-/' >>in.txt
log "SIGKILLed worker $VICTIM; waiting for its tasks to run elsewhere"
unset "PORT[$VICTIM]"
moved() {
    local s
    s=$(api "$1" /connectors/snk/status)
    [ "$(grep -o '"state":"RUNNING"' <<<"$s" | wc -l)" = 4 ] &&
        ! grep -q "127.0.0.1:$2\"" <<<"$s"
}
LIMIT=$(((SESSION_MS + DELAY_MS) / 1000 + 5))
ALIVE=1
[ "$VICTIM" = 1 ] && ALIVE=2
VPORT=$(grep -o 'listeners=http://127.0.0.1:[0-9]*' "worker-$VICTIM.properties" | awk -F: '{print $NF}')
for _ in $(seq 1 $((LIMIT * 10))); do moved "$ALIVE" "$VPORT" && break; sleep 0.1; done
moved "$ALIVE" "$VPORT" || fail "snk's tasks did not move within ${LIMIT}s: $(api "$ALIVE" /connectors/snk/status)"
k1=$(date +%s.%N)
log "tasks of worker $VICTIM run elsewhere after $(python3 -c "print(f'{$k1 - $k0:.1f}')")s (limit ${LIMIT}s = session + delay + 5)"
wait_lines out.txt "$(sort -u in.txt | wc -l)" 30
[ "$(sort -u out.txt)" = "$(sort -u in.txt)" ] || fail "lines are missing from the output"
log "no input line is missing ($(wc -l <out.txt) lines written, $(sort -u out.txt | wc -l) distinct)"

# The worker comes back, rejoins and takes a share.
PORT[$VICTIM]=$VPORT
"$CLUSTER" start >/dev/null
for _ in $(seq 1 200); do
    grep -q "\"worker_id\":\"127.0.0.1:$VPORT\"" <<<"$(api "$VICTIM" '/connectors?expand=status')" && break
    sleep 0.1
done
grep -q "\"worker_id\":\"127.0.0.1:$VPORT\"" <<<"$(api "$VICTIM" '/connectors?expand=status')" ||
    fail "worker $VICTIM came back but runs nothing: $(api "$VICTIM" '/connectors?expand=status')"
log "worker $VICTIM rejoined and runs a share again"

# A rolling restart of every worker while lines keep coming.
next=4001
append() {
    seq "$next" $((next + $1 - 1)) | sed 's/^/line-/' >>in.txt
    next=$((next + $1))
}
for i in 1 2 3; do
    append 500
    stop_pid "$(cat "worker-$i.pid")"
    append 500
    "$CLUSTER" start >/dev/null
    before=$(grep -c " INFO generation" "worker-$i.log")
    for _ in $(seq 1 150); do
        [ "$(grep -c " INFO generation" "worker-$i.log")" -gt "$before" ] && break
        sleep 0.1
    done
done
wait_lines out.txt "$(sort -u in.txt | wc -l)" 60
[ "$(sort -u out.txt)" = "$(sort -u in.txt)" ] || fail "lines are missing after the rolling restart"
log "rolling restart of all three workers: all $((next - 1)) lines arrived"

# The broker restarts under the running workers.
stop_pid "$(cat broker.pid)"
append 500
"$CLUSTER" start >/dev/null
append 500
wait_lines out.txt "$(sort -u in.txt | wc -l)" 90
[ "$(sort -u out.txt)" = "$(sort -u in.txt)" ] || fail "lines are missing after the broker restart"
for _ in $(seq 1 100); do all_running snk 3 && all_running src 1 && break; sleep 0.2; done
all_running snk 3 && all_running src 1 ||
    fail "not everything runs after the broker restart: $(for i in 1 2 3; do echo "worker $i: $(api "$i" '/connectors?expand=status')"; done)"
log "broker restart survived without operator action: all $((next - 1)) lines arrived"

# A task that fails (its output directory is missing) is restarted
# automatically with backoff, and runs once the directory exists.
api 1 /connectors -X POST -H 'Content-Type: application/json' \
    --data "{\"name\":\"late\",\"config\":{\"connector.class\":\"FileStreamSink\",\"file\":\"$WORK/later/out.txt\",\"topics\":\"lines\"}}" >/dev/null
for _ in $(seq 1 100); do grep -q '"state":"FAILED"' <<<"$(api 1 /connectors/late/status)" && break; sleep 0.1; done
grep -q '"state":"FAILED"' <<<"$(api 1 /connectors/late/status)" || fail "the task did not fail: $(api 1 /connectors/late/status)"
mkdir -p "$WORK/later"
for _ in $(seq 1 150); do all_running late 1 && break; sleep 0.1; done
all_running late 1 || fail "the FAILED task was not restarted: $(api 1 /connectors/late/status)"
grep -q "restarting automatically" worker-*.log || fail "no automatic restart in the logs"
wait_lines "$WORK/later/out.txt" "$(sort -u in.txt | wc -l)" 30
log "a FAILED task was restarted automatically and caught up"

# Transforms and their validation in distributed mode: a sink created
# through a follower with HoistField + InsertField writes shaped records; a
# config naming an unknown transform is refused, naming the key.
code=$(api "$FOLLOWER" /connectors -o badtx.json -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data '{"name":"badtx","config":{"connector.class":"FileStreamSink","topics":"lines","transforms":"x","transforms.x.type":"com.example.Nope"}}')
[ "$code" = 400 ] && grep -q 'transforms.x.type' badtx.json || fail "a bad transform was not refused: $code $(cat badtx.json)"
api "$FOLLOWER" /connectors -X POST -H 'Content-Type: application/json' --data "{\"name\":\"shaped\",\"config\":{
    \"connector.class\":\"FileStreamSink\",\"file\":\"$WORK/shaped.txt\",\"topics\":\"lines\",
    \"transforms\":\"hoist,insert\",
    \"transforms.hoist.type\":\"org.apache.kafka.connect.transforms.HoistField\$Value\",\"transforms.hoist.field\":\"l\",
    \"transforms.insert.type\":\"org.apache.kafka.connect.transforms.InsertField\$Value\",
    \"transforms.insert.static.field\":\"via\",\"transforms.insert.static.value\":\"distributed\"}}" >/dev/null
wait_lines "$WORK/shaped.txt" "$(wc -l <in.txt)" 30
grep -q '^Struct{l=line-1,via=distributed}$' "$WORK/shaped.txt" || fail "shaped records: $(head -n 2 "$WORK/shaped.txt")"
[ "$(grep -c ',via=distributed}$' "$WORK/shaped.txt")" = "$(wc -l <"$WORK/shaped.txt")" ] || fail "a record was not shaped"
log "transforms in distributed mode: a sink with HoistField + InsertField shaped every record; a bad transform refused by key"

# The JDBC connectors across the cluster: a source of three PostgreSQL
# tables with tasks.max=3 (a table per task, spread over the workers) and a
# sink copying each table's topic back into PostgreSQL by upsert.
[ -n "${WEIR_TEST_POSTGRES_URL:-}" ] || fail "WEIR_TEST_POSTGRES_URL is not set: scripts/test.sh starts PostgreSQL"
pg() { PGOPTIONS='-c client_min_messages=warning' psql "$WEIR_TEST_POSTGRES_URL" -qAtc "$1"; }
PG_JDBC="jdbc:postgresql://${WEIR_TEST_POSTGRES_URL#*@}"
for t in dist_a dist_b dist_c; do
    pg "DROP TABLE IF EXISTS $t, \"copy_dj-$t\"; CREATE TABLE $t (id BIGINT PRIMARY KEY, v TEXT NOT NULL);
        INSERT INTO $t SELECT g, '$t ' || g FROM generate_series(1, 100) g"
done
api "$FOLLOWER" /connectors -X POST -H 'Content-Type: application/json' --data "{\"name\":\"jsrc\",\"config\":{
    \"connector.class\":\"io.confluent.connect.jdbc.JdbcSourceConnector\",\"connection.url\":\"$PG_JDBC\",
    \"connection.user\":\"postgres\",\"mode\":\"incrementing\",\"incrementing.column.name\":\"id\",
    \"table.whitelist\":\"dist_a,dist_b,dist_c\",\"topic.prefix\":\"dj-\",\"poll.interval.ms\":\"200\",\"tasks.max\":\"3\"}}" >/dev/null
api "$FOLLOWER" /connectors -X POST -H 'Content-Type: application/json' --data "{\"name\":\"jsnk\",\"config\":{
    \"connector.class\":\"JdbcSinkConnector\",\"connection.url\":\"$PG_JDBC\",\"connection.user\":\"postgres\",
    \"topics.regex\":\"dj-.*\",\"table.name.format\":\"copy_\${topic}\",\"auto.create\":\"true\",
    \"insert.mode\":\"upsert\",\"pk.mode\":\"record_value\",\"pk.fields\":\"id\",\"tasks.max\":\"3\"}}" >/dev/null
for _ in $(seq 1 150); do all_running jsrc 3 && all_running jsnk 3 && break; sleep 0.1; done
all_running jsrc 3 && all_running jsnk 3 || fail "the JDBC connectors do not run: $(api 1 '/connectors?expand=status')"
jowners=$(api 1 /connectors/jsrc/status | grep -o '"worker_id":"[^"]*"' | sort -u | wc -l || true)
[ "$jowners" -ge 2 ] || fail "jsrc's connector and tasks on $jowners worker(s) only: $(api 1 /connectors/jsrc/status)"
copied() { for t in dist_a dist_b dist_c; do pg "SELECT count(*) FROM \"copy_dj-$t\"" 2>/dev/null || echo 0; done | paste -sd' '; }
for _ in $(seq 1 300); do [ "$(copied)" = "100 100 100" ] && break; sleep 0.1; done
[ "$(copied)" = "100 100 100" ] || fail "the JDBC sink copied $(copied) rows of 100 per table"
pg "INSERT INTO dist_c VALUES (101, 'new')"
for _ in $(seq 1 300); do
    [ "$(pg "SELECT count(*) FROM \"copy_dj-dist_c\"")" = 101 ] && break
    sleep 0.1
done
[ "$(pg "SELECT count(*) FROM \"copy_dj-dist_c\"")" = 101 ] || fail "a new row did not reach the copy"
log "JDBC in distributed mode: a source of 3 tables on $jowners workers and a sink copied 300 rows back into PostgreSQL, then a new one"

# A JDBC source whose database does not answer runs without tasks, its
# status saying why on every worker (through the status topic).
closed=$(free_port)
code=$(api "$FOLLOWER" /connectors -X POST -H 'Content-Type: application/json' -o jlate.json -w '%{http_code}' --data "{\"name\":\"jlate\",\"config\":{
    \"connector.class\":\"JdbcSourceConnector\",\"connection.url\":\"jdbc:postgresql://127.0.0.1:$closed/absent\",
    \"mode\":\"bulk\",\"table.whitelist\":\"dist_a\",\"topic.prefix\":\"late-\",\"connection.backoff.ms\":\"500\"}}")
[ "$code" = 201 ] || fail "creating jlate: $code $(cat jlate.json)"
waits() { api "$1" /connectors/jlate/status | grep -q '"connector":{"state":"RUNNING".*"trace":"cannot list the tables yet'; }
for _ in $(seq 1 100); do waits 1 && waits 2 && waits 3 && break; sleep 0.1; done
for i in 1 2 3; do waits "$i" || fail "jlate's status on worker $i: $(api "$i" /connectors/jlate/status)"; done
api "$FOLLOWER" /connectors/jlate -X DELETE >/dev/null
log "a JDBC source whose database does not answer: RUNNING without tasks, every worker's status saying why"

# Offsets as any worker reads them: the source's from the offsets topic,
# the sink's from its consumer group.
for _ in $(seq 1 50); do
    grep -q '"position":' <<<"$(api 2 /connectors/src/offsets)" && break
    sleep 0.2
done
grep -q "{\"partition\":{\"filename\":\"$WORK/in.txt\"},\"offset\":{\"position\":" <<<"$(api 2 /connectors/src/offsets)" ||
    fail "source offsets: $(api 2 /connectors/src/offsets)"
[ "$(grep -o '"kafka_topic":"lines"' <<<"$(api 3 /connectors/snk/offsets)" | wc -l)" = 6 ] ||
    fail "sink offsets: $(api 3 /connectors/snk/offsets)"
log "offsets of the source and the sink as other workers read them"

# Restart, pause, stop and delete a connector; then the internal topics as kcat reads them.
starts() { cat worker-*.log | grep -c "\[src|task-0\] started" || true; }
before=$(starts)
code=$(api "$FOLLOWER" "/connectors/src/restart?includeTasks=true" -X POST -o restart.json -w '%{http_code}')
[ "$code" = 202 ] || fail "restarting src with its tasks: $code $(cat restart.json)"
for _ in $(seq 1 50); do [ "$(starts)" -gt "$before" ] && all_running src 1 && break; sleep 0.1; done
[ "$(starts)" -gt "$before" ] && all_running src 1 || fail "src's task was not restarted: $(api 1 /connectors/src/status)"
api "$FOLLOWER" /connectors/src/pause -X PUT >/dev/null
api "$FOLLOWER" /connectors/src/stop -X PUT >/dev/null
# Offsets of STOPPED connectors changed through one worker, read through another.
READER=1; [ "$FOLLOWER" = 1 ] && READER=2
change() { api "$FOLLOWER" "/connectors/$1/offsets" -X "$2" -H 'Content-Type: application/json' -o change.json -w '%{http_code}' "${@:3}"; }
code=$(change src PATCH --data "{\"offsets\":[{\"partition\":{\"filename\":\"$WORK/in.txt\"},\"offset\":{\"position\":7}}]}")
[ "$code" = 200 ] && grep -q 'altered successfully' change.json || fail "altering the source's offsets: $code $(cat change.json)"
grep -q '"offset":{"position":7}' <<<"$(api "$READER" /connectors/src/offsets)" || fail "altered source offsets: $(api "$READER" /connectors/src/offsets)"
code=$(change src DELETE)
[ "$code" = 200 ] && grep -q 'reset successfully' change.json || fail "resetting the source's offsets: $code $(cat change.json)"
[ "$(api "$READER" /connectors/src/offsets)" = '{"offsets":[]}' ] || fail "reset source offsets: $(api "$READER" /connectors/src/offsets)"
code=$(change snk PATCH --data '{"offsets":[{"partition":{"kafka_topic":"lines","kafka_partition":0},"offset":{"kafka_offset":5}}]}')
[ "$code" = 400 ] && grep -q 'must be in the STOPPED state' change.json || fail "altering a running sink's offsets: $code $(cat change.json)"
api "$FOLLOWER" /connectors/snk/stop -X PUT >/dev/null
# Until the stopped tasks' consumers have left the group, Connect's answer says to retry.
for _ in $(seq 1 40); do
    code=$(change snk PATCH --data '{"offsets":[{"partition":{"kafka_topic":"lines","kafka_partition":0},"offset":{"kafka_offset":5}}]}')
    [ "$code" = 200 ] && break
    grep -q "can be safely retried" change.json || break
    sleep 0.25
done
[ "$code" = 200 ] || fail "altering the stopped sink's offsets: $code $(cat change.json)"
grep -q '{"partition":{"kafka_topic":"lines","kafka_partition":0},"offset":{"kafka_offset":5}}' <<<"$(api "$READER" /connectors/snk/offsets)" ||
    fail "altered sink offsets: $(api "$READER" /connectors/snk/offsets)"
log "offsets of stopped connectors altered and reset through worker $FOLLOWER, read back through worker $READER"
api "$FOLLOWER" /connectors/src -X DELETE >/dev/null
kcat -b "$B" -C -t connect-configs -o beginning -e -q -f '%k=%s\n' >configs.txt
grep -qx "connector-src={\"properties\":{\"connector.class\":\"FileStreamSource\",\"file\":\"$WORK/in.txt\",\"name\":\"src\",\"topic\":\"lines\"}}" configs.txt ||
    fail "config record: $(grep connector-src configs.txt)"
grep -qx 'target-state-src={"state":"STARTED","state.v2":"STARTED"}' configs.txt || fail "initial target state"
grep -qx 'target-state-src={"state":"PAUSED","state.v2":"PAUSED"}' configs.txt || fail "paused target state"
grep -qx 'target-state-src={"state":"PAUSED","state.v2":"STOPPED"}' configs.txt || fail "stopped target state"
keys=$(grep -c '^session-key=' configs.txt || true)
[ "$keys" -ge 2 ] || fail "the session key was not renewed every ${KEY_TTL_MS} ms: $keys key(s)"
grep -qx 'restart-connector-src={"include-tasks":true,"only-failed":false}' configs.txt || fail "restart request: $(grep restart-connector configs.txt)"
grep -qx 'commit-src={"tasks":1}' configs.txt || fail "task commit"
grep -qx 'commit-src={"tasks":0}' configs.txt || fail "stop commits no tasks"
grep -q '^task-src-0={"properties":{' configs.txt || fail "task config"
grep -qx 'connector-src=' configs.txt || fail "delete tombstone"
grep -qx 'target-state-src=' configs.txt || fail "target-state tombstone"
kcat -b "$B" -C -t connect-status -o beginning -e -q -f '%k=%s\n' >status.txt
grep -Eq '^status-task-snk-0=\{"state":"RUNNING","trace":null,"worker_id":"127\.0\.0\.1:[0-9]+","generation":[0-9]+\}$' status.txt ||
    fail "status record: $(grep status-task-snk-0 status.txt | tail -n 1)"
grep -Eq '^status-topic-lines:connector-snk=\{"topic":\{"name":"lines","connector":"snk","task":[0-9]+,"discoverTimestamp":[0-9]{13}\}\}$' status.txt ||
    fail "topic status record: $(grep status-topic-lines:connector-snk status.txt | head -n 1)"
grep -qx 'status-topic-lines:connector-src=' status.txt || fail "the deleted connector's topic record has no tombstone"
kcat -b "$B" -C -t connect-offsets -o beginning -e -q -f '%k=%s\n' >offsets.txt
grep -Eq "^\[\"src\",\{\"filename\":\"$WORK/in.txt\"\}\]=\{\"position\":[0-9]+\}$" offsets.txt ||
    fail "offsets record: $(head -n 3 offsets.txt)"
grep -qx "\[\"src\",{\"filename\":\"$WORK/in.txt\"}\]={\"position\":7}" offsets.txt || fail "altered offsets record"
grep -qx "\[\"src\",{\"filename\":\"$WORK/in.txt\"}\]=" offsets.txt || fail "offsets tombstone after the reset"
log "internal topics hold Kafka Connect's keys and values (the session key renewed: $keys keys)"

# connect.protocol=eager: every rebalance stops all work and the leader
# hands all of it out again; the same cluster restarts into it.
"$CLUSTER" stop >/dev/null
echo "connect.protocol=eager" >>extra.properties
"$CLUSTER" start >/dev/null
api 1 /connectors/snk/resume -X PUT >/dev/null
# Right after the start the group is still forming: the POST waits for a leader instead of a 409.
code=$(api 2 /connectors -X POST -H 'Content-Type: application/json' -o created.json -w '%{http_code}' \
    --data "{\"name\":\"src2\",\"config\":{\"connector.class\":\"FileStreamSource\",\"file\":\"$WORK/in.txt\",\"topic\":\"lines\"}}")
[ "$code" = 201 ] || fail "creating src2 while the group forms: $code $(cat created.json)"
for _ in $(seq 1 150); do all_running snk 3 && all_running late 1 && all_running src2 1 && break; sleep 0.2; done
all_running snk 3 && all_running late 1 && all_running src2 1 || fail "not everything runs under the eager protocol: $(api 1 '/connectors?expand=status')"
for i in 1 2 3; do
    grep " INFO generation" "worker-$i.log" | tail -n 1 | grep -q "eager protocol" || fail "worker $i is not on the eager protocol"
done
# The broker kept the emptied group, so the restarted cluster went on counting
# generations: its statuses are newer than those written before the restart.
old_gen=$(grep -o '"generation":[0-9]*' status.txt | cut -d: -f2 | sort -n | tail -n 1)
kcat -b "$B" -C -t connect-status -o beginning -e -q -f '%k=%s\n' >status2.txt
new_gen=$(grep '^status-task-snk-' status2.txt | tail -n 1 | grep -o '"generation":[0-9]*' | cut -d: -f2)
[ "${new_gen:-0}" -gt "$old_gen" ] || fail "generation $new_gen after the restart, $old_gen before it"
append 300
wait_lines out.txt "$(sort -u in.txt | wc -l)" 60
[ "$(sort -u out.txt)" = "$(sort -u in.txt)" ] || fail "lines are missing under the eager protocol"
# Under eager rebalancing a new connector stops every task before the group
# rebalances (cooperative rebalancing would move at most a share).
stops() { cat worker-*.log | grep -c "\[snk|task-$1\] stopped (no longer assigned here)" || true; }
before=("$(stops 0)" "$(stops 1)" "$(stops 2)")
: >empty.txt
api 3 /connectors -X POST -H 'Content-Type: application/json' \
    --data "{\"name\":\"src3\",\"config\":{\"connector.class\":\"FileStreamSource\",\"file\":\"$WORK/empty.txt\",\"topic\":\"lines\"}}" >/dev/null
for _ in $(seq 1 150); do all_running src3 1 && all_running snk 3 && break; sleep 0.2; done
all_running src3 1 && all_running snk 3 || fail "not everything runs after src3 joined: $(api 1 '/connectors?expand=status')"
for t in 0 1 2; do
    [ "$(stops "$t")" -gt "${before[$t]}" ] || fail "snk task $t was not stopped by the eager rebalance"
done
log "connect.protocol=eager: every task stopped and restarted at a rebalance; all $((next - 1)) numbered lines arrived"
log "distributed tests passed"
