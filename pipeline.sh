#!/usr/bin/env bash
# Regenerates everything, from the sampled parameters to the report, incrementally.
#
#   ./pipeline.sh [--config FILE] [--data-dir DIR] [--set section.key=value ...] [--force] [STAGE ...]
#   ./pipeline.sh test
#
# STAGE is any of: lhs wind fem train fit uq evaluate (default: all, in that order), or refine
# (adaptive sampling after fem, run only when named; options in REFINE_ARGS, see train-dmd refine --help). A stage whose outputs
# exist, are newer than its inputs, were made with the same configuration (file and `--set` overrides)
# and from the inputs now present (the SHA-256 its manifest records) is skipped, so a rerun after an
# interruption resumes where it stopped. `--set` overrides a configuration key in every stage, as each
# stage's own --set does. TERM and INT are passed on to the running stage. PIPELINE_BIN=DIR uses the
# executables in DIR instead of building. `test` runs the unit tests and then the whole pipeline on
# configs/smoke.toml in a temporary data folder, checking every artifact.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)

APT_PACKAGES=(libopenblas-dev liblapacke-dev libsuitesparse-dev)
# Optional: rsvg-convert turns the report's SVG figures into PNG; without it only SVG is written.
OPTIONAL_APT_PACKAGES=(librsvg2-bin)
# Keep SwiftPM's manifest cache inside this checkout's .build, so that a manifest evaluated for
# another checkout of the project on this machine is never reused.
SWIFTPM_FLAGS="--manifest-cache local"
STAGES=(lhs wind fem train fit uq evaluate)
# Stages run only when named: `refine` (adaptive sampling, train-dmd refine; its options from
# REFINE_ARGS, e.g. REFINE_ARGS="--initial 200 --batch 100 --budget 1000 --seed 1"). It resumes by itself.
EXTRA_STAGES=(refine)

say() { printf '%s\n' "$*" >&2; }
die() { say "pipeline.sh: $*"; exit 1; }

ensure_system_packages() {
    local missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        say "pipeline.sh: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq "${missing[@]}" >&2
        apt-get install -y -qq "${OPTIONAL_APT_PACKAGES[@]}" >&2 || say "pipeline.sh: optional ${OPTIONAL_APT_PACKAGES[*]} not installed: figures will be SVG only"
        ensure_umbridge
        ensure_salib
    else
        say "pipeline.sh: missing system packages. Run, as root:"
        say "  apt-get update && apt-get install -y ${APT_PACKAGES[*]}"
        exit 1
    fi
}

# The UM-Bridge Python client, for the test of pollutant-serve (scripts/test-serve.py skips without it).
ensure_umbridge() {
    python3 -c "import umbridge" 2>/dev/null && return 0
    python3 -m pip install -q umbridge >&2 2>/dev/null || say "pipeline.sh: optional umbridge (pip) not installed: the pollutant-serve test will be skipped"
}

# SALib, for the cross-check of the Sobol indices (scripts/test-sobol-salib.py skips without it).
ensure_salib() {
    python3 -c "import SALib" 2>/dev/null && return 0
    python3 -m pip install -q SALib >&2 2>/dev/null || say "pipeline.sh: optional SALib (pip) not installed: the Sobol cross-check will be skipped"
}

# meshio, the independent reader the mesh and VTU tests compare with (skipped without it).
ensure_meshio() {
    python3 -c "import meshio" 2>/dev/null && return 0
    python3 -m pip install -q meshio >&2 2>/dev/null || say "pipeline.sh: optional meshio (pip) not installed: the meshio cross-checks will be skipped"
}

ensure_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        [ -x /opt/swift/usr/bin/swift ] && export PATH=/opt/swift/usr/bin:$PATH
    fi
    command -v swift >/dev/null 2>&1 || die "the Swift toolchain (6.x) is not on PATH; install it from swift.org"
}

BIN=""
build_release() {
    # PIPELINE_BIN: executables built elsewhere (the fault tests run this script on their own build).
    if [ -n "${PIPELINE_BIN:-}" ]; then BIN=$PIPELINE_BIN; choose_blas_kernel; return 0; fi
    say "pipeline.sh: building (release)…"
    local t0=$SECONDS
    swift build -c release $SWIFTPM_FLAGS >&2 || die "release build failed"
    BIN=$(swift build -c release $SWIFTPM_FLAGS --show-bin-path)
    say "pipeline.sh: release build took $((SECONDS - t0)) s"
    choose_blas_kernel
}

