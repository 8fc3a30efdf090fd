import Foundation
import ArgumentParser
import NumericalFoundations
import PDE
import Surrogates
import Reporting

/// The command line of `train-dmd compare`.
public struct CompareOptions: ParsableArguments {
    @OptionGroup public var stage: StageOptions

    @Option(parsing: .unconditional, help: "Cores for OpenBLAS.")
    public var threads: Int = 2

    public init() {}

    public func validate() throws { if threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") } }
}

/// `train-dmd compare`: the surrogates table of the report, printed as Markdown, without the rest of
/// `evaluate` (which needs the paper's two runs); also writes comparison.json and the diagnosis figure.
public enum CompareStage {
    public static func run(_ options: CompareOptions) throws {
        let config = try options.stage.loadConfig()
        let layout = DataLayout(options.stage.dataURL)
        // comparison.json and the figure go to DATA/models itself (its own lock, not the models').
        let lock = try options.stage.lockOutput(layout.models.folder)
        defer { lock.release() }
        // The data, and each model to be scored, must come from the files now in the data folder.
        let fitted = ((try? FileManager.default.contentsOfDirectory(atPath: layout.models.folder.path)) ?? []).sorted()
            .filter { FileManager.default.fileExists(atPath: layout.models.model($0).folder.appendingPathComponent(DataLayout.manifestFile).path) }
        try Provenance.verify(Provenance.chain(layout, models: fitted), root: options.stage.dataURL)
        let scaler = try InputScaler(ranges: config.sampling.ranges)
        let data = try SurrogateDataset.load(layout: layout, inputScaler: scaler, parameterNames: PollutantParameters.names)
        let params = NDArray(shape: [data.sampleCount, data.parameterWidth], values: data.parameters)
        let c3 = NDArray(shape: [data.sampleCount, data.observationWidth], values: data.observations)
        let rows = try SurrogateComparison.rows(dataDirectory: options.stage.dataURL, params: params, c3: c3, trainRows: data.trainIndices,
                                                testRows: data.testIndices, box: config.sampling.ranges, wind: config.wind, threads: options.threads)
        guard !rows.isEmpty else { throw StageError("\(options.stage.dataDir)/models holds no model to compare (train-dmd train / fit)") }
        printTable(rows)
        let url = layout.models.comparison
        try AtomicFile.write(SurrogateComparison.json(rows).jsonText(), to: url)
        // The diagnosis figure of the report: where (in the box, in ‖c3‖) each model fails.
        let figure = SurrogateComparison.diagnosisFigure(rows, params: params, c3: c3, testRows: data.testIndices, names: PollutantParameters.names)
        let svg = url.deletingLastPathComponent().appendingPathComponent("surrogate-errors.svg")
        try AtomicFile.write(try figure.svg(), to: svg)
        try PNGConverter.convert(svg: svg, to: svg.deletingPathExtension().appendingPathExtension("png"))
        note("train-dmd compare: \(rows.count) models → \(url.path), figure \(svg.path)")
    }

    /// The table on stdout, one row per model; "—" where a model has no such figure.
    static func printTable(_ rows: [SurrogateComparison.Row]) {
        print("| model | kind | parameters | training (s) | validation median | test median | test p95 | test max | test MSE (scaled) | test MSE (c3²) | predict 1000 (s) | ±2σ coverage |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        func f(_ x: Double?, _ digits: Int = 3) -> String { x.map { String(format: "%.\(digits)g", $0) } ?? "—" }
        for r in rows {
            print("| \(r.name) | \(r.kind) | \(r.parameters) | \(f(r.trainingSeconds, 4)) | \(f(r.validationMedian)) | \(f(r.test.median)) | \(f(r.test.percentile95)) | \(f(r.test.maximum)) | \(f(r.testMSEScaled)) | \(f(r.testMSEPhysical)) | \(f(r.predictionSecondsPer1000)) | \(f(r.coverage2Sigma)) |")
        }
    }
}
