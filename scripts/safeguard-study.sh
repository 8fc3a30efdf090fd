#!/usr/bin/env bash
# The safeguards of docs/dmd-training.md measured against the paper-faithful jump on the real data.
#
#   scripts/safeguard-study.sh [--config FILE] [--data-dir DIR] [--epochs E] [--out DIR]
#
# Needs DIR/samples and DIR/fem from ./pipeline.sh (stages lhs, wind, fem). Trains, for E epochs
# (default 1000) and from the same initial weights, the plain network, the paper-faithful DMD run,
# and one run per safeguard setting, two at a time (one OpenBLAS thread each, one per core), into
# OUT/models/NAME (default OUT = DIR/safeguards, which links DIR/samples, wind and fem). Finished runs
# are skipped, interrupted ones resume. Then `evaluate --models …` writes OUT/report/ comparing them.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=configs/paper.toml
DATA=data
EPOCHS=1000
OUT=""
while [ $# -gt 0 ]; do
    case $1 in
        --config) CONFIG=$2; shift 2 ;;
        --data-dir) DATA=$2; shift 2 ;;
        --epochs) EPOCHS=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "safeguard-study.sh: unknown argument '$1' (see --help)" >&2; exit 1 ;;
    esac
done
[ -n "$OUT" ] || OUT=$DATA/safeguards
for d in samples wind fem; do
    [ -d "$DATA/$d" ] || { echo "safeguard-study.sh: $DATA/$d is missing: run ./pipeline.sh lhs wind fem first" >&2; exit 1; }
done
# PIPELINE_BIN: executables built elsewhere (as pipeline.sh takes them), else the release build.
BIN=${PIPELINE_BIN:-$(swift build -c release --manifest-cache local --show-bin-path)}
[ -x "$BIN/train-dmd" ] && [ -x "$BIN/evaluate" ] || { echo "safeguard-study.sh: build first: swift build -c release" >&2; exit 1; }

mkdir -p "$OUT/models"
for d in samples wind fem; do [ -e "$OUT/$d" ] || ln -s "$(cd "$DATA/$d" && pwd)" "$OUT/$d"; done

# name | train-dmd arguments (besides config, data dir, epochs, threads)
VARIANTS=(
    "plain|--no-dmd"
    "dmd|"
    "clamp|--set dmd.clamp_eigenvalues=true"
    "guarded|--set dmd.guarded=true"
    "relaxed|--set dmd.relaxation=0.5"
    "cosine|--set dmd.annealing=cosine"
    "clamp_guarded|--set dmd.clamp_eigenvalues=true --set dmd.guarded=true"
    "clamp_cosine|--set dmd.clamp_eigenvalues=true --set dmd.annealing=cosine"
    "clamp_relaxed|--set dmd.clamp_eigenvalues=true --set dmd.relaxation=0.5"
)

run_variant() { # NAME ARGS…
    local name=$1; shift
    local manifest=$OUT/models/$name/manifest.json
    if [ -f "$manifest" ] && { grep -q "\"epochs_completed\" *: *$EPOCHS\b" "$manifest" || grep -q "\"status\" *: *\"diverged\"" "$manifest"; }; then
        echo "safeguard-study.sh: $name done" >&2; return 0
    fi
    local rc=0
    # shellcheck disable=SC2068
    "$BIN/train-dmd" --config "$CONFIG" --data-dir "$OUT" --name "$name" --epochs "$EPOCHS" --threads 1 \
        --resume-if-compatible $@ 2> >(sed -u "s/^/[$name] /" >&2) || rc=$?
    case $rc in
        0) ;;
        3) echo "safeguard-study.sh: $name diverged (recorded; the report names the epoch)" >&2 ;;
        *) echo "safeguard-study.sh: $name failed (exit $rc)" >&2 ;;
    esac
}

t0=$SECONDS
names=()
for ((i = 0; i < ${#VARIANTS[@]}; i += 2)); do
    a=${VARIANTS[i]}; b=${VARIANTS[i + 1]:-}
    run_variant "${a%%|*}" ${a#*|} &
    pa=$!
    if [ -n "$b" ]; then run_variant "${b%%|*}" ${b#*|} & pb=$!; wait "$pb"; fi
    wait "$pa"
done
for v in "${VARIANTS[@]}"; do
    n=${v%%|*}
    [ -f "$OUT/models/$n/manifest.json" ] && names+=("$n")
done
echo "safeguard-study.sh: trainings took $((SECONDS - t0)) s" >&2
list=$(IFS=,; echo "${names[*]}")
"$BIN/evaluate" --config "$CONFIG" --data-dir "$OUT" --models "$list"
echo "safeguard-study.sh: report at $OUT/report/report.md" >&2
