import Foundation
import NumericalFoundations

/// The likelihood-learned warp and what its fit reached.
public struct LikelihoodWarpFit: Sendable {
    public var warping: InputWarping
    /// Σ_k −log p(y_k) of the targets' stationary fits (identity warp), and the joint search's objective
    /// at its optimum: Σ_k −log p(y_k) plus the warp's prior (and any bound penalty), so at most the former.
    public var stationaryNegativeLogLikelihood: Double
    public var warpedObjective: Double
    public var evaluations: Int
    public var status: String
}

extension InputWarping {
    /// The Kumaraswamy warp learned from the data rather than from the design (Snoek, Swersky, Zemel &
    /// Adams 2014): the warp's (log a, log b) per column maximise Σ_k log p(y_k | X(a, b), θ_k), the GP
    /// marginal likelihoods (R&W eq. 2.30) of the `targetCount` target vectors (row-major, k-th row the
    /// k-th target's `count` values) on the warped inputs, jointly with each target's kernel
    /// hyper-parameters θ_k, under a weak log-normal prior on a and b (log a, log b ~ N(0, 1) per target:
    /// maximum a posteriori, as Snoek et al. put priors on their warps). Where the map is sharp in a corner of the box (small D, the blow-off
    /// boundary), a stationary kernel must shorten its length scale everywhere; a warp that stretches
    /// that corner lets one length scale serve the corner and the bulk.
    ///
    /// `parameters` are `count` rows of raw parameter values, `features` the box map (its own warp is
    /// ignored); the warped inputs are `features` with this warp, exactly as the surrogate will scale
    /// them. The search starts at the identity warp and each target's own stationary fit (so the
    /// optimum's likelihood is at least theirs), L-BFGS with the GP's bounds as penalties and a ∈, b ∈
    /// `shapeRange` likewise; the analytic gradient (`LikelihoodEvaluation.inputParameterGradient`).
    public static func fitToLikelihood(targets: [Double], targetCount: Int, parameters: [Double], count n: Int,
                                       features: InputFeatures, options: GaussianProcessOptions) throws -> LikelihoodWarpFit {
        let d = features.width
        guard targetCount >= 1, n >= 2, targets.count == targetCount * n, parameters.count == n * d,
              targets.allSatisfy({ $0.isFinite }), parameters.allSatisfy({ $0.isFinite }) else {
            throw StageError("input warping by likelihood: needs \(targetCount) × \(n) finite targets and \(n) × \(d) finite parameters, got \(targets.count) and \(parameters.count) values")
        }
        try options.validate()
        var box = features
        box.warping = nil
        let ys = (0..<targetCount).map { k -> [Double] in
            let y = Array(targets[(k * n)..<((k + 1) * n)])
            let (mean, scale) = GaussianProcessRegressor.targetScaling(y, standardize: options.standardizeTargets)
            return y.map { ($0 - mean) / scale }
        }
        // Each target's stationary fit on the unwarped inputs: the start of the joint search.
        let unwarped = box.scale(rows: parameters)
        var start = [Double](repeating: 0, count: 2 * d)
        var stationary = 0.0
        for y in ys {
            var o = options
            o.standardizeTargets = false
            let gp = try GaussianProcessRegressor.fit(inputs: unwarped, targets: y, count: n, dimension: d, options: o)
            start += gp.hyperparameters.vector
            stationary += gp.negativeLogMarginalLikelihood
        }
        let bounds = GaussianProcessRegressor.HyperparameterBounds(options, dimension: d, count: n)
        let shape = (Foundation.log(shapeRange.lowerBound), Foundation.log(shapeRange.upperBound))
        let block = d + 2
        var workspaces = [LikelihoodWorkspace](repeating: LikelihoodWorkspace(), count: targetCount)
        let result = LBFGS.minimize(start: start, options: options.optimizer) { z, gradient in
            for j in gradient.indices { gradient[j] = 0 }
            guard let warping = try? InputWarping(a: (0..<d).map { Foundation.exp(z[$0]) }, b: (0..<d).map { Foundation.exp(z[d + $0]) }) else {
                for j in gradient.indices { gradient[j] = .nan }
                return .infinity
            }
            var warped = box
            warped.warping = warping
            let x = warped.scale(rows: parameters)
            let derivatives = warpDerivatives(parameters, count: n, features: warped)
            var total = 0.0
            for k in 0..<targetCount {
                let theta = Array(z[(2 * d + k * block)..<(2 * d + (k + 1) * block)])
                guard let e = try? LikelihoodEvaluation.evaluate(inputs: x, targets: ys[k], count: n, dimension: d, kernel: options.kernel,
                                                                 hyperparameters: GaussianProcessHyperparameters(vector: theta), wantGradient: true,
                                                                 workspace: &workspaces[k]) else {
                    for j in gradient.indices { gradient[j] = .nan }
                    return .infinity
                }
                var g = e.gradient
                total += e.value + bounds.penalty(theta, &g)
                for j in 0..<block { gradient[2 * d + k * block + j] = g[j] }
                let moved = LikelihoodEvaluation.inputParameterGradient(inputs: x, count: n, dimension: d,
                                                                        hyperparameters: GaussianProcessHyperparameters(vector: theta),
                                                                        alpha: e.alpha, workspace: workspaces[k], inputDerivatives: derivatives, perColumn: 2)
                for m in 0..<d { gradient[m] += moved[2 * m]; gradient[d + m] += moved[2 * m + 1] }
            }
            // A weak log-normal prior, log a, log b ~ N(0, 1): an input the targets do not depend on
            // leaves its warp unidentified by the likelihood; the prior holds it at the identity.
            // a, b ∈ shapeRange, by the same quadratic penalty as the kernel's bounds.
            for j in 0..<(2 * d) {
                total += 0.5 * z[j] * z[j] * Double(targetCount)
                gradient[j] += z[j] * Double(targetCount)
                let above = z[j] - shape.1, below = shape.0 - z[j]
                if above > 0 { total += bounds.weight * above * above; gradient[j] += 2 * bounds.weight * above }
                if below > 0 { total += bounds.weight * below * below; gradient[j] -= 2 * bounds.weight * below }
            }
            return total
        }
        let clamped = (0..<(2 * d)).map { min(max(result.x[$0], shape.0), shape.1) }
        let warping = try InputWarping(a: (0..<d).map { Foundation.exp(clamped[$0]) }, b: (0..<d).map { Foundation.exp(clamped[d + $0]) })
        return LikelihoodWarpFit(warping: warping, stationaryNegativeLogLikelihood: stationary, warpedObjective: result.value,
                                 evaluations: result.evaluations, status: result.status.rawValue)
    }

