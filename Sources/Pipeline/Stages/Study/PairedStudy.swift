import Foundation
import NumericalFoundations
import Surrogates
import Uncertainty

/// `train-dmd verdict`: the acceleration study under a protocol a reviewer accepts (docs/dmd-training.md,
/// "The paired study").
///
/// 1. Tuning (`tune`): every configuration of the `adam` and `schedule_free` grids (`VerdictGrids`),
///    then of the `dmd` grid on the chosen Adam configuration, trains all E epochs on each tuning
///    seed; a family's configuration is the one with the lowest median over the tuning seeds of
///    its best 10-epoch moving average of the validation MSE.
/// 2. Cost (`measureCost`): each evaluated method's CPU seconds per epoch, in one process,
///    methods interleaved, repeated (`EpochCostBenchmark`).
/// 3. Evaluation (`evaluate`): the chosen configurations and the untuned accelerators on the
///    evaluation seeds (disjoint from the tuning seeds). The Adam choice (the baseline) runs all
///    E epochs; its median-seed best moving average is the target T, and the levels are T × {1, 1.1, 1.5, 2}.
///    Every other run stops when its moving average reaches T. Per seed and level: epochs and
///    gradient evaluations to the level, and the clock-free time epochs × cost per epoch; speed-ups
///    are per-seed ratios to the baseline on the same seed, with a paired bootstrap interval of the median.
///
/// A seed fixes the initial weights, the batch order and the validation split of every method alike
/// (`PairedRunSettings`). Resumable run by run, as the first study; partial tables are written as runs finish.
public enum PairedStudy {
    public static let tuningFolder = "tuning", evaluationFolder = "evaluation", runsFolder = "runs"
    public static let choiceFile = "choice.json", tuningTable = "tuning.csv", costFile = "cost.json", transferFile = "transfer.json"

    /// Runs the given runs; calls `finished` after each one ends (for the partial tables).
    public typealias Executor = (_ runs: [(spec: AccelerationRunSpec, folder: URL)], _ finished: @escaping () -> Void) throws -> Void

    public struct Settings: Codable, Equatable, Sendable {
        public var epochs: Int
        public var evaluationSeeds: [Int]
        public var tuningSeeds: [Int]
        /// Configurations per family at most (seeded random search when a grid is larger); nil = full grids.
        public var budget: Int?
        public var gridSeed: UInt64
        public var window: Int
        /// Multiples of T.
        public var levels: [Double]
        public var resamples: Int
        public var bootstrapSeed: UInt64
        public var costRepetitions: Int
        public var costBlockEpochs: Int
        /// The evaluated methods by role (`Choice.roles`; the baseline "adam" always); nil = all.
        public var methods: [String]?

        public init(epochs: Int, evaluationSeeds: [Int], tuningSeeds: [Int], budget: Int? = nil, gridSeed: UInt64 = 1, window: Int = 10,
                    levels: [Double] = [1, 1.1, 1.5, 2], resamples: Int = 10000, bootstrapSeed: UInt64 = 1, costRepetitions: Int = 5,
                    costBlockEpochs: Int = 14, methods: [String]? = nil) {
            self.epochs = epochs; self.evaluationSeeds = evaluationSeeds; self.tuningSeeds = tuningSeeds; self.budget = budget
            self.gridSeed = gridSeed; self.window = window; self.levels = levels; self.resamples = resamples
            self.bootstrapSeed = bootstrapSeed; self.costRepetitions = costRepetitions; self.costBlockEpochs = costBlockEpochs
            self.methods = methods
        }

