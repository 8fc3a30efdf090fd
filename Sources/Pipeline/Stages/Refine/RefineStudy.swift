import Foundation
import NumericalFoundations
import PDE
import Surrogates
import Reporting

/// `train-dmd refine-study`: test error against the number of FEM training solves, for nested LHS
/// subsets of the training split against adaptive sampling (`RefineLoop`), for the chosen models and
/// seeds, on the fixed LHS test split. Both curves of a seed start from the same initial subset and are
/// scored at the same solve counts (the adaptive schedule: initial, initial + K, …, budget).
///
/// DATA/refine/study/LABEL/adaptive/seed_S/ is a refine run; DATA/refine/study/LABEL/lhs/seed_S/
/// n_NNNNNN.json one LHS point (scores and fit seconds). Each is written once and skipped by a rerun,
/// so the study resumes. A label names a configuration (e.g. one with a derivative term on through
/// `--set`): the CSVs and the figure gather every label found.
public enum RefineStudy {
    public enum Method: String, Sendable, CaseIterable { case lhs, adaptive }

    /// One point of a curve.
    public struct Point: Equatable, Sendable {
        public var label: String
        public var method: String
        public var model: String
        public var seed: UInt64
        public var solves: Int
        public var score: RefineScore
        /// Wall seconds of this point: the model's fit, plus (adaptive) the round's FEM solves and acquisition.
        public var seconds: Double
        /// `RefineLoop.configurationDigest` of the configuration it was made under (nil: not recorded).
        public var configurationSHA256: String? = nil
        /// Where it was made: nil here, else the table it was imported from.
        public var importedFrom: String? = nil
        /// A POD-GP point's hyper-parameters (nil: another model, an imported point, or not recorded).
        public var podGP: FittedHyperparameters? = nil
        /// Its per-test-sample errors (nil: an imported point, or one made before they were kept).
        public var testErrors: URL? = nil
    }

    struct LHSPoint: Codable {
        var solves: Int
        var scores: [RefineScore]
        var fitSeconds: [String: Double]
        /// `RefineLoop.configurationDigest` of the configuration it was fitted under (nil: not recorded, refused by a rerun).
        var configurationSHA256: String?
        /// `RefineSettings.hyperparameters` it was fitted under (nil: every round).
        var hyperparameters: RefineHyperparameters? = nil
        /// `RefineSettings.conditioning` it was scored under (nil: the fitting rows).
        var conditioning: RefineConditioning? = nil
        /// The POD-GP's hyper-parameters (nil: no POD-GP, or a file written before they were recorded).
        var podGP: FittedHyperparameters? = nil
    }

    /// An LHS point's per-test-sample errors for `model` (written before its n_NNNNNN.json, which marks the point done).
    static func lhsTestErrors(_ folder: URL, solves n: Int, model: String) -> URL {
        folder.appendingPathComponent(String(format: "n_%06d_", n) + DataLayout.RefineRun.testErrorsFile(model))
    }

    static func labelFolder(_ layout: DataLayout, _ label: String) -> URL { layout.refine.study.appendingPathComponent(label, isDirectory: true) }
    static func seedFolder(_ layout: DataLayout, _ label: String, _ method: Method, _ seed: UInt64) -> URL {
        labelFolder(layout, label).appendingPathComponent(method.rawValue, isDirectory: true).appendingPathComponent("seed_\(seed)", isDirectory: true)
    }

    public static func run(_ options: RefineStudyOptions) throws {
        let layout = DataLayout(options.stage.dataURL)
        let lock = try options.stage.lockOutput(layout.refine.study)
        defer { lock.release() }
        if !options.replot {
            let config = try options.stage.loadConfig()
            try Provenance.verify(Provenance.chain(layout), root: options.stage.dataURL)
            for seed in try options.seedList() {
                let settings = try options.design.settings(seed: seed)
                for method in try options.methodList() {
                    let started = monotonicSeconds()
                    switch method {
                    case .adaptive:
                        let run = DataLayout.RefineRun(folder: seedFolder(layout, options.label, .adaptive, seed))
                        _ = try RefineStage.runStoppable(config: config, data: options.stage.dataURL, run: run, settings: settings, threads: options.design.threads)
                    case .lhs:
                        try runLHS(config: config, layout: layout, label: options.label, settings: settings, threads: options.design.threads)
                    }
                    note(String(format: "train-dmd refine-study: %@ %@ seed %llu done in %.0f s (this session)", options.label, method.rawValue, seed,
                                monotonicSeconds() - started))
                }
            }
        }
        for table in options.importTables {
            try importTable(URL(fileURLWithPath: table), layout: layout)
        }
        try writeTables(layout: layout, configFile: options.stage.config)
    }

