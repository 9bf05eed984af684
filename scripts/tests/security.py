#!/usr/bin/env python3
"""The broker's TLS and SASL listeners with real clients.

Certificates are made here with openssl (a CA, the broker's certificate for
localhost and 127.0.0.1, a client certificate). One `weir broker` serves
PLAINTEXT, SSL, SSL with required client certificates, SASL_PLAINTEXT and
SASL_SSL (PLAIN users from the listener's JAAS config, SCRAM users created
with `weir configs --alter --add-config 'SCRAM-SHA-256=[...]'`). Then kcat
(on Debian's librdkafka and on the current one of the confluent-kafka wheel),
confluent-kafka, kafka-python and aiokafka each produce and read back records
over every secured listener and mechanism; a wrong password fails with
Kafka's authentication error; plaintext and garbage on the secured ports
are refused while the broker goes on serving; sessions are renewed under
`connections.max.reauth.ms`; SCRAM users survive a restart; no password
appears in the broker's log.

Usage: security.py WEIR_BINARY
"""

import asyncio
import glob
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

from standalone_worker import Worker, free_port, stop_process, wait_for, wait_listening

WEIR = os.path.abspath(sys.argv[1])
VENV = os.path.dirname(os.path.dirname(sys.executable))
PLAIN_USERS = {"admin": "admin-secret", "alice": "alice-pw-7Q2"}
SCRAM_USER, SCRAM_PASSWORD = "bob", "bob-pw-9Xk"
SECRETS = ["admin-secret", "alice-pw-7Q2", SCRAM_PASSWORD, "wrong-pw-3Zt"]
REAUTH_MS = 3000


