#!/bin/sh
# make load: a real server under wrk (64 connections, 60 s by default) on a mix of POST /forecast
# and GET /datasets/{id}, while a training job runs. Passes when:
#   - no 5xx and no socket error (connect, read, write, timeout) was seen;
#   - RSS after the load (and a settle) is within 10% of RSS before it (measured after a 5 s
#     warm-up of the same load);
#   - the training job that ran under load produced the same model, byte for byte, as the same
#     request trained on an idle server.
# Prints a Markdown table for docs/RELIABILITY.md. Needs wrk (installed when missing).
# Usage: tests/load/load.sh [SECONDS] [CONNECTIONS]
set -eu
seconds=${1:-60}
connections=${2:-64}
root=$(pwd)
bin=${FWPCAST_BIN:-$root/build/fwpcast}
command -v wrk >/dev/null || ./deploy/install-deps.sh --bench
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fwpcast-load-XXXXXX")
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
unset FWPCAST_DB FWPCAST_TOKEN FWPCAST_PORT FWPCAST_BIND

start() { # db
    : >"$tmp/start.log"
    "$bin" serve --port 0 --db "$1" --data "$root/data" --workers 1 --train-threads 1 --quiet \
        >"$tmp/start.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 200); do
        port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$tmp/start.log")
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -n "$port" ] || { cat "$tmp/start.log" >&2; exit 1; }
    base="http://127.0.0.1:$port"
}
stop() {
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
}
rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
job_field() { curl -s -m 10 "$base/jobs/$1" | sed -n "s/.*\"$2\":\"*\([a-z0-9]*\)\"*,.*/\1/p"; }
train() { curl -s -m 30 -X POST "$base/models" -d "$1" | sed -n 's/.*"job":\([0-9]*\).*/\1/p'; }
wait_done() {
    while [ "$(job_field "$1" state)" = "queued" ] || [ "$(job_field "$1" state)" = "running" ]; do
        sleep 0.2
    done
}
export_model() { # job file
    curl -s -m 30 -o "$2" "$base/models/$(job_field "$1" model)/export?format=binary"
}

# the training request: long enough to last the whole load
req='{"dataset":1,"protocol":"live","window":48,"horizon":12,"epochs":150,"seed":5,"config":{"slow_dim":6,"hidden":8,"fast_in":3,"fast_out":4}}'

# 1. the reference: the same job on an idle server
start "$tmp/ref.db"
ref=$(train "$req")
wait_done "$ref"
[ "$(job_field "$ref" state)" = "succeeded" ] || { echo "load: reference job failed" >&2; exit 1; }
export_model "$ref" "$tmp/ref.fwp"
stop

# 2. the load, with the job running
start "$tmp/load.db"
curl -s -o /dev/null -X POST "$base/forecast" -d '{}' # load the default model
curl -s -o /dev/null "$base/datasets/1"
cat >"$tmp/mix.lua" <<'LUA'
-- every third request reads a dataset, the others forecast
local n = 0
request = function()
    n = n + 1
    if n % 3 == 0 then
        return wrk.format("GET", "/datasets/1?from=1900-01&to=2000-12")
    end
    return wrk.format("POST", "/forecast", {["Content-Type"] = "application/json"},
                      '{"h": 132, "level": [80, 95]}')
end
local statuses = {}
response = function(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("errors %d %d %d %d %d\n", e.connect, e.read, e.write, e.status,
                           e.timeout))
    io.write(string.format("p50 %.3f p99 %.3f\n", latency:percentile(50) / 1000,
                           latency:percentile(99) / 1000))
end
LUA
# A warm-up, so that the baseline includes what the first load and the first job allocate once
# and keep: the request threads' and the worker's malloc arenas (freed memory glibc keeps for
# reuse), the model instances of the forecast cache. Both RSS measures are taken settled, with no
# job running, so that they compare the same state; the measured job starts with the load.
warm=$(train "$(echo "$req" | sed 's/"epochs":[0-9]*/"epochs":3/')")
wrk -t2 -c"$connections" -d5s --timeout 10s -s "$tmp/mix.lua" "$base" >/dev/null
wait_done "$warm"
sleep 2
before=$(rss)
job=$(train "$req")
wrk -t2 -c"$connections" -d"${seconds}s" --timeout 10s -s "$tmp/mix.lua" "$base" >"$tmp/wrk.out"
state=$(job_field "$job" state)
wait_done "$job"
final=$(job_field "$job" state)
sleep 2
after=$(rss)
export_model "$job" "$tmp/load.fwp"
stop

requests=$(awk '/requests in/ {print $1}' "$tmp/wrk.out")
per_second=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out")
set -- $(awk '/^errors/ {print $2, $3, $4, $5, $6}' "$tmp/wrk.out")
connect=$1 read=$2 write=$3 status=$4 timeout=$5
p50=$(awk '/^p50/ {print $2}' "$tmp/wrk.out")
p99=$(awk '/^p50/ {print $4}' "$tmp/wrk.out")
growth=$(awk -v a="$before" -v b="$after" 'BEGIN { printf "%+.1f", 100 * (b - a) / a }')
same=no
cmp -s "$tmp/ref.fwp" "$tmp/load.fwp" && same=yes
echo "| measure ($connections connections, ${seconds} s, 2/3 POST /forecast, 1/3 GET /datasets/1) | value |"
echo "|---|---|"
echo "| requests (per second) | $requests ($per_second/s) |"
echo "| latency p50 / p99 | $p50 ms / $p99 ms |"
echo "| non-2xx answers / connect, read, write errors / timeouts | $status / $connect, $read, $write / $timeout |"
echo "| training job during the load | $state when the load ended, then $final |"
echo "| model trained under load = model trained idle (byte for byte) | $same |"
echo "| RSS before / after (settled) | $((before / 1024)) MiB / $((after / 1024)) MiB ($growth%) |"
ok=1
[ "$status" = 0 ] && [ "$connect" = 0 ] && [ "$read" = 0 ] && [ "$write" = 0 ] &&
    [ "$timeout" = 0 ] || ok=0
[ "$same" = yes ] && [ "$final" = succeeded ] || ok=0
awk -v a="$before" -v b="$after" 'BEGIN { exit !(b <= 1.1 * a && b >= 0.9 * a) }' || ok=0
[ "$ok" = 1 ] && echo "load: passed" || { echo "load: FAILED" >&2; exit 1; }
