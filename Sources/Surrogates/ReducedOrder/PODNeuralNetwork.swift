import Foundation
import NumericalFoundations

/// How the POD coefficients are scaled into the network's targets.
public enum CoefficientScaling: String, Codable, Sendable, CaseIterable {
    /// Each coefficient to mean 0, standard deviation 1 (every mode weighs the same in the loss).
    case perCoefficient = "per_coefficient"
    /// Mean 0 per coefficient, all divided by the standard deviation of the first: the MSE is then
    /// proportional to the field's squared L2 error (the modes are orthonormal).
    case common
}

/// The optimizer of the POD-NN's network.
public enum PODNeuralNetworkOptimizer: String, Codable, Sendable, CaseIterable {
    /// Mini-batch Adam, one epoch per step (`Trainer`).
    case adam
    /// Full-batch Levenberg–Marquardt on the scaled coefficients' squared error
    /// (`LevenbergMarquardt`, matrix-free through `NetworkLinearization`).
    case levenbergMarquardt = "levenberg_marquardt"
}

/// How a POD-NN model is fitted.
public struct PODNeuralNetworkOptions: Codable, Equatable, Sendable {
    public var energyTolerance: Double
    public var maxRank: Int?
    /// Hidden widths; the input width is d and the output width r.
    public var hidden: [Int]
    public var activation: Activation
    public var epochs: Int
    public var learningRate: Double
    public var batchSize: Int
    /// Glorot initialisation seed; the shuffle uses `seed + 1`.
    public var seed: UInt64
    public var coefficientScaling: CoefficientScaling
    /// Stop after this many epochs without a better validation MSE (nil: run all epochs). The
    /// parameters of the best validation epoch are kept in any case.
    public var patience: Int?
    /// Cores for OpenBLAS and the trainer's loops.
    public var threads: Int
    /// Adam (epochs, learningRate, batchSize, patience in epochs) or Levenberg–Marquardt
    /// (lmIterations, lmCGIterations, lmPatience in accepted steps).
    public var optimizer: PODNeuralNetworkOptimizer
    /// LM trial steps at most (accepted and rejected).
    public var lmIterations: Int
    /// Conjugate-gradient iterations per LM step, at most.
    public var lmCGIterations: Int
    /// Stop after this many accepted LM steps without a better validation MSE (nil: never).
    public var lmPatience: Int?
    /// w of the derivative-informed loss (`DerivativeInformedLoss`): 0 trains on the values alone;
    /// > 0 (Adam only) also matches the projected input Jacobians passed to `fit`.
    public var derivativeWeight: Double = 0
    /// h of the loss's central differences, in the scaled inputs.
    public var derivativeStep: Double = 1e-3

    public init(energyTolerance: Double = 1e-4, maxRank: Int? = 30, hidden: [Int] = [64, 64], activation: Activation = .tanh,
                epochs: Int = 2000, learningRate: Double = 1e-3, batchSize: Int = 32, seed: UInt64 = 1,
                coefficientScaling: CoefficientScaling = .perCoefficient, patience: Int? = nil, threads: Int = 1,
                optimizer: PODNeuralNetworkOptimizer = .adam, lmIterations: Int = 200, lmCGIterations: Int = 20, lmPatience: Int? = 10) {
        self.energyTolerance = energyTolerance; self.maxRank = maxRank; self.hidden = hidden; self.activation = activation
        self.epochs = epochs; self.learningRate = learningRate; self.batchSize = batchSize; self.seed = seed
        self.coefficientScaling = coefficientScaling; self.patience = patience; self.threads = threads
        self.optimizer = optimizer; self.lmIterations = lmIterations; self.lmCGIterations = lmCGIterations; self.lmPatience = lmPatience
    }
}

/// How the training went (returned, never printed; also recorded in rom.json).
public struct PODNeuralNetworkFitReport: Codable, Equatable, Sendable {
    public var epochsRun: Int
    /// The epoch whose parameters were kept (the best validation MSE; the last epoch without validation).
    public var bestEpoch: Int
    /// MSE in scaled coefficient units at the kept epoch (nil without a validation set).
    public var bestValidationLoss: Double?
    /// Training MSE (mean of the epoch's mini-batch losses, scaled coefficients) at the kept epoch.
    public var trainingLoss: Double
    public var podSeconds: Double
    public var trainingSeconds: Double
    /// "adam" or "levenberg_marquardt" (nil in folders written before the LM option).
    public var optimizer: String?
    /// LM only: why it stopped, and the conjugate-gradient iterations it spent.
    public var lmStatus: String?
    public var lmCGIterations: Int?
}

