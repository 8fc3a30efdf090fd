import XCTest
import NumericalFoundations
@testable import PDE

/// The tangent equation (docs/fem.md (S1)–(S6)) against closed forms of linear reaction–diffusion.
final class TangentTests: XCTestCase {
    /// One species, no wind, zero flux everywhere: −D Δc + K c = Q.
    private func problem(mesh: TriangleMesh, diffusion d: Double, rate k: Double, source: SourceLoad) -> TransportProblem {
        TransportProblem(velocityX: [Double](repeating: 0, count: mesh.nodeCount), velocityY: [Double](repeating: 0, count: mesh.nodeCount),
                         diffusion: [d], reactions: ReactionModel(speciesCount: 1, linear: [k]), source: source,
                         dirichletNodes: [Bool](repeating: false, count: mesh.nodeCount))
    }

    private let perRate = TangentSource.coefficients(CoefficientDerivative(diffusion: [0], linear: [1], productRates: []))
    private let perDiffusion = TangentSource.coefficients(CoefficientDerivative(diffusion: [1], linear: [0], productRates: []))

    /// Constant Q: c = Q/K exactly (also discretely), so ∂c/∂K = −Q/K² and ∂c/∂D = 0 to rounding.
    func testConstantSourceGivesMinusQOverKSquared() throws {
        let mesh = try unitSquares([8])[0]
        let space = try CoupledP1Space(mesh: mesh, speciesCount: 1)
        let solver = SteadyTransportSolver(space: space)
        let q = 0.3, k = 2.5
        let load = SourceLoad.nodal([space.lumpedMass.map { q * $0 }])
        let solution = try solver.solve(problem(mesh: mesh, diffusion: 0.1, rate: k, source: load))
        let tangent = try solver.tangent(at: solution.values, sources: [perRate, perDiffusion])
        for v in tangent.derivatives[0] { XCTAssertEqual(v, -q / (k * k), accuracy: 1e-13) }
        for v in tangent.derivatives[1] { XCTAssertEqual(v, 0, accuracy: 1e-13) }
        // The LU of the solve is J itself (a linear problem): one sweep suffices, no refactorisation.
        XCTAssertFalse(tangent.report.refactorized)
        XCTAssertEqual(tangent.report.sweeps[0], 1)
    }

    /// Q = cos(πx): c = cos(πx)/(Dπ² + K), ∂c/∂K = −cos(πx)/(Dπ² + K)², ∂c/∂D = −π² cos(πx)/(Dπ² + K)²
    /// (each solves −D s'' + K s = −c resp. = c''); matched to the O(h²) accuracy of P1 on a 40 × 40 mesh.
    func testCosineSourceMatchesClosedFormToDiscretisationAccuracy() throws {
        let d = 0.05, k = 1.5, pi2 = Double.pi * Double.pi
        var errors: [Double] = []
        for n in [20, 40] {
            let mesh = try unitSquares([n])[0]
            let space = try CoupledP1Space(mesh: mesh, speciesCount: 1)
            let solver = SteadyTransportSolver(space: space)
            let source = SourceLoad.integrating([{ x, _ in cos(Double.pi * x) }], over: mesh)
            let solution = try solver.solve(problem(mesh: mesh, diffusion: d, rate: k, source: source))
            let tangent = try solver.tangent(at: solution.values, sources: [perRate, perDiffusion])
            let denominator = (d * pi2 + k) * (d * pi2 + k)
            var worst = 0.0
            for i in 0..<mesh.nodeCount {
                let c = cos(Double.pi * mesh.x[i])
                worst = max(worst, abs(tangent.derivatives[0][i] + c / denominator) * denominator,
                            abs(tangent.derivatives[1][i] + pi2 * c / denominator) * denominator / pi2)
            }
            errors.append(worst)
        }
        XCTAssertLessThan(errors[1], 2e-3, "max error relative to the amplitude, 40 × 40")
        XCTAssertGreaterThan(errors[0] / errors[1], 3, "second-order convergence: \(errors)")
    }
}
