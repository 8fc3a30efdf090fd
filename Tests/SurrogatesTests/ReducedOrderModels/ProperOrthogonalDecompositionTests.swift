import XCTest
import NumericalFoundations
@testable import Surrogates

final class ProperOrthogonalDecompositionTests: XCTestCase {
    /// n = 40 fields of P = 150 points, mean + three modes with random coefficients of decreasing
    /// size: the energy criterion keeps exactly 3 modes, and every field is recovered to rounding.
    func testRankThreeFieldsRecoveredExactly() throws {
        let n = 40, p = 150
        var g = SeededGenerator(seed: 3, stream: 0)
        let x = (0..<p).map { Double($0) / Double(p - 1) }
        let shapes: [(Double) -> Double] = [{ sin(.pi * $0) }, { cos(3 * .pi * $0) }, { $0 * $0 - 0.3 }]
        var fields = [Double]()
        for _ in 0..<n {
            let a = [3 * g.nextGaussian(), g.nextGaussian(), 0.2 * g.nextGaussian()]
            for j in 0..<p { fields.append(1 + 0.5 * x[j] + a[0] * shapes[0](x[j]) + a[1] * shapes[1](x[j]) + a[2] * shapes[2](x[j])) }
        }
        let pod = try ProperOrthogonalDecomposition(fields: fields, count: n, pointCount: p, energyTolerance: 1e-12)
        XCTAssertEqual(pod.rank, 3)
        XCTAssertEqual(pod.singularValues.count, n)
        XCTAssertLessThan(pod.singularValues[3] / pod.singularValues[0], 1e-12)
        // Orthonormal modes.
        for k in 0..<3 { for l in 0..<3 {
            let dot = (0..<p).reduce(0.0) { $0 + pod.modes[$1 * 3 + k] * pod.modes[$1 * 3 + l] }
            XCTAssertEqual(dot, k == l ? 1 : 0, accuracy: 1e-13)
        } }
        let c = try pod.coefficients(of: fields, count: n)
        XCTAssertEqual(c.count, n * 3)
        let back = try pod.reconstruct(coefficients: c, count: n)
        let scale = fields.reduce(0) { max($0, abs($1)) }
        let error = zip(back, fields).reduce(0) { max($0, abs($1.0 - $1.1)) }
        XCTAssertLessThan(error / scale, 1e-12)
    }

    /// Singular values 1, 0.1, 0.01, 0.001: energies 1, 1e-2, 1e-4, 1e-6 (sum 1.010101):
    /// tol 1e-3 needs 2 modes (missing 1.0e-4/1.0101 ≈ 9.9e-5 ≤ 1e-3), tol 1e-5 needs 3, tol 1e-2 needs 1…
    func testEnergyCriterionPicksTheSmallestSufficientRank() {
        let sigma = [1, 0.1, 0.01, 0.001]
        XCTAssertEqual(ProperOrthogonalDecomposition.rank(singularValues: sigma, energyTolerance: 0.5), 1)
        XCTAssertEqual(ProperOrthogonalDecomposition.rank(singularValues: sigma, energyTolerance: 1e-2), 1)
        XCTAssertEqual(ProperOrthogonalDecomposition.rank(singularValues: sigma, energyTolerance: 9e-3), 2)
        XCTAssertEqual(ProperOrthogonalDecomposition.rank(singularValues: sigma, energyTolerance: 1e-3), 2)
        XCTAssertEqual(ProperOrthogonalDecomposition.rank(singularValues: sigma, energyTolerance: 1e-5), 3)
        XCTAssertEqual(ProperOrthogonalDecomposition.rank(singularValues: sigma, energyTolerance: 1e-7), 4)
        XCTAssertEqual(ProperOrthogonalDecomposition.rank(singularValues: sigma, energyTolerance: 1e-7, maxRank: 2), 2)
        XCTAssertEqual(ProperOrthogonalDecomposition.rank(singularValues: [0, 0], energyTolerance: 1e-3), 1)
    }

    func testBadInputIsNamed() {
        XCTAssertThrowsError(try ProperOrthogonalDecomposition(fields: [1, 2, 3], count: 2, pointCount: 2, energyTolerance: 1e-3)) { error in
            XCTAssertTrue("\(error)".contains("not 2 rows × 2 columns"), "\(error)")
        }
        XCTAssertThrowsError(try ProperOrthogonalDecomposition(fields: [1, 2, .nan, 4], count: 2, pointCount: 2, energyTolerance: 1e-3)) { error in
            XCTAssertTrue("\(error)".contains("(1, 0)"), "\(error)")
        }
        XCTAssertThrowsError(try ProperOrthogonalDecomposition(fields: [1, 2, 3, 4], count: 2, pointCount: 2, energyTolerance: 1))
    }
}
