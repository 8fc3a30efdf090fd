import Foundation
import NumericalFoundations
import Reporting

/// `train-dmd study`: does anything reach the tuned Adam's validation error sooner?
///
/// 1. The baseline (`adam`, the tuned recipe) trains every seed for all E planned epochs.
/// 2. Targets from the baseline: T1 = the worst over its seeds of the best validation MSE within E
///    epochs (so every baseline seed reaches it), T2 = the worst over seeds of the best validation
///    MSE within the first E/3 epochs (the error a run has after a third of its horizon, e.g. at epoch 1000 of 3000).
/// 3. Every other method trains every seed until its validation MSE reaches T1, or for E epochs.
/// 4. Per method: CPU seconds (and epochs) to T1 and T2, median and spread over seeds, the
///    speed-up over the baseline's median, the best validation MSE reached; one figure.
///
/// Resumable: each run is a folder `runs/<method>/seed_<k>/` whose `result.json` (written last)
/// marks it finished; a rerun does only the missing runs, and since every run is deterministic
/// (one OpenBLAS thread, seeded), an interrupted study ends with the same numbers, bit for bit,
/// except the times. A different setup (epochs, data, recipe) in the same folder is refused.
public enum AccelerationStudy {
    public static let setupFile = "setup.json", runsFolder = "runs"
    public static let tableFile = "study.csv", summaryFile = "summary.md", summaryJSON = "summary.json", figureFile = "study.svg"

    /// Runs the given runs (each into its folder, by `AccelerationRun.execute` in this or in a child
    /// process), in any order and concurrency; a run that fails is the executor's to report (it is
    /// then missing from the table).
    public typealias Executor = (_ runs: [(spec: AccelerationRunSpec, folder: URL)]) throws -> Void

    public struct Setup: Codable, Equatable, Sendable {
        public var epochs: Int
        public var tuned: String
        public var validation: String
        public var inputs: [String: String]
        /// OpenBLAS's kernel (`OPENBLAS_CORETYPE`'s names): another kernel sums in another order, so
        /// its runs differ in the last bits and a chaotic training amplifies them (nil: not recorded).
        public var blasCore: String? = nil
    }

    public static func setup(config: PipelineConfig, dataDirectory: URL, epochs: Int) throws -> Setup {
        let tuned = try SurrogateFitStage.tunedOptions(config: config, threads: 1)
        let s = config.surrogate
        let layout = DataLayoutFiles(dataDirectory)
        var inputs: [String: String] = [:]
        for url in layout.inputs { inputs[url.lastPathComponent] = try SHA256Digest.hex(ofFile: url) }
        return Setup(epochs: epochs, tuned: String(decoding: try AccelerationRun.encodeJSON(tuned), as: UTF8.self),
                     validation: "fraction \(s.validationFraction), seed \(s.validationSeed), transform \(s.outputTransform.rawValue), offset \(s.logOffset)",
                     inputs: inputs, blasCore: BLASThreads.coreName)
    }

