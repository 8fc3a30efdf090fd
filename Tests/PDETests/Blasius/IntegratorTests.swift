import XCTest
@testable import PDE

/// The harmonic oscillator y'' = −y as y = (u, v), u' = v, v' = −u: exact solution (cos t, −sin t).
private struct Oscillator: AutonomousSystem {
    var dimension: Int { 2 }
    func derivative(_ y: UnsafePointer<Double>, into slope: UnsafeMutablePointer<Double>) {
        slope[0] = y[1]; slope[1] = -y[0]
    }
}

final class IntegratorTests: XCTestCase {
    /// Global error at t = 1 of fixed steps h (the tolerance is so loose that every step is accepted).
    private func fixedStepError(_ h: Double) -> Double {
        var rk = DormandPrince(system: Oscillator(), eta: 0, state: [1, 0], relativeTolerance: 1e6,
                               absoluteTolerance: 1e6, controlledComponents: 2, initialStep: h)
        let n = Int((1 / h).rounded())
        for _ in 0..<n { XCTAssertEqual(rk.advance(maxStep: h), .accepted) }
        XCTAssertEqual(rk.eta, 1, accuracy: 1e-12)
        return max(abs(rk[0] - cos(1.0)), abs(rk[1] + sin(1.0)))
    }

    /// The tableau is typed from the paper: a wrong coefficient breaks the 5th order (a typo in a
    /// 5th-order weight typically drops it to 1–4). Halving h must divide the error by 2⁵ = 32;
    /// the band 4.8…5.2 leaves room for the next term of the error expansion at these step sizes.
    func testFifthOrderConvergence() {
        let errors = [0.2, 0.1, 0.05].map(fixedStepError)
        for i in 0..<2 {
            let rate = log2(errors[i] / errors[i + 1])
            XCTAssertEqual(rate, 5, accuracy: 0.2, "observed order \(rate) between h = \(0.2 / Double(1 << i)) and half of it")
        }
    }

    func testAdaptiveAccuracy() {
        // Adaptive accuracy: with rtol = atol = 1e-10 the global error over [0, 10] stays below 1e-8
        // (a tolerance-proportional method accumulates ~ steps × local error ≪ 100 × tol).
        var rk = DormandPrince(system: Oscillator(), eta: 0, state: [1, 0], relativeTolerance: 1e-10,
                               absoluteTolerance: 1e-10, controlledComponents: 2)
        XCTAssertEqual(rk.advance(to: 10), .accepted)
        XCTAssertEqual(rk.eta, 10)
        XCTAssertEqual(rk[0], cos(10.0), accuracy: 1e-8)
        XCTAssertEqual(rk[1], -sin(10.0), accuracy: 1e-8)
        // Tighter tolerance, smaller error and more steps: the controller responds.
        var tight = DormandPrince(system: Oscillator(), eta: 0, state: [1, 0], relativeTolerance: 1e-13,
                                  absoluteTolerance: 1e-13, controlledComponents: 2)
        XCTAssertEqual(tight.advance(to: 10), .accepted)
        XCTAssertEqual(tight[0], cos(10.0), accuracy: 1e-11)
        XCTAssertGreaterThan(tight.acceptedSteps, rk.acceptedSteps * 3)
    }

    /// Landing exactly on targets (the profile nodes) and continuing with a sensible step afterwards.
    func testLandsExactlyOnTargets() {
        var rk = DormandPrince(system: Oscillator(), eta: 0, state: [1, 0], relativeTolerance: 1e-12,
                               absoluteTolerance: 1e-12, controlledComponents: 2)
        for target in [0.001, 0.5, 0.5000001, 3.0, 7.25] {
            XCTAssertEqual(rk.advance(to: target), .accepted)
            XCTAssertEqual(rk.eta, target)   // exact, not approximately
            XCTAssertEqual(rk[0], cos(target), accuracy: 1e-10)
        }
    }
}
