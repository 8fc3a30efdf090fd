#!/usr/bin/env python3
"""The measurements behind docs/surrogates.md "Multi-fidelity POD-GP" (numpy + scikit-learn).

usage: scripts/multifidelity-prototype.py DATA MODEL COARSE [STEPS]
  DATA    a data folder with samples/, wind/, fem/ (the 120 x 80 fields)
  MODEL   a fitted POD-GP folder on DATA with the wind's descriptors and the scale/shape split
          (train-dmd fit ... --set surrogate.gp_output=scale_shape): its surrogate.json gives the
          input scaling, its validation_indices / test_indices the rows, its predictions_test the
          split model's test fields
  COARSE  the same samples solved on a coarse mesh: a folder with samples/ and wind/ linked to
          DATA's and fem/ from `pollutant-fem run --data-dir COARSE --set fem.nx=24 --set fem.ny=16
          --set fem.sensitivities=false`
  STEPS   comma-separated, default coarse,decompose,scale: coarse (the coarse solve as a predictor),
          decompose (the split model's scale and shape errors), scale (the scale GP's variants, with and
          without the coarse solve), all-hyper (the scale GP's hyper-parameters on every fit sample:
          minutes), field (POD-GP of the log discrepancy, RMAX modes, default 20: minutes)
Relative L2 per sample, median / p95 (and more where printed). Hyper-parameters on a seeded subset of
HYPER (default 500) fit samples, then conditioned on all, as the product's runs.
"""
import json, os, sys, time
import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor as GPR
from sklearn.gaussian_process.kernels import ConstantKernel as CK, Matern, WhiteKernel
from sklearn.preprocessing import PolynomialFeatures

data, model, coarse = sys.argv[1:4]
steps = (sys.argv[4] if len(sys.argv) > 4 else "coarse,decompose,scale").split(",")
hyper = int(os.environ.get("HYPER", 500)); rmax = int(os.environ.get("RMAX", 20))
j = os.path.join
desc = json.load(open(j(model, "surrogate.json")))
P = np.load(j(data, "samples/params.npy")); S = np.load(j(data, "wind/summary.npy"))
C = np.load(j(data, "fem/c3.npy")); Cc = np.load(j(coarse, "fem/c3.npy"))
status = np.load(j(data, "fem/status.npy")); split = np.load(j(data, "samples/split.npy"))
lo, hi, lg = (np.array(desc[k]) for k in ("input_lower", "input_upper", "input_logarithmic"))
X = np.empty((len(P), 6 + S.shape[1]))
for c in range(6):  # InputFeatures.scale
    X[:, c] = (2 * (np.log(np.maximum(P[:, c], lo[c] * 1e-12)) - np.log(lo[c])) / (np.log(hi[c]) - np.log(lo[c])) - 1 if lg[c]
               else 2 * (P[:, c] - lo[c]) / (hi[c] - lo[c]) - 1)
dl, du = (np.array(desc["descriptor_inputs"][k]) for k in ("lower", "upper"))
X[:, 6:] = 2 * (np.arcsinh(S) - dl) / (du - dl) - 1  # DescriptorInputs.scale
vi = np.load(j(model, "validation_indices.npy")); ti = np.load(j(model, "test_indices.npy"))
fit = np.setdiff1d(np.where((split == 0) & (status == 0))[0], vi)
assert np.abs(X[fit] - np.load(j(model, "gp_inputs.npy"))).max() < 1e-12, "inputs differ from the model's"
sub = np.random.default_rng(0).choice(len(fit), min(hyper, len(fit)), replace=False)

def rel(a, b): return np.linalg.norm(a - b, axis=1) / np.linalg.norm(b, axis=1)
def show(label, e): print(f"{label}: median {np.median(e):.4f} p95 {np.percentile(e, 95):.4f} p99 {np.percentile(e, 99):.4f} max {e.max():.3g}", flush=True)
def gp(XX, y, nu=2.5, hypers=None):
    mu, sd = y[fit].mean(), y[fit].std()
    z = (y[fit] - mu) / sd
    k = CK(1.0, (1e-6, 1e6)) * Matern(np.ones(XX.shape[1]), (1e-3, 1e3), nu=nu) + WhiteKernel(1e-4, (1e-12, 1))
    rows = np.arange(len(fit)) if hypers == "all" else sub
    g = GPR(k, n_restarts_optimizer=0 if hypers == "all" else 1, random_state=0).fit(XX[fit][rows], z[rows])
    g = GPR(g.kernel_, optimizer=None).fit(XX[fit], z)
    return lambda r: g.predict(XX[r]) * sd + mu
G = np.log(np.linalg.norm(C, axis=1) + 1e-300); Gc = np.log(np.linalg.norm(Cc, axis=1) + 1e-300)

if "coarse" in steps:
    ok = status == 0
    show("the coarse solve, all solved samples", rel(Cc[ok], C[ok]))
    show("the coarse solve, test rows", rel(Cc[ti], C[ti]))
if "decompose" in steps:
    Pt = np.load(j(model, "predictions_test.npy")); T = C[ti]
    nP, nT = np.linalg.norm(Pt, axis=1), np.linalg.norm(T, axis=1)
    show("the split model, test", rel(Pt, T))
    show("  its scale part |‖ĉ‖/‖c‖ − 1|", np.abs(nP / nT - 1))
    show("  its shape part", np.linalg.norm(Pt / nP[:, None] - T / nT[:, None], axis=1))
if "scale" in steps or "all-hyper" in steps:
    def scale_error(pred, rows): return np.abs(np.exp(pred(rows) - G[rows]) - 1)
    variants = []
    if "scale" in steps:
        for deg in (0, 1, 2):
            F = np.ones((len(X), 1)) if deg == 0 else PolynomialFeatures(deg).fit_transform(X)
            coef = np.linalg.lstsq(F[fit], G[fit], rcond=None)[0]; trend = F @ coef
            for name, nu in (("Matérn-5/2", 2.5), ("Matérn-3/2", 1.5), ("SE", np.inf)):
                variants.append((f"scale GP, {name}, trend of degree {deg}", lambda t=trend, nu=nu: (lambda f: lambda r: f(r) + t[r])(gp(X, G - t, nu))))
        variants.append(("scale GP on g − g_coarse", lambda: (lambda f: lambda r: f(r) + Gc[r])(gp(X, G - Gc))))
    if "all-hyper" in steps:
        variants.append(("scale GP, hyper-parameters on every fit sample", lambda: gp(X, G, hypers="all")))
    for label, make in variants:
        f = make()
        show(label + ", validation", scale_error(f, vi)); show(label + ", test", scale_error(f, ti))
if "field" in steps:
    delta = 1e-4 * C[fit].max()
    R = np.log(np.maximum(C, 0) + delta) - np.log(np.maximum(Cc, 0) + delta)
    mean = R[fit].mean(0); V = np.linalg.svd(R[fit] - mean, full_matrices=False)[2][:rmax].T
    A = (R - mean) @ V; rows = np.concatenate([vi, ti]); Ahat = np.zeros((len(rows), rmax)); t0 = time.time()
    for k in range(rmax):
        Ahat[:, k] = gp(X, A[:, k])(rows)
    Ch = np.exp(Ahat @ V.T + mean + np.log(np.maximum(Cc[rows], 0) + delta)) - delta
    e = rel(Ch, C[rows])
    show(f"POD-GP of the log discrepancy ({rmax} modes, {time.time() - t0:.0f} s), validation", e[:len(vi)])
    show("  test", e[len(vi):])
