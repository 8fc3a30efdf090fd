import Foundation
import Surrogates

/// One contender of the acceleration study: the tuned recipe of `train-dmd fit`
/// (`[surrogate] tuned_*`, docs/surrogates.md) with, at most, a changed learning rate, batch or
/// schedule, and one accelerator. Every method trains the same network from the same data, on the
/// same fitting / validation split, for the same planned epochs E (the schedules span E).
public struct AccelerationMethod: Codable, Equatable, Sendable {
    public enum Accelerator: Codable, Equatable, Sendable {
        case none
        /// Lookahead around Adam (Zhang et al. 2019).
        case lookahead(LookaheadSettings)
        /// RRE / MPE / Anderson on the window of epoch snapshots (Scieur et al. 2016; Walker & Ni 2011).
        case extrapolation(RRESettings)
        /// The DMD jump of Algorithm 1 with the settings given (paper, clamped, line search, short horizon).
        case dmd(DMDTrainingSettings)
        /// Adam for the first `switchFraction` of the epochs, then full-batch L-BFGS (memory pairs)
        /// from there (Rathore et al., ICML 2024); each accepted L-BFGS step is one row of the history.
        case lbfgs(switchFraction: Double, memory: Int)
    }

    public var name: String
    public var summary: String
    /// nil = `[surrogate] tuned_learning_rate`.
    public var learningRate: Double?
    /// nil = `[surrogate] tuned_batch_size`; 0 = the whole fitting set in one batch.
    public var batchSize: Int?
    /// nil = `[surrogate] tuned_schedule`.
    public var schedule: RegularizedTrainingOptions.Schedule?
    public var accelerator: Accelerator
    /// nil = `[surrogate] tuned_weight_decay` (AdamW's λ; 0 = Adam).
    public var weightDecay: Double?
    /// nil = `[surrogate] tuned_min_lr_fraction` (the floor of the cosine and one-cycle schedules; 0 = to zero).
    public var minimumLearningRateFraction: Double?
    /// true = schedule-free AdamW (Defazio et al. 2024) instead of Adam; nil = Adam.
    public var scheduleFree: Bool?

    public init(name: String, summary: String, learningRate: Double? = nil, batchSize: Int? = nil,
                schedule: RegularizedTrainingOptions.Schedule? = nil, accelerator: Accelerator = .none,
                weightDecay: Double? = nil, minimumLearningRateFraction: Double? = nil, scheduleFree: Bool? = nil) {
        self.name = name; self.summary = summary; self.learningRate = learningRate; self.batchSize = batchSize
        self.schedule = schedule; self.accelerator = accelerator
        self.weightDecay = weightDecay; self.minimumLearningRateFraction = minimumLearningRateFraction
        self.scheduleFree = scheduleFree == true ? true : nil
    }

    /// The baseline that defines the targets: the tuned recipe unchanged.
    public static let baselineName = "adam"

