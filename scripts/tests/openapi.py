#!/usr/bin/env python3
"""The REST contract: openapi/openapi.json is a valid OpenAPI document, the
workers serve exactly it, schemathesis finds no disagreement between the
document and a `weir standalone` or a `weir distributed` worker (every
check, stateful phase included, a fixed seed), the workers stay healthy
with their memory back near where it started, and a Python client
generated from the document drives a connector's life.

Usage: openapi.py WEIR_BINARY BOOTSTRAP [SEED]
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

from standalone_worker import Worker, stop_process, wait_for

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOC = os.path.join(ROOT, "openapi", "openapi.json")
CONFIG = os.path.join(ROOT, "scripts", "tests", "schemathesis.toml")
BIN = os.path.dirname(sys.executable)
# Generated requests per operation in each phase: enough to reach every
# status the document lists, bounded so a run takes well under a minute.
EXAMPLES = 25
# After the fuzzing and once its connectors are deleted, resident memory may
# stay above where it started by allocator caches, not by what was created.
RSS_SLACK_MB = 64


def check(what, ok, detail=""):
    if not ok:
        raise SystemExit(f"openapi: {what} FAILED {detail}")
    print(f"openapi: {what}")


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def schemathesis(port, seed, label, work):
    """Runs schemathesis against the worker on `port`; its report in work."""
    report = os.path.join(work, f"schemathesis-{label}.txt")
    cmd = [os.path.join(BIN, "st"), "--config-file", CONFIG, "run",
           f"http://127.0.0.1:{port}/openapi.json", "--checks", "all",
           "--max-examples", str(EXAMPLES), "--seed", str(seed),
           "--phases", "examples,coverage,fuzzing,stateful",
           "--request-timeout", "30", "--no-color"]
    print(f"openapi: schemathesis against {label}, seed {seed}")
    started = time.time()
    with open(report, "w") as out:
        code = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=work, timeout=900).returncode
    with open(report) as f:
        text = f.read()
    summary = [line.strip() for line in text.splitlines() if "generated," in line]
    check(f"schemathesis found nothing against {label} ({summary[-1] if summary else '?'}, "
          f"{time.time() - started:.0f} s)", code == 0, "\n" + text[-6000:])
    return text


def exercise(worker, label, seed, work):
    """Schemathesis against one worker, then its health and memory."""
    check(f"{label} serves the committed document",
          worker.get_text("/openapi.json") == open(DOC).read())
    # A connector created and deleted first, so that the memory measured
    # before holds what any worker keeps once it ran one (its producer and
    # consumer libraries' caches, plugin definitions).
    worker.create("warm-up", {"connector.class": "FileStreamSink", "file": "warm-up.txt", "topics": "warm-up"})
    worker.call("DELETE", "/connectors/warm-up")
    wait_for(f"{label}: warm-up deleted", lambda: worker.call("GET", "/connectors")[1] == [], 60)
    before = rss_mb(worker.proc.pid)
    schemathesis(worker.rest, seed, label, work)
    status, names = worker.call("GET", "/connectors")
    for name in names or []:
        worker.call("DELETE", f"/connectors/{name}")
    wait_for(f"{label}: the fuzzed connectors deleted", lambda: worker.call("GET", "/connectors")[1] == [], 60)
    check(f"{label} still healthy after the fuzzing",
          worker.call("GET", "/health") == (200, {"status": "healthy",
                                                  "message": "Worker has completed startup and is ready to handle requests."}))
    after = rss_mb(worker.proc.pid)
    check(f"{label} memory back near where it started ({before:.0f} MB before, {after:.0f} MB after, "
          f"{len(names or [])} connectors created and deleted)", after <= before + RSS_SLACK_MB)


class Distributed(Worker):
    """A one-worker `weir distributed` cluster with its own internal topics."""

    def __init__(self, weir, boot, work, name):
        super().__init__(weir, boot, work, name)
        tag = uuid.uuid4().hex[:8]
        path = f"{work}/{name}.properties"
        with open(path) as f:
            kept = [line for line in f if not line.startswith("offset.storage.file.")]
        with open(path, "w") as f:
            f.writelines(kept)
            f.write(f"group.id=openapi-{tag}\n"
                    f"config.storage.topic=openapi-configs-{tag}\n"
                    f"offset.storage.topic=openapi-offsets-{tag}\n"
                    f"status.storage.topic=openapi-status-{tag}\n"
                    "config.storage.replication.factor=1\n"
                    "offset.storage.replication.factor=1\n"
                    "status.storage.replication.factor=1\n"
                    "scheduled.rebalance.max.delay.ms=0\n")

    def start(self):
        log = open(f"{self.work}/{self.name}.log", "a")
        self.proc = subprocess.Popen([self.weir, "distributed", f"{self.work}/{self.name}.properties"],
                                     stdout=log, stderr=subprocess.STDOUT, cwd=self.work)

        def ready():
            if self.proc.poll() is not None:
                self.fail(f"weir distributed exited; see {self.work}/{self.name}.log")
            try:
                return self.call("GET", "/connectors")[0] == 200
            except OSError:
                return False
        wait_for("weir distributed answering", ready, 60)


def generated_client(worker, work):
    """A client generated by openapi-python-client lists, creates, pauses
    and deletes a connector."""
    out = os.path.join(work, "client")
    subprocess.run([os.path.join(BIN, "openapi-python-client"), "generate", "--path", DOC,
                    "--output-path", out, "--overwrite"], check=True, cwd=work,
                   stdout=subprocess.DEVNULL, env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"})
    packages = [d for d in os.listdir(out) if os.path.isfile(os.path.join(out, d, "client.py"))]
    check("openapi-python-client generated a package", len(packages) == 1, str(os.listdir(out)))
    script = f"""
