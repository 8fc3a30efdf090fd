import Foundation

/// One smooth terrain bump: height · exp(−((x − center) / width)²) (formulation.md §3, "a sum of
/// smooth bumps"). A negative height makes a valley.
public struct TerrainBump: Sendable, Equatable {
    public var center: Double
    public var height: Double
    public var width: Double
    public init(center: Double, height: Double, width: Double) {
        self.center = center
        self.height = height
        self.width = width
    }
}

/// The ground y = h(x) = Σ height · exp(−((x − center)/width)²); flat (h = 0) without bumps.
public struct Terrain: Sendable, Equatable {
    public var bumps: [TerrainBump]
    public init(bumps: [TerrainBump] = []) { self.bumps = bumps }

    public func height(at x: Double) -> Double {
        bumps.reduce(0) { sum, bump in
            let s = (x - bump.center) / bump.width
            return sum + bump.height * exp(-s * s)
        }
    }

    /// dh/dx, for callers that need the ground's slope (e.g. its normal).
    public func slope(at x: Double) -> Double {
        bumps.reduce(0) { sum, bump in
            let s = (x - bump.center) / bump.width
            return sum - 2 * s / bump.width * bump.height * exp(-s * s)
        }
    }
}

/// Node coordinates on [0, length] whose cell widths grow geometrically away from `focus`:
/// in the index coordinate ξ = i/cells the width is w(ξ) = w₀ · q^{|ξ − ξ_f|}, with q chosen so that the
/// cells farthest from the focus (the longer side) are `ratio` times the finest ones, and ξ_f chosen
/// so that the finest cells sit at `focus`. With the focus at an end (e.g. the ground) this is the
/// plain geometric progression: consecutive cells differ by the factor ratio^{1/cells}.
public enum GradedSpacing {
    public static func coordinates(cells: Int, length: Double, focus: Double, ratio: Double) throws -> [Double] {
        guard cells >= 1 else { throw MeshError.invalid("a graded spacing needs at least one cell, got \(cells)") }
        guard length > 0, length.isFinite else { throw MeshError.invalid("a graded spacing needs a positive length, got \(length)") }
        guard ratio >= 1, ratio.isFinite else { throw MeshError.invalid("grading ratio must be ≥ 1 (1 = uniform), got \(ratio)") }
        guard focus >= 0, focus <= length else { throw MeshError.invalid("grading focus \(focus) lies outside [0, \(length)]") }
        let logRatio = log(ratio)
        // Cumulative integral of q^{|ξ−ξf|} from 0 to ξ, for q = ratio^{1/max(ξf, 1−ξf)}.
        func cumulative(_ xi: Double, _ xiFocus: Double) -> Double {
            let a = logRatio / max(xiFocus, 1 - xiFocus)
            func g(_ d: Double) -> Double { a < 1e-14 ? d : expm1(a * d) / a }  // ∫₀^d e^{a t} dt
            return xi <= xiFocus ? g(xiFocus) - g(xiFocus - xi) : g(xiFocus) + g(xi - xiFocus)
        }
        // The fraction of the length below the focus grows monotonically with ξf: bisection.
        let target = focus / length
        var low = 0.0, high = 1.0
        for _ in 0..<200 {
            let middle = 0.5 * (low + high)
            if cumulative(middle, middle) / cumulative(1, middle) < target { low = middle } else { high = middle }
        }
        let xiFocus = 0.5 * (low + high)
        let total = cumulative(1, xiFocus)
        var result = (0...cells).map { length * cumulative(Double($0) / Double(cells), xiFocus) / total }
        result[0] = 0
        result[cells] = length
        return result
    }
}

/// The structured mesh generator's parameters (they mirror `[fem]` in the configuration; this
/// module takes plain numbers so that it does not depend on the configuration).
public struct StructuredMeshSpecification: Sendable, Equatable {
    public var lx: Double
    public var ly: Double
    public var nx: Int
    public var ny: Int
    /// Ratio of the tallest to the shortest cell height in a column (1 = uniform); the shortest are at
    /// `finestHeightFraction`, by default the ground.
    public var groundGrading: Double
    /// Ratio of the widest to the narrowest cell width (1 = uniform); the narrowest are at `sourceX`.
    public var sourceGrading: Double
    public var sourceX: Double
    /// Where the shortest cells of each column are, as a fraction of the column height Ly − h(x):
    /// 0 (default) refines towards the ground; e.g. 0.1 / Ly refines towards a source at height 0.1.
    public var finestHeightFraction: Double
    public var terrain: Terrain

