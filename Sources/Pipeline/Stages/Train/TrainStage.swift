import Foundation
import PDE
import NumericalFoundations
import Surrogates

/// The pipeline's `train` stage (`train-dmd train`): the paper's network on samples/ and fem/, plain or
/// with Algorithm 1's DMD jumps, into models/NAME/ with its manifest (docs/train.md,
/// docs/dmd-training.md). The training and the model folder are TrainingStage's `TrainingRun`; this
/// adds the configuration, the DMD hook, jumps.csv and the manifest's details.
public enum TrainStage {
    public struct Request: Sendable {
        /// Model folder under models/ (nil: "plain" without DMD, "dmd" with it).
        public var name: String?
        /// Plain training, without the DMD hook.
        public var noDMD = false
        public var resume: ResumePolicy = .never
        /// Stop after this epoch, with a checkpoint.
        public var stopAfter: Int?
        public init() {}
    }

    /// Exit status of a run that stopped because the training diverged (its outputs are written).
    public static let divergedExitCode: Int32 = 3

    /// Locks models/NAME and trains (the executable's one call); `flagOverrides` are the command's own
    /// flags as configuration assignments (e.g. --epochs → training.epochs).
    public static func run(_ options: StageOptions, flagOverrides: [(origin: String, assignment: String)], request: Request) throws {
        let config = try options.loadConfig(flagOverrides: flagOverrides)
        let name = request.name ?? (request.noDMD ? "plain" : "dmd")
        let lock = try options.lockOutput(DataLayout(options.dataURL).models.model(name).folder)
        defer { lock.release() }
        try Provenance.verify(Provenance.chain(DataLayout(options.dataURL)), root: options.dataURL)
        try run(config: config, dataDirectory: options.dataURL, request: request)
    }

    /// Trains and writes models/NAME (the caller holds the lock). Throws `ReportedFailure` with
    /// `divergedExitCode` after writing everything when the training diverged.
    public static func run(config: PipelineConfig, dataDirectory: URL, request: Request) throws {
        var settings = try runSettings(config, stopAfter: request.stopAfter)
        settings.stopOnDivergence = true
        let modelName = request.name ?? (request.noDMD ? "plain" : "dmd")
        let modelFiles = DataLayout(dataDirectory).models.model(modelName)
        let modelDirectory = modelFiles.folder
        var record = StageRecord(stage: "train-dmd", config: config, seed: config.training.seed)

        let dataset = try loadDataset(dataDirectory, settings: settings, record: &record)
        let accelerator = request.noDMD ? nil : try makeAccelerator(config: config, settings: settings, dataset: dataset, modelFiles: modelFiles)

        let progress = EpochProgress()
        let report = try TrainingRun.execute(dataset: dataset, settings: settings, modelDirectory: modelDirectory,
                                             resume: request.resume,
                                             hook: accelerator, progress: progress.update, notice: { note("train-dmd: " + $0) })
        for url in report.outputs { record.output(url) }
        if let accelerator { try writeJumps(accelerator, modelFiles: modelFiles, record: &record) }
        recordRun(report, dataset: dataset, settings: settings, modelName: modelName, dmd: !request.noDMD, record: &record)
        try record.finish(manifestAt: modelFiles.manifest)

        note(summaryLine(report, settings: settings) + " → \(modelDirectory.path)")
        if let divergence = report.divergence {
            // Everything is written (the history up to the divergence, the model before it, the
            // manifest with the cause); the distinct exit status tells scripts the run did not finish.
            note("train-dmd: the training diverged in epoch \(divergence.epoch): \(divergence.message); exit status \(divergedExitCode)")
            throw ReportedFailure(exitCode: divergedExitCode)
        }
    }

    /// The dataset, its files recorded as inputs, and a note of what it holds.
    private static func loadDataset(_ dataDirectory: URL, settings: TrainingRunSettings, record: inout StageRecord) throws -> SurrogateDataset {
        let dataset = try SurrogateDataset.load(layout: DataLayout(dataDirectory), inputScaler: InputScaler(ranges: settings.inputRanges),
                                                parameterNames: settings.inputNames)
        for url in dataset.files { try record.input(url) }
        let excluded = dataset.excludedByStatus.values.reduce(0, +)
        note("train-dmd: \(dataset.trainIndices.count) training and \(dataset.testIndices.count) test samples, \(dataset.observationWidth) outputs"
             + (excluded > 0 ? "; \(excluded) samples without a FEM solution left out "
                + "(status " + dataset.excludedByStatus.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")" : ""))
        if dataset.testIndices.isEmpty { note("train-dmd: warning: no test samples; test MSE columns stay empty") }
        return dataset
    }