    /// The LHS curve of one seed: each model refitted on the first n of the seed's nested order, n on the adaptive schedule.
    static func runLHS(config: PipelineConfig, layout: DataLayout, label: String, settings: RefineSettings, threads: Int) throws {
        let inputScaler = try InputScaler(ranges: config.sampling.ranges)
        let base = try SurrogateDataset.load(layout: layout, inputScaler: inputScaler, parameterNames: PollutantParameters.names)
        try settings.validate(trainingSamples: base.trainIndices.count)
        let folder = seedFolder(layout, label, .lhs, settings.seed)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let order = LearningCurve.nestedOrder(base.trainIndices, seed: settings.seed)
        let digest = RefineLoop.configurationDigest(config)
        let allSizes = (0..<RefineLoop.roundCount(settings)).map { settings.initialSize + (0..<$0).map { RefineLoop.batchSize(round: $0 + 1, settings) }.reduce(0, +) }
        // The LHS training split holds only so many solved samples (the rest had no wind): the curve stops there.
        let sizes = allSizes.filter { $0 <= base.trainIndices.count }
        if sizes.count < allSizes.count {
            note("refine-study: the LHS curve stops at \(sizes.last ?? 0) solves: the training split has \(base.trainIndices.count) solved samples")
        }
        let progress = ProgressReporter("refine-study lhs seed \(settings.seed) points", total: sizes.count)
        for n in sizes {
            let url = folder.appendingPathComponent(String(format: "n_%06d.json", n))
            if let data = try? Data(contentsOf: url) {
                guard let done = try? JSONDecoder().decode(LHSPoint.self, from: data) else {
                    throw StageError("refine-study: \(url.path) is damaged: delete it and rerun")
                }
                guard done.configurationSHA256 == digest, done.hyperparameters == settings.hyperparameters, done.conditioning == settings.conditioning else {
                    throw StageError("refine-study: \(url.path) was fitted under another configuration, hyper-parameter or conditioning policy: use another --label or delete \(folder.path)")
                }
                progress.advance()
                continue
            }
            let rows = Array(order.prefix(n)).sorted()
            let prepared = try SurrogateFitStage.prepare(config: config, dataset: base, inputScaler: inputScaler, trainingRows: rows,
                                                         sensitivities: layout.fem.sensitivities)
            var point = LHSPoint(solves: n, scores: [], fitSeconds: [:], configurationSHA256: digest, hyperparameters: settings.hyperparameters,
                                 conditioning: settings.conditioning)
            // Held: the initial design's values, as the adaptive run of the seed holds its own (the same initial rows, the same values).
            let heldURL = folder.appendingPathComponent(RefineHyperparameters.file)
            let holds = settings.hyperparameterPolicy == .initialDesign
            let held = holds && n > settings.initialSize ? try RefineHyperparameters.read(from: heldURL) : nil
            for name in settings.models {
                guard let kind = SurrogateSettings.Model(rawValue: name) else { throw StageError("refine-study: unknown model \"\(name)\"") }
                let fitted = try SurrogateFitStage.fit(kind, prepared: prepared, config: config, threads: threads, heldHyperparameters: held)
                if holds, n == settings.initialSize, let values = SurrogateFitStage.modeHyperparameters(of: fitted.surrogate) {
                    try RefineHyperparameters.write(values, to: heldURL)
                }
                // As the adaptive run scores it (`RefineLoop.fitAndScore`).
                var scored = fitted.surrogate
                if kind == .podGP, settings.conditioningPolicy == .everySolve, let rom = fitted.surrogate as? ReducedOrderSurrogate {
                    scored = try RefineLoop.conditionedOnEverySolve(rom, prepared: prepared, config: config, threads: threads, scoring: true).surrogate
                }
                let test = try SurrogateFitStage.relativeErrors(scored, rows: base.testIndices, dataset: base, threads: threads).errors
                let validation = try SurrogateFitStage.relativeErrors(fitted.surrogate, rows: prepared.validationRows, dataset: base, threads: threads).errors
                point.scores.append(RefineScore(model: name, testMedian: test.median ?? .nan, testP95: test.percentile95 ?? .nan,
                                                validationMedian: validation.median ?? .nan, validationP95: validation.percentile95 ?? .nan))
                point.fitSeconds[name] = fitted.seconds
                let errorsURL = lhsTestErrors(folder, solves: n, model: name)
                try Npy.write(test.perSample.map { $0 ?? .nan }, shape: [test.perSample.count], to: errorsURL)
                if kind == .podGP { point.podGP = FittedHyperparameters(fitted.surrogate) }
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            try AtomicFile.write(try encoder.encode(point), to: url)
            progress.advance(detail: point.scores.map { String(format: "%@ n=%d: %.4f / %.4f", $0.model, n, $0.testMedian, $0.testP95) }.joined(separator: ", "))
        }
    }
}
