import Foundation

/// Which solution of (F2)–(F3) a profile is.
public enum BlasiusBranch: String, Sendable {
    /// λ = 1: f = f_w + η exactly.
    case exact
    /// λ ≥ 0 (λ ≠ 1): the unique solution, with its layer at the wall.
    case attached
    /// λ > 0 under strong blowing: the layer is lifted off the wall towards η* = −f_w/λ, so far that
    /// f''(0) is below 1e-16 of the layer's peak f'' (at the wall the profile is f_w + λη to double precision).
    case blownOff = "blown-off"
    /// λ ≤ 0: the upper of the two solutions for λ_c < λ < 0 (the branch connected to λ = 1).
    case upper
}

/// Why a sample has no similarity solution (formulation.md §2a).
public enum NoSolutionReason: String, Sendable {
    /// λ < λ_c(f_w): reverse wall motion beyond the turning point of the upper branch.
    case reverseWallBeyondFold = "reverse wall motion beyond the turning point λ_c(f_w)"
    /// f_w ≤ f_w* and λ ≤ 0: the layer is blown off for every λ ≤ 0.
    case blowOff = "blow-off: f_w ≤ f_w* with λ ≤ 0"
}

/// A converged solution of the generalized Blasius problem.
public struct BlasiusSolution: Sendable {
    public var lambda: Double
    public var fw: Double
    /// f''(0); underflows to ±0 under strong blowing (then see `logWallCurvature`). 0 at λ = 1.
    public var wallCurvature: Double
    /// ln|f''(0)| (−∞ at λ = 1).
    public var logWallCurvature: Double
    /// β = lim (η − f(η)), the displacement constant.
    public var displacement: Double
    public var branch: BlasiusBranch
    /// The profile on its adaptive nodes.
    public var profile: BlasiusProfile
    /// |f'(η_max) − 1| (with the asymptotic tail) at the converged unknown.
    public var residual: Double
    /// η_max of the final shot, and of each round of the continuation in η_max.
    public var etaMax: Double
    public var etaMaxHistory: [Double]
    /// How the converged trajectory is shot (nil for λ = 1), to re-integrate it in tests.
    var start: ShotStart?
}

/// The answer for one (λ, f_w): a solution, a proof that none exists, or a failure with its reason.
/// Never NaN, never a trap.
public enum BlasiusResult: Sendable {
    case solved(BlasiusSolution)
    /// No similarity solution. `criticalLambda` is λ_c(f_w), the turning point (solutions exist for
    /// λ ≥ λ_c); under blow-off (f_w ≤ f_w*) it is 0, the infimum of the λ with a solution (not attained).
    case noSolution(criticalLambda: Double, reason: NoSolutionReason)
    case notConverged(reason: String)

    public var solution: BlasiusSolution? {
        if case .solved(let s) = self { return s }
        return nil
    }
}

/// λ_c(f_w), the turning point of the reverse-wall branch.
public enum CriticalPoint: Sendable, Equatable {
    /// Solutions exist exactly for λ ≥ lambda; the fold solution has ln f''(0) = logWallCurvature.
    case fold(lambda: Double, logWallCurvature: Double)
    /// f_w ≤ f_w*: no solution for any λ ≤ 0 (solutions exist for all λ > 0).
    case blowOff
    case notConverged(reason: String)

    /// λ_c as a number (0 under blow-off, the infimum of the λ with a solution), or nil.
    public var lambda: Double? {
        switch self {
        case .fold(let l, _): return l
        case .blowOff: return 0
        case .notConverged: return nil
        }
    }
}

/// Counters of one solve, for manifests and benchmarks.
public struct SolveStatistics: Sendable {
    /// Shots (integrations of the shooting system), including existence and λ_c computations.
    public var shots = 0
    public init() {}
}

/// The generalized Blasius boundary layer (F2)–(F3) by shooting on ln|f''(0)| (or, under strong blowing,
/// on the position of the lifted layer), Newton on the variational equations safeguarded by bracketing,
/// continuation in η_max, and the existence boundary λ_c(f_w) by minimising the shooting residual.
public struct BlasiusSolver: Sendable {
    /// Accuracy of the boundary condition f'(∞) = 1 (absolute; relative to |1 − λ| when that is below 1).
    public var tolerance: Double
    /// Nodes of the stored profile (K).
    public var profilePoints: Int
    /// Budget of shots per search.
    public var maxShots: Int

