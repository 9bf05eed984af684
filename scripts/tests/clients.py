"""Real Python Kafka clients against a running `weir broker`.

Usage: clients.py HOST:PORT
Covers kafka-python (producer, group consumer, KafkaAdminClient),
confluent-kafka (Producer, Consumer, AdminClient), aiokafka (producer and
consumer), the KIP-511 ApiVersions fallback, and a hostile request that must
not take the broker down.
"""

import asyncio
import socket
import struct
import sys
import time
import uuid

BOOT = sys.argv[1]
HOST, PORT = BOOT.rsplit(":", 1)
FAILURES = []


def check(name, cond, detail=""):
    print(("PASS " if cond else "FAIL ") + name + (f": {detail}" if detail and not cond else ""))
    if not cond:
        FAILURES.append(name)


def topic_name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# --- kafka-python ----------------------------------------------------------

def kafka_python():
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=BOOT, client_id="kp-admin")
    t = topic_name("kp")
    admin.create_topics([NewTopic(t, num_partitions=3, replication_factor=1,
                                  topic_configs={"retention.ms": "172800000"})])
    check("kafka-python admin create_topics + list_topics", t in admin.list_topics())
    res = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t)])
    text = repr(res)
    check("kafka-python describe_configs shows retention.ms", "172800000" in text, text[:300])
    admin.create_partitions({t: NewPartitions(total_count=4)})
    parts = KafkaConsumer(bootstrap_servers=BOOT).partitions_for_topic(t)
    check("kafka-python create_partitions", parts == {0, 1, 2, 3}, str(parts))

    prod = KafkaProducer(bootstrap_servers=BOOT, acks="all", compression_type="gzip")
    for i in range(200):
        prod.send(t, key=f"k{i}".encode(), value=f"kp-{i}".encode())
    prod.flush()
    prod.close()

    cons = KafkaConsumer(t, bootstrap_servers=BOOT, group_id="kp-group",
                         auto_offset_reset="earliest", enable_auto_commit=False,
                         consumer_timeout_ms=10000)
    seen = set()
    for m in cons:
        seen.add(m.value.decode())
        if len(seen) == 200:
            break
    cons.commit()
    committed = sum((cons.committed(TopicPartition(t, p)) or 0) for p in range(4))
    cons.close()
    check("kafka-python group consumer reads all 200", len(seen) == 200, str(len(seen)))
    check("kafka-python commit visible", committed == 200, str(committed))

    listed = repr(admin.list_groups())
    check("kafka-python list_groups", "kp-group" in listed, listed[:300])
    described = repr(admin.describe_groups(["kp-group"]))
    check("kafka-python describe_groups", "kp-group" in described, described[:300])
    offsets = admin.list_group_offsets("kp-group")["kp-group"]
    total = sum(v.offset for v in offsets.values())
    check("kafka-python list_group_offsets", total == 200, repr(offsets)[:300])
    cluster = repr(admin.describe_cluster())
    check("kafka-python describe_cluster", "cluster_id" in cluster or "controller" in cluster, cluster[:300])
    dirs = repr(admin.describe_log_dirs())
    check("kafka-python describe_log_dirs lists the topic", t in dirs, dirs[:300])
    admin.delete_group_offsets("kp-group", [TopicPartition(t, 0)])
    left = admin.list_group_offsets("kp-group")["kp-group"]
    check("kafka-python delete_group_offsets (OffsetDelete)",
          TopicPartition(t, 0) not in left and TopicPartition(t, 1) in left, repr(left)[:300])
    admin.delete_topics([t])
    check("kafka-python delete_topics", t not in admin.list_topics())
    admin.close()


# --- confluent-kafka -------------------------------------------------------

