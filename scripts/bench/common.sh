# What the benchmarks share: timing, ratios, a process's peak RSS and the
# worker's metrics. Sourced after ../lib.sh.

now() { date +%s.%N; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

# watch_rss PID FILE: writes the peak RSS (kB) of PID to FILE until PID ends.
watch_rss() {
    local peak=0 r
    while kill -0 "$1" 2>/dev/null; do
        r=$(awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0)
        [ "${r:-0}" -gt "$peak" ] && peak=$r
        echo "$peak" >"$2"
        sleep 0.2
    done
}

# metric NAME CONNECTOR: a sample of a worker metric (the worker's REST port
# in $REST), empty when absent.
metric() {
    curl -s "http://127.0.0.1:$REST/metrics" 2>/dev/null | awk -v m="$1" -v c="connector=\"$2\"" '$1 ~ "^"m"[{]" && index($1, c) {print $2}'
}
