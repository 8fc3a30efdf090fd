import XCTest
@testable import PDE

/// The existence boundary: blow-off f_w*, the turning point λ_c(f_w), and the answers either side of it.
final class ExistenceTests: XCTestCase {
    let solver = BlasiusSolver()

    func criticalLambda(_ fw: Double, file: StaticString = #filePath, line: UInt = #line) throws -> (lambda: Double, x: Double) {
        guard case .fold(let l, let x) = solver.criticalLambda(fw: fw) else {
            XCTFail("λ_c(\(fw)) did not converge", file: file, line: line)
            throw XCTSkip("no λ_c")
        }
        return (l, x)
    }

    /// formulation.md §2a: λ_c(0) ≈ −0.35411, λ_c(1) ≈ −0.907, λ_c(5) ≈ −5.84, λ_c(−1) ≈ −0.0353,
    /// f_w* ≈ −1.23849. λ_c(0) = −0.3541 is required to 1e-4; the others are checked to the digits
    /// the specification gives (half a unit of the last digit).
    func testPublishedValues() throws {
        XCTAssertEqual(try criticalLambda(0).lambda, -0.3541, accuracy: 1e-4)
        XCTAssertEqual(try criticalLambda(0).lambda, -0.35411, accuracy: 5e-6)
        XCTAssertEqual(try criticalLambda(1).lambda, -0.907, accuracy: 5e-4)
        XCTAssertEqual(try criticalLambda(5).lambda, -5.84, accuracy: 5e-3)
        XCTAssertEqual(try criticalLambda(-1).lambda, -0.0353, accuracy: 5e-5)
        XCTAssertEqual(BlasiusSolver.blowOffSuction, -1.23849, accuracy: 5e-6)
        // The quick check the surrogates use holds the same value to its printed digits.
        XCTAssertEqual(BlowOff.suctionLimit, BlasiusSolver.blowOffSuction, accuracy: 5e-6)
        // f_w = −2 u_v / sqrt(ν U0): with ν = 1e-5, U0 = 1, u_v = 0.0025 gives f_w = −1.58 (blown off at
        // u_h ≤ 0), u_v = 0.0015 gives −0.95 (a wind exists).
        XCTAssertTrue(BlowOff.hasNoWind(u0: 1, uh: 0, uv: 0.0025, nu: 1e-5))
        XCTAssertFalse(BlowOff.hasNoWind(u0: 1, uh: 0.01, uv: 0.0025, nu: 1e-5))
        XCTAssertFalse(BlowOff.hasNoWind(u0: 1, uh: 0, uv: 0.0015, nu: 1e-5))
    }

    /// Suction lowers λ_c (more reverse wall motion is sustained), blowing raises it towards 0 at f_w*.
    func testCriticalLambdaMovesWithSuctionAndBlowing() throws {
        let fws = [-1.2, -1.0, -0.5, 0, 0.5, 1, 2, 5]
        let values = try fws.map { try criticalLambda($0).lambda }
        for i in 1..<values.count {
            XCTAssertLessThan(values[i], values[i - 1], "λ_c(\(fws[i])) = \(values[i]) not below λ_c(\(fws[i - 1])) = \(values[i - 1])")
        }
        XCTAssertLessThan(values[0], 0)
        XCTAssertGreaterThan(values[0], -0.01)   // near blow-off λ_c → 0⁻
        XCTAssertEqual(solver.criticalLambda(fw: -1.3), .blowOff)
    }

    /// Just above λ_c the (upper) solution exists, just below the solver proves that none does and
    /// reports the same λ_c. 1e-6 is far above the accuracy of λ_c (Newton on the minimum residual to
    /// 1e-13) and far below the spacing of samples in the box.
    func testEitherSideOfTheTurningPoint() throws {
        for fw in [-1.0, 0, 1, 5, 15] {
            let (lc, xFold) = try criticalLambda(fw)
            guard case .solved(let s) = solver.solve(lambda: lc + 1e-6, fw: fw) else { return XCTFail("λ_c + 1e-6 at f_w = \(fw) must solve") }
            XCTAssertEqual(s.branch, .upper)
            XCTAssertLessThanOrEqual(s.residual, 1e-10)
            // Close to the fold the upper solution is near the fold solution (x ~ sqrt(λ − λ_c) away)
            // and on its upper side.
            XCTAssertGreaterThan(s.logWallCurvature, xFold)
            XCTAssertEqual(s.logWallCurvature, xFold, accuracy: 0.05)
            guard case .noSolution(let reported, let reason) = solver.solve(lambda: lc - 1e-6, fw: fw) else {
                return XCTFail("λ_c − 1e-6 at f_w = \(fw) must have no solution")
            }
            XCTAssertEqual(reason, .reverseWallBeyondFold)
            XCTAssertEqual(reported, lc, accuracy: 1e-10)
        }
    }

