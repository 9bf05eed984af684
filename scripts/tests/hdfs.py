"""HDFS sink on a file:// store, end to end through `weir standalone`:

- exactly once: 1,000,000 keyed records on 4 partitions written as JSON
  files while the worker is SIGKILLed at random moments six times and
  restarted; then every record is in exactly one committed file, the files
  of a partition cover its offsets without gaps or overlaps, and no
  temporary file is left;
- Avro and Parquet: records with a schema (JsonConverter envelopes) and
  schemaless ones, hourly-partitioned by record time, read back with
  fastavro and pyarrow;
- restore: a topic through the sink (JSON, Avro and Parquet files) and back through
  the HDFS source into a new topic (RegexRouter), which then holds the same
  keys, values, headers and timestamps in the same order per partition.

usage: hdfs.py WEIR BOOTSTRAP"""

import glob
import json
import os
import random
import re
import sys
import tempfile
import time

import fastavro
import pyarrow.parquet as pq
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from standalone_worker import Worker, wait_for

WEIR, BOOT = sys.argv[1], sys.argv[2]
NAME = re.compile(r"^([a-zA-Z0-9._-]+)\+(\d+)\+(\d+)\+(\d+)(\.\w+)$")
random.seed(int(os.environ.get("WEIR_TEST_SEED", time.time())))


def create_topic(name, partitions):
    admin = AdminClient({"bootstrap.servers": BOOT})
    for f in admin.create_topics([NewTopic(name, partitions, 1)]).values():
        f.result(30)


def produce(topic, n, value, key=lambda i: str(i % 1000), headers=lambda i: None):
    p = Producer({"bootstrap.servers": BOOT, "linger.ms": 20, "batch.num.messages": 10000})
    for i in range(n):
        while True:
            try:
                p.produce(topic, key=key(i).encode(), value=value(i).encode(), timestamp=ts_of(i), headers=headers(i))
                break
            except BufferError:
                p.poll(0.1)
    if p.flush(60) != 0:
        raise SystemExit(f"producing to {topic} did not finish")


def ts_of(i):
    # From 2026-03-05T22:00:00Z, a record every 9 seconds: a few hours.
    return 1_772_748_000_000 + i * 9_000


def end_offsets(topic, partitions):
    c = Consumer({"bootstrap.servers": BOOT, "group.id": "hdfs-check"})
    ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions)}
    c.close()
    return ends


def committed(store, topic):
    out = []
    for path in glob.glob(f"{store}/topics/{topic}/**/*", recursive=True):
        m = NAME.match(os.path.basename(path))
        if os.path.isfile(path) and m and m.group(1) == topic:
            out.append((int(m.group(2)), int(m.group(3)), int(m.group(4)), path))
    return sorted(out)


def temps(store):
    return [p for p in glob.glob(f"{store}/**/*_tmp*", recursive=True) if os.path.isfile(p)]


def exactly_once(work):
    topic, n, parts = "hdfs-eo", 1_000_000, 4
    store = f"{work}/store-eo"
    create_topic(topic, parts)
    produce(topic, n, lambda i: json.dumps({"id": i, "name": f"customer {i % 10007}"}))
    ends = end_offsets(topic, parts)
    assert sum(ends.values()) == n, ends
    w = Worker(WEIR, BOOT, work, "hdfs-eo")
    with open(f"{work}/hdfs-eo.properties", "a") as f:
        f.write("value.converter.schemas.enable=false\n")
    config = {
        "connector.class": "io.confluent.connect.hdfs3.Hdfs3SinkConnector",
        "topics": topic,
        "store.url": f"file://{store}",
        "format.class": "io.confluent.connect.hdfs3.json.JsonFormat",
        "flush.size": "7000",
        "rotate.interval.ms": "2000",
        "tasks.max": "2",
    }
    kills = 0
    while kills < 6:
        w.start()
        w.create("eo", config)
        # Killed while it writes: once its tasks are given records.
        wait_for("records reaching the sink", lambda: w.metric("kafka_connect_sink_task_metrics_sink_record_send_total", "eo") > 0, 60, 0.05)
        time.sleep(random.uniform(0, 1.0))
        w.kill()
        kills += 1
        done = sum(e - s + 1 for _, s, e, _ in committed(store, topic))
        print(f"  SIGKILL {kills}: {done} records in committed files")
    w.start()
    w.create("eo", config)
    wait_for("all records committed", lambda: sum(e - s + 1 for _, s, e, _ in committed(store, topic)) >= n, 180, 0.5)
    wait_for("no temporary files", lambda: not temps(store), 30, 0.5)
    w.stop()
    files = committed(store, topic)
    seen = {}
    for part, start, end, path in files:
        with open(path) as f:
            lines = f.read().splitlines()
        assert len(lines) == end - start + 1, f"{path} holds {len(lines)} records"
        for line in lines:
            rid = json.loads(line)["id"]
            seen[rid] = seen.get(rid, 0) + 1
    twice = [i for i, c in seen.items() if c > 1]
    missing = n - len(seen)
    assert not twice and missing == 0, f"{len(twice)} records in two files, {missing} missing"
    for p in range(parts):
        ranges = [(s, e) for q, s, e, _ in files if q == p]
        expect = 0
        for s, e in ranges:
            assert s == expect, f"partition {p}: a file starts at {s}, expected {expect}"
            expect = e + 1
        assert expect == ends[p], f"partition {p}: files end at {expect}, the topic at {ends[p]}"
    assert not temps(store)
    print(f"  {n} records in {len(files)} files, each exactly once after {kills} SIGKILLs; no temporary file")


