import Foundation
import NumericalFoundations

/// A monotone map of each input's linear position in the box, [−1, 1] → [−1, 1], that makes the
/// training design's marginal density about uniform: the design-density warp (`InputFeatures`
/// applies it before its linear or log map).
///
/// A stationary kernel has one length scale per input for the whole box. A design that is dense
/// where the map is sharp (an adaptive design crowds its points near small D and the blow-off
/// boundary) then forces one compromise: short scales that call the smooth bulk noise, or long
/// ones that smear the sharp region. Stretching each input by a CDF F of the design's marginal
/// gives the kernel, in the original units, a length scale ∝ 1/(design density): short where the
/// design crowded, long where it is sparse. The family is Kumaraswamy's, F(u) = 1 − (1 − u^a)^b on
/// u = (s + 1)/2 (the Beta-like warps of Snoek, Swersky, Zemel & Adams, "Input warping for Bayesian
/// optimization of non-stationary functions", ICML 2014), here with (a, b) the maximum-likelihood
/// fit to the design's column rather than to the GP's marginal likelihood: two numbers per input,
/// so the warp follows a crowded end (a < 1 at the lower, b < 1 at the upper) or both, not the
/// sampling noise of a few points (a non-parametric density estimate of 130 points carries ±30 %
/// wiggles, which the warped function inherits as curvature). A uniform design gives a ≈ b ≈ 1, the
/// identity. Outside [−1, 1] the map continues with slope 1.
public struct InputWarping: Codable, Equatable, Sendable {
    /// Per column, Kumaraswamy's a and b (positive).
    public var a: [Double]
    public var b: [Double]

    /// The range the fit searches a in (b follows from a in closed form, then is clamped alike).
    public static let shapeRange: ClosedRange<Double> = 0.1...10

    public init(a: [Double], b: [Double]) throws {
        guard a.count == b.count, !a.isEmpty else {
            throw StageError("input warping: \(a.count) values of a for \(b.count) of b")
        }
        for m in a.indices where !(a[m] > 0 && a[m].isFinite && b[m] > 0 && b[m].isFinite) {
            throw StageError("input warping: column \(m) has a = \(a[m]), b = \(b[m]); expected positive finite numbers")
        }
        self.a = a; self.b = b
    }

    /// Decoded through the checks of `init(a:b:)`: a damaged model file is refused, not predicted with.
    public init(from decoder: Decoder) throws {
        enum Keys: String, CodingKey { case a, b }
        let c = try decoder.container(keyedBy: Keys.self)
        try self.init(a: c.decode([Double].self, forKey: .a), b: c.decode([Double].self, forKey: .b))
    }

    /// The maximum-likelihood Kumaraswamy warp of each column of `count` rows of `width` linear
    /// positions in the box (row-major, in [−1, 1]; `InputFeatures.linearPositions`). For fixed a the
    /// likelihood's maximum in b is b̂ = −n / Σ log(1 − u_i^a);
    /// the profile likelihood is maximised over log a on a grid of 81 points in `shapeRange`, then by
    /// golden-section search in the grid cell around the best point. u is kept in [1e-9, 1 − 1e-9].
    public init(designDensityOf inputs: [Double], count: Int, width: Int) throws {
        guard count >= 2, width >= 1, inputs.count == count * width, inputs.allSatisfy({ $0.isFinite }) else {
            throw StageError("input warping: needs at least 2 rows of finite linear positions, got \(inputs.count) values for \(count) × \(width)")
        }
        var a: [Double] = [], b: [Double] = []
        for m in 0..<width {
            let u = (0..<count).map { min(max((inputs[$0 * width + m] + 1) / 2, 1e-9), 1 - 1e-9) }
            let fitted = Self.maximumLikelihood(u)
            a.append(fitted.a); b.append(fitted.b)
        }
        try self.init(a: a, b: b)
    }

    /// (a, b) maximising Σ log(a b u^(a−1) (1 − u^a)^(b−1)) over `shapeRange`.
    static func maximumLikelihood(_ u: [Double]) -> (a: Double, b: Double) {
        let n = Double(u.count)
        let sumLogU = u.reduce(0) { $0 + Foundation.log($1) }
        let range = shapeRange
        func profile(_ logA: Double) -> (value: Double, b: Double) {
            let a = Foundation.exp(logA)
            var sumLog1m = 0.0
            for x in u { sumLog1m += Foundation.log1p(-Foundation.pow(x, a)) }
            let b = min(max(-n / sumLog1m, range.lowerBound), range.upperBound)
            return (n * Foundation.log(a) + n * Foundation.log(b) + (a - 1) * sumLogU + (b - 1) * sumLog1m, b)
        }
        let lo = Foundation.log(range.lowerBound), hi = Foundation.log(range.upperBound)
        let steps = 80
        var bestIndex = 0, bestValue = -Double.infinity
        for k in 0...steps {
            let v = profile(lo + (hi - lo) * Double(k) / Double(steps)).value
            if v > bestValue { bestValue = v; bestIndex = k }
        }
        var left = lo + (hi - lo) * Double(max(bestIndex - 1, 0)) / Double(steps)
        var right = lo + (hi - lo) * Double(min(bestIndex + 1, steps)) / Double(steps)
        let ratio = (5.0.squareRoot() - 1) / 2
        var x1 = right - ratio * (right - left), x2 = left + ratio * (right - left)
        var f1 = profile(x1).value, f2 = profile(x2).value
        for _ in 0..<60 {
            if f1 > f2 {
                right = x2; x2 = x1; f2 = f1; x1 = right - ratio * (right - left); f1 = profile(x1).value
            } else {
                left = x1; x1 = x2; f1 = f2; x2 = left + ratio * (right - left); f2 = profile(x2).value
            }
        }
        let logA = 0.5 * (left + right)
        return (Foundation.exp(logA), profile(logA).b)
    }

    public var width: Int { a.count }

    /// The warped value of scaled input `s` of column m: 2F((s + 1)/2) − 1.
    public func apply(_ s: Double, column m: Int) -> Double {
        guard s > -1, s < 1 else { return s }
        let u = (s + 1) / 2
        // 1 − (1 − u^a)^b, with (1 − u^a)^b = exp(b log1p(−u^a)) kept accurate near u = 0.
        return 2 * -Foundation.expm1(b[m] * Foundation.log1p(-Foundation.pow(u, a[m]))) - 1
    }

    /// d(warped)/ds at `s`: F′(u) = a b u^(a−1) (1 − u^a)^(b−1) (1 outside (−1, 1); u kept in
    /// [1e-12, 1 − 1e-12], where a or b < 1 makes the slope unbounded).
    public func slope(_ s: Double, column m: Int) -> Double {
        guard s > -1, s < 1 else { return 1 }
        let u = min(max((s + 1) / 2, 1e-12), 1 - 1e-12)
        let ua = Foundation.pow(u, a[m])
        return a[m] * b[m] * ua / u * Foundation.exp((b[m] - 1) * Foundation.log1p(-ua))
    }
}
