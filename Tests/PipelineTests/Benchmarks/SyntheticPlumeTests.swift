import Foundation
import XCTest
import Pipeline

/// The synthetic stand-in for the FEM data (`SyntheticPlume`), against its defining properties.
final class SyntheticPlumeTests: XCTestCase {
    let base = [10.0, 2.0, 0.1, 1.0, 0.05, 0.02]   // K12, K3, D, U0, u_h, u_v

    /// The observation grid: 89 × 30 points, row by row in height, graded towards x = 0 and the
    /// ground, inside the unit square; the first point is ((½/89)^1.5, (½/30)^1.5).
    func testObservationGrid() {
        let points = SyntheticPlume.observationPoints(nx: 89, ny: 30, lx: 1, ly: 1, gradingX: 1.5, gradingY: 1.5)
        XCTAssertEqual(points.count, 2 * 2670)
        XCTAssertEqual(points[0], pow(0.5 / 89, 1.5), accuracy: 1e-15)
        XCTAssertEqual(points[1], pow(0.5 / 30, 1.5), accuracy: 1e-15)
        XCTAssertEqual(points[2 * 89 + 1], pow(1.5 / 30, 1.5), accuracy: 1e-15, "index j·nx + i")
        XCTAssertTrue(points.allSatisfy { $0 > 0 && $0 < 1 })
    }

    /// Zero flux on the ground (the image source): a central difference of c3 across y = 0 vanishes
    /// (the formula is even in y), finite non-negative values, decay with K3, and the closed form at
    /// one point.
    func testPlumeProperties() {
        let points = [0.5, 1e-4, 0.5, -1e-4, 0.3, 0.2, 0.05, 0.1]
        let c = SyntheticPlume.concentrations(parameters: base, points: points)
        XCTAssertEqual(c[0], c[1], accuracy: 1e-15 * c[0], "even in y: ∂c3/∂y = 0 on the ground")
        XCTAssertTrue(c.allSatisfy { $0.isFinite && $0 >= 0 })
        var faster = base
        faster[1] = 5
        XCTAssertLessThan(SyntheticPlume.concentrations(parameters: faster, points: points)[2], c[2], "more decay (K3), less c3")
        // (0.3, 0.2): u = 1.05, τ = 0.2/1.05 + 0.01, σ² = 0.0025 + 0.2 τ, y_c = 0.1 + 0.02 τ.
        let tau = 0.2 / 1.05 + 0.01, s2 = 0.0025 + 0.2 * tau, yc = 0.1 + 0.02 * tau
        let expected = 10 * tau / (1 + 10 * tau) * exp(-2 * tau) * (0.05 / s2.squareRoot())
            * (exp(-(0.2 - yc) * (0.2 - yc) / (2 * s2)) + exp(-(0.2 + yc) * (0.2 + yc) / (2 * s2)))
        XCTAssertEqual(c[2], expected, accuracy: 1e-14)
        // Upstream of the source (x = 0.05 < 0.1): the factor e^{u ξ / D} = e^{−1.05·0.05/0.1}.
        let tau0 = 0.01, s20 = 0.0025 + 0.2 * tau0, yc0 = 0.1 + 0.02 * tau0
        let upstream = 10 * tau0 / (1 + 10 * tau0) * exp(-2 * tau0) * (0.05 / s20.squareRoot())
            * (exp(-(0.1 - yc0) * (0.1 - yc0) / (2 * s20)) + exp(-(0.1 + yc0) * (0.1 + yc0) / (2 * s20))) * exp(-1.05 * 0.05 / 0.1)
        XCTAssertEqual(c[3], upstream, accuracy: 1e-14)
    }
}