    /// Between λ_c and 0 there are two solutions (the residual's minimum over ln f''(0) is negative);
    /// the solver returns the upper one, with the larger f''(0), right of the minimum.
    func testTwoSolutionsAndTheUpperBranch() throws {
        var statistics = SolveStatistics()
        for (lambda, fw) in [(-0.3, 0.0), (-0.6, 1.0), (-0.02, -1.0)] {
            guard case .success(let minimum) = solver.residualMinimum(lambda: lambda, fw: fw, start: -1, statistics: &statistics) else {
                return XCTFail("no minimum at λ = \(lambda)")
            }
            XCTAssertLessThan(minimum.value, -1e-6)
            guard case .solved(let s) = solver.solve(lambda: lambda, fw: fw) else { return XCTFail("λ = \(lambda), f_w = \(fw)") }
            XCTAssertGreaterThan(s.logWallCurvature, minimum.logWallCurvature)
        }
        // On the upper branch f'' > 0 everywhere (sign f'' = sign(1 − λ), formulation.md §2a), and the
        // wall shear decreases continuously from Blasius (0.332 at λ = 0) as the wall reverses.
        guard case .solved(let s) = solver.solve(lambda: -0.2, fw: 0) else { return XCTFail("λ = -0.2") }
        XCTAssertTrue(s.profile.fDoublePrime.allSatisfy { $0 >= 0 })
        XCTAssertLessThan(s.wallCurvature, 0.332057336215)
        XCTAssertGreaterThan(s.wallCurvature, 0.25)
    }

    /// Blow-off, proved by the general machinery rather than the f_w ≤ f_w* shortcut of `solve`: the
    /// minimum over ln f''(0) of the residual f'(∞) − 1 stays positive (at λ = 0 the residual only levels
    /// off towards f''(0) → 0, and its limit is positive). Just above f_w* at λ = 0 a solution exists.
    func testBlowOffIsProvedByTheResidual() throws {
        var statistics = SolveStatistics()
        let fwStar = BlasiusSolver.blowOffSuction
        for fw in [fwStar - 0.01, -2, -10] {
            for lambda in [0.0, -0.01, -0.5] {
                guard case .success(let minimum) = solver.residualMinimum(lambda: lambda, fw: fw, start: -1, statistics: &statistics) else {
                    return XCTFail("no minimum at λ = \(lambda), f_w = \(fw)")
                }
                XCTAssertGreaterThan(minimum.value, 1e-6, "λ = \(lambda), f_w = \(fw)")
                guard case .noSolution(let lc, .blowOff) = solver.solve(lambda: lambda, fw: fw) else { return XCTFail() }
                XCTAssertEqual(lc, 0)
            }
        }
        guard case .solved(let s) = solver.solve(lambda: 0, fw: fwStar + 0.01) else { return XCTFail("just above blow-off") }
        XCTAssertLessThan(s.wallCurvature, 1e-3)   // f''(0) → 0 at blow-off
        XCTAssertLessThanOrEqual(s.residual, 1e-10)
    }

