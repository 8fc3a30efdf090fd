import XCTest
import NumericalFoundations
@testable import Surrogates

/// The 8-lane kernels and the C Adam kernel against one-element-at-a-time Swift references. Lane-wise +, −, ×, ÷ and sqrt are
/// correctly rounded IEEE operations, so everything but the sums must agree *exactly*; lengths of
/// 19 run two vector iterations and a scalar remainder of 3.
final class KernelTests: XCTestCase {
    private func values<T: NetworkScalar>(_ count: Int, seed: UInt64, as: T.Type) -> [T] {
        var g = SeededGenerator(seed: seed, stream: 0)
        return (0..<count).map { _ in T(2 * g.nextGaussian()) }
    }

    private func checkActivations<T: NetworkScalar>(_ type: T.Type) {
        let n = 19
        let z = values(n, seed: 1, as: T.self), bias = values(n, seed: 2, as: T.self)
        let delta0 = values(n, seed: 3, as: T.self)
        for activation in Activation.allCases {
            var row = z
            Kernels.biasAndActivation(&row, bias: bias, count: n, activation: activation)
            let expected: [T] = zip(z, bias).map { zz, bb in
                let x = zz + bb
                switch activation {
                case .softsign: return x / (1 + x.magnitude)
                case .tanh: return T.hyperbolicTangent(x)
                case .relu: return x > 0 ? x : 0
                case .linear: return x
                }
            }
            XCTAssertEqual(row, expected, "\(T.self) \(activation) forward")
            var delta = delta0
            Kernels.multiplyByDerivative(&delta, output: row, range: 0..<n, activation: activation)
            let expectedDelta: [T] = zip(delta0, row).map { d, a in
                switch activation {
                case .softsign: let s = 1 - a.magnitude; return d * (s * s)
                case .tanh: return d * (1 - a * a)
                case .relu: return a > 0 ? d : 0
                case .linear: return d
                }
            }
            XCTAssertEqual(delta, expectedDelta, "\(T.self) \(activation) derivative")
            // A sub-range leaves the rest alone.
            var partial = delta0
            Kernels.multiplyByDerivative(&partial, output: row, range: 5..<16, activation: activation)
            XCTAssertEqual(Array(partial[0..<5]) + Array(partial[16...]), Array(delta0[0..<5]) + Array(delta0[16...]))
            XCTAssertEqual(Array(partial[5..<16]), Array(expectedDelta[5..<16]))
        }
    }

    func testActivationKernels() {
        checkActivations(Float.self)
        checkActivations(Double.self)
    }

    private func checkAdam<T: NetworkScalar>(_ type: T.Type) {
        let n = 19
        let w0 = values(n, seed: 4, as: T.self), g = values(n, seed: 5, as: T.self)
        let m0 = values(n, seed: 6, as: T.self), v0 = values(n, seed: 7, as: T.self).map { $0 * $0 }
        var w = w0, m = m0, v = v0
        let (alpha, b1, b2, eps): (T, T, T, T) = (0.01, 0.1, 0.001, 1e-7)
        T.adamUpdate(w: &w, g: g, m: &m, v: &v, count: n, alpha: alpha, oneMinusBeta1: b1, oneMinusBeta2: b2, epsilon: eps)
        for i in 0..<n {
            let mi = m0[i] + (g[i] - m0[i]) * b1
            let vi = v0[i] + (g[i] * g[i] - v0[i]) * b2
            XCTAssertEqual(m[i], mi)
            XCTAssertEqual(v[i], vi)
            XCTAssertEqual(w[i], w0[i] - alpha * mi / (vi.squareRoot() + eps), "\(T.self) element \(i)")
        }
    }

    func testAdamKernel() {
        checkAdam(Float.self)
        checkAdam(Double.self)
    }

    private func checkSquaredErrors<T: NetworkScalar>(_ type: T.Type) {
        let n = 19
        let a = values(n, seed: 8, as: T.self), y = values(n, seed: 9, as: T.self)
        let weights = values(n, seed: 10, as: Double.self).map { $0 * $0 }
        var d = [T](repeating: 0, count: n)
        let withDelta = Kernels.squaredErrorDelta(a: a, y: y, d: &d, weights: weights, count: n, scale: T(0.25))
        XCTAssertEqual(d, zip(a, y).map { T(0.25) * ($0 - $1) })
        let (plain, weighted) = Kernels.squaredErrors(a: a, y: y, weights: weights, count: n)
        // The same products in the same lanes and order: identical sums.
        XCTAssertEqual(withDelta.plain, plain)
        XCTAssertEqual(withDelta.weighted, weighted)
        var exactPlain = 0.0, exactWeighted = 0.0
        for i in 0..<n {
            let e = Double(a[i] - y[i])
            exactPlain += e * e
            exactWeighted += weights[i] * e * e
        }
        // Same terms summed in another order: a few ulps of the sum.
        XCTAssertEqual(plain, exactPlain, accuracy: 1e-13 * exactPlain)
        XCTAssertEqual(weighted, exactWeighted, accuracy: 1e-13 * exactWeighted)
    }

    func testSquaredErrorKernels() {
        checkSquaredErrors(Float.self)
        checkSquaredErrors(Double.self)
    }
}
