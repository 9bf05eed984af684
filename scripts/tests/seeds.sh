#!/usr/bin/env bash
# Replays the Kafka commands of the tutorials Weir started from, through the
# Kafka-named shims in scripts/bin, against a broker started the tutorials' way
# (kafka-server-start.sh -daemon config/server.properties), and compares the
# output with Kafka's layouts and messages. Only host names differ from the
# tutorials; `--zookeeper localhost:2181` reaches the broker through
# WEIR_DEFAULT_BROKER_PORT because the test broker runs on a free port.
# Usage: seeds.sh <weir binary>
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
WEIR_BIN="$1"
export WEIR_BIN
export PATH="$ROOT/scripts/bin:$PATH"
WORK="$(mktemp -d)"
trap 'cleanup_started; rm -rf "$WORK"' EXIT
cd "$WORK"

fail() {
    echo "seed replay: $*" >&2
    exit 1
}
# expect <file> <expected text>: the file must hold exactly the text.
expect() {
    if ! diff -u <(printf '%s\n' "$2") "$1" >&2; then
        fail "unexpected output in $(basename "$1")"
    fi
}
expect_empty() { [ ! -s "$1" ] || fail "$(basename "$1") is not empty: $(cat "$1")"; }
contains() { grep -qF -- "$2" "$1" || fail "$(basename "$1") lacks: $2 (has: $(cat "$1"))"; }

PORT="$(free_port)"
B="localhost:$PORT"
export WEIR_DEFAULT_BROKER_PORT="$PORT"
mkdir -p config
cat >config/server.properties <<PROPS
broker.id=0
listeners=PLAINTEXT://localhost:$PORT
log.dirs=$WORK/kafka-logs
zookeeper.connect=localhost:2181
PROPS

log "seed: zookeeper-server-start.sh / kafka-server-start.sh -daemon"
zookeeper-server-start.sh -daemon config/zookeeper.properties 2>zk.err
contains zk.err "No ZooKeeper is needed"
kafka-server-start.sh -daemon config/server.properties
STARTED_PIDS+=("$(cat logs/kafkaServer.pid)")
wait_port "$PORT"
kafka-broker-api-versions --bootstrap-server "$B" >api.out
grep -Eq "^127\.0\.0\.1:$PORT \(id: 0 rack: null\) -> \($" api.out || fail "api versions header: $(head -n 1 api.out)"
grep -Eq $'^\tProduce\\(0\\): [0-9]+ to [0-9]+ \\[usable: [0-9]+\\],$' api.out || fail "no Produce line"

log "seed: topics with --zookeeper, console producer with --broker-list"
kafka-topic.sh --create --zookeeper localhost:2181 --replication-factor 1 --partitions 1 --topic fred >t.out 2>t.err
expect t.out "Created topic fred."
contains t.err "Weir needs no ZooKeeper; --zookeeper localhost:2181 means the broker at localhost:$PORT."
kafka-topic.sh --list --zookeeper localhost:2181 >t.out 2>/dev/null
grep -qx fred t.out || fail "fred not listed"
printf 'This is a line of data\nI am sending this on the fred topic\n' |
    kafka-console-producer.sh --broker-list "$B" --topic fred
kafka-console-consumer.sh --bootstrap-server "$B" --zookeeper localhost:2181 --topic fred \
    --from-beginning --max-messages 2 >c.out 2>c.err
expect c.out "This is a line of data
I am sending this on the fred topic"
contains c.err "Processed a total of 2 messages"
contains c.err "--zookeeper is ignored"

log "seed: kafka-topics create / list / describe / alter"
WARN="WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both."
kafka-topics --create --bootstrap-server "$B" --topic hello.kafka >t.out
expect t.out "$WARN
Created topic hello.kafka."
kafka-topics --create --bootstrap-server "$B" --partitions 3 --replication-factor 1 \
    --config retention.ms=172800000 --topic hello.kafka.2 >t.out
