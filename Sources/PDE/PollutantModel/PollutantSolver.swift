import Foundation

/// The wind at the mesh nodes (its P1 interpolant is used inside the elements).
public struct NodalWind: Sendable {
    public var x: [Double]
    public var y: [Double]
    public init(x: [Double], y: [Double]) { self.x = x; self.y = y }

    /// The Blasius wind (F1)–(F4) at every node, with the node's height above the ground in (F1).
    /// Beyond the profile's last node `BlasiusProfile` continues with the asymptotes f' = 1,
    /// f = η − β, so the far field is u_x = U0, u_y = ½ sqrt(νU0/(x + x0)) β.
    public init(field: WindField, mesh: TriangleMesh) {
        var ux = [Double](repeating: 0, count: mesh.nodeCount), uy = ux
        for i in 0..<mesh.nodeCount {
            let u = field.velocity(x: mesh.x[i], heightAboveGround: mesh.heightAboveGround[i])
            ux[i] = u.ux; uy[i] = u.uy
        }
        x = ux; y = uy
    }
}

/// One solved sample: the three concentrations on the mesh and c3 at the observation points.
public struct PollutantSolution: Sendable {
    /// Interleaved nodal values, index node·3 + species (0 = c1, 1 = c2, 2 = c3).
    public var values: [Double]
    public var wind: NodalWind
    /// Nodes where c = 0 was imposed because the wind enters there (u·n < 0).
    public var inflowNodes: [Bool]
    public var report: NewtonReport
    /// c3 interpolated at the observation points (the surrogate's outputs), in grid order k = j·nx + i.
    public var c3AtObservations: [Double]

    public func species(_ s: Int) -> [Double] { stride(from: s, to: values.count, by: 3).map { values[$0] } }

    /// Smallest nodal value of c1, c2, c3 (negative values are SUPG undershoots near unresolved layers).
    public var minima: [Double] {
        var m = [Double](repeating: .infinity, count: 3)
        for (k, v) in values.enumerated() where v < m[k % 3] { m[k % 3] = v }
        return m
    }

    public var maxima: [Double] {
        var m = [Double](repeating: -.infinity, count: 3)
        for (k, v) in values.enumerated() where v > m[k % 3] { m[k % 3] = v }
        return m
    }
}

/// A solution with a non-finite value (the FE core never returns one, but the dataset must not hold NaN).
public struct NonFiniteSolution: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Solves (F5)–(F8) for one parameter set at a time. One per thread: it owns the numeric UMFPACK
/// factorization and the work arrays of the FE core's `SteadyTransportSolver`, while the mesh, pattern
/// and symbolic analysis come from the shared `PollutantDiscretization`.
public final class PollutantSolver {
    public let discretization: PollutantDiscretization
    let transport: SteadyTransportSolver

    public init(discretization: PollutantDiscretization, newton: NewtonOptions = NewtonOptions()) {
        self.discretization = discretization
        transport = SteadyTransportSolver(space: discretization.space, options: newton)
    }


    /// The transport problem of (F5)–(F8) for these parameters and this wind: D for all species,
    /// K12 c1c2 consumed in (F5), (F6) and produced in (F7), K3 c3 decay, the exact disk moments of
    /// Q1, Q2, and c = 0 at the nodes where the wind enters (u·n < 0 on the boundary parts in
    /// `discretization.inflowTags`, by `discretization.inflowDetection`), detected per sample because it
    /// changes with u_h and u_v (with suction the top becomes an inflow).
    public func problem(_ p: PollutantParameters, wind: NodalWind) throws -> TransportProblem {
        let mesh = discretization.mesh
        guard wind.x.count == mesh.nodeCount, wind.y.count == mesh.nodeCount else {
            throw PollutantInputError("the wind has \(wind.x.count) × \(wind.y.count) values for \(mesh.nodeCount) nodes")
        }
        let inflow = try discretization.inflowDetection.nodes(mesh: mesh, wind: wind, tags: discretization.inflowTags)
        return TransportProblem(
            velocityX: wind.x, velocityY: wind.y,
            diffusion: [p.diffusion, p.diffusion, p.diffusion],
            reactions: .pollutant(k12: p.k12, k3: p.k3),
            source: .elementMoments([discretization.sourceMoments[0], discretization.sourceMoments[1], []]),
            dirichletNodes: inflow)
    }

    /// Solves one sample. Throws `NewtonFailure` (with its report) when Newton fails,
    /// `TransportProblemError` for unusable data, `NonFiniteSolution` if a value is not finite.
    public func solve(_ p: PollutantParameters, wind: NodalWind) throws -> PollutantSolution {
        let problem = try problem(p, wind: wind)
        let solution = try transport.solve(problem)
        if let bad = solution.values.firstIndex(where: { !$0.isFinite }) {
            throw NonFiniteSolution(message: "c\(bad % 3 + 1) at node \(bad / 3) is \(solution.values[bad])")
        }
        let c3 = try discretization.observationInterpolation.apply(interleaved: solution.values, species: 2, speciesCount: 3)
        return PollutantSolution(values: solution.values, wind: wind, inflowNodes: problem.dirichletNodes,
                                 report: solution.report, c3AtObservations: c3)
    }

    /// Solves one sample with its Blasius wind.
    public func solve(_ p: PollutantParameters, profile: BlasiusProfile, nu: Double, x0: Double) throws -> PollutantSolution {
        let field = try WindField(profile: profile, U0: p.u0, nu: nu, x0: x0)
        return try solve(p, wind: NodalWind(field: field, mesh: discretization.mesh))
    }
}
