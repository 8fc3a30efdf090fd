/// Quadrature weights for observation points on a tensor grid.
public enum Quadrature {
    /// Trapezoidal weights of a 1-D grid (strictly increasing nodes): w_0 = (x_1 − x_0)/2,
    /// w_k = (x_{k+1} − x_{k−1})/2, w_last = (x_last − x_{last−1})/2; a single node gets weight 1.
    public static func trapezoid(_ x: [Double]) -> [Double] {
        guard x.count > 1 else { return [Double](repeating: 1, count: x.count) }
        return x.indices.map { k in
            let left = k > 0 ? x[k] - x[k - 1] : 0
            let right = k + 1 < x.count ? x[k + 1] - x[k] : 0
            return 0.5 * (left + right)
        }
    }

    /// The tensor grid behind P points (x, y) listed with x varying fastest: nx distinct x values,
    /// ny distinct y values, point k at (x[k % nx], y[k / nx]). Throws if the points are not such a grid.
    public static func tensorGrid(points: [Double]) throws -> (x: [Double], y: [Double]) {
        guard points.count >= 2, points.count % 2 == 0 else { throw UQError("observation points: expected P × 2 coordinates") }
        let count = points.count / 2
        var nx = 1
        while nx < count, points[2 * nx + 1] == points[1] { nx += 1 }
        guard count % nx == 0 else { throw UQError("observation points: \(count) points are not a grid of rows of \(nx) (x fastest)") }
        let ny = count / nx
        let x = (0..<nx).map { points[2 * $0] }
        let y = (0..<ny).map { points[2 * $0 * nx + 1] }
        for k in 0..<count {
            let px = points[2 * k], py = points[2 * k + 1]
            guard abs(px - x[k % nx]) <= 1e-12 * max(1, abs(px)), abs(py - y[k / nx]) <= 1e-12 * max(1, abs(py)) else {
                throw UQError("observation points: point \(k) = (\(px), \(py)) is off the \(nx) × \(ny) tensor grid (x fastest)")
            }
        }
        for k in 1..<max(nx, 1) where x[k] <= x[k - 1] { throw UQError("observation points: x is not strictly increasing along a row") }
        for k in 1..<max(ny, 1) where y[k] <= y[k - 1] { throw UQError("observation points: y is not strictly increasing across rows") }
        return (x, y)
    }

    /// Trapezoidal weights of the tensor grid: w_k = w^x_{k mod nx} · w^y_{k div nx}. Σ_k w_k y_k
    /// approximates the integral over the grid's bounding box [x_0, x_last] × [y_0, y_last].
    public static func tensorTrapezoidWeights(points: [Double]) throws -> [Double] {
        let (x, y) = try tensorGrid(points: points)
        let wx = trapezoid(x), wy = trapezoid(y)
        return (0..<(x.count * y.count)).map { wx[$0 % x.count] * wy[$0 / x.count] }
    }

    /// The quadrature norm of a field on the grid, (Σ_k w_k v_k²)^½: with the trapezoid weights, the L2
    /// norm over the grid's box, whatever the grading of the points.
    public static func weightedL2Norm(_ v: [Double], weights: [Double]) -> Double {
        zip(v, weights).reduce(0) { $0 + $1.1 * $1.0 * $1.0 }.squareRoot()
    }

    /// ‖a − b‖_w / ‖b‖_w: the relative difference of a field `a` from a reference field `b` (e.g. the
    /// uq stage's mean or std map against the FEM one) in the quadrature norm; a zero reference
    /// divides by 1e-300 instead.
    ///
    /// Deliberately not Reporting's `Metrics.relativeL2Errors`, the paper's error of one sample's
    /// prediction: that is the plain ℓ2 over the observation points, which on the graded grid counts
    /// the points crowded towards the source and the ground more, and gives no value for a zero truth.
    /// A map of statistics is a field over the domain, so its difference is measured by the integral
    /// norm, the one the uq report names ("trapezoid-weighted").
    public static func relativeWeightedL2(_ a: [Double], from b: [Double], weights: [Double]) -> Double {
        weightedL2Norm(zip(a, b).map { $0 - $1 }, weights: weights) / max(weightedL2Norm(b, weights: weights), 1e-300)
    }

    /// The scalar quantity Σ_k w_k y_k of an output row (e.g. the integral of c3 with trapezoid weights),
    /// for the `scalar` argument of `MonteCarlo.propagate` and `Sobol.analyse`.
    public static func weightedSum(_ weights: [Double]) -> (ArraySlice<Double>) -> Double {
        { row in
            precondition(row.count == weights.count, "weightedSum: \(row.count) outputs for \(weights.count) weights")
            var s = 0.0
            var k = 0
            for v in row { s += weights[k] * v; k += 1 }
            return s
        }
    }
}
