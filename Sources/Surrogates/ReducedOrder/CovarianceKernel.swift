import Foundation
import NumericalFoundations

/// Stationary covariance functions with automatic relevance determination (one length scale per
/// input), Rasmussen & Williams, *Gaussian Processes for Machine Learning*, MIT Press 2006:
/// with r² = Σ_m (x_m − x'_m)² / ℓ_m²,
/// - squared exponential (R&W eq. 5.1 / 4.9 with M = diag(ℓ)⁻²): k = σ_f² exp(−r²/2);
/// - Matérn ν = 5/2 (R&W eq. 4.17): k = σ_f² (1 + √5 r + 5r²/3) exp(−√5 r).
///
/// Derivatives with respect to log ℓ_m (used by the gradient of the marginal likelihood, R&W eq. 5.9),
/// with u_m = (x_m − x'_m)² / ℓ_m²:
/// - squared exponential: ∂k/∂log ℓ_m = k · u_m;
/// - Matérn 5/2: ∂k/∂log ℓ_m = σ_f² (5/3)(1 + √5 r) exp(−√5 r) · u_m (no singularity at r = 0).
/// And ∂k/∂log σ_f = 2k for both.
public enum CovarianceKernel: String, Codable, Sendable, CaseIterable {
    case squaredExponential = "squared_exponential"
    case matern52 = "matern52"

    /// k / σ_f² at squared scaled distance r².
    @inline(__always)
    func correlation(_ r2: Double) -> Double {
        switch self {
        case .squaredExponential:
            return Foundation.exp(-0.5 * r2)
        case .matern52:
            let r = r2.squareRoot()
            return (1 + 5.0.squareRoot() * r + 5.0 / 3.0 * r2) * Foundation.exp(-(5.0.squareRoot()) * r)
        }
    }

    /// (∂k/∂log ℓ_m) / (σ_f² u_m) at squared scaled distance r² (see the type's comment).
    @inline(__always)
    func lengthScaleDerivativeFactor(_ r2: Double) -> Double {
        switch self {
        case .squaredExponential:
            return Foundation.exp(-0.5 * r2)
        case .matern52:
            let r = r2.squareRoot()
            return 5.0 / 3.0 * (1 + 5.0.squareRoot() * r) * Foundation.exp(-(5.0.squareRoot()) * r)
        }
    }

    /// `correlation` and `lengthScaleDerivativeFactor` from one exponential: the same expressions,
    /// so the same bits as the two calls.
    @inline(__always)
    func correlationAndLengthScaleDerivativeFactor(_ r2: Double) -> (correlation: Double, derivativeFactor: Double) {
        switch self {
        case .squaredExponential:
            let e = Foundation.exp(-0.5 * r2)
            return (e, e)
        case .matern52:
            let r = r2.squareRoot()
            let e = Foundation.exp(-(5.0.squareRoot()) * r)
            return ((1 + 5.0.squareRoot() * r + 5.0 / 3.0 * r2) * e, 5.0 / 3.0 * (1 + 5.0.squareRoot() * r) * e)
        }
    }
}

extension CovarianceKernel {
    /// φ₂ of the mixed second derivative: with δ = x − x′ and w_m = 1/ℓ_m²,
    /// ∂k/∂x′_j = σ_f² φ₁ δ_j w_j and ∂²k/∂x_i∂x′_j = σ_f² (φ₁ δ_ij w_i − φ₂ δ_i δ_j w_i w_j), where
    /// φ₁ = `lengthScaleDerivativeFactor`. Squared exponential: φ₁ = φ₂ = e^{−r²/2}; Matérn-5/2 with
    /// u = √5 r: φ₁ = (5/3)(1 + u)e^{−u}, φ₂ = (25/3)e^{−u} (differentiate (1 + u + u²/3)e^{−u};
    /// R&W eq. 4.17 and §9.4 for derivative observations).
    @inline(__always)
    func secondDerivativeFactor(_ r2: Double) -> Double {
        switch self {
        case .squaredExponential: return Foundation.exp(-0.5 * r2)
        case .matern52: return 25.0 / 3.0 * Foundation.exp(-(5.0.squareRoot()) * r2.squareRoot())
        }
    }
}

