import Foundation

/// How one shot ended.
enum ShotEnd: Equatable {
    /// The layer formed and the rest of the change of f' is provably below the tail tolerance.
    case complete
    /// ln|f''| passed 700 or the step size collapsed: the trajectory runs away (the unknown is too large).
    case runaway
    /// No layer formed before the η limit: f'' is still negligible (the unknown is too small).
    case noLayer
}

/// Where a shot starts: at the wall with the unknown ln|f''(0)|, or — for a layer blown far off the
/// wall — at a point ξ ahead of the layer (see `ShootingProblem`).
enum ShotStart: Equatable, Sendable {
    case wall(logCurvature: Double)
    case edge(xi: Double)
}

/// The end of one shot: where it stopped and the residual f'(∞) − 1 with its sensitivity.
struct Shot {
    var end: ShotEnd
    /// f'(η_max) − 1 plus the asymptotic tail σ·2e^L/f (the bound used to stop; see `tailEstimate`).
    var residual: Double
    /// ∂residual/∂(unknown): ∂/∂ln|f''(0)| for a wall start, ∂/∂ξ for an edge start.
    var slope: Double
    /// η_max, the point where the shot stopped.
    var eta: Double
    /// (f, f', ln|f''|) at η_max.
    var f: Double, fp: Double, logCurvature: Double
    /// Accepted Runge–Kutta steps.
    var steps: Int
}

/// The shooting formulation of (F2)–(F3) for one (λ, f_w).
///
/// Wall start: integrate from η = 0 with (f, f', ln|f''|) = (f_w, λ, x), where x = ln|f''(0)| is the unknown.
///
/// Edge start (strong blowing with λ > 0). Before the layer forms, f'' is negligible and the solution is
/// exactly f = f_w + λη, f' = λ, ln|f''| = x + q(η) with q(η) = −½ f_w η − ¼ λ η² (from L' = −f/2).
/// When x is very negative (f''(0) ≈ e^(C − f_w²/4λ), formulation.md §2a), adding the large q to x
/// would cancel most of the digits of ln|f''| at the layer. Instead the unknown becomes the point ξ
/// where the layer-free solution reaches ln|f''| = L_ref = −60, and the shot starts there with
/// (f_w + λξ, λ, L_ref): the same trajectory (what is dropped before ξ is below e^L_ref ≈ 1e-26 of the
/// jump in f'), with every number moderate. Then x = L_ref − q(ξ), evaluated without cancellation.
struct ShootingProblem {
    let lambda: Double
    let fw: Double
    /// sign f'' = sign(1 − λ) (λ ≠ 1).
    let sigma: Double
    /// Relative and absolute tolerance of the Runge–Kutta error control.
    let integrationTolerance: Double
    /// The shot stops once the remaining change of f' is below this bound (this sets η_max).
    var tailTolerance: Double
    let maxSteps: Int

    /// ln|f''| at which an edge start begins.
    static let referenceLogCurvature = -60.0
    /// ln|f''| cannot exceed this in a meaningful shot (e^700 is near the largest double).
    static let runawayLogCurvature = 700.0

    init(lambda: Double, fw: Double, integrationTolerance: Double, tailTolerance: Double, maxSteps: Int = 200_000) {
        self.lambda = lambda
        self.fw = fw
        self.sigma = lambda < 1 ? 1 : -1
        self.integrationTolerance = integrationTolerance
        self.tailTolerance = tailTolerance
        self.maxSteps = maxSteps
    }

    /// q(η) = ∫₀^η (−f/2) dη for the layer-free solution f = f_w + λη.
    func layerFreeLogGrowth(_ eta: Double) -> Double { -0.5 * fw * eta - 0.25 * lambda * eta * eta }

    /// For λ > 0 and f_w < 0: the maximum of q, at η* = −f_w/λ, where the layer-free f crosses 0.
    var layerFreeMaximum: (eta: Double, growth: Double)? {
        guard lambda > 0, fw < 0 else { return nil }
        return (-fw / lambda, fw * fw / (4 * lambda))
    }