def check(what, ok, detail=""):
    if not ok:
        raise SystemExit(f"security: {what} FAILED {detail}")
    print(f"security: {what}")


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_certs(d):
    """ca.pem, broker.pem (key and chain), client.pem and client-key.pem."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem", "-out", "ca.pem",
            "-days", "2", "-subj", "/CN=weir-test-ca", cwd=d)
    with open(os.path.join(d, "san.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    with open(os.path.join(d, "client.cnf"), "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    for name, subj, ext in [("broker", "/CN=localhost", ["-extfile", "san.cnf"]),
                            ("client", "/CN=client-app/OU=test", ["-extfile", "client.cnf"])]:
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}-key.pem", "-out", f"{name}.csr",
                "-subj", subj, cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", *ext, cwd=d)
    with open(os.path.join(d, "broker-keystore.pem"), "w") as out:
        for part in ("broker-key.pem", "broker.pem"):
            with open(os.path.join(d, part)) as f:
                out.write(f.read())
    # The same key and certificate as a PKCS12 keystore, and the CA as a
    # PKCS12 truststore, as keytool and most tutorials make them.
    openssl("pkcs12", "-export", "-in", "broker.pem", "-inkey", "broker-key.pem", "-out", "broker.p12",
            "-passout", "pass:ks-pass-1", "-name", "broker", cwd=d)
    openssl("pkcs12", "-export", "-nokeys", "-in", "ca.pem", "-out", "truststore.p12",
            "-passout", "pass:ts-pass-1", "-name", "ca", cwd=d)


class Broker:
    def __init__(self, work):
        self.work = work
        self.ports = {n: free_port() for n in ("PLAINTEXT", "SSL", "MTLS", "SASL_PLAINTEXT", "SASL_SSL", "P12")}
        jaas = ("org.apache.kafka.common.security.plain.PlainLoginModule required "
                'username="admin" password="admin-secret" '
                + " ".join(f'user_{u}="{p}"' for u, p in PLAIN_USERS.items()) + ";")
        props = [
            "node.id=1",
            f"log.dirs={work}/data",
            "listeners=" + ",".join(f"{n}://127.0.0.1:{p}" for n, p in self.ports.items()),
            "advertised.listeners=" + ",".join(f"{n}://localhost:{p}" for n, p in self.ports.items()),
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,MTLS:SSL,"
            "SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,P12:SSL",
            "listener.name.p12.ssl.keystore.type=PKCS12",
            f"listener.name.p12.ssl.keystore.location={work}/broker.p12",
            "listener.name.p12.ssl.keystore.password=ks-pass-1",
            "ssl.keystore.type=PEM",
            f"ssl.keystore.location={work}/broker-keystore.pem",
            "ssl.truststore.type=PEM",
            f"ssl.truststore.location={work}/ca.pem",
            "listener.name.mtls.ssl.client.auth=required",
            "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
            f"listener.name.sasl_plaintext.plain.sasl.jaas.config={jaas}",
            f"listener.name.sasl_ssl.plain.sasl.jaas.config={jaas}",
            f"listener.name.sasl_ssl.scram-sha-512.connections.max.reauth.ms={REAUTH_MS}",
            "num.partitions=1",
            "max.connections.per.ip=120",
        ]
        self.props = os.path.join(work, "server.properties")
        with open(self.props, "w") as f:
            f.write("\n".join(props) + "\n")
        self.log = os.path.join(work, "broker.log")
        self.proc = None

    def start(self):
        log = open(self.log, "a")
        env = {**os.environ, "RUST_LOG": "info,broker_core::security=debug"}
        self.proc = subprocess.Popen([WEIR, "broker", self.props], stdout=log, stderr=subprocess.STDOUT,
                                     cwd=self.work, env=env)
        wait_listening(self.proc, self.ports["SASL_SSL"], self.log)

    def stop(self):
        stop_process(self.proc)

    def addr(self, listener):
        return f"localhost:{self.ports[listener]}"


# (label, listener, mechanism, user, password, client certificate)
CASES = [
    ("SSL", "SSL", None, None, None, False),
    ("SSL with a client certificate", "MTLS", None, None, None, True),
    ("SASL_PLAINTEXT PLAIN", "SASL_PLAINTEXT", "PLAIN", "alice", PLAIN_USERS["alice"], False),
    ("SASL_PLAINTEXT SCRAM-SHA-256", "SASL_PLAINTEXT", "SCRAM-SHA-256", SCRAM_USER, SCRAM_PASSWORD, False),
    ("SASL_SSL PLAIN", "SASL_SSL", "PLAIN", "alice", PLAIN_USERS["alice"], False),
    ("SASL_SSL SCRAM-SHA-256", "SASL_SSL", "SCRAM-SHA-256", SCRAM_USER, SCRAM_PASSWORD, False),
    ("SASL_SSL SCRAM-SHA-512", "SASL_SSL", "SCRAM-SHA-512", SCRAM_USER, SCRAM_PASSWORD, False),
]


def protocol_of(listener):
    return "SSL" if listener in ("MTLS", "P12") else listener


def rdkafka_conf(broker, work, case, password=None):
    _, listener, mech, user, pw, cert = case
    conf = {"bootstrap.servers": broker.addr(listener), "security.protocol": protocol_of(listener)}
    if "SSL" in protocol_of(listener):
        conf["ssl.ca.location"] = f"{work}/ca.pem"
    if cert:
        conf["ssl.certificate.location"] = f"{work}/client.pem"
        conf["ssl.key.location"] = f"{work}/client-key.pem"
    if mech:
        conf.update({"sasl.mechanisms": mech, "sasl.username": user, "sasl.password": password or pw})
    return conf


def kcat_roundtrip(broker, work, case, topic, env, label):
    conf = rdkafka_conf(broker, work, case)
    x = [a for k, v in conf.items() if k != "bootstrap.servers" for a in ("-X", f"{k}={v}")]
    lines = [f"{label}-{i}" for i in range(20)]
    subprocess.run(["kcat", "-b", conf["bootstrap.servers"], *x, "-P", "-t", topic], input="\n".join(lines) + "\n",
                   text=True, check=True, env=env, timeout=60)
    out = subprocess.run(["kcat", "-b", conf["bootstrap.servers"], *x, "-C", "-t", topic, "-o", "beginning",
                          "-e", "-q"], text=True, capture_output=True, env=env, timeout=60)
    got = [line for line in out.stdout.splitlines() if line.startswith(label)]
    check(f"kcat ({env.get('WEIR_RDKAFKA', 'debian')}) {case[0]}: 20 records produced and read back",
          got == lines, out.stderr[-400:])


def confluent_roundtrip(broker, work, case, topic):
    from confluent_kafka import Consumer, Producer, TopicPartition
    conf = rdkafka_conf(broker, work, case)
    errors = []
    p = Producer(conf)
    for i in range(20):
        p.produce(topic, f"ck-{i}".encode(), on_delivery=lambda e, m: e and errors.append(e))
    left = p.flush(30)
    check(f"confluent-kafka {case[0]}: 20 records acknowledged", left == 0 and not errors, str(errors))
    c = Consumer({**conf, "group.id": "security-test", "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, 0)])
    got, deadline = [], time.time() + 30
    while len(got) < 20 and time.time() < deadline:
        m = c.poll(1)
        if m is not None and m.error() is None:
            got.append(m.value().decode())
    c.close()
    check(f"confluent-kafka {case[0]}: 20 records read back", got == [f"ck-{i}" for i in range(20)], str(got))


def kafka_python_args(broker, work, case, password=None):
    _, listener, mech, user, pw, cert = case
    args = {"bootstrap_servers": broker.addr(listener), "security_protocol": protocol_of(listener)}
    if "SSL" in protocol_of(listener):
        args["ssl_cafile"] = f"{work}/ca.pem"
    if cert:
        args.update(ssl_certfile=f"{work}/client.pem", ssl_keyfile=f"{work}/client-key.pem")
    if mech:
        args.update(sasl_mechanism=mech, sasl_plain_username=user, sasl_plain_password=password or pw)
    return args


def kafka_python_roundtrip(broker, work, case, topic):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    args = kafka_python_args(broker, work, case)
    p = KafkaProducer(**args, request_timeout_ms=30000)
    futures = [p.send(topic, f"kp-{i}".encode()) for i in range(20)]
    for f in futures:
        f.get(timeout=30)
    p.close()
    c = KafkaConsumer(**args, enable_auto_commit=False, consumer_timeout_ms=10000)
    c.assign([TopicPartition(topic, 0)])
    c.seek_to_beginning()
    got = [m.value.decode() for m in c if m.value.startswith(b"kp-")][:20]
    c.close()
    check(f"kafka-python {case[0]}: 20 records produced and read back", got == [f"kp-{i}" for i in range(20)],
          str(got))


async def aiokafka_roundtrip(broker, work, case, topic):
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
    from aiokafka.helpers import create_ssl_context
    _, listener, mech, user, pw, cert = case
    args = {"bootstrap_servers": broker.addr(listener), "security_protocol": protocol_of(listener)}
    if "SSL" in protocol_of(listener):
        ctx = create_ssl_context(cafile=f"{work}/ca.pem",
                                 certfile=f"{work}/client.pem" if cert else None,
                                 keyfile=f"{work}/client-key.pem" if cert else None)
        args["ssl_context"] = ctx
    if mech:
        args.update(sasl_mechanism=mech, sasl_plain_username=user, sasl_plain_password=pw)
    p = AIOKafkaProducer(**args)
    await p.start()
    try:
        for i in range(20):
            await p.send_and_wait(topic, f"ak-{i}".encode())
    finally:
        await p.stop()
    c = AIOKafkaConsumer(**args, enable_auto_commit=False)
    await c.start()
    got = []
    try:
        tp = TopicPartition(topic, 0)
        c.assign([tp])
        await c.seek_to_beginning(tp)
        deadline = time.time() + 30
        while len(got) < 20 and time.time() < deadline:
            batch = await c.getmany(tp, timeout_ms=1000)
            got += [m.value.decode() for m in batch.get(tp, []) if m.value.startswith(b"ak-")]
    finally:
        await c.stop()
    check(f"aiokafka {case[0]}: 20 records produced and read back", got == [f"ak-{i}" for i in range(20)], str(got))


def pkcs12_stores(broker, work):
    """A listener with a PKCS12 keystore; Weir's own client and the console
    producer (librdkafka) trusting it through a PKCS12 truststore."""
    kcat_roundtrip(broker, work, ("SSL with a PKCS12 keystore", "P12", None, None, None, False),
                   "p12-kcat", dict(os.environ), "p12")
    with open(f"{work}/p12-client.properties", "w") as f:
        f.write(f"security.protocol=SSL\nssl.truststore.location={work}/ca.pem\n")
    out = subprocess.run([WEIR, "topics", "--bootstrap-server", broker.addr("P12"), "--list", "--command-config",
                          f"{work}/p12-client.properties"], text=True, capture_output=True, timeout=60)
    check("weir topics over SSL to the PKCS12 listener (--command-config)",
          out.returncode == 0 and "p12-kcat" in out.stdout, out.stdout + out.stderr)
    out = subprocess.run([WEIR, "produce", "--bootstrap-server", broker.addr("P12"), "--topic", "p12-console",
                          "--producer.config", f"{work}/p12-client.properties"], input="one\ntwo\n",
                         text=True, capture_output=True, timeout=60)
    got = subprocess.run(["kcat", "-b", broker.addr("PLAINTEXT"), "-C", "-t", "p12-console", "-o", "beginning",
                          "-e", "-q"], text=True, capture_output=True, timeout=60).stdout.split()
    check("the console producer (librdkafka) with Kafka's ssl.truststore.location",
          out.returncode == 0 and got == ["one", "two"], out.stderr + str(got))
    # OpenSSL 3.0 cannot mark certificates trusted as keytool does: such a
    # store is refused with what to do instead.
    with open(f"{work}/p12-ts.properties", "w") as f:
        f.write("security.protocol=SSL\nssl.truststore.type=PKCS12\n"
                f"ssl.truststore.location={work}/truststore.p12\nssl.truststore.password=ts-pass-1\n")
    out = subprocess.run([WEIR, "topics", "--bootstrap-server", broker.addr("P12"), "--list", "--command-config",
                          f"{work}/p12-ts.properties"], text=True, capture_output=True, timeout=60)
    check("a PKCS12 truststore without trusted entries is refused, saying how to convert it",
          out.returncode != 0 and "no trusted certificate found" in out.stdout + out.stderr
          and "openssl pkcs12" in out.stdout + out.stderr, out.stdout + out.stderr)


def wrong_passwords(broker, work):
    from confluent_kafka import Producer
    for case in [CASES[2], CASES[5]]:
        conf = rdkafka_conf(broker, work, case, password="wrong-pw-3Zt")
        out = subprocess.run(["kcat", "-b", conf["bootstrap.servers"],
                              *[a for k, v in conf.items() if k != "bootstrap.servers" for a in ("-X", f"{k}={v}")],
                              "-L", "-m", "10"], text=True, capture_output=True, timeout=60)
        check(f"kcat {case[0]} with a wrong password fails with the authentication error",
              out.returncode != 0 and "Authentication failed" in out.stderr, out.stderr[-400:])
        errors = []
        p = Producer({**conf, "error_cb": errors.append, "log_level": 0})
        p.produce("secured", b"must-not-arrive")
        left = p.flush(3)
        check(f"confluent-kafka {case[0]} with a wrong password: nothing delivered, SASL authentication failed",
              left == 1 and any("Authentication failed" in e.str() for e in errors), str(errors[:2]))
    import logging
    from kafka import KafkaProducer
    from kafka.errors import KafkaError
    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())
    handler = Keep(logging.WARNING)
    logging.getLogger("kafka").addHandler(handler)
    try:
        KafkaProducer(**kafka_python_args(broker, work, CASES[3], password="wrong-pw-3Zt"),
                      request_timeout_ms=5000, max_block_ms=5000)
        failed = ""
    except KafkaError as e:
        failed = f"{type(e).__name__}: {e}"
    finally:
        logging.getLogger("kafka").removeHandler(handler)
    check("kafka-python SCRAM-SHA-256 with a wrong password cannot connect and logs the broker's reason",
          failed and any("invalid credentials" in m for m in seen), f"{failed} {seen[:3]}")


def raw(port, payload, read=True):
    """Sends bytes to a port; what comes back before the broker closes (or b'' on timeout)."""
    s = socket.create_connection(("127.0.0.1", port), 5)
    s.settimeout(1)
    try:
        s.sendall(payload)
        if not read:
            return b""
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return data
            data += chunk
    except OSError:
        return b""
    finally:
        s.close()


def hostile_input(broker):
    """Requests before authentication, garbage, truncated and oversized frames."""
    metadata_v1 = struct.pack(">hhih", 3, 1, 7, 4) + b"test" + struct.pack(">i", -1)
    frame = struct.pack(">i", len(metadata_v1)) + metadata_v1
    out = raw(broker.ports["SASL_PLAINTEXT"], frame)
    check("a Metadata request before SASL authentication closes the connection unanswered", out == b"", repr(out))
    oversized = struct.pack(">i", 10_000_000) + b"x" * 1000
    out = raw(broker.ports["SASL_PLAINTEXT"], oversized)
    check("a 10 MB frame before authentication is refused", out == b"")
    for name in ("SSL", "SASL_SSL", "MTLS"):
        out = raw(broker.ports[name], frame)
        check(f"plaintext Kafka on the {name} port gets no Kafka answer", b"test" not in out)
    import random
    rnd = random.Random(20261205)
    for i in range(200):
        port = broker.ports[rnd.choice(["SSL", "SASL_SSL", "SASL_PLAINTEXT", "MTLS"])]
        n = rnd.choice([1, 3, 4, 5, 9, 64, 600])
        payload = bytes(rnd.getrandbits(8) for _ in range(n))
        if rnd.random() < 0.5:
            # A SaslHandshake/TLS-like prefix followed by garbage.
            payload = rnd.choice([b"\x16\x03\x01", struct.pack(">ihhi", 30, 17, 1, i)]) + payload
        raw(port, payload, read=rnd.random() < 0.2)
    # From an address of its own, so that the count is this flood's alone.
    flood = []
    for _ in range(150):
        try:
            flood.append(socket.create_connection(("127.0.0.1", broker.ports["SASL_SSL"]), 5,
                                                  source_address=("127.0.0.3", 0)))
        except OSError:
            break
    time.sleep(0.5)
    refused = 0
    for s in flood:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                refused += 1
        except BlockingIOError:
            pass
        except OSError:
            refused += 1
    for s in flood:
        s.close()
    check(f"max.connections.per.ip=120: of 150 idle connections, {refused} were closed at once",
          len(flood) == 150 and refused == 30, str(refused))
    time.sleep(0.5)
    check("after 200 garbage, truncated and oversized frames and 150 idle connections, the broker is up",
          broker.proc.poll() is None)
    hello = client_hello()
    for i in range(150):
        port = broker.ports[rnd.choice(["SSL", "SASL_SSL", "MTLS"])]
        cut = bytearray(hello)
        how = rnd.choice(["truncate", "flip", "append", "length"])
        if how == "truncate":
            cut = cut[:rnd.randrange(1, len(cut))]
        elif how == "flip":
            for _ in range(rnd.randrange(1, 8)):
                cut[rnd.randrange(len(cut))] = rnd.getrandbits(8)
        elif how == "append":
            cut += bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1, 2000)))
        else:
            cut[3:5] = struct.pack(">H", 0xFFFF)
        raw(port, bytes(cut), read=rnd.random() < 0.2)
    check(f"150 mutated TLS ClientHellos ({len(hello)} bytes, truncated, flipped, extended, "
          "with an oversized record length) leave the broker up", broker.proc.poll() is None)


def client_hello():
    """The first bytes a real TLS client sends."""
    import ssl
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ssl.create_default_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def kafka_request(key, version, cid, body):
    header = struct.pack(">hhih", key, version, cid, 5) + b"flood"
    return struct.pack(">i", len(header) + len(body)) + header + body


def failed_login(port, n):
    """SaslHandshake v1 for PLAIN, then SaslAuthenticate v1 with a wrong
    password; the broker's answer (empty when it closed at once)."""
    mech = b"PLAIN"
    token = b"\0alice\0wrong-pw-3Zt-" + str(n).encode()
    # From another loopback address: the clients of 127.0.0.1 keep their
    # own max.connections.per.ip.
    s = socket.create_connection(("127.0.0.1", port), 5, source_address=("127.0.0.2", 0))
    s.settimeout(5)
    try:
        s.sendall(kafka_request(17, 1, 1, struct.pack(">h", len(mech)) + mech))
        s.recv(4096)
        s.sendall(kafka_request(36, 1, 2, struct.pack(">i", len(token)) + token))
        return s.recv(4096)
    except OSError:
        return b""
    finally:
        s.close()