# OpenBLAS picks its kernels from the CPU model; on a model it does not know (some virtual machines)
# it falls back to generic SSE3 code, several times slower than the AVX2 / AVX-512 kernels the CPU
# can run (docs/dmd-training.md, "OpenBLAS kernels"). Every stage restarts itself with the better kernel
# anyway; exporting it here names the choice once in the log. Unless the user chose one, export the
# kernel that `train-dmd blas-kernel` recommends (it prints nothing when OpenBLAS's own choice is fine).
choose_blas_kernel() {
    [ -n "${OPENBLAS_CORETYPE:-}" ] && return 0
    local core; core=$("$BIN/train-dmd" blas-kernel 2>/dev/null || true)
    if [ -n "$core" ]; then
        export OPENBLAS_CORETYPE=$core
        say "pipeline.sh: OpenBLAS fell back to generic kernels on this CPU; using OPENBLAS_CORETYPE=$core"
    fi
}

have_exe() { [ -x "$BIN/$1" ]; }

# --- incremental bookkeeping -------------------------------------------------------------------
config_fingerprint() { { cat "$CONFIG"; printf 'set %s\n' "${SETS[@]+"${SETS[@]}"}"; } | sha256sum | cut -d' ' -f1; }

stamp_file() { echo "$DATA/.stamps/$1"; }

# manifest_inputs_current MANIFEST: every input the manifest records (found by its place in the data
# folder, e.g. samples/params.npy) still has the recorded SHA-256. Modification times alone miss a
# file replaced by an older one or copied with its times (cp -p), and a model copied from elsewhere.
manifest_inputs_current() {
    python3 - "$1" "$DATA" <<'PY'
import hashlib, json, os, sys
manifest, data = sys.argv[1], sys.argv[2]
try:
    inputs = json.load(open(manifest, encoding="utf-8")).get("inputs", [])
except (OSError, ValueError):
    sys.exit(1)
for entry in inputs:
    parts = entry["path"].split("/")
    if len(parts) >= 3 and parts[-3] == "models":
        relative = parts[-3:]
    elif len(parts) >= 2 and parts[-2] in ("samples", "wind", "fem"):
        relative = parts[-2:]
    else:
        continue
    path = os.path.join(data, *relative)
    try:
        with open(path, "rb") as f:
            digest = hashlib.sha256()
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        sys.exit(1)
    if digest.hexdigest() != entry["sha256"]:
        print(f"pipeline.sh: {path} is not the file {os.path.dirname(manifest)} was made from (SHA-256 differs)", file=sys.stderr)
        sys.exit(1)
PY
}

# up_to_date STAGE "inputs…" "outputs…": outputs all exist, none older than any input, same config,
# and every manifest among the outputs names the inputs now present (same SHA-256).
up_to_date() {
    local stage=$1 inputs=$2 outputs=$3 f
    [ "$FORCE" = 1 ] && return 1
    [ -f "$(stamp_file "$stage")" ] || return 1
    [ "$(cat "$(stamp_file "$stage")")" = "$(config_fingerprint)" ] || return 1
    for f in $outputs; do [ -e "$f" ] || return 1; done
    # An output rewritten after this script marked the stage done comes from another run (e.g.
    # `lhs-sample --seed 5` by hand): not what the configuration asks for.
    for f in $outputs; do [ "$f" -nt "$(stamp_file "$stage")" ] && return 1; done
    for f in $outputs; do
        for i in $inputs "$CONFIG"; do
            [ -e "$i" ] || return 1
            [ "$i" -nt "$f" ] && return 1
        done
    done
    for f in $outputs; do
        [[ $f == */manifest.json ]] || continue
        manifest_inputs_current "$f" || return 1
    done
    return 0
}

