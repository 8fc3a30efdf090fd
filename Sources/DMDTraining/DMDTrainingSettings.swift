import DMD
import Foundation
import NeuralNetwork

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

    /// m: snapshots per DMD (F9), at least 2.
    public var snapshotCount: Int
    /// s: steps extrapolated by a jump (F13), before annealing and guard factors.
    public var steps: Double
    /// tol, rank cap, SVD path, mode kind, safeguards (a) clamp and (b) relaxation ω: passed to the DMD library.
    public var tolerance: Double
    public var maximumRank: Int?
    public var svdMethod: String
    public var modes: String
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

    public init(snapshotCount: Int = 14, steps: Double = 55, tolerance: Double = 1e-10, maximumRank: Int? = nil,
                svdMethod: String = "qr", modes: String = "exact", clampEigenvalues: Bool = false, relaxation: Double = 1,
                layers: [Int] = [], moments: MomentPolicy = .keep, snapshotTiming: SnapshotTiming = .epoch,
                guarded: Bool = false, guardFactors: [Double] = [0.25, 0.5, 1, 2], annealing: Annealing = .none,
                annealingEpochs: Int = 3000, recordJumpLosses: Bool = true) {
        self.snapshotCount = snapshotCount; self.steps = steps; self.tolerance = tolerance; self.maximumRank = maximumRank
        self.svdMethod = svdMethod; self.modes = modes; self.clampEigenvalues = clampEigenvalues; self.relaxation = relaxation
        self.layers = layers; self.moments = moments; self.snapshotTiming = snapshotTiming
        self.guarded = guarded; self.guardFactors = guardFactors; self.annealing = annealing
        self.annealingEpochs = annealingEpochs; self.recordJumpLosses = recordJumpLosses
    }

    /// The options of every layer's DMD.
    public func dmdOptions() throws -> DMDOptions {
        guard let svd = DMDOptions.SVDMethod(rawValue: svdMethod) else {
            throw NetworkError("dmd.svd must be \"qr\" or \"gram\", got \"\(svdMethod)\"")
        }
        guard let kind = DMDOptions.ModeKind(rawValue: modes) else {
            throw NetworkError("dmd.modes must be \"exact\" or \"projected\", got \"\(modes)\"")
        }
        let options = DMDOptions(svdMethod: svd, modes: kind, tolerance: tolerance, maximumRank: maximumRank,
                                 clampEigenvaluesToUnitCircle: clampEigenvalues, relaxation: relaxation)
        do { try options.validate() } catch { throw NetworkError("[dmd]: \(error)") }
        return options
    }

    /// Checks the settings against a network: every value meaningful, every named layer present.
    public func validate(layerCount: Int) throws {
        guard snapshotCount >= 2 else { throw NetworkError("dmd.m must be at least 2 (X and X' of F9), got \(snapshotCount)") }
        guard steps.isFinite, steps >= 0 else { throw NetworkError("dmd.s must be a finite number ≥ 0, got \(steps)") }
        _ = try dmdOptions()
        for layer in layers where layer < 0 || layer >= layerCount {
            throw NetworkError("dmd.layers names layer \(layer), but the network has \(layerCount) weight layers (0…\(layerCount - 1), 0-based)")
        }
        guard Set(layers).count == layers.count else { throw NetworkError("dmd.layers lists a layer twice: \(layers)") }
        if guarded {
            guard !guardFactors.isEmpty else { throw NetworkError("dmd.guarded = true needs at least one entry in dmd.guard_factors") }
            for f in guardFactors where !(f.isFinite && f >= 0) {
                throw NetworkError("dmd.guard_factors must be finite numbers ≥ 0, got \(f)")
            }
        }
        if annealing != .none, annealingEpochs < 1 {
            throw NetworkError("annealing needs the planned number of epochs (≥ 1), got \(annealingEpochs)")
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