    /// The smaller η ≥ 0 with q(η) = c, for 0 ≤ c ≤ max q (λ > 0, f_w < 0); the stable form of the
    /// quadratic's root, 4c / (−f_w + sqrt(f_w² − 4λc)).
    func eta(whereLayerFreeGrowthIs c: Double) -> Double? {
        guard let top = layerFreeMaximum, c >= 0, c <= top.growth else { return nil }
        let discriminant = max(0, fw * fw - 4 * lambda * c)
        return 4 * c / (-fw + discriminant.squareRoot())
    }

    /// ln|f''(0)| of the trajectory that a start describes.
    func logWallCurvature(_ start: ShotStart) -> Double {
        switch start {
        case .wall(let x): return x
        case .edge(let xi): return Self.referenceLogCurvature - layerFreeLogGrowth(xi)
        }
    }

    /// η, (f, f', ln|f''|) and the variation with respect to the unknown where the shot starts.
    func initialState(_ start: ShotStart) -> (eta: Double, state: [Double]) {
        switch start {
        case .wall(let x):
            return (0, [fw, lambda, x, 0, 0, 1])
        case .edge(let xi):
            // Moving the start from ξ to ξ + dξ while keeping ln|f''| = L_ref there changes the state at
            // ξ by −(f'', f''', L')dξ relative to the old trajectory, i.e. (0, −σe^L_ref, f(ξ)/2)dξ.
            let f = fw + lambda * xi
            let l = Self.referenceLogCurvature
            return (xi, [f, lambda, l, 0, -sigma * Foundation.exp(l), 0.5 * f])
        }
    }

    /// Remaining change of f' beyond a point with f > 0, f' > 0: f'' = σe^L with L' = −f/2 ≤ −f(η₁)/2,
    /// so |f'(∞) − f'(η₁)| ≤ 2e^L/f (and f' cannot change sign when this is below f'/2). Returns the
    /// bound, or nil where it does not apply yet.
    @inline(__always)
    static func tailBound(f: Double, fp: Double, logCurvature: Double) -> Double? {
        guard f > 0, fp > 0 else { return nil }
        let bound = 2 * Foundation.exp(logCurvature) / f
        return bound <= 0.5 * fp ? bound : nil
    }

    /// Integrates the shooting system (state and variations) until the tail bound is below the tail
    /// tolerance, the trajectory runs away, or no layer has formed by the η limit. `recorder` sees
    /// (η, f, f', ln|f''|) at the start and after every accepted step.
    func run(directions: Int, eta: Double, state: [Double],
             recorder: ((Double, Double, Double, Double) -> Void)? = nil) -> (end: ShotEnd, eta: Double, state: [Double], steps: Int) {
        var rk = DormandPrince(system: BlasiusShootingSystem(sigma: sigma, directions: directions), eta: eta, state: state,
                               relativeTolerance: integrationTolerance, absoluteTolerance: integrationTolerance,
                               controlledComponents: 3)
        // The layer of a sensible shot lies within ~1e9 of where the shot starts (the widest layers in the
        // box are ~1/sqrt(λ) wide); beyond that f'' is negligible and the unknown too small.
        let etaLimit = eta + 1e9
        recorder?(rk.eta, rk[0], rk[1], rk[2])
        while true {
            if rk.advance() != .accepted { return (.runaway, rk.eta, rk.state, rk.acceptedSteps) }
            let f = rk[0], fp = rk[1], l = rk[2]
            recorder?(rk.eta, f, fp, l)
            guard l <= Self.runawayLogCurvature, f.isFinite, fp.isFinite else {
                return (.runaway, rk.eta, rk.state, rk.acceptedSteps)
            }
            if let bound = Self.tailBound(f: f, fp: fp, logCurvature: l), bound <= tailTolerance {
                return (.complete, rk.eta, rk.state, rk.acceptedSteps)
            }
            if rk.eta > etaLimit || rk.acceptedSteps >= maxSteps { return (.noLayer, rk.eta, rk.state, rk.acceptedSteps) }
        }
    }

