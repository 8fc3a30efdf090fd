import Foundation
import ArgumentParser
import NumericalFoundations

/// The command line of `train-dmd verdict`.
public struct VerdictOptions: ParsableArguments {
    public static let discussion = """
        The paired acceleration study (docs/dmd-training.md, "The paired study"), in three phases that resume run by run:

          --phase tune       every configuration of the Adam/AdamW grid (lr {1e-3, 2e-3, 3e-3, 5e-3, 1e-2} × batch {16, 32, 64} × constant / cosine to zero / one-cycle), the schedule-free AdamW grid (lr × batch × λ {0, tuned}) and then the DMD grid on the chosen Adam (m {7, 14, 21} × s {7, 14, 28, 55, 110} × clamp × ω {0.5, 0.75, 1}) for --epochs epochs on each tuning seed; per family the configuration with the lowest median best moving-average validation MSE → OUT/tuning/choice.json, tuning.csv.
          --phase cost       CPU seconds per epoch of each evaluated method: one process, interleaved, --cost-repetitions rounds → OUT/evaluation/cost.json.
          --phase evaluate   the chosen Adam (the baseline, all epochs), schedule-free AdamW, DMD, and Lookahead, RRE, MPE, Anderson, Adam → L-BFGS on it, on each evaluation seed; targets T × {1, 1.1, 1.5, 2} from the baseline → OUT/evaluation/runs.csv (one line per run, rewritten as runs finish), verdict.csv and verdict.md (per method and level: reached, epochs, clock-free time, speed-up with its paired bootstrap 95 % interval, test relative L2), verdict.svg/.png.
          --phase all        the three in turn.

        A study outlives the machine it started on through its ledgers: OUT/tuning's setup.json, ledger.json and tuning.csv, committed, and given to a new study folder with --import-tuning (the same data bit for bit, the same epochs and window); OUT/evaluation's setup.json and runs/ (result.json and history.csv of each run) with --import-evaluation.

        Seeds: evaluation seeds 0 … --seeds − 1, tuning seeds 1000 … 1000 + --tuning-seeds − 1; a seed fixes the initial weights, the batch order and the validation split. Runs are child processes with one OpenBLAS thread, --jobs at a time.
        """

    public enum Phase: String, ExpressibleByArgument, CaseIterable, Sendable { case tune, cost, evaluate, all }

    @OptionGroup public var stage: StageOptions

    @Option(help: "tune, cost, evaluate or all.")
    public var phase: Phase

    @Option(parsing: .unconditional, help: "Planned epochs of every run (the schedules span them).")
    public var epochs: Int = 1000

    @Option(parsing: .unconditional, help: "Evaluation seeds (0, 1, …).")
    public var seeds: Int = 10

    @Option(name: .customLong("tuning-seeds"), parsing: .unconditional, help: "Tuning seeds (1000, 1001, …).")
    public var tuningSeeds: Int = 2

    @Option(parsing: .unconditional, help: "Configurations per family at most: larger grids are subsampled by a seeded random search (default: the full grids, 90 / 30 / 90).")
    public var budget: Int?

    @Option(name: .customLong("grid-seed"), parsing: .unconditional, help: "Seed of the random search under --budget.")
    public var gridSeed: UInt64 = 1

    @Option(parsing: .unconditional, help: "Epochs of the moving average of the stop rule.")
    public var window: Int = 10

    @Option(parsing: .unconditional, help: "Bootstrap resamples of each interval.")
    public var resamples: Int = 10000

    @Option(name: .customLong("bootstrap-seed"), parsing: .unconditional, help: "Seed of the bootstrap.")
    public var bootstrapSeed: UInt64 = 1

    @Option(name: .customLong("cost-repetitions"), parsing: .unconditional, help: "Rounds of the per-epoch cost benchmark.")
    public var costRepetitions: Int = 5

    @Option(name: .customLong("cost-block-epochs"), parsing: .unconditional, help: "Epochs per timed block at least (rounded up to whole jump periods).")
    public var costBlockEpochs: Int = 14

    @Option(parsing: .unconditional, help: "Runs at a time (each on one core).")
    public var jobs: Int = 2

    @Option(help: "Study folder (default DATA/verdict).")
    public var out: String?

    @Option(name: .customLong("import-tuning"), help: ArgumentHelp("A tuning ledger (setup.json, ledger.json, tuning.csv: an earlier study's tuning folder, e.g. a committed one): its runs count as done. Refused unless made under the same setup (epochs, recipe, the data's SHA-256s) and window.", valueName: "DIR"))
    public var importTuning: String?