        public func validate() throws {
            guard epochs > window else { throw StudyError("--epochs (\(epochs)) must exceed the moving-average window (\(window))") }
            guard window >= 1 else { throw StudyError("the moving-average window must be at least 1, got \(window)") }
            guard !evaluationSeeds.isEmpty, !tuningSeeds.isEmpty else { throw StudyError("the study needs at least one evaluation and one tuning seed") }
            let shared = Set(evaluationSeeds).intersection(tuningSeeds)
            guard shared.isEmpty else { throw StudyError("tuning and evaluation seeds must be disjoint; both hold \(shared.sorted())") }
            guard let low = levels.min(), low >= 1, levels.allSatisfy(\.isFinite) else { throw StudyError("the target levels must be finite multiples ≥ 1 of T, got \(levels)") }
            if let budget, budget < 1 { throw StudyError("--budget must be at least 1, got \(budget)") }
            guard resamples >= 100 else { throw StudyError("--resamples must be at least 100, got \(resamples)") }
            guard costRepetitions >= 1, costBlockEpochs >= 1 else { throw StudyError("the cost benchmark needs ≥ 1 repetition of ≥ 1 epoch") }
            if let methods {
                guard !methods.isEmpty else { throw StudyError("--methods lists no method (expected some of \(Choice.roles.joined(separator: ", ")))") }
                for m in methods where !Choice.roles.contains(m) {
                    throw StudyError("--methods: unknown method '\(m)' (expected some of \(Choice.roles.joined(separator: ", ")))")
                }
                guard Set(methods).count == methods.count else { throw StudyError("--methods lists a method twice: \(methods.joined(separator: ","))") }
            }
        }
    }

    /// The configuration chosen per family, with each tuned configuration's score.
    public struct Choice: Codable, Equatable, Sendable {
        public var adam: AccelerationMethod
        public var scheduleFree: AccelerationMethod
        public var dmd: AccelerationMethod
        /// Method name → median over the tuning seeds of its best moving average (+∞: missing or diverged).
        public var scores: [String: Double]

        /// The evaluated methods: the baseline first.
        public var evaluated: [AccelerationMethod] { [adam, scheduleFree, dmd] + VerdictGrids.fixedAccelerators(on: adam) }

        /// The role of each of `evaluated`, in its order (the names `--methods` takes).
        public static let roles = ["adam", "schedule_free", "dmd", "lookahead", "rre", "mpe", "anderson", "adam_lbfgs"]

        /// The evaluated methods of the given roles (nil: all), the baseline first and always.
        public func evaluated(roles selected: [String]?) -> [AccelerationMethod] {
            guard let selected else { return evaluated }
            return zip(Self.roles, evaluated).filter { $0.0 == "adam" || selected.contains($0.0) }.map(\.1)
        }
    }

    /// A choice made by another study's tuning on other data, evaluated on this study's data (the
    /// reduced protocol for a dataset where tuning every family is out of reach). The configurations
    /// only are transferred, so the recipe, the validation protocol and the epochs (the schedules span
    /// them) must be those of the tuning; the data and the OpenBLAS kernel may differ.
    public struct Transfer: Codable, Equatable, Sendable {
        /// The tuning folder the choice came from, as given.
        public var source: String
        /// Its setup (its data's SHA-256s among them).
        public var sourceSetup: AccelerationStudy.Setup

        /// Why `sourceSetup` cannot serve a study of `current`, or nil.
        func mismatch(_ current: AccelerationStudy.Setup) -> String? {
            if sourceSetup.epochs != current.epochs { return "epochs (the tuning's \(sourceSetup.epochs), here \(current.epochs))" }
            if sourceSetup.tuned != current.tuned { return "the tuned recipe ([surrogate] keys)" }
            if sourceSetup.validation != current.validation { return "the validation protocol (\(sourceSetup.validation); here \(current.validation))" }
            return nil
        }
    }

