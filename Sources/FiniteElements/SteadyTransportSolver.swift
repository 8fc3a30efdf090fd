import Dispatch
import SparseLinearAlgebra

/// Stopping and line-search settings of Newton's method (formulation.md §3).
public struct NewtonOptions: Sendable, Equatable {
    /// Converged when ‖F(c)‖₂ ≤ relativeTolerance · ‖F(0)‖₂, i.e. relative to the norm of the load
    /// (the right-hand side with the Dirichlet values).
    public var relativeTolerance: Double = 1e-10
    public var maxIterations: Int = 30
    /// Step halvings tried before the line search gives up.
    public var maxBacktracks: Int = 30
    /// Armijo constant: accept c + αδ when ‖F‖ falls to at most (1 − sufficientDecrease · α) ‖F(c)‖.
    public var sufficientDecrease: Double = 1e-4
    /// UMFPACK iterative-refinement steps per linear solve. Newton measures the true residual after
    /// every step and corrects whatever error the solve left, so refinement would only add cost.
    public var linearRefinementSteps: Int = 0

    public init(relativeTolerance: Double = 1e-10, maxIterations: Int = 30, maxBacktracks: Int = 30, sufficientDecrease: Double = 1e-4,
                linearRefinementSteps: Int = 0) {
        self.relativeTolerance = relativeTolerance
        self.maxIterations = maxIterations
        self.maxBacktracks = maxBacktracks
        self.sufficientDecrease = sufficientDecrease
        self.linearRefinementSteps = linearRefinementSteps
    }
}

/// What one nonlinear solve did, and where its time went.
public struct NewtonReport: Sendable, Equatable {
    public init() {}
    /// Newton steps taken after the initial linear (product rates = 0) solve.
    public var iterations = 0
    /// ‖F(c)‖ / ‖F(0)‖: entry 0 at the product-free solution, then one after every Newton step.
    public var relativeResiduals: [Double] = []
    /// Accepted line-search step length of every Newton step (1 = full step).
    public var stepLengths: [Double] = []
    /// Numeric factorizations done (the initial one included).
    public var factorizations = 0
    public var assemblySeconds = 0.0
    public var factorizationSeconds = 0.0
    public var solveSeconds = 0.0
    public var residualSeconds = 0.0
    public var totalSeconds = 0.0
    public var converged = false
}

/// A nonlinear solve that did not reach the tolerance; the report says how far it got.
public struct NewtonFailure: Error, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        case notConverged
        case lineSearchFailed
        case nonFiniteResidual
        case linearSolver(UMFPACKError)
    }
    public var reason: Reason
    public var report: NewtonReport

    public var description: String {
        let last = report.relativeResiduals.last.map { "\($0)" } ?? "none"
        switch reason {
        case .notConverged:
            return "Newton did not converge in \(report.iterations) iterations (relative residual \(last))"
        case .lineSearchFailed:
            return "Newton line search found no decrease after iteration \(report.iterations) (relative residual \(last))"
        case .nonFiniteResidual:
            return "Newton produced a non-finite residual or step at iteration \(report.iterations)"
        case .linearSolver(let error):
            return "Newton's linear solve failed at iteration \(report.iterations): \(error)"
        }
    }
}

/// The solution of a `TransportProblem`: interleaved nodal values (index node · k + species).
public struct TransportSolution: Sendable {
    public var values: [Double]
    public var speciesCount: Int
    public var report: NewtonReport

    public func species(_ s: Int) -> [Double] {
        stride(from: s, to: values.count, by: speciesCount).map { values[$0] }
    }
}

