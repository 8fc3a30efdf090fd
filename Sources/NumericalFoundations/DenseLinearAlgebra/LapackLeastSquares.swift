import _LinearAlgebraShims
import Numerics

/// The minimum-norm least-squares solution of A X ≈ B (LAPACK dgelsd: SVD-based, so it is
/// well defined for rank-deficient A). Singular values of A below `relativeCutoff · σ_max` are
/// treated as zero; `rank` is the effective rank that resulted.
public struct LeastSquaresSolution: Sendable {
    /// columns(A) × columns(B).
    public let solution: ColumnMajorMatrix
    public let rank: Int
    /// Singular values of A, descending.
    public let singularValues: [Double]
}

extension Lapack {
    /// Minimises ‖A x_j − b_j‖₂ for every column j of B; `relativeCutoff` < 0 means machine precision.
    public static func leastSquares(_ a: ColumnMajorMatrix, _ b: ColumnMajorMatrix, relativeCutoff: Double = -1) throws -> LeastSquaresSolution {
        let routine = "dgelsd"
        guard a.rows == b.rows else {
            throw LapackError.invalidShape(routine: routine, message: "A has \(a.rows) rows but B has \(b.rows)")
        }
        guard relativeCutoff.isFinite else {
            throw LapackError.invalidShape(routine: routine, message: "the relative cutoff must be finite, got \(relativeCutoff)")
        }
        try requireFinite(a, routine)
        try requireFinite(b, routine)
        let rows = a.rows, columns = a.columns, rhs = b.columns
        let k = min(rows, columns)
        if rows == 0 || columns == 0 || rhs == 0 {
            return LeastSquaresSolution(solution: ColumnMajorMatrix(rows: columns, columns: rhs), rank: 0, singularValues: [])
        }
        let ldb = max(rows, columns)
        // dgelsd overwrites B (ldb × nrhs, ldb ≥ max(rows, columns)) with the solution in its first `columns` rows.
        var work = ColumnMajorMatrix(rows: ldb, columns: rhs)
        for j in 0..<rhs { for i in 0..<rows { work[i, j] = b[i, j] } }
        var aCopy = a
        var s = [Double](repeating: 0, count: k)
        var rank: lapack_int = 0
        let m = try int(rows, routine), n = try int(columns, routine), nrhs = try int(rhs, routine), ldbi = try int(ldb, routine)
        let info = aCopy.withUnsafeMutableBufferPointer { ab in
            work.withUnsafeMutableBufferPointer { bb in
                LAPACKE_dgelsd(columnMajor, m, n, nrhs, ab.baseAddress, m, bb.baseAddress, ldbi, &s, relativeCutoff, &rank)
            }
        }
        try check(info, routine) { "\($0) off-diagonal elements of an intermediate bidiagonal form did not converge to zero" }
        return LeastSquaresSolution(solution: work.submatrix(rows: 0..<columns, columns: 0..<rhs), rank: Int(rank), singularValues: s)
    }

    /// Minimum-norm complex least squares min ‖A x − b‖₂ for complex A and b, solved as the real
    /// problem [Re A  −Im A; Im A  Re A] [Re x; Im x] ≈ [Re b; Im b] (same solution set, each
    /// singular value of A appearing twice), which avoids LAPACK's C99 complex type in Swift.
    public static func leastSquares(_ a: ComplexColumnMajorMatrix, _ b: [Complex<Double>], relativeCutoff: Double = -1) throws -> (solution: [Complex<Double>], rank: Int) {
        guard a.rows == b.count else {
            throw LapackError.invalidShape(routine: "dgelsd", message: "A has \(a.rows) rows but b has \(b.count) entries")
        }
        let rows = a.rows, columns = a.columns
        var embedded = ColumnMajorMatrix(rows: 2 * rows, columns: 2 * columns)
        for j in 0..<columns {
            for i in 0..<rows {
                let z = a[i, j]
                embedded[i, j] = z.real
                embedded[i, j + columns] = -z.imaginary
                embedded[i + rows, j] = z.imaginary
                embedded[i + rows, j + columns] = z.real
            }
        }
        var right = ColumnMajorMatrix(rows: 2 * rows, columns: 1)
        for i in 0..<rows {
            right[i, 0] = b[i].real
            right[i + rows, 0] = b[i].imaginary
        }
        let result = try leastSquares(embedded, right, relativeCutoff: relativeCutoff)
        let x = (0..<columns).map { Complex(result.solution[$0, 0], result.solution[$0 + columns, 0]) }
        // Each complex singular value appears twice in the embedding.
        return (x, result.rank / 2)
    }
}
