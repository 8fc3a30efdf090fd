import Foundation

/// The smallest f_w with a solution at a given λ (the `clamp` policy of formulation.md §2a).
public enum MinimalSuction: Sendable, Equatable {
    /// Solutions exist for f_w ≥ fw (λ ≤ 0).
    case value(Double)
    /// λ > 0: a (possibly blown-off) solution exists for every f_w.
    case unbounded
    case notConverged(reason: String)
}

// The existence boundary. For λ ≤ 0 the residual R(x) = f'(∞) − 1 of a wall shot with x = ln f''(0) is
// U-shaped in x (the two solutions between λ_c and 0 are its two roots). Its minimum
//     m(λ, f_w) = min_x R(x; λ, f_w)
// is negative where solutions exist and positive where none does, so the turning point λ_c(f_w) is the
// root of m(·, f_w), and the smallest admissible suction f_w,c(λ) the root of m(λ, ·). By the envelope
// theorem ∂m/∂λ = ∂R/∂λ and ∂m/∂f_w = ∂R/∂f_w at the minimiser, both from the variational equations,
// so Newton's method applies to m directly (kept inside a bracket, with bisection as the fallback).
// This is continuation in f''(0): x is re-optimised at every step, starting from the previous minimiser.
extension BlasiusSolver {
    struct ResidualMinimum {
        var logWallCurvature: Double
        var value: Double
        var dLambda: Double
        var dFw: Double
        /// The residual only levels off towards x → −∞ (λ = 0): `value` is its limit.
        var atLimit: Bool
    }

    /// m(λ, f_w) and its parameter derivatives, for λ ≤ 0.
    func residualMinimum(lambda: Double, fw: Double, start: Double,
                         statistics: inout SolveStatistics) -> Result<ResidualMinimum, BoundaryFailure> {
        let shooting = problem(lambda: lambda, fw: fw)
        var search = MinimumSearch(maxEvaluations: maxShots, lowerLimit: -700, upperLimit: 100)
        let result = search.run(start: start) { x in orientedProbe(shooting, .wall(logCurvature: x)) }
        statistics.shots += search.evaluations
        switch result {
        case .failed(let reason): return .failure(BoundaryFailure(reason: reason))
        case .minimum(let p, let atLimit):
            let s = shooting.shootWithParameterSensitivities(logCurvature: p.t)
            statistics.shots += 1
            guard s.end == .complete else {
                return .failure(BoundaryFailure(reason: "the shot at the minimum of the residual did not complete"))
            }
            return .success(ResidualMinimum(logWallCurvature: p.t, value: s.residual, dLambda: s.dLambda, dFw: s.dFw, atLimit: atLimit))
        }
    }

    struct BoundaryFailure: Error { var reason: String }

    /// λ_c(f_w): the turning point of the branch connected to λ = 1. Solutions exist for λ ≥ λ_c.
    public func criticalLambda(fw: Double) -> CriticalPoint {
        var statistics = SolveStatistics()
        return criticalLambda(fw: fw, statistics: &statistics)
    }