/// One point of a POD-NN training curve: after Adam epoch `step`, or after accepted LM step `step`
/// (0 = the initial network).
public struct PODNeuralNetworkCurvePoint: Codable, Equatable, Sendable {
    public var step: Int
    /// Seconds since the network's training began (the POD excluded).
    public var seconds: Double
    /// Training MSE in scaled coefficient units: Adam, the mean of the epoch's mini-batch losses;
    /// LM, the full-batch MSE at the step's parameters.
    public var trainMSE: Double
    /// The validation MSE (scaled coefficients) at the step's parameters; nil without validation.
    public var validationMSE: Double?
}

/// POD-NN (Hesthaven & Ubbiali, "Non-intrusive reduced order modeling of nonlinear problems using
/// neural networks", J. Comput. Phys. 363 (2018) 55–78): POD of the training fields, then a
/// multilayer perceptron from the parameters to the r POD coefficients, trained on the projections
/// of the training fields (their §3) with early stopping on a validation set; a prediction is
/// ȳ + Φ ĉ(μ). Uses the project's `Network` and `Trainer` (Adam, mini-batches, float64).
///
/// Units: inputs scaled to [−1, 1] by the caller; outputs whatever the caller passes, and
/// predictions come back in those units.
public final class PODNeuralNetwork {
    public let pod: ProperOrthogonalDecomposition
    public let network: Network<Double>
    /// Coefficient k = coefficientMean[k] + coefficientScale[k] · network output k.
    public let coefficientMean: [Double]
    public let coefficientScale: [Double]
    public let coefficientScaling: CoefficientScaling
    public let trainingSamples: Int
    public let maxRank: Int?
    public let fitReport: PODNeuralNetworkFitReport?
    /// The training curve of `fit` (empty for a loaded model: it is written as history.csv by the stage).
    public internal(set) var trainingCurve: [PODNeuralNetworkCurvePoint] = []

    /// The curve as CSV: step,seconds,train_mse,validation_mse (scaled coefficient units; an empty
    /// validation column without validation).
    public func trainingCurveCSV() -> String {
        var text = "step,seconds,train_mse,validation_mse\n"
        for point in trainingCurve {
            text += "\(point.step),\(point.seconds),\(point.trainMSE),\(point.validationMSE.map { "\($0)" } ?? "")\n"
        }
        return text
    }

    public var inputDimension: Int { network.layout.inputWidth }
    public var rank: Int { pod.rank }
    public var pointCount: Int { pod.pointCount }

    init(pod: ProperOrthogonalDecomposition, network: Network<Double>, coefficientMean: [Double], coefficientScale: [Double],
         coefficientScaling: CoefficientScaling, trainingSamples: Int, maxRank: Int?, fitReport: PODNeuralNetworkFitReport?) {
        self.pod = pod; self.network = network; self.coefficientMean = coefficientMean; self.coefficientScale = coefficientScale
        self.coefficientScaling = coefficientScaling; self.trainingSamples = trainingSamples; self.maxRank = maxRank; self.fitReport = fitReport
    }

