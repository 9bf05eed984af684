#!/usr/bin/env python3
"""ACLs on a broker that speaks SASL_SSL only, with real clients and workers.

One `weir broker` with StandardAuthorizer, `super.users=User:admin` and a
single SASL_SSL listener (PLAIN for people, SCRAM-SHA-512 for the workers'
principal). `weir acls` (as kafka-acls.sh) gives alice a producer's and a
consumer's ACLs on one topic and one group; confluent-kafka as alice then
writes and reads that topic, and every other request it makes is refused
with Kafka's error code while nothing it sent arrives. The workers'
principal gets the ACLs Kafka Connect documents (its internal topics, its
group, its connectors' topics and groups): a standalone worker and three
distributed workers run FileStream connectors; a connector writing to a
topic the principal may not write fails with the authorization error; a
SIGKILLed distributed worker's tasks move to the others and records keep
flowing. The ACLs survive a broker restart.

Usage: acls.py WEIR_BINARY
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from security import SECRETS, lines_in, make_certs
from standalone_worker import Worker, free_port, stop_process, wait_for, wait_listening

WEIR = os.path.abspath(sys.argv[1])
PEOPLE = {"admin": "acl-admin-pw-5Tq", "alice": "acl-alice-pw-8Rw"}
WORKER_USER, WORKER_PASSWORD = "connect", "acl-connect-pw-3Jd"
SECRETS.extend(list(PEOPLE.values()) + [WORKER_PASSWORD])


def check(what, ok, detail=""):
    if not ok:
        raise SystemExit(f"acls: {what} FAILED {detail}")
    print(f"acls: {what}")


class AclBroker:
    def __init__(self, work):
        self.work, self.port = work, free_port()
        jaas = ("org.apache.kafka.common.security.plain.PlainLoginModule required "
                f'username="admin" password="{PEOPLE["admin"]}" '
                + " ".join(f'user_{u}="{p}"' for u, p in PEOPLE.items()) + ";")
        self.props = os.path.join(work, "server.properties")
        with open(self.props, "w") as f:
            f.write("\n".join([
                "node.id=1", f"log.dirs={work}/data",
                f"listeners=SASL_SSL://127.0.0.1:{self.port}",
                f"advertised.listeners=SASL_SSL://localhost:{self.port}",
                "inter.broker.listener.name=SASL_SSL",
                "ssl.keystore.type=PEM", f"ssl.keystore.location={work}/broker-keystore.pem",
                "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512",
                f"listener.name.sasl_ssl.plain.sasl.jaas.config={jaas}",
                "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "super.users=User:admin", "allow.everyone.if.no.acl.found=false",
                "num.partitions=1",
            ]) + "\n")
        self.log = os.path.join(work, "broker.log")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([WEIR, "broker", self.props], stdout=open(self.log, "a"),
                                     stderr=subprocess.STDOUT, cwd=self.work)
        wait_listening(self.proc, self.port, self.log)

    def stop(self):
        stop_process(self.proc)

    def addr(self):
        return f"localhost:{self.port}"

    def add_certificate_listener(self):
        """A second listener, SSL with required client certificates, whose
        clients are named by ssl.principal.mapping.rules."""
        self.mtls = free_port()
        with open(self.props) as f:
            lines = [line for line in f.read().splitlines() if "listeners=" not in line]
        lines += [f"listeners=SASL_SSL://127.0.0.1:{self.port},MTLS://127.0.0.1:{self.mtls}",
                  f"advertised.listeners=SASL_SSL://localhost:{self.port},MTLS://localhost:{self.mtls}",
                  "listener.security.protocol.map=SASL_SSL:SASL_SSL,MTLS:SSL",
                  "listener.name.mtls.ssl.client.auth=required",
                  "ssl.truststore.type=PEM", f"ssl.truststore.location={self.work}/ca.pem",
                  "listener.name.mtls.ssl.principal.mapping.rules=RULE:^OU=(.*?),CN=(.*?)$/$2/L,DEFAULT"]
        with open(self.props, "w") as f:
            f.write("\n".join(lines) + "\n")


def client_props(work, mech, user, password, prefix=""):
    module = "plain.PlainLoginModule" if mech == "PLAIN" else "scram.ScramLoginModule"
    jaas = (f"org.apache.kafka.common.security.{module} required "
            f'username="{user}" password="{password}";')
    return "".join(f"{prefix}{k}={v}\n" for k, v in [
        ("security.protocol", "SASL_SSL"), ("sasl.mechanism", mech), ("sasl.jaas.config", jaas),
        ("ssl.truststore.type", "PEM"), ("ssl.truststore.location", f"{work}/ca.pem")])


def tool(broker, work, *args, stdin=None):
    return subprocess.run([WEIR, *args, "--bootstrap-server", broker.addr(), "--command-config",
                           f"{work}/admin.properties"], text=True, capture_output=True, timeout=60,
                          input=stdin)


def acls(broker, work, *args):
    out = tool(broker, work, "acls", *args)
    if out.returncode != 0:
        raise SystemExit(f"weir acls {' '.join(args)} failed: {out.stdout}{out.stderr}")
    return out.stdout


def alice_conf(broker, work):
    return {"bootstrap.servers": broker.addr(), "security.protocol": "SASL_SSL",
            "ssl.ca.location": f"{work}/ca.pem", "sasl.mechanisms": "PLAIN",
            "sasl.username": "alice", "sasl.password": PEOPLE["alice"]}


EXPECTED_LIST = """Current ACLs for resource `ResourcePattern(resourceType=GROUP, name=orders-readers, patternType=LITERAL)`:
\t(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)

Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`:
\t(principal=User:alice, host=*, operation=WRITE, permissionType=ALLOW)
\t(principal=User:alice, host=*, operation=DESCRIBE, permissionType=ALLOW)
\t(principal=User:alice, host=*, operation=CREATE, permissionType=ALLOW)
\t(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)

"""


def blocks(text):
    """The --list output as {header: set of entries}: Kafka's own order
    of resources and entries is its hash maps'."""
    out = {}
    for block in text.split("\n\n"):
        if block.strip():
            head, *entries = block.split("\n")
            out[head] = sorted(entries)
    return out


def alice(broker, work):
    """One principal allowed to write one topic and read it with one group."""
    from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
    from confluent_kafka.admin import AclBinding, AdminClient, NewTopic, ResourcePatternType, \
        ResourceType, AclOperation, AclPermissionType

    admin = AdminClient({**alice_conf(broker, work), "sasl.username": "admin",
                         "sasl.password": PEOPLE["admin"]})
    for f in admin.create_topics([NewTopic("secret", 1, 1)]).values():
        f.result(30)
    out = acls(broker, work, "--add", "--allow-principal", "User:alice", "--producer", "--topic", "orders")
    check("weir acls --add --producer prints Kafka's lines",
          out.startswith("Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, "
                         "patternType=LITERAL)`: \n \t(principal=User:alice, host=*, operation=WRITE, "
                         "permissionType=ALLOW)\n"), repr(out))
    acls(broker, work, "--add", "--allow-principal", "User:alice", "--consumer", "--topic", "orders",
         "--group", "orders-readers")
    listed = acls(broker, work, "--list")
    topic_block = listed[listed.index("Current ACLs for resource `ResourcePattern(resourceType=GROUP"):]
    check("weir acls --list: one block per resource pattern, a tab before each entry, a blank line after",
          blocks(listed) == blocks(EXPECTED_LIST) and topic_block.endswith(")\n\n")
          and all(e.startswith("\t(") for v in blocks(listed).values() for e in v), repr(listed))
    shim = subprocess.run([os.path.join(os.path.dirname(__file__), "..", "bin", "kafka-acls.sh"),
                           "--bootstrap-server", broker.addr(), "--command-config", f"{work}/admin.properties",
                           "--list", "--topic", "orders"], text=True, capture_output=True, timeout=60,
                          env={**os.environ, "WEIR_BIN": WEIR})
    check("kafka-acls.sh --list --topic orders lists the topic's four entries",
          shim.returncode == 0 and shim.stdout.count("principal=User:alice") == 4, shim.stdout + shim.stderr)

    conf = alice_conf(broker, work)
    p = Producer(conf)
    errors = {}

    def report(err, msg):
        if err is not None:
            errors.setdefault(msg.topic(), err.code())
    for i in range(10):
        p.produce("orders", f"o-{i}".encode(), on_delivery=report)
        p.produce("secret", f"must-not-arrive-{i}".encode(), on_delivery=report)
    p.flush(30)
    check("alice writes the topic she may write",
          "orders" not in errors, str(errors))
    check("alice's records to another topic fail with TOPIC_AUTHORIZATION_FAILED",
          errors.get("secret") == KafkaError.TOPIC_AUTHORIZATION_FAILED, str(errors))

    c = Consumer({**conf, "group.id": "orders-readers", "auto.offset.reset": "earliest",
                  "enable.auto.commit": False})
    c.subscribe(["orders"])
    got, deadline = [], time.time() + 30
    while len(got) < 10 and time.time() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            got.append(m.value().decode())
    committed = c.commit(asynchronous=False)
    c.close()
    check("alice reads the topic with her group and commits",
          got == [f"o-{i}" for i in range(10)] and committed and committed[0].error is None, str(got))

    def first_error(group, topic):
        """The error code a consumer of `group` subscribed to `topic` meets."""
        c = Consumer({**conf, "group.id": group, "auto.offset.reset": "earliest"})
        c.subscribe([topic])
        code, deadline = None, time.time() + 30
        while code is None and time.time() < deadline:
            m = c.poll(0.5)
            if m is not None and m.error() is not None:
                code = m.error().code()
        c.close()
        return code

    code = first_error("someone-elses", "orders")
    check("another group is refused with GROUP_AUTHORIZATION_FAILED",
          code == KafkaError.GROUP_AUTHORIZATION_FAILED, str(code))

    code = first_error("orders-readers", "secret")
    check("reading another topic is refused with TOPIC_AUTHORIZATION_FAILED",
          code == KafkaError.TOPIC_AUTHORIZATION_FAILED, str(code))

    md = AdminClient(conf).list_topics(timeout=30)
    check("alice's metadata lists only the topic she may describe",
          sorted(md.topics) == ["orders"], str(sorted(md.topics)))

    mine = AdminClient(conf)

    def refused(futures, code):
        for f in futures.values():
            try:
                f.result(30)
                return False
            except KafkaException as e:
                if e.args[0].code() != code:
                    return False
        return True
    check("alice may not create a topic (TOPIC_AUTHORIZATION_FAILED)",
          refused(mine.create_topics([NewTopic("alices-own", 1, 1)]), KafkaError.TOPIC_AUTHORIZATION_FAILED))
    check("alice may not delete her topic (TOPIC_AUTHORIZATION_FAILED)",
          refused(mine.delete_topics(["orders"]), KafkaError.TOPIC_AUTHORIZATION_FAILED))
    # librdkafka drops DescribeAcls' error code (an empty listing either
    # way), so the listing is refused through weir acls and the creation
    # through confluent-kafka.
    grant = AclBinding(ResourceType.TOPIC, "secret", ResourcePatternType.LITERAL, "User:alice", "*",
                       AclOperation.READ, AclPermissionType.ALLOW)
    check("alice may not grant herself an ACL (CLUSTER_AUTHORIZATION_FAILED)",
          refused(mine.create_acls([grant]), KafkaError.CLUSTER_AUTHORIZATION_FAILED))
    with open(f"{work}/alice.properties", "w") as f:
        f.write(client_props(work, "PLAIN", "alice", PEOPLE["alice"]))
    out = subprocess.run([WEIR, "acls", "--bootstrap-server", broker.addr(), "--command-config",
                          f"{work}/alice.properties", "--list"], text=True, capture_output=True, timeout=60)
    check("alice may not list ACLs: weir acls --list fails with the broker's refusal",
          out.returncode == 1 and out.stderr.strip() == "Error while executing ACL command: "
          "Authorization failed." and out.stdout == "", out.stdout + out.stderr)

    c = Consumer({**alice_conf(broker, work), "sasl.username": "admin", "sasl.password": PEOPLE["admin"],
                  "group.id": "admin-check"})
    c.assign([TopicPartition("secret", 0, 0)])
    seen, deadline = 0, time.time() + 5
    while time.time() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            seen += 1
    c.close()
    check("nothing alice sent to the other topic arrived", seen == 0, str(seen))
    with open(broker.log) as f:
        log = f.read()
    check("the broker logs each refusal as Kafka's authorizer does",
          "Principal = User:alice is Denied operation = DESCRIBE from host = 127.0.0.1 on resource = "
          "Topic:LITERAL:secret for request = METADATA with resourceRefCount = 1 based on rule DefaultDeny"
          in log and "operation = DESCRIBE from host = 127.0.0.1 on resource = Group:LITERAL:someone-elses "
          "for request = FIND_COORDINATOR" in log)
    return listed