def authentication_flood(broker, work):
    """20 clients failing to log in, 10 times each, while a real client
    produces and consumes over SASL_SSL."""
    import threading
    answers = []

    def attacker(k):
        for n in range(10):
            answers.append(failed_login(broker.ports["SASL_PLAINTEXT"], k * 10 + n))
    threads = [threading.Thread(target=attacker, args=(k,)) for k in range(20)]
    start = time.time()
    for t in threads:
        t.start()
    confluent_roundtrip(broker, work, CASES[5], "during-the-flood")
    served = time.time() - start
    for t in threads:
        t.join(60)
    # SASL_AUTHENTICATION_FAILED (58) in the SaslAuthenticate v1 answer, or
    # closed at once: a failed login holds its connection for the failed-
    # authentication delay, so a flooding address soon meets its own
    # max.connections.per.ip while other clients go on.
    failed = sum(1 for a in answers if len(a) >= 10 and struct.unpack(">h", a[8:10])[0] == 58)
    closed = sum(1 for a in answers if a == b"")
    with open(broker.log) as f:
        limited = f.read().count("refusing a connection from 127.0.0.2:")
    check(f"200 failed logins from 20 clients of one address: {failed} answered SASL_AUTHENTICATION_FAILED, "
          f"{closed} refused by that address's max.connections.per.ip, none let in; meanwhile a SCRAM "
          f"client of another address produced and read back 20 records ({served:.1f} s)",
          failed >= 20 and failed + closed == 200 and limited == closed and broker.proc.poll() is None,
          f"{len(answers)} answers, {limited} refusals logged")


