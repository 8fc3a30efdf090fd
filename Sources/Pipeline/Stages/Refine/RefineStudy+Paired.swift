import Foundation
import NumericalFoundations
import Surrogates
import Uncertainty
import Reporting

/// Adaptive (or the oracle) against LHS on the same test samples: how much of a difference between two
/// points of a seed is more than the test split's own sampling error.
extension RefineStudy {
    /// The ratio of an adaptive or oracle point's test statistic to an LHS point's (same label, model and seed),
    /// with a paired percentile bootstrap over the test samples: each resample draws test samples
    /// with replacement and recomputes both statistics on the same draw. It measures the test split's
    /// sampling error only — another seed's design is another question (the study's seeds answer it).
    public struct PairedComparison: Equatable, Sendable {
        public var label: String
        /// The method compared with LHS (`adaptive` or `oracle`).
        public var method: String
        public var model: String
        public var seed: UInt64
        /// "median" or "p95" of the test relative L2.
        public var statistic: String
        /// The compared point's solves and error.
        public var solves: Int
        public var lhsSolves: Int
        public var error: Double
        public var lhsError: Double
        /// method / LHS and its 95 % interval.
        public var ratio: Double
        public var ratioLow: Double
        public var ratioHigh: Double
        /// Test samples on which both errors are defined.
        public var samples: Int
    }

    static let pairedResamples = 2000
    static let pairedHeader = "label,method,model,seed,statistic,solves,lhs_solves,error,lhs_error,ratio,ratio_low,ratio_high,test_samples"

    /// For every adaptive and oracle point with per-sample test errors: against the LHS point of the same solve
    /// count, and against the largest LHS point that has them (the savings' reference when every LHS
    /// point has them; the rows name both solve counts).
    public static func pairedComparisons(_ points: [Point]) throws -> [PairedComparison] {
        var result: [PairedComparison] = []
        var cache: [URL: [Double]] = [:]
        func errors(_ url: URL) throws -> [Double] {
            if let v = cache[url] { return v }
            let v = try Npy.read(Double.self, from: url, expectedShape: [nil]).values
            cache[url] = v
            return v
        }
        for key in curveKeys(points) where key.1 != Method.lhs.rawValue {
            let adaptive = points.filter { ($0.label, $0.method, $0.model, $0.seed) == key && $0.testErrors != nil }.sorted { $0.solves < $1.solves }
            let lhs = points.filter { ($0.label, $0.model, $0.seed) == (key.0, key.2, key.3) && $0.method == Method.lhs.rawValue && $0.testErrors != nil }
            guard let largest = lhs.max(by: { $0.solves < $1.solves }) else { continue }
            for a in adaptive {
                var references = lhs.filter { $0.solves == a.solves }
                if largest.solves != a.solves { references.append(largest) }
                for l in references {
                    let (x, y) = (try errors(a.testErrors!), try errors(l.testErrors!))
                    guard x.count == y.count else {
                        throw StageError("refine-study: \(a.testErrors!.path) holds \(x.count) test errors, \(l.testErrors!.path) \(y.count): "
                                         + "they were scored on different test splits")
                    }
                    let pairs = zip(x, y).filter { $0.0.isFinite && $0.1.isFinite }
                    guard !pairs.isEmpty else { continue }
                    let ax = pairs.map(\.0), ly = pairs.map(\.1)
                    for (k, (name, statistic)) in pairedStatistics.enumerated() {
                        // The stream names the comparison, so its interval does not move when other points join the study.
                        // (An oracle point shares the stream of the adaptive point of its solves: the same draws, a paired reading.)
                        let stream = UInt64(a.solves) << 32 | UInt64(l.solves) << 1 | UInt64(k)
                        let r = try pairedRatio(ax, ly, statistic: statistic, seed: a.seed, stream: stream)
                        result.append(PairedComparison(label: key.0, method: key.1, model: key.2, seed: key.3, statistic: name, solves: a.solves,
                                                       lhsSolves: l.solves, error: r.x, lhsError: r.y, ratio: r.x / r.y,
                                                       ratioLow: r.low, ratioHigh: r.high, samples: pairs.count))
                    }
                }
            }
        }
        return result
    }

