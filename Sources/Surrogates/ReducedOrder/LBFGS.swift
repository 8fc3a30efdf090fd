/// Settings of the L-BFGS minimizer.
public struct LBFGSOptions: Codable, Equatable, Sendable {
    /// m, the number of (s, y) pairs kept (Nocedal & Wright, Numerical Optimization, 2nd ed., §7.2).
    public var memory: Int
    /// Upper bound on accepted steps.
    public var maxIterations: Int
    /// Upper bound on objective evaluations (line-search trials included).
    public var maxEvaluations: Int
    /// Stop when ‖∇f‖∞ ≤ this.
    public var gradientTolerance: Double
    /// Stop when a step lowers f by at most this × max(|f_old|, |f_new|, 1); 0 disables the test.
    public var relativeFunctionTolerance: Double
    /// Sufficient-decrease constant c₁ and curvature constant c₂ of the strong Wolfe conditions
    /// (N&W eq. 3.7), 0 < c₁ < c₂ < 1.
    public var c1: Double
    public var c2: Double
    /// Trials per line search before it gives up.
    public var maxLineSearchEvaluations: Int

    public init(memory: Int = 10, maxIterations: Int = 200, maxEvaluations: Int = 2000, gradientTolerance: Double = 1e-8,
                relativeFunctionTolerance: Double = 1e-12, c1: Double = 1e-4, c2: Double = 0.9, maxLineSearchEvaluations: Int = 30) {
        self.memory = memory; self.maxIterations = maxIterations; self.maxEvaluations = maxEvaluations
        self.gradientTolerance = gradientTolerance; self.relativeFunctionTolerance = relativeFunctionTolerance
        self.c1 = c1; self.c2 = c2; self.maxLineSearchEvaluations = maxLineSearchEvaluations
    }
}

/// Why the minimizer stopped.
public enum LBFGSStatus: String, Codable, Sendable {
    case gradientConverged = "gradient_converged"
    case functionConverged = "function_converged"
    case maxIterations = "max_iterations"
    case maxEvaluations = "max_evaluations"
    /// No step satisfying the Wolfe conditions (or at least sufficient decrease) was found, even
    /// along the steepest-descent direction: usually the gradient is inaccurate or f is at its
    /// rounding floor. `x` is the best point found.
    case lineSearchFailed = "line_search_failed"
    /// The objective is not finite at the starting point.
    case nonFiniteStart = "non_finite_start"
    /// `onIteration` asked to stop (e.g. a training reached its target error).
    case stoppedByCaller = "stopped_by_caller"
}

/// The outcome of `LBFGS.minimize`: the best point found and how the run went.
public struct LBFGSResult: Sendable {
    public var x: [Double]
    public var value: Double
    public var gradient: [Double]
    /// Accepted steps.
    public var iterations: Int
    /// Objective evaluations (with gradient), the first one included.
    public var evaluations: Int
    public var status: LBFGSStatus

    public var converged: Bool { status == .gradientConverged || status == .functionConverged }
}