    public init(lx: Double = 1, ly: Double = 1, nx: Int, ny: Int, groundGrading: Double = 1, sourceGrading: Double = 1,
                sourceX: Double = 0, finestHeightFraction: Double = 0, terrain: Terrain = Terrain()) {
        self.lx = lx
        self.ly = ly
        self.nx = nx
        self.ny = ny
        self.groundGrading = groundGrading
        self.sourceGrading = sourceGrading
        self.sourceX = sourceX
        self.finestHeightFraction = finestHeightFraction
        self.terrain = terrain
    }
}

extension TriangleMesh {
    /// The terrain-following structured mesh of formulation.md §3: nx × ny cells, node (i, j) at
    /// x = X_i (graded towards `sourceX`) and y = h(X_i) + η_j (Ly − h(X_i)) (η graded towards the ground),
    /// node index j·(nx+1) + i. Each cell (a trapezoid with vertical sides, hence convex) is cut into
    /// two triangles along alternating diagonals, so the mesh has no preferred direction.
    /// The height above ground of node (i, j) is exactly η_j (Ly − h(X_i)).
    public static func structured(_ spec: StructuredMeshSpecification) throws -> TriangleMesh {
        guard spec.nx >= 1, spec.ny >= 1 else { throw MeshError.invalid("nx and ny must be ≥ 1, got \(spec.nx) × \(spec.ny)") }
        guard spec.lx > 0, spec.ly > 0, spec.lx.isFinite, spec.ly.isFinite else {
            throw MeshError.invalid("Lx and Ly must be positive and finite, got \(spec.lx) × \(spec.ly)")
        }
        guard spec.sourceX >= 0 && spec.sourceX <= spec.lx else {
            throw MeshError.invalid("source x position \(spec.sourceX) lies outside [0, Lx = \(spec.lx)]")
        }
        guard spec.finestHeightFraction >= 0 && spec.finestHeightFraction <= 1 else {
            throw MeshError.invalid("finestHeightFraction must be in [0, 1], got \(spec.finestHeightFraction)")
        }
        for (k, bump) in spec.terrain.bumps.enumerated() where !(bump.width > 0) || !bump.height.isFinite || !bump.center.isFinite {
            throw MeshError.invalid("terrain bump \(k) needs a positive width and finite center and height, got \(bump)")
        }
        let xs = try GradedSpacing.coordinates(cells: spec.nx, length: spec.lx, focus: spec.sourceX, ratio: spec.sourceGrading)
        let etas = try GradedSpacing.coordinates(cells: spec.ny, length: 1, focus: spec.finestHeightFraction, ratio: spec.groundGrading)
        let ground = xs.map { spec.terrain.height(at: $0) }
        for (i, h) in ground.enumerated() where !(h < spec.ly) {
            throw MeshError.invalid("terrain height h(\(xs[i])) = \(h) reaches the top of the domain Ly = \(spec.ly)")
        }
        let rowLength = spec.nx + 1
        let nodeCount = rowLength * (spec.ny + 1)
        var x = [Double](repeating: 0, count: nodeCount), y = x, height = x
        for j in 0...spec.ny {
            for i in 0...spec.nx {
                let k = j * rowLength + i
                let column = spec.ly - ground[i]
                x[k] = xs[i]
                height[k] = etas[j] * column
                y[k] = j == spec.ny ? spec.ly : ground[i] + height[k]
            }
        }
        var triangles: [Int] = []
        triangles.reserveCapacity(6 * spec.nx * spec.ny)
        for j in 0..<spec.ny {
            for i in 0..<spec.nx {
                let n00 = j * rowLength + i, n10 = n00 + 1, n01 = n00 + rowLength, n11 = n01 + 1
                if (i + j) % 2 == 0 {
                    triangles += [n00, n10, n11, n00, n11, n01]
                } else {
                    triangles += [n00, n10, n01, n10, n11, n01]
                }
            }
        }
        let nx = spec.nx, ny = spec.ny
        return try TriangleMesh(x: x, y: y, triangles: triangles, boundaryTag: { a, b in
            let (ia, ja) = (a % rowLength, a / rowLength), (ib, jb) = (b % rowLength, b / rowLength)
            if ja == 0 && jb == 0 { return .ground }
            if ja == ny && jb == ny { return .top }
            if ia == 0 && ib == 0 { return .upstream }
            if ia == nx && ib == nx { return .downstream }
            return nil
        }, heightAboveGround: height)
    }
}
