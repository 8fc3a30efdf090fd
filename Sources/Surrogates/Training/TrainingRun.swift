import Foundation
import NumericalFoundations

/// What a run did, for the manifest and the closing message.
public struct TrainingRunReport: Sendable {
    public var layout: NetworkLayout
    /// Epochs already done when this session began (0 for a fresh start).
    public var startEpoch: Int
    public var completedEpochs: Int
    public var plannedEpochs: Int
    public var lastRow: HistoryRow?
    public var trainCount: Int
    public var testCount: Int
    public var flooredOutputs: Int
    public var outputs: [URL]
    /// Set when the run stopped because the training diverged (`stopOnDivergence`).
    public var divergence: Divergence?
    public var finished: Bool { divergence == nil && completedEpochs >= plannedEpochs }
}

/// What to do with a `checkpoint.bin` already in the model folder.
public enum ResumePolicy: Sendable, Equatable {
    /// Start afresh; an earlier checkpoint is removed.
    case never
    /// Continue from the checkpoint; an error if it is missing or was made by another setup.
    case always
    /// Continue when the checkpoint was made by the same setup (an interrupted run), otherwise start
    /// afresh with a notice: what `pipeline.sh` uses, so that a rerun after an interruption resumes.
    case ifCompatible

    public init(_ resume: Bool) { self = resume ? .always : .never }
}

/// The `train-dmd train` stage as a library call: scale the data, build or restore the trainer,
/// train with checkpoints, and write the model folder. The training itself is NeuralNetwork's
/// (`Trainer`, `TrainingCheckpoint`'s bytes); this runner owns the files and the resume policy.
///
/// Model folder (`modelDirectory`): the `SurrogateModel` files, `history.csv`,
/// `predictions_test.npy` (test samples × P, physical units, float64), `test_indices.npy` (int64
/// rows of params.npy, the order of the predictions) and `checkpoint.bin`. The manifest is the
/// executable's.
public enum TrainingRun {
    public static let historyFile = "history.csv"
    public static let predictionsFile = "predictions_test.npy"
    public static let testIndicesFile = "test_indices.npy"

    /// Runs the stage. `progress` is called after every epoch, `notice` with one-line remarks for the user.
    public static func execute(dataset: SurrogateDataset, settings: TrainingRunSettings, modelDirectory: URL, resume: ResumePolicy,
                               hook: TrainingHook? = nil, progress: (HistoryRow, Int) -> Void = { _, _ in },
                               notice: (String) -> Void = { _ in }) throws -> TrainingRunReport {
        guard settings.epochs >= 1, settings.checkpointEvery >= 1 else {
            throw NetworkError("epochs (\(settings.epochs)) and checkpoint_every (\(settings.checkpointEvery)) must be at least 1")
        }
        let inputScaler = try InputScaler(ranges: settings.inputRanges)
        guard dataset.parameterWidth == inputScaler.width else {
            throw NetworkError("the data have \(dataset.parameterWidth) parameters per sample, the configuration \(inputScaler.width) ranges")
        }
        let outputScaler = try OutputScaler(fitting: dataset.observations, width: dataset.observationWidth,
                                            rows: dataset.trainIndices, relativeFloor: settings.outputStandardDeviationFloor)
        let layout = try NetworkLayout(widths: [dataset.parameterWidth] + settings.hiddenWidths + [dataset.observationWidth],
                                       activation: settings.activation)
        var hashes: [String: String] = [:]
        for url in dataset.files {
            hashes[url.deletingLastPathComponent().lastPathComponent + "/" + url.lastPathComponent] = try SHA256Digest.hex(ofFile: url)
        }
        let fingerprint = TrainingFingerprint(layout: layout, precision: settings.precision, networkSeed: settings.networkSeed,
                                              batchSize: settings.trainer.batchSize, adam: settings.trainer.adam,
                                              shuffleSeed: settings.trainer.shuffleSeed,
                                              outputStandardDeviationFloor: settings.outputStandardDeviationFloor,
                                              trainLoss: settings.trainer.trainLoss, inputHashes: hashes, hook: hook?.checkpointFingerprint ?? "")
        let context = Context(dataset: dataset, settings: settings, layout: layout, inputScaler: inputScaler, outputScaler: outputScaler,
                              fingerprint: fingerprint, modelDirectory: modelDirectory, resume: resume, hook: hook)
        // One call per precision, so that the optimiser compiles `run` (and the trainer's loop it calls,
        // in this module) for Float and for Double: unspecialised generic code is an order of magnitude
        // slower (docs/dmd-training.md).
        switch settings.precision {
        case .float32: return try run(Float.self, context, progress: progress, notice: notice)
        case .float64: return try run(Double.self, context, progress: progress, notice: notice)
        }
    }