    public init(tolerance: Double = 1e-10, profilePoints: Int = 401, maxShots: Int = 400) {
        self.tolerance = tolerance
        self.profilePoints = max(profilePoints, 2)
        self.maxShots = maxShots
    }

    /// Runge–Kutta tolerance: three digits tighter than the boundary condition (the residual carries
    /// the global error of the whole shot), but not below what doubles can deliver.
    var integrationTolerance: Double { min(max(tolerance * 1e-3, 1e-14), 1e-6) }
    /// Shots stop once the rest of f' changes by less than this (it fixes η_max).
    var tailTolerance: Double { tolerance * 1e-3 }

    /// Below this ln|f''(0)| a blown-off layer is found with an edge start (see `ShootingProblem`).
    static let edgeSwitch = -120.0

    func problem(lambda: Double, fw: Double, tailTolerance: Double? = nil) -> ShootingProblem {
        ShootingProblem(lambda: lambda, fw: fw, integrationTolerance: integrationTolerance,
                        tailTolerance: tailTolerance ?? self.tailTolerance)
    }

    // MARK: blow-off

    /// f_w*, the blow-off suction: for f_w ≤ f_w* there is no solution for any λ ≤ 0 (≈ −1.23849,
    /// formulation.md §2a). Computed once: at λ = 0 the solution with f''(0) → 0 is a layer translated
    /// to infinity, so f_w* solves f'(∞) = 1 for the shot with ln f''(0) = −60 (a layer ~100 units out;
    /// what that drops is of order e^−60).
    public static let blowOffSuction: Double = computeBlowOffSuction()

    private static func computeBlowOffSuction() -> Double {
        let solver = BlasiusSolver(tolerance: 1e-12)
        var lo = -1.5, hi = -1.0   // residual > 0 at lo (no solution), < 0 at hi
        var fw = -1.24
        for _ in 0..<60 {
            let s = solver.problem(lambda: 0, fw: fw).shootWithParameterSensitivities(logCurvature: -60)
            guard s.end == .complete else { fw = 0.5 * (lo + hi); continue }
            if s.residual > 0 { lo = fw } else { hi = fw }
            if abs(s.residual) < 1e-14 || hi - lo < 1e-15 { return fw }
            let newton = fw - s.residual / s.dFw
            fw = (newton > lo && newton < hi) ? newton : 0.5 * (lo + hi)
        }
        return fw
    }

    // MARK: solve

    /// Solves (F2)–(F3) for f'(0) = λ, f(0) = f_w.
    public func solve(lambda: Double, fw: Double) -> BlasiusResult {
        var statistics = SolveStatistics()
        return solve(lambda: lambda, fw: fw, statistics: &statistics)
    }

    public func solve(lambda: Double, fw: Double, statistics: inout SolveStatistics) -> BlasiusResult {
        if let answer = answerWithoutShooting(lambda: lambda, fw: fw) { return answer }
        // The residual f'(∞) − 1 is measured against the jump 1 − λ of f' across the layer.
        let residualTolerance = tolerance * min(1, max(abs(1 - lambda), 1e-3))
        switch continueInEtaMax(lambda: lambda, fw: fw, residualTolerance: residualTolerance, statistics: &statistics) {
        case .stopped(let answer):
            return answer
        case .settled(let start, let probe, let tail, let etaMaxHistory):
            return solution(lambda: lambda, fw: fw, start: newtonCorrected(start, probe: probe), tail: tail,
                            etaMaxHistory: etaMaxHistory, statistics: &statistics)
        }
    }

