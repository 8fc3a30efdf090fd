import NumericalFoundations

// The solver's settings, diagnostics, failure and result: the public vocabulary of
// `SteadyTransportSolver`, kept apart from the numerics so that callers read only this file.

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