expect t.out "$WARN
Created topic hello.kafka.2."
kafka-topics --bootstrap-server "$B" --list >t.out
for t in fred hello.kafka hello.kafka.2; do grep -qx "$t" t.out || fail "$t not listed"; done
kafka-topics --bootstrap-server "$B" --describe --topic hello.kafka.2 >t.out
grep -Eqx $'Topic: hello\\.kafka\\.2\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention\\.ms=172800000' t.out ||
    fail "describe topic line: $(head -n 1 t.out)"
tail -n +2 t.out >p.out
expect p.out "$(printf '\tTopic: hello.kafka.2\tPartition: %s\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: N/A\tLastKnownElr: N/A\n' 0 1 2)"
kafka-topics --bootstrap-server "$B" --topic hello.kafka --alter --partitions 4 >t.out
expect_empty t.out
kafka-topics --bootstrap-server "$B" --topic hello.kafka --describe >t.out
grep -q $'\tPartitionCount: 4\t' t.out || fail "alter did not give 4 partitions"
# Kafka's tools print these errors on stdout.
if kafka-topics --bootstrap-server "$B" --topic hello.kafka --alter --partitions 2 >t.err; then
    fail "shrinking partitions succeeded"
fi
expect t.err "Error while executing topic command : Topic currently has 4 partitions, which is higher than the requested 2."

log "seed: kafka-configs alter / describe"
kafka-configs --bootstrap-server "$B" --entity-type topics --entity-name hello.kafka \
    --alter --add-config retention.ms=864000000 >t.out
expect t.out "Completed updating config for topic hello.kafka."
kafka-configs --bootstrap-server "$B" --entity-type topics --entity-name hello.kafka --describe >t.out
expect t.out "Dynamic configs for topic hello.kafka are:
  retention.ms=864000000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=864000000, DEFAULT_CONFIG:log.retention.hours=168}"
if kafka-configs --bootstrap-server "$B" --entity-type topics --entity-name hello.kafka \
    --alter --add-config retention.ms=ten 2>t.err; then
    fail "an invalid config value was accepted"
fi
contains t.err "Invalid value ten for configuration retention.ms"

log "seed: console producer (plain and parse.key) and consumer (plain and keyed with a group)"
printf 'hello\nkafka\n' | kafka-console-producer --bootstrap-server "$B" --topic hello.kafka
printf 'key1:no1\nkey2:no2\n' | kafka-console-producer --bootstrap-server "$B" --topic hello.kafka \
    --property "parse.key=true" --property "key.separator=:"
kafka-console-consumer --bootstrap-server "$B" --topic hello.kafka --from-beginning --max-messages 4 \
    >c.out 2>c.err
sort c.out >c.sorted
expect c.sorted "hello
kafka
no1
no2"
contains c.err "Processed a total of 4 messages"
# As in the tutorial, "key.seperator" is misspelt: Kafka ignores it and keeps the tab.
kafka-console-consumer --bootstrap-server "$B" --topic hello.kafka --property print.key=true \
    --property key.seperator="-" --group hello-group --from-beginning --max-messages 4 >c.out 2>c.err
sort c.out >c.sorted
expect c.sorted "$(printf 'key1\tno1\nkey2\tno2\nnull\thello\nnull\tkafka')"
contains c.err "unknown formatter property 'key.seperator' is ignored (did you mean 'key.separator'?)"
kafka-console-consumer --bootstrap-server "$B" --topic hello.kafka --property print.key=true \
    --property key.separator="-" --from-beginning --max-messages 4 2>/dev/null | sort >c.sorted
expect c.sorted "key1-no1
key2-no2
null-hello
null-kafka"

log "seed: kafka-consumer-groups --list / --describe with lag"
kafka-consumer-groups --bootstrap-server "$B" --list hello-group >g.out 2>/dev/null
grep -qx hello-group g.out || fail "hello-group not listed"
printf 'one\ntwo\nthree\n' | kafka-console-producer --bootstrap-server "$B" --topic hello.kafka
kafka-consumer-groups --bootstrap-server "$B" --group hello-group --describe >g.out 2>g.err
contains g.err "Consumer group 'hello-group' has no active members."
sed -n 2p g.out >g.header
expect g.header "GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID"
[ "$(awk '$1 == "hello-group" { n++ } END { print n }' g.out)" = 4 ] || fail "not 4 partition rows: $(cat g.out)"
[ "$(awk '$1 == "hello-group" { s += $6 } END { print s }' g.out)" = 3 ] || fail "lag is not 3: $(cat g.out)"
kafka-consumer-groups --bootstrap-server "$B" --group hello-group --reset-offsets --to-latest \
    --topic hello.kafka --execute >g.out
