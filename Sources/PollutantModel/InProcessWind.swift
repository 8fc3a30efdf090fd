import Foundation
import Blasius
import Configuration

/// The Blasius profile of one parameter set solved on the spot (for `pollutant-fem solve`, the mesh
/// study and the figure fields), with the `[wind]` settings and no-solution policy of `blasius-solve`.
public enum InProcessWind {
    public struct Outcome: Sendable {
        public var profile: BlasiusProfile
        public var status: WindStatus
        /// What the policy changed (clamped f_w), if anything.
        public var note: String?
    }

    /// Throws `PollutantInputError` naming the parameters when there is no profile (no similarity
    /// solution under `skip`/`error`, or the shooting did not converge).
    public static func profile(for p: PollutantParameters, settings: WindSettings) throws -> Outcome {
        let similarity: SimilarityParameters
        do { similarity = try SimilarityParameters(U0: p.u0, uh: p.uh, uv: p.uv, nu: settings.nu) } catch {
            throw PollutantInputError("wind for \(p): \(error)")
        }
        let policy: NoSolutionPolicy
        switch settings.noSolution {
        case .skip, .error: policy = .skip
        case .clamp: policy = .clamp(margin: settings.clampMargin)
        }
        let solver = BlasiusSolver(tolerance: settings.tolerance, profilePoints: settings.profilePoints)
        let outcome = WindBatch.solveSample(similarity, solver: solver, policy: policy)
        guard outcome.status.hasProfile, let solution = outcome.solution else {
            throw PollutantInputError("no wind profile for \(p) (λ = \(similarity.lambda), f_w = \(similarity.fw)): \(outcome.status.label): \(outcome.reason ?? "no reason given")")
        }
        return Outcome(profile: solution.profile, status: outcome.status, note: outcome.status == .clamped ? outcome.reason : nil)
    }
}
