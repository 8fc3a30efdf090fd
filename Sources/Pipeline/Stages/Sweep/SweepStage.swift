import Foundation
import ArgumentParser
import NumericalFoundations
import Surrogates

/// The command line of `train-dmd sweep`: the grid of (m, s) and how to run it.
public struct SweepOptions: ParsableArguments {
    public static let discussion = """
        Every run trains the configured network on DATA/samples and DATA/fem from the same initial weights for --epochs epochs with DMD jumps of (m, s); the other [dmd] keys (tol, svd, safeguards, ...) apply to all runs. The relative error of a jump is the MSE after it divided by the MSE at the m-th snapshot (training and test sets, scaled units); a run's value is the plain mean over its jumps (formulation.md §5).

        Runs go two at a time by default (--jobs), one per core, each with one OpenBLAS thread. The sweep is resumable: a finished pair is recorded in OUT/pairs/ and skipped when the command is run again; an interrupted run continues from its checkpoint (every training.checkpoint_every epochs).

        Writes OUT (default DATA/sweep): sweep.npy (Nm x Ns x 2 float64: [i, j, 0] training, [i, j, 1] test; NaN where not run, inf where the run diverged), m_values.npy and s_values.npy (int64), sweep.csv (one line per pair), setup.json, manifest.json, and per run runs/m<m>_s<s>/history.csv and jumps.csv. See docs/dmd-training.md.
        """

    @OptionGroup public var stage: StageOptions

    @Option(help: "Values of m: start:stop:step, start:stop, a comma-separated list, or one value (each ≥ 2).")
    public var m: String = "2:20:2"

    @Option(help: "Values of s: start:stop:step, start:stop, a comma-separated list, or one value (each ≥ 0).")
    public var s: String = "5:100:5"

    @Option(parsing: .unconditional, help: "Epochs per run (overrides training.epochs; the paper: 3000).")
    public var epochs: Int?

    @Option(parsing: .unconditional, help: "Runs at a time (one OpenBLAS thread each).")
    public var jobs: Int = 2

    @Option(help: "Output folder (default: DATA/sweep).")
    public var out: String?

    public init() {}

    public func validate() throws {
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }
}

/// `train-dmd sweep`: the (m, s) study of the paper's Figure 3 (`DMDSweep`), with its progress on
/// stderr and its manifest.
public enum SweepStage {
    public static func run(_ options: SweepOptions) throws {
        let mValues = try SweepRange.parse(options.m, name: "m", minimum: 2)
        let sValues = try SweepRange.parse(options.s, name: "s", minimum: 0)
        var extra: [(origin: String, assignment: String)] = []
        if let epochs = options.epochs { extra.append(("--epochs \(epochs)", "training.epochs=\(epochs)")) }
        let config = try options.stage.loadConfig(flagOverrides: extra)
        let runSettings = try TrainStage.runSettings(config)
        let layout = DataLayout(options.stage.dataURL)
        let dataset = try SurrogateDataset.load(layout: layout, inputScaler: InputScaler(ranges: runSettings.inputRanges),
                                                parameterNames: runSettings.inputNames)
        let directory = options.out.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? layout.sweep.folder
        let lock = try options.stage.lockOutput(directory)
        defer { lock.release() }
        try Provenance.verify(Provenance.chain(DataLayout(options.stage.dataURL)), root: options.stage.dataURL)
        var record = StageRecord(stage: "train-dmd sweep", config: config, seed: config.training.seed)
        for url in dataset.files { try record.input(url) }

        let sweep = try DMDSweep(.init(dataset: dataset, run: runSettings, dmd: DMDTrainingSettings(config.dmd, plannedEpochs: runSettings.epochs),
                                       mValues: mValues, sValues: sValues, directory: directory, concurrentRuns: options.jobs))
        note("train-dmd sweep: \(mValues.count) values of m × \(sValues.count) values of s = \(mValues.count * sValues.count) runs of \(runSettings.epochs) epochs, "
             + "\(options.jobs) at a time, on \(dataset.trainIndices.count) training and \(dataset.testIndices.count) test samples → \(directory.path)")
        let summary = try run(sweep, epochs: runSettings.epochs)
        for url in summary.outputs { record.output(url) }
        record.detail("m_values", .array(mValues.map { JSONValue($0) }))
        record.detail("s_values", .array(sValues.map { JSONValue($0) }))
        record.detail("epochs", JSONValue(runSettings.epochs))
        record.detail("jobs", JSONValue(options.jobs))
        recordOutcome(summary, in: &record)
        try record.finish(manifestAt: directory.appendingPathComponent(DataLayout.manifestFile))
        note("train-dmd sweep: done (\(summary.ran) run now, \(summary.skipped) from before) → \(directory.appendingPathComponent(DMDSweep.arrayFile).path)")
    }

    /// Runs the pending pairs with the epochs' progress and one line per finished pair on stderr.
    static func run(_ sweep: DMDSweep, epochs: Int) throws -> DMDSweep.Summary {
        let reporter = ProgressReporter("train-dmd sweep epochs", total: max(try sweep.pendingPairs().count, 1) * epochs)
        return try sweep.run(progress: { name, epochs in
            reporter.advance(by: epochs, detail: "running \(name)")
        }, pairFinished: { r in
            let text = [r.meanRelativeErrorTrain, r.meanRelativeErrorTest].map { $0.map { String(format: "%.4g", $0) } ?? "n/a" }
            note("train-dmd sweep: m = \(r.m), s = \(r.s): \(r.status.rawValue), \(r.jumps) jumps, mean relative error train \(text[0]), test \(text[1])")
        }, log: { note("train-dmd sweep: " + $0) })
    }

    /// The counts of the manifest and the best pair on the training set.
    static func recordOutcome(_ summary: DMDSweep.Summary, in record: inout StageRecord) {
        record.detail("pairs_skipped_as_done", JSONValue(summary.skipped))
        record.detail("pairs_run", JSONValue(summary.ran))
        record.detail("pairs_diverged", JSONValue(summary.results.filter { $0.status == .diverged }.count))
        if let best = summary.results.filter({ $0.meanRelativeErrorTrain?.isFinite == true }).min(by: { $0.meanRelativeErrorTrain! < $1.meanRelativeErrorTrain! }) {
            record.detail("best_train", .object(["m": JSONValue(best.m), "s": JSONValue(best.s), "mean_relative_error": JSONValue(best.meanRelativeErrorTrain!)]))
        }
    }
}
