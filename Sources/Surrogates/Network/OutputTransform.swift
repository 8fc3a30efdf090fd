import Foundation

/// A pointwise map applied to the targets before the per-output standardisation and inverted after
/// prediction. The paper trains on c3 itself (`identity`); c3 spans several decades across the box
/// (K3 → 0 switches the product off, a fast wind sweeps it out), so a squared error on c3 is
/// dominated by the few samples with large concentrations and leaves the small ones with large
/// relative errors. `logarithm` trains on log(c3 + δ): an absolute error there is a relative error
/// of c3 + δ, which is what the per-sample relative L2 error measures. δ > 0 keeps the map finite
/// where c3 vanishes (upstream of the source, K3 = 0) and where the stabilised FEM solution
/// undershoots slightly below zero; it is the floor below which relative accuracy is not asked for.
public enum OutputTransform: Codable, Equatable, Sendable {
    case identity
    /// y ↦ log(y + offset), offset > 0 in the units of y.
    case logarithm(offset: Double)

    /// The offset δ for `logarithm` from the training targets: `relative` × the largest value, raised
    /// if needed so that δ is at least twice the deepest undershoot (every y + δ > 0).
    public static func logarithmOffset(for values: [Double], relative: Double) throws -> Double {
        guard let largest = values.max(), let smallest = values.min(), largest > 0, relative > 0 else {
            throw NetworkError("the log output transform needs positive training targets and a positive relative offset")
        }
        return max(relative * largest, -2 * smallest, .leastNormalMagnitude)
    }

    @inline(__always) public func apply(_ y: Double) -> Double {
        switch self {
        case .identity: return y
        case .logarithm(let offset): return Foundation.log(max(y + offset, offset * 1e-12))
        }
    }

    @inline(__always) public func invert(_ z: Double) -> Double {
        switch self {
        case .identity: return z
        // The exponent is bounded so that a wild prediction gives a large finite value, not +inf.
        case .logarithm(let offset): return Foundation.exp(min(z, 700)) - offset
        }
    }

    /// The chain rule through the map (docs/fem.md (S7)): d apply(y)/dθ = apply'(y) · dy/dθ, i.e. dy/dθ
    /// for `identity` and (dy/dθ)/(y + δ) for `logarithm`, 0 where the floor y + δ ≤ δ·1e-12 holds
    /// (apply is constant there). δ is fixed from the training set, not per sample, so it adds no term.
    @inline(__always) public func derivative(at y: Double, _ dy: Double) -> Double {
        switch self {
        case .identity: return dy
        case .logarithm(let offset): return y + offset > offset * 1e-12 ? dy / (y + offset) : 0
        }
    }

    /// `derivative` for one sample: its P values and its P × k derivatives (row-major, as one sample of
    /// fem/dc3_dtheta.npy with k = 6).
    public func derivatives(at y: [Double], _ dy: [Double], parameterCount k: Int) -> [Double] {
        precondition(dy.count == y.count * k, "derivatives: \(dy.count) values for \(y.count) outputs × \(k) parameters")
        var out = dy
        for p in 0..<y.count {
            for j in 0..<k { out[p * k + j] = derivative(at: y[p], dy[p * k + j]) }
        }
        return out
    }

    public var name: String {
        switch self {
        case .identity: return "identity"
        case .logarithm(let offset): return "log(c + \(offset))"
        }
    }
}
