import Foundation
import XCTest
import _TestSupport
import Numerics
@testable import Surrogates

/// The DMD of the updates (`SnapshotBuffer.replaceWithDifferences`, `DMDModel.accumulate`) against
/// closed forms: on an affine iteration w_{k+1} = c + A (w_k − c) the updates d_k = w_{k+1} − w_k obey
/// d_{k+1} = A d_k exactly, so their DMD recovers A's eigenvalues (no eigenvalue 1 for the offset c),
/// w_m + Σ_{j=1}^{s} d_{m−1+j} is w_{m+s}, and s → ∞ gives the fixed point c.
final class DMDOfUpdatesTests: XCTestCase {
    let modes = [Complex(0.9 * cos(0.4), 0.9 * sin(0.4)), Complex(0.8, 0), Complex(-0.6, 0)]
    lazy var system = LinearSystem(dimension: 200, modes: modes, seed: 11)
    lazy var offset: [Double] = (0..<200).map { 0.3 + sin(Double($0)) }

    /// w_k = c + B D^k c₀.
    func state(_ k: Int) -> [Double] { zip(offset, system.state(k)).map { $0 + $1 } }

    func buffer(_ m: Int) throws -> SnapshotBuffer {
        let b = try SnapshotBuffer(dimension: 200, capacity: m)
        for k in 0..<m { try b.append(state(k)) }
        return b
    }

    func testDifferencesInPlace() throws {
        let b = try buffer(5)
        try b.replaceWithDifferences()
        XCTAssertEqual(b.count, 4)
        for j in 0..<4 {
            let expected = zip(state(j + 1), state(j)).map { $0 - $1 }
            XCTAssertEqual(try b.snapshot(j), expected, "d_\(j) is x_{j+1} − x_j, exactly as float64 subtraction")
        }
        let two = try buffer(2)
        XCTAssertThrowsError(try two.replaceWithDifferences(), "two snapshots give one update: no (X, X') pair")
        XCTAssertEqual(two.count, 2, "a refused call leaves the buffer as it was")
    }

    func testUpdatesDMDRecoversTheLinearPartAndLandsOnTheTrajectory() throws {
        let m = 8
        let b = try buffer(m)
        try b.replaceWithDifferences()
        let model = try DMD.decompose(consuming: b, options: DMDOptions())
        XCTAssertEqual(model.rank, 4, "the 4 eigenvalues of D (one pair, two reals); the offset adds no mode")
        for λ in system.eigenvalues {
            let nearest = model.eigenvalues.map { ($0 - λ).length }.min()!
            XCTAssertLessThan(nearest, 1e-10, "eigenvalue \(λ) of the updates' dynamics not recovered")
        }
        let last = state(m - 1)
        for s in [1.0, 7.0, 40.0] {
            var jump = [Double](repeating: 0, count: 200)
            try jump.withUnsafeMutableBufferPointer { try model.accumulate(steps: s, into: $0) }
            let landed = zip(last, jump).map { $0 + $1 }
            XCTAssertLessThan(relativeError(landed, state(m - 1 + Int(s))), 1e-8, "s = \(s): w_m + Σ d lands on w_{m+s}")
        }
        // s → ∞ (all |λ| < 1): the limit point of the iteration, its fixed point c.
        var jump = [Double](repeating: 0, count: 200)
        try jump.withUnsafeMutableBufferPointer { try model.accumulate(steps: 1e6, into: $0) }
        XCTAssertLessThan(relativeError(zip(last, jump).map { $0 + $1 }, offset), 1e-8)
        // s = 0 adds nothing.
        try jump.withUnsafeMutableBufferPointer { try model.accumulate(steps: 0, into: $0) }
        XCTAssertEqual(jump.map(abs).max(), 0)
    }

    /// g_s(λ) = Σ_{j=1}^{s} λ^j: the closed form away from 1, the series near it, against the plain sum.
    func testGeometricSumAgainstTheExplicitSum() {
        for λ in [Complex(0.5, 0.3), Complex(1.0, 0), Complex(1 + 3e-6, -2e-6), Complex(1 - 1e-9, 0), Complex(-0.99, 0.01)] {
            for s in [1, 2, 13, 55] {
                var power = Complex<Double>(1), sum = Complex<Double>.zero
                for _ in 0..<s { power = power * λ; sum = sum + power }
                let closed = DMDModel.geometricSum(λ, Double(s))!
                XCTAssertLessThan((closed - sum).length / max(sum.length, 1), 1e-11, "λ = \(λ), s = \(s)")
            }
        }
        XCTAssertEqual(DMDModel.geometricSum(Complex(0.5, 0), 0), .zero)
        XCTAssertNil(DMDModel.geometricSum(Complex(10, 0), 400), "10^400 overflows: reported, not returned as ∞")
    }
}
