#!/bin/sh
# make bench: runs every benchmark and keeps their tables in build/bench/results.md
# (docs/BENCHMARKS.md records a run with its machine).
set -eu
mkdir -p build/bench
{
    echo "# fwpcast benchmarks, $(date -u +%Y-%m-%d)"
    echo
    echo "## Model (paper protocol)"
    echo
    build/bench/bench_model
    echo
    echo "## Dense products: fixed order (model/gemm.c) against OpenBLAS"
    echo
    build/bench/bench_gemm
    echo
    echo "## Quantum backends (the paper's test-set circuits)"
    echo
    build/bench/bench_quantum
    echo
    echo "## HTTP service"
    echo
    sh bench/http_bench.sh
} | tee build/bench/results.md
