import XCTest
import NumericalFoundations
@testable import PDE

/// Checks of the assembled operator against an independent brute-force evaluation by quadrature,
/// of the Jacobian against finite differences, and of the solver's failure modes.
final class AssemblyTests: XCTestCase {
    let k = 3

    /// A small terrain mesh with a non-trivial velocity and reactions, all three species active.
    func makeCase(stabilization: Stabilization = .supg) throws -> (CoupledP1Space, TransportProblem) {
        let mesh = try TriangleMesh.structured(StructuredMeshSpecification(lx: 1.5, ly: 1, nx: 5, ny: 4, groundGrading: 3, sourceGrading: 2, sourceX: 0.3,
                                                                           terrain: Terrain(bumps: [TerrainBump(center: 0.7, height: 0.15, width: 0.2)])))
        let space = try CoupledP1Space(mesh: mesh, speciesCount: k)
        let ux = (0..<mesh.nodeCount).map { 1 + 0.3 * sin(3 * mesh.x[$0]) + mesh.heightAboveGround[$0] }
        let uy = (0..<mesh.nodeCount).map { 0.2 * cos(2 * mesh.y[$0]) - 0.1 * mesh.x[$0] }
        var reactions = ReactionModel.pollutant(k12: 7, k3: 1.5)
        reactions.linear[1 * 3 + 0] = 0.4  // an off-diagonal linear coupling too
        reactions.products.append(ProductReaction(first: 2, second: 2, rates: [0, 0.5, 1]))  // a square term c3²
        let source = SourceLoad.integrating([{ x, y in 1 + x * y }, nil, { x, _ in x }], over: mesh)
        let inflow = try InflowBoundary.nodes(mesh: mesh, velocityX: ux, velocityY: uy)
        return (space, TransportProblem(velocityX: ux, velocityY: uy, diffusion: [0.05, 0.02, 0.1], reactions: reactions,
                                        source: source, dirichletNodes: inflow, stabilization: stabilization))
    }

    /// F(c) computed the slow way: for every triangle, the degree-5 rule applied to the strong
    /// residual and the test functions φ_i + τ u_h·∇φ_i, with τ from the documented formula.
    func bruteForceResidual(space: CoupledP1Space, problem p: TransportProblem, state c: [Double]) -> [Double] {
        let mesh = space.mesh, rule = TriangleQuadrature.degree5
        var r = [Double](repeating: 0, count: space.unknownCount)
        let moments: [[Double]]
        if case .elementMoments(let m) = p.source { moments = m } else { fatalError("test uses element moments") }
        for t in 0..<mesh.triangleCount {
            let (a, b, cc) = mesh.nodes(ofTriangle: t)
            let nodes = [a, b, cc]
            let g = ElementGeometry(mesh: mesh, triangle: t)
            // τ: centroid velocity, streamline length, Codina's formula.
            let uxc = nodes.map { p.velocityX[$0] }.reduce(0, +) / 3, uyc = nodes.map { p.velocityY[$0] }.reduce(0, +) / 3
            let speed = (uxc * uxc + uyc * uyc).squareRoot()
            let streamSum = (0..<3).map { abs(uxc * g.gradientX[$0] + uyc * g.gradientY[$0]) }.reduce(0, +)
            let h = 2 * speed / streamSum
            for (q, l) in rule.points.enumerated() {
                let lam = [l.0, l.1, l.2]
                let w = rule.weights[q] * g.area
                let ux = (0..<3).map { lam[$0] * p.velocityX[nodes[$0]] }.reduce(0, +)
                let uy = (0..<3).map { lam[$0] * p.velocityY[nodes[$0]] }.reduce(0, +)
                let value = (0..<k).map { s in (0..<3).map { lam[$0] * c[nodes[$0] * k + s] }.reduce(0, +) }
                let gradX = (0..<k).map { s in (0..<3).map { g.gradientX[$0] * c[nodes[$0] * k + s] }.reduce(0, +) }
                let gradY = (0..<k).map { s in (0..<3).map { g.gradientY[$0] * c[nodes[$0] * k + s] }.reduce(0, +) }
                for s in 0..<k {
                    var reaction = 0.0
                    for u in 0..<k { reaction += p.reactions.linear[s * k + u] * value[u] }
                    for product in p.reactions.products { reaction += product.rates[s] * value[product.first] * value[product.second] }
                    // Q_s at the point: the P1 moments are ∫ Q φ_m, so here we integrate Q exactly by
                    // re-evaluating the source functions of makeCase.
                    let x = (0..<3).map { lam[$0] * mesh.x[nodes[$0]] }.reduce(0, +), y = (0..<3).map { lam[$0] * mesh.y[nodes[$0]] }.reduce(0, +)
                    let sourceValue = [1 + x * y, 0, x][s]
                    let tau = p.stabilization == .supg
                        ? 1 / (streamSum + 4 * p.diffusion[s] / (h * h) + abs(p.reactions.linear[s * k + s])) : 0
                    let strong = ux * gradX[s] + uy * gradY[s] + reaction - sourceValue
                    for i in 0..<3 {
                        let streamTest = ux * g.gradientX[i] + uy * g.gradientY[i]
                        let diffusive = p.diffusion[s] * (gradX[s] * g.gradientX[i] + gradY[s] * g.gradientY[i])
                        r[nodes[i] * k + s] += w * (strong * (lam[i] + tau * streamTest) + diffusive)
                    }
                }
            }
            _ = moments
        }
        for node in 0..<mesh.nodeCount where p.dirichletNodes[node] {
            for s in 0..<k { r[node * k + s] = c[node * k + s] - (p.dirichletValues?[node * k + s] ?? 0) }
        }
        return r
    }

