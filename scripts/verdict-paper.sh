#!/usr/bin/env bash
# The acceleration verdict on the paper data (docs/dmd-training.md, "The paired study"), resumable on
# any machine: regenerates the paper data under the Haswell kernel (bit-identical to the ledger's
# setup.json), continues the committed tuning ledger, then measures the per-epoch costs and evaluates.
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
common=(--config configs/paper.toml --data-dir "$DATA/paper" --out "$DATA/verdict-paper" --epochs 1000 --jobs "$JOBS")
if [ "$PHASE" = tune ] || [ "$PHASE" = all ]; then
    "$BIN/train-dmd" verdict "${common[@]}" --phase tune --budget 30 --tuning-seeds 2 \
        --import-tuning docs/figures/verdict-paper-tuning 2>> "$DATA/verdict-paper-tune.log"
fi
if [ "$PHASE" = cost ] || [ "$PHASE" = all ]; then
    "$BIN/train-dmd" verdict "${common[@]}" --phase cost 2>> "$DATA/verdict-paper-cost.log"
fi
if [ "$PHASE" = evaluate ] || [ "$PHASE" = all ]; then
    "$BIN/train-dmd" verdict "${common[@]}" --phase evaluate --seeds 10 2>> "$DATA/verdict-paper-evaluate.log"
fi
