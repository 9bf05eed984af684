#!/usr/bin/env bash
# weir standalone end to end: the tutorial's three properties files through
# connect-standalone.sh; a 1,000,000-line file through FileStreamSource ->
# topic -> FileStreamSink with the worker SIGKILLed mid-run and restarted; the
# bundled broker started in-process; REST answers.
# Usage: standalone.sh <weir binary>
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
WEIR="$1"
export WEIR_BIN="$WEIR"
export PATH="$ROOT/scripts/bin:$PATH"
WORK="$(mktemp -d)"
trap 'cleanup_started; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT
cd "$WORK"

fail() {
    echo "standalone: $*" >&2
    exit 1
}
# wait_lines FILE N SECONDS: until FILE has at least N lines.
wait_lines() {
    local i n=0
    for i in $(seq 1 $(($3 * 10))); do
        n=$( (wc -l <"$1") 2>/dev/null || echo 0)
        [ "$n" -ge "$2" ] && return 0
        sleep 0.1
    done
    fail "$1 has $n lines, expected $2 within $3 s"
}
http() { curl -s -o "$2" -w '%{http_code}' "${@:3}" "http://127.0.0.1:$REST$1"; }
# wait_http PATH TEXT SECONDS: until GET PATH answers a body containing TEXT.
wait_http() {
    local i
    for i in $(seq 1 $(($3 * 10))); do
        http "$1" w.json >/dev/null
        grep -qF -- "$2" w.json && return 0
        sleep 0.1
    done
    fail "GET $1 never contained $2 (last: $(cat w.json))"
}

PORT="$(free_port)"
B="localhost:$PORT"
start_broker "$WORK/broker-data" "$PORT" "$WORK/broker.log"

log "the tutorial's files: connect-standalone.properties, connect-file-source/sink.properties"
# As in the tutorial: the sample files with bootstrap.servers, file and topics
# edited (only the host differs); the source gets `topics=log-test` as written.
REST="$(free_port)"
write_connect_files "$B" "$WORK/connect.offsets" "$REST" "$WORK/acess_log_small.txt" topics "$WORK/logout.txt"
for i in $(seq 1 200); do
    echo "10.0.0.$((i % 250)) - - [22/Nov/2026:10:00:$((i % 60)) +0000] \"GET /page/$i HTTP/1.1\" 200 $((i * 7))"
done >acess_log_small.txt
connect-standalone.sh connect-standalone.properties connect-file-source.properties \
    connect-file-sink.properties >connect.log 2>&1 &
WORKER=$!
STARTED_PIDS+=("$WORKER")
wait_port "$REST"
wait_lines logout.txt 200 30
for i in $(seq 201 300); do echo "10.0.0.1 - - [22/Nov/2026:10:01:00 +0000] \"GET /more/$i HTTP/1.1\" 200 1"; done >>acess_log_small.txt
wait_lines logout.txt 300 30
cmp acess_log_small.txt logout.txt || fail "logout.txt differs from the access log"
kafka-console-consumer.sh --bootstrap-server "$B" --topic log-test --from-beginning --max-messages 1 >c.out 2>/dev/null
[ "$(cat c.out)" = "{\"schema\":{\"type\":\"string\",\"optional\":false},\"payload\":\"$(head -n 1 acess_log_small.txt | sed 's/"/\\"/g')\"}" ] ||
    fail "record layout: $(cat c.out)"
[ "$(http /connectors/local-file-source/status s.json)" = 200 ] || fail "status code"
grep -q '"connector":{"state":"RUNNING","worker_id":"127.0.0.1:'"$REST"'"}' s.json || fail "status: $(cat s.json)"
grep -q '"tasks":\[{"id":0,"state":"RUNNING"' s.json || fail "task status: $(cat s.json)"
[ "$(http /connectors/nope/status e.json)" = 404 ] || fail "unknown connector is not 404"
grep -qx '{"error_code":404,"message":"Connector nope not found"}' e.json || fail "404 body: $(cat e.json)"
[ "$(http /connectors e.json -X POST -H 'Content-Type: application/json' --data '{bad')" = 400 ] || fail "invalid JSON is not 400"
grep -q '"error_code":400' e.json || fail "400 body: $(cat e.json)"
[ "$(http /connectors e.json -X POST -H 'Content-Type: application/json' \
    --data '{"name":"local-file-sink","config":{"connector.class":"FileStreamSink","topics":"x"}}')" = 409 ] ||
    fail "duplicate POST is not 409"
