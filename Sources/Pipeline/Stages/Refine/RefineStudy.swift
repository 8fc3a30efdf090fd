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
    /// How a curve's designs grow. `oracle` is a reference, not a method a user could run: each batch is
    /// the training-split samples (already solved) on which the current model's error is largest, so it
    /// needs the answers it chooses among (`runOracle`).
    public enum Method: String, Sendable, CaseIterable { case lhs, adaptive, oracle }

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
        /// `oracle`: the dataset rows of this design, and those its errors chose for the next one (nil: LHS,
        /// whose rows are the nested order's first `solves`; or the curve's last point).
        var rows: [Int]? = nil
        var chosenNext: [Int]? = nil
        /// `oracle`: the share of each batch chosen by the error (nil: all of it), the rest by the nested LHS order.
        var oracleShare: Double? = nil
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
        if !options.replot || options.importLedger != nil {
            try Provenance.verify(Provenance.chain(layout), root: options.stage.dataURL)
        }
        if let ledger = options.importLedger { try importLedger(from: URL(fileURLWithPath: ledger), layout: layout) }
        if !options.replot {
            let config = try options.stage.loadConfig()
            let swapSizes = try options.swapSizes()
            for seed in try options.seedList() where !swapSizes.isEmpty {
                let settings = try options.design.settings(seed: seed)
                try runSwap(config: config, layout: layout, label: options.label, settings: settings, threads: options.design.threads,
                            sizes: swapSizes, methods: try options.methodList())
            }
            // With --export-ledger the ledger follows each finished point and round, so a machine that goes away loses at most one.
            let saved = { () throws -> Void in if let ledger = options.exportLedger { try exportLedger(to: URL(fileURLWithPath: ledger), layout: layout) } }
            for seed in try options.seedList() where swapSizes.isEmpty {
                let settings = try options.design.settings(seed: seed)
                for method in try options.methodList() {
                    let started = monotonicSeconds()
                    switch method {
                    case .adaptive:
                        let run = DataLayout.RefineRun(folder: seedFolder(layout, options.label, .adaptive, seed))
                        _ = try RefineStage.runStoppable(config: config, data: options.stage.dataURL, run: run, settings: settings, threads: options.design.threads,
                                                         roundFinished: saved)
                    case .lhs:
                        try runLHS(config: config, layout: layout, label: options.label, settings: settings, threads: options.design.threads, saved: saved)
                    case .oracle:
                        try runOracle(config: config, layout: layout, label: options.label, settings: settings, threads: options.design.threads,
                                      share: options.oracleShare, saved: saved)
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
        if let ledger = options.exportLedger { try exportLedger(to: URL(fileURLWithPath: ledger), layout: layout) }
    }

    /// What a curve of point files (LHS, oracle) needs for each of its points.
    struct PointContext {
        let config: PipelineConfig
        let layout: DataLayout
        let base: SurrogateDataset
        let inputScaler: InputScaler
        let settings: RefineSettings
        let threads: Int
        let folder: URL
        let digest: String
        /// The nested order of the seed (the LHS design's first n are its first n; every curve starts from its first `initialSize`).
        let order: [Int]
        /// The curve's solve counts: the adaptive schedule, cut where the training split's solved samples end.
        let sizes: [Int]

        init(config: PipelineConfig, layout: DataLayout, label: String, method: Method, settings: RefineSettings, threads: Int) throws {
            self.config = config; self.layout = layout; self.settings = settings; self.threads = threads
            inputScaler = try InputScaler(ranges: config.sampling.ranges)
            base = try SurrogateDataset.load(layout: layout, inputScaler: inputScaler, parameterNames: PollutantParameters.names)
            try settings.validate(trainingSamples: base.trainIndices.count)
            folder = seedFolder(layout, label, method, settings.seed)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            order = LearningCurve.nestedOrder(base.trainIndices, seed: settings.seed)
            digest = RefineLoop.configurationDigest(config)
            let allSizes = (0..<RefineLoop.roundCount(settings)).map { settings.initialSize + (0..<$0).map { RefineLoop.batchSize(round: $0 + 1, settings) }.reduce(0, +) }
            // The LHS training split holds only so many solved samples (the rest had no wind): the curve stops there.
            let solved = base.trainIndices.count
            let kept = allSizes.filter { $0 <= solved }
            sizes = kept
            if kept.count < allSizes.count {
                note("refine-study: the \(method.rawValue) curve stops at \(kept.last ?? 0) solves: the training split has \(solved) solved samples")
            }
        }

        func pointURL(_ n: Int) -> URL { folder.appendingPathComponent(String(format: "n_%06d.json", n)) }

        /// The finished point of `n` solves, nil when not made yet; one of another configuration or policy is refused.
        func finishedPoint(_ n: Int) throws -> LHSPoint? {
            let url = pointURL(n)
            guard let data = try? Data(contentsOf: url) else { return nil }
            guard let done = try? JSONDecoder().decode(LHSPoint.self, from: data) else {
                throw StageError("refine-study: \(url.path) is damaged: delete it and rerun")
            }
            guard done.configurationSHA256 == digest, done.hyperparameters == settings.hyperparameters, done.conditioning == settings.conditioning else {
                throw StageError("refine-study: \(url.path) was fitted under another configuration, hyper-parameter or conditioning policy: use another --label or delete \(folder.path)")
            }
            return done
        }

        /// Fits every model on the dataset rows `rows`, scores it as the adaptive run scores its rounds
        /// (`RefineLoop.fitAndScore`) and writes each model's per-test-sample errors (to `testErrors(model)`,
        /// by default the point's own file); returns the point (not yet written) and the scored models by
        /// name. `held`: POD-GP conditioned with these values instead of the curve's policy (the swap).
        func fitPoint(rows: [Int], held override: [GaussianProcessHyperparameters]? = nil,
                      testErrors: ((String) -> URL)? = nil) throws -> (point: LHSPoint, scored: [String: FieldSurrogate]) {
            let n = rows.count
            let prepared = try SurrogateFitStage.prepare(config: config, dataset: base, inputScaler: inputScaler, trainingRows: rows,
                                                         sensitivities: layout.fem.sensitivities)
            var point = LHSPoint(solves: n, scores: [], fitSeconds: [:], configurationSHA256: digest, hyperparameters: settings.hyperparameters,
                                 conditioning: settings.conditioning)
            var models: [String: FieldSurrogate] = [:]
            // Held: the initial design's values, as the adaptive run of the seed holds its own (the same initial rows, the same values).
            let heldURL = folder.appendingPathComponent(RefineHyperparameters.file)
            let holds = settings.hyperparameterPolicy == .initialDesign
            let held = try override ?? (holds && n > settings.initialSize ? RefineHyperparameters.read(from: heldURL) : nil)
            for name in settings.models {
                guard let kind = SurrogateSettings.Model(rawValue: name) else { throw StageError("refine-study: unknown model \"\(name)\"") }
                let fitted = try SurrogateFitStage.fit(kind, prepared: prepared, config: config, threads: threads, heldHyperparameters: held)
                if override == nil, holds, n == settings.initialSize, let values = SurrogateFitStage.modeHyperparameters(of: fitted.surrogate) {
                    try RefineHyperparameters.write(values, to: heldURL)
                }
                var scored = fitted.surrogate
                if kind == .podGP, settings.conditioningPolicy == .everySolve, let rom = fitted.surrogate as? ReducedOrderSurrogate {
                    scored = try RefineLoop.conditionedOnEverySolve(rom, prepared: prepared, config: config, threads: threads, scoring: true).surrogate
                }
                let test = try SurrogateFitStage.relativeErrors(scored, rows: base.testIndices, dataset: base, threads: threads).errors
                let validation = try SurrogateFitStage.relativeErrors(fitted.surrogate, rows: prepared.validationRows, dataset: base, threads: threads).errors
                point.scores.append(RefineScore(model: name, testMedian: test.median ?? .nan, testP95: test.percentile95 ?? .nan,
                                                validationMedian: validation.median ?? .nan, validationP95: validation.percentile95 ?? .nan))
                point.fitSeconds[name] = fitted.seconds
                try Npy.write(test.perSample.map { $0 ?? .nan }, shape: [test.perSample.count], to: testErrors?(name) ?? lhsTestErrors(folder, solves: n, model: name))
                if kind == .podGP { point.podGP = FittedHyperparameters(fitted.surrogate) }
                models[name] = scored
            }
            return (point, models)
        }

        func write(_ point: LHSPoint) throws {
            try AtomicFile.writeJSON(point, to: pointURL(point.solves))
        }
    }

    /// The LHS curve of one seed: each model refitted on the first n of the seed's nested order, n on the adaptive schedule.
    static func runLHS(config: PipelineConfig, layout: DataLayout, label: String, settings: RefineSettings, threads: Int,
                       saved: () throws -> Void = {}) throws {
        let context = try PointContext(config: config, layout: layout, label: label, method: .lhs, settings: settings, threads: threads)
        let progress = ProgressReporter("refine-study lhs seed \(settings.seed) points", total: context.sizes.count)
        for n in context.sizes {
            if try context.finishedPoint(n) != nil { progress.advance(); continue }
            let point = try context.fitPoint(rows: Array(context.order.prefix(n)).sorted()).point
            try context.write(point)
            try saved()
            progress.advance(detail: point.scores.map { String(format: "%@ n=%d: %.4f / %.4f", $0.model, n, $0.testMedian, $0.testP95) }.joined(separator: ", "))
        }
    }
}
