import XCTest
@testable import PDE

/// An independent solution of the boundary-value problem (F2)–(F3), written only for this test: finite
/// differences on a stretched grid, Newton on the whole discrete system, Richardson extrapolation.
///
/// Unknowns (f, u = f', v = f'') at nodes η_j = L sinh(κ j/N)/sinh(κ) (clustered at the wall; κ → 0 is
/// uniform). The trapezoidal rule on each interval,
///     f_{j+1} − f_j = h/2 (u_j + u_{j+1}),  u_{j+1} − u_j = h/2 (v_j + v_{j+1}),
///     v_{j+1} − v_j = −h/4 (f_j v_j + f_{j+1} v_{j+1}),
/// with f(0) = f_w, u(0) = λ, u(L) = 1, is symmetric, so on a smoothly mapped grid its error expands in
/// even powers of 1/N; solving with N, 2N, 4N and eliminating the N⁻² and N⁻⁴ terms leaves O(N⁻⁶).
/// Newton's method with a banded LU (partial pivoting); the parameters are reached by continuation along
/// the segment from (λ, f_w) = (0, 0), which also selects the branch connected to λ = 1 for λ < 0.
/// Nothing here uses the shooting code.
private struct CollocationBVP {
    let nodes: [Double]

    init(length: Double, stretching: Double, intervals n: Int) {
        nodes = (0...n).map { j in
            let s = Double(j) / Double(n)
            return stretching < 1e-9 ? length * s : length * sinh(stretching * s) / sinh(stretching)
        }
    }

    var count: Int { nodes.count }

    /// Residual and banded Jacobian of the discrete system at z = (f_0, u_0, v_0, f_1, …).
    func system(_ z: [Double], lambda: Double, fw: Double) -> (residual: [Double], jacobian: BandMatrix) {
        let n = 3 * count
        var r = [Double](repeating: 0, count: n)
        var a = BandMatrix(size: n, lower: 4, upper: 3)
        r[0] = z[0] - fw; a[0, 0] = 1
        r[1] = z[1] - lambda; a[1, 1] = 1
        for j in 0..<(count - 1) {
            let h = nodes[j + 1] - nodes[j]
            let c = 3 * j, row = 2 + 3 * j
            let f0 = z[c], u0 = z[c + 1], v0 = z[c + 2], f1 = z[c + 3], u1 = z[c + 4], v1 = z[c + 5]
            r[row] = f1 - f0 - h / 2 * (u0 + u1)
            a[row, c] = -1; a[row, c + 1] = -h / 2; a[row, c + 3] = 1; a[row, c + 4] = -h / 2
            r[row + 1] = u1 - u0 - h / 2 * (v0 + v1)
            a[row + 1, c + 1] = -1; a[row + 1, c + 2] = -h / 2; a[row + 1, c + 4] = 1; a[row + 1, c + 5] = -h / 2
            r[row + 2] = v1 - v0 + h / 4 * (f0 * v0 + f1 * v1)
            a[row + 2, c] = h / 4 * v0; a[row + 2, c + 2] = -1 + h / 4 * f0
            a[row + 2, c + 3] = h / 4 * v1; a[row + 2, c + 5] = 1 + h / 4 * f1
        }
        r[n - 1] = z[n - 2] - 1; a[n - 1, n - 2] = 1
        return (r, a)
    }

    /// Newton from `guess`; nil if it does not converge.
    func newton(_ guess: [Double], lambda: Double, fw: Double) -> [Double]? {
        var z = guess
        for _ in 0..<30 {
            var (r, a) = system(z, lambda: lambda, fw: fw)
            guard let dz = a.solve(&r) else { return nil }
            var largest = 0.0, scale = 1.0
            for i in z.indices { z[i] -= dz[i]; largest = max(largest, abs(dz[i])); scale = max(scale, abs(z[i])) }
            guard largest.isFinite else { return nil }
            if largest <= 1e-13 * scale { return z }
        }
        return nil
    }

