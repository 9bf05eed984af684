#!/usr/bin/env bash
# Apache Kafka 4's quickstart, its commands as written, through the shims in
# scripts/bin (laid out as a Kafka distribution's bin/ and config/): storage
# format, the broker, a topic, console producer and consumer, the Connect
# FileStream quickstart, kafka-server-stop.sh. The configuration files have
# Kafka 4's keys; the broker listens on localhost (Kafka's sample binds every
# interface) and keeps its logs in a temporary directory.
# usage: quickstart.sh VENV_PYTHON
set -euo pipefail
PY="$1"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
KAFKA="$(mktemp -d)"
cd "$KAFKA"
ln -s "$ROOT/scripts/bin" bin
mkdir config
fail() { echo "quickstart: $*" >&2; exit 1; }
# Stops a process started here by the pid in FILE and waits for it.
stop() {
    local pid
    pid="$(cat "$1" 2>/dev/null)" || return 0
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
}
cleanup() {
    stop logs/connect.pid
    stop logs/kafkaServer.pid
    rm -rf "$KAFKA"
}
trap cleanup EXIT
for port in 9092 9093 8083; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then fail "port $port is in use: the quickstart uses Kafka's default ports"; fi
done

cat >config/server.properties <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=localhost:9093
listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093
inter.broker.listener.name=PLAINTEXT
advertised.listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600
log.dirs=$KAFKA/kraft-combined-logs
num.partitions=1
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
EOF
cat >config/connect-standalone.properties <<EOF
bootstrap.servers=localhost:9092
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
offset.storage.file.filename=$KAFKA/connect.offsets
offset.flush.interval.ms=10000
EOF
printf '%s\n' name=local-file-source connector.class=FileStreamSource tasks.max=1 file=test.txt topic=connect-test >config/connect-file-source.properties
printf '%s\n' name=local-file-sink connector.class=FileStreamSink tasks.max=1 file=test.sink.txt topics=connect-test >config/connect-file-sink.properties

echo "step 1-2: kafka-storage.sh random-uuid and format"
KAFKA_CLUSTER_ID="$(bin/kafka-storage.sh random-uuid)"
[[ "$KAFKA_CLUSTER_ID" =~ ^[A-Za-z0-9_-]{22}$ ]] || fail "random-uuid printed '$KAFKA_CLUSTER_ID'"
out=$(bin/kafka-storage.sh format --standalone -t $KAFKA_CLUSTER_ID -c config/server.properties)
[ "$out" = "Formatting dynamic metadata voter directory $KAFKA/kraft-combined-logs with metadata.version 4.0-IV3." ] || fail "format printed '$out'"
grep -qx "cluster.id=$KAFKA_CLUSTER_ID" kraft-combined-logs/meta.properties || fail "meta.properties lacks the cluster id"
if again=$(bin/kafka-storage.sh format --standalone -t $KAFKA_CLUSTER_ID -c config/server.properties 2>&1); then fail "a second format succeeded"; fi
[[ "$again" == *"Log directory $KAFKA/kraft-combined-logs is already formatted. Use --ignore-formatted to ignore this directory and format the others."* ]] || fail "second format said '$again'"
# Output captured first: under pipefail, `grep -q` leaving early would fail
# the writer with SIGPIPE.
out=$(bin/kafka-storage.sh info -c config/server.properties)
grep -q "Found metadata: {cluster.id=$KAFKA_CLUSTER_ID, directory.id=" <<<"$out" || fail "info"

