#!/usr/bin/env bash
# Adam against Levenberg–Marquardt for the POD-NN surrogate, on wall time to a validation target.
#
#   scripts/podnn-optimizers.sh [--config FILE] [--data-dir DIR] [--seeds N] [--out DIR] [--set KEY=VALUE]…
#
# Needs DIR/samples, DIR/wind and DIR/fem from ./pipeline.sh (stages lhs, wind, fem). Fits POD-NN
# ([surrogate] podnn_*) once per optimizer and network seed 1…N (default 3), one at a time on one
# core (OpenBLAS single-threaded), into OUT/OPTIMIZER-sSEED/models/pod_nn (default OUT =
# DIR/podnn-optimizers; each run folder links DIR/samples, wind and fem). Finished fits are skipped.
# Then reads each history.csv (seconds since the network's training began, the validation MSE of
# the scaled POD coefficients) and writes OUT/summary.md and OUT/summary.csv: the time to the
# target T = the worst Adam seed's best validation MSE (a level every Adam seed reaches), median
# and range over seeds, and the speed-up of the medians. --set overrides a configuration key of
# every fit (e.g. --set surrogate.podnn_lm_cg_iterations=20; give each setting its own --out).
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=configs/paper.toml
DATA=data
SEEDS=3
OUT=""
OVERRIDES=()
while [ $# -gt 0 ]; do
    case $1 in
        --config) CONFIG=$2; shift 2 ;;
        --data-dir) DATA=$2; shift 2 ;;
        --seeds) SEEDS=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --set) OVERRIDES+=(--set "$2"); shift 2 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "podnn-optimizers.sh: unknown argument '$1' (see --help)" >&2; exit 1 ;;
    esac
done
[[ "$SEEDS" =~ ^[1-9][0-9]*$ ]] || { echo "podnn-optimizers.sh: --seeds expects a positive integer, got '$SEEDS'" >&2; exit 1; }
[ -n "$OUT" ] || OUT=$DATA/podnn-optimizers
for d in samples wind fem; do
    [ -d "$DATA/$d" ] || { echo "podnn-optimizers.sh: $DATA/$d is missing: run ./pipeline.sh lhs wind fem first" >&2; exit 1; }
done
command -v python3 > /dev/null || { echo "podnn-optimizers.sh: python3 is needed for the summary" >&2; exit 1; }
# PIPELINE_BIN: executables built elsewhere (as pipeline.sh takes them), else the release build.
BIN=${PIPELINE_BIN:-$(swift build -c release --manifest-cache local --show-bin-path)}
[ -x "$BIN/train-dmd" ] || { echo "podnn-optimizers.sh: build first: swift build -c release" >&2; exit 1; }

mkdir -p "$OUT"
for optimizer in adam levenberg_marquardt; do
    for seed in $(seq 1 "$SEEDS"); do
        run=$OUT/$optimizer-s$seed
        mkdir -p "$run"
        for d in samples wind fem; do [ -e "$run/$d" ] || ln -s "$(cd "$DATA/$d" && pwd)" "$run/$d"; done
        if [ -s "$run/models/pod_nn/history.csv" ] && [ -s "$run/models/pod_nn/fit.json" ]; then
            echo "podnn-optimizers.sh: $optimizer seed $seed already done" >&2; continue
        fi
        echo "podnn-optimizers.sh: $optimizer seed $seed" >&2
        OPENBLAS_NUM_THREADS=1 "$BIN/train-dmd" fit --config "$CONFIG" --data-dir "$run" --models pod_nn --threads 1 \
            --set surrogate.podnn_optimizer="$optimizer" --set network.seed="$seed" "${OVERRIDES[@]}" 2> "$run/fit.log" \
            || { tail -5 "$run/fit.log" >&2; echo "podnn-optimizers.sh: the $optimizer fit with seed $seed failed (log: $run/fit.log)" >&2; exit 1; }
    done
done

python3 - "$OUT" "$SEEDS" <<'PY'
import csv, json, os, statistics, sys
out, seeds = sys.argv[1], int(sys.argv[2])
optimizers = ["adam", "levenberg_marquardt"]
runs = {}
for o in optimizers:
    for s in range(1, seeds + 1):
        folder = os.path.join(out, f"{o}-s{s}", "models", "pod_nn")
        rows = list(csv.DictReader(open(os.path.join(folder, "history.csv"))))
        curve = [(int(r["step"]), float(r["seconds"]), float(r["validation_mse"])) for r in rows if r["validation_mse"]]
        fit = json.load(open(os.path.join(folder, "fit.json")))
        runs[(o, s)] = (curve, fit)
target = max(min(v for _, _, v in runs[("adam", s)][0]) for s in range(1, seeds + 1))
def first_reach(curve):
    return next(((step, t) for step, t, v in curve if v <= target), None)
table, lines = [], []
medians = {}
for o in optimizers:
    times, steps, bests, fits, relative = [], [], [], [], []
    for s in range(1, seeds + 1):
        curve, fit = runs[(o, s)]
        reach = first_reach(curve)
        best = min(v for _, _, v in curve)
        table.append([o, s, reach[0] if reach else "", f"{reach[1]:.3f}" if reach else "", f"{best:.6g}", curve[-1][0],
                      f"{fit['training_wall_seconds']:.3f}", f"{fit['validation_relative_l2']['median']:.5f}"])
        bests.append(best); fits.append(fit["training_wall_seconds"]); relative.append(fit["validation_relative_l2"]["median"])
        if reach: times.append(reach[1]); steps.append(reach[0])
    med = statistics.median(times) if len(times) == seeds else None
    medians[o] = med
    span = f"[{min(times):.2f}–{max(times):.2f}]" if times else ""
    reached = f"{len(times)}/{seeds}"
    lines.append(f"| {o} | {reached} | {med:.3f} {span} |" if med is not None else f"| {o} | {reached} | never (best {min(bests):.4g}) |")
    lines[-1] += f" {statistics.median(steps) if steps else '–'} | {statistics.median(fits):.2f} | {statistics.median(relative):.4f} |"
with open(os.path.join(out, "summary.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["optimizer", "seed", "step_to_target", "seconds_to_target", "best_validation_mse", "steps_run", "fit_seconds", "validation_median_relative_l2"])
    w.writerows(table)
speedup = medians["adam"] / medians["levenberg_marquardt"] if medians["adam"] and medians["levenberg_marquardt"] else None
ratios = []
for s in range(1, seeds + 1):
    a, l = first_reach(runs[("adam", s)][0]), first_reach(runs[("levenberg_marquardt", s)][0])
    if a and l and l[1] > 0: ratios.append(a[1] / l[1])
text = [f"# POD-NN: Adam against Levenberg–Marquardt ({seeds} network seeds)", "",
        f"Target T = {target:.6g}: the worst Adam seed's best validation MSE (scaled POD coefficients).", "",
        "| optimizer | reached T | seconds to T, median [range] | steps (epochs / LM steps) to T | fit seconds | validation median rel. L2 |",
        "|---|---|---|---|---|---|"] + lines + [""]
if speedup:
    text.append(f"Speed-up of LM over Adam to T (ratio of the medians): **{speedup:.2f}×**; per seed "
                + ", ".join(f"{r:.2f}×" for r in ratios) + ".")
else:
    text.append("No speed-up: an optimizer did not reach T on every seed.")
open(os.path.join(out, "summary.md"), "w").write("\n".join(text) + "\n")
print("\n".join(text))
PY
