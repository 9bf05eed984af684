"""Flume's flows on Weir, end to end:

- Flume's user guide example agent, verbatim, through the `flume-ng` shim:
  `nc` sends "Hello world!", gets OK, and the logger prints Flume's line;
- the tutorial's spooling-directory agent (timestamp interceptor, HDFS sink
  with escapes and rounding, default SequenceFiles) on a schemeless path:
  the file ends `.COMPLETED` and every line is in a SequenceFile, read both
  here and by Hadoop's own SequenceFile.Reader (Hadoop's client jars, in
  $WEIR_HADOOP_JARS, which scripts/test.sh provides); the same agent with
  `hdfs.writeFormat = Text`, whose Text values Hadoop's reader checks;
- spooling directory into a topic through `weir standalone`: 200 files of
  10,000 lines dropped in while it runs, the worker SIGKILLed twice; every
  line arrives, every file ends in the finished path, and a file written to
  while it is read lands in the error path;
- a fan-out agent: one source, an interceptor, one channel and two sinks
  (HDFS on file:// and a SQLite table): both hold every event;
- two agents chained through an avro sink and an avro source (exec source,
  file_roll sink);
- TAILDIR: two writers, one rotating by rename (the pattern also matches the
  rotated files), one by copytruncate, partial lines written in two steps,
  the worker SIGKILLed twice: every line arrives whole, and Flume's
  position file is written.

usage: flume.py WEIR BOOTSTRAP"""

import glob
import json
import os
import re
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time

from confluent_kafka import Consumer, TopicPartition

from standalone_worker import Worker, free_port, stop_process, wait_for

WEIR, BOOT = sys.argv[1], sys.argv[2]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLUME_NG = os.path.join(ROOT, "scripts", "bin", "flume-ng")
HADOOP_JARS = os.environ.get("WEIR_HADOOP_JARS") or sys.exit("flume.py: set WEIR_HADOOP_JARS to a directory of "
                                                             "Hadoop's client jars (scripts/test.sh does)")
WORK = tempfile.mkdtemp(prefix="weir-flume-")
STARTED = []


def ok(msg):
    print(f"PASS {msg}", flush=True)


class Agent:
    """A `flume-ng agent` process with its own data directory and log."""

    def __init__(self, name, conf_text, agent="a1", extra=()):
        self.dir = f"{WORK}/{name}"
        os.makedirs(self.dir, exist_ok=True)
        self.conf = f"{self.dir}/agent.conf"
        with open(self.conf, "w") as f:
            f.write(conf_text)
        self.log = f"{self.dir}/agent.log"
        self.rest = free_port()
        self.args = [FLUME_NG, "agent", "--conf", "conf", "--conf-file", self.conf, "--name", agent,
                     "-Dflume.root.logger=INFO,console", "--data-dir", f"{self.dir}/data",
                     "--rest-listener", f"http://127.0.0.1:{self.rest}", *extra]
        self.proc = None

    def start(self):
        env = dict(os.environ, WEIR_BIN=WEIR)
        self.proc = subprocess.Popen(self.args, stdout=open(self.log, "a"), stderr=subprocess.STDOUT, env=env)
        STARTED.append(self)
        wait_for(f"agent {self.dir} REST API", self.up, 60)

    def up(self):
        if self.proc.poll() is not None:
            raise SystemExit(f"agent exited; see {self.log}:\n{open(self.log).read()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", self.rest), timeout=1):
                return True
        except OSError:
            return False

    # REST calls as a standalone worker's (they need only `rest`).
    call = Worker.call
    get_text = Worker.get_text

    def text(self):
        return open(self.log, errors="replace").read()

    def stop(self):
        stop_process(self.proc)


def read_topic(topic, timeout=30):
    c = Consumer({"bootstrap.servers": BOOT, "group.id": f"check-{time.time()}", "auto.offset.reset": "earliest",
                  "enable.auto.commit": False})
    parts = c.list_topics(topic, timeout=10).topics[topic].partitions
    ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts}
    c.assign([TopicPartition(topic, p, 0) for p in parts])
    out, done, deadline = [], {p for p, e in ends.items() if e == 0}, time.time() + timeout
    while len(done) < len(ends) and time.time() < deadline:
        for m in c.consume(10000, 1.0):
            if m.error():
                continue
            out.append(m.value().decode())
            if m.offset() + 1 >= ends[m.partition()]:
                done.add(m.partition())
    c.close()
    return out


