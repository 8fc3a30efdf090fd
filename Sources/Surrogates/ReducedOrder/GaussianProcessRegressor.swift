import Foundation
import NumericalFoundations

/// The constant a GP's predictions revert to away from its data.
///
/// `sample`: the training targets' mean (what standardising them gives). `generalizedLeastSquares`:
/// ordinary kriging's μ̂ = 1ᵀK⁻¹y / 1ᵀK⁻¹1 (Santner, Williams & Notz, *The Design and Analysis of
/// Computer Experiments*, 2003, §3.3), with K the covariance of the fitted hyper-parameters: each
/// point counts by the information it carries, so a tight cluster counts about as one point. It
/// matters for a design that is not spread like the points predicted (adaptive sampling crowds its
/// points where the map is hard, and the sample mean follows them).
public enum GaussianProcessPriorMean: String, Codable, CaseIterable, Sendable {
    case sample
    case generalizedLeastSquares = "gls"
}

/// How a Gaussian process is fitted.
public struct GaussianProcessOptions: Codable, Equatable, Sendable {
    public var kernel: CovarianceKernel
    /// Starting points of the likelihood maximisation: the default θ₀ (ℓ = 1, σ_f = 1, σ_n = 0.01)
    /// and `restarts − 1` points drawn from `SeededGenerator(seed:stream:)` (log ℓ ~ U[log 0.2, log 5],
    /// log σ_f ~ U[log 0.3, log 3], log σ_n ~ U[log 1e-4, log 0.3]). The best optimum is kept.
    public var restarts: Int
    public var seed: UInt64
    public var stream: UInt64
    /// Bounds of the length scales, in units of the input scale (inputs are scaled to [−1, 1]).
    public var minimumLengthScale: Double
    public var maximumLengthScale: Double
    /// Bounds of σ_f (targets are standardised, so σ_f ≈ 1 is typical).
    public var minimumSignalStandardDeviation: Double
    public var maximumSignalStandardDeviation: Double
    /// σ_n² ≥ this × σ_f² (keeps K + σ_n² I well enough conditioned for Cholesky).
    public var minimumNoiseVarianceRatio: Double
    /// σ_n ≤ this (targets standardised).
    public var maximumNoiseStandardDeviation: Double
    /// The soft clamp: outside its bounds, log-parameter θ_j costs penaltyWeight · n · (excess)² on
    /// top of the NLML (smooth, so L-BFGS sees it); the optimum is finally clamped into the bounds
    /// and the model is built there.
    public var penaltyWeight: Double
    public var optimizer: LBFGSOptions
    /// Standardise the targets (mean 0, standard deviation 1) before fitting, so the GP's prior
    /// mean is the targets' mean; predictions are returned in the targets' units.
    public var standardizeTargets: Bool
    /// The GP's constant prior mean: nil or `.sample`, the targets' mean; `.generalizedLeastSquares`,
    /// the kriging estimate given the fitted hyper-parameters (`GaussianProcessPriorMean`). The
    /// likelihood is maximised on the standardised targets either way.
    public var priorMean: GaussianProcessPriorMean?

    public init(kernel: CovarianceKernel = .matern52, restarts: Int = 4, seed: UInt64 = 1, stream: UInt64 = 0,
                minimumLengthScale: Double = 1e-3, maximumLengthScale: Double = 1e3,
                minimumSignalStandardDeviation: Double = 1e-3, maximumSignalStandardDeviation: Double = 1e3,
                minimumNoiseVarianceRatio: Double = 1e-10, maximumNoiseStandardDeviation: Double = 10,
                penaltyWeight: Double = 100,
                optimizer: LBFGSOptions = LBFGSOptions(maxIterations: 200, gradientTolerance: 1e-5, relativeFunctionTolerance: 1e-10),
                standardizeTargets: Bool = true, priorMean: GaussianProcessPriorMean? = nil) {
        self.kernel = kernel; self.restarts = restarts; self.seed = seed; self.stream = stream; self.priorMean = priorMean
        self.minimumLengthScale = minimumLengthScale; self.maximumLengthScale = maximumLengthScale
        self.minimumSignalStandardDeviation = minimumSignalStandardDeviation; self.maximumSignalStandardDeviation = maximumSignalStandardDeviation
        self.minimumNoiseVarianceRatio = minimumNoiseVarianceRatio; self.maximumNoiseStandardDeviation = maximumNoiseStandardDeviation
        self.penaltyWeight = penaltyWeight; self.optimizer = optimizer; self.standardizeTargets = standardizeTargets
    }

