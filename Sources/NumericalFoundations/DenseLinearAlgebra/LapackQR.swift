import _LinearAlgebraShims

extension Lapack {
    /// Householder QR in place (LAPACK dgeqrf): on return the upper triangle of the leading
    /// min(rows, columns) × columns block holds R, the part below the diagonal holds the Householder
    /// vectors, and `tau` (min(rows, columns) values) their scalar factors; A = Q R with
    /// Q = H_1 H_2 ⋯ H_k. Cost 2·rows·columns² − ⅔columns³ flops for rows ≥ columns; Q is never formed.
    ///
    /// The caller guarantees that `matrix` points to `leadingDimension · columns` finite values
    /// and `tau` to min(rows, columns) writable values.
    public static func householderQRInPlace(rows: Int, columns: Int, matrix: UnsafeMutablePointer<Double>, leadingDimension: Int,
                                            tau: UnsafeMutablePointer<Double>) throws {
        let routine = "dgeqrf"
        guard rows >= 0, columns >= 0, leadingDimension >= max(1, rows) else {
            throw LapackError.invalidShape(routine: routine, message: "a \(rows) × \(columns) matrix with leading dimension \(leadingDimension)")
        }
        if rows == 0 || columns == 0 { return }
        let m = try int(rows, routine), n = try int(columns, routine), lda = try int(leadingDimension, routine)
        var query = 0.0
        // The _work variants skip LAPACKE's own O(size) NaN scan and let us size the workspace once.
        try check(LAPACKE_dgeqrf_work(columnMajor, m, n, matrix, lda, tau, &query, -1), routine) { _ in "workspace query failed" }
        var work = [Double](repeating: 0, count: max(1, Int(query)))
        let info = work.withUnsafeMutableBufferPointer { w in
            LAPACKE_dgeqrf_work(columnMajor, m, n, matrix, lda, tau, w.baseAddress, lapack_int(w.count))
        }
        try check(info, routine) { _ in "unexpected positive info" }
    }

    /// C ← Q·C or Qᵀ·C (LAPACK dormqr, from the left), where Q = H_1 ⋯ H_k is stored as
    /// `reflectorCount` Householder vectors below the diagonal of `reflectors` (the output of
    /// `householderQRInPlace`). C is `reflectorRows` × `cColumns` with leading dimension `cLeadingDimension`.
    /// Cost 4·reflectorRows·reflectorCount·cColumns flops; Q is never formed.
    public static func applyHouseholderQ(transposed: Bool, reflectorRows: Int, reflectorCount: Int,
                                         reflectors: UnsafePointer<Double>, leadingDimension: Int, tau: UnsafePointer<Double>,
                                         to c: UnsafeMutablePointer<Double>, cColumns: Int, cLeadingDimension: Int) throws {
        let routine = "dormqr"
        guard reflectorRows >= 0, reflectorCount >= 0, reflectorCount <= reflectorRows, cColumns >= 0,
              leadingDimension >= max(1, reflectorRows), cLeadingDimension >= max(1, reflectorRows) else {
            throw LapackError.invalidShape(routine: routine, message: "\(reflectorCount) reflectors of length \(reflectorRows) (lda \(leadingDimension)) applied to \(cColumns) columns (ldc \(cLeadingDimension))")
        }
        if reflectorRows == 0 || cColumns == 0 || reflectorCount == 0 { return }
        let m = try int(reflectorRows, routine), n = try int(cColumns, routine), k = try int(reflectorCount, routine)
        let lda = try int(leadingDimension, routine), ldc = try int(cLeadingDimension, routine)
        let trans = char(transposed ? "T" : "N")
        var query = 0.0
        try check(LAPACKE_dormqr_work(columnMajor, char("L"), trans, m, n, k, reflectors, lda, tau, c, ldc, &query, -1), routine) { _ in "workspace query failed" }
        var work = [Double](repeating: 0, count: max(1, Int(query)))
        let info = work.withUnsafeMutableBufferPointer { w in
            LAPACKE_dormqr_work(columnMajor, char("L"), trans, m, n, k, reflectors, lda, tau, c, ldc, w.baseAddress, lapack_int(w.count))
        }
        try check(info, routine) { _ in "unexpected positive info" }
    }
}