# config_value EXPRESSION: a Python expression over the configuration `c` (a dict) with the --set
# overrides applied (a value that is not TOML is a bare string, as the stages take it), printed. The
# file is read as the stages read it (UTF-8, a byte-order mark allowed); an unreadable file stops the
# script with the reason instead of falling back to defaults (which would rerun stages on every call).
config_value() {
    python3 - "$CONFIG" "$1" "${SETS[@]+"${SETS[@]}"}" <<'PY' || die "cannot read the configuration $CONFIG (see the error above)"
import sys, tomllib
with open(sys.argv[1], encoding="utf-8-sig") as f:
    c = tomllib.loads(f.read())
for assignment in sys.argv[3:]:
    dotted, _, value = assignment.partition("=")
    section, _, key = dotted.strip().partition(".")
    try:
        parsed = tomllib.loads("v = " + value.strip())["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    c.setdefault(section, {})[key] = parsed
print(eval(sys.argv[2], {"c": c}))
PY
}

# The models of [surrogate] models (default: all four), for the fit stage's outputs.
fit_models() { config_value '" ".join(c.get("surrogate", {}).get("models", ["tuned", "pod_gp", "pod_nn", "ensemble"]))'; }

# The surrogate the uq stage propagates: [uq] model, else [surrogate] best (default "tuned").
uq_model() { config_value 'c.get("uq", {}).get("model", c.get("surrogate", {}).get("best", "tuned"))'; }

mark_done() { mkdir -p "$DATA/.stamps"; config_fingerprint > "$(stamp_file "$1")"; }

# --- signals -------------------------------------------------------------------------------------
# Stages run in the background and this script waits for them, so that a TERM or INT sent to it
# reaches the stage: the stage stops at its next safe point (removing its temporaries, releasing its
# lock) and this script exits with the signal's status (143, 130) instead of leaving the stage running.
CHILDREN=()
forward_signal() {
    local sig=$1 status=$2 pid
    trap - TERM INT
    for pid in "${CHILDREN[@]}"; do kill -s "$sig" "$pid" 2>/dev/null || true; done
    for pid in "${CHILDREN[@]}"; do wait "$pid" 2>/dev/null || true; done
    say "pipeline.sh: stopped by SIG$sig"
    exit "$status"
}
trap 'forward_signal TERM 143' TERM
trap 'forward_signal INT 130' INT

# run_child COMMAND…: runs it in the background and waits; its exit status is this function's.
run_child() {
    local pid rc=0
    "$@" &
    pid=$!
    CHILDREN+=("$pid")
    wait "$pid" || rc=$?
    CHILDREN=("${CHILDREN[@]/$pid}")
    return "$rc"
}

run_stage() {
    local stage=$1 exe inputs outputs
    local S=$DATA/samples W=$DATA/wind F=$DATA/fem M=$DATA/models R=$DATA/report
    case $stage in
        lhs) exe=lhs-sample; inputs=""; outputs="$S/params.npy $S/split.npy $S/manifest.json" ;;
        wind) exe=blasius-solve; inputs="$S/params.npy"; outputs="$W/profiles.npy $W/summary.npy $W/status.npy $W/manifest.json" ;;
        fem) exe=pollutant-fem; inputs="$S/params.npy $W/profiles.npy $W/status.npy"
             outputs="$F/c3.npy $F/status.npy $F/points.npy $F/manifest.json" ;;
        train) exe=train-dmd; inputs="$S/params.npy $S/split.npy $F/c3.npy $F/status.npy"
               outputs="$M/plain/manifest.json $M/dmd/manifest.json" ;;
        fit) exe=train-dmd; inputs="$S/params.npy $S/split.npy $F/c3.npy $F/status.npy"
             outputs=""; for m in $FIT_MODELS; do outputs+=" $M/$m/fit.json $M/$m/manifest.json"; done ;;
        evaluate) exe=evaluate; inputs="$M/plain/manifest.json $M/dmd/manifest.json"
                  for m in $FIT_MODELS; do inputs+=" $M/$m/fit.json"; done
                  outputs="$R/report.md $R/metrics.json $R/manifest.json" ;;
        uq) exe=uq-propagate; local um=$UQ_MODEL
            # best = "by_validation": the model the fit chose, known only once the models are fitted.
            if [ "$um" = by_validation ] && have_exe train-dmd; then
                um=$("$BIN/train-dmd" best --config "$CONFIG" --data-dir "$DATA" 2>/dev/null) || um=by_validation
            fi
            inputs="$M/$um/manifest.json $S/params.npy $S/split.npy $W/status.npy $F/c3.npy $F/status.npy $F/points.npy"
            outputs="$DATA/uq/mean.npy $DATA/uq/sobol_integral.json $DATA/uq/fem_comparison.json $DATA/uq/manifest.json" ;;
        *) die "unknown stage '$stage' (expected one of: ${STAGES[*]})" ;;
    esac
    if ! have_exe "$exe"; then
        say "pipeline.sh: [$stage] skipped: $exe is not built yet (its issue has not landed)"
        SKIPPED_NOT_BUILT+=("$stage")
        return 0
    fi
    if [ ${#SKIPPED_NOT_BUILT[@]} -gt 0 ]; then
        for f in $inputs; do
            if [ ! -e "$f" ]; then
                say "pipeline.sh: [$stage] skipped: its input $f comes from a stage not built yet (${SKIPPED_NOT_BUILT[*]})"
                SKIPPED_NOT_BUILT+=("$stage")
                return 0
            fi
        done
    fi
    if up_to_date "$stage" "$inputs" "$outputs"; then
        say "pipeline.sh: [$stage] up to date"
        return 0
    fi
    say "pipeline.sh: [$stage] running $exe"
    local t0=$SECONDS
    case $stage in
        train) train_both ;;
        fit) run_child "$BIN/train-dmd" fit --config "$CONFIG" --data-dir "$DATA" "${SET_ARGS[@]+"${SET_ARGS[@]}"}" ;;
        *) run_child "$BIN/$exe" --config "$CONFIG" --data-dir "$DATA" "${SET_ARGS[@]+"${SET_ARGS[@]}"}" ;;
    esac
    mark_done "$stage"
    TIMINGS+=("$stage: $((SECONDS - t0)) s")
    RAN+=("$stage")
}

