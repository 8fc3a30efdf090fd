import Dispatch
import XCTest
import NumericalFoundations
@testable import PDE

final class NewtonTests: XCTestCase {
    let exact = [Fields.naturalA, Fields.naturalB, Fields.naturalC]

    func inflowMask(_ mesh: TriangleMesh) throws -> [Bool] {
        let wind = LinearWind()
        return try InflowBoundary.nodes(mesh: mesh, velocityX: sample(wind.x, on: mesh), velocityY: sample(wind.y, on: mesh))
    }

    /// The manufactured 3-field system with a strong coupling (K12 = 10, fields of size ≈ 3, so the
    /// product term is ~70× the load at the K12 = 0 start). Measured residuals:
    /// 7.2e1 1.8e1 4.2 8.7e-1 1.1e-1 3.9e-3 6.1e-6 1.7e-11 (7 full steps).
    func testNewtonConvergesQuadraticallyOnTheManufacturedSystem() throws {
        let mesh = try TriangleMesh.structured(StructuredMeshSpecification(nx: 24, ny: 24))
        let solution = try solveManufactured(mesh: mesh, exact: exact, wind: LinearWind(), diffusion: [0.05, 0.03, 0.02],
                                             reactions: .pollutant(k12: 10, k3: 2), dirichlet: try inflowMask(mesh))
        let report = solution.report
        let r = report.relativeResiduals
        print("Newton residuals:", r.map { String(format: "%.3e", $0) }, "steps", report.stepLengths)
        XCTAssertTrue(report.converged)
        XCTAssertLessThanOrEqual(report.iterations, 8)
        XCTAssertLessThan(r.last!, 1e-10)
        XCTAssertEqual(report.factorizations, report.iterations + 1)
        XCTAssertEqual(r.count, report.iterations + 1)
        // Quadratic convergence: once the residual is below 0.5, r_{k+1} ≤ C r_k² with one constant
        // (measured C = r_{k+1}/r_k² ≈ 0.30, 0.41, 0.46), so r_{k+1}/r_k itself goes to zero.
        let asymptotic = zip(r, r.dropFirst()).filter { $0.0 < 0.5 }
        XCTAssertGreaterThanOrEqual(asymptotic.count, 3)
        for (previous, next) in asymptotic {
            XCTAssertLessThanOrEqual(next, 1.0 * previous * previous, "r \(previous) → \(next)")
        }
        let ratios = asymptotic.map { $0.1 / $0.0 }
        for (a, b) in zip(ratios, ratios.dropFirst()) { XCTAssertLessThan(b, a) }
        XCTAssertLessThan(ratios.last!, 1e-4)
    }

    /// A linear problem (no product term) is solved by the first factorization: no Newton step.
    func testLinearProblemNeedsNoNewtonStep() throws {
        let mesh = try TriangleMesh.structured(StructuredMeshSpecification(nx: 10, ny: 10))
        let solution = try solveManufactured(mesh: mesh, exact: exact, wind: LinearWind(), diffusion: [0.05, 0.03, 0.02],
                                             reactions: .pollutant(k12: 0, k3: 2), dirichlet: try inflowMask(mesh))
        XCTAssertEqual(solution.report.iterations, 0)
        XCTAssertEqual(solution.report.factorizations, 1)
        XCTAssertLessThan(solution.report.relativeResiduals[0], 1e-13)
    }

    /// One `CoupledP1Space` (pattern + symbolic analysis) shared by two solvers on two threads
    /// gives the same answers as sequential solves.
    func testTwoThreadsShareOneSpace() throws {
        let mesh = try TriangleMesh.structured(StructuredMeshSpecification(nx: 12, ny: 12))
        let space = try CoupledP1Space(mesh: mesh, speciesCount: 3)
        let wind = LinearWind()
        let inflow = try inflowMask(mesh)
        func problem(_ k12: Double) -> TransportProblem {
            TransportProblem(velocityX: sample(wind.x, on: mesh), velocityY: sample(wind.y, on: mesh), diffusion: [0.05, 0.05, 0.05],
                             reactions: .pollutant(k12: k12, k3: 1), source: .integrating([{ x, y in x < 0.5 && y < 0.5 ? 1 : 0 }, { _, y in y }, nil], over: mesh),
                             dirichletNodes: inflow)
        }
        let rates = [1.0, 5, 10, 20]
        let sequential = try rates.map { try SteadyTransportSolver(space: space).solve(problem($0)).values }
        var parallel = [[Double]](repeating: [], count: rates.count)
        parallel.withUnsafeMutableBufferPointer { buffer in
            DispatchQueue.concurrentPerform(iterations: 2) { thread in
                let solver = SteadyTransportSolver(space: space)
                for index in stride(from: thread, to: rates.count, by: 2) { buffer[index] = (try? solver.solve(problem(rates[index])).values) ?? [] }
            }
        }
        for index in rates.indices { XCTAssertEqual(parallel[index], sequential[index], "K12 = \(rates[index])") }
    }
}
