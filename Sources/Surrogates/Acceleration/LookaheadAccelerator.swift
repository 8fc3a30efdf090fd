import Foundation

/// Settings of the Lookahead optimizer wrapper (Zhang, Lucas, Hinton & Ba, "Lookahead Optimizer:
/// k steps forward, 1 step back", NeurIPS 2019, Algorithm 1).
public struct LookaheadSettings: Codable, Equatable, Sendable {
    /// When the slow weights are synchronised: every k optimizer steps (the paper's k inner
    /// steps), or every k epochs (coarser; an epoch = ⌈N / batch⌉ steps).
    public enum Period: Codable, Equatable, Sendable {
        case steps(Int)
        case epochs(Int)

        public var count: Int {
            switch self { case .steps(let k), .epochs(let k): return k }
        }
    }

    public var period: Period
    /// α, the slow-weights step size of Algorithm 1 (α = 1: the inner optimizer unchanged).
    public var alpha: Double

    public init(period: Period = .steps(5), alpha: Double = 0.5) {
        self.period = period
        self.alpha = alpha
    }

    public func validate() throws {
        guard period.count >= 1 else { throw DMDTrainingError("lookahead: k must be at least 1, got \(period.count)") }
        guard alpha.isFinite, alpha > 0, alpha <= 1 else { throw DMDTrainingError("lookahead: α must be in (0, 1], got \(alpha)") }
    }

    /// What a checkpoint must match to be resumed with these settings.
    public var fingerprint: String { "LookaheadAccelerator " + canonicalJSON(self) }
}

/// Lookahead (Zhang et al. 2019, Algorithm 1) as a `TrainingHook`.
///
/// The fast weights θ are the trainer's parameters, moved by the inner optimizer (Adam); the hook
/// keeps the slow weights φ in float64, φ₀ = θ₀ at the start of training. After every k inner steps
/// (or k epochs) it performs Algorithm 1's outer update
///     φ ← φ + α (θ − φ),   θ ← φ
/// for every layer. As in the paper, the inner optimizer's state (Adam's moments and step count)
/// is left untouched by the synchronisation.
///
/// Counting uses the trainer's own `optimizerSteps` / `completedEpochs` (which survive resumes), so a
/// resumed run synchronises at the same steps as an uninterrupted one; φ is in the checkpoint.
/// Cost per sync: one float64 copy out and one copy back per layer; memory: one float64 copy of
/// the parameters.
public final class LookaheadAccelerator: TrainingHook {
    public let settings: LookaheadSettings
    public let layout: NetworkLayout
    /// Synchronisations so far (restored from checkpoints too).
    public private(set) var syncCount = 0
    /// φ per layer (empty until training starts).
    public private(set) var slowWeights: [[Double]] = []
    private var syncsInEpoch = 0
    private var restoredFromCheckpoint = false

    public init(settings: LookaheadSettings, layout: NetworkLayout) throws {
        try settings.validate()
        self.settings = settings
        self.layout = layout
    }

    // MARK: TrainingHook

    public var historyColumns: [String] { ["lookahead_syncs", "lookahead_slow_distance"] }

    public var wantsStepCallbacks: Bool {
        if case .steps = settings.period { return true }
        return false
    }

    public var checkpointFingerprint: String { settings.fingerprint }

    public func trainingWillStart(_ trainer: TrainerAccess) throws {
        guard trainer.layout == layout else {
            throw DMDTrainingError("the Lookahead hook was built for the network \(layout), the trainer has \(trainer.layout)")
        }
        // Algorithm 1: φ₀ = θ₀. On a resume φ comes from the checkpoint instead.
        if !restoredFromCheckpoint || slowWeights.isEmpty {
            slowWeights = (0..<layout.layerCount).map { copyLayer(trainer, $0) }
        }
        syncsInEpoch = 0
    }

    public func afterStep(_ trainer: TrainerAccess) throws {
        guard case .steps(let k) = settings.period, trainer.optimizerSteps % k == 0 else { return }
        try synchronise(trainer)
    }

    public func afterEpoch(_ trainer: TrainerAccess) throws -> [String: Double] {
        var distance: Double? = nil
        if case .epochs(let k) = settings.period, trainer.completedEpochs % k == 0 {
            distance = try synchronise(trainer)
        }
        defer { syncsInEpoch = 0 }
        var row: [String: Double] = ["lookahead_syncs": Double(syncsInEpoch)]
        row["lookahead_slow_distance"] = distance
        return row
    }

    /// The outer loop of Algorithm 1 (lines "φ_t ← φ_{t−1} + α(θ_{t,k} − φ_{t−1})", "θ_{t+1,0} ← φ_t").
    /// Returns ‖θ − φ_old‖₂ over all layers (the length of the inner excursion).
    @discardableResult
    private func synchronise(_ trainer: TrainerAccess) throws -> Double {
        let α = settings.alpha
        var squared = 0.0
        for layer in 0..<layout.layerCount {
            let θ = copyLayer(trainer, layer)
            var φ = slowWeights[layer]
            for i in φ.indices {
                let d = θ[i] - φ[i]
                squared += d * d
                φ[i] = φ[i] + α * d
            }
            if let bad = φ.firstIndex(where: { !$0.isFinite }) {
                throw DMDDivergenceError("lookahead sync \(syncCount + 1): layer \(layer)'s slow weight \(bad) is \(φ[bad]) (training diverged)")
            }
            slowWeights[layer] = φ
            assignLayer(trainer, layer, φ)
        }
        syncCount += 1
        syncsInEpoch += 1
        return squared.squareRoot()
    }

    // MARK: Checkpoint state

    struct Header: Codable {
        var fingerprint: String
        var syncCount: Int
        var dimensions: [Int]
    }

    static let magic = Array("LOOKAHD1".utf8)

    public func checkpointState() throws -> Data {
        try HookStateArchive(header: Header(fingerprint: settings.fingerprint, syncCount: syncCount, dimensions: slowWeights.map(\.count)),
                             vectors: slowWeights).encoded(magic: Self.magic)
    }

    public func restoreCheckpointState(_ data: Data) throws {
        let archive = try HookStateArchive<Header>.decode(data, magic: Self.magic, what: "Lookahead") { header in
            guard header.fingerprint == self.settings.fingerprint else {
                throw DMDTrainingError("checkpoint: Lookahead state: written with other settings (\(header.fingerprint)), now \(self.settings.fingerprint)")
            }
            let expected = (0..<self.layout.layerCount).map { self.layout.parameterCount(ofLayer: $0) }
            guard header.dimensions.isEmpty || header.dimensions == expected else {
                throw DMDTrainingError("checkpoint: Lookahead state: layer sizes \(header.dimensions) do not match this network's \(expected)")
            }
            return header.dimensions
        }
        slowWeights = archive.vectors
        syncCount = archive.header.syncCount
        restoredFromCheckpoint = !slowWeights.isEmpty
    }
}
