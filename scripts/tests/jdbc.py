#!/usr/bin/env python3
"""The JDBC sink through real `weir standalone` processes, a real broker
and real databases (SQLite, and the PostgreSQL and MariaDB servers that
scripts/test.sh starts: WEIR_TEST_POSTGRES_URL, WEIR_TEST_MYSQL_URL,
PG_BIN and PG_DIR).

1. The tutorial's flow: a kafka-python producer sends {"number": n} JSON
   without a schema to `numtest`; sinks with
   value.converter.schemas.enable=false and auto.create=true fill a
   `numtest` table in SQLite, PostgreSQL and MariaDB.
2. A sink whose database is not there when it starts: its RUNNING status
   names the first failed connection attempt and the wait before the
   next, and deleting it does not wait for the attempts to run out.
3. A table created while a JDBC source runs in a standalone worker gets
   a task of its own (`table.poll.interval.ms`), and a dropped one loses
   it; rows already read are not read again.
4. PostgreSQL stopped and started again under a running sink and a
   running source: each task retries, says why in its RUNNING status, and
   every row arrives (sink: in the table once; source: on the topic). A
   source task restarted and a source connector created while it is down
   wait for it, saying why, and read every row once it is back.
5. A round trip PostgreSQL -> topic -> MariaDB and SQLite keeping every
   type's value (decimals, unicode, bytes, dates, timestamps, NULLs).
6. 1,000,000 records upserted into PostgreSQL with the worker SIGKILLed
   in the middle: every row arrives exactly once as a row; the test prints
   how many records were delivered twice.
7. 1,000,000 rows read from PostgreSQL (incrementing mode) with the
   worker SIGKILLed in the middle: every row reaches the topic; the test
   prints how many were sent twice.

Usage: jdbc.py WEIR_BINARY BOOTSTRAP
"""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

from kafka import KafkaProducer
from standalone_worker import Worker, wait_for

WEIR, BOOT = sys.argv[1], sys.argv[2]
PG = os.environ["WEIR_TEST_POSTGRES_URL"]
MY = os.environ["WEIR_TEST_MYSQL_URL"]
RUN = str(int(time.time() * 1000) % 10_000_000)


def fail(msg):
    raise SystemExit(f"jdbc: {msg}")




def psql(sql):
    return subprocess.run(["psql", PG, "-Atc", sql], capture_output=True, text=True, check=True).stdout.strip()


def pg_rows(table):
    """Rows in a PostgreSQL table; -1 while it does not exist or the server is down."""
    try:
        return int(psql(f"select count(*) from {table}"))
    except (subprocess.CalledProcessError, ValueError):
        return -1


def mariadb(sql):
    # mysql://test:test@127.0.0.1:PORT/t
    rest = MY.split("://", 1)[1]
    cred, hostdb = rest.split("@", 1)
    user, password = cred.split(":", 1)
    hostport, db = hostdb.split("/", 1)
    host, port = hostport.split(":")
    return subprocess.run(["mariadb", "-h", host, "-P", port, "-u", user, f"-p{password}", db, "-N", "-e", sql],
                          capture_output=True, text=True, check=True).stdout.strip()


def sink(name, url, topic, extra=None):
    cfg = {"connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector", "connection.url": url,
           "topics": topic, "auto.create": "true", "value.converter": "org.apache.kafka.connect.json.JsonConverter",
           "value.converter.schemas.enable": "false", "connection.attempts": "2", "connection.backoff.ms": "500",
           "retry.backoff.ms": "500", "max.retries": "100"}
    cfg.update(extra or {})
    return name, cfg


def tutorial(work, w):
    topic = "numtest"
    lite = f"{work}/numtest.db"
    psql("DROP TABLE IF EXISTS numtest")
    mariadb("DROP TABLE IF EXISTS numtest")
    p = KafkaProducer(bootstrap_servers=BOOT)
    for n in range(1, 1001):
        p.send(topic, json.dumps({"number": n}).encode())
    p.flush()
    for name, url in [("numtest-sqlite", f"jdbc:sqlite:{lite}"),
                      ("numtest-postgres", "jdbc:" + PG.replace("postgres://", "postgresql://")),
                      ("numtest-mariadb", "jdbc:" + MY.replace("mysql://", "mariadb://"))]:
        w.create(*sink(name, url, topic))

    def lite_count():
        try:
            return sqlite3.connect(lite).execute("select count(*), sum(number) from numtest").fetchone()
        except sqlite3.Error:
            return (0, None)

    def pg_count():
        try:
            return psql("select count(*) || ' ' || sum(number) from numtest")
        except subprocess.CalledProcessError:
            return ""

    def my_count():
        try:
            return mariadb("select concat(count(*), ' ', sum(number)) from numtest")
        except subprocess.CalledProcessError:
            return ""

    want = 1000 * 1001 // 2
    wait_for("1000 rows in SQLite", lambda: lite_count() == (1000, want), 60)
    wait_for("1000 rows in PostgreSQL", lambda: pg_count() == f"1000 {want}", 60)
    wait_for("1000 rows in MariaDB", lambda: my_count() == f"1000 {want}", 60)
    if psql("select data_type from information_schema.columns where table_name='numtest' and column_name='number'") != "bigint":
        fail("PostgreSQL's numtest.number is not a bigint")
    print("jdbc: the tutorial's {\"number\": n} JSON filled numtest in SQLite, PostgreSQL and MariaDB (1000 rows each)")


