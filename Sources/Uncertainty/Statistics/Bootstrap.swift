import NumericalFoundations

/// The percentile bootstrap (Efron & Tibshirani, "An Introduction to the Bootstrap", 1993, §13.3):
/// draw n rows with replacement, recompute the statistic on them, repeat; the interval is the
/// (1 − c)/2 and (1 + c)/2 type-7 quantiles of the replicates. Every draw comes from one stream of
/// a seed, so an interval is reproducible bit for bit.
public enum Bootstrap {
    /// A statistic with its percentile interval.
    public struct Interval: Codable, Equatable, Sendable {
        public var estimate: Double
        public var lower: Double
        public var upper: Double
        public var confidence: Double
        public var resamples: Int
        /// Rows the statistic was computed on (pairs left out as undefined are not counted).
        public var count: Int
    }

    /// Calls `body` once per resample with its n row indices, drawn with replacement from 0..<n
    /// (stream `stream` of `seed`). The index array is reused between calls.
    public static func forEachResample(count n: Int, resamples: Int, seed: UInt64, stream: UInt64, _ body: ([Int]) -> Void) {
        guard n > 0 else { return }
        var generator = SeededGenerator(seed: seed, stream: stream)
        var rows = [Int](repeating: 0, count: n)
        for _ in 0..<max(resamples, 0) {
            for k in 0..<n { rows[k] = generator.nextIndex(below: n) }
            body(rows)
        }
    }

    /// The percentile interval of `replicates` (non-finite replicates other than ±∞ are left out;
    /// ±∞ are ordered as numbers). nil when nothing is left.
    public static func percentileInterval(_ replicates: [Double], confidence: Double) -> ClosedRange<Double>? {
        let values = replicates.filter { !$0.isNaN }.sorted()
        guard !values.isEmpty else { return nil }
        let tail = (1 - confidence) / 2
        return orderedQuantile(values, tail)...orderedQuantile(values, 1 - tail)
    }

    /// The type-7 quantile of ascending `sorted` values that may hold ±∞: `sampleQuantile`'s
    /// interpolation, except that equal neighbours give their value (no ∞ · 0 for two infinities).
    public static func orderedQuantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let position = Double(sorted.count - 1) * min(max(q, 0), 1)
        let i = Int(position.rounded(.down))
        let f = position - Double(i)
        if i + 1 >= sorted.count || f == 0 || sorted[i] == sorted[i + 1] { return sorted[i] }
        return sorted[i] * (1 - f) + sorted[i + 1] * f
    }

    /// The median of values that may hold ±∞ (mean of the two middle values for an even count).
    public static func median(_ values: [Double]) -> Double {
        orderedQuantile(values.filter { !$0.isNaN }.sorted(), 0.5)
    }

    /// The paired bootstrap of the median ratio: pair k gives r_k = numerators[k] / denominators[k]
    /// (e.g. the baseline's cost to a target over a method's, on the same seed); resampling draws
    /// whole pairs, so the spread of both members enters the interval. A pair in which neither
    /// side is finite (0/0, ∞/∞) has no ratio and is left out (`count` says how many remain);
    /// a/∞ = 0 and ∞/b = ∞ are kept.
    public static func pairedMedianRatio(numerators: [Double], denominators: [Double], resamples: Int, confidence: Double,
                                         seed: UInt64, stream: UInt64 = 0) -> Interval? {
        precondition(numerators.count == denominators.count, "pairedMedianRatio: \(numerators.count) numerators, \(denominators.count) denominators")
        let ratios = zip(numerators, denominators).map { $0 / $1 }.filter { !$0.isNaN }
        guard !ratios.isEmpty else { return nil }
        let estimate = median(ratios)
        var replicates: [Double] = []
        replicates.reserveCapacity(resamples)
        var sample = [Double](repeating: 0, count: ratios.count)
        forEachResample(count: ratios.count, resamples: resamples, seed: seed, stream: stream) { rows in
            for (k, row) in rows.enumerated() { sample[k] = ratios[row] }
            replicates.append(median(sample))
        }
        let interval = percentileInterval(replicates, confidence: confidence) ?? estimate...estimate
        return Interval(estimate: estimate, lower: interval.lowerBound, upper: interval.upperBound, confidence: confidence,
                        resamples: resamples, count: ratios.count)
    }
}
