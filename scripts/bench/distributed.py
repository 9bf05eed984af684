#!/usr/bin/env python3
"""Distributed mode at scale: one `weir broker`, three `weir distributed`
workers, N FileStreamSink connectors (one topic each, one task each)
created through the three workers in turn with up to 8 requests in flight.
For each N, one row:

  creating all (connectors/s), all RUNNING in every worker's view after
  the last POST (s), GET /connectors?expand=status (slowest worker, ms),
  one worker SIGKILLed: all RUNNING on the other two (s), and per worker
  resident memory and threads at rest.

Usage: distributed.py WEIR_BINARY N [N ...]. Not part of test.sh.
"""

import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from standalone_worker import free_port, stop_process, wait_for  # noqa: E402

WEIR = os.path.abspath(sys.argv[1])
SESSION_MS, DELAY_MS = 10000, 4000


def call(port, method, path, body=None, timeout=120):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def proc_stats(pid):
    rss = threads = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) // 1024
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, threads


class Cluster:
    def __init__(self, work):
        self.work = work
        self.broker_port = free_port()
        self.ports = [free_port() for _ in range(3)]
        self.procs = [None, None, None]
        log = open(f"{work}/broker.log", "w")
        self.broker = subprocess.Popen([WEIR, "broker", "--override", f"listeners=PLAINTEXT://127.0.0.1:{self.broker_port}",
                                        "--override", f"log.dirs={work}/broker"], stdout=log, stderr=subprocess.STDOUT)
        for i in range(3):
            with open(f"{work}/worker-{i}.properties", "w") as f:
                f.write(f"bootstrap.servers=127.0.0.1:{self.broker_port}\ngroup.id=bench\n"
                        "key.converter=org.apache.kafka.connect.storage.StringConverter\n"
                        "value.converter=org.apache.kafka.connect.storage.StringConverter\n"
                        "config.storage.topic=bench-configs\noffset.storage.topic=bench-offsets\n"
                        "status.storage.topic=bench-status\nconfig.storage.replication.factor=1\n"
                        "offset.storage.replication.factor=1\nstatus.storage.replication.factor=1\n"
                        f"session.timeout.ms={SESSION_MS}\nheartbeat.interval.ms=2000\n"
                        f"scheduled.rebalance.max.delay.ms={DELAY_MS}\n"
                        f"listeners=http://127.0.0.1:{self.ports[i]}\n")
            self.start(i)
        for i in range(3):
            wait_for(f"worker {i}", lambda i=i: self.answers(i), 60)

    def start(self, i):
        log = open(f"{self.work}/worker-{i}.log", "a")
        self.procs[i] = subprocess.Popen([WEIR, "distributed", f"{self.work}/worker-{i}.properties"],
                                         stdout=log, stderr=subprocess.STDOUT)

    def answers(self, i):
        try:
            return call(self.ports[i], "GET", "/connectors", timeout=5)[0] == 200
        except OSError:
            return False

    def running(self, i, n, alive=None):
        """Whether worker i sees n connectors with their task RUNNING (on a
        live worker when `alive` names the live workers' ids)."""
        try:
            status, body = call(self.ports[i], "GET", "/connectors?expand=status", timeout=30)
        except OSError:
            return False
        if status != 200 or len(body) < n:
            return False
        for v in body.values():
            tasks = v["status"]["tasks"]
            if not tasks or any(t["state"] != "RUNNING" for t in tasks):
                return False
            if alive is not None and any(t["worker_id"] not in alive for t in tasks):
                return False
        return True

    def stop(self):
        for p in self.procs:
            stop_process(p)
        stop_process(self.broker)


def row(n):
    work = tempfile.mkdtemp(prefix=f"weir-bench-dist-{n}-")
    c = Cluster(work)
    try:
        def create(k):
            port = c.ports[k % 3]
            s, body = call(port, "POST", "/connectors", {"name": f"sink-{k}", "config": {
                "connector.class": "FileStreamSink", "file": f"{work}/out-{k}.txt", "topics": f"topic-{k}"}})
            if s != 201:
                raise SystemExit(f"creating sink-{k}: {s} {body}")
        t0 = time.time()
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            list(ex.map(create, range(n)))
        t1 = time.time()
        for i in range(3):
            wait_for(f"all {n} RUNNING on worker {i}", lambda i=i: c.running(i, n), 600, step=1)
        t2 = time.time()
        listing = 0.0
        for i in range(3):
            best = 1e9
            for _ in range(3):
                t = time.time()
                call(c.ports[i], "GET", "/connectors?expand=status")
                best = min(best, time.time() - t)
            listing = max(listing, best)
        time.sleep(5)
        stats = [proc_stats(p.pid) for p in c.procs]
        alive = {f"127.0.0.1:{c.ports[i]}" for i in (0, 1)}
        c.procs[2].send_signal(signal.SIGKILL)
        c.procs[2].wait()
        t3 = time.time()
        wait_for("every task RUNNING on the two workers left", lambda: c.running(0, n, alive), 600, step=1)
        t4 = time.time()
        return (f"| {n} | {n / (t1 - t0):.0f}/s ({t1 - t0:.1f} s) | {t2 - t1:.1f} s | {listing * 1000:.0f} ms | "
                f"{t4 - t3:.1f} s | {max(s[0] for s in stats)} MB, {max(s[1] for s in stats)} threads |")
    finally:
        c.stop()


def main():
    sizes = [int(a) for a in sys.argv[2:]] or [100, 500, 1000]
    rows = [row(n) for n in sizes]
    print()
    print(f"| N | creating all (8 in flight) | all RUNNING in every worker's view after the last POST "
          f"| GET /connectors?expand=status (slowest worker) | one worker SIGKILLed: all RUNNING elsewhere "
          f"(session {SESSION_MS // 1000} s, delay {DELAY_MS // 1000} s) | per worker at rest (largest) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(r)


if __name__ == "__main__":
    main()
