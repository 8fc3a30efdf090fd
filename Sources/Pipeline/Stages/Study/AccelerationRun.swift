import Foundation
import NumericalFoundations
import Surrogates

/// What one run of the study is: a method, a seed, the planned epochs and the target at which it
/// stops. Written to `spec.json` in the run's folder; a finished run whose spec differs is redone.
public struct AccelerationRunSpec: Codable, Equatable, Sendable {
    public var method: AccelerationMethod
    public var seed: Int
    public var epochs: Int
    /// Stop as soon as the validation MSE is at or below this (nil: run all epochs, the baseline);
    /// with `paired`, as soon as its moving average is.
    public var stopAtValidationMSE: Double?
    /// The paired protocol (`PairedRunSettings`); nil: the first study's protocol.
    public var paired: PairedRunSettings?

    public init(method: AccelerationMethod, seed: Int, epochs: Int, stopAtValidationMSE: Double?, paired: PairedRunSettings? = nil) {
        self.method = method; self.seed = seed; self.epochs = epochs; self.stopAtValidationMSE = stopAtValidationMSE; self.paired = paired
    }

    public var folderName: String { "\(method.name)/seed_\(seed)" }
}

/// The paired protocol of a run: the seed fixes the network's initial weights, the batch order and
/// also the validation split (carved with `[surrogate] validation_seed` + seed), the same for every
/// method; the stop rule is sustained (the moving average of the validation MSE over `window`
/// epochs at or below the target); the test error of the best-validation parameters is measured at the stop.
public struct PairedRunSettings: Codable, Equatable, Sendable {
    public var window: Int
    public init(window: Int = 10) { self.window = window }
}

/// One row of a run's history: after epoch `epoch` (or L-BFGS step), the fitting and validation
/// MSE (scaled units of the transformed output, as early stopping uses), the CPU and wall seconds
/// since the run's trainer was built (every overhead included: hooks, jumps, line searches), and
/// the gradient evaluations so far in samples (fitting samples × passes: an epoch of mini-batches
/// or a full-batch L-BFGS evaluation each count the fitting set once).
public struct AccelerationEpoch: Codable, Equatable, Sendable {
    public var epoch: Int
    public var trainMSE: Double
    public var validationMSE: Double
    public var cpuSeconds: Double
    public var wallSeconds: Double
    /// NaN in histories written before it was recorded.
    public var gradientEvaluations: Double

    static let header = "epoch,train_mse,validation_mse,cpu_seconds,wall_seconds,gradient_evaluations"
    static let headerWithoutGradients = "epoch,train_mse,validation_mse,cpu_seconds,wall_seconds"
    var csvLine: String { "\(epoch),\(trainMSE),\(validationMSE),\(cpuSeconds),\(wallSeconds),\(gradientEvaluations)" }

    init(epoch: Int, trainMSE: Double, validationMSE: Double, cpuSeconds: Double, wallSeconds: Double, gradientEvaluations: Double) {
        self.epoch = epoch; self.trainMSE = trainMSE; self.validationMSE = validationMSE
        self.cpuSeconds = cpuSeconds; self.wallSeconds = wallSeconds; self.gradientEvaluations = gradientEvaluations
    }

    init(csvLine line: Substring, columns: Int, file: String) throws {
        let f = line.split(separator: ",", omittingEmptySubsequences: false)
        guard f.count == columns, let e = Int(f[0]), let t = Double(f[1]), let v = Double(f[2]), let c = Double(f[3]), let w = Double(f[4]),
              let g = columns == 6 ? Double(f[5]) : .nan else {
            throw StudyError("\(file): the line \"\(line)\" is not \(columns == 6 ? Self.header : Self.headerWithoutGradients)")
        }
        self.init(epoch: e, trainMSE: t, validationMSE: v, cpuSeconds: c, wallSeconds: w, gradientEvaluations: g)
    }
}