    /// Takes the choice of the finished tuning in `source` (another study's tuning folder) as this
    /// study's: writes tuning/choice.json and tuning/transfer.json under `root`. Refused when the
    /// tuning used other epochs, recipe or validation protocol, or when `root` already holds its own
    /// tuning or another transferred choice.
    @discardableResult
    public static func transferChoice(from source: URL, root: URL, setup current: AccelerationStudy.Setup) throws -> Choice {
        let setupURL = source.appendingPathComponent(AccelerationStudy.setupFile), choiceURL = source.appendingPathComponent(choiceFile)
        guard let setupData = try? Data(contentsOf: setupURL) else { throw StudyError("\(setupURL.path): missing; --tuning-from takes a finished tuning folder (OUT/tuning)") }
        guard let sourceSetup = try? JSONDecoder().decode(AccelerationStudy.Setup.self, from: setupData) else {
            throw StudyError("\(setupURL.path): not a study setup")
        }
        guard let choiceData = try? Data(contentsOf: choiceURL) else { throw StudyError("\(choiceURL.path): missing; the tuning has not finished") }
        let choice: Choice
        do { choice = try AccelerationRun.decodeJSON(Choice.self, from: choiceData) } catch { throw StudyError("\(choiceURL.path): not a tuning choice: \(error)") }
        let transfer = Transfer(source: source.path, sourceSetup: sourceSetup)
        if let why = transfer.mismatch(current) { throw StudyError("\(setupURL.path): the tuning was made with other \(why) than this study; its choice does not transfer") }
        let folder = root.appendingPathComponent(tuningFolder, isDirectory: true)
        let transferURL = folder.appendingPathComponent(transferFile), localChoice = folder.appendingPathComponent(choiceFile)
        if let data = try? Data(contentsOf: transferURL) {
            let old = try? JSONDecoder().decode(Transfer.self, from: data)
            let oldChoice = (try? Data(contentsOf: localChoice)).flatMap { try? AccelerationRun.decodeJSON(Choice.self, from: $0) }
            guard old?.sourceSetup == sourceSetup, oldChoice == choice else {
                throw StudyError("\(transferURL.path): this study already evaluates another transferred choice; use another --out")
            }
            return choice
        }
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent(AccelerationStudy.setupFile).path)
            || FileManager.default.fileExists(atPath: localChoice.path) {
            throw StudyError("\(folder.path): this study has its own tuning; a transferred choice needs another --out")
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try AtomicFile.write(try AccelerationRun.encodeJSON(choice), to: localChoice)
        try AtomicFile.write(try AccelerationRun.encodeJSON(transfer), to: transferURL)
        return choice
    }

    /// The transfer record of a study whose choice came from another tuning, or nil.
    public static func readTransfer(root: URL) throws -> Transfer? {
        let url = root.appendingPathComponent(tuningFolder).appendingPathComponent(transferFile)
        guard let data = try? Data(contentsOf: url) else { return nil }
        do { return try JSONDecoder().decode(Transfer.self, from: data) } catch { throw StudyError("\(url.path): not a transfer record: \(error)") }
    }

    /// A finished run.
    public struct FinishedRun: Sendable {
        public var spec: AccelerationRunSpec
        public var result: AccelerationRunResult
        public var history: [AccelerationEpoch]
    }

    static func folder(of spec: AccelerationRunSpec, in root: URL) -> URL {
        root.appendingPathComponent(runsFolder).appendingPathComponent(spec.folderName, isDirectory: true)
    }

    /// The finished runs among `specs` (those whose result matches their spec).
    static func finished(_ specs: [AccelerationRunSpec], in root: URL) -> [FinishedRun] {
        specs.compactMap { spec in
            let f = folder(of: spec, in: root)
            guard let result = AccelerationRun.finishedResult(in: f, spec: spec), let history = try? AccelerationRun.readHistory(f) else { return nil }
            return FinishedRun(spec: spec, result: result, history: history)
        }
    }

    /// Runs the specs neither finished nor `recorded` (imported from a ledger); returns the finished ones (a failed run is missing).
    static func runMissing(_ specs: [AccelerationRunSpec], in root: URL, recorded: Set<String> = [], executor: Executor, finished onEach: @escaping () -> Void,
                           notice: (String) -> Void, label: String) throws -> [FinishedRun] {
        let done = Set(finished(specs, in: root).map(\.spec.folderName)).union(recorded)
        let todo = specs.filter { !done.contains($0.folderName) }.map { ($0, folder(of: $0, in: root)) }
        let imported = specs.filter { recorded.contains($0.folderName) }.count
        notice("train-dmd verdict: \(label): \(specs.count - todo.count) of \(specs.count) runs already done\(imported > 0 ? " (\(imported) from the imported ledger)" : "")")
        try executor(todo, onEach)
        return finished(specs, in: root)
    }

    /// The tuning score of each configuration: the median over seeds of the best moving average (+∞ for a missing run).
    static func scores(_ records: [TuningLedger.Record], methods: [AccelerationMethod], seeds: [Int]) -> [String: Double] {
        var best: [String: Double] = [:]
        for r in records { best[r.key] = r.bestMovingAverage }
        var out: [String: Double] = [:]
        for m in methods {
            out[m.name] = Bootstrap.median(seeds.map { best["\(m.name)/seed_\($0)"] ?? .infinity })
        }
        return out
    }