    /// Creates `folder` with `setup` in its setup.json, or checks that the one there is the same:
    /// a folder holds the runs of one setup only.
    static func claim(folder: URL, setup current: Setup) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let setupURL = folder.appendingPathComponent(setupFile)
        if let data = try? Data(contentsOf: setupURL) {
            guard let old = try? JSONDecoder().decode(Setup.self, from: data), old == current else {
                throw StudyError("\(setupURL.path): this folder holds a study of another setup (epochs, recipe or data); use another --out or remove it")
            }
        } else {
            try AtomicFile.write(try AccelerationRun.encodeJSON(current), to: setupURL)
        }
    }

    public static func run(config: PipelineConfig, dataDirectory: URL, folder: URL, methods: [AccelerationMethod], seeds: Int, epochs: Int,
                           executor: Executor, notice: (String) -> Void = { _ in }) throws -> StudySummary {
        guard seeds >= 1 else { throw StudyError("--seeds must be at least 1, got \(seeds)") }
        guard epochs >= 3 else { throw StudyError("--epochs must be at least 3, got \(epochs)") }
        guard !methods.isEmpty else { throw StudyError("no method to study") }
        guard Set(methods.map(\.name)).count == methods.count else { throw StudyError("a method is listed twice: \(methods.map(\.name))") }
        try claim(folder: folder, setup: try setup(config: config, dataDirectory: dataDirectory, epochs: epochs))
        let baseline = try AccelerationMethod.named(AccelerationMethod.baselineName)
        func folderOf(_ spec: AccelerationRunSpec) -> URL { folder.appendingPathComponent(runsFolder).appendingPathComponent(spec.folderName, isDirectory: true) }
        func missing(_ specs: [AccelerationRunSpec]) -> [(spec: AccelerationRunSpec, folder: URL)] {
            specs.filter { AccelerationRun.finishedResult(in: folderOf($0), spec: $0) == nil }.map { ($0, folderOf($0)) }
        }
        let baselineSpecs = (0..<seeds).map { AccelerationRunSpec(method: baseline, seed: $0, epochs: epochs, stopAtValidationMSE: nil) }
        let todo = missing(baselineSpecs)
        notice("train-dmd study: baseline \(baseline.name): \(seeds - todo.count) of \(seeds) seeds already done")
        try executor(todo)
        var baselineHistories: [[AccelerationEpoch]] = []
        for spec in baselineSpecs {
            guard AccelerationRun.finishedResult(in: folderOf(spec), spec: spec) != nil else {
                throw StudyError("the baseline run \(spec.folderName) did not finish: the targets cannot be set (see its log.txt)")
            }
            baselineHistories.append(try AccelerationRun.readHistory(folderOf(spec)))
        }
        let targets = StudyTargets(baseline: baselineHistories, epochs: epochs)
        let others = methods.filter { $0.name != baseline.name }
        let otherSpecs = others.flatMap { m in (0..<seeds).map { AccelerationRunSpec(method: m, seed: $0, epochs: epochs, stopAtValidationMSE: targets.primary) } }
        let otherTodo = missing(otherSpecs)
        notice("train-dmd study: targets T1 = \(targets.primary), T2 = \(targets.secondary) (validation MSE); \(otherSpecs.count - otherTodo.count) of \(otherSpecs.count) other runs already done")
        try executor(otherTodo)

        var runs: [StudySummary.Run] = []
        for spec in baselineSpecs + otherSpecs {
            let f = folderOf(spec)
            guard let result = AccelerationRun.finishedResult(in: f, spec: spec) else {
                notice("train-dmd study: \(spec.folderName) did not finish; it is left out of the table (see \(f.appendingPathComponent("log.txt").path))")
                continue
            }
            runs.append(StudySummary.Run(result: result, history: try AccelerationRun.readHistory(f), targets: targets))
        }
        let summary = StudySummary(targets: targets, epochs: epochs, seeds: seeds, methods: [baseline] + others, runs: runs)
        try summary.write(to: folder)
        return summary
    }
}

/// The data files a study depends on (hashed into its setup).
struct DataLayoutFiles {
    let inputs: [URL]
    init(_ data: URL) {
        inputs = ["samples/params.npy", "samples/split.npy", "fem/c3.npy", "fem/status.npy"].map { data.appendingPathComponent($0) }
            .filter { FileManager.default.fileExists(atPath: $0.path) }
    }
}

public struct StudyTargets: Codable, Equatable, Sendable {
    /// T1: the worst over the baseline's seeds of its best validation MSE in E epochs.
    public var primary: Double
    /// T2: the same within the first E/3 epochs.
    public var secondary: Double
    public var secondaryEpoch: Int

    init(baseline: [[AccelerationEpoch]], epochs: Int) {
        secondaryEpoch = max(1, epochs / 3)
        func best(_ h: [AccelerationEpoch], upTo e: Int) -> Double {
            h.filter { $0.epoch >= 1 && $0.epoch <= e && $0.validationMSE.isFinite }.map(\.validationMSE).min() ?? .infinity
        }
        primary = baseline.map { best($0, upTo: epochs) }.max() ?? .infinity
        secondary = baseline.map { best($0, upTo: max(1, epochs / 3)) }.max() ?? .infinity
    }
}

