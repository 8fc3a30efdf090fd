/// The smallest pairwise distance of points in the unit cube, exactly, without comparing all n²/2 pairs.
///
/// The cube is cut into g^d cells of side h = 1/g with g = ⌊n^(1/d)⌋ (about one point per cell). Two
/// points at distance ≤ h differ by ≤ h in every coordinate, so they lie in the same or in adjacent
/// cells; the smallest distance over such pairs is therefore the exact minimum whenever it is ≤ h.
/// Otherwise (a sparse design) every pair is compared. The squared distances are summed in the same
/// order as a direct comparison of all pairs, so the value is the same to the last bit.
public enum ClosestPair {
    /// The smallest squared distance between two of the `count` points (row-major, `dimensions` wide)
    /// and the number of pairs compared (for tests of the cost); infinity for fewer than two points.
    public static func minimumSquaredDistance(_ points: [Double], count n: Int, dimensions d: Int) -> (squared: Double, pairs: Int) {
        guard n >= 2 else { return (.infinity, 0) }
        var g = 1
        while power(g + 1, d).map({ $0 <= n }) ?? false { g += 1 }
        // With fewer than three cells a side every cell is adjacent to every other: compare all pairs.
        if g >= 3 {
            let gridded = cellSearch(points, count: n, dimensions: d, cellsPerSide: g)
            let side = 1 / Double(g)
            if gridded.squared <= side * side { return gridded }
        }
        return allPairs(points, count: n, dimensions: d)
    }

    /// g^d, or nil when it overflows.
    static func power(_ g: Int, _ d: Int) -> Int? {
        var result = 1
        for _ in 0..<d {
            let (r, overflow) = result.multipliedReportingOverflow(by: g)
            if overflow { return nil }
            result = r
        }
        return result
    }

    static func squaredDistance(_ p: [Double], _ a: Int, _ b: Int, _ d: Int) -> Double {
        var s = 0.0
        for j in 0..<d { let t = p[a * d + j] - p[b * d + j]; s += t * t }
        return s
    }

    static func allPairs(_ p: [Double], count n: Int, dimensions d: Int) -> (squared: Double, pairs: Int) {
        var best = Double.infinity
        for a in 0..<n { for b in (a + 1)..<n { best = min(best, squaredDistance(p, a, b, d)) } }
        return (best, n * (n - 1) / 2)
    }

    /// The smallest squared distance over pairs in the same or adjacent cells (each pair once, a < b).
    static func cellSearch(_ p: [Double], count n: Int, dimensions d: Int, cellsPerSide g: Int) -> (squared: Double, pairs: Int) {
        let cellCount = power(g, d)!
        // Points grouped by cell (counting sort): members of cell c are order[start[c]..<start[c + 1]].
        var cellOf = [Int](repeating: 0, count: n)
        var start = [Int](repeating: 0, count: cellCount + 1)
        for i in 0..<n {
            var c = 0
            for j in 0..<d { c = c * g + min(g - 1, max(0, Int(p[i * d + j] * Double(g)))) }
            cellOf[i] = c
            start[c + 1] += 1
        }
        for c in 0..<cellCount { start[c + 1] += start[c] }
        var fill = start
        var order = [Int](repeating: 0, count: n)
        for i in 0..<n { order[fill[cellOf[i]]] = i; fill[cellOf[i]] += 1 }

        var best = Double.infinity, pairs = 0
        var coordinates = [Int](repeating: 0, count: d), offset = [Int](repeating: -1, count: d)
        for c in 0..<cellCount where start[c] < start[c + 1] {
            var rest = c
            for j in stride(from: d - 1, through: 0, by: -1) { coordinates[j] = rest % g; rest /= g }
            for k in 0..<d { offset[k] = -1 }
            // Every neighbour offset in {−1, 0, 1}^d, as an odometer.
            while true {
                var neighbour = 0, inside = true
                for j in 0..<d {
                    let x = coordinates[j] + offset[j]
                    if x < 0 || x >= g { inside = false; break }
                    neighbour = neighbour * g + x
                }
                if inside {
                    for ia in start[c]..<start[c + 1] {
                        let a = order[ia]
                        for ib in start[neighbour]..<start[neighbour + 1] where a < order[ib] {
                            best = min(best, squaredDistance(p, a, order[ib], d))
                            pairs += 1
                        }
                    }
                }
                var k = d - 1
                while k >= 0 && offset[k] == 1 { offset[k] = -1; k -= 1 }
                if k < 0 { break }
                offset[k] += 1
            }
        }
        return (best, pairs)
    }
}
