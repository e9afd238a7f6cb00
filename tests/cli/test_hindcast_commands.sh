#!/bin/sh
# CLI test for `fwpcast hindcast`: a tiny model (window 24, horizon 132, small hidden sizes, one
# epoch) on cycles 24-25 of the bundled SILSO record with two seeds, stored in a real SQLite
# file; the table (cutoffs, actual maxima, the baselines, the panel's errors for cycle 25); a
# second run resumes (trains nothing, prints the same table); --json on the last line; and bad
# input failing with a message, a non-zero exit, nothing on stdout and nothing stored.
# Usage: tests/cli/test_hindcast_commands.sh [path/to/fwpcast]   (run from the project root)
set -eu

root=$(pwd)
bin=${1:-${FWPCAST_BIN:-$root/build/fwpcast}}
case $bin in /*) ;; *) bin=$root/$bin ;; esac
[ -x "$bin" ] || { echo "test_hindcast_commands: no binary at $bin" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fwpcast-hindcast-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
export FWPCAST_DATA="$root/data"
unset FWPCAST_DB
db="$tmp/results.db"
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
ok() { echo "ok: $*"; }
stored_runs() {
    python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select count(*) from results where suite='hindcast'\").fetchone()[0])" "$db"
}

tiny="window=24;horizon=132;slow_dim=3;hidden=4;fast_in=2;fast_out=3"
run="hindcast --cycles 24-25 --seeds 0-1 --epochs 1 --config $tiny --db $db"

# --- the first run trains four models (2 cycles x 2 seeds) ---
"$bin" $run >"$tmp/h1.out" 2>"$tmp/h1.err"
[ "$(grep -c ': training' "$tmp/h1.err")" -eq 4 ] && ok "four runs trained" || fail "trained: $(cat "$tmp/h1.err")"
if grep -q '^| 24 | 2008-12 | 116\.4 (2014-04) | [0-9.]* ([0-9-]*) | ' "$tmp/h1.out" &&
    grep -q '^| 25 | 2019-12 | 160\.9 (2024-10) | [0-9.]* ([0-9-]*) | .* | 45\.9 | 9\.0 |$' "$tmp/h1.out" &&
    grep -q '^| mean | | | | [0-9.]* | [0-9.]* | [0-9.]* | ' "$tmp/h1.out"; then
    ok "the table: cutoffs, actual maxima, the model, the baselines, the panel for cycle 25, means"
else
    fail "table: $(cat "$tmp/h1.out")"
fi
# persistence for cycle 24 is cycle 23's curve: 180.3 against 116.4, a month early
grep -q '^| 24 | .* | 63\.8 | 1\.0 | [0-9.]* | - | - |$' "$tmp/h1.out" && ok "persistence for cycle 24" ||
    fail "persistence: $(grep '^| 24' "$tmp/h1.out")"
[ "$(stored_runs)" -eq 4 ] && ok "four runs stored" || fail "stored: $(stored_runs)"

# --- the second run resumes: nothing trained, the same table ---
"$bin" $run >"$tmp/h2.out" 2>"$tmp/h2.err"
if [ "$(grep -c ': stored' "$tmp/h2.err")" -eq 4 ] && ! grep -q ': training' "$tmp/h2.err" &&
    cmp -s "$tmp/h1.out" "$tmp/h2.out"; then
    ok "a second run resumes: nothing retrained, the same table"
else
    fail "resume: $(cat "$tmp/h2.err")"
fi

# --- --json: one object on the last line ---
"$bin" $run --json --quiet >"$tmp/h.json" 2>"$tmp/hj.err"
if [ ! -s "$tmp/hj.err" ] && tail -n 1 "$tmp/h.json" | python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
assert d["suite"] == "hindcast" and d["horizon"] == 132
assert [c["cycle"] for c in d["cycles"]] == [24, 25]
assert d["cycles"][1]["actual"]["month"] == "2024-10" and d["cycles"][1]["scored_months"] == 75
b = {m["method"]: m for m in d["baselines"]}
panel = b["noaa-nasa-panel"]["cycles"]
assert len(panel) == 1 and panel[0]["cycle"] == 25 and panel[0]["max"]["month"] == "2025-07"
assert abs(panel[0]["amplitude_error"] - 45.9) < 0.05 and panel[0]["timing_error"] == 9
assert panel[0]["mae"] is None
assert b["persistence"]["means"]["cycles"] == 2 and b["mean-cycle"]["means"]["mae_cycles"] == 2
[m] = d["models"]
assert m["architecture"] == "gated-qkan-fwp" and m["seeds"] == [0, 1] and m["epochs"] == 1
assert [c["runs"] for c in m["cycles"]] == [2, 2] and m["means"]["cycles"] == 2
assert m["data_sha256"] == d["data_sha256"]
'; then
    ok "--json: the report on one line"
else
    fail "--json: $(cat "$tmp/h.json" "$tmp/hj.err")"
fi
# one seed of the two: the same stored runs, one seed shown
"$bin" hindcast --cycles 25 --seed 1 --epochs 1 --config "$tiny" --db "$db" --json >"$tmp/h1s.json" 2>"$tmp/h1s.err"
if grep -q ': stored' "$tmp/h1s.err" && ! grep -q ': training' "$tmp/h1s.err" &&
    tail -n 1 "$tmp/h1s.json" | grep -q '"seeds":\[1\]'; then
    ok "--seed 1 on cycle 25 alone: stored, one seed"
else
    fail "--seed: $(cat "$tmp/h1s.json" "$tmp/h1s.err")"
fi

# --- bad input: a message, a non-zero exit, nothing on stdout, nothing stored ---
expect_fail() {
    set +e
    "$bin" hindcast "$@" --db "$db" >"$tmp/bad.out" 2>"$tmp/bad.err"
    rc=$?
    set -e
    if [ "$rc" -ne 0 ] && [ ! -s "$tmp/bad.out" ] && [ -s "$tmp/bad.err" ]; then
        ok "fails ($rc): $*"
    else
        fail "expected a failure with a message for: $* (got $rc: $(cat "$tmp/bad.out" "$tmp/bad.err"))"
    fi
}
expect_fail --cycles 0-0
expect_fail --cycles 30-31 --epochs 1 --config "$tiny"
grep -q 'cycle 30 is not in the series' "$tmp/bad.err" && ok "cycle 30 is named" || fail "30-31: $(cat "$tmp/bad.err")"
expect_fail --cycles 25-21
expect_fail --cycles x
expect_fail --model no-such-model --cycles 24-25 --epochs 1
grep -q "unknown architecture 'no-such-model'" "$tmp/bad.err" && ok "the architecture is named" || fail "model: $(cat "$tmp/bad.err")"
expect_fail --config "window=24;horizon=12" --cycles 25
expect_fail --config "bogus=1" --cycles 25
expect_fail --seed 1 --seeds 0-1
expect_fail --seeds 3-1
expect_fail --epochs 0
expect_fail --bogus
[ "$(stored_runs)" -eq 4 ] && ok "failures stored nothing" || fail "stored after failures: $(stored_runs)"

if [ "$failures" -ne 0 ]; then
    echo "test_hindcast_commands: $failures failure(s)" >&2
    exit 1
fi
echo "test_hindcast_commands: all passed"
