#!/bin/sh
# HTTP benchmark: wrk against POST /forecast on the default model (16 connections, 30 s by
# default), with the server's RSS idle and under load. Needs wrk (Debian package `wrk`; installed
# here when missing).
# Usage: bench/http_bench.sh [SECONDS] [CONNECTIONS]
set -eu
seconds=${1:-30}
connections=${2:-16}
bin=${FWPCAST_BIN:-build/fwpcast}
command -v wrk >/dev/null || ./deploy/install-deps.sh --bench
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fwpcast-bench-XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
port=$((20000 + $$ % 20000))
"$bin" serve --port "$port" --db "$tmp/bench.db" --quiet --workers 1 2>"$tmp/server.log" &
pid=$!
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
rss() { awk '/^VmRSS/ {print $2 / 1024}' "/proc/$pid/status"; }
hwm() { awk '/^VmHWM/ {print $2 / 1024}' "/proc/$pid/status"; }
curl -fs -X POST "http://127.0.0.1:$port/forecast" -d '{}' >/dev/null   # load the default model
idle=$(rss)
cat >"$tmp/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"h": 132, "level": [80, 95]}'
wrk.headers["Content-Type"] = "application/json"
LUA
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$tmp/post.lua" \
    "http://127.0.0.1:$port/forecast" >"$tmp/wrk.out"
loaded=$(hwm)
requests=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out")
p50=$(awk '$1 == "50%" {print $2}' "$tmp/wrk.out")
p99=$(awk '$1 == "99%" {print $2}' "$tmp/wrk.out")
errors=$(grep -c "Non-2xx\|Socket errors" "$tmp/wrk.out" || true)
echo "| measure | value |"
echo "|---|---|"
echo "| POST /forecast (h 132, 80/95% bands), $connections connections, ${seconds} s | $requests forecasts/s |"
echo "| latency p50 / p99 | $p50 / $p99 |"
echo "| RSS idle (model loaded) / peak under load | $(printf '%.1f' "$idle") MiB / $(printf '%.1f' "$loaded") MiB |"
echo "| non-2xx or socket errors reported by wrk | $errors |"
echo
echo "(the authors' code needs 30 ms for one forecast on this kind of CPU, 1.26 ms on an H100)"