    /// Fits POD + MLP. `inputs` count × d (scaled), `outputs` count × P; the optional validation set
    /// (same units) drives early stopping: the parameters of its best epoch are kept.
    public static func fit(inputs: [Double], outputs: [Double], count: Int,
                           validationInputs: [Double] = [], validationOutputs: [Double] = [], validationCount: Int = 0,
                           jacobians: FieldJacobians? = nil,
                           options: PODNeuralNetworkOptions = PODNeuralNetworkOptions()) throws -> PODNeuralNetwork {
        let start = monotonicSeconds()
        guard count >= 1, inputs.count % count == 0, outputs.count % count == 0, !inputs.isEmpty, !outputs.isEmpty else {
            throw ReducedOrderModelError.shapeMismatch("POD-NN needs inputs and outputs a whole number of rows of \(count) samples; got \(inputs.count) input and \(outputs.count) output values")
        }
        guard options.epochs >= 1, options.batchSize >= 1, options.threads >= 1, options.learningRate > 0, options.learningRate.isFinite,
              options.hidden.allSatisfy({ $0 >= 1 }), (options.patience ?? 1) >= 1,
              options.lmIterations >= 1, options.lmCGIterations >= 1, (options.lmPatience ?? 1) >= 1,
              options.derivativeWeight >= 0, options.derivativeWeight.isFinite, options.derivativeStep > 0, options.derivativeStep.isFinite else {
            throw ReducedOrderModelError.invalidOption("POD-NN needs epochs, batch size, threads, hidden widths, patience and the LM iteration counts ≥ 1 and a positive learning rate; got \(options)")
        }
        let d = inputs.count / count, p = outputs.count / count
        try requireMatrix(inputs, rows: count, columns: d, name: "the POD-NN training inputs")
        try requireMatrix(validationInputs, rows: validationCount, columns: d, name: "the POD-NN validation inputs")
        try requireMatrix(validationOutputs, rows: validationCount, columns: p, name: "the POD-NN validation outputs")
        let pod = try ProperOrthogonalDecomposition(fields: outputs, count: count, pointCount: p,
                                                    energyTolerance: options.energyTolerance, maxRank: options.maxRank)
        let r = pod.rank
        let c = try pod.coefficients(of: outputs, count: count)
        var mean = [Double](repeating: 0, count: r), scale = [Double](repeating: 1, count: r)
        for k in 0..<r {
            mean[k] = (0..<count).reduce(0) { $0 + c[$1 * r + k] } / Double(count)
            let v = (0..<count).reduce(0) { $0 + (c[$1 * r + k] - mean[k]) * (c[$1 * r + k] - mean[k]) } / Double(count)
            scale[k] = v.squareRoot()
        }
        switch options.coefficientScaling {
        case .perCoefficient: scale = scale.map { $0 > 1e-300 ? $0 : 1 }
        case .common: let s = scale[0] > 1e-300 ? scale[0] : 1; scale = [Double](repeating: s, count: r)
        }
        func scaled(_ coefficients: [Double], _ rows: Int) -> [Double] {
            var t = coefficients
            for i in 0..<rows { for k in 0..<r { t[i * r + k] = (t[i * r + k] - mean[k]) / scale[k] } }
            return t
        }
        let validationTargets = validationCount > 0 ? scaled(try pod.coefficients(of: validationOutputs, count: validationCount), validationCount) : []
        let podSeconds = monotonicSeconds() - start

        let layout: NetworkLayout
        do { layout = try NetworkLayout(widths: [d] + options.hidden + [r], activation: options.activation) } catch {
            throw ReducedOrderModelError.invalidOption("POD-NN network: \(error)")
        }
        let network = Network<Double>(layout: layout, seed: options.seed)
        let targets = scaled(c, count)
        let trainingStart = monotonicSeconds()
        let outcome: TrainingOutcome
        switch options.optimizer {
        case .adam where options.derivativeWeight > 0:
            guard let jacobians else {
                throw ReducedOrderModelError.invalidOption("POD-NN: a derivative weight of \(options.derivativeWeight) needs the training fields' Jacobians")
            }
            let targetJacobians = try coefficientJacobians(jacobians, pod: pod, scale: scale, count: count, inputWidth: d)
            outcome = try trainWithDerivatives(network, inputs: inputs, targets: targets, jacobians: targetJacobians, available: jacobians.available,
                                               coefficientScale: scale, count: count, validationInputs: validationInputs, validationTargets: validationTargets,
                                               validationCount: validationCount, options: options)
        case .adam:
            outcome = try trainWithAdam(network, inputs: inputs, targets: targets, count: count, validationInputs: validationInputs,
                                        validationTargets: validationTargets, validationCount: validationCount, rank: r, options: options)
        case .levenbergMarquardt:
            guard options.derivativeWeight == 0 else {
                throw ReducedOrderModelError.invalidOption("POD-NN: the derivative-informed loss is trained with Adam only, not Levenberg–Marquardt")
            }
            outcome = try trainWithLevenbergMarquardt(network, inputs: inputs, targets: targets, count: count, validationInputs: validationInputs,
                                                      validationTargets: validationTargets, validationCount: validationCount, options: options)
        }
        let report = PODNeuralNetworkFitReport(epochsRun: outcome.stepsRun, bestEpoch: outcome.bestStep, bestValidationLoss: outcome.bestValidation,
                                               trainingLoss: outcome.bestTrain, podSeconds: podSeconds,
                                               trainingSeconds: monotonicSeconds() - trainingStart, optimizer: options.optimizer.rawValue,
                                               lmStatus: outcome.lmStatus, lmCGIterations: outcome.lmCGIterations)
        let model = PODNeuralNetwork(pod: pod, network: network, coefficientMean: mean, coefficientScale: scale,
                                     coefficientScaling: options.coefficientScaling, trainingSamples: count, maxRank: options.maxRank, fitReport: report)
        model.trainingCurve = outcome.curve
        return model
    }

