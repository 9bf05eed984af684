# Sourced by the Kafka-named shims: finds the weir binary.
# Order: $WEIR_BIN, `weir` on PATH, this checkout's release build, then its debug build.
# shellcheck shell=bash
_shim_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ -n "${WEIR_BIN:-}" ]; then
    WEIR="$WEIR_BIN"
elif command -v weir >/dev/null 2>&1; then
    WEIR="$(command -v weir)"
elif [ -x "${CARGO_TARGET_DIR:-$_shim_root/target}/release/weir" ]; then
    WEIR="${CARGO_TARGET_DIR:-$_shim_root/target}/release/weir"
elif [ -x "${CARGO_TARGET_DIR:-$_shim_root/target}/debug/weir" ]; then
    WEIR="${CARGO_TARGET_DIR:-$_shim_root/target}/debug/weir"
else
    echo "weir is not built: run 'cargo build --release -p worker' in $_shim_root" >&2
    exit 1
fi

# weir_daemon OUT PID ARGS...: runs `weir ARGS` in the background, as the
# Kafka scripts' -daemon does: output appended to $LOG_DIR/OUT (default
# ./logs), the process id written to $LOG_DIR/PID.
weir_daemon() {
    local out=$1 pid=$2 log_dir="${LOG_DIR:-$PWD/logs}"
    shift 2
    mkdir -p "$log_dir"
    nohup "$WEIR" "$@" >>"$log_dir/$out" 2>&1 &
    echo $! >"$log_dir/$pid"
}
