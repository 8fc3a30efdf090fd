import Foundation
import NumericalFoundations
import Surrogates

/// The contenders of the paired acceleration study and their tuning grids. Each family is tuned
/// on grids of the same size (or subsampled to the same budget by a seeded random search):
///
/// - `adam`: Adam (λ = 0) and AdamW (λ = `[surrogate] tuned_weight_decay`) × learning rate
///   {1e-3, 2e-3, 3e-3, 5e-3, 1e-2} × batch {16, 32, 64} × schedule {constant, cosine to zero over the
///   horizon, one-cycle to zero}: 90 configurations. Warm-up: `[surrogate] tuned_warmup_epochs` (not
///   for one-cycle, which rises by itself).
/// - `schedule_free`: schedule-free AdamW (Defazio et al. 2024) × the same learning rates and batches ×
///   λ ∈ {0, tuned_weight_decay}: 30 configurations (it has no schedule to tune; its warm-up is the same).
/// - `dmd`: the DMD jump on top of the chosen `adam` configuration × m {7, 14, 21} × s {7, 14, 28, 55, 110}
///   × clamp |λ| ≤ 1 {no, yes} × relaxation ω {0.5, 0.75, 1}: 90 configurations.
///
/// Lookahead, RRE, MPE, Anderson and Adam → L-BFGS ride on the chosen `adam` configuration with the
/// settings of the first study (not tuned).
public enum VerdictGrids {
    public enum Family: String, Codable, Sendable, CaseIterable { case adam, scheduleFree = "schedule_free", dmd }

    static let learningRates = [1e-3, 2e-3, 3e-3, 5e-3, 1e-2]
    static let batches = [16, 32, 64]
    static let snapshotCounts = [7, 14, 21], jumpSteps: [Double] = [7, 14, 28, 55, 110], relaxations = [0.5, 0.75, 1.0]

    /// "3e-3" for 0.003.
    static func short(_ x: Double) -> String {
        guard x > 0 else { return "0" }
        let e = Int(Foundation.log10(x).rounded(.down))
        let mantissa = x / Foundation.pow(10, Double(e))
        let m = abs(mantissa - mantissa.rounded()) < 1e-9 ? "\(Int(mantissa.rounded()))" : String(format: "%.3g", mantissa)
        return "\(m)e\(e)"
    }

    /// The Adam and AdamW grid (90 configurations); `weightDecay` is AdamW's λ.
    public static func adam(weightDecay: Double) -> [AccelerationMethod] {
        let schedules: [(String, RegularizedTrainingOptions.Schedule)] = [("constant", .constant), ("cosine0", .cosine), ("onecycle", .oneCycle)]
        var grid: [AccelerationMethod] = []
        for (optimizer, lambda) in [("adam", 0.0), ("adamw", weightDecay)] {
            for lr in learningRates { for batch in batches { for (label, schedule) in schedules {
                grid.append(AccelerationMethod(name: "\(optimizer)_lr\(short(lr))_b\(batch)_\(label)",
                                               summary: "\(optimizer == "adam" ? "Adam" : "AdamW λ = \(short(lambda))"), lr \(short(lr)), batch \(batch), \(label)",
                                               learningRate: lr, batchSize: batch, schedule: schedule, weightDecay: lambda,
                                               minimumLearningRateFraction: 0))
            } } }
        }
        return grid
    }

    /// The schedule-free AdamW grid (30 configurations).
    public static func scheduleFree(weightDecay: Double) -> [AccelerationMethod] {
        var grid: [AccelerationMethod] = []
        for lambda in [0.0, weightDecay] { for lr in learningRates { for batch in batches {
            grid.append(AccelerationMethod(name: "sf_lr\(short(lr))_b\(batch)_wd\(short(lambda))",
                                           summary: "schedule-free AdamW, lr \(short(lr)), batch \(batch), λ = \(short(lambda))",
                                           learningRate: lr, batchSize: batch, schedule: .constant, weightDecay: lambda, scheduleFree: true))
        } } }
        return grid
    }

    /// `base` (a chosen Adam configuration) with another name and an accelerator.
    static func riding(_ base: AccelerationMethod, name: String, summary: String, accelerator: AccelerationMethod.Accelerator) -> AccelerationMethod {
        var method = base
        method.name = name; method.summary = summary + " on " + base.summary; method.accelerator = accelerator
        return method
    }

    /// The DMD grid on top of `base` (90 configurations).
    public static func dmd(on base: AccelerationMethod) -> [AccelerationMethod] {
        var grid: [AccelerationMethod] = []
        for m in snapshotCounts { for s in jumpSteps { for clamp in [false, true] { for omega in relaxations {
            var settings = DMDTrainingSettings(snapshotCount: m, steps: s, recordJumpLosses: false)
            settings.clampEigenvalues = clamp; settings.relaxation = omega
            grid.append(riding(base, name: "dmd_m\(m)_s\(Int(s))\(clamp ? "_clamp" : "")_w\(omega)",
                               summary: "DMD jump, m = \(m), s = \(Int(s))\(clamp ? ", |λ| ≤ 1" : ""), ω = \(omega)", accelerator: .dmd(settings)))
        } } } }
        return grid
    }

    /// The untuned accelerators of the first study on top of `base`.
    public static func fixedAccelerators(on base: AccelerationMethod) -> [AccelerationMethod] {
        let m = 14
        return [
            riding(base, name: "lookahead", summary: "Lookahead, k = 14 epochs, α = 0.5", accelerator: .lookahead(LookaheadSettings(period: .epochs(m), alpha: 0.5))),
            riding(base, name: "rre", summary: "regularised RRE (λ = 1e-8) every 14 epochs, guarded",
                   accelerator: .extrapolation(RRESettings(differenceCount: m, regularization: 1e-8, method: .rre, guarded: true))),
            riding(base, name: "mpe", summary: "MPE (λ = 1e-8) every 14 epochs, guarded",
                   accelerator: .extrapolation(RRESettings(differenceCount: m, regularization: 1e-8, method: .mpe, guarded: true))),
            riding(base, name: "anderson", summary: "Anderson (type II, depth 14) every 14 epochs, guarded",
                   accelerator: .extrapolation(RRESettings(differenceCount: m, regularization: 1e-8, method: .anderson, guarded: true))),
            riding(base, name: "adam_lbfgs", summary: "the first third, then full-batch L-BFGS (10 pairs)", accelerator: .lbfgs(switchFraction: 1.0 / 3.0, memory: 10)),
        ]
    }

    /// `grid` itself when `budget` is nil or covers it; otherwise `budget` configurations drawn
    /// without replacement by a seeded random search (stream = the family's index), in grid order.
    public static func subsample(_ grid: [AccelerationMethod], budget: Int?, seed: UInt64, family: Family) -> [AccelerationMethod] {
        guard let budget, budget < grid.count else { return grid }
        var generator = SeededGenerator(seed: seed, stream: UInt64(Family.allCases.firstIndex(of: family)! + 1))
        let chosen = Set(generator.permutation(grid.count).prefix(max(budget, 1)))
        return grid.indices.filter { chosen.contains($0) }.map { grid[$0] }
    }
}
