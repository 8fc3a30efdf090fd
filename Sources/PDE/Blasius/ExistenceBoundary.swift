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
// U-shaped in x near the turning point (the two solutions between λ_c and 0 are its two roots). Its minimum
//     m(λ, f_w) = min_x R(x; λ, f_w)
// is negative where solutions exist and positive where none does, so the turning point λ_c(f_w) is the
// root of m(·, f_w), and the smallest admissible suction f_w,c(λ) the root of m(λ, ·). By the envelope
// theorem ∂m/∂λ = ∂R/∂λ and ∂m/∂f_w = ∂R/∂f_w at the minimiser, both from the variational equations,
// so Newton's method applies to m (continuation in f''(0): x is re-optimised at every step).
//
// Whether a solution exists at a parameter value is decided by the upper-root search itself (a root
// found, or a proven positive minimum), not by the sign of a computed minimum: under strong suction with
// reverse wall motion (f_w ≳ 6) the residual also has a second, discontinuous piece (trajectories whose
// wall layer leaves f' < 0 and that form a second, detached layer), whose local minima say nothing about
// the branch connected to λ = 1. Newton steps are kept inside a bracket [no solution, solution] and the
// answer is returned only once that bracket, verified on both sides, is narrower than 1e-10 (1 + |v|).
extension BlasiusSolver {
    struct BoundaryFailure: Error { var reason: String }

    /// What the existence boundary needs at one parameter point.
    struct Margin {
        /// A solution (upper root) exists here.
        var exists: Bool
        /// m, where it is known reliably: the proven positive minimum, or the located negative minimum.
        var value: Double?
        /// ∂m/∂λ and ∂m/∂f_w at the minimiser.
        var dLambda: Double?
        var dFw: Double?
        /// The minimiser, or the root: where the next evaluation starts.
        var logWallCurvature: Double
    }

    /// Existence and the minimum of the residual at (λ, f_w), λ ≤ 0.
    func margin(lambda: Double, fw: Double, start: Double, statistics: inout SolveStatistics) -> Result<Margin, BoundaryFailure> {
        let shooting = problem(lambda: lambda, fw: fw)
        // A root is accepted at |R| ≤ 1e-12 (relative to the jump 1 − λ of f'): the existence decision
        // is then sharp to ~1e-12 in m, i.e. ~1e-12 in λ near the fold.
        var root = UpperRootSearch(tolerance: 1e-12 * max(1, abs(1 - lambda)), maxEvaluations: maxShots, lowerLimit: -700, upperLimit: 100)
        let result = root.run(start: start) { x in orientedProbe(shooting, .wall(logCurvature: x)) }
        statistics.shots += root.evaluations
        func sensitivities(at x: Double) -> (value: Double, dLambda: Double, dFw: Double)? {
            let s = shooting.shootWithParameterSensitivities(logCurvature: x)
            statistics.shots += 1
            return s.end == .complete ? (s.residual, s.dLambda, s.dFw) : nil
        }
        switch result {
        case .failed(let reason):
            return .failure(BoundaryFailure(reason: reason))
        case .noRoot(let minimum, let atLimit):
            guard !atLimit, let s = sensitivities(at: minimum.t), s.value > 0 else {
                return .success(Margin(exists: false, value: nil, dLambda: nil, dFw: nil, logWallCurvature: minimum.t))
            }
            return .success(Margin(exists: false, value: s.value, dLambda: s.dLambda, dFw: s.dFw, logWallCurvature: minimum.t))
        case .root(let p):
            // The minimum left of the root (the fold's neighbourhood); ignored unless it is a negative
            // minimum of the same piece of the residual.
            var search = MinimumSearch(maxEvaluations: maxShots, lowerLimit: -700, upperLimit: p.t)
            let found = search.run(start: p.t) { x in orientedProbe(shooting, .wall(logCurvature: x)) }
            statistics.shots += search.evaluations
            if case .minimum(let q, false) = found, q.g < 0, q.t < p.t, let s = sensitivities(at: q.t), s.value < 0 {
                return .success(Margin(exists: true, value: s.value, dLambda: s.dLambda, dFw: s.dFw, logWallCurvature: p.t))
            }
            return .success(Margin(exists: true, value: nil, dLambda: nil, dFw: nil, logWallCurvature: p.t))
        }
    }

