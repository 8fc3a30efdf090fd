/// A reaction term rates[s] · c_first · c_second in equation s (formulation.md (F5)–(F7): K12 c1 c2).
public struct ProductReaction: Sendable, Equatable {
    public var first: Int
    public var second: Int
    /// One rate per equation (0 where the product does not appear); the sign is the term's sign on the
    /// left-hand side, so consumption is positive and production negative.
    public var rates: [Double]
    public init(first: Int, second: Int, rates: [Double]) {
        self.first = first
        self.second = second
        self.rates = rates
    }
}

/// Reactions of k species, on the left-hand side of L c = Q: a linear part (k × k, row-major,
/// equation s gets Σ_t linear[s·k + t] · c_t) plus products of two species.
public struct ReactionModel: Sendable, Equatable {
    public var speciesCount: Int
    public var linear: [Double]
    public var products: [ProductReaction]

    public init(speciesCount: Int, linear: [Double]? = nil, products: [ProductReaction] = []) {
        self.speciesCount = speciesCount
        self.linear = linear ?? [Double](repeating: 0, count: speciesCount * speciesCount)
        self.products = products
    }

    /// (F5)–(F7): + K12 c1 c2 in the equations of c1 and c2, − K12 c1 c2 + K3 c3 in that of c3.
    public static func pollutant(k12: Double, k3: Double) -> ReactionModel {
        ReactionModel(speciesCount: 3, linear: [0, 0, 0, 0, 0, 0, 0, 0, k3],
                      products: [ProductReaction(first: 0, second: 1, rates: [k12, k12, -k12])])
    }
}

/// The right-hand side Q of every species, already integrated against the basis.
///
/// `elementMoments` is the exact form: for each species, 3 numbers per triangle, ∫_e Q φ_a for its
/// local vertices a (index 3·triangle + a). SUPG needs the source inside each element (its residual
/// is tested with τ u·∇φ_i), and because u_h·∇φ_i is linear on the triangle that term is exactly
/// τ_e Σ_m (u_m·∇φ_i) ∫_e Q φ_m: the moments carry all of it, also for a discontinuous Q.
///
/// `nodal` is the assembled load ∫ Q φ_i per node. The Galerkin part is then exact, and the SUPG
/// part uses the lumped projection q_i = (∫ Q φ_i) / (∫ φ_i) as a P1 stand-in for Q, which is
/// second-order accurate for smooth Q.
///
/// A species without a source may be given an empty array.
public enum SourceLoad: Sendable {
    case elementMoments([[Double]])
    case nodal([[Double]])

    /// Element moments of the functions q_s(x, y) with the degree-5 rule `TriangleQuadrature.degree5`
    /// (exact when q_s is a polynomial of degree ≤ 4); nil for a species without source.
    public static func integrating(_ functions: [((Double, Double) -> Double)?], over mesh: TriangleMesh) -> SourceLoad {
        let rule = TriangleQuadrature.degree5
        return .elementMoments(functions.map { function in
            guard let function else { return [] }
            var moments = [Double](repeating: 0, count: 3 * mesh.triangleCount)
            for t in 0..<mesh.triangleCount {
                let (a, b, c) = mesh.nodes(ofTriangle: t)
                let area = mesh.area(ofTriangle: t)
                for (q, (l0, l1, l2)) in rule.points.enumerated() {
                    let value = function(l0 * mesh.x[a] + l1 * mesh.x[b] + l2 * mesh.x[c], l0 * mesh.y[a] + l1 * mesh.y[b] + l2 * mesh.y[c])
                    let weight = rule.weights[q] * area * value
                    moments[3 * t] += weight * l0
                    moments[3 * t + 1] += weight * l1
                    moments[3 * t + 2] += weight * l2
                }
            }
            return moments
        })
    }

    /// The assembled nodal load ∫ Q_s φ_i of one species.
    public func nodalLoad(species s: Int, mesh: TriangleMesh) -> [Double] {
        switch self {
        case .nodal(let loads):
            return s < loads.count && !loads[s].isEmpty ? loads[s] : [Double](repeating: 0, count: mesh.nodeCount)
        case .elementMoments(let moments):
            var load = [Double](repeating: 0, count: mesh.nodeCount)
            guard s < moments.count, !moments[s].isEmpty else { return load }
            for (k, node) in mesh.triangles.enumerated() { load[node] += moments[s][k] }
            return load
        }
    }
}

public enum Stabilization: Sendable, Equatable {
    /// Plain Galerkin (for comparisons; oscillates when the element Péclet number exceeds 1).
    case none
    /// Streamline-upwind Petrov–Galerkin with Codina's τ (see `SteadyTransportSolver`).
    case supg
}

/// One steady advection–diffusion–reaction problem on a `CoupledP1Space`:
/// u·∇c_s − D_s Δc_s + r_s(c) = Q_s, c = g on the Dirichlet nodes, zero diffusive flux elsewhere.
public struct TransportProblem: Sendable {
    /// Wind at the nodes (its P1 interpolant is used inside the elements).
    public var velocityX: [Double]
    public var velocityY: [Double]
    /// D_s per species (≥ 0).
    public var diffusion: [Double]
    public var reactions: ReactionModel
    public var source: SourceLoad
    /// Nodes where every species is prescribed (typically `InflowBoundary.nodes`).
    public var dirichletNodes: [Bool]
    /// Prescribed values, interleaved (node · k + species); nil means 0 (formulation.md: c = 0 at inflow).
    public var dirichletValues: [Double]?
    public var stabilization: Stabilization

    public init(velocityX: [Double], velocityY: [Double], diffusion: [Double], reactions: ReactionModel,
                source: SourceLoad, dirichletNodes: [Bool], dirichletValues: [Double]? = nil, stabilization: Stabilization = .supg) {
        self.velocityX = velocityX
        self.velocityY = velocityY
        self.diffusion = diffusion
        self.reactions = reactions
        self.source = source
        self.dirichletNodes = dirichletNodes
        self.dirichletValues = dirichletValues
        self.stabilization = stabilization
    }
}

public struct TransportProblemError: Error, CustomStringConvertible, Equatable {
    public var field: String
    public var message: String
    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }
    public var description: String { "invalid transport problem, \(field): \(message)" }
}

/// The inflow part of the boundary, where the wind enters (u·n < 0), as a node mask.
public enum InflowBoundary {
    /// A node is an inflow node when, on some boundary edge through it whose tag is in `tags`,
    /// its nodal velocity points into the domain: u_i · n_edge < −tolerance · |u_i|. The ground is
    /// left out by default because formulation.md §3 prescribes zero flux there whatever the
    /// transpiration velocity; pass it in `tags` to treat a blowing ground as an inflow.
    public static func nodes(mesh: TriangleMesh, velocityX: [Double], velocityY: [Double],
                             tags: Set<BoundaryTag> = [.upstream, .top, .downstream], tolerance: Double = 0) throws -> [Bool] {
        guard velocityX.count == mesh.nodeCount, velocityY.count == mesh.nodeCount else {
            throw TransportProblemError("velocity", "has \(velocityX.count) and \(velocityY.count) values for \(mesh.nodeCount) nodes")
        }
        var mask = [Bool](repeating: false, count: mesh.nodeCount)
        for edge in mesh.boundaryEdges where tags.contains(edge.tag) {
            for node in [edge.first, edge.second] {
                let ux = velocityX[node], uy = velocityY[node]
                let normalVelocity = ux * edge.normalX + uy * edge.normalY
                if normalVelocity < -tolerance * (ux * ux + uy * uy).squareRoot() { mask[node] = true }
            }
        }
        return mask
    }
}
