import XCTest
@testable import NumericalFoundations

/// The BLAS wrappers against naive loops. Entries are small integers, so every product and partial
/// sum is an integer below 2^24 and exactly representable in Float and Double: the results must be
/// *equal*, whatever order OpenBLAS sums in. Leading dimensions are larger than the rows they hold,
/// so a wrapper that mixed up rows, columns or strides would read the padding and fail.
final class BLASTests: XCTestCase {
    /// Deterministic small integers in -4...4 (a linear congruential sequence; no randomness needed).
    private func integers(_ count: Int, seed: Int) -> [Double] {
        var state = UInt64(seed) &* 6364136223846793005 &+ 1442695040888963407
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(Int((state >> 33) % 9) - 4)
        }
    }

    /// Element (i, j) of op(M) for a row-major M with leading dimension ld.
    private func element(_ m: [Double], _ ld: Int, _ trans: BLASTranspose, _ i: Int, _ j: Int) -> Double {
        trans == .none ? m[i * ld + j] : m[j * ld + i]
    }

    private func checkGEMM<T: BLASScalar>(_ type: T.Type) {
        let (m, n, k) = (5, 7, 3)
        let pad = 2
        for transA in [BLASTranspose.none, .transpose] {
            for transB in [BLASTranspose.none, .transpose] {
                // Stored shapes: A is m×k or k×m; B is k×n or n×k; rows padded by `pad` columns.
                let aRows = transA == .none ? m : k, aCols = transA == .none ? k : m
                let bRows = transB == .none ? k : n, bCols = transB == .none ? n : k
                let lda = aCols + pad, ldb = bCols + pad, ldc = n + pad
                let a = integers(aRows * lda, seed: 1), b = integers(bRows * ldb, seed: 2), c0 = integers(m * ldc, seed: 3)
                let alpha = 2.0, beta = -3.0
                var expected = c0
                for i in 0..<m {
                    for j in 0..<n {
                        var s = 0.0
                        for p in 0..<k { s += element(a, lda, transA, i, p) * element(b, ldb, transB, p, j) }
                        expected[i * ldc + j] = alpha * s + beta * c0[i * ldc + j]
                    }
                }
                let aT = a.map { T($0) }, bT = b.map { T($0) }
                var cT = c0.map { T($0) }
                T.gemm(transA, transB, m: m, n: n, k: k, alpha: T(alpha), a: aT, lda: lda, b: bT, ldb: ldb,
                       beta: T(beta), c: &cT, ldc: ldc)
                // Exact: integer arithmetic below 2^24. The padding columns of C must be untouched.
                XCTAssertEqual(cT.map { Double($0) }, expected, "\(T.self) gemm \(transA) \(transB)")
            }
        }
    }

    func testGEMMMatchesNaiveProductForAllTranspositions() {
        checkGEMM(Float.self)
        checkGEMM(Double.self)
    }

    private func checkGEMV<T: BLASScalar>(_ type: T.Type) {
        let (m, n, lda) = (4, 6, 9)
        let a = integers(m * lda, seed: 4)
        for trans in [BLASTranspose.none, .transpose] {
            let xCount = trans == .none ? n : m, yCount = trans == .none ? m : n
            // Strided vectors: x uses every 2nd element, y every 3rd.
            let x = integers(2 * xCount, seed: 5), y0 = integers(3 * yCount, seed: 6)
            var expected = y0
            for i in 0..<yCount {
                var s = 0.0
                for j in 0..<xCount { s += (trans == .none ? a[i * lda + j] : a[j * lda + i]) * x[2 * j] }
                expected[3 * i] = 0.5 * s + 2 * y0[3 * i]
            }
            var y = y0.map { T($0) }
            T.gemv(trans, m: m, n: n, alpha: 0.5, a: a.map { T($0) }, lda: lda, x: x.map { T($0) }, incx: 2,
                   beta: 2, y: &y, incy: 3)
            XCTAssertEqual(y.map { Double($0) }, expected, "\(T.self) gemv \(trans)")
        }
    }

    func testGEMVMatchesNaiveProductWithStrides() {
        checkGEMV(Float.self)
        checkGEMV(Double.self)
    }

    private func checkLevel1<T: BLASScalar>(_ type: T.Type) {
        let x = integers(10, seed: 7), y0 = integers(10, seed: 8)
        let xT = x.map { T($0) }
        var y = y0.map { T($0) }
        T.axpy(count: 10, alpha: 3, x: xT, incx: 1, y: &y, incy: 1)
        XCTAssertEqual(y.map { Double($0) }, zip(x, y0).map { 3 * $0 + $1 })
        let d = T.dot(count: 5, x: xT, incx: 2, y: y0.map { T($0) }, incy: 2)
        XCTAssertEqual(Double(d), stride(from: 0, to: 10, by: 2).reduce(0.0) { $0 + x[$1] * y0[$1] })
        var z = xT
        T.scal(count: 10, alpha: -2, x: &z, incx: 1)
        XCTAssertEqual(z.map { Double($0) }, x.map { -2 * $0 })
    }

    func testLevel1Routines() {
        checkLevel1(Float.self)
        checkLevel1(Double.self)
    }

    func testEmptyProductsLeaveOutputAlone() {
        // k = 0: C ← β·C (the BLAS definition); m = 0: nothing at all.
        var c: [Float] = [1, 2, 3, 4]
        Float.gemm(.none, .none, m: 2, n: 2, k: 0, alpha: 1, a: [0], lda: 1, b: [0], ldb: 2, beta: 2, c: &c, ldc: 2)
        XCTAssertEqual(c, [2, 4, 6, 8])
        Float.gemm(.none, .none, m: 0, n: 2, k: 3, alpha: 1, a: [0], lda: 3, b: [0], ldb: 2, beta: 0, c: &c, ldc: 2)
        XCTAssertEqual(c, [2, 4, 6, 8])
    }

    func testThreadCountIsSettable() {
        let before = BLASThreads.current
        defer { BLASThreads.set(before) }
        BLASThreads.set(1)
        XCTAssertEqual(BLASThreads.current, 1)
        BLASThreads.set(0)  // clamped to 1, never 0
        XCTAssertEqual(BLASThreads.current, 1)
        XCTAssertFalse(BLASThreads.configuration.isEmpty)
    }
}
