import Foundation
import NumericalFoundations
import Surrogates

/// The held swap: is a curve's error at n solves the design's, or the fit that design induces?
///
/// For finished points of two or more curves of a label and seed at the same n whose designs are
/// dataset rows (LHS and oracle), POD-GP is conditioned on each design's rows with each point's fitted
/// hyper-parameters, mode k with mode k's values (`PODGaussianProcessOptions.heldHyperparameters`: no
/// likelihood is maximised, so a cell costs a POD and one Cholesky factor per mode). The diagonal
/// repeats the points themselves; an off-diagonal cell answers "this design, fitted as that one was".
/// Each cell's ratio to its design's own-values cell comes with the paired bootstrap interval over the
/// test samples that the study's other comparisons use.
extension RefineStudy {
    struct SwapCell: Codable, Equatable {
        /// The curve whose design (rows) was conditioned on.
        var design: String
        /// The curve whose point's fitted POD-GP hyper-parameters were held.
        var hyperparameters: String
        /// Modes conditioned with the held values; a design of higher rank fits its later modes.
        var heldModes: Int
        var score: RefineScore
        var seconds: Double
    }

    struct SwapPoint: Codable {
        var solves: Int
        var configurationSHA256: String
        var conditioning: RefineConditioning?
        var cells: [SwapCell]
    }

    /// LABEL/swap/: one folder per seed.
    static func swapRoot(_ layout: DataLayout, _ label: String) -> URL { labelFolder(layout, label).appendingPathComponent("swap", isDirectory: true) }

    static func swapFolder(_ layout: DataLayout, _ label: String, _ seed: UInt64) -> URL {
        swapRoot(layout, label).appendingPathComponent("seed_\(seed)", isDirectory: true)
    }

    static func swapPointURL(_ folder: URL, solves n: Int) -> URL { folder.appendingPathComponent(String(format: "n_%06d.json", n)) }

    /// A cell's per-test-sample errors (written before the seed's n_NNNNNN.json, which marks the swap done).
    static func swapTestErrors(_ folder: URL, solves n: Int, design: String, values: String) -> URL {
        folder.appendingPathComponent(String(format: "n_%06d_", n) + "\(design)_design_\(values)_values_"
                                      + DataLayout.RefineRun.testErrorsFile(SurrogateSettings.Model.podGP.rawValue))
    }

    /// The swap of one seed at each of `sizes`, among the curves `methods` (LHS or oracle, at least two).
    static func runSwap(config: PipelineConfig, layout: DataLayout, label: String, settings: RefineSettings, threads: Int,
                        sizes: [Int], methods: [Method]) throws {
        guard settings.models == [SurrogateSettings.Model.podGP.rawValue] else {
            throw StageError("refine-study --swap-at: holds POD-GP hyper-parameters, so it needs --models pod_gp alone (got \(settings.models.joined(separator: ",")))")
        }
        guard methods.count >= 2, Set(methods).count == methods.count, methods.allSatisfy({ $0 != .adaptive }) else {
            throw StageError("refine-study --swap-at: needs two or more of the curves whose designs are training-split rows, lhs and oracle "
                             + "(an adaptive design's samples are its own FEM solves), got --methods \(methods.map(\.rawValue).joined(separator: ","))")
        }
        let contexts = try methods.map {
            try PointContext(config: config, layout: layout, label: label, method: $0, settings: settings, threads: threads)
        }
        let folder = swapFolder(layout, label, settings.seed)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let progress = ProgressReporter("refine-study swap seed \(settings.seed) cells", total: sizes.count * methods.count * methods.count)
        for n in sizes {
            let url = swapPointURL(folder, solves: n)
            if let data = try? Data(contentsOf: url) {
                guard let done = try? JSONDecoder().decode(SwapPoint.self, from: data) else {
                    throw StageError("refine-study: \(url.path) is damaged: delete it and rerun")
                }
                guard done.configurationSHA256 == contexts[0].digest, done.conditioning == settings.conditioning,
                      Set(done.cells.map(\.design)) == Set(methods.map(\.rawValue)) else {
                    throw StageError("refine-study: \(url.path) was made under another configuration, conditioning or set of curves: delete it and rerun")
                }
                for _ in done.cells { progress.advance() }
                continue
            }
            var designs: [(method: String, rows: [Int], values: [GaussianProcessHyperparameters], point: LHSPoint)] = []
            for (method, context) in zip(methods, contexts) {
                guard let point = try context.finishedPoint(n) else {
                    throw StageError("refine-study --swap-at \(n): the \(method.rawValue) curve of label \(label), seed \(settings.seed) has no point at \(n) solves "
                                     + "(\(context.pointURL(n).path)): make it first (the same command without --swap-at)")
                }
                let rows = method == .lhs ? Array(context.order.prefix(n)).sorted() : point.rows
                guard let rows, rows.count == n else {
                    throw StageError("refine-study --swap-at \(n): \(context.pointURL(n).path) does not record its design's \(n) rows")
                }
                guard let fitted = point.podGP, !fitted.modes.isEmpty else {
                    throw StageError("refine-study --swap-at \(n): \(context.pointURL(n).path) records no POD-GP hyper-parameters (made before they were kept): delete it and rerun its curve")
                }
                guard fitted.scale == nil else {
                    throw StageError("refine-study --swap-at: \(context.pointURL(n).path) has a scale GP (gp_output = \"scale_shape\"); the swap holds the modes' GPs only")
                }
                designs.append((method.rawValue, rows, fitted.modes, point))
            }
            var cells: [SwapCell] = []
            for design in designs {
                for source in designs {
                    let started = monotonicSeconds()
                    let errors = swapTestErrors(folder, solves: n, design: design.method, values: source.method)
                    let fitted = try contexts[0].fitPoint(rows: design.rows, held: source.values, testErrors: { _ in errors }).point
                    let score = fitted.scores[0]
                    let rank = fitted.podGP?.modes.count ?? 0
                    cells.append(SwapCell(design: design.method, hyperparameters: source.method, heldModes: min(rank, source.values.count),
                                          score: score, seconds: monotonicSeconds() - started))
                    if design.method == source.method, let own = design.point.scores.first {
                        // The diagonal conditions the point's own rows with its own fitted values: it should repeat the point.
                        note(String(format: "refine-study swap n=%d: %@ design with its own values %.6g / %.6g; the point: %.6g / %.6g",
                                    n, design.method, score.testMedian, score.testP95, own.testMedian, own.testP95))
                    }
                    progress.advance(detail: String(format: "n=%d, %@ design, %@ values: %.4f / %.4f", n, design.method, source.method,
                                                    score.testMedian, score.testP95))
                }
            }
            try AtomicFile.writeJSON(SwapPoint(solves: n, configurationSHA256: contexts[0].digest, conditioning: settings.conditioning,
                                               cells: cells), to: url)
        }
    }

