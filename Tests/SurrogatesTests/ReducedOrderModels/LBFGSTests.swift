import XCTest
import NumericalFoundations
@testable import Surrogates

/// L-BFGS on problems with known minimisers.
final class LBFGSTests: XCTestCase {
    /// f(x) = ½ xᵀAx − bᵀx with A SPD (eigenvalues 1…30): the minimiser A⁻¹b is reached in at most
    /// n + 3 steps (with a memory ≥ n and a near-exact line search, c₂ = 0.01, L-BFGS on a quadratic
    /// behaves like conjugate gradients). Measured: see the assertion message.
    func testConvexQuadraticConvergesToExactMinimiserInAboutNSteps() {
        let n = 8
        var g = SeededGenerator(seed: 7, stream: 0)
        // A = Q diag(λ) Qᵀ with Q from Gram–Schmidt of random vectors.
        var q: [[Double]] = []
        while q.count < n {
            var v = (0..<n).map { _ in g.nextGaussian() }
            for u in q { let p = zip(u, v).reduce(0) { $0 + $1.0 * $1.1 }; for i in 0..<n { v[i] -= p * u[i] } }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            q.append(v.map { $0 / norm })
        }
        let lambda = (0..<n).map { 1 + 29 * Double($0) / Double(n - 1) }
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { for k in 0..<n { a[i * n + j] += q[k][i] * lambda[k] * q[k][j] } } }
        let xStar = (0..<n).map { _ in g.nextGaussian() }
        let b = (0..<n).map { i in (0..<n).reduce(0) { $0 + a[i * n + $1] * xStar[$1] } }
        var options = LBFGSOptions(memory: 10, maxIterations: 100, gradientTolerance: 1e-12, relativeFunctionTolerance: 0)
        options.c2 = 0.01
        let result = LBFGS.minimize(start: [Double](repeating: 0, count: n), options: options) { x, gradient in
            var f = 0.0
            for i in 0..<n {
                var ax = 0.0
                for j in 0..<n { ax += a[i * n + j] * x[j] }
                gradient[i] = ax - b[i]
                f += 0.5 * x[i] * ax - b[i] * x[i]
            }
            return f
        }
        let error = zip(result.x, xStar).reduce(0) { max($0, abs($1.0 - $1.1)) }
        XCTAssertEqual(result.status, .gradientConverged)
        XCTAssertLessThan(error, 1e-10)
        XCTAssertLessThanOrEqual(result.iterations, n + 3, "iterations \(result.iterations), evaluations \(result.evaluations), error \(error)")
        print("L-BFGS quadratic n=\(n): \(result.iterations) iterations, \(result.evaluations) evaluations, max error \(error)")
    }

    /// Rosenbrock's function from (−1.2, 1): the minimiser (1, 1) to 1e-8.
    func testRosenbrockConvergesTo1e8() {
        let options = LBFGSOptions(memory: 7, maxIterations: 500, gradientTolerance: 1e-12, relativeFunctionTolerance: 0)
        let result = LBFGS.minimize(start: [-1.2, 1], options: options) { x, gradient in
            let a = 1 - x[0], b = x[1] - x[0] * x[0]
            gradient[0] = -2 * a - 400 * x[0] * b
            gradient[1] = 200 * b
            return a * a + 100 * b * b
        }
        let error = max(abs(result.x[0] - 1), abs(result.x[1] - 1))
        XCTAssertLessThan(error, 1e-8, "status \(result.status), iterations \(result.iterations)")
        print("L-BFGS Rosenbrock: \(result.iterations) iterations, \(result.evaluations) evaluations, status \(result.status), max error \(error)")
    }

    /// Rosenbrock in 10 dimensions (the chained form) with the default options still reaches 1e-8.
    func testChainedRosenbrock() {
        let n = 10
        let options = LBFGSOptions(maxIterations: 1000, gradientTolerance: 1e-12, relativeFunctionTolerance: 0)
        let result = LBFGS.minimize(start: (0..<n).map { $0 % 2 == 0 ? -1.2 : 1 }, options: options) { x, gradient in
            var f = 0.0
            for i in 0..<n { gradient[i] = 0 }
            for i in 0..<(n - 1) {
                let a = 1 - x[i], b = x[i + 1] - x[i] * x[i]
                f += a * a + 100 * b * b
                gradient[i] += -2 * a - 400 * x[i] * b
                gradient[i + 1] += 200 * b
            }
            return f
        }
        let error = result.x.reduce(0) { max($0, abs($1 - 1)) }
        XCTAssertLessThan(error, 1e-8, "status \(result.status), iterations \(result.iterations)")
    }

    /// A start where f is not finite is reported, not optimised.
    func testNonFiniteStartIsReported() {
        let result = LBFGS.minimize(start: [0]) { _, g in g[0] = 0; return .nan }
        XCTAssertEqual(result.status, .nonFiniteStart)
    }

    /// A function that overflows away from a small region: the line search backs off from +∞.
    func testLineSearchBacksOffFromInfinity() {
        let result = LBFGS.minimize(start: [0.5], options: LBFGSOptions(gradientTolerance: 1e-10)) { x, g in
            // log-barrier on (-1, 1) plus a quadratic: infinite outside.
            guard abs(x[0]) < 1 else { g[0] = .nan; return .infinity }
            g[0] = 2 * (x[0] - 0.9) + 2 * x[0] / (1 - x[0] * x[0]) * 0.01
            return (x[0] - 0.9) * (x[0] - 0.9) - 0.01 * log(1 - x[0] * x[0])
        }
        XCTAssertTrue(result.converged, "\(result.status)")
        XCTAssertLessThan(abs(result.gradient[0]), 1e-8)
    }

    /// `onIteration` sees every accepted step with its value, and returning true stops there with
    /// status stoppedByCaller (the study's stop at a target error): on the n = 8 quadratic, stopping
    /// at step 3 gives 3 iterations and the value of the third point.
    func testOnIterationStopsAtTheCallersRequest() {
        var seen: [(Int, Double)] = []
        let result = LBFGS.minimize(start: [Double](repeating: 1, count: 8), onIteration: { x, f, k in
            seen.append((k, f))
            XCTAssertEqual(f, x.enumerated().reduce(0) { $0 + Double($1.offset + 1) * $1.element * $1.element }, accuracy: 1e-12)
            return k == 3
        }) { x, g in
            var f = 0.0
            for i in 0..<x.count { f += Double(i + 1) * x[i] * x[i]; g[i] = 2 * Double(i + 1) * x[i] }
            return f
        }
        XCTAssertEqual(result.status, .stoppedByCaller)
        XCTAssertEqual(result.iterations, 3)
        XCTAssertEqual(seen.map(\.0), [1, 2, 3])
        XCTAssertEqual(result.value, seen.last!.1)
        XCTAssertTrue(zip(seen, seen.dropFirst()).allSatisfy { $0.1 > $1.1 }, "each accepted step lowers f")
    }
}
