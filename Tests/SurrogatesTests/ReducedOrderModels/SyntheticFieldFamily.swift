import Foundation
import NumericalFoundations

/// A synthetic few-mode field family: P points x_j on [0, 1] and
/// field(x; μ) = 1 + x + Σ_{k≤3} a_k(μ) ψ_k(x), ψ_k(x) = sin(kπx), with smooth
/// a_1 = 2 + sin μ1 + 0.5 μ2², a_2 = exp(0.3 μ3) μ4, a_3 = 0.3 μ5 μ6 + 0.2 cos μ1, μ ∈ [−1, 1]^6.
struct SyntheticFieldFamily {
    let pointCount: Int
    let dimension = 6

    init(pointCount: Int = 200) { self.pointCount = pointCount }

    func field(_ mu: ArraySlice<Double>) -> [Double] {
        let b = mu.startIndex
        let a = [2 + sin(mu[b]) + 0.5 * mu[b + 1] * mu[b + 1], exp(0.3 * mu[b + 2]) * mu[b + 3], 0.3 * mu[b + 4] * mu[b + 5] + 0.2 * cos(mu[b])]
        return (0..<pointCount).map { j in
            let x = Double(j) / Double(pointCount - 1)
            return 1 + x + (0..<3).reduce(0) { $0 + a[$1] * sin(Double($1 + 1) * .pi * x) }
        }
    }

    /// ∂field/∂μ, P × 6 row-major: Σ_k ∂a_k/∂μ_j ψ_k(x), from the closed forms of the a_k.
    func jacobian(_ mu: ArraySlice<Double>) -> [Double] {
        let b = mu.startIndex
        let e = exp(0.3 * mu[b + 2])
        let da: [[Double]] = [
            [cos(mu[b]), mu[b + 1], 0, 0, 0, 0],
            [0, 0, 0.3 * e * mu[b + 3], e, 0, 0],
            [-0.2 * sin(mu[b]), 0, 0, 0, 0.3 * mu[b + 5], 0.3 * mu[b + 4]],
        ]
        var out = [Double](repeating: 0, count: pointCount * dimension)
        for j in 0..<pointCount {
            let x = Double(j) / Double(pointCount - 1)
            for k in 0..<3 {
                let psi = sin(Double(k + 1) * .pi * x)
                for m in 0..<dimension { out[j * dimension + m] += da[k][m] * psi }
            }
        }
        return out
    }

    /// The Jacobians of the fields at `count` parameter sets (count × P × 6).
    func jacobians(_ inputs: [Double], count: Int) -> [Double] {
        (0..<count).flatMap { jacobian(inputs[($0 * dimension)..<($0 * dimension + dimension)]) }
    }

    /// `count` parameter sets from a seeded Latin hypercube on [−1, 1]^6 and their fields.
    func samples(_ count: Int, seed: UInt64) -> (inputs: [Double], outputs: [Double]) {
        let x = latinHypercubePoints(count, dimension, seed: seed)
        let y = (0..<count).flatMap { field(x[($0 * dimension)..<($0 * dimension + dimension)]) }
        return (x, y)
    }
}
