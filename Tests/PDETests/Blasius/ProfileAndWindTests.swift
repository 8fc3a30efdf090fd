import XCTest
@testable import PDE

/// The stored profile's interpolation and the wind field (F1)–(F4) built on it.
final class ProfileAndWindTests: XCTestCase {
    let solver = BlasiusSolver()

    func solution(_ lambda: Double, _ fw: Double) throws -> BlasiusSolution {
        guard case .solved(let s) = solver.solve(lambda: lambda, fw: fw) else {
            XCTFail("λ = \(lambda), f_w = \(fw) must solve"); throw XCTSkip("no solution")
        }
        return s
    }

    /// The cubic Hermite interpolation between the K = 401 nodes against the trajectory integrated
    /// directly onto the midpoints (where the interpolation error peaks). With the nodes equidistributing
    /// h⁴ max|f⁽⁴⁻⁶⁾|/384, the error is expected around 1e-10 relative; bound 1e-8 (relative to
    /// max(1, |value|), since f grows like η and f', f'' are O(1) … O(f_w)).
    func testHermiteInterpolationBetweenNodes() throws {
        for (lambda, fw) in [(0.0, 0.0), (-0.3, 0), (0.5, 300), (20, 0), (0.05, -10), (0.01, -1265), (-5, 30)] {
            let s = try solution(lambda, fw)
            let p = s.profile
            let midpoints = (0..<(p.eta.count - 1)).map { 0.5 * (p.eta[$0] + p.eta[$0 + 1]) }
            let shooting = solver.problem(lambda: lambda, fw: fw)
            guard let start = s.start, let exact = shooting.states(at: midpoints, start: start) else { return XCTFail("re-integration") }
            var worst = (f: 0.0, fp: 0.0, fpp: 0.0)
            let scale = p.fDoublePrime.reduce(0) { max($0, abs($1)) }
            for (eta, e) in zip(midpoints, exact) {
                let v = p.evaluate(eta: eta)
                worst.f = max(worst.f, abs(v.f - e[0]) / max(1, abs(e[0])))
                worst.fp = max(worst.fp, abs(v.fPrime - e[1]) / max(1, abs(e[1])))
                worst.fpp = max(worst.fpp, abs(v.fDoublePrime - shooting.sigma * exp(e[2])) / max(1, scale))
            }
            let label = "λ = \(lambda), f_w = \(fw)"
            XCTAssertLessThan(worst.f, 1e-8, label)
            XCTAssertLessThan(worst.fp, 1e-8, label)
            XCTAssertLessThan(worst.fpp, 1e-8, label)
            // Nodes reproduce themselves exactly.
            let k = p.eta.count / 2
            XCTAssertEqual(p.evaluate(eta: p.eta[k]).f, p.f[k])
            XCTAssertEqual(p.evaluate(eta: p.eta[k]).fPrime, p.fPrime[k])
        }
    }

    /// Beyond the last node: f' = 1, f = η − β, f'' = 0; below 0 and NaN: the wall values.
    func testAsymptotesAndClamping() throws {
        let p = try solution(0.2, 1).profile
        let far = p.eta.last! + 7.5
        let v = p.evaluate(eta: far)
        XCTAssertEqual(v.f, far - p.beta); XCTAssertEqual(v.fPrime, 1); XCTAssertEqual(v.fDoublePrime, 0)
        // Continuity across the last node to the tail tolerance (the layer has ended there).
        let end = p.evaluate(eta: p.eta.last!.nextDown)
        XCTAssertEqual(end.fPrime, 1, accuracy: 1e-12)
        XCTAssertEqual(end.f, p.eta.last! - p.beta, accuracy: 1e-10)
        for bad in [-3.0, -.infinity, .nan] {
            let w = p.evaluate(eta: bad)
            XCTAssertEqual(w.f, 1); XCTAssertEqual(w.fPrime, 0.2); XCTAssertEqual(w.fDoublePrime, p.fDoublePrime[0])
        }
    }

    /// The FEM stage rebuilds profiles from one N × K × 4 slab and the summary row.
    func testRebuildFromStoredRows() throws {
        let s = try solution(-0.1, 0.5)
        let rebuilt = try BlasiusProfile(slab: s.profile.rows, summaryRow: [s.lambda, s.fw, s.wallCurvature, s.displacement])
        XCTAssertEqual(rebuilt.lambda, -0.1); XCTAssertEqual(rebuilt.fw, 0.5); XCTAssertEqual(rebuilt.beta, s.displacement)
        for eta in [0, 0.37, 2.5, 9, 40] {
            XCTAssertEqual(rebuilt.evaluate(eta: eta).f, s.profile.evaluate(eta: eta).f)
            XCTAssertEqual(rebuilt.evaluate(eta: eta).fPrime, s.profile.evaluate(eta: eta).fPrime)
        }
        // A row of zeros (a sample without a solution), a wrong length, a NaN: each a clear error.
        XCTAssertThrowsError(try BlasiusProfile(rows: [Double](repeating: 0, count: 40), beta: 0)) { error in
            XCTAssertTrue("\(error)".contains("status.npy"), "\(error)")
        }
        XCTAssertThrowsError(try BlasiusProfile(rows: [0, 0, 0, 0, 1, 1, 1], beta: 0)) { error in
            XCTAssertTrue("\(error)".contains("multiple of 4"), "\(error)")
        }
        var rows = s.profile.rows
        rows[4 * 10 + 2] = .nan
        XCTAssertThrowsError(try BlasiusProfile(rows: rows, beta: s.displacement)) { error in
            XCTAssertTrue("\(error)".contains("node 10"), "\(error)")
        }
        XCTAssertThrowsError(try BlasiusProfile(slab: s.profile.rows, summaryRow: [1, 2, 3]))
    }