[ "$(grep -c '^hello-group  *hello.kafka  ' g.out)" = 4 ] || fail "reset rows: $(cat g.out)"
kafka-consumer-groups --bootstrap-server "$B" --group hello-group --describe >g.out 2>/dev/null
[ "$(awk '$1 == "hello-group" { s += $6 } END { print s }' g.out)" = 0 ] || fail "lag after reset: $(cat g.out)"

log "seed: kafka-verifiable-producer --max-message 10"
kafka-verifiable-producer --bootstrap-server "$B" --max-message 10 --topic verify-test >v.out
"$VENV/bin/python" - v.out <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
names = [e["name"] for e in events]
assert names[0] == "startup_complete", names
assert names[-2:] == ["shutdown_complete", "tool_data"], names
sent = [e for e in events if e["name"] == "producer_send_success"]
assert sorted(int(e["value"]) for e in sent) == list(range(10)), sent
assert sorted(e["offset"] for e in sent) == list(range(10)), sent
assert list(sent[0]) == ["timestamp", "name", "key", "value", "topic", "partition", "offset"], list(sent[0])
tool = events[-1]
assert (tool["sent"], tool["acked"], tool["target_throughput"]) == (10, 10, -1), tool
PY

log "seed: kafka-delete-records with the tutorial's JSON, then corrected"
seq 1 60 | kafka-console-producer --bootstrap-server "$B" --topic test
# The tutorial's file lost its opening brace: the error names line and column.
echo '"partitons":[{"topic":"test", "partition":0,"offset":50}],"version":1}' >delete-topic.json
if kafka-delete-records --bootstrap-server "$B" --offset-json-file delete-topic.json 2>d.err; then
    fail "a broken offset file was accepted"
fi
contains d.err "delete-topic.json: invalid offset JSON: "
contains d.err "at line 1 column 11"
echo '{"partitions":[{"topic":"test", "partition":0,"offset":50}],"version":1}' >delete-topic.json
kafka-delete-records --bootstrap-server "$B" --offset-json-file delete-topic.json >d.out
expect d.out "$(printf 'Executing records delete operation\nRecords delete operation completed:\npartition: test-0\tlow_watermark: 50')"
kafka-console-consumer --bootstrap-server "$B" --topic test --from-beginning --timeout-ms 3000 >c.out 2>/dev/null
expect c.out "$(seq 51 60)"

log "kafka-get-offsets: earliest after the delete, latest, a partition pattern, no match"
kafka-get-offsets.sh --bootstrap-server "$B" --topic test --time earliest >o.out
expect o.out "test:0:50"
kafka-get-offsets --bootstrap-server "$B" --topic-partitions 'tes.:0' >o.out
expect o.out "test:0:60"
kafka-get-offsets --bootstrap-server "$B" --topic test --time 4102444800000 >o.out
expect_empty o.out
if kafka-get-offsets --bootstrap-server "$B" --topic 'no-such-topic' 2>o.err; then
    fail "kafka-get-offsets matched a topic that does not exist"
fi
contains o.err "Could not match any topic-partitions with the specified filters"

log "kafka-log-dirs --describe: Kafka's JSON with the topic's partitions and sizes"
kafka-log-dirs.sh --bootstrap-server "$B" --describe --topic-list test >l.out
contains l.out "Querying brokers for log directories information"
tail -n 1 l.out | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["version"] == 1 and len(d["brokers"]) == 1, d
dirs = d["brokers"][0]["logDirs"]
parts = [p for x in dirs for p in x["partitions"]]
assert [p["partition"] for p in parts] == ["test-0"] and parts[0]["size"] > 0, parts
assert all(x["error"] is None for x in dirs) and all(p["isFuture"] is False for p in parts), dirs
'

