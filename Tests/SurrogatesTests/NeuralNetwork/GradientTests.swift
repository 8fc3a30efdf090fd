import XCTest
import NumericalFoundations
@testable import Surrogates
import Pipeline

/// Back-propagation against central finite differences, in float64, for every layer and every
/// activation. Parameters (biases included) are random and non-zero so that no term vanishes.
final class GradientTests: XCTestCase {
    /// Loss L(θ) = MSE over the batch, the quantity whose gradient `backward` computes.
    private func loss(_ network: Network<Double>, _ x: [Double], _ y: [Double], rows: Int, _ ws: NetworkWorkspace<Double>) -> Double {
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeBufferPointer { yb in
                network.forward(xb.baseAddress!, rows: rows, workspace: ws, threads: 1)
                let p = network.layout.outputWidth
                let ones = [Double](repeating: 1, count: p)
                let s = network.setMeanSquaredErrorDelta(rows: rows, workspace: ws, threads: 1, weights: ones) { r in yb.baseAddress! + r * p }
                return s.plain / Double(rows * p)
            }
        }
    }

    private func checkGradient(activation: Activation) throws {
        // Widths of 11, 9 and 10 run both the 8-lane vector loops and their scalar remainders.
        let layout = try NetworkLayout(widths: [3, 11, 9, 10], activation: activation)
        let network = Network<Double>(layout: layout)
        var g = SeededGenerator(seed: 11, stream: 0)
        for i in 0..<network.parameters.count { network.parameters[i] = 0.6 * g.nextGaussian() }
        let rows = 4
        let x = (0..<(rows * 3)).map { _ in 2 * g.nextUniform() - 1 }
        let y = (0..<(rows * 10)).map { _ in g.nextGaussian() }
        let ws = NetworkWorkspace<Double>(layout: layout, rows: rows, deltaRows: rows)

        let base = loss(network, x, y, rows: rows, ws)
        // relu: the finite difference must not straddle a kink. Checked directly below: every
        // perturbed evaluation must keep the sign pattern of all hidden pre-activations.
        func signPattern() -> [Bool] {
            (0..<(layout.layerCount - 1)).flatMap { network.predictHiddenPreactivations(x, rows: rows, layer: $0).map { $0 > 0 } }
        }
        let basePattern = activation == .relu ? signPattern() : []
        var gradient = [Double](repeating: 0, count: layout.parameterCount)
        _ = loss(network, x, y, rows: rows, ws)
        x.withUnsafeBufferPointer { xb in
            network.backward(xb.baseAddress!, rows: rows, workspace: ws, gradient: &gradient, threads: 1)
        }
        // h = 1e-5: truncation error of the central difference ~h²·|L'''| ≈ 1e-10, round-off
        // ~ε·|L|/h ≈ 1e-11, both far below the 1e-6 asked for.
        let h = 1e-5
        for layer in 0..<layout.layerCount {
            let offset = layout.parameterOffset(ofLayer: layer)
            var differenceNorm = 0.0, gradientNorm = 0.0
            for i in offset..<(offset + layout.parameterCount(ofLayer: layer)) {
                let saved = network.parameters[i]
                network.parameters[i] = saved + h
                let plus = loss(network, x, y, rows: rows, ws)
                if activation == .relu { XCTAssertEqual(signPattern(), basePattern, "relu kink crossed by +h on parameter \(i)") }
                network.parameters[i] = saved - h
                let minus = loss(network, x, y, rows: rows, ws)
                if activation == .relu { XCTAssertEqual(signPattern(), basePattern, "relu kink crossed by −h on parameter \(i)") }
                network.parameters[i] = saved
                let fd = (plus - minus) / (2 * h)
                differenceNorm += (fd - gradient[i]) * (fd - gradient[i])
                gradientNorm += gradient[i] * gradient[i]
            }
            let relative = (differenceNorm / gradientNorm).squareRoot()
            XCTAssertGreaterThan(gradientNorm, 1e-8, "\(activation) layer \(layer): gradient vanished, the check would be vacuous")
            XCTAssertLessThan(relative, 1e-6, "\(activation) layer \(layer): relative gradient error \(relative)")
        }
        XCTAssertGreaterThan(base, 0)
    }

    func testSoftsignGradients() throws { try checkGradient(activation: .softsign) }
    func testTanhGradients() throws { try checkGradient(activation: .tanh) }
    func testReluGradients() throws { try checkGradient(activation: .relu) }
    func testLinearGradients() throws { try checkGradient(activation: .linear) }

    /// The forward pass against a direct evaluation of a_ℓ = σ(W_ℓ a_{ℓ−1} + b_ℓ) with the
    /// activations' scalar definitions (checks the layout: weights row-major outputs × inputs, then bias).
    func testForwardMatchesDirectEvaluation() throws {
        for activation in Activation.allCases {
            let layout = try NetworkLayout(widths: [2, 3, 2], activation: activation)
            let network = Network<Double>(layout: layout)
            var g = SeededGenerator(seed: 5, stream: 0)
            for i in 0..<network.parameters.count { network.parameters[i] = g.nextGaussian() }
            let x = [0.3, -0.7, 0.9, 0.1]
            let out = network.predict(x, rows: 2)
            let p = Array(network.parameters)
            for r in 0..<2 {
                var hidden = [Double](repeating: 0, count: 3)
                for i in 0..<3 { hidden[i] = activation.value(p[i * 2] * x[r * 2] + p[i * 2 + 1] * x[r * 2 + 1] + p[6 + i]) }
                for k in 0..<2 {
                    let expected = p[9 + k * 3] * hidden[0] + p[9 + k * 3 + 1] * hidden[1] + p[9 + k * 3 + 2] * hidden[2] + p[15 + k]
                    // Same operations in another order: agreement to a few ulps of O(1) values.
                    XCTAssertEqual(out[r * 2 + k], expected, accuracy: 1e-14, "\(activation) row \(r) output \(k)")
                }
            }
        }
    }

    /// Float32 and float64 networks with the same (rounded) parameters agree to float32 accuracy.
    func testFloatForwardAgreesWithDouble() throws {
        let layout = try NetworkLayout(widths: [6, 40, 200, 30], activation: .softsign)
        let n64 = Network<Double>(layout: layout, seed: 3)
        let n32 = Network<Float>(layout: layout, seed: 3)
        XCTAssertEqual(Array(n32.parameters), n64.parameters.map { Float($0) }, "Glorot init must give the same values in both precisions")
        let x = SyntheticRegression(inputWidth: 6, outputWidth: 1, seed: 1).inputs(count: 20, seed: 2, stream: 0)
        let y64 = n64.predict(x, rows: 20), y32 = n32.predict(x.map { Float($0) }, rows: 20)
        let worst = zip(y64, y32).map { abs($0 - Double($1)) }.max()!
        // Sums of ~200 terms of unit order in float32: errors of order 200·6e-8 ≈ 1e-5 at most.
        XCTAssertLessThan(worst, 1e-4)
    }

    /// Glorot-uniform bounds and moments: |w| ≤ sqrt(6/(fan_in+fan_out)), mean ≈ 0, variance ≈ r²/3.
    func testGlorotUniformInitialisation() throws {
        let layout = try NetworkLayout(widths: [200, 1000, 5], activation: .softsign)
        let network = Network<Double>(layout: layout, seed: 9)
        let w = Array(network.layerParameters(0).prefix(layout.weightCount(ofLayer: 0)))
        let r = (6.0 / 1200).squareRoot()
        XCTAssertLessThanOrEqual(w.map(abs).max()!, r)
        let mean = w.reduce(0, +) / Double(w.count)
        let variance = w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(w.count)
        // 200 000 draws: standard error of the mean r/sqrt(3·2e5) ≈ 1.6e-4 → 5σ bound 8e-4;
        // of the variance ≈ (r²/3)·sqrt(0.8/2e5) ≈ 0.2 % → 1 % bound.
        XCTAssertEqual(mean, 0, accuracy: 8e-4)
        XCTAssertEqual(variance / (r * r / 3), 1, accuracy: 0.01)
        XCTAssertTrue(network.layerParameters(0).suffix(1000).allSatisfy { $0 == 0 }, "biases start at zero")
        XCTAssertNotEqual(Array(network.layerParameters(1)), Array(Network<Double>(layout: layout, seed: 10).layerParameters(1)))
    }
}

extension Network where Scalar == Double {
    /// Pre-activations z of hidden layer `layer` (test helper, by direct evaluation).
    func predictHiddenPreactivations(_ x: [Double], rows: Int, layer: Int) -> [Double] {
        var a = x
        var z: [Double] = []
        for l in 0...layer {
            let nIn = layout.inputs(ofLayer: l), nOut = layout.outputs(ofLayer: l)
            let p = Array(layerParameters(l))
            z = (0..<(rows * nOut)).map { idx in
                let r = idx / nOut, i = idx % nOut
                return (0..<nIn).reduce(p[nOut * nIn + i]) { $0 + p[i * nIn + $1] * a[r * nIn + $1] }
            }
            a = z.map { layout.activation.value($0) }
        }
        return z
    }
}
