#!/bin/sh
# CLI test for `fwpcast compare` and `fwpcast benchmark --suite timeseries`: tiny runs (few
# epochs) stored in a real SQLite file, the table and the --json contract, resuming (stored runs
# are not trained again), the CSV-backed datasets, and bad input failing with a message, a
# non-zero exit and nothing on stdout.
# Usage: tests/cli/test_compare_commands.sh [path/to/fwpcast]   (run from the project root)
set -eu

root=$(pwd)
bin=${1:-${FWPCAST_BIN:-$root/build/fwpcast}}
case $bin in /*) ;; *) bin=$root/$bin ;; esac
[ -x "$bin" ] || { echo "test_compare_commands: no binary at $bin" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fwpcast-compare-XXXXXX")
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

# --- benchmark: two models x two seeds on NARMA-5, then again: all four stored ---
bench="benchmark --suite timeseries --datasets narma_5 --models qfwp,gated-qkan-fwp --seeds 0-1 --epochs 2 --db $db"
"$bin" $bench >"$tmp/b1.out" 2>"$tmp/b1.err"
if grep -q '^| gated-qkan-fwp | 159 | 2 | ' "$tmp/b1.out" && grep -q '^| qfwp | 111 | 2 | ' "$tmp/b1.out"; then
    ok "benchmark prints one row per model with parameters and seeds"
else
    fail "benchmark table: $(cat "$tmp/b1.out" "$tmp/b1.err")"
fi
[ "$(grep -c ': training' "$tmp/b1.err")" -eq 4 ] && ok "four runs trained" || fail "trained: $(cat "$tmp/b1.err")"
"$bin" $bench >"$tmp/b2.out" 2>"$tmp/b2.err"
if [ "$(grep -c ': stored' "$tmp/b2.err")" -eq 4 ] && ! grep -q ': training' "$tmp/b2.err" &&
    cmp -s "$tmp/b1.out" "$tmp/b2.out"; then
    ok "a second run resumes: nothing retrained, the same table"
else
    fail "resume: $(cat "$tmp/b2.err")"
fi
# one more seed trains only that seed
"$bin" benchmark --suite timeseries --datasets narma_5 --models qfwp --seeds 0-2 --epochs 2 --db "$db" >"$tmp/b3.out" 2>"$tmp/b3.err"
if [ "$(grep -c ': training' "$tmp/b3.err")" -eq 1 ] && grep -q '^| qfwp | 111 | 3 | ' "$tmp/b3.out"; then
    ok "a new seed adds one run"
else
    fail "new seed: $(cat "$tmp/b3.out" "$tmp/b3.err")"
fi

# --- the CSV-backed dataset and --json ---
"$bin" benchmark --suite timeseries --datasets jaynes_cummings --models gqkan-fwp --seeds 0 --epochs 1 --db "$db" --json --quiet >"$tmp/jc.json"
last=$(tail -n 1 "$tmp/jc.json")
case $last in
'{"suite":"timeseries"'*'"task":"jaynes_cummings"'*'"model":"gqkan-fwp"'*'"test_windows":587'*) ok "jaynes_cummings from the authors' CSV, --json on one line" ;;
*) fail "benchmark --json: $last" ;;
esac

# --- compare on the paper protocol (one cheap model, one epoch) ---
"$bin" compare --models qfwp --seeds 0 --epochs 1 --db "$db" --quiet >"$tmp/c.out"
if grep -q '^| qfwp | 774 | 1 | 0\.[0-9]* ± - | [0-9.]* ± - | [0-9.]* ± - | ' "$tmp/c.out"; then
    ok "compare: scaled MSE, peak amplitude and timing errors on the paper protocol"
else
    fail "compare table: $(cat "$tmp/c.out")"
fi
"$bin" compare --models qfwp --seeds 0 --epochs 1 --db "$db" --json 2>"$tmp/c.err" >"$tmp/c.json"
if grep -q ': stored' "$tmp/c.err" && grep -q '"peak_timing_error":{"mean":' "$tmp/c.json"; then
    ok "compare resumes and reports JSON"
else
    fail "compare --json: $(cat "$tmp/c.json" "$tmp/c.err")"
fi

# --- bad input: a message, exit 2 (usage) or 1, nothing on stdout ---
expect_fail() {
    code=$1
    shift
    set +e
    "$bin" "$@" --db "$db" >"$tmp/bad.out" 2>"$tmp/bad.err"
    rc=$?
    set -e
    if [ "$rc" -eq "$code" ] && [ ! -s "$tmp/bad.out" ] && [ -s "$tmp/bad.err" ]; then
        ok "fails ($rc): $*"
    else
        fail "expected exit $code with a message for: $* (got $rc: $(cat "$tmp/bad.out" "$tmp/bad.err"))"
    fi
}
expect_fail 2 compare --seeds x
expect_fail 2 compare --seeds 3-1
expect_fail 2 compare --seeds ""
expect_fail 2 compare --models no-such-model
expect_fail 2 compare --epochs 0
expect_fail 2 compare --epochs -5
expect_fail 2 compare --protocol live
expect_fail 2 compare --bogus
expect_fail 2 benchmark --suite solar
expect_fail 2 benchmark --datasets nope
expect_fail 2 benchmark --models lstm
expect_fail 2 benchmark --threads 0
# a truncated CSV in another data directory
mkdir -p "$tmp/data/benchmarks"
head -n 100 "$root/data/benchmarks/transmon.csv" >"$tmp/data/benchmarks/transmon.csv"
FWPCAST_DATA="$tmp/data" expect_fail 1 benchmark --datasets transmon --models qfwp --seeds 0 --epochs 1
grep -q 'expected 3000' "$tmp/bad.err" && ok "a truncated CSV is named" || fail "truncated CSV: $(cat "$tmp/bad.err")"
printf '0.1\nnan\n' >"$tmp/data/benchmarks/transmon.csv"
FWPCAST_DATA="$tmp/data" expect_fail 1 benchmark --datasets transmon --models qfwp --seeds 0 --epochs 1
# nothing was stored by the failures
"$bin" benchmark --suite timeseries --datasets narma_5 --models qfwp --seeds 0-2 --epochs 2 --db "$db" >"$tmp/b4.out" 2>/dev/null
cmp -s "$tmp/b3.out" "$tmp/b4.out" && ok "failed runs changed nothing" || fail "table changed: $(cat "$tmp/b4.out")"

if [ "$failures" -ne 0 ]; then
    echo "test_compare_commands: $failures failure(s)" >&2
    exit 1
fi
echo "test_compare_commands: all passed"