/// Hyper-parameters θ of a GP with an ARD kernel, stored as logarithms so that the optimizer works
/// without positivity constraints: θ = (log ℓ_1 … log ℓ_d, log σ_f, log σ_n).
public struct GaussianProcessHyperparameters: Codable, Equatable, Sendable {
    public var logLengthScales: [Double]
    public var logSignalStandardDeviation: Double
    public var logNoiseStandardDeviation: Double

    public init(logLengthScales: [Double], logSignalStandardDeviation: Double, logNoiseStandardDeviation: Double) {
        self.logLengthScales = logLengthScales
        self.logSignalStandardDeviation = logSignalStandardDeviation
        self.logNoiseStandardDeviation = logNoiseStandardDeviation
    }

    /// From ℓ, σ_f, σ_n themselves.
    public init(lengthScales: [Double], signalStandardDeviation: Double, noiseStandardDeviation: Double) {
        self.init(logLengthScales: lengthScales.map { Foundation.log($0) }, logSignalStandardDeviation: Foundation.log(signalStandardDeviation),
                  logNoiseStandardDeviation: Foundation.log(noiseStandardDeviation))
    }

    /// θ as a vector of d + 2 values (the optimizer's variable).
    public init(vector: [Double]) {
        precondition(vector.count >= 2)
        logLengthScales = Array(vector.prefix(vector.count - 2))
        logSignalStandardDeviation = vector[vector.count - 2]
        logNoiseStandardDeviation = vector[vector.count - 1]
    }

    public var vector: [Double] { logLengthScales + [logSignalStandardDeviation, logNoiseStandardDeviation] }
    public var dimension: Int { logLengthScales.count }
    public var lengthScales: [Double] { logLengthScales.map { Foundation.exp($0) } }
    public var signalVariance: Double { Foundation.exp(2 * logSignalStandardDeviation) }
    public var noiseVariance: Double { Foundation.exp(2 * logNoiseStandardDeviation) }
}

/// The covariance computations shared by fitting, the likelihood and prediction. Inputs are
/// row-major (count × d).
enum CovarianceAlgebra {
    /// K_f (signal part, no noise), full symmetric n × n row-major. With `derivativeFactors`, also
    /// `lengthScaleDerivativeFactor` of each pair j < i, in the order (1,0), (2,0), (2,1), (3,0), …
    /// (n(n−1)/2 values): the likelihood's gradient needs them and they share the pair's exponential.
    static func trainingCovariance(_ x: UnsafePointer<Double>, count n: Int, dimension d: Int, kernel: CovarianceKernel,
                                   inverseSquaredLengthScales w: [Double], signalVariance s2: Double,
                                   into k: UnsafeMutablePointer<Double>, derivativeFactors: UnsafeMutablePointer<Double>? = nil) {
        w.withUnsafeBufferPointer { wb in
            let w = wb.baseAddress!
            var pair = 0
            for i in 0..<n {
                k[i * n + i] = s2
                let xi = x + i * d
                for j in 0..<i {
                    let xj = x + j * d
                    var r2 = 0.0
                    for m in 0..<d { let delta = xi[m] - xj[m]; r2 += delta * delta * w[m] }
                    let v: Double
                    if let derivativeFactors {
                        let both = kernel.correlationAndLengthScaleDerivativeFactor(r2)
                        v = s2 * both.correlation
                        derivativeFactors[pair] = both.derivativeFactor
                        pair += 1
                    } else {
                        v = s2 * kernel.correlation(r2)
                    }
                    k[i * n + j] = v
                    k[j * n + i] = v
                }
            }
        }
    }

