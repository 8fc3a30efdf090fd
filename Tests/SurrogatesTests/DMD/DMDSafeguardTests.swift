import XCTest
import _TestSupport
import NumericalFoundations
@testable import Surrogates
import Numerics

/// The DMD safeguards (a) and (b), checked against closed forms on exactly linear data.
final class DMDSafeguardTests: XCTestCase {
    /// One growing pair (|λ| = 1.04), one real and one decaying pair: q = 5, m = 6 (full rank).
    let modes = [polar(1.04, 0.3), Complex(0.9), polar(0.7, 1.2)]

    /// (a) With clamping, a mode with |λ| > 1 evolves with λ/|λ|. On exactly linear data the DMD
    /// modes are B times D's eigenvectors, so the clamped extrapolation is B D_c^s D^{m−1} c, where
    /// D_c is D with the growing block divided by 1.04 (same eigenvectors, eigenvalue λ/|λ|).
    /// Without clamping the growing truth B D^{m−1+s} c is reproduced. Both to 1e-8 (the specified
    /// extrapolation bound; measured ≈ 1e-13).
    func testClampingMovesGrowingEigenvaluesOntoTheUnitCircle() throws {
        let system = LinearSystem(dimension: 1000, modes: modes, seed: 21)
        let m = 6, s = 40
        var clampedDynamics = system.dynamics
        for i in 0..<2 { for j in 0..<2 { clampedDynamics[i, j] /= 1.04 } }
        var coordinates = system.coordinates(m - 1)
        for _ in 0..<s { coordinates = try clampedDynamics.multiplied(by: coordinates) }
        let clampedTruth = try system.basis.multiplied(by: coordinates)
        for method in DMDOptions.SVDMethod.allCases {
            let plain = try DMD.decompose(system.snapshots(m), options: DMDOptions(svdMethod: method))
            // The eigenvalue bound (1e-10, both paths): measured 1e-15 (QR) to 1e-12 (Gram,
            // whose error depends on the BLAS kernel: ε κ(X)² with κ(X) ≈ 1e2).
            XCTAssertEqual(plain.largestEigenvalueModulus, 1.04, accuracy: 1e-10, "\(method)")
            XCTAssertEqual(plain.clampedEigenvalueCount, 0)
            XCTAssertLessThan(relativeError(try plain.extrapolated(steps: Double(s)), system.state(m - 1 + s)), 1e-8)

            let clamped = try DMD.decompose(system.snapshots(m), options: DMDOptions(svdMethod: method, clampEigenvaluesToUnitCircle: true))
            // The reported eigenvalues are the computed ones; only the extrapolation uses λ/|λ|.
            XCTAssertEqual(clamped.eigenvalues, plain.eigenvalues)
            XCTAssertEqual(clamped.clampedEigenvalueCount, 2)
            for (used, computed) in zip(clamped.extrapolationEigenvalues, clamped.eigenvalues) {
                if computed.length > 1 {
                    XCTAssertEqual(used.length, 1, accuracy: 1e-15)
                    XCTAssertEqual(used.phase, computed.phase, accuracy: 1e-15)
                } else {
                    XCTAssertEqual(used, computed)
                }
            }
            XCTAssertLessThan(relativeError(try clamped.extrapolated(steps: Double(s)), clampedTruth), 1e-8, "\(method)")
        }
    }

    /// (a) changes nothing when every |λ| ≤ 1.
    func testClampingIsInactiveForDecayingModes() throws {
        let system = LinearSystem(dimension: 300, modes: [polar(0.95, 0.4), Complex(0.5)], seed: 22)
        let plain = try DMD.decompose(system.snapshots(5))
        let clamped = try DMD.decompose(system.snapshots(5), options: DMDOptions(clampEigenvaluesToUnitCircle: true))
        XCTAssertEqual(clamped.clampedEigenvalueCount, 0)
        XCTAssertEqual(try clamped.extrapolated(steps: 30), try plain.extrapolated(steps: 30))
    }

    /// (b) w ← w_m + ω (w_dmd − w_m) for ω = 0 (no jump), 0.5 (half), 1.7 (over-relaxed): compared
    /// entry-wise with the formula built from the ω = 1 jump and the true last snapshot. Rounding
    /// of a few O(‖w‖) operations: 1e-12 relative.
    func testRelaxationInterpolatesBetweenTheLastSnapshotAndTheJump() throws {
        let system = LinearSystem(dimension: 800, modes: modes, seed: 23)
        let m = 6, s = 25.0
        let last = system.state(m - 1)
        for method in DMDOptions.SVDMethod.allCases {
            let jump = try DMD.decompose(system.snapshots(m), options: DMDOptions(svdMethod: method)).extrapolated(steps: s)
            for omega in [0.0, 0.5, 1.7] {
                let relaxed = try DMD.decompose(system.snapshots(m), options: DMDOptions(svdMethod: method, relaxation: omega))
                let expected = zip(last, jump).map { $0 + omega * ($1 - $0) }
                XCTAssertLessThan(relativeError(try relaxed.extrapolated(steps: s), expected), 1e-12, "\(method) ω = \(omega)")
            }
        }
    }

    /// (a) and (b) together: relaxation acts on the clamped jump.
    func testClampingAndRelaxationCompose() throws {
        let system = LinearSystem(dimension: 400, modes: modes, seed: 24)
        let m = 6
        let clamped = try DMD.decompose(system.snapshots(m), options: DMDOptions(clampEigenvaluesToUnitCircle: true)).extrapolated(steps: 20)
        let both = try DMD.decompose(system.snapshots(m), options: DMDOptions(clampEigenvaluesToUnitCircle: true, relaxation: 0.25))
        let expected = zip(system.state(m - 1), clamped).map { $0 + 0.25 * ($1 - $0) }
        XCTAssertLessThan(relativeError(try both.extrapolated(steps: 20), expected), 1e-12)
    }
}