    func randomState(_ count: Int, seed: UInt64) -> [Double] {
        var random = SplitMix64(state: seed)
        return (0..<count).map { _ in random.uniform() * 2 - 0.5 }
    }

    func testResidualMatchesBruteForceQuadrature() throws {
        for stabilization in [Stabilization.supg, .none] {
            let (space, problem) = try makeCase(stabilization: stabilization)
            let solver = SteadyTransportSolver(space: space)
            try solver.prepare(problem)
            let c = randomState(space.unknownCount, seed: 5)
            let fast = try solver.residual(at: c), slow = bruteForceResidual(space: space, problem: problem, state: c)
            let scale = slow.map(abs).max()!
            // Both are exact integrals of the same polynomials (degree ≤ 4 per element, the rule is
            // exact to degree 5): they differ only by round-off.
            for i in 0..<fast.count { XCTAssertEqual(fast[i], slow[i], accuracy: 1e-12 * scale, "unknown \(i), \(stabilization)") }
        }
    }

    func testJacobianMatchesCentralDifferences() throws {
        let (space, problem) = try makeCase()
        let solver = SteadyTransportSolver(space: space)
        try solver.prepare(problem)
        let c = randomState(space.unknownCount, seed: 9), v = randomState(space.unknownCount, seed: 10)
        let jv = try solver.jacobian(at: c).multiply(v)
        let epsilon = 1e-3
        let plus = try solver.residual(at: zip(c, v).map { $0 + epsilon * $1 })
        let minus = try solver.residual(at: zip(c, v).map { $0 - epsilon * $1 })
        // F is quadratic in c, so the central difference is exact up to round-off ≈ 1e-16 ‖F‖ / ε.
        let scale = jv.map(abs).max()!
        for i in 0..<jv.count { XCTAssertEqual(jv[i], (plus[i] - minus[i]) / (2 * epsilon), accuracy: 1e-9 * scale, "row \(i)") }
        // The product terms make J differ from the linear operator.
        let linear = try solver.linearSystem().matrix.multiply(v)
        XCTAssertGreaterThan(zip(jv, linear).map { abs($0 - $1) }.max()!, 1e-3 * scale)
    }

    func testUMFPACKResidualOnTheAssembledSystems() throws {
        let (space, problem) = try makeCase()
        let solver = SteadyTransportSolver(space: space)
        try solver.prepare(problem)
        let (matrix, load) = try solver.linearSystem()
        let lu = UMFPACKFactorization(symbolic: space.symbolicAnalysis)
        try lu.factorize(matrix)
        // The specified bound; LU with iterative refinement reaches round-off (~1e-16).
        XCTAssertLessThan(try matrix.relativeResidual(solution: try lu.solve(load), rightHandSide: load), 1e-12)
        let jacobian = try solver.jacobian(at: randomState(space.unknownCount, seed: 2))
        try lu.factorize(jacobian)
        XCTAssertLessThan(try jacobian.relativeResidual(solution: try lu.solve(load), rightHandSide: load), 1e-12)
    }

