import XCTest
import NumericalFoundations
import Uncertainty
@testable import Surrogates

/// Points in [−1, 1]^d from a seeded Latin hypercube (row-major count × d).
func latinHypercubePoints(_ count: Int, _ d: Int, seed: UInt64) -> [Double] {
    var g = SeededGenerator(seed: seed, stream: 0)
    let lhs = LatinHypercube(count: count, dimensions: d, generator: &g)
    return lhs.unitPoints.map { 2 * $0 - 1 }
}

/// The smooth 6-parameter test function of the brief.
func smoothSixParameterFunction(_ x: ArraySlice<Double>) -> Double {
    let b = x.startIndex
    return sin(x[b]) + 0.5 * x[b + 1] * x[b + 1] + exp(0.3 * x[b + 2]) * x[b + 3] + 0.2 * x[b + 4] * x[b + 5]
}

func relativeL2(_ a: [Double], _ b: [Double]) -> Double {
    let num = zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    let den = b.reduce(0) { $0 + $1 * $1 }
    return (num / den).squareRoot()
}

final class GaussianProcessTests: XCTestCase {
    /// The analytic gradient of the NLML (R&W eq. 5.9) against central differences (step 1e-5 in
    /// each log-parameter), for both kernels, on seeded random data; relative error < 1e-5 per
    /// component (measured ≈ 1e-9 … 1e-8, printed).
    func testLikelihoodGradientMatchesFiniteDifferences() throws {
        let n = 40, d = 3
        var g = SeededGenerator(seed: 11, stream: 0)
        let x = (0..<(n * d)).map { _ in 2 * g.nextUniform() - 1 }
        let y = (0..<n).map { i in sin(2 * x[i * d]) + x[i * d + 1] * x[i * d + 2] + 0.1 * g.nextGaussian() }
        let theta = GaussianProcessHyperparameters(lengthScales: [0.7, 1.3, 2.1], signalStandardDeviation: 1.2, noiseStandardDeviation: 0.15)
        for kernel in CovarianceKernel.allCases {
            let (_, gradient) = try GaussianProcessRegressor.negativeLogMarginalLikelihood(
                inputs: x, targets: y, count: n, dimension: d, kernel: kernel, hyperparameters: theta)
            let h = 1e-5
            var worst = 0.0
            let scale = gradient.reduce(0) { max($0, abs($1)) }
            for j in 0..<(d + 2) {
                var plus = theta.vector, minus = theta.vector
                plus[j] += h; minus[j] -= h
                let fp = try GaussianProcessRegressor.negativeLogMarginalLikelihood(inputs: x, targets: y, count: n, dimension: d, kernel: kernel,
                                                                                   hyperparameters: .init(vector: plus)).value
                let fm = try GaussianProcessRegressor.negativeLogMarginalLikelihood(inputs: x, targets: y, count: n, dimension: d, kernel: kernel,
                                                                                   hyperparameters: .init(vector: minus)).value
                let fd = (fp - fm) / (2 * h)
                let relative = abs(fd - gradient[j]) / max(abs(gradient[j]), 1e-3 * scale)
                worst = max(worst, relative)
                XCTAssertLessThan(relative, 1e-5, "\(kernel) component \(j): analytic \(gradient[j]), finite difference \(fd)")
            }
            print("GP NLML gradient \(kernel.rawValue): worst relative error \(worst)")
        }
    }

