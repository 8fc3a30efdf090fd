import Foundation
import XCTest
@testable import PDE
import Pipeline

final class WindAndInflowTests: XCTestCase {
    func mesh(nx: Int = 12, ny: Int = 8, bumps: [TerrainBump] = []) throws -> TriangleMesh {
        try TriangleMesh.structured(StructuredMeshSpecification(nx: nx, ny: ny, groundGrading: 20, sourceGrading: 4, sourceX: 0.1,
                                                                terrain: Terrain(bumps: bumps)))
    }

    /// The nodal wind is (F1)–(F4) at each node's height above the ground: at the ground it is
    /// (u_h, u_v/sqrt(x + x0)), and beyond the profile's last node the asymptotes (U0, ½ sqrt(νU0/(x+x0)) β).
    func testNodalWindIsTheBlasiusFieldAtTheHeightAboveGround() throws {
        let p = PollutantParameters(k12: 1, k3: 1, diffusion: 0.1, u0: 0.8, uh: 0.1, uv: -0.05)
        let profile = try Fixture.profile(p)
        let field = try WindField(profile: profile, U0: p.u0, nu: 1e-5, x0: 0.1)
        let m = try mesh(bumps: [TerrainBump(center: 0.5, height: 0.1, width: 0.1)])
        let wind = NodalWind(field: field, mesh: m)
        var grounds = 0, farField = 0
        for i in 0..<m.nodeCount {
            let h = m.heightAboveGround[i]
            if h == 0 {
                grounds += 1
                // u_x = U0 f'(0) = u_h; u_y = −½ sqrt(νU0/(x + x0)) f_w = u_v / sqrt(x + x0) (F3), (F4).
                XCTAssertEqual(wind.x[i], p.uh, accuracy: 1e-12)
                XCTAssertEqual(wind.y[i], p.uv / (m.x[i] + 0.1).squareRoot(), accuracy: 1e-9)
            }
            let eta = h * (p.u0 / (1e-5 * (m.x[i] + 0.1))).squareRoot()
            if eta > profile.eta.last! {
                farField += 1
                XCTAssertEqual(wind.x[i], p.u0, accuracy: 1e-15)
                XCTAssertEqual(wind.y[i], 0.5 * (1e-5 * p.u0 / (m.x[i] + 0.1)).squareRoot() * profile.beta, accuracy: 1e-15)
            }
        }
        XCTAssertEqual(grounds, 13)
        XCTAssertGreaterThan(farField, m.nodeCount / 2)
        // On the bump the height, not y, enters (F1): a ground node on the hill still has the wall values.
        let top = (0...12).max { m.y[$0] < m.y[$1] }!
        XCTAssertGreaterThan(m.y[top], 0.05)
        XCTAssertEqual(wind.x[top], p.uh, accuracy: 1e-12)
    }

