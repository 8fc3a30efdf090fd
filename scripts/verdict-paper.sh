#!/usr/bin/env bash
# The acceleration verdict on the paper data (docs/dmd-training.md, "The paired study"), resumable on
# any machine: regenerates the paper data under the Haswell kernel (bit-identical to the ledger's
# setup.json), continues the committed tuning and evaluation ledgers, then measures the per-epoch costs
# and evaluates.
#
#   BIN=DIR DATA=DIR JOBS=2 scripts/verdict-paper.sh [tune|cost|evaluate|all]
#
# BIN: the release executables (default: .build/release); DATA: the data root (default: data-verdict),
# holding paper/ (the data) and verdict-paper/ (the study). Progress: DATA/verdict-paper-*.log.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=${BIN:-$ROOT/.build/release}
DATA=${DATA:-$ROOT/data-verdict}
JOBS=${JOBS:-2}
PHASE=${1:-all}
export OPENBLAS_CORETYPE=Haswell
mkdir -p "$DATA"
PIPELINE_BIN=$BIN ./pipeline.sh --config configs/paper.toml --data-dir "$DATA/paper" lhs wind fem
# The committed ledgers follow the study (every 5 minutes and at the end), so that a machine that goes
# away loses at most the runs in progress: commit docs/figures/verdict-paper-{tuning,evaluation}.
TUNING_LEDGER=docs/figures/verdict-paper-tuning
EVALUATION_LEDGER=docs/figures/verdict-paper-evaluation
sync_ledgers() {
    local out=$DATA/verdict-paper
    [ -f "$out/tuning/tuning.csv" ] && cp "$out/tuning/tuning.csv" "$TUNING_LEDGER/tuning.csv.tmp" && mv "$TUNING_LEDGER/tuning.csv.tmp" "$TUNING_LEDGER/tuning.csv"
    [ -d "$out/evaluation/runs" ] || return 0
    mkdir -p "$EVALUATION_LEDGER"
    cp "$out/evaluation/setup.json" "$EVALUATION_LEDGER/setup.json"
    local result run
    for result in "$out"/evaluation/runs/*/seed_*/result.json; do
        [ -f "$result" ] || continue
        run=${result#"$out/evaluation/"}; run=${run%/result.json}
        [ -f "$EVALUATION_LEDGER/$run/result.json" ] && continue
        mkdir -p "$EVALUATION_LEDGER/$run.tmp"
        cp "$(dirname "$result")/history.csv" "$result" "$EVALUATION_LEDGER/$run.tmp/"
        rm -rf "$EVALUATION_LEDGER/$run" && mv "$EVALUATION_LEDGER/$run.tmp" "$EVALUATION_LEDGER/$run"
    done
}
( while sleep 300; do sync_ledgers; done ) &
SYNC=$!
trap 'kill $SYNC 2>/dev/null; sync_ledgers' EXIT
common=(--config configs/paper.toml --data-dir "$DATA/paper" --out "$DATA/verdict-paper" --epochs 1000 --jobs "$JOBS")
if [ "$PHASE" = tune ] || [ "$PHASE" = all ]; then
    "$BIN/train-dmd" verdict "${common[@]}" --phase tune --budget 30 --tuning-seeds 2 \
        --import-tuning docs/figures/verdict-paper-tuning 2>> "$DATA/verdict-paper-tune.log"
fi
if [ "$PHASE" = cost ] || [ "$PHASE" = all ]; then
    "$BIN/train-dmd" verdict "${common[@]}" --phase cost 2>> "$DATA/verdict-paper-cost.log"
fi
if [ "$PHASE" = evaluate ] || [ "$PHASE" = all ]; then
    evaluation_import=()
    [ -f "$EVALUATION_LEDGER/setup.json" ] && evaluation_import=(--import-evaluation "$EVALUATION_LEDGER")
    "$BIN/train-dmd" verdict "${common[@]}" --phase evaluate --seeds 10 "${evaluation_import[@]}" 2>> "$DATA/verdict-paper-evaluate.log"
fi