/// How a run ended: what the table reads besides the history.
public struct AccelerationRunResult: Codable, Equatable, Sendable {
    public enum Status: String, Codable, Sendable { case reachedTarget = "reached_target", completed, diverged }
    public var spec: AccelerationRunSpec
    public var status: Status
    public var message: String?
    public var epochsRun: Int
    public var cpuSeconds: Double
    public var wallSeconds: Double
    public var bestValidationMSE: Double
    /// Paired protocol only: the epoch of the best validation MSE, and the relative L2 error
    /// ‖pred − truth‖₂/‖truth‖₂ over the test samples (physical units) of its parameters: median and p95.
    public var bestEpoch: Int?
    public var testRelativeL2Median: Double?
    public var testRelativeL2P95: Double?
}

/// The sustained-target rule: a level is reached at the first epoch whose moving average of the
/// validation MSE over the last `window` epochs (that epoch included) is at or below it. A single
/// lucky epoch cannot reach it; a non-finite value in the window keeps the average above any level.
public enum SustainedTarget {
    /// The moving averages of `values` (values[k] = epoch k + 1): NaN for the first window − 1 epochs.
    public static func movingAverages(_ values: [Double], window: Int) -> [Double] {
        values.indices.map { k in
            k + 1 >= window ? average(values[(k + 1 - window)...k]) : .nan
        }
    }

    /// The mean of one window, summed oldest first (the one definition the stop rule and the table share).
    static func average(_ window: ArraySlice<Double>) -> Double {
        window.reduce(0, +) / Double(window.count)
    }

    /// The first epoch (1-based) whose moving average is ≤ `level`, or nil.
    public static func firstEpoch(_ values: [Double], level: Double, window: Int) -> Int? {
        movingAverages(values, window: window).firstIndex { $0.isFinite && $0 <= level }.map { $0 + 1 }
    }

    /// The lowest moving average of `values` (+∞ if there is none).
    public static func bestMovingAverage(_ values: [Double], window: Int) -> Double {
        movingAverages(values, window: window).filter(\.isFinite).min() ?? .infinity
    }
}

public enum AccelerationRun {
    public static let specFile = "spec.json", historyFile = "history.csv", resultFile = "result.json"

    /// Trains one run of the study in this process (one OpenBLAS thread) and writes its history and
    /// result into `folder` (result.json last: its presence marks the run as finished).
    @discardableResult
    public static func execute(_ spec: AccelerationRunSpec, prepared: SurrogateFitStage.Prepared, config: PipelineConfig,
                               folder: URL, log: @escaping (String) -> Void = { _ in }) throws -> AccelerationRunResult {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let data = try runData(spec, prepared: prepared, config: config)
        let tuned = try SurrogateFitStage.tunedOptions(config: config, threads: 1)
        let o = spec.method.options(tuned: tuned, epochs: spec.epochs, seed: spec.seed, fitCount: data.fitRows.count)
        // The study's networks are float32, as the paper's and the tuned model: one code path.
        let setup = try RegularizedTraining.makeTrainer(Float.self, dataset: data.dataset, fitRows: data.fitRows,
                                                        validationRows: data.validationRows, inputScaler: data.inputScaler,
                                                        transform: data.transform, options: o)
        let trainer = setup.trainer
        trainer.hook = try spec.method.makeHook(layout: setup.layout, log: log)
        let recorder = RunRecorder(trainer: trainer, spec: spec)
        let adamEpochs = spec.method.adamEpochs(planned: spec.epochs)
        adam: for epoch in 1...min(adamEpochs, spec.epochs) {
            trainer.optimizer.learningRateFactor = o.learningRateFactor(epoch: epoch)
            do {
                let row = try trainer.trainEpochSpecialized()
                if recorder.record(epoch, train: row.trainMSE, validation: row.testMSE ?? .nan, gradientSamples: data.fitRows.count) { break adam }
            } catch let error as any DivergenceError {
                recorder.status = .diverged; recorder.message = error.description; break adam
            }
        }
        if case .lbfgs(_, let memory) = spec.method.accelerator, recorder.status == .completed, adamEpochs < spec.epochs {
            lbfgsPhase(trainer, recorder: recorder, memory: memory, from: adamEpochs, to: spec.epochs, fitCount: data.fitRows.count)
        }
        var result = AccelerationRunResult(spec: spec, status: recorder.status, message: recorder.message, epochsRun: recorder.rows.last?.epoch ?? 0,
                                           cpuSeconds: recorder.rows.last?.cpuSeconds ?? 0, wallSeconds: recorder.rows.last?.wallSeconds ?? 0,
                                           bestValidationMSE: recorder.rows.map(\.validationMSE).filter(\.isFinite).min() ?? .nan)
        if spec.paired != nil, let best = recorder.best {
            _ = trainer.network.parameters.update(fromContentsOf: best.parameters)
            let errors = try testErrors(trainer, setup: setup, data: data)
            result.bestEpoch = best.epoch
            result.testRelativeL2Median = errors.median
            result.testRelativeL2P95 = errors.percentile95
        }
        let history = ([AccelerationEpoch.header] + recorder.rows.map(\.csvLine)).joined(separator: "\n") + "\n"
        try AtomicFile.write(history, to: folder.appendingPathComponent(historyFile))
        try AtomicFile.write(try encodeJSON(result), to: folder.appendingPathComponent(resultFile))
        return result
    }

