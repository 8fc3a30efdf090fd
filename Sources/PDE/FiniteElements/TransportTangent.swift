import NumericalFoundations

// The tangent (sensitivity) equation of the discrete problem (docs/fem.md "Parametric sensitivities",
// (S1)–(S6)): at the converged state c*, J(c*) ∂c/∂θ = −∂R/∂θ, with the same mesh, SUPG terms, source
// and Dirichlet set as the solve. ∂R/∂θ is either analytic in the coefficients (D_s, L, product rates,
// including the dependence of τ on D_s and σ_s) or a difference of residuals of two perturbed
// problems at c* (for data such as the wind that enter through the assembly). J(c*) is solved by
// iterative refinement preconditioned with Newton's last LU factors, refactorising only if that stalls.

/// How a parameter θ enters the coefficients of a `TransportProblem`: ∂D_s/∂θ, ∂L/∂θ (k × k, row-major)
/// and, per product of `reactions.products` (in order, including products with rate 0), ∂rate_s/∂θ.
public struct CoefficientDerivative: Sendable, Equatable {
    public var diffusion: [Double]
    public var linear: [Double]
    public var productRates: [[Double]]

    public init(diffusion: [Double], linear: [Double], productRates: [[Double]]) {
        self.diffusion = diffusion; self.linear = linear; self.productRates = productRates
    }
}

/// One right-hand side −∂R/∂θ of the tangent equation.
public enum TangentSource: Sendable {
    /// Analytic, (S1)–(S3).
    case coefficients(CoefficientDerivative)
    /// ∂R/∂θ ≈ [R(c*; plus) − R(c*; minus)] / spacing (S5), spacing = θ_plus − θ_minus. Both problems
    /// must have the prepared problem's Dirichlet nodes and values: the set is held fixed.
    case difference(plus: TransportProblem, minus: TransportProblem, spacing: Double)
}

/// Stopping rule of the refinement sweeps x ← x + LU⁻¹(b − J(c*) x) (S6).
public struct TangentOptions: Sendable, Equatable {
    /// Converged when ‖b − J(c*) x‖₂ ≤ relativeTolerance · ‖b‖₂.
    public var relativeTolerance: Double
    /// Sweeps (LU solves) per right-hand side before J(c*) is factorised afresh (numeric only).
    public var maxSweeps: Int
    public init(relativeTolerance: Double = 1e-12, maxSweeps: Int = 8) {
        self.relativeTolerance = relativeTolerance; self.maxSweeps = maxSweeps
    }
}

/// What the tangent solves did.
public struct TangentReport: Sendable, Equatable {
    public init() {}
    /// LU solves per right-hand side (after a refactorisation: those with the new factors).
    public var sweeps: [Int] = []
    /// Final ‖b − J(c*) x‖ / ‖b‖ per right-hand side.
    public var relativeResiduals: [Double] = []
    /// Whether the refinement stalled and J(c*) was factorised (numerically; the symbolic analysis is reused).
    public var refactorized = false
    public var rightHandSideSeconds = 0.0
    public var solveSeconds = 0.0
    public var totalSeconds = 0.0
}

/// ∂c/∂θ for every source, interleaved like the state (node · k + species).
public struct TangentSolution: Sendable {
    public var derivatives: [[Double]]
    public var report: TangentReport
}

