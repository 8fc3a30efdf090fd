import NumericalFoundations

// Newton's method on F(c) = A c − b + N(c) = 0 (formulation.md §3; docs/fem.md "Newton and UMFPACK"):
// c⁰ solves the product-free (linear, K12 = 0) problem, then J(c) δ = F(c) with the exact Jacobian
// and c ← c − αδ, α halved until the Armijo test ‖F(c − αδ)‖ ≤ (1 − σα)‖F(c)‖ holds, until
// ‖F(c)‖ ≤ tol · ‖F(0)‖ = tol · ‖b‖. Every factorization reuses the space's symbolic analysis.
extension SteadyTransportSolver {
    func newton(report initial: NewtonReport, start: Double) throws -> TransportSolution {
        var report = initial
        func fail(_ reason: NewtonFailure.Reason) -> NewtonFailure {
            report.totalSeconds = seconds(since: start)
            return NewtonFailure(reason: reason, report: report)
        }
        func factorize(_ values: [Double]) throws {
            let started = monotonicSeconds()
            defer { report.factorizationSeconds += seconds(since: started); report.factorizations += 1 }
            do { try factorization.factorize(values: values) } catch let error as UMFPACKError { throw fail(.linearSolver(error)) }
        }
        func solveLinear(_ rhs: [Double], into x: inout [Double]) throws {
            let started = monotonicSeconds()
            defer { report.solveSeconds += seconds(since: started) }
            do { try factorization.solve(rhs, into: &x) } catch let error as UMFPACKError { throw fail(.linearSolver(error)) }
        }
        func residual(_ c: [Double], into output: inout [Double]) -> Double {
            let started = monotonicSeconds()
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
                let started = monotonicSeconds()
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

    /// ‖v‖₂, summed in index order (the order matters for bit-identical reports).
    func norm(_ v: [Double]) -> Double {
        var sum = 0.0
        v.withUnsafeBufferPointer { for x in $0 { sum += x * x } }
        return sum.squareRoot()
    }
}
