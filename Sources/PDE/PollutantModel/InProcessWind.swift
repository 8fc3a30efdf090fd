import Foundation

/// The Blasius profile of one parameter set solved on the spot (for `pollutant-fem solve`, the mesh
/// study and the figure fields), with the settings and no-solution policy of the wind stage.
public enum InProcessWind {
    /// The wind of (F1)–(F4) and how its similarity solution is found (the stages translate `[wind]`).
    public struct Options: Sendable, Equatable {
        /// Kinematic viscosity ν and the virtual leading edge x0 of (F1)–(F4).
        public var nu: Double
        public var x0: Double
        /// `.error` acts as `.skip` here: a parameter set without a profile throws either way.
        public var policy: NoSolutionPolicy
        /// The shooting method's accuracy of f'(∞) = 1, and the nodes of the profile.
        public var tolerance: Double
        public var profilePoints: Int

        public init(nu: Double, x0: Double, policy: NoSolutionPolicy, tolerance: Double, profilePoints: Int) {
            self.nu = nu; self.x0 = x0; self.policy = policy; self.tolerance = tolerance; self.profilePoints = profilePoints
        }
    }

    public struct Outcome: Sendable {
        public var profile: BlasiusProfile
        public var status: WindStatus
        /// What the policy changed (clamped f_w), if anything.
        public var note: String?
    }

    /// Throws `PollutantInputError` naming the parameters when there is no profile (no similarity
    /// solution under `skip`/`error`, or the shooting did not converge).
    public static func profile(for p: PollutantParameters, options: Options) throws -> Outcome {
        let similarity: SimilarityParameters
        do { similarity = try SimilarityParameters(U0: p.u0, uh: p.uh, uv: p.uv, nu: options.nu) } catch {
            throw PollutantInputError("wind for \(p): \(error)")
        }
        // `WindBatch.solveSample` applies only `clamp`; the `error` policy is `solveAll`'s, so a single
        // sample under `error` is solved as under `skip` and its missing profile thrown below.
        let solver = BlasiusSolver(tolerance: options.tolerance, profilePoints: options.profilePoints)
        let outcome = WindBatch.solveSample(similarity, solver: solver, policy: options.policy)
        guard outcome.status.hasProfile, let solution = outcome.solution else {
            throw PollutantInputError("no wind profile for \(p) (λ = \(similarity.lambda), f_w = \(similarity.fw)): \(outcome.status.label): \(outcome.reason ?? "no reason given")")
        }
        return Outcome(profile: solution.profile, status: outcome.status, note: outcome.status == .clamped ? outcome.reason : nil)
    }
}
