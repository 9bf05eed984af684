#!/usr/bin/env python3
"""Transforms, error tolerance and topic creation through real `weir
standalone` processes and a real broker, checked with confluent-kafka.

1. FileStreamSource with HoistField + InsertField (timestamp and a static
   field) + RegexRouter: every record on the renamed topic is checked field
   by field, schema included. A FileStreamSink reading that topic and a
   noise topic drops the noise with Filter on TopicNameMatches, tombstones
   with Filter on RecordIsTombstone, and writes ExtractField's line.
2. 1,000,000 good JSON records and 100 malformed ones (bad JSON, a wrong
   envelope) read by a sink with errors.tolerance=all and a dead letter
   topic: the output is exactly the good records in order, the dead letter
   topic exactly the bad ones with __connect.errors.* headers naming their
   offsets. The same with the worker SIGKILLed in the middle: nothing lost,
   duplicates only after the last commit. With errors.tolerance=none the
   task is FAILED at the first bad offset and nothing past it is committed.
3. A source creating a compacted 3-partition topic (topic.creation.*),
   seen with `weir topics --describe`.
4. Beyond Kafka: a source whose lines fail Cast sends them to its dead
   letter topic with the source partition in the headers.

Usage: transforms.py WEIR_BINARY BOOTSTRAP [transforms|creation|source-dlq|errors ...]
"""

import json
import os
import subprocess
import sys
import tempfile
import time

from standalone_worker import Worker, wait_for
from confluent_kafka import Consumer, Producer, TopicPartition

WEIR, BOOT = sys.argv[1], sys.argv[2]
RUN = str(int(time.time() * 1000) % 10_000_000)
GOOD, BAD = 1_000_000, 100


def fail(msg):
    raise SystemExit(f"transforms: {msg}")




def lines(path):
    try:
        with open(path) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def last_line(path):
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 64))
            tail = f.read().splitlines()
            return tail[-1].decode() if tail else ""
    except FileNotFoundError:
        return ""