    /// The data of a run: under the paired protocol the training rows are carved again with the
    /// run's own validation seed (and the output transform refitted on its fitting rows).
    static func runData(_ spec: AccelerationRunSpec, prepared: SurrogateFitStage.Prepared, config: PipelineConfig) throws -> SurrogateFitStage.Prepared {
        guard spec.paired != nil else { return prepared }
        return try SurrogateFitStage.split(prepared.dataset, inputScaler: prepared.inputScaler, config: config,
                                           trainingRows: (prepared.fitRows + prepared.validationRows).sorted(),
                                           validationSeed: config.surrogate.validationSeed &+ UInt64(spec.seed),
                                           sensitivities: prepared.sensitivities)
    }

    /// The second phase of `adam_lbfgs`: full-batch L-BFGS on the training MSE from Adam's last
    /// point; each accepted step is one history row, up to the planned epochs.
    static func lbfgsPhase(_ trainer: Trainer<Float>, recorder: RunRecorder, memory: Int, from adamEpochs: Int, to epochs: Int, fitCount: Int) {
        let options = LBFGSOptions(memory: memory, maxIterations: epochs - adamEpochs, maxEvaluations: 4 * (epochs - adamEpochs),
                                   gradientTolerance: 0, relativeFunctionTolerance: 0)
        var evaluations = 0
        let result = LBFGS.minimize(start: trainer.parameterVector(), options: options, onIteration: { x, f, k in
            trainer.assignParameterVector(x)
            let stop = recorder.record(adamEpochs + k, train: f, validation: trainer.testLoss()?.scaled ?? .nan, gradientSamples: evaluations * fitCount)
            evaluations = 0
            return stop
        }) { x, gradient in
            trainer.assignParameterVector(x)
            evaluations += 1
            return gradient.withUnsafeMutableBufferPointer { trainer.fullBatchLossAndGradient(into: $0) }
        }
        if recorder.status == .completed, result.status != .maxIterations { recorder.message = "L-BFGS stopped: \(result.status.rawValue)" }
    }

    /// The relative L2 errors over the test samples of the trainer's current parameters, in physical units.
    static func testErrors(_ trainer: Trainer<Float>, setup: RegularizedTraining.Setup<Float>, data: SurrogateFitStage.Prepared) throws -> RelativeErrorSummary {
        let rows = data.dataset.testIndices, p = data.dataset.observationWidth
        guard !rows.isEmpty else { return try RelativeErrorSummary(perSample: []) }
        let scaled = trainer.predictScaled(data.dataset.scaledInputs(rows, scaler: data.inputScaler, as: Float.self), count: rows.count)
        let predicted = scaled.enumerated().map { data.transform.invert(setup.outputScaler.unstandardize(Double($0.element), column: $0.offset % p)) }
        let truth = rows.flatMap { data.dataset.observations[($0 * p)..<(($0 + 1) * p)] }
        return try RelativeErrorSummary(predicted: NDArray(shape: [rows.count, p], values: predicted), truth: NDArray(shape: [rows.count, p], values: truth))
    }