    /// Every method the study knows, in the order of its table. m = 14 snapshots (the paper's) for
    /// every window method, so that DMD and its relatives see the same information.
    public static func catalog() -> [AccelerationMethod] {
        let m = 14
        let dmd = DMDTrainingSettings(snapshotCount: m, steps: 55, recordJumpLosses: false)
        var clamped = dmd; clamped.clampEigenvalues = true
        var lineSearch = dmd; lineSearch.guarded = true; lineSearch.guardFactors = [0.125, 0.25, 0.5, 1, 2]
        var short = clamped; short.steps = Double(m / 2)
        var updates = clamped; updates.snapshotKind = .updates
        var network = clamped; network.scope = .network
        return [
            AccelerationMethod(name: baselineName, summary: "tuned Adam (AdamW, cosine, batch 32, lr 1e-3): the baseline"),
            AccelerationMethod(name: "adam_lr3e-3", summary: "tuned Adam, lr 3e-3", learningRate: 3e-3),
            AccelerationMethod(name: "adam_onecycle", summary: "Adam, one-cycle schedule, peak lr 3e-3", learningRate: 3e-3, schedule: .oneCycle),
            AccelerationMethod(name: "adam_b128", summary: "Adam, batch 128, lr 2e-3", learningRate: 2e-3, batchSize: 128),
            AccelerationMethod(name: "adam_fullbatch", summary: "Adam, full batch, lr 3e-3", learningRate: 3e-3, batchSize: 0),
            AccelerationMethod(name: "lookahead", summary: "Lookahead around Adam, k = 14 epochs, α = 0.5",
                               accelerator: .lookahead(LookaheadSettings(period: .epochs(m), alpha: 0.5))),
            AccelerationMethod(name: "rre", summary: "regularised RRE (RNA, λ = 1e-8) every 14 epochs, guarded",
                               accelerator: .extrapolation(RRESettings(differenceCount: m, regularization: 1e-8, method: .rre, guarded: true))),
            AccelerationMethod(name: "mpe", summary: "MPE (λ = 1e-8) every 14 epochs, guarded",
                               accelerator: .extrapolation(RRESettings(differenceCount: m, regularization: 1e-8, method: .mpe, guarded: true))),
            AccelerationMethod(name: "anderson", summary: "Anderson (type II, β = 1, depth 14) every 14 epochs, guarded",
                               accelerator: .extrapolation(RRESettings(differenceCount: m, regularization: 1e-8, method: .anderson, guarded: true))),
            AccelerationMethod(name: "adam_lbfgs", summary: "Adam for the first third of the epochs, then full-batch L-BFGS (10 pairs)",
                               accelerator: .lbfgs(switchFraction: 1.0 / 3.0, memory: 10)),
            AccelerationMethod(name: "dmd_paper", summary: "the paper's DMD jump, m = 14, s = 55", accelerator: .dmd(dmd)),
            AccelerationMethod(name: "dmd_clamped", summary: "DMD jump with |λ| ≤ 1, m = 14, s = 55", accelerator: .dmd(clamped)),
            AccelerationMethod(name: "dmd_linesearch", summary: "DMD jump, s ∈ {s/8 … 2s} chosen on the training MSE, rollback if none helps",
                               accelerator: .dmd(lineSearch)),
            AccelerationMethod(name: "dmd_short", summary: "DMD jump with |λ| ≤ 1, short horizon s = 7 = m/2", accelerator: .dmd(short)),
            // The combination a reviewer asks for once both halves help: the clamped jump on the
            // fastest plain-Adam learning rate.
            AccelerationMethod(name: "dmd_clamped_lr3e-3", summary: "DMD jump with |λ| ≤ 1, m = 14, s = 55, on Adam with lr 3e-3",
                               learningRate: 3e-3, accelerator: .dmd(clamped)),
            // Two more DMD variants, on both learning rates: the DMD of the updates
            // w_{j+1} − w_j (13 updates from the same 14 snapshots), and one DMD over all four layers.
            AccelerationMethod(name: "dmd_updates", summary: "DMD of the updates w_{j+1} − w_j with |λ| ≤ 1, m = 14, s = 55",
                               accelerator: .dmd(updates)),
            AccelerationMethod(name: "dmd_network", summary: "one DMD over all layers with |λ| ≤ 1, m = 14, s = 55",
                               accelerator: .dmd(network)),
            AccelerationMethod(name: "dmd_updates_lr3e-3", summary: "DMD of the updates with |λ| ≤ 1, m = 14, s = 55, on Adam with lr 3e-3",
                               learningRate: 3e-3, accelerator: .dmd(updates)),
            AccelerationMethod(name: "dmd_network_lr3e-3", summary: "one DMD over all layers with |λ| ≤ 1, m = 14, s = 55, on Adam with lr 3e-3",
                               learningRate: 3e-3, accelerator: .dmd(network)),
        ]
    }

    public static func named(_ name: String) throws -> AccelerationMethod {
        guard let method = catalog().first(where: { $0.name == name }) else {
            throw StudyError("unknown method \"\(name)\"; expected one of \(catalog().map(\.name).joined(separator: ", "))")
        }
        return method
    }

    /// The recipe of this method from the tuned one, for `epochs` planned epochs and seed `seed`
    /// (network and shuffle seeds both offset by it). No early stopping: the study stops a run itself.
    func options(tuned: RegularizedTrainingOptions, epochs: Int, seed: Int, fitCount: Int) -> RegularizedTrainingOptions {
        var o = recipe(tuned: tuned, fitCount: fitCount)
        o.epochs = epochs
        o.patience = 0
        o.threads = 1
        o.networkSeed = tuned.networkSeed &+ UInt64(seed)
        o.shuffleSeed = tuned.shuffleSeed &+ UInt64(seed)
        return o
    }

    /// The tuned recipe with this method's learning rate, batch and schedule (`[surrogate] tuned_method`).
    public func recipe(tuned: RegularizedTrainingOptions, fitCount: Int) -> RegularizedTrainingOptions {
        var o = tuned
        if let learningRate { o.learningRate = learningRate }
        if let batchSize { o.batchSize = batchSize == 0 ? fitCount : batchSize }
        if let schedule { o.schedule = schedule }
        if let weightDecay { o.weightDecay = weightDecay }
        if let minimumLearningRateFraction { o.minimumLearningRateFraction = minimumLearningRateFraction }
        if scheduleFree == true { o.scheduleFree = true }
        return o
    }

    /// The epochs of Adam before the L-BFGS phase (all `planned` epochs for every other method).
    public func adamEpochs(planned: Int) -> Int {
        guard case .lbfgs(let fraction, _) = accelerator else { return planned }
        return max(1, Int((fraction * Double(planned)).rounded()))
    }

    /// The hook this method attaches to the trainer (nil: none, or the L-BFGS phase, which is not a hook).
    public func makeHook(layout: NetworkLayout, log: @escaping (String) -> Void) throws -> TrainingHook? {
        switch accelerator {
        case .none, .lbfgs: return nil
        case .lookahead(let s): return try LookaheadAccelerator(settings: s, layout: layout)
        case .extrapolation(let s): return try RREAccelerator(settings: s, layout: layout, log: log)
        case .dmd(let s): return try DMDAccelerator(settings: s, layout: layout, copyThreads: 1, log: log)
        }
    }
}

public struct StudyError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