[ "$(http /connectors e.json -X POST -H 'Content-Type: application/json' \
    --data '{"name":"bad","config":{"connector.class":"FileStreamSink","tasks.max":"0"}}')" = 400 ] ||
    fail "tasks.max=0 is not rejected"
grep -q 'Invalid value 0 for configuration tasks.max: Value must be at least 1' e.json || fail "tasks.max message: $(cat e.json)"
grep -q 'Must configure one of topics or topics.regex' e.json || fail "topics message: $(cat e.json)"
[ "$(http /connectors e.json -X POST -H 'Content-Type: application/json' \
    --data '{"name":"bad","config":{"tasks.max":"1"}}')" = 400 ] || fail "missing connector.class accepted"
grep -q 'Missing required configuration \\"connector.class\\" which has no default value.' e.json ||
    fail "connector.class message: $(cat e.json)"

log "REST lifecycle: pause, resume, stop, offsets, restart, validate, plugins, loggers"
JSON=(-H 'Content-Type: application/json')
[ "$(http /connectors/local-file-source/pause o.json -X PUT)" = 202 ] || fail "pause"
http /connectors/local-file-source/status s.json >/dev/null
grep -q '"connector":{"state":"PAUSED"' s.json && grep -q '"tasks":\[{"id":0,"state":"PAUSED"' s.json || fail "paused status: $(cat s.json)"
echo "paused line" >>acess_log_small.txt
sleep 2
[ "$(wc -l <logout.txt)" = 300 ] || fail "a paused source still delivered"
[ "$(http /connectors/local-file-source/resume o.json -X PUT)" = 202 ] || fail "resume"
wait_lines logout.txt 301 30
# Committed every offset.flush.interval.ms (10 s in the tutorial's file).
wait_http /connectors/local-file-source/offsets \
    "{\"offsets\":[{\"partition\":{\"filename\":\"$WORK/acess_log_small.txt\"},\"offset\":{\"position\":$(stat -c %s acess_log_small.txt)}}]}" 15
[ "$(http /connectors/local-file-source/offsets o.json -X DELETE)" = 400 ] || fail "offsets reset while running"
grep -q 'Connectors must be in the STOPPED state before their offsets can be reset' o.json || fail "reset message: $(cat o.json)"
[ "$(http /connectors/local-file-sink/stop o.json -X PUT)" = 204 ] || fail "stop"
http /connectors/local-file-sink/status s.json >/dev/null
grep -q '"connector":{"state":"STOPPED"[^}]*},"tasks":\[\]' s.json || fail "stopped status: $(cat s.json)"
[ "$(http /connectors/local-file-sink/offsets o.json -X PATCH "${JSON[@]}" \
    --data '{"offsets":[{"partition":{"kafka_topic":"log-test","kafka_partition":0},"offset":{"kafka_offset":295}}]}')" = 200 ] ||
    fail "sink offsets alter: $(cat o.json)"
grep -q 'The offsets for this connector have been altered successfully' o.json || fail "alter message: $(cat o.json)"
[ "$(http /connectors/local-file-sink/resume o.json -X PUT)" = 202 ] || fail "resume from STOPPED"
wait_lines logout.txt 307 30
[ "$(tail -n 6 logout.txt | head -n 1)" = "$(sed -n 296p acess_log_small.txt)" ] || fail "the sink did not restart at offset 295"
[ "$(http /connectors/local-file-sink/topics o.json)" = 200 ] || fail "topics"
grep -qx '{"local-file-sink":{"topics":\["log-test"\]}}' o.json || fail "topics: $(cat o.json)"
[ "$(http '/connectors/local-file-sink/restart?includeTasks=true' o.json -X POST)" = 202 ] || fail "restart with tasks"
[ "$(http /connectors/local-file-sink/restart o.json -X POST)" = 204 ] || fail "connector restart"
[ "$(http /connectors/local-file-sink/tasks/0/status o.json)" = 200 ] || fail "task status"
[ "$(http /connectors/local-file-sink/tasks/7/status o.json)" = 404 ] || fail "unknown task is not 404"
[ "$(http /connector-plugins/FileStreamSink/config/validate o.json -X PUT "${JSON[@]}" \
    --data '{"name":"v","connector.class":"FileStreamSink","tasks.max":"0","key.converter":"com.example.Nope"}')" = 200 ] ||
    fail "validate"