    func testNodalAndElementLoadsGiveTheSameGalerkinSystem() throws {
        var (space, problem) = try makeCase(stabilization: .none)
        let solver = SteadyTransportSolver(space: space)
        try solver.prepare(problem)
        let elementLoad = try solver.linearSystem().rightHandSide
        problem.source = .nodal((0..<3).map { problem.source.nodalLoad(species: $0, mesh: space.mesh) })
        try solver.prepare(problem)
        let nodalLoad = try solver.linearSystem().rightHandSide
        for i in 0..<elementLoad.count { XCTAssertEqual(elementLoad[i], nodalLoad[i], accuracy: 1e-15) }
        _ = space
    }

    func testInflowMaskFollowsTheWind() throws {
        let mesh = try TriangleMesh.structured(StructuredMeshSpecification(nx: 4, ny: 4))
        // Wind from the left and downward: enters through x = 0 and y = 1 (top), leaves at x = 1.
        let ux = [Double](repeating: 1, count: mesh.nodeCount), uy = [Double](repeating: -0.5, count: mesh.nodeCount)
        let mask = try InflowBoundary.nodes(mesh: mesh, velocityX: ux, velocityY: uy)
        for i in 0..<mesh.nodeCount {
            let expected = mesh.x[i] == 0 || mesh.y[i] == 1
            XCTAssertEqual(mask[i], expected, "node \(i) at (\(mesh.x[i]), \(mesh.y[i]))")
        }
        // Including the ground: a downward wind leaves through it, so nothing changes.
        XCTAssertEqual(try InflowBoundary.nodes(mesh: mesh, velocityX: ux, velocityY: uy, tags: Set(BoundaryTag.allCases)), mask)
        // Blowing ground (upward wind) counts only when the ground is included.
        let up = [Double](repeating: 0.5, count: mesh.nodeCount)
        let withGround = try InflowBoundary.nodes(mesh: mesh, velocityX: ux, velocityY: up, tags: Set(BoundaryTag.allCases))
        XCTAssertTrue((0..<mesh.nodeCount).filter { mesh.y[$0] == 0 }.allSatisfy { withGround[$0] })
    }

    /// A steep outflow layer (D = 1e-3, element Péclet ≈ 16, c = 1 in, c = 0 prescribed at the outflow):
    /// plain Galerkin oscillates with O(1) amplitude; SUPG shrinks the overshoot more than tenfold.
    /// (SUPG is not monotone: on this criss-cross triangulation a ≈ 20 % overshoot remains in the
    /// column next to the unresolved layer, alternating between rows; in 1-D this τ is nodally exact.)
    func testSUPGDampsTheOscillationsOfGalerkin() throws {
        let mesh = try TriangleMesh.structured(StructuredMeshSpecification(nx: 16, ny: 4))
        let space = try CoupledP1Space(mesh: mesh, speciesCount: 1)
        var values = [Double](repeating: 0, count: mesh.nodeCount)
        for i in 0..<mesh.nodeCount where mesh.x[i] == 0 { values[i] = 1 }
        let dirichlet = mesh.boundaryNodeMask(tags: [.upstream, .downstream])
        func overshoot(_ stabilization: Stabilization) throws -> Double {
            let problem = TransportProblem(velocityX: [Double](repeating: 1, count: mesh.nodeCount), velocityY: [Double](repeating: 0, count: mesh.nodeCount),
                                           diffusion: [1e-3], reactions: ReactionModel(speciesCount: 1), source: .nodal([[]]),
                                           dirichletNodes: dirichlet, dirichletValues: values, stabilization: stabilization)
            let c = try SteadyTransportSolver(space: space).solve(problem).values
            return max(c.max()! - 1, -c.min()!)  // the exact solution lies in [0, 1]
        }
        let galerkin = try overshoot(.none), supg = try overshoot(.supg)
        print("overshoot: Galerkin \(galerkin), SUPG \(supg)")
        XCTAssertGreaterThan(galerkin, 1.5)       // measured 3.15
        XCTAssertLessThan(supg, 0.25)             // measured 0.197
        XCTAssertLessThan(supg, galerkin / 10)
    }