extension SteadyTransportSolver {
    /// Solves J(c) x_k = −∂R/∂θ_k for every source at the state `c` of the prepared problem, normally
    /// the converged Newton state of the last `solve` (whose LU factors precondition the refinement).
    /// The prepared problem is left as it was (only the Jacobian values and, after a stall, the
    /// factors change).
    public func tangent(at c: [Double], sources: [TangentSource], options: TangentOptions = TangentOptions()) throws -> TangentSolution {
        guard prepared, let base = preparedProblem else { throw TransportProblemError("solver", "no problem prepared") }
        let n = space.unknownCount, k = space.speciesCount
        guard c.count == n else { throw TransportProblemError("state", "has \(c.count) values, expected \(n)") }
        let start = monotonicSeconds()
        var report = TangentReport()

        // Right-hand sides; the analytic ones first, while the base problem is assembled.
        var rhs = [[Double]](repeating: [], count: sources.count)
        for (index, source) in sources.enumerated() {
            guard case .coefficients(let d) = source else { continue }
            guard d.diffusion.count == k, d.linear.count == k * k, d.productRates.count <= base.reactions.products.count,
                  d.productRates.allSatisfy({ $0.count == k }) else {
                throw TransportProblemError("sources[\(index)]", "needs \(k) diffusion and \(k * k) linear derivatives and \(k) rates per product")
            }
            var b = [Double](repeating: 0, count: n)
            c.withUnsafeBufferPointer { cb in b.withUnsafeMutableBufferPointer { addCoefficientDerivative(base, d, at: cb, into: $0) } }
            for i in 0..<n { b[i] = -b[i] }
            rhs[index] = b
        }
        for (index, source) in sources.enumerated() {
            guard case .difference(let plus, let minus, let spacing) = source else { continue }
            guard spacing != 0, spacing.isFinite else { throw TransportProblemError("sources[\(index)]", "spacing \(spacing) must be finite and non-zero") }
            for problem in [plus, minus] {
                try validate(problem)
                guard problem.dirichletNodes == base.dirichletNodes, problem.dirichletValues == base.dirichletValues,
                      problem.stabilization == base.stabilization else {
                    throw TransportProblemError("sources[\(index)]", "the perturbed problems must keep the Dirichlet nodes and values and the stabilization of the prepared problem")
                }
            }
            var b = [Double](repeating: 0, count: n)
            c.withUnsafeBufferPointer { cb in
                b.withUnsafeMutableBufferPointer { addResidualDifference(plus: plus, minus: minus, scale: -1 / spacing, at: cb, into: $0) }
            }
            rhs[index] = b
        }
        assembleJacobian(c)
        report.rightHandSideSeconds = seconds(since: start)

        let solveStart = monotonicSeconds()
        var derivatives = [[Double]](repeating: [Double](repeating: 0, count: n), count: sources.count)
        report.sweeps = [Int](repeating: 0, count: sources.count)
        report.relativeResiduals = [Double](repeating: 0, count: sources.count)
        var pending = Array(sources.indices)
        if !factorization.isFactorized { try refactorize(&report) }
        var work = (residual: [Double](repeating: 0, count: n), correction: [Double](repeating: 0, count: n))
        for attempt in 0..<2 {
            var stalled: [Int] = []
            for index in pending {
                let result = try refinedSolve(rhs[index], into: &derivatives[index], work: &work, options: options)
                report.sweeps[index] = result.sweeps
                report.relativeResiduals[index] = result.relativeResidual
                if !result.converged { stalled.append(index) }
            }
            pending = stalled
            if pending.isEmpty { break }
            if attempt == 0 { try refactorize(&report) }
        }
        if let index = pending.first {
            throw TransportProblemError("tangent", "right-hand side \(index) reached relative residual \(report.relativeResiduals[index]) > \(options.relativeTolerance) even with J(c) factorised afresh")
        }
        report.solveSeconds = seconds(since: solveStart)
        report.totalSeconds = seconds(since: start)
        return TangentSolution(derivatives: derivatives, report: report)
    }

    private func refactorize(_ report: inout TangentReport) throws {
        do { try factorization.factorize(values: jacobianValues) } catch let error as UMFPACKError {
            throw TransportProblemError("tangent", "factorising J(c): \(error)")
        }
        report.refactorized = true
    }