/// Assembles and solves the steady advection–diffusion–reaction system (F5)–(F7) on a
/// `CoupledP1Space` with P1 elements, SUPG and Newton's method.
///
/// Weak form, for every species s and test function φ_i (c_h, u_h the P1 interpolants):
///
///     ∫ (u_h·∇c_s) φ_i + D_s ∇c_s·∇φ_i + r_s(c) φ_i − Q_s φ_i
///       + Σ_e τ_{s,e} ∫_e (u_h·∇φ_i) (u_h·∇c_s + r_s(c) − Q_s) = 0
///
/// (the −D Δc part of the SUPG residual vanishes for P1). Zero diffusive flux on every boundary
/// part without Dirichlet nodes needs no term. All integrals are evaluated exactly with the closed
/// forms ∫_e φ_i φ_j = |e|(1 + δ_ij)/12 and ∫_e φ_i φ_j φ_k = |e|·{6, 2, 1}/60 (all equal, two equal,
/// all different); u_h·∇φ_i is linear on e, so every SUPG product reduces to these too.
///
/// τ (Codina 2000, with the reaction term): τ_{s,e} = 1 / (2|u_e|/h_e + 4 D_s/h_e² + |σ_s|), where u_e is
/// the velocity at the centroid, h_e = 2|u_e| / Σ_a |u_e·∇φ_a| the element length along the stream
/// (Tezduyar), h_e = √(2|e|) if u_e = 0, and σ_s = linear[s·k + s] the linear self-reaction (K3 for c3).
/// The product reaction is not in τ, so that τ does not depend on c and the Jacobian stays exact.
///
/// Newton: c⁰ solves the problem with product rates 0 (linear, "the solution with K12 = 0"), then
/// J(c) δ = −F(c) with the exact Jacobian, backtracking until ‖F‖ decreases (Armijo), until
/// ‖F(c)‖ ≤ tol · ‖F(0)‖. Each factorization reuses the space's symbolic analysis.
///
/// One solver per thread (it owns work arrays and a numeric factorization); solvers on the same
/// `CoupledP1Space` share the mesh, pattern and symbolic analysis.
public final class SteadyTransportSolver {
    public let space: CoupledP1Space
    public var options: NewtonOptions

    private let factorization: UMFPACKFactorization
    // Prepared problem.
    private var prepared = false
    private var velocityX: [Double] = []
    private var velocityY: [Double] = []
    private var products: [ProductReaction] = []
    private var tau: [Double]                // speciesCount × triangleCount
    private var dirichletNode: [Bool]
    private var dirichletValues: [Double]
    private var linearValues: [Double]       // Galerkin + SUPG linear operator, Dirichlet rows set
    private var load: [Double]               // right-hand side, Dirichlet values in the Dirichlet rows
    // Work arrays of the Newton iteration.
    private var jacobianValues: [Double]
    private var state: [Double]
    private var trial: [Double]
    private var step: [Double]
    private var residualVector: [Double]
    private var trialResidual: [Double]

    public init(space: CoupledP1Space, options: NewtonOptions = NewtonOptions()) {
        self.space = space
        self.options = options
        factorization = UMFPACKFactorization(symbolic: space.symbolicAnalysis)
        let n = space.unknownCount, nnz = space.pattern.nonzeroCount
        tau = [Double](repeating: 0, count: space.speciesCount * space.mesh.triangleCount)
        dirichletNode = [Bool](repeating: false, count: space.mesh.nodeCount)
        dirichletValues = [Double](repeating: 0, count: n)
        linearValues = [Double](repeating: 0, count: nnz)
        jacobianValues = linearValues
        load = [Double](repeating: 0, count: n)
        state = load; trial = load; step = load; residualVector = load; trialResidual = load
    }

    /// Solves a problem (prepare + Newton).
    public func solve(_ problem: TransportProblem) throws -> TransportSolution {
        let start = DispatchTime.now().uptimeNanoseconds
        var report = NewtonReport()
        try prepare(problem, report: &report)
        return try newton(report: report, start: start)
    }

    // MARK: Assembly of the linear part

    /// Validates the problem, computes τ and assembles the linear operator and the load; afterwards
    /// `linearSystem`, `residual(at:)` and `jacobian(at:)` refer to this problem.
    public func prepare(_ problem: TransportProblem) throws {
        var report = NewtonReport()
        try prepare(problem, report: &report)
    }

    private func prepare(_ problem: TransportProblem, report: inout NewtonReport) throws {
        prepared = false
        try validate(problem)
        let started = DispatchTime.now().uptimeNanoseconds
        velocityX = problem.velocityX
        velocityY = problem.velocityY
        products = problem.reactions.products.filter { $0.rates.contains { $0 != 0 } }
        computeTau(problem)
        assembleLinear(problem)
        applyDirichlet(problem)
        report.assemblySeconds += seconds(since: started)
        prepared = true
    }