/// Limited-memory BFGS for smooth unconstrained minimisation (Nocedal & Wright, Numerical
/// Optimization, 2nd ed. 2006: the two-loop recursion Algorithm 7.4 with the initial matrix
/// H₀ = (sᵀy / yᵀy) I of eq. 7.20, and a strong-Wolfe line search, Algorithms 3.5 and 3.6, with
/// safeguarded cubic interpolation, eq. 3.59).
///
/// Generic: the objective is any closure returning f(x) and filling ∇f(x). A non-finite f at a
/// trial point is treated as "too large", so the line search backs off (useful for objectives that
/// overflow far from the optimum). A pair with sᵀy ≤ 1e-12·‖s‖‖y‖ is not stored (it would spoil
/// positive definiteness); a direction that is not a descent direction resets the memory.
public enum LBFGS {
    /// Minimises `objective` from `start`. `objective(x, &gradient)` returns f(x) and writes ∇f(x)
    /// into `gradient` (which has x's length). `onIteration(x, f, k)` is called after each accepted
    /// step k = 1, 2, … with the new point; returning true stops the minimisation there.
    public static func minimize(start: [Double], options: LBFGSOptions = LBFGSOptions(),
                                onIteration: ([Double], Double, Int) -> Bool = { _, _, _ in false },
                                objective: ([Double], inout [Double]) throws -> Double) rethrows -> LBFGSResult {
        let n = start.count
        var x = start
        var g = [Double](repeating: 0, count: n)
        var f = try objective(x, &g)
        var evaluations = 1
        guard f.isFinite, g.allSatisfy({ $0.isFinite }) else {
            return LBFGSResult(x: x, value: f, gradient: g, iterations: 0, evaluations: evaluations, status: .nonFiniteStart)
        }
        let m = max(1, options.memory)
        var sHistory: [[Double]] = [], yHistory: [[Double]] = [], rhoHistory: [Double] = []
        var iterations = 0
        var status = LBFGSStatus.maxIterations
        var alpha = [Double](repeating: 0, count: m)

        func dot(_ a: [Double], _ b: [Double]) -> Double {
            var s = 0.0
            for i in 0..<a.count { s += a[i] * b[i] }
            return s
        }

        while true {
            if g.reduce(0, { max($0, abs($1)) }) <= options.gradientTolerance { status = .gradientConverged; break }
            if iterations >= options.maxIterations { status = .maxIterations; break }
            if evaluations >= options.maxEvaluations { status = .maxEvaluations; break }
            // Two-loop recursion (N&W Algorithm 7.4): p = −H g.
            var q = g
            let k = sHistory.count
            if k > 0 {
                for i in stride(from: k - 1, through: 0, by: -1) {
                    alpha[i] = rhoHistory[i] * dot(sHistory[i], q)
                    for j in 0..<n { q[j] -= alpha[i] * yHistory[i][j] }
                }
                let gamma = dot(sHistory[k - 1], yHistory[k - 1]) / dot(yHistory[k - 1], yHistory[k - 1])
                for j in 0..<n { q[j] *= gamma }
                for i in 0..<k {
                    let beta = rhoHistory[i] * dot(yHistory[i], q)
                    for j in 0..<n { q[j] += (alpha[i] - beta) * sHistory[i][j] }
                }
            }
            var p = q.map { -$0 }
            var slope = dot(g, p)
            if !(slope < 0) || !slope.isFinite {
                sHistory.removeAll(); yHistory.removeAll(); rhoHistory.removeAll()
                p = g.map { -$0 }
                slope = dot(g, p)
            }
            let gradientNorm = dot(g, g).squareRoot()
            let initialStep = sHistory.isEmpty ? min(1, 1 / gradientNorm) : 1
            let search = try lineSearch(x: x, f0: f, slope0: slope, direction: p, initialStep: initialStep,
                                        options: options, evaluations: &evaluations, objective: objective)
            guard let accepted = search else {
                if !sHistory.isEmpty {
                    // Retry along steepest descent with a fresh memory.
                    sHistory.removeAll(); yHistory.removeAll(); rhoHistory.removeAll()
                    if evaluations < options.maxEvaluations { continue }
                }
                status = evaluations >= options.maxEvaluations ? .maxEvaluations : .lineSearchFailed
                break
            }
            var s = [Double](repeating: 0, count: n), y = [Double](repeating: 0, count: n)
            for j in 0..<n { s[j] = accepted.x[j] - x[j]; y[j] = accepted.gradient[j] - g[j] }
            let sy = dot(s, y)
            if sy > 1e-12 * (dot(s, s) * dot(y, y)).squareRoot() && sy.isFinite {
                if sHistory.count == m { sHistory.removeFirst(); yHistory.removeFirst(); rhoHistory.removeFirst() }
                sHistory.append(s); yHistory.append(y); rhoHistory.append(1 / sy)
            }
            let previous = f
            x = accepted.x; f = accepted.value; g = accepted.gradient
            iterations += 1
            if onIteration(x, f, iterations) { status = .stoppedByCaller; break }
            if options.relativeFunctionTolerance > 0,
               previous - f <= options.relativeFunctionTolerance * max(abs(previous), abs(f), 1) {
                status = .functionConverged
                break
            }
        }
        return LBFGSResult(x: x, value: f, gradient: g, iterations: iterations, evaluations: evaluations, status: status)
    }