"$VENV/bin/python" - o.json <<'PY'
import json, sys
infos = json.load(open(sys.argv[1]))
assert infos["error_count"] == 3, infos["error_count"]
bad = {c["definition"]["name"]: c["value"]["errors"] for c in infos["configs"] if c["value"]["errors"]}
assert sorted(bad) == ["key.converter", "tasks.max", "topics"], bad
assert all(k in " ".join(v) for k, v in bad.items() if k != "topics"), bad
PY
[ "$(http /connector-plugins o.json)" = 200 ] || fail "plugins"
grep -q '"class":"org.apache.kafka.connect.file.FileStreamSourceConnector","type":"source"' o.json || fail "plugins: $(cat o.json)"
[ "$(http /connector-plugins/Nope/config o.json)" = 404 ] || fail "unknown plugin is not 404"
[ "$(http /admin/loggers/root o.json -X PUT "${JSON[@]}" --data '{"level":"DEBUG"}')" = 200 ] || fail "set logger level"
echo "after debug" >>acess_log_small.txt
wait_lines logout.txt 308 30
for _ in $(seq 1 20); do grep -q 'DEBUG \[local-file-sink|task-0\] put 1 record' connect.log && break; sleep 0.1; done
grep -q 'DEBUG \[local-file-sink|task-0\] put 1 record' connect.log || fail "changing the root level to DEBUG did not change the logging"
[ "$(http /admin/loggers/root o.json -X PUT "${JSON[@]}" --data '{"level":"LOUD"}')" = 404 ] || fail "invalid level accepted"
log "weir connect (kcctl-style client)"
WC=("$WEIR" connect --url "http://127.0.0.1:$REST")
"${WC[@]}" get connectors >wc.out
grep -Eq '^NAME +TYPE +STATE +TASKS$' wc.out || fail "connect table header: $(cat wc.out)"
grep -Eq '^local-file-source +source +RUNNING +0: RUNNING$' wc.out || fail "connect table: $(cat wc.out)"
printf 'name=extra-sink\nconnector.class=FileStreamSink\nfile=%s\ntopics=log-test\n' "$WORK/extra.out" >extra.properties
[ "$("${WC[@]}" apply -f extra.properties)" = "Created connector extra-sink" ] || fail "apply create"
[ "$("${WC[@]}" apply -f extra.properties)" = "Updated connector extra-sink" ] || fail "apply update"
wait_lines extra.out 300 30
"${WC[@]}" pause connector extra-sink >/dev/null
"${WC[@]}" describe connector extra-sink >wc.out
grep -q '^State:      PAUSED$' wc.out || fail "describe: $(cat wc.out)"
"${WC[@]}" delete connector extra-sink >/dev/null
if "${WC[@]}" describe connector extra-sink 2>wc.err; then fail "describe of a deleted connector succeeded"; fi
grep -q 'Connector extra-sink not found (HTTP 404)' wc.err || fail "connect error: $(cat wc.err)"
[ "$(http /connectors/local-file-sink o.json -X DELETE)" = 204 ] || fail "delete"
[ "$(http /connectors o.json)" = 200 ] && grep -qx '\["local-file-source"\]' o.json || fail "list after delete: $(cat o.json)"
stop_pid "$WORKER"

log "1,000,000 lines, worker SIGKILLed mid-run and restarted"
REST="$(free_port)"
cat >big-worker.properties <<PROPS
bootstrap.servers=$B
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
offset.storage.file.filename=$WORK/big.offsets
offset.flush.interval.ms=500
listeners=http://:$REST
PROPS
printf 'name=big-source\nconnector.class=FileStreamSource\nfile=%s\ntopic=big\n' "$WORK/big.txt" >big-source.properties
printf 'name=big-sink\nconnector.class=FileStreamSink\nfile=%s\ntopics=big\n' "$WORK/big.out" >big-sink.properties
seq 1 1000000 | sed 's/^/line /' >big.txt
"$WEIR" standalone big-worker.properties big-source.properties big-sink.properties >big1.log 2>&1 &
WORKER=$!
STARTED_PIDS+=("$WORKER")
wait_lines big.out 300000 120
kill -KILL "$WORKER"
wait "$WORKER" 2>/dev/null || true
KILLED_AT=$(wc -l <big.out)
# What was committed when the worker died: the source's byte position (in the
# Java-serialized offsets file) and the sink group's offset.
SRC_POS=$(grep -ao '{"position":[0-9]*}' big.offsets | tail -n 1 | grep -o '[0-9]*')
SRC_LINES=$(head -c "$SRC_POS" big.txt | wc -l)
read -r SINK_OFFSET TOPIC_END < <("$WEIR" groups --bootstrap-server "$B" --group connect-big-sink --describe 2>/dev/null |
    awk '$2 == "big" { print $4, $5 }')