public struct StudySummary: Codable, Sendable {
    public struct Hit: Codable, Equatable, Sendable { public var epoch: Int; public var cpuSeconds: Double; public var wallSeconds: Double }
    public struct Run: Codable, Sendable {
        public var method: String
        public var seed: Int
        public var status: AccelerationRunResult.Status
        public var epochsRun: Int
        public var bestValidationMSE: Double
        public var primary: Hit?
        public var secondary: Hit?
        public var cpuSeconds: Double
        /// The history's (cpu seconds, best validation MSE so far) for the figure.
        var curve: [[Double]]

        init(result: AccelerationRunResult, history: [AccelerationEpoch], targets: StudyTargets) {
            method = result.spec.method.name; seed = result.spec.seed; status = result.status; epochsRun = result.epochsRun
            bestValidationMSE = result.bestValidationMSE; cpuSeconds = result.cpuSeconds
            func hit(_ t: Double) -> Hit? {
                history.first { $0.epoch >= 1 && $0.validationMSE <= t }.map { Hit(epoch: $0.epoch, cpuSeconds: $0.cpuSeconds, wallSeconds: $0.wallSeconds) }
            }
            primary = hit(targets.primary); secondary = hit(targets.secondary)
            var best = Double.infinity
            curve = history.filter { $0.epoch >= 1 }.map { row in
                if row.validationMSE.isFinite { best = min(best, row.validationMSE) }
                return [row.cpuSeconds, best]
            }
        }
    }

    public struct MethodRow: Codable, Sendable {
        public var method: String
        public var summary: String
        public var seeds: Int
        public var reachedPrimary: Int
        public var reachedSecondary: Int
        /// Medians over seeds (a seed that never reached counts as +∞); nil when the median is +∞.
        public var cpuToPrimary: Double?
        public var epochsToPrimary: Double?
        public var cpuToSecondary: Double?
        public var epochsToSecondary: Double?
        /// Baseline median CPU to the target / this method's, median over seeds and its range.
        public var speedupPrimary: Double?
        public var speedupPrimaryRange: [Double]?
        public var speedupSecondary: Double?
        public var speedupSecondaryRange: [Double]?
        /// The fastest Adam variant's median CPU time to T1 / this method's ("tuned Adam" means
        /// the best of the learning-rate / schedule / batch grid, not only the default recipe).
        public var speedupOverBestAdam: Double?
        public var speedupOverBestAdamRange: [Double]?
        public var bestValidationMedian: Double
        public var diverged: Int
    }

    /// The Adam variant (plain Adam with another learning rate, schedule or batch) that reaches T1
    /// soonest, median over seeds: the reference a reviewer would demand.
    public var bestAdam: String?

    /// Plain-Adam variants of the catalog (no accelerator).
    static func isAdamVariant(_ name: String) -> Bool { name.hasPrefix("adam") && name != "adam_lbfgs" }

    static func isDMDVariantBeyondTheWeights(_ name: String) -> Bool { name.hasPrefix("dmd_updates") || name.hasPrefix("dmd_network") }

    public var targets: StudyTargets
    public var epochs: Int
    public var seeds: Int
    public var rows: [MethodRow]
    public var runs: [Run]

