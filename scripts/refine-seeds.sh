#!/usr/bin/env bash
# Seeds of the final refine configuration (docs/surrogates.md, "Adaptive against LHS": POD-GP with the
# low-fidelity input, conditioned on every solve; adaptive by the integrated log-variance), LHS and
# adaptive curves to 1200 solves on configs/large.toml's data — a study longer than one machine's life,
# carried by its ledger: regenerates the data under the Haswell kernel, imports the committed ledger,
# computes what is missing, and exports the ledger again after each finished point and round.
#
#   BIN=DIR DATA=DIR SEEDS=1,2 THREADS=2 scripts/refine-seeds.sh
#
# Stopped at any time, `train-dmd refine-study ... --replot --export-ledger LEDGER` (the command below
# with --replot) saves what is finished; commit LEDGER.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=${BIN:-$ROOT/.build/release}
DATA=${DATA:-$ROOT/data-large}
LEDGER=${LEDGER:-$ROOT/docs/figures/refine-ledger-every-solve}
SEEDS=${SEEDS:-1,2}
THREADS=${THREADS:-2}
export OPENBLAS_CORETYPE=Haswell
PIPELINE_BIN=$BIN ./pipeline.sh --config configs/large.toml --data-dir "$DATA" lhs wind fem
study=(refine-study --config configs/large.toml --data-dir "$DATA" --models pod_gp --initial 150 --batch 150 --budget 1200
       --pool 5000 --threads "$THREADS" --acquisition integrated_log_variance --conditioning every_solve
       --label multifidelity_log_all --set surrogate.gp_hyperparameter_samples=500 --set surrogate.gp_output=field
       --set 'surrogate.gp_low_fidelity_mesh=[24, 16]' --set "fem.threads=$THREADS")
import=()
[ -f "$LEDGER/setup.json" ] && import=(--import-ledger "$LEDGER")
for seed in ${SEEDS//,/ }; do
    for method in lhs adaptive; do
        "$BIN/train-dmd" "${study[@]}" --seeds "$seed" --methods "$method" "${import[@]}" --export-ledger "$LEDGER"
        import=()
    done
done
