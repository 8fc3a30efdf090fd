import _LinearAlgebraShims

extension Lapack {
    /// The Cholesky factorization A = L Lᵀ of a symmetric positive definite n × n matrix, in place
    /// (LAPACK dpotrf). `matrix` is row-major with leading dimension `leadingDimension`; only its
    /// lower triangle is read. On success the lower triangle holds L and the strict upper triangle
    /// is set to zero, so the buffer *is* L (row-major); the return value is `true`.
    /// If A is not (numerically) positive definite the return value is `false` and the buffer holds
    /// a partial factorization: the caller must refill it before trying again (e.g. with jitter).
    ///
    /// A row-major lower triangle is LAPACK's column-major upper triangle of the same storage, so
    /// dpotrf runs with uplo = "U" on the buffer as it is (no transposition, no copy).
    /// Cost n³/3 flops.
    public static func choleskyInPlace(order n: Int, matrix: UnsafeMutablePointer<Double>, leadingDimension: Int) throws -> Bool {
        let routine = "dpotrf"
        guard n >= 0, leadingDimension >= max(1, n) else {
            throw LapackError.invalidShape(routine: routine, message: "an \(n) × \(n) matrix with leading dimension \(leadingDimension)")
        }
        if n == 0 { return true }
        let nn = try int(n, routine), lda = try int(leadingDimension, routine)
        let info = LAPACKE_dpotrf_work(columnMajor, char("U"), nn, matrix, lda)
        if info < 0 { throw LapackError.illegalArgument(routine: routine, position: Int(-info)) }
        if info > 0 { return false }
        for i in 0..<n {
            for j in (i + 1)..<n { matrix[i * leadingDimension + j] = 0 }
        }
        return true
    }

    /// Solves (L Lᵀ) X = B in place for B n × columns (row-major), with L the row-major lower
    /// Cholesky factor from `choleskyInPlace`: two triangular solves (dtrsm), 2n²·columns flops.
    public static func choleskySolveInPlace(order n: Int, factor: UnsafePointer<Double>, leadingDimension: Int,
                                            rightHandSides b: UnsafeMutablePointer<Double>, columns: Int, bLeadingDimension: Int) {
        Double.trsm(lower: true, .none, m: n, n: columns, alpha: 1, a: factor, lda: leadingDimension, b: b, ldb: bLeadingDimension)
        Double.trsm(lower: true, .transpose, m: n, n: columns, alpha: 1, a: factor, lda: leadingDimension, b: b, ldb: bLeadingDimension)
    }

    /// (L Lᵀ)⁻¹ from the row-major lower Cholesky factor L (LAPACK dpotri), written as a full
    /// symmetric row-major n × n matrix into `inverse` (leading dimension n). Cost 2n³/3 flops.
    public static func choleskyInverse(order n: Int, factor: UnsafePointer<Double>, leadingDimension: Int,
                                       inverse: UnsafeMutablePointer<Double>) throws {
        let routine = "dpotri"
        guard n >= 0, leadingDimension >= max(1, n) else {
            throw LapackError.invalidShape(routine: routine, message: "an \(n) × \(n) factor with leading dimension \(leadingDimension)")
        }
        if n == 0 { return }
        for i in 0..<n { (inverse + i * n).update(from: factor + i * leadingDimension, count: n) }
        let nn = try int(n, routine)
        // Row-major lower = column-major upper (see `choleskyInPlace`).
        let info = LAPACKE_dpotri_work(columnMajor, char("U"), nn, inverse, nn)
        try check(info, routine) { "diagonal entry \($0) of the factor is zero: the matrix is singular" }
        for i in 0..<n {
            for j in 0..<i { inverse[j * n + i] = inverse[i * n + j] }
        }
    }
}
