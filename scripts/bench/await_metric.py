"""Waits until a worker metric of one connector reaches a count, then
prints the time (seconds since the epoch) it was seen there.

    await_metric.py REST_PORT METRIC CONNECTOR N WORKER_PID

One process on one kept-alive HTTP connection, asking every 20 ms: a
shell loop starting curl and awk twenty times a second took a visible
share of this machine's two cores (a perf profile of the run) from the run
it was timing, a cost the reference runs (kcat, psql) never pay. Exits 1 when the connector's status says
FAILED or the worker process is gone; the values of the connector's tasks
are summed.
"""

import http.client
import json
import os
import sys
import time


def count(conn, metric, label):
    conn.request("GET", "/metrics")
    body = conn.getresponse().read().decode()
    total = 0.0
    for line in body.splitlines():
        if line.startswith(metric + "{") and label in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def failed(conn, connector):
    conn.request("GET", f"/connectors/{connector}/status")
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 200:
        return None
    status = json.loads(body)
    states = [status["connector"]["state"]] + [t["state"] for t in status.get("tasks", [])]
    return json.dumps(status) if "FAILED" in states else None


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def main():
    port, metric, connector, n, pid = sys.argv[1:6]
    n, pid = int(n), int(pid)
    label = f'connector="{connector}"'
    conn = None
    next_status = 0.0
    while True:
        if not alive(pid):
            sys.exit(f"{connector}: the worker exited")
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
            if count(conn, metric, label) >= n:
                print(f"{time.time():.6f}")
                return
            if time.monotonic() >= next_status:
                next_status = time.monotonic() + 1.0
                why = failed(conn, connector)
                if why:
                    sys.exit(f"{connector} failed: {why}")
        except (OSError, http.client.HTTPException):
            # Not listening yet, or the connection was dropped: a new one next time.
            if conn is not None:
                conn.close()
            conn = None
        time.sleep(0.02)


if __name__ == "__main__":
    main()