    /// x = J⁻¹ b by x₀ = LU⁻¹ b, x ← x + LU⁻¹(b − J x) (S6); J is `jacobianValues`, LU the current factors.
    private func refinedSolve(_ b: [Double], into x: inout [Double], work: inout (residual: [Double], correction: [Double]),
                              options: TangentOptions) throws -> (sweeps: Int, relativeResidual: Double, converged: Bool) {
        let bNorm = norm(b)
        if bNorm == 0 {
            x.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            return (0, 0, true)
        }
        do { try factorization.solve(b, into: &x) } catch let error as UMFPACKError { throw TransportProblemError("tangent", "\(error)") }
        var sweeps = 1, relative = Double.infinity
        while true {
            CSCMatrix.multiply(pattern: space.pattern, values: jacobianValues, x: x, into: &work.residual)
            for i in 0..<b.count { work.residual[i] = b[i] - work.residual[i] }
            relative = norm(work.residual) / bNorm
            if relative <= options.relativeTolerance { return (sweeps, relative, true) }
            if sweeps >= options.maxSweeps || !relative.isFinite { return (sweeps, relative, false) }
            do { try factorization.solve(work.residual, into: &work.correction) } catch let error as UMFPACKError {
                throw TransportProblemError("tangent", "\(error)")
            }
            for i in 0..<x.count { x[i] += work.correction[i] }
            sweeps += 1
        }
    }

    /// Adds scale · [R(c; plus) − R(c; minus)] into `out` (S5), element by element, Dirichlet rows left
    /// out (they are c − g on both sides). The Galerkin source terms are the same on both sides and
    /// left out; everything that involves the wind (advection, τ, the SUPG terms) is evaluated for
    /// each problem with its own velocity. No matrix is assembled and the prepared state is untouched.
    func addResidualDifference(plus: TransportProblem, minus: TransportProblem, scale: Double, at c: UnsafeBufferPointer<Double>,
                               into out: UnsafeMutableBufferPointer<Double>) {
        let k = space.speciesCount, triangleCount = space.mesh.triangleCount, elements = space.mesh.triangles
        let sides = [plus, minus], signs = [scale, -scale]
        // Per side and species: the element moments of Q_s, or the lumped projection of its nodal load.
        var elementMoments: [[[Double]]] = [], nodalProjections: [[[Double]]] = []
        for problem in sides {
            switch problem.source {
            case .nodal(let loads):
                elementMoments.append([])
                nodalProjections.append(loads.map { load in load.isEmpty ? [] : zip(load, space.lumpedMass).map { $0 / $1 } })
            case .elementMoments(let moments):
                elementMoments.append(moments)
                nodalProjections.append([])
            }
        }
        for t in 0..<triangleCount {
            let active = SIMD3<Double>(dirichletNode[elements[3 * t]] ? 0 : 1, dirichletNode[elements[3 * t + 1]] ? 0 : 1,
                                       dirichletNode[elements[3 * t + 2]] ? 0 : 1)
            if active == SIMD3(repeating: 0) { continue }
            for side in 0..<2 {
                let problem = sides[side], sign = signs[side]
                let e = LocalElement(space: space, triangle: t, velocityX: problem.velocityX, velocityY: problem.velocityY)
                let geometry = TransportWeakForm.streamlineScale(space: space, triangle: t, velocityX: problem.velocityX,
                                                                velocityY: problem.velocityY)
                let linear = problem.reactions.linear
                for s in 0..<k {
                    let tauS = problem.stabilization == .supg
                        ? TransportWeakForm.supgTau(streamSum: geometry.streamSum, length: geometry.length,
                                                    diffusion: problem.diffusion[s], selfReaction: linear[s * k + s]) : 0
                    let cs = SIMD3(c[e.nodes[0] * k + s], c[e.nodes[1] * k + s], c[e.nodes[2] * k + s])
                    var residual = SIMD3<Double>(repeating: 0)
                    for i in 0..<3 {
                        for j in 0..<3 {
                            residual[i] += TransportWeakForm.advectionDiffusion(e, i, j, diffusion: problem.diffusion[s], tau: tauS) * cs[j]
                        }
                    }
                    for other in 0..<k where linear[s * k + other] != 0 {
                        let ct = SIMD3(c[e.nodes[0] * k + other], c[e.nodes[1] * k + other], c[e.nodes[2] * k + other])
                        for i in 0..<3 {
                            for j in 0..<3 { residual[i] += linear[s * k + other] * TransportWeakForm.linearReaction(e, i, j, tau: tauS) * ct[j] }
                        }
                    }
                    for product in problem.reactions.products where product.rates[s] != 0 {
                        let ca = SIMD3(c[e.nodes[0] * k + product.first], c[e.nodes[1] * k + product.first], c[e.nodes[2] * k + product.first])
                        let cb = SIMD3(c[e.nodes[0] * k + product.second], c[e.nodes[1] * k + product.second], c[e.nodes[2] * k + product.second])
                        let nodal = TransportWeakForm.productMoments(e, first: ca, second: cb).nodal
                        for i in 0..<3 { residual[i] += product.rates[s] * TransportWeakForm.productResidual(e, i, tau: tauS, nodal: nodal) }
                    }
                    if tauS != 0 {
                        var q = SIMD3<Double>(repeating: 0)
                        if s < elementMoments[side].count, !elementMoments[side][s].isEmpty {
                            let moments = elementMoments[side][s]
                            q = SIMD3(moments[3 * t], moments[3 * t + 1], moments[3 * t + 2])
                        } else if s < nodalProjections[side].count, !nodalProjections[side][s].isEmpty {
                            let projection = nodalProjections[side][s]
                            q = TransportWeakForm.projectedSourceMoments(e, SIMD3(projection[e.nodes[0]], projection[e.nodes[1]], projection[e.nodes[2]]))
                        }
                        for i in 0..<3 { residual[i] -= TransportWeakForm.supgMoments(e, i, tau: tauS, q) }
                    }
                    for i in 0..<3 where active[i] != 0 { out[e.nodes[i] * k + s] += sign * residual[i] }
                }
            }
        }
    }

