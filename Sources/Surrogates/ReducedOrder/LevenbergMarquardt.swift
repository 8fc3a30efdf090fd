/// A nonlinear least-squares problem min_x F(x) = ½‖r(x)‖², r: ℝⁿ → ℝᵐ, given by its residuals
/// and the two Jacobian products at the point of the last `evaluate` (J itself is never needed).
public protocol LeastSquaresProblem: AnyObject {
    var parameterCount: Int { get }
    var residualCount: Int { get }
    /// r(x) into `residuals` (m values); the Jacobian products below then linearise about x.
    func evaluate(at x: UnsafePointer<Double>, residuals: UnsafeMutablePointer<Double>) throws
    /// out ← J v (v: n values, out: m).
    func applyJacobian(_ v: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>)
    /// out ← Jᵀ u (u: m values, out: n).
    func applyJacobianTranspose(_ u: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>)
}

/// Settings of `LevenbergMarquardt.minimize`.
public struct LevenbergMarquardtOptions: Codable, Equatable, Sendable {
    /// Upper bound on trial steps (accepted and rejected).
    public var maxIterations: Int
    /// Conjugate-gradient iterations per step, at most: the damped normal equations are solved
    /// inexactly (a truncated Newton method), each CG iteration costing one J v and one Jᵀ u.
    public var cgIterations: Int
    /// CG stops once ‖residual‖ ≤ this × ‖Jᵀ r‖.
    public var cgTolerance: Double
    /// τ of the first damping λ₀ = τ · ‖JᵀJ‖₂ (Madsen, Nielsen & Tingleff 2004, eq. 3.14; the norm
    /// from a few power iterations, since diag(JᵀJ) is not available matrix-free).
    public var initialDamping: Double
    /// Stop when ‖Jᵀ r‖∞ ≤ this.
    public var gradientTolerance: Double
    /// Stop when a step is at most this × (‖x‖ + this).
    public var stepTolerance: Double

    public init(maxIterations: Int = 200, cgIterations: Int = 50, cgTolerance: Double = 1e-3, initialDamping: Double = 1e-3,
                gradientTolerance: Double = 1e-12, stepTolerance: Double = 1e-12) {
        self.maxIterations = maxIterations; self.cgIterations = cgIterations; self.cgTolerance = cgTolerance
        self.initialDamping = initialDamping; self.gradientTolerance = gradientTolerance; self.stepTolerance = stepTolerance
    }
}

/// Why `LevenbergMarquardt.minimize` stopped.
public enum LevenbergMarquardtStatus: String, Codable, Sendable {
    case gradientConverged = "gradient_converged"
    case stepConverged = "step_converged"
    case maxIterations = "max_iterations"
    /// λ grew past 1e30 · λ₀ without an accepted step: no descent is left at this precision.
    case stalled
    case nonFiniteStart = "non_finite_start"
    /// `onIteration` asked to stop (early stopping on a validation set, a target reached).
    case stoppedByCaller = "stopped_by_caller"
}

public struct LevenbergMarquardtResult: Sendable {
    public var x: [Double]
    /// F(x) = ½‖r(x)‖² at `x`.
    public var value: Double
    public var acceptedSteps: Int
    public var trialSteps: Int
    /// CG iterations summed over all steps (each one J v and one Jᵀ u).
    public var cgIterations: Int
    public var status: LevenbergMarquardtStatus
}

