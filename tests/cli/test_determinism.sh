#!/bin/sh
# CLI test: training and forecasting give the same bytes whatever OpenBLAS is told about the CPU
# (OPENBLAS_CORETYPE unset, Haswell, SkylakeX, Zen; 2 threads against the reference's 1).
# model/ does its own products (model/gemm.h), so OpenBLAS's kernel choice must not reach a
# model file or a forecast. SkylakeX's AVX-512 kernels would not even run on a CPU without
# AVX-512 (SIGILL at the first BLAS call): on such a machine that run also shows that no BLAS
# kernel is called. Tiny models of four architectures (the default gated-qkan-fwp, lstm,
# wavenet-lstm, esn) on the bundled SILSO series, two epochs. For other CPUs,
# tests/unit/test_determinism.c compares the two product paths (baseline and AVX2) a CPU
# chooses between.
# Usage: tests/cli/test_determinism.sh [path/to/fwpcast]   (run from the project root)
set -eu

root=$(pwd)
bin=${1:-${FWPCAST_BIN:-$root/build/fwpcast}}
case $bin in /*) ;; *) bin=$root/$bin ;; esac
[ -x "$bin" ] || { echo "test_determinism: no binary at $bin" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fwpcast-determinism-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
export FWPCAST_DATA="$root/data"
unset FWPCAST_DB OPENBLAS_CORETYPE
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
ok() { echo "ok: $*"; }

common="--protocol live --window 48 --horizon 12 --epochs 2 --seed 3 --quiet"

# run NAME CORETYPE THREADS MODEL CONFIG: trains into $tmp/NAME.fwp and forecasts into NAME.json
# (CORETYPE "-" leaves OPENBLAS_CORETYPE unset)
run() {
    name=$1 core=$2 threads=$3 model=$4 config=$5
    if [ "$core" = - ]; then
        "$bin" train $common --model "$model" --config "$config" --threads "$threads" \
            --out "$tmp/$name.fwp" >/dev/null 2>"$tmp/$name.err" || return 1
        "$bin" forecast "$tmp/$name.fwp" --level 80 --json >"$tmp/$name.json" 2>>"$tmp/$name.err"
    else
        OPENBLAS_CORETYPE=$core "$bin" train $common --model "$model" --config "$config" \
            --threads "$threads" --out "$tmp/$name.fwp" >/dev/null 2>"$tmp/$name.err" || return 1
        OPENBLAS_CORETYPE=$core "$bin" forecast "$tmp/$name.fwp" --level 80 --json \
            >"$tmp/$name.json" 2>>"$tmp/$name.err"
    fi
    # the "model" field names the file; the rest must match byte for byte
    sed 's/"model":"[^"]*"//' "$tmp/$name.json" >"$tmp/$name.cmp"
}

check_model() {
    model=$1 config=$2
    ref="$model-unset-1"
    if ! run "$ref" - 1 "$model" "$config"; then
        fail "$model: training failed: $(cat "$tmp/$ref.err")"
        return
    fi
    for core in - Haswell SkylakeX Zen; do
        label=$core
        [ "$core" = - ] && label=unset
        for threads in 2; do
            name="$model-$label-$threads"
            what="$model, OPENBLAS_CORETYPE $label, $threads thread(s)"
            if ! run "$name" "$core" "$threads" "$model" "$config"; then
                fail "$what: $(cat "$tmp/$name.err")"
                continue
            fi
            if cmp -s "$tmp/$ref.fwp" "$tmp/$name.fwp" &&
                cmp -s "$tmp/$ref.cmp" "$tmp/$name.cmp"; then
                ok "$what: the same model file and forecast"
            else
                fail "$what: the model file or the forecast differs"
            fi
        done
    done
    # the comparison can fail: another seed gives another file
    "$bin" train --protocol live --window 48 --horizon 12 --epochs 2 --seed 4 --quiet \
        --model "$model" --config "$config" --out "$tmp/$model-seed4.fwp" >/dev/null 2>&1
    cmp -s "$tmp/$ref.fwp" "$tmp/$model-seed4.fwp" && fail "$model: seed 4 gave seed 3's file" ||
        ok "$model: another seed differs"
}

check_model gated-qkan-fwp "slow_dim=4;hidden=6;fast_in=3;fast_out=4"
check_model lstm "hidden=12"
check_model wavenet-lstm "channels=4;skip_channels=6;blocks=3;kernel=2;hidden=10"
check_model esn "units=120"

if [ "$failures" -ne 0 ]; then
    echo "test_determinism: $failures failure(s)" >&2
    exit 1
fi
echo "test_determinism: all passed"
