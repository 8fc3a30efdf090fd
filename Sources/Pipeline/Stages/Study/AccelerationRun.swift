import Foundation
import NumericalFoundations
import Surrogates

/// What one run of the study is: a method, a seed, the planned epochs and the target at which it
/// stops. Written to `spec.json` in the run's folder; a finished run whose spec differs is redone.
public struct AccelerationRunSpec: Codable, Equatable, Sendable {
    public var method: AccelerationMethod
    public var seed: Int
    public var epochs: Int
    /// Stop as soon as the validation MSE is at or below this (nil: run all epochs, the baseline).
    public var stopAtValidationMSE: Double?

    public init(method: AccelerationMethod, seed: Int, epochs: Int, stopAtValidationMSE: Double?) {
        self.method = method; self.seed = seed; self.epochs = epochs; self.stopAtValidationMSE = stopAtValidationMSE
    }

    public var folderName: String { "\(method.name)/seed_\(seed)" }
}

/// One row of a run's history: after epoch `epoch` (or L-BFGS step), the fitting and validation
/// MSE (scaled units of the transformed output, as early stopping uses), and the CPU and wall
/// seconds since the run's trainer was built (every overhead included: hooks, jumps, line searches).
public struct AccelerationEpoch: Codable, Equatable, Sendable {
    public var epoch: Int
    public var trainMSE: Double
    public var validationMSE: Double
    public var cpuSeconds: Double
    public var wallSeconds: Double

    static let header = "epoch,train_mse,validation_mse,cpu_seconds,wall_seconds"
    var csvLine: String { "\(epoch),\(trainMSE),\(validationMSE),\(cpuSeconds),\(wallSeconds)" }

    init(epoch: Int, trainMSE: Double, validationMSE: Double, cpuSeconds: Double, wallSeconds: Double) {
        self.epoch = epoch; self.trainMSE = trainMSE; self.validationMSE = validationMSE
        self.cpuSeconds = cpuSeconds; self.wallSeconds = wallSeconds
    }

    init(csvLine line: Substring, file: String) throws {
        let f = line.split(separator: ",", omittingEmptySubsequences: false)
        guard f.count == 5, let e = Int(f[0]), let t = Double(f[1]), let v = Double(f[2]), let c = Double(f[3]), let w = Double(f[4]) else {
            throw StudyError("\(file): the line \"\(line)\" is not \(Self.header)")
        }
        self.init(epoch: e, trainMSE: t, validationMSE: v, cpuSeconds: c, wallSeconds: w)
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
}

public enum AccelerationRun {
    public static let specFile = "spec.json", historyFile = "history.csv", resultFile = "result.json"

    /// Trains one run of the study in this process (one OpenBLAS thread) and writes its history and
    /// result into `folder` (result.json last: its presence marks the run as finished).
    @discardableResult
    public static func execute(_ spec: AccelerationRunSpec, prepared: SurrogateFitStage.Prepared, config: PipelineConfig,
                               folder: URL, log: @escaping (String) -> Void = { _ in }) throws -> AccelerationRunResult {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let tuned = try SurrogateFitStage.tunedOptions(config: config, threads: 1)
        let o = spec.method.options(tuned: tuned, epochs: spec.epochs, seed: spec.seed, fitCount: prepared.fitRows.count)
        // The study's networks are float32, as the paper's and the tuned model: one code path.
        let setup = try RegularizedTraining.makeTrainer(Float.self, dataset: prepared.dataset, fitRows: prepared.fitRows,
                                                        validationRows: prepared.validationRows, inputScaler: prepared.inputScaler,
                                                        transform: prepared.transform, options: o)
        let trainer = setup.trainer
        trainer.hook = try spec.method.makeHook(layout: setup.layout, log: log)
        let target = spec.stopAtValidationMSE ?? -.infinity
        var rows: [AccelerationEpoch] = []
        let cpu0 = processCPUSeconds(), wall0 = monotonicSeconds()
        func record(_ epoch: Int, train: Double, validation: Double) {
            rows.append(AccelerationEpoch(epoch: epoch, trainMSE: train, validationMSE: validation,
                                          cpuSeconds: processCPUSeconds() - cpu0, wallSeconds: monotonicSeconds() - wall0))
        }
        record(0, train: trainer.trainingLoss().scaled, validation: trainer.testLoss()?.scaled ?? .nan)
        var status = AccelerationRunResult.Status.completed
        var message: String? = nil
        var adamEpochs = spec.epochs
        if case .lbfgs(let fraction, _) = spec.method.accelerator { adamEpochs = max(1, Int((fraction * Double(spec.epochs)).rounded())) }
        adam: for epoch in 1...min(adamEpochs, spec.epochs) {
            trainer.optimizer.learningRateFactor = o.learningRateFactor(epoch: epoch)
            do {
                let row = try trainer.trainEpochSpecialized()
                let validation = row.testMSE ?? .nan
                record(epoch, train: row.trainMSE, validation: validation)
                guard validation.isFinite else { status = .diverged; message = "the validation MSE is \(validation)"; break adam }
                if validation <= target { status = .reachedTarget; break adam }
            } catch let error as any DivergenceError {
                status = .diverged; message = error.description; break adam
            }
        }
        if case .lbfgs(_, let memory) = spec.method.accelerator, status == .completed, adamEpochs < spec.epochs {
            // The second phase: full-batch L-BFGS on the training MSE from Adam's last point; each
            // accepted step is one history row, up to the planned epochs.
            let options = LBFGSOptions(memory: memory, maxIterations: spec.epochs - adamEpochs, maxEvaluations: 4 * (spec.epochs - adamEpochs),
                                       gradientTolerance: 0, relativeFunctionTolerance: 0)
            let result = LBFGS.minimize(start: trainer.parameterVector(), options: options, onIteration: { x, f, k in
                trainer.assignParameterVector(x)
                let validation = trainer.testLoss()?.scaled ?? .nan
                record(adamEpochs + k, train: f, validation: validation)
                if !validation.isFinite { status = .diverged; message = "the validation MSE is \(validation)"; return true }
                if validation <= target { status = .reachedTarget; return true }
                return false
            }) { x, gradient in
                trainer.assignParameterVector(x)
                return gradient.withUnsafeMutableBufferPointer { trainer.fullBatchLossAndGradient(into: $0) }
            }
            if status == .completed, result.status != .maxIterations { message = "L-BFGS stopped: \(result.status.rawValue)" }
        }
        let history = ([AccelerationEpoch.header] + rows.map(\.csvLine)).joined(separator: "\n") + "\n"
        try AtomicFile.write(history, to: folder.appendingPathComponent(historyFile))
        let result = AccelerationRunResult(spec: spec, status: status, message: message, epochsRun: rows.last?.epoch ?? 0,
                                           cpuSeconds: rows.last?.cpuSeconds ?? 0, wallSeconds: rows.last?.wallSeconds ?? 0,
                                           bestValidationMSE: rows.map(\.validationMSE).filter(\.isFinite).min() ?? .nan)
        try AtomicFile.write(try encodeJSON(result), to: folder.appendingPathComponent(resultFile))
        return result
    }

    /// The history of a finished run.
    public static func readHistory(_ folder: URL) throws -> [AccelerationEpoch] {
        let url = folder.appendingPathComponent(historyFile)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { throw StudyError("\(url.path): cannot be read") }
        var lines = text.split(separator: "\n")
        guard lines.first.map(String.init) == AccelerationEpoch.header else { throw StudyError("\(url.path): the header is not \(AccelerationEpoch.header)") }
        lines.removeFirst()
        return try lines.map { try AccelerationEpoch(csvLine: $0, file: url.path) }
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