def worker_acls(broker, work):
    """What Kafka Connect's docs ask for the workers' principal."""
    who = ["--allow-principal", f"User:{WORKER_USER}"]
    acls(broker, work, "--add", *who, "--operation", "All", "--resource-pattern-type", "prefixed",
         "--topic", "acl-connect-")
    acls(broker, work, "--add", *who, "--operation", "Read", "--group", "acl-cluster")
    acls(broker, work, "--add", *who, "--operation", "Read", "--resource-pattern-type", "prefixed",
         "--group", "connect-")
    acls(broker, work, "--add", *who, "--producer", "--consumer", "--topic", "acl-lines",
         "--group", "connect-acl-sink")


def task_states(w, name):
    code, body = w.call("GET", f"/connectors/{name}/status")
    if code != 200:
        return []
    return [(t["state"], t.get("worker_id"), t.get("trace", "")) for t in body.get("tasks", [])]


def standalone(broker, work):
    w = Worker(WEIR, broker.addr(), work, "standalone")
    with open(f"{work}/standalone.properties", "a") as f:
        f.write(client_props(work, "SCRAM-SHA-512", WORKER_USER, WORKER_PASSWORD))
    w.start()
    src = f"{work}/standalone-source.txt"
    with open(src, "w") as f:
        f.write("".join(f"s-{i}\n" for i in range(30)))
    try:
        w.create("acl-source", {"connector.class": "FileStreamSource", "file": src, "topic": "acl-lines",
                                "value.converter": "org.apache.kafka.connect.storage.StringConverter"})
        w.create("acl-sink", {"connector.class": "FileStreamSink", "file": f"{work}/standalone-sink.txt",
                              "topics": "acl-lines",
                              "value.converter": "org.apache.kafka.connect.storage.StringConverter"})
        wait_for("30 lines through the standalone worker under ACLs",
                 lambda: len(lines_in(f"{work}/standalone-sink.txt")) == 30, 60)
        check("weir standalone as User:connect under ACLs: a FileStream source and sink moved 30 lines",
              lines_in(f"{work}/standalone-sink.txt") == lines_in(src))
        # Its producer logs in with a planted secret of its own (the
        # workers' password in an override), which no answer may show.
        w.create("acl-forbidden", {"connector.class": "FileStreamSource", "file": src,
                                   "topic": "not-for-connect",
                                   **{k: v for k, v in (line.split("=", 1) for line in client_props(
                                       work, "SCRAM-SHA-512", WORKER_USER, WORKER_PASSWORD,
                                       "producer.override.").splitlines())}})
        wait_for("the connector writing to a forbidden topic FAILED",
                 lambda: any(s[0] == "FAILED" for s in task_states(w, "acl-forbidden")), 60)
        trace = task_states(w, "acl-forbidden")[0][2]
        check("a connector writing to a topic the workers may not write fails, its trace naming the refusal",
              "authoriz" in trace.lower(), trace[:300])
        answers = [w.call("GET", path)[1] for path in (
            "/connectors/acl-forbidden", "/connectors/acl-forbidden/config", "/connectors/acl-forbidden/status",
            "/connectors/acl-forbidden/tasks", "/connectors/acl-forbidden/tasks/0/status",
            "/connectors?expand=status&expand=info")]
        shown = json.dumps(answers)
        check("the planted secret is in no REST answer (info, config, status with the failure's trace, tasks)",
              WORKER_PASSWORD not in shown and "[hidden]" in shown, shown[:300])
    finally:
        w.stop()


