import Foundation
@testable import PDE

/// A smooth field with its gradient and Laplacian, for building manufactured right-hand sides.
struct Field {
    var value: (Double, Double) -> Double
    var gradient: (Double, Double) -> (Double, Double)
    var laplacian: (Double, Double) -> Double
}

/// A linear wind u = (a + b y, c x): its P1 interpolant is exact, so the only discretization error
/// is that of the concentrations.
struct LinearWind {
    var a = 1.0, b = 0.5, c = 0.0
    func x(_ x: Double, _ y: Double) -> Double { a + b * y }
    func y(_ x: Double, _ y: Double) -> Double { c * x }
}

enum Fields {
    /// c = sin(πx/2)(2 + cos(πy)): zero at x = 0 (the inflow side) and ∂c/∂n = 0 on y = 0, y = 1 and
    /// x = 1, so the natural (do-nothing) condition there is exact.
    static let naturalA = Field(
        value: { x, y in sin(.pi * x / 2) * (2 + cos(.pi * y)) },
        gradient: { x, y in (.pi / 2 * cos(.pi * x / 2) * (2 + cos(.pi * y)), -.pi * sin(.pi * x / 2) * sin(.pi * y)) },
        laplacian: { x, y in -(.pi * .pi / 4) * sin(.pi * x / 2) * (2 + cos(.pi * y)) - .pi * .pi * sin(.pi * x / 2) * cos(.pi * y) })

    /// c = sin(πx/2)(1.5 + cos(2πy)): same boundary behaviour.
    static let naturalB = Field(
        value: { x, y in sin(.pi * x / 2) * (1.5 + cos(2 * .pi * y)) },
        gradient: { x, y in (.pi / 2 * cos(.pi * x / 2) * (1.5 + cos(2 * .pi * y)), -2 * .pi * sin(.pi * x / 2) * sin(2 * .pi * y)) },
        laplacian: { x, y in -(.pi * .pi / 4) * sin(.pi * x / 2) * (1.5 + cos(2 * .pi * y)) - 4 * .pi * .pi * sin(.pi * x / 2) * cos(2 * .pi * y) })

    /// c = x²(3 − 2x)(1 + cos(πy)/2): zero at x = 0, ∂c/∂x = 6x(1 − x)(…) = 0 at x = 1, ∂c/∂y = 0 at y = 0, 1.
    static let naturalC = Field(
        value: { x, y in x * x * (3 - 2 * x) * (1 + 0.5 * cos(.pi * y)) },
        gradient: { x, y in (6 * x * (1 - x) * (1 + 0.5 * cos(.pi * y)), -0.5 * .pi * x * x * (3 - 2 * x) * sin(.pi * y)) },
        laplacian: { x, y in (6 - 12 * x) * (1 + 0.5 * cos(.pi * y)) - 0.5 * .pi * .pi * x * x * (3 - 2 * x) * cos(.pi * y) })

    /// A field with no special boundary behaviour (for fully Dirichlet problems): e^{x/2} sin(2y + 0.3) + x y.
    static let generic = Field(
        value: { x, y in exp(x / 2) * sin(2 * y + 0.3) + x * y },
        gradient: { x, y in (0.5 * exp(x / 2) * sin(2 * y + 0.3) + y, 2 * exp(x / 2) * cos(2 * y + 0.3) + x) },
        laplacian: { x, y in (0.25 - 4) * exp(x / 2) * sin(2 * y + 0.3) })
}

/// Errors of one solve and the observed rates between successive meshes (h halves each time).
struct ConvergenceStudy {
    var l2: [Double] = []
    var h1: [Double] = []

    static func rates(_ errors: [Double]) -> [Double] {
        zip(errors, errors.dropFirst()).map { log($0 / $1) / log(2) }
    }
    var l2Rates: [Double] { ConvergenceStudy.rates(l2) }
    var h1Rates: [Double] { ConvergenceStudy.rates(h1) }
}

/// Nodal values of a field on a mesh.
func sample(_ f: (Double, Double) -> Double, on mesh: TriangleMesh) -> [Double] {
    (0..<mesh.nodeCount).map { f(mesh.x[$0], mesh.y[$0]) }
}

/// Solves the manufactured problem
///   u·∇c_s − D_s Δc_s + Σ_t L_st c_t + Σ_products rate_s c_a c_b = Q_s
/// with Q_s computed from the exact fields, the load integrated with the degree-5 rule, and c = exact
/// on the given Dirichlet nodes. Returns the solution.
func solveManufactured(mesh: TriangleMesh, exact: [Field], wind: LinearWind, diffusion: [Double],
                       reactions: ReactionModel, dirichlet: [Bool], stabilization: Stabilization = .supg,
                       nodalSource: Bool = false, options: NewtonOptions = NewtonOptions()) throws -> TransportSolution {
    let k = exact.count
    let space = try CoupledP1Space(mesh: mesh, speciesCount: k)
    let sources: [((Double, Double) -> Double)?] = (0..<k).map { s in
        { x, y in
            let (gx, gy) = exact[s].gradient(x, y)
            var q = wind.x(x, y) * gx + wind.y(x, y) * gy - diffusion[s] * exact[s].laplacian(x, y)
            for t in 0..<k { q += reactions.linear[s * k + t] * exact[t].value(x, y) }
            for p in reactions.products { q += p.rates[s] * exact[p.first].value(x, y) * exact[p.second].value(x, y) }
            return q
        }
    }
    var source = SourceLoad.integrating(sources, over: mesh)
    if nodalSource { source = .nodal((0..<k).map { source.nodalLoad(species: $0, mesh: mesh) }) }
    var boundaryValues = [Double](repeating: 0, count: mesh.nodeCount * k)
    for i in 0..<mesh.nodeCount { for s in 0..<k { boundaryValues[i * k + s] = exact[s].value(mesh.x[i], mesh.y[i]) } }
    let problem = TransportProblem(velocityX: sample(wind.x, on: mesh), velocityY: sample(wind.y, on: mesh),
                                   diffusion: diffusion, reactions: reactions, source: source,
                                   dirichletNodes: dirichlet, dirichletValues: boundaryValues, stabilization: stabilization)
    return try SteadyTransportSolver(space: space, options: options).solve(problem)
}

/// Runs a manufactured problem on a sequence of meshes and measures the errors of every species.
func convergenceStudy(meshes: [TriangleMesh], exact: [Field], wind: LinearWind, diffusion: [Double],
                      reactions: ReactionModel, dirichlet: (TriangleMesh) throws -> [Bool],
                      stabilization: Stabilization = .supg, nodalSource: Bool = false) throws -> [ConvergenceStudy] {
    var studies = [ConvergenceStudy](repeating: ConvergenceStudy(), count: exact.count)
    for mesh in meshes {
        let solution = try solveManufactured(mesh: mesh, exact: exact, wind: wind, diffusion: diffusion, reactions: reactions,
                                             dirichlet: try dirichlet(mesh), stabilization: stabilization, nodalSource: nodalSource)
        for s in 0..<exact.count {
            let field = solution.species(s)
            studies[s].l2.append(try MeshIntegrals.l2Error(mesh: mesh, field: field, exact: exact[s].value))
            studies[s].h1.append(try MeshIntegrals.h1SeminormError(mesh: mesh, field: field, exactGradient: exact[s].gradient))
        }
    }
    return studies
}

func unitSquares(_ sizes: [Int]) throws -> [TriangleMesh] {
    try sizes.map { try TriangleMesh.structured(StructuredMeshSpecification(nx: $0, ny: $0)) }
}
