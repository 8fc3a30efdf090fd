import NumericalFoundations

/// Which part of the boundary of the domain x ∈ [0, Lx], y ∈ [h(x), Ly] (formulation.md §3) an edge lies on.
/// Geometric names: whether a side is actually an inflow depends on the wind (see `InflowBoundary`).
public enum BoundaryTag: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// y = h(x): zero flux (homogeneous Neumann), nothing to assemble.
    case ground = 1
    /// x = 0, the upstream side: the free stream (U0 > 0) enters here.
    case upstream = 2
    /// y = Ly.
    case top = 3
    /// x = Lx, the downstream side.
    case downstream = 4

    public var description: String {
        switch self {
        case .ground: return "ground"
        case .upstream: return "upstream"
        case .top: return "top"
        case .downstream: return "downstream"
        }
    }
}

/// A boundary edge, oriented so that the domain lies on its left (counter-clockwise around the domain).
public struct BoundaryEdge: Sendable, Equatable {
    public var first: Int
    public var second: Int
    public var tag: BoundaryTag
    /// The triangle the edge belongs to.
    public var triangle: Int
    /// Outward unit normal (constant along the straight edge) and length.
    public var normalX: Double
    public var normalY: Double
    public var length: Double
}

public enum MeshError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    case pointOutsideDomain(x: Double, y: Double)
    case file(path: String, line: Int?, message: String)
    /// The sparse structure built from the mesh was refused by SparseLinearAlgebra (an inconsistency
    /// of this library's assembly, not of the caller's input); its message is kept as it is.
    case sparseStructure(SparseMatrixError)
    /// UMFPACK's symbolic analysis of the mesh's sparse structure failed (e.g. out of memory); kept as it is.
    case symbolicAnalysis(UMFPACKError)

    public var description: String {
        switch self {
        case .invalid(let message): return "invalid mesh: \(message)"
        case .pointOutsideDomain(let x, let y): return "point (x = \(x), y = \(y)) lies outside the mesh"
        case .file(let path, let line, let message):
            return line.map { "\(path):\($0): \(message)" } ?? "\(path): \(message)"
        case .sparseStructure(let error): return "\(error)"
        case .symbolicAnalysis(let error): return "\(error)"
        }
    }
}

/// A conforming mesh of P1 triangles: node coordinates, counter-clockwise triangles, tagged boundary
/// edges, and each node's height above the ground (y − h(x)), which the wind profile needs.
/// Immutable and `Sendable`: one mesh serves every sample and thread.
public struct TriangleMesh: Sendable {
    public let x: [Double]
    public let y: [Double]
    /// Three node indices per triangle, counter-clockwise: triangle t is `triangles[3t ..< 3t+3]`.
    public let triangles: [Int]
    public let boundaryEdges: [BoundaryEdge]
    public let heightAboveGround: [Double]

    public var nodeCount: Int { x.count }
    public var triangleCount: Int { triangles.count / 3 }

    public func nodes(ofTriangle t: Int) -> (Int, Int, Int) { (triangles[3 * t], triangles[3 * t + 1], triangles[3 * t + 2]) }

    /// Signed area of triangle t (positive: counter-clockwise).
    public func area(ofTriangle t: Int) -> Double {
        let (a, b, c) = nodes(ofTriangle: t)
        return 0.5 * ((x[b] - x[a]) * (y[c] - y[a]) - (x[c] - x[a]) * (y[b] - y[a]))
    }

