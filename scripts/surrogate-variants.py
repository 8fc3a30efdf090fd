#!/usr/bin/env python3
"""POD-GP on a pipeline data folder with and without physicist inputs and a scale/shape split.

A measurement (numpy + scikit-learn), not the product: it tells which variant is worth building into
Surrogates/. Usage: [RMAX=20] [HYPER=500] scripts/surrogate-variants.py DATA [base,wind,scale,wind+scale]
(RMAX: modes at most; HYPER: hyper-parameters on a seeded subset of that size, then conditioned on all;
the box is the paper's, as in configs/paper.toml and configs/large.toml)
  base   the six parameters (K12, D, U0 in log) → POD of log(c3 + δ) → one Matérn-5/2 ARD GP per mode
  wind   plus the wind stage's descriptors per sample (wind/summary.npy: λ, f_w, log f''(0), the displacement constant β)
  wind-asinh  the same four descriptors, each as asinh(v) (the product's scaling, `DescriptorInputs`)
  scale  c3 = e^{g(θ)} s(θ, x) with ‖s‖ = 1: a GP for g = log‖c3‖, POD-GP for log(s + δ_s)
Its validation split is its own seeded permutation (not the stages' ValidationSplit), so compare its
variants with each other, not with `train-dmd fit`'s numbers. docs/surrogates.md has the measured table."""
import sys, numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import Matern, ConstantKernel, WhiteKernel
D = sys.argv[1] if len(sys.argv) > 1 else "/work/data/paper"
variants = sys.argv[2].split(",") if len(sys.argv) > 2 else ["base", "wind", "scale", "wind+scale"]
p = np.load(f"{D}/samples/params.npy"); split = np.load(f"{D}/samples/split.npy")
st = np.load(f"{D}/fem/status.npy"); c3 = np.load(f"{D}/fem/c3.npy"); wind = np.load(f"{D}/wind/summary.npy")
ok = st == 0
train = np.where(ok & (split == 0))[0]; test = np.where(ok & (split == 1))[0]
rng = np.random.default_rng(5); perm = rng.permutation(train); nv = int(round(0.15 * len(train)))
val, fit = np.sort(perm[:nv]), np.sort(perm[nv:])
print(f"fit {len(fit)} validation {len(val)} test {len(test)}", flush=True)
box = np.array([[1, 20], [0, 10], [0.01, 0.5], [0.01, 2], [-0.2, 0.2], [-0.2, 0.2]], float)
logcol = [0, 2, 3]
def scale_params(x):
    z = np.empty_like(x)
    for j in range(6):
        lo, hi = box[j]; v = x[:, j]
        if j in logcol: lo, hi, v = np.log(lo), np.log(hi), np.log(v)
        z[:, j] = 2 * (v - lo) / (hi - lo) - 1
    return z
# wind descriptors: lambda, f_w, log f''(0) (the wall curvature), the displacement constant beta
W = np.column_stack([wind[:, 0], wind[:, 1], np.log(np.maximum(wind[:, 2], 1e-12)), wind[:, 3]])
WA = np.arcsinh(wind)
def features(idx, use_wind, descriptors=W):
    z = scale_params(p[idx])
    if use_wind:
        lo, hi = descriptors[fit].min(0), descriptors[fit].max(0)
        z = np.column_stack([z, 2 * (descriptors[idx] - lo) / (hi - lo) - 1])
    return z
def pod_gp(X, Y, Xs, tol=1e-6, rmax=int(__import__("os").environ.get("RMAX", "60"))):
    mu = Y.mean(0); U, s, Vt = np.linalg.svd(Y - mu, full_matrices=False)
    e = np.cumsum(s**2) / np.sum(s**2); r = min(rmax, int(np.searchsorted(e, 1 - tol) + 1))
    C = (Y - mu) @ Vt[:r].T; pred = np.zeros((len(Xs), r))
    for k in range(r):
        c = C[:, k]; m, sd = c.mean(), c.std()
        ker = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(np.ones(X.shape[1]), (1e-3, 1e3), nu=2.5) + WhiteKernel(1e-4, (1e-10, 1))
        hyper = int(__import__("os").environ.get("HYPER", "0"))
        if hyper and hyper < len(X):
            sub = np.random.default_rng(1000 + k).permutation(len(X))[:hyper]
            gp = GaussianProcessRegressor(ker, n_restarts_optimizer=0, random_state=k).fit(X[sub], ((c - m) / sd)[sub])
            gp = GaussianProcessRegressor(gp.kernel_, optimizer=None).fit(X, (c - m) / sd)
        else:
            gp = GaussianProcessRegressor(ker, n_restarts_optimizer=0, random_state=k).fit(X, (c - m) / sd)
        pred[:, k] = gp.predict(Xs) * sd + m
    return mu + pred @ Vt[:r], r
def rel(pred, true): return np.linalg.norm(pred - true, axis=1) / np.linalg.norm(true, axis=1)
delta = 1e-4 * c3[fit].max()
for v in variants:
    use_wind = "wind" in v; Wv = WA if "asinh" in v else W
    Xf = features(fit, use_wind, Wv); Xe = features(np.concatenate([val, test]), use_wind, Wv)
    if "scale" in v:
        norm = np.linalg.norm(c3, axis=1); shape = c3 / norm[:, None]; ds = 1e-4 * shape[fit].max()
        Yf = np.log(shape[fit] + ds)
        Ye, r = pod_gp(Xf, Yf, Xe)
        g = np.log(norm[fit]); gm, gs = g.mean(), g.std()
        ker = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(np.ones(Xf.shape[1]), (1e-3, 1e3), nu=2.5) + WhiteKernel(1e-4, (1e-10, 1))
        gp = GaussianProcessRegressor(ker, n_restarts_optimizer=2, random_state=0).fit(Xf, (g - gm) / gs)
        ge = gp.predict(Xe) * gs + gm
        P = np.exp(ge)[:, None] * (np.exp(Ye) - ds)
    else:
        Ye, r = pod_gp(Xf, np.log(c3[fit] + delta), Xe); P = np.exp(Ye) - delta
    ev, et = rel(P[:len(val)], c3[val]), rel(P[len(val):], c3[test])
    print(f"{v:12s} r={r:2d} validation median {np.median(ev):.4f} p95 {np.percentile(ev,95):.4f} | test median {np.median(et):.4f} p95 {np.percentile(et,95):.4f}", flush=True)