# The plain and the DMD training are independent: with two or more cores they run side by side,
# each on half of the cores (one OpenBLAS thread each on the 2-core reference machine: 26 min for
# both instead of 2 × 16 min one after the other, and the DMD overhead is measured under the same
# load as its reference). Each run's stderr lines carry the model's name.
train_both() {
    local cores; cores=$(nproc 2>/dev/null || echo 1)
    local plain_rc=0 dmd_rc=0
    if [ "$cores" -lt 2 ]; then
        run_child "$BIN/train-dmd" --config "$CONFIG" --data-dir "$DATA" "${SET_ARGS[@]+"${SET_ARGS[@]}"}" --no-dmd --resume-if-compatible || plain_rc=$?
        run_child "$BIN/train-dmd" --config "$CONFIG" --data-dir "$DATA" "${SET_ARGS[@]+"${SET_ARGS[@]}"}" --resume-if-compatible || dmd_rc=$?
    else
        local half=$((cores / 2))
        "$BIN/train-dmd" --config "$CONFIG" --data-dir "$DATA" "${SET_ARGS[@]+"${SET_ARGS[@]}"}" --no-dmd --threads "$half" --resume-if-compatible 2> >(sed -u 's/^/[plain] /' >&2) &
        local plain_pid=$!
        CHILDREN+=("$plain_pid")
        "$BIN/train-dmd" --config "$CONFIG" --data-dir "$DATA" "${SET_ARGS[@]+"${SET_ARGS[@]}"}" --threads "$half" --resume-if-compatible 2> >(sed -u 's/^/[dmd] /' >&2) &
        local dmd_pid=$!
        CHILDREN+=("$dmd_pid")
        wait "$plain_pid" || plain_rc=$?
        wait "$dmd_pid" || dmd_rc=$?
        CHILDREN=()
    fi
    # Exit status 3: the training diverged; everything up to the divergence is written and the
    # report shows it (a result, not a failure of the pipeline).
    local name rc
    for name in plain dmd; do
        [ "$name" = plain ] && rc=$plain_rc || rc=$dmd_rc
        case $rc in
            0) ;;
            3) say "pipeline.sh: [train] the $name training diverged (recorded in $DATA/models/$name; the report shows where)" ;;
            *) die "[train] the $name training failed (exit $rc)" ;;
        esac
    done
}

