import Foundation
import ArgumentParser
import NumericalFoundations

/// The command line of `evaluate`: the stage options and the models to compare.
public struct EvaluateOptions: ParsableArguments {
    public static let discussion = """
        Reads DATA/samples, DATA/fem, DATA/models/{plain,dmd} (and DATA/sweep if `train-dmd sweep` ran) and writes
        DATA/report/: metrics.json, report.md, report.html (figures inline), figures/*.svg (and .png when
        rsvg-convert is installed), manifest.json.
        """

    @OptionGroup public var stage: StageOptions

    @Option(help: ArgumentHelp("Model folders under DATA/models to compare, comma-separated (the first is the reference; default plain,dmd). "
                               + "Each named model must exist; of the default pair, a missing one is stated in the report.", valueName: "names"))
    public var models: String?

    public init() {}
}

/// `evaluate`: metrics, figures and the report comparing the trained surrogates (`EvaluationReport`).
public enum EvaluateStage {
    public static func run(_ options: EvaluateOptions) throws {
        let stage = options.stage
        let config = try stage.loadConfig()
        let report = DataLayout(stage.dataURL).report
        let lock = try stage.lockOutput(report.folder)
        defer { lock.release() }
        var record = StageRecord(stage: "evaluate", config: config, seed: nil)
        let (names, missing) = try selectModels(options)
        // A missing model of the default pair is stated in the report; every present one is checked.
        try Provenance.verify(Provenance.chain(DataLayout(stage.dataURL), models: names.filter { !missing.contains($0) }), root: stage.dataURL)
        let inputs = try EvaluationInputs.load(data: stage.dataURL, modelNames: names)
        for f in inputs.files { try record.input(f) }
        let out = try EvaluationReport.write(inputs: inputs, config: config, configPath: stage.config, dataPath: stage.dataDir,
                                             to: report.folder, threads: config.training.threads)
        for f in [out.report.markdown, out.report.html, report.metrics] + out.report.svgFiles + out.report.pngFiles {
            record.output(f)
        }
        record.detail("png_written", .bool(out.report.pngConverterRan))
        record.detail("models", .array(inputs.models.map { .string($0.name) }))
        try record.finish(manifestAt: report.manifest)
        note("evaluate: report at \(out.report.markdown.path) and \(out.report.html.path)"
             + (out.report.pngConverterRan ? "" : " (SVG figures only: rsvg-convert not installed)"))
    }

    /// The models to compare; a missing one of the default pair is a warning (the report covers the
    /// other) unless none is there.
    static func selectModels(_ options: EvaluateOptions) throws -> (names: [String], missing: [String]) {
        let selection: (names: [String], missing: [String])
        do { selection = try EvaluationInputs.selectModels(options.models, data: options.stage.dataURL) } catch let e as StageError {
            throw StageError("evaluate: \(e.description)")
        }
        for name in selection.missing where selection.missing.count < selection.names.count {
            note("evaluate: warning: \(options.stage.dataDir)/models/\(name) holds no trained model; the report says so and covers the others")
        }
        return selection
    }
}
