#!/usr/bin/env bash
# Broker benchmark: 1,000,000 messages of 100 bytes, one partition, produced
# with `kcat -P -l` (acks=all, default client settings) and consumed with
# `kcat -C -e`, against Weir (durable on-disk log), Tansu 0.6.0 (memory
# engine) and, for produce only, librdkafka's in-process mock cluster.
# Also: produce latency at a fixed 20,000 msg/s with `weir producer-perf-test`
# (Kafka's ProducerPerformance output; acks=all, linger.ms=0) and peak RSS.
# kcat runs on the current librdkafka from the confluent-kafka wheel for every
# target: Debian's librdkafka 2.0.2 cannot read Tansu 0.6.0's ApiVersions reply.
# Prints one table with ratios measured in this run, then runs security.sh
# (produce and consume over SASL_SSL beside plaintext; BENCH_SECURITY=0
# skips it). BENCH_ONLY=latency runs only Weir's latency rows (on disk with
# and without log.preallocate, and on tmpfs), with no Tansu to install.
# BENCH_ONLY=consume runs only the consumption that never pauses
# (fetch.wait.max.ms=10, queued.min.messages=10000000): three rounds of one
# consume from Weir then one from Tansu, each round's ratio, the CPU time
# each broker spent serving it and the CPU time of the client (kcat and wc).
# Not part of test.sh.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
SHM_DIR=""
trap 'cleanup_started; [ -z "$SHM_DIR" ] || rm -rf "$SHM_DIR"' EXIT

N="${BENCH_MESSAGES:-1000000}"
RATE="${BENCH_RATE:-20000}"
LAT_SECONDS="${BENCH_LATENCY_SECONDS:-10}"
TOOLS="$ROOT/target/bench-tools"

ONLY="${BENCH_ONLY:-}"
ensure_packages kcat python3-venv
ensure_venv
WEIR_PROFILE=release build_weir
if [ "$ONLY" != latency ] && [ ! -x "$TOOLS/bin/tansu" ]; then
    log "installing the Tansu broker 0.6.0 from the crate registry (slow: about 25 minutes on 2 cores)"
    cargo install --locked tansu --version 0.6.0 --features dynostore,libsql --root "$TOOLS"
fi

WORK="$(mktemp -d)"
lib=$(find "$VENV" -path '*confluent_kafka.libs*' -name 'librdkafka*.so*' | head -n 1)
mkdir -p "$WORK/rdkafka"
ln -sf "$lib" "$WORK/rdkafka/librdkafka.so.1"
export LD_LIBRARY_PATH="$WORK/rdkafka:$(dirname "$lib")"
MSGS="$WORK/messages.txt"
log "writing $N messages of 100 bytes"
python3 -c "
import sys
line = b'x' * 100 + b'\n'
sys.stdout.buffer.write(line * $N)" >"$MSGS"

rate() { python3 -c "print(f'{$1 / ($3 - $2):.0f}')"; }

# produce BOOT TOPIC [kcat args] -> msgs/s
produce() {
    local t0 t1
    t0=$(now)
    kcat -b "$1" -P -t "$2" -l "$MSGS" "${@:3}" || { echo "kcat -P against $1 failed" >&2; exit 1; }
    t1=$(now)
    rate "$N" "$t0" "$t1"
}

# consume BOOT [kcat -X ...] -> msgs/s (checks the count)
consume() {
    local t0 t1 n
    t0=$(now)
    n=$(kcat -b "$1" -C -t bench1 -o beginning -e -q "${@:2}" | wc -l)
    t1=$(now)
    [ "$n" -eq "$N" ] || { echo "consumed $n of $N from $1" >&2; exit 1; }
    rate "$N" "$t0" "$t1"
}

# fetch_trace BOOT [kcat -X ...] -> "responses msgs/response kB/response pauses":
# one consume with `-d fetch`, counting the fetch responses the client queued
# and the times it paused fetching because its local queue was full.
fetch_trace() {
    kcat -b "$1" -C -t bench1 -o beginning -e -q -d fetch "${@:2}" 2>&1 >/dev/null | python3 -c "
import re, sys
msgs, size, pauses = [], [], 0
for line in sys.stdin:
    m = re.search(r'Enqueue (\d+) message\(s\) \((\d+) bytes', line)
    if m:
        msgs.append(int(m.group(1)))
        size.append(int(m.group(2)))
    elif 'Fetch backoff' in line and 'Queue full' in line:
        pauses += 1
n = max(len(msgs), 1)
print(f'{len(msgs)} {sum(msgs) / n:.0f} {sum(size) / n / 1024:.0f} {pauses}')"
}

