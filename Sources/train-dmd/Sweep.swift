import ArgumentParser
import NumericalFoundations
import Surrogates
import Pipeline
import Foundation

/// `train-dmd sweep`: the (m, s) study of the paper's Figure 3 (issue 7, item 5).
struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run Algorithm 1 for every (m, s) of a grid and record each run's mean relative error per jump (the paper's Figure 3).",
        discussion: """
        Every run trains the configured network on DATA/samples and DATA/fem from the same initial weights for --epochs epochs with DMD jumps of (m, s); the other [dmd] keys (tol, svd, safeguards, ...) apply to all runs. The relative error of a jump is the MSE after it divided by the MSE at the m-th snapshot (training and test sets, scaled units); a run's value is the plain mean over its jumps (formulation.md §5).

        Runs go two at a time by default (--jobs), one per core, each with one OpenBLAS thread. The sweep is resumable: a finished pair is recorded in OUT/pairs/ and skipped when the command is run again; an interrupted run continues from its checkpoint (every training.checkpoint_every epochs).

        Writes OUT (default DATA/sweep): sweep.npy (Nm x Ns x 2 float64: [i, j, 0] training, [i, j, 1] test; NaN where not run, inf where the run diverged), m_values.npy and s_values.npy (int64), sweep.csv (one line per pair), setup.json, manifest.json, and per run runs/m<m>_s<s>/history.csv and jumps.csv. See docs/dmd-training.md.
        """)

    @OptionGroup var options: StageOptions

    @Option(help: "Values of m: start:stop:step, start:stop, a comma-separated list, or one value (each ≥ 2).")
    var m: String = "2:20:2"

    @Option(help: "Values of s: start:stop:step, start:stop, a comma-separated list, or one value (each ≥ 0).")
    var s: String = "5:100:5"

    @Option(help: "Epochs per run (overrides training.epochs; the paper: 3000).")
    var epochs: Int?

    @Option(help: "Runs at a time (one OpenBLAS thread each).")
    var jobs: Int = 2

    @Option(help: "Output folder (default: DATA/sweep).")
    var out: String?

    func validate() throws {
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    func run() throws {
        let mValues = try SweepRange.parse(m, name: "m", minimum: 2)
        let sValues = try SweepRange.parse(s, name: "s", minimum: 0)
        var extra: [(origin: String, assignment: String)] = []
        if let epochs { extra.append(("--epochs \(epochs)", "training.epochs=\(epochs)")) }
        let config = try options.loadConfig(flagOverrides: extra)
        let runSettings = try TrainStage.runSettings(config)
        let dataset = try SurrogateDataset.load(layout: DataLayout(options.dataURL), inputScaler: InputScaler(ranges: runSettings.inputRanges),
                                                parameterNames: runSettings.inputNames)
        let directory = out.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? DataLayout(options.dataURL).sweep.folder
        let lock = try options.lockOutput(directory)
        defer { lock.release() }
        var record = StageRecord(stage: "train-dmd sweep", config: config, seed: config.training.seed)
        for url in dataset.files { try record.input(url) }

        let sweep = try DMDSweep(.init(dataset: dataset, run: runSettings, dmd: DMDTrainingSettings(config.dmd, plannedEpochs: runSettings.epochs),
                                       mValues: mValues, sValues: sValues, directory: directory, concurrentRuns: jobs))
        let pairs = mValues.count * sValues.count
        note("train-dmd sweep: \(mValues.count) values of m × \(sValues.count) values of s = \(pairs) runs of \(runSettings.epochs) epochs, "
             + "\(jobs) at a time, on \(dataset.trainIndices.count) training and \(dataset.testIndices.count) test samples → \(directory.path)")
        let reporter = ProgressReporter("train-dmd sweep epochs", total: max(try sweep.pendingPairs().count, 1) * runSettings.epochs)
        let summary = try sweep.run(progress: { name, epochs in
            reporter.advance(by: epochs, detail: "running \(name)")
        }, pairFinished: { r in
            let text = [r.meanRelativeErrorTrain, r.meanRelativeErrorTest].map { $0.map { String(format: "%.4g", $0) } ?? "n/a" }
            note("train-dmd sweep: m = \(r.m), s = \(r.s): \(r.status.rawValue), \(r.jumps) jumps, mean relative error train \(text[0]), test \(text[1])")
        }, log: { note("train-dmd sweep: " + $0) })

        for url in summary.outputs { record.output(url) }
        record.detail("m_values", .array(mValues.map { JSONValue($0) }))
        record.detail("s_values", .array(sValues.map { JSONValue($0) }))
        record.detail("epochs", JSONValue(runSettings.epochs))
        record.detail("jobs", JSONValue(jobs))
        record.detail("pairs_skipped_as_done", JSONValue(summary.skipped))
        record.detail("pairs_run", JSONValue(summary.ran))
        record.detail("pairs_diverged", JSONValue(summary.results.filter { $0.status == .diverged }.count))
        if let best = summary.results.filter({ $0.meanRelativeErrorTrain?.isFinite == true }).min(by: { $0.meanRelativeErrorTrain! < $1.meanRelativeErrorTrain! }) {
            record.detail("best_train", .object(["m": JSONValue(best.m), "s": JSONValue(best.s), "mean_relative_error": JSONValue(best.meanRelativeErrorTrain!)]))
        }
        try record.finish(manifestAt: directory.appendingPathComponent(DataLayout.manifestFile))
        note("train-dmd sweep: done (\(summary.ran) run now, \(summary.skipped) from before) → \(directory.appendingPathComponent(DMDSweep.arrayFile).path)")
    }
}
