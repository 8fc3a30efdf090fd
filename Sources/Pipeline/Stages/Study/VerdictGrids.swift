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
///
/// The edge rule: a family's choice whose step size — the learning rate for `adam` and
/// `schedule_free`, the jump length s for `dmd` — is the smallest or the largest value tried is not
/// trusted as a minimum: the same configuration with the step halved (at the lower edge) or doubled
/// (at the upper) is run on the tuning seeds and replaces the choice if its score is lower, up to
/// `edgeExtensions` times per family (`beyondEdge`). Every family gets the same rule and the same
/// bound, so the budgets stay equal.
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

    static let schedules: [RegularizedTrainingOptions.Schedule] = [.constant, .cosine, .oneCycle]

    static func label(_ schedule: RegularizedTrainingOptions.Schedule) -> String {
        switch schedule { case .constant: "constant"; case .cosine: "cosine0"; case .oneCycle: "onecycle" }
    }

    /// One configuration of the `adam` family: Adam (λ = 0) or AdamW (λ = `weightDecay`).
    static func adamMethod(decoupled: Bool, weightDecay lambda: Double, learningRate lr: Double, batch: Int,
                           schedule: RegularizedTrainingOptions.Schedule) -> AccelerationMethod {
        AccelerationMethod(name: "\(decoupled ? "adamw" : "adam")_lr\(short(lr))_b\(batch)_\(label(schedule))",
                           summary: "\(decoupled ? "AdamW λ = \(short(lambda))" : "Adam"), lr \(short(lr)), batch \(batch), \(label(schedule))",
                           learningRate: lr, batchSize: batch, schedule: schedule, weightDecay: lambda, minimumLearningRateFraction: 0)
    }

    /// One configuration of the `schedule_free` family.
    static func scheduleFreeMethod(weightDecay lambda: Double, learningRate lr: Double, batch: Int) -> AccelerationMethod {
        AccelerationMethod(name: "sf_lr\(short(lr))_b\(batch)_wd\(short(lambda))",
                           summary: "schedule-free AdamW, lr \(short(lr)), batch \(batch), λ = \(short(lambda))",
                           learningRate: lr, batchSize: batch, schedule: .constant, weightDecay: lambda, scheduleFree: true)
    }

    /// The Adam and AdamW grid (90 configurations); `weightDecay` is AdamW's λ.
    public static func adam(weightDecay: Double) -> [AccelerationMethod] {
        var grid: [AccelerationMethod] = []
        for (decoupled, lambda) in [(false, 0.0), (true, weightDecay)] {
            for lr in learningRates { for batch in batches { for schedule in schedules {
                grid.append(adamMethod(decoupled: decoupled, weightDecay: lambda, learningRate: lr, batch: batch, schedule: schedule))
            } } }
        }
        return grid
    }

    /// The schedule-free AdamW grid (30 configurations).
    public static func scheduleFree(weightDecay: Double) -> [AccelerationMethod] {
        var grid: [AccelerationMethod] = []
        for lambda in [0.0, weightDecay] { for lr in learningRates { for batch in batches {
            grid.append(scheduleFreeMethod(weightDecay: lambda, learningRate: lr, batch: batch))
        } } }
        return grid
    }

    /// `base` (a chosen Adam configuration) with another name and an accelerator.
    static func riding(_ base: AccelerationMethod, name: String, summary: String, accelerator: AccelerationMethod.Accelerator) -> AccelerationMethod {
        var method = base
        method.name = name; method.summary = summary + " on " + base.summary; method.accelerator = accelerator
        return method
    }

    /// One configuration of the `dmd` family on top of `base`.
    static func dmdMethod(on base: AccelerationMethod, snapshots m: Int, steps s: Double, clamp: Bool, relaxation omega: Double) -> AccelerationMethod {
        var settings = DMDTrainingSettings(snapshotCount: m, steps: s, recordJumpLosses: false)
        settings.clampEigenvalues = clamp; settings.relaxation = omega
        return riding(base, name: "dmd_m\(m)_s\(Int(s))\(clamp ? "_clamp" : "")_w\(omega)",
                      summary: "DMD jump, m = \(m), s = \(Int(s))\(clamp ? ", |λ| ≤ 1" : ""), ω = \(omega)", accelerator: .dmd(settings))
    }

    /// The DMD grid on top of `base` (90 configurations).
    public static func dmd(on base: AccelerationMethod) -> [AccelerationMethod] {
        var grid: [AccelerationMethod] = []
        for m in snapshotCounts { for s in jumpSteps { for clamp in [false, true] { for omega in relaxations {
            grid.append(dmdMethod(on: base, snapshots: m, steps: s, clamp: clamp, relaxation: omega))
        } } } }
        return grid
    }

    /// At most this many configurations per family beyond its grid's edge (see the type).
    public static let edgeExtensions = 2

    /// The configuration one step beyond the grid's edge in `chosen`'s step size, or nil when that step
    /// size lies inside the values tried: the grid's (`learningRates` or `jumpSteps`) and those of
    /// `extended` (the configurations already run beyond the edge). `base`: the Adam configuration a
    /// DMD choice rides on.
    public static func beyondEdge(of chosen: AccelerationMethod, family: Family, extended: [AccelerationMethod], base: AccelerationMethod? = nil) -> AccelerationMethod? {
        func next(_ value: Double, tried: [Double], floor: Double) -> Double? {
            guard let low = tried.min(), let high = tried.max() else { return nil }
            if value <= low, value > floor { return Swift.max(value / 2, floor) }
            if value >= high { return 2 * value }
            return nil
        }
        switch family {
        case .adam, .scheduleFree:
            guard let rate = chosen.learningRate, let batch = chosen.batchSize, let lambda = chosen.weightDecay,
                  let lr = next(rate, tried: learningRates + extended.compactMap(\.learningRate), floor: 0) else { return nil }
            if family == .scheduleFree { return scheduleFreeMethod(weightDecay: lambda, learningRate: lr, batch: batch) }
            guard let schedule = chosen.schedule else { return nil }
            return adamMethod(decoupled: chosen.name.hasPrefix("adamw_"), weightDecay: lambda, learningRate: lr, batch: batch, schedule: schedule)
        case .dmd:
            guard case .dmd(let settings) = chosen.accelerator, let base else { return nil }
            let steps = extended.compactMap { if case .dmd(let e) = $0.accelerator { e.steps } else { nil } }
            // s counts steps of the extrapolation: halved below the grid it is rounded down, and 1 is the least.
            guard let s = next(settings.steps, tried: jumpSteps + steps, floor: 1).map({ $0 < jumpSteps.min()! ? Swift.max(1, $0.rounded(.down)) : $0 }),
                  s != settings.steps else { return nil }
            return dmdMethod(on: base, snapshots: settings.snapshotCount, steps: s, clamp: settings.clampEigenvalues, relaxation: settings.relaxation)
        }
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
