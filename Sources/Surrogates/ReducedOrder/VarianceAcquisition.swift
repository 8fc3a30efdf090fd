import Foundation
import NumericalFoundations

extension GaussianProcessRegressor {
    /// The latent posterior covariance at `count` points (count × count, row-major, the targets'
    /// units): K(Z, Z) − K(Z, X) K_y⁻¹ K(X, Z) (R&W eq. 2.24), from L⁻¹ K(X, Z) with the stored factor.
    /// Noise is not included: it is the covariance of the function, which new observations reduce.
    public func posteriorCovariance(points: [Double], count m: Int) throws -> [Double] {
        try requireMatrix(points, rows: m, columns: dimension, name: "the GP covariance points")
        let n = count, d = dimension
        let w = hyperparameters.logLengthScales.map { Foundation.exp(-2 * $0) }
        let s2 = hyperparameters.signalVariance
        var cross = [Double](repeating: 0, count: n * m)
        var prior = [Double](repeating: 0, count: m * m)
        inputs.withUnsafeBufferPointer { xb in
            points.withUnsafeBufferPointer { zb in
                cross.withUnsafeMutableBufferPointer { cb in
                    CovarianceAlgebra.crossCovariance(training: xb.baseAddress!, count: n, points: zb.baseAddress!, pointCount: m, dimension: d,
                                                      kernel: kernel, inverseSquaredLengthScales: w, signalVariance: s2, into: cb.baseAddress!)
                }
                prior.withUnsafeMutableBufferPointer { pb in
                    CovarianceAlgebra.trainingCovariance(zb.baseAddress!, count: m, dimension: d, kernel: kernel, inverseSquaredLengthScales: w,
                                                         signalVariance: s2, into: pb.baseAddress!)
                }
            }
        }
        Double.trsm(lower: true, .none, m: n, n: m, alpha: 1, a: try factor, lda: n, b: &cross, ldb: m)
        Double.gemm(.transpose, .none, m: m, n: m, k: n, alpha: -1, a: cross, lda: m, b: cross, ldb: m, beta: 1, c: &prior, ldc: m)
        let scale2 = targetScale * targetScale
        return prior.map { $0 * scale2 }
    }

    /// σ_n² in the targets' units: the variance of one new observation's noise.
    public var observationNoiseVariance: Double { targetScale * targetScale * hyperparameters.noiseVariance }
}

/// A batch of parameter points chosen where a set of Gaussian processes is most uncertain.
///
/// The score of a point is the weighted latent variance Σ_k a_k(x) var c_k(x) of the GPs (a_k = 1
/// unless given; `relativeErrorWeights` gives those of the relative error in physical units). With
/// a_k = 1, for POD-GP, whose
/// modes Φ are orthonormal (Σ_p Φ_pk² = 1), that is the predictive variance of the (transformed)
/// field summed over the observation points, Σ_p var y_p(x): the expected squared ℓ2 error of the
/// prediction if the model is right about its uncertainty. Behind the log output transform that is
/// close to the squared relative error only where c3 is well above the transform's floor δ; the
/// weighted score counts the relative error in physical units everywhere. The weights depend on the
/// predicted mean only, which conditioning on a batch's own (unknown) outputs leaves unchanged.
///
/// The batch is chosen greedily, each point the largest score given the points chosen before it,
/// with every GP's posterior conditioned on them (the "kriging believer" of Ginsbourger, Le Riche &
/// Carraro 2010: the unknown outputs do not enter a GP's variance, so this is exact for fixed
/// hyper-parameters): after choosing z, Σ ← Σ − Σ_{·z} Σ_{z·} / (Σ_zz + σ_n²). A chosen point
/// removes the variance around it, so the batch spreads out by itself. The greedy step runs on the
/// `shortlist` candidates of largest unconditioned score (all when there are fewer): the conditioning
/// needs the candidates' joint covariance, m² per GP.
public enum VarianceAcquisition {
    /// How a point is scored in the greedy step.
    public enum Criterion: String, Codable, Sendable, CaseIterable {
        /// Its own weighted variance Σ_k a_k var c_k, among the `shortlist` candidates of largest variance.
        case variance
        /// The weighted variance its observation removes from a reference set of candidates (integrated
        /// variance reduction; Sacks, Welch, Mitchell & Wynn 1989, IMSE): Σ_i Σ_k a_k(x_i) Σ_k(x_i, z)² /
        /// (Σ_k(z, z) + σ_n,k²), the reference set being `shortlist` candidates drawn uniformly (seeded)
        /// from all: the pool stands for the parameters' distribution, so the batch goes where variance
        /// is removed for the many points a uniform test set holds, not only at the edges of the box.
        case integratedVariance = "integrated_variance"
        /// The expected log-variance its observation removes from the reference set (drawn as for
        /// `integratedVariance`): Σ_i log((V_i + N_i) / (V_i − R_i(z) + N_i)), with V_i = Σ_k a_k(x_i)
        /// Σ_k(x_i, x_i) the weighted latent variance at x_i, R_i(z) = Σ_k a_k(x_i) Σ_k(x_i, z)² /
        /// (Σ_k(z, z) + σ_n,k²) the part the observation removes, and N_i = Σ_k a_k(x_i) σ_n,k² the
        /// noise floor that keeps the logarithm finite at z itself. Each reference point counts by the
        /// fraction of its variance removed, not by the variance: integrated variance is dominated by
        /// the few points of largest error (it minimises the mean squared error, a tail statistic),
        /// this one by the typical point (the mean log error, a median-like statistic).
        case integratedLogVariance = "integrated_log_variance"
    }

