import Foundation
import NumericalFoundations
import PDE
import Surrogates

/// What one adaptive-sampling run is; stored as `run.json` in its folder, and a rerun must match it.
public struct RefineSettings: Codable, Equatable, Sendable {
    /// FEM training solves the run starts from: the first n of the seeded nested order of the LHS
    /// training split (`LearningCurve.nestedOrder`), the same subset the LHS curve starts from.
    public var initialSize: Int
    /// Points acquired per round (K).
    public var batchSize: Int
    /// FEM training solves at which the run stops (the initial ones included).
    public var budget: Int
    /// Latin-hypercube draws of the candidate pool before the feasibility filter.
    public var poolDraws: Int
    /// Candidates of largest variance among which the batch is chosen greedily.
    public var shortlist: Int
    /// Seed of the initial subset and of the candidate pool.
    public var seed: UInt64
    /// Models fitted and scored each round (`[surrogate]` kinds by name); POD-GP also chooses the points.
    public var models: [String]
    /// The greedy step's criterion; nil: `variance` (runs recorded before the choice existed).
    public var acquisition: VarianceAcquisition.Criterion?
    /// When POD-GP's hyper-parameters are fitted; nil: every round (runs recorded before the choice existed).
    public var hyperparameters: RefineHyperparameters?
    /// What the scored POD-GP is conditioned on; nil: the fitting rows (runs recorded before the choice existed).
    public var conditioning: RefineConditioning?
    /// SHA-256 of the configuration's result-changing keys (`configurationDigest`), set by the loop: a
    /// rerun with another configuration (e.g. another `--set surrogate.…`) must not continue the run.
    public var configurationSHA256: String?

    public init(initialSize: Int, batchSize: Int, budget: Int, poolDraws: Int, shortlist: Int, seed: UInt64, models: [String],
                acquisition: VarianceAcquisition.Criterion = .variance, hyperparameters: RefineHyperparameters = .everyRound,
                conditioning: RefineConditioning = .fitRows) {
        self.initialSize = initialSize; self.batchSize = batchSize; self.budget = budget; self.poolDraws = poolDraws
        self.shortlist = shortlist; self.seed = seed; self.models = models
        self.acquisition = acquisition == .variance ? nil : acquisition
        self.hyperparameters = hyperparameters == .everyRound ? nil : hyperparameters
        self.conditioning = conditioning == .fitRows ? nil : conditioning
    }

    /// The hyper-parameter policy (nil read as every round).
    public var hyperparameterPolicy: RefineHyperparameters { hyperparameters ?? .everyRound }
    /// The conditioning policy (nil read as the fitting rows).
    public var conditioningPolicy: RefineConditioning { conditioning ?? .fitRows }

    /// The kinds the loop can fit (the ensemble needs member folders written by `fit`).
    public static let fittableModels = SurrogateSettings.Model.allCases.filter { $0 != .ensemble }.map(\.rawValue)

    public func validate(trainingSamples: Int) throws {
        func bad(_ message: String) -> StageError { StageError("refine: " + message) }
        guard initialSize >= 4, initialSize <= trainingSamples else {
            throw bad("the initial design of \(initialSize) samples is impossible with \(trainingSamples) solved training samples (expected 4 … \(trainingSamples))")
        }
        guard batchSize >= 1 else { throw bad("the batch size must be at least 1, got \(batchSize)") }
        guard budget >= initialSize else { throw bad("the budget (\(budget)) is smaller than the initial design (\(initialSize))") }
        guard shortlist >= batchSize else { throw bad("the shortlist (\(shortlist)) must hold at least one batch (\(batchSize))") }
        guard !models.isEmpty else { throw bad("no model to score") }
        for m in models where !Self.fittableModels.contains(m) {
            throw bad("unknown model \"\(m)\" (expected \(Self.fittableModels.joined(separator: ", ")))")
        }
        if hyperparameterPolicy == .initialDesign, !models.contains(SurrogateSettings.Model.podGP.rawValue) {
            throw bad("hyper-parameters held at the initial design's are POD-GP's: --models must include pod_gp (got \(models.joined(separator: ",")))")
        }
    }
}

