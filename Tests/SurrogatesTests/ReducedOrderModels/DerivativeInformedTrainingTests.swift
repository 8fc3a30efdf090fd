import XCTest
import Foundation
import NumericalFoundations
@testable import Surrogates

/// The derivative-informed (Sobolev) loss of POD-NN and the chain rule that feeds it.
final class DerivativeInformedTrainingTests: XCTestCase {
    /// A small tanh network, a batch with random targets and Jacobians, one sample without Jacobian.
    private func smallProblem() -> (network: Network<Double>, inputs: [Double], targets: [Double], jacobians: [Double], available: [Bool]) {
        let layout = try! NetworkLayout(widths: [3, 6, 5, 2], activation: .tanh)
        let network = Network<Double>(layout: layout, seed: 11)
        var g = SeededGenerator(seed: 3)
        for i in 0..<network.parameters.count { network.parameters[i] += 0.1 * (2 * g.nextUniform() - 1) }  // non-zero biases too
        let n = 5
        let inputs = (0..<(n * 3)).map { _ in 2 * g.nextUniform() - 1 }
        let targets = (0..<(n * 2)).map { _ in 2 * g.nextUniform() - 1 }
        let jacobians = (0..<(n * 2 * 3)).map { _ in 2 * g.nextUniform() - 1 }
        return (network, inputs, targets, jacobians, [true, true, false, true, true])
    }

    private func lossValue(_ loss: DerivativeInformedLoss, _ p: (network: Network<Double>, inputs: [Double], targets: [Double], jacobians: [Double], available: [Bool])) -> Double {
        let sums = loss.evaluate(batch: [0, 1, 2, 3, 4][...], inputs: p.inputs, targets: p.targets, jacobians: p.jacobians,
                                 hasJacobian: p.available, threads: 1)
        return loss.loss(sums, batchSize: 5)
    }

    /// The weight gradient is the exact gradient of the loss (with unequal output weights ω_k): against central differences in every
    /// parameter (step 1e-5; truncation ~1e-10, rounding ~1e-13/1e-3/1e-5 ≈ 1e-8 of the loss scale),
    /// to 1e-6 of the largest gradient entry.
    func testWeightGradientMatchesCentralDifferences() {
        let problem = smallProblem()
        let loss = DerivativeInformedLoss(network: problem.network, capacity: 5, step: 1e-3, weight: 0.7, outputWeights: [0.3, 1.7])
        _ = lossValue(loss, problem)
        let gradient = Array(loss.gradient)
        let largest = gradient.map(abs).max()!
        XCTAssertGreaterThan(largest, 1e-3)
        var worst = 0.0
        for i in 0..<gradient.count {
            let saved = problem.network.parameters[i], h = 1e-5
            problem.network.parameters[i] = saved + h
            let up = lossValue(loss, problem)
            problem.network.parameters[i] = saved - h
            let down = lossValue(loss, problem)
            problem.network.parameters[i] = saved
            worst = max(worst, abs((up - down) / (2 * h) - gradient[i]))
        }
        print("derivative-informed loss: weight gradient vs central differences, worst |Δ| \(worst) (largest entry \(largest))")
        XCTAssertLessThan(worst, 1e-6 * largest)
    }

