import _LinearAlgebraShims
import Numerics

/// Eigen-decomposition A = V diag(λ) Vᵀ of a real symmetric matrix (LAPACK dsyevd).
/// Only the upper triangle of A is read. `eigenvalues` are in ascending order and column j of
/// `eigenvectors` is the unit eigenvector of eigenvalue j. Backward stable: each λ carries an
/// absolute error ≈ ε‖A‖₂.
public struct SymmetricEigendecomposition: Sendable {
    public let eigenvalues: [Double]
    public let eigenvectors: ColumnMajorMatrix

    public init(_ a: ColumnMajorMatrix) throws {
        let routine = "dsyevd"
        guard a.rows == a.columns else {
            throw LapackError.invalidShape(routine: routine, message: "a symmetric eigenproblem needs a square matrix, got \(a.rows) × \(a.columns)")
        }
        try Lapack.requireFinite(a, routine)
        let n = a.rows
        var v = a
        var w = [Double](repeating: 0, count: n)
        if n > 0 {
            let nn = try Lapack.int(n, routine)
            let info = v.withUnsafeMutableBufferPointer { vb in
                LAPACKE_dsyevd(Lapack.columnMajor, Lapack.char("V"), Lapack.char("U"), nn, vb.baseAddress, nn, &w)
            }
            try Lapack.check(info, routine) { "\($0) off-diagonal elements of the tridiagonal form did not converge to zero" }
        }
        eigenvalues = w
        eigenvectors = v
    }
}

/// Eigenvalues and right eigenvectors A Y = Y Λ of a real general square matrix (LAPACK dgeev).
/// Complex eigenvalues come in conjugate pairs (positive imaginary part first, as LAPACK orders
/// them) with conjugate eigenvectors; each eigenvector has unit Euclidean norm and its largest
/// component real. The order of the eigenvalues is LAPACK's (not sorted).
public struct GeneralEigendecomposition: Sendable {
    public let eigenvalues: [Complex<Double>]
    public let eigenvectors: ComplexColumnMajorMatrix

    public init(_ a: ColumnMajorMatrix) throws {
        let routine = "dgeev"
        guard a.rows == a.columns else {
            throw LapackError.invalidShape(routine: routine, message: "an eigenproblem needs a square matrix, got \(a.rows) × \(a.columns)")
        }
        try Lapack.requireFinite(a, routine)
        let n = a.rows
        var work = a
        var wr = [Double](repeating: 0, count: n)
        var wi = [Double](repeating: 0, count: n)
        var vr = ColumnMajorMatrix(rows: n, columns: n)
        if n > 0 {
            let nn = try Lapack.int(n, routine)
            var vlDummy = 0.0
            let info = work.withUnsafeMutableBufferPointer { ab in
                vr.withUnsafeMutableBufferPointer { vb in
                    LAPACKE_dgeev(Lapack.columnMajor, Lapack.char("N"), Lapack.char("V"), nn, ab.baseAddress, nn, &wr, &wi,
                                  &vlDummy, 1, vb.baseAddress, nn)
                }
            }
            try Lapack.check(info, routine) { "the QR algorithm failed; eigenvalues \($0 + 1)…\(n) did not converge" }
        }
        var values = [Complex<Double>](repeating: .zero, count: n)
        var vectors = ComplexColumnMajorMatrix(rows: n, columns: n)
        var j = 0
        while j < n {
            values[j] = Complex(wr[j], wi[j])
            if wi[j] != 0 && j + 1 < n {
                // LAPACK stores the pair's eigenvector as Re in column j and Im in column j + 1.
                values[j + 1] = Complex(wr[j + 1], wi[j + 1])
                for i in 0..<n {
                    vectors[i, j] = Complex(vr[i, j], vr[i, j + 1])
                    vectors[i, j + 1] = Complex(vr[i, j], -vr[i, j + 1])
                }
                j += 2
            } else {
                for i in 0..<n { vectors[i, j] = Complex(vr[i, j]) }
                j += 1
            }
        }
        eigenvalues = values
        eigenvectors = vectors
    }
}