# produce3 BOOT [kcat args]: the median of three runs into topics bench1..3.
produce3() {
    local a b c
    a=$(produce "$1" bench1 "${@:2}") || exit 1
    b=$(produce "$1" bench2 "${@:2}") || exit 1
    c=$(produce "$1" bench3 "${@:2}") || exit 1
    printf '%s\n%s\n%s\n' "$a" "$b" "$c" | sort -n | sed -n 2p
}

# latency3 BOOT: three producer-perf-test runs (topics latency1..3); prints the
# summary line of the run with the median p99.
latency3() {
    local i line
    for i in 1 2 3; do
        line=$("$WEIR" producer-perf-test --topic "latency$i" --num-records $((RATE * LAT_SECONDS)) \
            --record-size 100 --throughput "$RATE" \
            --producer-props "bootstrap.servers=$1" acks=all linger.ms=0 | tail -n 1) || exit 1
        printf '%s\t%s\n' "$(p99 "$line")" "$line"
    done | sort -n | sed -n 2p | cut -f2-
}

# median3 CMD...: runs a measurement three times and prints the median.
median3() {
    local a b c
    a=$("$@") || exit 1
    b=$("$@") || exit 1
    c=$("$@") || exit 1
    printf '%s\n%s\n%s\n' "$a" "$b" "$c" | sort -n | sed -n 2p
}

p99() { sed -n 's/.* \([0-9]*\) ms 99th.*/\1/p' <<<"$1"; }

peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

# measure PREFIX BOOT PID: produce, consume (defaults and fetch.wait.max.ms=10),
# latency and peak RSS of one broker, stored in PREFIX_* variables.
measure() {
    local prefix=$1 boot=$2 pid=$3 v
    # Write back what this script wrote so far (messages.txt, the previous
    # broker's log) so that it does not compete with this broker's fsyncs.
    sync
    v=$(produce3 "$boot") || exit 1
    printf -v "${prefix}_produce" '%s' "$v"
    v=$(median3 consume "$boot") || exit 1
    printf -v "${prefix}_consume" '%s' "$v"
    # Debian's kcat on its own librdkafka 2.0.2 as well (Tansu cannot serve it).
    if [ "$prefix" = weir ]; then
        weir_consume_debian=$(LD_LIBRARY_PATH="" median3 consume "$boot") || exit 1
    fi
    v=$(median3 consume "$boot" -X fetch.wait.max.ms=10) || exit 1
    printf -v "${prefix}_consume_10" '%s' "$v"
    # The same with a local queue the client never finds full, so it never
    # pauses: how fast the broker delivers when the client keeps asking.
    v=$(median3 consume "$boot" -X fetch.wait.max.ms=10 -X queued.min.messages=10000000) || exit 1
    printf -v "${prefix}_consume_nopause" '%s' "$v"
    printf -v "${prefix}_trace" '%s' "$(fetch_trace "$boot")"
    printf -v "${prefix}_trace_10" '%s' "$(fetch_trace "$boot" -X fetch.wait.max.ms=10)"
    # The kernel's writeback of files this script wrote (messages.txt, earlier
    # runs) stalls fsync; flush it first so the latency run measures the broker.
    sync
    v=$(latency3 "$boot") || exit 1
    printf -v "${prefix}_lat" '%s' "$v"
    printf -v "${prefix}_rss" '%s' "$(peak_rss_mb "$pid")"
    stop_pid "$pid"
}

# latency_on VAR DIR LOGFILE [broker args]: a fresh broker with its log in
# DIR, three latency runs against it; the median run's summary line in VAR.
latency_on() {
    local port v
    port=$(free_port)
    start_broker "$2" "$port" "$3" "${@:4}"
    v=$(latency3 "127.0.0.1:$port") || exit 1
    stop_pid "$BROKER_PID"
    printf -v "$1" '%s' "$v"
}

# cpu_s PID: the CPU seconds (user and system) the process has used.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }

