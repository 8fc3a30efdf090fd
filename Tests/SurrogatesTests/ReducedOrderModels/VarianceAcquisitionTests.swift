import XCTest
import Foundation
@testable import Surrogates
import NumericalFoundations

/// The acquisition against closed forms: a 1-D GP with two observations (the posterior variance by
/// the 2 × 2 inverse written out), the batch's second point against a GP refitted with the first
/// one added, and POD-GP's score against the variance field summed over the points.
final class VarianceAcquisitionTests: XCTestCase {
    // Squared-exponential kernel, ℓ = 0.3, σ_f² = 1.5, σ_n² = 1e-4; observations at −0.6 and 0.2.
    let ell = 0.3, signal2 = 1.5, noise2 = 1e-4
    let training = [-0.6, 0.2]
    let grid = (0...200).map { -1 + Double($0) / 100 }

    func kernel(_ a: Double, _ b: Double) -> Double { signal2 * exp(-0.5 * (a - b) * (a - b) / (ell * ell)) }

    func process(_ inputs: [Double]) throws -> GaussianProcessRegressor {
        try GaussianProcessRegressor(inputs: inputs, targets: inputs.map { sin(3 * $0) }, count: inputs.count, dimension: 1, kernel: .squaredExponential,
                                     hyperparameters: GaussianProcessHyperparameters(lengthScales: [ell], signalStandardDeviation: signal2.squareRoot(),
                                                                                     noiseStandardDeviation: noise2.squareRoot()),
                                     standardizeTargets: false)
    }

    /// σ²(x) = k(x,x) − k_xᵀ (K + σ_n² I)⁻¹ k_x with the 2 × 2 inverse written out.
    func closedFormVariance(_ x: Double) -> Double {
        let a = signal2 + noise2, b = kernel(training[0], training[1])
        let det = a * a - b * b
        let k0 = kernel(x, training[0]), k1 = kernel(x, training[1])
        return signal2 - (a * k0 * k0 - 2 * b * k0 * k1 + a * k1 * k1) / det
    }

    func testPicksThePointOfLargestClosedFormVariance() throws {
        let gp = try process(training)
        let batch = try VarianceAcquisition.selectBatch(processes: [gp], candidates: grid, count: grid.count, batchSize: 1, shortlist: grid.count)
        let exact = grid.map(closedFormVariance)
        for (i, x) in grid.enumerated() {
            XCTAssertEqual(batch.scores[i], exact[i], accuracy: 1e-10 * signal2, "score at x = \(x)")
        }
        let best = exact.indices.max { exact[$0] < exact[$1] }!
        XCTAssertEqual(batch.chosen, [best])
        XCTAssertEqual(grid[best], 1.0, "the candidate farthest from both observations")
        XCTAssertEqual(batch.conditionalScores[0], exact[best], accuracy: 1e-10 * signal2)
        // Weighted: the pick maximises w(x) σ²(x); w favours the left end, where σ² is smaller.
        let weights = grid.map { exp(-4 * $0) }
        let weighted = try VarianceAcquisition.selectBatch(processes: [gp], candidates: grid, count: grid.count, batchSize: 1, shortlist: grid.count,
                                                           weights: weights)
        let products = zip(weights, exact).map { $0 * $1 }
        let weightedBest = products.indices.max { products[$0] < products[$1] }!
        XCTAssertEqual(weighted.chosen, [weightedBest])
        XCTAssertLessThan(grid[weightedBest], -0.6)
        XCTAssertEqual(weighted.conditionalScores[0], products[weightedBest], accuracy: 1e-10 * products[weightedBest])
    }

    /// Integrated variance reduction against refitted GPs: each pick maximises the variance removed
    /// over the whole grid (the reference set: shortlist = every candidate), computed here by a new
    /// Cholesky factorization with the candidate added, σ²_before(x) − σ²_after(x) summed over x, for
    /// three greedy picks (1e-8 relative). Here they are x = 0.72, −0.23, −0.88: not the edge x = 1 of
    /// largest variance, whose observation removes less variance from the grid than one inside it.
    func testIntegratedVarianceMatchesTheVarianceRemovedByRefittedGPs() throws {
        let batch = try VarianceAcquisition.selectBatch(processes: [try process(training)], candidates: grid, count: grid.count, batchSize: 3,
                                                        shortlist: grid.count, criterion: .integratedVariance, seed: 5)
        var observed = training
        for step in 0..<3 {
            let before = try process(observed).predict(inputs: grid, count: grid.count, includeNoise: false).variance.reduce(0, +)
            var removed = [Double](repeating: -.infinity, count: grid.count)
            for (z, x) in grid.enumerated() where !batch.chosen.prefix(step).contains(z) {
                let after = try process(observed + [x]).predict(inputs: grid, count: grid.count, includeNoise: false).variance.reduce(0, +)
                removed[z] = before - after
            }
            let best = removed.indices.max { removed[$0] < removed[$1] }!
            XCTAssertEqual(batch.chosen[step], best, "pick \(step)")
            XCTAssertEqual(batch.conditionalScores[step], removed[best], accuracy: 1e-8 * removed[best], "pick \(step)")
            observed.append(grid[best])
        }
        let plain = try VarianceAcquisition.selectBatch(processes: [try process(training)], candidates: grid, count: grid.count, batchSize: 1,
                                                        shortlist: grid.count)
        XCTAssertEqual(grid[plain.chosen[0]], 1.0)
        XCTAssertLessThan(grid[batch.chosen[0]], 0.9, "the integrated pick lies inside the grid, not at its edge")
    }