    func testInvalidProblemsAreRejectedWithTheField() throws {
        let (space, problem) = try makeCase()
        let solver = SteadyTransportSolver(space: space)
        var bad = problem
        bad.diffusion = [0.1, -1, 0.1]
        XCTAssertThrowsError(try solver.solve(bad)) { XCTAssertTrue("\($0)".contains("diffusion: species 1 has D = -1.0"), "\($0)") }
        bad = problem
        bad.velocityX[3] = .nan
        XCTAssertThrowsError(try solver.solve(bad)) { XCTAssertTrue("\($0)".contains("velocityX: value 3 is nan"), "\($0)") }
        bad = problem
        bad.source = .nodal([[1, 2]])
        XCTAssertThrowsError(try solver.solve(bad)) { XCTAssertTrue("\($0)".contains("source[0]"), "\($0)") }
        bad = problem
        bad.dirichletNodes = [true]
        XCTAssertThrowsError(try solver.solve(bad)) { XCTAssertTrue("\($0)".contains("dirichletNodes"), "\($0)") }
    }

    /// u·∇c − DΔc − K c² = Q with a large Q has no steady solution (the reaction feeds itself):
    /// Newton must stop with a typed failure and a finite report, not trap or return NaN.
    func testABlowUpProblemGivesATypedFailure() throws {
        let mesh = try TriangleMesh.structured(StructuredMeshSpecification(nx: 8, ny: 8))
        let space = try CoupledP1Space(mesh: mesh, speciesCount: 1)
        let reactions = ReactionModel(speciesCount: 1, products: [ProductReaction(first: 0, second: 0, rates: [-50])])
        let problem = TransportProblem(velocityX: [Double](repeating: 0.1, count: mesh.nodeCount), velocityY: [Double](repeating: 0, count: mesh.nodeCount),
                                       diffusion: [0.01], reactions: reactions, source: .integrating([{ _, _ in 100 }], over: mesh),
                                       dirichletNodes: mesh.boundaryNodeMask(tags: [.upstream]))
        XCTAssertThrowsError(try SteadyTransportSolver(space: space).solve(problem)) { error in
            guard let failure = error as? NewtonFailure else { return XCTFail("unexpected \(error)") }
            XCTAssertFalse(failure.report.converged)
            XCTAssertTrue(failure.report.relativeResiduals.allSatisfy { $0.isFinite })
            XCTAssertTrue([.notConverged, .lineSearchFailed].contains(failure.reason), "\(failure)")
            print("blow-up failure: \(failure)")
        }
        // Too few iterations for a solvable problem: notConverged with the history so far.
        let (coupled, pollutant) = try makeCase()
        XCTAssertThrowsError(try SteadyTransportSolver(space: coupled, options: NewtonOptions(maxIterations: 1)).solve(pollutant)) { error in
            XCTAssertEqual((error as? NewtonFailure)?.reason, .notConverged)
            XCTAssertEqual((error as? NewtonFailure)?.report.relativeResiduals.count, 2)
        }
    }

    /// No wind, no diffusion, no reaction, no Dirichlet node: the operator is zero, and the solve
    /// reports UMFPACK's singular-matrix error through `NewtonFailure`.
    func testASingularOperatorIsReportedAsALinearSolverFailure() throws {
        let mesh = try TriangleMesh.structured(StructuredMeshSpecification(nx: 3, ny: 3))
        let space = try CoupledP1Space(mesh: mesh, speciesCount: 1)
        let zero = [Double](repeating: 0, count: mesh.nodeCount)
        let problem = TransportProblem(velocityX: zero, velocityY: zero, diffusion: [0], reactions: ReactionModel(speciesCount: 1),
                                       source: .integrating([{ _, _ in 1 }], over: mesh), dirichletNodes: [Bool](repeating: false, count: mesh.nodeCount))
        XCTAssertThrowsError(try SteadyTransportSolver(space: space).solve(problem)) { error in
            XCTAssertEqual((error as? NewtonFailure)?.reason, .linearSolver(.singularMatrix))
            XCTAssertTrue("\(error)".contains("singular"), "\(error)")
        }
    }

    func testZeroLoadGivesTheZeroSolutionWithoutFactorizing() throws {
        var (space, problem) = try makeCase()
        problem.source = .nodal([])
        let solution = try SteadyTransportSolver(space: space).solve(problem)
        XCTAssertEqual(solution.values, [Double](repeating: 0, count: space.unknownCount))
        XCTAssertEqual(solution.report.factorizations, 0)
    }
}
