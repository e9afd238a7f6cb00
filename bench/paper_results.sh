#!/bin/sh
# The paper protocol (paper.md §3.1), seeds 0-4, 100 epochs each, best-validation checkpoint,
# test metrics per seed and mean ± sample std. Writes build/results/paper-*.json and prints a
# Markdown table (docs/RESULTS.md holds the last run's).
# Usage: bench/paper_results.sh [DATASET] [EPOCHS] [THREADS]
#   DATASET defaults to the authors' own copy of the SILSO series (data/benchmarks/
#   authors-Sunspots.csv), which the measured anchors used; data/SN_m_tot_V2.0.csv is the
#   current SILSO release (it differs in three months of late 2020).
set -eu
bin=${FWPCAST_BIN:-build/fwpcast}
dataset=${1:-data/benchmarks/authors-Sunspots.csv}
epochs=${2:-100}
threads=${3:-2}
out=build/results
mkdir -p "$out"
for seed in 0 1 2 3 4; do
    "$bin" train --model gated-qkan-fwp --protocol paper --dataset "$dataset" --epochs "$epochs" \
        --seed "$seed" --threads "$threads" --out "$out/paper-seed$seed.fwp" --json --quiet \
        | tail -n 1 >"$out/paper-seed$seed.json"
done

field() { # field FILE KEY -> the number after "KEY": inside test_metrics (or at top level)
    sed 's/.*"test_metrics":{//' "$1" | grep -o "\"$2\":[-0-9.eE+]*" | head -n 1 | cut -d: -f2
}
top() { sed 's/"loss_curve".*//' "$1" | grep -o "\"$2\":[-0-9.eE+]*" | tail -n 1 | cut -d: -f2; }

row() { # row LABEL KEY SCALE FORMAT
    label=$1 key=$2 scale=$3 fmt=$4
    values=""
    for seed in 0 1 2 3 4; do
        values="$values $(field "$out/paper-seed$seed.json" "$key")"
    done
    echo "$values" | awk -v label="$label" -v s="$scale" -v f="$fmt" '{
        n = NF; sum = 0; line = "| " label " |";
        for (i = 1; i <= n; i++) { v[i] = $i * s; sum += v[i]; line = line sprintf(" " f " |", v[i]) }
        mean = sum / n; ss = 0; for (i = 1; i <= n; i++) ss += (v[i] - mean) ^ 2;
        sd = n > 1 ? sqrt(ss / (n - 1)) : 0;
        print line sprintf(" " f " ± " f " |", mean, sd) }'
}

echo "| metric (test, 262 windows) | seed 0 | 1 | 2 | 3 | 4 | mean ± sd |"
echo "|---|---|---|---|---|---|---|"
row "scaled MSE" scaled_mse 1 "%.4f"
row "scaled MAE" scaled_mae 1 "%.4f"
row "R²" r2 1 "%.3f"
row "RMSE (sunspots)" rmse 1 "%.1f"
row "peak amplitude error (sunspots)" peak_amplitude_error 1 "%.1f"
row "peak timing error (months)" peak_timing_error 1 "%.1f"
echo
for seed in 0 1 2 3 4; do
    f="$out/paper-seed$seed.json"
    printf 'seed %s: best epoch %s, best validation loss %.4f, %.2f s/epoch\n' "$seed" \
        "$(top "$f" best_epoch)" "$(top "$f" val_loss)" "$(top "$f" seconds_per_epoch)"
done
echo
echo "dataset: $dataset; $epochs epochs; $threads threads; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
