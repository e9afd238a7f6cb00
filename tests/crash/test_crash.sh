#!/bin/sh
# Crash safety: SIGKILL a real `fwpcast serve` at random moments while it imports datasets, trains
# and writes models, restart it on the same SQLite file, and check after every round:
#   - PRAGMA integrity_check is ok;
#   - no half-imported dataset (every dataset has exactly its row_count points);
#   - no job left running: each is queued, succeeded, failed, cancelled or interrupted;
#   - every stored model loads and forecasts.
# At the end an interrupted training job is resumed and must reach the same weights (byte-identical
# model export) as the same request trained without interruption.
# Usage: tests/crash/test_crash.sh [path/to/fwpcast]   (ROUNDS=5 by default; `make crash` runs 20)
set -eu

root=$(pwd)
bin=${1:-${FWPCAST_BIN:-$root/build/fwpcast}}
case $bin in /*) ;; *) bin=$root/$bin ;; esac
[ -x "$bin" ] || { echo "test_crash: no binary at $bin" >&2; exit 1; }
rounds=${ROUNDS:-5}
slow=${CRASH_SLOW:-1} # a factor for waits (sanitizer builds are slower)
case $bin in */asan/*) slow=4 ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fwpcast-crash-XXXXXX")
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
unset FWPCAST_DB FWPCAST_TOKEN FWPCAST_PORT FWPCAST_BIND
db="$tmp/fwpcast.db"
tiny='"config":{"slow_dim":3,"hidden":4,"fast_in":2,"fast_out":3}'
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# Starts the server on a free port; sets pid and base.
start() {
    : >"$tmp/start.log"
    "$bin" serve --port 0 --db "$db" --data "$root/data" --train-threads 1 --workers 2 \
        --quiet >"$tmp/start.log" 2>&1 &
    pid=$!
    i=0
    while :; do
        port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$tmp/start.log")
        [ -n "$port" ] && break
        i=$((i + 1))
        if [ "$i" -gt $((200 * slow)) ] || ! kill -0 "$pid" 2>/dev/null; then
            echo "test_crash: the server did not start:" >&2
            cat "$tmp/start.log" >&2
            exit 1
        fi
        sleep 0.05
    done
    base="http://127.0.0.1:$port"
    cat "$tmp/start.log" >>"$tmp/server.log"
}

post() { curl -s -o /dev/null -m 30 -X POST "$base$1" "$@" 2>/dev/null || true; }

sql() { sqlite3 -batch -noheader "$db" "$1"; }

check() {
    what=$1
    ok=$(sql "PRAGMA integrity_check;")
    [ "$ok" = "ok" ] || fail "$what: integrity_check: $ok"
    half=$(sql "SELECT count(*) FROM datasets d WHERE d.row_count <>
                (SELECT count(*) FROM dataset_points p WHERE p.dataset_id = d.id);")
    [ "$half" = "0" ] || fail "$what: $half half-imported dataset(s)"
}

# a CSV large enough that its import takes a while (120,000 rows: about 0.4 s)
awk 'BEGIN { for (y = 1; y < 10000; y++) for (m = 1; m <= 12; m++)
             printf "%04d-%02d,%.1f\n", y, m, 100 + 50 * sin((y * 12 + m) / 20.0) }' \
    >"$tmp/big.csv"

start
for r in $(seq 1 "$rounds"); do
    # work in flight: an import, a long training job, short jobs that end in a model write
    (post "/datasets?name=crash-$r" -H 'Content-Type: text/csv' --data-binary "@$tmp/big.csv"
        post "/datasets?name=crash-$r-b" -H 'Content-Type: text/csv' --data-binary "@$tmp/big.csv") &
    post /models -d "{\"dataset\":1,\"protocol\":\"live\",\"window\":24,\"horizon\":6,\"epochs\":400,\"seed\":$r,$tiny}"
    post /models -d "{\"dataset\":1,\"protocol\":\"live\",\"window\":24,\"horizon\":6,\"epochs\":2,\"seed\":$r,$tiny}"
    # a random moment within the next ~1.5 s
    sleep "$(awk -v s="$r$$" 'BEGIN { srand(s); printf "%.2f", rand() * 1.5 }')"
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    wait 2>/dev/null || true
    pid=
    check "round $r, killed"
    start
    running=$(sql "SELECT count(*) FROM jobs WHERE state = 'running';")
    # a restart marks the dead process's jobs interrupted before any worker claims new ones;
    # what runs now was claimed by this process
    left=$(sql "SELECT count(*) FROM jobs WHERE state NOT IN
                ('queued','running','succeeded','failed','cancelled','interrupted');")
    [ "$left" = "0" ] || fail "round $r: $left job(s) in no known state"
    [ "$running" -le 2 ] || fail "round $r: $running jobs running with 2 workers"
    # every stored model loads and forecasts
    for id in $(sql "SELECT id FROM models;"); do
        code=$(curl -s -o /dev/null -w '%{http_code}' -m 30 -X POST "$base/forecast" \
            -d "{\"model\":$id,\"h\":3}")
        [ "$code" = "200" ] || fail "round $r: model $id does not forecast ($code)"
    done
    # cancel what is still queued or running, so rounds do not pile up work
    for id in $(sql "SELECT id FROM jobs WHERE state IN ('queued','running');"); do
        curl -s -o /dev/null -m 10 -X DELETE "$base/jobs/$id" || true
    done
    echo "ok: round $r"
done

# --- resume after a crash reaches the uninterrupted result ---
job_state() { curl -s -m 10 "$base/jobs/$1" | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p'; }
job_epoch() { curl -s -m 10 "$base/jobs/$1" | sed -n 's/.*"epoch":\([0-9]*\),.*/\1/p'; }
job_model() { curl -s -m 10 "$base/jobs/$1" | sed -n 's/.*"model":\([0-9]*\),.*/\1/p'; }
train() { curl -s -m 30 -X POST "$base/models" -d "$1" | sed -n 's/.*"job":\([0-9]*\).*/\1/p'; }
wait_state() { # id state timeout
    i=0
    while [ "$(job_state "$1")" != "$2" ]; do
        i=$((i + 1))
        [ "$i" -le $(($3 * 10 * slow)) ] || return 1
        sleep 0.1
    done
}
req="{\"dataset\":1,\"protocol\":\"live\",\"window\":24,\"horizon\":6,\"epochs\":30,\"seed\":77,$tiny}"
a=$(train "$req")
i=0
while [ "$(job_epoch "$a")" -lt 5 ] 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -le $((600 * slow)) ] || break
    sleep 0.05
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=
check "resume test, killed"
start
[ "$(job_state "$a")" = "interrupted" ] || fail "job $a is $(job_state "$a") after the crash, not interrupted"
post "/jobs/$a/resume"
wait_state "$a" succeeded 120 || fail "resumed job $a: $(job_state "$a")"
b=$(train "$req")
wait_state "$b" succeeded 120 || fail "reference job $b: $(job_state "$b")"
ma=$(job_model "$a")
mb=$(job_model "$b")
curl -s -m 30 -o "$tmp/a.fwp" "$base/models/$ma/export?format=binary"
curl -s -m 30 -o "$tmp/b.fwp" "$base/models/$mb/export?format=binary"
if [ -s "$tmp/a.fwp" ] && cmp -s "$tmp/a.fwp" "$tmp/b.fwp"; then
    echo "ok: a job resumed after SIGKILL reaches the uninterrupted run's weights, byte for byte"
else
    fail "resumed model $ma differs from uninterrupted model $mb"
fi
kill -TERM "$pid"
wait "$pid" 2>/dev/null || true
pid=
check "the end"

if [ "$failures" -ne 0 ]; then
    echo "test_crash: $failures failure(s); server log:" >&2
    tail -n 40 "$tmp/server.log" >&2
    exit 1
fi
echo "test_crash: all passed ($rounds rounds)"
