#!/usr/bin/env python3
"""Every REST endpoint of `weir standalone`, its status code, headers and
body compared with the golden files in scripts/tests/golden/rest/.

Usage: rest_golden.py WEIR_BINARY [--bless]

Each case is one file `NN-name.json` holding the request, the status, the
headers that matter and the body, with what differs between runs (ports,
the temporary directory, modification times) replaced by placeholders.
`--bless` rewrites the files from this run; review the diff before
committing it. /metrics is parsed with prometheus_client and its metric
families compared; /openapi.json must equal openapi/openapi.json.
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from standalone_worker import free_port

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GOLDEN = os.path.join(ROOT, "scripts", "tests", "golden", "rest")




class Api:
    def __init__(self, port, work, bless):
        self.base = f"http://127.0.0.1:{port}"
        self.port = port
        self.work = work
        self.bless = bless
        self.n = 0
        self.failures = []
        self.seen = set()

    def call(self, method, path, body=None, raw=None):
        data = raw.encode() if raw is not None else (
            json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

    def normalise(self, text):
        text = text.replace(self.work, "<work>")
        # The bundled broker's cluster id is made anew in each run.
        text = re.sub(r'"kafka_cluster_id": "[A-Za-z0-9_-]{22}"', '"kafka_cluster_id": "<cluster-id>"', text)
        text = text.replace(f"127.0.0.1:{self.port}", "127.0.0.1:<rest-port>")
        return text

    def check(self, name, method, path, body=None, raw=None, until=None,
              mask=None, keep_body=True):
        """Calls the endpoint (again while `until(status, json)` is false,
        for up to 20 s) and compares the answer with the golden file."""
        deadline = time.time() + 20
        while True:
            status, headers, text = self.call(method, path, body, raw)
            parsed = None
            if text and headers.get("content-type", "").startswith("application/json"):
                parsed = json.loads(text)
            answer = parsed if parsed is not None else text
            if until is None or until(status, answer) or time.time() > deadline:
                break
            time.sleep(0.1)
        self.n += 1
        if parsed is not None:
            parsed = json.loads(self.normalise(json.dumps(parsed)))
            if mask:
                parsed = mask(parsed)
        got = {
            "request": {"method": method, "path": path},
            "status": status,
            "content_type": headers.get("content-type"),
        }
        if body is not None or raw is not None:
            got["request"]["body"] = body if body is not None else raw
        if "location" in headers:
            got["location"] = headers["location"]
        if keep_body:
            got["body"] = parsed if parsed is not None else self.normalise(text)
        self.compare(name, got)
        return status, parsed, text

    def compare(self, name, got):
        file = os.path.join(GOLDEN, f"{self.n:02d}-{name}.json")
        self.seen.add(os.path.basename(file))
        text = self.normalise(json.dumps(got, indent=2, ensure_ascii=False)) + "\n"
        if self.bless:
            with open(file, "w") as f:
                f.write(text)
            return
        try:
            with open(file) as f:
                want = f.read()
        except FileNotFoundError:
            want = ""
        if want != text:
            self.failures.append(f"{os.path.basename(file)}:\n--- golden\n{want}\n--- got\n{text}")


def states(*wanted):
    """Until the connector (and every task) is in one of `wanted`."""
    def ok(status, body):
        if status != 200 or not isinstance(body, dict):
            return False
        tasks = body.get("tasks", [])
        return body["connector"]["state"] in wanted and tasks and all(
            t["state"] in wanted for t in tasks)
    return ok


def mask_last_modified(body):
    if isinstance(body, dict) and isinstance(body.get("last_modified"), int):
        body["last_modified"] = "<ms>"
    elif isinstance(body, dict):
        for v in body.values():
            mask_last_modified(v)
    return body


def mask_states(body):
    body["connector"]["state"] = "<state>"
    for t in body["tasks"]:
        t["state"] = "<state>"
    return body


def scenario(api, work):
    src = {"connector.class": "FileStreamSource", "file": f"{work}/in.txt",
           "topic": "golden", "tasks.max": "1"}
    sink = {"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
            "file": f"{work}/out.txt", "topics": "golden"}
    api.check("root", "GET", "/")
    api.check("health", "GET", "/health")
    api.check("connectors-empty", "GET", "/connectors")
    api.check("create-invalid-json", "POST", "/connectors", raw="{bad")
    api.check("create-no-name", "POST", "/connectors", body={"config": src})
    api.check("create-no-config", "POST", "/connectors", body={"name": "x"})
    api.check("create-tasks-max-0", "POST", "/connectors",
              body={"name": "x", "config": dict(src, **{"tasks.max": "0"})})
    api.check("create-no-class", "POST", "/connectors",
              body={"name": "x", "config": {"tasks.max": "1"}})
    api.check("create-bad-initial-state", "POST", "/connectors",
              body={"name": "x", "config": src, "initial_state": "SLEEPING"})
    api.check("create-source", "POST", "/connectors", body={"name": "source", "config": src})
    api.check("create-duplicate", "POST", "/connectors", body={"name": "source", "config": src})
    api.check("put-config-creates", "PUT", "/connectors/sink/config", body=sink)
    api.check("put-config-updates", "PUT", "/connectors/sink/config",
              body=dict(sink, **{"tasks.max": "1"}))
    api.check("put-config-name-mismatch", "PUT", "/connectors/sink/config",
              body=dict(sink, name="other"))
    api.check("put-config-not-object", "PUT", "/connectors/sink/config", body=["a"])
    api.check("patch-config", "PATCH", "/connectors/sink/config",
              body={"tasks.max": None, "batch.size": 10})
    api.check("patch-config-unknown", "PATCH", "/connectors/nope/config", body={"a": "b"})
    api.check("status-source", "GET", "/connectors/source/status", until=states("RUNNING"))
    api.check("status-sink", "GET", "/connectors/sink/status", until=states("RUNNING"))
    api.check("connectors", "GET", "/connectors")
    api.check("connectors-expand", "GET", "/connectors?expand=status&expand=info")
    api.check("connectors-expand-info", "GET", "/connectors?expand=info")
    api.check("connector-info", "GET", "/connectors/source")
    api.check("connector-unknown", "GET", "/connectors/nope")
    api.check("config", "GET", "/connectors/source/config")
    api.check("status-unknown", "GET", "/connectors/nope/status")
    api.check("tasks", "GET", "/connectors/source/tasks")
    api.check("task-status", "GET", "/connectors/source/tasks/0/status")
    api.check("task-status-unknown", "GET", "/connectors/source/tasks/7/status")
    api.check("topics", "GET", "/connectors/source/topics",
              until=lambda s, b: s == 200 and b["source"]["topics"])
    api.check("topics-reset", "PUT", "/connectors/source/topics/reset")
    api.check("topics-after-reset", "GET", "/connectors/source/topics")
    api.check("pause", "PUT", "/connectors/source/pause")
    api.check("status-paused", "GET", "/connectors/source/status", until=states("PAUSED"))
    api.check("resume", "PUT", "/connectors/source/resume")
    api.check("status-resumed", "GET", "/connectors/source/status", until=states("RUNNING"))
    # Metrics once the source's acknowledgements and the sink's writes count the 3 lines.
    sent = "kafka_connect_sink_task_metrics_sink_record_send_total"
    _, _, text = api.check(
        "metrics", "GET", "/metrics", keep_body=False,
        until=lambda s, t: all(
            re.search(rf'^{m}{{[^}}]*}} 3$', t, re.M) is not None
            for m in [sent, "kafka_connect_source_task_metrics_source_record_write_total"]))
    families = {}
    for f in text_string_to_metric_families(text):
        families[f.name] = sorted({tuple(sorted(s.labels)) for s in f.samples})
    api.compare("metrics-families", {"families": {k: [list(x) for x in v]
                                                  for k, v in sorted(families.items())}})
    values = {(s.name, s.labels.get("connector")): s.value
              for f in text_string_to_metric_families(text) for s in f.samples}
    for name, connector in [(sent, "sink"),
                            ("kafka_connect_sink_task_metrics_sink_record_read_total", "sink"),
                            ("kafka_connect_source_task_metrics_source_record_poll_total", "source"),
                            ("kafka_connect_source_task_metrics_source_record_write_total", "source")]:
        if values.get((name, connector)) != 3.0:
            api.failures.append(f"{name} of {connector} should count the 3 lines: "
                                f"{values.get((name, connector))}")
    api.check("restart", "POST", "/connectors/source/restart")
    api.check("restart-include-tasks", "POST", "/connectors/source/restart?includeTasks=true",
              mask=mask_states)
    api.check("restart-only-failed", "POST",
              "/connectors/source/restart?includeTasks=true&onlyFailed=true", mask=mask_states)
    api.check("restart-unknown", "POST", "/connectors/nope/restart")
    api.check("task-restart", "POST", "/connectors/source/tasks/0/restart")
    api.check("task-restart-unknown", "POST", "/connectors/source/tasks/7/restart")
    api.check("offsets-source", "GET", "/connectors/source/offsets",
              until=lambda s, b: s == 200 and b["offsets"])
    api.check("offsets-alter-running", "PATCH", "/connectors/source/offsets",
              body={"offsets": [{"partition": {"filename": f"{work}/in.txt"},
                                 "offset": {"position": 0}}]})
    api.check("offsets-reset-running", "DELETE", "/connectors/source/offsets")
    api.check("stop", "PUT", "/connectors/source/stop")
    api.check("status-stopped", "GET", "/connectors/source/status",
              until=lambda s, b: s == 200 and b["connector"]["state"] == "STOPPED")
    api.check("offsets-alter-empty", "PATCH", "/connectors/source/offsets", body={"offsets": []})
    api.check("offsets-alter", "PATCH", "/connectors/source/offsets",
              body={"offsets": [{"partition": {"filename": f"{work}/in.txt"},
                                 "offset": {"position": 4}}]})
    api.check("offsets-after-alter", "GET", "/connectors/source/offsets")
    api.check("offsets-reset", "DELETE", "/connectors/source/offsets")
    api.check("offsets-after-reset", "GET", "/connectors/source/offsets")
    api.check("offsets-sink", "GET", "/connectors/sink/offsets",
              until=lambda s, b: s == 200 and b["offsets"])
    api.check("stop-sink", "PUT", "/connectors/sink/stop")
    api.check("offsets-sink-alter", "PATCH", "/connectors/sink/offsets",
              body={"offsets": [{"partition": {"kafka_topic": "golden", "kafka_partition": 0},
                                 "offset": {"kafka_offset": 1}}]})
    api.check("offsets-sink-after-alter", "GET", "/connectors/sink/offsets")
    api.check("offsets-sink-bad-partition", "PATCH", "/connectors/sink/offsets",
              body={"offsets": [{"partition": {"kafka_topic": "golden"},
                                 "offset": {"kafka_offset": 1}}]})
    api.check("plugins", "GET", "/connector-plugins")
    api.check("plugins-all", "GET", "/connector-plugins?connectorsOnly=false")
    api.check("plugin-config", "GET", "/connector-plugins/FileStreamSource/config")
    api.check("plugin-config-unknown", "GET", "/connector-plugins/Nope/config")
    api.check("validate-three-mistakes", "PUT",
              "/connector-plugins/FileStreamSinkConnector/config/validate",
              body={"name": "x", "connector.class": "FileStreamSink", "tasks.max": "0",
                    "key.converter": "com.example.Nope"})
    api.check("plugin-config-transform", "GET",
              "/connector-plugins/org.apache.kafka.connect.transforms.InsertField$Value/config")
    api.check("plugin-config-predicate", "GET", "/connector-plugins/TopicNameMatches/config")
    api.check("validate-transforms", "PUT",
              "/connector-plugins/FileStreamSinkConnector/config/validate",
              body={"name": "x", "connector.class": "FileStreamSink", "topics": "t",
                    "transforms": "cast,route",
                    "transforms.cast.type": "org.apache.kafka.connect.transforms.Cast$Value",
                    "transforms.cast.spec": "id:decimal",
                    "transforms.route.type": "RegexRouter",
                    "transforms.route.regex": "(.*)",
                    "transforms.route.replacement": "$1-out",
                    "transforms.route.predicate": "p",
                    "predicates": "p", "predicates.p.type": "TopicNameMatches",
                    "errors.tolerance": "some",
                    "errors.deadletterqueue.topic.name": "t"})
    api.check("create-bad-transform", "POST", "/connectors",
              body={"name": "bad-transform", "config": {
                  "connector.class": "FileStreamSink", "topics": "t",
                  "transforms": "x", "transforms.x.type": "com.example.Nope"}})
    api.check("validate-class-mismatch", "PUT",
              "/connector-plugins/FileStreamSource/config/validate",
              body={"connector.class": "FileStreamSink"})
    api.check("loggers", "GET", "/admin/loggers", mask=mask_last_modified)
    api.check("logger-set", "PUT", "/admin/loggers/connector_file", body={"level": "DEBUG"})
    api.check("logger-get", "GET", "/admin/loggers/connector_file", mask=mask_last_modified)
    api.check("logger-no-level", "PUT", "/admin/loggers/connector_file", body={})
    api.check("logger-bad-level", "PUT", "/admin/loggers/connector_file", body={"level": "LOUD"})
    api.check("logger-unknown", "GET", "/admin/loggers/nope")
    api.check("delete", "DELETE", "/connectors/source")
    api.check("delete-again", "DELETE", "/connectors/source")
    api.check("no-such-path", "GET", "/no/such/path")
    api.check("swagger-ui", "GET", "/swagger-ui/", keep_body=False)


    _, _, text = api.check("openapi", "GET", "/openapi.json", keep_body=False)
    with open(os.path.join(ROOT, "openapi", "openapi.json")) as f:
        if f.read() != text:
            api.failures.append("/openapi.json differs from openapi/openapi.json")
    # The internal endpoint distributed workers use; standalone refuses it.
    api.check("task-configs-standalone", "POST", "/connectors/source/tasks",
              body=[{"task.class": "FileStreamSourceTask"}])


def main():
    weir = os.path.abspath(sys.argv[1])
    bless = "--bless" in sys.argv[2:]
    os.makedirs(GOLDEN, exist_ok=True)
    work = os.path.realpath(tempfile.mkdtemp(prefix="weir-golden-"))
    rest = free_port()
    with open(f"{work}/in.txt", "w") as f:
        f.write("one\ntwo\nthree\n")
    with open(f"{work}/worker.properties", "w") as f:
        f.write(f"offset.storage.file.filename={work}/offsets\n"
                f"offset.flush.interval.ms=200\nlisteners=http://127.0.0.1:{rest}\n"
                "key.converter=org.apache.kafka.connect.json.JsonConverter\n"
                "value.converter=org.apache.kafka.connect.json.JsonConverter\n")
    log = open(f"{work}/worker.log", "w")
    proc = subprocess.Popen([weir, "standalone", f"{work}/worker.properties"],
                            stdout=log, stderr=subprocess.STDOUT)
    api = Api(rest, work, bless)
    try:
        for _ in range(200):
            if proc.poll() is not None:
                raise SystemExit(f"weir standalone exited; log in {work}/worker.log")
            try:
                if api.call("GET", "/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        scenario(api, work)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    stale = sorted(set(os.listdir(GOLDEN)) - api.seen)
    if bless:
        for f in stale:
            os.remove(os.path.join(GOLDEN, f))
        print(f"rest_golden: wrote {len(api.seen)} golden files")
        subprocess.run(["rm", "-rf", work], check=False)
        return 0
    if stale:
        api.failures.append(f"golden files no case produced: {stale}")
    if api.failures:
        print("\n\n".join(api.failures), file=sys.stderr)
        print(f"rest_golden: {len(api.failures)} mismatch(es); worker log in {work}/worker.log",
              file=sys.stderr)
        return 1
    print(f"rest_golden: {len(api.seen)} answers match their golden files")
    subprocess.run(["rm", "-rf", work], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