log "kafka-verifiable-consumer: verify-test's 10 records with a group, committed, then nothing left"
kafka-verifiable-consumer.sh --bootstrap-server "$B" --topic verify-test --group-id verify-group --max-messages 10 --verbose >vc.out
"$VENV/bin/python" - vc.out <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
names = [e["name"] for e in events]
assert names[0] == "startup_complete" and names[-1] == "shutdown_complete", names
assert names[1] == "partitions_assigned" and names[-2] == "partitions_revoked", names
assert events[1]["partitions"] == [{"topic": "verify-test", "partition": 0}], events[1]
data = [e for e in events if e["name"] == "record_data"]
assert sorted(int(e["value"]) for e in data) == list(range(10)), data
assert list(data[0]) == ["timestamp", "name", "key", "value", "topic", "partition", "offset"], list(data[0])
consumed = [e for e in events if e["name"] == "records_consumed"]
assert sum(e["count"] for e in consumed) == 10, consumed
assert list(consumed[0]["partitions"][0]) == ["topic", "partition", "count", "minOffset", "maxOffset"], consumed
commits = [e for e in events if e["name"] == "offsets_committed"]
assert commits and all(c["success"] for c in commits), commits
assert commits[-1]["offsets"] == [{"topic": "verify-test", "partition": 0, "offset": 10}], commits
PY
kafka-consumer-groups --bootstrap-server "$B" --group verify-group --describe >g.out 2>/dev/null
grep -Eq '^verify-group +verify-test +0 +10 +10 +0 ' g.out || fail "verifiable consumer's commit: $(cat g.out)"

log "kafka-metadata-quorum, kafka-leader-election, kafka-reassign-partitions: one node's answers in Kafka's words"
kafka-metadata-quorum.sh --bootstrap-server "$B" describe --status >q.out
contains q.out "LeaderId:               0"
contains q.out "MaxFollowerLag:         0"
grep -Eq '^CurrentVoters: +\[\{"id": 0, "directoryId": (null|"[A-Za-z0-9_-]{22}"), "endpoints": \["[A-Z_]+://[^"]+"\]\}\]$' q.out ||
    fail "voters: $(cat q.out)"
contains q.out "CurrentObservers:       []"
kafka-metadata-quorum --bootstrap-controller "$B" describe --replication >q.out
head -n 1 q.out | grep -Eq '^NodeId\s+DirectoryId\s+LogEndOffset\s+Lag\s+LastFetchTimestamp\s+LastCaughtUpTimestamp\s+Status\s*$' ||
    fail "replication header: $(cat q.out)"
tail -n 1 q.out | grep -Eq '^0\s.*\sLeader\s*$' || fail "replication row: $(cat q.out)"
kafka-leader-election.sh --bootstrap-server "$B" --election-type PREFERRED --topic test --partition 0 >e.out
expect e.out "Valid replica already elected for partitions test-0"
if kafka-leader-election --bootstrap-server "$B" --election-type preferred --topic test --partition 9 >e.out 2>&1; then
    fail "an election of a partition that does not exist succeeded"
fi
contains e.out "Error completing leader election (PREFERRED) for partition: test-9: No such partition as test-9"
echo '{"version":1,"partitions":[{"topic":"test","partition":0,"replicas":[0]}]}' >move.json
kafka-reassign-partitions.sh --bootstrap-server "$B" --reassignment-json-file move.json --execute >r.out
contains r.out "Successfully started partition reassignment for test-0"
kafka-reassign-partitions --bootstrap-server "$B" --reassignment-json-file move.json --verify >r.out
contains r.out "Reassignment of partition test-0 is completed."
kafka-reassign-partitions --bootstrap-server "$B" --list >r.out
expect r.out "No partition reassignments found."
echo '{"version":1,"partitions":[{"topic":"test","partition":0,"replicas":[2]}]}' >move.json
if kafka-reassign-partitions --bootstrap-server "$B" --reassignment-json-file move.json --execute >r.out 2>&1; then
    fail "a reassignment to a broker that does not exist succeeded"
fi
contains r.out "Unknown broker id 2"