    /// What a training run of either optimizer hands back to `fit`; the network holds the kept parameters.
    struct TrainingOutcome {
        var stepsRun = 0, bestStep = 0
        var bestValidation: Double?
        var bestTrain = Double.infinity
        var curve: [PODNeuralNetworkCurvePoint] = []
        var lmStatus: String?
        var lmCGIterations: Int?
    }

    /// Mini-batch Adam with early stopping on the validation MSE (Hesthaven & Ubbiali §3).
    static func trainWithAdam(_ network: Network<Double>, inputs: [Double], targets: [Double], count: Int,
                              validationInputs: [Double], validationTargets: [Double], validationCount: Int, rank r: Int,
                              options: PODNeuralNetworkOptions) throws -> TrainingOutcome {
        let start = monotonicSeconds()
        let trainerOptions = TrainerOptions(batchSize: options.batchSize, adam: AdamSettings(learningRate: options.learningRate),
                                            shuffleSeed: options.seed &+ 1, threads: options.threads, trainLoss: .minibatchMean)
        let trainer: Trainer<Double>
        do {
            trainer = try Trainer(network: network, options: trainerOptions,
                                  train: ScaledSamples(inputs: inputs, targets: targets, count: count),
                                  test: ScaledSamples(inputs: validationInputs, targets: validationTargets, count: validationCount),
                                  outputVariances: [Double](repeating: 1, count: r))
        } catch {
            throw ReducedOrderModelError.invalidOption("POD-NN trainer: \(error)")
        }
        var best = Array(network.parameters)
        var bestEpoch = 0, bestValidation: Double? = nil, bestTrain = Double.infinity
        var epochsRun = 0
        var curve: [PODNeuralNetworkCurvePoint] = []
        for epoch in 1...options.epochs {
            let row: HistoryRow
            do { row = try trainer.trainEpoch() } catch {
                throw ReducedOrderModelError.numericalFailure("POD-NN training failed in epoch \(epoch): \(error) (try a smaller learning rate)")
            }
            epochsRun = epoch
            curve.append(PODNeuralNetworkCurvePoint(step: epoch, seconds: monotonicSeconds() - start, trainMSE: row.trainMSE,
                                                    validationMSE: validationCount > 0 ? row.testMSE : nil))
            if validationCount > 0, let validation = row.testMSE {
                if bestValidation == nil || validation < bestValidation! {
                    bestValidation = validation; bestEpoch = epoch; bestTrain = row.trainMSE
                    _ = best.withUnsafeMutableBufferPointer { $0.update(fromContentsOf: network.parameters) }
                } else if let patience = options.patience, epoch - bestEpoch >= patience {
                    break
                }
            } else {
                bestEpoch = epoch; bestTrain = row.trainMSE
            }
        }
        if validationCount > 0 { _ = network.parameters.update(fromContentsOf: best) }
        return TrainingOutcome(stepsRun: epochsRun, bestStep: bestEpoch, bestValidation: bestValidation, bestTrain: bestTrain, curve: curve)
    }

    /// The r POD coefficients at `count` inputs (count × d scaled → count × r).
    public func predictCoefficients(inputs: [Double], count: Int, threads: Int = 1) throws -> [Double] {
        try requireMatrix(inputs, rows: count, columns: inputDimension, name: "the POD-NN prediction inputs")
        var c = network.predict(inputs, rows: count, threads: threads)
        let r = rank
        for i in 0..<count { for k in 0..<r { c[i * r + k] = coefficientMean[k] + coefficientScale[k] * c[i * r + k] } }
        return c
    }

    /// Predicted fields at `count` inputs (count × d, scaled to [−1, 1]) → count × P, in the units of
    /// the training outputs. (A network gives no predictive variance.)
    public func predict(inputs: [Double], count: Int, threads: Int = 1) throws -> [Double] {
        try pod.reconstruct(coefficients: predictCoefficients(inputs: inputs, count: count, threads: threads), count: count)
    }