    func validate() throws {
        func bad(_ message: String) -> ReducedOrderModelError { .invalidOption(message) }
        guard restarts >= 1 else { throw bad("GP restarts must be at least 1, got \(restarts)") }
        guard minimumLengthScale > 0, minimumLengthScale < maximumLengthScale, maximumLengthScale.isFinite else {
            throw bad("GP length-scale bounds must satisfy 0 < min < max < ∞, got [\(minimumLengthScale), \(maximumLengthScale)]")
        }
        guard minimumSignalStandardDeviation > 0, minimumSignalStandardDeviation < maximumSignalStandardDeviation, maximumSignalStandardDeviation.isFinite else {
            throw bad("GP signal-std bounds must satisfy 0 < min < max < ∞, got [\(minimumSignalStandardDeviation), \(maximumSignalStandardDeviation)]")
        }
        guard minimumNoiseVarianceRatio > 0, minimumNoiseVarianceRatio < 1 else {
            throw bad("GP minimum noise variance ratio must lie in (0, 1), got \(minimumNoiseVarianceRatio)")
        }
        guard maximumNoiseStandardDeviation > 0, maximumNoiseStandardDeviation.isFinite else {
            throw bad("GP maximum noise std must be positive and finite, got \(maximumNoiseStandardDeviation)")
        }
        guard penaltyWeight > 0, penaltyWeight.isFinite else { throw bad("GP penalty weight must be positive, got \(penaltyWeight)") }
    }
}

/// One L-BFGS run of the likelihood maximisation.
public struct GaussianProcessRestart: Codable, Sendable {
    public var start: GaussianProcessHyperparameters
    /// The optimum, clamped into the bounds.
    public var optimum: GaussianProcessHyperparameters
    /// NLML at `optimum` (standardised targets), +∞ if the run failed.
    public var negativeLogMarginalLikelihood: Double
    public var iterations: Int
    public var evaluations: Int
    /// `LBFGSStatus` raw value. With nearly noise-free targets the fitted σ_n² is tiny, K_y is
    /// ill-conditioned and the NLML is only known to ~1e-10 relative: the run then typically ends
    /// with "line_search_failed" at that rounding floor (no further decrease can be measured) rather
    /// than with the gradient test; the optimum is still used (measured in the tests: 30–45 steps).
    public var status: String
}

/// How a fit went: every restart, the chosen one, the jitter, the time.
public struct GaussianProcessFitReport: Codable, Sendable {
    public var restarts: [GaussianProcessRestart]
    public var bestRestart: Int
    /// Diagonal jitter the final Cholesky needed (0: none).
    public var jitter: Double
    public var wallSeconds: Double
}

