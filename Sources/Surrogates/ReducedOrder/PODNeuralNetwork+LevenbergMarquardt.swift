import NumericalFoundations

/// The POD-NN's regression as a least-squares problem in the network's parameters θ:
/// r(θ) = (f(X; θ) − Y) / √(N r), N training samples, r coefficients, so that ½‖r‖² is half the
/// training MSE of the scaled coefficients (the loss Adam minimises). Sets the network's parameters
/// at each `evaluate`.
final class PODNetworkResiduals: LeastSquaresProblem {
    let network: Network<Double>
    let linearization: NetworkLinearization
    let targets: [Double]
    /// 1 / √(N r).
    let weight: Double

    init(network: Network<Double>, inputs: [Double], targets: [Double], count: Int, threads: Int) throws {
        self.network = network
        linearization = try NetworkLinearization(network: network, inputs: inputs, rows: count, threads: threads)
        guard targets.count == linearization.outputCount else {
            throw ReducedOrderModelError.shapeMismatch("POD-NN LM: \(targets.count) targets for \(linearization.outputCount) network outputs")
        }
        self.targets = targets
        weight = 1 / Double(targets.count).squareRoot()
    }

    var parameterCount: Int { linearization.parameterCount }
    var residualCount: Int { linearization.outputCount }

    func evaluate(at x: UnsafePointer<Double>, residuals: UnsafeMutablePointer<Double>) throws {
        if x != UnsafePointer(network.parameters.baseAddress!) {
            network.parameters.baseAddress!.update(from: x, count: parameterCount)
        }
        let f = linearization.evaluate()
        for i in 0..<residualCount { residuals[i] = weight * (f[i] - targets[i]) }
    }

    func applyJacobian(_ v: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        linearization.applyJacobian(v, into: out)
        for i in 0..<residualCount { out[i] *= weight }
    }

    func applyJacobianTranspose(_ u: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        linearization.applyJacobianTranspose(u, into: out)
        for i in 0..<parameterCount { out[i] *= weight }
    }
}

extension PODNeuralNetwork {
    /// Full-batch Levenberg–Marquardt on the scaled coefficients (`LevenbergMarquardt`), with early
    /// stopping on the validation MSE: after each accepted step the validation set is evaluated, the
    /// best parameters are kept, and the run stops after `lmPatience` accepted steps without a better
    /// one. With the project's POD-NN sizes (≈ 5·10³ parameters, ≈ 10⁴ residuals) a step costs
    /// `lmCGIterations` forward-mode and reverse-mode passes over the training set; it replaces
    /// hundreds of Adam epochs (docs/dmd-training.md, "Levenberg–Marquardt for POD-NN").
    static func trainWithLevenbergMarquardt(_ network: Network<Double>, inputs: [Double], targets: [Double], count: Int,
                                            validationInputs: [Double], validationTargets: [Double], validationCount: Int,
                                            options: PODNeuralNetworkOptions) throws -> TrainingOutcome {
        let start = monotonicSeconds()
        let problem: PODNetworkResiduals
        let validation: NetworkLinearization?
        do {
            problem = try PODNetworkResiduals(network: network, inputs: inputs, targets: targets, count: count, threads: options.threads)
            validation = validationCount > 0
                ? try NetworkLinearization(network: network, inputs: validationInputs, rows: validationCount, threads: options.threads) : nil
        } catch let error as ReducedOrderModelError {
            throw error
        } catch {
            throw ReducedOrderModelError.shapeMismatch("POD-NN LM: \(error)")
        }
        func validationMSE() -> Double? {
            guard let validation else { return nil }
            let f = validation.evaluate()
            var sum = 0.0
            for i in 0..<validationTargets.count { let e = f[i] - validationTargets[i]; sum += e * e }
            return sum / Double(validationTargets.count)
        }

        var outcome = TrainingOutcome()
        let initial = Array(network.parameters)
        var best = initial
        var residuals = [Double](repeating: 0, count: problem.residualCount)
        try initial.withUnsafeBufferPointer { x in
            try residuals.withUnsafeMutableBufferPointer { try problem.evaluate(at: x.baseAddress!, residuals: $0.baseAddress!) }
        }
        let initialTrain = residuals.reduce(0) { $0 + $1 * $1 }
        let initialValidation = validationMSE()
        outcome.bestValidation = initialValidation
        outcome.bestTrain = initialTrain
        outcome.curve.append(PODNeuralNetworkCurvePoint(step: 0, seconds: monotonicSeconds() - start, trainMSE: initialTrain,
                                                        validationMSE: initialValidation))
        let lmOptions = LevenbergMarquardtOptions(maxIterations: options.lmIterations, cgIterations: options.lmCGIterations)
        let result = try LevenbergMarquardt.minimize(problem, start: initial, options: lmOptions) { x, value, step in
            let trainMSE = 2 * value
            let validationValue = validationMSE()
            outcome.stepsRun = step
            outcome.curve.append(PODNeuralNetworkCurvePoint(step: step, seconds: monotonicSeconds() - start, trainMSE: trainMSE,
                                                            validationMSE: validationValue))
            guard let validationValue else {
                outcome.bestStep = step; outcome.bestTrain = trainMSE
                return false
            }
            if outcome.bestValidation.map({ validationValue < $0 }) ?? true {
                outcome.bestValidation = validationValue; outcome.bestStep = step; outcome.bestTrain = trainMSE
                _ = best.withUnsafeMutableBufferPointer { $0.update(fromContentsOf: x) }
                return false
            }
            if let patience = options.lmPatience, step - outcome.bestStep >= patience { return true }
            return false
        }
        if result.status == .nonFiniteStart {
            throw ReducedOrderModelError.numericalFailure("POD-NN LM: the initial network's training loss is not finite")
        }
        if validationCount == 0 { best = result.x }
        _ = network.parameters.update(fromContentsOf: best)
        outcome.lmStatus = result.status.rawValue
        outcome.lmCGIterations = result.cgIterations
        return outcome
    }
}
