import Foundation

/// The settings of Algorithm 1 (formulation.md §5) and of the safeguards beyond the paper, in the
/// library's own terms (the executable maps the `[dmd]` section onto them; this library does not
/// read configuration files).
public struct DMDTrainingSettings: Codable, Equatable, Sendable {
    /// When a snapshot is taken: after every epoch (the paper's Figure 3 counts epochs) or after
    /// every optimizer step (Algorithm 1 as printed: "Do backpropagation step; extract weights").
    public enum SnapshotTiming: String, Codable, Sendable, CaseIterable { case epoch, step }
    /// Adam's moments after an accepted jump: kept as they are, or zeroed with the bias correction restarted.
    public enum MomentPolicy: String, Codable, Sendable, CaseIterable { case keep, reset }
    /// Safeguard (d): how the step count s shrinks over the training (see `stepCount(progress:)`).
    public enum Annealing: String, Codable, Sendable, CaseIterable { case none, linear, cosine }
    /// What the DMD decomposes: the parameters w_1 … w_m (the paper's F9), or their updates
    /// d_j = w_{j+1} − w_j, whose fitted dynamics predicts the jump w_{m+s} − w_m = Σ_{j=1}^{s} d_{m−1+j}
    /// (docs/dmd-training.md, "DMD of the updates").
    public enum SnapshotKind: String, Codable, Sendable, CaseIterable { case weights, updates }
    /// Which parameters share one DMD: each selected layer its own (the paper), or all selected layers
    /// concatenated into one vector (one set of eigenvalues for the whole network).
    public enum Scope: String, Codable, Sendable, CaseIterable { case layer, network }

    /// m: snapshots per DMD (F9), at least 2.
    public var snapshotCount: Int
    /// s: steps extrapolated by a jump (F13), before annealing and guard factors.
    public var steps: Double
    /// tol, rank cap, SVD path, mode kind, safeguards (a) clamp and (b) relaxation ω: passed to the DMD library.
    public var tolerance: Double
    public var maximumRank: Int?
    public var svdMethod: DMDOptions.SVDMethod
    public var modes: DMDOptions.ModeKind
    public var clampEigenvalues: Bool
    public var relaxation: Double
    /// 0-based weight-layer indices that DMD extrapolates; empty = every layer.
    public var layers: [Int]
    public var moments: MomentPolicy
    public var snapshotTiming: SnapshotTiming
    /// Safeguard (c): candidate step counts `guardFactors[i] × s`; the best by training MSE is kept,
    /// the jump rejected if none beats the MSE at the m-th snapshot.
    public var guarded: Bool
    public var guardFactors: [Double]
    public var annealing: Annealing
    /// The epoch count over which annealing runs s down (the planned `training.epochs`).
    public var annealingEpochs: Int
    /// Measure train and test MSE just before each jump (history columns `*_mse_before/after`).
    public var recordJumpLosses: Bool
    /// The variants beyond the paper are stored only when they differ from it, so that the encoded
    /// settings — checkpoint fingerprints, the study's run specifications — of every paper-kind run
    /// written before they existed stay valid.
    private var snapshotKindIfNotWeights: SnapshotKind?
    private var scopeIfNotLayer: Scope?
    public var snapshotKind: SnapshotKind {
        get { snapshotKindIfNotWeights ?? .weights }
        set { snapshotKindIfNotWeights = newValue == .weights ? nil : newValue }
    }
    public var scope: Scope {
        get { scopeIfNotLayer ?? .layer }
        set { scopeIfNotLayer = newValue == .layer ? nil : newValue }
    }

    enum CodingKeys: String, CodingKey {
        case snapshotCount, steps, tolerance, maximumRank, svdMethod, modes, clampEigenvalues, relaxation, layers, moments,
             snapshotTiming, guarded, guardFactors, annealing, annealingEpochs, recordJumpLosses
        case snapshotKindIfNotWeights = "snapshotKind", scopeIfNotLayer = "scope"
    }

