import XCTest
import _LinearAlgebraShims
@testable import NumericalFoundations

/// The blocked tall-skinny QR against LAPACK's dgeqrf on the whole matrix and against the
/// defining identities A = Q R, QᵀQ = I. Norms are O(1) and sizes ≤ 10⁴ × 7, so rounding stays
/// below a few hundred ε: 1e-13.
final class LapackTallSkinnyQRTests: XCTestCase {
    func sample(_ rows: Int, _ columns: Int) -> ColumnMajorMatrix {
        var a = ColumnMajorMatrix(rows: rows, columns: columns)
        for j in 0..<columns { for i in 0..<rows { a[i, j] = sin(0.37 * Double(i) * Double(j + 1) + Double(j)) + 0.1 * cos(Double(i * i % 97)) } }
        return a
    }

    func check(rows: Int, columns: Int, blockRows: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let a = sample(rows, columns)
        var factors = a
        let qr = try factors.withUnsafeMutableBufferPointer { f in
            try TallSkinnyQR(factoringInPlace: f.baseAddress!, rows: rows, columns: columns, leadingDimension: rows, blockRows: blockRows)
        }
        let k = min(rows, columns)
        XCTAssertEqual(qr.r.rows, k, file: file, line: line)
        // R is unique up to the sign of each row: compare with LAPACK's R of the whole matrix.
        let reference = try HouseholderQR(a).r
        for i in 0..<k {
            let sign: Double = (qr.r[i, i] >= 0) == (reference[i, i] >= 0) ? 1 : -1
            for j in 0..<columns { XCTAssertEqual(qr.r[i, j], sign * reference[i, j], accuracy: 1e-13 * Double(rows).squareRoot(), file: file, line: line) }
        }
        // Q's columns Q e_j, formed one at a time through applyQ.
        var q = ColumnMajorMatrix(rows: rows, columns: k)
        try factors.withUnsafeBufferPointer { f in
            try q.withUnsafeMutableBufferPointer { qb in
                for j in 0..<k {
                    var unit = [Double](repeating: 0, count: k)
                    unit[j] = 1
                    try qr.applyQ(to: unit, factors: f.baseAddress!, into: qb.baseAddress! + j * rows)
                }
            }
        }
        let gram = try q.multiplied(by: q, transposingSelf: true)
        for i in 0..<k { for j in 0..<k { XCTAssertEqual(gram[i, j], i == j ? 1 : 0, accuracy: 1e-13, file: file, line: line) } }
        let qrProduct = try q.multiplied(by: qr.r)
        let scale = a.frobeniusNorm
        XCTAssertLessThan(zip(qrProduct.storage, a.storage).map { abs($0 - $1) }.max()! / scale, 1e-13, file: file, line: line)
        // Qᵀ a_j = r_j.
        try factors.withUnsafeBufferPointer { f in
            for j in 0..<columns {
                let projected = try qr.applyQTransposed(to: a.column(j), factors: f.baseAddress!)
                for i in 0..<k { XCTAssertEqual(projected[i], qr.r[i, j], accuracy: 1e-13 * scale, file: file, line: line) }
            }
        }
    }

    func testManyBlocksMatchLapackAndDefiningIdentities() throws {
        try check(rows: 10_000, columns: 7, blockRows: 500)  // 20 equal blocks
        try check(rows: 10_003, columns: 7, blockRows: 500)  // last block of 3 rows joins the one before
        try check(rows: 10_010, columns: 7, blockRows: 500)  // last block of 10 rows stands alone
    }

    func testSingleBlockAndWideMatrices() throws {
        try check(rows: 300, columns: 7, blockRows: 1000)
        try check(rows: 5, columns: 9, blockRows: 2)  // wider than tall: one block, k = 5
        try check(rows: 40, columns: 1, blockRows: 7)
    }

    func testConcurrentAndSequentialFactorizationsAreIdentical() throws {
        let a = sample(20_000, 14)
        var concurrent = a, sequential = a
        let one = try concurrent.withUnsafeMutableBufferPointer {
            try TallSkinnyQR(factoringInPlace: $0.baseAddress!, rows: 20_000, columns: 14, leadingDimension: 20_000, concurrent: true)
        }
        let two = try sequential.withUnsafeMutableBufferPointer {
            try TallSkinnyQR(factoringInPlace: $0.baseAddress!, rows: 20_000, columns: 14, leadingDimension: 20_000, concurrent: false)
        }
        XCTAssertGreaterThan(one.blockCount, 1)
        XCTAssertEqual(one.r, two.r)
        XCTAssertEqual(concurrent, sequential)
    }

    func testBadArgumentsAreErrors() throws {
        var a = sample(10, 3)
        XCTAssertThrowsError(try a.withUnsafeMutableBufferPointer {
            try TallSkinnyQR(factoringInPlace: $0.baseAddress!, rows: 10, columns: 3, leadingDimension: 5)
        })
        let qr = try a.withUnsafeMutableBufferPointer {
            try TallSkinnyQR(factoringInPlace: $0.baseAddress!, rows: 10, columns: 3, leadingDimension: 10)
        }
        var out = [Double](repeating: 0, count: 10)
        try a.withUnsafeBufferPointer { f in
            XCTAssertThrowsError(try out.withUnsafeMutableBufferPointer { try qr.applyQ(to: [1, 2], factors: f.baseAddress!, into: $0.baseAddress!) })
            XCTAssertThrowsError(try qr.applyQTransposed(to: [1, 2, 3], factors: f.baseAddress!))
        }
    }
}

import Dispatch

/// The process-wide OpenBLAS thread limit: nested and concurrent regions restore the count once.
final class LapackThreadingTests: XCTestCase {
    func testSingleThreadedRegionsNestAndRestore() {
        let before = openblas_get_num_threads()
        Lapack.withSingleThreadedBLAS {
            XCTAssertEqual(openblas_get_num_threads(), 1)
            Lapack.withSingleThreadedBLAS { XCTAssertEqual(openblas_get_num_threads(), 1) }
            XCTAssertEqual(openblas_get_num_threads(), 1, "the inner region must not restore while the outer one runs")
        }
        XCTAssertEqual(openblas_get_num_threads(), before)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            Lapack.withSingleThreadedBLAS { XCTAssertEqual(openblas_get_num_threads(), 1) }
        }
        XCTAssertEqual(openblas_get_num_threads(), before)
    }
}
