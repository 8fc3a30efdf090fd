import Foundation
import NumericalFoundations

/// The percentile bootstrap of per-output mean and standard-deviation maps of n i.i.d. rows
/// (`Bootstrap`'s draws and intervals): B resamples of the n rows with replacement, each giving a mean
/// and a standard deviation per output; the interval of each output is the [(1 − c)/2, (1 + c)/2]
/// range of its B values.
///
/// A resample is a count vector w (w_k = how often row k was drawn, Σ w = n), so its sums are a matrix
/// product: with y = x − x̄ (the full sample's mean, so that no E[y²] − E[y]² cancellation occurs),
/// S₁ = W y and S₂ = W (y ∘ y) for all B resamples at once (two GEMMs), and per resample and output
///     mean_b = x̄ + S₁/n,   var_b = (S₂ − S₁²/n)/(n − 1).
public struct MapBootstrap: Sendable {
    public let resamples: Int
    public let outputs: Int
    public let confidence: Double
    /// B × outputs, row-major: each resample's mean and standard deviation maps.
    public let means: [Double]
    public let standardDeviations: [Double]
    /// The full sample's maps.
    public let mean: [Double]
    public let standardDeviation: [Double]

    /// `values`: rows × outputs, row-major. Draws row indices from `SeededGenerator(seed, stream)`, n per
    /// resample, resample after resample (the same seed gives the same resamples).
    public init(values: [Double], rows n: Int, outputs p: Int, resamples b: Int, confidence: Double = 0.95,
                seed: UInt64, stream: UInt64) throws {
        guard n >= 2, p >= 1, values.count == n * p else {
            throw UQError("the bootstrap needs at least 2 rows of \(p) values; got \(values.count) values for \(n) rows")
        }
        guard b >= 1 else { throw UQError("the bootstrap needs at least 1 resample, got \(b)") }
        guard confidence > 0, confidence < 1 else { throw UQError("the confidence level must lie in (0, 1), got \(confidence)") }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw UQError("value \(values[bad]) in row \(bad / p), output \(bad % p): the bootstrap needs finite values")
        }
        resamples = b; outputs = p; self.confidence = confidence
        var moments = StreamingMoments(outputs: p)
        moments.add(values[...], rows: n)
        mean = moments.mean
        standardDeviation = moments.standardDeviation
        var centred = values, squared = values
        for k in 0..<n { for j in 0..<p { let y = values[k * p + j] - mean[j]; centred[k * p + j] = y; squared[k * p + j] = y * y } }
        var counts = [Double](repeating: 0, count: b * n)
        var r = 0
        Bootstrap.forEachResample(count: n, resamples: b, seed: seed, stream: stream) { rows in
            for k in rows { counts[r * n + k] += 1 }
            r += 1
        }
        var s1 = [Double](repeating: 0, count: b * p), s2 = [Double](repeating: 0, count: b * p)
        Self.product(counts, centred, into: &s1, b: b, n: n, p: p)
        Self.product(counts, squared, into: &s2, b: b, n: n, p: p)
        var m = [Double](repeating: 0, count: b * p), s = [Double](repeating: 0, count: b * p)
        let nn = Double(n)
        for r in 0..<b {
            for j in 0..<p {
                let a = s1[r * p + j], q = s2[r * p + j]
                m[r * p + j] = mean[j] + a / nn
                s[r * p + j] = (max(q - a * a / nn, 0) / (nn - 1)).squareRoot()
            }
        }
        means = m; standardDeviations = s
    }

    /// c = W y (B × n times n × p).
    private static func product(_ w: [Double], _ y: [Double], into c: inout [Double], b: Int, n: Int, p: Int) {
        w.withUnsafeBufferPointer { wp in
            y.withUnsafeBufferPointer { yp in
                c.withUnsafeMutableBufferPointer { cp in
                    Double.gemm(.none, .none, m: b, n: p, k: n, alpha: 1, a: wp.baseAddress!, lda: n,
                                b: yp.baseAddress!, ldb: p, beta: 0, c: cp.baseAddress!, ldc: p)
                }
            }
        }
    }

    /// Per output, the percentile interval of the B resampled means.
    public var meanIntervals: [ClosedRange<Double>] { Self.columnIntervals(means, columns: outputs, confidence: confidence) }
    /// Per output, the percentile interval of the B resampled standard deviations.
    public var standardDeviationIntervals: [ClosedRange<Double>] {
        Self.columnIntervals(standardDeviations, columns: outputs, confidence: confidence)
    }

    /// The percentile interval of each column of a B × columns table (finite values).
    public static func columnIntervals(_ table: [Double], columns p: Int, confidence: Double) -> [ClosedRange<Double>] {
        let b = table.count / p
        var column = [Double](repeating: 0, count: b)
        return (0..<p).map { j in
            for r in 0..<b { column[r] = table[r * p + j] }
            return Bootstrap.percentileInterval(column, confidence: confidence) ?? .nan ... .nan
        }
    }
}