    /// Inflow follows the wind of each sample: the upstream side in the usual case; with suction the top
    /// too (u_y < 0 there); the ground never (zero flux, formulation.md §3).
    func testInflowBoundaryFollowsTheWind() throws {
        let m = try mesh()
        let d = try PollutantDiscretization(mesh: m, sources: [SourceDisk(disk: Disk(centerX: 0.1, centerY: 0.1, radius: 0.5), rate: 0.1),
                                                               SourceDisk(disk: Disk(centerX: 0.1, centerY: 0.3, radius: 0.5), rate: 0.1)],
                                            observation: ObservationGrid(nx: 3, ny: 3, lx: 1, ly: 1, gradingX: 1, gradingY: 1))
        let solver = PollutantSolver(discretization: d)
        func inflow(_ p: PollutantParameters) throws -> [Bool] {
            let field = try WindField(profile: Fixture.profile(p), U0: p.u0, nu: 1e-5, x0: 0.1)
            return try solver.problem(p, wind: NodalWind(field: field, mesh: m)).dirichletNodes
        }
        let row = 13
        let plain = try inflow(PollutantParameters(k12: 1, k3: 1, diffusion: 0.1, u0: 1, uh: 0.05, uv: 0))
        for j in 1...8 { XCTAssertTrue(plain[j * row], "upstream node of row \(j)") }
        for j in 1...8 { XCTAssertFalse(plain[j * row + 12], "downstream node of row \(j)") }
        for i in 1..<12 { XCTAssertFalse(plain[8 * row + i], "top node \(i): the displacement makes u_y > 0 there") }
        for i in 1..<12 { XCTAssertFalse(plain[i], "ground node \(i)") }
        let suction = try inflow(PollutantParameters(k12: 1, k3: 1, diffusion: 0.1, u0: 1, uh: 0.05, uv: -0.1))
        // (The downstream top corner belongs to the outflow: its share of the outflow through the side is larger.)
        for i in 0..<12 { XCTAssertTrue(suction[8 * row + i], "top node \(i) under suction") }
        for i in 1..<12 { XCTAssertFalse(suction[i], "ground node \(i)") }
        // Blowing: the ground stays zero-flux by default, and is an inflow with fem.ground_inflow = true.
        let blowing = PollutantParameters(k12: 1, k3: 1, diffusion: 0.1, u0: 1, uh: 0.1, uv: 0.1)
        let defaultMask = try inflow(blowing)
        for i in 1..<12 { XCTAssertFalse(defaultMask[i], "ground node \(i), default") }
        let grounded = try PollutantDiscretization(settings: Fixture.config("ground_inflow = true").fem)
        XCTAssertTrue(grounded.inflowTags.contains(.ground))
        XCTAssertFalse(try PollutantDiscretization(settings: Fixture.config().fem).inflowTags.contains(.ground))
        let field = try WindField(profile: Fixture.profile(blowing), U0: 1, nu: 1e-5, x0: 0.1)
        let groundMask = try PollutantSolver(discretization: grounded).problem(blowing, wind: NodalWind(field: field, mesh: grounded.mesh)).dirichletNodes
        for i in 0...12 { XCTAssertTrue(groundMask[i], "ground node \(i) with ground_inflow") }
    }

    /// A reversed layer thinner than the first cell (u_h < 0 under strong suction: ~1e-4 thick) makes the
    /// downstream ground corner an inflow node under the nodal rule but not under the flux rule, whose
    /// node share ∫(u·n)φ_i is dominated by the forward flow above it. The flux rule is exact for a
    /// uniform inflow: every node of an inflow side is marked, as with the nodal rule.
    func testFluxRuleIgnoresReversedLayersThinnerThanACell() throws {
        let m = try mesh()
        let p = PollutantParameters(k12: 1, k3: 1, diffusion: 0.1, u0: 1, uh: -0.2, uv: -0.2)
        let wind = NodalWind(field: try WindField(profile: Fixture.profile(p), U0: p.u0, nu: 1e-5, x0: 0.1), mesh: m)
        let tags: Set<BoundaryTag> = [.upstream, .top, .downstream]
        let nodal = try InflowDetection.nodal.nodes(mesh: m, wind: wind, tags: tags)
        let flux = try InflowDetection.flux.nodes(mesh: m, wind: wind, tags: tags)
        XCTAssertLessThan(wind.x[12], 0, "reversed flow at the downstream ground corner")
        XCTAssertGreaterThan(wind.x[13 + 12], 0, "forward flow at the next node up")
        XCTAssertTrue(nodal[12])
        XCTAssertFalse(flux[12])
        let uniform = NodalWind(x: [Double](repeating: 1, count: m.nodeCount), y: [Double](repeating: 0, count: m.nodeCount))
        XCTAssertEqual(try InflowDetection.flux.nodes(mesh: m, wind: uniform, tags: tags),
                       try InflowDetection.nodal.nodes(mesh: m, wind: uniform, tags: tags))
        XCTAssertEqual(try InflowDetection.flux.nodes(mesh: m, wind: uniform, tags: tags).filter { $0 }.count, 9)
    }
}