    private struct Trial {
        var step: Double
        var value: Double
        var slope: Double
        var x: [Double]
        var gradient: [Double]
    }

    /// The strong-Wolfe line search (N&W Algorithm 3.5, zoom = Algorithm 3.6). Returns nil when no
    /// acceptable point was found; a point with sufficient decrease that misses the curvature
    /// condition is accepted once the trials run out.
    private static func lineSearch(x: [Double], f0: Double, slope0: Double, direction p: [Double], initialStep: Double,
                                   options: LBFGSOptions, evaluations: inout Int,
                                   objective: ([Double], inout [Double]) throws -> Double) rethrows -> (x: [Double], value: Double, gradient: [Double])? {
        let n = x.count
        let c1 = options.c1, c2 = options.c2
        var budget = options.maxLineSearchEvaluations
        func evaluate(_ step: Double) throws -> Trial {
            var xt = x
            for j in 0..<n { xt[j] += step * p[j] }
            var gt = [Double](repeating: 0, count: n)
            let ft = try objective(xt, &gt)
            evaluations += 1
            budget -= 1
            var d = 0.0
            for j in 0..<n { d += gt[j] * p[j] }
            let finite = ft.isFinite && d.isFinite
            return Trial(step: step, value: finite ? ft : .infinity, slope: finite ? d : .nan, x: xt, gradient: gt)
        }
        func armijo(_ t: Trial) -> Bool { t.value <= f0 + c1 * t.step * slope0 }
        func curvature(_ t: Trial) -> Bool { abs(t.slope) <= -c2 * slope0 }
        let origin = Trial(step: 0, value: f0, slope: slope0, x: x, gradient: [])

        func zoom(_ loIn: Trial, _ hiIn: Trial) throws -> Trial? {
            var lo = loIn, hi = hiIn
            while budget > 0 && evaluations < options.maxEvaluations {
                let a = lo.step, b = hi.step
                let width = abs(b - a)
                if width <= 1e-16 * max(abs(a), abs(b)) { break }
                var t = 0.5 * (a + b)
                if hi.value.isFinite && hi.slope.isFinite {
                    // Cubic through (a, f_lo, f'_lo) and (b, f_hi, f'_hi) (N&W eq. 3.59), kept inside the bracket.
                    let d1 = lo.slope + hi.slope - 3 * (lo.value - hi.value) / (a - b)
                    let disc = d1 * d1 - lo.slope * hi.slope
                    if disc >= 0 {
                        let d2 = (b > a ? 1.0 : -1.0) * disc.squareRoot()
                        let cubic = b - (b - a) * (hi.slope + d2 - d1) / (hi.slope - lo.slope + 2 * d2)
                        let left = min(a, b) + 0.1 * width, right = max(a, b) - 0.1 * width
                        if cubic.isFinite && cubic >= left && cubic <= right { t = cubic }
                    }
                }
                let trial = try evaluate(t)
                if !armijo(trial) || trial.value >= lo.value {
                    hi = trial
                } else {
                    if curvature(trial) { return trial }
                    if trial.slope * (b - a) >= 0 { hi = lo }
                    lo = trial
                }
            }
            return lo.step > 0 ? lo : nil
        }

        var previous = origin
        var step = initialStep
        var first = true
        while budget > 0 && evaluations < options.maxEvaluations {
            let trial = try evaluate(step)
            if !armijo(trial) || (!first && trial.value >= previous.value) {
                return try zoom(previous, trial).map { ($0.x, $0.value, $0.gradient) }
            }
            if curvature(trial) { return (trial.x, trial.value, trial.gradient) }
            if trial.slope >= 0 {
                return try zoom(trial, previous).map { ($0.x, $0.value, $0.gradient) }
            }
            previous = trial
            first = false
            step *= 4
            if !step.isFinite { break }
        }
        return previous.step > 0 ? (previous.x, previous.value, previous.gradient) : nil
    }
}
