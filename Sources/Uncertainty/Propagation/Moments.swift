import NumericalFoundations

/// Mean and variance of many outputs, accumulated batch by batch. Each batch's mean and sum of
/// squared deviations are computed in two passes (exact up to rounding), then merged into the running
/// totals by Chan, Golub & LeVeque's pairwise update
///     δ = m_b − m_a,  m = m_a + δ n_b/n,  M2 = M2_a + M2_b + δ² n_a n_b / n,
/// which never subtracts two large sums (no E[x²] − E[x]² cancellation).
public struct StreamingMoments: Sendable {
    public let outputs: Int
    public private(set) var count = 0
    public private(set) var mean: [Double]
    /// Σ (y − mean)² per output.
    public private(set) var sumOfSquares: [Double]

    public init(outputs: Int) {
        self.outputs = outputs
        mean = [Double](repeating: 0, count: outputs)
        sumOfSquares = [Double](repeating: 0, count: outputs)
    }

    /// Adds `rows` rows (row-major, rows × outputs).
    public mutating func add(_ values: ArraySlice<Double>, rows: Int) {
        precondition(values.count == rows * outputs)
        guard rows > 0 else { return }
        let p = outputs
        var bm = [Double](repeating: 0, count: p), bs = [Double](repeating: 0, count: p)
        values.withUnsafeBufferPointer { v in
            for r in 0..<rows { for j in 0..<p { bm[j] += v[r * p + j] } }
            for j in 0..<p { bm[j] /= Double(rows) }
            for r in 0..<rows { for j in 0..<p { let e = v[r * p + j] - bm[j]; bs[j] += e * e } }
        }
        let na = Double(count), nb = Double(rows), n = na + nb
        for j in 0..<p {
            let delta = bm[j] - mean[j]
            mean[j] += delta * nb / n
            sumOfSquares[j] += bs[j] + delta * delta * na * nb / n
        }
        count += rows
    }

    public mutating func add(_ values: [Double], rows: Int) { add(values[...], rows: rows) }

    /// Unbiased sample variance (n − 1 in the denominator); 0 for fewer than two rows.
    public var variance: [Double] { count > 1 ? sumOfSquares.map { $0 / Double(count - 1) } : [Double](repeating: 0, count: outputs) }
    public var standardDeviation: [Double] { variance.map { $0.squareRoot() } }
}

/// Per-output empirical quantiles from a fixed subsample: the first `capacity` rows offered are kept
/// (stored as Float, relative rounding 6e-8, far below the sampling error). Because the rows of a Monte
/// Carlo run are independent and identically distributed, the first R rows are a simple random
/// subsample, so no reservoir replacement is needed. With R ≥ N every row is kept and the quantiles are
/// the exact sample quantiles. Accuracy for R < N: the estimate of the q-quantile is the exact
/// quantile of a level q' with standard deviation √(q(1 − q)/R) (0.0022 for q = 0.05, R = 10 000).
public struct QuantileSample: Sendable {
    public let outputs: Int
    public let capacity: Int
    public private(set) var rows = 0
    private var store: [Float]

    public init(outputs: Int, capacity: Int) {
        self.outputs = outputs; self.capacity = capacity
        store = []
        store.reserveCapacity(min(capacity, 1 << 20) * outputs)
    }

    public mutating func offer(_ values: ArraySlice<Double>, rows n: Int) {
        let take = min(n, capacity - rows)
        guard take > 0 else { return }
        let s = values.startIndex
        store.append(contentsOf: values[s..<(s + take * outputs)].lazy.map { Float($0) })
        rows += take
    }

    /// Quantiles at the given levels (linear interpolation between order statistics, the "type 7"
    /// definition: position (R − 1) q). Returns one array of `outputs` values per level.
    public func quantiles(_ levels: [Double], threads: Int = 1) -> [[Double]] {
        let p = outputs, r = rows
        var out = [[Double]](repeating: [Double](repeating: .nan, count: p), count: levels.count)
        guard r > 0 else { return out }
        var flat = [Double](repeating: 0, count: levels.count * p)
        flat.withUnsafeMutableBufferPointer { dst in
            let dest = dst.baseAddress!
            store.withUnsafeBufferPointer { src in
                // Static ranges of output columns, one per thread; each column is sorted on its own.
                ParallelWork.forEachRange(count: p, threads: threads, grain: 1) { columns in
                    var column = [Float](repeating: 0, count: r)
                    for j in columns {
                        for i in 0..<r { column[i] = src[i * p + j] }
                        column.sort()
                        for (k, q) in levels.enumerated() {
                            dest[k * p + j] = Self.interpolate(column, q)
                        }
                    }
                }
            }
        }
        for k in levels.indices { out[k] = Array(flat[(k * p)..<((k + 1) * p)]) }
        return out
    }

    static func interpolate(_ sorted: [Float], _ q: Double) -> Double {
        let position = Double(sorted.count - 1) * min(max(q, 0), 1)
        let i = Int(position.rounded(.down))
        let f = position - Double(i)
        if i + 1 >= sorted.count { return Double(sorted[sorted.count - 1]) }
        return Double(sorted[i]) * (1 - f) + Double(sorted[i + 1]) * f
    }
}

/// The type-7 quantile of a set of numbers (exact, for scalar quantities).
public func sampleQuantile(_ values: [Double], _ q: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let s = values.sorted()
    let position = Double(s.count - 1) * min(max(q, 0), 1)
    let i = Int(position.rounded(.down))
    let f = position - Double(i)
    if i + 1 >= s.count { return s[s.count - 1] }
    return s[i] * (1 - f) + s[i + 1] * f
}
