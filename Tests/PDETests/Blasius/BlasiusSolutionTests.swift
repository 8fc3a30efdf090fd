import XCTest
@testable import PDE

/// The solver against closed forms, published values and asymptotic theory.
final class BlasiusSolutionTests: XCTestCase {
    let solver = BlasiusSolver()

    func solved(_ lambda: Double, _ fw: Double, file: StaticString = #filePath, line: UInt = #line) throws -> BlasiusSolution {
        let result = solver.solve(lambda: lambda, fw: fw)
        guard case .solved(let s) = result else {
            XCTFail("λ = \(lambda), f_w = \(fw): expected a solution, got \(result)", file: file, line: line)
            throw XCTSkip("no solution")
        }
        return s
    }

    /// Blasius (λ = 0, f_w = 0) in the normalisation 2f''' + f f'' = 0: f''(0) = 0.332057336215196…
    /// (Boyd 2008, "The Blasius function: computations before computers, the value of tricks,
    /// undergraduate projects, and open research problems", SIAM Review 50) and β = 1.72078765752….
    /// The specified tolerances are 1e-10 and 1e-9; the solver's own is |f'(∞) − 1| ≤ 1e-10.
    func testClassicBlasius() throws {
        let s = try solved(0, 0)
        XCTAssertEqual(s.wallCurvature, 0.332057336215, accuracy: 1e-10)
        XCTAssertEqual(s.displacement, 1.72078765752, accuracy: 1e-9)
        XCTAssertEqual(s.logWallCurvature, log(0.332057336215196), accuracy: 1e-10)
        XCTAssertEqual(s.branch, .attached)
        XCTAssertLessThanOrEqual(s.residual, 1e-10)
        // The profile starts with the boundary conditions and ends in the asymptote.
        XCTAssertEqual(s.profile.eta.count, 401)
        XCTAssertEqual(s.profile.f[0], 0); XCTAssertEqual(s.profile.fPrime[0], 0)
        XCTAssertEqual(s.profile.fPrime.last!, 1, accuracy: 1e-12)
        XCTAssertEqual(s.profile.eta.last! - s.profile.f.last!, s.displacement, accuracy: 1e-12)
        // Continuation in η_max: at least two rounds, η_max grew, and the answer did not move.
        XCTAssertGreaterThanOrEqual(s.etaMaxHistory.count, 2)
        XCTAssertGreaterThan(s.etaMaxHistory.last!, s.etaMaxHistory.first!)
    }

    /// λ = 1: f = f_w + η exactly, f''(0) = 0, β = −f_w.
    func testWallMovingWithTheStream() throws {
        for fw in [-30.0, -1, 0, 2.5, 700] {
            let s = try solved(1, fw)
            XCTAssertEqual(s.wallCurvature, 0)
            XCTAssertEqual(s.displacement, -fw)
            XCTAssertEqual(s.branch, .exact)
            for (i, eta) in s.profile.eta.enumerated() {
                XCTAssertEqual(s.profile.f[i], fw + eta)
                XCTAssertEqual(s.profile.fPrime[i], 1)
                XCTAssertEqual(s.profile.fDoublePrime[i], 0)
            }
            let v = s.profile.evaluate(eta: 3.7)
            XCTAssertEqual(v.f, fw + 3.7, accuracy: 1e-12 * max(1, abs(fw)))
            XCTAssertEqual(v.fPrime, 1); XCTAssertEqual(v.fDoublePrime, 0)
        }
        // Just off λ = 1 the solution is close to the exact one: f'' = O(1 − λ), of the sign of 1 − λ.
        let below = try solved(1 - 1e-4, 0), above = try solved(1 + 1e-4, 0)
        XCTAssertGreaterThan(below.wallCurvature, 0); XCTAssertLessThan(above.wallCurvature, 0)
        // Linearising about f = η: f'' = (1 − λ) e^(−η²/4)/∫₀^∞ e^(−η²/4) dη = (1 − λ)/sqrt(π); the next
        // term is O((1 − λ)²), i.e. a relative 1e-4 here (bound 1e-3).
        XCTAssertEqual(below.wallCurvature / (1e-4 / Double.pi.squareRoot()), 1, accuracy: 1e-3)
        XCTAssertEqual(above.wallCurvature / (-1e-4 / Double.pi.squareRoot()), 1, accuracy: 1e-3)
    }

    /// Strong suction: with ζ = f_w η/2 and f = f_w + (2/f_w) F(ζ), (F2) becomes F''' + F'' + ε F F'' = 0
    /// with ε = 2/f_w². At ε = 0, F' = 1 − (1 − λ)e^(−ζ) (the asymptotic suction profile); the first
    /// correction (solved in closed form: F₁'' = e^(−ζ)(C − aζ²/2 + a²ζ) + a²e^(−2ζ), a = 1 − λ, with
    /// ∫F₁'' = 0) gives
    ///     f''(0) / ((1 − λ) f_w/2) = 1 + (1 + λ)/f_w² + O(f_w⁻⁴).
    /// So the ratio → 1, and after the first correction the error must fall like f_w⁻⁴: the bound
    /// 4(1 + |λ|)²/f_w⁴ (with the solver's relative accuracy ~1e-12 on top) checks both the limit and
    /// the rate. f_w up to 1300 must converge.
    func testStrongSuctionApproachesAsymptoticProfile() throws {
        for lambda in [0.0, 0.5, -5, 3] {
            for fw in [10.0, 30, 100, 300, 1300] {
                let s = try solved(lambda, fw)
                let ratio = s.wallCurvature / ((1 - lambda) * fw / 2)
                let corrected = 1 + (1 + lambda) / (fw * fw)
                XCTAssertEqual(ratio, corrected, accuracy: 4 * (1 + abs(lambda)) * (1 + abs(lambda)) / pow(fw, 4) + 1e-11,
                               "λ = \(lambda), f_w = \(fw)")
                // Layer thickness ≈ 2/f_w in η: f' has covered 1 − e^(−5) of its jump by η = 10/f_w.
                let v = s.profile.evaluate(eta: 10 / fw)
                XCTAssertEqual((v.fPrime - lambda) / (1 - lambda), 1 - exp(-5), accuracy: 0.02)
            }
        }
    }

