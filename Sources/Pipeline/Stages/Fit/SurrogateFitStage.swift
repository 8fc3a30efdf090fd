import Foundation
import NumericalFoundations
import PDE
import Surrogates
import Reporting

/// `train-dmd fit`: the surrogates beyond the paper's network, each into
/// DATA/models/NAME/ with the same outputs as the paper's runs (predictions_test.npy,
/// test_indices.npy) plus fit.json (what was fitted, how long it took, its validation error, the
/// time to predict 1000 parameter sets) and manifest.json.
///
/// Every choice is made on a validation split carved from the training samples
/// (`ValidationSplit`, `[surrogate] validation_fraction`); the test samples are only predicted, once,
/// for the report's table.
public enum SurrogateFitStage {
    public static let fitFile = "fit.json"
    public static let validationIndicesFile = "validation_indices.npy"
    public static let standardDeviationFile = "std_test.npy"
    public static let intervalFiles = ("lower2_test.npy", "upper2_test.npy")

    public struct Outcome: Sendable {
        public var model: SurrogateSettings.Model
        public var folder: URL
        public var parameterCount: Int
        public var trainingSeconds: Double
        public var validationMedian: Double?
        public var validationP95: Double?
    }

    /// Everything the fits share: the data, the split, the transform.
    public struct Prepared {
        public var dataset: SurrogateDataset
        public var inputScaler: InputScaler
        public var fitRows: [Int]
        public var validationRows: [Int]
        public var transform: OutputTransform
        /// The POD models' input map (`[surrogate] log_inputs`).
        public var features: InputFeatures
        /// The wind's descriptors of the rows, for the POD models that take them (`[surrogate]
        /// gp_input_features`, `podnn_input_features`); nil when neither does.
        public var descriptors: PreparedDescriptors?
        /// fem/dc3_dtheta.npy, for the derivative-informed fits (read only when one asks for it); nil
        /// for a data set assembled in memory without one.
        public var sensitivities: URL?
    }

    public static func prepare(config: PipelineConfig, dataDirectory: URL, trainingRows: [Int]? = nil) throws -> Prepared {
        let inputScaler = try InputScaler(ranges: config.sampling.ranges)
        let dataset = try SurrogateDataset.load(layout: DataLayout(dataDirectory), inputScaler: inputScaler,
                                                parameterNames: PollutantParameters.names)
        return try split(dataset, inputScaler: inputScaler, config: config, trainingRows: trainingRows ?? dataset.trainIndices,
                         validationSeed: config.surrogate.validationSeed, sensitivities: DataLayout(dataDirectory).fem.sensitivities)
    }

    /// As `prepare(config:dataDirectory:trainingRows:)`, on a data set already in memory (the refine
    /// loop's: the LHS rows it started from, the points it acquired, the test split). `sensitivities`
    /// is a dc3_dtheta.npy whose rows are the data set's rows; nil when there is none (a
    /// derivative-informed fit then refuses, naming why).
    public static func prepare(config: PipelineConfig, dataset: SurrogateDataset, inputScaler: InputScaler, trainingRows: [Int]? = nil,
                               sensitivities: URL? = nil) throws -> Prepared {
        try split(dataset, inputScaler: inputScaler, config: config, trainingRows: trainingRows ?? dataset.trainIndices,
                  validationSeed: config.surrogate.validationSeed, sensitivities: sensitivities)
    }

    /// `trainingRows` carved into fitting and validation rows with `validationSeed`, and the output
    /// transform fitted on the fitting rows; `sensitivities` is where the data set's ∂c3/∂θ lies.
    public static func split(_ dataset: SurrogateDataset, inputScaler: InputScaler, config: PipelineConfig, trainingRows: [Int],
                             validationSeed: UInt64, sensitivities: URL?) throws -> Prepared {
        let s = config.surrogate
        let (fit, validation) = try ValidationSplit.carve(trainingRows, fraction: s.validationFraction, seed: validationSeed)
        let transform: OutputTransform
        switch s.outputTransform {
        case .identity: transform = .identity
        case .log:
            let p = dataset.observationWidth
            let values = fit.flatMap { dataset.observations[($0 * p)..<(($0 + 1) * p)] }
            transform = .logarithm(offset: try OutputTransform.logarithmOffset(for: values, relative: s.logOffset))
        }
        let names = PollutantParameters.names
        var features = try InputFeatures(box: inputScaler, logarithmic: names.map { s.logInputs.contains($0) })
        let d = dataset.parameterWidth
        switch s.inputWarping {
        case .none: break
        case .designDensity:
            features = try features.warped(toDesign: fit.flatMap { dataset.parameters[($0 * d)..<(($0 + 1) * d)] }, rows: fit.count)
        case .likelihood:
            let p = dataset.observationWidth
            let fields = fit.flatMap { r in dataset.observations[(r * p)..<((r + 1) * p)].map { transform.apply($0) } }
            let learned = try InputWarping.fitToLikelihood(fields: fields, count: fit.count, pointCount: p,
                                                           parameters: fit.flatMap { dataset.parameters[($0 * d)..<(($0 + 1) * d)] },
                                                           features: features, options: podGaussianProcessOptions(config, threads: 1))
            features.warping = learned.warping
        }
        let descriptors = [SurrogateSettings.Model.podGP, .podNN].contains(where: { s.inputFeatures(of: $0) == .parametersWind })
            ? try prepareDescriptors(dataset, fitRows: fit, otherRows: validation + dataset.testIndices, wind: config.wind) : nil
        return Prepared(dataset: dataset, inputScaler: inputScaler, fitRows: fit, validationRows: validation, transform: transform, features: features,
                        descriptors: descriptors, sensitivities: sensitivities)
    }

