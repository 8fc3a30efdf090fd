import Foundation

/// Exact integration of a disk indicator against the P1 basis of a triangle.
///
/// The sources (F8) are discontinuous: Q = rate inside a disk, 0 outside. Interpolating Q at the
/// nodes smears the disk's edge over one element and is the dominant error of the whole solve, so
/// the load vector ∫ Q φ_i is integrated exactly instead. Because φ_i is linear,
/// ∫_{T∩D} φ_i = a_i |T∩D| + b_i ∫_{T∩D} x + c_i ∫_{T∩D} y, and only the area and first moments of
/// the intersection are needed. They come from the classic fan decomposition about the disk's
/// centre C: T∩D = Σ over the directed edges (P→Q) of T of the signed region (C, P, Q) ∩ D, and each
/// of those is a union of triangles with apex C (the parts of PQ inside the disk) and circular
/// sectors (the parts outside), whose moments have closed forms.
public struct DiskMoments: Equatable, Sendable {
    /// |T∩D|, ∫_{T∩D} x dA, ∫_{T∩D} y dA.
    public var area: Double
    public var firstX: Double
    public var firstY: Double
}

public struct Disk: Sendable, Equatable {
    public var centerX: Double
    public var centerY: Double
    public var radius: Double
    public init(centerX: Double, centerY: Double, radius: Double) {
        self.centerX = centerX; self.centerY = centerY; self.radius = radius
    }

    /// Area and first moments of the intersection of this disk with triangle (p0, p1, p2)
    /// (either orientation; the result is for the unsigned region).
    public func moments(_ p0: (Double, Double), _ p1: (Double, Double), _ p2: (Double, Double)) -> DiskMoments {
        // Work relative to the centre; shift the first moments back at the end.
        let pts = [(p0.0 - centerX, p0.1 - centerY), (p1.0 - centerX, p1.1 - centerY), (p2.0 - centerX, p2.1 - centerY)]
        var area = 0.0, mx = 0.0, my = 0.0
        for k in 0..<3 {
            let a = pts[k], b = pts[(k + 1) % 3]
            let (ea, ex, ey) = wedgeMoments(a, b)
            area += ea; mx += ex; my += ey
        }
        // Fan regions are signed by the triangle's orientation.
        if area < 0 { area = -area; mx = -mx; my = -my }
        return DiskMoments(area: area, firstX: mx + centerX * area, firstY: my + centerY * area)
    }

    /// Signed moments of triangle (O, a, b) ∩ disk(O, r), with O the origin.
    private func wedgeMoments(_ a: (Double, Double), _ b: (Double, Double)) -> (Double, Double, Double) {
        let r = radius
        let dx = b.0 - a.0, dy = b.1 - a.1
        // Intersections of a + t (b − a), t ∈ (0, 1), with the circle |x| = r.
        let qa = dx * dx + dy * dy
        guard qa > 0 else { return (0, 0, 0) }
        let qb = 2 * (a.0 * dx + a.1 * dy)
        let qc = a.0 * a.0 + a.1 * a.1 - r * r
        var ts: [Double] = [0]
        let disc = qb * qb - 4 * qa * qc
        if disc > 0 {
            let s = disc.squareRoot()
            // Numerically stable roots.
            let q = -0.5 * (qb + (qb >= 0 ? s : -s))
            var roots = [q / qa, qc / q].filter { $0 > 0 && $0 < 1 }
            roots.sort()
            ts += roots
        }
        ts.append(1)
        var area = 0.0, mx = 0.0, my = 0.0
        for i in 0..<(ts.count - 1) {
            let t0 = ts[i], t1 = ts[i + 1]
            if t1 - t0 <= 0 { continue }
            let u = (a.0 + t0 * dx, a.1 + t0 * dy), v = (a.0 + t1 * dx, a.1 + t1 * dy)
            let tm = 0.5 * (t0 + t1)
            let mid = (a.0 + tm * dx, a.1 + tm * dy)
            if mid.0 * mid.0 + mid.1 * mid.1 <= r * r {
                // Triangle (O, u, v): signed area ½ u×v, centroid (u + v)/3.
                let s = 0.5 * (u.0 * v.1 - u.1 * v.0)
                area += s; mx += s * (u.0 + v.0) / 3; my += s * (u.1 + v.1) / 3
            } else {
                // Sector of radius r from the direction of u to that of v (signed sweep in (−π, π)).
                let sweep = atan2(u.0 * v.1 - u.1 * v.0, u.0 * v.0 + u.1 * v.1)
                let th0 = atan2(u.1, u.0), th1 = th0 + sweep
                area += 0.5 * r * r * sweep
                mx += r * r * r / 3 * (sin(th1) - sin(th0))
                my += r * r * r / 3 * (cos(th0) - cos(th1))
            }
        }
        return (area, mx, my)
    }

    /// ∫_{T∩D} φ_i dA for the three P1 basis functions of triangle (p0, p1, p2).
    public func basisIntegrals(_ p0: (Double, Double), _ p1: (Double, Double), _ p2: (Double, Double)) -> (Double, Double, Double) {
        let m = moments(p0, p1, p2)
        if m.area == 0 { return (0, 0, 0) }
        let det = (p1.0 - p0.0) * (p2.1 - p0.1) - (p2.0 - p0.0) * (p1.1 - p0.1)
        // φ_i(x, y) = (α_i + β_i x + γ_i y) / det, the barycentric coordinates.
        func integral(_ pj: (Double, Double), _ pk: (Double, Double)) -> Double {
            let alpha = pj.0 * pk.1 - pk.0 * pj.1
            let beta = pj.1 - pk.1
            let gamma = pk.0 - pj.0
            return (alpha * m.area + beta * m.firstX + gamma * m.firstY) / det
        }
        return (integral(p1, p2), integral(p2, p0), integral(p0, p1))
    }
}