# children_cpu: the CPU seconds (user and system) of this shell's finished
# children, from the second line of `times` ("0m1.234s 0m0.056s"); `times`
# runs in this shell, not in a pipeline's subshell, which has no children.
children_cpu() {
    times >"$WORK/times"
    sed -n 2p "$WORK/times" | tr -d s | awk '{split($1, u, "m"); split($2, k, "m"); printf "%.2f\n", u[1] * 60 + u[2] + k[1] * 60 + k[2]}'
}

# consume_cpu BOOT PID: one consume that never pauses -> "msgs/s broker_cpu_s
# client_cpu_s", the client's being kcat's and that of the `wc` counting its
# lines.
consume_cpu() {
    local c0 c1 t0 t1 out n
    c0=$(cpu_s "$2")
    t0=$(now)
    out=$(kcat -b "$1" -C -t bench1 -o beginning -e -q -X fetch.wait.max.ms=10 -X queued.min.messages=10000000 | wc -l
        children_cpu)
    t1=$(now)
    c1=$(cpu_s "$2")
    n=${out%%$'\n'*}
    [ "$n" -eq "$N" ] || { echo "consumed $n of $N from $1" >&2; exit 1; }
    echo "$(rate "$N" "$t0" "$t1") $(python3 -c "print(f'{$c1 - $c0:.2f}')") ${out##*$'\n'}"
}

# start_tansu: Tansu with its memory engine and the bench's topics
# (TANSU_PID, TPORT).
start_tansu() {
    TPORT=$(free_port)
    mkdir -p "$WORK/tansu"
    (cd "$WORK/tansu" && exec "$TOOLS/bin/tansu" broker --storage-engine=memory://tansu/ \
        --listener-url="tcp://127.0.0.1:$TPORT" --advertised-listener-url="tcp://127.0.0.1:$TPORT" \
        >"$WORK/tansu.log" 2>&1) &
    STARTED_PIDS+=("$!")
    TANSU_PID=$!
    wait_port "$TPORT"
    local t
    for t in bench1 bench2 bench3 latency1 latency2 latency3; do
        (cd "$WORK/tansu" && "$TOOLS/bin/tansu" topic create "$t" --broker "tcp://127.0.0.1:$TPORT" --partitions 1 >/dev/null)
    done
}

if [ "$ONLY" = consume ]; then
    WPORT=$(free_port)
    start_broker "$WORK/weir" "$WPORT" "$WORK/weir.log"
    start_tansu
    produce "127.0.0.1:$WPORT" bench1 >/dev/null
    produce "127.0.0.1:$TPORT" bench1 >/dev/null
    sync
    echo
    echo "| round | Weir (msg/s) | Weir CPU (s) | kcat CPU (s) | Tansu (msg/s) | Tansu CPU (s) | kcat CPU (s) | Weir / Tansu |"
    echo "|---|---|---|---|---|---|---|---|"
    for round in 1 2 3; do
        out=$(consume_cpu "127.0.0.1:$WPORT" "$BROKER_PID") || exit 1
        read -r w wc wk <<<"$out"
        out=$(consume_cpu "127.0.0.1:$TPORT" "$TANSU_PID") || exit 1
        read -r t tc tk <<<"$out"
        echo "| $round | $w | $wc | $wk | $t | $tc | $tk | $(ratio "$w" "$t") |"
    done
    echo
    echo "1,000,000 x 100 B, 1 partition; kcat -C -e -X fetch.wait.max.ms=10 -X queued.min.messages=10000000; $(nproc) cores, $(uname -sr), kcat $(kcat -V 2>&1 | grep -o 'librdkafka [0-9.]*' | head -n1)"
    rm -rf "$WORK"
    exit 0
fi

# --- Weir ---------------------------------------------------------------
if [ "$ONLY" != latency ]; then
    WPORT=$(free_port)
    log "Weir (release build, data in $WORK/weir)"
    start_broker "$WORK/weir" "$WPORT" "$WORK/weir.log"
    measure weir "127.0.0.1:$WPORT" "$BROKER_PID"
else
    sync
    log "Weir latency, log on disk ($WORK/weir)"
    latency_on weir_lat "$WORK/weir" "$WORK/weir.log"
fi

# The same latency run without the segment allocated ahead, so that every
# fsync also commits the file's new length.
sync
log "Weir latency with log.preallocate=false"
latency_on weir_nopre_lat "$WORK/weir-nopre" "$WORK/weir-nopre.log" --override log.preallocate=false

