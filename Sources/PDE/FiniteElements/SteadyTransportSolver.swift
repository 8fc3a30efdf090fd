import NumericalFoundations

/// Assembles and solves the steady advection–diffusion–reaction system (F5)–(F7) on a
/// `CoupledP1Space` with P1 elements, SUPG and Newton's method.
///
/// The weak form, its exact integrals and the SUPG parameter τ are stated in docs/fem.md ("Weak form",
/// "Integrals", "SUPG τ"); `TransportWeakForm` computes them term by term.
///
/// Newton: c⁰ solves the problem with product rates 0 (linear, "the solution with K12 = 0"), then
/// J(c) δ = −F(c) with the exact Jacobian, backtracking until ‖F‖ decreases (Armijo), until
/// ‖F(c)‖ ≤ tol · ‖F(0)‖. Each factorization reuses the space's symbolic analysis.
///
/// One solver per thread (it owns work arrays and a numeric factorization); solvers on the same
/// `CoupledP1Space` share the mesh, pattern and symbolic analysis.
///
/// Where the parts live (organised like deal.II's tutorial programs):
/// - `TransportWeakForm.swift`: τ and the element matrix / element residual terms of (F5)–(F7);
/// - `TransportAssembly.swift`: the global loops, the scatter into the CSC values, Dirichlet rows;
/// - `NewtonIteration.swift`: the nonlinear iteration, line search and convergence test;
/// - `TransportProblemValidation.swift`: the checks `prepare` runs before anything is assembled;
/// - `LocalElement.swift`: the exact P1 integrals of one triangle.
public final class SteadyTransportSolver {
    public let space: CoupledP1Space
    public var options: NewtonOptions

    // The state below is internal rather than private only because Swift's `private` stops at the
    // file and the solver's extensions (assembly, Newton) live in their own files; it is not API.
    let factorization: UMFPACKFactorization
    // Prepared problem.
    var prepared = false
    /// The prepared problem as given (the tangent equation needs its coefficients and every product,
    /// also those with rate 0 that `products` leaves out).
    var preparedProblem: TransportProblem?
    var velocityX: [Double] = []
    var velocityY: [Double] = []
    var products: [ProductReaction] = []
    var tau: [Double]                // speciesCount × triangleCount
    var dirichletNode: [Bool]
    var dirichletValues: [Double]
    var linearValues: [Double]       // Galerkin + SUPG linear operator, Dirichlet rows set
    var load: [Double]               // right-hand side, Dirichlet values in the Dirichlet rows
    // Work arrays of the Newton iteration.
    var jacobianValues: [Double]
    var state: [Double]
    var trial: [Double]
    var step: [Double]
    var residualVector: [Double]
    var trialResidual: [Double]

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
        let start = monotonicSeconds()
        var report = NewtonReport()
        try prepare(problem, report: &report)
        return try newton(report: report, start: start)
    }

    /// Validates the problem, computes τ and assembles the linear operator and the load; afterwards
    /// `linearSystem`, `residual(at:)` and `jacobian(at:)` refer to this problem.
    public func prepare(_ problem: TransportProblem) throws {
        var report = NewtonReport()
        try prepare(problem, report: &report)
    }

    private func prepare(_ problem: TransportProblem, report: inout NewtonReport) throws {
        prepared = false
        try validate(problem)
        let started = monotonicSeconds()
        velocityX = problem.velocityX
        velocityY = problem.velocityY
        // Products with all rates zero contribute nothing; dropping them lets a linear problem skip
        // the nonlinear terms entirely (and Newton stop after c⁰).
        products = problem.reactions.products.filter { $0.rates.contains { $0 != 0 } }
        computeTau(problem)
        assembleLinear(problem)
        applyDirichlet(problem)
        report.assemblySeconds += seconds(since: started)
        prepared = true
        preparedProblem = problem
    }

    // MARK: Inspection (tests, diagnostics)

    /// The prepared linear operator (product rates 0) with Dirichlet rows, and its right-hand side.
    public func linearSystem() throws -> (matrix: CSCMatrix, rightHandSide: [Double]) {
        guard prepared else { throw TransportProblemError("solver", "no problem prepared") }
        return (try sparseStructure { try CSCMatrix(pattern: space.pattern, values: linearValues) }, load)
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
        return try sparseStructure { try CSCMatrix(pattern: space.pattern, values: jacobianValues) }
    }

    /// Seconds since `start` (ArrayFiles' `monotonicSeconds()`, the package's one clock).
    func seconds(since start: Double) -> Double { monotonicSeconds() - start }
}