def confluent():
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

    admin = AdminClient({"bootstrap.servers": BOOT})
    t = topic_name("ck")
    for f in admin.create_topics([NewTopic(t, num_partitions=2, replication_factor=1)]).values():
        f.result(10)
    md = admin.list_topics(timeout=10)
    check("confluent-kafka AdminClient create + list", t in md.topics and len(md.topics[t].partitions) == 2)
    res = admin.describe_configs([ConfigResource("topic", t)])
    cfg = list(res.values())[0].result(10)
    check("confluent-kafka describe_configs returns every config",
          "cleanup.policy" in cfg and len(cfg) >= 25, str(len(cfg)))

    p = Producer({"bootstrap.servers": BOOT, "enable.idempotence": True, "compression.type": "zstd"})
    acked = []
    for i in range(300):
        p.produce(t, key=f"k{i}", value=f"ck-{i}", on_delivery=lambda e, m: acked.append(e is None))
    p.flush(20)
    check("confluent-kafka idempotent zstd producer acked all", len(acked) == 300 and all(acked))

    c = Consumer({"bootstrap.servers": BOOT, "group.id": "ck-group",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([t])
    seen = set()
    deadline = time.time() + 20
    while len(seen) < 300 and time.time() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            seen.add(m.value().decode())
    c.commit(asynchronous=False)
    committed = c.committed([TopicPartition(t, 0), TopicPartition(t, 1)], timeout=10)
    c.close()
    check("confluent-kafka group consumer reads all 300", len(seen) == 300, str(len(seen)))
    check("confluent-kafka commit", sum(tp.offset for tp in committed) == 300, str(committed))
    from confluent_kafka import ConsumerGroupTopicPartitions  # noqa: F401
    from confluent_kafka.admin import (AlterConfigOpType, ConfigEntry, OffsetSpec)
    res = ConfigResource("topic", t, incremental_configs=[
        ConfigEntry("retention.ms", "86400000", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.APPEND)])
    for f in admin.incremental_alter_configs([res]).values():
        f.result(10)
    cfg = list(admin.describe_configs([ConfigResource("topic", t)]).values())[0].result(10)
    check("confluent-kafka incremental_alter_configs SET and APPEND",
          cfg["retention.ms"].value == "86400000" and cfg["cleanup.policy"].value == "delete,compact",
          f'{cfg["retention.ms"].value} {cfg["cleanup.policy"].value}')
    specs = {TopicPartition(t, 0): OffsetSpec.earliest(), TopicPartition(t, 1): OffsetSpec.latest()}
    got = {tp.partition: r.result().offset for tp, r in admin.list_offsets(specs).items()}
    spec_max = {TopicPartition(t, 0): OffsetSpec.max_timestamp()}
    mx = [r.result().offset for r in admin.list_offsets(spec_max).values()][0]
    check("confluent-kafka list_offsets earliest / latest / max timestamp",
          got[0] == 0 and got[1] > 0 and mx >= 0, f"{got} max={mx}")
    desc = admin.describe_cluster().result(10)
    check("confluent-kafka describe_cluster", len(desc.nodes) == 1 and desc.cluster_id, repr(desc)[:200])
    for f in admin.delete_topics([t]).values():
        f.result(10)


# --- aiokafka --------------------------------------------------------------

async def aio():
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    t = topic_name("aio")
    prod = AIOKafkaProducer(bootstrap_servers=BOOT, acks="all")
    await prod.start()
    try:
        for i in range(100):
            await prod.send_and_wait(t, f"aio-{i}".encode(), key=b"k")
    finally:
        await prod.stop()
    cons = AIOKafkaConsumer(t, bootstrap_servers=BOOT, group_id="aio-group",
                            auto_offset_reset="earliest", enable_auto_commit=False)
    await cons.start()
    seen = []
    try:
        async def read():
            async for m in cons:
                seen.append(m.value.decode())
                if len(seen) == 100:
                    return
        await asyncio.wait_for(read(), 20)
        await cons.commit()
    finally:
        await cons.stop()
    check("aiokafka producer + group consumer in order", seen == [f"aio-{i}" for i in range(100)], str(seen[:3]))


# --- protocol edge cases over a raw socket --------------------------------

def raw(frame: bytes) -> bytes:
    with socket.create_connection((HOST, int(PORT)), timeout=5) as s:
        s.sendall(struct.pack(">i", len(frame)) + frame)
        size = struct.unpack(">i", s.recv(4))[0]
        data = b""
        while len(data) < size:
            data += s.recv(size - len(data))
        return data


def protocol_edges():
    # ApiVersions v9 (newer than the broker knows): v0 body, error 35, full table.
    client = b"probe"
    req = struct.pack(">hhih", 18, 9, 42, len(client)) + client + b"\x00\x00\x00"
    resp = raw(req)
    corr, err, n = struct.unpack(">ihi", resp[:10])
    check("KIP-511 fallback: v0 body with UNSUPPORTED_VERSION and the table",
          corr == 42 and err == 35 and n >= 20, f"corr={corr} err={err} n={n}")
    # A Metadata v0 request claiming 54 million topics in a few bytes.
    hostile = struct.pack(">hhih", 3, 0, 1, 1) + b"x" + bytes.fromhex("033c0c00b6")
    try:
        with socket.create_connection((HOST, int(PORT)), timeout=5) as s:
            s.sendall(struct.pack(">i", len(hostile)) + hostile)
            s.recv(4)
    except OSError:
        pass
    resp = raw(struct.pack(">hhih", 18, 0, 7, 1) + b"x")
    check("a hostile array length does not take the broker down", struct.unpack(">i", resp[:4])[0] == 7)


def main():
    for name, fn in [("protocol", protocol_edges), ("kafka-python", kafka_python),
                     ("confluent-kafka", confluent), ("aiokafka", lambda: asyncio.run(aio()))]:
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - report and keep going
            check(f"{name} ran without exceptions", False, repr(e))
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed: {FAILURES}")
        sys.exit(1)
    print("all client checks passed")


if __name__ == "__main__":
    main()
