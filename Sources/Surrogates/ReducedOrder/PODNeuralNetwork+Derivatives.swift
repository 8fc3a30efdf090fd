import NumericalFoundations

/// Sample-wise Jacobians of the training fields with respect to the (scaled) inputs, for
/// derivative-informed POD-NN training: `values` is count × P × d row-major (∂y_p/∂x_j, in the units
/// of the fitted outputs, i.e. after the output transform); `available[i]` false marks a sample
/// without derivatives (its rows of `values` are ignored).
public struct FieldJacobians: Sendable {
    public var values: [Double]
    public var available: [Bool]

    public init(values: [Double], available: [Bool]) {
        self.values = values; self.available = available
    }
}

extension ProperOrthogonalDecomposition {
    /// The Jacobians of the POD coefficients, Φᵀ ∂y/∂x per sample (the mean field has no derivative):
    /// count × r × d, zero for samples without Jacobian.
    public func projectedJacobians(_ jacobians: FieldJacobians, count: Int, inputWidth d: Int) throws -> [Double] {
        let p = pointCount, r = rank
        guard jacobians.values.count == count * p * d, jacobians.available.count == count else {
            throw ReducedOrderModelError.shapeMismatch("derivative training needs \(count) × \(p) × \(d) Jacobian values and \(count) availability flags; got \(jacobians.values.count) and \(jacobians.available.count)")
        }
        if let bad = jacobians.values.firstIndex(where: { !$0.isFinite }), jacobians.available[bad / (p * d)] {
            throw ReducedOrderModelError.shapeMismatch("derivative training: sample \(bad / (p * d)) has a non-finite Jacobian value \(jacobians.values[bad])")
        }
        var out = [Double](repeating: 0, count: count * r * d)
        jacobians.values.withUnsafeBufferPointer { jz in
            modes.withUnsafeBufferPointer { phi in
                out.withUnsafeMutableBufferPointer { jc in
                    for i in 0..<count where jacobians.available[i] {
                        // (r × d) = Φᵀ (r × P) · J_i (P × d); Φ is P × r row-major.
                        Double.gemm(.transpose, .none, m: r, n: d, k: p, alpha: 1, a: phi.baseAddress!, lda: r,
                                    b: jz.baseAddress! + i * p * d, ldb: d, beta: 0, c: jc.baseAddress! + i * r * d, ldc: d)
                    }
                }
            }
        }
        return out
    }
}

extension PODNeuralNetwork {
    /// The coefficient Jacobians the network is trained to match: the projected Jacobians
    /// (`ProperOrthogonalDecomposition.projectedJacobians`), row k divided by the coefficient's scale
    /// s_k, as the network's targets are (c_k − m_k)/s_k. count × r × d.
    static func coefficientJacobians(_ jacobians: FieldJacobians, pod: ProperOrthogonalDecomposition, scale: [Double],
                                     count: Int, inputWidth d: Int) throws -> [Double] {
        var out = try pod.projectedJacobians(jacobians, count: count, inputWidth: d)
        let r = pod.rank
        for i in 0..<count { for k in 0..<r { for j in 0..<d { out[(i * r + k) * d + j] /= scale[k] } } }
        return out
    }

    /// Mini-batch Adam on `DerivativeInformedLoss` (weight `options.derivativeWeight`, each coefficient's
    /// derivative error weighted by its share s_k² of the variance, so that the term is the field's
    /// Jacobian error: the standardised high modes have rough, large gradients that would otherwise
    /// dominate the loss — measured on the paper's dataset, docs/surrogates.md), with the same
    /// early stopping as `trainWithAdam`: on the validation MSE of the values alone, so that runs
    /// with and without the derivative term are judged by one measure.
    static func trainWithDerivatives(_ network: Network<Double>, inputs: [Double], targets: [Double], jacobians: [Double], available: [Bool],
                                     coefficientScale scale: [Double], count: Int, validationInputs: [Double], validationTargets: [Double], validationCount: Int,
                                     options: PODNeuralNetworkOptions) throws -> TrainingOutcome {
        let start = monotonicSeconds()
        let batchSize = min(options.batchSize, count)
        // ω_k = s_k² / mean(s²): the derivative error in field units (the modes are orthonormal), scaled to mean 1.
        let meanSquare = scale.reduce(0) { $0 + $1 * $1 } / Double(scale.count)
        let loss = DerivativeInformedLoss(network: network, capacity: batchSize, step: options.derivativeStep, weight: options.derivativeWeight,
                                          outputWeights: scale.map { $0 * $0 / meanSquare })
        let optimizer = AdamOptimizer<Double>(layout: network.layout, settings: AdamSettings(learningRate: options.learningRate))
        var generator = SeededGenerator(seed: options.seed &+ 1)
        var outcome = TrainingOutcome()
        var best = Array(network.parameters)
        for epoch in 1...options.epochs {
            let order = generator.permutation(count)
            var epochLoss = 0.0, batches = 0
            try inputs.withUnsafeBufferPointer { x in
                try targets.withUnsafeBufferPointer { y in
                    try jacobians.withUnsafeBufferPointer { jac in
                        var first = 0
                        while first < count {
                            let batch = order[first..<min(first + batchSize, count)]
                            let sums = loss.evaluate(batch: batch, inputs: x.baseAddress!, targets: y.baseAddress!, jacobians: jac.baseAddress!,
                                                     hasJacobian: available, threads: options.threads)
                            let value = loss.loss(sums, batchSize: batch.count)
                            guard value.isFinite else {
                                throw ReducedOrderModelError.numericalFailure("POD-NN derivative-informed training diverged in epoch \(epoch) (loss \(value)); try a smaller learning rate or derivative weight")
                            }
                            optimizer.step(parameters: network.parameters.baseAddress!, gradient: UnsafePointer(loss.gradient.baseAddress!), threads: options.threads)
                            epochLoss += value; batches += 1; first += batchSize
                        }
                    }
                }
            }
            outcome.stepsRun = epoch
            let trainLoss = epochLoss / Double(max(batches, 1))
            let validation = validationCount > 0 ? meanSquaredError(network, inputs: validationInputs, targets: validationTargets,
                                                                    count: validationCount, threads: options.threads) : nil
            outcome.curve.append(PODNeuralNetworkCurvePoint(step: epoch, seconds: monotonicSeconds() - start, trainMSE: trainLoss, validationMSE: validation))
            if let validation {
                if outcome.bestValidation == nil || validation < outcome.bestValidation! {
                    outcome.bestValidation = validation; outcome.bestStep = epoch; outcome.bestTrain = trainLoss
                    _ = best.withUnsafeMutableBufferPointer { $0.update(fromContentsOf: network.parameters) }
                } else if let patience = options.patience, epoch - outcome.bestStep >= patience {
                    break
                }
            } else {
                outcome.bestStep = epoch; outcome.bestTrain = trainLoss
            }
        }
        if validationCount > 0 { _ = network.parameters.update(fromContentsOf: best) }
        return outcome
    }

    /// The mean squared error of the network's outputs against `targets` (count × r).
    static func meanSquaredError(_ network: Network<Double>, inputs: [Double], targets: [Double], count: Int, threads: Int) -> Double {
        let prediction = network.predict(inputs, rows: count, threads: threads)
        var sum = 0.0
        for (a, b) in zip(prediction, targets) { sum += (a - b) * (a - b) }
        return sum / Double(max(targets.count, 1))
    }
}