/// Gaussian-process regression of a scalar output on d-dimensional inputs (Rasmussen & Williams,
/// *Gaussian Processes for Machine Learning*, 2006): zero-mean GP prior on the standardised targets
/// with an ARD kernel (`CovarianceKernel`), Gaussian noise σ_n²; hyper-parameters by maximising the
/// log marginal likelihood (R&W §5.4.1, eq. 2.30, gradient eq. 5.9) with L-BFGS from several starts;
/// predictions by R&W eqs. 2.25–2.26 (Algorithm 2.1):
///   f̄_* = k_*ᵀ α,  α = K_y⁻¹ y;   V[f_*] = k(x_*, x_*) − vᵀv,  v = L⁻¹ k_*,  K_y = K + σ_n² I = L Lᵀ.
///
/// Inputs are expected scaled to about [−1, 1] (the length-scale bounds are relative to that).
/// Values are immutable; a regressor is `Sendable`.
public struct GaussianProcessRegressor: Sendable {
    public let kernel: CovarianceKernel
    public let dimension: Int
    public let count: Int
    /// Training inputs, count × dimension row-major.
    public let inputs: [Double]
    public let hyperparameters: GaussianProcessHyperparameters
    /// Targets are modelled as targetMean + targetScale · (GP); (0, 1) without standardisation.
    public let targetMean: Double
    public let targetScale: Double
    /// α = K_y⁻¹ ŷ (standardised targets).
    public let alpha: [Double]
    /// L with K_y + jitter·I = L Lᵀ, count × count row-major lower; for a loaded regressor read from its
    /// file when a variance first needs it (`CholeskyFactor`).
    public var factor: [Double] { get throws { try choleskyFactor.values() } }
    private let choleskyFactor: CholeskyFactor
    /// Whether `factor` is in memory (false for a loaded regressor whose variance was never asked for).
    public var isFactorInMemory: Bool { choleskyFactor.isLoaded }
    /// The diagonal jitter inside `factor` (0: none).
    public let jitter: Double
    /// −log p(ŷ | X, θ) at `hyperparameters` (standardised targets).
    public let negativeLogMarginalLikelihood: Double
    /// Set by `fit`; nil for a regressor built with given hyper-parameters or loaded.
    public let fitReport: GaussianProcessFitReport?

    /// A regressor from stored parts (a model folder); sizes are checked, nothing is recomputed.
    public init(kernel: CovarianceKernel, inputs: [Double], count: Int, dimension: Int, hyperparameters: GaussianProcessHyperparameters,
                targetMean: Double, targetScale: Double, alpha: [Double], factor: [Double], jitter: Double,
                negativeLogMarginalLikelihood: Double) throws {
        try requireMatrix(factor, rows: count, columns: count, name: "the GP Cholesky factor")
        try self.init(kernel: kernel, inputs: inputs, count: count, dimension: dimension, hyperparameters: hyperparameters,
                      targetMean: targetMean, targetScale: targetScale, alpha: alpha, factor: CholeskyFactor(factor), jitter: jitter,
                      negativeLogMarginalLikelihood: negativeLogMarginalLikelihood)
    }

    /// The same with the factor given as a `CholeskyFactor` (e.g. one left in its file until needed).
    public init(kernel: CovarianceKernel, inputs: [Double], count: Int, dimension: Int, hyperparameters: GaussianProcessHyperparameters,
                targetMean: Double, targetScale: Double, alpha: [Double], factor: CholeskyFactor, jitter: Double,
                negativeLogMarginalLikelihood: Double) throws {
        try requireMatrix(inputs, rows: count, columns: dimension, name: "the GP training inputs")
        try requireMatrix(alpha, rows: count, columns: 1, name: "the GP weights α")
        guard factor.order == count else {
            throw ReducedOrderModelError.shapeMismatch("a Cholesky factor of order \(factor.order) for \(count) training samples")
        }
        guard hyperparameters.dimension == dimension else {
            throw ReducedOrderModelError.shapeMismatch("\(hyperparameters.dimension) length scales for \(dimension) inputs")
        }
        guard targetScale > 0, targetScale.isFinite, targetMean.isFinite else {
            throw ReducedOrderModelError.invalidOption("GP target scaling must be finite with a positive scale, got mean \(targetMean), scale \(targetScale)")
        }
        self.kernel = kernel; self.inputs = inputs; self.count = count; self.dimension = dimension
        self.hyperparameters = hyperparameters; self.targetMean = targetMean; self.targetScale = targetScale
        self.alpha = alpha; self.choleskyFactor = factor; self.jitter = jitter
        self.negativeLogMarginalLikelihood = negativeLogMarginalLikelihood; self.fitReport = nil
    }