    init(targets: StudyTargets, epochs: Int, seeds: Int, methods: [AccelerationMethod], runs: [Run]) {
        self.targets = targets; self.epochs = epochs; self.seeds = seeds; self.runs = runs
        func median(_ values: [Double]) -> Double {
            let s = values.sorted()
            guard !s.isEmpty else { return .infinity }
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        func finite(_ v: Double) -> Double? { v.isFinite ? v : nil }
        let base = runs.filter { $0.method == AccelerationMethod.baselineName }
        let basePrimary = median(base.map { $0.primary?.cpuSeconds ?? .infinity })
        let baseSecondary = median(base.map { $0.secondary?.cpuSeconds ?? .infinity })
        let adamMedians = methods.filter { Self.isAdamVariant($0.name) }.map { m in
            (m.name, median(runs.filter { $0.method == m.name }.map { $0.primary?.cpuSeconds ?? .infinity }))
        }.filter { $0.1.isFinite }
        let best = adamMedians.min { $0.1 < $1.1 }
        bestAdam = best?.0
        let bestAdamPrimary = best?.1 ?? .infinity
        rows = methods.map { m in
            let r = runs.filter { $0.method == m.name }
            let p = r.map { $0.primary?.cpuSeconds ?? .infinity }, q = r.map { $0.secondary?.cpuSeconds ?? .infinity }
            func speedup(_ times: [Double], _ reference: Double) -> (Double?, [Double]?) {
                guard reference.isFinite, !times.isEmpty else { return (nil, nil) }
                let ratios = times.map { reference / $0 }   // +∞ time → 0
                return (finite(reference / median(times)).flatMap { $0 > 0 ? $0 : nil }, [ratios.min()!, ratios.max()!])
            }
            let (sp, spr) = speedup(p, basePrimary), (ss, ssr) = speedup(q, baseSecondary), (sb, sbr) = speedup(p, bestAdamPrimary)
            return MethodRow(method: m.name, summary: m.summary, seeds: r.count,
                             reachedPrimary: r.filter { $0.primary != nil }.count, reachedSecondary: r.filter { $0.secondary != nil }.count,
                             cpuToPrimary: finite(median(p)), epochsToPrimary: finite(median(r.map { $0.primary.map { Double($0.epoch) } ?? .infinity })),
                             cpuToSecondary: finite(median(q)), epochsToSecondary: finite(median(r.map { $0.secondary.map { Double($0.epoch) } ?? .infinity })),
                             speedupPrimary: sp, speedupPrimaryRange: spr, speedupSecondary: ss, speedupSecondaryRange: ssr,
                             speedupOverBestAdam: sb, speedupOverBestAdamRange: sbr,
                             bestValidationMedian: median(r.map(\.bestValidationMSE).map { $0.isFinite ? $0 : .infinity }),
                             diverged: r.filter { $0.status == .diverged }.count)
        }
    }

    func format(_ v: Double?, _ digits: Int = 3) -> String { v.map { String(format: "%.\(digits)g", $0) } ?? "—" }

    /// The per-method table in Markdown.
    public func markdown() -> String {
        var t = "Targets (validation MSE, scaled log units): T1 = \(format(targets.primary, 4)) (worst baseline seed's best in \(epochs) epochs), "
            + "T2 = \(format(targets.secondary, 4)) (the same within \(targets.secondaryEpoch) epochs). CPU seconds per run on one core; "
            + "speed-up = the baseline's median CPU time to the target / the method's, median over \(seeds) seeds [range over seeds]; "
            + "\"vs best Adam\" divides the fastest plain-Adam variant's median (\(bestAdam ?? "none reached T1")) instead.\n\n"
        t += "| method | reached T1 | CPU s to T1 | epochs to T1 | speed-up T1 | vs best Adam, T1 | reached T2 | CPU s to T2 | speed-up T2 | best validation MSE | diverged |\n"
        t += "|---|---:|---:|---:|---|---|---:|---:|---|---:|---:|\n"
        func range(_ v: Double?, _ r: [Double]?) -> String {
            guard let v, let r else { return "—" }
            return "\(format(v)) [\(format(r[0], 2))–\(format(r[1], 2))]"
        }
        for r in rows {
            t += "| \(r.method) | \(r.reachedPrimary)/\(r.seeds) | \(format(r.cpuToPrimary)) | \(format(r.epochsToPrimary)) | \(range(r.speedupPrimary, r.speedupPrimaryRange)) "
            t += "| \(range(r.speedupOverBestAdam, r.speedupOverBestAdamRange)) "
            t += "| \(r.reachedSecondary)/\(r.seeds) | \(format(r.cpuToSecondary)) | \(range(r.speedupSecondary, r.speedupSecondaryRange)) "
            t += "| \(format(r.bestValidationMedian, 4)) | \(r.diverged) |\n"
        }
        return t
    }

    /// One line per run.
    public func csv() -> String {
        var t = "method,seed,status,epochs_run,cpu_seconds,best_validation_mse,epoch_to_t1,cpu_to_t1,epoch_to_t2,cpu_to_t2\n"
        for r in runs {
            t += "\(r.method),\(r.seed),\(r.status.rawValue),\(r.epochsRun),\(r.cpuSeconds),\(r.bestValidationMSE),"
            t += "\(r.primary.map { "\($0.epoch)" } ?? ""),\(r.primary.map { "\($0.cpuSeconds)" } ?? ""),"
            t += "\(r.secondary.map { "\($0.epoch)" } ?? ""),\(r.secondary.map { "\($0.cpuSeconds)" } ?? "")\n"
        }
        return t
    }

    /// Best validation MSE so far against CPU seconds: per method the median over seeds (line) and
    /// the range (shaded), on a common log-spaced time grid; the baseline in every panel; T1 and T2 dashed.
    public func figure() -> Figure {
        let times = runs.flatMap { $0.curve.map { $0[0] } }.filter { $0 > 0 }
        let lo = max(times.min() ?? 1, 1e-3), hi = max(times.max() ?? 10, lo * 10)
        let grid = (0..<160).map { lo * pow(hi / lo, Double($0) / 159) }
        func curves(_ method: String) -> (median: [Double], low: [Double], high: [Double]) {
            let r = runs.filter { $0.method == method }
            // Best-so-far at each grid time (NaN before a run's first epoch or after it stopped).
            let sampled = r.map { run -> [Double] in
                grid.map { t in
                    guard let last = run.curve.last(where: { $0[0] <= t }) else { return .nan }
                    return t > (run.curve.last?[0] ?? 0) * 1.0001 ? .nan : last[1]
                }
            }
            var median: [Double] = [], low: [Double] = [], high: [Double] = []
            for k in grid.indices {
                let v = sampled.map { $0[k] }.filter(\.isFinite).sorted()
                if v.count < max(1, r.count) { median.append(.nan); low.append(.nan); high.append(.nan); continue }
                median.append(v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2)
                low.append(v.first!); high.append(v.last!)
            }
            return (median, low, high)
        }
        let groups: [(String, (String) -> Bool)] = [
            ("Adam variants", { $0.hasPrefix("adam") && $0 != "adam_lbfgs" }),
            ("extrapolation, Lookahead, L-BFGS", { ["lookahead", "rre", "mpe", "anderson", "adam_lbfgs"].contains($0) }),
            ("DMD of the weights, per layer", { $0.hasPrefix("dmd") && !Self.isDMDVariantBeyondTheWeights($0) }),
            // The updates and the one-DMD-over-all-layers variants, beside the clamped jumps they modify.
            ("DMD of the updates, one DMD over all layers", {
                Self.isDMDVariantBeyondTheWeights($0) || $0 == "dmd_clamped" || $0 == "dmd_clamped_lr3e-3"
            }),
        ]
        let names = rows.map(\.method)
        var panels: [Panel] = []
        for (title, member) in groups {
            let chosen = names.filter { $0 == AccelerationMethod.baselineName || member($0) }
            guard chosen.count > 1 || title == "Adam variants" else { continue }
            var series: [PlotSeries] = []
            for (k, name) in chosen.enumerated() {
                let color = RGBColor.palette[k % RGBColor.palette.count]
                let c = curves(name)
                series.append(.band(BandSeries(x: grid, lower: c.low, upper: c.high, color: color)))
                series.append(.line(LineSeries(name, x: grid, y: c.median, color: color)))
            }
            let lines = [ReferenceLine(.horizontal, at: targets.primary, label: "T1"), ReferenceLine(.horizontal, at: targets.secondary, label: "T2")]
                .filter { $0.value.isFinite && $0.value > 0 }
            panels.append(Panel(title, .xy(XYPlot(xAxis: Axis("CPU seconds (one core)", scale: .log10),
                                                  yAxis: Axis("best validation MSE so far", scale: .log10),
                                                  series: series, referenceLines: lines))))
        }
        return Figure(name: "acceleration-study", title: "Time to the tuned Adam's validation error (median and range over \(seeds) seeds)", panels: panels)
    }

    func write(to folder: URL) throws {
        try AtomicFile.write(csv(), to: folder.appendingPathComponent(AccelerationStudy.tableFile))
        try AtomicFile.write(markdown(), to: folder.appendingPathComponent(AccelerationStudy.summaryFile))
        try AtomicFile.write(try AccelerationRun.encodeJSON(self), to: folder.appendingPathComponent(AccelerationStudy.summaryJSON))
        let svg = folder.appendingPathComponent(AccelerationStudy.figureFile)
        try AtomicFile.write(try figure().svg(), to: svg)
        try PNGConverter.convert(svg: svg, to: svg.deletingPathExtension().appendingPathExtension("png"))
    }
}