echo "step 3: kafka-server-start.sh (-daemon, so that the test goes on)"
bin/kafka-server-start.sh -daemon config/server.properties
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/9092) 2>/dev/null && break; sleep 0.1; done
served=$("$PY" -c 'from confluent_kafka.admin import AdminClient
a = AdminClient({"bootstrap.servers": "localhost:9092"})
print(a.describe_cluster().result(20).cluster_id)')
[ "$served" = "$KAFKA_CLUSTER_ID" ] || fail "the broker serves cluster id '$served', not the formatted '$KAFKA_CLUSTER_ID'"

echo "step 4: create and describe a topic"
out=$(bin/kafka-topics.sh --create --topic quickstart-events --bootstrap-server localhost:9092)
grep -qx "Created topic quickstart-events." <<<"$out" || fail "create printed '$out'"
out=$(bin/kafka-topics.sh --describe --topic quickstart-events --bootstrap-server localhost:9092)
grep -q "Topic: quickstart-events" <<<"$out" || fail "describe printed '$out'"

echo "step 5-6: console producer and consumer"
printf 'This is my first event\nThis is my second event\n' | bin/kafka-console-producer.sh --topic quickstart-events --bootstrap-server localhost:9092
got=$(timeout 30 bin/kafka-console-consumer.sh --topic quickstart-events --from-beginning --bootstrap-server localhost:9092 --max-messages 2)
[ "$got" = $'This is my first event\nThis is my second event' ] || fail "consumer printed '$got'"

echo "step 7: Kafka Connect's FileStream quickstart"
echo "plugin.path=libs/connect-file-4.0.0.jar" >> config/connect-standalone.properties
echo -e "foo\nbar" > test.txt
mkdir -p logs
bin/connect-standalone.sh -daemon config/connect-standalone.properties config/connect-file-source.properties config/connect-file-sink.properties
for _ in $(seq 1 300); do [ "$(cat test.sink.txt 2>/dev/null)" = $'foo\nbar' ] && break; sleep 0.1; done
# (more prints a file-name header when its output is not a terminal)
[ "$(more test.sink.txt | tail -n 2)" = $'foo\nbar' ] || fail "test.sink.txt holds '$(cat test.sink.txt 2>/dev/null)'"
got=$(timeout 30 bin/kafka-console-consumer.sh --bootstrap-server localhost:9092 --topic connect-test --from-beginning --max-messages 2)
[ "$got" = $'{"schema":{"type":"string","optional":false},"payload":"foo"}\n{"schema":{"type":"string","optional":false},"payload":"bar"}' ] || fail "connect-test holds '$got'"
echo "Another line" >> test.txt
for _ in $(seq 1 300); do [ "$(tail -n 1 test.sink.txt)" = "Another line" ] && break; sleep 0.1; done
[ "$(tail -n 1 test.sink.txt)" = "Another line" ] || fail "the appended line did not reach test.sink.txt"
served=$(curl -s http://127.0.0.1:8083/ | python3 -c 'import json, sys; print(json.load(sys.stdin)["kafka_cluster_id"])')
[ "$served" = "$KAFKA_CLUSTER_ID" ] || fail "GET / names cluster id '$served', not '$KAFKA_CLUSTER_ID'"
stop logs/connect.pid
rm -f logs/connect.pid

echo "step 8: kafka-server-stop.sh"
bin/kafka-server-stop.sh
[ ! -f logs/kafkaServer.pid ] || fail "the pid file is left"
if (exec 3<>/dev/tcp/127.0.0.1/9092) 2>/dev/null; then fail "the broker still answers after kafka-server-stop.sh"; fi
out=$(bin/kafka-server-stop.sh || true)
[ "$out" = "No kafka server to stop" ] || fail "a second stop printed '$out'"
grep -q "broker stopped cleanly" logs/server.log || fail "the broker did not stop cleanly"
bin/zookeeper-server-stop.sh >/dev/null

echo "a directory formatted for node 1 is refused to node 2"
if out=$(timeout 30 bin/kafka-server-start.sh config/server.properties --override node.id=2 2>&1); then fail "the broker started as node 2"; fi
[[ "$out" == *"Stored node id 1 doesn't match previous node id 2 in $KAFKA/kraft-combined-logs."* ]] || fail "node 2 was refused with '$out'"
echo "Kafka 4 quickstart passed"