    /// The tuned network's recipe from `[surrogate] tuned_*` (and the network's seeds and precision).
    public static func tunedOptions(config: PipelineConfig, threads: Int) throws -> RegularizedTrainingOptions {
        let s = config.surrogate
        guard let activation = Activation(rawValue: config.network.activation.rawValue),
              let precision = NetworkPrecision(rawValue: config.network.precision.rawValue) else {
            throw StageError("network.activation / network.precision not supported by the network")
        }
        return RegularizedTrainingOptions(
            hiddenWidths: s.tunedHidden, activation: activation, precision: precision, networkSeed: config.network.seed,
            shuffleSeed: config.training.seed, batchSize: s.tunedBatchSize, learningRate: s.tunedLearningRate,
            minimumLearningRateFraction: s.tunedMinimumLearningRateFraction,
            schedule: s.tunedSchedule == .cosine ? .cosine : s.tunedSchedule == .oneCycle ? .oneCycle : .constant, warmupEpochs: s.tunedWarmupEpochs,
            weightDecay: s.tunedWeightDecay, epochs: s.tunedEpochs, patience: s.tunedPatience, threads: threads,
            outputStandardDeviationFloor: config.network.outputStdFloor)
    }

    /// Fits one model on `prepared` (in memory): the surrogate and its training wall time.
    /// `modelsFolder` (DATA/models) is where the ensemble finds its members, fitted before it.
    /// `heldHyperparameters`: POD-GP's modes conditioned with these instead of fitted
    /// (`PODGaussianProcessOptions.heldHyperparameters`); the other kinds ignore it.
    public static func fit(_ model: SurrogateSettings.Model, prepared: Prepared, config: PipelineConfig, threads: Int, modelsFolder: URL? = nil,
                           heldHyperparameters: [GaussianProcessHyperparameters]? = nil,
                           progress: @escaping (String) -> Void = { _ in }) throws -> (surrogate: FieldSurrogate, seconds: Double, details: [String: JSONValue]) {
        let start = monotonicSeconds()
        switch model {
        case .tuned: return try fitTuned(prepared: prepared, config: config, threads: threads, start: start, progress: progress)
        case .podGP: return try fitPODGaussianProcess(prepared: prepared, config: config, threads: threads, start: start,
                                                      heldHyperparameters: heldHyperparameters, progress: progress)
        case .ensemble:
            guard let modelsFolder else { throw StageError("the ensemble needs the folder of its members") }
            return try fitEnsemble(prepared: prepared, config: config, threads: threads, modelsFolder: modelsFolder, start: start, progress: progress)
        case .podNN: return try fitPODNeuralNetwork(prepared: prepared, config: config, threads: threads, start: start, progress: progress)
        }
    }

    /// The rows' parameters scaled by the reduced-order models' features, then, for `model` taking
    /// them, their scaled descriptors, row-major.
    static func scaledInputs(_ prepared: Prepared, rows: [Int], for model: SurrogateSettings.Model, config: PipelineConfig) throws -> [Double] {
        let data = prepared.dataset, d = data.parameterWidth
        let scaled = rows.flatMap { r in (0..<d).map { prepared.features.scale(data.parameters[r * d + $0], column: $0) } }
        guard let descriptors = try descriptors(prepared, for: model, config: config) else { return scaled }
        let values = try rows.flatMap { r in
            guard let v = descriptors.rowValues[r] else { throw StageError("internal: sample \(r) has no wind descriptors") }
            return v
        }
        return try descriptors.inputs.appended(to: scaled, descriptors: values, rows: rows.count)
    }