log "killed with $KILLED_AT lines written and $TOPIC_END in the topic; committed: source line $SRC_LINES, sink offset $SINK_OFFSET"
"$WEIR" standalone big-worker.properties big-source.properties big-sink.properties >big2.log 2>&1 &
WORKER=$!
STARTED_PIDS+=("$WORKER")
for _ in $(seq 1 1800); do
    [ "$(awk '!seen[$0]++' big.out | wc -l)" -ge 1000000 ] && break
    sleep 0.1
done
stop_pid "$WORKER"
awk '!seen[$0]++' big.out | cmp - big.txt || fail "the output is not every input line in order"
TOTAL=$(wc -l <big.out)
DUPS=$((TOTAL - 1000000))
FIRST_DUP=$(awk 'seen[$0]++ { sub(/^line /, ""); print; exit }' big.out)
FLOOR=$((SRC_LINES < SINK_OFFSET ? SRC_LINES : SINK_OFFSET))
log "$DUPS lines repeated after the restart, the first being line ${FIRST_DUP:-none}"
if [ "$DUPS" -gt 0 ] && [ "$FIRST_DUP" -le "$FLOOR" ]; then
    fail "line $FIRST_DUP was repeated although offsets up to line $FLOOR were committed"
fi
# Repeats come from the source re-reading past its committed position and
# the sink re-consuming past its committed offset, and from nothing else.
BOUND=$((TOPIC_END - SRC_LINES + KILLED_AT - SINK_OFFSET))
[ "$DUPS" -le "$BOUND" ] || fail "$DUPS repeats exceed the $BOUND records past the committed offsets"

log "no bootstrap.servers: the bundled broker runs in-process; config providers"
REST="$(free_port)"
cat >embedded.properties <<PROPS
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.storage.StringConverter
offset.storage.file.filename=$WORK/embedded/connect.offsets
listeners=http://:$REST
config.providers=file,env
config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider
config.providers.file.param.allowed.paths=$WORK/secrets
config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider
config.providers.env.param.allowlist.pattern=WEIR_TEST_.*
PROPS
mkdir -p embedded secrets
echo "sink.file=$WORK/e.out" >secrets/sink.properties
export WEIR_TEST_INPUT="$WORK/acess_log_small.txt"
printf 'name=e-source\nconnector.class=FileStreamSource\nfile=${env:WEIR_TEST_INPUT}\ntopic=e\n' >e-source.properties
printf '{"name":"e-sink","config":{"connector.class":"org.apache.kafka.connect.file.FileStreamSinkConnector","file":"${file:%s:sink.file}","topics":"e"}}\n' \
    "$WORK/secrets/sink.properties" >e-sink.json
"$WEIR" standalone embedded.properties e-source.properties e-sink.json >embedded.log 2>&1 &
WORKER=$!
STARTED_PIDS+=("$WORKER")
wait_lines e.out 300 30
cmp acess_log_small.txt e.out || fail "embedded run output differs"
grep -q "started the bundled broker on 127.0.0.1:[0-9]*, data in $WORK/embedded/weir-broker-data" embedded.log ||
    fail "the log does not say where the bundled broker keeps its data"
[ "$(http /connectors/e-sink/config r.json)" = 200 ] || fail "GET config"
grep -qF "\"file\":\"\${file:$WORK/secrets/sink.properties:sink.file}\"" r.json || fail "REST shows a resolved secret: $(cat r.json)"
http /connectors/e-source/tasks r.json >/dev/null
grep -qF '"file":"${env:WEIR_TEST_INPUT}"' r.json || fail "task config shows a resolved value: $(cat r.json)"
[ "$(http /connectors r.json -X POST -H 'Content-Type: application/json' \
    --data '{"name":"leak","config":{"connector.class":"FileStreamSink","topics":"e","file":"${env:HOME}"}}')" = 400 ] ||
    fail "an env variable outside allowlist.pattern was accepted"
grep -q 'HOME is not allowed by allowlist.pattern' r.json || fail "allowlist message: $(cat r.json)"
[ "$(http / r.json)" = 200 ] || fail "GET / failed"
grep -Eq '"version":"3\.[6-9]\.[0-9]+"' r.json || fail "version: $(cat r.json)"
stop_pid "$WORKER"
grep -q "broker stopped cleanly" embedded.log || fail "the bundled broker did not stop cleanly"
stop_pid "$BROKER_PID"
log "standalone tests passed"