    // MARK: Persistence

    public static let kind = "pod-nn"
    static let coefficientMeanFile = "coefficient_mean.npy"
    static let coefficientScaleFile = "coefficient_scale.npy"
    static func weightsFile(_ layer: Int) -> String { "layer_\(layer)_weights.npy" }
    static func biasFile(_ layer: Int) -> String { "layer_\(layer)_bias.npy" }

    /// Writes rom.json, the POD arrays, coefficient_mean / coefficient_scale (r), and per layer ℓ
    /// layer_ℓ_weights (n_{ℓ+1} × n_ℓ) and layer_ℓ_bias (n_{ℓ+1}), float64, each atomically.
    public func save(to folder: URL) throws {
        try ModelFolder.writePOD(pod, in: folder)
        try ModelFolder.write(coefficientMean, shape: [rank], name: Self.coefficientMeanFile, in: folder)
        try ModelFolder.write(coefficientScale, shape: [rank], name: Self.coefficientScaleFile, in: folder)
        let layout = network.layout
        for layer in 0..<layout.layerCount {
            let values = network.layerParameters(layer)
            let nIn = layout.inputs(ofLayer: layer), nOut = layout.outputs(ofLayer: layer)
            try ModelFolder.write(Array(values.prefix(nIn * nOut)), shape: [nOut, nIn], name: Self.weightsFile(layer), in: folder)
            try ModelFolder.write(Array(values.suffix(nOut)), shape: [nOut], name: Self.biasFile(layer), in: folder)
        }
        let description = ReducedOrderModelDescription(
            kind: Self.kind, version: ReducedOrderModelDescription.currentVersion, inputDimension: inputDimension, pointCount: pointCount,
            trainingSamples: trainingSamples, rank: rank, energyTolerance: pod.energyTolerance, maxRank: maxRank,
            singularValueCount: pod.singularValues.count, kernel: nil, gaussianProcesses: nil,
            network: layout, coefficientScaling: coefficientScaling, training: fitReport)
        try ModelFolder.writeDescription(description, to: folder)
    }

    /// Reads a folder written by `save(to:)`, checking every array's shape against rom.json.
    public static func load(from folder: URL) throws -> PODNeuralNetwork {
        let description = try ModelFolder.readDescription(from: folder, kind: kind)
        let jsonPath = folder.appendingPathComponent(ModelFolder.descriptionFile).path
        guard let stored = description.network else {
            throw ReducedOrderModelError.fileProblem(path: jsonPath, message: "a pod-nn description needs a network layout")
        }
        let layout: NetworkLayout
        do { layout = try NetworkLayout(widths: stored.widths, activation: stored.activation) } catch {
            throw ReducedOrderModelError.fileProblem(path: jsonPath, message: "invalid network layout: \(error)")
        }
        guard layout.inputWidth == description.inputDimension, layout.outputWidth == description.rank else {
            throw ReducedOrderModelError.fileProblem(path: jsonPath,
                message: "network \(layout) does not map the \(description.inputDimension) inputs to the \(description.rank) POD coefficients")
        }
        let pod = try ModelFolder.readPOD(description, in: folder)
        let r = description.rank
        let mean = try ModelFolder.read(coefficientMeanFile, shape: [r], in: folder)
        let scale = try ModelFolder.read(coefficientScaleFile, shape: [r], in: folder)
        let network = Network<Double>(layout: layout)
        for layer in 0..<layout.layerCount {
            let nIn = layout.inputs(ofLayer: layer), nOut = layout.outputs(ofLayer: layer)
            let w = try ModelFolder.read(weightsFile(layer), shape: [nOut, nIn], in: folder)
            let b = try ModelFolder.read(biasFile(layer), shape: [nOut], in: folder)
            let slice = network.layerParameters(layer)
            _ = UnsafeMutableBufferPointer(rebasing: slice[..<(nIn * nOut)]).update(fromContentsOf: w)
            _ = UnsafeMutableBufferPointer(rebasing: slice[(nIn * nOut)...]).update(fromContentsOf: b)
        }
        return PODNeuralNetwork(pod: pod, network: network, coefficientMean: mean, coefficientScale: scale,
                                coefficientScaling: description.coefficientScaling ?? .perCoefficient,
                                trainingSamples: description.trainingSamples, maxRank: description.maxRank, fitReport: description.training)
    }
}