def seq_records(path, text=False):
    """Keys and values of an uncompressed SequenceFile (LongWritable keys,
    BytesWritable values, or Text values with `text`), read as Hadoop's
    reader walks it."""
    b = open(path, "rb").read()
    assert b[:4] == b"SEQ\x06", path
    at = 4
    for _ in range(2):
        n = b[at]
        at += 1 + n
    assert b[at:at + 2] == b"\x00\x00", "not compressed"
    at += 2
    (meta,) = struct.unpack(">i", b[at:at + 4])
    assert meta == 0
    at += 4
    sync = b[at:at + 16]
    at += 16
    out = []
    while at < len(b):
        (length,) = struct.unpack(">i", b[at:at + 4])
        if length == -1:
            assert b[at + 4:at + 20] == sync, f"{path}: a bad sync marker at byte {at}"
            at += 20
            continue
        (klen,) = struct.unpack(">i", b[at + 4:at + 8])
        assert klen == 8
        (key,) = struct.unpack(">q", b[at + 8:at + 16])
        value = b[at + 16:at + 8 + length]
        if text:
            # Text: a Hadoop vint length, then the UTF-8 bytes.
            first = struct.unpack(">b", value[:1])[0]
            size = 1 if first >= -112 else (-119 - first if first < -120 else -111 - first)
            out.append((key, value[size:].decode()))
        else:
            (vlen,) = struct.unpack(">i", value[:4])
            out.append((key, value[4:4 + vlen].decode()))
        at += 8 + length
    return out