    /// The loss's difference quotients D_j f are the network's input Jacobian to O(h²): with the
    /// exact forward-mode Jacobian (`NetworkLinearization`, the input tangent as a first-layer bias
    /// tangent) and the network's own values as targets the loss is ≤ (2e-6)² per entry at h = 1e-3
    /// (h²/6 |f'''| with |f'''| of order 1 for these weights).
    func testDifferenceQuotientsMatchTheForwardModeJacobian() throws {
        var problem = smallProblem()
        let network = problem.network, d = 3, r = 2, n = 5
        problem.targets = network.predict(problem.inputs, rows: n)
        problem.available = Array(repeating: true, count: n)
        for i in 0..<n {
            let linearization = try NetworkLinearization(network: network, inputs: Array(problem.inputs[(i * d)..<((i + 1) * d)]), rows: 1)
            linearization.evaluate()
            let first = network.layerParameters(0), nOut = network.layout.outputs(ofLayer: 0)
            for j in 0..<d {
                var tangent = [Double](repeating: 0, count: linearization.parameterCount)
                for m in 0..<nOut { tangent[d * nOut + m] = first[m * d + j] }
                var column = [Double](repeating: 0, count: r)
                tangent.withUnsafeBufferPointer { v in column.withUnsafeMutableBufferPointer { linearization.applyJacobian(v.baseAddress!, into: $0.baseAddress!) } }
                for k in 0..<r { problem.jacobians[(i * r + k) * d + j] = column[k] }
            }
        }
        let loss = DerivativeInformedLoss(network: network, capacity: n, step: 1e-3, weight: 1)
        let sums = loss.evaluate(batch: Array(0..<n)[...], inputs: problem.inputs, targets: problem.targets, jacobians: problem.jacobians,
                                 hasJacobian: problem.available, threads: 1)
        let rms = (sums.derivatives / Double(n * r * d)).squareRoot()
        print("derivative-informed loss: RMS of D_j f − exact Jacobian at h = 1e-3: \(rms); value residual \(sums.values)")
        XCTAssertEqual(sums.values, 0)
        XCTAssertLessThan(rms, 2e-6)
    }

    /// The projected Jacobians are the derivatives of the standardised POD coefficients
    /// (c(μ) − m)/s: Φᵀ ∂y/∂μ / s against central differences of the projection (step 1e-5), 1e-7.
    func testProjectedJacobiansAreTheCoefficientDerivatives() throws {
        let family = SyntheticFieldFamily(pointCount: 120)
        let train = family.samples(40, seed: 5)
        let pod = try ProperOrthogonalDecomposition(fields: train.outputs, count: 40, pointCount: 120, energyTolerance: 1e-12, maxRank: 5)
        let scale = (0..<pod.rank).map { 0.5 + Double($0) }
        let mu = Array(train.inputs[0..<6])
        let jacobians = FieldJacobians(values: family.jacobian(mu[...]), available: [true])
        let projected = try PODNeuralNetwork.coefficientJacobians(jacobians, pod: pod, scale: scale, count: 1, inputWidth: 6)
        var worst = 0.0
        for j in 0..<6 {
            var up = mu, down = mu
            up[j] += 1e-5; down[j] -= 1e-5
            let cu = try pod.coefficients(of: family.field(up[...]), count: 1), cd = try pod.coefficients(of: family.field(down[...]), count: 1)
            for k in 0..<pod.rank { worst = max(worst, abs((cu[k] - cd[k]) / 2e-5 / scale[k] - projected[k * 6 + j])) }
        }
        XCTAssertLessThan(worst, 1e-7)
        XCTAssertThrowsError(try PODNeuralNetwork.coefficientJacobians(FieldJacobians(values: [1, 2], available: [true]), pod: pod, scale: scale,
                                                                       count: 1, inputWidth: 6))
    }

    /// dθ/dx of the input scaling (linear and log inputs) against central differences of the inverse
    /// of `scale`, 1e-8 relative.
    func testParameterPerScaledInputIsTheInverseSlope() throws {
        let box = try InputScaler(lower: [1, 0.01, -0.2], upper: [20, 2, 0.2])
        let features = try InputFeatures(box: box, logarithmic: [true, true, false])
        for (j, x) in [(0, 7.3), (1, 0.05), (2, 0.11)] {
            let h = 1e-6 * x
            let slope = (features.scale(x + h, column: j) - features.scale(x - h, column: j)) / (2 * h)
            XCTAssertEqual(features.parameterPerScaledInput(x, column: j), 1 / slope, accuracy: 1e-8 / slope)
        }
    }

