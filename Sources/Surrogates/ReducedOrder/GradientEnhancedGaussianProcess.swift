import Foundation
import NumericalFoundations

/// A Gaussian process conditioned on values and gradients (R&W §9.4, "derivative observations";
/// gradient-enhanced kriging): the joint prior of f and ∇f is Gaussian with the covariances
///
///   cov(f(x), f(x′)) = k,   cov(f(x), ∂f(x′)/∂x′_j) = ∂k/∂x′_j,   cov(∂_i f(x), ∂_j f(x′)) = ∂²k/∂x_i∂x′_j
///
/// (`CovarianceKernel.secondDerivativeFactor` spells them out). The hyper-parameters are those of the
/// plain fit on the values (`GaussianProcessRegressor`, marginal likelihood): the gradients enter as
/// extra observations, not as evidence for θ, so the cost is one Cholesky factorisation of order
/// n(1 + d). The gradient observations carry noise of the same share of their prior variance as the
/// values do (σ_n²/σ_f² · σ_f² φ₁(0) w_j). Targets are the plain GP's standardised ones, the gradients
/// divided by the same scale.
///
/// The posterior variance is not formed (its Cholesky factor would be n(1 + d) squared per mode):
/// with the same hyper-parameters, conditioning on more observations can only lower the variance, so
/// the plain GP's variance is an upper bound of this one and `PODGaussianProcess` reports it.
public struct GradientEnhancedGaussianProcess: Sendable {
    public let base: GaussianProcessRegressor
    /// The samples (rows of the base GP's inputs) whose gradients were observed.
    public let gradientRows: [Int]
    /// K⁻¹ [y; ∂y], length n + |gradientRows|·d.
    public let alpha: [Double]

    public init(base: GaussianProcessRegressor, gradientRows: [Int], alpha: [Double]) throws {
        guard alpha.count == base.count + gradientRows.count * base.dimension, gradientRows.allSatisfy({ (0..<base.count).contains($0) }) else {
            throw ReducedOrderModelError.shapeMismatch("gradient-enhanced GP: \(alpha.count) weights for \(base.count) values and \(gradientRows.count) gradients of dimension \(base.dimension)")
        }
        self.base = base; self.gradientRows = gradientRows; self.alpha = alpha
    }

    /// Conditions `base`'s prior on the `targets` it was fitted on and on `gradients` (count × d,
    /// ∂target/∂x in the same units; rows where `available` is false are ignored).
    public static func fit(base: GaussianProcessRegressor, targets: [Double], gradients: [Double], available: [Bool]) throws -> GradientEnhancedGaussianProcess {
        let n = base.count, d = base.dimension
        guard targets.count == n, gradients.count == n * d, available.count == n else {
            throw ReducedOrderModelError.shapeMismatch("gradient-enhanced GP: \(gradients.count) gradient values and \(available.count) flags for \(n) samples × \(d) inputs")
        }
        let rows = (0..<n).filter { available[$0] }
        let order = n + rows.count * d
        let theta = base.hyperparameters
        let w = theta.logLengthScales.map { Foundation.exp(-2 * $0) }
        let s2 = theta.signalVariance, noiseShare = theta.noiseVariance / s2
        var covariance = [Double](repeating: 0, count: order * order)
        covariance.withUnsafeMutableBufferPointer { k in
            base.inputs.withUnsafeBufferPointer { x in
                fillJointCovariance(x.baseAddress!, count: n, gradientRows: rows, dimension: d, kernel: base.kernel, inverseSquaredLengthScales: w,
                                    signalVariance: s2, into: k.baseAddress!)
            }
        }
        // Noise on the diagonal: σ_n² on the values, the same share of the prior variance on the gradients.
        for i in 0..<n { covariance[i * order + i] += theta.noiseVariance }
        for g in 0..<(rows.count * d) { let i = n + g; covariance[i * order + i] *= 1 + noiseShare }
        var factor = [Double](repeating: 0, count: order * order)
        _ = try covariance.withUnsafeBufferPointer { kb in
            try factor.withUnsafeMutableBufferPointer { fb in
                try CovarianceAlgebra.factorizeWithJitter(signal: kb.baseAddress!, count: order, noiseVariance: 0, signalVariance: s2, into: fb.baseAddress!)
            }
        }
        var rhs = targets.map { ($0 - base.targetMean) / base.targetScale }
        for i in rows { for j in 0..<d { rhs.append(gradients[i * d + j] / base.targetScale) } }
        Lapack.choleskySolveInPlace(order: order, factor: factor, leadingDimension: order, rightHandSides: &rhs, columns: 1, bLeadingDimension: 1)
        return try GradientEnhancedGaussianProcess(base: base, gradientRows: rows, alpha: rhs)
    }

