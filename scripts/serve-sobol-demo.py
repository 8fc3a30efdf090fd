#!/usr/bin/env python3
"""An external UQ tool through pollutant-serve: SALib's Sobol indices of a served surrogate, beside
uq-propagate's (DATA/uq/sobol_integral.json).

  scripts/serve-sobol-demo.py --url http://localhost:4242 --data-dir DATA [--model best] [--n 256]

The quantity is uq-propagate's: the integral of c3 over the observation grid (trapezoid rule on
DATA/fem/points.npy), with the parameter sets where the wind has no solution (the server answers
them with an InvalidInput error) set to the mean of the others, as uq-propagate does. The design is
SALib's Sobol' sequence with Saltelli's scheme on the [sampling] box recorded in DATA/uq/manifest.json.
Skips (exit 0) where SALib is absent.
"""
import argparse
import json
import os
import sys

try:
    import numpy as np
    import umbridge
    from SALib.analyze import sobol
    from SALib.sample import sobol as sobol_sample
except ImportError as missing:
    print(f"serve-sobol-demo: skipped: {missing.name} is not installed (pip install SALib umbridge numpy)")
    sys.exit(0)

NAMES = ["K12", "K3", "D", "U0", "u_h", "u_v"]


def trapezoid_weights(points):
    xs, ys = np.unique(points[:, 0]), np.unique(points[:, 1])

    def one(v):
        w = np.zeros(len(v))
        w[1:] += np.diff(v) / 2
        w[:-1] += np.diff(v) / 2
        return w
    # points.npy lists x fastest: row q is (x[q % nx], y[q // nx]).
    return np.outer(one(ys), one(xs)).ravel()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://localhost:4242")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--model", default="best")
    parser.add_argument("--n", type=int, default=256, help="SALib base samples (a power of 2); N (d + 2) evaluations")
    a = parser.parse_args()
    manifest = json.load(open(os.path.join(a.data_dir, "uq", "manifest.json")))
    sampling = manifest["config"]["sampling"]
    bounds = [list(map(float, sampling[n])) for n in NAMES]
    problem = {"num_vars": 6, "names": NAMES, "bounds": bounds}
    design = sobol_sample.sample(problem, a.n, calc_second_order=False, seed=1)
    weights = trapezoid_weights(np.load(os.path.join(a.data_dir, "fem", "points.npy")))
    model = umbridge.HTTPModel(a.url, a.model)
    y = np.full(len(design), np.nan)
    for i, row in enumerate(design):
        try:
            y[i] = weights @ np.array(model([list(map(float, row))])[0])
        except Exception as e:  # the blow-off region: no wind, no value
            if "InvalidInput" not in str(e):
                raise
    feasible = np.isfinite(y)
    y[~feasible] = y[feasible].mean()
    result = sobol.analyze(problem, y, calc_second_order=False, seed=1)
    served = {n: (s1, st) for n, s1, st in zip(NAMES, result["S1"], result["ST"])}
    theirs = {r["parameter"]: (r["first"], r["total"]) for r in json.load(open(os.path.join(a.data_dir, "uq", "sobol_integral.json")))["indices"]}
    print(f"serve-sobol-demo: {a.model} through {a.url}: {len(design)} evaluations, {int((~feasible).sum())} without a wind")
    print("| parameter | S1 SALib (served) | S1 uq-propagate | ST SALib (served) | ST uq-propagate |")
    print("|---|---|---|---|---|")
    for n in NAMES:
        print(f"| {n} | {served[n][0]:.3f} | {theirs[n][0]:.3f} | {served[n][1]:.3f} | {theirs[n][1]:.3f} |")


if __name__ == "__main__":
    main()
