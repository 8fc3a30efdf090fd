import Foundation

/// A problem with a stored profile: names the node and what was expected.
public struct BlasiusProfileError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The solution f(η) of (F2)–(F3) on K nodes, with cubic Hermite interpolation between them and the
/// exact asymptotes beyond the last node.
///
/// Between nodes each of f, f', f'' is a cubic Hermite interpolant of its values and derivatives, the
/// derivatives being the next stored quantity (f''' = −½ f f'' from (F2) for the last one), so all
/// three are O(h⁴) accurate. Beyond the last node f' = 1, f = η − β and f'' = 0, which the layer has
/// reached there to the solver's tail tolerance. η < 0 (and NaN) is clamped to 0.
public struct BlasiusProfile: Sendable {
    public let eta: [Double]
    public let f: [Double]
    public let fPrime: [Double]
    public let fDoublePrime: [Double]
    /// β = lim (η − f(η)), the displacement constant.
    public let beta: Double
    /// λ = f'(0) and f_w = f(0) of this profile.
    public let lambda: Double
    public let fw: Double

    /// Built by the solver (nodes known to be valid).
    init(uncheckedEta eta: [Double], f: [Double], fPrime: [Double], fDoublePrime: [Double], beta: Double, lambda: Double, fw: Double) {
        self.eta = eta; self.f = f; self.fPrime = fPrime; self.fDoublePrime = fDoublePrime
        self.beta = beta; self.lambda = lambda; self.fw = fw
    }

    /// Rebuilds a profile from its K rows (η, f, f', f''), row-major as in one N × K × 4 slab of
    /// `data/wind/profiles.npy`, with β from `summary.npy`. λ and f_w default to the first row.
    public init<C: Collection>(rows: C, beta: Double, lambda: Double? = nil, fw: Double? = nil) throws where C.Element == Double {
        let values = Array(rows)
        guard values.count % 4 == 0, values.count >= 8 else {
            throw BlasiusProfileError("a profile needs K ≥ 2 rows of (η, f, f', f''), i.e. a multiple of 4 values; found \(values.count)")
        }
        let k = values.count / 4
        var eta = [Double](), f = [Double](), fp = [Double](), fpp = [Double]()
        eta.reserveCapacity(k); f.reserveCapacity(k); fp.reserveCapacity(k); fpp.reserveCapacity(k)
        for i in 0..<k {
            let row = values[(4 * i)..<(4 * i + 4)]
            guard row.allSatisfy({ $0.isFinite }) else {
                throw BlasiusProfileError("profile node \(i) has a non-finite value \(Array(row))")
            }
            eta.append(values[4 * i]); f.append(values[4 * i + 1]); fp.append(values[4 * i + 2]); fpp.append(values[4 * i + 3])
        }
        guard eta[0] == 0 else {
            throw BlasiusProfileError("profile nodes must start at η = 0, found η = \(eta[0]) (a row of zeros marks a sample without a solution; check status.npy)")
        }
        for i in 1..<k where !(eta[i] > eta[i - 1]) {
            throw BlasiusProfileError("profile nodes must increase strictly: node \(i) has η = \(eta[i]) after \(eta[i - 1]) (a row of zeros marks a sample without a solution; check status.npy)")
        }
        guard beta.isFinite else { throw BlasiusProfileError("β = \(beta) is not finite") }
        self.init(uncheckedEta: eta, f: f, fPrime: fp, fDoublePrime: fpp, beta: beta,
                  lambda: lambda ?? fp[0], fw: fw ?? f[0])
    }

    /// Rebuilds a profile from one slab of `profiles.npy` (K × 4) and the matching row of `summary.npy`
    /// (λ, f_w, f''(0), β).
    public init<C: Collection, D: Collection>(slab: C, summaryRow: D) throws where C.Element == Double, D.Element == Double {
        let summary = Array(summaryRow)
        guard summary.count == 4 else { throw BlasiusProfileError("a summary row holds (λ, f_w, f''(0), β); found \(summary.count) values") }
        try self.init(rows: slab, beta: summary[3], lambda: summary[0], fw: summary[1])
    }

    /// The K × 4 rows (η, f, f', f''), row-major: one slab of `profiles.npy`.
    public var rows: [Double] {
        var out = [Double]()
        out.reserveCapacity(4 * eta.count)
        for i in eta.indices { out.append(eta[i]); out.append(f[i]); out.append(fPrime[i]); out.append(fDoublePrime[i]) }
        return out
    }

    /// (f, f', f'') at η (cubic Hermite between nodes, asymptotes beyond the last node, η < 0 → 0).
    @inlinable
    public func evaluate(eta x: Double) -> (f: Double, fPrime: Double, fDoublePrime: Double) {
        let y = x > 0 ? x : 0     // also maps NaN to 0
        let last = eta.count - 1
        if y >= eta[last] { return (y - beta, 1, 0) }
        // Largest i with eta[i] ≤ y.
        var lo = 0, hi = last
        while hi - lo > 1 {
            let mid = (lo + hi) >> 1
            if eta[mid] <= y { lo = mid } else { hi = mid }
        }
        let h = eta[hi] - eta[lo]
        let s = (y - eta[lo]) / h
        let s2 = s * s, r = 1 - s, r2 = r * r
        let h00 = (1 + 2 * s) * r2, h10 = s * r2 * h, h01 = s2 * (3 - 2 * s), h11 = -s2 * r * h
        let f0 = f[lo], f1 = f[hi], p0 = fPrime[lo], p1 = fPrime[hi], q0 = fDoublePrime[lo], q1 = fDoublePrime[hi]
        // f''' = −½ f f'' (F2).
        let t0 = -0.5 * f0 * q0, t1 = -0.5 * f1 * q1
        return (h00 * f0 + h10 * p0 + h01 * f1 + h11 * p1,
                h00 * p0 + h10 * q0 + h01 * p1 + h11 * q1,
                h00 * q0 + h10 * t0 + h01 * q1 + h11 * t1)
    }
}
