import Foundation

/// A synthetic stand-in for the FEM results (DATA/fem/c3.npy), for training studies while the FEM
/// stage is not available. It is NOT a solution of (F5)–(F8): it is a closed-form reacting plume
/// with the same inputs (K12, K3, D, U0, u_h, u_v), the same outputs (c3 at the observation grid)
/// and qualitatively the same dependence on them, so that the network faces a regression problem
/// of the paper's shape and difficulty class. Everything trained on it must be labelled synthetic.
///
/// For an observation point (x, y) and the source at (x_s, y_s):
///   u = max(U0 + u_h, 0.005)                  horizontal transport (the slip adds near the ground)
///   ξ = x − x_s,  τ = max(ξ, 0)/u + 0.01      travel time from the source
///   σ² = σ_0² + 2 D τ                         spread by diffusion (σ_0 = 0.05)
///   y_c = y_s + u_v τ                         centre line lifted or pressed by the vertical wind
///   P = K12 τ / (1 + K12 τ)                   production of c3 by the reaction, saturating
///   c3 = P e^{−K3 τ} (σ_0/σ) [e^{−(y − y_c)²/(2σ²)} + e^{−(y + y_c)²/(2σ²)}] · (ξ < 0 ? e^{u ξ / D} : 1)
/// The second Gaussian is the image source that makes ∂c3/∂y = 0 on the ground y = 0 (the zero-flux
/// condition); upstream of the source (ξ < 0) diffusion against the wind decays as e^{u ξ / D}.
public enum SyntheticPlume {
    public static let sourceX = 0.1
    public static let sourceY = 0.1
    public static let initialWidth = 0.05

    /// c3 at `points` (row-major x, y pairs) for one parameter set (K12, K3, D, U0, u_h, u_v).
    public static func concentrations(parameters p: [Double], points: [Double]) -> [Double] {
        precondition(p.count == 6 && points.count % 2 == 0)
        let (k12, k3, d, u0, uh, uv) = (p[0], p[1], p[2], p[3], p[4], p[5])
        let u = max(u0 + uh, 0.005)
        let s0 = initialWidth
        return stride(from: 0, to: points.count, by: 2).map { i in
            let x = points[i], y = points[i + 1]
            let xi = x - sourceX
            let tau = max(xi, 0) / u + 0.01
            let sigma2 = s0 * s0 + 2 * d * tau
            let yc = sourceY + uv * tau
            let production = k12 * tau / (1 + k12 * tau)
            let vertical = exp(-(y - yc) * (y - yc) / (2 * sigma2)) + exp(-(y + yc) * (y + yc) / (2 * sigma2))
            let upstream = xi < 0 ? exp(u * xi / d) : 1
            return production * exp(-k3 * tau) * (s0 / sigma2.squareRoot()) * vertical * upstream
        }
    }

    /// The observation grid of formulation.md §3 on flat ground (as `PollutantModel.ObservationGrid`):
    /// point (i, j) at x = Lx ((i + ½)/nx)^gx, y = Ly ((j + ½)/ny)^gy, index j·nx + i.
    public static func observationPoints(nx: Int, ny: Int, lx: Double, ly: Double, gradingX: Double, gradingY: Double) -> [Double] {
        var points: [Double] = []
        points.reserveCapacity(2 * nx * ny)
        for j in 0..<ny {
            let y = ly * pow((Double(j) + 0.5) / Double(ny), gradingY)
            for i in 0..<nx { points.append(lx * pow((Double(i) + 0.5) / Double(nx), gradingX)); points.append(y) }
        }
        return points
    }
}