/// The Householder QR factorization A = Q R of a `ColumnMajorMatrix` (dgeqrf), with Q kept in
/// factored form. `r` is min(rows, columns) × columns; `thinQ()` forms the rows × min(rows, columns)
/// orthonormal factor (dorgqr) and `applyQ` multiplies by Q or Qᵀ without forming it (dormqr).
public struct HouseholderQR: Sendable {
    /// R above the diagonal, Householder vectors below it (LAPACK's compact form).
    public let factors: ColumnMajorMatrix
    /// The Householder scalars τ_i, min(rows, columns) of them.
    public let tau: [Double]

    public init(_ a: ColumnMajorMatrix) throws {
        try Lapack.requireFinite(a, "dgeqrf")
        var f = a
        var t = [Double](repeating: 0, count: min(a.rows, a.columns))
        try f.withUnsafeMutableBufferPointer { fa in
            try t.withUnsafeMutableBufferPointer { ta in
                guard let base = fa.baseAddress, let tb = ta.baseAddress else { return }
                try Lapack.householderQRInPlace(rows: a.rows, columns: a.columns, matrix: base, leadingDimension: max(1, a.rows), tau: tb)
            }
        }
        factors = f
        tau = t
    }

    public var rows: Int { factors.rows }
    public var columns: Int { factors.columns }

    /// The upper-triangular (trapezoidal) factor, min(rows, columns) × columns.
    public var r: ColumnMajorMatrix {
        let k = min(rows, columns)
        var result = ColumnMajorMatrix(rows: k, columns: columns)
        for j in 0..<columns {
            for i in 0..<min(j + 1, k) { result[i, j] = factors[i, j] }
        }
        return result
    }

    /// The rows × min(rows, columns) factor Q with orthonormal columns (dorgqr).
    public func thinQ() throws -> ColumnMajorMatrix {
        let routine = "dorgqr"
        let k = min(rows, columns)
        var q = factors.submatrix(rows: 0..<rows, columns: 0..<k)
        if rows == 0 || k == 0 { return q }
        let m = try Lapack.int(rows, routine), n = try Lapack.int(k, routine)
        let info = q.withUnsafeMutableBufferPointer { qa in
            tau.withUnsafeBufferPointer { ta in
                LAPACKE_dorgqr(Lapack.columnMajor, m, n, n, qa.baseAddress, m, ta.baseAddress)
            }
        }
        try Lapack.check(info, routine) { _ in "unexpected positive info" }
        return q
    }

    /// Q·C (or Qᵀ·C when `transposed`), C having `rows` rows; Q is the full rows × rows orthogonal
    /// factor applied implicitly.
    public func applyQ(to c: ColumnMajorMatrix, transposed: Bool = false) throws -> ColumnMajorMatrix {
        guard c.rows == rows else {
            throw LapackError.invalidShape(routine: "dormqr", message: "Q is \(rows) × \(rows) but C has \(c.rows) rows")
        }
        try Lapack.requireFinite(c, "dormqr")
        var result = c
        try result.withUnsafeMutableBufferPointer { ca in
            try factors.withUnsafeBufferPointer { fa in
                try tau.withUnsafeBufferPointer { ta in
                    guard let cb = ca.baseAddress, let fb = fa.baseAddress, let tb = ta.baseAddress else { return }
                    try Lapack.applyHouseholderQ(transposed: transposed, reflectorRows: rows, reflectorCount: tau.count,
                                                 reflectors: fb, leadingDimension: max(1, rows), tau: tb,
                                                 to: cb, cColumns: c.columns, cLeadingDimension: max(1, rows))
                }
            }
        }
        return result
    }
}