    struct Context {
        var dataset: SurrogateDataset
        var settings: TrainingRunSettings
        var layout: NetworkLayout
        var inputScaler: InputScaler
        var outputScaler: OutputScaler
        var fingerprint: TrainingFingerprint
        var modelDirectory: URL
        var resume: ResumePolicy
        var hook: TrainingHook?
    }

    static func run<S: NetworkScalar>(_ type: S.Type, _ c: Context, progress: (HistoryRow, Int) -> Void,
                                      notice: (String) -> Void) throws -> TrainingRunReport {
        let data = c.dataset
        let train = ScaledSamples<S>(inputs: data.scaledInputs(data.trainIndices, scaler: c.inputScaler, as: S.self),
                                     targets: data.scaledTargets(data.trainIndices, scaler: c.outputScaler, as: S.self),
                                     count: data.trainIndices.count)
        let testInputs = data.scaledInputs(data.testIndices, scaler: c.inputScaler, as: S.self)
        let test = ScaledSamples<S>(inputs: testInputs, targets: data.scaledTargets(data.testIndices, scaler: c.outputScaler, as: S.self),
                                    count: data.testIndices.count)
        let trainer = try Trainer(network: Network<S>(layout: c.layout, seed: c.settings.networkSeed), options: c.settings.trainer,
                                  train: train, test: test, outputVariances: c.outputScaler.variances)
        trainer.hook = c.hook
        let checkpointURL = c.modelDirectory.appendingPathComponent(TrainingCheckpoint.fileName)
        let resume = c.resume == .always || (c.resume == .ifCompatible && checkpointIsCompatible(c, at: checkpointURL, notice: notice))
        try prepareCheckpoint(trainer, resume: resume, c, at: checkpointURL, notice: notice)
        let startEpoch = trainer.completedEpochs
        let divergence = try trainWithCheckpoints(trainer, c, at: checkpointURL, progress: progress, notice: notice)
        let outputs = try writeModel(trainer, c, divergence: divergence, trainCount: train.count, testInputs: testInputs,
                                     testCount: test.count, checkpointURL: checkpointURL)
        return TrainingRunReport(layout: c.layout, startEpoch: startEpoch, completedEpochs: trainer.completedEpochs,
                                 plannedEpochs: c.settings.epochs, lastRow: trainer.history.rows.last, trainCount: train.count,
                                 testCount: test.count, flooredOutputs: c.outputScaler.flooredCount, outputs: outputs,
                                 divergence: divergence)
    }

    /// Whether the checkpoint on disk is an interrupted run of the same setup: it continues; anything
    /// else starts afresh, and says why.
    private static func checkpointIsCompatible(_ c: Context, at checkpointURL: URL, notice: (String) -> Void) -> Bool {
        guard FileManager.default.fileExists(atPath: checkpointURL.path) else { return false }
        do {
            let summary = try TrainingCheckpoint.summary(at: checkpointURL)
            let differences = summary.fingerprint.differences(from: c.fingerprint)
            if !differences.isEmpty {
                notice("the checkpoint in \(c.modelDirectory.path) was made by another setup (\(differences.joined(separator: "; ")))")
            } else if summary.completedEpochs > c.settings.epochs {
                notice("the checkpoint in \(c.modelDirectory.path) is at epoch \(summary.completedEpochs), past training.epochs = \(c.settings.epochs)")
            } else {
                return true
            }
        } catch {
            notice("the checkpoint in \(c.modelDirectory.path) cannot be read (\(error))")
        }
        return false
    }