    /// A smooth initial profile with a wall layer of thickness `delta`.
    func initialGuess(lambda: Double, fw: Double, delta: Double) -> [Double] {
        var z = [Double]()
        for eta in nodes {
            let e = exp(-eta / delta)
            z += [fw + eta - (1 - lambda) * delta * (1 - e), 1 - (1 - lambda) * e, (1 - lambda) / delta * e]
        }
        return z
    }

    /// Continuation from (0, 0) to (λ, f_w), halving the step whenever Newton fails.
    func solve(lambda: Double, fw: Double, delta: Double) -> [Double]? {
        guard var z = newton(initialGuess(lambda: 0, fw: 0, delta: 2), lambda: 0, fw: 0) else { return nil }
        var t = 0.0, dt = 0.125
        while t < 1 {
            let next = min(1, t + dt)
            if let solved = newton(z, lambda: next * lambda, fw: next * fw) {
                z = solved; t = next; dt = min(2 * dt, 0.25)
            } else {
                dt /= 2
                if dt < 1e-4 { return nil }
            }
        }
        return z
    }

    /// This grid's solution interpolated (linearly) onto a grid twice as fine: Newton's starting point.
    func refine(_ z: [Double]) -> [Double] {
        var out = [Double]()
        for j in 0..<count {
            out += z[(3 * j)..<(3 * j + 3)]
            if j + 1 < count { for k in 0..<3 { out.append(0.5 * (z[3 * j + k] + z[3 * j + 3 + k])) } }
        }
        return out
    }
}

/// A banded matrix (lower/upper bandwidths) with Gaussian elimination with partial pivoting; the
/// storage leaves room for the fill-in that row interchanges create (upper bandwidth + lower).
private struct BandMatrix {
    let size: Int, lower: Int, upper: Int
    private var band: [Double]
    private var width: Int { 2 * lower + upper + 1 }

    init(size: Int, lower: Int, upper: Int) {
        self.size = size; self.lower = lower; self.upper = upper
        band = [Double](repeating: 0, count: size * (2 * lower + upper + 1))
    }

    subscript(i: Int, j: Int) -> Double {
        get { band[i * width + (j - i + lower)] }
        set { band[i * width + (j - i + lower)] = newValue }
    }

    /// Solves A x = b in place of a copy of A; nil for a singular matrix.
    mutating func solve(_ b: inout [Double]) -> [Double]? {
        let reach = upper + lower
        for k in 0..<size {
            var pivot = k
            for i in (k + 1)..<min(size, k + lower + 1) where abs(self[i, k]) > abs(self[pivot, k]) { pivot = i }
            guard self[pivot, k] != 0 else { return nil }
            if pivot != k {
                for j in k...min(size - 1, k + reach) {
                    let t = self[k, j]; self[k, j] = self[pivot, j]; self[pivot, j] = t
                }
                b.swapAt(k, pivot)
            }
            for i in (k + 1)..<min(size, k + lower + 1) {
                let factor = self[i, k] / self[k, k]
                guard factor != 0 else { continue }
                self[i, k] = 0
                for j in (k + 1)...min(size - 1, k + reach) { self[i, j] -= factor * self[k, j] }
                b[i] -= factor * b[k]
            }
        }
        var x = [Double](repeating: 0, count: size)
        for k in stride(from: size - 1, through: 0, by: -1) {
            var s = b[k]
            for j in (k + 1)..<min(size, k + reach + 1) { s -= self[k, j] * x[j] }
            x[k] = s / self[k, k]
        }
        return x
    }
}