    /// A regressor with given hyper-parameters (no optimisation).
    public init(inputs: [Double], targets: [Double], count: Int, dimension: Int, kernel: CovarianceKernel,
                hyperparameters: GaussianProcessHyperparameters, standardizeTargets: Bool = true, priorMean: GaussianProcessPriorMean? = nil) throws {
        try Self.checkData(inputs: inputs, targets: targets, count: count, dimension: dimension)
        guard hyperparameters.dimension == dimension, hyperparameters.vector.allSatisfy({ $0.isFinite }) else {
            throw ReducedOrderModelError.invalidOption("GP hyper-parameters need \(dimension) finite log length scales, got \(hyperparameters.logLengthScales)")
        }
        let (mean, scale) = Self.targetScaling(targets, standardize: standardizeTargets)
        let y = targets.map { ($0 - mean) / scale }
        var evaluation = try LikelihoodEvaluation.evaluate(inputs: inputs, targets: y, count: count, dimension: dimension, kernel: kernel,
                                                           hyperparameters: hyperparameters, wantGradient: false)
        let shift = priorMean == .generalizedLeastSquares ? Self.generalizedLeastSquaresMean(&evaluation, count: count) : 0
        self.init(kernel: kernel, dimension: dimension, count: count, inputs: inputs, hyperparameters: hyperparameters,
                  targetMean: mean + scale * shift, targetScale: scale, evaluation: evaluation, report: nil)
    }

    /// μ̂ = 1ᵀK⁻¹y / 1ᵀK⁻¹1 of the evaluation's standardised targets (`GaussianProcessPriorMean`),
    /// its α made K⁻¹(y − μ̂1); returns μ̂ (0 when 1ᵀK⁻¹1 is not a positive number).
    static func generalizedLeastSquaresMean(_ e: inout LikelihoodEvaluation, count n: Int) -> Double {
        var weights = [Double](repeating: 1, count: n)
        Lapack.choleskySolveInPlace(order: n, factor: e.factor, leadingDimension: n, rightHandSides: &weights, columns: 1, bLeadingDimension: 1)
        let total = weights.reduce(0, +)
        guard total > 0, total.isFinite else { return 0 }
        let mu = e.alpha.reduce(0, +) / total
        for i in 0..<n { e.alpha[i] -= mu * weights[i] }
        return mu
    }

    private init(kernel: CovarianceKernel, dimension: Int, count: Int, inputs: [Double], hyperparameters: GaussianProcessHyperparameters,
                 targetMean: Double, targetScale: Double, evaluation: LikelihoodEvaluation, report: GaussianProcessFitReport?) {
        self.kernel = kernel; self.dimension = dimension; self.count = count; self.inputs = inputs
        self.hyperparameters = hyperparameters; self.targetMean = targetMean; self.targetScale = targetScale
        self.alpha = evaluation.alpha; self.choleskyFactor = CholeskyFactor(evaluation.factor); self.jitter = evaluation.jitter
        self.negativeLogMarginalLikelihood = evaluation.value; self.fitReport = report
    }

    static func checkData(inputs: [Double], targets: [Double], count: Int, dimension: Int) throws {
        guard count >= 2, dimension >= 1 else {
            throw ReducedOrderModelError.insufficientData("a GP needs at least 2 samples of at least 1 input, got \(count) × \(dimension)")
        }
        try requireMatrix(inputs, rows: count, columns: dimension, name: "the GP training inputs")
        try requireMatrix(targets, rows: count, columns: 1, name: "the GP training targets")
    }