    /// The answers that need no shot: parameters out of range, the exact solution at λ = 1, blow-off,
    /// and a layer lifted beyond what doubles resolve; nil when the equation must be shot.
    private func answerWithoutShooting(lambda: Double, fw: Double) -> BlasiusResult? {
        guard lambda.isFinite, fw.isFinite else {
            return .notConverged(reason: "the parameters must be finite numbers (λ = \(lambda), f_w = \(fw))")
        }
        guard abs(lambda) <= 1e6, abs(fw) <= 1e6 else {
            return .notConverged(reason: "|λ| and |f_w| above 1e6 are outside what this solver is built for (λ = \(lambda), f_w = \(fw))")
        }
        if lambda == 1 { return .solved(exactSolution(fw: fw)) }
        if lambda <= 0, fw < Self.blowOffSuction {
            return .noSolution(criticalLambda: 0, reason: .blowOff)
        }
        // A layer lifted towards η* = −f_w/λ keeps an inner scale of order 1 (its fast side is a Gaussian
        // of width ~2; for small λ it is a wall layer at the blow-off suction). Where doubles near η*
        // are spaced more than 1e-4 of that, neither the shots nor a profile on double η nodes can
        // resolve it (η* ≳ 5e11, i.e. λ ≲ 2e-9·|f_w|).
        if lambda > 0, fw < 0 {
            let etaStar = -fw / lambda
            if !etaStar.isFinite || etaStar.ulp > 1e-4 * min(1, 1 / lambda.squareRoot()) {
                return .notConverged(reason: "the layer is blown off to η ≈ −f_w/λ = \(etaStar), where doubles are spaced \(etaStar.ulp) apart: too coarse to resolve a layer of width ~1 (the wind below it is the layer-free f = f_w + λη)")
            }
        }
        return nil
    }

    private enum EtaMaxContinuation {
        /// The root, confirmed with a 10⁴ times smaller tail; `tail` is that smaller tail.
        case settled(start: ShotStart, probe: Probe, tail: Double, etaMaxHistory: [Double])
        case stopped(BlasiusResult)
    }

    /// Continuation in η_max: η_max is where the proven bound on the rest of f' drops below `tail`;
    /// after convergence the shot is repeated with a tail 10⁴ times smaller (a larger η_max) and the
    /// search resumes from there until the answer no longer moves.
    private func continueInEtaMax(lambda: Double, fw: Double, residualTolerance: Double,
                                  statistics: inout SolveStatistics) -> EtaMaxContinuation {
        var tail = tailTolerance
        var etaMaxHistory: [Double] = []
        var start = ShotStart.wall(logCurvature: guessLogWallCurvature(lambda: lambda, fw: fw))
        for _ in 0..<4 {
            let shooting = problem(lambda: lambda, fw: fw, tailTolerance: tail)
            switch search(shooting, from: start, residualTolerance: residualTolerance, statistics: &statistics) {
            case .failure(let reason):
                return .stopped(.notConverged(reason: reason))
            case .none(let minimum, let atLimit):
                return .stopped(answerWithoutRoot(lambda: lambda, fw: fw, minimum: minimum, atLimit: atLimit, statistics: &statistics))
            case .found(let s, let p):
                let check = problem(lambda: lambda, fw: fw, tailTolerance: tail * 1e-4)
                let confirm = orientedProbe(check, s)
                statistics.shots += 1
                etaMaxHistory.append(p.shot?.eta ?? .nan)
                if confirm.g.isFinite, abs(confirm.g) <= residualTolerance, confirm.dg > 0 {
                    etaMaxHistory.append(confirm.shot?.eta ?? .nan)
                    return .settled(start: s, probe: confirm, tail: tail * 1e-4, etaMaxHistory: etaMaxHistory)
                }
                start = s
                tail *= 1e-4
            }
        }
        return .stopped(.notConverged(reason: "the solution kept moving while η_max was extended (continuation in η_max did not settle)"))
    }

    /// No root of the residual: blow-off, a reverse wall flow beyond the fold λ_c(f_w), or a failure.
    private func answerWithoutRoot(lambda: Double, fw: Double, minimum: Double, atLimit: Bool,
                                   statistics: inout SolveStatistics) -> BlasiusResult {
        if lambda > 0 {
            return .notConverged(reason: "no root of the shooting residual found for λ > 0 (minimum \(minimum))")
        }
        if atLimit { return .noSolution(criticalLambda: 0, reason: .blowOff) }
        switch criticalLambda(fw: fw, statistics: &statistics) {
        case .fold(let lc, _): return .noSolution(criticalLambda: lc, reason: .reverseWallBeyondFold)
        case .blowOff: return .noSolution(criticalLambda: 0, reason: .blowOff)
        case .notConverged(let reason):
            return .notConverged(reason: "no solution at λ = \(lambda) (minimum residual \(minimum) > 0), but λ_c(f_w) failed: \(reason)")
        }
    }

