#!/usr/bin/env python3
"""Where a refine study's adaptive design gains and loses against LHS, per test sample (numpy only).

usage: scripts/refine-strata.py STUDY LABEL SEED [MODEL]
  STUDY  a refine-study folder (DATA/refine/study); LABEL its label; SEED the seed; MODEL default pod_gp

The test samples (the fixed split, the same for every curve) are put in strata by LHS's per-sample
error at LHS's largest solve count: the easy half, the middle 40 %, the hardest 10 %. For each
solve count where both curves have a point, the geometric mean over each stratum of the per-sample
ratio adaptive / LHS, and both curves' median and p95.
"""
import json, os, sys
import numpy as np

study, label, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
model = sys.argv[4] if len(sys.argv) > 4 else "pod_gp"
lhs_dir = os.path.join(study, label, "lhs", f"seed_{seed}")
adaptive_dir = os.path.join(study, label, "adaptive", f"seed_{seed}")
lhs = {}
for name in sorted(os.listdir(lhs_dir)):
    if name.endswith(f"_test_errors_{model}.npy"):
        lhs[int(name[2:8])] = np.load(os.path.join(lhs_dir, name))
adaptive = {}
for name in sorted(os.listdir(adaptive_dir)):
    errors = os.path.join(adaptive_dir, name, f"test_errors_{model}.npy")
    if name.startswith("round_") and os.path.exists(errors):
        with open(os.path.join(adaptive_dir, name, "evaluation.json")) as f:
            adaptive[json.load(f)["trainingSolves"]] = np.load(errors)
if not lhs or not adaptive:
    sys.exit(f"refine-strata: no per-sample test errors of {model} under {lhs_dir} or {adaptive_dir}")
counts = sorted(set(lhs) & set(adaptive))
reference = lhs[max(lhs)]
q50, q90 = np.quantile(reference, [0.5, 0.9])
strata = {"easy half": reference <= q50, "middle 40 %": (reference > q50) & (reference <= q90), "hardest 10 %": reference > q90}
print(f"strata by LHS-{max(lhs)}'s per-sample error ({len(reference)} test samples); adaptive / LHS, geometric mean per stratum")
print("solves | " + " | ".join(strata) + " | median adaptive / LHS | p95 adaptive / LHS")
for n in counts:
    a, l = adaptive[n], lhs[n]
    ratio = np.log(a / l)
    cells = [f"{np.exp(ratio[m].mean()):.2f}" for m in strata.values()]
    print(f"{n} | " + " | ".join(cells) + f" | {np.median(a):.4f} / {np.median(l):.4f} | {np.quantile(a, 0.95):.4f} / {np.quantile(l, 0.95):.4f}")
