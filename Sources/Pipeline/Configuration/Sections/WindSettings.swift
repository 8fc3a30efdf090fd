/// `[wind]`: the generalized Blasius profile of formulation.md §2 and the policy of §2a
/// (`blasius-solve`; see docs/blasius.md).
public struct WindSettings: Sendable, Equatable {
    /// What to do with a sample that has no similarity solution (formulation.md §2a).
    public enum NoSolutionPolicy: String, CaseIterable, Sendable { case skip, clamp, error }

    /// Kinematic viscosity ν in (F1), (F3), (F4) (paper: 1e-5).
    public var nu: Double
    /// Distance x0 > 0 of the virtual leading edge in (F1) and (F4).
    public var x0: Double
    public var noSolution: NoSolutionPolicy
    /// δ added to the smallest admissible f_w under `clamp`.
    public var clampMargin: Double
    /// K, the nodes of each stored profile (η, f, f', f'').
    public var profilePoints: Int
    /// Accuracy of the boundary condition f'(∞) = 1 of the shooting method.
    public var tolerance: Double

    public init(_ r: SectionReader) throws {
        nu = try r.double("nu", default: 1e-5, in: 1e-12...1e3)
        x0 = try r.double("x0", default: 0.1, in: 1e-9...1e6)
        noSolution = try r.choice("no_solution", default: NoSolutionPolicy.skip)
        clampMargin = try r.double("clamp_margin", default: 1e-3, in: 0...10)
        profilePoints = try r.int("profile_points", default: 401, in: 16...100_000)
        // Below ~1e-12 the residual meets the rounding of doubles in the widest (blown-off) layers.
        tolerance = try r.double("tolerance", default: 1e-10, in: 1e-12...1e-3)
    }
}