    public init(snapshotCount: Int = 14, steps: Double = 55, tolerance: Double = 1e-10, maximumRank: Int? = nil,
                svdMethod: DMDOptions.SVDMethod = .householderQR, modes: DMDOptions.ModeKind = .exact, clampEigenvalues: Bool = false, relaxation: Double = 1,
                layers: [Int] = [], moments: MomentPolicy = .keep, snapshotTiming: SnapshotTiming = .epoch,
                guarded: Bool = false, guardFactors: [Double] = [0.25, 0.5, 1, 2], annealing: Annealing = .none,
                annealingEpochs: Int = 3000, recordJumpLosses: Bool = true, snapshotKind: SnapshotKind = .weights,
                scope: Scope = .layer) {
        self.snapshotCount = snapshotCount; self.steps = steps; self.tolerance = tolerance; self.maximumRank = maximumRank
        self.svdMethod = svdMethod; self.modes = modes; self.clampEigenvalues = clampEigenvalues; self.relaxation = relaxation
        self.layers = layers; self.moments = moments; self.snapshotTiming = snapshotTiming
        self.guarded = guarded; self.guardFactors = guardFactors; self.annealing = annealing
        self.annealingEpochs = annealingEpochs; self.recordJumpLosses = recordJumpLosses
        self.snapshotKind = snapshotKind; self.scope = scope
    }

    /// The options of every layer's DMD.
    public func dmdOptions() throws -> DMDOptions {
        let options = DMDOptions(svdMethod: svdMethod, modes: modes, tolerance: tolerance, maximumRank: maximumRank,
                                 clampEigenvaluesToUnitCircle: clampEigenvalues, relaxation: relaxation)
        do { try options.validate() } catch { throw DMDTrainingError("[dmd]: \(error)") }
        return options
    }

    /// Checks the settings against a network: every value meaningful, every named layer present.
    public func validate(layerCount: Int) throws {
        guard snapshotCount >= 2 else { throw DMDTrainingError("dmd.m must be at least 2 (X and X' of F9), got \(snapshotCount)") }
        if snapshotKind == .updates, snapshotCount < 3 {
            throw DMDTrainingError("dmd.snapshot_kind = \"updates\" needs dmd.m ≥ 3 (m snapshots give m − 1 updates, and X, X' need two), got \(snapshotCount)")
        }
        guard steps.isFinite, steps >= 0 else { throw DMDTrainingError("dmd.s must be a finite number ≥ 0, got \(steps)") }
        _ = try dmdOptions()
        for layer in layers where layer < 0 || layer >= layerCount {
            throw DMDTrainingError("dmd.layers names layer \(layer), but the network has \(layerCount) weight layers (0…\(layerCount - 1), 0-based)")
        }
        guard Set(layers).count == layers.count else { throw DMDTrainingError("dmd.layers lists a layer twice: \(layers)") }
        if guarded {
            guard !guardFactors.isEmpty else { throw DMDTrainingError("dmd.guarded = true needs at least one entry in dmd.guard_factors") }
            for f in guardFactors where !(f.isFinite && f >= 0) {
                throw DMDTrainingError("dmd.guard_factors must be finite numbers ≥ 0, got \(f)")
            }
        }
        if annealing != .none, annealingEpochs < 1 {
            throw DMDTrainingError("annealing needs the planned number of epochs (≥ 1), got \(annealingEpochs)")
        }
    }

    /// The layers DMD extrapolates, ascending.
    public func selectedLayers(layerCount: Int) -> [Int] {
        layers.isEmpty ? Array(0..<layerCount) : layers.sorted()
    }

    /// Safeguard (d): the step count of a jump made when a fraction `progress` = e / E of the
    /// planned training is done (e = epochs completed when the jump is made, E = `annealingEpochs`;
    /// clamped to [0, 1]):
    /// - none:   s(p) = s
    /// - linear: s(p) = s (1 − p)
    /// - cosine: s(p) = s (1 + cos π p) / 2
    /// Both schedules start at s and reach 0 (no jump) at the end of the planned training. The result
    /// may be fractional: λ^s is taken on the principal branch (docs/dmd.md).
    public func stepCount(progress: Double) -> Double {
        let p = min(max(progress, 0), 1)
        switch annealing {
        case .none: return steps
        case .linear: return steps * (1 - p)
        case .cosine: return steps * (1 + Foundation.cos(Double.pi * p)) / 2
        }
    }

    /// The text a checkpoint must match to be resumed with these settings. The planned epoch count
    /// is part of it only with annealing (which is defined relative to it); `recordJumpLosses`
    /// changes the history columns, so it is part of it too.
    public var fingerprint: String {
        var copy = self
        if copy.annealing == .none { copy.annealingEpochs = 0 }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(copy)).flatMap { String(data: $0, encoding: .utf8) } ?? "\(copy)"
        return "DMDAccelerator " + json
    }
}
