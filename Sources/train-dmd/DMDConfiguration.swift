import Configuration
import DMDTraining

extension DMDTrainingSettings {
    /// Algorithm 1's settings from the `[dmd]` section; `plannedEpochs` (training.epochs) is the
    /// horizon of the annealing schedule.
    init(_ dmd: DMDSettings, plannedEpochs: Int) {
        self.init(snapshotCount: dmd.m, steps: Double(dmd.s), tolerance: dmd.tol, maximumRank: dmd.maxRank > 0 ? dmd.maxRank : nil,
                  svdMethod: dmd.svd == .gram ? .methodOfSnapshots : .householderQR, modes: dmd.modes == .projected ? .projected : .exact, clampEigenvalues: dmd.clampEigenvalues,
                  relaxation: dmd.relaxation, layers: dmd.layers,
                  moments: dmd.moments == .reset ? .reset : .keep,
                  snapshotTiming: dmd.snapshot == .step ? .step : .epoch,
                  guarded: dmd.guarded, guardFactors: dmd.guardFactors,
                  annealing: Annealing(rawValue: dmd.annealing.rawValue) ?? .none,
                  annealingEpochs: plannedEpochs, recordJumpLosses: dmd.recordJumpLosses,
                  snapshotKind: dmd.snapshotKind == .updates ? .updates : .weights, scope: dmd.scope == .network ? .network : .layer)
    }
}
