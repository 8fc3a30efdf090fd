/// `[wind]`: the generalized Blasius profile of formulation.md §2 and the policy of §2a.
public struct WindSettings: Sendable, Equatable {
    public enum NoSolutionPolicy: String, CaseIterable, Sendable { case skip, clamp, error }

    public var nu: Double
    public var x0: Double
    public var noSolution: NoSolutionPolicy
    public var clampMargin: Double
    public var profilePoints: Int
    public var tolerance: Double

    public init(_ r: SectionReader) throws {
        nu = try r.double("nu", default: 1e-5, in: 1e-12...1e3)
        x0 = try r.double("x0", default: 0.1, in: 1e-9...1e6)
        noSolution = try r.choice("no_solution", default: NoSolutionPolicy.skip)
        clampMargin = try r.double("clamp_margin", default: 1e-3, in: 0...10)
        profilePoints = try r.int("profile_points", default: 401, in: 16...100_000)
        tolerance = try r.double("tolerance", default: 1e-10, in: 1e-15...1e-3)
    }
}