    public struct Batch: Equatable, Sendable {
        /// Indices into the candidates, in the order chosen.
        public var chosen: [Int]
        /// The score of each chosen point when it was chosen (conditioned on the ones before it).
        public var conditionalScores: [Double]
        /// The unconditioned score of every candidate.
        public var scores: [Double]
    }

    /// Σ_k a_k var c_k at `count` points (count × d, the GPs' input units), latent (no noise); the
    /// weights a_k (count × processes, row-major) are 1 when nil.
    public static func scores(processes: [GaussianProcessRegressor], points: [Double], count: Int, weights: [Double]? = nil) throws -> [Double] {
        let r = processes.count
        if let weights, weights.count != count * r {
            throw ReducedOrderModelError.shapeMismatch("\(weights.count) acquisition weights for \(count) points × \(r) GPs")
        }
        var total = [Double](repeating: 0, count: count)
        for (k, gp) in processes.enumerated() {
            let v = try gp.predict(inputs: points, count: count, includeNoise: false).variance
            for i in 0..<count { total[i] += (weights?[i * r + k] ?? 1) * v[i] }
        }
        return total
    }

    /// The weights that make the score the expected squared relative ℓ2 error of the field in
    /// physical units: with the predicted mean ĉ(x) and the output map y = T(c), first order gives
    /// var c_p ≈ (dc/dy)_p² var y_p, so E‖c − ĉ‖² / ‖ĉ‖² ≈ Σ_k a_k(x) var c_k(x) with
    /// a_k(x) = Σ_p w_p(x) Φ_pk², w_p = (dc/dy)_p² / ‖ĉ‖². Behind the log transform dc/dy = c + δ: the
    /// variance counts where the field is large, not where it lies at the transform's floor. Points
    /// whose predicted field is zero get weight 0. A model that learns the discrepancy from a
    /// low-fidelity model predicts T(ĉ) = `latentOffset` + its mean (count × P, the low fidelity in the
    /// transform's units), and its variance is the discrepancy's: the weights are taken at that ĉ.
    public static func relativeErrorWeights(model: PODGaussianProcess, points: [Double], count: Int, transform: OutputTransform,
                                            latentOffset: [Double]? = nil, chunk: Int = 256) throws -> [Double] {
        let p = model.pointCount, r = model.rank, d = model.inputDimension
        if let latentOffset, latentOffset.count != count * p {
            throw ReducedOrderModelError.invalidOption("the latent offset has \(latentOffset.count) values for \(count) points of \(p) (expected \(count * p))")
        }
        let squaredModes = model.pod.modes.map { $0 * $0 }
        var weights = [Double](repeating: 0, count: count * r)
        var start = 0
        while start < count {
            let rows = min(chunk, count - start)
            let mean = try model.predictMean(inputs: Array(points[(start * d)..<((start + rows) * d)]), count: rows)
            var w = [Double](repeating: 0, count: rows * p)
            for i in 0..<rows {
                var norm2 = 0.0
                for j in 0..<p {
                    let c = transform.invert(mean[i * p + j] + (latentOffset?[(start + i) * p + j] ?? 0))
                    norm2 += c * c
                    let slope = transform.derivative(at: c, 1)
                    w[i * p + j] = slope > 0 ? 1 / (slope * slope) : 0
                }
                let scale = norm2 > 0 ? 1 / norm2 : 0
                for j in 0..<p { w[i * p + j] *= scale }
            }
            var block = [Double](repeating: 0, count: rows * r)
            Double.gemm(.none, .none, m: rows, n: r, k: p, alpha: 1, a: w, lda: p, b: squaredModes, ldb: r, beta: 0, c: &block, ldc: r)
            weights.replaceSubrange((start * r)..<((start + rows) * r), with: block)
            start += rows
        }
        return weights
    }