    /// The few-mode family from 30 samples: POD-NN with the derivative term (w = 1) learns the
    /// fields and their parameter Jacobians better than the same fit without it (same network, seed,
    /// epochs and samples), and within the stated tolerances. Errors on 50 held-out samples; the
    /// model's Jacobian by central differences of its prediction (step 1e-4, error ~1e-8).
    func testDerivativeTermRecoversTheMapAndItsGradientBetter() throws {
        let family = SyntheticFieldFamily(pointCount: 120)
        let train = family.samples(30, seed: 31), validation = family.samples(10, seed: 33), test = family.samples(50, seed: 32)
        var errors: [(field: Double, jacobian: Double)] = []
        for weight in [0.0, 1.0] {
            var options = PODNeuralNetworkOptions(energyTolerance: 1e-10, maxRank: 10, hidden: [32, 32], activation: .tanh, epochs: 1500,
                                                  learningRate: 3e-3, batchSize: 10, seed: 4, patience: nil, threads: 1)
            options.derivativeWeight = weight
            let model = try PODNeuralNetwork.fit(inputs: train.inputs, outputs: train.outputs, count: 30,
                                                 validationInputs: validation.inputs, validationOutputs: validation.outputs, validationCount: 10,
                                                 jacobians: FieldJacobians(values: family.jacobians(train.inputs, count: 30), available: Array(repeating: true, count: 30)),
                                                 options: options)
            let field = relativeL2(try model.predict(inputs: test.inputs, count: 50), test.outputs)
            let truth = family.jacobians(test.inputs, count: 50)
            var predicted = [Double](repeating: 0, count: truth.count)
            for j in 0..<6 {
                var up = test.inputs, down = test.inputs
                for i in 0..<50 { up[i * 6 + j] += 1e-4; down[i * 6 + j] -= 1e-4 }
                let fu = try model.predict(inputs: up, count: 50), fd = try model.predict(inputs: down, count: 50)
                for q in 0..<(50 * 120) { predicted[q * 6 + j] = (fu[q] - fd[q]) / 2e-4 }
            }
            errors.append((field, relativeL2(predicted, truth)))
            print("POD-NN on 30 samples, derivative weight \(weight): held-out field relative L2 \(field), Jacobian relative L2 \(relativeL2(predicted, truth))")
        }
        XCTAssertLessThan(errors[1].field, errors[0].field)
        XCTAssertLessThan(errors[1].jacobian, errors[0].jacobian)
        XCTAssertLessThan(errors[1].field, DerivativeTolerances.field)
        XCTAssertLessThan(errors[1].jacobian, DerivativeTolerances.jacobian)
    }
}

extension GradientEnhancedGaussianProcessTests {
    /// POD-GP with its two leading coefficients gradient-enhanced on the few-mode family: more
    /// accurate on held-out samples than its own plain GPs, and saved / loaded bit for bit (the
    /// enhanced modes and their weights come back from rom.json and the arrays); the modes predicted
    /// on several threads give the same bits.
    func testPODGaussianProcessWithGradientModesRoundTrips() throws {
        let family = SyntheticFieldFamily(pointCount: 60)
        let train = family.samples(30, seed: 51), test = family.samples(40, seed: 52)
        var options = PODGaussianProcessOptions(energyTolerance: 1e-10, maxRank: 6, gaussianProcess: GaussianProcessOptions(restarts: 1), threads: 1)
        options.gradientModes = 2
        let jacobians = FieldJacobians(values: family.jacobians(train.inputs, count: 30), available: Array(repeating: true, count: 30))
        let model = try PODGaussianProcess.fit(inputs: train.inputs, outputs: train.outputs, count: 30, options: options, jacobians: jacobians)
        XCTAssertEqual(model.gradientEnhanced.count, 2)
        let plain = try PODGaussianProcess(pod: model.pod, processes: model.processes)
        let enhancedError = relativeL2(try model.predictMean(inputs: test.inputs, count: 40), test.outputs)
        let plainError = relativeL2(try plain.predictMean(inputs: test.inputs, count: 40), test.outputs)
        print("POD-GP on 30 samples of the few-mode family: held-out relative L2 plain \(plainError), two modes gradient-enhanced \(enhancedError)")
        XCTAssertLessThan(enhancedError, plainError)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pod-gp-gradient-\(UUID().uuidString)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try model.save(to: folder)
        let loaded = try PODGaussianProcess.load(from: folder)
        XCTAssertEqual(loaded.gradientEnhanced.count, 2)
        XCTAssertEqual(try loaded.predictMean(inputs: test.inputs, count: 40), try model.predictMean(inputs: test.inputs, count: 40))
        // The modes on two threads: the same bits, means and variances, enhanced modes included.
        let one = try model.predict(inputs: test.inputs, count: 40), two = try model.predict(inputs: test.inputs, count: 40, threads: 2)
        XCTAssertEqual(one.mean, two.mean)
        XCTAssertEqual(one.standardDeviation, two.standardDeviation)
        XCTAssertEqual(try model.predictMean(inputs: test.inputs, count: 40, threads: 3), one.mean)
        XCTAssertThrowsError(try PODGaussianProcess.fit(inputs: train.inputs, outputs: train.outputs, count: 30, options: options)) {
            XCTAssertTrue("\($0)".contains("Jacobians"), "\($0)")
        }
    }
}

