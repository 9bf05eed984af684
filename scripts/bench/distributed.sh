#!/usr/bin/env bash
# Distributed mode at scale, release build: a broker and three workers,
# N FileStreamSink connectors each (default 100, 500 and 1000; or the sizes
# given as arguments), timed from creation to RUNNING, listed, and through
# a SIGKILL of one worker. Prints one table. Not part of test.sh.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
ensure_venv
WEIR_PROFILE=release build_weir
"$VENV/bin/python" "$ROOT/scripts/bench/distributed.py" "$WEIR" "$@"
