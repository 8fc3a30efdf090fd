import Surrogates

/// `[dmd]`: Algorithm 1 and formulation.md §5 (F9)-(F13), plus the safeguards beyond the paper.
public struct DMDSettings: Sendable, Equatable {
    // The choices are the libraries' own enums, whose raw values are the TOML spellings.
    public typealias SVDMethod = DMDOptions.SVDMethod
    public typealias Modes = DMDOptions.ModeKind
    public typealias Moments = DMDTrainingSettings.MomentPolicy
    public typealias SnapshotTiming = DMDTrainingSettings.SnapshotTiming
    public typealias Annealing = DMDTrainingSettings.Annealing
    public typealias SnapshotKind = DMDTrainingSettings.SnapshotKind
    public typealias Scope = DMDTrainingSettings.Scope

    public var m: Int
    public var s: Int
    public var tol: Double
    /// Upper bound on the DMD rank r on top of `tol` (0 = no bound).
    public var maxRank: Int
    public var svd: SVDMethod
    public var modes: Modes
    /// Indices of the layers that DMD extrapolates (0-based); empty = all layers.
    public var layers: [Int]
    public var moments: Moments
    public var snapshot: SnapshotTiming
    /// Safeguard (a): eigenvalues with |λ| > 1 scaled back to the unit circle.
    public var clampEigenvalues: Bool
    /// Safeguard (b): w ← w_m + ω (w_dmd − w_m).
    public var relaxation: Double
    /// Safeguard (c): try these multiples of s and keep the best, or none.
    public var guarded: Bool
    public var guardFactors: [Double]
    /// Safeguard (d): s decreases over the training.
    public var annealing: Annealing
    /// Measure the train and test MSE just before every jump (extra forward passes; the relative
    /// error of the paper's Figure 3). Off = no `*_mse_before`/`*_mse_after` history columns.
    public var recordJumpLosses: Bool
    /// What DMD decomposes: the weights (the paper's F9) or their epoch-to-epoch updates.
    public var snapshotKind: SnapshotKind
    /// One DMD per layer (the paper) or one over all the selected layers.
    public var scope: Scope

    public init(_ r: SectionReader) throws {
        m = try r.int("m", default: 14, in: 2...10_000)
        s = try r.int("s", default: 55, in: 0...1_000_000)
        tol = try r.double("tol", default: 1e-10, in: 0...1)
        maxRank = try r.int("max_rank", default: 0, in: 0...10_000)
        svd = try r.choice("svd", default: SVDMethod.householderQR)
        modes = try r.choice("modes", default: Modes.exact)
        layers = try r.ints("layers", default: [], each: 0...1000)
        moments = try r.choice("adam_moments", default: Moments.keep)
        snapshot = try r.choice("snapshot", default: SnapshotTiming.epoch)
        clampEigenvalues = try r.bool("clamp_eigenvalues", default: false)
        relaxation = try r.double("relaxation", default: 1, in: 0...10)
        guarded = try r.bool("guarded", default: false)
        guardFactors = try r.doubles("guard_factors", default: [0.25, 0.5, 1, 2], each: 0...100)
        annealing = try r.choice("annealing", default: Annealing.none)
        recordJumpLosses = try r.bool("record_jump_losses", default: true)
        snapshotKind = try r.choice("snapshot_kind", default: SnapshotKind.weights)
        scope = try r.choice("scope", default: Scope.layer)
        if snapshotKind == .updates && m < 3 {
            throw r.error("m", "must be at least 3 with snapshot_kind = \"updates\" (m snapshots give m − 1 updates; X and X' need two), got \(m)")
        }
    }
}