    @Option(name: .customLong("import-evaluation"), help: ArgumentHelp("An evaluation ledger (an earlier study's evaluation folder, or a copy of its setup.json and runs/, e.g. a committed one): its finished runs are copied in and not made again. Refused unless made under the same setup.", valueName: "DIR"))
    public var importEvaluation: String?

    @Option(name: .customLong("tuning-from"), help: ArgumentHelp("Evaluate the choice of another study's finished tuning folder (OUT/tuning of a study on other data, e.g. the paper data's), made with the same epochs, recipe and validation protocol: the reduced protocol of a dataset too large to tune every family on. Recorded in OUT/tuning/transfer.json and in the report; not with --phase tune.", valueName: "DIR"))
    public var tuningFrom: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("The evaluated methods, comma-separated, among \(PairedStudy.Choice.roles.joined(separator: ", ")) (the baseline adam always; default: all).", valueName: "LIST"))
    public var methods: String?

    public init() {}

    public func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
        guard seeds >= 1, tuningSeeds >= 1 else { throw ValidationError("--seeds and --tuning-seeds must be at least 1") }
        guard seeds <= 1000 else { throw ValidationError("--seeds must be at most 1000 (the tuning seeds start at 1000), got \(seeds)") }
        if tuningFrom != nil, phase == .tune || phase == .all {
            throw ValidationError("--tuning-from replaces the tuning: use it with --phase cost or evaluate")
        }
        if tuningFrom != nil, importTuning != nil { throw ValidationError("--tuning-from and --import-tuning exclude each other") }
        if importEvaluation != nil, phase == .tune || phase == .cost {
            throw ValidationError("--import-evaluation feeds the evaluation: use it with --phase evaluate or all")
        }
        do { try settings().validate() } catch { throw ValidationError("\(error)") }
    }

    public func settings() -> PairedStudy.Settings {
        PairedStudy.Settings(epochs: epochs, evaluationSeeds: Array(0..<seeds), tuningSeeds: (0..<tuningSeeds).map { 1000 + $0 }, budget: budget,
                             gridSeed: gridSeed, window: window, resamples: resamples, bootstrapSeed: bootstrapSeed,
                             costRepetitions: costRepetitions, costBlockEpochs: costBlockEpochs,
                             methods: methods.map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } })
    }
}

/// `train-dmd verdict`: the phases of `PairedStudy`, each run in a child process (`study-run`).
public enum VerdictStage {
    public static func run(_ options: VerdictOptions) throws {
        let config = try options.stage.loadConfig()
        let root = options.out.map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? options.stage.dataURL.appendingPathComponent("verdict", isDirectory: true)
        let lock = try options.stage.lockOutput(root)
        defer { lock.release() }
        try Provenance.verify(Provenance.chain(DataLayout(options.stage.dataURL)), root: options.stage.dataURL)
        let settings = options.settings()
        let executor = StudyStage.childProcessExecutorReportingEach(options.stage, jobs: options.jobs)
        let data = options.stage.dataURL
        if let source = options.tuningFrom {
            let setup = try AccelerationStudy.setup(config: config, dataDirectory: data, epochs: settings.epochs)
            let choice = try PairedStudy.transferChoice(from: URL(fileURLWithPath: source, isDirectory: true), root: root, setup: setup)
            note("train-dmd verdict: evaluating the choice of \(source) (\(choice.adam.name), \(choice.scheduleFree.name), \(choice.dmd.name))")
        }
        if options.phase == .tune || options.phase == .all {
            try PairedStudy.tune(config: config, dataDirectory: data, root: root, settings: settings, executor: executor,
                                 ledger: options.importTuning.map { URL(fileURLWithPath: $0, isDirectory: true) }, notice: note)
        }
        if options.phase == .cost || options.phase == .all {
            try PairedStudy.measureCost(config: config, dataDirectory: data, root: root, settings: settings, notice: note)
        }
        if options.phase == .evaluate || options.phase == .all {
            let summary = try PairedStudy.evaluate(config: config, dataDirectory: data, root: root, settings: settings, executor: executor,
                                                   ledger: options.importEvaluation.map { URL(fileURLWithPath: $0, isDirectory: true) }, notice: note)
            print(summary.markdown())
            note("train-dmd verdict: tables and figure → \(root.appendingPathComponent(PairedStudy.evaluationFolder).path)")
        }
    }
}
