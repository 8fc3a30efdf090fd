import Foundation
import ArgumentParser
import NumericalFoundations
import Reporting

/// The command line of `train-dmd learning-curve`.
public struct LearningCurveOptions: ParsableArguments {
    @OptionGroup public var stage: StageOptions

    @Option(help: "Comma-separated subset sizes (each ≤ the number of training samples).")
    public var sizes: String = "75,150,300,611"

    @Option(help: "Comma-separated models: paper, tuned, pod_gp, pod_nn.")
    public var models: String = "pod_gp,pod_nn,tuned,paper"

    @Option(parsing: .unconditional, help: "Epochs of the paper recipe (default training.epochs).")
    public var paperEpochs: Int?

    @Option(parsing: .unconditional, help: "Cores for OpenBLAS and the fits.")
    public var threads: Int = 2

    @Flag(help: "Only redraw learning_curve.svg (and .png) from the existing learning_curve.csv.")
    public var replot = false

    public init() {}

    public func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let paperEpochs, paperEpochs < 1 { throw ValidationError("--paper-epochs must be at least 1, got \(paperEpochs)") }
    }

    func sizeList() throws -> [Int] {
        try sizes.split(separator: ",").map { s -> Int in
            guard let n = Int(s.trimmingCharacters(in: .whitespaces)), n > 0 else { throw ValidationError("--sizes: \"\(s)\" is not a positive integer") }
            return n
        }
    }

    func modelList() throws -> [String] {
        let list = models.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for m in list where !LearningCurve.models.contains(m) {
            throw ValidationError("--models: unknown model \"\(m)\" (expected \(LearningCurve.models.joined(separator: ", ")))")
        }
        if Set(list).count != list.count { throw ValidationError("--models names a model twice: \(models)") }
        return list
    }
}

/// `train-dmd learning-curve`: test error against the number of training samples.
public enum LearningCurveStage {
    public static func run(_ options: LearningCurveOptions) throws {
        let curveFiles = DataLayout(options.stage.dataURL).learningCurve
        if options.replot {
            try plot(try LearningCurve.read(curveFiles.csv), beside: curveFiles.csv)
            return
        }
        let config = try options.stage.loadConfig()
        let sizes = try options.sizeList()
        let models = try options.modelList()
        let lock = try options.stage.lockOutput(curveFiles.folder)
        defer { lock.release() }
        try Provenance.verify(Provenance.chain(DataLayout(options.stage.dataURL)), root: options.stage.dataURL)
        var record = StageRecord(stage: "train-dmd learning-curve", config: config, seed: config.surrogate.validationSeed)
        let curve = try LearningCurve.run(config: config, dataDirectory: options.stage.dataURL, models: models, sizes: sizes,
                                          paperEpochs: options.paperEpochs, threads: options.threads, notice: note)
        let url = curveFiles.csv
        try AtomicFile.write(curve.csv(), to: url)
        record.output(url)
        record.detail("points", curve.json)
        try record.finish(manifestAt: curveFiles.manifest)
        note("train-dmd learning-curve: \(curve.points.count) fits → \(url.path)")
        try plot(curve, beside: url)
    }

    /// The figure beside the CSV (the report draws it too, when `evaluate` runs).
    static func plot(_ curve: LearningCurve, beside csv: URL) throws {
        let svg = csv.deletingPathExtension().appendingPathExtension("svg")
        try AtomicFile.write(try curve.figure().svg(), to: svg)
        try PNGConverter.convert(svg: svg, to: svg.deletingPathExtension().appendingPathExtension("png"))
        note("train-dmd learning-curve: figure → \(svg.path)")
    }
}
