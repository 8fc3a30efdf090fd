import Foundation
import ArgumentParser
import ArrayFiles
import Configuration
import DenseLinearAlgebra
import DMDTraining
import NeuralNetwork
import TrainingStage
import StageSupport
import PipelineStages

/// `train-dmd train`: fit the surrogate to the FEM results (formulation.md §4).
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the surrogate network on DATA/samples and DATA/fem (the default subcommand).",
        discussion: """
        Reads DATA/samples/params.npy (N x 6), DATA/samples/split.npy (N: 0 train, 1 test), DATA/fem/c3.npy (N x P) and DATA/fem/status.npy (N); only samples with status 0 are used.

        Writes DATA/models/NAME/: layer_<l>_weights.npy and layer_<l>_bias.npy per layer, the scalers (input_lower/upper.npy, output_mean/std.npy), model.json, history.csv (one row per epoch), predictions_test.npy (test samples x P, physical units) with test_indices.npy, checkpoint.bin (every training.checkpoint_every epochs) and manifest.json. See docs/train.md.

        With DMD (the default; Algorithm 1 of the paper, settings in [dmd]) also jumps.csv (one line per DMD jump) and eigenvalues/jump_<J>_layer_<k>.npy (the eigenvalues of jump J, 1-based, of layer k, 0-based: r x 2 float64, Re and Im), and history.csv gains the DMD columns (jump, train/test_mse_before/after, rank_L<k>, max_abs_eig_L<k>, timings). See docs/dmd-training.md.

        If the training diverges (a non-finite MSE, or a DMD jump whose parameters overflow), the run stops there and still writes everything: the history up to the last good epoch, the model of that epoch, model.json and manifest.json with the cause ("status": "diverged"); the exit status is then 3.
        """)

    @OptionGroup var options: StageOptions

    @Flag(name: .customLong("no-dmd"), help: "Plain training, without the DMD acceleration (model name \"plain\").")
    var noDMD = false

    @Flag(help: "Continue from DATA/models/NAME/checkpoint.bin; the result equals an uninterrupted run.")
    var resume = false

    @Flag(help: "Continue from DATA/models/NAME/checkpoint.bin when it was made by the same setup, else start afresh (what pipeline.sh uses).")
    var resumeIfCompatible = false

    @Option(help: "Model folder under DATA/models (default: \"plain\" with --no-dmd, \"dmd\" otherwise).")
    var name: String?

    @Option(help: "Number of epochs (overrides training.epochs).")
    var epochs: Int?

    @Option(help: "Cores for OpenBLAS and the element-wise loops (overrides training.threads).")
    var threads: Int?

    @Option(help: "Stop after this epoch, with a checkpoint, to continue later with --resume.")
    var stopAfter: Int?

    func validate() throws {
        if let name, name.isEmpty || name == "." || name == ".." || !name.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }) {
            throw ValidationError("--name must be a plain folder name (letters, digits, '.', '_', '-'), got \"\(name)\"")
        }
        if let stopAfter, stopAfter < 1 { throw ValidationError("--stop-after must be at least 1") }
        try validateThreads(threads)
    }

    func run() throws {
        var extra: [(origin: String, assignment: String)] = []
        if let epochs { extra.append(("--epochs \(epochs)", "training.epochs=\(epochs)")) }
        if let threads { extra.append(("--threads \(threads)", "training.threads=\(threads)")) }
        let config = try options.loadConfig(flagOverrides: extra)
        var settings = try Self.runSettings(config, stopAfter: stopAfter)
        settings.stopOnDivergence = true
        let modelName = name ?? (noDMD ? "plain" : "dmd")
        let modelFiles = DataLayout(options.dataURL).models.model(modelName)
        let modelDirectory = modelFiles.folder
        let lock = try options.lockOutput(modelDirectory)
        defer { lock.release() }
        var record = StageRecord(stage: "train-dmd", config: config, seed: config.training.seed)

        let dataset = try SurrogateDataset.load(layout: DataLayout(options.dataURL), inputScaler: InputScaler(ranges: settings.inputRanges),
                                                parameterNames: settings.inputNames)
        for url in dataset.files { try record.input(url) }
        let excluded = dataset.excludedByStatus.values.reduce(0, +)
        note("train-dmd: \(dataset.trainIndices.count) training and \(dataset.testIndices.count) test samples, \(dataset.observationWidth) outputs"
             + (excluded > 0 ? "; \(excluded) samples without a FEM solution left out "
                + "(status " + dataset.excludedByStatus.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")" : ""))
        if dataset.testIndices.isEmpty { note("train-dmd: warning: no test samples; test MSE columns stay empty") }

        var accelerator: DMDAccelerator? = nil
        if !noDMD {
            let layout = try NetworkLayout(widths: [dataset.parameterWidth] + settings.hiddenWidths + [dataset.observationWidth],
                                           activation: settings.activation)
            accelerator = try DMDAccelerator(settings: DMDTrainingSettings(config.dmd, plannedEpochs: settings.epochs), layout: layout,
                                             eigenvalueDirectory: modelFiles.eigenvalues,
                                             copyThreads: settings.trainer.threads, log: { note("train-dmd: " + $0) })
        }

        let progress = EpochProgress()
        let report = try TrainingRun.execute(dataset: dataset, settings: settings, modelDirectory: modelDirectory,
                                             resume: resume ? .always : (resumeIfCompatible ? .ifCompatible : .never),
                                             hook: accelerator, progress: progress.update, notice: { note("train-dmd: " + $0) })
        for url in report.outputs { record.output(url) }
        if let accelerator {
            let jumpsURL = modelFiles.jumps
            try AtomicFile.write(DMDJump.csv(accelerator.jumps), to: jumpsURL)
            record.output(jumpsURL)
            record.detail("dmd_jumps", JSONValue(accelerator.jumps.count))
            record.detail("dmd_jumps_rejected", JSONValue(accelerator.jumps.filter { !$0.accepted }.count))
            record.detail("dmd_mean_relative_error_train", DMDJump.meanRelativeError(accelerator.jumps, test: false).map { JSONValue($0) } ?? .null)
            record.detail("dmd_mean_relative_error_test", DMDJump.meanRelativeError(accelerator.jumps, test: true).map { JSONValue($0) } ?? .null)
            record.detail("dmd_eigenvalue_folder", .string(accelerator.eigenvalueDirectory?.path ?? ""))
        }
        record.detail("model", .string(modelName))
        record.detail("layout", .array(report.layout.widths.map { JSONValue($0) }))
        record.detail("activation", .string(report.layout.activation.rawValue))
        record.detail("precision", .string(settings.precision.rawValue))
        record.detail("parameters", JSONValue(report.layout.parameterCount))
        record.detail("dmd", .bool(!noDMD))
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
        try record.finish(manifestAt: modelFiles.manifest)

        let state = report.divergence != nil ? "DIVERGED in epoch \(report.completedEpochs + 1) of \(report.plannedEpochs) (model of epoch \(report.completedEpochs) kept)"
            : report.finished ? "trained" : "stopped at epoch \(report.completedEpochs) of \(report.plannedEpochs) (continue with --resume)"
        var summary = "train-dmd: \(report.layout) \(settings.precision.rawValue), \(state)"
        if let last = report.lastRow {
            summary += String(format: "; train MSE %.4g, test MSE %@ (scaled); %@ of training",
                              last.trainMSE, last.testMSE.map { String(format: "%.4g", $0) } ?? "n/a", formatDuration(last.wallSeconds))
        }
        note(summary + " → \(modelDirectory.path)")
        if let divergence = report.divergence {
            // Everything is written (the history up to the divergence, the model before it, the
            // manifest with the cause); the distinct exit status tells scripts the run did not finish.
            note("train-dmd: the training diverged in epoch \(divergence.epoch): \(divergence.message); exit status \(Self.divergedExitCode)")
            throw ExitCode(Self.divergedExitCode)
        }
    }

    /// Exit status of a run that stopped because the training diverged (its outputs are written).
    static let divergedExitCode: Int32 = 3

    /// The library's settings from the configuration sections.
    static func runSettings(_ config: PipelineConfig, stopAfter: Int? = nil) throws -> TrainingRunSettings {
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
                                    trainLoss: t.trainMSE == .full_pass ? .fullPass : .minibatchMean),
            epochs: t.epochs, checkpointEvery: t.checkpointEvery, outputStandardDeviationFloor: config.network.outputStdFloor,
            inputRanges: config.sampling.ranges, inputNames: SamplingSettings.parameterNames,
            windViscosity: config.wind.nu, stopAfterEpoch: stopAfter)
    }
}

/// Progress on stderr: epoch, losses, epochs per second and the ETA (rate-limited to one line a second).
final class EpochProgress {
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