    /// The mean at `count` points (count × d, scaled inputs), in the base GP's target units:
    /// m + s · [k(z, X), ∂k(z, x_b)/∂x_b,j] α.
    public func predictMean(inputs z: [Double], count: Int) throws -> [Double] {
        let n = base.count, d = base.dimension
        try requireMatrix(z, rows: count, columns: d, name: "the gradient-enhanced GP's prediction inputs")
        let theta = base.hyperparameters
        let w = theta.logLengthScales.map { Foundation.exp(-2 * $0) }
        let s2 = theta.signalVariance
        var out = [Double](repeating: 0, count: count)
        var delta = [Double](repeating: 0, count: d)
        for c in 0..<count {
            var f = 0.0
            for a in 0..<n {
                var r2 = 0.0
                for m in 0..<d { let e = z[c * d + m] - base.inputs[a * d + m]; r2 += e * e * w[m] }
                f += s2 * base.kernel.correlation(r2) * alpha[a]
            }
            for (g, b) in gradientRows.enumerated() {
                var r2 = 0.0
                for m in 0..<d { delta[m] = z[c * d + m] - base.inputs[b * d + m]; r2 += delta[m] * delta[m] * w[m] }
                let phi1 = s2 * base.kernel.lengthScaleDerivativeFactor(r2)
                for j in 0..<d { f += phi1 * delta[j] * w[j] * alpha[n + g * d + j] }
            }
            out[c] = base.targetMean + base.targetScale * f
        }
        return out
    }

    /// The joint prior covariance of [f(x_0..n−1); ∂f(x_i)/∂x_j for i in gradientRows, j < d] (order
    /// n + |rows|·d, row-major, full).
    static func fillJointCovariance(_ x: UnsafePointer<Double>, count n: Int, gradientRows rows: [Int], dimension d: Int, kernel: CovarianceKernel,
                                    inverseSquaredLengthScales w: [Double], signalVariance s2: Double, into k: UnsafeMutablePointer<Double>) {
        let order = n + rows.count * d
        // values × values: k(x_a, x_b) (the block of `CovarianceAlgebra.trainingCovariance`, leading dimension `order`).
        for a in 0..<n {
            for b in 0...a {
                var r2 = 0.0
                for m in 0..<d { let e = x[a * d + m] - x[b * d + m]; r2 += e * e * w[m] }
                let v = s2 * kernel.correlation(r2)
                k[a * order + b] = v; k[b * order + a] = v
            }
        }
        var delta = [Double](repeating: 0, count: d)
        for (g, b) in rows.enumerated() {
            let xb = x + b * d
            // values × gradients: cov(f(x_a), ∂f(x_b)/∂x_b,j) = σ² φ₁ (x_a − x_b)_j w_j.
            for a in 0..<n {
                var r2 = 0.0
                for m in 0..<d { delta[m] = x[a * d + m] - xb[m]; r2 += delta[m] * delta[m] * w[m] }
                let phi1 = kernel.lengthScaleDerivativeFactor(r2)
                for j in 0..<d {
                    let v = s2 * phi1 * delta[j] * w[j]
                    k[a * order + n + g * d + j] = v
                    k[(n + g * d + j) * order + a] = v
                }
            }
            // gradients × gradients: cov(∂_i f(x_a), ∂_j f(x_b)) = σ² (φ₁ δ_ij w_i − φ₂ δ_i δ_j w_i w_j).
            for (h, a) in rows.enumerated() where h <= g {
                var r2 = 0.0
                for m in 0..<d { delta[m] = x[a * d + m] - xb[m]; r2 += delta[m] * delta[m] * w[m] }
                let phi1 = kernel.lengthScaleDerivativeFactor(r2), phi2 = kernel.secondDerivativeFactor(r2)
                for i in 0..<d {
                    for j in 0..<d {
                        let v = s2 * ((i == j ? phi1 * w[i] : 0) - phi2 * delta[i] * delta[j] * w[i] * w[j])
                        k[(n + h * d + i) * order + n + g * d + j] = v
                        k[(n + g * d + j) * order + n + h * d + i] = v
                    }
                }
            }
        }
    }
}
