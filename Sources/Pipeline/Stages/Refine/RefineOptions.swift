import Foundation
import ArgumentParser
import Surrogates

/// The design of an adaptive-sampling run, shared by `train-dmd refine` and `train-dmd refine-study`.
public struct RefineDesignOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "FEM training solves to start from: the first N of the seeded nested order of the LHS training split.")
    public var initial: Int = 100

    @Option(parsing: .unconditional, help: "Points acquired (and solved) per round.")
    public var batch: Int = 50

    @Option(parsing: .unconditional, help: "FEM training solves at which the loop stops (the initial ones included).")
    public var budget: Int = 400

    @Option(parsing: .unconditional, help: "Latin-hypercube draws of the candidate pool (only the feasible ones, where the wind exists, are kept).")
    public var pool: Int = 10000

    @Option(parsing: .unconditional, help: "Candidates among which each batch is chosen greedily: those of largest POD-GP variance (variance), or a seeded uniform draw that is also the reference set (integrated_variance, integrated_log_variance).")
    public var shortlist: Int = 1000

    @Option(help: ArgumentHelp("The greedy step's score: variance (the point's own POD-GP variance), integrated_variance (the variance its observation removes over the shortlist: weighs the points of largest error) or integrated_log_variance (the log-variance it removes: weighs every point by the fraction of its variance removed).",
                               valueName: "variance|integrated_variance|integrated_log_variance"))
    public var acquisition: String = "variance"

    @Option(help: ArgumentHelp("When POD-GP's hyper-parameters are fitted: every_round (the likelihood maximised again after each batch) or initial_design (once, on the initial design; later rounds only condition on their samples, so LHS and adaptive curves share the values and differ by their designs alone).",
                               valueName: "every_round|initial_design"))
    public var hyperparameters: String = "every_round"

    @Option(help: ArgumentHelp("What the scored POD-GP is conditioned on: fit_rows (the fitting rows, as `fit` makes it; a seeded share of the solves, different each round, is held out for validation) or every_solve (the same hyper-parameters, conditioned on every training solve, as the acquisition is).",
                               valueName: "fit_rows|every_solve"))
    public var conditioning: String = "fit_rows"

    @Option(help: "Comma-separated models fitted and scored each round ([surrogate] kinds: pod_gp, pod_nn, tuned); POD-GP also chooses the points.")
    public var models: String = "pod_gp"

    @Option(parsing: .unconditional, help: "Cores for OpenBLAS and the fits (the FEM solves use [fem] threads).")
    public var threads: Int = 2

    public init() {}

    public func validate() throws {
        for (name, value) in [("--initial", initial), ("--batch", batch), ("--budget", budget), ("--pool", pool), ("--shortlist", shortlist), ("--threads", threads)]
            where value < 1 {
            throw ValidationError("\(name) must be at least 1, got \(value)")
        }
        if budget < initial { throw ValidationError("--budget (\(budget)) is smaller than --initial (\(initial))") }
        if shortlist < batch { throw ValidationError("--shortlist (\(shortlist)) must be at least --batch (\(batch))") }
        _ = try modelList()
        _ = try criterion()
        _ = try hyperparameterPolicy()
        _ = try conditioningPolicy()
    }

    func conditioningPolicy() throws -> RefineConditioning {
        guard let c = RefineConditioning(rawValue: conditioning) else {
            throw ValidationError("--conditioning: unknown policy \"\(conditioning)\" (expected \(RefineConditioning.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return c
    }

    func hyperparameterPolicy() throws -> RefineHyperparameters {
        guard let h = RefineHyperparameters(rawValue: hyperparameters) else {
            throw ValidationError("--hyperparameters: unknown policy \"\(hyperparameters)\" (expected \(RefineHyperparameters.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return h
    }

    func modelList() throws -> [String] {
        let list = models.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for m in list where !RefineSettings.fittableModels.contains(m) {
            throw ValidationError("--models: unknown model \"\(m)\" (expected \(RefineSettings.fittableModels.joined(separator: ", ")))")
        }
        if list.isEmpty || Set(list).count != list.count { throw ValidationError("--models must name each model once: \(models)") }
        return list
    }

    func criterion() throws -> VarianceAcquisition.Criterion {
        guard let c = VarianceAcquisition.Criterion(rawValue: acquisition) else {
            throw ValidationError("--acquisition: unknown criterion \"\(acquisition)\" (expected \(VarianceAcquisition.Criterion.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return c
    }

    func settings(seed: UInt64) throws -> RefineSettings {
        RefineSettings(initialSize: initial, batchSize: batch, budget: budget, poolDraws: pool, shortlist: shortlist, seed: seed, models: try modelList(),
                       acquisition: try criterion(), hyperparameters: try hyperparameterPolicy(),
                       conditioning: try conditioningPolicy())
    }
}

/// The command line of `train-dmd refine`.
public struct RefineOptions: ParsableArguments {
    @OptionGroup public var stage: StageOptions
    @OptionGroup public var design: RefineDesignOptions

    @Option(parsing: .unconditional, help: "Seed of the initial subset and of the candidate pool.")
    public var seed: UInt64 = 1

    @Option(help: "The run's folder under DATA/refine (default seed_SEED).")
    public var name: String?

    public init() {}

    public var runName: String { name ?? "seed_\(seed)" }

    public func validate() throws {
        if let name, name.isEmpty || name.contains("/") || name == DataLayout.Refine.studyFolder {
            throw ValidationError("--name must be a plain folder name other than \"\(DataLayout.Refine.studyFolder)\", got \"\(name)\"")
        }
    }

    public static let discussion = """
        Adaptive sampling: starts from --initial LHS training samples, fits POD-GP (and the other --models), chooses the next \
        --batch points among a seeded candidate pool inside the feasible region (where the wind solution exists) by POD-GP's \
        predictive variance integrated over the field, greedily with the posterior conditioned on the points already chosen, \
        solves them with the FEM, refits, and repeats until --budget FEM solves. Every round is scored on the LHS test split, \
        which the loop never acquires. Writes DATA/refine/NAME/round_RRR/ (params.npy, chosen.npy, acquisition.npy, c3.npy, \
        status.npy, test_errors_MODEL.npy, evaluation.json, timings.json, manifest.json) and refine.csv; a rerun resumes where it stopped.
        """
}

/// The command line of `train-dmd refine-study`.
public struct RefineStudyOptions: ParsableArguments {
    @OptionGroup public var stage: StageOptions
    @OptionGroup public var design: RefineDesignOptions

    @Option(help: "Comma-separated seeds (each: its own nested LHS order, initial design and candidate pool).")
    public var seeds: String = "1,2,3"

    @Option(help: "Comma-separated sampling methods: lhs (nested subsets of the LHS training split), adaptive (train-dmd refine), oracle (a reference: each batch the solved training samples where the model's error is largest).")
    public var methods: String = "lhs,adaptive"

    @Option(help: "The name of this configuration's curves (e.g. \"derivatives\" for a run with --set surrogate.… on); the CSV and figure gather every label in DATA/refine/study.")
    public var label: String = "plain"

    @Flag(help: "Only rewrite the CSVs and the figure from the finished points in DATA/refine/study.")
    public var replot = false

    @Option(name: .customLong("import-table"), help: ArgumentHelp("A refine_study.csv made elsewhere (e.g. committed from an earlier machine): its curves that have no point here join the tables and the figure (kept in DATA/refine/study/imported.csv). Refused unless made on the same data (the data_sha256 column) and, for a label that has points here, under the same configuration. Repeatable.", valueName: "CSV"))
    public var importTables: [String] = []

    @Option(name: .customLong("import-ledger"), help: ArgumentHelp("A ledger of a study made elsewhere (written by --export-ledger, e.g. committed): its points, swap cells and adaptive rounds are copied in before anything is computed, so its curves continue here; an adaptive round's FEM results are solved again and must have the SHA-256 the ledger recorded. Refused unless made on the same data and OpenBLAS kernel, or where a file here differs from the ledger's.", valueName: "DIR"))
    public var importLedger: String?

    @Option(name: .customLong("export-ledger"), help: ArgumentHelp("After each finished point and adaptive round, and at the end (or with --replot alone): write the study folder's curves, without the acquired points' FEM results (their SHA-256 instead), to DIR, which --import-ledger continues on another machine.", valueName: "DIR"))
    public var exportLedger: String?

    @Option(name: .customLong("oracle-share"), help: "The oracle curve's share of each batch chosen by the error, in (0, 1]; the rest are the next rows of the seed's nested LHS order (a hedged oracle). Recorded in its points: a curve is not continued with another share.")
    public var oracleShare: Double = 1

    @Option(name: .customLong("swap-at"), help: ArgumentHelp("Instead of growing curves: at these solve counts, condition POD-GP on each --methods curve's design (lhs, oracle; their points made first) with each one's fitted hyper-parameters, mode by mode — is a design's error its rows' or the fit they induce? → LABEL/swap/, refine_swap.csv.", valueName: "N,N,…"))
    public var swapAt: String?

    public init() {}

    public func validate() throws {
        _ = try seedList(); _ = try methodList(); _ = try swapSizes()
        guard oracleShare > 0, oracleShare <= 1 else { throw ValidationError("--oracle-share must lie in (0, 1], got \(oracleShare)") }
        if oracleShare != 1, try !methodList().contains(.oracle) || swapSizes().count > 0 {
            throw ValidationError("--oracle-share shapes the oracle curve's batches: it needs oracle in --methods and no --swap-at")
        }
        if label.isEmpty || label.contains("/") || label.contains(",") { throw ValidationError("--label must be a plain name without / or commas, got \"\(label)\"") }
    }

    func seedList() throws -> [UInt64] {
        let list = try seeds.split(separator: ",").map { s -> UInt64 in
            guard let v = UInt64(s.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--seeds: \"\(s)\" is not a non-negative integer") }
            return v
        }
        if list.isEmpty || Set(list).count != list.count { throw ValidationError("--seeds must name each seed once: \(seeds)") }
        return list
    }

    /// The solve counts of `--swap-at` (empty without it).
    func swapSizes() throws -> [Int] {
        guard let swapAt else { return [] }
        let list = try swapAt.split(separator: ",", omittingEmptySubsequences: false).map { s -> Int in
            guard let v = Int(s.trimmingCharacters(in: .whitespaces)), v > 0 else { throw ValidationError("--swap-at: \"\(s)\" is not a positive solve count") }
            return v
        }
        if list.isEmpty || Set(list).count != list.count { throw ValidationError("--swap-at must name each solve count once: \(swapAt)") }
        if replot { throw ValidationError("--swap-at and --replot exclude each other: --replot only rewrites the tables") }
        return list
    }

    func methodList() throws -> [RefineStudy.Method] {
        try methods.split(separator: ",").map { s -> RefineStudy.Method in
            guard let m = RefineStudy.Method(rawValue: s.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--methods: unknown method \"\(s)\" (expected lhs, adaptive, oracle)")
            }
            return m
        }
    }
}