    /// Residual f'(∞) − 1, with the leading tail term σ·2e^L/f, at a stopped state.
    @inline(__always)
    func residual(f: Double, fp: Double, logCurvature: Double) -> Double {
        let tail = f > 0 ? 2 * Foundation.exp(logCurvature) / f : 0
        return fp + sigma * tail - 1
    }

    /// ∂residual for a variation a = (a_f, a_p, a_L) at a stopped state.
    @inline(__always)
    func residualVariation(f: Double, logCurvature: Double, af: Double, ap: Double, aL: Double) -> Double {
        let tail = f > 0 ? 2 * Foundation.exp(logCurvature) / f : 0
        return ap + sigma * tail * (aL - (f > 0 ? af / f : 0))
    }

    /// One shot with the sensitivity to its unknown.
    func shoot(_ start: ShotStart, recorder: ((Double, Double, Double, Double) -> Void)? = nil) -> Shot {
        let (eta0, state0) = initialState(start)
        let run = self.run(directions: 1, eta: eta0, state: state0, recorder: recorder)
        let y = run.state
        return Shot(end: run.end,
                    residual: residual(f: y[0], fp: y[1], logCurvature: y[2]),
                    slope: residualVariation(f: y[0], logCurvature: y[2], af: y[3], ap: y[4], aL: y[5]),
                    eta: run.eta, f: y[0], fp: y[1], logCurvature: y[2], steps: run.steps)
    }

    /// A wall shot with the sensitivities of the residual to x = ln|f''(0)|, λ and f_w.
    func shootWithParameterSensitivities(logCurvature x: Double)
        -> (end: ShotEnd, residual: Double, dx: Double, dLambda: Double, dFw: Double, steps: Int) {
        // Initial variations: ∂(f, f', L)(0) = (0, 0, 1) for x, (0, 1, 0) for λ, (1, 0, 0) for f_w.
        let state0: [Double] = [fw, lambda, x, 0, 0, 1, 0, 1, 0, 1, 0, 0]
        let run = self.run(directions: 3, eta: 0, state: state0)
        let y = run.state
        let f = y[0], l = y[2]
        return (run.end, residual(f: f, fp: y[1], logCurvature: l),
                residualVariation(f: f, logCurvature: l, af: y[3], ap: y[4], aL: y[5]),
                residualVariation(f: f, logCurvature: l, af: y[6], ap: y[7], aL: y[8]),
                residualVariation(f: f, logCurvature: l, af: y[9], ap: y[10], aL: y[11]),
                run.steps)
    }

    /// Integrates the converged trajectory again, landing exactly on each of `nodes` (ascending, the
    /// first ≥ the start's η), and returns (f, f', ln|f''|) there. Nodes before an edge start take the
    /// layer-free solution. Returns nil if the integration fails.
    func states(at nodes: [Double], start: ShotStart) -> [SIMD3<Double>]? {
        let (eta0, state0) = initialState(start)
        let x = logWallCurvature(start)
        var out: [SIMD3<Double>] = []
        out.reserveCapacity(nodes.count)
        var rk = DormandPrince(system: BlasiusShootingSystem(sigma: sigma, directions: 1), eta: eta0, state: state0,
                               relativeTolerance: integrationTolerance, absoluteTolerance: integrationTolerance,
                               controlledComponents: 3)
        for node in nodes {
            if node < eta0 {
                // Layer-free stretch ahead of an edge start: exact up to terms below e^L_ref.
                out.append(SIMD3(fw + lambda * node, lambda, x + layerFreeLogGrowth(node)))
                continue
            }
            if node > rk.eta, rk.advance(to: node) != .accepted { return nil }
            guard rk[0].isFinite, rk[1].isFinite, rk[2].isFinite || rk[2] == -.infinity else { return nil }
            out.append(SIMD3(rk[0], rk[1], rk[2]))
        }
        return out
    }
}