    static let swapHeader = "label,seed,solves,design,hyperparameters,held_modes,test_median,test_p95,"
        + "median_ratio,median_ratio_low,median_ratio_high,p95_ratio,p95_ratio_low,p95_ratio_high,test_samples"

    /// refine_swap.csv: every swap cell under DATA/refine/study, with its ratio to the own-values cell
    /// of its design (paired bootstrap over the test samples on which both errors are defined); nil when
    /// no swap was made.
    static func swapTable(_ layout: DataLayout) throws -> String? {
        let fm = FileManager.default
        var csv = swapHeader + "\n", any = false
        let labels = ((try? fm.contentsOfDirectory(atPath: layout.refine.study.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        for label in labels {
            let seeds = ((try? fm.contentsOfDirectory(atPath: swapRoot(layout, label).path)) ?? []).compactMap { $0.hasPrefix("seed_") ? UInt64($0.dropFirst(5)) : nil }.sorted()
            for seed in seeds {
                let folder = swapFolder(layout, label, seed)
                let names = ((try? fm.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasPrefix("n_") && $0.hasSuffix(".json") }.sorted()
                for name in names {
                    let url = folder.appendingPathComponent(name)
                    guard let data = try? Data(contentsOf: url), let swap = try? JSONDecoder().decode(SwapPoint.self, from: data) else {
                        throw StageError("refine-study: \(url.path) is damaged: delete it and rerun the swap")
                    }
                    func errors(_ cell: SwapCell) throws -> [Double] {
                        try Npy.read(Double.self, from: swapTestErrors(folder, solves: swap.solves, design: cell.design, values: cell.hyperparameters),
                                     expectedShape: [nil]).values
                    }
                    for (index, cell) in swap.cells.enumerated() {
                        guard let own = swap.cells.first(where: { $0.design == cell.design && $0.hyperparameters == cell.design }) else {
                            throw StageError("refine-study: \(url.path) has no cell of the \(cell.design) design with its own values")
                        }
                        let (x, y) = (try errors(cell), try errors(own))
                        guard x.count == y.count else {
                            throw StageError("refine-study: the swap cells of \(url.path) hold \(x.count) and \(y.count) test errors: they were scored on different test splits")
                        }
                        let pairs = zip(x, y).filter { $0.0.isFinite && $0.1.isFinite }
                        var fields: [String] = []
                        for (k, (_, statistic)) in pairedStatistics.enumerated() {
                            guard !pairs.isEmpty else { fields += ["nan", "nan", "nan"]; continue }
                            // Streams apart from the curve comparisons' (the top bit), one per cell and statistic.
                            let stream = 1 << 63 | UInt64(swap.solves) << 32 | UInt64(index) << 1 | UInt64(k)
                            let r = try pairedRatio(pairs.map(\.0), pairs.map(\.1), statistic: statistic, seed: seed, stream: stream)
                            fields += ["\(r.x / r.y)", "\(r.low)", "\(r.high)"]
                        }
                        csv += "\(label),\(seed),\(swap.solves),\(cell.design),\(cell.hyperparameters),\(cell.heldModes),"
                            + "\(cell.score.testMedian),\(cell.score.testP95),\(fields.joined(separator: ",")),\(pairs.count)\n"
                        any = true
                    }
                }
            }
        }
        return any ? csv : nil
    }
}
