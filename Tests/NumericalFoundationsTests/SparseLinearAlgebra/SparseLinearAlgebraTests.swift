import Dispatch
import XCTest
@testable import NumericalFoundations

/// A small deterministic generator so the tests do not depend on the Sampling module.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}

/// The matrix of −Δ + b·∇ + σ on an m × m grid by finite differences (5-point stencil, upwinded
/// convection): nonsymmetric, diagonally dominant, the kind of matrix the FE code produces.
func convectionDiffusionMatrix(m: Int, convection: Double, reaction: Double) throws -> CSCMatrix {
    let n = m * m
    var entries: [(row: Int, column: Int, value: Double)] = []
    let h = 1.0 / Double(m + 1)
    for j in 0..<m {
        for i in 0..<m {
            let row = j * m + i
            entries.append((row, row, 4 / (h * h) + convection / h + reaction))
            if i > 0 { entries.append((row, row - 1, -1 / (h * h) - convection / h)) }
            if i < m - 1 { entries.append((row, row + 1, -1 / (h * h))) }
            if j > 0 { entries.append((row, row - m, -1 / (h * h))) }
            if j < m - 1 { entries.append((row, row + m, -1 / (h * h))) }
        }
    }
    let pattern = try CSCPattern(dimension: n, entries: entries.map { ($0.row, $0.column) })
    var matrix = CSCMatrix(pattern: pattern)
    for e in entries { try matrix.add(e.value, row: e.row, column: e.column) }
    return matrix
}

final class CSCPatternTests: XCTestCase {
    func testPatternSortsDeduplicatesAndBuildsTheTransposeMap() throws {
        let pattern = try CSCPattern(dimension: 3, entries: [(2, 0), (0, 0), (2, 0), (1, 1), (0, 2), (2, 2), (0, 2)])
        XCTAssertEqual(pattern.columnStarts, [0, 2, 3, 5])
        XCTAssertEqual(pattern.rowIndices, [0, 2, 1, 0, 2])
        // Row 0 holds slots 0 (column 0) and 3 (column 2); row 2 holds slots 1 and 4.
        XCTAssertEqual(Array(pattern.rowSlots[pattern.rowSlotStarts[0]..<pattern.rowSlotStarts[1]]), [0, 3])
        XCTAssertEqual(Array(pattern.rowSlots[pattern.rowSlotStarts[2]..<pattern.rowSlotStarts[3]]), [1, 4])
        XCTAssertEqual(pattern.slot(row: 2, column: 2), 4)
        XCTAssertNil(pattern.slot(row: 1, column: 0))
        XCTAssertEqual(pattern.columnOfSlots(), [0, 0, 1, 2, 2])
    }

    func testMalformedPatternsAreRejectedWithAReason() {
        XCTAssertThrowsError(try CSCPattern(dimension: 2, entries: [(2, 0)])) { error in
            XCTAssertTrue("\(error)".contains("row index 2 in column 0"), "\(error)")
        }
        XCTAssertThrowsError(try CSCPattern(dimension: 2, columnStarts: [0, 2, 2], rowIndices: [1, 0]))
        XCTAssertThrowsError(try CSCPattern(dimension: 0, entries: []))
    }

    func testMultiplyMatchesADenseProduct() throws {
        var random = SplitMix64(state: 7)
        let matrix = try convectionDiffusionMatrix(m: 6, convection: 3, reaction: 1)
        let n = matrix.dimension
        var dense = [Double](repeating: 0, count: n * n)
        for column in 0..<n {
            for p in matrix.pattern.columnStarts[column]..<matrix.pattern.columnStarts[column + 1] {
                dense[matrix.pattern.rowIndices[p] * n + column] = matrix.values[p]
            }
        }
        let x = (0..<n).map { _ in random.uniform() - 0.5 }
        let y = try matrix.multiply(x)
        for i in 0..<n {
            let expected = (0..<n).reduce(0.0) { $0 + dense[i * n + $1] * x[$1] }
            // Same products summed in another order: agreement to a few ulps of the row's magnitude.
            XCTAssertEqual(y[i], expected, accuracy: 1e-12 * 4 * 49 * 2)
        }
    }

    func testSetRowToIdentityClearsTheWholeRow() throws {
        var matrix = try convectionDiffusionMatrix(m: 3, convection: 1, reaction: 0)
        try matrix.setRowToIdentity(4)
        for column in 0..<9 { XCTAssertEqual(matrix.entry(row: 4, column: column), column == 4 ? 1 : 0) }
        XCTAssertNotEqual(matrix.entry(row: 1, column: 4), 0, "column entries of other rows stay")
    }
}