/// One model's scores after a round.
public struct RefineScore: Codable, Equatable, Sendable {
    public var model: String
    public var testMedian: Double
    public var testP95: Double
    public var validationMedian: Double
    public var validationP95: Double
}

/// The state after one round (`evaluation.json`): a deterministic function of the run's inputs, so
/// the wall times are kept apart (`RefineTimings`).
public struct RefineEvaluation: Codable, Equatable, Sendable {
    public var round: Int
    /// FEM solves spent on training points so far (failed solves included).
    public var trainingSolves: Int
    /// Of those, the solved ones the models were fitted on (fit and validation rows).
    public var trainingSamples: Int
    public var scores: [RefineScore]
    /// The largest and the smallest integrated variance of the batch chosen after this round (nil at the end).
    public var acquisitionFirst: Double?
    public var acquisitionLast: Double?
    /// The POD-GP's hyper-parameters this round (nil in files written before they were recorded).
    public var podGP: FittedHyperparameters? = nil
}

/// The wall times of one round (`timings.json`), by step; `fit` by model.
public struct RefineTimings: Codable, Equatable, Sendable {
    public var fit: [String: Double] = [:]
    public var fem = 0.0
    public var acquisition = 0.0
    public var total = 0.0
}

/// One finished round.
public struct RefineRound: Equatable, Sendable {
    public var evaluation: RefineEvaluation
    public var timings: RefineTimings
}

/// `train-dmd refine`: adaptive sampling. Round 0 fits the models on the initial LHS subset; each
/// round then acquires K points of the candidate pool by `VarianceAcquisition` (POD-GP's integrated
/// variance, greedy with the posterior conditioned on the points already in the batch), solves them
/// with the FEM, refits and scores every model on the fixed test split, until the budget of FEM solves.
///
/// Resumable bit for bit: round r's folder holds its points (params.npy, chosen.npy, acquisition.npy,
/// written when round r − 1 ended), their FEM results (c3.npy, status.npy; `BatchRunner`'s chunks in
/// checkpoints/ while they are solved), each model's per-test-sample errors, evaluation.json, and
/// manifest.json last. A rerun reloads every round with a manifest and continues the first without:
/// every step is a deterministic function of the files before it (seeded fits, per-sample FEM), so a
/// killed run ends with the bytes of an uninterrupted one. The test split is only scored: it is never
/// in the pool nor acquired.
public enum RefineLoop {
    /// The acquired points and their FEM results of rounds 1 … r.
    struct Acquired {
        var parameters: [Double] = []
        var c3: [Double] = []
        var status: [Int32] = []
        var chosen: [Int] = []
        var solves: Int { status.count }
    }

    struct Context {
        var config: PipelineConfig
        var base: SurrogateDataset
        var inputScaler: InputScaler
        var initialRows: [Int]
        var pool: CandidatePool
        var settings: RefineSettings
        var run: DataLayout.RefineRun
        var threads: Int
        var stop: StopSignal?
        var notice: (String) -> Void
    }