    private func validate(_ p: TransportProblem) throws {
        let mesh = space.mesh, n = mesh.nodeCount, k = space.speciesCount
        func finite(_ values: [Double], _ field: String) throws {
            if let bad = values.firstIndex(where: { !$0.isFinite }) { throw TransportProblemError(field, "value \(bad) is \(values[bad])") }
        }
        guard p.velocityX.count == n, p.velocityY.count == n else {
            throw TransportProblemError("velocity", "has \(p.velocityX.count) x and \(p.velocityY.count) y values for \(n) nodes")
        }
        try finite(p.velocityX, "velocityX")
        try finite(p.velocityY, "velocityY")
        guard p.diffusion.count == k else { throw TransportProblemError("diffusion", "has \(p.diffusion.count) values for \(k) species") }
        if let bad = p.diffusion.firstIndex(where: { !($0 >= 0) || !$0.isFinite }) {
            throw TransportProblemError("diffusion", "species \(bad) has D = \(p.diffusion[bad]); expected a finite value ≥ 0")
        }
        guard p.reactions.speciesCount == k, p.reactions.linear.count == k * k else {
            throw TransportProblemError("reactions", "model is for \(p.reactions.speciesCount) species with \(p.reactions.linear.count) linear rates; expected \(k) and \(k * k)")
        }
        try finite(p.reactions.linear, "reactions.linear")
        for (index, product) in p.reactions.products.enumerated() {
            guard (0..<k).contains(product.first), (0..<k).contains(product.second), product.rates.count == k else {
                throw TransportProblemError("reactions.products[\(index)]", "needs species indices in 0..<\(k) and \(k) rates")
            }
            try finite(product.rates, "reactions.products[\(index)].rates")
        }
        switch p.source {
        case .elementMoments(let moments), .nodal(let moments):
            let expected: Int
            if case .nodal = p.source { expected = n } else { expected = 3 * mesh.triangleCount }
            guard moments.count <= k else { throw TransportProblemError("source", "has \(moments.count) species for \(k)") }
            for (s, values) in moments.enumerated() {
                guard values.isEmpty || values.count == expected else {
                    throw TransportProblemError("source[\(s)]", "has \(values.count) values, expected \(expected) (or none)")
                }
                try finite(values, "source[\(s)]")
            }
        }
        guard p.dirichletNodes.count == n else { throw TransportProblemError("dirichletNodes", "has \(p.dirichletNodes.count) entries for \(n) nodes") }
        if let values = p.dirichletValues {
            guard values.count == n * k else { throw TransportProblemError("dirichletValues", "has \(values.count) values, expected \(n * k)") }
            try finite(values, "dirichletValues")
        }
    }

    private func computeTau(_ problem: TransportProblem) {
        let k = space.speciesCount, triangles = space.mesh.triangleCount
        guard problem.stabilization == .supg else {
            tau.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            return
        }
        let elements = space.mesh.triangles
        for t in 0..<triangles {
            let n0 = elements[3 * t], n1 = elements[3 * t + 1], n2 = elements[3 * t + 2]
            let ux = (velocityX[n0] + velocityX[n1] + velocityX[n2]) / 3
            let uy = (velocityY[n0] + velocityY[n1] + velocityY[n2]) / 3
            let speed = (ux * ux + uy * uy).squareRoot()
            var streamSum = 0.0  // Σ_a |u·∇φ_a| = 2|u|/h_e
            for a in 0..<3 { streamSum += abs(ux * space.gradientsX[3 * t + a] + uy * space.gradientsY[3 * t + a]) }
            let h = speed > 0 && streamSum > 0 ? 2 * speed / streamSum : (2 * space.areas[t]).squareRoot()
            for s in 0..<k {
                let denominator = streamSum + 4 * problem.diffusion[s] / (h * h) + abs(problem.reactions.linear[s * k + s])
                tau[s * triangles + t] = denominator > 0 ? 1 / denominator : 0
            }
        }
    }