    /// The prepared descriptors if `model` takes them, nil if it takes the parameters only.
    static func descriptors(_ prepared: Prepared, for model: SurrogateSettings.Model, config: PipelineConfig) throws -> PreparedDescriptors? {
        guard config.surrogate.inputFeatures(of: model) == .parametersWind else { return nil }
        guard let descriptors = prepared.descriptors else { throw StageError("internal: \(model.rawValue) takes the wind's descriptors, but none were prepared") }
        return descriptors
    }

    /// The rows' observations through the output transform, row-major.
    static func transformedOutputs(_ prepared: Prepared, rows: [Int]) -> [Double] {
        let data = prepared.dataset, p = data.observationWidth
        return rows.flatMap { r in data.observations[(r * p)..<((r + 1) * p)].map { prepared.transform.apply($0) } }
    }

    /// The tuned network, trained by the acceleration method `[surrogate] tuned_method` names.
    private static func fitTuned(prepared: Prepared, config: PipelineConfig, threads: Int, start: Double,
                                 progress: @escaping (String) -> Void) throws -> (surrogate: FieldSurrogate, seconds: Double, details: [String: JSONValue]) {
        let s = config.surrogate
        let data = prepared.dataset, p = data.observationWidth
        var options = try tunedOptions(config: config, threads: threads)
        // [surrogate] tuned_method: one key turns on a method of the acceleration study.
        let method: AccelerationMethod
        do { method = try AccelerationMethod.named(s.tunedMethod) } catch { throw StageError("[surrogate] tuned_method: \(error)") }
        if case .lbfgs = method.accelerator {
            throw StageError("[surrogate] tuned_method = \"\(method.name)\": the L-BFGS phase runs in `train-dmd study` only, not in the fit")
        }
        options = method.recipe(tuned: options, fitCount: prepared.fitRows.count)
        let layoutForHook = try NetworkLayout(widths: [data.parameterWidth] + options.hiddenWidths + [p], activation: options.activation)
        let hook = try method.makeHook(layout: layoutForHook, log: progress)
        let reporter = ProgressReporter("train-dmd fit tuned epochs", total: s.tunedEpochs)
        let result = try RegularizedTraining.fit(dataset: data, fitRows: prepared.fitRows, validationRows: prepared.validationRows,
                                                 inputScaler: prepared.inputScaler, transform: prepared.transform, options: options,
                                                 inputNames: PollutantParameters.names, windViscosity: config.wind.nu, hook: hook) { row, _ in
            reporter.advance(detail: String(format: "train %.4g, validation %.4g (scaled log units)", row.trainMSE, row.validationMSE))
        }
        return (result.model, monotonicSeconds() - start, [
            "best_epoch": JSONValue(result.bestEpoch), "epochs_run": JSONValue(result.completedEpochs), "method": .string(method.name),
            "history_csv": .string(result.historyCSV()),
        ])
    }

    /// The hyper-parameters of a POD-GP surrogate's modes (nil for another kind).
    public static func modeHyperparameters(of surrogate: FieldSurrogate) -> [GaussianProcessHyperparameters]? {
        guard let rom = surrogate as? ReducedOrderSurrogate, case .gaussianProcess(let gp) = rom.model else { return nil }
        return gp.processes.map(\.hyperparameters)
    }

    /// POD of the fit fields, then one Gaussian process per retained mode.
    /// POD-GP's options from `[surrogate]` (kernel, restarts, seed, prior mean, POD truncation, the
    /// likelihood's sample limit).
    static func podGaussianProcessOptions(_ config: PipelineConfig, threads: Int) -> PODGaussianProcessOptions {
        let s = config.surrogate
        var gp = GaussianProcessOptions()
        gp.kernel = s.gpKernel == .matern52 ? .matern52 : .squaredExponential
        gp.restarts = s.gpRestarts; gp.seed = s.gpSeed
        gp.priorMean = s.gpPriorMean == .gls ? .generalizedLeastSquares : nil
        return PODGaussianProcessOptions(energyTolerance: s.podEnergyTolerance, maxRank: s.podMaxRank, gaussianProcess: gp,
                                         threads: threads, hyperparameterSampleLimit: s.gpHyperparameterSamples > 0 ? s.gpHyperparameterSamples : nil)
    }

