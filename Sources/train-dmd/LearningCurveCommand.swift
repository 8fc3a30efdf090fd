import Foundation
import ArgumentParser
import NumericalFoundations
import Reporting
import Pipeline

/// `train-dmd learning-curve`: test error against the number of training samples (issue 15).
struct LearningCurveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learning-curve",
        abstract: "Refit the surrogates on nested subsets of the training samples and score each on the test split.",
        discussion: "Writes DATA/learning_curve/learning_curve.csv (model, samples, test median and p95 relative L2, seconds) and manifest.json; `evaluate` draws it. Models: paper (the paper's network and recipe), tuned, pod_gp, pod_nn.")

    @OptionGroup var options: StageOptions

    @Option(help: "Comma-separated subset sizes (each ≤ the number of training samples).")
    var sizes: String = "75,150,300,611"

    @Option(help: "Comma-separated models: paper, tuned, pod_gp, pod_nn.")
    var models: String = "pod_gp,pod_nn,tuned,paper"

    @Option(help: "Epochs of the paper recipe (default training.epochs).")
    var paperEpochs: Int?

    @Option(help: "Cores for OpenBLAS and the fits.")
    var threads: Int = 2

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let paperEpochs, paperEpochs < 1 { throw ValidationError("--paper-epochs must be at least 1, got \(paperEpochs)") }
    }

    @Flag(help: "Only redraw learning_curve.svg (and .png) from the existing learning_curve.csv.")
    var replot = false

    /// The figure beside the CSV (the report draws it too, when `evaluate` runs).
    func plot(_ curve: LearningCurve, beside csv: URL) throws {
        let svg = csv.deletingPathExtension().appendingPathExtension("svg")
        try AtomicFile.write(try curve.figure().svg(), to: svg)
        try PNGConverter.convert(svg: svg, to: svg.deletingPathExtension().appendingPathExtension("png"))
        note("train-dmd learning-curve: figure → \(svg.path)")
    }

    func run() throws {
        if replot {
            let csv = DataLayout(options.dataURL).learningCurve.csv
            try plot(try LearningCurve.read(csv), beside: csv)
            return
        }
        let config = try options.loadConfig()
        let sizeList = try sizes.split(separator: ",").map { s -> Int in
            guard let n = Int(s.trimmingCharacters(in: .whitespaces)), n > 0 else { throw ValidationError("--sizes: \"\(s)\" is not a positive integer") }
            return n
        }
        let modelList = models.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for m in modelList where !LearningCurve.models.contains(m) {
            throw ValidationError("--models: unknown model \"\(m)\" (expected \(LearningCurve.models.joined(separator: ", ")))")
        }
        if Set(modelList).count != modelList.count { throw ValidationError("--models names a model twice: \(models)") }
        let lock = try options.lockOutput(DataLayout(options.dataURL).learningCurve.folder)
        defer { lock.release() }
        var record = StageRecord(stage: "train-dmd learning-curve", config: config, seed: config.surrogate.validationSeed)
        let curve = try LearningCurve.run(config: config, dataDirectory: options.dataURL, models: modelList, sizes: sizeList,
                                          paperEpochs: paperEpochs, threads: threads, notice: note)
        let curveFiles = DataLayout(options.dataURL).learningCurve
        let url = curveFiles.csv
        try AtomicFile.write(curve.csv(), to: url)
        record.output(url)
        record.detail("points", curve.json)
        try record.finish(manifestAt: curveFiles.manifest)
        note("train-dmd learning-curve: \(curve.points.count) fits → \(url.path)")
        try plot(curve, beside: url)
    }
}