    /// Restores the trainer from the checkpoint when resuming; otherwise removes a stale checkpoint.
    private static func prepareCheckpoint<S: NetworkScalar>(_ trainer: Trainer<S>, resume: Bool, _ c: Context, at checkpointURL: URL,
                                                            notice: (String) -> Void) throws {
        if resume {
            let summary = try TrainingCheckpoint.summary(at: checkpointURL)
            if summary.completedEpochs > c.settings.epochs {
                throw NetworkError("the checkpoint \(checkpointURL.path) is at epoch \(summary.completedEpochs), past training.epochs = \(c.settings.epochs)")
            }
            try TrainingCheckpoint.restore(trainer, fingerprint: c.fingerprint, from: checkpointURL)
            if summary.threads != c.settings.trainer.threads {
                notice("the checkpoint was written with \(summary.threads) thread(s), this run uses \(c.settings.trainer.threads): "
                       + "OpenBLAS sums in another order, so the result will differ from an uninterrupted run in the last bits")
            }
            notice("resuming from epoch \(trainer.completedEpochs) of \(c.settings.epochs) (\(checkpointURL.path))")
        } else if FileManager.default.fileExists(atPath: checkpointURL.path) {
            // A stale checkpoint must not be resumed later as if it belonged to this run.
            try FileManager.default.removeItem(at: checkpointURL)
            notice("starting afresh: the earlier checkpoint in \(c.modelDirectory.path) was removed")
        }
    }

    /// Trains to the planned (or stop) epoch, writing a checkpoint every `checkpointEvery` epochs and
    /// at the end; returns the divergence that stopped training, if any.
    private static func trainWithCheckpoints<S: NetworkScalar>(_ trainer: Trainer<S>, _ c: Context, at checkpointURL: URL,
                                                               progress: (HistoryRow, Int) -> Void,
                                                               notice: (String) -> Void) throws -> Divergence? {
        var lastCheckpoint = trainer.completedEpochs
        let stopAt = min(c.settings.epochs, c.settings.stopAfterEpoch ?? Int.max)
        let divergence = try trainer.train(untilEpoch: stopAt, stopOnDivergence: c.settings.stopOnDivergence) { row in
            progress(row, c.settings.epochs)
            if row.epoch % c.settings.checkpointEvery == 0 {
                try TrainingCheckpoint.write(trainer, fingerprint: c.fingerprint, to: checkpointURL)
                lastCheckpoint = row.epoch
            }
            return false
        }
        if let divergence {
            // The last periodic checkpoint stays as it is: the trainer's optimizer and hook state are
            // those of the failed epoch and must not be saved with the rolled-back parameters.
            notice("training diverged in epoch \(divergence.epoch): \(divergence.message); "
                   + "the model written is the one after epoch \(trainer.completedEpochs)")
        } else if lastCheckpoint != trainer.completedEpochs || !FileManager.default.fileExists(atPath: checkpointURL.path) {
            try TrainingCheckpoint.write(trainer, fingerprint: c.fingerprint, to: checkpointURL)
        }
        return divergence
    }

    /// The model as it stands, its history and the test predictions in physical units; returns the files written.
    private static func writeModel<S: NetworkScalar>(_ trainer: Trainer<S>, _ c: Context, divergence: Divergence?, trainCount: Int,
                                                     testInputs: [S], testCount: Int, checkpointURL: URL) throws -> [URL] {
        let data = c.dataset
        let description = ModelDescription(layout: c.layout, precision: S.precision, inputNames: c.settings.inputNames,
                                           epochsCompleted: trainer.completedEpochs, epochsPlanned: c.settings.epochs,
                                           trainSamples: trainCount, testSamples: testCount, windViscosity: c.settings.windViscosity,
                                           divergence: divergence)
        var outputs = try SurrogateModel.write(network: trainer.network, description: description, inputScaler: c.inputScaler,
                                               outputScaler: c.outputScaler, to: c.modelDirectory)
        let historyURL = c.modelDirectory.appendingPathComponent(historyFile)
        try AtomicFile.write(trainer.history.csv(), to: historyURL)
        let p = c.layout.outputWidth
        let scaledPredictions = trainer.predictScaled(testInputs, count: testCount)
        let predictions = scaledPredictions.enumerated().map { c.outputScaler.unstandardize(Double($0.element), column: $0.offset % p) }
        let predictionsURL = c.modelDirectory.appendingPathComponent(predictionsFile)
        try Npy.write(predictions, shape: [testCount, p], to: predictionsURL)
        let indicesURL = c.modelDirectory.appendingPathComponent(testIndicesFile)
        try Npy.write(data.testIndices.map { Int64($0) }, shape: [testCount], to: indicesURL)
        outputs += [historyURL, predictionsURL, indicesURL]
        if FileManager.default.fileExists(atPath: checkpointURL.path) { outputs.append(checkpointURL) }
        return outputs
    }
}