class DistributedWorker(Worker):
    def __init__(self, broker, work, n):
        self.weir, self.work, self.name = WEIR, work, f"dist-{n}"
        self.rest, self.proc = free_port(), None
        with open(f"{work}/{self.name}.properties", "w") as f:
            f.write(f"bootstrap.servers={broker.addr()}\ngroup.id=acl-cluster\n"
                    f"listeners=http://127.0.0.1:{self.rest}\n"
                    "config.storage.topic=acl-connect-configs\noffset.storage.topic=acl-connect-offsets\n"
                    "status.storage.topic=acl-connect-status\nconfig.storage.replication.factor=1\n"
                    "offset.storage.replication.factor=1\nstatus.storage.replication.factor=1\n"
                    "key.converter=org.apache.kafka.connect.storage.StringConverter\n"
                    "value.converter=org.apache.kafka.connect.storage.StringConverter\n"
                    "offset.flush.interval.ms=1000\n"
                    "session.timeout.ms=6000\nheartbeat.interval.ms=1000\n"
                    "scheduled.rebalance.max.delay.ms=2000\n"
                    + client_props(work, "SCRAM-SHA-512", WORKER_USER, WORKER_PASSWORD)
                    + client_props(work, "SCRAM-SHA-512", WORKER_USER, WORKER_PASSWORD, "producer.")
                    + client_props(work, "SCRAM-SHA-512", WORKER_USER, WORKER_PASSWORD, "consumer."))

    def start(self):
        self.proc = subprocess.Popen([WEIR, "distributed", f"{self.work}/{self.name}.properties"],
                                     cwd=self.work, stdout=open(f"{self.work}/{self.name}.log", "a"),
                                     stderr=subprocess.STDOUT)

    def answering(self):
        if self.proc.poll() is not None:
            raise SystemExit(f"weir distributed exited; see {self.work}/{self.name}.log")
        try:
            return self.call("GET", "/connectors")[0] == 200
        except OSError:
            return False