    static func best(_ methods: [AccelerationMethod], scores: [String: Double]) throws -> AccelerationMethod {
        guard let m = methods.min(by: { (scores[$0.name] ?? .infinity) < (scores[$1.name] ?? .infinity) }), (scores[m.name] ?? .infinity).isFinite else {
            throw StudyError("no configuration of \(methods.first?.name ?? "an empty grid")'s family finished with a finite validation error")
        }
        return m
    }

    /// The records of `specs`: a run finished in `folder` gives its own, else the imported one.
    static func records(_ specs: [AccelerationRunSpec], in folder: URL, imported: [String: TuningLedger.Record], window: Int) -> [TuningLedger.Record] {
        var local: [String: TuningLedger.Record] = [:]
        for run in finished(specs, in: folder) { local[run.spec.folderName] = TuningLedger.record(of: run, window: window) }
        return specs.compactMap { local[$0.folderName] ?? imported[$0.folderName] }
    }

    /// Phase 1: the tuning, each family's grid then the edge rule (`VerdictGrids`: a choice at the edge
    /// of its step size tried beyond it). Writes tuning/choice.json and tuning/tuning.csv (with setup.json and
    /// ledger.json the folder is itself a ledger that another study folder can import). `ledger`: a
    /// folder of an earlier tuning under the same setup, whose runs are taken as done.
    @discardableResult
    public static func tune(config: PipelineConfig, dataDirectory: URL, root: URL, settings: Settings, executor: Executor, ledger: URL? = nil,
                            notice: @escaping (String) -> Void = { _ in }) throws -> Choice {
        try settings.validate()
        let folder = root.appendingPathComponent(tuningFolder, isDirectory: true)
        if try readTransfer(root: root) != nil {
            throw StudyError("\(folder.appendingPathComponent(transferFile).path): this study evaluates a transferred choice; tune into another --out")
        }
        let setup = try AccelerationStudy.setup(config: config, dataDirectory: dataDirectory, epochs: settings.epochs)
        let ledgerSettings = TuningLedger.Settings(window: settings.window, epochs: settings.epochs)
        try AccelerationStudy.claim(folder: folder, setup: setup)
        try AtomicFile.write(try AccelerationRun.encodeJSON(ledgerSettings), to: folder.appendingPathComponent(TuningLedger.settingsFile))
        var imported: [String: TuningLedger.Record] = [:]
        if let ledger {
            for r in try TuningLedger.importRecords(from: ledger, setup: setup, window: settings.window, epochs: settings.epochs) { imported[r.key] = r }
            notice("train-dmd verdict: \(imported.count) tuning runs in the ledger \(ledger.path)")
        }
        let lambda = try SurrogateFitStage.tunedOptions(config: config, threads: 1).weightDecay
        let adamGrid = VerdictGrids.subsample(VerdictGrids.adam(weightDecay: lambda), budget: settings.budget, seed: settings.gridSeed, family: .adam)
        let sfGrid = VerdictGrids.subsample(VerdictGrids.scheduleFree(weightDecay: lambda), budget: settings.budget, seed: settings.gridSeed, family: .scheduleFree)
        func specs(_ grid: [AccelerationMethod]) -> [AccelerationRunSpec] {
            grid.flatMap { m in settings.tuningSeeds.map { AccelerationRunSpec(method: m, seed: $0, epochs: settings.epochs, stopAtValidationMSE: nil,
                                                                                  paired: PairedRunSettings(window: settings.window)) } }
        }
        func writeTable(_ grid: [AccelerationMethod]) throws {
            try AtomicFile.write(TuningLedger.table(records(specs(grid), in: folder, imported: imported, window: settings.window)),
                                 to: folder.appendingPathComponent(tuningTable))
        }
        let recorded = Set(imported.keys)
        var tried = adamGrid + sfGrid
        _ = try runMissing(specs(tried), in: folder, recorded: recorded, executor: executor, finished: { [tried] in try? writeTable(tried) },
                           notice: notice, label: "tuning Adam/AdamW and schedule-free")
        var scores = scores(records(specs(tried), in: folder, imported: imported, window: settings.window),
                            methods: tried, seeds: settings.tuningSeeds)
        // The edge rule (`VerdictGrids.beyondEdge`): a choice at the edge of its step size is tried one step beyond it.
        func beyondTheEdge(_ chosen: AccelerationMethod, family: VerdictGrids.Family, base: AccelerationMethod? = nil) throws -> AccelerationMethod {
            var best = chosen, extended: [AccelerationMethod] = []
            while extended.count < VerdictGrids.edgeExtensions,
                  let next = VerdictGrids.beyondEdge(of: best, family: family, extended: extended, base: base) {
                extended.append(next)
                tried.append(next)
                _ = try runMissing(specs([next]), in: folder, recorded: recorded, executor: executor, finished: { [tried] in try? writeTable(tried) },
                                   notice: notice, label: "\(best.name) is at its grid's edge: \(next.name)")
                scores.merge(Self.scores(records(specs([next]), in: folder, imported: imported, window: settings.window),
                                         methods: [next], seeds: settings.tuningSeeds)) { $1 }
                guard let score = scores[next.name], score < (scores[best.name] ?? .infinity) else { break }
                best = next
            }
            return best
        }
        let adam = try beyondTheEdge(try best(adamGrid, scores: scores), family: .adam)
        let sf = try beyondTheEdge(try best(sfGrid, scores: scores), family: .scheduleFree)
        notice("train-dmd verdict: chosen \(adam.name) (score \(scores[adam.name]!)), \(sf.name) (score \(scores[sf.name]!))")
        let dmdGrid = VerdictGrids.subsample(VerdictGrids.dmd(on: adam), budget: settings.budget, seed: settings.gridSeed, family: .dmd)
        tried += dmdGrid
        _ = try runMissing(specs(dmdGrid), in: folder, recorded: recorded, executor: executor, finished: { [tried] in try? writeTable(tried) },
                           notice: notice, label: "tuning DMD on \(adam.name)")
        scores.merge(Self.scores(records(specs(dmdGrid), in: folder, imported: imported, window: settings.window),
                                 methods: dmdGrid, seeds: settings.tuningSeeds)) { $1 }
        let dmd = try beyondTheEdge(try best(dmdGrid, scores: scores), family: .dmd, base: adam)
        let choice = Choice(adam: adam, scheduleFree: sf, dmd: dmd, scores: scores)
        try writeTable(tried)
        try AtomicFile.write(try AccelerationRun.encodeJSON(choice), to: folder.appendingPathComponent(choiceFile))
        notice("train-dmd verdict: chosen DMD \(choice.dmd.name) (score \(scores[choice.dmd.name]!)); → \(folder.appendingPathComponent(choiceFile).path)")
        return choice
    }