    /// The likelihood's reused buffers (`LikelihoodWorkspace`, one per maximisation) hold nothing over:
    /// a sequence of evaluations through one workspace — other θ, a smaller and a larger n, with and
    /// without the gradient, one needing jitter (duplicated inputs) — gives the bits of fresh buffers,
    /// and an evaluation kept while the workspace is reused keeps its own factor.
    func testReusedLikelihoodBuffersGiveTheBitsOfFreshOnes() throws {
        let d = 3
        var g = SeededGenerator(seed: 12, stream: 0)
        let x = (0..<(60 * d)).map { _ in 2 * g.nextUniform() - 1 }
        var duplicated = Array(x.prefix(30 * d))
        duplicated.replaceSubrange(d..<(2 * d), with: duplicated[0..<d])
        let y = (0..<60).map { i in sin(2 * x[i * d]) + x[i * d + 1] * x[i * d + 2] + 0.1 * g.nextGaussian() }
        let thetas = [GaussianProcessHyperparameters(lengthScales: [0.7, 1.3, 2.1], signalStandardDeviation: 1.2, noiseStandardDeviation: 0.15),
                      GaussianProcessHyperparameters(lengthScales: [0.3, 0.5, 4.0], signalStandardDeviation: 0.8, noiseStandardDeviation: 1e-6),
                      // σ_f = 1 and σ_n² below the rounding of 1: two equal rows make the second pivot exactly 0.
                      GaussianProcessHyperparameters(logLengthScales: [0, 0.2, 0.4], logSignalStandardDeviation: 0, logNoiseStandardDeviation: -40)]
        let cases: [(inputs: [Double], n: Int, theta: GaussianProcessHyperparameters, gradient: Bool)] = [
            (x, 60, thetas[0], true), (x, 60, thetas[1], true), (Array(x.prefix(25 * d)), 25, thetas[0], true),
            (duplicated, 30, thetas[2], true), (x, 60, thetas[0], false), (x, 60, thetas[1], true)]
        for kernel in CovarianceKernel.allCases {
            var workspace = LikelihoodWorkspace()
            var kept: (evaluation: LikelihoodEvaluation, fresh: LikelihoodEvaluation)? = nil
            for (index, c) in cases.enumerated() {
                let targets = Array(y.prefix(c.n))
                let reused = try LikelihoodEvaluation.evaluate(inputs: c.inputs, targets: targets, count: c.n, dimension: d, kernel: kernel,
                                                               hyperparameters: c.theta, wantGradient: c.gradient, workspace: &workspace)
                let fresh = try LikelihoodEvaluation.evaluate(inputs: c.inputs, targets: targets, count: c.n, dimension: d, kernel: kernel,
                                                              hyperparameters: c.theta, wantGradient: c.gradient)
                let label = "\(kernel) case \(index)"
                XCTAssertEqual(reused.value.bitPattern, fresh.value.bitPattern, label)
                XCTAssertEqual(reused.gradient.map(\.bitPattern), fresh.gradient.map(\.bitPattern), label)
                XCTAssertEqual(reused.factor.map(\.bitPattern), fresh.factor.map(\.bitPattern), label)
                XCTAssertEqual(reused.alpha.map(\.bitPattern), fresh.alpha.map(\.bitPattern), label)
                XCTAssertEqual(reused.jitter, fresh.jitter, label)
                if index == 3 { XCTAssertGreaterThan(reused.jitter, 0, "duplicated inputs need jitter (\(label))") }
                if index == 0 { kept = (reused, fresh) }
            }
            XCTAssertEqual(kept!.evaluation.factor.map(\.bitPattern), kept!.fresh.factor.map(\.bitPattern), "\(kernel): the kept factor")
        }
    }

    /// f(x) = sin x1 + 0.5 x2² + exp(0.3 x3) x4 + 0.2 x5 x6 on [−1, 1]^6 from 300 Latin-hypercube
    /// points, checked on 200 other points. Measured relative L2 error: printed; tolerances are ≈ 3×
    /// the measured values (see the constants).
    func testSmoothSixParameterFunctionIsInterpolated() throws {
        let n = 300, m = 200, d = 6
        let x = latinHypercubePoints(n, d, seed: 5)
        let z = latinHypercubePoints(m, d, seed: 6)
        let y = (0..<n).map { smoothSixParameterFunction(x[($0 * d)..<($0 * d + d)]) }
        let truth = (0..<m).map { smoothSixParameterFunction(z[($0 * d)..<($0 * d + d)]) }
        for (kernel, tolerance) in [(CovarianceKernel.squaredExponential, GPTolerances.smoothSE), (.matern52, GPTolerances.smoothMatern)] {
            let gp = try GaussianProcessRegressor.fit(inputs: x, targets: y, count: n, dimension: d,
                                                      options: GaussianProcessOptions(kernel: kernel, restarts: 2))
            let prediction = try gp.predict(inputs: z, count: m)
            let error = relativeL2(prediction.mean, truth)
            let report = gp.fitReport!
            print("GP smooth 6-D \(kernel.rawValue): held-out relative L2 \(error), ℓ = \(gp.hyperparameters.lengthScales), "
                  + "σ_n² = \(gp.hyperparameters.noiseVariance), jitter \(gp.jitter), \(report.wallSeconds) s, "
                  + "iterations \(report.restarts.map(\.iterations)), status \(report.restarts.map(\.status))")
            XCTAssertLessThan(error, tolerance, "\(kernel)")
            XCTAssertTrue(prediction.variance.allSatisfy { $0 >= 0 && $0.isFinite })
        }
    }

