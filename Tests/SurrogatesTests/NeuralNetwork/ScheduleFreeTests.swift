import XCTest
@testable import Surrogates

/// Schedule-free AdamW (Defazio et al. 2024, Algorithm 1) on the quadratic f(w) = ½ Σ a_i (w_i − b_i)²,
/// whose gradient at y is a ⊙ (y − b).
final class ScheduleFreeTests: XCTestCase {
    let a = [2.0, 0.5], b = [1.0, -3.0]

    func gradient(_ y: [Double]) -> [Double] { (0..<2).map { a[$0] * (y[$0] - b[$0]) } }

    /// One step as the optimizer takes it inside an epoch: the network holds y, the gradient is taken there.
    func step(_ optimizer: AdamOptimizer<Double>, _ w: inout [Double]) {
        let g = gradient(w)
        optimizer.step(parameters: &w, gradient: g)
    }

    /// Two steps from w = 0 with ε = 0, λ = 0, lr 0.1, β1 = 0.9, β2 = 0.75, by hand:
    /// step 1: y1 = z1 = x1 = 0, g1 = −a b, v1 = (1 − β2) g1², γ1 = lr sqrt(1 − β2), so
    ///   z2 = −γ1 g1 / sqrt(v1) = lr · sign(a b) = (0.1, −0.1); c2 = γ1²/γ1² = 1: x2 = y2 = z2.
    /// step 2: g2 = a (z2 − b), v2 = β2 v1 + (1 − β2) g2², γ2 = lr sqrt(1 − β2²),
    ///   z3 = z2 − γ2 g2 / sqrt(v2), c3 = γ2²/(γ1² + γ2²) = (1 + β2)/(2 + β2) = 7/11,
    ///   x3 = (4/11) x2 + (7/11) z3, y3 = (1 − β1) z3 + β1 x3.
    func testTwoStepsMatchThePublishedUpdateByHand() throws {
        let layout = try NetworkLayout(widths: [1, 1], activation: .linear)
        let optimizer = AdamOptimizer<Double>(layout: layout, settings: AdamSettings(learningRate: 0.1, beta1: 0.9, beta2: 0.75, epsilon: 0,
                                                                                     scheduleFree: true))
        var w = [0.0, 0.0]
        w.withUnsafeMutableBufferPointer { _ = optimizer.beginEpoch(parameters: $0) }
        XCTAssertEqual(w, [0, 0])
        step(optimizer, &w)
        XCTAssertEqual(w[0], 0.1, accuracy: 1e-15)
        XCTAssertEqual(w[1], -0.1, accuracy: 1e-15)
        step(optimizer, &w)
        // Coordinate 0: g1 = −2, v1 = 1, g2 = 2(0.1 − 1) = −1.8, v2 = 0.75 + 0.25 · 3.24 = 1.56.
        // Coordinate 1: g1 = 1.5, v1 = 0.5625, g2 = 0.5(−0.1 + 3) = 1.45, v2 = 0.421875 + 0.25 · 2.1025 = 0.9475.
        let gamma2 = 0.1 * (1 - 0.75 * 0.75).squareRoot()
        let z3 = [0.1 + gamma2 * 1.8 / 1.56.squareRoot(), -0.1 - gamma2 * 1.45 / 0.9475.squareRoot()]
        let x3 = [4.0 / 11 * 0.1 + 7.0 / 11 * z3[0], 4.0 / 11 * -0.1 + 7.0 / 11 * z3[1]]
        for i in 0..<2 { XCTAssertEqual(w[i], 0.1 * z3[i] + 0.9 * x3[i], accuracy: 1e-14, "y3[\(i)]") }
        // Between epochs the network holds x.
        w.withUnsafeMutableBufferPointer { _ = optimizer.endEpoch(parameters: $0) }
        for i in 0..<2 { XCTAssertEqual(w[i], x3[i], accuracy: 1e-14, "x3[\(i)]") }
        // The next epoch starts again from y = (1 − β1) z + β1 x.
        w.withUnsafeMutableBufferPointer { _ = optimizer.beginEpoch(parameters: $0) }
        for i in 0..<2 { XCTAssertEqual(w[i], 0.1 * z3[i] + 0.9 * x3[i], accuracy: 1e-14, "y3[\(i)] again") }
    }

    /// 60 steps with weight decay, a warm-up factor and ε against the algorithm transcribed line by line
    /// in scalar code here (float64 throughout: equal to rounding).
    func testStepsMatchTheAlgorithmWithDecayAndWarmup() throws {
        let layout = try NetworkLayout(widths: [1, 1], activation: .linear)
        let (lr, beta1, beta2, eps, lambda) = (0.05, 0.9, 0.999, 1e-8, 0.01)
        let optimizer = AdamOptimizer<Double>(layout: layout, settings: AdamSettings(learningRate: lr, beta1: beta1, beta2: beta2, epsilon: eps,
                                                                                     scheduleFree: true))
        optimizer.weightDecay = lambda
        var w = [0.3, 0.7]
        var z = w, x = w, v = [0.0, 0.0], weightSum = 0.0
        w.withUnsafeMutableBufferPointer { _ = optimizer.beginEpoch(parameters: $0) }
        for t in 1...60 {
            let warmup = min(1, Double(t) / 10)
            optimizer.learningRateFactor = warmup
            step(optimizer, &w)
            let y = (0..<2).map { (1 - beta1) * z[$0] + beta1 * x[$0] }
            let g = gradient(y)
            let gamma = lr * warmup * (1 - pow(beta2, Double(t))).squareRoot()
            weightSum += gamma * gamma
            let c = gamma * gamma / weightSum
            for i in 0..<2 {
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                z[i] = z[i] - gamma * g[i] / (v[i].squareRoot() + eps) - gamma * lambda * y[i]
                x[i] = (1 - c) * x[i] + c * z[i]
            }
            for i in 0..<2 { XCTAssertEqual(w[i], (1 - beta1) * z[i] + beta1 * x[i], accuracy: 1e-12, "step \(t), y[\(i)]") }
        }
    }

    /// With a constant rate the average x converges to the minimiser b (4000 steps, lr 0.05, no decay).
    func testConvergesOnAQuadratic() throws {
        let layout = try NetworkLayout(widths: [1, 1], activation: .linear)
        let optimizer = AdamOptimizer<Double>(layout: layout, settings: AdamSettings(learningRate: 0.05, scheduleFree: true))
        var w = [0.0, 0.0]
        w.withUnsafeMutableBufferPointer { _ = optimizer.beginEpoch(parameters: $0) }
        for _ in 0..<4000 { step(optimizer, &w) }
        w.withUnsafeMutableBufferPointer { _ = optimizer.endEpoch(parameters: $0) }
        var loss = 0.0
        for i in 0..<2 { loss += 0.5 * a[i] * (w[i] - b[i]) * (w[i] - b[i]) }
        print("schedule-free on the quadratic: x = \(w), loss \(loss)")
        for i in 0..<2 { XCTAssertEqual(w[i], b[i], accuracy: 1e-6, "x[\(i)]") }   // measured 4e-13
    }
}
