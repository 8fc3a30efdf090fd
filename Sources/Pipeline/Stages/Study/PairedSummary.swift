import Foundation
import NumericalFoundations
import Reporting
import Uncertainty

/// The tables of the paired study: one line per run (runs.csv), one line per method and target
/// level with paired bootstrap intervals (verdict.csv, verdict.md).
public struct PairedSummary: Codable, Sendable {
    /// Where a run first reached one level (sustained): epoch, gradient evaluations (samples),
    /// clock-free seconds (nil without a cost measurement), CPU and wall seconds of its own clock.
    public struct Hit: Codable, Equatable, Sendable {
        public var epoch: Int
        public var gradientEvaluations: Double
        public var clockFreeSeconds: Double?
        public var cpuSeconds: Double
        public var wallSeconds: Double
    }

    public struct Run: Codable, Sendable {
        public var method: String
        public var seed: Int
        public var status: AccelerationRunResult.Status
        public var epochsRun: Int
        public var bestValidationMSE: Double
        public var bestMovingAverage: Double
        public var bestEpoch: Int?
        public var testRelativeL2Median: Double?
        public var testRelativeL2P95: Double?
        /// One per level (nil: not reached).
        public var hits: [Hit?]
        /// Moving average of the validation MSE per epoch (NaN before the window fills) and the clock-free seconds at each epoch.
        var movingAverage: [Double]
        var clockFree: [Double]?
    }

    public struct Row: Codable, Sendable {
        public var method: String
        public var summary: String
        public var level: Double
        public var target: Double
        public var seeds: Int
        public var reached: Int
        public var medianEpochs: Double
        public var medianClockFreeSeconds: Double?
        /// Per-seed baseline / method, clock-free seconds and epochs: median and paired bootstrap interval.
        public var speedup: Bootstrap.Interval?
        public var epochRatio: Bootstrap.Interval?
        public var testRelativeL2Median: Double?
        public var testRelativeL2P95: Double?
    }

    public var baseline: String
    public var target: Double
    public var levels: [Double]
    public var window: Int
    public var epochs: Int
    public var seeds: [Int]
    public var runs: [Run]
    public var rows: [Row]
    public var costs: EpochCosts?
    /// Where the configurations were chosen when not by this study's own tuning (a transfer), or nil.
    public var tuning: String?

    /// The clock-free seconds at each row of `history`: epochs × the method's minimum CPU seconds
    /// per epoch; for Adam → L-BFGS, the second phase's full-batch evaluations × their cost.
    static func clockFree(_ history: [AccelerationEpoch], method: AccelerationMethod, plannedEpochs: Int, costs: EpochCosts?) -> [Double]? {
        guard let entry = costs?.entry(method.name) else { return nil }
        guard case .lbfgs = method.accelerator, let perEvaluation = entry.fullBatchMinimum else {
            return history.map { Double($0.epoch) * entry.minimum }
        }
        let perEpochSamples = history.first { $0.epoch == 1 }?.gradientEvaluations ?? .nan
        let adamEpochs = method.adamEpochs(planned: plannedEpochs)
        return history.map { row in
            guard row.epoch > adamEpochs else { return Double(row.epoch) * entry.minimum }
            let evaluations = (row.gradientEvaluations - Double(adamEpochs) * perEpochSamples) / perEpochSamples
            return Double(adamEpochs) * entry.minimum + evaluations * perEvaluation
        }
    }

    static func run(_ r: PairedStudy.FinishedRun, levels: [Double], window: Int, costs: EpochCosts?) -> Run {
        let rows = r.history.filter { $0.epoch >= 1 }
        let average = SustainedTarget.movingAverages(rows.map(\.validationMSE), window: window)
        let clock = clockFree(rows, method: r.spec.method, plannedEpochs: r.spec.epochs, costs: costs)
        let hits = levels.map { level -> Hit? in
            guard let k = average.firstIndex(where: { $0.isFinite && $0 <= level }) else { return nil }
            return Hit(epoch: rows[k].epoch, gradientEvaluations: rows[k].gradientEvaluations, clockFreeSeconds: clock?[k],
                       cpuSeconds: rows[k].cpuSeconds, wallSeconds: rows[k].wallSeconds)
        }
        return Run(method: r.spec.method.name, seed: r.spec.seed, status: r.result.status, epochsRun: r.result.epochsRun,
                   bestValidationMSE: r.result.bestValidationMSE, bestMovingAverage: average.filter(\.isFinite).min() ?? .infinity,
                   bestEpoch: r.result.bestEpoch, testRelativeL2Median: r.result.testRelativeL2Median, testRelativeL2P95: r.result.testRelativeL2P95,
                   hits: hits, movingAverage: average, clockFree: clock)
    }