    /// The root v_c of the existence margin along one parameter (solutions exist for v ≥ v_c), by Newton
    /// on m inside a verified bracket. `evaluate(v, start)` gives the margin at v.
    func existenceBoundary(initial: Double, knownNoSolution: Double?, upperLimit: Double?, derivative: (Margin) -> Double?,
                           evaluate: (Double, Double) -> Result<Margin, BoundaryFailure>, start: Double)
        -> Result<(value: Double, logWallCurvature: Double), BoundaryFailure> {
        var noSolution = knownNoSolution   // largest v known without a solution
        var solution: Double? = nil        // smallest v known with one
        var solutionX = start
        var v = initial
        var x = start
        var step = 0.25 * (1 + abs(initial))
        var lastNewtonStep = Double.nan
        var widths: [Double] = []
        for _ in 0..<120 {
            let margin: Margin
            switch evaluate(v, x) {
            case .failure(let f): return .failure(BoundaryFailure(reason: "at \(v): \(f.reason)"))
            case .success(let m): margin = m
            }
            if margin.exists {
                if solution == nil || v < solution! { solution = v; solutionX = margin.logWallCurvature }
            } else if noSolution == nil || v > noSolution! {
                noSolution = v
            }
            x = margin.logWallCurvature
            let tolerance = 1e-10 * max(1, abs(v))
            var newton = Double.nan
            if let m = margin.value, let d = derivative(margin), d != 0 { newton = v - m / d }
            var next: Double
            if let a = noSolution, let b = solution {
                guard a < b else { return .failure(BoundaryFailure(reason: "inconsistent existence: no solution at \(a) but a solution at \(b) below it")) }
                if b - a <= tolerance { return .success((b, solutionX)) }
                widths.append(b - a)
                let stalled = widths.count >= 3 && b - a > 0.5 * widths[widths.count - 3]
                if newton > a && newton < b && !stalled {
                    next = newton
                } else if newton >= b && !stalled {
                    // Newton overshoots m's root by O(error²): the root is just below b; close the bracket.
                    next = max(b - 0.5 * tolerance, 0.5 * (a + b))
                } else if newton <= a && !stalled {
                    next = min(a + 0.5 * tolerance, 0.5 * (a + b))
                } else {
                    next = 0.5 * (a + b)
                }
                // Newton has (nearly) converged: step just across v_c to close the bracket.
                if abs(next - v) < 0.5 * tolerance { next = margin.exists ? max(a, v - 0.5 * tolerance) : min(b, v + 0.5 * tolerance) }
            } else if noSolution == nil {
                // Solutions everywhere so far: go down, by Newton when m is known, else in growing steps
                // starting from the size of the last Newton step (we are usually right at the boundary).
                if newton < v {
                    next = newton
                } else {
                    let first = lastNewtonStep.isFinite ? max(abs(lastNewtonStep), 0.5 * tolerance) : step
                    step = max(first, step == 0.25 * (1 + abs(initial)) && lastNewtonStep.isFinite ? first : step)
                    next = v - step
                    step *= 4
                }
            } else {
                // No solution so far: go up (not past `upperLimit`, where solutions are known to exist).
                next = newton > v ? newton : v + step
                if newton.isNaN { step *= 2 }
                if let top = upperLimit, next >= top { next = 0.5 * (v + top) }
            }
            if newton.isFinite { lastNewtonStep = newton - v }
            v = next
        }
        return .failure(BoundaryFailure(reason: "no convergence in 120 steps"))
    }

    /// λ_c(f_w): the turning point of the branch connected to λ = 1. Solutions exist for λ ≥ λ_c.
    public func criticalLambda(fw: Double) -> CriticalPoint {
        var statistics = SolveStatistics()
        return criticalLambda(fw: fw, statistics: &statistics)
    }

    public func criticalLambda(fw: Double, statistics: inout SolveStatistics) -> CriticalPoint {
        guard fw.isFinite, abs(fw) <= 1e6 else { return .notConverged(reason: "f_w = \(fw) is not a finite number of moderate size") }
        if fw <= Self.blowOffSuction { return .blowOff }
        // Start near the values of formulation.md §2a (λ_c(0) ≈ −0.354, λ_c(5) ≈ −5.84), on either side.
        let positive = max(fw, 0)
        var guess = -(0.3541 + 0.55 * positive + 0.12 * positive * positive)
        if fw < 0 { guess *= (fw - Self.blowOffSuction) / -Self.blowOffSuction }
        guess = min(guess, -1e-9)
        let result = existenceBoundary(
            initial: guess, knownNoSolution: nil, upperLimit: 0, derivative: { $0.dLambda },
            evaluate: { lambda, x in self.margin(lambda: lambda, fw: fw, start: x + 0.1, statistics: &statistics) },
            start: guessLogWallCurvature(lambda: guess, fw: fw))
        switch result {
        case .success(let r): return .fold(lambda: r.value, logWallCurvature: r.logWallCurvature)
        case .failure(let f): return .notConverged(reason: "λ_c(\(fw)): \(f.reason)")
        }
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
        // Start from the inverse of the rough λ_c(f_w) used in `criticalLambda`; f_w* has no solution.
        var guess: Double
        if lambda >= -0.3541 {
            guess = Self.blowOffSuction * (1 + lambda / 0.3541)
        } else {
            guess = (-0.55 + (0.3025 - 0.48 * (0.3541 + lambda)).squareRoot()) / 0.24
        }
        guess = max(guess, Self.blowOffSuction + 1e-3)
        let result = existenceBoundary(
            initial: guess, knownNoSolution: Self.blowOffSuction, upperLimit: nil, derivative: { $0.dFw },
            evaluate: { fw, x in self.margin(lambda: lambda, fw: fw, start: x + 0.1, statistics: &statistics) },
            start: guessLogWallCurvature(lambda: lambda, fw: guess))
        switch result {
        case .success(let r): return .value(r.value)
        case .failure(let f): return .notConverged(reason: "f_w,c(\(lambda)): \(f.reason)")
        }
    }

    // MARK: the minimum of the residual (for tests and diagnostics)

    struct ResidualMinimum {
        var logWallCurvature: Double
        var value: Double
        var dLambda: Double
        var dFw: Double
        /// The residual only levels off towards x → −∞ (λ = 0): `value` is its limit.
        var atLimit: Bool
    }

    /// The minimum of the residual over x located from `start` (the local minimum the slope leads to).
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
}

/// Blow-off (formulation.md §2a) in the physical parameters: with f_w = −2 u_v / sqrt(ν U0) at or
/// below f_w* and λ = u_h / U0 ≤ 0 the wind model has no solution. f_w* is taken to the digits of
/// its published value (−1.23849) rather than from `BlasiusSolver.blowOffSuction`, which costs a
/// root search: the check runs on every surrogate query. (The reverse-wall limit λ < λ_c(f_w) needs
/// the solver and is not part of this check.)
public enum BlowOff {
    public static let suctionLimit = -1.23849

    public static func hasNoWind(u0: Double, uh: Double, uv: Double, nu: Double) -> Bool {
        u0 > 0 && -2 * uv / (nu * u0).squareRoot() <= suctionLimit && uh <= 0
    }
}