    /// Strong suction with reverse wall motion: the residual over x = ln f''(0) is not one smooth U any
    /// more. Shots whose thin wall layer leaves f' < 0 coast until f = 0 and form a second, detached
    /// layer with a large f'(∞); the residual jumps where the wall layer just brings f' to 0 (there
    /// f'(∞) → 0, a residual of −1). The upper root lies on the piece right of the jump; the solver must
    /// find it, and λ_c must not be taken from a local minimum of the other piece.
    func testDiscontinuousResidualUnderStrongSuction() throws {
        let lambda = -30.0, fw = 15.0
        let shooting = solver.problem(lambda: lambda, fw: fw)
        let left = solver.orientedProbe(shooting, .wall(logCurvature: 5.2))
        let right = solver.orientedProbe(shooting, .wall(logCurvature: 5.225))
        XCTAssertGreaterThan(left.g, 10)       // detached second layer: f'(∞) ≫ 1
        XCTAssertLessThan(right.g, -0.5)       // wall layer leaves f' ≈ 0: f'(∞) ≈ 0
        guard case .solved(let s) = solver.solve(lambda: lambda, fw: fw) else { return XCTFail("λ = −30, f_w = 15 must solve") }
        XCTAssertGreaterThan(s.logWallCurvature, 5.225)
        XCTAssertLessThanOrEqual(s.residual, 1e-10)
        // The box's λ ≥ −20 is inside the existence region for f_w ≥ 10.2 (λ_c(10) ≈ −19.1).
        XCTAssertEqual(try criticalLambda(10).lambda, -19.1046, accuracy: 1e-4)
    }

    /// f_w,c(λ) (the clamp policy's target) is the inverse of λ_c(f_w).
    func testMinimalSuctionInvertsCriticalLambda() throws {
        for fw in [-1.0, 0, 1.5] {
            let lc = try criticalLambda(fw).lambda
            guard case .value(let back) = solver.minimalSuction(lambda: lc) else { return XCTFail("f_w,c(\(lc))") }
            // dλ_c/df_w ≈ −0.3 … −2 here, so 1e-13 in λ is ~1e-12 in f_w; bound 1e-9.
            XCTAssertEqual(back, fw, accuracy: 1e-9)
        }
        XCTAssertEqual(solver.minimalSuction(lambda: 0), .value(BlasiusSolver.blowOffSuction))
        XCTAssertEqual(solver.minimalSuction(lambda: 0.3), .unbounded)
    }

    /// An independent computation of f_w* and λ_c(0) with SciPy (DOP853 shooting on f itself, Brent's
    /// root finder and minimiser), skipped without python3/scipy. Its tolerances (rtol 1e-12) give ~9
    /// digits; bound 1e-8.
    func testAgainstIndependentScipyComputation() throws {
        let script = """
        import numpy as np
        from scipy.integrate import solve_ivp
        from scipy.optimize import brentq, minimize_scalar
        def residual(L0, lam, fw):
            # (f, f', ln f'') with f'' > 0 (lam < 1); stop once the layer has formed and f'' is negligible,
            # or when the trajectory runs away.
            def rhs(t, y): return [y[1], np.exp(y[2]), -0.5 * y[0]]
            def done(t, y): return 1.0 if (y[0] > 1 and y[2] < -40) else -1.0
            def runaway(t, y): return 50 - y[2]
            done.terminal = True; runaway.terminal = True
            s = solve_ivp(rhs, [0, 1e5], [fw, lam, L0], method='DOP853', rtol=1e-12, atol=1e-14, events=[done, runaway])
            return s.y[1, -1] - 1
        fwstar = brentq(lambda fw: residual(-40, 0.0, fw), -1.3, -1.2, xtol=1e-13)
        def m(lam):
            return minimize_scalar(lambda x: residual(x, lam, 0.0), bracket=(-4, -2, -1), tol=1e-9).fun
        lc = brentq(m, -0.36, -0.34, xtol=1e-12)
        print(repr(fwstar), repr(lc))
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = Pipe()
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        do { try process.run() } catch { throw XCTSkip("python3 not available") }
        // The script takes a few seconds; never let a stuck interpreter hang the test run.
        if finished.wait(timeout: .now() + 120) == .timedOut {
            process.terminate()
            return XCTFail("the SciPy cross-check did not finish within 120 s")
        }
        guard process.terminationStatus == 0 else { throw XCTSkip("python3 with numpy/scipy not available") }
        let numbers = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        XCTAssertEqual(numbers.count, 2)
        guard numbers.count == 2 else { return }
        XCTAssertEqual(BlasiusSolver.blowOffSuction, numbers[0], accuracy: 1e-8)
        XCTAssertEqual(try criticalLambda(0).lambda, numbers[1], accuracy: 1e-8)
    }
}