    init(finished: [PairedStudy.FinishedRun], methods: [AccelerationMethod], target: Double, settings: PairedStudy.Settings, costs: EpochCosts?,
         tuning: String? = nil) {
        baseline = methods.first?.name ?? ""
        self.tuning = tuning
        self.target = target; levels = settings.levels.sorted(); window = settings.window; epochs = settings.epochs
        seeds = settings.evaluationSeeds; self.costs = costs
        let levelValues = levels.map { $0 * target }
        runs = finished.map { Self.run($0, levels: levelValues, window: settings.window, costs: costs) }
        rows = []
        var rows: [Row] = []
        for method in methods { for (k, level) in levels.enumerated() {
            rows.append(row(method, levelIndex: k, level: level, settings: settings))
        } }
        self.rows = rows
    }

    func row(_ method: AccelerationMethod, levelIndex k: Int, level: Double, settings: PairedStudy.Settings) -> Row {
        func runOf(_ name: String, _ seed: Int) -> Run? { runs.first { $0.method == name && $0.seed == seed } }
        let mine = seeds.compactMap { runOf(method.name, $0) }
        let epochsTo = { (r: Run?) in r?.hits[k].map { Double($0.epoch) } ?? .infinity }
        let clockTo = { (r: Run?) in r?.hits[k].map { $0.clockFreeSeconds ?? .nan } ?? .infinity }
        // Pairs: seeds on which both the baseline and the method finished.
        let paired = seeds.filter { runOf(baseline, $0) != nil && runOf(method.name, $0) != nil }
        let stream = UInt64(k)
        let speedup = Bootstrap.pairedMedianRatio(numerators: paired.map { clockTo(runOf(baseline, $0)) }, denominators: paired.map { clockTo(runOf(method.name, $0)) },
                                                  resamples: settings.resamples, confidence: 0.95, seed: settings.bootstrapSeed, stream: stream)
        let epochRatio = Bootstrap.pairedMedianRatio(numerators: paired.map { epochsTo(runOf(baseline, $0)) }, denominators: paired.map { epochsTo(runOf(method.name, $0)) },
                                                     resamples: settings.resamples, confidence: 0.95, seed: settings.bootstrapSeed, stream: stream + 100)
        let clocks = mine.map(clockTo)
        return Row(method: method.name, summary: method.summary, level: level, target: level * target, seeds: mine.count,
                   reached: mine.filter { $0.hits[k] != nil }.count, medianEpochs: Bootstrap.median(mine.map(epochsTo)),
                   medianClockFreeSeconds: clocks.contains { $0.isNaN } || clocks.isEmpty ? nil : Bootstrap.median(clocks),
                   speedup: speedup.flatMap { $0.estimate.isNaN ? nil : $0 }, epochRatio: epochRatio,
                   testRelativeL2Median: mine.compactMap(\.testRelativeL2Median).isEmpty ? nil : Bootstrap.median(mine.compactMap(\.testRelativeL2Median)),
                   testRelativeL2P95: mine.compactMap(\.testRelativeL2P95).isEmpty ? nil : Bootstrap.median(mine.compactMap(\.testRelativeL2P95)))
    }
}

extension PairedSummary {
    public static let runsTable = "runs.csv", table = "verdict.csv", markdownFile = "verdict.md", jsonFile = "verdict.json"
    public static let figureFile = "verdict.svg"

    static func cell(_ x: Double?) -> String { x.map { $0.isNaN ? "" : "\($0)" } ?? "" }

