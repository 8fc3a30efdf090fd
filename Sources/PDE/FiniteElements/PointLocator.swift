/// Where a point lies in the mesh: its triangle and barycentric coordinates (the P1 basis values there).
public struct PointLocation: Sendable, Equatable {
    public var triangle: Int
    public var nodes: (Int, Int, Int)
    public var weights: (Double, Double, Double)

    public static func == (a: PointLocation, b: PointLocation) -> Bool {
        a.triangle == b.triangle && a.nodes == b.nodes && a.weights == b.weights
    }

    /// Σ weight · field[node]: the P1 interpolant at the point.
    public func interpolate(_ field: [Double]) -> Double {
        weights.0 * field[nodes.0] + weights.1 * field[nodes.1] + weights.2 * field[nodes.2]
    }
}

/// Point location in O(log n) per point on any triangle mesh (generated or read from a file):
/// a bounding-volume hierarchy over the triangles' bounding boxes, split at the median centroid
/// along the longer axis down to leaves of at most four triangles. A query descends only into boxes
/// that contain the point; on a conforming mesh that is O(log n) boxes. Immutable, `Sendable`.
public final class PointLocator: Sendable {
    public let mesh: TriangleMesh
    // Node k: box [minX, minY, maxX, maxY] at 4k; children (left, right) or, for a leaf, a range of `order`.
    private let boxes: [Double]
    private let firstChild: [Int]     // −1 for a leaf
    private let leafStart: [Int]
    private let leafEnd: [Int]
    private let order: [Int]          // triangle indices, grouped by leaf
    /// Barycentric coordinates down to −tolerance count as inside (edges and vertices belong to both sides).
    public let barycentricTolerance = 1e-12

    public init(mesh: TriangleMesh) {
        self.mesh = mesh
        let count = mesh.triangleCount
        var triangleBoxes = [Double](repeating: 0, count: 4 * count)
        var centroidX = [Double](repeating: 0, count: count), centroidY = centroidX
        for t in 0..<count {
            let (a, b, c) = mesh.nodes(ofTriangle: t)
            triangleBoxes[4 * t] = min(mesh.x[a], mesh.x[b], mesh.x[c])
            triangleBoxes[4 * t + 1] = min(mesh.y[a], mesh.y[b], mesh.y[c])
            triangleBoxes[4 * t + 2] = max(mesh.x[a], mesh.x[b], mesh.x[c])
            triangleBoxes[4 * t + 3] = max(mesh.y[a], mesh.y[b], mesh.y[c])
            centroidX[t] = (mesh.x[a] + mesh.x[b] + mesh.x[c]) / 3
            centroidY[t] = (mesh.y[a] + mesh.y[b] + mesh.y[c]) / 3
        }
        var order = Array(0..<count)
        var boxes: [Double] = [], firstChild: [Int] = [], leafStart: [Int] = [], leafEnd: [Int] = []
        boxes.reserveCapacity(8 * count / 2)
        // Iterative build: each pending entry is (node index, range of `order`).
        func newNode() -> Int {
            boxes += [0, 0, 0, 0]; firstChild.append(-1); leafStart.append(0); leafEnd.append(0)
            return firstChild.count - 1
        }
        var pending = [(node: newNode(), start: 0, end: count)]
        while let (node, start, end) = pending.popLast() {
            var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity
            var cMinX = Double.infinity, cMinY = Double.infinity, cMaxX = -Double.infinity, cMaxY = -Double.infinity
            for k in start..<end {
                let t = order[k]
                minX = min(minX, triangleBoxes[4 * t]); minY = min(minY, triangleBoxes[4 * t + 1])
                maxX = max(maxX, triangleBoxes[4 * t + 2]); maxY = max(maxY, triangleBoxes[4 * t + 3])
                cMinX = min(cMinX, centroidX[t]); cMaxX = max(cMaxX, centroidX[t])
                cMinY = min(cMinY, centroidY[t]); cMaxY = max(cMaxY, centroidY[t])
            }
            boxes[4 * node] = minX; boxes[4 * node + 1] = minY; boxes[4 * node + 2] = maxX; boxes[4 * node + 3] = maxY
            if end - start <= 4 {
                leafStart[node] = start
                leafEnd[node] = end
                continue
            }
            let key = cMaxX - cMinX >= cMaxY - cMinY ? centroidX : centroidY
            let middle = (start + end) / 2
            PointLocator.select(&order, start, end, middle, key)
            let left = newNode(), right = newNode()
            firstChild[node] = left
            assert(right == left + 1)
            pending.append((left, start, middle))
            pending.append((right, middle, end))
        }
        self.boxes = boxes
        self.firstChild = firstChild
        self.leafStart = leafStart
        self.leafEnd = leafEnd
        self.order = order
    }