    /// Integrated log-variance against refitted GPs, two of them with different length scales and
    /// per-point weights a_k(x): each pick maximises Σ_x log((V(x) + N(x)) / (V'(x) + N(x))), V the
    /// weighted latent variance before and V' after a new Cholesky factorization with the candidate
    /// added, N(x) = Σ_k a_k(x) σ_n,k², for three greedy picks (1e-8 relative). Unlike integrated
    /// variance, it counts a point by the fraction of its variance removed, so the first pick differs.
    func testIntegratedLogVarianceMatchesTheLogVarianceRemovedByRefittedGPs() throws {
        let scales = [ell, 0.15]
        func processes(_ inputs: [Double]) throws -> [GaussianProcessRegressor] {
            try scales.map { l in
                try GaussianProcessRegressor(inputs: inputs, targets: inputs.map { sin(3 * $0) }, count: inputs.count, dimension: 1,
                                             kernel: .squaredExponential,
                                             hyperparameters: GaussianProcessHyperparameters(lengthScales: [l], signalStandardDeviation: signal2.squareRoot(),
                                                                                             noiseStandardDeviation: noise2.squareRoot()),
                                             standardizeTargets: false)
            }
        }
        // a_0 grows to the right, a_1 to the left: the weighted variance is not a single GP's.
        let weights = grid.flatMap { [exp(2 * $0), 0.5 * exp(-$0)] }
        func weightedVariance(_ inputs: [Double]) throws -> [Double] {
            let variances = try processes(inputs).map { try $0.predict(inputs: grid, count: grid.count, includeNoise: false).variance }
            return grid.indices.map { j in weights[2 * j] * variances[0][j] + weights[2 * j + 1] * variances[1][j] }
        }
        let floor = grid.indices.map { j in (weights[2 * j] + weights[2 * j + 1]) * noise2 }
        let batch = try VarianceAcquisition.selectBatch(processes: try processes(training), candidates: grid, count: grid.count, batchSize: 3,
                                                        shortlist: grid.count, weights: weights, criterion: .integratedLogVariance, seed: 5)
        var observed = training
        for step in 0..<3 {
            let before = try weightedVariance(observed)
            var removed = [Double](repeating: -.infinity, count: grid.count)
            for (z, x) in grid.enumerated() where !batch.chosen.prefix(step).contains(z) {
                let after = try weightedVariance(observed + [x])
                removed[z] = grid.indices.reduce(0.0) { $0 + log((before[$1] + floor[$1]) / (after[$1] + floor[$1])) }
            }
            let best = removed.indices.max { removed[$0] < removed[$1] }!
            XCTAssertEqual(batch.chosen[step], best, "pick \(step)")
            XCTAssertEqual(batch.conditionalScores[step], removed[best], accuracy: 1e-8 * removed[best], "pick \(step)")
            observed.append(grid[best])
        }
        let imse = try VarianceAcquisition.selectBatch(processes: try processes(training), candidates: grid, count: grid.count, batchSize: 1,
                                                       shortlist: grid.count, weights: weights, criterion: .integratedVariance, seed: 5)
        XCTAssertNotEqual(imse.chosen[0], batch.chosen[0], "integrated variance and log-variance pick differently here")
    }

    func testTheBatchConditionsOnItsChosenPoints() throws {
        // The second point of a batch is the largest variance of the GP that has also observed the first
        // (computed here by a new Cholesky factorization on three points), so the batch spreads out.
        let gp = try process(training)
        let batch = try VarianceAcquisition.selectBatch(processes: [gp], candidates: grid, count: grid.count, batchSize: 3, shortlist: grid.count)
        var observed = training
        for step in 0..<3 {
            let refit = try process(observed)
            let variance = try refit.predict(inputs: grid, count: grid.count).variance
            let taken = Set(batch.chosen.prefix(step))
            let best = grid.indices.filter { !taken.contains($0) }.max { variance[$0] < variance[$1] }!
            XCTAssertEqual(batch.chosen[step], best, "point \(step)")
            XCTAssertEqual(batch.conditionalScores[step], variance[best], accuracy: 1e-9 * signal2, "point \(step)")
            observed.append(grid[best])
        }
        XCTAssertEqual(Set(batch.chosen).count, 3)
        XCTAssertTrue(zip(batch.conditionalScores, batch.conditionalScores.dropFirst()).allSatisfy { $0 >= $1 })
        // With a shortlist, the same greedy conditioning among the 40 largest unconditioned scores only.
        let short = try VarianceAcquisition.selectBatch(processes: [gp], candidates: grid, count: grid.count, batchSize: 3, shortlist: 40)
        let unconditioned = grid.map(closedFormVariance)
        let allowed = Set(grid.indices.sorted { unconditioned[$0] > unconditioned[$1] }.prefix(40))
        observed = training
        for step in 0..<3 {
            let variance = try process(observed).predict(inputs: grid, count: grid.count).variance
            let taken = Set(short.chosen.prefix(step))
            let best = allowed.subtracting(taken).max { variance[$0] < variance[$1] }!
            XCTAssertEqual(short.chosen[step], best, "shortlisted point \(step)")
            observed.append(grid[best])
        }
    }