    /// Builds a mesh from raw arrays. Triangles given clockwise are reoriented; degenerate triangles,
    /// indices out of range, nodes in no triangle, edges shared by more than two triangles and
    /// boundary edges that `boundaryTag` leaves untagged are errors naming the offending item.
    /// `heightAboveGround` defaults to y minus the piecewise-linear interpolant of the ground edges.
    public init(x: [Double], y: [Double], triangles: [Int],
                boundaryTag: (_ first: Int, _ second: Int) -> BoundaryTag?,
                heightAboveGround: [Double]? = nil) throws {
        let n = x.count
        guard n >= 3, y.count == n else { throw MeshError.invalid("need at least 3 nodes with x and y of equal length (got \(x.count), \(y.count))") }
        guard !triangles.isEmpty, triangles.count % 3 == 0 else { throw MeshError.invalid("triangle array length \(triangles.count) is not a positive multiple of 3") }
        for i in 0..<n where !x[i].isFinite || !y[i].isFinite {
            throw MeshError.invalid("node \(i) has a non-finite coordinate (\(x[i]), \(y[i]))")
        }
        var minX = Double.infinity, maxX = -Double.infinity, minY = Double.infinity, maxY = -Double.infinity
        for i in 0..<n { minX = min(minX, x[i]); maxX = max(maxX, x[i]); minY = min(minY, y[i]); maxY = max(maxY, y[i]) }
        let scale = max(maxX - minX, maxY - minY)
        var oriented = triangles
        var used = [Bool](repeating: false, count: n)
        for t in 0..<triangles.count / 3 {
            let a = oriented[3 * t], b = oriented[3 * t + 1], c = oriented[3 * t + 2]
            for v in [a, b, c] where v < 0 || v >= n {
                throw MeshError.invalid("triangle \(t) refers to node \(v), outside 0..<\(n)")
            }
            let doubleArea = (x[b] - x[a]) * (y[c] - y[a]) - (x[c] - x[a]) * (y[b] - y[a])
            // Relative to the domain size: a sliver this thin cannot come from a usable mesh.
            guard abs(doubleArea) > 1e-13 * scale * scale else {
                throw MeshError.invalid("triangle \(t) (nodes \(a), \(b), \(c)) is degenerate (area \(0.5 * doubleArea))")
            }
            if doubleArea < 0 { oriented[3 * t + 1] = c; oriented[3 * t + 2] = b }
            used[a] = true; used[b] = true; used[c] = true
        }
        if let unused = used.firstIndex(of: false) {
            throw MeshError.invalid("node \(unused) at (\(x[unused]), \(y[unused])) belongs to no triangle")
        }
        // Edges: sort the (min, max, triangle, local) records; an edge seen once is on the boundary.
        var edges: [(low: Int, high: Int, triangle: Int, from: Int, to: Int)] = []
        edges.reserveCapacity(oriented.count)
        for t in 0..<oriented.count / 3 {
            for k in 0..<3 {
                let from = oriented[3 * t + k], to = oriented[3 * t + (k + 1) % 3]
                edges.append((min(from, to), max(from, to), t, from, to))
            }
        }
        edges.sort { $0.low != $1.low ? $0.low < $1.low : $0.high < $1.high }
        var boundary: [BoundaryEdge] = []
        var i = 0
        while i < edges.count {
            var j = i + 1
            while j < edges.count && edges[j].low == edges[i].low && edges[j].high == edges[i].high { j += 1 }
            if j - i > 2 {
                throw MeshError.invalid("edge between nodes \(edges[i].low) and \(edges[i].high) is shared by \(j - i) triangles")
            }
            if j - i == 1 {
                let e = edges[i]
                guard let tag = boundaryTag(e.from, e.to) else {
                    throw MeshError.invalid("boundary edge between node \(e.from) (\(x[e.from]), \(y[e.from])) and node \(e.to) (\(x[e.to]), \(y[e.to])) has no boundary tag")
                }
                let dx = x[e.to] - x[e.from], dy = y[e.to] - y[e.from]
                let length = (dx * dx + dy * dy).squareRoot()
                // Counter-clockwise traversal: the outward normal is the tangent turned clockwise.
                boundary.append(BoundaryEdge(first: e.from, second: e.to, tag: tag, triangle: e.triangle,
                                             normalX: dy / length, normalY: -dx / length, length: length))
            }
            i = j
        }
        self.x = x
        self.y = y
        self.triangles = oriented
        self.boundaryEdges = boundary
        if let heightAboveGround {
            guard heightAboveGround.count == n else { throw MeshError.invalid("heightAboveGround has \(heightAboveGround.count) values for \(n) nodes") }
            self.heightAboveGround = heightAboveGround
        } else {
            self.heightAboveGround = try TriangleMesh.heightsAboveGroundPolyline(x: x, y: y, boundary: boundary)
        }
    }

    /// y − g(x) with g the piecewise-linear interpolant through the ground edges (which must form a
    /// graph over x), constant beyond its ends. Used for meshes read from files.
    static func heightsAboveGroundPolyline(x: [Double], y: [Double], boundary: [BoundaryEdge]) throws -> [Double] {
        var segments = boundary.filter { $0.tag == .ground }.map { edge -> (x0: Double, y0: Double, x1: Double, y1: Double) in
            let a = edge.first, b = edge.second
            return x[a] <= x[b] ? (x[a], y[a], x[b], y[b]) : (x[b], y[b], x[a], y[a])
        }
        guard !segments.isEmpty else { throw MeshError.invalid("no boundary edge is tagged ground, so the height above ground is undefined") }
        segments.sort { $0.x0 < $1.x0 }
        for k in 1..<segments.count where segments[k].x0 < segments[k - 1].x1 - 1e-12 * max(1, abs(segments[k].x0)) {
            throw MeshError.invalid("the ground edges overlap in x near x = \(segments[k].x0): the ground must be a graph y = h(x)")
        }
        return (0..<x.count).map { i in
            let px = x[i]
            var low = 0, high = segments.count - 1
            while low < high {  // last segment with x0 ≤ px
                let middle = (low + high + 1) / 2
                if segments[middle].x0 <= px { low = middle } else { high = middle - 1 }
            }
            let s = segments[low]
            let ground: Double
            if px <= s.x0 { ground = s.y0 } else if px >= s.x1 { ground = s.y1 } else {
                ground = s.y0 + (s.y1 - s.y0) * (px - s.x0) / (s.x1 - s.x0)
            }
            return y[i] - ground
        }
    }

    /// The nodes on boundary edges with one of these tags (a mask over nodes).
    public func boundaryNodeMask(tags: Set<BoundaryTag> = Set(BoundaryTag.allCases)) -> [Bool] {
        var mask = [Bool](repeating: false, count: nodeCount)
        for edge in boundaryEdges where tags.contains(edge.tag) {
            mask[edge.first] = true
            mask[edge.second] = true
        }
        return mask
    }
}