    private func assembleLinear(_ problem: TransportProblem) {
        let k = space.speciesCount, mesh = space.mesh, triangleCount = mesh.triangleCount
        let linear = problem.reactions.linear
        // SUPG moments of the source: per species, per element, the three ∫_e Q φ_m.
        var nodalProjection: [[Double]] = []
        if case .nodal(let loads) = problem.source {
            nodalProjection = loads.map { load in load.isEmpty ? [] : zip(load, space.lumpedMass).map { $0 / $1 } }
        }
        let sourceMoments: [[Double]]
        if case .elementMoments(let moments) = problem.source { sourceMoments = moments } else { sourceMoments = [] }

        linearValues.withUnsafeMutableBufferPointer { values in
            load.withUnsafeMutableBufferPointer { rhs in
                values.update(repeating: 0)
                rhs.update(repeating: 0)
                for t in 0..<triangleCount {
                    let e = LocalElement(space: space, triangle: t, velocityX: velocityX, velocityY: velocityY)
                    for s in 0..<k {
                        let tauS = tau[s * triangleCount + t], d = problem.diffusion[s]
                        for i in 0..<3 {
                            for j in 0..<3 {
                                // Advection ∫(u·∇φ_j)φ_i, diffusion, SUPG advection τ∫(u·∇φ_i)(u·∇φ_j).
                                let value = e.advection(i, j) + d * e.stiffness(i, j) + tauS * e.streamlineDiffusion(i, j)
                                values[space.slot(triangle: t, row: i, species: s, column: j, species: s)] += value
                                for c in 0..<k where linear[s * k + c] != 0 {
                                    // Linear reaction ∫ φ_j φ_i and its SUPG term τ ∫ (u·∇φ_i) φ_j.
                                    values[space.slot(triangle: t, row: i, species: s, column: j, species: c)] +=
                                        linear[s * k + c] * (e.mass(i, j) + tauS * e.streamlineMass(i, j))
                                }
                            }
                        }
                        // Source: Galerkin moments and τ Σ_m (u_m·∇φ_i) ∫ Q φ_m.
                        var moments = SIMD3<Double>(repeating: 0)
                        if s < sourceMoments.count, !sourceMoments[s].isEmpty {
                            moments = SIMD3(sourceMoments[s][3 * t], sourceMoments[s][3 * t + 1], sourceMoments[s][3 * t + 2])
                            for i in 0..<3 { rhs[e.nodes[i] * k + s] += moments[i] }
                        } else if s < nodalProjection.count, !nodalProjection[s].isEmpty {
                            let q = SIMD3(nodalProjection[s][e.nodes[0]], nodalProjection[s][e.nodes[1]], nodalProjection[s][e.nodes[2]])
                            moments = e.massTimes(q)
                        }
                        if tauS != 0 {
                            for i in 0..<3 { rhs[e.nodes[i] * k + s] += tauS * (e.stream(i) * moments).sum() }
                        }
                    }
                }
                if case .nodal(let loads) = problem.source {
                    for (s, nodal) in loads.enumerated() where !nodal.isEmpty {
                        for node in 0..<mesh.nodeCount { rhs[node * k + s] += nodal[node] }
                    }
                }
            }
        }
    }

    private func applyDirichlet(_ problem: TransportProblem) {
        let k = space.speciesCount, pattern = space.pattern
        dirichletNode = problem.dirichletNodes
        for node in 0..<space.mesh.nodeCount where dirichletNode[node] {
            for s in 0..<k {
                let row = node * k + s
                for q in pattern.rowSlotStarts[row]..<pattern.rowSlotStarts[row + 1] { linearValues[pattern.rowSlots[q]] = 0 }
                linearValues[space.diagonalSlots[row]] = 1
                let value = problem.dirichletValues?[row] ?? 0
                dirichletValues[row] = value
                load[row] = value
            }
        }
    }

    // MARK: Nonlinear terms

