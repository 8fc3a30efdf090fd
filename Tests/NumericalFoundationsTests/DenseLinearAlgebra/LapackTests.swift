import XCTest
import Numerics
@testable import NumericalFoundations

/// The LAPACKE wrappers against closed forms and against the defining identities.
/// Tolerances: backward-stable dense factorizations of matrices of norm O(1) and size ≤ 40 reproduce
/// their defining identities to a few hundred ε (ε = 2.2e-16), so 1e-13 is used unless said otherwise.
final class LapackTests: XCTestCase {
    /// A deterministic, full, unstructured test matrix (no random generator needed).
    func sampleMatrix(_ rows: Int, _ columns: Int, phase: Double = 0) -> ColumnMajorMatrix {
        var a = ColumnMajorMatrix(rows: rows, columns: columns)
        for j in 0..<columns { for i in 0..<rows { a[i, j] = sin(1.3 * Double(i) + 0.7 * Double(j * j) + phase) + (i == j ? 0.5 : 0) } }
        return a
    }

    func maxAbsDifference(_ a: ColumnMajorMatrix, _ b: ColumnMajorMatrix) -> Double {
        XCTAssertEqual(a.rows, b.rows); XCTAssertEqual(a.columns, b.columns)
        return zip(a.storage, b.storage).map { abs($0 - $1) }.max() ?? 0
    }

    // MARK: ColumnMajorMatrix