/// Held-out errors of the derivative-informed models, tolerances ≈ 3× the measured values:
/// POD-NN on the few-mode family from 30 samples, field 7.0e-3 and Jacobian 8.4e-2 relative L2
/// (without the derivative term 5.7e-2 and 0.50); the gradient-enhanced GP on 60 samples 4.9e-3
/// (plain GP 4.2e-2), and the posterior mean's slope at a training point within 1.4e-6 of the
/// observed gradient (noise share 1e-10 of the prior; the bound allows for the difference step).
enum DerivativeTolerances {
    static let field = 3e-2
    static let jacobian = 0.3
    static let gradientEnhancedGP = 1.5e-2
    static let observedGradient = 1e-4
}

/// The gradient-enhanced GP: its covariance blocks and its gain over the plain GP.
final class GradientEnhancedGaussianProcessTests: XCTestCase {
    /// The value–gradient and gradient–gradient blocks are the kernel's derivatives: against central
    /// differences of k (step 1e-4: truncation ~1e-8, rounding of the mixed difference ε/h² ~1e-8),
    /// for both kernels, to 1e-6.
    func testCovarianceBlocksAreTheKernelDerivatives() {
        let d = 3
        let x: [Double] = [0.1, -0.4, 0.7, 0.5, 0.2, -0.3]
        let w = [1.0 / 0.49, 1.0 / 1.44, 1.0 / 0.81], s2 = 1.7
        for kernel in CovarianceKernel.allCases {
            func k(_ a: [Double], _ b: [Double]) -> Double {
                var r2 = 0.0
                for m in 0..<d { r2 += (a[m] - b[m]) * (a[m] - b[m]) * w[m] }
                return s2 * kernel.correlation(r2)
            }
            let order = 2 + 2 * d
            var joint = [Double](repeating: 0, count: order * order)
            x.withUnsafeBufferPointer { xb in
                joint.withUnsafeMutableBufferPointer {
                    GradientEnhancedGaussianProcess.fillJointCovariance(xb.baseAddress!, count: 2, gradientRows: [0, 1], dimension: d, kernel: kernel,
                                                                        inverseSquaredLengthScales: w, signalVariance: s2, into: $0.baseAddress!)
                }
            }
            let xa = Array(x[0..<3]), xb = Array(x[3..<6]), h = 1e-4
            var worst = 0.0
            for j in 0..<d {
                var up = xb, down = xb
                up[j] += h; down[j] -= h
                // cov(f(x_a), ∂_j f(x_b)) = ∂k(x_a, x_b)/∂x_b,j: row 0, column 2 + d + j (the gradients of row 1).
                worst = max(worst, abs((k(xa, up) - k(xa, down)) / (2 * h) - joint[0 * order + 2 + d + j]))
                for i in 0..<d {
                    var aUp = xa, aDown = xa
                    aUp[i] += h; aDown[i] -= h
                    let mixed = (k(aUp, up) - k(aUp, down) - k(aDown, up) + k(aDown, down)) / (4 * h * h)
                    worst = max(worst, abs(mixed - joint[(2 + i) * order + 2 + d + j]))
                }
            }
            XCTAssertLessThan(worst, 1e-6, "\(kernel)")
            XCTAssertEqual(joint[2 * order + 2], s2 * kernel.lengthScaleDerivativeFactor(0) * w[0], accuracy: 1e-14)
            XCTAssertEqual(joint[2 * order + 3], 0, accuracy: 1e-14)
        }
    }