def avro(work):
    store = f"{work}/store-avro"
    w = Worker(WEIR, BOOT, work, "hdfs-avro")
    w.start()
    schema = {"type": "struct", "name": "com.example.Visit", "optional": False, "version": 1,
              "fields": [{"field": "id", "type": "int64", "optional": False},
                         {"field": "page", "type": "string", "optional": True}]}
    n = 5000
    create_topic("visits", 1)
    produce("visits", n, lambda i: json.dumps({"schema": schema, "payload": {"id": i, "page": f"/p/{i % 7}"}}))
    create_topic("plain", 1)
    produce("plain", n, lambda i: json.dumps({"id": i, "ok": i % 2 == 0}))
    common = {
        "connector.class": "HdfsSinkConnector",
        "store.url": f"file://{store}",
        "format.class": "io.confluent.connect.hdfs.avro.AvroFormat",
        "avro.codec": "snappy",
        "flush.size": "1000",
        "partitioner.class": "io.confluent.connect.storage.partitioner.HourlyPartitioner",
        "timestamp.extractor": "Record",
        "locale": "en-US",
        "timezone": "UTC",
    }
    w.create("visits", {**common, "topics": "visits"})
    w.create("plain", {**common, "topics": "plain", "value.converter": "org.apache.kafka.connect.json.JsonConverter",
                       "value.converter.schemas.enable": "false"})
    pstore = f"{work}/store-parquet"
    w.create("visits-pq", {**common, "topics": "visits", "store.url": f"file://{pstore}",
                           "format.class": "io.confluent.connect.hdfs3.parquet.ParquetFormat", "parquet.codec": "zstd"})
    w.create("plain-pq", {**common, "topics": "plain", "store.url": f"file://{pstore}",
                          "format.class": "io.confluent.connect.hdfs3.parquet.ParquetFormat",
                          "value.converter": "org.apache.kafka.connect.json.JsonConverter",
                          "value.converter.schemas.enable": "false"})
    for topic, fields in (("visits", ["id", "page"]), ("plain", ["id", "ok"])):
        wait_for(f"{topic}: committed Avro files", lambda: sum(e - s + 1 for _, s, e, _ in committed(store, topic)) >= n, 60, 0.5)
        ids = []
        for _, start, end, path in committed(store, topic):
            hour = re.search(r"year=(\d{4})/month=(\d\d)/day=(\d\d)/hour=(\d\d)/", path)
            assert hour, path
            with open(path, "rb") as f:
                reader = fastavro.reader(f)
                rows = list(reader)
                assert reader.codec == "snappy", reader.codec
            assert len(rows) == end - start + 1
            for r in rows:
                assert sorted(r) == sorted(fields), r
                t = time.gmtime(ts_of(r["id"]) / 1000)
                assert (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour) == tuple(map(int, hour.groups())), (r, path)
                ids.append(r["id"])
        assert sorted(ids) == list(range(n)), f"{topic}: {len(ids)} records read back"
        print(f"  {topic}: {n} records read back by fastavro from hourly directories")
    assert committed(store, "visits")[0][3].endswith(".avro")
    for topic, fields in (("visits", ["id", "page"]), ("plain", ["id", "ok"])):
        wait_for(f"{topic}: committed Parquet files", lambda: sum(e - s + 1 for _, s, e, _ in committed(pstore, topic)) >= n, 60, 0.5)
        ids = []
        for _, start, end, path in committed(pstore, topic):
            table = pq.read_table(path)
            assert table.column_names == fields, (path, table.column_names)
            assert table.num_rows == end - start + 1
            ids.extend(table.column("id").to_pylist())
        assert sorted(ids) == list(range(n)), f"{topic}: {len(ids)} records read back by pyarrow"
        print(f"  {topic}: {n} records read back by pyarrow from Parquet files")
    w.stop()