    /// Quickselect (Hoare): afterwards order[k] has the k-th smallest key in start..<end, smaller keys before it.
    private static func select(_ order: inout [Int], _ start: Int, _ end: Int, _ k: Int, _ key: [Double]) {
        var low = start, high = end - 1
        while low < high {
            let pivot = key[order[(low + high) / 2]]
            var i = low, j = high
            while i <= j {
                while key[order[i]] < pivot { i += 1 }
                while key[order[j]] > pivot { j -= 1 }
                if i <= j { order.swapAt(i, j); i += 1; j -= 1 }
            }
            if k <= j { high = j } else if k >= i { low = i } else { return }
        }
    }

    private func barycentric(_ t: Int, _ px: Double, _ py: Double) -> (Double, Double, Double) {
        let (a, b, c) = mesh.nodes(ofTriangle: t)
        let x = mesh.x, y = mesh.y
        let det = (x[b] - x[a]) * (y[c] - y[a]) - (x[c] - x[a]) * (y[b] - y[a])
        let lb = ((px - x[a]) * (y[c] - y[a]) - (x[c] - x[a]) * (py - y[a])) / det
        let lc = ((x[b] - x[a]) * (py - y[a]) - (px - x[a]) * (y[b] - y[a])) / det
        return (1 - lb - lc, lb, lc)
    }

    /// The triangle containing (x, y) and the barycentric weights, or `MeshError.pointOutsideDomain`.
    /// `snapDistance` > 0 accepts points up to that distance outside the mesh (e.g. on a curved ground
    /// that the straight mesh edges cut off) and returns the nearest point of the mesh instead.
    public func locate(x px: Double, y py: Double, snapDistance: Double = 0) throws -> PointLocation {
        guard px.isFinite, py.isFinite else { throw MeshError.pointOutsideDomain(x: px, y: py) }
        var best: (t: Int, w: (Double, Double, Double), score: Double)? = nil
        var stack = [0]
        stack.reserveCapacity(64)
        while let node = stack.popLast() {
            guard px >= boxes[4 * node], px <= boxes[4 * node + 2], py >= boxes[4 * node + 1], py <= boxes[4 * node + 3] else { continue }
            let child = firstChild[node]
            if child >= 0 { stack.append(child); stack.append(child + 1); continue }
            for k in leafStart[node]..<leafEnd[node] {
                let t = order[k]
                let w = barycentric(t, px, py)
                let score = min(w.0, w.1, w.2)
                if score >= -barycentricTolerance, best == nil || score > best!.score { best = (t, w, score) }
            }
            if let best, best.score >= 0 { break }
        }
        if let best {
            // Clamp the tiny negative weights of points on an edge so that they still sum to 1.
            var w = (max(best.w.0, 0), max(best.w.1, 0), max(best.w.2, 0))
            let sum = w.0 + w.1 + w.2
            w = (w.0 / sum, w.1 / sum, w.2 / sum)
            return PointLocation(triangle: best.t, nodes: mesh.nodes(ofTriangle: best.t), weights: w)
        }
        if snapDistance > 0, let near = nearest(px, py, within: snapDistance) { return near }
        throw MeshError.pointOutsideDomain(x: px, y: py)
    }

    /// Interpolates a nodal field at (x, y).
    public func interpolate(_ field: [Double], x: Double, y: Double, snapDistance: Double = 0) throws -> Double {
        guard field.count == mesh.nodeCount else {
            throw MeshError.invalid("field has \(field.count) values for \(mesh.nodeCount) nodes")
        }
        return try locate(x: x, y: y, snapDistance: snapDistance).interpolate(field)
    }