    /// A smooth 6-parameter function from 60 samples: with its gradients (hyper-parameters of the
    /// plain fit) the held-out error is smaller than half the plain GP's and below the stated
    /// tolerance, and the posterior mean's gradient at a training point reproduces the observed one.
    /// (With 25 samples the plain fit switches inputs off, ℓ → 1e3, and the gradients along them then
    /// barely inform the prior: 0.249 → 0.229 measured. The hyper-parameters limit the method.)
    func testGradientsLowerTheHeldOutError() throws {
        func f(_ x: ArraySlice<Double>) -> Double {
            let b = x.startIndex
            return sin(2 * x[b]) + 0.5 * x[b + 1] * x[b + 1] + exp(0.5 * x[b + 2]) * x[b + 3] + 0.3 * x[b + 4] * x[b + 5]
        }
        func gradient(_ x: ArraySlice<Double>) -> [Double] {
            let b = x.startIndex, e = exp(0.5 * x[b + 2])
            return [2 * cos(2 * x[b]), x[b + 1], 0.5 * e * x[b + 3], e, 0.3 * x[b + 5], 0.3 * x[b + 4]]
        }
        let n = 60, d = 6
        let x = latinHypercubePoints(n, d, seed: 41), z = latinHypercubePoints(200, d, seed: 42)
        let y = (0..<n).map { f(x[($0 * d)..<($0 * d + d)]) }
        let g = (0..<n).flatMap { gradient(x[($0 * d)..<($0 * d + d)]) }
        let truth = (0..<200).map { f(z[($0 * d)..<($0 * d + d)]) }
        let plain = try GaussianProcessRegressor.fit(inputs: x, targets: y, count: n, dimension: d, options: GaussianProcessOptions(restarts: 2))
        let enhanced = try GradientEnhancedGaussianProcess.fit(base: plain, targets: y, gradients: g, available: Array(repeating: true, count: n))
        let plainError = relativeL2(try plain.predict(inputs: z, count: 200, meanOnly: true).mean, truth)
        let enhancedError = relativeL2(try enhanced.predictMean(inputs: z, count: 200), truth)
        print("GP on 60 samples of a smooth 6-parameter function: held-out relative L2 plain \(plainError), gradient-enhanced \(enhancedError); ℓ \(plain.hyperparameters.lengthScales), σ_f² \(plain.hyperparameters.signalVariance), σ_n² \(plain.hyperparameters.noiseVariance)")
        XCTAssertLessThan(enhancedError, 0.5 * plainError)
        XCTAssertLessThan(enhancedError, DerivativeTolerances.gradientEnhancedGP)
        var worst = 0.0
        for j in 0..<d {
            var up = Array(x[0..<d]), down = up
            up[j] += 1e-5; down[j] -= 1e-5
            let slope = (try enhanced.predictMean(inputs: up, count: 1)[0] - enhanced.predictMean(inputs: down, count: 1)[0]) / 2e-5
            worst = max(worst, abs(slope - g[j]))
        }
        print("gradient-enhanced GP: worst |∂mean/∂x − observed gradient| at a training point \(worst)")
        XCTAssertLessThan(worst, DerivativeTolerances.observedGradient)
    }
}
