#!/usr/bin/env bash
# What TLS and SASL cost: one `weir broker` (release build) with a PLAINTEXT
# and a SASL_SSL listener (SCRAM-SHA-512, a certificate made here with
# openssl). kcat on the current librdkafka (from the confluent-kafka wheel)
# produces N messages of 100 bytes (acks=all) and consumes them back on each
# listener, each measured run on a fresh broker. Prints msgs/s and MB/s of
# both and SASL_SSL's ratio to plaintext; the goal is at least 0.7.
# Not part of test.sh.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
trap cleanup_started EXIT

N="${BENCH_MESSAGES:-1000000}"
ensure_packages kcat openssl python3-venv
ensure_venv
WEIR_PROFILE=release build_weir

WORK="$(mktemp -d)"
lib=$(find "$VENV" -path '*confluent_kafka.libs*' -name 'librdkafka*.so*' | head -n 1)
mkdir -p "$WORK/rdkafka"
ln -sf "$lib" "$WORK/rdkafka/librdkafka.so.1"
export LD_LIBRARY_PATH="$WORK/rdkafka:$(dirname "$lib")"

log "making a CA and the broker's certificate"
(
    cd "$WORK"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 2 -subj /CN=bench-ca 2>/dev/null
    echo "subjectAltName=DNS:localhost,IP:127.0.0.1" >san.cnf
    openssl req -newkey rsa:2048 -nodes -keyout broker-key.pem -out broker.csr -subj /CN=localhost 2>/dev/null
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out broker.pem -days 2 \
        -extfile san.cnf 2>/dev/null
    cat broker-key.pem broker.pem >keystore.pem
)
python3 -c "
import sys
sys.stdout.buffer.write((b'x' * 100 + b'\n') * $N)" >"$WORK/messages.txt"

PLAIN_PORT="$(free_port)"
SECURE_PORT="$(free_port)"
USER=bench
PASS=bench-secret
SECURE=(-X security.protocol=SASL_SSL -X sasl.mechanisms=SCRAM-SHA-512 -X "sasl.username=$USER"
    -X "sasl.password=$PASS" -X "ssl.ca.location=$WORK/ca.pem")

# start DIR: a broker with both listeners and the SCRAM user.
start() {
    "$WEIR" broker --override "log.dirs=$1" \
        --override "listeners=PLAINTEXT://127.0.0.1:$PLAIN_PORT,SASL_SSL://127.0.0.1:$SECURE_PORT" \
        --override "advertised.listeners=PLAINTEXT://127.0.0.1:$PLAIN_PORT,SASL_SSL://localhost:$SECURE_PORT" \
        --override ssl.keystore.type=PEM --override "ssl.keystore.location=$WORK/keystore.pem" \
        --override sasl.enabled.mechanisms=SCRAM-SHA-512 >"$1.log" 2>&1 &
    BROKER_PID=$!
    STARTED_PIDS+=("$BROKER_PID")
    wait_port "$PLAIN_PORT"
    "$WEIR" configs --bootstrap-server "127.0.0.1:$PLAIN_PORT" --alter \
        --add-config "SCRAM-SHA-512=[password=$PASS]" --entity-type users --entity-name "$USER" >/dev/null
}

rate() { python3 -c "print(f'{$1 / ($3 - $2):.0f}')"; }

# run NAME BOOT [kcat args]: produce then consume on a fresh broker; "produce consume" msgs/s.
run() {
    local name=$1 boot=$2 t0 t1 t2 n
    shift 2
    start "$WORK/$name"
    t0=$(now)
    kcat -b "$boot" -P -t bench -l "$WORK/messages.txt" -X acks=all "$@"
    t1=$(now)
    # A full local queue must not pause fetching for librdkafka's default
    # second, which would measure the pause rather than the listener.
    n=$(kcat -b "$boot" -C -t bench -o beginning -e -q -X fetch.queue.backoff.ms=10 "$@" | wc -l)
    t2=$(now)
    [ "$n" -eq "$N" ] || { echo "$name: consumed $n of $N" >&2; exit 1; }
    stop_pid "$BROKER_PID"
    echo "$(rate "$N" "$t0" "$t1") $(rate "$N" "$t1" "$t2")"
}

log "PLAINTEXT: $N messages"
run plain "127.0.0.1:$PLAIN_PORT" >"$WORK/plain.txt"
read -r plain_p plain_c <"$WORK/plain.txt"
log "SASL_SSL (SCRAM-SHA-512): $N messages"
run secure "localhost:$SECURE_PORT" "${SECURE[@]}" >"$WORK/secure.txt"
read -r secure_p secure_c <"$WORK/secure.txt"

mb() { python3 -c "print(f'{$1 * 101 / 1e6:.1f}')"; }
printf '\n%-28s %14s %10s %14s %10s\n' "listener" "produce msg/s" "MB/s" "consume msg/s" "MB/s"
printf '%-28s %14s %10s %14s %10s\n' "PLAINTEXT" "$plain_p" "$(mb "$plain_p")" "$plain_c" "$(mb "$plain_c")"
printf '%-28s %14s %10s %14s %10s\n' "SASL_SSL SCRAM-SHA-512" "$secure_p" "$(mb "$secure_p")" "$secure_c" "$(mb "$secure_c")"
printf '%-28s %14s %10s %14s %10s\n' "SASL_SSL / PLAINTEXT" "$(ratio "$secure_p" "$plain_p")x" "" "$(ratio "$secure_c" "$plain_c")x" ""
rm -rf "$WORK"