    /// Runs (or resumes) the loop in `run`'s folder; every round, in order.
    public static func run(config: PipelineConfig, dataDirectory: URL, run: DataLayout.RefineRun, settings: RefineSettings, threads: Int,
                           stop: StopSignal? = nil, notice: @escaping (String) -> Void,
                           roundFinished: () throws -> Void = {}) throws -> [RefineRound] {
        let context = try makeContext(config: config, dataDirectory: dataDirectory, run: run, settings: settings, threads: threads,
                                      stop: stop, notice: notice)
        var acquired = Acquired()
        var rounds: [RefineRound] = []
        var reporter: ProgressReporter?
        var roundReporter: ProgressReporter?
        for r in 0..<roundCount(settings) {
            if let done = try completedRound(r, context: context, acquired: &acquired) {
                rounds.append(done)
                continue
            }
            if stop?.isRequested == true {
                throw StageError("train-dmd refine: stopped before round \(r) (rounds 0 … \(r - 1) are saved); run again to continue")
            }
            if reporter == nil {
                let previous = r == 0 ? 0 : (r - 1) * settings.batchSize
                reporter = ProgressReporter("refine FEM solves", total: max(1, settings.budget - settings.initialSize - previous))
                // The rounds' ETA (a fit grows as n³, so it is a lower bound late in a long run).
                roundReporter = ProgressReporter("refine rounds", total: roundCount(settings) - r, interval: 0)
            }
            let round = try runRound(r, context: context, acquired: &acquired, reporter: reporter!)
            rounds.append(round)
            let line = round.evaluation.scores.map { String(format: "%@ %.4f / %.4f", $0.model, $0.testMedian, $0.testP95) }.joined(separator: ", ")
            notice(String(format: "refine: round %d on %d FEM solves (%.0f s): test median / p95 ", r, round.evaluation.trainingSolves, round.timings.total)
                   + line)
            try roundFinished()
            roundReporter?.advance(detail: "round \(r) of \(roundCount(settings) - 1) done")
        }
        return rounds
    }

    static func makeContext(config: PipelineConfig, dataDirectory: URL, run: DataLayout.RefineRun, settings: RefineSettings, threads: Int,
                            stop: StopSignal?, notice: @escaping (String) -> Void) throws -> Context {
        let inputScaler = try InputScaler(ranges: config.sampling.ranges)
        let base = try SurrogateDataset.load(layout: DataLayout(dataDirectory), inputScaler: inputScaler, parameterNames: PollutantParameters.names)
        try settings.validate(trainingSamples: base.trainIndices.count)
        var settings = settings
        settings.configurationSHA256 = configurationDigest(config)
        try checkSettings(settings, in: run)
        let initialRows = Array(LearningCurve.nestedOrder(base.trainIndices, seed: settings.seed).prefix(settings.initialSize)).sorted()
        let d = base.parameterWidth
        let testParameters = base.testIndices.flatMap { base.parameters[($0 * d)..<(($0 + 1) * d)] }
        let poolURL = run.folder.appendingPathComponent(DataLayout.RefineRun.poolFile)
        let pool: CandidatePool
        if FileManager.default.fileExists(atPath: poolURL.path) {
            pool = try CandidatePool(reading: poolURL, draws: settings.poolDraws)
        } else {
            pool = try CandidatePool(box: config.sampling.ranges, nu: config.wind.nu, draws: settings.poolDraws, seed: settings.seed,
                                     excluded: testParameters)
            try pool.write(to: poolURL)
        }
        notice("refine: \(pool.count) feasible candidates of \(pool.drawn) drawn (\(poolURL.lastPathComponent)); initial design \(settings.initialSize) LHS samples, "
               + "batches of \(settings.batchSize) up to \(settings.budget) FEM solves; \(base.testIndices.count) test samples → \(run.folder.path)")
        return Context(config: config, base: base, inputScaler: inputScaler, initialRows: initialRows, pool: pool, settings: settings,
                       run: run, threads: threads, stop: stop, notice: notice)
    }

    /// The configuration without the keys that change no result (threads, chunking, figure fields).
    static func configurationDigest(_ config: PipelineConfig) -> String {
        var sections = config.resolved.object ?? [:]
        if var fem = sections["fem"]?.object {
            for key in PollutantStage.resultNeutralKeys { fem.removeValue(forKey: key) }
            sections["fem"] = .object(fem)
        }
        // Keys added after runs were recorded, at the default that reproduces the older behaviour,
        // leave the digest as it was, so those runs still resume.
        if var surrogate = sections["surrogate"]?.object {
            if surrogate["gp_output"] == .string(SurrogateSettings.GPOutput.field.rawValue) { surrogate.removeValue(forKey: "gp_output") }
            if surrogate["gp_prior_mean"] == .string(SurrogateSettings.PriorMean.sample.rawValue) { surrogate.removeValue(forKey: "gp_prior_mean") }
            for key in ["gp_low_fidelity_mesh", "podnn_low_fidelity_mesh"] where surrogate[key] == .array([]) { surrogate.removeValue(forKey: key) }
            if surrogate["input_warping"] == .string(SurrogateSettings.InputWarpingChoice.none.rawValue) { surrogate.removeValue(forKey: "input_warping") }
            sections["surrogate"] = .object(surrogate)
        }
        return SHA256Digest.hex(of: Data(JSONValue.object(sections).jsonText().utf8))
    }

