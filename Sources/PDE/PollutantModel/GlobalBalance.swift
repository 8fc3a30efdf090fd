import Foundation

/// The global balance of one species: integrating u·∇c − D∆c + r(c) = Q over Ω with a
/// divergence-free wind (the Blasius field (F4) is one: u = ∂ψ/∂y, v = −∂ψ/∂x with
/// ψ = sqrt(νU0(x + x0)) f(η)) gives
///
///     ∫ Q = ∫ r(c) + ∮ c u·n − ∮ D ∇c·n,
///
/// source = reaction + advective outflux + diffusive outflux. The discrete solution satisfies it only up
/// to the discretization error (SUPG, the Dirichlet rows, the P1 wind), so the imbalance measures that
/// error and must shrink under mesh refinement.
public struct SpeciesBalance: Sendable, Equatable {
    /// ∫_Ω Q_s (exact disk moments).
    public var source: Double
    /// ∫_Ω r_s(c_h): K12 c1c2 for c1 and c2, −K12 c1c2 + K3 c3 for c3 (exact for the P1 fields).
    public var reaction: Double
    /// ∮ c_h u_h·n over the whole boundary (P1 c and P1 wind on each edge, exact).
    public var advectiveOutflux: Double
    /// −∮ D ∇c_h·n (the element gradient of the triangle owning each edge).
    public var diffusiveOutflux: Double
    /// ∫ c_h ∇·u_h: zero for the continuous wind; what its P1 interpolant adds (reported, not in the balance).
    public var windDivergenceTerm: Double

    /// source − reaction − advective − diffusive outflux.
    public var imbalance: Double { source - reaction - advectiveOutflux - diffusiveOutflux }
    /// The largest term of the balance, the scale of `relativeImbalance`.
    public var magnitude: Double { max(abs(source), abs(reaction), abs(advectiveOutflux), abs(diffusiveOutflux)) }
    public var relativeImbalance: Double { magnitude > 0 ? abs(imbalance) / magnitude : 0 }
}

public enum GlobalBalance {
    /// The balance of c1, c2, c3 for a solution of `PollutantSolver`.
    public static func compute(_ solution: PollutantSolution, parameters p: PollutantParameters,
                               discretization: PollutantDiscretization) -> [SpeciesBalance] {
        let mesh = discretization.mesh, space = discretization.space, c = solution.values
        let ux = solution.wind.x, uy = solution.wind.y
        var product = 0.0                       // ∫ c1 c2
        var integral = [Double](repeating: 0, count: 3)   // ∫ c_s
        var divergence = [Double](repeating: 0, count: 3) // ∫ c_s ∇·u_h
        for t in 0..<mesh.triangleCount {
            let nodes = [mesh.triangles[3 * t], mesh.triangles[3 * t + 1], mesh.triangles[3 * t + 2]]
            let area = space.areas[t]
            // ∫_e c1 c2 = Σ_ij c1_i c2_j |e|(1 + δ_ij)/12.
            var sum1 = 0.0, sum2 = 0.0, diagonal = 0.0, div = 0.0
            for a in 0..<3 {
                let c1 = c[3 * nodes[a]], c2 = c[3 * nodes[a] + 1]
                sum1 += c1; sum2 += c2; diagonal += c1 * c2
                div += ux[nodes[a]] * space.gradientsX[3 * t + a] + uy[nodes[a]] * space.gradientsY[3 * t + a]
            }
            product += area / 12 * (sum1 * sum2 + diagonal)
            for s in 0..<3 {
                let mean = (c[3 * nodes[0] + s] + c[3 * nodes[1] + s] + c[3 * nodes[2] + s]) / 3
                integral[s] += area * mean
                divergence[s] += div * area * mean
            }
        }
        var advective = [Double](repeating: 0, count: 3), diffusive = advective
        for edge in mesh.boundaryEdges {
            let a = edge.first, b = edge.second, t = edge.triangle
            let wa = ux[a] * edge.normalX + uy[a] * edge.normalY, wb = ux[b] * edge.normalX + uy[b] * edge.normalY
            for s in 0..<3 {
                let ca = c[3 * a + s], cb = c[3 * b + s]
                // ∫_edge c w for linear c and w: L/6 (2 c_a w_a + c_a w_b + c_b w_a + 2 c_b w_b).
                advective[s] += edge.length / 6 * (2 * ca * wa + ca * wb + cb * wa + 2 * cb * wb)
                var gx = 0.0, gy = 0.0
                for l in 0..<3 {
                    let value = c[3 * mesh.triangles[3 * t + l] + s]
                    gx += value * space.gradientsX[3 * t + l]; gy += value * space.gradientsY[3 * t + l]
                }
                diffusive[s] -= p.diffusion * (gx * edge.normalX + gy * edge.normalY) * edge.length
            }
        }
        let reactions = [p.k12 * product, p.k12 * product, -p.k12 * product + p.k3 * integral[2]]
        let sources = [discretization.sourceIntegrals[0], discretization.sourceIntegrals[1], 0]
        return (0..<3).map {
            SpeciesBalance(source: sources[$0], reaction: reactions[$0], advectiveOutflux: advective[$0],
                           diffusiveOutflux: diffusive[$0], windDivergenceTerm: divergence[$0])
        }
    }

    /// Centre of mass of a nodal field (∫ x c / ∫ c, ∫ y c / ∫ c) with the P1 interpolant; nil if ∫ c = 0.
    public static func centreOfMass(_ field: [Double], mesh: TriangleMesh) -> (x: Double, y: Double)? {
        var mass = 0.0, mx = 0.0, my = 0.0
        for t in 0..<mesh.triangleCount {
            let (a, b, c) = mesh.nodes(ofTriangle: t)
            let area = mesh.area(ofTriangle: t)
            let fa = field[a], fb = field[b], fc = field[c]
            // ∫_e x c = |e|/12 (Σ x_i Σ c_i + Σ x_i c_i) for linear x and c.
            let sum = fa + fb + fc
            mass += area * sum / 3
            mx += area / 12 * ((mesh.x[a] + mesh.x[b] + mesh.x[c]) * sum + mesh.x[a] * fa + mesh.x[b] * fb + mesh.x[c] * fc)
            my += area / 12 * ((mesh.y[a] + mesh.y[b] + mesh.y[c]) * sum + mesh.y[a] * fa + mesh.y[b] * fb + mesh.y[c] * fc)
        }
        guard mass != 0 else { return nil }
        return (mx / mass, my / mass)
    }
}
