import Foundation
import XCTest
import NumericalFoundations
@testable import PDE
import Pipeline

/// ∂c3/∂θ of the discrete problem (docs/fem.md (S1)–(S6)) against central differences of full re-solves.
final class SensitivityTests: XCTestCase {
    static func smoke() throws -> (config: PipelineConfig, discretization: PollutantDiscretization, options: SensitivityOptions) {
        let url = Fixture.packageRoot.appendingPathComponent("configs/smoke.toml")
        let config = try PipelineConfig.parse(String(contentsOf: url, encoding: .utf8), file: url.path)
        let discretization = try PollutantDiscretization(settings: config.fem)
        return (config, discretization, SensitivityOptions(wind: InProcessWind.Options(config.wind)))
    }

    /// Relative L2 error over the observation points of the tangent sensitivities against central
    /// differences of two Newton solves per parameter (step h_k of `SensitivityOptions.step`, Newton
    /// tolerance 1e-13 so that its error stays below 1e-9 of the difference quotient).
    func finiteDifferenceErrors(_ p: PollutantParameters) throws -> [Double] {
        let (config, discretization, options) = try Self.smoke()
        var newton = NewtonOptions(config.fem)
        newton.relativeTolerance = 1e-13
        let solver = PollutantSolver(discretization: discretization, newton: newton)
        let profile = try InProcessWind.profile(for: p, options: options.wind).profile
        let (base, sensitivities) = try solver.solveWithSensitivities(p, profile: profile, options: options)
        XCTAssertEqual(sensitivities.differences, ["", "", "", "central", "central", "central"])
        let points = discretization.observation.count
        var errors: [Double] = []
        for k in 0..<6 {
            let h = options.step(k, at: p)
            var side: [[Double]] = []
            for delta in [h, -h] {
                let q = try p.shifted(k, by: delta)
                let wind = k < 3 ? base.wind : try discretization.wind(for: q, options: options.wind)
                let solution = try solver.solve(q, wind: wind)
                XCTAssertEqual(solution.inflowNodes, base.inflowNodes, "the inflow set moved within ±h of \(PollutantParameters.names[k])")
                side.append(solution.c3AtObservations)
            }
            var difference = 0.0, reference = 0.0
            for j in 0..<points {
                let fd = (side[0][j] - side[1][j]) / (2 * h)
                difference += pow(sensitivities.observations[6 * j + k] - fd, 2)
                reference += fd * fd
            }
            errors.append((difference / max(reference, 1e-300)).squareRoot())
        }
        return errors
    }

    func check(_ p: PollutantParameters, file: StaticString = #filePath, line: UInt = #line) throws {
        let errors = try finiteDifferenceErrors(p)
        print("FD agreement at \(p): " + zip(PollutantParameters.names, errors).map { "\($0) \(String(format: "%.2e", $1))" }.joined(separator: ", "))
        for (name, e) in zip(PollutantParameters.names, errors) {
            XCTAssertLessThan(e, 1e-5, "∂c3/∂\(name) at \(p)", file: file, line: line)
        }
    }

    func testTangentMatchesFiniteDifferencesAtAGenericPoint() throws {
        try check(PollutantParameters(k12: 5, k3: 1, diffusion: 0.1, u0: 1, uh: 0.05, uv: 0))
    }

    func testTangentMatchesFiniteDifferencesWithSmallDiffusion() throws {
        try check(PollutantParameters(k12: 12, k3: 3, diffusion: 0.012, u0: 0.5, uh: 0.1, uv: -0.05))
    }

    /// λ = 0 and f_w = −1.14, next to the blow-off suction f_w* ≈ −1.2385 (formulation.md §2a).
    func testTangentMatchesFiniteDifferencesNearBlowOff() throws {
        let p = PollutantParameters(k12: 8, k3: 2, diffusion: 0.1, u0: 1, uh: 0, uv: 0.0018)
        let fw = try SimilarityParameters(U0: p.u0, uh: p.uh, uv: p.uv, nu: 1e-5).fw
        XCTAssertGreaterThan(fw, BlasiusSolver.blowOffSuction)
        XCTAssertLessThan(fw - BlasiusSolver.blowOffSuction, 0.15)
        try check(p)
    }

    /// The central difference of the Blasius solve (S5) against the closed forms of (F3)–(F4): at the
    /// ground u_x = u_h and u_y = u_v/sqrt(x + x0); above the layer u_x = U0.
    func testWindDerivativeMatchesClosedFormsAtTheGroundAndAboveTheLayer() throws {
        let (_, discretization, options) = try Self.smoke()
        let p = PollutantParameters(k12: 5, k3: 1, diffusion: 0.1, u0: 1, uh: 0.05, uv: -0.02)
        let mesh = discretization.mesh
        let ground = (0..<mesh.nodeCount).filter { mesh.heightAboveGround[$0] == 0 }
        let top = (0..<mesh.nodeCount).filter { mesh.heightAboveGround[$0] > 0.9 }
        XCTAssertFalse(ground.isEmpty); XCTAssertFalse(top.isEmpty)
        let x0 = options.wind.x0
        let du0 = try discretization.windDerivative(3, at: p, options: options)
        let duh = try discretization.windDerivative(4, at: p, options: options)
        let duv = try discretization.windDerivative(5, at: p, options: options)
        for i in ground {
            XCTAssertEqual(du0.x[i], 0, accuracy: 1e-6); XCTAssertEqual(duh.x[i], 1, accuracy: 1e-6); XCTAssertEqual(duv.x[i], 0, accuracy: 1e-6)
            XCTAssertEqual(du0.y[i], 0, accuracy: 1e-6); XCTAssertEqual(duh.y[i], 0, accuracy: 1e-6)
            XCTAssertEqual(duv.y[i], 1 / (mesh.x[i] + x0).squareRoot(), accuracy: 1e-6)
        }
        for i in top {
            XCTAssertEqual(du0.x[i], 1, accuracy: 1e-6); XCTAssertEqual(duh.x[i], 0, accuracy: 1e-6); XCTAssertEqual(duv.x[i], 0, accuracy: 1e-6)
        }
    }

    /// The tangent leaves the solver as it was: the next solve gives the same bytes as a fresh solver's.
    func testSensitivitiesDoNotChangeLaterSolves() throws {
        let (config, discretization, options) = try Self.smoke()
        let p = PollutantParameters(k12: 5, k3: 1, diffusion: 0.1, u0: 1, uh: 0.05, uv: 0)
        let q = PollutantParameters(k12: 9, k3: 4, diffusion: 0.03, u0: 0.05, uh: 0.02, uv: 0)
        let profileP = try InProcessWind.profile(for: p, options: options.wind).profile
        let profileQ = try InProcessWind.profile(for: q, options: options.wind).profile
        let used = PollutantSolver(discretization: discretization, newton: NewtonOptions(config.fem))
        _ = try used.solveWithSensitivities(p, profile: profileP, options: options)
        let after = try used.solve(q, profile: profileQ, nu: options.wind.nu, x0: options.wind.x0)
        let fresh = try PollutantSolver(discretization: discretization, newton: NewtonOptions(config.fem))
            .solve(q, profile: profileQ, nu: options.wind.nu, x0: options.wind.x0)
        XCTAssertEqual(after.values, fresh.values)
    }
}
