import _LinearAlgebraShims

/// The thin singular value decomposition A = U Σ Vᵀ of a rows × columns matrix, k = min(rows, columns):
/// `u` is rows × k with orthonormal columns, `singularValues` the k values σ_0 ≥ σ_1 ≥ … ≥ 0,
/// `vt` is k × columns with orthonormal rows.
///
/// Computed with LAPACK dgesdd (divide and conquer); should it fail to converge, dgesvd (QR
/// iteration) is tried before an error is reported. Both are backward stable: the computed factors
/// are exact for A + E with ‖E‖₂ ≈ ε‖A‖₂, so σ_i carries an absolute error ≈ ε σ_0.
public struct SingularValueDecomposition: Sendable {
    public let u: ColumnMajorMatrix
    public let singularValues: [Double]
    public let vt: ColumnMajorMatrix

    public init(_ a: ColumnMajorMatrix) throws {
        try Lapack.requireFinite(a, "dgesdd")
        let rows = a.rows, columns = a.columns, k = min(rows, columns)
        if k == 0 {
            u = ColumnMajorMatrix(rows: rows, columns: 0)
            singularValues = []
            vt = ColumnMajorMatrix(rows: 0, columns: columns)
            return
        }
        let m = try Lapack.int(rows, "dgesdd"), n = try Lapack.int(columns, "dgesdd"), kk = try Lapack.int(k, "dgesdd")
        var uu = ColumnMajorMatrix(rows: rows, columns: k)
        var vv = ColumnMajorMatrix(rows: k, columns: columns)
        var s = [Double](repeating: 0, count: k)
        var work = a
        var info = work.withUnsafeMutableBufferPointer { w in
            uu.withUnsafeMutableBufferPointer { ub in
                vv.withUnsafeMutableBufferPointer { vb in
                    LAPACKE_dgesdd(Lapack.columnMajor, Lapack.char("S"), m, n, w.baseAddress, m, &s, ub.baseAddress, m, vb.baseAddress, kk)
                }
            }
        }
        if info > 0 {
            // Divide and conquer did not converge: fall back to the QR-iteration SVD on a fresh copy.
            work = a
            var superb = [Double](repeating: 0, count: max(1, k - 1))
            info = work.withUnsafeMutableBufferPointer { w in
                uu.withUnsafeMutableBufferPointer { ub in
                    vv.withUnsafeMutableBufferPointer { vb in
                        LAPACKE_dgesvd(Lapack.columnMajor, Lapack.char("S"), Lapack.char("S"), m, n, w.baseAddress, m, &s,
                                       ub.baseAddress, m, vb.baseAddress, kk, &superb)
                    }
                }
            }
            try Lapack.check(info, "dgesvd") { "\($0) superdiagonals of the bidiagonal form did not converge to zero" }
        } else {
            try Lapack.check(info, "dgesdd") { _ in "unexpected" }
        }
        u = uu
        singularValues = s
        vt = vv
    }
}