    func testLayoutsAndProducts() throws {
        let a = try ColumnMajorMatrix(rows: 2, columns: 3, rowMajor: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(a[0, 2], 3); XCTAssertEqual(a[1, 0], 4)
        XCTAssertEqual(a.storage, [1, 4, 2, 5, 3, 6])  // column-major
        XCTAssertEqual(a.rowMajorValues, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(a.transposed.storage, [1, 2, 3, 4, 5, 6])
        // Hand-computed products (exact in floating point: small integers).
        let b = try ColumnMajorMatrix(rows: 3, columns: 2, rowMajor: [1, 0, 0, 1, 1, 1])
        XCTAssertEqual(try a.multiplied(by: b).rowMajorValues, [4, 5, 10, 11])
        XCTAssertEqual(try a.multiplied(by: a, transposingSelf: true).rowMajorValues, [17, 22, 27, 22, 29, 36, 27, 36, 45])
        XCTAssertEqual(try a.multiplied(by: a, transposingOther: true).rowMajorValues, [14, 32, 32, 77])
        XCTAssertEqual(try a.multiplied(by: [1, 1, 1]), [6, 15])
        XCTAssertThrowsError(try a.multiplied(by: a))
        XCTAssertThrowsError(try ColumnMajorMatrix(rows: 2, columns: 2, columnMajor: [1, 2, 3]))
        XCTAssertEqual(try ColumnMajorMatrix(columns: [[1, 2], [3, 4]]).storage, [1, 2, 3, 4])
        XCTAssertEqual(a.frobeniusNorm, (91.0).squareRoot(), accuracy: 1e-14)
    }

    // MARK: QR

    func testHouseholderQRReconstructsAndIsOrthonormal() throws {
        for (rows, columns) in [(40, 7), (7, 7), (5, 9)] {
            let a = sampleMatrix(rows, columns)
            let qr = try HouseholderQR(a)
            let q = try qr.thinQ(), r = qr.r
            let k = min(rows, columns)
            XCTAssertEqual(q.rows, rows); XCTAssertEqual(q.columns, k)
            XCTAssertEqual(r.rows, k); XCTAssertEqual(r.columns, columns)
            for j in 0..<columns { for i in 0..<k where i > j { XCTAssertEqual(r[i, j], 0) } }
            XCTAssertLessThan(maxAbsDifference(try q.multiplied(by: r), a), 1e-13)
            XCTAssertLessThan(maxAbsDifference(try q.multiplied(by: q, transposingSelf: true), .identity(k)), 1e-14)
            // Qᵀ A (applied from the reflectors, never formed) = [R; 0].
            let qta = try qr.applyQ(to: a, transposed: true)
            for j in 0..<columns {
                for i in 0..<rows { XCTAssertEqual(qta[i, j], i < k ? r[i, j] : 0, accuracy: 1e-13) }
            }
            // Q (Qᵀ A) = A.
            XCTAssertLessThan(maxAbsDifference(try qr.applyQ(to: qta), a), 1e-13)
        }
    }

    // MARK: SVD

    func testSVDClosedForm() throws {
        // [[3, 0], [4, 5]]: AᵀA = [[25, 20], [20, 25]] has eigenvalues 45 and 5, so σ = 3√5, √5.
        let a = try ColumnMajorMatrix(rows: 2, columns: 2, rowMajor: [3, 0, 4, 5])
        let svd = try SingularValueDecomposition(a)
        XCTAssertEqual(svd.singularValues[0], 3 * 5.0.squareRoot(), accuracy: 1e-14)
        XCTAssertEqual(svd.singularValues[1], 5.0.squareRoot(), accuracy: 1e-14)
    }

    func testSVDOfMatrixWithPrescribedSingularValues() throws {
        // A = Q₁ diag(σ) Q₂ᵀ with orthonormal Q's: the SVD must return σ (to ε σ_0 absolute) and
        // factors that reproduce A.
        let sigma: [Double] = [3, 1, 1e-3, 1e-6, 1e-9, 0]
        let q1 = try HouseholderQR(sampleMatrix(30, 6)).thinQ()
        let q2 = try HouseholderQR(sampleMatrix(6, 6, phase: 0.4)).thinQ()
        let a = try q1.multiplied(by: ColumnMajorMatrix.diagonal(sigma)).multiplied(by: q2, transposingOther: true)
        let svd = try SingularValueDecomposition(a)
        XCTAssertEqual(svd.u.rows, 30); XCTAssertEqual(svd.u.columns, 6); XCTAssertEqual(svd.vt.rows, 6)
        for (computed, exact) in zip(svd.singularValues, sigma) { XCTAssertEqual(computed, exact, accuracy: 1e-14 * 3) }
        let usv = try svd.u.multiplied(by: ColumnMajorMatrix.diagonal(svd.singularValues)).multiplied(by: svd.vt)
        XCTAssertLessThan(maxAbsDifference(usv, a), 1e-14 * 3 * 10)
        XCTAssertLessThan(maxAbsDifference(try svd.u.multiplied(by: svd.u, transposingSelf: true), .identity(6)), 1e-13)
    }

    // MARK: Eigenproblems

    func testSymmetricEigenvaluesOfTheSecondDifferenceMatrix() throws {
        // tridiag(−1, 2, −1) of size N: λ_k = 2 − 2 cos(kπ/(N+1)), k = 1…N (closed form).
        let size = 12
        var a = ColumnMajorMatrix(rows: size, columns: size)
        for i in 0..<size {
            a[i, i] = 2
            if i + 1 < size { a[i, i + 1] = -1; a[i + 1, i] = -1 }
        }
        let eigen = try SymmetricEigendecomposition(a)
        for k in 1...size {
            XCTAssertEqual(eigen.eigenvalues[k - 1], 2 - 2 * cos(Double(k) * .pi / Double(size + 1)), accuracy: 1e-14 * 10)
        }
        // A V = V Λ.
        let av = try a.multiplied(by: eigen.eigenvectors)
        let vl = try eigen.eigenvectors.multiplied(by: ColumnMajorMatrix.diagonal(eigen.eigenvalues))
        XCTAssertLessThan(maxAbsDifference(av, vl), 1e-13)
    }

    func testGeneralEigenvaluesOfACompanionMatrix() throws {
        // The companion matrix of (x − 2)(x − 0.5)(x² − 2x + 5) has eigenvalues 2, 0.5, 1 ± 2i.
        // (x − 2)(x − 0.5) = x² − 2.5x + 1; times (x² − 2x + 5) = x⁴ − 4.5x³ + 11x² − 14.5x + 5.
        let coefficients: [Double] = [5, -14.5, 11, -4.5]  // c_0 … c_3 of x⁴ + c_3 x³ + …
        var a = ColumnMajorMatrix(rows: 4, columns: 4)
        for i in 1..<4 { a[i, i - 1] = 1 }
        for i in 0..<4 { a[i, 3] = -coefficients[i] }
        let eigen = try GeneralEigendecomposition(a)
        let expected = [Complex(2.0, 0), Complex(0.5, 0), Complex(1.0, 2), Complex(1.0, -2)]
        for lambda in expected {
            let nearest = eigen.eigenvalues.map { ($0 - lambda).length }.min()!
            // Eigenvalues of a companion matrix are as sensitive as polynomial roots: a few hundred ε here.
            XCTAssertLessThan(nearest, 1e-12, "eigenvalue \(lambda) not found in \(eigen.eigenvalues)")
        }
        // Complex pairs: positive imaginary part first, conjugate eigenvectors; A y = λ y.
        let complexA = ComplexColumnMajorMatrix(a)
        for j in 0..<4 {
            let y = eigen.eigenvectors.column(j)
            let ay = try complexA.multiplied(by: y)
            let residual = zip(ay, y).map { ($0 - eigen.eigenvalues[j] * $1).length }.max()!
            XCTAssertLessThan(residual, 1e-13)
            XCTAssertEqual(y.map { $0.lengthSquared }.reduce(0, +), 1, accuracy: 1e-14)
        }
    }

    func testRotationBlockHasConjugateEigenvalues() throws {
        // ρ [[cos θ, −sin θ], [sin θ, cos θ]] has eigenvalues ρ e^{±iθ}.
        let rho = 0.9, theta = 0.7
        let a = try ColumnMajorMatrix(rows: 2, columns: 2, rowMajor: [rho * cos(theta), -rho * sin(theta), rho * sin(theta), rho * cos(theta)])
        let eigen = try GeneralEigendecomposition(a)
        XCTAssertEqual(eigen.eigenvalues[0].real, rho * cos(theta), accuracy: 1e-15)
        XCTAssertEqual(eigen.eigenvalues[0].imaginary, rho * sin(theta), accuracy: 1e-15)
        XCTAssertEqual(eigen.eigenvalues[1], eigen.eigenvalues[0].conjugate)
        XCTAssertEqual(eigen.eigenvectors.column(1), eigen.eigenvectors.column(0).map(\.conjugate))
    }

    // MARK: Least squares

    func testLeastSquaresRecoversAnExactSolutionAndProjectsResiduals() throws {
        let a = sampleMatrix(20, 5)
        let x = try ColumnMajorMatrix(rows: 5, columns: 1, columnMajor: [1, -2, 3, 0.5, -0.25])
        let b = try a.multiplied(by: x)
        let exact = try Lapack.leastSquares(a, b)
        XCTAssertEqual(exact.rank, 5)
        XCTAssertLessThan(maxAbsDifference(exact.solution, x), 1e-13)
        // With a perturbed right-hand side the residual is orthogonal to range(A): Aᵀ(b − A x) = 0.
        var perturbed = b
        for i in 0..<20 { perturbed[i, 0] += 0.01 * cos(Double(i * i)) }
        let fit = try Lapack.leastSquares(a, perturbed)
        let residual = try ColumnMajorMatrix(rows: 20, columns: 1,
                                             columnMajor: zip(perturbed.storage, try a.multiplied(by: fit.solution).storage).map { $0 - $1 })
        let normal = try a.multiplied(by: residual, transposingSelf: true)
        XCTAssertLessThan(normal.storage.map(abs).max()!, 1e-13)
    }

    func testLeastSquaresIsMinimumNormWhenRankDeficient() throws {
        // Two equal columns c: A x = (x₁ + x₂) c, so b = 2c fixes only x₁ + x₂ = 2; the
        // minimum-norm solution splits it evenly, x₁ = x₂ = 1.
        let a = try ColumnMajorMatrix(columns: [[1, 2, 3], [1, 2, 3]])
        let b = try ColumnMajorMatrix(rows: 3, columns: 1, columnMajor: [2, 4, 6])
        // σ₂ of the computed factorisation is rounding noise of order ε σ₁, so a cutoff above that
        // (1e-12) is what declares the rank 1; ε itself (the default) may keep the noise.
        let fit = try Lapack.leastSquares(a, b, relativeCutoff: 1e-12)
        XCTAssertEqual(fit.rank, 1)
        XCTAssertEqual(fit.solution[0, 0], 1, accuracy: 1e-14)
        XCTAssertEqual(fit.solution[1, 0], 1, accuracy: 1e-14)
    }

    func testComplexLeastSquaresThroughTheRealEmbedding() throws {
        var a = ComplexColumnMajorMatrix(rows: 6, columns: 3)
        for j in 0..<3 { for i in 0..<6 { a[i, j] = Complex(sin(Double(i + 3 * j)), cos(Double(2 * i - j))) } }
        let x = [Complex(1.0, -1), Complex(0.5, 2), Complex(-3.0, 0.25)]
        let b = try a.multiplied(by: x)
        let fit = try Lapack.leastSquares(a, b)
        XCTAssertEqual(fit.rank, 3)
        for (computed, exact) in zip(fit.solution, x) { XCTAssertLessThan((computed - exact).length, 1e-13) }
    }

    // MARK: Errors

    func testBadInputIsRejectedWithNamedErrors() throws {
        var a = sampleMatrix(4, 4)
        a[2, 1] = .nan
        XCTAssertThrowsError(try SingularValueDecomposition(a)) { error in
            XCTAssertEqual(error as? LapackError, .nonFiniteInput(routine: "dgesdd", row: 2, column: 1))
        }
        a[2, 1] = .infinity
        XCTAssertThrowsError(try GeneralEigendecomposition(a)) { error in
            XCTAssertEqual(error as? LapackError, .nonFiniteInput(routine: "dgeev", row: 2, column: 1))
        }
        XCTAssertThrowsError(try HouseholderQR(a))
        XCTAssertThrowsError(try SymmetricEigendecomposition(sampleMatrix(3, 4))) { error in
            guard case .invalidShape(let routine, _)? = error as? LapackError else { return XCTFail("\(error)") }
            XCTAssertEqual(routine, "dsyevd")
        }
        XCTAssertThrowsError(try Lapack.leastSquares(sampleMatrix(4, 2), sampleMatrix(3, 1)))
        XCTAssertTrue("\(LapackError.illegalArgument(routine: "dgeqrf", position: 4))".contains("dgeqrf"))
    }

    func testEmptyMatricesAreHandled() throws {
        let svd = try SingularValueDecomposition(ColumnMajorMatrix(rows: 0, columns: 3))
        XCTAssertEqual(svd.singularValues, [])
        XCTAssertEqual(try GeneralEigendecomposition(ColumnMajorMatrix(rows: 0, columns: 0)).eigenvalues, [])
    }
}