/// Levenberg–Marquardt for min ½‖r(x)‖² (Levenberg 1944, Marquardt 1963), matrix-free: each step
/// solves the damped Gauss–Newton equations (JᵀJ + λI) h = −Jᵀr by conjugate gradients from h = 0
/// (which makes h a descent direction however early CG stops), and λ follows the gain ratio
/// ρ = (F(x) − F(x + h)) / (L(0) − L(h)), L(h) = ½‖r + J h‖², with Nielsen's rule
/// λ ← λ · max(1/3, 1 − (2ρ − 1)³) on acceptance (ρ > 0) and λ ← λν, ν ← 2ν on rejection
/// (Madsen, Nielsen & Tingleff, "Methods for non-linear least squares problems", 2nd ed. 2004,
/// Algorithm 3.16). A non-finite F at a trial point counts as a rejection.
///
/// For a network's regression loss (POD-NN) with n ≈ 10⁴ parameters and m ≈ 10⁴ residuals the
/// Gauss–Newton matrix is never formed: a CG iteration costs one forward-mode and one reverse-mode
/// pass over the training set (`NetworkLinearization`).
public enum LevenbergMarquardt {
    /// Minimises from `start`. `onIteration(x, F, k)` runs after accepted step k = 1, 2, … with
    /// the new point (a buffer valid during the call); returning true stops there.
    public static func minimize(_ problem: LeastSquaresProblem, start: [Double], options: LevenbergMarquardtOptions = .init(),
                                onIteration: (UnsafeBufferPointer<Double>, Double, Int) throws -> Bool = { _, _, _ in false }) throws
        -> LevenbergMarquardtResult {
        let n = problem.parameterCount, m = problem.residualCount
        precondition(start.count == n, "LevenbergMarquardt: start has \(start.count) values for \(n) parameters")
        var x = start, trial = start
        var r = [Double](repeating: 0, count: m), trialResiduals = r, jv = r
        var g = [Double](repeating: 0, count: n), h = g, res = g, p = g, ap = g
        var accepted = 0, trials = 0, cgTotal = 0

        func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ count: Int) -> Double {
            var s = 0.0
            for i in 0..<count { s += a[i] * b[i] }
            return s
        }
        func halfSquaredNorm(_ v: [Double]) -> Double { v.withUnsafeBufferPointer { 0.5 * dot($0.baseAddress!, $0.baseAddress!, m) } }
        /// out ← JᵀJ v + λ v, through `jv`.
        func applyNormal(_ v: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>, _ lambda: Double) {
            jv.withUnsafeMutableBufferPointer { jvp in
                problem.applyJacobian(v, into: jvp.baseAddress!)
                problem.applyJacobianTranspose(jvp.baseAddress!, into: out)
            }
            for i in 0..<n { out[i] += lambda * v[i] }
        }

        try x.withUnsafeBufferPointer { xp in try r.withUnsafeMutableBufferPointer { try problem.evaluate(at: xp.baseAddress!, residuals: $0.baseAddress!) } }
        var value = halfSquaredNorm(r)
        guard value.isFinite else {
            return LevenbergMarquardtResult(x: x, value: value, acceptedSteps: 0, trialSteps: 0, cgIterations: 0, status: .nonFiniteStart)
        }
        r.withUnsafeBufferPointer { rp in g.withUnsafeMutableBufferPointer { problem.applyJacobianTranspose(rp.baseAddress!, into: $0.baseAddress!) } }

        // λ₀ = τ‖JᵀJ‖₂ by power iteration from the gradient direction (or a constant vector at a
        // stationary start).
        var lambda: Double = 0
        do {
            let gNorm = g.withUnsafeBufferPointer { dot($0.baseAddress!, $0.baseAddress!, n) }.squareRoot()
            p = gNorm > 0 ? g.map { $0 / gNorm } : [Double](repeating: 1 / Double(n).squareRoot(), count: n)
            var estimate = 0.0
            for _ in 0..<8 {
                p.withUnsafeBufferPointer { pp in ap.withUnsafeMutableBufferPointer { applyNormal(pp.baseAddress!, $0.baseAddress!, 0) } }
                estimate = ap.withUnsafeBufferPointer { dot($0.baseAddress!, $0.baseAddress!, n) }.squareRoot()
                guard estimate > 0, estimate.isFinite else { break }
                for i in 0..<n { p[i] = ap[i] / estimate }
            }
            lambda = options.initialDamping * (estimate > 0 && estimate.isFinite ? estimate : 1)
        }
        let lambdaLimit = lambda * 1e30
        var nu = 2.0
        var status = LevenbergMarquardtStatus.maxIterations