    /// Adds the product reactions (Galerkin + SUPG) at `c` to the residual `r` (if given) and to
    /// the Jacobian values `jacobian` (if given), skipping Dirichlet rows.
    private func addProducts(at c: UnsafeBufferPointer<Double>, residual r: UnsafeMutableBufferPointer<Double>?,
                             jacobian: UnsafeMutableBufferPointer<Double>?) {
        let k = space.speciesCount, triangleCount = space.mesh.triangleCount, elements = space.mesh.triangles
        for t in 0..<triangleCount {
            let e = LocalElement(space: space, triangle: t, velocityX: velocityX, velocityY: velocityY)
            let active = SIMD3<Double>(dirichletNode[elements[3 * t]] ? 0 : 1, dirichletNode[elements[3 * t + 1]] ? 0 : 1,
                                       dirichletNode[elements[3 * t + 2]] ? 0 : 1)
            if active == SIMD3(repeating: 0) { continue }
            for product in products {
                let a = product.first, b = product.second
                let ca = SIMD3(c[e.nodes[0] * k + a], c[e.nodes[1] * k + a], c[e.nodes[2] * k + a])
                let cb = SIMD3(c[e.nodes[0] * k + b], c[e.nodes[1] * k + b], c[e.nodes[2] * k + b])
                // W(c)_ij = ∫ φ_i φ_j c_h; N_i = ∫ c_a c_b φ_i = Σ_j W(c_b)_ij c_a,j.
                let wb = e.weightedMass(cb)
                let nodal = SIMD3((wb.0 * ca).sum(), (wb.1 * ca).sum(), (wb.2 * ca).sum())
                let wa = jacobian == nil ? wb : e.weightedMass(ca)
                for s in 0..<k {
                    let rate = product.rates[s]
                    if rate == 0 { continue }
                    let tauS = tau[s * triangleCount + t]
                    for i in 0..<3 where active[i] != 0 {
                        if let r {
                            // Galerkin N_i plus SUPG τ ∫(u·∇φ_i) c_a c_b = τ Σ_m (u_m·∇φ_i) N_m.
                            r[e.nodes[i] * k + s] += rate * (nodal[i] + tauS * (e.stream(i) * nodal).sum())
                        }
                        if let jacobian {
                            for j in 0..<3 {
                                // ∂N_i/∂c_a,j = W(c_b)_ij, ∂N_i/∂c_b,j = W(c_a)_ij; SUPG: Σ_m (u_m·∇φ_i) W_mj.
                                let dA = e.entry(wb, i, j) + tauS * e.streamWeighted(wb, i, j)
                                let dB = e.entry(wa, i, j) + tauS * e.streamWeighted(wa, i, j)
                                jacobian[space.slot(triangle: t, row: i, species: s, column: j, species: a)] += rate * dA
                                jacobian[space.slot(triangle: t, row: i, species: s, column: j, species: b)] += rate * dB
                            }
                        }
                    }
                }
            }
        }
    }

    /// F(c) = A c − b + N(c) into `output`; returns ‖F‖₂.
    @discardableResult
    private func evaluateResidual(_ c: [Double], into output: inout [Double]) -> Double {
        CSCMatrix.multiply(pattern: space.pattern, values: linearValues, x: c, into: &output)
        output.withUnsafeMutableBufferPointer { r in
            load.withUnsafeBufferPointer { b in
                for i in 0..<r.count { r[i] -= b[i] }
            }
            if !products.isEmpty {
                c.withUnsafeBufferPointer { addProducts(at: $0, residual: r, jacobian: nil) }
            }
        }
        return norm(output)
    }

    private func assembleJacobian(_ c: [Double]) {
        jacobianValues.withUnsafeMutableBufferPointer { j in
            linearValues.withUnsafeBufferPointer { _ = j.update(fromContentsOf: $0) }
            c.withUnsafeBufferPointer { addProducts(at: $0, residual: nil, jacobian: j) }
        }
    }

    // MARK: Inspection (tests, diagnostics)

    /// The prepared linear operator (product rates 0) with Dirichlet rows, and its right-hand side.
    public func linearSystem() throws -> (matrix: CSCMatrix, rightHandSide: [Double]) {
        guard prepared else { throw TransportProblemError("solver", "no problem prepared") }
        return (try CSCMatrix(pattern: space.pattern, values: linearValues), load)
    }

    /// F(c) of the prepared problem.
    public func residual(at c: [Double]) throws -> [Double] {
        guard prepared else { throw TransportProblemError("solver", "no problem prepared") }
        guard c.count == space.unknownCount else { throw TransportProblemError("state", "has \(c.count) values, expected \(space.unknownCount)") }
        var output = [Double](repeating: 0, count: c.count)
        evaluateResidual(c, into: &output)
        return output
    }

    /// The exact Jacobian F'(c) of the prepared problem.
    public func jacobian(at c: [Double]) throws -> CSCMatrix {
        guard prepared else { throw TransportProblemError("solver", "no problem prepared") }
        guard c.count == space.unknownCount else { throw TransportProblemError("state", "has \(c.count) values, expected \(space.unknownCount)") }
        assembleJacobian(c)
        return try CSCMatrix(pattern: space.pattern, values: jacobianValues)
    }

    // MARK: Newton