    /// f'' has the sign of 1 − λ everywhere (formulation.md §2a), also for λ > 1.
    func testSignOfCurvature() throws {
        for (lambda, fw) in [(2.0, 0.0), (20, 0), (20, 3), (0.3, -1), (-0.2, 0.5)] {
            let s = try solved(lambda, fw)
            let sign = (1 - lambda).sign == .minus ? -1.0 : 1.0
            XCTAssertTrue(s.profile.fDoublePrime.allSatisfy { $0 * sign >= 0 }, "λ = \(lambda)")
            XCTAssertEqual(s.wallCurvature.sign, (1 - lambda).sign)
        }
    }

    /// Strong blowing (λ > 0) and λ up to 20: every point of this list converges (the only points that
    /// do not are listed in `testLayersBeyondDoubleResolutionAreReportedNotConverged`).
    ///
    /// Checks of the blown-off layer against its asymptotics. Ahead of the layer f = f_w + λη; for small λ
    /// the lifted layer behaves like a wall at the blow-off suction, i.e. it sits where that line reaches
    /// f_w* (η_l = (f_w* − f_w)/λ), so ln f''(0) = −q(η_l) + O(1) = −(f_w² − f_w*²)/(4λ) + O(1) and
    /// λ(β − η*) → f_w* with η* = −f_w/λ (observed error ≈ 3.8λ; bound 10λ for λ ≤ 0.05).
    /// For larger λ the model is rougher: bounds 5 % + 5 on ln f''(0), −2 ≤ λ(β − η*) ≤ 0 for λ < 1, β < η*.
    func testStrongBlowingAndLargeWallSpeedConverge() throws {
        let points: [(Double, Double)] = [(0.01, -1265), (1e-4, -1265), (1e-6, -2), (20, -1265), (5, -600),
                                          (0.5, -100), (2, -50), (20, 0), (20, 1265), (20, -20), (0.05, -10), (0.3, -10)]
        let fwStar = BlasiusSolver.blowOffSuction
        for (lambda, fw) in points {
            let s = try solved(lambda, fw)
            let label = "λ = \(lambda), f_w = \(fw)"
            XCTAssertLessThanOrEqual(s.residual, 1e-10, label)
            XCTAssertTrue(s.logWallCurvature.isFinite, label)
            guard fw < -5 else { continue }
            let etaStar = -fw / lambda
            let model = lambda < 1 ? -(fw * fw - fwStar * fwStar) / (4 * lambda) : -fw * fw / (4 * lambda)
            XCTAssertEqual(s.logWallCurvature, model, accuracy: 0.05 * abs(model) + 5, label)
            if lambda < 1 {
                XCTAssertLessThanOrEqual(lambda * (s.displacement - etaStar), 0, label)
                XCTAssertGreaterThanOrEqual(lambda * (s.displacement - etaStar), -2, label)
                if lambda <= 0.05 {
                    XCTAssertEqual(lambda * (s.displacement - etaStar), fwStar, accuracy: 10 * lambda, label)
                }
            } else {
                XCTAssertLessThan(s.displacement, etaStar, label)
            }
            if model < -40 { XCTAssertEqual(s.branch, .blownOff, label) }
            if s.logWallCurvature < -746 { XCTAssertEqual(s.wallCurvature, 0, label) }   // underflow: ln carries it
        }
        // The small-λ limit at f_w < f_w* (the whole pattern of the paper's box): λ(β − η*) → f_w*.
        let tiny = try solved(1e-6, -2)
        XCTAssertEqual(1e-6 * (tiny.displacement - 2e6), fwStar, accuracy: 1e-5)
        // Down to η* ≈ 4e11 (λ = 3e-9 with the box's strongest blowing) the layer is still resolved.
        XCTAssertEqual(try solved(3e-9, -1265).branch, .blownOff)
    }

    /// The only points that return "not converged": a layer lifted so far (η* = −f_w/λ ≳ 5e11) that
    /// doubles near η* are spaced more than 1e-4 of the layer's inner scale (~1). No profile on double
    /// η nodes can represent such a layer, whatever the shooting formulation (in the paper's box this
    /// needs |u_h| < ~1e-9 U0, probability ~1e-8 per sample).
    func testLayersBeyondDoubleResolutionAreReportedNotConverged() {
        for (lambda, fw) in [(1e-9, -1265.0), (1e-12, -1265), (1e-20, -2), (1e-300, -5), (5e-324, -2)] {
            guard case .notConverged(let reason) = solver.solve(lambda: lambda, fw: fw) else {
                return XCTFail("λ = \(lambda), f_w = \(fw) should be reported as not converged")
            }
            XCTAssertTrue(reason.contains("spaced"), reason)
        }
    }

    /// Parameters that are not numbers give a typed failure, not a trap or a NaN.
    func testNonFiniteParametersAreRejected() {
        for (l, f) in [(Double.nan, 0.0), (0, .infinity), (-.infinity, 1)] {
            guard case .notConverged(let reason) = solver.solve(lambda: l, fw: f) else { return XCTFail("λ = \(l), f_w = \(f)") }
            XCTAssertTrue(reason.contains("finite"), reason)
        }
    }
}
