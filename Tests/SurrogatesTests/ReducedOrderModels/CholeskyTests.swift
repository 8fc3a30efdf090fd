import XCTest
import NumericalFoundations

/// The Cholesky wrappers added to DenseLinearAlgebra for the GPs (dpotrf, dtrsm, dpotri).
final class CholeskyTests: XCTestCase {
    func testFactorSolveInverse() throws {
        let n = 6
        var g = SeededGenerator(seed: 2, stream: 0)
        let b = (0..<(n * n)).map { _ in g.nextGaussian() }
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n {
            a[i * n + j] = (0..<n).reduce(0) { $0 + b[i * n + $1] * b[j * n + $1] } + (i == j ? 0.5 : 0)
        } }
        var l = a
        XCTAssertTrue(try Lapack.choleskyInPlace(order: n, matrix: &l, leadingDimension: n))
        for i in 0..<n { for j in 0..<n {
            if j > i { XCTAssertEqual(l[i * n + j], 0) }
            let llt = (0..<n).reduce(0) { $0 + l[i * n + $1] * l[j * n + $1] }
            XCTAssertEqual(llt, a[i * n + j], accuracy: 1e-12 * 10)
        } }
        let xTrue = (0..<(n * 2)).map { _ in g.nextGaussian() }
        var rhs = [Double](repeating: 0, count: n * 2)
        for i in 0..<n { for c in 0..<2 { rhs[i * 2 + c] = (0..<n).reduce(0) { $0 + a[i * n + $1] * xTrue[$1 * 2 + c] } } }
        Lapack.choleskySolveInPlace(order: n, factor: l, leadingDimension: n, rightHandSides: &rhs, columns: 2, bLeadingDimension: 2)
        for k in 0..<(n * 2) { XCTAssertEqual(rhs[k], xTrue[k], accuracy: 1e-9) }
        var inverse = [Double](repeating: 0, count: n * n)
        try Lapack.choleskyInverse(order: n, factor: l, leadingDimension: n, inverse: &inverse)
        for i in 0..<n { for j in 0..<n {
            let product = (0..<n).reduce(0) { $0 + a[i * n + $1] * inverse[$1 * n + j] }
            XCTAssertEqual(product, i == j ? 1 : 0, accuracy: 1e-9)
        } }
    }

    func testIndefiniteMatrixIsReported() throws {
        var a: [Double] = [1, 2, 2, 1]
        XCTAssertFalse(try Lapack.choleskyInPlace(order: 2, matrix: &a, leadingDimension: 2))
    }
}