    /// One more Newton correction from the last probe costs nothing and removes the last error of the
    /// stopping test (the profile pass evaluates the corrected trajectory).
    private func newtonCorrected(_ start: ShotStart, probe: Probe) -> ShotStart {
        guard probe.g.isFinite, probe.dg > 0 else { return start }
        let dt = -probe.g / probe.dg
        switch start {
        case .wall(let x): return .wall(logCurvature: x + dt)
        case .edge(let xi): return .edge(xi: xi - dt)
        }
    }

    /// The converged trajectory integrated onto the profile nodes, with its branch.
    private func solution(lambda: Double, fw: Double, start finalStart: ShotStart, tail: Double, etaMaxHistory: [Double],
                          statistics: inout SolveStatistics) -> BlasiusResult {
        let shooting = problem(lambda: lambda, fw: fw, tailTolerance: tail)
        guard let built = buildProfile(shooting, start: finalStart, points: profilePoints) else {
            return .notConverged(reason: "the converged trajectory could not be integrated again onto the profile nodes")
        }
        statistics.shots += 2
        let x = shooting.logWallCurvature(finalStart)
        // Blown off: the wall shear is below 1e-16 of the layer's peak f'', i.e. at the wall the profile
        // is the layer-free f = f_w + λη to double precision (every edge start is of this kind).
        let peak = built.profile.fDoublePrime.reduce(0) { max($0, abs($1)) }
        let branch: BlasiusBranch
        if lambda < 0 {
            branch = .upper
        } else if case .edge = finalStart {
            branch = .blownOff
        } else {
            branch = lambda > 0 && peak > 0 && x < Foundation.log(peak) + Foundation.log(1e-16) ? .blownOff : .attached
        }
        let solution = BlasiusSolution(
            lambda: lambda, fw: fw,
            wallCurvature: shooting.sigma * Foundation.exp(x), logWallCurvature: x,
            displacement: built.profile.beta, branch: branch, profile: built.profile,
            residual: abs(built.residual), etaMax: built.profile.eta.last ?? 0, etaMaxHistory: etaMaxHistory,
            start: finalStart)
        return .solved(solution)
    }

    /// λ = 1: f = f_w + η, f' = 1, f'' = 0 exactly; β = −f_w.
    func exactSolution(fw: Double) -> BlasiusSolution {
        let k = profilePoints
        let top = 10.0
        let eta = (0..<k).map { top * Double($0) / Double(k - 1) }
        let profile = BlasiusProfile(uncheckedEta: eta, f: eta.map { fw + $0 }, fPrime: [Double](repeating: 1, count: k),
                                     fDoublePrime: [Double](repeating: 0, count: k), beta: -fw, lambda: 1, fw: fw)
        return BlasiusSolution(lambda: 1, fw: fw, wallCurvature: 0, logWallCurvature: -.infinity, displacement: -fw,
                               branch: .exact, profile: profile, residual: 0, etaMax: top, etaMaxHistory: [top], start: nil)
    }

    /// A start on the high side of the root (Newton then comes down monotonically on a convex residual):
    /// the suction estimate |f''(0)| ≈ |1 − λ| f_w/2 plus a Blasius-like term.
    func guessLogWallCurvature(lambda: Double, fw: Double) -> Double {
        let jump = abs(1 - lambda)
        let s = jump * (max(fw, 0) / 2 + 0.6 * max(1, abs(lambda)).squareRoot() * max(jump, 1e-3).squareRoot())
        return Foundation.log(max(s, 1e-300))
    }

    enum SearchOutcome {
        case found(ShotStart, Probe)
        case none(minimum: Double, atLimit: Bool)
        case failure(String)
    }

    /// The probe of one shot, oriented so that the wanted root is an upward crossing in t:
    /// t = x for a wall start (g = σ·residual), t = −ξ for an edge start.
    func orientedProbe(_ shooting: ShootingProblem, _ start: ShotStart) -> Probe {
        let shot = shooting.shoot(start)
        let sigma = shooting.sigma
        let t: Double, sign: Double
        switch start {
        case .wall(let x): t = x; sign = 1
        case .edge(let xi): t = -xi; sign = -1
        }
        switch shot.end {
        case .runaway: return Probe(t: t, g: .infinity, dg: .nan, shot: shot)
        case .noLayer: return Probe(t: t, g: -.infinity, dg: .nan, shot: shot)
        case .complete: return Probe(t: t, g: sigma * shot.residual, dg: sign * sigma * shot.slope, shot: shot)
        }
    }