# The same latency run with Weir's log on tmpfs, where fsync costs nothing:
# what the broker adds, apart from the disk.
SHM_DIR="$(mktemp -d -p /dev/shm weir-bench.XXXXXX)"
log "Weir with its log on tmpfs ($SHM_DIR)"
latency_on weir_tmpfs_lat "$SHM_DIR" "$WORK/weir-tmpfs.log"

if [ "$ONLY" = latency ]; then
    cat <<TABLE

| produce p99 at $RATE msg/s, acks=all, linger.ms=0, median run of 3 (ms) | Weir |
|---|---|
| log on disk | $(p99 "$weir_lat") |
| log on disk, log.preallocate=false | $(p99 "$weir_nopre_lat") |
| log on tmpfs | $(p99 "$weir_tmpfs_lat") |

Latency runs (disk; disk without preallocation; tmpfs):
- $weir_lat
- $weir_nopre_lat
- $weir_tmpfs_lat
Machine: $(nproc) cores, $(uname -sr), filesystem of the log: $(df -T "$WORK" | awk 'NR == 2 {print $2}')
TABLE
    rm -rf "$WORK"
    exit 0
fi

# --- Tansu (memory engine) ----------------------------------------------
log "Tansu 0.6.0, memory engine"
start_tansu
measure tansu "127.0.0.1:$TPORT" "$TANSU_PID"

# --- librdkafka mock cluster (client-side ceiling, produce only) ---------
log "librdkafka mock cluster"
mock_produce=$(produce3 "127.0.0.1:1" -X test.mock.num.brokers=1) || exit 1


cat <<TABLE

| measure (1,000,000 x 100 B, 1 partition; median of 3) | Weir | Tansu 0.6.0 memory | mock | Weir / Tansu | Weir / mock |
|---|---|---|---|---|---|
| produce, kcat -P -l, acks=all (msg/s) | $weir_produce | $tansu_produce | $mock_produce | $(ratio "$weir_produce" "$tansu_produce") | $(ratio "$weir_produce" "$mock_produce") |
| consume, kcat -C -e, defaults (msg/s) | $weir_consume | $tansu_consume | - | $(ratio "$weir_consume" "$tansu_consume") | - |
| consume, fetch.wait.max.ms=10 (msg/s) | $weir_consume_10 | $tansu_consume_10 | - | $(ratio "$weir_consume_10" "$tansu_consume_10") | - |
| Weir at defaults vs Tansu at fetch.wait.max.ms=10 | $weir_consume | $tansu_consume_10 | - | $(ratio "$weir_consume" "$tansu_consume_10") | - |
| consume, fetch.wait.max.ms=10, queued.min.messages=10000000 (msg/s) | $weir_consume_nopause | $tansu_consume_nopause | - | $(ratio "$weir_consume_nopause" "$tansu_consume_nopause") | - |
| consume, defaults, kcat on librdkafka 2.0.2 (msg/s) | $weir_consume_debian | cannot connect | - | - | - |
| produce p99 at $RATE msg/s, acks=all, linger.ms=0 (ms; median run of 3) | $(p99 "$weir_lat") | $(p99 "$tansu_lat") | - | - | - |
| the same with log.preallocate=false (ms) | $(p99 "$weir_nopre_lat") | - | - | - | - |
| the same with Weir's log on tmpfs (ms) | $(p99 "$weir_tmpfs_lat") | - | - | - | - |
| broker peak RSS (MB) | $weir_rss | $tansu_rss | - | - | - |

Fetch responses in one consume with -d fetch (responses, messages and kB per response, pauses for a full local queue):
- Weir, defaults: $weir_trace; fetch.wait.max.ms=10: $weir_trace_10
- Tansu, defaults: $tansu_trace; fetch.wait.max.ms=10: $tansu_trace_10

Weir latency run: $weir_lat
Weir latency run, log.preallocate=false: $weir_nopre_lat
Weir latency run, log on tmpfs: $weir_tmpfs_lat
Tansu latency run: $tansu_lat
Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), kcat $(kcat -V 2>&1 | grep -o 'librdkafka [0-9.]*' | head -n1)
TABLE
rm -rf "$WORK"
if [ "${BENCH_SECURITY:-1}" != 0 ]; then
    "$(dirname "$0")/security.sh"
fi