    /// The choice of a finished tuning; with `setup`, the tuning must have been made with it (the same
    /// epochs — the schedules span them —, recipe and data; for a transferred choice, all but the data).
    public static func readChoice(root: URL, setup: AccelerationStudy.Setup? = nil) throws -> Choice {
        let folder = root.appendingPathComponent(tuningFolder)
        if let setup, let transfer = try readTransfer(root: root), let why = transfer.mismatch(setup) {
            throw StudyError("\(folder.appendingPathComponent(transferFile).path): the transferred choice was tuned with other \(why) than this run asks for")
        }
        if let setup, let data = try? Data(contentsOf: folder.appendingPathComponent(AccelerationStudy.setupFile)),
           (try? JSONDecoder().decode(AccelerationStudy.Setup.self, from: data)) != setup {
            throw StudyError("\(folder.appendingPathComponent(AccelerationStudy.setupFile).path): the tuning was made with another setup "
                             + "(epochs, recipe or data) than this run asks for; use the tuning's --epochs and data, or tune again into another --out")
        }
        let url = folder.appendingPathComponent(choiceFile)
        guard let data = try? Data(contentsOf: url) else { throw StudyError("\(url.path): missing; run `train-dmd verdict --phase tune` first") }
        do { return try AccelerationRun.decodeJSON(Choice.self, from: data) } catch { throw StudyError("\(url.path): not a tuning choice: \(error)") }
    }
}