    /// The search for the upper root: wall start, or edge start when the layer is blown far off.
    func search(_ shooting: ShootingProblem, from start: ShotStart, residualTolerance: Double,
                statistics: inout SolveStatistics) -> SearchOutcome {
        let lambda = shooting.lambda
        var knownBelow: Probe? = nil
        var lowerLimit = -700.0

        if case .edge(let xi0) = start {
            return edgeSearch(shooting, from: xi0, knownAbove: nil, residualTolerance: residualTolerance, statistics: &statistics)
        }
        // Strong blowing with λ > 0: can the layer-free solution lift the layer far out?
        if let top = shooting.layerFreeMaximum, top.growth > ShootingProblem.referenceLogCurvature - Self.edgeSwitch {
            let atSwitch = orientedProbe(shooting, .wall(logCurvature: Self.edgeSwitch))
            statistics.shots += 1
            if atSwitch.g > 0 || atSwitch.g == .infinity {
                // The root lies below ln f''(0) = −120: the layer is lifted off; search its position instead.
                let xiSwitch = shooting.eta(whereLayerFreeGrowthIs: ShootingProblem.referenceLogCurvature - Self.edgeSwitch)
                let guessXi = blownOffGuess(shooting)
                return edgeSearch(shooting, from: guessXi, knownAbove: xiSwitch.map { Probe(t: -$0, g: atSwitch.g, dg: .nan, shot: nil) },
                                  residualTolerance: residualTolerance, statistics: &statistics)
            }
            knownBelow = atSwitch
            lowerLimit = Self.edgeSwitch
        }
        guard case .wall(let x0) = start else { return .failure("internal: unexpected start") }
        var root = UpperRootSearch(tolerance: residualTolerance, maxEvaluations: maxShots, lowerLimit: lowerLimit, upperLimit: 100)
        let result = root.run(start: max(x0, lowerLimit + 1), knownBelow: knownBelow) { x in
            orientedProbe(shooting, .wall(logCurvature: x))
        }
        statistics.shots += root.evaluations
        switch result {
        case .root(let p): return .found(.wall(logCurvature: p.t), p)
        case .noRoot(let minimum, let atLimit):
            if lambda > 0 { return .failure("the shooting residual has no root above ln f''(0) = \(lowerLimit) although λ > 0 (minimum \(minimum.g))") }
            return .none(minimum: minimum.g, atLimit: atLimit)
        case .failed(let reason): return .failure(reason)
        }
    }

    /// ξ at which a blown-off layer's shot most likely starts: the layer jump 1 − λ comes from a
    /// Gaussian f'' of width 2/sqrt(λ) around η* = −f_w/λ, so ln|f''| peaks near ln(|1 − λ| sqrt(λ/4π)).
    func blownOffGuess(_ shooting: ShootingProblem) -> Double {
        guard let top = shooting.layerFreeMaximum else { return 0 }
        let peak = Foundation.log(max(abs(1 - shooting.lambda), 1e-300) * (shooting.lambda / (4 * Double.pi)).squareRoot())
        // x ≈ peak − q(η*), and the edge start sits where q(ξ) = L_ref − x.
        let c = ShootingProblem.referenceLogCurvature - (peak - top.growth)
        return shooting.eta(whereLayerFreeGrowthIs: min(max(c, 0), top.growth)) ?? 0
    }

    func edgeSearch(_ shooting: ShootingProblem, from xi0: Double, knownAbove: Probe?, residualTolerance: Double,
                    statistics: inout SolveStatistics) -> SearchOutcome {
        guard let top = shooting.layerFreeMaximum else { return .failure("internal: edge start without a lifted layer") }
        let upper = knownAbove?.t ?? 0
        var root = UpperRootSearch(tolerance: residualTolerance, maxEvaluations: maxShots, lowerLimit: -top.eta, upperLimit: upper)
        // Steps in ξ are naturally of the layer's width.
        root.initialStep = 4 / shooting.lambda.squareRoot()
        let result = root.run(start: min(-xi0, upper), knownAbove: knownAbove) { t in
            orientedProbe(shooting, .edge(xi: -t))
        }
        statistics.shots += root.evaluations
        switch result {
        case .root(let p): return .found(.edge(xi: -p.t), p)
        case .noRoot(let minimum, _): return .failure("the lifted-layer search found no root (minimum residual \(minimum.g))")
        case .failed(let reason): return .failure(reason)
        }
    }
}
