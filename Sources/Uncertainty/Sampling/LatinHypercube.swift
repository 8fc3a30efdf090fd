import NumericalFoundations
/// Latin hypercube sampling (McKay, Beckman & Conover 1979; Stein 1987), formulation.md §1:
/// each of the d dimensions is cut into n equal strata; each stratum holds exactly one point; the
/// strata of different dimensions are paired by independent random permutations; each point is
/// jittered uniformly inside its stratum.
public struct LatinHypercube: Sendable {
    /// Points in the unit cube, row-major n × d.
    public private(set) var unitPoints: [Double]
    public let count: Int
    public let dimensions: Int

    /// Draw order (the stream contract): for each dimension in turn, a Fisher–Yates permutation of
    /// the strata, then n jitters in point order.
    public init(count n: Int, dimensions d: Int, generator: inout SeededGenerator) {
        precondition(n >= 1 && d >= 1)
        count = n; dimensions = d
        var points = [Double](repeating: 0, count: n * d)
        for j in 0..<d {
            let strata = generator.permutation(n)
            for i in 0..<n {
                let u = generator.nextUniform()
                points[i * d + j] = (Double(strata[i]) + u) / Double(n)
            }
        }
        unitPoints = points
    }

    /// Which stratum (0..<n) point i occupies in dimension j.
    public func stratum(point i: Int, dimension j: Int) -> Int {
        min(count - 1, Int(unitPoints[i * dimensions + j] * Double(count)))
    }

    /// Smallest Euclidean distance between two points of the design, in unit-cube coordinates
    /// (infinity for a single point). Exact, in about O(n) pair comparisons (`ClosestPair`), so that
    /// the manifest's diagnostic stays cheap for 10⁵ samples.
    public var minimumDistance: Double {
        ClosestPair.minimumSquaredDistance(unitPoints, count: count, dimensions: dimensions).squared.squareRoot()
    }

    func distance(_ a: Int, _ b: Int) -> Double {
        var s = 0.0
        for j in 0..<dimensions { let t = unitPoints[a * dimensions + j] - unitPoints[b * dimensions + j]; s += t * t }
        return s
    }

    /// Maximin improvement that keeps the Latin property: repeatedly take a point of the closest pair,
    /// swap its coordinate in a random dimension with another random point's (both stay in their
    /// strata, so every stratum still holds one point), and keep the swap only if the smallest
    /// distance from the two changed points to all others grows. Pairs not touching the two points
    /// are unchanged, so the design's minimum distance never decreases.
    /// Returns the number of accepted swaps.
    @discardableResult
    public mutating func improveMaximin(iterations: Int, generator: inout SeededGenerator) -> Int {
        let n = count, d = dimensions
        guard n >= 3, iterations > 0 else { return 0 }
        // Squared distances and, per point, its nearest neighbour.
        var dist = [Double](repeating: .infinity, count: n * n)
        for a in 0..<n { for b in (a + 1)..<n { let t = distance(a, b); dist[a * n + b] = t; dist[b * n + a] = t } }
        var nearest = [Int](repeating: 0, count: n)
        var nearestDistance = [Double](repeating: .infinity, count: n)
        func refresh(_ i: Int) {
            var best = Double.infinity, arg = i
            for k in 0..<n where k != i && dist[i * n + k] < best { best = dist[i * n + k]; arg = k }
            nearest[i] = arg; nearestDistance[i] = best
        }
        for i in 0..<n { refresh(i) }
        var accepted = 0
        var rowA = [Double](repeating: 0, count: n), rowB = [Double](repeating: 0, count: n)
        for _ in 0..<iterations {
            // A point of the closest pair (the first in index order, for determinism).
            var a = 0
            for i in 1..<n where nearestDistance[i] < nearestDistance[a] { a = i }
            var b = generator.nextIndex(below: n - 1)
            if b >= a { b += 1 }
            let j = generator.nextIndex(below: d)
            let oldMin = min(nearestDistance[a], nearestDistance[b])
            unitPoints.swapAt(a * d + j, b * d + j)
            var newMin = Double.infinity
            for k in 0..<n {
                rowA[k] = k == a ? .infinity : distance(a, k)
                rowB[k] = k == b ? .infinity : distance(b, k)
                newMin = min(newMin, rowA[k], rowB[k])
            }
            if newMin > oldMin {
                accepted += 1
                for k in 0..<n {
                    dist[a * n + k] = rowA[k]; dist[k * n + a] = rowA[k]
                    dist[b * n + k] = rowB[k]; dist[k * n + b] = rowB[k]
                }
                dist[a * n + a] = .infinity; dist[b * n + b] = .infinity
                for k in 0..<n {
                    if k == a || k == b || nearest[k] == a || nearest[k] == b { refresh(k) }
                    else {
                        if dist[k * n + a] < nearestDistance[k] { nearestDistance[k] = dist[k * n + a]; nearest[k] = a }
                        if dist[k * n + b] < nearestDistance[k] { nearestDistance[k] = dist[k * n + b]; nearest[k] = b }
                    }
                }
            } else {
                unitPoints.swapAt(a * d + j, b * d + j)
            }
        }
        return accepted
    }

    /// Points mapped to the given intervals, row-major n × d.
    public func scaled(to ranges: [ClosedRange<Double>]) -> [Double] {
        precondition(ranges.count == dimensions)
        var out = unitPoints
        for i in 0..<count {
            for j in 0..<dimensions {
                let r = ranges[j]
                out[i * dimensions + j] = r.lowerBound + (r.upperBound - r.lowerBound) * unitPoints[i * dimensions + j]
            }
        }
        return out
    }
}

/// The seeded random train/test split: round(fraction · n) samples are training (0), the rest test (1).
public func trainTestSplit(count n: Int, trainFraction: Double, generator: inout SeededGenerator) -> [UInt8] {
    let nTrain = Int((trainFraction * Double(n)).rounded())
    var flags = [UInt8](repeating: 1, count: n)
    for i in generator.permutation(n).prefix(nTrain) { flags[i] = 0 }
    return flags
}
