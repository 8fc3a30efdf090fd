import _LinearAlgebraShims

/// Whether a BLAS operand is used as stored or transposed.
public enum BLASTranspose: Sendable {
    case none, transpose

    var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// A real scalar with OpenBLAS level-1/2/3 kernels: `Float` dispatches to the `s` routines, `Double`
/// to the `d` routines. Every matrix here is **row-major** (C order, as in `.npy` files and in the
/// network's batches: one sample per row); `ld*` is the distance in elements between two rows.
///
/// These are thin wrappers over pointers, not a matrix type: callers own the buffers (preallocated
/// work arrays, slices of a parameter buffer). Dimensions are checked with preconditions because a
/// wrong leading dimension is a programming error, never a property of user data.
public protocol BLASScalar: BinaryFloatingPoint, Sendable {
    /// C ← α·op(A)·op(B) + β·C with op(A) m×k, op(B) k×n, C m×n (row-major).
    static func gemm(_ transA: BLASTranspose, _ transB: BLASTranspose, m: Int, n: Int, k: Int,
                     alpha: Self, a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// y ← α·op(A)·x + β·y with A m×n (row-major); x has n (op = none) or m (transpose) elements.
    static func gemv(_ transA: BLASTranspose, m: Int, n: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
                     x: UnsafePointer<Self>, incx: Int, beta: Self, y: UnsafeMutablePointer<Self>, incy: Int)
    /// y ← α·x + y.
    static func axpy(count: Int, alpha: Self, x: UnsafePointer<Self>, incx: Int, y: UnsafeMutablePointer<Self>, incy: Int)
    /// xᵀy.
    static func dot(count: Int, x: UnsafePointer<Self>, incx: Int, y: UnsafePointer<Self>, incy: Int) -> Self
    /// x ← α·x.
    static func scal(count: Int, alpha: Self, x: UnsafeMutablePointer<Self>, incx: Int)
    /// B ← α·op(A)⁻¹·B with A m×m triangular (lower or upper as `lower`, non-unit diagonal) and
    /// B m×n (row-major; `?trsm` from the left).
    static func trsm(lower: Bool, _ transA: BLASTranspose, m: Int, n: Int, alpha: Self,
                     a: UnsafePointer<Self>, lda: Int, b: UnsafeMutablePointer<Self>, ldb: Int)
}

@inline(__always)
func checkTRSM(m: Int, n: Int, lda: Int, ldb: Int) {
    precondition(m >= 0 && n >= 0, "trsm: negative dimension m=\(m) n=\(n)")
    precondition(lda >= max(1, m), "trsm: lda=\(lda) too small for A \(m)×\(m)")
    precondition(ldb >= max(1, n), "trsm: ldb=\(ldb) too small for B \(m)×\(n)")
    precondition(max(m, n, lda, ldb) <= Int(Int32.max), "trsm: dimension exceeds the 32-bit BLAS interface")
}

/// Checks the row-major shape rules of `?gemm` (leading dimension at least the stored row length).
@inline(__always)
func checkGEMM(_ transA: BLASTranspose, _ transB: BLASTranspose, m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int) {
    precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative dimension m=\(m) n=\(n) k=\(k)")
    precondition(lda >= max(1, transA == .none ? k : m), "gemm: lda=\(lda) too small for op(A) \(m)×\(k)")
    precondition(ldb >= max(1, transB == .none ? n : k), "gemm: ldb=\(ldb) too small for op(B) \(k)×\(n)")
    precondition(ldc >= max(1, n), "gemm: ldc=\(ldc) too small for C \(m)×\(n)")
    precondition(max(m, n, k, lda, ldb, ldc) <= Int(Int32.max), "gemm: dimension exceeds the 32-bit BLAS interface")
}

@inline(__always)
func checkGEMV(m: Int, n: Int, lda: Int, incx: Int, incy: Int) {
    precondition(m >= 0 && n >= 0, "gemv: negative dimension m=\(m) n=\(n)")
    precondition(lda >= max(1, n), "gemv: lda=\(lda) too small for A \(m)×\(n)")
    precondition(incx != 0 && incy != 0, "gemv: zero increment")
    precondition(max(m, n, lda) <= Int(Int32.max), "gemv: dimension exceeds the 32-bit BLAS interface")
}

extension Float: BLASScalar {
    public static func gemm(_ transA: BLASTranspose, _ transB: BLASTranspose, m: Int, n: Int, k: Int,
                            alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        checkGEMM(transA, transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor, transA.cblas, transB.cblas, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    public static func gemv(_ transA: BLASTranspose, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                            x: UnsafePointer<Float>, incx: Int, beta: Float, y: UnsafeMutablePointer<Float>, incy: Int) {
        checkGEMV(m: m, n: n, lda: lda, incx: incx, incy: incy)
        if m == 0 || n == 0 { return }
        cblas_sgemv(CblasRowMajor, transA.cblas, Int32(m), Int32(n), alpha, a, Int32(lda), x, Int32(incx), beta, y, Int32(incy))
    }

    public static func axpy(count: Int, alpha: Float, x: UnsafePointer<Float>, incx: Int, y: UnsafeMutablePointer<Float>, incy: Int) {
        precondition(count >= 0 && count <= Int(Int32.max))
        cblas_saxpy(Int32(count), alpha, x, Int32(incx), y, Int32(incy))
    }

    public static func dot(count: Int, x: UnsafePointer<Float>, incx: Int, y: UnsafePointer<Float>, incy: Int) -> Float {
        precondition(count >= 0 && count <= Int(Int32.max))
        return cblas_sdot(Int32(count), x, Int32(incx), y, Int32(incy))
    }

    public static func scal(count: Int, alpha: Float, x: UnsafeMutablePointer<Float>, incx: Int) {
        precondition(count >= 0 && count <= Int(Int32.max))
        cblas_sscal(Int32(count), alpha, x, Int32(incx))
    }

    public static func trsm(lower: Bool, _ transA: BLASTranspose, m: Int, n: Int, alpha: Float,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafeMutablePointer<Float>, ldb: Int) {
        checkTRSM(m: m, n: n, lda: lda, ldb: ldb)
        if m == 0 || n == 0 { return }
        cblas_strsm(CblasRowMajor, CblasLeft, lower ? CblasLower : CblasUpper, transA.cblas, CblasNonUnit,
                    Int32(m), Int32(n), alpha, a, Int32(lda), b, Int32(ldb))
    }
}

extension Double: BLASScalar {
    public static func gemm(_ transA: BLASTranspose, _ transB: BLASTranspose, m: Int, n: Int, k: Int,
                            alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        checkGEMM(transA, transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
        if m == 0 || n == 0 { return }
        cblas_dgemm(CblasRowMajor, transA.cblas, transB.cblas, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    public static func gemv(_ transA: BLASTranspose, m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
                            x: UnsafePointer<Double>, incx: Int, beta: Double, y: UnsafeMutablePointer<Double>, incy: Int) {
        checkGEMV(m: m, n: n, lda: lda, incx: incx, incy: incy)
        if m == 0 || n == 0 { return }
        cblas_dgemv(CblasRowMajor, transA.cblas, Int32(m), Int32(n), alpha, a, Int32(lda), x, Int32(incx), beta, y, Int32(incy))
    }

    public static func axpy(count: Int, alpha: Double, x: UnsafePointer<Double>, incx: Int, y: UnsafeMutablePointer<Double>, incy: Int) {
        precondition(count >= 0 && count <= Int(Int32.max))
        cblas_daxpy(Int32(count), alpha, x, Int32(incx), y, Int32(incy))
    }

    public static func dot(count: Int, x: UnsafePointer<Double>, incx: Int, y: UnsafePointer<Double>, incy: Int) -> Double {
        precondition(count >= 0 && count <= Int(Int32.max))
        return cblas_ddot(Int32(count), x, Int32(incx), y, Int32(incy))
    }

    public static func scal(count: Int, alpha: Double, x: UnsafeMutablePointer<Double>, incx: Int) {
        precondition(count >= 0 && count <= Int(Int32.max))
        cblas_dscal(Int32(count), alpha, x, Int32(incx))
    }

    public static func trsm(lower: Bool, _ transA: BLASTranspose, m: Int, n: Int, alpha: Double,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafeMutablePointer<Double>, ldb: Int) {
        checkTRSM(m: m, n: n, lda: lda, ldb: ldb)
        if m == 0 || n == 0 { return }
        cblas_dtrsm(CblasRowMajor, CblasLeft, lower ? CblasLower : CblasUpper, transA.cblas, CblasNonUnit,
                    Int32(m), Int32(n), alpha, a, Int32(lda), b, Int32(ldb))
    }
}

/// OpenBLAS's worker-thread count. It is process-wide: the last caller wins.
public enum BLASThreads {
    /// Sets the number of threads OpenBLAS uses for the following calls (at least 1).
    public static func set(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, min(count, Int(Int32.max)))))
    }

    /// The number of threads OpenBLAS currently uses.
    public static var current: Int { Int(openblas_get_num_threads()) }

    /// The build description OpenBLAS reports (version, kernel, threading), for manifests and benchmarks.
    public static var configuration: String {
        guard let text = openblas_get_config() else { return "unknown" }
        return String(cString: text)
    }

    /// The CPU kernel family OpenBLAS selected at run time (e.g. "Zen", "Haswell").
    public static var coreName: String {
        guard let text = openblas_get_corename() else { return "unknown" }
        return String(cString: text)
    }

    /// The kernel as results depend on it: the core name and the build description (version, build
    /// options). Different kernels sum in different orders, so the same inputs give results that differ
    /// in the last bits; outputs that must be bit-identical (shards of one dataset, a resumed training)
    /// record this string and refuse to mix two of them.
    public static var kernel: String { "\(coreName) (\(configuration))" }
}
