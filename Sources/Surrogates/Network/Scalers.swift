/// Inputs scaled to [−1, 1] from the configured parameter ranges (formulation.md §4):
/// x̂ = 2 (x − lower) / (upper − lower) − 1. A degenerate range (lower = upper, a parameter held
/// fixed) maps to 0. The ranges, not the sample extremes, define the map, so that the scaling is
/// the same for every data set drawn from the same box and `predict` can tell extrapolation.
public struct InputScaler: Codable, Equatable, Sendable {
    public let lower: [Double]
    public let upper: [Double]

    public init(lower: [Double], upper: [Double]) throws {
        guard lower.count == upper.count, !lower.isEmpty else {
            throw NetworkError("input scaler: \(lower.count) lower and \(upper.count) upper bounds")
        }
        for (i, (lo, hi)) in zip(lower, upper).enumerated() where !(lo.isFinite && hi.isFinite && lo <= hi) {
            throw NetworkError("input scaler: column \(i) range [\(lo), \(hi)] is not a finite interval")
        }
        self.lower = lower
        self.upper = upper
    }

    public init(ranges: [ClosedRange<Double>]) throws {
        try self.init(lower: ranges.map(\.lowerBound), upper: ranges.map(\.upperBound))
    }

    public var width: Int { lower.count }

    @inline(__always)
    public func scale(_ x: Double, column j: Int) -> Double {
        let span = upper[j] - lower[j]
        return span > 0 ? 2 * (x - lower[j]) / span - 1 : 0
    }

    /// Scales row-major rows of `width` values.
    public func scale(rows values: [Double]) -> [Double] {
        precondition(values.count % width == 0)
        return values.enumerated().map { scale($0.element, column: $0.offset % width) }
    }

    /// Whether x lies in column j's range, with a relative slack of `tolerance` of the range width.
    public func contains(_ x: Double, column j: Int, tolerance: Double = 1e-9) -> Bool {
        let slack = tolerance * max(upper[j] - lower[j], abs(upper[j]), abs(lower[j]), 1e-300)
        return x >= lower[j] - slack && x <= upper[j] + slack
    }
}

/// Outputs standardised per output from the training set (formulation.md §4): ŷ_j = (y_j − μ_j)/s_j,
/// with μ_j the training mean and s_j the population standard deviation (divisor n, as NumPy's
/// default and scikit-learn's StandardScaler), floored at `relativeFloor · max_k s_k`.
///
/// The floor is our choice where the specification is silent: an output that barely varies over
/// the training set (an observation point the pollutant never reaches, where c3 is ~0 up to solver
/// round-off) would otherwise be blown up to unit variance and make the network fit noise. With
/// the floor such an output keeps a tiny scaled variance and contributes almost nothing to the loss.
public struct OutputScaler: Codable, Equatable, Sendable {
    public let mean: [Double]
    public let standardDeviation: [Double]
    /// How many outputs had their standard deviation raised to the floor.
    public let flooredCount: Int

    public init(mean: [Double], standardDeviation: [Double]) throws {
        guard mean.count == standardDeviation.count, !mean.isEmpty else {
            throw NetworkError("output scaler: \(mean.count) means and \(standardDeviation.count) standard deviations")
        }
        if let j = standardDeviation.firstIndex(where: { !($0 > 0 && $0.isFinite) }) {
            throw NetworkError("output scaler: standard deviation of output \(j) is \(standardDeviation[j]); expected a positive number")
        }
        if let j = mean.firstIndex(where: { !$0.isFinite }) {
            throw NetworkError("output scaler: mean of output \(j) is \(mean[j])")
        }
        self.mean = mean
        self.standardDeviation = standardDeviation
        flooredCount = 0
    }

    /// Fits the scaler on the rows `rows` of a row-major matrix with `width` columns.
    public init(fitting values: [Double], width: Int, rows: [Int], relativeFloor: Double) throws {
        guard !rows.isEmpty else { throw NetworkError("output scaler: no training rows to fit") }
        var mean = [Double](repeating: 0, count: width)
        for r in rows { for j in 0..<width { mean[j] += values[r * width + j] } }
        for j in 0..<width { mean[j] /= Double(rows.count) }
        var variance = [Double](repeating: 0, count: width)
        // Two passes (mean, then squared deviations): no cancellation for outputs with a large mean.
        for r in rows { for j in 0..<width { let d = values[r * width + j] - mean[j]; variance[j] += d * d } }
        var std = variance.map { ($0 / Double(rows.count)).squareRoot() }
        let largest = std.max() ?? 0
        let floor = largest > 0 ? relativeFloor * largest : 1
        var floored = 0
        for j in 0..<width where !(std[j] >= floor && std[j] > 0) {
            std[j] = floor > 0 ? floor : 1
            floored += 1
        }
        self.mean = mean
        self.standardDeviation = std
        self.flooredCount = floored
    }

    public var width: Int { mean.count }

    @inline(__always) public func standardize(_ y: Double, column j: Int) -> Double { (y - mean[j]) / standardDeviation[j] }
    @inline(__always) public func unstandardize(_ yHat: Double, column j: Int) -> Double { mean[j] + standardDeviation[j] * yHat }

    /// s_j²: the weights that turn a squared error in scaled units into one in physical units.
    public var variances: [Double] { standardDeviation.map { $0 * $0 } }
}