run_pipeline() {
    local selected=("$@")
    # Read once, up front: a failure inside $(…) in a word list would not stop the script.
    FIT_MODELS=$(fit_models) || exit 1
    UQ_MODEL=$(uq_model) || exit 1
    [ ${#selected[@]} -eq 0 ] && selected=("${STAGES[@]}")
    for s in "${selected[@]}"; do
        [[ " ${STAGES[*]} ${EXTRA_STAGES[*]} " == *" $s "* ]] || die "unknown stage '$s' (expected one of: ${STAGES[*]} ${EXTRA_STAGES[*]})"
    done
    for s in "${STAGES[@]}"; do
        [[ " ${selected[*]} " == *" $s "* ]] && run_stage "$s"
    done
    if [[ " ${selected[*]} " == *" refine "* ]]; then
        say "pipeline.sh: [refine] running train-dmd refine ${REFINE_ARGS:-}"
        local t0=$SECONDS
        # shellcheck disable=SC2086
        run_child "$BIN/train-dmd" refine --config "$CONFIG" --data-dir "$DATA" "${SET_ARGS[@]+"${SET_ARGS[@]}"}" ${REFINE_ARGS:-}
        TIMINGS+=("refine: $((SECONDS - t0)) s")
        RAN+=("refine")
    fi
    [ ${#TIMINGS[@]} -gt 0 ] && say "pipeline.sh: stage times: ${TIMINGS[*]}"
    if [ -f "$DATA/report/report.md" ]; then say "pipeline.sh: report at $DATA/report/report.md (and report.html)"; fi
}

# --- the smoke test ------------------------------------------------------------------------------
check_npy() { # FILE DTYPE SHAPE-REGEX
    python3 - "$@" <<'PY' || exit 1
import sys
try:
    import numpy as np
except ImportError:
    sys.exit(0)
path, dtype, shape = sys.argv[1], sys.argv[2], sys.argv[3]
a = np.load(path)
import re
ok = a.dtype == np.dtype(dtype) and re.fullmatch(shape, str(a.shape)) is not None
if a.dtype.kind == 'f':
    ok = ok and bool(np.isfinite(a).all())
print(f"  {path}: {a.dtype} {a.shape} {'ok' if ok else 'WRONG (expected ' + dtype + ' ' + shape + ')'}")
sys.exit(0 if ok else 1)
PY
}

smoke_test() {
    local t0=$SECONDS
    # The suite runs with one and with two OpenBLAS threads: every tolerance must hold for both
    # (the rounding differs between kernels); scripts/test-blas-kernels.sh adds the processor kernels.
    local layers
    # The import rule of docs/architecture.md (executables reach the libraries only through Pipeline).
    say "pipeline.sh test: import rule (scripts/check-layers.py)…"
    layers=$(python3 scripts/check-layers.py 2>&1) || die "import rule broken:"$'\n'"$layers"
    # One optimised build serves both the unit tests and the smoke chain: the tests run 5–6× faster
    # than in a debug build and the executables are built once. `-enable-testing` (for the tests'
    # @testable imports) changes the build's flags, so it gets its own folder and never forces the
    # plain release build of `./pipeline.sh` to recompile. Release code keeps overflow and bounds
    # checks (only `assert` is compiled out).
    local scratch=(--scratch-path .build-test $SWIFTPM_FLAGS -c release -Xswiftc -enable-testing)
    say "pipeline.sh test: building the tests and the executables (release, testing enabled)…"
    local t0build=$SECONDS
    swift build --build-tests "${scratch[@]}" >&2 || die "the tests do not build"
    say "pipeline.sh test: the build took $((SECONDS - t0build)) s"
    local testbin bundle
    testbin=$(swift build "${scratch[@]}" --show-bin-path)
    bundle=$(ls -d "$testbin"/*PackageTests.xctest 2>/dev/null | head -1)
    [ -x "$bundle" ] || die "no test bundle (*PackageTests.xctest) after swift build --build-tests"
    # Both passes at once, one per core (the suite is mostly single-threaded): the test bundle is run
    # directly, since two `swift test` would queue for the build folder's lock.
    [ "$(id -u)" -eq 0 ] && { ensure_meshio; ensure_umbridge; ensure_salib; }
    say "pipeline.sh test: unit tests with OPENBLAS_NUM_THREADS=1 and =2, side by side…"
    local pids=()
    for threads in 1 2; do
        OPENBLAS_NUM_THREADS=$threads "$bundle" > "/tmp/pipeline-swift-test-$threads.log" 2>&1 &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || true; done
    for threads in 1 2; do
        local log="/tmp/pipeline-swift-test-$threads.log"
        # ": error: " is how XCTest reports a failure (a test may print "error:" in a measurement).
        if grep -qE ": error: |with [1-9][0-9]* failures|failed \(" "$log" || ! grep -q "Executed" "$log"; then
            grep -E ": error: |failed \(" "$log" | head -20 >&2
            tail -30 "$log" >&2
            die "unit tests failed with OPENBLAS_NUM_THREADS=$threads (log: $log)"
        fi
        local skipped; skipped=$(grep -cE "^Test Case '.*' skipped" "$log" || true)
        say "pipeline.sh test: OPENBLAS_NUM_THREADS=$threads: $(grep -E "Executed [0-9]+ tests" "$log" | tail -1 | sed 's/^[[:space:]]*//'), $skipped skipped"
    done
    # The smoke chain and the study scripts run on the same executables (unless PIPELINE_BIN names
    # another build's, as the fault tests do).
    export PIPELINE_BIN=${PIPELINE_BIN:-$testbin}
    build_release
    DATA=$(mktemp -d /tmp/pipeline-smoke.XXXXXX)
    CONFIG=configs/smoke.toml
    say "pipeline.sh test: smoke pipeline into $DATA"
    run_pipeline
    say "pipeline.sh test: checking artifacts"
    local n; n=$(config_value 'c["sampling"]["n_samples"]') || exit 1
    check_npy "$DATA/samples/params.npy" float64 "\\($n, 6\\)"
    check_npy "$DATA/samples/split.npy" uint8 "\\($n,\\)"
    [ -s "$DATA/samples/manifest.json" ] || die "missing samples/manifest.json"
    if [[ " ${RAN[*]} " == *" wind "* ]]; then
        check_npy "$DATA/wind/summary.npy" float64 "\\($n, 4\\)"
        check_npy "$DATA/wind/status.npy" int32 "\\($n,\\)"
        check_npy "$DATA/wind/profiles.npy" float64 "\\($n, [0-9]+, 4\\)"
    fi
    if [[ " ${RAN[*]} " == *" fem "* ]]; then
        check_npy "$DATA/fem/c3.npy" float64 "\\($n, [0-9]+\\)"
        check_npy "$DATA/fem/status.npy" int32 "\\($n,\\)"
        check_npy "$DATA/fem/points.npy" float64 "\\([0-9]+, 2\\)"
        check_npy "$DATA/fem/dc3_dtheta.npy" float64 "\\($n, [0-9]+, 6\\)"
    fi
    if [[ " ${RAN[*]} " == *" train "* ]]; then
        for m in plain dmd; do
            [ -s "$DATA/models/$m/history.csv" ] || die "missing models/$m/history.csv"
            check_npy "$DATA/models/$m/predictions_test.npy" float64 "\\([0-9]+, [0-9]+\\)"
        done
    fi
    if [[ " ${RAN[*]} " == *" uq "* ]]; then
        local p; p=$(python3 -c "import numpy as np;print(np.load('$DATA/fem/points.npy').shape[0])" 2>/dev/null || echo '[0-9]+')
        for f in mean std q05 q95; do check_npy "$DATA/uq/$f.npy" float64 "\\($p,\\)"; done
        for f in sobol_first sobol_total; do check_npy "$DATA/uq/$f.npy" float64 "\\(6, $p\\)"; done
        for f in sobol_integral.json fem_comparison.json manifest.json; do
            python3 -c "import json;json.load(open('$DATA/uq/$f'))" || die "uq/$f is missing or not valid JSON"
        done
        for f in uq.md sobol_integral.csv figures/mean_map.svg figures/std_map.svg figures/sobol_integral.svg; do
            [ -s "$DATA/uq/$f" ] || die "missing uq/$f"
        done
    fi
    if [[ " ${RAN[*]} " == *" fit "* ]]; then
        for m in $FIT_MODELS; do
            [ -s "$DATA/models/$m/fit.json" ] || die "missing models/$m/fit.json"
            check_npy "$DATA/models/$m/predictions_test.npy" float64 "\\([0-9]+, [0-9]+\\)"
        done
    fi
    if [[ " ${RAN[*]} " == *" evaluate "* ]]; then
        for f in report.md report.html metrics.json; do [ -s "$DATA/report/$f" ] || die "missing report/$f"; done
        grep -q "## Surrogates compared" "$DATA/report/report.md" || die "the report lacks the surrogates' table"
        python3 -c "import json;json.load(open('$DATA/report/metrics.json'))" || die "metrics.json is not valid JSON"
    fi
    # The safeguard study (scripts/safeguard-study.sh) on the smoke data: nine short trainings and
    # their comparison report.
    if [[ " ${RAN[*]} " == *" evaluate "* ]]; then
        say "pipeline.sh test: safeguard study on the smoke data"
        scripts/safeguard-study.sh --config "$CONFIG" --data-dir "$DATA" --epochs 12 > /dev/null 2>"$DATA/safeguards.log" \
            || { tail -20 "$DATA/safeguards.log" >&2; die "scripts/safeguard-study.sh failed (log: $DATA/safeguards.log)"; }
        for m in plain dmd clamp guarded relaxed cosine clamp_guarded clamp_cosine clamp_relaxed; do
            grep -qF "| ${m//_/\\_} | 12 |" "$DATA/safeguards/report/report.md" || die "the safeguard report lacks the model $m"
        done
    fi
    # The acceleration study (train-dmd study) on the smoke data: every method (19), two seeds,
    # 12 epochs, each run in its own child process; then a rerun that must resume (no run redone).
    if [[ " ${RAN[*]} " == *" fit "* ]]; then
        say "pipeline.sh test: acceleration study on the smoke data"
        "$BIN/train-dmd" study --config "$CONFIG" --data-dir "$DATA" --seeds 2 --epochs 12 > "$DATA/study.log" 2>&1 \
            || { tail -20 "$DATA/study.log" >&2; die "train-dmd study failed (log: $DATA/study.log)"; }
        for f in summary.md summary.json study.csv study.svg setup.json; do [ -s "$DATA/study/$f" ] || die "missing study/$f"; done
        [ "$(grep -c '^| [a-z]' "$DATA/study/summary.md")" -ge 19 ] || die "the study table lacks methods"
        [ "$(tail -n +2 "$DATA/study/study.csv" | wc -l)" -eq 38 ] || die "study.csv should hold 19 methods × 2 seeds"
        "$BIN/train-dmd" study --config "$CONFIG" --data-dir "$DATA" --seeds 2 --epochs 12 > "$DATA/study-rerun.log" 2>&1 \
            || die "the study rerun failed (log: $DATA/study-rerun.log)"
        grep -q "2 of 2 seeds already done" "$DATA/study-rerun.log" || die "the study rerun did not resume (log: $DATA/study-rerun.log)"
        grep -q "36 of 36 other runs already done" "$DATA/study-rerun.log" || die "the study rerun redid runs (log: $DATA/study-rerun.log)"
    fi
    # The paired study (train-dmd verdict) on the smoke data: tuning on 3 configurations per family,
    # the cost benchmark, 10 evaluation seeds × 8 methods; then a rerun that must resume.
    if [[ " ${RAN[*]} " == *" fit "* ]]; then
        say "pipeline.sh test: paired study on the smoke data"
        local verdict=(verdict --config "$CONFIG" --data-dir "$DATA" --phase all --epochs 30 --seeds 10 --budget 3 --cost-repetitions 2 --resamples 1000)
        "$BIN/train-dmd" "${verdict[@]}" > "$DATA/verdict.log" 2>&1 \
            || { tail -20 "$DATA/verdict.log" >&2; die "train-dmd verdict failed (log: $DATA/verdict.log)"; }
        for f in tuning/choice.json tuning/tuning.csv evaluation/cost.json evaluation/runs.csv evaluation/verdict.csv evaluation/verdict.md evaluation/verdict.svg; do
            [ -s "$DATA/verdict/$f" ] || die "missing verdict/$f"
        done
        [ "$(tail -n +2 "$DATA/verdict/evaluation/runs.csv" | wc -l)" -eq 80 ] || die "verdict runs.csv should hold 8 methods × 10 seeds"
        "$BIN/train-dmd" "${verdict[@]}" > "$DATA/verdict-rerun.log" 2>&1 || die "the verdict rerun failed (log: $DATA/verdict-rerun.log)"
        grep -q "70 of 70 runs already done" "$DATA/verdict-rerun.log" || die "the verdict rerun redid runs (log: $DATA/verdict-rerun.log)"
    fi
    # Adam against Levenberg–Marquardt for POD-NN (scripts/podnn-optimizers.sh) on the smoke data: two
    # seeds each, the table of times to the Adam target; a rerun must skip every fit.
    if [[ " ${RAN[*]} " == *" fit "* ]]; then
        say "pipeline.sh test: POD-NN optimizers on the smoke data"
        scripts/podnn-optimizers.sh --config "$CONFIG" --data-dir "$DATA" --seeds 2 > /dev/null 2>"$DATA/podnn-optimizers.log" \
            || { tail -20 "$DATA/podnn-optimizers.log" >&2; die "scripts/podnn-optimizers.sh failed (log: $DATA/podnn-optimizers.log)"; }
        for o in adam levenberg_marquardt; do
            grep -q "^| $o | [0-9]/2 |" "$DATA/podnn-optimizers/summary.md" || die "the POD-NN optimizer table lacks $o"
        done
        [ "$(tail -n +2 "$DATA/podnn-optimizers/summary.csv" | wc -l)" -eq 4 ] || die "podnn-optimizers/summary.csv should hold 2 optimizers × 2 seeds"
        scripts/podnn-optimizers.sh --config "$CONFIG" --data-dir "$DATA" --seeds 2 2>&1 >/dev/null | grep -c "already done" | grep -qx 4 \
            || die "the POD-NN optimizer rerun redid fits"
    fi
    # Adaptive sampling (train-dmd refine) on the smoke data: two rounds of three FEM solves; a rerun
    # resumes (solves nothing); the LHS-against-adaptive study on one seed writes its tables.
    if [[ " ${RAN[*]} " == *" fem "* ]]; then
        say "pipeline.sh test: adaptive sampling on the smoke data"
        local refine=(--config "$CONFIG" --data-dir "$DATA" --initial 6 --batch 3 --budget 12 --pool 300 --shortlist 30 --threads 1)
        "$BIN/train-dmd" refine "${refine[@]}" > "$DATA/refine.log" 2>&1 || { tail -20 "$DATA/refine.log" >&2; die "train-dmd refine failed (log: $DATA/refine.log)"; }
        for r in 1 2; do
            check_npy "$DATA/refine/seed_1/round_00$r/params.npy" float64 "\\(3, 6\\)"
            check_npy "$DATA/refine/seed_1/round_00$r/c3.npy" float64 "\\(3, [0-9]+\\)"
        done
        [ "$(tail -n +2 "$DATA/refine/seed_1/refine.csv" | wc -l)" -eq 3 ] || die "refine.csv should hold 3 rounds"
        "$BIN/train-dmd" refine "${refine[@]}" > "$DATA/refine-rerun.log" 2>&1 || die "the refine rerun failed (log: $DATA/refine-rerun.log)"
        ! grep -q "refine FEM solves\|refine: round" "$DATA/refine-rerun.log" || die "the refine rerun redid work (log: $DATA/refine-rerun.log)"
        "$BIN/train-dmd" refine-study "${refine[@]}" --budget 9 --seeds 1 > "$DATA/refine-study.log" 2>&1 \
            || { tail -20 "$DATA/refine-study.log" >&2; die "train-dmd refine-study failed (log: $DATA/refine-study.log)"; }
        [ "$(tail -n +2 "$DATA/refine/study/refine_study.csv" | wc -l)" -eq 4 ] || die "refine_study.csv should hold lhs and adaptive at 6 and 9 solves"
        [ -s "$DATA/refine/study/refine_study.svg" ] || die "missing refine/study/refine_study.svg"
    fi
    # pollutant-serve against the real UM-Bridge client, on the smoke data (about 20 s).
    if [[ " ${RAN[*]} " == *" fit "* ]] && have_exe pollutant-serve; then
        say "pipeline.sh test: pollutant-serve with the umbridge client (scripts/test-serve.py)"
        [ "$(id -u)" -eq 0 ] && ensure_umbridge
        python3 scripts/test-serve.py --bin "$BIN" --config "$CONFIG" --data-dir "$DATA" >"$DATA/serve-test.log" 2>&1 \
            || { tail -30 "$DATA/serve-test.log" >&2; die "scripts/test-serve.py failed (log: $DATA/serve-test.log)"; }
        tail -1 "$DATA/serve-test.log" >&2
    fi
    # The Sobol indices against SALib's and the closed form on the Ishigami function (a few seconds).
    if have_exe uq-propagate; then
        say "pipeline.sh test: Sobol indices against SALib (scripts/test-sobol-salib.py)"
        [ "$(id -u)" -eq 0 ] && ensure_salib
        python3 scripts/test-sobol-salib.py --bin "$BIN" >"$DATA/sobol-salib.log" 2>&1 \
            || { tail -30 "$DATA/sobol-salib.log" >&2; die "scripts/test-sobol-salib.py failed (log: $DATA/sobol-salib.log)"; }
        tail -1 "$DATA/sobol-salib.log" >&2
    fi
    # A rerun with nothing changed must do no work.
    RAN=(); TIMINGS=(); SKIPPED_NOT_BUILT=()
    run_pipeline
    [ ${#RAN[@]} -eq 0 ] || die "rerun with nothing changed ran: ${RAN[*]}"
    # --set reaches every stage and is part of the configuration: with one override every stage runs
    # again and records the overridden value.
    SETS=("evaluate.field_samples=1"); SET_ARGS=(--set "evaluate.field_samples=1")
    RAN=(); TIMINGS=(); SKIPPED_NOT_BUILT=()
    run_pipeline
    [ ${#RAN[@]} -eq ${#STAGES[@]} ] || die "a rerun with --set ran only: ${RAN[*]}"
    python3 -c "import json,sys;sys.exit(json.load(open('$DATA/report/manifest.json'))['config']['evaluate']['field_samples'] != 1)" \
        || die "--set evaluate.field_samples=1 did not reach the evaluate stage"
    SETS=(); SET_ARGS=()
    # The FEM stage as a SLURM job array on a real one-node SLURM (root only; it says why when skipped).
    say "pipeline.sh test: the SLURM script on a real SLURM (scripts/slurm/test-real-slurm.sh)"
    scripts/slurm/test-real-slurm.sh "$BIN" || die "the real-SLURM test failed"
    say "pipeline.sh test: smoke pipeline ok in $DATA; not built yet: ${SKIPPED_NOT_BUILT[*]:-none}"
    say "pipeline.sh test: total $((SECONDS - t0)) s"
}

# --- arguments -----------------------------------------------------------------------------------
CONFIG=configs/paper.toml
DATA=data
FORCE=0
ARGS=()
SETS=()
RAN=(); TIMINGS=(); SKIPPED_NOT_BUILT=()
while [ $# -gt 0 ]; do
    case $1 in
        --config) CONFIG=$2; shift 2 ;;
        --data-dir) DATA=$2; shift 2 ;;
        --force) FORCE=1; shift ;;
        --set) [ $# -ge 2 ] || die "--set needs section.key=value"; SETS+=("$2"); shift 2 ;;
        --set=*) SETS+=("${1#--set=}"); shift ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
        *) ARGS+=("$1"); shift ;;
    esac
done

SET_ARGS=()
for assignment in "${SETS[@]+"${SETS[@]}"}"; do SET_ARGS+=(--set "$assignment"); done
ensure_system_packages
ensure_swift
if [ "${ARGS[0]:-}" = test ]; then
    smoke_test
    exit 0
fi
[ -f "$CONFIG" ] || die "configuration file '$CONFIG' not found"
build_release
run_pipeline "${ARGS[@]+"${ARGS[@]}"}"
