#!/usr/bin/env python3
"""A newcomer's mistakes, each named at once with what to change, and
nothing started when there is one: an unreachable bootstrap.servers, a
one-node broker without the storage replication factors, misspelt keys
and classes in every kind of file, a name used twice, a sink feeding its
own source, a busy port, `weir validate` (local and --url); then a broker
lost and regained under a running worker: /health, the log and a source
task's status.

Usage: first_contact.py WEIR_BINARY
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from standalone_worker import Worker, free_port, stop_process, wait_for

WEIR = os.path.abspath(sys.argv[1])
WORK = tempfile.mkdtemp(prefix="weir-first-contact-")
STARTED = []


def check(what, ok, detail=""):
    if not ok:
        raise SystemExit(f"first contact: {what} FAILED\n{detail}")
    print(f"first contact: {what}")


def write(name, text):
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def run(args, timeout=60, env=None):
    """A weir command to its end: (exit code, stdout + stderr, seconds)."""
    started = time.time()
    r = subprocess.run([WEIR, *args], cwd=WORK, capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, **(env or {})})
    return r.returncode, r.stdout + r.stderr, time.time() - started


def listening(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def start_broker(port, data):
    log = open(os.path.join(WORK, f"broker-{port}.log"), "a")
    p = subprocess.Popen([WEIR, "broker", "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}",
                          "--override", f"log.dirs={data}"], stdout=log, stderr=subprocess.STDOUT)
    STARTED.append(p)
    wait_for("the broker listening", lambda: listening(port), 30)
    return p


CONVERTERS = ("key.converter=org.apache.kafka.connect.storage.StringConverter\n"
              "value.converter=org.apache.kafka.connect.storage.StringConverter\n")


def unreachable_bootstrap():
    dead = free_port()
    rest = free_port()
    worker = write("unreachable.properties", f"bootstrap.servers=127.0.0.1:{dead}\n{CONVERTERS}"
                   f"offset.storage.file.filename={WORK}/u.offsets\nlisteners=http://127.0.0.1:{rest}\n")
    code, out, took = run(["standalone", worker], env={"WEIR_CONNECT_TIMEOUT_MS": "2000"})
    check(f"standalone with no broker at bootstrap.servers exits after the bounded wait ({took:.1f} s)",
          code != 0 and took < 20 and f"bootstrap.servers=127.0.0.1:{dead}" in out
          and "Failed to connect to and describe Kafka cluster" in out and "REST API on" not in out, out)
    dist = write("unreachable-d.properties", f"bootstrap.servers=127.0.0.1:{dead}\n{CONVERTERS}"
                 "group.id=g\nconfig.storage.topic=c\noffset.storage.topic=o\nstatus.storage.topic=s\n"
                 f"listeners=http://127.0.0.1:{rest}\n")
    code, out, took = run(["distributed", dist], env={"WEIR_CONNECT_TIMEOUT_MS": "2000"})
    check(f"distributed with no broker at bootstrap.servers exits naming the key and address ({took:.1f} s)",
          code != 0 and took < 20 and f"bootstrap.servers=127.0.0.1:{dead}" in out, out)


def replication_factors(boot):
    dist = write("rf.properties", f"bootstrap.servers={boot}\n{CONVERTERS}"
                 "group.id=rf\nconfig.storage.topic=rf-configs\noffset.storage.topic=rf-offsets\n"
                 f"status.storage.topic=rf-status\nlisteners=http://127.0.0.1:{free_port()}\n")
    code, out, _ = run(["distributed", dist])
    check("distributed on one broker without replication factors names the keys to set",
          code != 0 and "config.storage.replication.factor" in out and "offset.storage.replication.factor" in out
          and "status.storage.replication.factor" in out and "-1" in out, out)


def misspellings():
    data = os.path.join(WORK, "bundled")
    worker = write("typo.properties", "key.converter=org.apache.kafka.connect.json.JsonConvertor\n"
                   "value.converter=org.apache.kafka.connect.json.JsonConverter\n"
                   f"offset.storage.file.filename={data}/connect.offsets\n"
                   "offset.flush.intervall.ms=1000\n"
                   f"listeners=http://127.0.0.1:{free_port()}\n")
    source = write("typo-source.properties", "name=local-file-source\nconnector.class=FileStreamSorce\n"
                   "file=test.txt\ntopic=connect-test\n")
    sink = write("typo-sink.properties", "name=local-file-source\nconnector.class=FileStreamSink\n"
                 "file=test.sink.txt\ntopics=connect-test\ntasks.max=zero\n")
    code, out, _ = run(["standalone", worker, source, sink])
    expected = [
        f"{worker}:1: key.converter: Invalid value org.apache.kafka.connect.json.JsonConvertor",
        "did you mean org.apache.kafka.connect.json.JsonConverter?",
        f"{worker}:4: offset.flush.intervall.ms: not a worker config; did you mean offset.flush.interval.ms?",
        f"{source}:2: connector.class: no connector plugin is called FileStreamSorce (did you mean FileStreamSource?)",
        f"{sink}:1: name: connector name local-file-source is also used by {source}",
        f"{sink}:5: tasks.max: Invalid value zero",
    ]
    missing = [e for e in expected if e not in out]
    check("every mistake of three files is named at once with file, line and the likely key or class",
          code != 0 and not missing and "5 problem(s)" in out, f"missing {missing}\n{out}")
    check("and nothing started: no bundled broker, no data directory",
          not os.path.exists(data) and "bundled broker" not in out, out)


def loops_and_unwritable():
    worker = write("loop.properties", f"{CONVERTERS}offset.storage.file.filename=/proc/weir/connect.offsets\n")
    source = write("loop-source.properties", "name=reader\nconnector.class=FileStreamSource\nfile=data.txt\ntopic=lines\n")
    sink = write("loop-sink.properties", "name=writer\nconnector.class=FileStreamSink\nfile=data.txt\ntopics=lines\n")
    code, out, _ = run(["validate", worker, source, sink])
    check("weir validate names a sink feeding its own source and an offsets file that cannot be written (exit 1)",
          code == 1 and f"{sink}:3: file: sink writer writes" in out and "go round for ever" in out
          and f"{worker}:3: offset.storage.file.filename:" in out and "cannot be written" in out, out)
    good = write("good.properties", f"{CONVERTERS}offset.storage.file.filename={WORK}/good.offsets\n")
    code, out, _ = run(["validate", good, source])
    check("weir validate of a sound setup exits 0", code == 0 and "no problem" in out, out)


def server_properties():
    port = free_port()
    props = write("server.properties", f"listeners=PLAINTEXT://127.0.0.1:{port}\nlog.dirs={WORK}/sp\n"
                  "num.partitions=many\nlog.retention.hourz=24\ndefault.replication.factor=x\n")
    code, out, _ = run(["broker", props])
    check("weir broker reports both bad values of server.properties with their lines, and starts nothing",
          code != 0 and f"{props}:3:" in out and f"{props}:5:" in out and "2 problem(s)" in out
          and not os.path.exists(f"{WORK}/sp"), out)
    props = write("server2.properties", f"listeners=PLAINTEXT://127.0.0.1:{port}\nlog.dirs={WORK}/sp2\n"
                  "log.retention.hourz=24\n")
    log = open(os.path.join(WORK, "sp2.log"), "w")
    p = subprocess.Popen([WEIR, "broker", props], stdout=log, stderr=subprocess.STDOUT)
    STARTED.append(p)
    wait_for("the broker with a misspelt key listening", lambda: listening(port), 30)
    out = open(os.path.join(WORK, "sp2.log")).read()
    check("a misspelt key in server.properties is warned about with the likely key and its line",
          f"{props}:3:" in out and "did you mean log.retention.hours?" in out, out)
    code, out, _ = run(["broker", "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}",
                        "--override", f"log.dirs={WORK}/sp3"])
    check("weir broker on a busy port says so once, with what to change",
          code != 0 and out.count("Address already in use") == 1 and "listeners" in out, out)
    stop_process(p)


def lost_broker():
    port = free_port()
    data = os.path.join(WORK, "lost-broker")
    broker = start_broker(port, data)
    boot = f"127.0.0.1:{port}"
    w = Worker(WEIR, boot, WORK, "lost")
    with open(f"{WORK}/lost.properties", "a") as f:
        f.write("weir.delivery.warning.ms=2000\n")
    w.start()
    STARTED.append(w.proc)
    lines = os.path.join(WORK, "lost-input.txt")
    open(lines, "w").close()
    w.create("lost-source", {"connector.class": "FileStreamSource", "file": lines, "topic": "lost-lines"})
    wait_for("the source running", lambda: w.call("GET", "/connectors/lost-source/status")[1]
             .get("tasks", [{}])[0].get("state") == "RUNNING", 30)
    check("/health is 200 while the broker answers", w.call("GET", "/health")[0] == 200)
    broker.send_signal(signal.SIGKILL)
    broker.wait()
    with open(lines, "a") as f:
        f.write("".join(f"line {i}\n" for i in range(100)))

    def unhealthy():
        status, body = w.call("GET", "/health")
        return status == 503 and body["status"] == "unhealthy" and boot in body["message"]
    wait_for("/health saying the broker is lost", unhealthy, 30)
    check("/health answers 503 naming bootstrap.servers while the broker is down", True)

    def trace():
        t = w.call("GET", "/connectors/lost-source/status")[1]["tasks"][0]
        return "not acknowledged" in t.get("trace", "") and t["state"] == "RUNNING"
    wait_for("the source task's trace saying records wait", trace, 30)
    check("the source task stays RUNNING and its trace says its records wait for the broker", True)
    time.sleep(7)
    start_broker(port, data)
    wait_for("/health healthy again", lambda: w.call("GET", "/health")[0] == 200, 60)
    wait_for("the trace cleared", lambda: "trace" not in w.call("GET", "/connectors/lost-source/status")[1]["tasks"][0], 60)
    code, out, _ = run(["consume", "--bootstrap-server", boot, "--topic", "lost-lines", "--from-beginning",
                        "--max-messages", "100", "--timeout-ms", "30000"])
    # The worker writes values with JsonConverter (schemas on).
    got = [json.loads(line)["payload"] for line in out.splitlines() if line.startswith("{")]
    check(f"the lines written while the broker was down reached it afterwards ({len(got)} of 100)",
          sorted(got) == sorted(f"line {i}" for i in range(100)), out[-2000:])
    log = open(f"{WORK}/lost.log").read()
    check("the loss and the return are logged once each",
          log.count("Cannot reach the Kafka cluster") == 1 and log.count("answers again") == 1,
          "\n".join(line for line in log.splitlines() if "Kafka cluster" in line))
    w.stop()


def validate_url(boot):
    w = Worker(WEIR, boot, WORK, "asked")
    w.start()
    STARTED.append(w.proc)
    source = write("asked-source.properties", "name=asked\nconnector.class=FileStreamSource\n"
                   "file=x.txt\ntopic=t\nbatch.size=lots\n")
    good = write("asked-worker.properties", f"{CONVERTERS}offset.storage.file.filename={WORK}/a.offsets\n")
    code, out, _ = run(["validate", good, source, "--url", f"http://127.0.0.1:{w.rest}"])
    check("weir validate --url reports the running worker's answer for each connector file",
          code == 1 and "(worker at http://127.0.0.1:" in out and "batch.size" in out, out)
    w.stop()


def main():
    try:
        unreachable_bootstrap()
        misspellings()
        loops_and_unwritable()
        server_properties()
        port = free_port()
        start_broker(port, os.path.join(WORK, "main-broker"))
        replication_factors(f"127.0.0.1:{port}")
        validate_url(f"127.0.0.1:{port}")
        lost_broker()
    finally:
        for p in STARTED:
            stop_process(p)
    if not os.environ.get("KEEP_WORK"):
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