    private static func fitPODGaussianProcess(prepared: Prepared, config: PipelineConfig, threads: Int, start: Double,
                                              heldHyperparameters: [GaussianProcessHyperparameters]?, progress: @escaping (String) -> Void) throws -> (surrogate: FieldSurrogate, seconds: Double, details: [String: JSONValue]) {
        let s = config.surrogate
        let descriptors = try descriptors(prepared, for: .podGP, config: config)
        var options = podGaussianProcessOptions(config, threads: threads)
        options.gradientModes = s.gpDerivativeModes
        options.heldHyperparameters = heldHyperparameters
        var jacobians = s.gpDerivativeModes > 0 ? try fieldJacobians(prepared, rows: prepared.fitRows) : nil
        progress("POD-GP: POD of \(prepared.fitRows.count) fields, then one GP per mode on \(threads) thread(s)"
                 + (jacobians.map { j in "; the leading \(s.gpDerivativeModes) also on the gradients of \(j.available.filter { $0 }.count) samples" } ?? ""))
        let reporter = LazyProgressReporter("train-dmd fit POD-GP modes")
        var (outputs, scales, transform): ([Double], [Double]?, OutputTransform) = (transformedOutputs(prepared, rows: prepared.fitRows), nil, prepared.transform)
        if s.gpOutput == .scaleShape { (outputs, scales, transform) = try scaleShapeOutputs(prepared, config: config) }
        var details: [String: JSONValue] = ["output": .string(s.gpOutput.rawValue)]
        let lowFidelity = try lowFidelityCorrection(prepared, for: .podGP, rows: prepared.fitRows, config: config, threads: threads,
                                                    jacobianRows: jacobians != nil ? prepared.fitRows.count : 0, progress: progress)
        if let lowFidelity {
            for i in outputs.indices { outputs[i] -= lowFidelity.offset[i] }
            if let fine = jacobians, let coarse = lowFidelity.jacobians {
                jacobians = discrepancyJacobians(fine: fine, lowFidelity: coarse)
            }
            details["low_fidelity"] = .string(lowFidelity.source.record.summary)
            details["low_fidelity_fit_seconds"] = JSONValue(lowFidelity.seconds)
        }
        let model = try PODGaussianProcess.fit(inputs: try scaledInputs(prepared, rows: prepared.fitRows, for: .podGP, config: config), outputs: outputs,
                                               count: prepared.fitRows.count, options: options, jacobians: jacobians, scales: scales) { _, total in reporter.advance(total: total) }
        let surrogate = try ReducedOrderSurrogate(gaussianProcess: model, features: prepared.features, transform: transform,
                                                  inputNames: PollutantParameters.names, windViscosity: config.wind.nu,
                                                  trainSamples: prepared.fitRows.count, descriptors: descriptors?.inputs,
                                                  descriptorSource: descriptors?.source, lowFidelity: lowFidelity?.source.record,
                                                  lowFidelitySource: lowFidelity?.source)
        details["rank"] = JSONValue(model.rank)
        if let heldHyperparameters { details["held_hyperparameter_modes"] = JSONValue(min(heldHyperparameters.count, model.rank)) }
        details["gradient_enhanced_modes"] = JSONValue(model.gradientEnhanced.count)
        if let jacobians { details["gradient_samples"] = JSONValue(jacobians.available.filter { $0 }.count) }
        return (surrogate, monotonicSeconds() - start, details)
    }

