/// The surrogate's outputs: c3 at a fixed tensor grid of nx × ny points (formulation.md §3),
/// graded towards the source corner (x = 0) and the ground.
///
/// Point (i, j), i < nx along x, j < ny along the height, is at
///   x = Lx ((i + ½)/nx)^gx,   y = h(x) + (Ly − h(x)) ((j + ½)/ny)^gy,
/// i.e. cell-centred in a stretched coordinate: exponents g > 1 crowd points towards x = 0 and the
/// ground, and no point sits on the boundary, where c = 0 on inflow would make an output that is
/// identically zero. Points are stored row by row in height: index k = j·nx + i.
public struct ObservationGrid: Sendable, Equatable {
    public let nx: Int
    public let ny: Int
    /// Row-major (count × 2): x, y of each point.
    public let points: [Double]

    public init(nx: Int, ny: Int, lx: Double, ly: Double, gradingX: Double, gradingY: Double,
                ground: (Double) -> Double = { _ in 0 }) {
        self.nx = nx; self.ny = ny
        var p = [Double](); p.reserveCapacity(2 * nx * ny)
        for j in 0..<ny {
            let t = Foundation.pow((Double(j) + 0.5) / Double(ny), gradingY)
            for i in 0..<nx {
                let x = lx * Foundation.pow((Double(i) + 0.5) / Double(nx), gradingX)
                let h = ground(x)
                p.append(x); p.append(h + (ly - h) * t)
            }
        }
        points = p
    }

    public var count: Int { nx * ny }
    public func point(_ k: Int) -> (x: Double, y: Double) { (points[2 * k], points[2 * k + 1]) }
}

import Foundation
