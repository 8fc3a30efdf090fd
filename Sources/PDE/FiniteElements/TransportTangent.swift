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
        var analytic: [(index: Int, derivative: CoefficientDerivative)] = []
        for (index, source) in sources.enumerated() {
            guard case .coefficients(let d) = source else { continue }
            guard d.diffusion.count == k, d.linear.count == k * k, d.productRates.count <= base.reactions.products.count,
                  d.productRates.allSatisfy({ $0.count == k }) else {
                throw TransportProblemError("sources[\(index)]", "needs \(k) diffusion and \(k * k) linear derivatives and \(k) rates per product")
            }
            analytic.append((index, d))
        }
        if !analytic.isEmpty {
            var b = [Double](repeating: 0, count: n * analytic.count)
            c.withUnsafeBufferPointer { cb in b.withUnsafeMutableBufferPointer { addCoefficientDerivatives(base, analytic.map(\.derivative), at: cb, into: $0) } }
            for (position, entry) in analytic.enumerated() { rhs[entry.index] = b[(position * n)..<((position + 1) * n)].map { -$0 } }
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

    /// The values of species s at the three nodes of an element (interleaved state, k species).
    @inline(__always)
    private func local(_ c: UnsafeBufferPointer<Double>, _ nodes: SIMD3<Int>, _ k: Int, _ s: Int) -> SIMD3<Double> {
        let a: Double = c[nodes[0] * k + s], b: Double = c[nodes[1] * k + s], d: Double = c[nodes[2] * k + s]
        return SIMD3(a, b, d)
    }

    /// Species s's reactions on one element at c: the nodal values of Σ_t L_st c_t (the linear part)
    /// and the moments of its products Σ rate_s ∫ c_a c_b φ_i. Shared by the wind and the coefficient
    /// derivatives, which need both at c* unchanged.
    @inline(__always)
    private func reactionFields(species s: Int, element e: LocalElement, at c: UnsafeBufferPointer<Double>, linear: [Double],
                                products: [ProductReaction]) -> (linear: SIMD3<Double>, products: SIMD3<Double>) {
        let k = space.speciesCount, nodes = e.nodes
        var linearField = SIMD3<Double>(repeating: 0)
        for other in 0..<k where linear[s * k + other] != 0 {
            let rate: Double = linear[s * k + other]
            linearField += rate * local(c, nodes, k, other)
        }
        var productMoments = SIMD3<Double>(repeating: 0)
        for product in products where product.rates[s] != 0 {
            let ca = local(c, nodes, k, product.first)
            let cb = local(c, nodes, k, product.second)
            productMoments += product.rates[s] * TransportWeakForm.productMoments(e, first: ca, second: cb).nodal
        }
        return (linearField, productMoments)
    }

    /// The per-element data of one problem's source for species s: element moments of Q_s or the
    /// lumped projection of its nodal load (nil: no source). Hoisted out of the element loops.
    private func sourceData(_ problem: TransportProblem) -> (moments: [[Double]], projections: [[Double]]) {
        switch problem.source {
        case .nodal(let loads):
            return ([], loads.map { load in load.isEmpty ? [] : zip(load, space.lumpedMass).map { $0 / $1 } })
        case .elementMoments(let moments):
            return (moments, [])
        }
    }

    /// ∫_e Q_s φ_m on triangle t (or its P1 stand-in, `projectedSourceMoments`), 0 without a source.
    @inline(__always)
    private func sourceMoments(_ data: (moments: [[Double]], projections: [[Double]]), species s: Int, triangle t: Int,
                               element e: LocalElement) -> SIMD3<Double> {
        if s < data.moments.count, !data.moments[s].isEmpty {
            return SIMD3(data.moments[s][3 * t], data.moments[s][3 * t + 1], data.moments[s][3 * t + 2])
        }
        if s < data.projections.count, !data.projections[s].isEmpty {
            let q = data.projections[s]
            return TransportWeakForm.projectedSourceMoments(e, SIMD3(q[e.nodes[0]], q[e.nodes[1]], q[e.nodes[2]]))
        }
        return SIMD3(repeating: 0)
    }

    /// Adds scale · [R(c; plus) − R(c; minus)] into `out` (S5), element by element, Dirichlet rows left
    /// out (they are c − g on both sides). Only the terms that involve the wind differ between the two
    /// problems (`windTerms`); diffusion, mass reactions and Galerkin sources cancel and are not
    /// evaluated, and the products' moments, which do not depend on the wind, are shared. No matrix is
    /// assembled; the prepared state is untouched.
    func addResidualDifference(plus: TransportProblem, minus: TransportProblem, scale: Double, at c: UnsafeBufferPointer<Double>,
                               into out: UnsafeMutableBufferPointer<Double>) {
        let k = space.speciesCount, triangleCount = space.mesh.triangleCount
        let sourcePlus = sourceData(plus), sourceMinus = sourceData(minus)
        let linear = plus.reactions.linear, products = plus.reactions.products, supg = plus.stabilization == .supg
        for t in 0..<triangleCount {
            let active = activeRows(ofTriangle: t)
            if active == SIMD3(repeating: 0) { continue }
            let ePlus = LocalElement(space: space, triangle: t, velocityX: plus.velocityX, velocityY: plus.velocityY)
            let eMinus = LocalElement(space: space, triangle: t, velocityX: minus.velocityX, velocityY: minus.velocityY)
            let scalePlus = TransportWeakForm.streamlineScale(space: space, triangle: t, velocityX: plus.velocityX, velocityY: plus.velocityY)
            let scaleMinus = TransportWeakForm.streamlineScale(space: space, triangle: t, velocityX: minus.velocityX, velocityY: minus.velocityY)
            let nodes = ePlus.nodes
            for s in 0..<k {
                let cs = local(c, nodes, k, s)
                let (linearField, productMoments) = reactionFields(species: s, element: ePlus, at: c, linear: linear, products: products)
                let d = plus.diffusion[s], sigma = linear[s * k + s]
                let tauPlus = supg ? TransportWeakForm.supgTau(streamSum: scalePlus.streamSum, length: scalePlus.length, diffusion: d, selfReaction: sigma) : 0
                let tauMinus = supg ? TransportWeakForm.supgTau(streamSum: scaleMinus.streamSum, length: scaleMinus.length, diffusion: d, selfReaction: sigma) : 0
                let difference = windTerms(ePlus, tau: tauPlus, c: cs, linearField: linearField, products: productMoments,
                                           source: sourceMoments(sourcePlus, species: s, triangle: t, element: ePlus))
                    - windTerms(eMinus, tau: tauMinus, c: cs, linearField: linearField, products: productMoments,
                                source: sourceMoments(sourceMinus, species: s, triangle: t, element: eMinus))
                for i in 0..<3 where active[i] != 0 { out[nodes[i] * k + s] += scale * difference[i] }
            }
        }
    }

    /// The wind-dependent part of species s's element residual, rows i = 0, 1, 2: the Galerkin advection
    /// Σ_j c_s,j ∫ (u_h·∇φ_j) φ_i plus every SUPG term, τ_s Σ_m (u_m·∇φ_i) F_m (`supgPerTau`).
    @inline(__always)
    private func windTerms(_ e: LocalElement, tau: Double, c: SIMD3<Double>, linearField: SIMD3<Double>, products: SIMD3<Double>,
                           source: SIMD3<Double>) -> SIMD3<Double> {
        let advective = TransportWeakForm.advectionMoments(e, c)
        guard tau != 0 else { return advective }
        let strong = TransportWeakForm.strongResidualMoments(e, advective: advective, linearReaction: linearField, products: products, source: source)
        return advective + tau * SIMD3(TransportWeakForm.supgPerTau(e, 0, strongResidual: strong), TransportWeakForm.supgPerTau(e, 1, strongResidual: strong),
                                       TransportWeakForm.supgPerTau(e, 2, strongResidual: strong))
    }

    /// Adds ∂R/∂θ_d at c for every coefficient derivative d (S1)–(S3) into out[d·n + row], Dirichlet rows
    /// left out, in one pass over the elements: at fixed τ the derivative of each term is the term per
    /// unit coefficient; τ_{s,e} adds (∂τ_{s,e}/∂θ) · `supgPerTau` with ∂τ/∂θ = ∂τ/∂D_s · ∂D_s/∂θ +
    /// ∂τ/∂σ_s · ∂σ_s/∂θ (S2).
    func addCoefficientDerivatives(_ problem: TransportProblem, _ derivatives: [CoefficientDerivative], at c: UnsafeBufferPointer<Double>,
                                   into out: UnsafeMutableBufferPointer<Double>) {
        let k = space.speciesCount, n = space.unknownCount, triangleCount = space.mesh.triangleCount
        let linear = problem.reactions.linear, allProducts = problem.reactions.products
        let supg = problem.stabilization == .supg
        let source = sourceData(problem)
        for t in 0..<triangleCount {
            let e = LocalElement(space: space, triangle: t, velocityX: velocityX, velocityY: velocityY)
            let nodes = e.nodes
            let active = activeRows(ofTriangle: t)
            if active == SIMD3(repeating: 0) { continue }
            let length = supg ? TransportWeakForm.streamlineScale(space: space, triangle: t, velocityX: velocityX, velocityY: velocityY).length : 1
            for s in 0..<k {
                let tauS = tau[s * triangleCount + t]
                let cs = local(c, nodes, k, s)
                // Shared by every derivative: ∫ ∇c_s·∇φ_i, Σ_t L_st c_t, the product moments, and F_m.
                let stiffness = SIMD3((0..<3).reduce(0.0) { $0 + TransportWeakForm.advectionDiffusionPerDiffusion(e, 0, $1) * cs[$1] },
                                      (0..<3).reduce(0.0) { $0 + TransportWeakForm.advectionDiffusionPerDiffusion(e, 1, $1) * cs[$1] },
                                      (0..<3).reduce(0.0) { $0 + TransportWeakForm.advectionDiffusionPerDiffusion(e, 2, $1) * cs[$1] })
                let (linearField, productMoments) = reactionFields(species: s, element: e, at: c, linear: linear, products: allProducts)
                var perTau = SIMD3<Double>(repeating: 0)
                if supg && tauS != 0 {
                    let strong = TransportWeakForm.strongResidualMoments(e, advective: TransportWeakForm.advectionMoments(e, cs), linearReaction: linearField,
                                                                         products: productMoments, source: sourceMoments(source, species: s, triangle: t, element: e))
                    perTau = SIMD3(TransportWeakForm.supgPerTau(e, 0, strongResidual: strong), TransportWeakForm.supgPerTau(e, 1, strongResidual: strong),
                                   TransportWeakForm.supgPerTau(e, 2, strongResidual: strong))
                }
                for (index, d) in derivatives.enumerated() {
                    var derivative = d.diffusion[s] * stiffness   // ∂R_{s,i}/∂θ on this element, i = 0, 1, 2
                    for other in 0..<k where d.linear[s * k + other] != 0 {
                        let ct = local(c, nodes, k, other)
                        for i in 0..<3 {
                            derivative[i] += d.linear[s * k + other] * (TransportWeakForm.linearReaction(e, i, 0, tau: tauS) * ct[0]
                                + TransportWeakForm.linearReaction(e, i, 1, tau: tauS) * ct[1] + TransportWeakForm.linearReaction(e, i, 2, tau: tauS) * ct[2])
                        }
                    }
                    for (p, rates) in d.productRates.enumerated() where rates[s] != 0 {
                        let product = allProducts[p]
                        let ca = local(c, nodes, k, product.first)
                        let cb = local(c, nodes, k, product.second)
                        let nodal = TransportWeakForm.productMoments(e, first: ca, second: cb).nodal
                        for i in 0..<3 { derivative[i] += rates[s] * TransportWeakForm.productResidual(e, i, tau: tauS, nodal: nodal) }
                    }
                    if supg && tauS != 0 {
                        let tauDerivative = d.diffusion[s] * TransportWeakForm.supgTauPerDiffusion(tau: tauS, length: length)
                            + d.linear[s * k + s] * TransportWeakForm.supgTauPerSelfReaction(tau: tauS, selfReaction: linear[s * k + s])
                        derivative += tauDerivative * perTau
                    }
                    for i in 0..<3 where active[i] != 0 { out[index * n + nodes[i] * k + s] += derivative[i] }
                }
            }
        }
    }
}