    /// Rounds 0 … R: round 0 the initial design, each further round one batch (the last one smaller to meet the budget).
    static func roundCount(_ s: RefineSettings) -> Int {
        1 + (s.budget - s.initialSize + s.batchSize - 1) / s.batchSize
    }

    /// The size of round r's batch (0 for round 0).
    static func batchSize(round r: Int, _ s: RefineSettings) -> Int {
        r == 0 ? 0 : min(s.batchSize, s.budget - s.initialSize - (r - 1) * s.batchSize)
    }

    /// Writes run.json on the first run; a rerun must have the same settings.
    static func checkSettings(_ settings: RefineSettings, in run: DataLayout.RefineRun) throws {
        if let data = try? Data(contentsOf: run.settings) {
            guard let stored = try? JSONDecoder().decode(RefineSettings.self, from: data) else {
                throw StageError("refine: \(run.settings.path) is damaged: expected the run's settings (delete the folder to start afresh)")
            }
            guard stored == settings else {
                throw StageError("refine: \(run.folder.path) holds a run with other settings (\(String(decoding: data, as: UTF8.self))); "
                                 + "choose another --name or delete the folder")
            }
            return
        }
        try AtomicFile.writeJSON(settings, to: run.settings)
    }

    /// Round r when its manifest exists, its acquired points added to `acquired`; nil otherwise.
    static func completedRound(_ r: Int, context: Context, acquired: inout Acquired) throws -> RefineRound? {
        let run = context.run
        guard FileManager.default.fileExists(atPath: run.manifest(round: r).path) else { return nil }
        if r > 0, !FileManager.default.fileExists(atPath: run.file(DataLayout.FEM.c3File, round: r).path) {
            try restoreRound(r, context: context)
        }
        if r > 0 { try loadAcquired(round: r, context: context, into: &acquired, withResults: true) }
        let url = run.file(DataLayout.RefineRun.evaluationFile, round: r), timingsURL = run.file(DataLayout.RefineRun.timingsFile, round: r)
        guard let data = try? Data(contentsOf: url), let evaluation = try? JSONDecoder().decode(RefineEvaluation.self, from: data),
              let timingsData = try? Data(contentsOf: timingsURL), let timings = try? JSONDecoder().decode(RefineTimings.self, from: timingsData) else {
            throw StageError("refine: \(url.path) or \(timingsURL.lastPathComponent) is missing or damaged although the round's manifest exists; "
                             + "delete \(run.round(r).path) to redo the round")
        }
        return RefineRound(evaluation: evaluation, timings: timings)
    }

    /// Reads round r's points (and, with `withResults`, their FEM results), checking shapes.
    static func loadAcquired(round r: Int, context: Context, into acquired: inout Acquired, withResults: Bool) throws {
        let run = context.run, k = batchSize(round: r, context.settings), p = context.base.observationWidth
        let params = try Npy.read(Double.self, from: run.file(DataLayout.RefineRun.paramsFile, round: r), expectedShape: [k, 6])
        let chosen = try Npy.read(Int64.self, from: run.file(DataLayout.RefineRun.chosenFile, round: r), expectedShape: [k])
        acquired.parameters += params.values
        acquired.chosen += chosen.values.map { Int($0) }
        guard withResults else { return }
        let c3 = try Npy.read(Double.self, from: run.file(DataLayout.FEM.c3File, round: r), expectedShape: [k, p])
        let status = try Npy.read(Int32.self, from: run.file(DataLayout.FEM.statusFile, round: r), expectedShape: [k])
        acquired.c3 += c3.values
        acquired.status += status.values
    }
}
