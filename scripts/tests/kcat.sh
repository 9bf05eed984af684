#!/usr/bin/env bash
# kcat -L / -P / -C / -G against a running broker.
# Usage: kcat.sh HOST:PORT LABEL   (LD_LIBRARY_PATH selects the librdkafka)
set -euo pipefail
BOOT=$1
LABEL=$2
T="kcat-$LABEL-$$"
fail() { echo "FAIL [$LABEL] $*" >&2; exit 1; }
pass() { echo "PASS [$LABEL] $*"; }

version=$(kcat -V 2>&1 | grep -o 'librdkafka [0-9][0-9.]*' | head -n 1 || true)
[ -n "$version" ] || fail "kcat -V does not name its librdkafka"
pass "using $version"

out=$(kcat -b "$BOOT" -L)
grep -q "broker 0 at $BOOT" <<<"$out" || fail "-L does not list the broker"
pass "-L lists broker 0 at $BOOT"
port=${BOOT##*:}
kcat -b "localhost:$port" -L >/dev/null || fail "bootstrap through localhost"
kcat -b "[::1]:$port" -L >/dev/null || fail "bootstrap through ::1"
pass "bootstrap through localhost and [::1]"

seq 1 1000 | sed 's/^/line-/' | kcat -b "$BOOT" -P -t "$T" -z snappy
got=$(kcat -b "$BOOT" -C -t "$T" -o beginning -e -q | wc -l)
[ "$got" -eq 1000 ] || fail "-C read $got of 1000 messages"
kcat -b "$BOOT" -C -t "$T" -o beginning -e -q | diff -q - <(seq 1 1000 | sed 's/^/line-/') >/dev/null ||
    fail "-C content or order differs"
pass "-P (snappy) then -C -e round-trips 1000 lines in order"

kcat -b "$BOOT" -P -t "$T" -K: <<<"key1:value1"
out=$(kcat -b "$BOOT" -C -t "$T" -o -1 -e -q -f '%k=%s\n')
grep -qx 'key1=value1' <<<"$out" || fail "keyed message"
pass "-K: keyed message"

got=$(timeout 60 kcat -b "$BOOT" -G "g-$T" -X auto.offset.reset=earliest -e -q "$T" | wc -l)
[ "$got" -eq 1001 ] || fail "-G read $got of 1001 messages"
again=$(timeout 60 kcat -b "$BOOT" -G "g-$T" -X auto.offset.reset=earliest -e -q "$T" | wc -l)
[ "$again" -eq 0 ] || fail "-G re-read $again messages despite committed offsets"
pass "-G reads everything once, then resumes from the committed offsets"