    /// `[surrogate] gp_low_fidelity_mesh` / `podnn_low_fidelity_mesh` (`model`'s): the coarse-mesh
    /// source and `rows`' fields on it through the output transform (row-major), which the POD
    /// model's targets are taken relative to; with `jacobianRows` > 0, also the Jacobians in the
    /// scaled inputs of the first `jacobianRows` rows' fields (`lowFidelityJacobians`: the rows a
    /// derivative loss sees; the others need only their values); nil when the key is empty.
    static func lowFidelityCorrection(_ prepared: Prepared, for model: SurrogateSettings.Model, rows: [Int], config: PipelineConfig, threads: Int,
                                      jacobianRows: Int = 0, progress: (String) -> Void)
        throws -> (source: CoarseFEMSource, offset: [Double], jacobians: FieldJacobians?, seconds: Double)? {
        let t0 = monotonicSeconds()
        guard let source = try lowFidelitySource(config, for: model) else { return nil }
        let data = prepared.dataset, d = data.parameterWidth, p = data.observationWidth
        guard source.pointCount == p else {
            throw StageError("[surrogate] the low-fidelity mesh of \(model.rawValue): the coarse problem has \(source.pointCount) observation points, the data set \(p)")
        }
        let tangentRows = min(max(jacobianRows, 0), rows.count)
        progress("\(model.rawValue) corrects the \(source.record.summary): solving \(rows.count) samples on it"
                 + (tangentRows > 0 ? ", \(tangentRows) of them with ∂c3/∂θ" : ""))
        func parameters(_ part: ArraySlice<Int>) -> [Double] { part.flatMap { data.parameters[($0 * d)..<(($0 + 1) * d)] } }
        let valueRows = rows[tangentRows...]
        let valuesOnly = valueRows.isEmpty ? [] : try source.fields(parameters: parameters(valueRows), rows: valueRows.count, threads: threads)
        guard tangentRows > 0 else {
            return (source, ReducedOrderSurrogate.lowFidelityLatent(valuesOnly, transform: prepared.transform), nil, monotonicSeconds() - t0)
        }
        let solved = try source.fieldsWithSensitivities(parameters: parameters(rows[..<tangentRows]), rows: tangentRows, threads: threads)
        // A row without the coarse tangent fits on its values only, as a row without fine sensitivities.
        for case .failure(let error) in solved.sensitivities {
            progress("\(model.rawValue): no gradient from \(error.description)")
        }
        return (source, ReducedOrderSurrogate.lowFidelityLatent(solved.values + valuesOnly, transform: prepared.transform),
                lowFidelityJacobians(prepared, rows: Array(rows[..<tangentRows]), fields: solved.values,
                                     sensitivities: solved.sensitivities.map { try? $0.get() }),
                monotonicSeconds() - t0)
    }

    /// The coarse-mesh source `model` corrects (`SurrogateSettings.lowFidelityMesh(of:)`); nil when none.
    static func lowFidelitySource(_ config: PipelineConfig, for model: SurrogateSettings.Model) throws -> CoarseFEMSource? {
        let mesh = config.surrogate.lowFidelityMesh(of: model)
        guard mesh.count == 2 else { return nil }
        return try CoarseFEMSource(config: config, nx: mesh[0], ny: mesh[1])
    }

    /// The scale/shape split of `rows` (c3 = e^g · s, ‖s‖₂ = 1 over the observation points): the shapes
    /// row-major and the scales g = log‖c3‖. A field that is zero everywhere has no shape: an error
    /// naming its sample.
    static func shapesAndScales(_ prepared: Prepared, rows: [Int]) throws -> (shapes: [Double], scales: [Double]) {
        let data = prepared.dataset, p = data.observationWidth
        var shapes = [Double](), scales = [Double]()
        shapes.reserveCapacity(rows.count * p)
        for row in rows {
            let field = data.observations[(row * p)..<((row + 1) * p)]
            let norm = field.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0, norm.isFinite else {
                throw StageError("gp_output = \"scale_shape\": sample \(row) has c3 norm \(norm); the split needs a nonzero finite field")
            }
            scales.append(Foundation.log(norm))
            shapes += field.map { $0 / norm }
        }
        return (shapes, scales)
    }

    /// The fit rows' log(s + δ_s) and scales, and the transform, δ_s = `log_offset` × the largest fit shape value.
    static func scaleShapeOutputs(_ prepared: Prepared, config: PipelineConfig) throws -> (outputs: [Double], scales: [Double], transform: OutputTransform) {
        let (shapes, scales) = try shapesAndScales(prepared, rows: prepared.fitRows)
        let transform = OutputTransform.logarithm(offset: try OutputTransform.logarithmOffset(for: shapes, relative: config.surrogate.logOffset))
        return (shapes.map { transform.apply($0) }, scales, transform)
    }

    /// A weighted mean of the members fitted before it, the weights chosen on the validation rows.
    private static func fitEnsemble(prepared: Prepared, config: PipelineConfig, threads: Int, modelsFolder: URL, start: Double,
                                    progress: @escaping (String) -> Void) throws -> (surrogate: FieldSurrogate, seconds: Double, details: [String: JSONValue]) {
        let data = prepared.dataset, p = data.observationWidth, d = data.parameterWidth
        let names = config.surrogate.ensembleMembers.map(\.rawValue)
        let members = try names.map {
            try SurrogateLoader.loadWithPipelineSources(from: modelsFolder.appendingPathComponent($0, isDirectory: true))
        }
        let rows = prepared.validationRows
        let parameters = rows.flatMap { data.parameters[($0 * d)..<(($0 + 1) * d)] }
        let truth = rows.flatMap { data.observations[($0 * p)..<(($0 + 1) * p)] }
        let weights = try EnsembleSurrogate.chooseWeights(members, parameters: parameters, truth: truth, rows: rows.count, threads: threads)
        progress("ensemble of \(names.joined(separator: ", ")) with weights \(weights.map { String(format: "%.2f", $0) }.joined(separator: ", ")) (chosen on validation)")
        let ensemble = try EnsembleSurrogate(members: members, names: names, weights: weights)
        return (ensemble, monotonicSeconds() - start, ["members": .array(names.map { .string($0) }), "weights": .array(weights.map { JSONValue($0) })])
    }