    public func criticalLambda(fw: Double, statistics: inout SolveStatistics) -> CriticalPoint {
        guard fw.isFinite, abs(fw) <= 1e6 else { return .notConverged(reason: "f_w = \(fw) is not a finite number of moderate size") }
        if fw <= Self.blowOffSuction { return .blowOff }
        // Start on the existence side near the published values (λ_c(0) ≈ −0.354, λ_c(5) ≈ −5.84).
        var lambda = -(0.3541 + 0.55 * max(fw, 0) + 0.12 * max(fw, 0) * max(fw, 0)) * (fw < 0 ? (fw - Self.blowOffSuction) / -Self.blowOffSuction : 1)
        lambda = min(lambda, -1e-6)
        var x = guessLogWallCurvature(lambda: lambda, fw: fw) - 1
        var noSolutionSide: Double? = nil   // m > 0
        var solutionSide: Double? = nil     // m < 0
        for _ in 0..<80 {
            let minimum: ResidualMinimum
            switch residualMinimum(lambda: lambda, fw: fw, start: x, statistics: &statistics) {
            case .failure(let f): return .notConverged(reason: "λ_c(\(fw)) at λ = \(lambda): \(f.reason)")
            case .success(let m): minimum = m
            }
            x = minimum.logWallCurvature
            if abs(minimum.value) <= 1e-13 { return .fold(lambda: lambda, logWallCurvature: x) }
            if minimum.value > 0 { noSolutionSide = lambda } else { solutionSide = lambda }
            var next = minimum.atLimit || minimum.dLambda == 0 ? Double.nan : lambda - minimum.value / minimum.dLambda
            if let a = noSolutionSide, let b = solutionSide {
                if abs(a - b) <= 1e-13 * max(1, abs(a)) { return .fold(lambda: 0.5 * (a + b), logWallCurvature: x) }
                if !(next > min(a, b) && next < max(a, b)) { next = 0.5 * (a + b) }
            } else if noSolutionSide == nil {
                // Solutions exist here: move down.
                if !(next < lambda) { next = lambda - 0.2 * (1 + abs(lambda)) }
            } else {
                // No solution here: move up towards 0 (λ_c < 0 for f_w > f_w*).
                if !(next > lambda && next < 0) { next = 0.5 * lambda }
            }
            if abs(next - lambda) <= 1e-14 * max(1, abs(lambda)) { return .fold(lambda: next, logWallCurvature: x) }
            lambda = next
        }
        return .notConverged(reason: "λ_c(\(fw)) did not converge in 80 Newton steps")
    }

    /// f_w,c(λ): the smallest f_w with a solution at this λ (λ ≤ 0), the inverse of λ_c.
    public func minimalSuction(lambda: Double) -> MinimalSuction {
        var statistics = SolveStatistics()
        return minimalSuction(lambda: lambda, statistics: &statistics)
    }

    public func minimalSuction(lambda: Double, statistics: inout SolveStatistics) -> MinimalSuction {
        guard lambda.isFinite, abs(lambda) <= 1e6 else { return .notConverged(reason: "λ = \(lambda) is not a finite number of moderate size") }
        if lambda > 0 { return .unbounded }
        if lambda == 0 { return .value(Self.blowOffSuction) }
        var noSolutionSide: Double? = Self.blowOffSuction   // m > 0 at f_w* for every λ < 0
        var solutionSide: Double? = nil
        // Start from the inverse of the rough λ_c(f_w) used in `criticalLambda`.
        var fw: Double
        if lambda >= -0.3541 {
            fw = Self.blowOffSuction * (1 + lambda / 0.3541)
        } else {
            fw = (-0.55 + (0.3025 - 0.48 * (0.3541 + lambda)).squareRoot()) / 0.24
        }
        fw = max(fw, Self.blowOffSuction + 1e-3)
        var step = 0.25 * (1 + abs(fw))
        var x = guessLogWallCurvature(lambda: lambda, fw: fw) - 1
        for _ in 0..<100 {
            let minimum: ResidualMinimum
            switch residualMinimum(lambda: lambda, fw: fw, start: x, statistics: &statistics) {
            case .failure(let f): return .notConverged(reason: "f_w,c(\(lambda)) at f_w = \(fw): \(f.reason)")
            case .success(let m): minimum = m
            }
            x = minimum.logWallCurvature
            if abs(minimum.value) <= 1e-13 { return .value(fw) }
            if minimum.value > 0 { noSolutionSide = max(noSolutionSide ?? fw, fw) } else { solutionSide = min(solutionSide ?? fw, fw) }
            var next = minimum.atLimit || minimum.dFw == 0 ? Double.nan : fw - minimum.value / minimum.dFw
            if let a = noSolutionSide, let b = solutionSide {
                if abs(a - b) <= 1e-13 * max(1, abs(a)) { return .value(b) }
                if !(next > min(a, b) && next < max(a, b)) { next = 0.5 * (a + b) }
            } else {
                // Still no solution: more suction, in growing steps.
                step *= 2
                if !(next > fw && next < fw + step) { next = fw + step }
            }
            if abs(next - fw) <= 1e-14 * max(1, abs(fw)) { return .value(max(next, fw)) }
            fw = next
        }
        return .notConverged(reason: "f_w,c(\(lambda)) did not converge in 100 Newton steps")
    }
}