    private static func makeAccelerator(config: PipelineConfig, settings: TrainingRunSettings, dataset: SurrogateDataset,
                                        modelFiles: DataLayout.Model) throws -> DMDAccelerator {
        let layout = try NetworkLayout(widths: [dataset.parameterWidth] + settings.hiddenWidths + [dataset.observationWidth],
                                       activation: settings.activation)
        return try DMDAccelerator(settings: DMDTrainingSettings(config.dmd, plannedEpochs: settings.epochs), layout: layout,
                                  eigenvalueDirectory: modelFiles.eigenvalues,
                                  copyThreads: settings.trainer.threads, log: { note("train-dmd: " + $0) })
    }

    /// jumps.csv and the jumps' figures in the manifest.
    private static func writeJumps(_ accelerator: DMDAccelerator, modelFiles: DataLayout.Model, record: inout StageRecord) throws {
        let jumpsURL = modelFiles.jumps
        try AtomicFile.write(DMDJump.csv(accelerator.jumps), to: jumpsURL)
        record.output(jumpsURL)
        record.detail("dmd_jumps", JSONValue(accelerator.jumps.count))
        record.detail("dmd_jumps_rejected", JSONValue(accelerator.jumps.filter { !$0.accepted }.count))
        record.detail("dmd_mean_relative_error_train", DMDJump.meanRelativeError(accelerator.jumps, test: false).map { JSONValue($0) } ?? .null)
        record.detail("dmd_mean_relative_error_test", DMDJump.meanRelativeError(accelerator.jumps, test: true).map { JSONValue($0) } ?? .null)
        record.detail("dmd_eigenvalue_folder", .string(accelerator.eigenvalueDirectory?.path ?? ""))
    }

    /// The manifest's account of the run: model, data, epochs, status and final losses.
    private static func recordRun(_ report: TrainingRunReport, dataset: SurrogateDataset, settings: TrainingRunSettings,
                                  modelName: String, dmd: Bool, record: inout StageRecord) {
        record.detail("model", .string(modelName))
        record.detail("layout", .array(report.layout.widths.map { JSONValue($0) }))
        record.detail("activation", .string(report.layout.activation.rawValue))
        record.detail("precision", .string(settings.precision.rawValue))
        record.detail("parameters", JSONValue(report.layout.parameterCount))
        record.detail("dmd", .bool(dmd))
        record.detail("train_count", JSONValue(report.trainCount))
        record.detail("test_count", JSONValue(report.testCount))
        record.detail("excluded_by_status", .object(Dictionary(uniqueKeysWithValues: dataset.excludedByStatus.map { ("\($0.key)", JSONValue($0.value)) })))
        record.detail("outputs_with_floored_std", JSONValue(report.flooredOutputs))
        record.detail("epochs_completed", JSONValue(report.completedEpochs))
        record.detail("epochs_planned", JSONValue(report.plannedEpochs))
        record.detail("status", .string(report.divergence != nil ? "diverged" : report.finished ? "finished" : "stopped"))
        if let divergence = report.divergence {
            record.detail("divergence", .object(["epoch": JSONValue(divergence.epoch), "message": .string(divergence.message)]))
        }
        record.detail("resumed_from_epoch", report.startEpoch > 0 ? JSONValue(report.startEpoch) : .null)
        record.detail("threads", JSONValue(settings.trainer.threads))
        record.detail("openblas", .string(BLASThreads.configuration))
        if let last = report.lastRow {
            record.detail("final", .object([
                "train_mse": JSONValue(last.trainMSE), "test_mse": last.testMSE.map { JSONValue($0) } ?? .null,
                "train_mse_physical": JSONValue(last.trainMSEPhysical),
                "test_mse_physical": last.testMSEPhysical.map { JSONValue($0) } ?? .null,
                "training_wall_seconds": JSONValue(last.wallSeconds),
            ]))
        }
    }