    /// The history of a finished run.
    public static func readHistory(_ folder: URL) throws -> [AccelerationEpoch] {
        let url = folder.appendingPathComponent(historyFile)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { throw StudyError("\(url.path): cannot be read") }
        var lines = text.split(separator: "\n")
        let header = lines.first.map(String.init)
        guard header == AccelerationEpoch.header || header == AccelerationEpoch.headerWithoutGradients else {
            throw StudyError("\(url.path): the header is not \(AccelerationEpoch.header)")
        }
        lines.removeFirst()
        let columns = header == AccelerationEpoch.header ? 6 : 5
        return try lines.map { try AccelerationEpoch(csvLine: $0, columns: columns, file: url.path) }
    }

    /// The result of a finished run with this spec, or nil (not run, interrupted, or another spec).
    public static func finishedResult(in folder: URL, spec: AccelerationRunSpec) -> AccelerationRunResult? {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent(resultFile)),
              let result = try? decodeJSON(AccelerationRunResult.self, from: data), result.spec == spec,
              (try? readHistory(folder)) != nil else { return nil }
        return result
    }

    public static func decodeJSON<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(type, from: data)
    }

    public static func encodeJSON<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(value)
    }
}

/// The history of one run as it trains: its rows, the stop rule, the best validation parameters.
final class RunRecorder {
    let trainer: Trainer<Float>
    let target: Double
    let window: Int?
    let keepBest: Bool
    var rows: [AccelerationEpoch] = []
    var status = AccelerationRunResult.Status.completed
    var message: String?
    var best: (epoch: Int, validation: Double, parameters: [Float])?
    private var validations: [Double] = []
    private var gradientSamples = 0.0
    private let cpu0 = processCPUSeconds(), wall0 = monotonicSeconds()

    init(trainer: Trainer<Float>, spec: AccelerationRunSpec) {
        self.trainer = trainer
        target = spec.stopAtValidationMSE ?? -.infinity
        window = spec.paired?.window
        keepBest = spec.paired != nil
        append(0, train: trainer.trainingLoss().scaled, validation: trainer.testLoss()?.scaled ?? .nan)
    }

    private func append(_ epoch: Int, train: Double, validation: Double) {
        rows.append(AccelerationEpoch(epoch: epoch, trainMSE: train, validationMSE: validation, cpuSeconds: processCPUSeconds() - cpu0,
                                      wallSeconds: monotonicSeconds() - wall0, gradientEvaluations: gradientSamples))
    }

    /// Records an epoch (or L-BFGS step) with `samples` more gradient evaluations; returns whether the run stops here.
    func record(_ epoch: Int, train: Double, validation: Double, gradientSamples samples: Int) -> Bool {
        gradientSamples += Double(samples)
        append(epoch, train: train, validation: validation)
        guard validation.isFinite else { status = .diverged; message = "the validation MSE is \(validation)"; return true }
        if keepBest, validation < (best?.validation ?? .infinity) {
            if best == nil { best = (epoch, validation, Array(trainer.network.parameters)) } else {
                best!.epoch = epoch; best!.validation = validation
                best!.parameters.withUnsafeMutableBufferPointer { _ = $0.update(fromContentsOf: trainer.network.parameters) }
            }
        }
        validations.append(validation)
        let reached: Bool
        if let window {
            reached = validations.count >= window && SustainedTarget.average(validations.suffix(window)) <= target
        } else {
            reached = validation <= target
        }
        if reached { status = .reachedTarget }
        return reached
    }
}
