#!/bin/sh
# CLI test for `fwpcast init`, `fwpcast import`, `fwpcast datasets` against a temporary database:
# the bundled data loads, a good file imports with the right summary, broken files fail with
# exit 1 and a line/column message and leave the database byte-for-byte the same (by .dump).
# Usage: tests/cli/test_data_commands.sh [path/to/fwpcast]   (run from the project root)
set -eu

root=$(pwd)
bin=${1:-${FWPCAST_BIN:-$root/build/fwpcast}}
case $bin in /*) ;; *) bin=$root/$bin ;; esac
[ -x "$bin" ] || { echo "test_data_commands: no binary at $bin (run make first)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "test_data_commands: needs the sqlite3 command" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fwpcast-cli-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
db=$tmp/var/test.db
export FWPCAST_DATA="$root/data"
unset FWPCAST_DB
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# expect_output NAME EXPECTED_EXIT PATTERN CMD...: runs CMD, checks its exit code and that its
# combined output contains PATTERN (a fixed string).
expect_output() {
    name=$1 want_exit=$2 pattern=$3
    shift 3
    set +e
    "$@" >"$tmp/out" 2>&1
    got_exit=$?
    set -e
    if [ "$got_exit" -ne "$want_exit" ]; then
        fail "$name: exit $got_exit, expected $want_exit; output:"
        sed 's/^/    /' "$tmp/out" >&2
    elif ! grep -qF -- "$pattern" "$tmp/out"; then
        fail "$name: output lacks '$pattern'; output:"
        sed 's/^/    /' "$tmp/out" >&2
    else
        echo "ok: $name"
    fi
}

dump() {
    sqlite3 "$db" .dump
}

# --- a broken import against a database that does not exist yet creates nothing
head -c 5000 "$root/data/SN_m_tot_V2.0.csv" >"$tmp/cut.csv"
expect_output "broken import, no database yet" 1 "line 132, column 5: missing field" \
    "$bin" import "$tmp/cut.csv" --db "$db"
[ ! -e "$db" ] || fail "a failed import created $db"

# --- init loads the two bundled series, once
expect_output "init loads silso-monthly" 0 "silso-monthly: 3333 rows, 1749-01..2026-09, 0 missing" \
    "$bin" init --db "$db"
grep -qF "silso-smoothed: 3333 rows, 1749-01..2026-09, 12 missing" "$tmp/out" \
    || fail "init output lacks the smoothed series"
expect_output "init again imports nothing" 0 "nothing imported" "$bin" init --db "$db"

# --- a good import prints id, rows, range and missing count
expect_output "import the monthly file" 0 "dataset 3: 3333 rows, 1749-01..2026-09, 0 missing" \
    "$bin" import "$root/data/SN_m_tot_V2.0.csv" --name monthly-copy --db "$db"
expect_output "import the authors' CSV (FWPCAST_DB)" 0 "dataset 4: 3265 rows, 1749-01..2021-01, 0 missing" \
    env FWPCAST_DB="$db" "$bin" import "$root/data/benchmarks/authors-Sunspots.csv"
expect_output "import the yearly file" 0 "dataset 5: 325 rows, 1700..2024, 0 missing" \
    "$bin" import "$root/data/SN_y_tot_V2.0.csv" --db="$db"

# --- broken copies: exit 1, line and column named, database unchanged
before=$(dump)
sed '12s/^\(1749;12;1749.958;\) *[0-9.]*;/\1  abc;/' "$root/data/SN_m_tot_V2.0.csv" >"$tmp/bad-number.csv"
expect_output "bad number" 1 "line 12, column 4: expected a number (the value), got 'abc'" \
    "$bin" import "$tmp/bad-number.csv" --db "$db"
head -c -20 "$root/data/SN_m_tot_V2.0.csv" >"$tmp/truncated.csv"
expect_output "truncated last line" 1 "line 3333, column" \
    "$bin" import "$tmp/truncated.csv" --db "$db"
sed '100p' "$root/data/SN_m_tot_V2.0.csv" >"$tmp/duplicate.csv"
expect_output "duplicate period" 1 "line 101, column 1: period 1757-04 repeats the period of line 100" \
    "$bin" import "$tmp/duplicate.csv" --db "$db"
sed '200d' "$root/data/SN_m_tot_V2.0.csv" >"$tmp/gap.csv"
expect_output "gap" 1 "line 200, column 1" "$bin" import "$tmp/gap.csv" --db "$db"
sed '12s/^\(1749;12;1749.958;\) *[0-9.]*;/\1  NaN;/' "$root/data/SN_m_tot_V2.0.csv" >"$tmp/nan.csv"
expect_output "NaN" 1 "line 12, column 4" "$bin" import "$tmp/nan.csv" --db "$db"
printf '2024-01,1\n2024-02,\377\n' >"$tmp/latin1.csv"
expect_output "invalid UTF-8" 1 "line 2, column 9: invalid UTF-8" \
    "$bin" import "$tmp/latin1.csv" --db "$db"
: >"$tmp/empty.csv"
expect_output "empty file" 1 "line 1, column 1" "$bin" import "$tmp/empty.csv" --db "$db"
expect_output "name taken" 1 "already exists" \
    "$bin" import "$root/data/SN_m_tot_V2.0.csv" --name monthly-copy --db "$db"
expect_output "missing file" 1 "No such file" "$bin" import "$tmp/nope.csv" --db "$db"
after=$(dump)
[ "$before" = "$after" ] || fail "a failed import changed the database"

# --- usage errors exit 2
expect_output "import without a file" 2 "usage: fwpcast import" "$bin" import --db "$db"
expect_output "unknown option" 2 "unknown option '--frobnicate'" "$bin" datasets --frobnicate

# --- listing
expect_output "datasets lists them" 0 "monthly-copy" "$bin" datasets --db "$db"
expect_output "datasets --json" 0 '"missing_count": 12' "$bin" datasets --db "$db" --json
n=$("$bin" datasets --db "$db" --json | grep -c '"id":')
[ "$n" -eq 5 ] || fail "datasets --json lists $n datasets, expected 5"

if [ "$failures" -ne 0 ]; then
    echo "test_data_commands: $failures failure(s)" >&2
    exit 1
fi
echo "test_data_commands: all passed"