    /// One line per run; per level: epochs, gradient evaluations, clock-free, CPU and wall seconds to it.
    public func runsCSV() -> String {
        var header = "method,seed,status,epochs_run,best_validation_mse,best_moving_average,best_epoch,test_rel_l2_median,test_rel_l2_p95"
        for level in levels {
            let l = String(format: "%g", level)
            header += ",epochs_to_\(l)T,gradient_evaluations_to_\(l)T,clock_free_s_to_\(l)T,cpu_s_to_\(l)T,wall_s_to_\(l)T"
        }
        var t = header + "\n"
        for r in runs {
            t += "\(r.method),\(r.seed),\(r.status.rawValue),\(r.epochsRun),\(r.bestValidationMSE),\(r.bestMovingAverage),\(r.bestEpoch.map { "\($0)" } ?? ""),"
            t += "\(Self.cell(r.testRelativeL2Median)),\(Self.cell(r.testRelativeL2P95))"
            for h in r.hits {
                t += ",\(h.map { "\($0.epoch)" } ?? ""),\(Self.cell(h?.gradientEvaluations)),\(Self.cell(h?.clockFreeSeconds)),\(Self.cell(h?.cpuSeconds)),\(Self.cell(h?.wallSeconds))"
            }
            t += "\n"
        }
        return t
    }

    /// One line per method and level.
    public func tableCSV() -> String {
        var t = "method,level,target_mse,seeds,reached,median_epochs,median_clock_free_s,speedup_median,speedup_low,speedup_high,pairs,"
        t += "epoch_ratio_median,epoch_ratio_low,epoch_ratio_high,test_rel_l2_median,test_rel_l2_p95\n"
        for r in rows {
            t += "\(r.method),\(r.level),\(r.target),\(r.seeds),\(r.reached),\(r.medianEpochs),\(Self.cell(r.medianClockFreeSeconds)),"
            t += "\(Self.cell(r.speedup?.estimate)),\(Self.cell(r.speedup?.lower)),\(Self.cell(r.speedup?.upper)),\(r.speedup?.count ?? 0),"
            t += "\(Self.cell(r.epochRatio?.estimate)),\(Self.cell(r.epochRatio?.lower)),\(Self.cell(r.epochRatio?.upper)),"
            t += "\(Self.cell(r.testRelativeL2Median)),\(Self.cell(r.testRelativeL2P95))\n"
        }
        return t
    }

    static func format(_ x: Double?, _ digits: Int = 3) -> String {
        guard let x, !x.isNaN else { return "—" }
        return x.isInfinite ? "∞" : String(format: "%.\(digits)g", x)
    }

    static func interval(_ i: Bootstrap.Interval?) -> String {
        guard let i else { return "—" }
        return "\(format(i.estimate)) [\(format(i.lower))–\(format(i.upper))]"
    }

    public func markdown() -> String {
        var t = "Paired study: \(seeds.count) evaluation seeds (\(seeds.map(String.init).joined(separator: ", "))), \(epochs) planned epochs. "
        t += "T = the median over seeds of the baseline \(baseline)'s best \(window)-epoch moving average of the validation MSE = \(String(format: "%.4g", target)); "
        t += "a level is reached when the moving average falls to it. Speed-up = the baseline's clock-free time to the level / the method's, "
        t += "per seed, median and paired bootstrap 95 % interval (a seed that never reached counts as infinite time); "
        t += "clock-free time = epochs × the method's minimum CPU s per epoch (\(costs == nil ? "not measured yet: run `train-dmd verdict --phase cost`" : "cost.json")). "
        t += "Test error: relative L2 over the test samples of the best-validation parameters at the run's stop, median over seeds."
        if let tuning { t += " " + tuning }
        t += "\n\n"
        t += "| method | level | reached | median epochs | median clock-free s | speed-up (clock-free) | ratio of epochs | test rel. L2 median / p95 |\n"
        t += "|---|---:|---:|---:|---:|---|---|---|\n"
        for r in rows {
            t += "| \(r.method) | \(String(format: "%g", r.level))T | \(r.reached)/\(r.seeds) | \(Self.format(r.medianEpochs)) | \(Self.format(r.medianClockFreeSeconds)) "
            t += "| \(Self.interval(r.speedup)) | \(Self.interval(r.epochRatio)) | \(Self.format(r.testRelativeL2Median)) / \(Self.format(r.testRelativeL2P95)) |\n"
        }
        if let costs { t += "\n" + costs.markdown() }
        return t
    }
}
