import Foundation
import NumericalFoundations

/// A monotone map of each scaled input [−1, 1] → [−1, 1] that makes the training design's marginal
/// density uniform: the design-density warping.
///
/// A stationary kernel has one length scale per input for the whole box. A design that is dense
/// where the map is sharp (an adaptive design crowds its points near small D and the blow-off
/// boundary) then forces one compromise: short scales that call the smooth bulk noise, or long
/// ones that smear the sharp region. Stretching each input by the design's own cumulative
/// distribution F_m (the input warping of Snoek, Swersky, Zemel & Adams, "Input warping for Bayesian
/// optimization of non-stationary functions", ICML 2014, with the CDF taken from the design instead
/// of fitted) gives the kernel, in the original units, a length scale ∝ 1/design density: short
/// where the design crowded, long where it is sparse. A Latin-hypercube design has uniform marginals,
/// so its warp is the identity to within a few strata (measured: < 4/n).
///
/// Each column's map is the smoothed CDF of `knots`, the design's quantiles at the levels
/// (k − ½)/K: F(s) = Σ_k Φ((s − q_k)/h), each knot reflected at ±1 (the boundary correction of kernel
/// density estimates, so that an even design keeps a flat density up to the box's ends), normalised
/// so that −1 ↦ −1 and 1 ↦ 1. It is smooth (a piecewise-linear warp puts kinks into the function the
/// kernel sees, which a Matérn-5/2 GP pays for in accuracy), strictly increasing, and defined beyond
/// the box. The bandwidth h is the knots' mean spacing 2/K: the warp resolves density changes over
/// about 1/K of the range.
public struct InputWarping: Codable, Equatable, Sendable {
    /// Per column, the design's quantiles (scaled units), increasing.
    public var knots: [[Double]]
    /// Per column, the kernel's bandwidth h (scaled units).
    public var bandwidths: [Double]

    public init(knots: [[Double]], bandwidths: [Double]) throws {
        guard knots.count == bandwidths.count, !knots.isEmpty else {
            throw StageError("input warping: \(knots.count) columns of knots for \(bandwidths.count) bandwidths")
        }
        for (m, (q, h)) in zip(knots, bandwidths).enumerated() {
            guard !q.isEmpty, q.allSatisfy({ $0.isFinite && abs($0) <= 1 }) else {
                throw StageError("input warping: column \(m)'s knots must be finite values in [−1, 1], got \(q)")
            }
            for k in 1..<q.count where !(q[k] >= q[k - 1]) {
                throw StageError("input warping: column \(m)'s knots decrease at knot \(k): \(q[k - 1]) then \(q[k])")
            }
            guard h > 0, h.isFinite else { throw StageError("input warping: column \(m)'s bandwidth must be positive and finite, got \(h)") }
        }
        self.knots = knots; self.bandwidths = bandwidths
    }

    /// The design-density warp of `count` rows of `width` scaled inputs (row-major, in [−1, 1]):
    /// K = max(2, min(`knots`, count / 10)) quantiles per column (about ten points per knot, so the
    /// density is estimated, not one point's jitter), interpolated between order statistics (type 7
    /// of Hyndman & Fan 1996).
    public init(designDensityOf inputs: [Double], count: Int, width: Int, knots: Int = 20) throws {
        guard count >= 2, width >= 1, inputs.count == count * width, inputs.allSatisfy({ $0.isFinite }) else {
            throw StageError("input warping: needs at least 2 rows of finite scaled inputs, got \(inputs.count) values for \(count) × \(width)")
        }
        let k = max(2, min(knots, count / 10))
        var columns: [[Double]] = []
        for m in 0..<width {
            let column = (0..<count).map { min(max(inputs[$0 * width + m], -1), 1) }.sorted()
            columns.append((0..<k).map { j in
                let h = (Double(j) + 0.5) / Double(k) * Double(count - 1)
                let lo = Int(h.rounded(.down)), hi = min(lo + 1, count - 1)
                return column[lo] + (h - Double(lo)) * (column[hi] - column[lo])
            })
        }
        try self.init(knots: columns, bandwidths: Array(repeating: 2 / Double(k), count: width))
    }

    public var width: Int { knots.count }

    /// Σ over the knots and their reflections of Φ((s − q)/h), and of φ((s − q)/h)/h.
    @inline(__always) private func sums(_ s: Double, column m: Int) -> (cdf: Double, density: Double) {
        let h = bandwidths[m]
        var cdf = 0.0, density = 0.0
        let scale = 1 / (h * 2.0.squareRoot())
        for q in knots[m] {
            for centre in [q, -2 - q, 2 - q] {
                let z = (s - centre) * scale
                cdf += 0.5 * erfc(-z)
                density += Foundation.exp(-z * z)
            }
        }
        return (cdf, density / (h * (2 * Double.pi).squareRoot()))
    }

    /// The warped value of scaled input `s` of column m.
    public func apply(_ s: Double, column m: Int) -> Double {
        let lo = sums(-1, column: m).cdf, hi = sums(1, column: m).cdf
        return -1 + 2 * (sums(s, column: m).cdf - lo) / (hi - lo)
    }

    /// d(warped)/ds at `s`.
    public func slope(_ s: Double, column m: Int) -> Double {
        let lo = sums(-1, column: m).cdf, hi = sums(1, column: m).cdf
        return 2 * sums(s, column: m).density / (hi - lo)
    }
}
