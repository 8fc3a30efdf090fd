import XCTest
import NumericalFoundations
@testable import Surrogates

/// `Network.predictIndependentRows` (the C kernel `nk_row_products`): each product within the
/// standard rounding bound of an exact sum, and a row's answer the same (finite, non-zero) values
/// alone and in any batch, at any place.
final class IndependentRowsTests: XCTestCase {
    private func values<T: NetworkScalar>(_ count: Int, seed: UInt64, as: T.Type) -> [T] {
        var g = SeededGenerator(seed: seed, stream: 0)
        return (0..<count).map { _ in T(2 * g.nextUniform() - 1) }
    }

    /// |computed − exact| ≤ γ_n Σ|w_k x_k| with γ_n = n u / (1 − n u) (Higham, Accuracy and Stability
    /// of Numerical Algorithms, §3.1), for any order of summation; the exact sum in Double (Float
    /// inputs) or with a compensated sum (Double inputs). Widths cover a scalar-only remainder (6), one
    /// chunk (16), chunks beside a remainder (40, 85) and full groups of chains (200).
    private func checkRowProducts<T: NetworkScalar & BinaryFloatingPoint>(_ type: T.Type) {
        for nIn in [6, 16, 40, 85, 200] {
            let nOut = 7, rows = 9
            let x = values(rows * nIn, seed: UInt64(nIn), as: T.self), w = values(nOut * nIn, seed: UInt64(nIn + 1), as: T.self)
            var out = [T](repeating: 0, count: rows * nOut)
            T.rowProducts(x: x, rows: rows, nIn: nIn, w: w, nOut: nOut, out: &out)
            let u = Double(T.ulpOfOne) / 2, gamma = Double(nIn) * u / (1 - Double(nIn) * u)
            for r in 0..<rows {
                for j in 0..<nOut {
                    var sum = 0.0, compensation = 0.0, magnitude = 0.0
                    for k in 0..<nIn {
                        let term = Double(w[j * nIn + k]) * Double(x[r * nIn + k])
                        magnitude += abs(term)
                        let y = term - compensation, t = sum + y
                        compensation = (t - sum) - y
                        sum = t
                    }
                    XCTAssertEqual(Double(out[r * nOut + j]), sum, accuracy: gamma * magnitude + Double(T.leastNormalMagnitude),
                                   "\(T.self) n_in \(nIn) row \(r) output \(j)")
                }
            }
        }
    }

    func testRowProductsAreWithinTheRoundingBound() {
        checkRowProducts(Float.self)
        checkRowProducts(Double.self)
    }

    private func checkIndependence<T: NetworkScalar>(_ type: T.Type) throws {
        let network = Network<T>(layout: try NetworkLayout(widths: [6, 40, 200, 70], activation: .softsign), seed: 3)
        let rows = 11
        let x = values(rows * 6, seed: 9, as: T.self)
        let all = network.predictIndependentRows(x, rows: rows)
        let p = 70
        func row(_ y: [T], _ i: Int) -> [T] { Array(y[(i * p)..<((i + 1) * p)]) }
        for i in 0..<rows {
            let alone = network.predictIndependentRows(Array(x[(i * 6)..<((i + 1) * 6)]), rows: 1)
            XCTAssertEqual(row(all, i), alone, "\(T.self) row \(i) alone and among \(rows)")
        }
        // The same rows reversed, and a batch of 5 that puts row 7 first.
        let reversed = network.predictIndependentRows((0..<rows).reversed().flatMap { Array(x[($0 * 6)..<(($0 + 1) * 6)]) }, rows: rows)
        for i in 0..<rows { XCTAssertEqual(row(reversed, rows - 1 - i), row(all, i), "\(T.self) reversed \(i)") }
        let five = network.predictIndependentRows([7, 0, 3, 10, 1].flatMap { Array(x[($0 * 6)..<(($0 + 1) * 6)]) }, rows: 5)
        XCTAssertEqual(row(five, 0), row(all, 7), "\(T.self) row 7 first of 5")
        // And the gemm forward pass agrees to rounding (another order of summation).
        let gemm = network.predict(x, rows: rows)
        let tolerance = T.self == Float.self ? 1e-5 : 1e-13
        for i in all.indices {
            XCTAssertEqual(Double(all[i]), Double(gemm[i]), accuracy: tolerance * max(1, abs(Double(gemm[i]))), "\(T.self) against gemm, value \(i)")
        }
    }

    func testARowGivesTheSameBitsAloneAndInAnyBatch() throws {
        try checkIndependence(Float.self)
        try checkIndependence(Double.self)
    }
}
