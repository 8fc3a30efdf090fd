import XCTest
import NumericalFoundations
@testable import Surrogates

/// A least-squares problem from closures: the residuals and a dense Jacobian (m × n, row-major)
/// at x, so that the tests know J exactly.
final class DenseLeastSquares: LeastSquaresProblem {
    let parameterCount: Int
    let residualCount: Int
    let residualsAt: ([Double]) -> [Double]
    let jacobianAt: ([Double]) -> [Double]
    private var jacobian: [Double] = []
    private(set) var evaluations = 0

    init(n: Int, m: Int, residuals: @escaping ([Double]) -> [Double], jacobian: @escaping ([Double]) -> [Double]) {
        parameterCount = n; residualCount = m; residualsAt = residuals; jacobianAt = jacobian
    }

    func evaluate(at x: UnsafePointer<Double>, residuals: UnsafeMutablePointer<Double>) throws {
        let point = Array(UnsafeBufferPointer(start: x, count: parameterCount))
        let r = residualsAt(point)
        for i in 0..<residualCount { residuals[i] = r[i] }
        jacobian = jacobianAt(point)
        evaluations += 1
    }

    func applyJacobian(_ v: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        for i in 0..<residualCount {
            var s = 0.0
            for j in 0..<parameterCount { s += jacobian[i * parameterCount + j] * v[j] }
            out[i] = s
        }
    }

    func applyJacobianTranspose(_ u: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        for j in 0..<parameterCount {
            var s = 0.0
            for i in 0..<residualCount { s += jacobian[i * parameterCount + j] * u[i] }
            out[j] = s
        }
    }
}