    static func targetScaling(_ y: [Double], standardize: Bool) -> (mean: Double, scale: Double) {
        guard standardize else { return (0, 1) }
        let mean = y.reduce(0, +) / Double(y.count)
        let variance = y.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(y.count)
        let scale = variance.squareRoot()
        return (mean, scale > 1e-300 && scale.isFinite ? scale : 1)
    }

    /// The negative log marginal likelihood (R&W eq. 2.30) and its gradient with respect to
    /// θ = (log ℓ_1 … log ℓ_d, log σ_f, log σ_n) (R&W eq. 5.9) for the targets exactly as given
    /// (no standardisation, zero prior mean). Jitter is added if Cholesky needs it (then the value is
    /// that of the jittered matrix).
    public static func negativeLogMarginalLikelihood(inputs: [Double], targets: [Double], count: Int, dimension: Int,
                                                     kernel: CovarianceKernel, hyperparameters: GaussianProcessHyperparameters) throws -> (value: Double, gradient: [Double]) {
        try checkData(inputs: inputs, targets: targets, count: count, dimension: dimension)
        let e = try LikelihoodEvaluation.evaluate(inputs: inputs, targets: targets, count: count, dimension: dimension, kernel: kernel,
                                                  hyperparameters: hyperparameters, wantGradient: true)
        return (e.value, e.gradient)
    }

    /// Fits a GP to `count` samples: inputs count × dimension (row-major, scaled to [−1, 1]),
    /// targets count values. Hyper-parameters maximise the marginal likelihood (see `GaussianProcessOptions`).
    /// BLAS runs with whatever thread count the caller set.
    public static func fit(inputs: [Double], targets: [Double], count: Int, dimension: Int,
                           options: GaussianProcessOptions = GaussianProcessOptions()) throws -> GaussianProcessRegressor {
        let start = monotonicSeconds()
        try checkData(inputs: inputs, targets: targets, count: count, dimension: dimension)
        try options.validate()
        let (mean, scale) = targetScaling(targets, standardize: options.standardizeTargets)
        let y = targets.map { ($0 - mean) / scale }
        let d = dimension, n = count
        let bounds = HyperparameterBounds(options, dimension: d, count: n)
        let starts = optimizerStarts(options, dimension: d)

        var restarts: [GaussianProcessRestart] = []
        var best: (index: Int, theta: [Double], value: Double)? = nil
        for (index, theta0) in starts.enumerated() {
            let restart = maximiseLikelihood(from: theta0, inputs: inputs, targets: y, count: n, dimension: d, options: options, bounds: bounds)
            restarts.append(restart.record)
            if restart.value.isFinite && (best == nil || restart.value < best!.value) { best = (index, restart.optimum, restart.value) }
        }
        guard let chosen = best else {
            throw ReducedOrderModelError.numericalFailure("no GP likelihood maximisation (of \(starts.count) starts) reached a finite marginal likelihood; "
                                                          + "statuses: \(restarts.map(\.status))")
        }
        let theta = GaussianProcessHyperparameters(vector: chosen.theta)
        var evaluation = try LikelihoodEvaluation.evaluate(inputs: inputs, targets: y, count: n, dimension: d, kernel: options.kernel,
                                                           hyperparameters: theta, wantGradient: false)
        let shift = options.priorMean == .generalizedLeastSquares ? generalizedLeastSquaresMean(&evaluation, count: n) : 0
        let report = GaussianProcessFitReport(restarts: restarts, bestRestart: chosen.index, jitter: evaluation.jitter,
                                              wallSeconds: monotonicSeconds() - start)
        return GaussianProcessRegressor(kernel: options.kernel, dimension: d, count: n, inputs: inputs, hyperparameters: theta,
                                        targetMean: mean + scale * shift, targetScale: scale, evaluation: evaluation, report: report)
    }

