/// A quadrature rule on a triangle in barycentric coordinates; weights sum to 1 (multiply by the area).
public struct TriangleQuadrature: Sendable {
    public let points: [(Double, Double, Double)]
    public let weights: [Double]
    public let degree: Int

    /// The 7-point rule of Radon (1948) / Stroud T2:5-1, exact for polynomials of degree ≤ 5:
    /// the centroid (weight 9/40) and two orbits of three points (a, b, b) with
    /// a = (9 ∓ 2√15)/21, b = (6 ± √15)/21 and weights (155 ± √15)/1200.
    public static let degree5: TriangleQuadrature = {
        let r = 15.0.squareRoot()
        let a1 = (9 - 2 * r) / 21, b1 = (6 + r) / 21, w1 = (155 + r) / 1200
        let a2 = (9 + 2 * r) / 21, b2 = (6 - r) / 21, w2 = (155 - r) / 1200
        return TriangleQuadrature(points: [(1.0 / 3, 1.0 / 3, 1.0 / 3),
                                           (a1, b1, b1), (b1, a1, b1), (b1, b1, a1),
                                           (a2, b2, b2), (b2, a2, b2), (b2, b2, a2)],
                                  weights: [9.0 / 40, w1, w1, w1, w2, w2, w2], degree: 5)
    }()
}

/// Integrals over the mesh of P1 fields against given functions: the error norms of the
/// manufactured-solution studies, with the degree-5 rule (exact for the P1 part; the error of
/// the rule on a smooth exact solution is O(h⁶) per unit area, far below the discretization error).
public enum MeshIntegrals {
    /// The degree-5 rule on triangle `t`: for each point, its weight times the triangle's area, its
    /// barycentric coordinates (l0, l1, l2) and its position (x, y).
    @inline(__always)
    static func forEachPoint(of t: Int, in mesh: TriangleMesh,
                             _ body: (_ weight: Double, _ l0: Double, _ l1: Double, _ l2: Double, _ x: Double, _ y: Double) -> Void) {
        let rule = TriangleQuadrature.degree5
        let (a, b, c) = mesh.nodes(ofTriangle: t)
        let area = mesh.area(ofTriangle: t)
        for (q, (l0, l1, l2)) in rule.points.enumerated() {
            body(rule.weights[q] * area, l0, l1, l2,
                 l0 * mesh.x[a] + l1 * mesh.x[b] + l2 * mesh.x[c], l0 * mesh.y[a] + l1 * mesh.y[b] + l2 * mesh.y[c])
        }
    }

    /// ‖u_h − u‖_{L2(Ω_h)} for a nodal P1 field u_h and a function u.
    public static func l2Error(mesh: TriangleMesh, field: [Double], exact: (Double, Double) -> Double) throws -> Double {
        guard field.count == mesh.nodeCount else { throw MeshError.invalid("field has \(field.count) values for \(mesh.nodeCount) nodes") }
        var sum = 0.0
        for t in 0..<mesh.triangleCount {
            let (a, b, c) = mesh.nodes(ofTriangle: t)
            forEachPoint(of: t, in: mesh) { weight, l0, l1, l2, px, py in
                let difference = l0 * field[a] + l1 * field[b] + l2 * field[c] - exact(px, py)
                sum += weight * difference * difference
            }
        }
        return sum.squareRoot()
    }

    /// |u_h − u|_{H1(Ω_h)} = ‖∇u_h − ∇u‖_{L2}, with ∇u given as a function returning (∂x u, ∂y u).
    public static func h1SeminormError(mesh: TriangleMesh, field: [Double],
                                       exactGradient: (Double, Double) -> (Double, Double)) throws -> Double {
        guard field.count == mesh.nodeCount else { throw MeshError.invalid("field has \(field.count) values for \(mesh.nodeCount) nodes") }
        var sum = 0.0
        for t in 0..<mesh.triangleCount {
            let (a, b, c) = mesh.nodes(ofTriangle: t)
            let geometry = ElementGeometry(mesh: mesh, triangle: t)
            let gx = geometry.gradientX[0] * field[a] + geometry.gradientX[1] * field[b] + geometry.gradientX[2] * field[c]
            let gy = geometry.gradientY[0] * field[a] + geometry.gradientY[1] * field[b] + geometry.gradientY[2] * field[c]
            forEachPoint(of: t, in: mesh) { weight, _, _, _, px, py in
                let (ex, ey) = exactGradient(px, py)
                sum += weight * ((gx - ex) * (gx - ex) + (gy - ey) * (gy - ey))
            }
        }
        return sum.squareRoot()
    }

    /// ∫ f over the mesh with the degree-5 rule.
    public static func integral(mesh: TriangleMesh, of f: (Double, Double) -> Double) -> Double {
        var sum = 0.0
        for t in 0..<mesh.triangleCount {
            forEachPoint(of: t, in: mesh) { weight, _, _, _, px, py in sum += weight * f(px, py) }
        }
        return sum
    }
}

/// Area and the constant gradients of the three P1 basis functions of one triangle.
public struct ElementGeometry: Sendable {
    public var area: Double
    public var gradientX: SIMD3<Double>
    public var gradientY: SIMD3<Double>

    public init(mesh: TriangleMesh, triangle t: Int) {
        let (a, b, c) = mesh.nodes(ofTriangle: t)
        self.init(x: (mesh.x[a], mesh.x[b], mesh.x[c]), y: (mesh.y[a], mesh.y[b], mesh.y[c]))
    }

    /// ∇φ_a = (y_b − y_c, x_c − x_b) / (2|e|) for (a, b, c) cyclic.
    public init(x: (Double, Double, Double), y: (Double, Double, Double)) {
        let doubleArea = (x.1 - x.0) * (y.2 - y.0) - (x.2 - x.0) * (y.1 - y.0)
        area = 0.5 * doubleArea
        gradientX = SIMD3(y.1 - y.2, y.2 - y.0, y.0 - y.1) / doubleArea
        gradientY = SIMD3(x.2 - x.1, x.0 - x.2, x.1 - x.0) / doubleArea
    }
}