final class CollocationCheckTests: XCTestCase {
    /// Twelve-plus (λ, f_w) pairs spread over the box: Blasius, slip, reverse wall up to near the fold,
    /// λ > 1 up to 20, suction up to f_w = 50 (also with λ = −5), blowing attached and lifted off.
    /// Each with a domain length L beyond which f'' < ~1e-14, and a wall clustering κ.
    let cases: [(lambda: Double, fw: Double, length: Double, stretching: Double, delta: Double)] = [
        (0, 0, 16, 2, 2), (0.5, 0, 16, 2, 2), (-0.3, 0, 20, 2, 2), (-0.8, 1, 16, 2, 1),
        (-3, 4, 8, 2, 0.5), (2, 0, 14, 2, 1), (20, 0, 12, 3, 0.3), (0, 10, 4, 2, 0.2),
        (0.5, 50, 1.5, 2, 0.04), (-5, 30, 2, 2, 0.07), (0, -1, 22, 1, 3), (0.3, -5, 35, 0.5, 3),
        (0.5, -10, 35, 0.3, 3), (5, -20, 15, 0.5, 1),
    ]

    /// Shooting and collocation agree to 1e-7 in f''(0), β and the profile (f, f' at the coarse nodes,
    /// the shooting profile evaluated by its Hermite interpolation). The collocation's own error after
    /// extrapolation is estimated from the last two Richardson levels and must be far below 1e-7.
    func testShootingAgreesWithCollocation() throws {
        let solver = BlasiusSolver()
        let coarse = 300
        for c in cases {
            let label = "λ = \(c.lambda), f_w = \(c.fw)"
            let grids = [1, 2, 4].map { CollocationBVP(length: c.length, stretching: c.stretching, intervals: coarse * $0) }
            guard let z1 = grids[0].solve(lambda: c.lambda, fw: c.fw, delta: c.delta),
                  let z2 = grids[1].newton(grids[0].refine(z1), lambda: c.lambda, fw: c.fw),
                  let z4 = grids[2].newton(grids[1].refine(z2), lambda: c.lambda, fw: c.fw) else {
                XCTFail("collocation did not converge for \(label)"); continue
            }
            // Quantity q from the solution on grid g at coarse node j (every (g/coarse)-th node).
            func extrapolate(_ q: (_ z: [Double], _ node: Int, _ grid: CollocationBVP) -> Double, coarseNode j: Int) -> (value: Double, error: Double) {
                let q1 = q(z1, j, grids[0]), q2 = q(z2, 2 * j, grids[1]), q4 = q(z4, 4 * j, grids[2])
                let r1 = (4 * q2 - q1) / 3, r2 = (4 * q4 - q2) / 3
                let value = (16 * r2 - r1) / 15
                return (value, abs(value - r2))
            }
            guard case .solved(let s) = solver.solve(lambda: c.lambda, fw: c.fw) else { XCTFail("shooting failed for \(label)"); continue }

            let wall = extrapolate({ z, _, _ in z[2] }, coarseNode: 0)
            XCTAssertLessThan(wall.error, 1e-9 * max(1, abs(wall.value)), "collocation not converged in f''(0), \(label)")
            XCTAssertEqual(s.wallCurvature, wall.value, accuracy: 1e-7 * max(1, abs(wall.value)), "f''(0), \(label)")

            let beta = extrapolate({ z, j, g in g.nodes[j] - z[3 * j] }, coarseNode: coarse)
            XCTAssertLessThan(beta.error, 1e-9 * max(1, abs(beta.value)), "collocation not converged in β, \(label)")
            XCTAssertEqual(s.displacement, beta.value, accuracy: 1e-7 * max(1, abs(beta.value)), "β, \(label)")

            var worstSlope = 0.0, worstValue = 0.0
            for j in stride(from: 0, through: coarse, by: 5) {
                let eta = grids[0].nodes[j]
                let u = extrapolate({ z, k, _ in z[3 * k + 1] }, coarseNode: j).value
                let f = extrapolate({ z, k, _ in z[3 * k] }, coarseNode: j).value
                let p = s.profile.evaluate(eta: eta)
                worstSlope = max(worstSlope, abs(p.fPrime - u) / max(1, abs(u)))
                worstValue = max(worstValue, abs(p.f - f) / max(1, abs(f)))
            }
            XCTAssertLessThan(worstSlope, 1e-7, "f' profile, \(label)")
            XCTAssertLessThan(worstValue, 1e-7, "f profile, \(label)")
        }
    }
}