log "kafka-dump-log: fred's segment, its records and index, and a group's committed offsets"
kafka-dump-log.sh --files "$WORK/kafka-logs/fred-0/00000000000000000000.log" --print-data-log >dl.out
contains dl.out "Dumping $WORK/kafka-logs/fred-0/00000000000000000000.log"
contains dl.out "Log starting offset: 0"
grep -Eq '^baseOffset: 0 lastOffset: [0-9]+ count: [0-9]+ baseSequence: -?[0-9]+ lastSequence: -?[0-9]+ producerId: -?[0-9]+ producerEpoch: -?[0-9]+ partitionLeaderEpoch: [0-9]+ isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: [0-9]+ size: [0-9]+ magic: 2 compresscodec: [a-z]+ crc: [0-9]+ isvalid: true$' dl.out ||
    fail "batch line: $(cat dl.out)"
grep -Eq '^\| offset: 0 CreateTime: [0-9]+ keySize: -1 valueSize: 22 sequence: -?[0-9]+ headerKeys: \[\] payload: This is a line of data$' dl.out ||
    fail "record line: $(cat dl.out)"
kafka-dump-log --files "$WORK/kafka-logs/fred-0/00000000000000000000.index" >dl.out
expect dl.out "$(printf 'Dumping %s\noffset: 0 position: 0' "$WORK/kafka-logs/fred-0/00000000000000000000.index")"
kafka-dump-log --offsets-decoder --files "$(ls -S "$WORK"/kafka-logs/__consumer_offsets-*/00000000000000000000.log | head -n 1)" >dl.out
grep -Eq ' key: \{"type":"1","data":\{"group":"[^"]+","topic":"[^"]+","partition":[0-9]+\}\} payload: \{"version":"3","data":\{"offset":[0-9]+,' dl.out ||
    fail "offsets decoder: $(cat dl.out)"

log "offset resets: --to-datetime, --shift-by, --to-offset --dry-run"
kafka-consumer-groups --bootstrap-server "$B" --group dt-group --reset-offsets \
    --to-datetime 2000-01-01T00:00:00.000 --topic test --execute >g.out
expect g.out "
GROUP                          TOPIC                          PARTITION  NEW-OFFSET     
dt-group                       test                           0          50             "
kafka-consumer-groups --bootstrap-server "$B" --group dt-group --reset-offsets --shift-by 3 \
    --topic test --execute >g.out
grep -Eq '^dt-group +test +0 +53 *$' g.out || fail "shift-by: $(cat g.out)"
kafka-consumer-groups --bootstrap-server "$B" --group dt-group --reset-offsets --to-offset 10 \
    --topic test:0 --dry-run >g.out
grep -Eq '^dt-group +test +0 +50 *$' g.out || fail "to-offset below the log start: $(cat g.out)"
kafka-consumer-groups --bootstrap-server "$B" --group dt-group --describe >g.out 2>/dev/null
grep -Eq '^dt-group +test +0 +53 +60 +7 ' g.out || fail "dry run changed offsets: $(cat g.out)"

log "beyond the tutorials: headers, compression, progress line, members, state, topic delete"
printf 'h1:a,h2:b\tk\tv1\n' | kafka-console-producer --bootstrap-server "$B" --topic extra \
    --compression-codec snappy --request-required-acks 1 --property parse.headers=true --property parse.key=true
kafka-console-consumer --bootstrap-server "$B" --topic extra --from-beginning --max-messages 1 \
    --property print.headers=true --property print.key=true --property print.partition=true \
    --property print.offset=true >c.out 2>/dev/null
expect c.out "$(printf 'Partition:0\tOffset:0\th1:a,h2:b\tk\tv1')"
seq 1 1000 >lines.txt
# `script` gives the producer a terminal, where --file shows its progress line.
script -qec "kafka-console-producer --bootstrap-server $B --topic progress --file lines.txt" /dev/null >prog.out
contains prog.out "100% 1000 lines, "
kafka-console-consumer --bootstrap-server "$B" --topic progress --from-beginning --timeout-ms 3000 2>/dev/null | wc -l >c.out
expect c.out 1000
kafka-console-consumer --bootstrap-server "$B" --topic hello.kafka --group live-group --timeout-ms 60000 \
    >/dev/null 2>live.err &
