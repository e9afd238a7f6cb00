#!/bin/sh
# CLI test for `fwpcast architectures | train | eval | forecast | export | import-model`: a tiny
# model trained on the bundled SILSO series, the --json contract (one JSON object on the last
# line of stdout), determinism (same seed and data: byte-identical model file and forecast,
# whatever the thread count), training recipes (--optimizer, --schedule, ...: deterministic, the
# defaults spelled out give the default model), the JSON export round trip, an ensemble (--members, --keep)
# the same way, and bad input failing
# with a message, a non-zero exit and nothing on stdout.
# Usage: tests/cli/test_model_commands.sh [path/to/fwpcast]   (run from the project root)
set -eu

root=$(pwd)
bin=${1:-${FWPCAST_BIN:-$root/build/fwpcast}}
case $bin in /*) ;; *) bin=$root/$bin ;; esac
[ -x "$bin" ] || { echo "test_model_commands: no binary at $bin" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fwpcast-model-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
export FWPCAST_DATA="$root/data"
unset FWPCAST_DB
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
ok() { echo "ok: $*"; }

small="--window 48 --horizon 12 --epochs 2 --quiet"
cfg="slow_dim=4;hidden=6;fast_in=3;fast_out=4"

# --- architectures ---
"$bin" architectures --json >"$tmp/arch.json"
if grep -q '"name":"gated-qkan-fwp","parameters":12474' "$tmp/arch.json"; then
    ok "architectures lists gated-qkan-fwp with 12474 parameters"
else
    fail "architectures --json: $(cat "$tmp/arch.json")"
fi

# --- train, twice with one thread and once with two: identical files ---
"$bin" train --protocol live $small --config "$cfg" --seed 7 --out "$tmp/a.fwp" --json >"$tmp/train.out"
"$bin" train --protocol live $small --config "$cfg" --seed 7 --out "$tmp/b.fwp" >/dev/null
"$bin" train --protocol live $small --config "$cfg" --seed 7 --threads 2 --out "$tmp/c.fwp" >/dev/null
"$bin" train --protocol live $small --config "$cfg" --seed 8 --out "$tmp/d.fwp" >/dev/null
last=$(tail -n 1 "$tmp/train.out")
case $last in
'{'*'"parameters":'*'"best_epoch":'*'"seconds_per_epoch":'*'}') ok "train --json prints the summary last" ;;
*) fail "train --json last line: $last" ;;
esac
if cmp -s "$tmp/a.fwp" "$tmp/b.fwp" && cmp -s "$tmp/a.fwp" "$tmp/c.fwp"; then
    ok "same seed: byte-identical model files (1 and 2 threads)"
else
    fail "same seed gave different model files"
fi
cmp -s "$tmp/a.fwp" "$tmp/d.fwp" && fail "a different seed gave the same model" || ok "another seed differs"

# --- training recipes: deterministic, each its own model, the defaults spelled out the default ---
lion="--optimizer lion --lr 5e-4 --weight-decay 0.1 --schedule wsd --warmup 0.1 --decay-fraction 0.3"
"$bin" train --protocol live $small --config "$cfg" --seed 7 $lion --out "$tmp/l1.fwp" >/dev/null
"$bin" train --protocol live $small --config "$cfg" --seed 7 $lion --threads 2 --out "$tmp/l2.fwp" >/dev/null
"$bin" train --protocol live $small --config "$cfg" --seed 7 --optimizer adamw --weight-decay 0.01 \
    --schedule linear --final-lr 0.1 --out "$tmp/w.fwp" >/dev/null
"$bin" train --protocol live $small --config "$cfg" --seed 7 --optimizer adam --weight-decay 0 \
    --schedule constant --warmup 0 --decay-fraction 0.2 --final-lr 0 --lr 2.5e-3 --out "$tmp/e.fwp" >/dev/null
cmp -s "$tmp/l1.fwp" "$tmp/l2.fwp" && ok "a Lion + WSD recipe: byte-identical model files" ||
    fail "the same recipe gave different model files"
if cmp -s "$tmp/l1.fwp" "$tmp/a.fwp" || cmp -s "$tmp/w.fwp" "$tmp/a.fwp" || cmp -s "$tmp/w.fwp" "$tmp/l1.fwp"; then
    fail "a recipe trained the same model as another"
else
    ok "Lion + WSD and AdamW + linear each train their own model"
fi
cmp -s "$tmp/e.fwp" "$tmp/a.fwp" && ok "the default recipe spelled out is the default" ||
    fail "the default recipe spelled out gave another model"

# --- forecast: deterministic JSON, periods after the last month, intervals ---
"$bin" forecast "$tmp/a.fwp" --level 80 --level 95 --json >"$tmp/f1.json"
"$bin" forecast "$tmp/c.fwp" --level 80 --level 95 --json >"$tmp/f2.json"
# the "model" field names the file; everything else must match
sed 's/"model":"[^"]*"//' "$tmp/f1.json" >"$tmp/f1.cmp"
sed 's/"model":"[^"]*"//' "$tmp/f2.json" >"$tmp/f2.cmp"
cmp -s "$tmp/f1.cmp" "$tmp/f2.cmp" && ok "forecast JSON is identical" || fail "forecasts differ"
if grep -q '"last_observed":"2026-09"' "$tmp/f1.json" && grep -q '"period":"2026-10"' "$tmp/f1.json" &&
    grep -q '"period":"2027-09"' "$tmp/f1.json" && ! grep -q '"period":"2027-10"' "$tmp/f1.json" &&
    grep -q '"lo-95"' "$tmp/f1.json" && grep -q '"hi-80"' "$tmp/f1.json"; then
    ok "forecast covers 2026-10..2027-09 with lo/hi bounds"
else
    fail "forecast JSON: $(head -c 400 "$tmp/f1.json")"
fi
"$bin" forecast "$tmp/a.fwp" --cutoff 2019-12 --h 3 --json >"$tmp/f3.json"
grep -q '"period":"2020-01"' "$tmp/f3.json" && grep -q '"h":3' "$tmp/f3.json" &&
    ok "forecast --cutoff starts the month after" || fail "cutoff forecast: $(cat "$tmp/f3.json")"

# --- quantum: sampler forecasts and qcompare ---
"$bin" forecast "$tmp/a.fwp" --h 3 --backend sampler --shots 512 --seed 3 --json >"$tmp/q1.json"
"$bin" forecast "$tmp/a.fwp" --h 3 --backend sampler --shots 512 --seed 3 --json >"$tmp/q2.json"
"$bin" forecast "$tmp/a.fwp" --h 3 --backend sampler --shots 512 --seed 4 --json >"$tmp/q3.json"
cmp -s "$tmp/q1.json" "$tmp/q2.json" && ! cmp -s "$tmp/q1.json" "$tmp/q3.json" &&
    grep -q '"readout":"amplitude"' "$tmp/q1.json" && grep -q '"circuits":12' "$tmp/q1.json" &&
    ok "sampler forecasts: seeded, with readout and circuit count" || fail "sampler forecast: $(cat "$tmp/q1.json")"
"$bin" qcompare "$tmp/a.fwp" --protocol live --shots 256 --noise ibm-heron-r2 --json >"$tmp/qc.json"
grep -q '"relative_mse_difference":' "$tmp/qc.json" && grep -q '"noise":"ibm-heron-r2"' "$tmp/qc.json" &&
    ok "qcompare reports the relative MSE difference" || fail "qcompare: $(cat "$tmp/qc.json")"

# --- eval ---
"$bin" eval "$tmp/a.fwp" --protocol live --json >"$tmp/eval.json"
grep -q '"scaled_mse":' "$tmp/eval.json" && grep -q '"peak_timing_error":' "$tmp/eval.json" &&
    ok "eval --json has the paper's metrics" || fail "eval: $(cat "$tmp/eval.json")"

# --- export / import round trip ---
"$bin" export "$tmp/a.fwp" --format json --out "$tmp/a.json"
"$bin" import-model "$tmp/a.json" --out "$tmp/a2.fwp" >/dev/null
cmp -s "$tmp/a.fwp" "$tmp/a2.fwp" && ok "export -> import-model is byte-identical" ||
    fail "JSON round trip changed the model"
grep -q '"fwp_cell.theta_head_A.weight"' "$tmp/a.json" && ok "export uses the authors' tensor names" ||
    fail "export lacks fwp_cell.theta_head_A.weight"

# --- an ensemble: --members and --keep, deterministic, forecasts, exports ---
ens="--model ensemble --members rnn:0 --members gated-qkan-fwp:3-4 --keep 2"
"$bin" train --protocol live $small $ens --config "$cfg" --out "$tmp/e1.fwp" --json >"$tmp/e.out"
"$bin" train --protocol live $small $ens --config "$cfg" --threads 2 --out "$tmp/e2.fwp" >/dev/null
cmp -s "$tmp/e1.fwp" "$tmp/e2.fwp" && ok "ensemble: byte-identical model files (1 and 2 threads)" ||
    fail "ensemble model files differ between 1 and 2 threads"
last=$(tail -n 1 "$tmp/e.out")
case $last in
*'"architecture":"ensemble"'*'"members":"rnn.1+gated-qkan-fwp.2"'*'"seeds":"0+3-4"'*'"keep":2'*'"kept":"x'*)
    ok "ensemble train --json: members, seeds, keep and kept in the config" ;;
*) fail "ensemble train --json last line: $last" ;;
esac
"$bin" forecast "$tmp/e1.fwp" --h 3 --level 80 --json >"$tmp/ef.json"
grep -q '"architecture":"ensemble"' "$tmp/ef.json" && grep -q '"period":"2026-12"' "$tmp/ef.json" &&
    ok "the ensemble forecasts" || fail "ensemble forecast: $(head -c 400 "$tmp/ef.json")"
"$bin" export "$tmp/e1.fwp" --format json --out "$tmp/e.json"
"$bin" import-model "$tmp/e.json" --out "$tmp/e3.fwp" >/dev/null
cmp -s "$tmp/e1.fwp" "$tmp/e3.fwp" && grep -q '"members.0.rnn.weight_hh_l0"' "$tmp/e.json" &&
    ok "ensemble export -> import-model is byte-identical, tensors under members.K." ||
    fail "ensemble JSON round trip"

# --- bad input: message on stderr, non-zero exit, nothing on stdout ---
printf 'garbage' >"$tmp/garbage.fwp"
head -c 1000 "$tmp/a.fwp" >"$tmp/truncated.fwp"
expect_failure() {
    name=$1 pattern=$2
    shift 2
    set +e
    "$@" >"$tmp/out" 2>"$tmp/err"
    code=$?
    set -e
    if [ "$code" -eq 0 ]; then
        fail "$name: exit 0"
    elif [ -s "$tmp/out" ]; then
        fail "$name: wrote to stdout: $(head -c 200 "$tmp/out")"
    elif ! grep -qF -- "$pattern" "$tmp/err"; then
        fail "$name: stderr lacks '$pattern': $(cat "$tmp/err")"
    else
        ok "$name"
    fi
}
expect_failure "unknown model" "unknown architecture" "$bin" train --model nope --out "$tmp/x.fwp"
expect_failure "unknown protocol" "--protocol" "$bin" train --protocol weekly --out "$tmp/x.fwp"
expect_failure "no output" "--out" "$bin" train --epochs 1
expect_failure "bad epochs" "--epochs" "$bin" train --epochs 0 --out "$tmp/x.fwp"
expect_failure "bad config" "windw" "$bin" train --config windw=3 --out "$tmp/x.fwp"
expect_failure "cutoff outside data" "outside the data" "$bin" train $small --cutoff 1700-01 --out "$tmp/x.fwp"
expect_failure "unknown optimizer" "--optimizer" "$bin" train $small --optimizer sgd --out "$tmp/x.fwp"
expect_failure "unknown schedule" "--schedule" "$bin" train $small --schedule cosine --out "$tmp/x.fwp"
expect_failure "warmup not a number" "--warmup" "$bin" train $small --warmup x --out "$tmp/x.fwp"
expect_failure "warmup 1" "warmup must be" "$bin" train $small --warmup 1 --out "$tmp/x.fwp"
expect_failure "negative weight decay" "weight_decay" "$bin" train $small --weight-decay -1 --out "$tmp/x.fwp"
expect_failure "final lr on constant" "final_lr applies" "$bin" train $small --final-lr 0.1 --out "$tmp/x.fwp"
expect_failure "wsd too long" "warmup + decay_fraction" "$bin" train $small --schedule wsd --warmup 0.5 \
    --decay-fraction 0.6 --out "$tmp/x.fwp"
expect_failure "missing dataset file" "nope.csv" "$bin" train $small --dataset "$tmp/nope.csv" --out "$tmp/x.fwp"
expect_failure "missing model file" "nope.fwp" "$bin" forecast "$tmp/nope.fwp"
expect_failure "corrupt model file" "bad magic" "$bin" forecast "$tmp/garbage.fwp"
expect_failure "truncated model file" "checksum" "$bin" eval "$tmp/truncated.fwp"
expect_failure "h zero" "--h" "$bin" forecast "$tmp/a.fwp" --h 0
expect_failure "h beyond horizon" "beyond the model's horizon" "$bin" forecast "$tmp/a.fwp" --h 13
expect_failure "level 100" "--level" "$bin" forecast "$tmp/a.fwp" --level 100
expect_failure "forecast cutoff outside" "outside the data" "$bin" forecast "$tmp/a.fwp" --cutoff 2030-01
expect_failure "bad export format" "usage" "$bin" export "$tmp/a.fwp" --format xml
expect_failure "unknown noise preset" "unknown noise model" "$bin" forecast "$tmp/a.fwp" --backend sampler --noise nope
expect_failure "zero shots" "--shots" "$bin" forecast "$tmp/a.fwp" --backend sampler --shots 0
expect_failure "unknown backend" "unknown backend" "$bin" forecast "$tmp/a.fwp" --backend abacus
expect_failure "qcompare on a cloud" "HTTP API" "$bin" qcompare "$tmp/a.fwp" --backend ionq
expect_failure "members for another model" "--members and --keep are for --model ensemble" "$bin" train --members rnn:0 --out "$tmp/x.fwp"
expect_failure "unknown member" "unknown member architecture 'nope'" "$bin" train --model ensemble --members nope:0 --out "$tmp/x.fwp"
expect_failure "nested ensemble" "cannot be a member" "$bin" train --model ensemble --members ensemble:0 --out "$tmp/x.fwp"
expect_failure "65 members" "more than 64" "$bin" train --model ensemble --members rnn:0-64 --out "$tmp/x.fwp"
expect_failure "a seed twice" "seed 1 is given twice" "$bin" train --model ensemble --members rnn:0-1 --members rnn:1 --out "$tmp/x.fwp"
expect_failure "members without seeds" "ARCH:SEEDS" "$bin" train --model ensemble --members rnn --out "$tmp/x.fwp"
expect_failure "seed out of range" "seeds entry" "$bin" train --model ensemble --members rnn:2147483648 --out "$tmp/x.fwp"
expect_failure "keep beyond the members" "keep = 3" "$bin" train --model ensemble --members rnn:0-1 --keep 3 --out "$tmp/x.fwp"
expect_failure "keep 0" "--keep" "$bin" train --model ensemble --members rnn:0-1 --keep 0 --out "$tmp/x.fwp"
expect_failure "option no member reads" "unknown config option 'slow_dim'" "$bin" train --model ensemble --members rnn:0 --config "$cfg" $small --out "$tmp/x.fwp"
[ ! -e "$tmp/x.fwp" ] && ok "failed trainings wrote no model file" || fail "a failed training left $tmp/x.fwp"

if [ "$failures" -ne 0 ]; then
    echo "test_model_commands: $failures failure(s)" >&2
    exit 1
fi
echo "test_model_commands: all passed"
