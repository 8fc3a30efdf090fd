#!/usr/bin/env bash
# Runs the unit tests under several OpenBLAS processor kernels and thread counts (the rounding differs between them): every
# tolerance in the suite must hold whatever kernel the processor gets. Kernels the processor cannot
# run are skipped by OpenBLAS itself (it falls back), so the list may name more than this machine has.
#
#   scripts/test-blas-kernels.sh [KERNEL ...]      (default: the detected one, Haswell, Zen, SkylakeX, Sandybridge)
set -uo pipefail
cd "$(dirname "$0")/.."
KERNELS=("$@"); [ ${#KERNELS[@]} -eq 0 ] && KERNELS=("" Haswell Zen SkylakeX Sandybridge)
swift build --build-tests --manifest-cache local >&2 || exit 1
status=0
for kernel in "${KERNELS[@]}"; do
    for threads in 1 2; do
        log=$(mktemp /tmp/test-kernel.XXXXXX)
        # An empty OPENBLAS_CORETYPE is not "unset": OpenBLAS 0.3.21 then forces a kernel of its own
        # choosing (SkylakeX on the AVX-512 VM), so the detected case runs without the variable.
        if [ -z "$kernel" ]; then
            env -u OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS=$threads swift test --skip-build --manifest-cache local >"$log" 2>&1
        else
            OPENBLAS_CORETYPE=$kernel OPENBLAS_NUM_THREADS=$threads swift test --skip-build --manifest-cache local >"$log" 2>&1
        fi
        rc=$?
        printf '%-12s threads %d: %s\n' "${kernel:-detected}" "$threads" "$(grep -E 'Executed [0-9]+ tests' "$log" | tail -1 | sed 's/^[[:space:]]*//')"
        if [ $rc -ne 0 ]; then grep "error:" "$log" | head -5; status=1; fi
        rm -f "$log"
    done
done
exit $status