LIVE=$!
STARTED_PIDS+=("$LIVE")
for _ in $(seq 1 100); do
    kafka-consumer-groups --bootstrap-server "$B" --group live-group --describe --state 2>/dev/null | grep -q ' Stable ' && break
    sleep 0.2
done
kafka-consumer-groups --bootstrap-server "$B" --group live-group --describe --state >g.out
grep -Eq '^GROUP {21}COORDINATOR \(ID\) {10}ASSIGNMENT-STRATEGY  STATE {11}#MEMBERS$' g.out || fail "state header: $(cat g.out)"
grep -Eq '^live-group +127\.0\.0\.1:[0-9]+  \(0\) +range +Stable +1$' g.out || fail "state: $(cat g.out)"
kafka-consumer-groups --bootstrap-server "$B" --group live-group --describe --members --verbose >g.out
grep -Eq '^GROUP +CONSUMER-ID +HOST +CLIENT-ID +#PARTITIONS {5}ASSIGNMENT$' g.out || fail "members header: $(cat g.out)"
grep -Eq '^live-group +console-consumer-[^ ]+ +/?127\.0\.0\.1 +console-consumer +4 +hello\.kafka\(0,1,2,3\)$' g.out || fail "members row: $(cat g.out)"
kafka-consumer-groups --bootstrap-server "$B" --group live-group --describe >g.out 2>/dev/null
[ "$(awk '$1 == "live-group" && $7 ~ /^console-consumer-/ { n++ } END { print n }' g.out)" = 4 ] || fail "owners: $(cat g.out)"
if kafka-consumer-groups --bootstrap-server "$B" --group live-group --reset-offsets --to-earliest \
    --all-topics --execute >g.err; then
    fail "reset of an active group succeeded"
fi
expect g.err "
Error: Assignments can only be reset if the group 'live-group' is inactive, but the current state is Stable."
kill -TERM "$LIVE"
wait "$LIVE" || fail "the console consumer did not exit 0 on SIGTERM"
contains live.err "Processed a total of "
kafka-topics --bootstrap-server "$B" --create --topic fred --if-not-exists >t.out
expect_empty t.out
kafka-topics --bootstrap-server "$B" --delete --topic extra >t.out
expect_empty t.out
kafka-topics --bootstrap-server "$B" --list >t.out
if grep -qx extra t.out; then fail "extra still listed after delete"; fi

log "errors a user can act on"
if WEIR_CONNECT_TIMEOUT_MS=1000 kafka-topics --bootstrap-server "127.0.0.1:$(free_port)" --list >e.err; then
    fail "an unreachable broker gave success"
fi
contains e.err "could not connect to the broker at 127.0.0.1:"
if kafka-topics --bootstrap-server "$B" --describe --topic no-such-topic >e.err; then
    fail "describing a missing topic succeeded"
fi
expect e.err "Error while executing topic command : Topic 'no-such-topic' does not exist as expected"
if kafka-consumer-groups --bootstrap-server "$B" --group no-such-group --describe >e.err; then
    fail "describing a missing group succeeded"
fi
expect e.err "
Error: Consumer group 'no-such-group' does not exist."
kafka-consumer-groups --bootstrap-server "$B" --group hello-group --delete >g.out
expect g.out "Deletion of requested consumer groups ('hello-group') was successful."

log "perf tools through their shims"
kafka-producer-perf-test.sh --topic perf --num-records 100 --record-size 10 --throughput -1 \
    --producer-props "bootstrap.servers=$B" >perf.out
grep -q '^100 records sent' perf.out || fail "producer perf: $(cat perf.out)"
kafka-consumer-perf-test.sh --bootstrap-server "$B" --topic perf --messages 100 >perf.out
expect <(head -n 1 perf.out) "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"
grep -Eq '^[0-9-]+ [0-9:]+, [0-9-]+ [0-9:]+, [0-9.]+, [0-9.]+, 100, ' perf.out || fail "consumer perf: $(cat perf.out)"

stop_pid "$(cat logs/kafkaServer.pid)"
contains logs/server.log "no ZooKeeper"
contains logs/server.log "broker stopped cleanly"
log "seed replay passed"
