import Foundation
import ArgumentParser
import NumericalFoundations
import Pipeline

/// `evaluate`: metrics, figures and the report comparing the plain and the DMD-accelerated trainings.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Metrics, figures and a report comparing the trained surrogates (plain and DMD-accelerated).",
        discussion: """
        Reads DATA/samples, DATA/fem, DATA/models/{plain,dmd} (and DATA/sweep if `train-dmd sweep` ran) and writes
        DATA/report/: metrics.json, report.md, report.html (figures inline), figures/*.svg (and .png when
        rsvg-convert is installed), manifest.json.
        """)

    @OptionGroup var options: StageOptions

    @Option(help: ArgumentHelp("Model folders under DATA/models to compare, comma-separated (the first is the reference; default plain,dmd). "
                               + "Each named model must exist; of the default pair, a missing one is stated in the report.", valueName: "names"))
    var models: String?

    func run() throws {
        let config = try options.loadConfig()
        let report = DataLayout(options.dataURL).report
        let folder = report.folder
        let lock = try options.lockOutput(folder)
        defer { lock.release() }
        var record = StageRecord(stage: "evaluate", config: config, seed: nil)
        let selection: (names: [String], missing: [String])
        do { selection = try EvaluationInputs.selectModels(models, data: options.dataURL) } catch let e as StageError {
            throw StageError("evaluate: \(e.description)")
        }
        for name in selection.missing where selection.missing.count < selection.names.count {
            note("evaluate: warning: \(options.dataDir)/models/\(name) holds no trained model; the report says so and covers the others")
        }
        let inputs = try EvaluationInputs.load(data: options.dataURL, modelNames: selection.names)
        for f in inputs.files { try record.input(f) }
        let out = try EvaluationReport.write(inputs: inputs, config: config, configPath: options.config, dataPath: options.dataDir,
                                             to: folder, threads: config.training.threads)
        for f in [out.report.markdown, out.report.html, report.metrics] + out.report.svgFiles + out.report.pngFiles {
            record.output(f)
        }
        record.detail("png_written", .bool(out.report.pngConverterRan))
        record.detail("models", .array(inputs.models.map { .string($0.name) }))
        try record.finish(manifestAt: report.manifest)
        note("evaluate: report at \(out.report.markdown.path) and \(out.report.html.path)"
             + (out.report.pngConverterRan ? "" : " (SVG figures only: rsvg-convert not installed)"))
    }
}

Evaluate.stageMain()