    /// POD of the fit fields, then a network from the parameters to the modes' coefficients.
    private static func fitPODNeuralNetwork(prepared: Prepared, config: PipelineConfig, threads: Int, start: Double,
                                            progress: @escaping (String) -> Void) throws -> (surrogate: FieldSurrogate, seconds: Double, details: [String: JSONValue]) {
        let s = config.surrogate
        let descriptors = try descriptors(prepared, for: .podNN, config: config)
        var options = PODNeuralNetworkOptions(energyTolerance: s.podEnergyTolerance, maxRank: s.podMaxRank, hidden: s.podnnHidden,
                                              activation: .tanh, epochs: s.podnnEpochs, learningRate: s.podnnLearningRate,
                                              batchSize: s.podnnBatchSize, seed: config.network.seed,
                                              patience: s.podnnPatience > 0 ? s.podnnPatience : nil, threads: threads,
                                              optimizer: s.podnnOptimizer == .adam ? .adam : .levenbergMarquardt,
                                              lmIterations: s.podnnLMIterations, lmCGIterations: s.podnnLMCGIterations,
                                              lmPatience: s.podnnLMPatience > 0 ? s.podnnLMPatience : nil)
        options.derivativeWeight = s.podnnDerivativeWeight
        var jacobians = s.podnnDerivativeWeight > 0 ? try fieldJacobians(prepared, rows: prepared.fitRows) : nil
        progress("POD-NN: POD of \(prepared.fitRows.count) fields, then an MLP \(s.podnnHidden) to the coefficients (\(s.podnnOptimizer.rawValue))"
                 + (jacobians.map { j in ", derivative-informed (weight \(s.podnnDerivativeWeight), \(j.available.filter { $0 }.count) samples with ∂c3/∂θ)" } ?? ""))
        var outputs = transformedOutputs(prepared, rows: prepared.fitRows)
        var validationOutputs = transformedOutputs(prepared, rows: prepared.validationRows)
        // Multi-fidelity: the network learns the discrepancy from the coarse solve, early-stopped on
        // the validation rows' discrepancies.
        // The loss sees the fit rows' derivatives only: the validation rows need their coarse values alone.
        let lowFidelity = try lowFidelityCorrection(prepared, for: .podNN, rows: prepared.fitRows + prepared.validationRows, config: config,
                                                    threads: threads, jacobianRows: jacobians != nil ? prepared.fitRows.count : 0, progress: progress)
        if let lowFidelity {
            let split = outputs.count
            for i in outputs.indices { outputs[i] -= lowFidelity.offset[i] }
            for i in validationOutputs.indices { validationOutputs[i] -= lowFidelity.offset[split + i] }
            if let fine = jacobians, let coarse = lowFidelity.jacobians { jacobians = discrepancyJacobians(fine: fine, lowFidelity: coarse) }
        }
        let model = try PODNeuralNetwork.fit(inputs: try scaledInputs(prepared, rows: prepared.fitRows, for: .podNN, config: config), outputs: outputs,
                                             count: prepared.fitRows.count,
                                             validationInputs: try scaledInputs(prepared, rows: prepared.validationRows, for: .podNN, config: config),
                                             validationOutputs: validationOutputs,
                                             validationCount: prepared.validationRows.count, jacobians: jacobians, options: options)
        let surrogate = try ReducedOrderSurrogate(network: model, features: prepared.features, transform: prepared.transform,
                                                  inputNames: PollutantParameters.names, windViscosity: config.wind.nu,
                                                  trainSamples: prepared.fitRows.count, descriptors: descriptors?.inputs,
                                                  descriptorSource: descriptors?.source, lowFidelity: lowFidelity?.source.record,
                                                  lowFidelitySource: lowFidelity?.source)
        var details: [String: JSONValue] = ["rank": JSONValue(model.rank), "optimizer": .string(s.podnnOptimizer.rawValue),
                                            "derivative_weight": JSONValue(s.podnnDerivativeWeight),
                                            "history_csv": .string(model.trainingCurveCSV())]
        if let lowFidelity {
            details["low_fidelity"] = .string(lowFidelity.source.record.summary)
            details["low_fidelity_fit_seconds"] = JSONValue(lowFidelity.seconds)
        }
        if let jacobians { details["gradient_samples"] = JSONValue(jacobians.available.filter { $0 }.count) }
        if let r = model.fitReport {
            details["best_epoch"] = JSONValue(r.bestEpoch); details["epochs_run"] = JSONValue(r.epochsRun)
            if let status = r.lmStatus { details["lm_status"] = .string(status) }
            if let cg = r.lmCGIterations { details["lm_cg_iterations"] = JSONValue(cg) }
        }
        return (surrogate, monotonicSeconds() - start, details)
    }