    private func newton(report initial: NewtonReport, start: UInt64) throws -> TransportSolution {
        var report = initial
        func fail(_ reason: NewtonFailure.Reason) -> NewtonFailure {
            report.totalSeconds = seconds(since: start)
            return NewtonFailure(reason: reason, report: report)
        }
        func factorize(_ values: [Double]) throws {
            let started = DispatchTime.now().uptimeNanoseconds
            defer { report.factorizationSeconds += seconds(since: started); report.factorizations += 1 }
            do { try factorization.factorize(values: values) } catch let error as UMFPACKError { throw fail(.linearSolver(error)) }
        }
        func solveLinear(_ rhs: [Double], into x: inout [Double]) throws {
            let started = DispatchTime.now().uptimeNanoseconds
            defer { report.solveSeconds += seconds(since: started) }
            do { try factorization.solve(rhs, into: &x) } catch let error as UMFPACKError { throw fail(.linearSolver(error)) }
        }
        func residual(_ c: [Double], into output: inout [Double]) -> Double {
            let started = DispatchTime.now().uptimeNanoseconds
            defer { report.residualSeconds += seconds(since: started) }
            return evaluateResidual(c, into: &output)
        }

        factorization.iterativeRefinementSteps = options.linearRefinementSteps
        let reference = norm(load)  // ‖F(0)‖
        if reference == 0 {
            // F(0) = 0: the zero state solves the problem exactly.
            report.relativeResiduals = [0]
            report.converged = true
            report.totalSeconds = seconds(since: start)
            return TransportSolution(values: [Double](repeating: 0, count: space.unknownCount), speciesCount: space.speciesCount, report: report)
        }
        // c⁰: the problem without the product reactions.
        try factorize(linearValues)
        try solveLinear(load, into: &state)
        var residualNorm = residual(state, into: &residualVector)
        guard residualNorm.isFinite else { throw fail(.nonFiniteResidual) }
        report.relativeResiduals.append(residualNorm / reference)
        let target = options.relativeTolerance * reference
        var linearFactorsCurrent = true  // the factors are those of the linear operator
        while residualNorm > target {
            guard report.iterations < options.maxIterations else { throw fail(.notConverged) }
            if !products.isEmpty || !linearFactorsCurrent {
                let started = DispatchTime.now().uptimeNanoseconds
                assembleJacobian(state)
                report.assemblySeconds += seconds(since: started)
                try factorize(jacobianValues)
                linearFactorsCurrent = products.isEmpty
            }
            try solveLinear(residualVector, into: &step)  // δ = J⁻¹ F; the update is c − αδ
            guard step.allSatisfy({ $0.isFinite }) else { throw fail(.nonFiniteResidual) }
            var alpha = 1.0, accepted = false
            for _ in 0...options.maxBacktracks {
                for i in 0..<state.count { trial[i] = state[i] - alpha * step[i] }
                let trialNorm = residual(trial, into: &trialResidual)
                if trialNorm.isFinite && trialNorm <= (1 - options.sufficientDecrease * alpha) * residualNorm {
                    swap(&state, &trial)
                    swap(&residualVector, &trialResidual)
                    residualNorm = trialNorm
                    accepted = true
                    break
                }
                alpha *= 0.5
            }
            report.iterations += 1
            guard accepted else { throw fail(.lineSearchFailed) }
            report.stepLengths.append(alpha)
            report.relativeResiduals.append(residualNorm / reference)
        }
        report.converged = true
        report.totalSeconds = seconds(since: start)
        return TransportSolution(values: state, speciesCount: space.speciesCount, report: report)
    }

    private func norm(_ v: [Double]) -> Double {
        var sum = 0.0
        v.withUnsafeBufferPointer { for x in $0 { sum += x * x } }
        return sum.squareRoot()
    }

    private func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 }
}

/// The exact P1 integrals of one triangle, for a velocity given by its three nodal values.
struct LocalElement {
    let nodes: SIMD3<Int>
    let area: Double
    let gradientX: SIMD3<Double>
    let gradientY: SIMD3<Double>
    /// streamRows[i][m] = u_m · ∇φ_i: the SUPG test function u_h·∇φ_i = Σ_m streamRows[i][m] φ_m.
    let streamRows: (SIMD3<Double>, SIMD3<Double>, SIMD3<Double>)