import json, sys, time
from importlib import import_module
sys.path.insert(0, {out!r})
P = {packages[0]!r}
op = lambda name: import_module(P + ".api.connectors." + name)
models = import_module(P + ".models")
c = import_module(P).Client(base_url="http://127.0.0.1:{worker.rest}", raise_on_unexpected_status=True)
listed = op("list_").sync_detailed(client=c)
assert listed.status_code == 200, listed
config = models.ConnectorConfig.from_dict({{"connector.class": "FileStreamSink", "tasks.max": "1",
    "file": "generated-client.txt", "topics": "generated-client"}})
req = models.CreateConnectorRequest(name="generated-client", config=config)
created = op("create").sync_detailed(client=c, body=req)
assert created.status_code == 201, created
assert created.parsed.name == "generated-client", created.parsed
paused = op("pause").sync_detailed("generated-client", client=c)
assert paused.status_code == 202, paused
deadline = time.time() + 30
while True:
    state = op("get_status").sync("generated-client", client=c).connector.state
    if state == "PAUSED" or time.time() > deadline:
        break
    time.sleep(0.2)
assert state == "PAUSED", state
deleted = op("delete").sync_detailed("generated-client", client=c)
assert deleted.status_code == 204, deleted
after = json.loads(op("list_").sync_detailed(client=c).content)
assert "generated-client" not in after, after
print("listed, created, paused (state PAUSED) and deleted generated-client")
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=work, capture_output=True, text=True, timeout=120)
    check(f"the generated client {result.stdout.strip()}", result.returncode == 0, result.stdout + result.stderr)


def main():
    weir, boot = sys.argv[1], sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else int(os.environ.get("WEIR_FUZZ_SEED", "20261205"))
    result = subprocess.run([os.path.join(BIN, "openapi-spec-validator"), DOC], capture_output=True, text=True)
    check("openapi-spec-validator accepts openapi/openapi.json", result.returncode == 0,
          result.stdout + result.stderr)
    work = tempfile.mkdtemp(prefix="weir-openapi-")
    standalone = Worker(weir, boot, work, "standalone")
    distributed = Distributed(weir, boot, work, "distributed")
    try:
        standalone.start()
        exercise(standalone, "weir standalone", seed, work)
        generated_client(standalone, work)
        standalone.stop()
        distributed.start()
        exercise(distributed, "weir distributed", seed, work)
    finally:
        stop_process(standalone.proc)
        stop_process(distributed.proc)
    if not os.environ.get("KEEP_WORK"):
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