final class UMFPACKTests: XCTestCase {
    func testSolveResidualIsBelow1e12AndRecoversAKnownSolution() throws {
        var random = SplitMix64(state: 11)
        let matrix = try convectionDiffusionMatrix(m: 30, convection: 50, reaction: 2)
        let exact = (0..<matrix.dimension).map { _ in random.uniform() - 0.5 }
        let b = try matrix.multiply(exact)
        let symbolic = try UMFPACKSymbolicAnalysis(pattern: matrix.pattern)
        let lu = UMFPACKFactorization(symbolic: symbolic)
        try lu.factorize(matrix)
        let x = try lu.solve(b)
        // A backward-stable LU with iterative refinement leaves a residual at round-off level (~1e-16);
        // 1e-12 is the specified acceptance bound.
        let residual = try matrix.relativeResidual(solution: x, rightHandSide: b)
        XCTAssertLessThan(residual, 1e-12)
        // Forward error ≤ cond(A) · residual; this matrix has cond ≈ 1e3, so 1e-10 is generous.
        let error = zip(x, exact).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(error, 1e-10)
        XCTAssertGreaterThan(lu.statistics!.factorNonzeros, Double(matrix.pattern.nonzeroCount) * 0.9)
    }

    func testOneSymbolicAnalysisServesManyMatricesOnTwoThreads() throws {
        let base = try convectionDiffusionMatrix(m: 25, convection: 10, reaction: 0)
        let symbolic = try UMFPACKSymbolicAnalysis(pattern: base.pattern)
        let count = 8
        var residuals = [Double](repeating: .nan, count: count)
        var failures = [String?](repeating: nil, count: count)
        residuals.withUnsafeMutableBufferPointer { residualBuffer in
            failures.withUnsafeMutableBufferPointer { failureBuffer in
                DispatchQueue.concurrentPerform(iterations: 2) { thread in
                    let lu = UMFPACKFactorization(symbolic: symbolic)  // one per thread
                    for k in stride(from: thread, to: count, by: 2) {
                        do {
                            // Scale the convection part differently per matrix: same pattern, new values.
                            var matrix = try convectionDiffusionMatrix(m: 25, convection: 10 * Double(k + 1), reaction: Double(k))
                            matrix = try CSCMatrix(pattern: base.pattern, values: matrix.values)
                            let b = [Double](repeating: 1, count: matrix.dimension)
                            try lu.factorize(matrix)
                            residualBuffer[k] = try matrix.relativeResidual(solution: lu.solve(b), rightHandSide: b)
                        } catch {
                            failureBuffer[k] = "\(error)"
                        }
                    }
                }
            }
        }
        XCTAssertEqual(failures.compactMap { $0 }, [])
        for r in residuals { XCTAssertLessThan(r, 1e-12) }
    }

    func testSingularMatrixGivesTheSingularError() throws {
        // Rows 0 and 1 are equal: rank 2 of 3.
        let pattern = try CSCPattern(dimension: 3, entries: [(0, 0), (1, 0), (0, 1), (1, 1), (2, 2)])
        let matrix = try CSCMatrix(pattern: pattern, values: [1, 1, 2, 2, 5])
        let lu = UMFPACKFactorization(symbolic: try UMFPACKSymbolicAnalysis(pattern: pattern))
        XCTAssertThrowsError(try lu.factorize(matrix)) { error in
            XCTAssertEqual(error as? UMFPACKError, .singularMatrix)
            XCTAssertTrue("\(error)".contains("singular"))
        }
        XCTAssertFalse(lu.isFactorized)
        XCTAssertThrowsError(try lu.solve([1, 1, 1])) { XCTAssertEqual($0 as? UMFPACKError, .notFactorized) }
    }

    func testLengthMismatchesAreReported() throws {
        let matrix = try convectionDiffusionMatrix(m: 3, convection: 0, reaction: 0)
        let lu = UMFPACKFactorization(symbolic: try UMFPACKSymbolicAnalysis(pattern: matrix.pattern))
        XCTAssertThrowsError(try lu.factorize(values: [1, 2])) { error in
            XCTAssertEqual(error as? UMFPACKError, .dimensionMismatch(expected: matrix.pattern.nonzeroCount, actual: 2, what: "matrix values"))
        }
        try lu.factorize(matrix)
        XCTAssertThrowsError(try lu.solve([1])) { XCTAssertTrue("\($0)".contains("right-hand side has length 1, expected 9")) }
        let other = try convectionDiffusionMatrix(m: 2, convection: 0, reaction: 0)
        XCTAssertThrowsError(try lu.factorize(other)) { XCTAssertEqual($0 as? UMFPACKError, .differentPattern) }
    }

    func testBLASThreadCountCanBeSet() throws {
        let before = BLASThreads.current
        BLASThreads.set(1)
        XCTAssertEqual(BLASThreads.current, 1)
        BLASThreads.set(before)
        XCTAssertEqual(BLASThreads.current, before)
    }
}
