import XCTest
import NumericalFoundations
@testable import Surrogates

/// `NetworkLinearization` against independent references: J v against central differences of the
/// forward pass, and Jᵀ u against J v through the adjoint identity ⟨J v, u⟩ = ⟨v, Jᵀ u⟩.
final class NetworkLinearizationTests: XCTestCase {
    struct Setup {
        let network: Network<Double>
        let inputs: [Double]
        let rows: Int
        let linearization: NetworkLinearization
    }

    func setup(_ activation: Activation, seed: UInt64) throws -> Setup {
        let layout = try NetworkLayout(widths: [3, 7, 5, 4], activation: activation)
        let network = Network<Double>(layout: layout, seed: seed)
        var generator = SeededGenerator(seed: seed, stream: 0)
        let rows = 6
        let inputs = (0..<(rows * 3)).map { _ in generator.nextUniform() * 2 - 1 }
        // Biases off zero, so that every parameter's derivative is exercised away from symmetry.
        for i in 0..<network.parameters.count { network.parameters[i] += 0.1 * (generator.nextUniform() - 0.5) }
        return Setup(network: network, inputs: inputs, rows: rows,
                     linearization: try NetworkLinearization(network: network, inputs: inputs, rows: rows))
    }

    func outputs(_ s: Setup) -> [Double] { Array(s.linearization.evaluate()) }

    func testJacobianProductMatchesCentralDifferences() throws {
        for activation in [Activation.tanh, .softsign] {
            let s = try setup(activation, seed: 3)
            var generator = SeededGenerator(seed: 11, stream: 0)
            let n = s.linearization.parameterCount, m = s.linearization.outputCount
            let v = (0..<n).map { _ in generator.nextUniform() - 0.5 }
            let theta = Array(s.network.parameters)
            _ = s.linearization.evaluate()
            var jv = [Double](repeating: 0, count: m)
            v.withUnsafeBufferPointer { vp in jv.withUnsafeMutableBufferPointer { s.linearization.applyJacobian(vp.baseAddress!, into: $0.baseAddress!) } }
            let h = 1e-5
            for i in 0..<n { s.network.parameters[i] = theta[i] + h * v[i] }
            let plus = outputs(s)
            for i in 0..<n { s.network.parameters[i] = theta[i] - h * v[i] }
            let minus = outputs(s)
            var worst = 0.0, scale = 0.0
            for k in 0..<m {
                let fd = (plus[k] - minus[k]) / (2 * h)
                worst = max(worst, abs(fd - jv[k])); scale = max(scale, abs(jv[k]))
            }
            // Central differences err by O(h²) ≈ 1e-10 relative, rounding by ε/h ≈ 1e-11.
            XCTAssertGreaterThan(scale, 1e-3)
            XCTAssertLessThan(worst / scale, 1e-7, "\(activation): J v against central differences")
        }
    }

    func testTransposeProductIsTheAdjoint() throws {
        for activation in [Activation.tanh, .softsign] {
            let s = try setup(activation, seed: 5)
            var generator = SeededGenerator(seed: 13, stream: 0)
            let n = s.linearization.parameterCount, m = s.linearization.outputCount
            let v = (0..<n).map { _ in generator.nextUniform() - 0.5 }
            let u = (0..<m).map { _ in generator.nextUniform() - 0.5 }
            _ = s.linearization.evaluate()
            var jv = [Double](repeating: 0, count: m), jtu = [Double](repeating: 0, count: n)
            v.withUnsafeBufferPointer { vp in jv.withUnsafeMutableBufferPointer { s.linearization.applyJacobian(vp.baseAddress!, into: $0.baseAddress!) } }
            u.withUnsafeBufferPointer { up in jtu.withUnsafeMutableBufferPointer { s.linearization.applyJacobianTranspose(up.baseAddress!, into: $0.baseAddress!) } }
            let left = zip(jv, u).reduce(0) { $0 + $1.0 * $1.1 }
            let right = zip(v, jtu).reduce(0) { $0 + $1.0 * $1.1 }
            XCTAssertEqual(left, right, accuracy: 1e-12 * max(abs(left), 1), "\(activation): ⟨Jv, u⟩ = ⟨v, Jᵀu⟩")
        }
    }

    func testShapeMismatchIsReported() throws {
        let network = Network<Double>(layout: try NetworkLayout(widths: [3, 4, 2], activation: .tanh), seed: 1)
        XCTAssertThrowsError(try NetworkLinearization(network: network, inputs: [1, 2], rows: 1)) {
            XCTAssertTrue("\($0)".contains("3 inputs"), "\($0)")
        }
    }
}