    /// Bounds of each log-parameter (d log length scales, log σ_f, log σ_n), enforced by a quadratic
    /// penalty during the search and by clamping after it; the noise bound is relative to σ_f
    /// (applied to log σ_n − log σ_f).
    struct HyperparameterBounds {
        let d: Int
        let logLength: (Double, Double)
        let logSignal: (Double, Double)
        let logNoiseRatio: Double
        let logNoiseMax: Double
        let weight: Double

        init(_ options: GaussianProcessOptions, dimension d: Int, count n: Int) {
            self.d = d
            logLength = (Foundation.log(options.minimumLengthScale), Foundation.log(options.maximumLengthScale))
            logSignal = (Foundation.log(options.minimumSignalStandardDeviation), Foundation.log(options.maximumSignalStandardDeviation))
            logNoiseRatio = 0.5 * Foundation.log(options.minimumNoiseVarianceRatio)
            logNoiseMax = Foundation.log(options.maximumNoiseStandardDeviation)
            weight = options.penaltyWeight * Double(n)
        }

        /// The penalty of `theta` outside the bounds; its gradient is added to `gradient`.
        func penalty(_ theta: [Double], _ gradient: inout [Double]) -> Double {
            let d = self.d, weight = self.weight
            var p = 0.0
            func add(_ index: Int, _ excess: Double, _ sign: Double) {
                guard excess > 0 else { return }
                p += weight * excess * excess
                gradient[index] += sign * 2 * weight * excess
            }
            for m in 0..<d {
                add(m, theta[m] - logLength.1, 1)
                add(m, logLength.0 - theta[m], -1)
            }
            add(d, theta[d] - logSignal.1, 1)
            add(d, logSignal.0 - theta[d], -1)
            add(d + 1, theta[d + 1] - logNoiseMax, 1)
            // log σ_n − log σ_f ≥ logNoiseRatio
            let shortfall = logNoiseRatio - (theta[d + 1] - theta[d])
            if shortfall > 0 {
                p += weight * shortfall * shortfall
                gradient[d + 1] -= 2 * weight * shortfall
                gradient[d] += 2 * weight * shortfall
            }
            return p
        }

        func clamp(_ theta: [Double]) -> [Double] {
            var t = theta
            for m in 0..<d { t[m] = min(max(t[m], logLength.0), logLength.1) }
            t[d] = min(max(t[d], logSignal.0), logSignal.1)
            t[d + 1] = min(max(t[d + 1], t[d] + logNoiseRatio), logNoiseMax)
            return t
        }
    }