def distributed(broker, work):
    cluster = [DistributedWorker(broker, work, n) for n in range(3)]
    for w in cluster:
        w.start()
    try:
        for w in cluster:
            wait_for(f"{w.name} answering", w.answering, 60)
        src = f"{work}/dist-source.txt"
        with open(src, "w") as f:
            f.write("".join(f"d-{i}\n" for i in range(40)))
        cluster[0].create("acl-source", {"connector.class": "FileStreamSource", "file": src,
                                         "topic": "acl-lines"})
        cluster[1].create("acl-dist-sink", {"connector.class": "FileStreamSink", "file": f"{work}/dist-sink.txt",
                                       "topics": "acl-lines"})
        # The topic also holds the standalone worker's 30 lines.
        wait_for("70 lines through three distributed workers under ACLs",
                 lambda: len(lines_in(f"{work}/dist-sink.txt")) == 70, 90)
        check("three weir distributed workers as User:connect on a SASL_SSL-only broker with ACLs: "
              "internal topics, the group and a FileStream pair work",
              lines_in(f"{work}/dist-sink.txt")[30:] == lines_in(src))
        wait_for("the sink's task RUNNING in every worker's view",
                 lambda: all([s[0] for s in task_states(w, "acl-dist-sink")] == ["RUNNING"] for w in cluster), 30)
        owner = task_states(cluster[2], "acl-dist-sink")[0][1]
        victim = next(w for w in cluster if owner.endswith(f":{w.rest}"))
        others = [w for w in cluster if w is not victim]
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait()
        killed_at = time.time()

        def moved():
            states = task_states(others[0], "acl-dist-sink")
            return bool(states) and states[0][0] == "RUNNING" and not states[0][1].endswith(f":{victim.rest}")
        wait_for("the SIGKILLed worker's sink task RUNNING on another worker", moved, 60)
        took = time.time() - killed_at
        with open(src, "a") as f:
            f.write("".join(f"d-{i}\n" for i in range(40, 50)))
        wait_for("the 10 lines written after the SIGKILL in the sink",
                 lambda: lines_in(f"{work}/dist-sink.txt")[-10:] == [f"d-{i}" for i in range(40, 50)], 60)
        check(f"after a SIGKILL the task moved in {took:.1f} s and the 10 new lines arrived", True)
    finally:
        for w in cluster:
            stop_process(w.proc)