    /// "train-dmd: LAYOUT PRECISION, STATE; train MSE …, test MSE … (scaled); TIME of training".
    private static func summaryLine(_ report: TrainingRunReport, settings: TrainingRunSettings) -> String {
        let state = report.divergence != nil ? "DIVERGED in epoch \(report.completedEpochs + 1) of \(report.plannedEpochs) (model of epoch \(report.completedEpochs) kept)"
            : report.finished ? "trained" : "stopped at epoch \(report.completedEpochs) of \(report.plannedEpochs) (continue with --resume)"
        var summary = "train-dmd: \(report.layout) \(settings.precision.rawValue), \(state)"
        if let last = report.lastRow {
            summary += String(format: "; train MSE %.4g, test MSE %@ (scaled); %@ of training",
                              last.trainMSE, last.testMSE.map { String(format: "%.4g", $0) } ?? "n/a", formatDuration(last.wallSeconds))
        }
        return summary
    }

    /// The library's settings from the configuration sections.
    public static func runSettings(_ config: PipelineConfig, stopAfter: Int? = nil) throws -> TrainingRunSettings {
        guard let activation = Activation(rawValue: config.network.activation.rawValue) else {
            throw StageError("network.activation \(config.network.activation.rawValue) is not supported by the network")
        }
        guard let precision = NetworkPrecision(rawValue: config.network.precision.rawValue) else {
            throw StageError("network.precision \(config.network.precision.rawValue) is not supported by the network")
        }
        let t = config.training
        return TrainingRunSettings(
            hiddenWidths: config.network.hidden, activation: activation, precision: precision, networkSeed: config.network.seed,
            trainer: TrainerOptions(batchSize: t.batchSize,
                                    adam: AdamSettings(learningRate: t.learningRate, beta1: t.beta1, beta2: t.beta2, epsilon: t.epsilon),
                                    shuffleSeed: t.seed, threads: t.threads,
                                    trainLoss: t.trainMSE == .fullPass ? .fullPass : .minibatchMean),
            epochs: t.epochs, checkpointEvery: t.checkpointEvery, outputStandardDeviationFloor: config.network.outputStdFloor,
            inputRanges: config.sampling.ranges, inputNames: PollutantParameters.names,
            windViscosity: config.wind.nu, stopAfterEpoch: stopAfter)
    }
}

extension DMDTrainingSettings {
    /// Algorithm 1's settings from the `[dmd]` section; `plannedEpochs` (training.epochs) is the
    /// horizon of the annealing schedule.
    public init(_ dmd: DMDSettings, plannedEpochs: Int) {
        self.init(snapshotCount: dmd.m, steps: Double(dmd.s), tolerance: dmd.tol, maximumRank: dmd.maxRank > 0 ? dmd.maxRank : nil,
                  svdMethod: dmd.svd, modes: dmd.modes, clampEigenvalues: dmd.clampEigenvalues, relaxation: dmd.relaxation,
                  layers: dmd.layers, moments: dmd.moments, snapshotTiming: dmd.snapshot,
                  guarded: dmd.guarded, guardFactors: dmd.guardFactors, annealing: dmd.annealing,
                  annealingEpochs: plannedEpochs, recordJumpLosses: dmd.recordJumpLosses,
                  snapshotKind: dmd.snapshotKind, scope: dmd.scope)
    }
}

/// Progress on stderr: epoch, losses, epochs per second and the ETA (rate-limited to one line a second).
final class EpochProgress: @unchecked Sendable {
    private var reporter: ProgressReporter?
    private var firstEpoch = 0
    private let start = monotonicSeconds()

    func update(_ row: HistoryRow, planned: Int) {
        if reporter == nil {
            firstEpoch = row.epoch - 1
            reporter = ProgressReporter("train-dmd epochs \(firstEpoch + 1)-\(planned)", total: planned - firstEpoch)
        }
        let rate = Double(row.epoch - firstEpoch) / max(monotonicSeconds() - start, 1e-9)
        reporter?.advance(detail: String(format: "epoch %d: train MSE %.4g, test MSE %@, %.2f epochs/s",
                                         row.epoch, row.trainMSE, row.testMSE.map { String(format: "%.4g", $0) } ?? "n/a", rate))
    }
}