    /// The starts of the likelihood maximisation: unit length scales, σ_f = 1, σ_n = 0.01, then
    /// `restarts − 1` seeded random ones.
    private static func optimizerStarts(_ options: GaussianProcessOptions, dimension d: Int) -> [[Double]] {
        var generator = SeededGenerator(seed: options.seed, stream: options.stream)
        func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * generator.nextUniform() }
        var starts: [[Double]] = [[Double](repeating: 0, count: d) + [0, Foundation.log(0.01)]]
        for _ in 1..<max(options.restarts, 1) {
            var t = (0..<d).map { _ in uniform(Foundation.log(0.2), Foundation.log(5)) }
            t.append(uniform(Foundation.log(0.3), Foundation.log(3)))
            t.append(uniform(Foundation.log(1e-4), Foundation.log(0.3)))
            starts.append(t)
        }
        return starts
    }

    /// One L-BFGS maximisation of the penalised marginal likelihood from `theta0`, and the NLML at the
    /// clamped optimum (what the model will be).
    private static func maximiseLikelihood(from theta0: [Double], inputs: [Double], targets y: [Double], count n: Int, dimension d: Int,
                                           options: GaussianProcessOptions, bounds: HyperparameterBounds)
        -> (record: GaussianProcessRestart, optimum: [Double], value: Double) {
        var workspace = LikelihoodWorkspace()
        let result = LBFGS.minimize(start: bounds.clamp(theta0), options: options.optimizer) { theta, gradient in
            guard let e = try? LikelihoodEvaluation.evaluate(inputs: inputs, targets: y, count: n, dimension: d, kernel: options.kernel,
                                                             hyperparameters: GaussianProcessHyperparameters(vector: theta), wantGradient: true,
                                                             workspace: &workspace) else {
                for j in 0..<gradient.count { gradient[j] = .nan }
                return .infinity
            }
            gradient = e.gradient
            return e.value + bounds.penalty(theta, &gradient)
        }
        let optimum = bounds.clamp(result.x)
        let value = (try? LikelihoodEvaluation.evaluate(inputs: inputs, targets: y, count: n, dimension: d, kernel: options.kernel,
                                                        hyperparameters: GaussianProcessHyperparameters(vector: optimum), wantGradient: false,
                                                        workspace: &workspace).value) ?? .infinity
        let record = GaussianProcessRestart(start: GaussianProcessHyperparameters(vector: theta0), optimum: GaussianProcessHyperparameters(vector: optimum),
                                            negativeLogMarginalLikelihood: value, iterations: result.iterations,
                                            evaluations: result.evaluations, status: result.status.rawValue)
        return (record, optimum, value)
    }

    /// Predictive mean and variance at `count` points (count × dimension, row-major), in the
    /// targets' units (R&W eqs. 2.25–2.26). `includeNoise` adds σ_n² (the variance of a new noisy
    /// observation rather than of the latent function). Work goes in batches of `batchSize` points:
    /// one cross-covariance block, one dgemv for the means, one dtrsm for the variances.
    /// `meanOnly` skips the variance (its triangular solve is n² per point, the mean's gemv n): the
    /// variance array is then all zeros.
    public func predict(inputs points: [Double], count m: Int, includeNoise: Bool = false,
                        batchSize: Int = 256, meanOnly: Bool = false) throws -> (mean: [Double], variance: [Double]) {
        try requireMatrix(points, rows: m, columns: dimension, name: "the GP prediction inputs")
        let n = count, d = dimension
        let w = hyperparameters.logLengthScales.map { Foundation.exp(-2 * $0) }
        let s2 = hyperparameters.signalVariance
        let extra = includeNoise ? hyperparameters.noiseVariance : 0
        var mean = [Double](repeating: 0, count: m), variance = [Double](repeating: 0, count: m)
        let b = max(1, min(batchSize, max(m, 1)))
        var cross = [Double](repeating: 0, count: n * b)
        var start = 0
        while start < m {
            let rows = min(b, m - start)
            inputs.withUnsafeBufferPointer { xb in
                points.withUnsafeBufferPointer { zb in
                    cross.withUnsafeMutableBufferPointer { cb in
                        CovarianceAlgebra.crossCovariance(training: xb.baseAddress!, count: n, points: zb.baseAddress! + start * d, pointCount: rows,
                                                          dimension: d, kernel: kernel, inverseSquaredLengthScales: w, signalVariance: s2,
                                                          into: cb.baseAddress!)
                    }
                }
            }
            var f = [Double](repeating: 0, count: rows)
            Double.gemv(.transpose, m: n, n: rows, alpha: 1, a: cross, lda: rows, x: alpha, incx: 1, beta: 0, y: &f, incy: 1)
            if meanOnly {
                for c in 0..<rows { mean[start + c] = targetMean + targetScale * f[c] }
                start += rows
                continue
            }
            Double.trsm(lower: true, .none, m: n, n: rows, alpha: 1, a: try factor, lda: n, b: &cross, ldb: rows)
            for c in 0..<rows {
                var vv = 0.0
                for i in 0..<n { vv += cross[i * rows + c] * cross[i * rows + c] }
                mean[start + c] = targetMean + targetScale * f[c]
                variance[start + c] = targetScale * targetScale * (max(s2 - vv, 0) + extra)
            }
            start += rows
        }
        return (mean, variance)
    }
}