    func testPODScoreIsTheFieldVarianceSummedOverThePoints() throws {
        let family = SyntheticFieldFamily(pointCount: 60)
        let (x, y) = family.samples(30, seed: 4)
        var gpOptions = GaussianProcessOptions()
        gpOptions.restarts = 1
        let model = try PODGaussianProcess.fit(inputs: x, outputs: y, count: 30,
                                               options: PODGaussianProcessOptions(energyTolerance: 1e-8, maxRank: 4, gaussianProcess: gpOptions, threads: 1))
        let (z, _) = family.samples(25, seed: 9)
        let scores = try VarianceAcquisition.scores(processes: model.processes, points: z, count: 25)
        let std = try model.predict(inputs: z, count: 25, includeNoise: false).standardDeviation
        for i in 0..<25 {
            let summed = std[(i * 60)..<((i + 1) * 60)].reduce(0) { $0 + $1 * $1 }
            XCTAssertEqual(scores[i], summed, accuracy: 1e-9 * max(summed, 1e-12), "point \(i)")
        }
        // Weighted to the relative error in physical units behind c = exp(y) − δ: Σ_p (dc/dy)² var y_p / ‖ĉ‖², dc/dy = exp(y).
        let delta = 0.5
        let weights = try VarianceAcquisition.relativeErrorWeights(model: model, points: z, count: 25, transform: .logarithm(offset: delta), chunk: 7)
        let weighted = try VarianceAcquisition.scores(processes: model.processes, points: z, count: 25, weights: weights)
        let mean = try model.predict(inputs: z, count: 25, includeNoise: false).mean
        for i in 0..<25 {
            var numerator = 0.0, norm2 = 0.0
            for j in 0..<60 {
                let y = mean[i * 60 + j], c = exp(y) - delta
                numerator += exp(2 * y) * std[i * 60 + j] * std[i * 60 + j]
                norm2 += c * c
            }
            XCTAssertEqual(weighted[i], numerator / norm2, accuracy: 1e-9 * numerator / norm2, "weighted point \(i)")
        }
        // A discrepancy model: T(ĉ) = offset + mean, the weights taken at that ĉ. A wrong-sized offset is refused.
        let offset = (0..<(25 * 60)).map { 0.3 * sin(Double($0)) }
        let shifted = try VarianceAcquisition.relativeErrorWeights(model: model, points: z, count: 25, transform: .logarithm(offset: delta),
                                                                   latentOffset: offset, chunk: 7)
        let shiftedScores = try VarianceAcquisition.scores(processes: model.processes, points: z, count: 25, weights: shifted)
        for i in 0..<25 {
            var numerator = 0.0, norm2 = 0.0
            for j in 0..<60 {
                let y = mean[i * 60 + j] + offset[i * 60 + j], c = exp(y) - delta
                numerator += exp(2 * y) * std[i * 60 + j] * std[i * 60 + j]
                norm2 += c * c
            }
            XCTAssertEqual(shiftedScores[i], numerator / norm2, accuracy: 1e-9 * numerator / norm2, "shifted point \(i)")
        }
        XCTAssertThrowsError(try VarianceAcquisition.relativeErrorWeights(model: model, points: z, count: 25, transform: .logarithm(offset: delta),
                                                                          latentOffset: [0]))
        // Conditioned on its own training data with its own hyper-parameters, the model is unchanged.
        let same = try model.conditioned(inputs: x, outputs: y, count: 30, threads: 2)
        let a = try model.predict(inputs: z, count: 25), b = try same.predict(inputs: z, count: 25)
        for j in 0..<a.mean.count {
            XCTAssertEqual(a.mean[j], b.mean[j], accuracy: 1e-9 * max(1, abs(a.mean[j])))
            XCTAssertEqual(a.standardDeviation[j], b.standardDeviation[j], accuracy: 1e-9 * max(1e-6, a.standardDeviation[j]))
        }
    }

    func testRejectsImpossibleBatches() throws {
        let gp = try process(training)
        XCTAssertThrowsError(try VarianceAcquisition.selectBatch(processes: [gp], candidates: grid, count: grid.count, batchSize: 202, shortlist: 300))
        XCTAssertThrowsError(try VarianceAcquisition.selectBatch(processes: [gp], candidates: grid, count: grid.count, batchSize: 5, shortlist: 4))
        XCTAssertThrowsError(try VarianceAcquisition.selectBatch(processes: [], candidates: grid, count: grid.count, batchSize: 1, shortlist: 4))
    }
}