    /// With fixed hyper-parameters (σ_f = 1, σ_n = 0.1, ℓ = 0.5) on 30 noisy 2-D points: the latent
    /// variance at a training point is below σ_n² (the data pin f there), the variance of a new
    /// observation lies in [σ_n², 2σ_n²], and along a ray leaving the data the latent variance grows
    /// monotonically to σ_f².
    func testPredictiveVarianceIsNoiseAtDataAndGrowsAway() throws {
        let n = 30, d = 2
        var g = SeededGenerator(seed: 9, stream: 0)
        let x = (0..<(n * d)).map { _ in 2 * g.nextUniform() - 1 }
        let y = (0..<n).map { i in cos(x[i * d]) * x[i * d + 1] + 0.1 * g.nextGaussian() }
        let theta = GaussianProcessHyperparameters(lengthScales: [0.5, 0.5], signalStandardDeviation: 1, noiseStandardDeviation: 0.1)
        let gp = try GaussianProcessRegressor(inputs: x, targets: y, count: n, dimension: d, kernel: .squaredExponential,
                                              hyperparameters: theta, standardizeTargets: false)
        let noise = theta.noiseVariance
        let latent = try gp.predict(inputs: x, count: n).variance
        let observed = try gp.predict(inputs: x, count: n, includeNoise: true).variance
        for i in 0..<n {
            XCTAssertLessThanOrEqual(latent[i], noise * (1 + 1e-9))
            XCTAssertGreaterThan(latent[i], 0)
            XCTAssertGreaterThanOrEqual(observed[i], noise)
            XCTAssertLessThanOrEqual(observed[i], 2 * noise * (1 + 1e-9))
        }
        let ray = [1.2, 1.6, 2.2, 3, 5, 10].flatMap { [$0, 0.8 * $0] }
        let far = try gp.predict(inputs: ray, count: 6).variance
        // Strictly increasing while the data still matter, then σ_f² to rounding.
        for k in 1..<4 { XCTAssertGreaterThan(far[k], far[k - 1]) }
        for k in 4..<6 { XCTAssertGreaterThanOrEqual(far[k], far[k - 1]) }
        XCTAssertEqual(far[5], 1, accuracy: 1e-9)
        XCTAssertGreaterThan(far[0], latent.max()!)
    }

    /// The generalised-least-squares prior mean against its closed form. One point at x = −1 (y = 0)
    /// and nine at x = +1 (y = 1), 2 apart with ℓ = 0.1 (correlation e^{−20√5}(…) < 1e-18): K is
    /// block diagonal, [σ_f² + σ_n²] and σ_f² J₉ + σ_n² I₉, so the weights K⁻¹1 sum to
    /// 1/(σ_f² + σ_n²) on the lone point and 9/(9σ_f² + σ_n²) on the cluster, and μ̂ is the cluster's
    /// share of the total (0.50224 with σ_f = 1, σ_n = 0.1, in standardised units — the weights do
    /// not depend on y, so the mean is the same in the targets' units). Far from both (x = 5) the
    /// prediction is μ̂; with the sample mean it is 0.9. At the data, y shrunk toward μ̂ by the noise.
    func testGeneralizedLeastSquaresMeanCountsAClusterAsOnePoint() throws {
        let x = [-1.0] + [Double](repeating: 1, count: 9), y = [0.0] + [Double](repeating: 1, count: 9)
        let theta = GaussianProcessHyperparameters(lengthScales: [0.1], signalStandardDeviation: 1, noiseStandardDeviation: 0.1)
        let s2 = 1.0, n2 = 0.01
        let lone = 1 / (s2 + n2), cluster = 9 / (9 * s2 + n2)
        let expected = cluster / (lone + cluster)
        for kernel in [CovarianceKernel.matern52, .squaredExponential] {
            let gls = try GaussianProcessRegressor(inputs: x, targets: y, count: 10, dimension: 1, kernel: kernel, hyperparameters: theta,
                                                   priorMean: .generalizedLeastSquares)
            let sample = try GaussianProcessRegressor(inputs: x, targets: y, count: 10, dimension: 1, kernel: kernel, hyperparameters: theta)
            XCTAssertEqual(gls.targetMean, expected, accuracy: 1e-12)
            XCTAssertEqual(sample.targetMean, 0.9, accuracy: 1e-15)
            XCTAssertEqual(try gls.predict(inputs: [5], count: 1).mean[0], expected, accuracy: 1e-12)
            XCTAssertEqual(try sample.predict(inputs: [5], count: 1).mean[0], 0.9, accuracy: 1e-12)
            let atData = try gls.predict(inputs: [-1, 1], count: 2).mean
            XCTAssertEqual(atData[0], 0 + 0.01 / 1.01 * expected, accuracy: 1e-12, "the lone point: y shrunk toward μ̂ by σ_n²/(σ_f² + σ_n²)")
            XCTAssertEqual(atData[1], 1 - 0.01 / 9.01 * (1 - expected), accuracy: 1e-12)
            // The variance does not depend on the mean.
            XCTAssertEqual(try gls.predict(inputs: [0.3], count: 1).variance, try sample.predict(inputs: [0.3], count: 1).variance)
        }
    }