def flume(broker, work):
    """A Flume agent file whose Kafka channel logs in with SASL_SSL, as
    Flume's user guide writes it: spooldir -> Kafka channel -> a file_roll
    sink and a Kafka sink, all as User:connect."""
    spool, roll = f"{work}/flume-spool", f"{work}/flume-roll"
    os.makedirs(spool)
    os.makedirs(roll)
    jaas = (f'org.apache.kafka.common.security.scram.ScramLoginModule required username="{WORKER_USER}" '
            f'password="{WORKER_PASSWORD}";')
    login = "".join(f"a1.channels.c1.kafka.{side}.{k} = {v}\n" for side in ("producer", "consumer")
                    for k, v in [("security.protocol", "SASL_SSL"), ("sasl.mechanism", "SCRAM-SHA-512"),
                                 ("sasl.jaas.config", jaas), ("ssl.truststore.type", "PEM"),
                                 ("ssl.truststore.location", f"{work}/ca.pem")])
    conf = f"""a1.sources = r1
a1.channels = c1
a1.sinks = k1 k2
a1.sources.r1.type = spooldir
a1.sources.r1.spoolDir = {spool}
a1.sources.r1.channels = c1
a1.channels.c1.type = org.apache.flume.channel.kafka.KafkaChannel
a1.channels.c1.kafka.bootstrap.servers = {broker.addr()}
a1.channels.c1.kafka.topic = acl-connect-flume
a1.channels.c1.kafka.consumer.group.id = flume
{login}a1.sinks.k1.type = file_roll
a1.sinks.k1.sink.directory = {roll}
a1.sinks.k1.sink.rollInterval = 0
a1.sinks.k1.channel = c1
a1.sinks.k2.type = org.apache.flume.sink.kafka.KafkaSink
a1.sinks.k2.kafka.topic = acl-connect-flume-out
a1.sinks.k2.channel = c1
"""
    with open(f"{work}/flume.conf", "w") as f:
        f.write(conf)
    log = f"{work}/flume.log"
    proc = subprocess.Popen([WEIR, "flume", "agent", "-n", "a1", "-f", f"{work}/flume.conf", "--data-dir",
                             f"{work}/flume-data", "--rest-listener", f"http://127.0.0.1:{free_port()}"],
                            cwd=work, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    try:
        lines = [f"flume-{i}" for i in range(100)]
        with open(f"{work}/flume-x", "w") as f:
            f.write("\n".join(lines) + "\n")
        os.rename(f"{work}/flume-x", f"{spool}/events.txt")

        def rolled():
            if proc.poll() is not None:
                raise SystemExit(f"weir flume exited; see {log}")
            return [x for n in os.listdir(roll) for x in lines_in(os.path.join(roll, n))]
        wait_for("100 events in the file_roll sink", lambda: len(rolled()) >= 100, 90)
        from confluent_kafka import Consumer, TopicPartition
        c = Consumer({**alice_conf(broker, work), "sasl.username": "admin", "sasl.password": PEOPLE["admin"],
                      "group.id": "flume-check"})
        c.assign([TopicPartition("acl-connect-flume-out", 0, 0)])
        got, deadline = [], time.time() + 60
        while len(got) < 100 and time.time() < deadline:
            m = c.poll(0.5)
            if m is not None and m.error() is None:
                got.append(m.value().decode())
        c.close()
        check("weir flume with a Kafka channel on SASL_SSL (Flume's kafka.producer./kafka.consumer. keys): "
              "spooldir's 100 events in the file_roll sink and, through the Kafka sink, in another topic",
              sorted(rolled()) == sorted(lines) and sorted(got) == sorted(lines), f"{len(rolled())} {len(got)}")
    finally:
        stop_process(proc)


def certificate_principal(broker, work):
    """A client certificate's subject (CN=client-app, OU=test) names the
    principal through the listener's mapping rule."""
    from confluent_kafka import KafkaError, Producer
    acls(broker, work, "--add", "--allow-principal", "User:client-app", "--producer", "--topic", "cert-topic")
    p = Producer({"bootstrap.servers": f"localhost:{broker.mtls}", "security.protocol": "SSL",
                  "ssl.ca.location": f"{work}/ca.pem", "ssl.certificate.location": f"{work}/client.pem",
                  "ssl.key.location": f"{work}/client-key.pem"})
    errors = {}

    def report(err, msg):
        errors[msg.topic()] = err.code() if err is not None else None
    p.produce("cert-topic", b"by certificate", on_delivery=report)
    p.produce("orders", b"must-not-arrive", on_delivery=report)
    p.flush(30)
    check("a client certificate's principal (User:client-app, by ssl.principal.mapping.rules) writes "
          "its topic and is refused another", errors == {"cert-topic": None,
                                                         "orders": KafkaError.TOPIC_AUTHORIZATION_FAILED},
          str(errors))
    with open(broker.log) as f:
        log = f.read()
    check("the broker names the certificate's principal in its refusal",
          "Principal = User:client-app is Denied operation = DESCRIBE" in log)


def main():
    work = tempfile.mkdtemp(prefix="weir-acls-")
    make_certs(work)
    with open(f"{work}/admin.properties", "w") as f:
        f.write(client_props(work, "PLAIN", "admin", PEOPLE["admin"]))
    broker = AclBroker(work)
    broker.start()
    try:
        out = tool(broker, work, "configs", "--alter", "--add-config",
                   f"SCRAM-SHA-512=[password={WORKER_PASSWORD}]", "--entity-type", "users",
                   "--entity-name", WORKER_USER)
        check("the super user creates the workers' SCRAM user over SASL_SSL", out.returncode == 0,
              out.stdout + out.stderr)
        listed = alice(broker, work)
        worker_acls(broker, work)
        standalone(broker, work)
        distributed(broker, work)
        flume(broker, work)
        before = acls(broker, work, "--list", "--topic", "orders", "--group", "orders-readers")
        broker.stop()
        broker.start()
        after = acls(broker, work, "--list", "--topic", "orders", "--group", "orders-readers")
        check("ACLs survive a broker restart", before == after and blocks(after) == blocks(listed), after)
        broker.stop()
        broker.add_certificate_listener()
        broker.start()
        certificate_principal(broker, work)
        logs = sorted(os.path.join(work, n) for n in os.listdir(work) if n.endswith(".log"))
        for path in logs:
            with open(path) as f:
                text = f.read()
            leaked = [s for s in SECRETS if s in text]
            check(f"no password in {os.path.basename(path)}", not leaked, str(leaked))
    finally:
        broker.stop()
    print("acls: all checks passed")


if __name__ == "__main__":
    main()