    /// Chooses `batchSize` of the `count` candidates (count × d, the GPs' input units); see the type.
    /// The GPs' covariances are built side by side on `threads` threads (BLAS on one thread each).
    /// With `criterion = .integratedVariance` the shortlist is `shortlist` candidates of a seeded permutation
    /// (`seed`, stream 3000), both the points that may be chosen and the reference set.
    public static func selectBatch(processes: [GaussianProcessRegressor], candidates: [Double], count: Int, batchSize: Int,
                                   shortlist: Int, weights: [Double]? = nil, threads: Int = 1,
                                   criterion: Criterion = .variance, seed: UInt64 = 0) throws -> Batch {
        guard let first = processes.first else { throw ReducedOrderModelError.invalidOption("the acquisition needs at least one GP") }
        guard batchSize >= 1, batchSize <= count else {
            throw ReducedOrderModelError.invalidOption("a batch of \(batchSize) points from \(count) candidates is impossible (expected 1 … \(count))")
        }
        guard shortlist >= batchSize else {
            throw ReducedOrderModelError.invalidOption("the shortlist (\(shortlist)) must hold at least the batch (\(batchSize))")
        }
        let d = first.dimension
        let scores = try scores(processes: processes, points: candidates, count: count, weights: weights)
        let short: [Int]
        switch criterion {
        case .variance:
            // The shortlist: largest scores first, ties to the lower index (a stable order on every machine).
            let order = (0..<count).sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
            short = Array(order.prefix(min(shortlist, count)))
        case .integratedVariance, .integratedLogVariance:
            var generator = SeededGenerator(seed: seed, stream: 3000)
            short = Array(generator.permutation(count).prefix(min(shortlist, count))).sorted()
        }
        let m = short.count
        let points = short.flatMap { candidates[($0 * d)..<(($0 + 1) * d)] }
        var covariances = [[Double]](repeating: [], count: processes.count)
        var failure: Error?
        let lock = NSLock()
        Lapack.withSingleThreadedBLAS {
            ParallelWork.forEachItem(count: processes.count, threads: max(1, threads)) { k in
                do {
                    let c = try processes[k].posteriorCovariance(points: points, count: m)
                    lock.lock(); covariances[k] = c; lock.unlock()
                } catch { lock.lock(); failure = error; lock.unlock() }
            }
        }
        if let failure { throw failure }
        let noise = processes.map(\.observationNoiseVariance)
        let r = processes.count
        // The shortlist's weights by GP, each a contiguous column: a_k(x_j) = shortWeights[k][j].
        let shortWeights = (0..<r).map { k in short.map { weights?[$0 * r + k] ?? 1 } }
        let noiseFloor = (0..<m).map { j in (0..<r).reduce(0.0) { $0 + shortWeights[$1][j] * noise[$1] } }
        var removedAt = [Double](repeating: 0, count: m)
        var chosen: [Int] = [], conditional: [Double] = []
        var taken = [Bool](repeating: false, count: m)
        for _ in 0..<batchSize {
            var best = -1, bestScore = -Double.infinity
            // V_j + N_j, the weighted predictive variance at each reference point given the points chosen so far.
            var total: [Double] = []
            if criterion == .integratedLogVariance {
                total = noiseFloor
                for k in 0..<r {
                    for j in 0..<m { total[j] += shortWeights[k][j] * max(covariances[k][j * m + j], 0) }
                }
            }
            for i in 0..<m where !taken[i] {
                var s = 0.0
                switch criterion {
                case .variance:
                    for k in 0..<processes.count { s += (weights?[short[i] * processes.count + k] ?? 1) * max(covariances[k][i * m + i], 0) }
                case .integratedVariance:
                    for k in 0..<processes.count {
                        let denominator = covariances[k][i * m + i] + noise[k]
                        guard denominator > 0 else { continue }
                        var removed = 0.0
                        covariances[k].withUnsafeBufferPointer { c in
                            for j in 0..<m { removed += (weights?[short[j] * processes.count + k] ?? 1) * c[i * m + j] * c[i * m + j] }
                        }
                        s += removed / denominator
                    }
                case .integratedLogVariance:
                    s = logVarianceRemoved(by: i, covariances: covariances, size: m, noise: noise, weights: shortWeights, total: total,
                                           floor: noiseFloor, removed: &removedAt)
                }
                if s > bestScore { best = i; bestScore = s }
            }
            taken[best] = true
            chosen.append(short[best]); conditional.append(bestScore)
            for k in 0..<processes.count { condition(&covariances[k], size: m, on: best, noise: noise[k]) }
        }
        return Batch(chosen: chosen, conditionalScores: conditional, scores: scores)
    }

