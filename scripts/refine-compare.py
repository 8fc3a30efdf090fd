#!/usr/bin/env python3
"""Two configurations of a refine study on the same test samples: ratio of medians and p95s, paired (numpy only).

usage: scripts/refine-compare.py STUDY_A LABEL_A STUDY_B LABEL_B SEED METHOD [MODEL]
  STUDY_*  refine-study folders (DATA/refine/study, or a committed ledger's study/); LABEL_* their labels
  METHOD   lhs or adaptive; MODEL default pod_gp

For each solve count both curves reached: A's and B's test median and p95, and the ratios A / B with a
95 % interval from 2000 paired bootstrap resamples of the test samples (seed 0) — the test split's
sampling error of the comparison, as in refine_paired.csv, not the seed-to-seed spread of designs.
"""
import json, os, sys
import numpy as np

def curve(study, label, seed, method, model):
    folder = os.path.join(study, label, method, f"seed_{seed}")
    out = {}
    for name in sorted(os.listdir(folder)):
        if method == "lhs" and name.endswith(f"_test_errors_{model}.npy"):
            out[int(name[2:8])] = np.load(os.path.join(folder, name))
        errors = os.path.join(folder, name, f"test_errors_{model}.npy")
        if name.startswith("round_") and os.path.exists(errors):
            with open(os.path.join(folder, name, "evaluation.json")) as f:
                out[json.load(f)["trainingSolves"]] = np.load(errors)
    return out

study_a, label_a, study_b, label_b, seed, method = sys.argv[1:7]
model = sys.argv[7] if len(sys.argv) > 7 else "pod_gp"
a, b = curve(study_a, label_a, int(seed), method, model), curve(study_b, label_b, int(seed), method, model)
rng = np.random.default_rng(0)
print(f"{method}, seed {seed}: {label_a} (A) against {label_b} (B)")
print("solves | A median / p95 | B median / p95 | median A / B [95 %] | p95 A / B [95 %]")
for n in sorted(set(a) & set(b)):
    ea, eb = a[n], b[n]
    if len(ea) != len(eb):
        sys.exit(f"refine-compare: {n} solves: {len(ea)} test errors in A, {len(eb)} in B: not the same test samples")
    idx = rng.integers(0, len(ea), size=(2000, len(ea)))
    cells = []
    for q in (50, 95):
        ratio = np.percentile(ea, q) / np.percentile(eb, q)
        boot = np.percentile(ea[idx], q, axis=1) / np.percentile(eb[idx], q, axis=1)
        low, high = np.percentile(boot, [2.5, 97.5])
        cells.append(f"{ratio:.2f} [{low:.2f}, {high:.2f}]")
    print(f"{n} | {np.median(ea):.4f} / {np.percentile(ea, 95):.4f} | {np.median(eb):.4f} / {np.percentile(eb, 95):.4f} | " + " | ".join(cells))
