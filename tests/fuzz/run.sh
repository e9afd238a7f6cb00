#!/bin/sh
# Runs each named libFuzzer harness (tests/fuzz/fuzz_NAME.c, built by `make fuzz`) for
# $FUZZ_SECONDS on $FUZZ_OUT/corpus/NAME, which starts as a copy of the committed seeds in
# tests/fuzz/corpus/NAME and keeps what the fuzzer adds. A crash, sanitizer report, leak, timeout
# or out-of-memory fails the run; the input is left in $FUZZ_OUT/crashes/ and the fuzzer's output
# in $FUZZ_OUT/logs/NAME.log. Prints one line per harness: executions, executions per second,
# corpus size. Run from the repository root.
set -u
: "${FUZZ_BIN:?}" "${FUZZ_OUT:?}" "${FUZZ_SECONDS:?}"
# A single input that takes longer than this is a hang.
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-60}

mkdir -p "$FUZZ_OUT/crashes" "$FUZZ_OUT/logs"
failed=""
for name in "$@"; do
    corpus="$FUZZ_OUT/corpus/$name"
    log="$FUZZ_OUT/logs/$name.log"
    mkdir -p "$corpus"
    if [ -d "tests/fuzz/corpus/$name" ]; then
        cp -n "tests/fuzz/corpus/$name"/* "$corpus"/ 2>/dev/null
    fi
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
        "$FUZZ_BIN/fuzz_$name" -max_total_time="$FUZZ_SECONDS" -timeout="$FUZZ_TIMEOUT" \
        -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$FUZZ_OUT/crashes/$name-" "$corpus" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    printf 'fuzz %-12s %10s execs %7s/s  corpus %5s  %s\n' "$name" "${execs:-?}" "${rate:-?}" \
        "$(ls "$corpus" | wc -l)" "$([ $rc -eq 0 ] && echo ok || echo "FAILED (see $log)")"
    if [ $rc -ne 0 ]; then
        failed="$failed $name"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|.*property does not hold)' "$log" |
            head -5 >&2
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz: failed:$failed" >&2
    exit 1
fi
