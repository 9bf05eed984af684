"""What the Python end-to-end tests share: a `weir standalone` process
driven through its REST API, free ports, and waiting for a condition."""

import json
import random
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request


def free_port():
    """A port nothing listens on, below the kernel's range of ephemeral
    ports, so that no client connection made later in the test can take it
    as its own local port before a server binds it."""
    low, high = 20000, 32000
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            high = min(high, int(f.read().split()[0]) - 1)
    except (OSError, ValueError, IndexError):
        pass
    for _ in range(1000):
        port = random.randint(low, high)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port between {low} and {high}")


def stop_process(proc):
    """SIGTERM, then SIGKILL after 30 s, for a process that is still running."""
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_for(what, check, seconds, step=0.2):
    """Until check() is true; a SystemExit naming `what` after `seconds`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if check():
            return
        time.sleep(step)
    raise SystemExit(f"{what} did not happen within {seconds} s")


def wait_listening(proc, port, log, seconds=60):
    """Until `proc` accepts connections on `port`; a SystemExit naming its
    log if it exits first."""
    def up():
        if proc.poll() is not None:
            raise SystemExit(f"{' '.join(map(str, proc.args[:2]))} exited; see {log}")
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return True
        except OSError:
            return False
    wait_for(f"port {port} listening", up, seconds)


class Worker:
    """A `weir standalone` process with its own properties file, offsets
    file, log and REST port, under `work`."""

    def __init__(self, weir, boot, work, name):
        self.weir, self.work, self.name = weir, work, name
        self.rest = free_port()
        self.proc = None
        with open(f"{work}/{name}.properties", "w") as f:
            f.write(f"bootstrap.servers={boot}\n"
                    f"offset.storage.file.filename={work}/{name}.offsets\n"
                    "offset.flush.interval.ms=1000\n"
                    f"listeners=http://127.0.0.1:{self.rest}\n"
                    "key.converter=org.apache.kafka.connect.storage.StringConverter\n"
                    "value.converter=org.apache.kafka.connect.json.JsonConverter\n")

    def fail(self, msg):
        raise SystemExit(f"worker {self.name}: {msg}")

    def start(self):
        log = open(f"{self.work}/{self.name}.log", "a")
        self.proc = subprocess.Popen([self.weir, "standalone", f"{self.work}/{self.name}.properties"],
                                     stdout=log, stderr=subprocess.STDOUT, cwd=self.work)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.fail(f"weir standalone exited; see {self.work}/{self.name}.log")
            try:
                if self.call("GET", "/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.fail("weir standalone did not answer /health within 30 s")

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.rest}{path}", data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                text = r.read().decode()
                return r.status, json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read().decode() or "null")

    def get_text(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.rest}{path}", timeout=30) as r:
            return r.read().decode()

    def create(self, name, config):
        status, body = self.call("POST", "/connectors", {"name": name, "config": config})
        if status != 201:
            self.fail(f"creating {name}: {status} {body}")

    def metric(self, name, connector):
        """A sample of metric `name` labelled with `connector` (0 when absent)."""
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.rest}/metrics", timeout=10).read().decode()
        for line in text.splitlines():
            if line.startswith(name + "{") and f'connector="{connector}"' in line:
                return float(line.split()[-1])
        return 0.0

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        stop_process(self.proc)