    /// ∂x_im/∂(log a_m, log b_m) of the scaled inputs of `features` (with its warp) at `count` rows of
    /// parameters, laid out (i d + m) · 2 + {0: log a, 1: log b}. x = boxScale(θ′), θ′ = lower + F(u) span,
    /// F(u) = 1 − (1 − u^a)^b: ∂x/∂η = boxScale′(θ′) · span · ∂F/∂η with ∂F/∂log a = a b u^a log u (1 − u^a)^(b−1)
    /// and ∂F/∂log b = −b (1 − u^a)^b log(1 − u^a); boxScale′ = 2/span (linear) or 2/(θ′ log(hi/lo)) (log).
    /// u is kept in [1e-12, 1 − 1e-12] as in `slope`; 0 for a fixed parameter or a point outside the box.
    static func warpDerivatives(_ parameters: [Double], count n: Int, features: InputFeatures) -> [Double] {
        let d = features.width
        guard let warping = features.warping else { return [Double](repeating: 0, count: n * d * 2) }
        var out = [Double](repeating: 0, count: n * d * 2)
        for i in 0..<n {
            for m in 0..<d {
                let lower = features.lower[m], upper = features.upper[m], span = upper - lower
                let s = features.linearPosition(parameters[i * d + m], column: m)
                guard span > 0, s > -1, s < 1 else { continue }
                let u = min(max((s + 1) / 2, 1e-12), 1 - 1e-12)
                let a = warping.a[m], b = warping.b[m]
                let ua = Foundation.pow(u, a)
                let rest = Foundation.log1p(-ua)
                let dA = a * b * ua * Foundation.log(u) * Foundation.exp((b - 1) * rest)
                let dB = -b * Foundation.exp(b * rest) * rest
                let slope: Double
                if features.logarithmic[m] {
                    let warped = features.warpedParameter(parameters[i * d + m], column: m)
                    slope = 2 * span / (max(warped, lower * 1e-12) * Foundation.log(upper / lower))
                } else {
                    slope = 2
                }
                out[(i * d + m) * 2] = slope * dA
                out[(i * d + m) * 2 + 1] = slope * dB
            }
        }
        return out
    }
}

extension InputWarping {
    /// The targets whose likelihood a field model's warp maximises: its leading POD coefficients.
    public static let likelihoodModes = 3

    /// `fitToLikelihood` for a field model: the targets are the leading `likelihoodModes` POD coefficients
    /// of `fields` (count × pointCount, already through the output transform; `options`' energy
    /// tolerance and rank cap), on the rows POD-GP maximises its likelihoods on (`hyperparameterSampleLimit`,
    /// the same seeded subset), BLAS single-threaded (the same bits for any thread count). The fields are
    /// the model's own outputs; a multi-fidelity model's GPs see their discrepancy from the coarse solve,
    /// whose sharp regions are the fields' own, so the warp is learned once, on the fields.
    public static func fitToLikelihood(fields: [Double], count n: Int, pointCount p: Int, parameters: [Double],
                                       features: InputFeatures, options: PODGaussianProcessOptions) throws -> LikelihoodWarpFit {
        let pod = try ProperOrthogonalDecomposition(fields: fields, count: n, pointCount: p, energyTolerance: options.energyTolerance,
                                                    maxRank: min(options.maxRank ?? likelihoodModes, likelihoodModes))
        let coefficients = try pod.coefficients(of: fields, count: n)
        let r = pod.rank, d = features.width
        let rows = PODGaussianProcess.hyperparameterSubset(count: n, options: options) ?? Array(0..<n)
        let targets = (0..<r).flatMap { k in rows.map { coefficients[$0 * r + k] } }
        let subset = rows.flatMap { parameters[($0 * d)..<(($0 + 1) * d)] }
        return try Lapack.withSingleThreadedBLAS {
            try fitToLikelihood(targets: targets, targetCount: r, parameters: subset, count: rows.count, features: features,
                                options: options.gaussianProcess)
        }
    }
}