    /// The test statistics a paired comparison reads: the median and the 95th percentile of the relative L2.
    static let pairedStatistics: [(String, @Sendable ([Double]) throws -> Double)] = [("median", { try Metrics.median($0) }),
                                                                          ("p95", { try Metrics.percentile($0, 95) })]

    /// statistic(x) / statistic(y) for paired samples (x[i] and y[i] the same test sample), with the
    /// 95 % percentile interval of `pairedResamples` bootstrap draws of whole pairs, both statistics
    /// recomputed on the same draw (`Bootstrap.forEachResample` with `seed` and `stream`; NaN bounds
    /// when no interval exists).
    static func pairedRatio(_ x: [Double], _ y: [Double], statistic: ([Double]) throws -> Double,
                            seed: UInt64, stream: UInt64) throws -> (x: Double, y: Double, low: Double, high: Double) {
        precondition(x.count == y.count, "paired samples")
        let estimateX = try statistic(x), estimateY = try statistic(y)
        var replicates: [Double] = []
        replicates.reserveCapacity(pairedResamples)
        var drawnX = [Double](repeating: 0, count: x.count), drawnY = drawnX
        var failure: Error?
        Bootstrap.forEachResample(count: x.count, resamples: pairedResamples, seed: seed, stream: stream) { rows in
            for (j, i) in rows.enumerated() { drawnX[j] = x[i]; drawnY[j] = y[i] }
            do { replicates.append(try statistic(drawnX) / statistic(drawnY)) } catch { failure = error }
        }
        if let failure { throw failure }
        let interval = Bootstrap.percentileInterval(replicates, confidence: 0.95)
        return (estimateX, estimateY, interval?.lowerBound ?? .nan, interval?.upperBound ?? .nan)
    }

    /// The equal-size comparisons as curves: method / LHS of the test median and p95 against the
    /// solves, one line and its 95 % band per label, method, model and seed, and the line ratio = 1 (log y).
    static func pairedFigure(_ comparisons: [PairedComparison]) -> Figure? {
        let equal = comparisons.filter { $0.solves == $0.lhsSolves }
        guard !equal.isEmpty else { return nil }
        func name(_ c: PairedComparison) -> String { "\(c.label) \(c.method) \(c.model) seed \(c.seed)" }
        var names: [String] = []
        for c in equal where !names.contains(name(c)) { names.append(name(c)) }
        func panel(_ statistic: String) -> Panel {
            var series: [PlotSeries] = []
            let rows = equal.filter { $0.statistic == statistic }
            for (k, curveName) in names.enumerated() {
                let curve = rows.filter { name($0) == curveName }.sorted { $0.solves < $1.solves }
                guard !curve.isEmpty else { continue }
                let x = curve.map { Double($0.solves) }, color = RGBColor.palette[k % RGBColor.palette.count]
                series.append(.band(BandSeries(x: x, lower: curve.map(\.ratioLow), upper: curve.map(\.ratioHigh), color: color)))
                series.append(.line(LineSeries(curveName, x: x, y: curve.map(\.ratio), color: color)))
            }
            let solves = rows.map { Double($0.solves) }
            series.append(.line(LineSeries("equal error", x: [solves.min()!, solves.max()!], y: [1, 1], color: RGBColor(hex: 0x666666), width: 1, dash: .dashed)))
            return Panel("test \(statistic)", .xy(XYPlot(xAxis: Axis("FEM training solves", scale: .log10),
                                                         yAxis: Axis("method / LHS, \(statistic)", scale: .log10), series: series)))
        }
        return Figure(name: "refine-paired", title: "Adaptive (and oracle) against LHS at equal solves (95 % paired bootstrap over the test samples)",
                      panels: [panel("median"), panel("p95")], columns: 1, panelWidth: 760)
    }

    static func pairedCSV(_ comparisons: [PairedComparison]) -> String {
        var csv = pairedHeader + "\n"
        for c in comparisons {
            csv += "\(c.label),\(c.method),\(c.model),\(c.seed),\(c.statistic),\(c.solves),\(c.lhsSolves),\(c.error),\(c.lhsError),"
                + "\(c.ratio),\(c.ratioLow),\(c.ratioHigh),\(c.samples)\n"
        }
        return csv
    }
}