    /// Σ_j log(T_j / (T_j − R_j(z))) for candidate z (see `Criterion.integratedLogVariance`), with
    /// T_j = V_j + N_j and the floors N_j given; `removed` is scratch of m values (R_j summed over the GPs).
    static func logVarianceRemoved(by z: Int, covariances: [[Double]], size m: Int, noise: [Double], weights: [[Double]], total: [Double],
                                   floor: [Double], removed: inout [Double]) -> Double {
        removed.withUnsafeMutableBufferPointer { rb in
            for j in 0..<m { rb[j] = 0 }
            for k in covariances.indices {
                let denominator = covariances[k][z * m + z] + noise[k]
                guard denominator > 0 else { continue }
                covariances[k].withUnsafeBufferPointer { c in
                    weights[k].withUnsafeBufferPointer { w in
                        for j in 0..<m { rb[j] += w[j] * c[z * m + j] * c[z * m + j] / denominator }
                    }
                }
            }
            var s = 0.0
            for j in 0..<m where rb[j] > 0 && total[j] > 0 {
                // R_j ≤ V_j (Cauchy–Schwarz) in exact arithmetic; the floor keeps rounding from taking T_j − R_j below N_j.
                s += Foundation.log(total[j] / max(total[j] - rb[j], floor[j], Double.leastNormalMagnitude))
            }
            return s
        }
    }

    /// Σ ← Σ − Σ_{·z} Σ_{z·} / (Σ_zz + σ_n²): the covariance after a noisy observation at z (rank one).
    static func condition(_ sigma: inout [Double], size m: Int, on z: Int, noise: Double) {
        let column = (0..<m).map { sigma[$0 * m + z] }
        let denominator = column[z] + noise
        guard denominator > 0 else { return }
        sigma.withUnsafeMutableBufferPointer { s in
            for i in 0..<m {
                let f = column[i] / denominator
                if f == 0 { continue }
                for j in 0..<m { s[i * m + j] -= f * column[j] }
            }
        }
    }
}

extension PODGaussianProcess {
    /// The same POD and the same GP hyper-parameters, conditioned on other samples (`count` rows of
    /// inputs, scaled as in the fit, and of outputs): one Cholesky factorization per mode, no
    /// optimisation. The refine loop fits the hyper-parameters on its fitting rows and conditions on
    /// every training solve (its validation rows too) before choosing where to sample next.
    /// With the scale/shape split, `outputs` are the (transformed) shapes and `scales` their log norms,
    /// on which the scale GP is conditioned alike.
    public func conditioned(inputs: [Double], outputs: [Double], count: Int, scales: [Double]? = nil, threads: Int = 1) throws -> PODGaussianProcess {
        try requireMatrix(inputs, rows: count, columns: inputDimension, name: "the POD-GP conditioning inputs")
        guard (scales == nil) == (scaleProcess == nil), scales.map({ $0.count == count }) ?? true else {
            throw ReducedOrderModelError.shapeMismatch(scaleProcess == nil ? "scales given to a POD-GP without the scale/shape split"
                                                                           : "the scale/shape split needs one log norm per conditioning sample")
        }
        let coefficients = try pod.coefficients(of: outputs, count: count)
        let r = rank, d = inputDimension
        let standardize = options?.gaussianProcess.standardizeTargets ?? true, priorMean = options?.gaussianProcess.priorMean
        let all = processes + (scaleProcess.map { [$0] } ?? [])
        var results = [Result<GaussianProcessRegressor, Error>?](repeating: nil, count: all.count)
        let lock = NSLock()
        Lapack.withSingleThreadedBLAS {
            ParallelWork.forEachItem(count: all.count, threads: max(1, threads)) { k in
                let gp = all[k]
                let targets = k < r ? (0..<count).map { coefficients[$0 * r + k] } : scales!
                let result = Result {
                    try GaussianProcessRegressor(inputs: inputs, targets: targets, count: count, dimension: d, kernel: gp.kernel,
                                                 hyperparameters: gp.hyperparameters, standardizeTargets: standardize, priorMean: priorMean)
                }
                lock.lock(); results[k] = result; lock.unlock()
            }
        }
        var conditioned = try results.map { try $0!.get() }
        let scale = scaleProcess == nil ? nil : conditioned.removeLast()
        return try PODGaussianProcess(pod: pod, processes: conditioned, options: options, scaleProcess: scale)
    }
}