    /// Adds ∂R/∂θ at c for coefficient derivatives `d` (S1)–(S3) into `out`, Dirichlet rows left out:
    /// at fixed τ the derivative of each term is the term per unit coefficient; τ_{s,e} adds
    /// (∂τ_{s,e}/∂θ) · `supgPerTau` with ∂τ/∂θ = ∂τ/∂D_s · ∂D_s/∂θ + ∂τ/∂σ_s · ∂σ_s/∂θ (S2).
    func addCoefficientDerivative(_ problem: TransportProblem, _ d: CoefficientDerivative, at c: UnsafeBufferPointer<Double>,
                                  into out: UnsafeMutableBufferPointer<Double>) {
        let k = space.speciesCount, triangleCount = space.mesh.triangleCount, elements = space.mesh.triangles
        let linear = problem.reactions.linear, allProducts = problem.reactions.products
        let supg = problem.stabilization == .supg
        var nodalProjection: [[Double]] = []
        if case .nodal(let loads) = problem.source {
            nodalProjection = loads.map { load in load.isEmpty ? [] : zip(load, space.lumpedMass).map { $0 / $1 } }
        }
        let sourceMoments: [[Double]]
        if case .elementMoments(let moments) = problem.source { sourceMoments = moments } else { sourceMoments = [] }
        for t in 0..<triangleCount {
            let e = LocalElement(space: space, triangle: t, velocityX: velocityX, velocityY: velocityY)
            let active = SIMD3<Double>(dirichletNode[elements[3 * t]] ? 0 : 1, dirichletNode[elements[3 * t + 1]] ? 0 : 1,
                                       dirichletNode[elements[3 * t + 2]] ? 0 : 1)
            if active == SIMD3(repeating: 0) { continue }
            let length = supg ? TransportWeakForm.streamlineScale(space: space, triangle: t, velocityX: velocityX, velocityY: velocityY).length : 1
            for s in 0..<k {
                let tauS = tau[s * triangleCount + t]
                var derivative = SIMD3<Double>(repeating: 0)   // ∂R_{s,i}/∂θ on this element, i = 0, 1, 2
                let cs = SIMD3(c[e.nodes[0] * k + s], c[e.nodes[1] * k + s], c[e.nodes[2] * k + s])
                if d.diffusion[s] != 0 {
                    for i in 0..<3 {
                        derivative[i] += d.diffusion[s] * (TransportWeakForm.advectionDiffusionPerDiffusion(e, i, 0) * cs[0]
                            + TransportWeakForm.advectionDiffusionPerDiffusion(e, i, 1) * cs[1]
                            + TransportWeakForm.advectionDiffusionPerDiffusion(e, i, 2) * cs[2])
                    }
                }
                var linearField = SIMD3<Double>(repeating: 0)   // Σ_t L_st c_t at the three nodes
                for other in 0..<k {
                    let ct = SIMD3(c[e.nodes[0] * k + other], c[e.nodes[1] * k + other], c[e.nodes[2] * k + other])
                    linearField += linear[s * k + other] * ct
                    let rate = d.linear[s * k + other]
                    if rate == 0 { continue }
                    for i in 0..<3 {
                        derivative[i] += rate * (TransportWeakForm.linearReaction(e, i, 0, tau: tauS) * ct[0]
                            + TransportWeakForm.linearReaction(e, i, 1, tau: tauS) * ct[1]
                            + TransportWeakForm.linearReaction(e, i, 2, tau: tauS) * ct[2])
                    }
                }
                var productMoments = SIMD3<Double>(repeating: 0)   // Σ rate_s ∫ c_a c_b φ_m
                for (p, product) in allProducts.enumerated() {
                    let rateDerivative = p < d.productRates.count ? d.productRates[p][s] : 0
                    if product.rates[s] == 0 && rateDerivative == 0 { continue }
                    let ca = SIMD3(c[e.nodes[0] * k + product.first], c[e.nodes[1] * k + product.first], c[e.nodes[2] * k + product.first])
                    let cb = SIMD3(c[e.nodes[0] * k + product.second], c[e.nodes[1] * k + product.second], c[e.nodes[2] * k + product.second])
                    let nodal = TransportWeakForm.productMoments(e, first: ca, second: cb).nodal
                    productMoments += product.rates[s] * nodal
                    if rateDerivative != 0 {
                        for i in 0..<3 { derivative[i] += rateDerivative * TransportWeakForm.productResidual(e, i, tau: tauS, nodal: nodal) }
                    }
                }
                if supg && tauS != 0 {
                    let tauDerivative = d.diffusion[s] * TransportWeakForm.supgTauPerDiffusion(tau: tauS, length: length)
                        + d.linear[s * k + s] * TransportWeakForm.supgTauPerSelfReaction(tau: tauS, selfReaction: linear[s * k + s])
                    if tauDerivative != 0 {
                        var q = SIMD3<Double>(repeating: 0)
                        if s < sourceMoments.count, !sourceMoments[s].isEmpty {
                            q = SIMD3(sourceMoments[s][3 * t], sourceMoments[s][3 * t + 1], sourceMoments[s][3 * t + 2])
                        } else if s < nodalProjection.count, !nodalProjection[s].isEmpty {
                            q = TransportWeakForm.projectedSourceMoments(e, SIMD3(nodalProjection[s][e.nodes[0]], nodalProjection[s][e.nodes[1]],
                                                                                 nodalProjection[s][e.nodes[2]]))
                        }
                        let strong = TransportWeakForm.strongResidualMoments(e, advected: cs, linearReaction: linearField,
                                                                             products: productMoments, source: q)
                        for i in 0..<3 { derivative[i] += tauDerivative * TransportWeakForm.supgPerTau(e, i, strongResidual: strong) }
                    }
                }
                for i in 0..<3 where active[i] != 0 { out[e.nodes[i] * k + s] += derivative[i] }
            }
        }
    }
}