    /// (F1)–(F4) at the ground reproduce the slip and transpiration velocities: u_x(x, 0) = U0 f'(0) =
    /// U0 (u_h/U0) and u_y(x, 0) = −½ sqrt(νU0/(x + x0)) f_w = u_v/sqrt(x + x0). Equal up to the rounding
    /// of those few operations (bound 4 ulps relative); far from the ground u_x = U0 exactly and
    /// u_y = ½ sqrt(νU0/(x + x0)) β (the displacement effect).
    func testGroundAndFreeStreamValues() throws {
        let nu = 1e-5, x0 = 0.1
        for (U0, uh, uv) in [(1.0, 0.0, 0.0), (0.5, 0.1, -0.01), (2.0, -0.2, 0.0005), (0.05, 0.15, 0.0005)] {
            let p = try SimilarityParameters(U0: U0, uh: uh, uv: uv, nu: nu)
            let s = try solution(p.lambda, p.fw)
            let wind = try WindField(profile: s.profile, U0: U0, nu: nu, x0: x0)
            for x in [0.0, 0.3, 1.0] {
                let ground = wind.velocity(x: x, heightAboveGround: 0)
                XCTAssertEqual(ground.ux, uh, accuracy: 4 * Double.ulpOfOne * max(abs(uh), 1e-300))
                XCTAssertEqual(ground.uy, uv / (x + x0).squareRoot(), accuracy: 4 * Double.ulpOfOne * max(abs(uv), 1e-300))
                let top = wind.velocity(x: x, heightAboveGround: 50)
                XCTAssertEqual(top.ux, U0)
                XCTAssertEqual(top.uy, 0.5 * (nu * U0 / (x + x0)).squareRoot() * s.displacement,
                               accuracy: 1e-12 * abs(s.displacement) + 1e-15)
            }
        }
    }

    /// ∇·u = ∂u_x/∂x + ∂u_y/∂y = 0 for (F4) when f' is the derivative of f; the interpolants satisfy it to
    /// their accuracy. Central differences with steps 1e-4 of the local scales (x + x0 and the layer
    /// thickness δ = sqrt(ν(x + x0)/U0)) have a truncation error ~1e-8 of the terms and a rounding error
    /// ~ulp(u)/step; bound 1e-6 of the size of the two terms plus 4 ulps of the velocities over the steps,
    /// at points across the layer.
    func testDivergenceFree() throws {
        let nu = 1e-5, x0 = 0.1
        for (U0, uh, uv) in [(1.0, 0.0, 0.0), (0.3, -0.05, 0.0003), (1.5, 0.2, -0.004)] {
            let p = try SimilarityParameters(U0: U0, uh: uh, uv: uv, nu: nu)
            let wind = try WindField(profile: try solution(p.lambda, p.fw).profile, U0: U0, nu: nu, x0: x0)
            for x in [0.05, 0.5, 0.9] {
                let delta = (nu * (x + x0) / U0).squareRoot()
                for eta in [0.3, 1, 2, 3.5, 5] {
                    let y = eta * delta
                    let hx = 1e-4 * (x + x0), hy = 1e-4 * delta
                    let dux = (wind.velocity(x: x + hx, heightAboveGround: y).ux - wind.velocity(x: x - hx, heightAboveGround: y).ux) / (2 * hx)
                    let duy = (wind.velocity(x: x, heightAboveGround: y + hy).uy - wind.velocity(x: x, heightAboveGround: y - hy).uy) / (2 * hy)
                    let u = wind.velocity(x: x, heightAboveGround: y)
                    let rounding = 4 * Double.ulpOfOne * (abs(u.ux) / hx + abs(u.uy) / hy)
                    XCTAssertLessThan(abs(dux + duy), 1e-6 * (abs(dux) + abs(duy)) + rounding, "U0 = \(U0), x = \(x), η = \(eta)")
                    XCTAssertGreaterThan(abs(dux), 1e-6)   // the check is not vacuous: the flow does vary
                }
            }
        }
    }

    func testWindFieldRejectsBadConstants() throws {
        let p = try solution(0, 0).profile
        XCTAssertThrowsError(try WindField(profile: p, U0: 1, nu: -1e-5, x0: 0.1)) { XCTAssertTrue("\($0)".contains("ν")) }
        XCTAssertThrowsError(try WindField(profile: p, U0: 0, nu: 1e-5, x0: 0.1)) { XCTAssertTrue("\($0)".contains("U0")) }
        XCTAssertThrowsError(try WindField(profile: p, U0: 1, nu: 1e-5, x0: 0)) { XCTAssertTrue("\($0)".contains("x0")) }
        XCTAssertThrowsError(try WindField(profile: p, U0: .nan, nu: 1e-5, x0: 0.1))
    }
}