    /// Per-sample relative L2 errors of `surrogate` on `rows` (physical units).
    public static func relativeErrors(_ surrogate: FieldSurrogate, rows: [Int], dataset: SurrogateDataset, threads: Int) throws -> (errors: RelativeErrorSummary, predictions: [Double]) {
        let d = dataset.parameterWidth, p = dataset.observationWidth
        let parameters = rows.flatMap { dataset.parameters[($0 * d)..<(($0 + 1) * d)] }
        let predicted = try surrogate.predict(parameters: parameters, rows: rows.count, threads: threads)
        let truth = rows.flatMap { dataset.observations[($0 * p)..<(($0 + 1) * p)] }
        let summary = try RelativeErrorSummary(predicted: NDArray(shape: [rows.count, p], values: predicted),
                                               truth: NDArray(shape: [rows.count, p], values: truth))
        return (summary, predicted)
    }

    /// Seconds to predict 1000 parameter sets drawn uniformly from the box (median of 3 runs, or the
    /// first alone when it takes more than 2 s); for a
    /// model with the wind's descriptors as inputs or a low-fidelity model, from the draws where the
    /// wind exists (its time includes their Blasius and coarse-mesh solves).
    public static func predictionSeconds(_ surrogate: FieldSurrogate, box: [ClosedRange<Double>], wind: WindSettings, threads: Int) throws -> Double {
        var generator = SeededGenerator(seed: 1000, stream: 3)
        let needsWind = surrogate.descriptorInputs != nil || surrogate.lowFidelity != nil
        let draws = needsWind ? 4000 : 1000
        var sets = (0..<draws).flatMap { _ in box.map { $0.lowerBound + ($0.upperBound - $0.lowerBound) * generator.nextUniform() } }
        if needsWind {
            let d = box.count
            let windSolver = try surrogate.descriptorInputs.map { try WindDescriptors(recorded: $0) } ?? WindDescriptors(wind: wind)
            let solved = try windSolver.solve(parameters: sets, rows: draws)
            let kept = solved.indices.filter { if case .success = solved[$0] { return true } else { return false } }.prefix(1000)
            guard kept.count == 1000 else { throw StageError("prediction timing: only \(kept.count) of \(draws) draws from the box have a wind") }
            sets = kept.flatMap { sets[($0 * d)..<(($0 + 1) * d)] }
        }
        var times: [Double] = []
        for _ in 0..<3 {
            let t0 = monotonicSeconds()
            _ = try surrogate.predict(parameters: sets, rows: 1000, threads: threads)
            times.append(monotonicSeconds() - t0)
            // A run of seconds (a model that solves the coarse problem per row) is long against the
            // clock's and the cache's noise: repeating it would only add minutes to the fit.
            if times[0] > 2 { return times[0] }
        }
        return times.sorted()[1]
    }