/// Levenberg–Marquardt on problems whose minimisers are known in closed form.
final class LevenbergMarquardtTests: XCTestCase {
    /// Linear least squares r = A x − b (A 12 × 5, full rank): the minimiser solves the normal
    /// equations AᵀA x = Aᵀb, which the test solves independently by Gaussian elimination.
    func testLinearLeastSquaresReachesTheNormalEquationsSolution() throws {
        let m = 12, n = 5
        var g = SeededGenerator(seed: 3, stream: 0)
        let a = (0..<(m * n)).map { _ in g.nextGaussian() }
        let b = (0..<m).map { _ in g.nextGaussian() }
        let problem = DenseLeastSquares(n: n, m: m, residuals: { x in
            (0..<m).map { i in (0..<n).reduce(-b[i]) { $0 + a[i * n + $1] * x[$1] } }
        }, jacobian: { _ in a })
        var options = LevenbergMarquardtOptions(maxIterations: 100, cgIterations: 20, cgTolerance: 1e-14)
        options.gradientTolerance = 1e-12
        let result = try LevenbergMarquardt.minimize(problem, start: [Double](repeating: 0, count: n), options: options)
        // Normal equations by Gaussian elimination with partial pivoting.
        var normal = [[Double]](repeating: [Double](repeating: 0, count: n + 1), count: n)
        for j in 0..<n {
            for k in 0..<n { normal[j][k] = (0..<m).reduce(0) { $0 + a[$1 * n + j] * a[$1 * n + k] } }
            normal[j][n] = (0..<m).reduce(0) { $0 + a[$1 * n + j] * b[$1] }
        }
        for col in 0..<n {
            let pivot = (col..<n).max { abs(normal[$0][col]) < abs(normal[$1][col]) }!
            normal.swapAt(col, pivot)
            for row in (col + 1)..<n {
                let f = normal[row][col] / normal[col][col]
                for k in col...n { normal[row][k] -= f * normal[col][k] }
            }
        }
        var exact = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            exact[row] = (normal[row][n] - ((row + 1)..<n).reduce(0) { $0 + normal[row][$1] * exact[$1] }) / normal[row][row]
        }
        let error = zip(result.x, exact).reduce(0) { max($0, abs($1.0 - $1.1)) }
        XCTAssertLessThan(error, 1e-9, "LM \(result.status), \(result.acceptedSteps) steps")
    }

    /// Rosenbrock as residuals r = (10 (x₂ − x₁²), 1 − x₁) from the classical start (−1.2, 1):
    /// the minimiser (1, 1) with F = 0 (Moré, Garbow & Hillstrom 1981, problem 1).
    func testRosenbrockReachesItsMinimiser() throws {
        let problem = DenseLeastSquares(n: 2, m: 2, residuals: { x in [10 * (x[1] - x[0] * x[0]), 1 - x[0]] },
                                        jacobian: { x in [-20 * x[0], 10, -1, 0] })
        var options = LevenbergMarquardtOptions(maxIterations: 200, cgIterations: 2, cgTolerance: 1e-14)
        options.gradientTolerance = 1e-14
        let result = try LevenbergMarquardt.minimize(problem, start: [-1.2, 1], options: options)
        XCTAssertEqual(result.x[0], 1, accuracy: 1e-8, "\(result.status) after \(result.trialSteps) trials")
        XCTAssertEqual(result.x[1], 1, accuracy: 1e-8)
        XCTAssertLessThan(result.value, 1e-16)
    }

    /// A zero-residual exponential fit y_i = 2 e^{−0.7 t_i} + 0.5 from (1, −0.1, 0): the generating
    /// parameters, and quadratic convergence shows as few steps (measured in the message).
    func testZeroResidualExponentialFitRecoversTheParameters() throws {
        let t = (0..<20).map { Double($0) * 0.25 }
        let y = t.map { 2 * exp(-0.7 * $0) + 0.5 }
        let problem = DenseLeastSquares(n: 3, m: t.count, residuals: { p in
            zip(t, y).map { p[0] * exp(p[1] * $0.0) + p[2] - $0.1 }
        }, jacobian: { p in
            t.flatMap { [exp(p[1] * $0), p[0] * $0 * exp(p[1] * $0), 1] }
        })
        var options = LevenbergMarquardtOptions(maxIterations: 100, cgIterations: 3, cgTolerance: 1e-14)
        options.gradientTolerance = 1e-14
        let result = try LevenbergMarquardt.minimize(problem, start: [1, -0.1, 0], options: options)
        XCTAssertEqual(result.x[0], 2, accuracy: 1e-7, "\(result.status), \(result.acceptedSteps) accepted of \(result.trialSteps)")
        XCTAssertEqual(result.x[1], -0.7, accuracy: 1e-7)
        XCTAssertEqual(result.x[2], 0.5, accuracy: 1e-7)
        XCTAssertLessThan(result.acceptedSteps, 60)
    }

    /// The caller's callback sees every accepted step with F decreasing, and can stop the run.
    func testCallbackSeesMonotoneDecreaseAndCanStop() throws {
        let problem = DenseLeastSquares(n: 2, m: 2, residuals: { x in [10 * (x[1] - x[0] * x[0]), 1 - x[0]] },
                                        jacobian: { x in [-20 * x[0], 10, -1, 0] })
        var values: [Double] = []
        let result = try LevenbergMarquardt.minimize(problem, start: [-1.2, 1]) { _, value, step in
            values.append(value)
            return step == 3
        }
        XCTAssertEqual(result.status, .stoppedByCaller)
        XCTAssertEqual(values.count, 3)
        XCTAssertEqual(result.acceptedSteps, 3)
        for k in 1..<values.count { XCTAssertLessThan(values[k], values[k - 1]) }
        XCTAssertLessThan(values[0], 0.5 * (4.4 * 4.4 + 2.2 * 2.2))  // F at the start: r = (−4.4, 2.2)
    }

    /// A start with a non-finite residual is reported, not iterated.
    func testNonFiniteStartIsReported() throws {
        let problem = DenseLeastSquares(n: 1, m: 1, residuals: { x in [1 / x[0]] }, jacobian: { x in [-1 / (x[0] * x[0])] })
        let result = try LevenbergMarquardt.minimize(problem, start: [0])
        XCTAssertEqual(result.status, .nonFiniteStart)
    }
}