    /// Duplicated inputs with zero noise make K singular: the jitter fallback factorizes it and reports it.
    func testJitterFallbackOnSingularCovariance() throws {
        let x = [0.1, 0.2, 0.1, 0.2, -0.5, 0.3]
        let y = [1.0, 1.0, 0.5]
        let theta = GaussianProcessHyperparameters(logLengthScales: [0, 0], logSignalStandardDeviation: 0, logNoiseStandardDeviation: -40)
        let gp = try GaussianProcessRegressor(inputs: x, targets: y, count: 3, dimension: 2, kernel: .matern52, hyperparameters: theta)
        XCTAssertGreaterThan(gp.jitter, 0)
        XCTAssertLessThanOrEqual(gp.jitter, 1e-6)
        let p = try gp.predict(inputs: [0.1, 0.2], count: 1)
        XCTAssertEqual(p.mean[0], 1, accuracy: 1e-4)
    }

    /// Hyper-parameters a line search can propose far outside the bounds — σ_f² or σ_n² beyond the
    /// double range, σ_f² underflowing to 0 — are refused with an error
    /// naming the covariance, after at most the ten rungs of the jitter ladder (a ladder scaled by an
    /// infinite σ_f² once never reached its cap and spun for ever inside a likelihood maximisation).
    func testHyperparametersBeyondTheDoubleRangeAreRefusedNotLoopedOn() throws {
        let x = latinHypercubePoints(12, 2, seed: 5)
        let y = (0..<12).map { sin(3 * x[2 * $0]) + x[2 * $0 + 1] }
        let cases: [(String, GaussianProcessHyperparameters)] = [
            ("σ_f² = ∞", .init(logLengthScales: [0, 0], logSignalStandardDeviation: 400, logNoiseStandardDeviation: -3)),
            ("σ_n² = ∞", .init(logLengthScales: [0, 0], logSignalStandardDeviation: 0, logNoiseStandardDeviation: 400)),
            ("σ_f² = 0", .init(logLengthScales: [0, 0], logSignalStandardDeviation: -400, logNoiseStandardDeviation: -3)),
        ]
        for (name, theta) in cases {
            for kernel in CovarianceKernel.allCases {
                XCTAssertThrowsError(try GaussianProcessRegressor.negativeLogMarginalLikelihood(
                    inputs: x, targets: y, count: 12, dimension: 2, kernel: kernel, hyperparameters: theta), "\(name), \(kernel)") { error in
                    XCTAssertTrue("\(error)".contains("covariance"), "\(name): \(error)")
                }
            }
        }
        // The ladder's rungs are 1e-10·σ_f² × 10^k: duplicated inputs without noise need one of them.
        let duplicated = [0.1, 0.2, 0.1, 0.2, -0.5, 0.3]
        let theta = GaussianProcessHyperparameters(logLengthScales: [0, 0], logSignalStandardDeviation: 1, logNoiseStandardDeviation: -40)
        let gp = try GaussianProcessRegressor(inputs: duplicated, targets: [1, 1, 0.5], count: 3, dimension: 2, kernel: .matern52, hyperparameters: theta)
        var rung = 1e-10 * theta.signalVariance
        while rung < gp.jitter && rung <= 1e-2 * theta.signalVariance { rung *= 10 }
        XCTAssertEqual(gp.jitter, rung, "the jitter \(gp.jitter) is not a rung of the ladder")
    }

    func testBadShapesAreNamed() {
        XCTAssertThrowsError(try GaussianProcessRegressor.fit(inputs: [1, 2, 3], targets: [1, 2], count: 2, dimension: 2)) { error in
            XCTAssertTrue("\(error)".contains("GP training inputs"), "\(error)")
        }
    }
}

/// Tolerances of the GP interpolation test, ≈ 3× the measured held-out relative L2 errors
/// (measured with OpenBLAS 1 and 2 threads on this machine: SE 3.4e-4, Matérn-5/2 1.45e-3).
enum GPTolerances {
    static let smoothSE = 1e-3
    static let smoothMatern = 4.5e-3
}