        while trials < options.maxIterations {
            if g.reduce(0, { max($0, abs($1)) }) <= options.gradientTolerance { status = .gradientConverged; break }
            // CG on (JᵀJ + λI) h = −g from h = 0.
            let bNorm = g.withUnsafeBufferPointer { dot($0.baseAddress!, $0.baseAddress!, n) }.squareRoot()
            for i in 0..<n { h[i] = 0; res[i] = -g[i]; p[i] = res[i] }
            var rr = bNorm * bNorm
            for _ in 0..<max(options.cgIterations, 1) {
                p.withUnsafeBufferPointer { pp in ap.withUnsafeMutableBufferPointer { applyNormal(pp.baseAddress!, $0.baseAddress!, lambda) } }
                cgTotal += 1
                let pAp = p.withUnsafeBufferPointer { pp in ap.withUnsafeBufferPointer { dot(pp.baseAddress!, $0.baseAddress!, n) } }
                guard pAp > 0, pAp.isFinite else { break }
                let alpha = rr / pAp
                for i in 0..<n { h[i] += alpha * p[i]; res[i] -= alpha * ap[i] }
                let rrNew = res.withUnsafeBufferPointer { dot($0.baseAddress!, $0.baseAddress!, n) }
                if rrNew.squareRoot() <= options.cgTolerance * bNorm { break }
                let beta = rrNew / rr
                rr = rrNew
                for i in 0..<n { p[i] = res[i] + beta * p[i] }
            }
            let stepNorm = h.withUnsafeBufferPointer { dot($0.baseAddress!, $0.baseAddress!, n) }.squareRoot()
            let xNorm = x.withUnsafeBufferPointer { dot($0.baseAddress!, $0.baseAddress!, n) }.squareRoot()
            if stepNorm <= options.stepTolerance * (xNorm + options.stepTolerance) { status = .stepConverged; break }
            // Predicted decrease L(0) − L(h) = −gᵀh − ½‖J h‖².
            h.withUnsafeBufferPointer { hp in jv.withUnsafeMutableBufferPointer { problem.applyJacobian(hp.baseAddress!, into: $0.baseAddress!) } }
            let predicted = -h.withUnsafeBufferPointer { hp in g.withUnsafeBufferPointer { dot(hp.baseAddress!, $0.baseAddress!, n) } }
                - 0.5 * jv.withUnsafeBufferPointer { dot($0.baseAddress!, $0.baseAddress!, m) }
            for i in 0..<n { trial[i] = x[i] + h[i] }
            trials += 1
            try trial.withUnsafeBufferPointer { tp in
                try trialResiduals.withUnsafeMutableBufferPointer { try problem.evaluate(at: tp.baseAddress!, residuals: $0.baseAddress!) }
            }
            let trialValue = halfSquaredNorm(trialResiduals)
            let rho = predicted > 0 && trialValue.isFinite ? (value - trialValue) / predicted : -1
            if rho > 0 {
                swap(&x, &trial); swap(&r, &trialResiduals)
                value = trialValue
                r.withUnsafeBufferPointer { rp in g.withUnsafeMutableBufferPointer { problem.applyJacobianTranspose(rp.baseAddress!, into: $0.baseAddress!) } }
                let t = 2 * rho - 1
                lambda *= max(1.0 / 3, 1 - t * t * t)
                nu = 2
                accepted += 1
                if try x.withUnsafeBufferPointer({ try onIteration($0, value, accepted) }) { status = .stoppedByCaller; break }
            } else {
                // Back to the linearisation at x.
                try x.withUnsafeBufferPointer { xp in try r.withUnsafeMutableBufferPointer { try problem.evaluate(at: xp.baseAddress!, residuals: $0.baseAddress!) } }
                lambda *= nu
                nu *= 2
                if !(lambda < lambdaLimit) { status = .stalled; break }
            }
        }
        return LevenbergMarquardtResult(x: x, value: value, acceptedSteps: accepted, trialSteps: trials, cgIterations: cgTotal, status: status)
    }
}