def pg_ctl(action):
    ctl = os.path.join(os.environ["PG_BIN"], "pg_ctl")
    data = os.path.join(os.environ["PG_DIR"], "data")
    if action == "stop":
        cmd = f"{ctl} -D {data} -m fast -w stop"
    else:
        port = PG.rsplit(":", 1)[1].split("/")[0]
        cmd = (f"{ctl} -D {data} -l {os.environ['PG_DIR']}/log -w start -o '-p {port} "
               f"-k {os.environ['PG_DIR']} -c listen_addresses=127.0.0.1 -c fsync=off'")
    subprocess.run(["su", "postgres", "-s", "/bin/sh", "-c", cmd], check=True, capture_output=True)


def topic_values(topic):
    """Every value on a topic, as text (kcat reads to the end)."""
    out = subprocess.run(["kcat", "-b", BOOT, "-C", "-t", topic, "-e", "-q", "-f", "%s\n"],
                         capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def payload_ids(topic):
    """The `id` of each record's payload (JsonConverter with schemas)."""
    ids = []
    for line in topic_values(topic):
        i = line.find('"payload":{"id":')
        if i >= 0:
            ids.append(int(line[i + 16:].split(",", 1)[0].rstrip("}")))
    return ids


def task_trace(w, name):
    """(state, trace) of a connector's task 0."""
    code, status = w.call("GET", f"/connectors/{name}/status")
    if code != 200 or not status["tasks"]:
        return None, None
    t = status["tasks"][0]
    return t["state"], t.get("trace")


def pg_restart(work, w):
    topic = f"pgdown-{RUN}"
    table = f"pgdown_{RUN}"
    src_table = f"pgsrc_{RUN}"
    url = "jdbc:" + PG.replace("postgres://", "postgresql://")
    w.create(*sink("pgdown", url, topic, {"table.name.format": table}))
    psql(f"CREATE TABLE {src_table} (id BIGSERIAL PRIMARY KEY, label TEXT)")
    psql(f"INSERT INTO {src_table} (label) SELECT 'before ' || g FROM generate_series(1, 100) g")
    w.create("pgsrc", {"connector.class": "JdbcSourceConnector", "connection.url": url, "mode": "incrementing",
                       "incrementing.column.name": "id", "table.whitelist": src_table, "topic.prefix": "src-",
                       "poll.interval.ms": "200", "connection.attempts": "2", "connection.backoff.ms": "300"})
    p = KafkaProducer(bootstrap_servers=BOOT)
    row = lambda n: json.dumps({"n": n, "label": f"row {n}"}).encode()
    for n in range(1, 101):
        p.send(topic, row(n))
    p.flush()
    wait_for("100 rows", lambda: pg_rows(table) == 100, 60)
    wait_for("100 source records", lambda: len(payload_ids(f"src-{src_table}")) == 100, 60)
    pg_ctl("stop")
    for n in range(101, 301):
        p.send(topic, row(n))
    p.flush()
    for name in ("pgdown", "pgsrc"):
        wait_for(f"{name}'s status to say why while PostgreSQL is down",
                 lambda: task_trace(w, name)[0] == "RUNNING" and task_trace(w, name)[1], 30)
    sink_why, src_why = task_trace(w, "pgdown")[1], task_trace(w, "pgsrc")[1]
    # A source task started while the database is down (here restarted)
    # waits for it rather than failing once its connection.attempts are spent.
    code, body = w.call("POST", "/connectors/pgsrc/tasks/0/restart")
    if code not in (200, 202, 204):
        fail(f"restarting pgsrc's task: {code} {body}")
    wait_for("pgsrc's restarted task to say it is retrying its poll",
             lambda: "poll failed" in (task_trace(w, "pgsrc")[1] or ""), 30)
    # A source connector created while the database is down runs without
    # tasks, saying why, and lists its tables once the database is back.
    late = {"connector.class": "JdbcSourceConnector", "connection.url": url, "mode": "incrementing",
            "incrementing.column.name": "id", "table.whitelist": src_table, "topic.prefix": "late-",
            "poll.interval.ms": "200", "connection.attempts": "1", "connection.backoff.ms": "500"}
    w.create("pglate", late)

    def late_trace():
        code, status = w.call("GET", "/connectors/pglate/status")
        return (status["connector"]["state"], status["connector"].get("trace")) if code == 200 else (None, None)

    wait_for("pglate's status to say it waits for its tables",
             lambda: late_trace()[0] == "RUNNING" and "cannot list the tables yet" in (late_trace()[1] or ""), 30)
    late_why = late_trace()[1]
    if task_trace(w, "pgsrc")[0] != "RUNNING":
        fail(f"pgsrc's task started while PostgreSQL was down is {task_trace(w, 'pgsrc')}")
    pg_ctl("start")
    psql(f"INSERT INTO {src_table} (label) SELECT 'after ' || g FROM generate_series(1, 100) g")
    wait_for("300 rows after PostgreSQL came back", lambda: pg_rows(table) == 300, 90)
    if psql(f"select count(distinct n) from {table}") != "300":
        fail("rows were duplicated or lost across the restart")
    wait_for("200 source records after PostgreSQL came back",
             lambda: sorted(set(payload_ids(f"src-{src_table}"))) == list(range(1, 201)), 90)
    wait_for("pglate's 200 records once PostgreSQL came back",
             lambda: sorted(payload_ids(f"late-{src_table}")) == list(range(1, 201)), 90)
    for name in ("pgdown", "pgsrc", "pglate"):
        wait_for(f"{name}'s status to be clear again", lambda: task_trace(w, name) == ("RUNNING", None), 30)
    if late_trace() != ("RUNNING", None):
        fail(f"pglate's connector status still says {late_trace()}")
    print("jdbc: PostgreSQL stopped under a running sink and source; both stayed RUNNING saying why "
          f"(sink: {sink_why[:90]!r}...; source: {src_why[:90]!r}...), and every row arrived: "
          "300 in the table once, 200 on the topic; a source task restarted and a source connector "
          f"created while it was down waited for it ({late_why[:90]!r}...) and read all 200 rows")


def down_at_start(w):
    """A sink whose database does not answer when it starts: its status says
    so from the first failed attempt (not only once every attempt has
    failed), and deleting it does not wait for the attempts to run out."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    name = "pg-absent"
    w.create(*sink(name, f"jdbc:postgresql://127.0.0.1:{port}/absent", f"absent-{RUN}",
                   {"connection.attempts": "3", "connection.backoff.ms": "60000"}))
    wait_for(f"{name}'s status to name its first failed connection attempt",
             lambda: "attempt 1 of 3" in (task_trace(w, name)[1] or ""), 20)
    why = task_trace(w, name)[1]
    if str(port) not in why or "trying again in 60000 ms" not in why:
        fail(f"{name}'s status does not name the database and the wait: {why!r}")
    started = time.time()
    code, body = w.call("DELETE", f"/connectors/{name}")
    if code != 204:
        fail(f"deleting {name}: {code} {body}")
    # Stopping a task waits up to task.shutdown.graceful.timeout.ms (5 s)
    # for it: a sink still inside its first connection attempts took 10 s.
    wait_for(f"{name} to be gone within 5 s", lambda: w.call("GET", f"/connectors/{name}/status")[0] == 404, 5)
    print(f"jdbc: a sink whose database is down at start says so at once ({why[:100]!r}...) "
          f"and was deleted in {time.time() - started:.1f} s, within its 60 s back-off")


def new_tables(work, w):
    """A standalone worker picks up a table created after its JDBC source
    started, and lets go of a dropped one (`table.poll.interval.ms`): the
    tasks are reconfigured, and the rows already read are not read again."""
    lite = f"{work}/tables.db"
    db = sqlite3.connect(lite)
    db.execute("CREATE TABLE first (id INTEGER PRIMARY KEY, v TEXT)")
    db.executemany("INSERT INTO first (v) VALUES (?)", [("a",), ("b",)])
    db.commit()
    name, prefix = "new-tables", f"nt{RUN}-"
    w.create(name, {"connector.class": "JdbcSourceConnector", "connection.url": f"jdbc:sqlite:{lite}",
                    "mode": "incrementing", "incrementing.column.name": "id", "topic.prefix": prefix,
                    "table.poll.interval.ms": "500", "poll.interval.ms": "200", "tasks.max": "2"})

    def tables():
        code, tasks = w.call("GET", f"/connectors/{name}/tasks")
        return sorted(t["config"].get("tables", "") for t in tasks) if code == 200 else None

    def ids(table):
        """The ids on a table's topic, sorted ([] before the topic exists)."""
        try:
            return sorted(payload_ids(f"{prefix}{table}"))
        except subprocess.CalledProcessError:
            return []

    wait_for("the first table's 2 rows", lambda: ids("first") == [1, 2], 60)
    if tables() != ["first"]:
        fail(f"one table should make one task, not {tables()}")
    db.execute("CREATE TABLE second (id INTEGER PRIMARY KEY, v TEXT)")
    db.executemany("INSERT INTO second (v) VALUES (?)", [("c",), ("d",), ("e",)])
    db.execute("INSERT INTO first (v) VALUES ('f')")
    db.commit()
    wait_for("a task for the new table", lambda: tables() == ["first", "second"], 30)
    wait_for("the new table's 3 rows", lambda: ids("second") == [1, 2, 3], 60)
    wait_for("the first table's third row", lambda: len(ids("first")) >= 3, 60)
    if ids("first") != [1, 2, 3]:
        fail(f"the first table's rows were read again across the reconfiguration: {ids('first')}")
    db.execute("DROP TABLE second")
    db.commit()
    db.close()
    wait_for("the dropped table's task to go", lambda: tables() == ["first"], 30)
    w.call("DELETE", f"/connectors/{name}")
    print("jdbc: a standalone JDBC source picked up a table created while it ran (a second task, its 3 rows) "
          "and let go of it once dropped; the first table's rows were each read once")


def round_trip(work, w):
    """PostgreSQL -> topic -> MariaDB and SQLite, every type's value kept."""
    table = f"rt_{RUN}"
    psql(f"""CREATE TABLE {table} (id BIGINT PRIMARY KEY, small SMALLINT NOT NULL, amount NUMERIC(12,2),
             ratio DOUBLE PRECISION, ok BOOLEAN, name TEXT, raw BYTEA, day DATE, at TIMESTAMP(3), note TEXT)""")
    psql(f"""INSERT INTO {table} VALUES
        (1, -7, -12.34, 0.25, true, 'naïve ☃ 東京', '\\x00ff10', '2024-01-15', '2024-01-15 12:34:56.789', NULL),
        (2, 32000, 9999999999.99, -1.5e10, false, '', '\\x', '1969-12-31', '1970-01-01 00:00:00', 'x'),
        (3, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)""")
    lite = f"{work}/rt.db"
    w.create("rt-source", {"connector.class": "JdbcSourceConnector",
                           "connection.url": "jdbc:" + PG.replace("postgres://", "postgresql://"),
                           "mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": table,
                           "topic.prefix": "pg-", "poll.interval.ms": "200"})
    sinks = {"connector.class": "JdbcSinkConnector", "topics": f"pg-{table}", "auto.create": "true",
             "insert.mode": "upsert", "pk.mode": "record_value", "pk.fields": "id", "table.name.format": table}
    w.create("rt-mariadb", dict(sinks, **{"connection.url": "jdbc:" + MY.replace("mysql://", "mariadb://")}))
    w.create("rt-sqlite", dict(sinks, **{"connection.url": f"jdbc:sqlite:{lite}"}))
    cols = "id, small, amount, ratio, ok, name, hex(raw), day, at, note"
    want = [
        ["1", "-7", "-12.34", "0.25", "1", "naïve ☃ 東京", "00FF10", "2024-01-15", "2024-01-15 12:34:56.789", None],
        ["2", "32000", "9999999999.99", "-15000000000", "0", "", "", "1969-12-31", "1970-01-01 00:00:00.000", "x"],
        ["3", "0", None, None, None, None, None, None, None, None],
    ]

    def my_rows():
        try:
            out = mariadb(f"select {cols} from {table} order by id")
        except subprocess.CalledProcessError:
            return []
        return [[None if v == "NULL" else v for v in line.split("\t")] for line in out.splitlines()]

    def lite_rows():
        try:
            # SQLite's hex(NULL) is '', not NULL.
            lite_cols = cols.replace("hex(raw)", "CASE WHEN raw IS NULL THEN NULL ELSE hex(raw) END")
            rows = sqlite3.connect(lite).execute(f"select {lite_cols} from {table} order by id").fetchall()
        except sqlite3.Error:
            return []
        return [[None if v is None else str(v) for v in r] for r in rows]

    wait_for("3 rows in MariaDB", lambda: len(my_rows()) == 3, 60)
    wait_for("3 rows in SQLite", lambda: len(lite_rows()) == 3, 60)
    got_my = my_rows()
    # MariaDB writes DOUBLE in its shortest form; compare numbers as numbers.
    got_my[1][3] = str(int(float(got_my[1][3])))
    if got_my != want:
        fail(f"MariaDB rows differ:\n got {got_my}\nwant {want}")
    got_lite = lite_rows()
    got_lite[1][3] = str(int(float(got_lite[1][3])))
    if got_lite != want:
        fail(f"SQLite rows differ:\n got {got_lite}\nwant {want}")
    print("jdbc: PostgreSQL -> topic -> MariaDB and SQLite kept every value (decimals, unicode, bytes, dates, "
          "timestamps, NULLs)")


def million(work):
    topic = f"million-{RUN}"
    table = f"million_{RUN}"
    n = 1_000_000
    p = KafkaProducer(bootstrap_servers=BOOT, linger_ms=20, batch_size=1 << 18)
    for i in range(n):
        p.send(topic, b'{"id": %d, "v": "value %d"}' % (i, i))
    p.flush()
    w = Worker(WEIR, BOOT, work, "million")
    w.start()
    cfg = sink("million", "jdbc:" + PG.replace("postgres://", "postgresql://"), topic,
               {"table.name.format": table, "insert.mode": "upsert", "pk.mode": "record_value", "pk.fields": "id"})
    w.create(*cfg)
    count = lambda: pg_rows(table)
    wait_for("300,000 rows before the kill", lambda: count() >= 300_000, 600)
    read_before = w.metric("kafka_connect_sink_task_metrics_sink_record_read_total", "million")
    w.kill()
    w.start()
    try:
        w.create(*cfg)
        wait_for("1,000,000 rows after the restart", lambda: count() >= n, 900)
        time.sleep(2)
        if psql(f"select count(*) || ' ' || count(distinct id) || ' ' || min(id) || ' ' || max(id) from {table}") != f"{n} {n} 0 {n - 1}":
            fail("the table does not hold each id exactly once")
        read_after = w.metric("kafka_connect_sink_task_metrics_sink_record_read_total", "million")
        repeats = read_before + read_after - n
        print(f"jdbc: 1,000,000 upserts into PostgreSQL with a SIGKILL: every id once; at least {repeats:.0f} "
              "records were delivered twice (read after the last offset commit before the kill)")
    finally:
        w.stop()


def million_source(work):
    table = f"msrc_{RUN}"
    topic = f"m-{table}"
    n = 1_000_000
    psql(f"CREATE TABLE {table} (id BIGINT PRIMARY KEY, v TEXT)")
    psql(f"INSERT INTO {table} SELECT g, 'value ' || g FROM generate_series(1, {n}) g")
    w = Worker(WEIR, BOOT, work, "msrc")
    w.start()
    cfg = {"connector.class": "JdbcSourceConnector", "connection.url": "jdbc:" + PG.replace("postgres://", "postgresql://"),
           "mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": table, "topic.prefix": "m-",
           "batch.max.rows": "2000", "poll.interval.ms": "200"}
    w.create("msrc", cfg)
    written = lambda: w.metric("kafka_connect_source_task_metrics_source_record_write_total", "msrc")
    wait_for("300,000 records before the kill", lambda: written() >= 300_000, 600)
    w.kill()
    w.start()
    try:
        w.create("msrc", cfg)
        wait_for("1,000,000 records after the restart", lambda: written() > 0 and len(topic_values(topic)) >= n, 900, 2)
        time.sleep(2)
        ids = payload_ids(topic)
        if sorted(set(ids)) != list(range(1, n + 1)):
            missing = n - len(set(ids))
            fail(f"{missing} rows never reached the topic")
        print(f"jdbc: 1,000,000 rows from PostgreSQL with a SIGKILL: every row on the topic; {len(ids) - n} "
              "were sent twice (sent after the last offset commit before the kill)")
    finally:
        w.stop()


def main():
    work = os.path.realpath(tempfile.mkdtemp(prefix="weir-jdbc-"))
    w = Worker(WEIR, BOOT, work, "main")
    w.start()
    try:
        tutorial(work, w)
        down_at_start(w)
        new_tables(work, w)
        round_trip(work, w)
        pg_restart(work, w)
    finally:
        w.stop()
    million(work)
    million_source(work)
    subprocess.run(["rm", "-rf", work], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
