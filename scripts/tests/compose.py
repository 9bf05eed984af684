#!/usr/bin/env python3
"""docker-compose.yml and the Dockerfile, checked without Docker (it cannot
run here): the topology (a broker, three workers, PostgreSQL, the one-shot
`connectors` service), healthchecks on /health, a multi-stage build of the
weir binary, and each worker's CONNECT_* environment run for real:
`weir distributed` with no config file and only that environment (the
broker host pointed at a local broker) must start, answer /health and join
the group. Then the README's walk-through runs on that worker against the
PostgreSQL server scripts/test.sh started (WEIR_TEST_POSTGRES_URL): the
compose PostgreSQL's init.sql, the two connector configs of
examples/compose/ PUT as the `connectors` service does (only the database's
address changed), rows copied from `customers` to `customers_copy`, then an
update and a new row following.

Usage: compose.py WEIR_BINARY
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

from standalone_worker import free_port

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))




def fail(msg):
    print(f"compose: {msg}", file=sys.stderr)
    sys.exit(1)


def check_files():
    with open(os.path.join(ROOT, "docker-compose.yml")) as f:
        compose = yaml.safe_load(f)
    services = compose["services"]
    want = {"broker", "worker-1", "worker-2", "worker-3", "postgres", "namenode", "datanode", "connectors"}
    if set(services) != want:
        fail(f"services {sorted(services)}, expected {sorted(want)}")
    for name in ["worker-1", "worker-2", "worker-3"]:
        w = services[name]
        test = " ".join(w["healthcheck"]["test"])
        if "/health" not in test:
            fail(f"{name}'s healthcheck does not ask /health: {test}")
        if w["depends_on"]["broker"]["condition"] != "service_healthy":
            fail(f"{name} does not wait for a healthy broker")
        if w["environment"]["CONNECT_REST_ADVERTISED_HOST_NAME"] != name:
            fail(f"{name} advertises another host")
    if "broker-api-versions" not in " ".join(services["broker"]["healthcheck"]["test"]):
        fail("the broker has no healthcheck")
    setup = services["connectors"]
    if setup["depends_on"]["worker-1"]["condition"] != "service_healthy" or \
            setup["depends_on"]["postgres"]["condition"] != "service_healthy":
        fail("the connectors service does not wait for worker-1 and PostgreSQL")
    script = " ".join(setup["command"])
    for c in ["pg-source", "pg-sink", "hdfs-sink"]:
        if not os.path.exists(os.path.join(ROOT, "examples", "compose", f"{c}.json")):
            fail(f"examples/compose/{c}.json is missing")
        if c not in script:
            fail(f"the connectors service does not create {c}")
    for name, cmd in (("namenode", ["hdfs", "namenode"]), ("datanode", ["hdfs", "datanode"])):
        if services[name]["command"] != cmd or not services[name]["image"].startswith("apache/hadoop:"):
            fail(f"{name} is not Apache Hadoop's {' '.join(cmd)}")
    env = services["namenode"]["environment"]
    if env.get("CORE-SITE.XML_fs.defaultFS") != "hdfs://namenode:8020" or services["datanode"]["environment"] != env:
        fail("the namenode and datanode do not share fs.defaultFS=hdfs://namenode:8020")
    with open(os.path.join(ROOT, "examples", "compose", "hdfs-sink.json")) as f:
        hdfs = json.load(f)
    if hdfs["store.url"] != "hdfs://namenode:8020" or "Hdfs3SinkConnector" not in hdfs["connector.class"]:
        fail(f"hdfs-sink.json does not write to the compose namenode: {hdfs}")
    if setup["depends_on"].get("datanode", {}).get("condition") != "service_started":
        fail("the connectors service does not wait for the datanode")
    if "PUT" not in script or "/connectors/$$c/config" not in script:
        fail(f"the connectors service does not PUT the configs: {script}")
    if not any("init.sql" in v for v in services["postgres"].get("volumes", [])):
        fail("PostgreSQL does not run examples/compose/init.sql")
    urls = {services[n]["ports"][0] for n in ["worker-1", "worker-2", "worker-3"]}
    if len(urls) != 3:
        fail(f"workers share host ports: {urls}")
    with open(os.path.join(ROOT, "Dockerfile")) as f:
        docker = f.read()
    stages = re.findall(r"^FROM\s+\S+(?:\s+AS\s+(\w+))?", docker, re.M)
    if len(stages) < 2 or stages[0] != "build":
        fail(f"the Dockerfile is not a multi-stage build: {stages}")
    if "--bin weir" not in docker or "COPY --from=build" not in docker:
        fail("the Dockerfile does not build and copy the weir binary")
    return services


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except OSError:
        return None, ""


def run_worker(weir, env_from_compose):
    work = tempfile.mkdtemp(prefix="weir-compose-")
    bport, rport = free_port(), free_port()
    broker = subprocess.Popen(
        [weir, "broker", "--override", f"log.dirs={work}/data",
         "--override", f"listeners=PLAINTEXT://127.0.0.1:{bport}"],
        stdout=open(f"{work}/broker.log", "w"), stderr=subprocess.STDOUT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECT_")}
    for k, v in env_from_compose.items():
        env[k] = str(v)
    env["CONNECT_BOOTSTRAP_SERVERS"] = f"127.0.0.1:{bport}"
    env["CONNECT_LISTENERS"] = f"http://127.0.0.1:{rport}"
    env["CONNECT_REST_ADVERTISED_PORT"] = str(rport)
    log = open(f"{work}/worker.log", "w")
    worker = None
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", bport), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        worker = subprocess.Popen([weir, "distributed"], env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
        health = None
        for _ in range(200):
            if worker.poll() is not None:
                fail(f"weir distributed exited: {open(f'{work}/worker.log').read()[-2000:]}")
            health, _ = get(f"http://127.0.0.1:{rport}/health")
            if health == 200 and "generation" in open(f"{work}/worker.log").read():
                break
            time.sleep(0.1)
        text = open(f"{work}/worker.log").read()
        if health != 200 or "generation" not in text:
            fail(f"the worker did not start from its environment: {text[-2000:]}")
        host = env_from_compose["CONNECT_REST_ADVERTISED_HOST_NAME"]
        if f"worker http://{host}:{rport}/ joins group connect-cluster" not in text:
            fail(f"the worker does not advertise {host}: {text[-2000:]}")
        walk_through(rport)
    finally:
        for p in [worker, broker]:
            if p is not None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
        subprocess.run(["rm", "-rf", work], check=False)


def psql(sql):
    return subprocess.run(["psql", os.environ["WEIR_TEST_POSTGRES_URL"], "-qAtc", sql],
                          capture_output=True, text=True, check=True).stdout.strip()


def put(rport, name, config):
    req = urllib.request.Request(f"http://127.0.0.1:{rport}/connectors/{name}/config",
                                 data=json.dumps(config).encode(), method="PUT",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        if r.status not in (200, 201):
            fail(f"PUT {name}: {r.status}")


def copied():
    try:
        return psql("SELECT id || ':' || name || ':' || balance FROM customers_copy ORDER BY id").splitlines()
    except subprocess.CalledProcessError:
        return []


def wait_rows(want, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if copied() == want:
            return
        time.sleep(0.3)
    fail(f"customers_copy holds {copied()}, expected {want}")


def walk_through(rport):
    """The README's compose walk-through, on the local PostgreSQL."""
    psql("DROP TABLE IF EXISTS customers, customers_copy")
    with open(os.path.join(ROOT, "examples", "compose", "init.sql")) as f:
        psql(f.read())
    # postgres://user@127.0.0.1:PORT/db -> the JDBC URL of that server.
    local = "jdbc:postgresql://" + os.environ["WEIR_TEST_POSTGRES_URL"].split("@", 1)[1]
    for name in ["pg-source", "pg-sink"]:
        with open(os.path.join(ROOT, "examples", "compose", f"{name}.json")) as f:
            config = json.load(f)
        config["connection.url"] = local
        config["connection.user"] = "postgres"
        put(rport, name, config)
    wait_rows(["1:Ada Lovelace:120.50", "2:Grace Hopper:99.99"])
    psql("UPDATE customers SET balance = 150.00, updated_at = CURRENT_TIMESTAMP WHERE id = 1")
    psql("INSERT INTO customers (name, email) VALUES ('Edsger Dijkstra', 'ewd@example.com')")
    wait_rows(["1:Ada Lovelace:150.00", "2:Grace Hopper:99.99", "3:Edsger Dijkstra:0.00"])
    psql("DROP TABLE IF EXISTS customers, customers_copy")
    # The HDFS sink needs the compose namenode: its config is validated.
    with open(os.path.join(ROOT, "examples", "compose", "hdfs-sink.json")) as f:
        hdfs = json.load(f)
    req = urllib.request.Request(f"http://127.0.0.1:{rport}/connector-plugins/Hdfs3SinkConnector/config/validate",
                                 data=json.dumps({**hdfs, "name": "hdfs-sink"}).encode(), method="PUT",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        answer = json.loads(r.read())
    if answer["error_count"] != 0:
        fail(f"hdfs-sink.json does not validate: {[c['value'] for c in answer['configs'] if c['value']['errors']]}")


def main():
    weir = os.path.abspath(sys.argv[1])
    services = check_files()
    run_worker(weir, services["worker-2"]["environment"])
    print("compose: topology, healthchecks, multi-stage build, a worker started from its CONNECT_* environment, "
          "the walk-through's JDBC source and sink copying customers (an update and a new row followed), "
          "and the HDFS sink's config validated")


if __name__ == "__main__":
    main()