    /// The closest point of the mesh within `radius` of (px, py), as a location (branch and bound).
    private func nearest(_ px: Double, _ py: Double, within radius: Double) -> PointLocation? {
        var bestDistance2 = radius * radius
        var best: PointLocation? = nil
        var stack = [0]
        while let node = stack.popLast() {
            let dx = max(boxes[4 * node] - px, 0, px - boxes[4 * node + 2])
            let dy = max(boxes[4 * node + 1] - py, 0, py - boxes[4 * node + 3])
            guard dx * dx + dy * dy <= bestDistance2 else { continue }
            let child = firstChild[node]
            if child >= 0 { stack.append(child); stack.append(child + 1); continue }
            for k in leafStart[node]..<leafEnd[node] {
                let t = order[k]
                let (a, b, c) = mesh.nodes(ofTriangle: t)
                // The closest point of a triangle to an outside point lies on one of its edges.
                for (p, q) in [(a, b), (b, c), (c, a)] {
                    let ex = mesh.x[q] - mesh.x[p], ey = mesh.y[q] - mesh.y[p]
                    let s = max(0, min(1, ((px - mesh.x[p]) * ex + (py - mesh.y[p]) * ey) / (ex * ex + ey * ey)))
                    let cx = mesh.x[p] + s * ex, cy = mesh.y[p] + s * ey
                    let d2 = (cx - px) * (cx - px) + (cy - py) * (cy - py)
                    if d2 <= bestDistance2 {
                        bestDistance2 = d2
                        var weights = (0.0, 0.0, 0.0)
                        let wp = 1 - s, wq = s
                        for (node, weight) in [(p, wp), (q, wq)] {
                            if node == a { weights.0 += weight } else if node == b { weights.1 += weight } else { weights.2 += weight }
                        }
                        best = PointLocation(triangle: t, nodes: (a, b, c), weights: weights)
                    }
                }
            }
        }
        return best
    }
}

/// Interpolation at a fixed list of points (e.g. the observation grid), located once and applied
/// to many fields: each output is three multiply-adds.
public struct PointInterpolation: Sendable {
    public let pointCount: Int
    public let nodes: [Int]       // 3 per point
    public let weights: [Double]  // 3 per point
    public let nodeCount: Int

    /// Locates every point; the first point outside the mesh (beyond `snapDistance`) is an error naming it and its index.
    public init(locator: PointLocator, x: [Double], y: [Double], snapDistance: Double = 0) throws {
        guard x.count == y.count else { throw MeshError.invalid("point lists have different lengths \(x.count) and \(y.count)") }
        var nodes: [Int] = [], weights: [Double] = []
        nodes.reserveCapacity(3 * x.count); weights.reserveCapacity(3 * x.count)
        for k in 0..<x.count {
            let location: PointLocation
            do {
                location = try locator.locate(x: x[k], y: y[k], snapDistance: snapDistance)
            } catch {
                throw MeshError.invalid("point \(k): \(error)")
            }
            nodes += [location.nodes.0, location.nodes.1, location.nodes.2]
            weights += [location.weights.0, location.weights.1, location.weights.2]
        }
        pointCount = x.count
        self.nodes = nodes
        self.weights = weights
        nodeCount = locator.mesh.nodeCount
    }

    /// Values of a nodal field at the points.
    public func apply(_ field: [Double]) throws -> [Double] {
        guard field.count == nodeCount else { throw MeshError.invalid("field has \(field.count) values for \(nodeCount) nodes") }
        return (0..<pointCount).map { k -> Double in
            var value = 0.0
            for a in 0..<3 { value += weights[3 * k + a] * field[nodes[3 * k + a]] }
            return value
        }
    }

    /// Values of species `species` of an interleaved multi-species solution (index node·count + species).
    public func apply(interleaved solution: [Double], species: Int, speciesCount: Int) throws -> [Double] {
        guard speciesCount > 0, species >= 0, species < speciesCount, solution.count == nodeCount * speciesCount else {
            throw MeshError.invalid("solution has \(solution.count) values; expected \(nodeCount) nodes × \(speciesCount) species (species \(species))")
        }
        return (0..<pointCount).map { k -> Double in
            var value = 0.0
            for a in 0..<3 { value += weights[3 * k + a] * solution[nodes[3 * k + a] * speciesCount + species] }
            return value
        }
    }
}
