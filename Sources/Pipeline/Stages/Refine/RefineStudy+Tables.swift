import Foundation
import NumericalFoundations
import Reporting

/// The study's outputs, gathered from every finished point under DATA/refine/study.
extension RefineStudy {
    /// Every finished point: LHS and oracle point files, adaptive rounds with a manifest.
    static func gather(_ layout: DataLayout) throws -> [Point] {
        let fm = FileManager.default
        var points: [Point] = []
        let labels = ((try? fm.contentsOfDirectory(atPath: layout.refine.study.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        for label in labels {
            for method in Method.allCases {
                let methodFolder = labelFolder(layout, label).appendingPathComponent(method.rawValue, isDirectory: true)
                let seeds = ((try? fm.contentsOfDirectory(atPath: methodFolder.path)) ?? []).compactMap { name -> UInt64? in
                    name.hasPrefix("seed_") ? UInt64(name.dropFirst(5)) : nil
                }.sorted()
                for seed in seeds {
                    let folder = seedFolder(layout, label, method, seed)
                    points += method == .adaptive ? try adaptivePoints(folder, label: label, seed: seed)
                                                  : try filePoints(folder, label: label, method: method, seed: seed)
                }
            }
        }
        // Imported curves count where this folder has no point of the same curve.
        if FileManager.default.fileExists(atPath: layout.refine.studyImported.path) {
            let local = Set(points.map(curveName))
            let text = try String(contentsOf: layout.refine.studyImported, encoding: .utf8)
            points += try parseTable(text, source: layout.refine.studyImported.path).points.filter { !local.contains(curveName($0)) }
        }
        return points
    }

    static func curveName(_ p: Point) -> String { "\(p.label)/\(p.method)/\(p.model)/\(p.seed)" }

    static let tableHeader = "label,method,model,seed,training_solves,test_median,test_p95,validation_median,validation_p95,seconds,configuration_sha256,data_sha256,source"

    /// The SHA-256 of the data a study's scores depend on: the samples, the split and the FEM's c3 and status.
    static func dataDigest(_ layout: DataLayout) throws -> String {
        var text = ""
        for url in [layout.samples.params, layout.samples.split, layout.fem.c3, layout.fem.status] {
            guard FileManager.default.fileExists(atPath: url.path) else { throw StageError("refine-study: \(url.path) is missing") }
            text += "\(url.lastPathComponent) \(try SHA256Digest.hex(ofFile: url))\n"
        }
        return SHA256Digest.hex(of: Data(text.utf8))
    }

    /// refine_study.csv's text of `points`, made on data of digest `data`.
    static func table(_ points: [Point], data: String) -> String {
        var csv = tableHeader + "\n"
        for p in points {
            csv += "\(p.label),\(p.method),\(p.model),\(p.seed),\(p.solves),\(p.score.testMedian),\(p.score.testP95),"
                + "\(p.score.validationMedian),\(p.score.validationP95),\(p.seconds),\(p.configurationSHA256 ?? ""),\(data),\(p.importedFrom ?? "")\n"
        }
        return csv
    }

    /// The points of a refine_study.csv and each one's data digest; a malformed line is an error naming the file and line.
    static func parseTable(_ text: String, source: String) throws -> (points: [Point], data: [String]) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        guard lines.first == tableHeader else {
            throw StageError("\(source): not a refine-study table with data digests (expected the header \"\(tableHeader)\"; a table written before the digests were recorded cannot be imported)")
        }
        var points: [Point] = [], digests: [String] = []
        for (index, line) in lines.dropFirst().enumerated() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let at = "\(source), line \(index + 2)"
            guard f.count == 13 else { throw StageError("\(at): expected 13 fields, found \(f.count)") }
            guard RefineStudy.Method(rawValue: f[1]) != nil else { throw StageError("\(at): unknown method \"\(f[1])\" (expected \(Method.allCases.map(\.rawValue).joined(separator: ", ")))") }
            guard let seed = UInt64(f[3]), let solves = Int(f[4]), solves > 0 else { throw StageError("\(at): the seed and training_solves must be positive integers") }
            let numbers = f[5...9].map { Double($0) }
            guard numbers.allSatisfy({ $0 != nil }) else { throw StageError("\(at): the errors and seconds must be numbers") }
            guard f[11].count == 64 else { throw StageError("\(at): data_sha256 must be a SHA-256, got \"\(f[11])\"") }
            points.append(Point(label: f[0], method: f[1], model: f[2], seed: seed, solves: solves,
                                score: RefineScore(model: f[2], testMedian: numbers[0]!, testP95: numbers[1]!, validationMedian: numbers[2]!, validationP95: numbers[3]!),
                                seconds: numbers[4]!, configurationSHA256: f[10].isEmpty ? nil : f[10], importedFrom: f[12].isEmpty ? nil : f[12]))
            digests.append(f[11])
        }
        return (points, digests)
    }

    /// Adds the points of the study table `url` to DATA/refine/study/imported.csv, after checking that
    /// it was made on this data and, label by label, under the configuration of this folder's points.
    static func importTable(_ url: URL, layout: DataLayout) throws {
        guard let data = try? Data(contentsOf: url) else { throw StageError("refine-study: \(url.path): cannot be read") }
        let (incoming, digests) = try parseTable(String(decoding: data, as: UTF8.self), source: url.path)
        let here = try dataDigest(layout)
        if let k = digests.firstIndex(where: { $0 != here }) {
            throw StageError("\(url.path), line \(k + 2): made on other data (data_sha256 \(digests[k].prefix(12))…, this folder's \(here.prefix(12))…): its errors do not belong with this study's")
        }
        let existing = try gather(layout)
        for p in incoming {
            guard let theirs = p.configurationSHA256 else { continue }
            if let mine = existing.first(where: { $0.label == p.label && $0.importedFrom == nil && $0.configurationSHA256 != nil })?.configurationSHA256, mine != theirs {
                throw StageError("\(url.path): label \(p.label) was made under another configuration (\(theirs.prefix(12))…) than this folder's (\(mine.prefix(12))…): import it under its own label")
            }
        }
        let source = url.lastPathComponent
        var kept: [Point] = []
        if FileManager.default.fileExists(atPath: layout.refine.studyImported.path) {
            kept = try parseTable(try String(contentsOf: layout.refine.studyImported, encoding: .utf8), source: layout.refine.studyImported.path).points
        }
        let replaced = Set(incoming.map(curveName))
        kept = kept.filter { !replaced.contains(curveName($0)) }
        // A point keeps the table it first came from; a local point of the incoming table came from `url`.
        kept += incoming.map { var p = $0; if p.importedFrom == nil { p.importedFrom = source }; return p }
        try FileManager.default.createDirectory(at: layout.refine.study, withIntermediateDirectories: true)
        try AtomicFile.write(table(kept, data: here), to: layout.refine.studyImported)
        note("train-dmd refine-study: \(incoming.count) points of \(Set(incoming.map(curveName)).count) curve(s) imported from \(url.path)")
    }

    /// The points of a curve of point files (LHS, oracle).
    static func filePoints(_ folder: URL, label: String, method: Method, seed: UInt64) throws -> [Point] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasPrefix("n_") && $0.hasSuffix(".json") }.sorted()
        return try names.flatMap { name -> [Point] in
            let url = folder.appendingPathComponent(name)
            guard let data = try? Data(contentsOf: url), let point = try? JSONDecoder().decode(LHSPoint.self, from: data) else {
                throw StageError("refine-study: \(url.path) is damaged: delete it and rerun")
            }
            return point.scores.map {
                let errors = lhsTestErrors(folder, solves: point.solves, model: $0.model)
                return Point(label: label, method: method.rawValue, model: $0.model, seed: seed, solves: point.solves, score: $0,
                             seconds: point.fitSeconds[$0.model] ?? .nan, configurationSHA256: point.configurationSHA256,
                             podGP: $0.model == SurrogateSettings.Model.podGP.rawValue ? point.podGP : nil,
                             testErrors: FileManager.default.fileExists(atPath: errors.path) ? errors : nil)
            }
        }
    }

    static func adaptivePoints(_ folder: URL, label: String, seed: UInt64) throws -> [Point] {
        let run = DataLayout.RefineRun(folder: folder)
        let digest = (try? Data(contentsOf: run.settings)).flatMap { try? JSONDecoder().decode(RefineSettings.self, from: $0) }?.configurationSHA256
        var points: [Point] = []
        var r = 0
        while FileManager.default.fileExists(atPath: run.manifest(round: r).path) {
            let decoder = JSONDecoder()
            guard let e = try? decoder.decode(RefineEvaluation.self, from: Data(contentsOf: run.file(DataLayout.RefineRun.evaluationFile, round: r))),
                  let t = try? decoder.decode(RefineTimings.self, from: Data(contentsOf: run.file(DataLayout.RefineRun.timingsFile, round: r))) else {
                throw StageError("refine-study: round \(r) of \(folder.path) is damaged: delete \(run.round(r).path) and rerun")
            }
            points += e.scores.map {
                let errors = run.file(DataLayout.RefineRun.testErrorsFile($0.model), round: r)
                return Point(label: label, method: Method.adaptive.rawValue, model: $0.model, seed: seed, solves: e.trainingSolves, score: $0,
                             seconds: (t.fit[$0.model] ?? 0) + t.fem + t.acquisition, configurationSHA256: digest,
                             podGP: $0.model == SurrogateSettings.Model.podGP.rawValue ? e.podGP : nil,
                             testErrors: FileManager.default.fileExists(atPath: errors.path) ? errors : nil)
            }
            r += 1
        }
        return points
    }

    /// refine_study.csv (every point), refine_curves.csv (each curve's wall time), refine_savings.csv
    /// (`savings`), refine_hyperparameters.csv (`hyperparameterTable`), refine_paired.csv
    /// (`pairedComparisons`), the figure, the manifest.
    static func writeTables(layout: DataLayout, configFile: String) throws {
        let points = try gather(layout)
        guard !points.isEmpty else { throw StageError("refine-study: no finished point under \(layout.refine.study.path)") }
        // A label names one configuration: an imported curve and a local one of another configuration never share it.
        for label in Set(points.map(\.label)).sorted() {
            let digests = Set(points.filter { $0.label == label }.compactMap(\.configurationSHA256))
            guard digests.count <= 1 else {
                throw StageError("refine-study: label \(label) holds points of \(digests.count) configurations (\(digests.sorted().map { $0.prefix(12) + "…" }.joined(separator: ", "))): "
                                 + "compute new curves under another --label, or remove \(layout.refine.studyImported.path)")
            }
        }
        try AtomicFile.write(table(points, data: try dataDigest(layout)), to: layout.refine.studyCSV)
        var curves = "label,method,model,seed,points,largest_solves,last_test_median,last_test_p95,wall_seconds,source\n"
        for key in curveKeys(points) {
            let rows = points.filter { ($0.label, $0.method, $0.model, $0.seed) == key }.sorted { $0.solves < $1.solves }
            let last = rows.last!
            curves += "\(key.0),\(key.1),\(key.2),\(key.3),\(rows.count),\(last.solves),\(last.score.testMedian),\(last.score.testP95),"
                + "\(rows.map(\.seconds).reduce(0, +)),\(last.importedFrom ?? "")\n"
        }
        try AtomicFile.write(curves, to: layout.refine.studyCurves)
        let saved = savings(points)
        try AtomicFile.write(savingsCSV(saved), to: layout.refine.studySavings)
        try AtomicFile.write(hyperparameterTable(points), to: layout.refine.studyHyperparameters)
        let comparisons = try pairedComparisons(points)
        try AtomicFile.write(pairedCSV(comparisons), to: layout.refine.studyPaired)
        var optionalOutputs: [URL] = []
        if let swaps = try swapTable(layout) {
            try AtomicFile.write(swaps, to: layout.refine.studySwap)
            optionalOutputs.append(layout.refine.studySwap)
        }
        let pairedSVG = layout.refine.studyPaired.deletingPathExtension().appendingPathExtension("svg")
        if let paired = pairedFigure(comparisons) {
            try AtomicFile.write(try paired.svg(), to: pairedSVG)
            try PNGConverter.convert(svg: pairedSVG, to: pairedSVG.deletingPathExtension().appendingPathExtension("png"))
            optionalOutputs.append(pairedSVG)
        } else {
            // No comparison at equal solves: an earlier figure would describe points no longer in the tables.
            for url in [pairedSVG, pairedSVG.deletingPathExtension().appendingPathExtension("png")] { try? FileManager.default.removeItem(at: url) }
        }
        for s in saved {
            note(String(format: "train-dmd refine-study: %@ %@ test %@: LHS %.4g at %d solves; adaptive ", s.label, s.model, s.statistic, s.lhsError, s.lhsSolves)
                 + (s.adaptiveSolves.map { String(format: "reaches it at %d solves (%.2f×)", $0, s.ratio!) } ?? "has not reached it by \(s.adaptiveLargest) solves")
                 + (s.lhsFirstSolves < s.lhsSolves ? "; LHS itself is there from \(s.lhsFirstSolves) solves" : ""))
        }
        let svg = layout.refine.studyCSV.deletingPathExtension().appendingPathExtension("svg")
        try AtomicFile.write(try figure(points).svg(), to: svg)
        try PNGConverter.convert(svg: svg, to: svg.deletingPathExtension().appendingPathExtension("png"))
        var manifest = Manifest(stage: "train-dmd refine-study", version: projectVersion, configFile: configFile, config: .object([:]), seed: nil)
        for url in [layout.refine.studyCSV, layout.refine.studyCurves, layout.refine.studySavings, layout.refine.studyHyperparameters,
                        layout.refine.studyPaired, svg] + optionalOutputs {
            manifest.addOutput(url)
        }
        try manifest.write(to: layout.refine.studyManifest)
        note("train-dmd refine-study: \(points.count) points → \(layout.refine.studyCSV.path), \(svg.lastPathComponent)")
    }

    static let hyperparameterHeader = "label,method,seed,training_solves,mode,quantity,value"

    /// The POD-GP hyper-parameters of every point that recorded them, one value per row (tidy): for each
    /// mode (`scale` for the per-sample scale's GP) `length_scale:INPUT` for each input (in the scaled
    /// inputs' units), `signal_sd` and `noise_sd` (in the mode coefficient's units); with an input warp,
    /// mode `warp`, `a:PARAMETER` and `b:PARAMETER` (Kumaraswamy's shapes).
    static func hyperparameterTable(_ points: [Point]) -> String {
        var csv = hyperparameterHeader + "\n"
        for p in points {
            guard let h = p.podGP else { continue }
            if let w = h.inputWarping {
                let head = "\(p.label),\(p.method),\(p.seed),\(p.solves),warp,"
                for (m, name) in h.inputs.prefix(w.width).enumerated() { csv += head + "a:\(name),\(w.a[m])\n" + head + "b:\(name),\(w.b[m])\n" }
            }
            let modes = h.modes.enumerated().map { (String($0.offset + 1), $0.element) } + (h.scale.map { [("scale", $0)] } ?? [])
            for (mode, values) in modes {
                let head = "\(p.label),\(p.method),\(p.seed),\(p.solves),\(mode),"
                for (name, l) in zip(h.inputs, values.lengthScales) { csv += head + "length_scale:\(name),\(l)\n" }
                csv += head + "signal_sd,\(exp(values.logSignalStandardDeviation))\n"
                csv += head + "noise_sd,\(exp(values.logNoiseStandardDeviation))\n"
            }
        }
        return csv
    }

    static func curveKeys(_ points: [Point]) -> [(String, String, String, UInt64)] {
        var keys: [(String, String, String, UInt64)] = []
        for p in points where !keys.contains(where: { $0 == (p.label, p.method, p.model, p.seed) }) { keys.append((p.label, p.method, p.model, p.seed)) }
        return keys
    }

    /// The median over seeds of `value` at each solve count of `rows` (one curve), by solve count.
    static func medianCurve(_ rows: [Point], _ value: (Point) -> Double) -> [(solves: Int, value: Double, seeds: Int)] {
        Array(Set(rows.map(\.solves))).sorted().map { n in
            let v = rows.filter { $0.solves == n }.map(value).sorted()
            return (n, v.count % 2 == 1 ? v[v.count / 2] : 0.5 * (v[v.count / 2 - 1] + v[v.count / 2]), v.count)
        }
    }

    /// The solves adaptive sampling needs to reach the error of the LHS curve at its most solves, for a
    /// label, a model and a statistic (test median or p95), both curves as medians over their seeds.
    public struct SolveSaving: Equatable, Sendable {
        public var label: String
        public var model: String
        /// "median" or "p95": the statistic of the test relative L2 compared.
        public var statistic: String
        /// The LHS curve's largest solve count, its error there and the seeds it has there.
        public var lhsSolves: Int
        public var lhsError: Double
        public var lhsSeeds: Int
        /// The first adaptive solve count whose error is at or below `lhsError` (nil: not reached up to `adaptiveLargest`).
        public var adaptiveSolves: Int?
        public var adaptiveLargest: Int
        public var adaptiveSeeds: Int
        /// The first solve count at which the LHS curve itself is at or below `lhsError`: when it is well
        /// below `lhsSolves` the LHS curve is flat there, and a small `ratio` is no saving over LHS.
        public var lhsFirstSolves: Int
        /// adaptive solves / LHS solves: ≤ 0.5 is the goal of "half the solves"; nil when not reached.
        public var ratio: Double? { adaptiveSolves.map { Double($0) / Double(lhsSolves) } }
    }

    /// One `SolveSaving` per label, model and statistic that has both an LHS and an adaptive curve. The
    /// adaptive count is a first point at or below the LHS error (no interpolation between points, so
    /// the ratio errs on the side of fewer savings by at most one batch).
    public static func savings(_ points: [Point]) -> [SolveSaving] {
        var keys: [(String, String)] = []
        for p in points where !keys.contains(where: { $0 == (p.label, p.model) }) { keys.append((p.label, p.model)) }
        var result: [SolveSaving] = []
        for (label, model) in keys {
            let lhs = points.filter { $0.label == label && $0.model == model && $0.method == Method.lhs.rawValue }
            let adaptive = points.filter { $0.label == label && $0.model == model && $0.method == Method.adaptive.rawValue }
            guard !lhs.isEmpty, !adaptive.isEmpty else { continue }
            for (statistic, value) in [("median", { (p: Point) in p.score.testMedian }), ("p95", { (p: Point) in p.score.testP95 })] {
                let lhsCurve = medianCurve(lhs, value)
                let reference = lhsCurve.last!
                let curve = medianCurve(adaptive, value)
                let reached = curve.first { $0.value <= reference.value }
                result.append(SolveSaving(label: label, model: model, statistic: statistic, lhsSolves: reference.solves, lhsError: reference.value,
                                          lhsSeeds: reference.seeds, adaptiveSolves: reached?.solves, adaptiveLargest: curve.last!.solves,
                                          adaptiveSeeds: (reached ?? curve.last!).seeds,
                                          lhsFirstSolves: lhsCurve.first { $0.value <= reference.value }!.solves))
            }
        }
        return result
    }

    static func savingsCSV(_ savings: [SolveSaving]) -> String {
        var csv = "label,model,statistic,lhs_solves,lhs_test_error,lhs_seeds,adaptive_solves,adaptive_largest_solves,adaptive_seeds,ratio,lhs_first_solves\n"
        for s in savings {
            csv += "\(s.label),\(s.model),\(s.statistic),\(s.lhsSolves),\(s.lhsError),\(s.lhsSeeds),\(s.adaptiveSolves.map(String.init) ?? ""),"
                + "\(s.adaptiveLargest),\(s.adaptiveSeeds),\(s.ratio.map { "\($0)" } ?? ""),\(s.lhsFirstSolves)\n"
        }
        return csv
    }

    /// Median and p95 against FEM solves (log–log), one line per label, method and model: the median over the seeds.
    static func figure(_ points: [Point]) -> Figure {
        var names: [String] = []
        for p in points where !names.contains("\(p.label) \(p.method) \(p.model)") { names.append("\(p.label) \(p.method) \(p.model)") }
        func series(_ value: (Point) -> Double) -> [PlotSeries] {
            names.enumerated().map { k, name in
                let curve = medianCurve(points.filter { "\($0.label) \($0.method) \($0.model)" == name }, value)
                let sizes = curve.map { Double($0.solves) }, ys = curve.map(\.value)
                let color = RGBColor.palette[k % RGBColor.palette.count]
                // A curve of one point (e.g. a single size) is a marker: a line of one point draws nothing.
                return sizes.count == 1 ? .scatter(ScatterSeries(name, x: sizes, y: ys, color: color))
                                        : .line(LineSeries(name, x: sizes, y: ys, color: color))
            }
        }
        return Figure(name: "refine-study", title: "Test error against FEM training solves (median over seeds)", panels: [
            Panel("median", .xy(XYPlot(xAxis: Axis("FEM training solves", scale: .log10), yAxis: Axis("test rel. L2, median", scale: .log10),
                                       series: series(\.score.testMedian)))),
            Panel("95th percentile", .xy(XYPlot(xAxis: Axis("FEM training solves", scale: .log10), yAxis: Axis("test rel. L2, p95", scale: .log10),
                                                series: series(\.score.testP95)))),
        ], columns: 1, panelWidth: 760)   // stacked and wide: a study gathers many curves, whose legend sits beside the plot
    }
}
