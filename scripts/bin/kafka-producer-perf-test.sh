#!/usr/bin/env bash
# kafka-producer-perf-test.sh with Kafka's flags, served by `weir producer-perf-test`.
set -euo pipefail
source "$(dirname "$0")/_weir.sh"
exec "$WEIR" producer-perf-test "$@"