    /// Cross covariances k(x_i, z_b) laid out n × b (row i: training point i), row-major.
    static func crossCovariance(training x: UnsafePointer<Double>, count n: Int, points z: UnsafePointer<Double>, pointCount b: Int,
                                dimension d: Int, kernel: CovarianceKernel, inverseSquaredLengthScales w: [Double],
                                signalVariance s2: Double, into k: UnsafeMutablePointer<Double>) {
        for i in 0..<n {
            let xi = x + i * d
            for c in 0..<b {
                let zc = z + c * d
                var r2 = 0.0
                for m in 0..<d { let delta = xi[m] - zc[m]; r2 += delta * delta * w[m] }
                k[i * b + c] = s2 * kernel.correlation(r2)
            }
        }
    }

    /// Fills `k` with K_f + (σ_n² + jitter) I and factorizes it in place, raising the jitter
    /// 1e-10·σ_f², ×10 each time, up to 1e-2·σ_f², when Cholesky fails (R&W §3.4.3 / A.4 mention
    /// such a diagonal "nugget"). Returns the jitter that was needed (0 when none).
    /// σ_f² must be finite and positive and σ_n² finite and non-negative: a line search may propose
    /// log σ_f far outside its bounds (σ_f² = ∞), where no jitter can help and a ladder scaled by σ_f²
    /// would never reach its cap; such hyper-parameters are refused at once.
    static func factorizeWithJitter(signal kf: UnsafePointer<Double>, count n: Int, noiseVariance: Double, signalVariance: Double,
                                    into k: UnsafeMutablePointer<Double>) throws -> Double {
        guard signalVariance.isFinite, signalVariance > 0, noiseVariance.isFinite, noiseVariance >= 0 else {
            throw ReducedOrderModelError.notPositiveDefinite(
                "the covariance's variances must be finite (σ_f² > 0, σ_n² ≥ 0), got σ_f² = \(signalVariance), σ_n² = \(noiseVariance)")
        }
        // 0, then 1e-10·σ_f² … 1e-2·σ_f²: nine rungs of ×10.
        var jitter = 0.0
        for rung in 0...9 {
            if rung > 0 { jitter = rung == 1 ? 1e-10 * signalVariance : jitter * 10 }
            k.update(from: kf, count: n * n)
            for i in 0..<n { k[i * n + i] += noiseVariance + jitter }
            if try mappingLapackErrors({ try Lapack.choleskyInPlace(order: n, matrix: k, leadingDimension: n) }) { return jitter }
        }
        throw ReducedOrderModelError.notPositiveDefinite(
            "Cholesky of the \(n) × \(n) covariance failed even with a jitter of 1e-2·σ_f² on the diagonal (σ_f² = \(signalVariance), σ_n² = \(noiseVariance)); are training inputs duplicated?")
    }
}

/// The negative log marginal likelihood and its gradient for one set of hyper-parameters
/// (R&W eq. 2.30 and eq. 5.9), with its factorization kept for prediction.
struct LikelihoodEvaluation {
    /// −log p(y | X, θ) = ½ yᵀα + Σ_i log L_ii + (n/2) log 2π  (R&W eq. 2.30, Algorithm 2.1).
    var value: Double
    /// ∂(−log p)/∂θ_j = −½ tr((ααᵀ − K⁻¹) ∂K/∂θ_j)  (R&W eq. 5.9), for θ = (log ℓ, log σ_f, log σ_n).
    var gradient: [Double]
    /// L, row-major lower, K + (σ_n² + jitter) I = L Lᵀ.
    var factor: [Double]
    /// α = K⁻¹ y.
    var alpha: [Double]
    var jitter: Double
}

/// The n × n buffers of a likelihood evaluation, kept between the evaluations of one maximisation
/// (hundreds of them at the same n): allocating and zeroing three such matrices each time cost about
/// a tenth of an evaluation. Every buffer is overwritten before it is read.
struct LikelihoodWorkspace {
    var signal: [Double] = []
    var factor: [Double] = []
    var inverse: [Double] = []
    var derivativeFactors: [Double] = []