def consume_all(topic, expected, seconds=60):
    c = Consumer({"bootstrap.servers": BOOT, "group.id": f"check-{topic}-{RUN}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([topic])
    out, deadline = [], time.time() + seconds
    while len(out) < expected and time.time() < deadline:
        for m in c.consume(10000, 0.5):
            if m.error():
                continue
            out.append(m)
    c.close()
    return out


def transforms(work, w):
    src_file = f"{work}/in.txt"
    with open(src_file, "w") as f:
        f.write("".join(f"line {i}\n" for i in range(1, 501)))
    raw, clean, noise = f"raw-{RUN}", f"clean-{RUN}", f"noise-{RUN}"
    before = int(time.time() * 1000)
    w.create("shaper", {
        "connector.class": "FileStreamSource", "file": src_file, "topic": raw,
        "transforms": "hoist,insert,route",
        "transforms.hoist.type": "org.apache.kafka.connect.transforms.HoistField$Value",
        "transforms.hoist.field": "line",
        "transforms.insert.type": "org.apache.kafka.connect.transforms.InsertField$Value",
        "transforms.insert.timestamp.field": "ts",
        "transforms.insert.static.field": "origin",
        "transforms.insert.static.value": "weir-test",
        "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
        "transforms.route.regex": "raw-(.*)",
        "transforms.route.replacement": "clean-$1",
    })
    msgs = consume_all(clean, 500)
    if len(msgs) != 500:
        fail(f"{clean} holds {len(msgs)} records, expected 500")
    for i, m in enumerate(msgs, 1):
        v = json.loads(m.value())
        schema, payload = v["schema"], v["payload"]
        fields = [(f["field"], f["type"], f["optional"], f.get("name")) for f in schema["fields"]]
        want = [("line", "string", False, None), ("ts", "int64", True, "org.apache.kafka.connect.data.Timestamp"),
                ("origin", "string", True, None)]
        if schema["type"] != "struct" or fields != want:
            fail(f"record {i}: schema {schema}")
        if payload["line"] != f"line {i}" or payload["origin"] != "weir-test":
            fail(f"record {i}: payload {payload}")
        if not before - 60_000 <= payload["ts"] <= int(time.time() * 1000) or m.timestamp()[1] != payload["ts"]:
            fail(f"record {i}: ts {payload['ts']} is not the record's timestamp {m.timestamp()}")
    if consume_all(raw, 1, 3):
        fail(f"records were written to {raw}, the topic before RegexRouter")
    # Noise and tombstones the sink must drop.
    p = Producer({"bootstrap.servers": BOOT})
    for i in range(50):
        p.produce(noise, json.dumps({"schema": {"type": "struct", "fields": [
            {"field": "line", "type": "string", "optional": False}]}, "payload": {"line": f"noise {i}"}}))
        p.produce(clean, None, key=f"gone-{i}")
    p.flush(30)
    out = f"{work}/out.txt"
    w.create("writer", {
        "connector.class": "FileStreamSink", "file": out, "topics": f"{clean},{noise}",
        "transforms": "noise,tombstones,extract",
        "transforms.noise.type": "org.apache.kafka.connect.transforms.Filter",
        "transforms.noise.predicate": "isNoise",
        "transforms.tombstones.type": "Filter",
        "transforms.tombstones.predicate": "isTombstone",
        "transforms.extract.type": "org.apache.kafka.connect.transforms.ExtractField$Value",
        "transforms.extract.field": "line",
        "predicates": "isNoise,isTombstone",
        "predicates.isNoise.type": "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
        "predicates.isNoise.pattern": "noise-.*",
        "predicates.isTombstone.type": "RecordIsTombstone",
    })
    wait_for("500 lines in the sink's file", lambda: len(lines(out)) >= 500, 60)
    time.sleep(2)
    got = lines(out)
    if got != [f"line {i}" for i in range(1, 501)]:
        bad = [x for x in got if not x.startswith("line ")]
        fail(f"sink output has {len(got)} lines; unexpected: {bad[:5]}")
    status = w.call("GET", "/connectors/writer/status")[1]
    if status["tasks"][0]["state"] != "RUNNING":
        fail(f"writer: {status}")
    print("transforms: source chain checked field by field on 500 records; sink filtered 50 noise records and 50 tombstones")


def source_dlq(work, w):
    """Beyond Kafka: a source's records that fail a transform go to its
    dead letter topic with the source partition and offset in headers."""
    path = f"{work}/numbers.txt"
    with open(path, "w") as f:
        f.write("1\n2\nthree\n4\nfive\n6\n")
    topic, dlq = f"numbers-{RUN}", f"numbers-dlq-{RUN}"
    w.create("numbers", {
        "connector.class": "FileStreamSource", "file": path, "topic": topic,
        "transforms": "cast",
        "transforms.cast.type": "org.apache.kafka.connect.transforms.Cast$Value",
        "transforms.cast.spec": "int32",
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": dlq,
        "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true",
    })
    got = [json.loads(m.value())["payload"] for m in consume_all(topic, 4, 30)]
    if got != [1, 2, 4, 6]:
        fail(f"{topic} holds {got}, expected the numbers cast to int32")
    bad = consume_all(dlq, 2, 30)
    values = [json.loads(m.value())["payload"] for m in bad]
    if values != ["three", "five"]:
        fail(f"{dlq} holds {values}")
    h = {k: v.decode() for k, v in bad[0].headers()}
    want = {"__connect.errors.topic": topic, "__connect.errors.stage": "TRANSFORMATION",
            "__connect.errors.class.name": "org.apache.kafka.connect.transforms.Cast$Value",
            "__connect.errors.source.partition": json.dumps({"filename": path}, separators=(",", ":"))}
    for k, v in want.items():
        if h.get(k) != v:
            fail(f"source dead letter header {k} is {h.get(k)!r}, expected {v!r}")
    if "__connect.errors.exception.message" not in h:
        fail(f"source dead letter headers: {h}")
    print("source dead letter queue: 2 lines failing Cast went to the dead letter topic with their source partition")


def good(i):
    return json.dumps({"schema": {"type": "string", "optional": False}, "payload": f"rec-{i:07d}"})


def errors(work):
    topic = f"mixed-{RUN}"
    p = Producer({"bootstrap.servers": BOOT, "linger.ms": 50, "batch.num.messages": 10000,
                  "queue.buffering.max.messages": 1_000_000, "compression.type": "lz4"})
    bad_at = set(range(5_000, GOOD + BAD, (GOOD + BAD) // BAD)[:BAD])
    offset, n, bad_offsets = 0, 0, []
    while n < GOOD:
        if offset in bad_at:
            p.produce(topic, b"{not json" if len(bad_offsets) % 2 == 0 else b'{"payload": "no schema"}',
                      partition=0, headers=[("origin", b"errors-test")])
            bad_offsets.append(offset)
        else:
            n += 1
            p.produce(topic, good(n).encode(), partition=0)
        offset += 1
        if offset % 100_000 == 0:
            p.flush(60)
    p.flush(60)
    if len(bad_offsets) != BAD:
        fail(f"wrote {len(bad_offsets)} bad records, meant {BAD}")
    expected = [f"rec-{i:07d}" for i in range(1, GOOD + 1)]

    def sink(w, name, out, dlq, tolerance):
        cfg = {"connector.class": "FileStreamSink", "file": out, "topics": topic,
               "errors.tolerance": tolerance, "errors.log.enable": "true"}
        if dlq:
            cfg.update({"errors.deadletterqueue.topic.name": dlq,
                        "errors.deadletterqueue.topic.replication.factor": "1",
                        "errors.deadletterqueue.context.headers.enable": "true"})
        w.create(name, cfg)

    def check_dlq(dlq, allowed_dupes):
        msgs = consume_all(dlq, BAD + allowed_dupes, 60)
        offsets = []
        for m in msgs:
            h = {k: (v.decode() if v is not None else None) for k, v in m.headers()}
            if h.get("__connect.errors.topic") != topic or h.get("origin") != "errors-test":
                fail(f"dead letter record without its headers: {h}")
            if h["__connect.errors.stage"] != "VALUE_CONVERTER" or \
                    h["__connect.errors.class.name"] != "org.apache.kafka.connect.json.JsonConverter" or \
                    h["__connect.errors.exception.class.name"] != "org.apache.kafka.connect.errors.DataException" or \
                    h["__connect.errors.task.id"] != "0" or h["__connect.errors.partition"] != "0":
                fail(f"dead letter headers: {h}")
            off = int(h["__connect.errors.offset"])
            if off not in bad_at:
                fail(f"dead letter record names offset {off}, which held a good record")
            want = b"{not json" if bad_offsets.index(off) % 2 == 0 else b'{"payload": "no schema"}'
            if m.value() != want:
                fail(f"dead letter record at {off} holds {m.value()!r}, not the original {want!r}")
            offsets.append(off)
        if sorted(set(offsets)) != bad_offsets:
            fail(f"dead letter topic names {len(set(offsets))} distinct offsets, expected {BAD}")
        return len(offsets) - BAD

    # Tolerant, undisturbed: exact.
    w = Worker(WEIR, BOOT, work, "tolerant")
    w.start()
    try:
        started = time.time()
        sink(w, "tolerant", f"{work}/tolerant.txt", f"dlq-{RUN}", "all")
        wait_for("1,000,000 lines", lambda: len(lines(f"{work}/tolerant.txt")) >= GOOD, 600)
        secs = time.time() - started
        time.sleep(2)
        if lines(f"{work}/tolerant.txt") != expected:
            fail("the tolerant sink's output is not exactly the good records in order")
        dupes = check_dlq(f"dlq-{RUN}", 0)
        if dupes:
            fail(f"{dupes} bad records were written twice without a crash")
        for name, want in [("total_records_skipped", BAD), ("deadletterqueue_produce_requests", BAD),
                           ("total_errors_logged", BAD), ("total_record_errors", BAD)]:
            got = w.metric(f"kafka_connect_task_error_metrics_{name}", "tolerant")
            if got != want:
                fail(f"metric {name}: {got}, expected {want}")
        print(f"errors: {GOOD} good records out in order and {BAD} bad ones in the dead letter topic ({secs:.0f} s)")

        # Intolerant: FAILED at the first bad offset, nothing past it committed.
        sink(w, "strict", f"{work}/strict.txt", f"dlq-strict-{RUN}", "none")
        first = bad_offsets[0]

        def failed():
            s = w.call("GET", "/connectors/strict/status")[1]
            return s and s["tasks"] and s["tasks"][0]["state"] == "FAILED"
        wait_for("the strict sink to fail", failed, 60)
        trace = w.call("GET", "/connectors/strict/status")[1]["tasks"][0]["trace"]
        for part in ["Tolerance exceeded in error handler", "VALUE_CONVERTER", f"topic {topic} partition 0 offset {first}"]:
            if part not in trace:
                fail(f"the strict sink's trace does not name {part!r}: {trace}")
        c = Consumer({"bootstrap.servers": BOOT, "group.id": "connect-strict"})
        committed = c.committed([TopicPartition(topic, 0)], timeout=10)[0].offset
        c.close()
        if committed > first:
            fail(f"the strict sink committed offset {committed}, past the first bad record at {first}")
        if len(lines(f"{work}/strict.txt")) > first:
            fail("the strict sink wrote records past the first bad one")
        print(f"errors: errors.tolerance=none FAILED at offset {first}, committed {committed}")
    finally:
        w.stop()

    # Tolerant with a SIGKILL in the middle.
    w = Worker(WEIR, BOOT, work, "killed")
    w.start()
    out = f"{work}/killed.txt"
    sink(w, "killed", out, f"dlq-killed-{RUN}", "all")
    wait_for("300,000 lines before the kill", lambda: len(lines(out)) >= 300_000, 600)
    c = Consumer({"bootstrap.servers": BOOT, "group.id": "connect-killed"})
    committed = max(0, c.committed([TopicPartition(topic, 0)], timeout=10)[0].offset)
    c.close()
    w.kill()
    written = len(lines(out))
    w.start()
    try:
        # Connectors created through REST are not kept by a standalone
        # worker (as in Kafka): the same one is created again, and carries
        # on from its group's committed offsets.
        sink(w, "killed", out, f"dlq-killed-{RUN}", "all")
        wait_for("every good record after the restart", lambda: last_line(out) == expected[-1], 600)
        time.sleep(2)
        got = lines(out)
        # At-least-once: what was written after the last commit before the
        # kill is written again, so the output is the good records in order
        # with one stretch repeated.
        dedup, seen = [], set()
        for x in got:
            if x not in seen:
                seen.add(x)
                dedup.append(x)
        if dedup != expected:
            fail("after the SIGKILL the output does not hold every good record in order")
        repeated = len(got) - GOOD
        # The bound: records written before the kill past the offset
        # committed just before it (a later commit only lowers the count).
        good_committed = committed - sum(1 for b in bad_offsets if b < committed)
        if repeated > written - good_committed:
            fail(f"{repeated} records written twice, more than the {written - good_committed} "
                 f"past the committed offset {committed}")
        first = int(got[written][4:]) if len(got) > written else GOOD + 1
        if not good_committed < first <= int(got[written - 1][4:]) + 1:
            fail(f"after the restart the output goes on at record {first}, not between the one after "
                 f"the committed offset {committed} and the last one written before the kill")
        dupes = check_dlq(f"dlq-killed-{RUN}", sum(1 for b in bad_offsets if b >= committed))
        print(f"errors: SIGKILL mid-run lost nothing; {repeated} good records and {dupes} dead letter records "
              "written twice (those after the last offset commit, redelivered on restart)")
    finally:
        w.stop()


def topic_creation(work, w):
    topic = f"created-{RUN}"
    with open(f"{work}/tc.txt", "w") as f:
        f.write("alpha\nbeta\ngamma\n")
    w.create("creator", {
        "connector.class": "FileStreamSource", "file": f"{work}/tc.txt", "topic": topic,
        "topic.creation.default.replication.factor": "1",
        "topic.creation.default.partitions": "3",
        "topic.creation.default.cleanup.policy": "compact",
        # A compacted topic takes only keyed records: the line becomes the key.
        "transforms": "hoist,key",
        "transforms.hoist.type": "org.apache.kafka.connect.transforms.HoistField$Value",
        "transforms.hoist.field": "line",
        "transforms.key.type": "org.apache.kafka.connect.transforms.ValueToKey",
        "transforms.key.fields": "line",
    })
    if len(consume_all(topic, 3, 30)) != 3:
        fail(f"the source did not write its 3 records to {topic}")
    described = subprocess.run([WEIR, "topics", "--bootstrap-server", BOOT, "--describe", "--topic", topic],
                               capture_output=True, text=True, check=True).stdout
    if "PartitionCount: 3" not in described or "cleanup.policy=compact" not in described:
        fail(f"weir topics --describe shows:\n{described}")
    print(f"topic creation: {topic} created with 3 partitions and cleanup.policy=compact")

    # A sink whose topic does not exist yet creates it, as a Java consumer's
    # subscription does (allow.auto.create.topics, true by default), and takes
    # the Java consumer's names for its settings; with the setting false the
    # topic stays missing until a producer writes it.
    made, left = f"sink-made-{RUN}", f"sink-left-{RUN}"
    for name, topic, extra in (("sink-made", made, {}),
                               ("sink-left", left, {"consumer.override.allow.auto.create.topics": "false"})):
        w.create(name, {"connector.class": "FileStreamSink", "topics": topic, "file": f"{work}/{name}.txt",
                        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
                        "consumer.override.fetch.max.wait.ms": "100",
                        "consumer.override.key.deserializer": "org.apache.kafka.common.serialization.ByteArrayDeserializer",
                        **extra})

    def listed():
        out = subprocess.run([WEIR, "topics", "--bootstrap-server", BOOT, "--list"],
                             capture_output=True, text=True, check=True).stdout.split()
        return out
    wait_for(f"{made} created by its sink", lambda: made in listed(), 30)
    def running(name):
        tasks = (w.call("GET", f"/connectors/{name}/status")[1] or {}).get("tasks") or []
        return [t["state"] for t in tasks] == ["RUNNING"]
    for name in ("sink-made", "sink-left"):
        wait_for(f"{name} RUNNING", lambda name=name: running(name), 30)
    if left in listed():
        fail(f"{left} was created although its sink set allow.auto.create.topics=false")
    p = Producer({"bootstrap.servers": BOOT})
    for topic in (made, left):
        p.produce(topic, value=topic.encode())
    p.flush(10)
    for name, topic in (("sink-made", made), ("sink-left", left)):
        wait_for(f"{name} writes its record", lambda name=name, topic=topic: lines(f"{work}/{name}.txt") == [topic], 60)
    print(f"topic creation: a sink created {made} before any producer, one with "
          "allow.auto.create.topics=false did not, and both read their records")


def main():
    work = os.path.realpath(tempfile.mkdtemp(prefix="weir-transforms-"))
    parts = sys.argv[3:] or ["transforms", "creation", "source-dlq", "errors"]
    w = Worker(WEIR, BOOT, work, "main")
    w.start()
    try:
        if "transforms" in parts:
            transforms(work, w)
        if "creation" in parts:
            topic_creation(work, w)
        if "source-dlq" in parts:
            source_dlq(work, w)
    finally:
        w.stop()
    if "errors" in parts:
        errors(work)
    subprocess.run(["rm", "-rf", work], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