def hadoop_read(paths):
    """{path: (key class, value class, compressed, [(key, value)])} as Hadoop's
    SequenceFile.Reader reads each file."""
    jars = ":".join(sorted(glob.glob(f"{HADOOP_JARS}/*.jar")))
    src = os.path.join(ROOT, "scripts", "tests", "hadoop", "SequenceFileDump.java")
    r = subprocess.run(["java", "-cp", jars, src, *paths], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"Hadoop's reader failed: {r.stderr[-3000:]}"
    out, cur = {}, None
    for line in r.stdout.splitlines():
        if line.startswith("# "):
            path, kc, vc, comp, _block = line[2:].rsplit(" ", 4)
            cur = out[path] = (kc, vc, comp == "compressed=true", [])
        else:
            key, value = line.split("\t", 1)
            cur[3].append((int(key), value))
    return out


def user_guide_example():
    conf = open(os.path.join(ROOT, "examples", "flume", "example.conf")).read()
    port = free_port()
    a = Agent("example", conf.replace("44444", str(port)))
    a.start()
    wait_for("netcat source listening", lambda: f"listening on localhost:{port}" in a.text(), 30)
    reply = subprocess.run(["nc", "-q", "2", "localhost", str(port)], input=b"Hello world!\r\n",
                           capture_output=True, timeout=20).stdout
    assert reply == b"OK\n", reply
    line = "Event: { headers:{} body: 48 65 6C 6C 6F 20 77 6F 72 6C 64 21 0D          Hello world!. }"
    wait_for("the logger line", lambda: line in a.text(), 30)

    def counters():
        text = a.get_text("/metrics")
        return {l.split("{")[0]: float(l.split()[-1]) for l in text.splitlines()
                if l.startswith("flume_") and 'agent="a1"' in l}

    wait_for("Flume's counters in /metrics", lambda: counters().get("flume_sink_EventDrainSuccessCount") == 1, 30)
    c = counters()
    assert c["flume_source_EventReceivedCount"] == 1 and c["flume_source_EventAcceptedCount"] == 1, c
    for name in ("PutAttempt", "PutSuccess", "TakeAttempt", "TakeSuccess"):
        assert c[f"flume_channel_Event{name}Count"] == 1, c
    wait_for("ChannelSize 0 once the sink has read the event",
             lambda: counters().get("flume_channel_ChannelSize") == 0, 30)

    # With the sink paused, events stay in the channel and ChannelSize counts them.
    sink = "/connectors/a1.sinks.k1"
    assert a.call("PUT", f"{sink}/pause")[0] == 202
    wait_for("the sink's task paused", lambda: a.call("GET", f"{sink}/status")[1]["tasks"][0]["state"] == "PAUSED", 30)
    for i in range(3):
        reply = subprocess.run(["nc", "-q", "2", "localhost", str(port)], input=f"held {i}\r\n".encode(),
                               capture_output=True, timeout=20).stdout
        assert reply == b"OK\n", reply
    wait_for("ChannelSize 3 with the sink paused", lambda: counters().get("flume_channel_ChannelSize") == 3, 30)
    assert "held 0" not in a.text(), "the paused sink logged an event"
    assert a.call("PUT", f"{sink}/resume")[0] == 202
    wait_for("ChannelSize back to 0 once the sink resumed", lambda: counters().get("flume_channel_ChannelSize") == 0, 30)
    wait_for("the held events logged", lambda: all(f"held {i}" in a.text() for i in range(3)), 30)
    a.stop()
    ok("user guide example: nc got OK, the logger printed Flume's line, /metrics counts the event at the source, "
       "the channel and the sink; ChannelSize counts the 3 events a paused sink holds back and returns to 0 on resume")


def spool_through_tutorial_agent(name, tag, lines, text=False):
    """Runs the tutorial's agent (with `hdfs.writeFormat = Text` when
    `text`) on its own spool and HDFS directories, drops `lines` in as one
    file, waits until the file is done and every line is in a closed
    SequenceFile, stops the agent; returns the files' paths and the HDFS
    directory."""
    spool, out = f"{WORK}/spool-{tag}", f"{WORK}/hdfsroot-{tag}/user/maria_dev/flume"
    os.makedirs(spool)
    conf = open(os.path.join(ROOT, "examples", "flume", "flumelogs.conf")).read()
    conf = conf.replace("/home/maria_dev/spool", spool).replace("/user/maria_dev/flume", out)
    if text:
        conf += "a1.sinks.k1.hdfs.writeFormat = Text\n"
    a = Agent(name, conf)
    a.start()
    with open(f"{WORK}/{tag}.txt", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.rename(f"{WORK}/{tag}.txt", f"{spool}/{tag}.txt")
    wait_for(f"{tag}.txt.COMPLETED", lambda: os.path.exists(f"{spool}/{tag}.txt.COMPLETED"), 60)

    def closed():
        return [p for p in glob.glob(f"{out}/**/events-.*", recursive=True) if not p.endswith(".tmp")]
    wait_for("every line in closed SequenceFiles",
             lambda: sum(len(seq_records(p, text)) for p in closed()) >= len(lines), 90, step=1)
    a.stop()
    return sorted(glob.glob(f"{out}/**/events-.*", recursive=True)), out


def tutorial_spool_to_hdfs():
    lines = [f'66.249.75.159 - - [29/Nov/2015:03:50:05 +0000] "GET /robots.txt HTTP/1.1" 200 {i}' for i in range(5000)]
    files, out = spool_through_tutorial_agent("flumelogs", "fred", lines)
    got, stamps = [], set()
    for p in files:
        assert not p.endswith(".tmp"), p
        rel = os.path.relpath(p, out)
        m = re.match(r"^\d\d-\d\d-\d\d/(\d\d)(\d\d)/(\d\d)/events-\.\d+$", rel)
        assert m, rel
        assert int(m.group(2)) % 10 == 0 and m.group(3) == "00", f"{rel}: not rounded down to 10 minutes"
        for key, value in seq_records(p):
            got.append(value)
            stamps.add(key)
    assert sorted(got) == sorted(lines), f"{len(got)} lines in the SequenceFiles, {len(lines)} sent"
    assert all(s > 1_600_000_000_000 for s in stamps), "keys are the timestamp interceptor's times"
    hadoop = hadoop_read(files)
    assert sorted(hadoop) == files, sorted(hadoop)
    for p in files:
        kc, vc, compressed, records = hadoop[p]
        assert (kc, vc, compressed) == ("org.apache.hadoop.io.LongWritable", "org.apache.hadoop.io.BytesWritable",
                                        False), (p, kc, vc, compressed)
        assert records == seq_records(p), f"{p}: Hadoop reads other records than the test's reader"
    ok(f"tutorial spooldir -> HDFS agent: fred.txt.COMPLETED, {len(got)} lines in {len(files)} SequenceFiles "
       "under %y-%m-%d/%H%M/%S rounded to 10 minutes; Hadoop's SequenceFile.Reader reads the same records")


def text_sequence_files():
    """The tutorial's agent with `hdfs.writeFormat = Text`: Hadoop's reader
    finds Text values, each a line sent."""
    lines = [f"text line {i} \u00e9t\u00e9" for i in range(1000)]
    files, _ = spool_through_tutorial_agent("flumelogs-text", "text", lines, text=True)
    hadoop = hadoop_read(files)
    got = []
    for p in files:
        kc, vc, compressed, records = hadoop[p]
        assert (kc, vc, compressed) == ("org.apache.hadoop.io.LongWritable", "org.apache.hadoop.io.Text",
                                        False), (p, kc, vc, compressed)
        assert records == seq_records(p, text=True), f"{p}: Hadoop reads other records than the test's reader"
        got += [v for _, v in records]
    assert sorted(got) == sorted(lines), f"Hadoop read {len(got)} Text values, {len(lines)} lines sent"
    ok(f"tutorial agent with hdfs.writeFormat = Text: Hadoop's SequenceFile.Reader reads {len(got)} Text values "
       f"in {len(files)} files, each a line sent")


def spool_stress():
    d = {k: f"{WORK}/stress/{k}" for k in ("in", "done", "err", "stage")}
    for p in d.values():
        os.makedirs(p)
    w = Worker(WEIR, BOOT, f"{WORK}/stress", "spool")
    STARTED.append(w)
    config = {"connector.class": "SpoolDirLineDelimitedSourceConnector", "topic": "spooled", "tasks.max": "2",
              "input.path": d["in"], "finished.path": d["done"], "error.path": d["err"],
              "input.file.pattern": r".*\.log", "halt.on.error": "false", "batch.size": "2000",
              "value.converter": "org.apache.kafka.connect.storage.StringConverter"}
    files, per = 200, 10_000
    expected = set()

    def drop(i):
        name = f"part-{i:03d}.log"
        body = [f"file {i:03d} line {j:05d} " + "x" * 60 for j in range(per)]
        expected.update(body)
        with open(f"{d['stage']}/{name}", "w") as f:
            f.write("\n".join(body) + "\n")
        os.rename(f"{d['stage']}/{name}", f"{d['in']}/{name}")

    w.start()
    w.create("spool", config)
    for i in range(files):
        drop(i)
        if i in (60, 140):
            time.sleep(1.5)
            w.kill()
            w.start()
            w.create("spool", config)
    # A big file appended to once the source has started reading it.
    big = [f"big line {j:07d} " + "y" * 80 for j in range(400_000)]
    with open(f"{d['stage']}/big.log", "w") as f:
        f.write("\n".join(big) + "\n")
    os.rename(f"{d['stage']}/big.log", f"{d['in']}/big.log")
    wait_for("the big file being read", lambda: "big.log from record" in open(w.work + "/spool.log").read(), 120, step=0.05)
    with open(f"{d['in']}/big.log", "a") as f:
        f.write("appended while read\n")
    wait_for("every file finished or failed",
             lambda: len(os.listdir(d["done"])) == files and os.listdir(d["err"]) == ["big.log"], 300, step=1)
    w.stop()
    got = read_topic("spooled", timeout=120)
    small = [g for g in got if not g.startswith("big line") and g != "appended while read"]
    missing = expected - set(small)
    assert not missing, f"{len(missing)} lines never arrived, e.g. {sorted(missing)[:3]}"
    dups = len(small) - len(set(small))
    assert not os.listdir(d["in"]), os.listdir(d["in"])
    errors = open(w.work + "/spool.log").read()
    assert "changed while it was read" in errors, "the error names why the file was set aside"
    ok(f"spooldir: {files} files x {per} lines with 2 SIGKILLs: all {len(expected)} lines arrived "
       f"({dups} again after a kill), {files} files in finished.path, the file written while read in error.path")


def fan_out():
    spool, store, db = f"{WORK}/fan/spool", f"{WORK}/fan/store", f"{WORK}/fan/events.db"
    os.makedirs(spool)
    conf = f"""
agent.sources = logs
agent.channels = ch
agent.sinks = toHdfs toDb
agent.sources.logs.type = spooldir
agent.sources.logs.spoolDir = {spool}
agent.sources.logs.channels = ch
agent.sources.logs.interceptors = dc
agent.sources.logs.interceptors.dc.type = static
agent.sources.logs.interceptors.dc.key = datacenter
agent.sources.logs.interceptors.dc.value = seoul
agent.channels.ch.type = file
agent.sinks.toHdfs.type = hdfs
agent.sinks.toHdfs.channel = ch
agent.sinks.toHdfs.hdfs.path = file://{store}/%{{datacenter}}
agent.sinks.toHdfs.hdfs.fileType = DataStream
agent.sinks.toHdfs.hdfs.rollCount = 500
agent.sinks.toHdfs.hdfs.rollSize = 0
agent.sinks.toDb.type = jdbc
agent.sinks.toDb.channel = ch
agent.sinks.toDb.connection.url = jdbc:sqlite:{db}
agent.sinks.toDb.table.name.format = events
agent.sinks.toDb.auto.create = true
"""
    a = Agent("fan", conf, agent="agent")
    a.start()
    lines = [f"event {i}" for i in range(3000)]
    with open(f"{WORK}/fan/x", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.rename(f"{WORK}/fan/x", f"{spool}/events.txt")

    def files():
        out = []
        for p in glob.glob(f"{store}/seoul/FlumeData.*"):
            if not p.endswith(".tmp"):
                out.extend(open(p).read().splitlines())
        return out

    def rows():
        try:
            with sqlite3.connect(db) as c:
                return [r[0] for r in c.execute("SELECT body FROM events")]
        except sqlite3.Error:
            return []

    wait_for("both sinks hold every event", lambda: len(files()) >= 3000 and len(rows()) >= 3000, 120, step=1)
    a.stop()
    assert sorted(files()) == sorted(lines), "HDFS files"
    assert sorted(rows()) == sorted(lines), "SQLite table"
    ok("fan-out agent: one spooldir source with a static interceptor, one channel, HDFS (file://, %{datacenter}) and SQLite sinks each hold all 3000 events")


def chained():
    out = f"{WORK}/chain/out"
    port = free_port()
    first = f"""
a.sources = cmd
a.channels = c
a.sinks = hop
a.sources.cmd.type = exec
a.sources.cmd.command = seq 1 2000
a.sources.cmd.channels = c
a.channels.c.type = memory
a.sinks.hop.type = avro
a.sinks.hop.hostname = 127.0.0.1
a.sinks.hop.port = {port}
a.sinks.hop.channel = c
"""
    second = f"""
b.sources = in
b.channels = c
b.sinks = roll
b.sources.in.type = avro
b.sources.in.bind = 0.0.0.0
b.sources.in.port = {port}
b.sources.in.channels = c
b.channels.c.type = memory
b.sinks.roll.type = file_roll
b.sinks.roll.sink.directory = {out}
b.sinks.roll.sink.rollInterval = 0
b.sinks.roll.channel = c
"""
    b = Agent("chain-b", second, agent="b", extra=("--bootstrap-servers", BOOT))
    b.start()
    a = Agent("chain-a", first, agent="a", extra=("--bootstrap-servers", BOOT))
    a.start()

    def lines():
        return [l for p in glob.glob(f"{out}/*") for l in open(p).read().splitlines()]

    wait_for("2000 lines through both agents", lambda: len(lines()) >= 2000, 120, step=1)
    a.stop()
    b.stop()
    assert sorted(lines(), key=int) == [str(i) for i in range(1, 2001)]
    ok("two agents chained through avro sink -> avro source: exec's 2000 lines in the file_roll sink's file")


def taildir(kills, per):
    import threading
    base = f"{WORK}/tail-{kills}"
    dirs = {"ren": f"{base}/ren", "cut": f"{base}/cut"}
    for p in dirs.values():
        os.makedirs(p)
    w = Worker(WEIR, BOOT, base, "tail")
    STARTED.append(w)
    topic = f"tailed-{kills}"
    config = {"connector.class": "TAILDIR", "topic": topic, "filegroups": "ren cut",
              "filegroups.ren": dirs["ren"] + r"/app\.log.*", "filegroups.cut": dirs["cut"] + r"/app\.log",
              "headers.ren.kind": "rename", "positionFile": f"{base}/taildir_position.json",
              "batchSize": "1000", "value.converter": "org.apache.kafka.connect.storage.StringConverter"}
    expected, rotations = [], 6
    errors = []

    def writer(kind):
        try:
            path = f"{dirs[kind]}/app.log"
            f = open(path, "a")
            for i in range(per):
                line = f"{kind} {i:06d} " + "z" * 50
                expected.append(line)
                if i % 997 == 0:
                    f.write(line[:20])
                    f.flush()
                    time.sleep(0.05)
                    f.write(line[20:] + "\n")
                else:
                    f.write(line + "\n")
                if i % 200 == 0:
                    f.flush()
                    time.sleep(0.01)
                if i and i % (per // rotations) == 0:
                    f.close()
                    time.sleep(1.0)
                    if kind == "ren":
                        os.rename(path, f"{path}.{i}")
                    else:
                        # copytruncate, with the loss window kept empty:
                        # no line is written between the copy and the truncation.
                        with open(path, "rb") as src, open(f"{base}/copy.{i}", "wb") as dst:
                            dst.write(src.read())
                        os.truncate(path, 0)
                        time.sleep(1.0)
                    f = open(path, "a")
            f.close()
        except Exception as e:  # reported by the main thread
            errors.append(e)

    w.start()
    w.create("tail", config)
    threads = [threading.Thread(target=writer, args=(k,)) for k in dirs]
    for t in threads:
        t.start()
    for _ in range(kills):
        time.sleep(6)
        w.kill()
        w.start()
        w.create("tail", config)
    for t in threads:
        t.join()
    assert not errors, errors
    want = set(expected)

    missing = set(want)

    def arrived():
        missing.intersection_update(want - set(read_topic(topic, timeout=30)))
        return not missing

    try:
        wait_for("every tailed line on the topic", arrived, 120, step=2)
    except SystemExit as e:
        sample = sorted(missing)[:5]
        raise SystemExit(f"{e}: {len(missing)} of {len(want)} missing, such as {sample}; worker log in {base}")
    time.sleep(4)
    w.stop()
    got = read_topic(topic, timeout=60)
    whole = re.compile(r"^(ren|cut) \d{6} z{50}$")
    bad = [g for g in got if not whole.match(g)]
    assert not bad, f"partial or mangled lines: {bad[:3]}"
    dups = len(got) - len(set(got))
    assert kills or not dups, f"{dups} lines twice without a kill"
    positions = json.load(open(f"{base}/taildir_position.json"))
    assert len(positions) >= 2 and all({"inode", "pos", "file"} <= set(p) for p in positions), positions
    ok(f"TAILDIR: {len(want)} lines through {rotations} renames and {rotations} copytruncates with partial lines and {kills} SIGKILLs: "
       f"all arrived whole ({dups} again after a kill); the position file has {len(positions)} entries")


def syslog():
    tcp, udp = free_port(), free_port()
    conf = f"""
s.sources = tcp udp
s.channels = k
s.sinks = log
s.sources.tcp.type = syslogtcp
s.sources.tcp.host = 127.0.0.1
s.sources.tcp.port = {tcp}
s.sources.tcp.channels = k
s.sources.udp.type = syslogudp
s.sources.udp.host = 127.0.0.1
s.sources.udp.port = {udp}
s.sources.udp.channels = k
s.channels.k.type = org.apache.flume.channel.kafka.KafkaChannel
s.channels.k.kafka.topic = syslog-events
s.sinks.log.type = logger
s.sinks.log.channel = k
"""
    a = Agent("syslog", conf, agent="s", extra=("--bootstrap-servers", BOOT))
    a.start()
    wait_for("both syslog listeners", lambda: a.text().count("Syslog") >= 2, 30)
    subprocess.run(["logger", "-n", "127.0.0.1", "-P", str(tcp), "-T", "--rfc5424", "-p", "local3.warning", "-t", "app", "over tcp"], check=True)
    subprocess.run(["logger", "-n", "127.0.0.1", "-P", str(udp), "-d", "--rfc3164", "-p", "user.err", "-t", "app", "over udp"], check=True)
    c = Consumer({"bootstrap.servers": BOOT, "group.id": "syslog-check", "auto.offset.reset": "earliest"})
    c.subscribe(["syslog-events"])
    got, deadline = {}, time.time() + 30
    while len(got) < 2 and time.time() < deadline:
        m = c.poll(1.0)
        if m and not m.error():
            got[m.value().decode()] = {k: v.decode() for k, v in (m.headers() or [])}
    c.close()
    a.stop()
    assert got.get("over tcp", {}).get("Facility") == "19" and got["over tcp"]["Severity"] == "4", got
    # RFC 3164 has no app-name field: the tag stays in the body, as in Flume.
    assert got.get("app: over udp", {}).get("Facility") == "1" and got["app: over udp"]["Severity"] == "3", got
    assert all("timestamp" in h and "host" in h for h in got.values()), got
    ok("syslog: logger over TCP (RFC 5424) and UDP (RFC 3164) into a Kafka channel's own topic, Facility/Severity/host/timestamp headers")


try:
    syslog()
    taildir(kills=0, per=6000)
    taildir(kills=2, per=20_000)
    user_guide_example()
    tutorial_spool_to_hdfs()
    text_sequence_files()
    fan_out()
    chained()
    spool_stress()
    print("flume: all checks passed")
finally:
    for s in STARTED:
        s.stop()