    /// Writes the model's files into `folder`, replacing the description files of another model kind
    /// an earlier run may have left there.
    static func save(_ surrogate: FieldSurrogate, to folder: URL, record: inout StageRecord) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for stale in [SurrogateModel.descriptionFile, ReducedOrderSurrogate.descriptionFile, "rom.json", EnsembleSurrogate.descriptionFile] {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(stale))
        }
        if let mlp = surrogate as? SurrogateModel {
            for url in try mlp.write(to: folder) { record.output(url) }
        } else if let rom = surrogate as? ReducedOrderSurrogate {
            try rom.save(to: folder)
        } else if let ensemble = surrogate as? EnsembleSurrogate {
            try ensemble.save(to: folder)
        }
    }

    /// Fits and writes every model of `models` into DATA/models/NAME.
    public static func run(config: PipelineConfig, dataDirectory: URL, models: [SurrogateSettings.Model], threads: Int,
                           notice: @escaping (String) -> Void) throws -> [Outcome] {
        let prepared = try prepare(config: config, dataDirectory: dataDirectory)
        let data = prepared.dataset, p = data.observationWidth
        notice("train-dmd fit: \(prepared.fitRows.count) fitting, \(prepared.validationRows.count) validation and \(data.testIndices.count) test samples; "
               + "output transform \(prepared.transform.name)")
        var outcomes: [Outcome] = []
        for model in models {
            let modelFiles = DataLayout(dataDirectory).models.model(model.rawValue)
            let folder = modelFiles.folder
            var record = StageRecord(stage: "train-dmd fit", config: config, seed: config.surrogate.validationSeed)
            for url in data.files { try record.input(url) }
            if usesSensitivities(model, config: config), let url = prepared.sensitivities { try record.input(url) }
            let (surrogate, seconds, details) = try fit(model, prepared: prepared, config: config, threads: threads,
                                                        modelsFolder: DataLayout(dataDirectory).models.folder,
                                                        progress: { notice("train-dmd fit: " + $0) })
            try save(surrogate, to: folder, record: &record)
            var extra = details
            if case .string(let csv)? = extra.removeValue(forKey: "history_csv") {
                let url = modelFiles.history
                try AtomicFile.write(csv, to: url)
                record.output(url)
            }
            let validation = try relativeErrors(surrogate, rows: prepared.validationRows, dataset: data, threads: threads).errors
            // The test split: predicted once, scored by `evaluate`.
            let test = data.testIndices
            let d = data.parameterWidth
            let testParameters = test.flatMap { data.parameters[($0 * d)..<(($0 + 1) * d)] }
            let predictions = try surrogate.predict(parameters: testParameters, rows: test.count, threads: threads)
            let predictionsURL = folder.appendingPathComponent(TrainingRun.predictionsFile)
            try Npy.write(predictions, shape: [test.count, p], to: predictionsURL)
            let indicesURL = folder.appendingPathComponent(TrainingRun.testIndicesFile)
            try Npy.write(test.map { Int64($0) }, shape: [test.count], to: indicesURL)
            record.output(predictionsURL); record.output(indicesURL)
            // The validation rows (of params.npy), in the order of fit.json's per-sample errors.
            let validationURL = folder.appendingPathComponent(validationIndicesFile)
            try Npy.write(prepared.validationRows.map { Int64($0) }, shape: [prepared.validationRows.count], to: validationURL)
            record.output(validationURL)
            if let rom = surrogate as? ReducedOrderSurrogate,
               let (_, std) = try rom.predictWithUncertainty(parameters: testParameters, rows: test.count, threads: threads),
               let (lower, upper) = try rom.predictInterval(parameters: testParameters, rows: test.count, k: 2, threads: threads) {
                for (name, values) in [(standardDeviationFile, std), (intervalFiles.0, lower), (intervalFiles.1, upper)] {
                    let url = folder.appendingPathComponent(name)
                    try Npy.write(values, shape: [test.count, p], to: url)
                    record.output(url)
                }
            }
            let predictionSeconds = try predictionSeconds(surrogate, box: config.sampling.ranges, wind: config.wind, threads: threads)
            var fitJSON: [String: JSONValue] = [
                "model": .string(model.rawValue), "kind": .string(surrogate.kind), "parameters": JSONValue(surrogate.parameterCount),
                "training_wall_seconds": JSONValue(seconds), "prediction_seconds_per_1000": JSONValue(predictionSeconds),
                "output_transform": .string(prepared.transform.name), "fit_samples": JSONValue(prepared.fitRows.count),
                "validation_samples": JSONValue(prepared.validationRows.count), "test_samples": JSONValue(test.count),
                "validation_relative_l2": validation.json, "threads": JSONValue(threads),
                "inputs": .array((surrogate.inputNames + (surrogate.descriptorInputs?.names ?? [])).map { .string($0) }),
            ]
            for (k, v) in extra { fitJSON[k] = v }
            let fitURL = folder.appendingPathComponent(fitFile)
            try AtomicFile.write(JSONValue.object(fitJSON).jsonText(), to: fitURL)
            record.output(fitURL)
            for (k, v) in fitJSON { record.detail(k, v) }
            try record.finish(manifestAt: modelFiles.manifest)
            notice(String(format: "train-dmd fit: %@ (%d parameters) in %.1f s; validation relative L2 median %.4f, p95 %.4f → %@",
                          model.rawValue, surrogate.parameterCount, seconds, validation.median ?? .nan, validation.percentile95 ?? .nan, folder.path))
            outcomes.append(Outcome(model: model, folder: folder, parameterCount: surrogate.parameterCount, trainingSeconds: seconds,
                                    validationMedian: validation.median, validationP95: validation.percentile95))
        }
        return outcomes
    }
}
