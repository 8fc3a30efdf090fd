import Foundation
import NumericalFoundations

/// The distribution of one uncertain input. Every draw consumes exactly one uniform number of the
/// generator (inverse-CDF sampling), so a design is a fixed function of the seed: the same seed
/// gives the same bits, whatever the batch size.
public enum InputDistribution: Sendable, Equatable, CustomStringConvertible {
    /// Uniform on [lower, upper].
    case uniform(lower: Double, upper: Double)
    /// Normal(mean, std²) conditioned on [lower, upper] (truncated to the box).
    case truncatedNormal(mean: Double, std: Double, lower: Double, upper: Double)
    /// log X uniform on [log lower, log upper]; needs 0 < lower.
    case logUniform(lower: Double, upper: Double)

    public var lower: Double {
        switch self { case .uniform(let a, _), .logUniform(let a, _): return a; case .truncatedNormal(_, _, let a, _): return a }
    }
    public var upper: Double {
        switch self { case .uniform(_, let b), .logUniform(_, let b): return b; case .truncatedNormal(_, _, _, let b): return b }
    }

    public var description: String {
        switch self {
        case .uniform(let a, let b): return "uniform[\(a), \(b)]"
        case .truncatedNormal(let m, let s, let a, let b): return "normal(\(m), \(s)) truncated to [\(a), \(b)]"
        case .logUniform(let a, let b): return "log-uniform[\(a), \(b)]"
        }
    }

    /// Checks the parameters (finite, lower < upper, std > 0, lower > 0 for log-uniform, and a
    /// truncated normal with non-negligible mass in the box).
    public func validate() throws {
        let a = lower, b = upper
        guard a.isFinite, b.isFinite, a < b else { throw UQError("\(self): expected finite bounds with lower < upper") }
        switch self {
        case .uniform: break
        case .logUniform:
            guard a > 0 else { throw UQError("\(self): a log-uniform distribution needs lower > 0") }
        case .truncatedNormal(let m, let s, _, _):
            guard m.isFinite, s.isFinite, s > 0 else { throw UQError("\(self): expected a finite mean and std > 0") }
            let (pa, pb) = (StandardNormal.cdf((a - m) / s), StandardNormal.cdf((b - m) / s))
            let (qa, qb) = (StandardNormal.cdf(-(b - m) / s), StandardNormal.cdf(-(a - m) / s))
            guard max(pb - pa, qb - qa) > 1e-12 else {
                throw UQError("\(self): the box holds a probability below 1e-12 of the normal (mean too far outside)")
            }
        }
    }

    /// The inverse CDF at u ∈ [0, 1): the value a uniform draw u maps to.
    public func quantile(_ u: Double) -> Double {
        switch self {
        case .uniform(let a, let b):
            return a + u * (b - a)
        case .logUniform(let a, let b):
            let x = Foundation.exp(Foundation.log(a) + u * (Foundation.log(b) - Foundation.log(a)))
            return min(max(x, a), b)
        case .truncatedNormal(let m, let s, let a, let b):
            var alpha = (a - m) / s, beta = (b - m) / s
            // Work on the side of the mean where the box's CDF values are small (no cancellation
            // in 1 − Φ): reflect when the box lies above the mean.
            let reflect = alpha > 0
            if reflect { (alpha, beta) = (-beta, -alpha) }
            let pa = StandardNormal.cdf(alpha), pb = StandardNormal.cdf(beta)
            let uu = reflect ? 1 - u : u
            var z = StandardNormal.quantile(pa + uu * (pb - pa))
            z = min(max(z, alpha), beta)
            let x = m + s * (reflect ? -z : z)
            return min(max(x, a), b)
        }
    }

    /// Exact mean and variance (for checks and reports).
    public var moments: (mean: Double, variance: Double) {
        switch self {
        case .uniform(let a, let b):
            return ((a + b) / 2, (b - a) * (b - a) / 12)
        case .logUniform(let a, let b):
            let l = Foundation.log(b / a)
            let mean = (b - a) / l
            let second = (b * b - a * a) / (2 * l)
            return (mean, second - mean * mean)
        case .truncatedNormal(let m, let s, let a, let b):
            let alpha = (a - m) / s, beta = (b - m) / s
            let z = StandardNormal.cdf(beta) - StandardNormal.cdf(alpha)
            let pa = StandardNormal.pdf(alpha), pb = StandardNormal.pdf(beta)
            let shift = (pa - pb) / z
            let variance = s * s * (1 + (alpha * pa - beta * pb) / z - shift * shift)
            return (m + s * shift, variance)
        }
    }
}

/// Independent inputs, one distribution per column.
public struct InputModel: Sendable, Equatable {
    public let distributions: [InputDistribution]

    public init(_ distributions: [InputDistribution]) throws {
        guard !distributions.isEmpty else { throw UQError("an input model needs at least one input") }
        for (i, d) in distributions.enumerated() {
            do { try d.validate() } catch let e as UQError { throw UQError("input \(i): \(e.description)") }
        }
        self.distributions = distributions
    }

    /// Uniform inputs on a box.
    public init(box: [ClosedRange<Double>]) throws {
        try self.init(box.map { .uniform(lower: $0.lowerBound, upper: $0.upperBound) })
    }

    public var dimension: Int { distributions.count }

    /// `rows` independent draws (row-major, rows × d): d uniforms per row, in column order.
    public func sample(rows: Int, generator: inout SeededGenerator) -> [Double] {
        let d = dimension
        var out = [Double](repeating: 0, count: rows * d)
        for r in 0..<rows {
            for j in 0..<d { out[r * d + j] = distributions[j].quantile(generator.nextUniform()) }
        }
        return out
    }
}

/// Φ, φ and Φ⁻¹ of the standard normal.
public enum StandardNormal {
    public static func pdf(_ x: Double) -> Double { Foundation.exp(-0.5 * x * x) / (2 * Double.pi).squareRoot() }

    /// Φ(x) = erfc(−x/√2)/2 (accurate in the lower tail).
    public static func cdf(_ x: Double) -> Double { 0.5 * Foundation.erfc(-x / 2.0.squareRoot()) }

    /// Φ⁻¹(p), p ∈ (0, 1); ±∞ at 0 and 1. A starting value from Abramowitz & Stegun 26.2.23
    /// (|error| < 4.5e-4) refined by three Halley steps on Φ(x) − p (cubic convergence: machine precision).
    public static func quantile(_ p: Double) -> Double {
        if p <= 0 { return -.infinity }
        if p >= 1 { return .infinity }
        let lowerTail = p < 0.5
        let q = lowerTail ? p : 1 - p
        let t = (-2 * Foundation.log(q)).squareRoot()
        let num = 2.515517 + t * (0.802853 + t * 0.010328)
        let den = 1 + t * (1.432788 + t * (0.189269 + t * 0.001308))
        var x = lowerTail ? -(t - num / den) : (t - num / den)
        for _ in 0..<3 {
            // Φ(x) − p, on the tail where it is computed accurately ((1 − p) − Φ(−x) for x ≥ 0).
            let e = x < 0 ? cdf(x) - p : (1 - p) - cdf(-x)
            let u = e / pdf(x)
            guard u.isFinite else { break }
            x -= u / (1 + 0.5 * x * u)
        }
        return x
    }
}