    @inline(__always)
    init(space: CoupledP1Space, triangle t: Int, velocityX: [Double], velocityY: [Double]) {
        let elements = space.mesh.triangles
        nodes = SIMD3(elements[3 * t], elements[3 * t + 1], elements[3 * t + 2])
        area = space.areas[t]
        gradientX = SIMD3(space.gradientsX[3 * t], space.gradientsX[3 * t + 1], space.gradientsX[3 * t + 2])
        gradientY = SIMD3(space.gradientsY[3 * t], space.gradientsY[3 * t + 1], space.gradientsY[3 * t + 2])
        let ux = SIMD3(velocityX[nodes[0]], velocityX[nodes[1]], velocityX[nodes[2]])
        let uy = SIMD3(velocityY[nodes[0]], velocityY[nodes[1]], velocityY[nodes[2]])
        streamRows = (ux * gradientX[0] + uy * gradientY[0], ux * gradientX[1] + uy * gradientY[1], ux * gradientX[2] + uy * gradientY[2])
    }

    @inline(__always) func stream(_ i: Int) -> SIMD3<Double> { i == 0 ? streamRows.0 : (i == 1 ? streamRows.1 : streamRows.2) }

    /// ∫ φ_i φ_j = |e|(1 + δ_ij)/12.
    @inline(__always) func mass(_ i: Int, _ j: Int) -> Double { area * (i == j ? 2 : 1) / 12 }

    /// Row i of the mass matrix.
    @inline(__always) func massRow(_ i: Int) -> SIMD3<Double> {
        var row = SIMD3<Double>(repeating: area / 12)
        row[i] = area / 6
        return row
    }

    /// M q.
    @inline(__always) func massTimes(_ q: SIMD3<Double>) -> SIMD3<Double> { (area / 12) * (q + SIMD3(repeating: q.sum())) }

    /// ∫ ∇φ_i·∇φ_j.
    @inline(__always) func stiffness(_ i: Int, _ j: Int) -> Double { area * (gradientX[i] * gradientX[j] + gradientY[i] * gradientY[j]) }

    /// ∫ (u_h·∇φ_j) φ_i = Σ_m M_im (u_m·∇φ_j).
    @inline(__always) func advection(_ i: Int, _ j: Int) -> Double { (massRow(i) * stream(j)).sum() }

    /// ∫ (u_h·∇φ_i)(u_h·∇φ_j) = Σ_mn (u_m·∇φ_i) M_mn (u_n·∇φ_j).
    @inline(__always) func streamlineDiffusion(_ i: Int, _ j: Int) -> Double { (stream(i) * massTimes(stream(j))).sum() }

    /// ∫ (u_h·∇φ_i) φ_j = Σ_m (u_m·∇φ_i) M_mj.
    @inline(__always) func streamlineMass(_ i: Int, _ j: Int) -> Double { (stream(i) * massRow(j)).sum() }

    /// W(c)_ij = ∫ φ_i φ_j c_h = |e|/60 · (4 c_i + 2 S) on the diagonal, |e|/60 · (c_i + c_j + S) off it (S = Σ c).
    @inline(__always) func weightedMass(_ c: SIMD3<Double>) -> (SIMD3<Double>, SIMD3<Double>, SIMD3<Double>) {
        let s = c.sum(), f = area / 60
        let offDiagonal = c + SIMD3(repeating: s)  // c_j + S
        var r0 = f * (offDiagonal + SIMD3(repeating: c[0])), r1 = f * (offDiagonal + SIMD3(repeating: c[1]))
        var r2 = f * (offDiagonal + SIMD3(repeating: c[2]))
        r0[0] = f * (4 * c[0] + 2 * s); r1[1] = f * (4 * c[1] + 2 * s); r2[2] = f * (4 * c[2] + 2 * s)
        return (r0, r1, r2)
    }

    @inline(__always) func entry(_ w: (SIMD3<Double>, SIMD3<Double>, SIMD3<Double>), _ i: Int, _ j: Int) -> Double {
        i == 0 ? w.0[j] : (i == 1 ? w.1[j] : w.2[j])
    }

    /// Σ_m (u_m·∇φ_i) W_mj.
    @inline(__always) func streamWeighted(_ w: (SIMD3<Double>, SIMD3<Double>, SIMD3<Double>), _ i: Int, _ j: Int) -> Double {
        let s = stream(i)
        return s[0] * w.0[j] + s[1] * w.1[j] + s[2] * w.2[j]
    }
}
