import XCTest
@testable import PDE

final class ExistenceTableTests: XCTestCase {
    /// The table's answer equals the full solver's on points spread over the paper's (λ, f_w) range,
    /// concentrated near the fold, and the interpolation error is small.
    func testTableAgreesWithTheSolver() throws {
        let solver = BlasiusSolver()
        let table = try WindExistenceTable(lambdaMin: -20, nodes: 40, solver: solver)
        // Measured: largest midpoint interpolation error 0.015 (at the top, f_w ≈ 10.5) with 40 nodes.
        print("measured existence-table interpolation error: \(table.interpolationError), top f_w \(table.fwNodes.last!)")
        XCTAssertLessThan(table.interpolationError, 0.05)
        var state: UInt64 = 12345
        func uniform() -> Double { state = state &* 6364136223846793005 &+ 1442695040888963407; return Double(state >> 11) * 0x1.0p-53 }
        var disagreements = 0, solved = 0
        for k in 0..<160 {
            let fw = -3 + 16 * uniform()
            let lc = table.interpolatedCriticalLambda(fw: fw)
            // Half of the points within ±0.1 of the boundary, the rest over λ ∈ [−20, 2].
            let lambda = k % 2 == 0 ? lc + 0.2 * (uniform() - 0.5) : -20 + 22 * uniform()
            let answer = table.classify(lambda: lambda, fw: fw)
            if answer.solved { solved += 1 }
            if answer.exists != (solver.solve(lambda: lambda, fw: fw).solution != nil) { disagreements += 1 }
        }
        print("measured existence-table full solves: \(solved) of 160")
        XCTAssertEqual(disagreements, 0)
        XCTAssertTrue(table.exists(lambda: 0.5, fw: -100))
        XCTAssertFalse(table.exists(lambda: -0.1, fw: -2))
        XCTAssertFalse(table.exists(lambda: -1, fw: 0))       // beyond the fold: λ_c(0) = −0.354
        XCTAssertTrue(table.exists(lambda: -0.3, fw: 0))
    }
}
