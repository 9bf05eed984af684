"""Produce at a fixed rate and report acknowledgement latency percentiles.

Usage: latency.py HOST:PORT TOPIC RATE SECONDS
Uses confluent-kafka (librdkafka) with acks=all and linger.ms=0; latency is
the time from produce() to the delivery report.
"""

import sys
import time

from confluent_kafka import Producer

boot, topic, rate, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
p = Producer({"bootstrap.servers": boot, "acks": "all", "linger.ms": 0})
payload = b"x" * 100
lat = []
errors = 0


def done(err, _msg, start):
    global errors
    if err is not None:
        errors += 1
    else:
        lat.append(time.perf_counter() - start)


# Warm up the connection and metadata.
p.produce(topic, payload)
p.flush(10)
total = int(rate * seconds)
t0 = time.perf_counter()
for i in range(total):
    target = t0 + i / rate
    while True:
        now = time.perf_counter()
        if now >= target:
            break
        p.poll(0)
        if target - now > 0.0005:
            time.sleep(0.0002)
    start = time.perf_counter()
    p.produce(topic, payload, on_delivery=lambda e, m, s=start: done(e, m, s))
    p.poll(0)
p.flush(30)
elapsed = time.perf_counter() - t0
lat.sort()


def pct(q):
    return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")


print(f"sent={total} acked={len(lat)} errors={errors} achieved_rate={total / elapsed:.0f}/s "
      f"p50_ms={pct(0.50):.2f} p99_ms={pct(0.99):.2f} max_ms={lat[-1] * 1000 if lat else 0:.2f}")