def security_lines(prefix, work):
    jaas = ("org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{SCRAM_USER}" password="{SCRAM_PASSWORD}";')
    return "".join(f"{prefix}{k}={v}\n" for k, v in [
        ("security.protocol", "SASL_SSL"), ("sasl.mechanism", "SCRAM-SHA-512"), ("sasl.jaas.config", jaas),
        ("ssl.truststore.type", "PEM"), ("ssl.truststore.location", f"{work}/ca.pem")])


def lines_in(path):
    try:
        with open(path) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def workers(broker, work):
    """A standalone worker (worker-level keys only, which its tasks inherit)
    and a distributed worker (the keys set three times, as Kafka's docs
    say) against the SASL_SSL listener only."""
    sw = Worker(WEIR, broker.addr("SASL_SSL"), work, "standalone")
    with open(f"{work}/standalone.properties", "a") as f:
        f.write(security_lines("", work))
    sw.start()
    logs = [f"{work}/standalone.log"]
    src = f"{work}/source.txt"
    with open(src, "w") as f:
        f.write("".join(f"line-{i}\n" for i in range(50)))
    try:
        sw.create("sec-source", {"connector.class": "FileStreamSource", "file": src, "topic": "sec-files",
                                 "value.converter": "org.apache.kafka.connect.storage.StringConverter"})
        # The sink's consumer logs in with its own override: a secret in a
        # connector config, which REST answers must hide.
        overrides = {k: v for k, v in (line.split("=", 1) for line in
                                       security_lines("consumer.override.", work).splitlines())}
        sink = {"connector.class": "FileStreamSink", "file": f"{work}/sink.txt", "topics": "sec-files",
                "value.converter": "org.apache.kafka.connect.storage.StringConverter", **overrides}
        sw.create("sec-sink", sink)
        wait_for("50 lines through a standalone worker on SASL_SSL",
                 lambda: len(lines_in(f"{work}/sink.txt")) == 50, 60)
        check("weir standalone on SASL_SSL/SCRAM-SHA-512: a FileStream source and sink moved 50 lines in order",
              lines_in(f"{work}/sink.txt") == lines_in(src))
        shown = [sw.call("GET", "/connectors/sec-sink/config")[1], sw.call("GET", "/connectors/sec-sink")[1],
                 sw.call("GET", "/connectors/sec-sink/tasks")[1], sw.call("GET", "/connectors?expand=info")[1]]
        check("the connector's sasl.jaas.config is [hidden] in every REST answer",
              all(SCRAM_PASSWORD not in str(x) for x in shown)
              and shown[0]["consumer.override.sasl.jaas.config"] == "[hidden]", str(shown[0]))
        config = shown[0]
        config["file"] = f"{work}/sink2.txt"
        code, body = sw.call("PUT", "/connectors/sec-sink/config", config)
        check("a config written back with [hidden] keeps the stored secret", code == 200, f"{code} {body}")
        with open(src, "a") as f:
            f.write("".join(f"line-{i}\n" for i in range(50, 60)))
        wait_for("the reconfigured sink writing with the kept credentials",
                 lambda: len(lines_in(f"{work}/sink2.txt")) == 10, 60)
        check("its /health is 200 (it reaches its broker)", sw.call("GET", "/health")[0] == 200)
    finally:
        sw.stop()
    rest = free_port()
    with open(f"{work}/distributed.properties", "w") as f:
        f.write(f"bootstrap.servers={broker.addr('SASL_SSL')}\ngroup.id=secure-cluster\n"
                f"listeners=http://127.0.0.1:{rest}\n"
                "config.storage.topic=sec-configs\noffset.storage.topic=sec-offsets\n"
                "status.storage.topic=sec-status\nconfig.storage.replication.factor=1\n"
                "offset.storage.replication.factor=1\nstatus.storage.replication.factor=1\n"
                "key.converter=org.apache.kafka.connect.storage.StringConverter\n"
                "value.converter=org.apache.kafka.connect.storage.StringConverter\n"
                "scheduled.rebalance.max.delay.ms=0\n"
                + security_lines("", work) + security_lines("producer.", work) + security_lines("consumer.", work))
    logs.append(f"{work}/distributed.log")
    proc = subprocess.Popen([WEIR, "distributed", f"{work}/distributed.properties"], cwd=work,
                            stdout=open(logs[-1], "w"), stderr=subprocess.STDOUT)
    dw = Worker.__new__(Worker)
    dw.rest, dw.name, dw.work, dw.proc = rest, "distributed", work, proc
    try:
        def answering():
            if proc.poll() is not None:
                raise SystemExit(f"weir distributed exited; see {logs[-1]}")
            try:
                return dw.call("GET", "/connectors")[0] == 200
            except OSError:
                return False
        wait_for("weir distributed answering", answering, 60)
        dw.create("dist-sink", {"connector.class": "FileStreamSink", "file": f"{work}/dsink.txt",
                                "topics": "sec-files"})
        wait_for("all 60 lines through a distributed worker on SASL_SSL",
                 lambda: len(lines_in(f"{work}/dsink.txt")) == 60, 90)
        # Its status reaches the status topic and comes back a moment later.
        wait_for("the distributed sink's task RUNNING in its status",
                 lambda: [t["state"] for t in dw.call("GET", "/connectors/dist-sink/status")[1]["tasks"]]
                 == ["RUNNING"], 30)
        status = dw.call("GET", "/connectors/dist-sink/status")[1]
        check("weir distributed on SASL_SSL/SCRAM-SHA-512: internal topics, group membership and a sink work",
              status["connector"]["state"] == "RUNNING" and status["tasks"][0]["state"] == "RUNNING", str(status))
    finally:
        stop_process(proc)
    for path in logs:
        with open(path) as f:
            text = f.read()
        leaked = [x for x in SECRETS if x in text]
        check(f"no password in {os.path.basename(path)}", not leaked, str(leaked))


REST_USERS = {"admin": "rest-admin-pw-4Hs"}
SECRETS.append(REST_USERS["admin"])


def curl(work, url, *args):
    out = subprocess.run(["curl", "-s", "--cacert", f"{work}/ca.pem", "-o", "-", "-w", "\n%{http_code}", *args, url],
                         text=True, capture_output=True, timeout=60)
    body, _, code = out.stdout.rpartition("\n")
    return int(code or 0), body


def rest_security(broker, work):
    """The REST API over HTTPS behind Kafka Connect's basic authentication:
    two distributed workers, a follower forwarding to the leader over TLS."""
    with open(f"{work}/rest-users.properties", "w") as f:
        f.write("".join(f"{u}: {p}\n" for u, p in REST_USERS.items()))
    with open(f"{work}/connect-jaas.conf", "w") as f:
        f.write("KafkaConnect {\n  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule "
                f'required file="{work}/rest-users.properties";\n}};\n')
    env = {**os.environ, "KAFKA_OPTS": f"-Djava.security.auth.login.config={work}/connect-jaas.conf"}
    ports = [free_port(), free_port()]
    procs = []
    for i, port in enumerate(ports):
        props = f"{work}/rest-{i}.properties"
        with open(props, "w") as f:
            f.write(f"bootstrap.servers={broker.addr('SASL_SSL')}\ngroup.id=rest-cluster\n"
                    f"listeners=https://localhost:{port}\n"
                    "admin.listeners=\n"
                    "listeners.https.ssl.keystore.type=PEM\n"
                    f"listeners.https.ssl.keystore.location={work}/broker-keystore.pem\n"
                    "listeners.https.ssl.truststore.type=PEM\n"
                    f"listeners.https.ssl.truststore.location={work}/ca.pem\n"
                    "rest.extension.classes=org.apache.kafka.connect.rest.basic.auth.extension."
                    "BasicAuthSecurityRestExtension\n"
                    "access.control.allow.origin=https://ui.example\n"
                    "config.storage.topic=rest-configs\noffset.storage.topic=rest-offsets\n"
                    "status.storage.topic=rest-status\nconfig.storage.replication.factor=1\n"
                    "offset.storage.replication.factor=1\nstatus.storage.replication.factor=1\n"
                    "key.converter=org.apache.kafka.connect.storage.StringConverter\n"
                    "value.converter=org.apache.kafka.connect.storage.StringConverter\n"
                    "scheduled.rebalance.max.delay.ms=0\n" + security_lines("", work))
        log = open(f"{work}/rest-{i}.log", "w")
        procs.append(subprocess.Popen([WEIR, "distributed", props], cwd=work, env=env, stdout=log,
                                      stderr=subprocess.STDOUT))
        if i == 0:
            wait_for("the first HTTPS worker answering",
                     lambda: curl(work, f"https://localhost:{ports[0]}/")[0] == 401, 60)
    auth = ["-u", f"admin:{REST_USERS['admin']}"]
    try:
        wait_for("both HTTPS workers answering",
                 lambda: all(curl(work, f"https://localhost:{p}/connectors", *auth)[0] == 200 for p in ports), 60)
        code, body = curl(work, f"https://localhost:{ports[1]}/connectors")
        check("curl without credentials gets 401 with Kafka Connect's body",
              code == 401 and body == "User cannot access the resource.", f"{code} {body!r}")
        code, _ = curl(work, f"https://localhost:{ports[1]}/connectors", "-u", "admin:wrong-pw-3Zt")
        check("curl with a wrong password gets 401", code == 401, str(code))
        code, body = curl(work, f"https://localhost:{ports[1]}/connectors", *auth)
        check("curl with the credentials over HTTPS gets 200", code == 200 and body == "[]", f"{code} {body}")
        code, _ = curl(work, f"http://localhost:{ports[1]}/connectors", *auth)
        check("plain HTTP on the HTTPS port is refused", code != 200, str(code))
        # Whichever worker follows forwards the creation to the leader over TLS.
        for p in ports:
            code, body = curl(work, f"https://localhost:{p}/connectors", *auth, "-X", "POST", "-H",
                              "Content-Type: application/json", "-d",
                              json_dumps({"name": f"rest-sink-{p}", "config": {
                                  "connector.class": "FileStreamSink", "file": f"{work}/rest-sink-{p}.txt",
                                  "topics": "sec-files"}}))
            check(f"POST /connectors through the worker on {p} (leader or follower) creates it", code == 201,
                  f"{code} {body}")
        forwarded = any("forwarding POST /connectors" in open(f"{work}/rest-{i}.log").read() for i in range(2))
        check("the follower forwarded its creation to the leader over HTTPS", forwarded)
        out = subprocess.run([WEIR, "connect", "--url", f"https://localhost:{ports[0]}", "--cacert", f"{work}/ca.pem",
                              "--user", f"admin:{REST_USERS['admin']}", "get", "connectors"],
                             text=True, capture_output=True, timeout=60)
        check("weir connect --user --cacert lists the connectors over HTTPS",
              out.returncode == 0 and f"rest-sink-{ports[0]}" in out.stdout, out.stdout + out.stderr)
        out = subprocess.run([WEIR, "connect", "--url", f"https://localhost:{ports[0]}", "--cacert", f"{work}/ca.pem",
                              "get", "connectors"], text=True, capture_output=True, timeout=60)
        check("weir connect without credentials reports the 401", out.returncode != 0 and "401" in out.stderr,
              out.stderr)
        code, _ = curl(work, f"https://localhost:{ports[0]}/admin/loggers", *auth)
        check("admin.listeners= (empty) turns /admin off", code == 404, str(code))
        out = subprocess.run(["curl", "-s", "-D", "-", "-o", "/dev/null", "--cacert", f"{work}/ca.pem", *auth, "-H",
                              "Origin: https://ui.example", f"https://localhost:{ports[0]}/connectors"],
                             text=True, capture_output=True, timeout=60)
        check("an allowed origin gets Access-Control-Allow-Origin",
              "access-control-allow-origin: https://ui.example" in out.stdout.lower(), out.stdout)
        out = subprocess.run(["curl", "-s", "-D", "-", "-o", "/dev/null", "--cacert", f"{work}/ca.pem", *auth, "-H",
                              "Origin: https://evil.example", f"https://localhost:{ports[0]}/connectors"],
                             text=True, capture_output=True, timeout=60)
        check("another origin does not", "access-control-allow-origin" not in out.stdout.lower(), out.stdout)
    finally:
        for p in procs:
            stop_process(p)
    for i in range(2):
        with open(f"{work}/rest-{i}.log") as f:
            text = f.read()
        leaked = [x for x in SECRETS if x in text]
        check(f"no password in rest-{i}.log", not leaked, str(leaked))


def rest_mutual_tls(broker, work):
    """ssl.client.authentication=required: only clients with a certificate
    signed by the worker's truststore reach the REST API."""
    w = Worker(WEIR, broker.addr("PLAINTEXT"), work, "mtls-rest")
    with open(f"{work}/mtls-rest.properties") as f:
        text = f.read().replace(f"listeners=http://127.0.0.1:{w.rest}", f"listeners=https://localhost:{w.rest}")
    with open(f"{work}/mtls-rest.properties", "w") as f:
        f.write(text + "listeners.https.ssl.keystore.type=PEM\n"
                f"listeners.https.ssl.keystore.location={work}/broker-keystore.pem\n"
                f"listeners.https.ssl.truststore.location={work}/ca.pem\n"
                "listeners.https.ssl.client.authentication=required\n")
    log = open(f"{work}/mtls-rest.log", "w")
    proc = subprocess.Popen([WEIR, "standalone", f"{work}/mtls-rest.properties"], cwd=work, stdout=log,
                            stderr=subprocess.STDOUT)
    cert = ["--cert", f"{work}/client.pem", "--key", f"{work}/client-key.pem"]
    try:
        wait_for("the mutual-TLS REST API answering",
                 lambda: curl(work, f"https://localhost:{w.rest}/connectors", *cert)[0] == 200, 60)
        code, _ = curl(work, f"https://localhost:{w.rest}/connectors")
        check("REST with ssl.client.authentication=required refuses a client without a certificate", code == 0,
              str(code))
        code, body = curl(work, f"https://localhost:{w.rest}/connectors", *cert)
        check("and answers one with a certificate the truststore signed", code == 200 and body == "[]",
              f"{code} {body}")
    finally:
        stop_process(proc)


def local_paths(broker, work):
    """A worker whose REST API is reachable from the network without
    authentication refuses connectors on local files and commands, and
    connector.allowed.paths bounds them."""
    w = Worker(WEIR, broker.addr("PLAINTEXT"), work, "exposed")
    with open(f"{work}/exposed.properties") as f:
        text = f.read().replace("listeners=http://127.0.0.1:", "listeners=http://0.0.0.0:")
    with open(f"{work}/exposed.properties", "w") as f:
        f.write(text)
    w.start()
    try:
        code, body = w.call("POST", "/connectors", {"name": "steal", "config": {
            "connector.class": "FileStreamSource", "file": "/etc/passwd", "topic": "stolen"}})
        check("an unauthenticated worker on 0.0.0.0 refuses FileStreamSource on /etc/passwd, naming key and path",
              code == 400 and "Invalid value /etc/passwd for configuration file" in body["message"]
              and "connector.allowed.paths" in body["message"], f"{code} {body}")
        code, body = w.call("POST", "/connectors", {"name": "run", "config": {
            "connector.class": "exec", "command": "cat /etc/passwd", "topic": "stolen"}})
        check("and an exec source", code == 400 and "does not run commands" in body["message"], f"{code} {body}")
    finally:
        w.stop()
    allowed = f"{work}/allowed"
    os.makedirs(allowed, exist_ok=True)
    with open(f"{work}/exposed.properties", "a") as f:
        f.write(f"connector.allowed.paths={allowed}\n")
    w.start()
    try:
        code, body = w.call("POST", "/connectors", {"name": "inside", "config": {
            "connector.class": "FileStreamSink", "file": f"{allowed}/out.txt", "topics": "sec-files"}})
        check("connector.allowed.paths lets a sink write inside it", code == 201, f"{code} {body}")
        code, body = w.call("POST", "/connectors", {"name": "escape", "config": {
            "connector.class": "FileStreamSink", "file": f"{allowed}/../escape.txt", "topics": "sec-files"}})
        check("and refuses a path that leaves it through ..", code == 400 and "is not under" in body["message"],
              f"{code} {body}")
    finally:
        w.stop()


def json_dumps(v):
    import json
    return json.dumps(v)


def main():
    work = tempfile.mkdtemp(prefix="weir-security-")
    make_certs(work)
    broker = Broker(work)
    broker.start()
    try:
        out = subprocess.run([WEIR, "configs", "--bootstrap-server", broker.addr("PLAINTEXT"), "--alter",
                              "--add-config",
                              f"SCRAM-SHA-256=[iterations=8192,password={SCRAM_PASSWORD}],"
                              f"SCRAM-SHA-512=[password={SCRAM_PASSWORD}]",
                              "--entity-type", "users", "--entity-name", SCRAM_USER],
                             text=True, capture_output=True, timeout=60)
        check("weir configs --alter --add-config SCRAM-SHA-256=[...] answers as kafka-configs.sh",
              out.stdout.strip() == f"Completed updating config for user {SCRAM_USER}.", out.stdout + out.stderr)
        out = subprocess.run([WEIR, "configs", "--bootstrap-server", broker.addr("PLAINTEXT"), "--describe",
                              "--entity-type", "users"], text=True, capture_output=True, timeout=60)
        expect = (f"SCRAM credential configs for user-principal '{SCRAM_USER}' are "
                  "SCRAM-SHA-256=iterations=8192, SCRAM-SHA-512=iterations=4096")
        check("weir configs --describe --entity-type users lists mechanisms and iterations, no secret",
              out.stdout.strip() == expect, out.stdout + out.stderr)

        lib = glob.glob(os.path.join(VENV, "lib", "python*", "site-packages", "confluent_kafka.libs",
                                     "librdkafka*.so*"))
        envs = [dict(os.environ)]
        if lib:
            shim = os.path.join(work, "rdkafka")
            os.makedirs(shim, exist_ok=True)
            os.symlink(lib[0], os.path.join(shim, "librdkafka.so.1"))
            envs.append({**os.environ, "LD_LIBRARY_PATH": f"{shim}:{os.path.dirname(lib[0])}",
                         "WEIR_RDKAFKA": "current"})
        check("the confluent-kafka wheel's librdkafka was found for kcat", bool(lib))
        for n, case in enumerate(CASES):
            for env in envs:
                kcat_roundtrip(broker, work, case, f"kcat-{n}-{env.get('WEIR_RDKAFKA', 'debian')}", env,
                               f"kc{n}")
            confluent_roundtrip(broker, work, case, f"ck-{n}")
            kafka_python_roundtrip(broker, work, case, f"kp-{n}")
            asyncio.run(aiokafka_roundtrip(broker, work, case, f"ak-{n}"))

        pkcs12_stores(broker, work)
        wrong_passwords(broker, work)
        out = subprocess.run(["kcat", "-b", broker.addr("PLAINTEXT"), "-C", "-t", "secured", "-o", "beginning",
                              "-e", "-q"], text=True, capture_output=True, timeout=60)
        check("nothing a client with a wrong password sent arrived", "must-not-arrive" not in out.stdout)

        # Sessions of SASL_SSL last REAUTH_MS: a consumer reading for longer
        # re-authenticates on its connection (KIP-368) and goes on.
        from confluent_kafka import Consumer, Producer, TopicPartition
        conf = rdkafka_conf(broker, work, CASES[6])
        p = Producer(conf)
        c = Consumer({**conf, "group.id": "reauth", "enable.auto.commit": False})
        c.assign([TopicPartition("reauth", 0, 0)])
        got, start = 0, time.time()
        i = 0
        while time.time() - start < 3 * REAUTH_MS / 1000:
            p.produce("reauth", f"r{i}".encode())
            i += 1
            p.poll(0)
            m = c.poll(0.2)
            if m is not None and m.error() is None:
                got += 1
        p.flush(10)
        deadline = time.time() + 10
        while got < i and time.time() < deadline:
            m = c.poll(0.5)
            if m is not None and m.error() is None:
                got += 1
        c.close()
        check(f"records flow for {3 * REAUTH_MS} ms across 3 sessions of connections.max.reauth.ms",
              got == i and i > 10, f"{got} of {i}")
        with open(broker.log) as f:
            text = f.read()
        renewed = text.count("User:bob re-authenticated")
        check(f"the clients re-authenticated on their connections ({renewed} renewals), none was cut",
              renewed >= 2 and "session expired" not in text, f"{renewed}")

        workers(broker, work)
        rest_security(broker, work)
        rest_mutual_tls(broker, work)
        local_paths(broker, work)
        hostile_input(broker)
        authentication_flood(broker, work)
        confluent_roundtrip(broker, work, CASES[4], "after-hostile-input")
        broker.stop()
        broker.start()
        confluent_roundtrip(broker, work, CASES[5], "after-restart")
        out = subprocess.run([WEIR, "configs", "--bootstrap-server", broker.addr("PLAINTEXT"), "--describe",
                              "--entity-type", "users"], text=True, capture_output=True, timeout=60)
        check("SCRAM users survive a broker restart (described, and one authenticated above)",
              f"user-principal '{SCRAM_USER}' are SCRAM-SHA-256=iterations=8192" in out.stdout, out.stdout)
        with open(broker.log) as f:
            text = f.read()
        leaked = [s for s in SECRETS if s in text]
        check("no password appears in the broker's log", not leaked, str(leaked))
        check("the broker logged the failed authentications", "authentication of" in text and "failed" in text)
    finally:
        broker.stop()
    print("security: all checks passed")


if __name__ == "__main__":
    main()
