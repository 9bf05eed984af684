#!/usr/bin/env python3
"""Distributed mode at scale: one `weir broker`, three `weir distributed`
workers, N FileStreamSink connectors (one topic each, one task each)
created through the three workers in turn with up to 8 requests in flight.
For each N, one row:

  creating all (connectors/s), all RUNNING in every worker's view after
  the last POST (s), GET /connectors?expand=status (slowest worker, ms;
  the list, one connector's config, status, tasks and topics are printed
  before the table),
  a worker that does not lead the group SIGKILLed: all RUNNING on the
  other two (s), per worker
  resident memory, threads and CPU at rest, peak resident memory while
  every connector's topic receives records, a sample of 20 connectors'
  records checked across the SIGKILL (none may be missing), and a rolling
  restart of the three workers (SIGTERM, start, all RUNNING again) with the
  tasks it left UNASSIGNED.

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


def cpu_seconds(pid):
    """User and system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_times(pid):
    """Run time (ns) of each live thread of a process, by thread id, with
    its name (digits folded, so a task's threads group together)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = "".join("#" if c.isdigit() else c for c in f.read().strip())
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                out[tid] = (name, int(f.read().split()[0]))
        except OSError:
            pass
    return out


def by_thread_name(before, after, seconds):
    """CPU share of one core per thread name between two thread_times."""
    shares = {}
    for tid, (name, ns) in after.items():
        if tid in before:
            shares[name] = shares.get(name, 0) + (ns - before[tid][1]) / seconds / 1e7
    return sorted(shares.items(), key=lambda kv: -kv[1])


def peak_rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return 0


def feed(port, topics, lines_for, seconds=None):
    """Produces lines_for(topic, round) to each topic (once, or a round a
    second for `seconds`); returns what each topic was sent."""
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": f"127.0.0.1:{port}", "linger.ms": 20,
                  "queue.buffering.max.messages": 1000000})
    sent = {t: [] for t in topics}
    start = time.time()
    end = start + (seconds or 0)
    rnd = 0
    while True:
        for t in topics:
            for line in lines_for(t, rnd):
                while True:
                    try:
                        p.produce(t, line.encode())
                        break
                    except BufferError:
                        p.poll(0.05)
                sent[t].append(line)
            p.poll(0)
        rnd += 1
        if seconds is None or time.time() >= end:
            break
        # One round a second: every topic is fed, at a bounded rate.
        next_round = start + rnd
        while time.time() < min(next_round, end):
            p.poll(0.1)
    if p.flush(120) != 0:
        raise SystemExit("the feeding producer could not deliver everything")
    return sent


def lines_of(path):
    try:
        with open(path) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


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

    def statuses(self, i, n):
        """Worker i's view of every connector's status, or None when it does
        not answer or does not yet list n connectors."""
        try:
            status, body = call(self.ports[i], "GET", "/connectors?expand=status", timeout=30)
        except OSError:
            return None
        return body if status == 200 and len(body) >= n else None

    def running(self, i, n, alive=None, body=None):
        """Whether worker i sees n connectors with their task RUNNING (on a
        live worker when `alive` names the live workers' ids)."""
        body = body or self.statuses(i, n)
        if body is None:
            return False
        for v in body.values():
            tasks = v["status"]["tasks"]
            if not tasks or any(t["state"] != "RUNNING" for t in tasks):
                return False
            if alive is not None and any(t["worker_id"] not in alive for t in tasks):
                return False
        return True

    def runs_its_share(self, i, n, k):
        """Whether worker i sees every task RUNNING and worker k running its
        share of them (a restarted worker has its work back: until then the
        statuses its earlier self wrote may still say RUNNING)."""
        body = self.statuses(i, n)
        if body is None or not self.running(i, n, body=body):
            return False
        mine = sum(1 for v in body.values() for t in v["status"]["tasks"]
                   if t["worker_id"] == f"127.0.0.1:{self.ports[k]}")
        return mine >= n // 3 - 1

    def leader(self):
        """The worker whose log last said it leads the group."""
        best = (-1, None)
        for i in range(3):
            for line in lines_of(f"{self.work}/worker-{i}.log"):
                if " generation " in line and line.endswith("(leader)"):
                    gen = int(line.split(" generation ", 1)[1].split(":", 1)[0])
                    best = max(best, (gen, i))
        return best[1]

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
        def slowest_best(path):
            """GET path: the best of three on each worker, the slowest worker's (s)."""
            slowest = 0.0
            for i in range(3):
                best = 1e9
                for _ in range(3):
                    t = time.time()
                    call(c.ports[i], "GET", path)
                    best = min(best, time.time() - t)
                slowest = max(slowest, best)
            return slowest
        listing = slowest_best("/connectors?expand=status")
        reads = [f"{path} {slowest_best(path) * 1000:.1f}"
                 for path in ["/connectors", "/connectors/sink-1/config", "/connectors/sink-1/status",
                              "/connectors/sink-1/tasks", "/connectors/sink-1/topics"]]
        print(f"N={n}, other reads (ms, slowest worker, best of 3): " + ", ".join(reads), flush=True)
        time.sleep(5)
        stats = [proc_stats(p.pid) for p in c.procs]
        before = [cpu_seconds(p.pid) for p in c.procs]
        threads_before = thread_times(c.procs[0].pid)
        time.sleep(10)
        idle_cpu = max((cpu_seconds(p.pid) - b) / 10 * 100 for p, b in zip(c.procs, before))
        shares = by_thread_name(threads_before, thread_times(c.procs[0].pid), 10)
        print(f"N={n}, worker 1 at rest, CPU by thread name (% of one core): "
              + ", ".join(f"{name} {share:.1f}" for name, share in shares[:6]), flush=True)
        # Every topic receives records for 20 s: the workers' peak memory.
        topics = [f"topic-{k}" for k in range(n)]
        sample = topics[:: max(1, n // 20)][:20]
        sent = feed(c.broker_port, topics, lambda t, r: [f"{t}-load-{r}-{i}" for i in range(5)], seconds=20)
        loaded_rss = max(peak_rss(p.pid) for p in c.procs)
        extra = feed(c.broker_port, sample, lambda t, r: [f"{t}-before-{i}" for i in range(50)])
        # A worker that does not lead is killed: the leader holds its work
        # for scheduled.rebalance.max.delay.ms, as the goal counts. (A new
        # leader has no memory of the last assignment and hands the work out
        # at once.)
        leader = c.leader()
        victim = max(i for i in range(3) if i != leader)
        left = [i for i in range(3) if i != victim]
        alive = {f"127.0.0.1:{c.ports[i]}" for i in left}
        print(f"N={n}, SIGKILL to worker {victim + 1} at {time.time():.3f} (worker "
              f"{leader + 1 if leader is not None else '?'} leads)", flush=True)
        c.procs[victim].send_signal(signal.SIGKILL)
        c.procs[victim].wait()
        t3 = time.time()
        wait_for("every task RUNNING on the two workers left", lambda: c.running(left[0], n, alive), 600, step=0.5)
        t4 = time.time()
        after = feed(c.broker_port, sample, lambda t, r: [f"{t}-after-{i}" for i in range(50)])
        def missing():
            out = 0
            for t in sample:
                k = int(t.rsplit("-", 1)[1])
                got = set(lines_of(f"{work}/out-{k}.txt"))
                out += sum(1 for line in sent[t] + extra[t] + after[t] if line not in got)
            return out
        deadline = time.time() + 120
        while missing() and time.time() < deadline:
            time.sleep(2)
        lost = missing()
        checked = sum(len(sent[t]) + len(extra[t]) + len(after[t]) for t in sample)
        # The killed worker comes back, then each worker in turn is stopped
        # and started again.
        t5 = time.time()
        c.start(victim)
        wait_for(f"worker {victim + 1} back", lambda: c.answers(victim), 60)
        for i in range(3):
            stop_process(c.procs[i])
            c.start(i)
            wait_for(f"worker {i} back", lambda i=i: c.answers(i), 60)
            for j in range(3):
                wait_for(f"all {n} RUNNING on worker {j}, worker {i} with its share, after restarting worker {i}",
                         lambda j=j, i=i: c.runs_its_share(j, n, i), 600, step=1)
        t6 = time.time()
        _, body = call(c.ports[0], "GET", "/connectors?expand=status")
        unassigned = sum(1 for v in body.values() for t in v["status"]["tasks"] if t["state"] == "UNASSIGNED")
        return (f"| {n} | {n / (t1 - t0):.0f}/s ({t1 - t0:.1f} s) | {t2 - t1:.1f} s | {listing * 1000:.0f} ms | "
                f"{t4 - t3:.1f} s | {max(s[0] for s in stats)} MB, {max(s[1] for s in stats)} threads, "
                f"{idle_cpu:.1f}% CPU | {loaded_rss} MB | {lost} of {checked} | {t6 - t5:.1f} s, {unassigned} |")
    finally:
        c.stop()


def main():
    sizes = [int(a) for a in sys.argv[2:]] or [100, 500, 1000]
    rows = [row(n) for n in sizes]
    print()
    print(f"| N | creating all (8 in flight) | all RUNNING in every worker's view after the last POST "
          f"| GET /connectors?expand=status (slowest worker) | one worker SIGKILLed: all RUNNING elsewhere "
          f"(session {SESSION_MS // 1000} s, delay {DELAY_MS // 1000} s) | per worker at rest (largest) "
          f"| peak per worker, every topic fed for 20 s | sample records missing after the SIGKILL "
          f"| rolling restart of 3 workers, tasks left UNASSIGNED |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(r)


if __name__ == "__main__":
    main()