    /// `buffer` with `count` elements, their values unspecified.
    static func sized(_ buffer: inout [Double], _ count: Int) {
        guard buffer.count != count else { return }
        buffer = [Double](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }
}

extension LikelihoodEvaluation {
    static func evaluate(inputs x: [Double], targets y: [Double], count n: Int, dimension d: Int, kernel: CovarianceKernel,
                         hyperparameters theta: GaussianProcessHyperparameters, wantGradient: Bool) throws -> LikelihoodEvaluation {
        var workspace = LikelihoodWorkspace()
        return try evaluate(inputs: x, targets: y, count: n, dimension: d, kernel: kernel, hyperparameters: theta,
                            wantGradient: wantGradient, workspace: &workspace)
    }

    /// The same with the buffers of `workspace` (its `factor` becomes the evaluation's: a caller that
    /// keeps the evaluation while evaluating again pays one copy).
    static func evaluate(inputs x: [Double], targets y: [Double], count n: Int, dimension d: Int, kernel: CovarianceKernel,
                         hyperparameters theta: GaussianProcessHyperparameters, wantGradient: Bool,
                         workspace: inout LikelihoodWorkspace) throws -> LikelihoodEvaluation {
        let w = theta.logLengthScales.map { Foundation.exp(-2 * $0) }
        let s2 = theta.signalVariance, noise = theta.noiseVariance
        LikelihoodWorkspace.sized(&workspace.signal, n * n)
        LikelihoodWorkspace.sized(&workspace.factor, n * n)
        LikelihoodWorkspace.sized(&workspace.derivativeFactors, wantGradient ? n * (n - 1) / 2 : 0)
        let jitter = try x.withUnsafeBufferPointer { xb in
            try workspace.signal.withUnsafeMutableBufferPointer { kb in
                try workspace.derivativeFactors.withUnsafeMutableBufferPointer { pb in
                    CovarianceAlgebra.trainingCovariance(xb.baseAddress!, count: n, dimension: d, kernel: kernel,
                                                         inverseSquaredLengthScales: w, signalVariance: s2, into: kb.baseAddress!,
                                                         derivativeFactors: wantGradient ? pb.baseAddress : nil)
                    return try workspace.factor.withUnsafeMutableBufferPointer { fb in
                        try CovarianceAlgebra.factorizeWithJitter(signal: kb.baseAddress!, count: n, noiseVariance: noise,
                                                                  signalVariance: s2, into: fb.baseAddress!)
                    }
                }
            }
        }
        var alpha = y
        Lapack.choleskySolveInPlace(order: n, factor: workspace.factor, leadingDimension: n, rightHandSides: &alpha, columns: 1, bLeadingDimension: 1)
        var value = 0.0
        for i in 0..<n { value += 0.5 * y[i] * alpha[i] + Foundation.log(workspace.factor[i * n + i]) }
        value += 0.5 * Double(n) * Foundation.log(2 * Double.pi)
        var gradient = [Double](repeating: 0, count: d + 2)
        if wantGradient {
            LikelihoodWorkspace.sized(&workspace.inverse, n * n)
            try mappingLapackErrors {
                try workspace.factor.withUnsafeBufferPointer { fb in
                    try workspace.inverse.withUnsafeMutableBufferPointer { ib in
                        try Lapack.choleskyInverse(order: n, factor: fb.baseAddress!, leadingDimension: n, inverse: ib.baseAddress!)
                    }
                }
            }
            // W = ααᵀ − K⁻¹; ∂/∂θ = −½ Σ_ij W_ij ∂K_ij/∂θ, summed over the lower triangle (×2) plus the diagonal.
            var traceW = 0.0, signalSum = 0.0
            var lengthSums = [Double](repeating: 0, count: d)
            x.withUnsafeBufferPointer { xb in
            alpha.withUnsafeBufferPointer { ab in
            w.withUnsafeBufferPointer { wb in
            workspace.inverse.withUnsafeBufferPointer { ib in
            workspace.signal.withUnsafeBufferPointer { kb in
            workspace.derivativeFactors.withUnsafeBufferPointer { pb in
            lengthSums.withUnsafeMutableBufferPointer { lb in
                let x = xb.baseAddress!, alpha = ab.baseAddress!, w = wb.baseAddress!, inverse = ib.baseAddress!
                let kf = kb.baseAddress!, factors = pb.baseAddress!, sums = lb.baseAddress!
                var pair = 0
                for i in 0..<n {
                    let wii = alpha[i] * alpha[i] - inverse[i * n + i]
                    traceW += wii
                    signalSum += wii * s2
                    let xi = x + i * d
                    for j in 0..<i {
                        let wij = alpha[i] * alpha[j] - inverse[i * n + j]
                        signalSum += 2 * wij * kf[i * n + j]
                        let factorLength = 2 * wij * s2 * factors[pair]
                        pair += 1
                        let xj = x + j * d
                        for m in 0..<d {
                            let delta = xi[m] - xj[m]
                            sums[m] += factorLength * (delta * delta * w[m])
                        }
                    }
                }
            }}}}}}}
            for m in 0..<d { gradient[m] = -0.5 * lengthSums[m] }
            gradient[d] = -0.5 * 2 * signalSum          // ∂K/∂log σ_f = 2 K_f
            gradient[d + 1] = -0.5 * 2 * noise * traceW  // ∂K/∂log σ_n = 2 σ_n² I
        }
        return LikelihoodEvaluation(value: value, gradient: gradient, factor: workspace.factor, alpha: alpha, jitter: jitter)
    }
}

extension LikelihoodEvaluation {
    /// ∂(−log p)/∂ξ for parameters ξ that move the inputs, from the last gradient evaluation made with
    /// `workspace` at these inputs and hyper-parameters (its K⁻¹ and per-pair kernel factors) and that
    /// evaluation's α. Each input column m has `perColumn` such parameters, D[(i d + m) perColumn + q]
    /// = ∂x_im/∂ξ_mq. With ∂K_ij/∂ξ = σ_f² k′(r²) ∂r²/∂ξ and ∂r²/∂ξ_mq = 2 w_m Δ_m (D_imq − D_jmq)
    /// (the diagonal does not move), the gradient is −½ Σ_ij W_ij ∂K_ij/∂ξ (R&W eq. 5.9), W = ααᵀ − K⁻¹.
    /// Returns d × perColumn values, column-major by m.
    static func inputParameterGradient(inputs x: [Double], count n: Int, dimension d: Int, hyperparameters theta: GaussianProcessHyperparameters,
                                       alpha: [Double], workspace: LikelihoodWorkspace, inputDerivatives D: [Double], perColumn q: Int) -> [Double] {
        precondition(workspace.inverse.count == n * n && workspace.derivativeFactors.count == n * (n - 1) / 2 && D.count == n * d * q)
        let w = theta.logLengthScales.map { Foundation.exp(-2 * $0) }
        let s2 = theta.signalVariance
        var sums = [Double](repeating: 0, count: d * q)
        x.withUnsafeBufferPointer { xb in
        D.withUnsafeBufferPointer { db in
        workspace.inverse.withUnsafeBufferPointer { ib in
        workspace.derivativeFactors.withUnsafeBufferPointer { pb in
        sums.withUnsafeMutableBufferPointer { sb in
            let x = xb.baseAddress!, derivative = db.baseAddress!, inverse = ib.baseAddress!, factors = pb.baseAddress!, sums = sb.baseAddress!
            var pair = 0
            for i in 0..<n {
                for j in 0..<i {
                    // The per-pair factor f = −2 k′(r²) of the length-scale gradient: ∂K_ij/∂ξ = −σ_f² f w Δ (D_i − D_j).
                    let c = (alpha[i] * alpha[j] - inverse[i * n + j]) * s2 * factors[pair]
                    pair += 1
                    for m in 0..<d {
                        let delta = x[i * d + m] - x[j * d + m]
                        let scale = c * w[m] * delta
                        for r in 0..<q {
                            sums[m * q + r] += scale * (derivative[(i * d + m) * q + r] - derivative[(j * d + m) * q + r])
                        }
                    }
                }
            }
        }}}}}
        // −½ Σ_{i≠j} W_ij ∂K_ij/∂ξ = −½ · 2 Σ_{i>j} W_ij (−σ_f² f w Δ (D_i − D_j)): the sums themselves.
        return sums
    }
}