def consume_all(topic, partitions, n):
    """(key, value, headers, timestamp) of `topic`'s records per partition,
    in order (waits for `n`)."""
    c = Consumer({"bootstrap.servers": BOOT, "group.id": f"check-{topic}-{time.time()}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    out = {p: [] for p in range(partitions)}
    deadline = time.time() + 60
    while sum(len(v) for v in out.values()) < n and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                continue
            raise SystemExit(f"consuming {topic}: {m.error()}")
        out[m.partition()].append((m.key(), m.value(), m.headers(), m.timestamp()[1]))
    c.close()
    return out


def restore(work):
    w = Worker(WEIR, BOOT, work, "hdfs-restore")
    with open(f"{work}/hdfs-restore.properties", "a") as f:
        f.write("value.converter.schemas.enable=false\n")
    w.start()
    n, parts = 3000, 3
    create_topic("orders", parts)
    produce("orders", n, lambda i: json.dumps({"id": i, "item": f"sku-{i % 97}", "qty": i % 5}), key=lambda i: f"c{i % 31}",
            headers=lambda i: [("source", b"shop"), ("trace", f"t-{i}".encode())])
    original = consume_all("orders", parts, n)
    for fmt, ext in (("io.confluent.connect.hdfs3.json.JsonFormat", "json"), ("io.confluent.connect.hdfs3.avro.AvroFormat", "avro"),
                     ("io.confluent.connect.hdfs3.parquet.ParquetFormat", "parquet")):
        store = f"{work}/store-restore-{ext}"
        w.create(f"backup-{ext}", {"connector.class": "Hdfs3SinkConnector", "topics": "orders", "store.url": f"file://{store}",
                                  "format.class": fmt, "flush.size": "400", "rotate.interval.ms": "1000",
                                  "store.kafka.keys": "true", "store.kafka.headers": "true"})
        wait_for(f"orders backed up as {ext}", lambda: sum(e - s + 1 for _, s, e, _ in committed(store, "orders")) >= n, 60, 0.5)
        target = f"restored-{ext}-orders"
        create_topic(target, parts)
        w.create(f"restore-{ext}", {"connector.class": "io.confluent.connect.hdfs3.Hdfs3SourceConnector", "store.url": f"file://{store}",
                                   "format.class": fmt, "tasks.max": "2", "hdfs.poll.interval.ms": "1000",
                                   "transforms": "rename", "transforms.rename.type": "org.apache.kafka.connect.transforms.RegexRouter",
                                   "transforms.rename.regex": "(.*)", "transforms.rename.replacement": f"restored-{ext}-$1"})
        restored = consume_all(target, parts, n)
        for p in range(parts):
            want = [(k, json.loads(v), h, t) for k, v, h, t in original[p]]
            got = [(k, json.loads(v), h, t) for k, v, h, t in restored[p]]
            assert got == want, (f"{ext}: partition {p} holds {len(got)} records, {sum(a != b for a, b in zip(got, want))} "
                                 f"different, of {len(want)}; first: {next(((a, b) for a, b in zip(got, want) if a != b), None)}")
        print(f"  {n} records backed up as {ext} files and restored into {target}: the same keys, values, headers and "
              "timestamps in the same order per partition")
    w.stop()


def main():
    work = tempfile.mkdtemp(prefix="weir-hdfs-")
    avro(work)
    restore(work)
    exactly_once(work)
    print("hdfs: all checks passed")


if __name__ == "__main__":
    main()
