/// A square sparse matrix: a shared `CSCPattern` plus one value per pattern slot. Assembly writes
/// into `values` through precomputed slots, so a matrix is re-filled without any allocation.
public struct CSCMatrix: Sendable {
    public let pattern: CSCPattern
    public var values: [Double]

    public var dimension: Int { pattern.dimension }

    public init(pattern: CSCPattern) {
        self.pattern = pattern
        values = [Double](repeating: 0, count: pattern.nonzeroCount)
    }

    public init(pattern: CSCPattern, values: [Double]) throws {
        guard values.count == pattern.nonzeroCount else {
            throw SparseMatrixError.dimensionMismatch(expected: pattern.nonzeroCount, actual: values.count, what: "values")
        }
        self.pattern = pattern
        self.values = values
    }

    /// Adds `value` to entry (row, column); a slow path (binary search) for tests and small setups.
    public mutating func add(_ value: Double, row: Int, column: Int) throws {
        guard let p = pattern.slot(row: row, column: column) else { throw SparseMatrixError.entryNotInPattern(row: row, column: column) }
        values[p] += value
    }

    public func entry(row: Int, column: Int) -> Double {
        guard let p = pattern.slot(row: row, column: column) else { return 0 }
        return values[p]
    }

    /// Replaces row `row` by the identity row (diagonal `diagonal`, every other stored entry 0):
    /// the Dirichlet condition x_row = b_row. The diagonal must be in the pattern.
    public mutating func setRowToIdentity(_ row: Int, diagonal: Double = 1) throws {
        guard let diagonalSlot = pattern.slot(row: row, column: row) else { throw SparseMatrixError.entryNotInPattern(row: row, column: row) }
        let starts = pattern.rowSlotStarts, slots = pattern.rowSlots
        values.withUnsafeMutableBufferPointer { v in
            for q in starts[row]..<starts[row + 1] { v[slots[q]] = 0 }
            v[diagonalSlot] = diagonal
        }
    }

    /// y = A x (overwrites y). Both lengths must equal the dimension.
    public func multiply(_ x: [Double], into y: inout [Double]) throws {
        guard x.count == dimension else { throw SparseMatrixError.dimensionMismatch(expected: dimension, actual: x.count, what: "x") }
        guard y.count == dimension else { throw SparseMatrixError.dimensionMismatch(expected: dimension, actual: y.count, what: "y") }
        CSCMatrix.multiply(pattern: pattern, values: values, x: x, into: &y)
    }

    public func multiply(_ x: [Double]) throws -> [Double] {
        var y = [Double](repeating: 0, count: dimension)
        try multiply(x, into: &y)
        return y
    }

    /// y = A x on raw arrays whose lengths the caller has checked; the hot path of residual evaluation.
    @inlinable
    public static func multiply(pattern: CSCPattern, values: [Double], x: [Double], into y: inout [Double]) {
        pattern.columnStarts.withUnsafeBufferPointer { starts in
            pattern.rowIndices.withUnsafeBufferPointer { rows in
                values.withUnsafeBufferPointer { v in
                    x.withUnsafeBufferPointer { xb in
                        y.withUnsafeMutableBufferPointer { yb in
                            yb.update(repeating: 0)
                            for column in 0..<starts.count - 1 {
                                let xj = xb[column]
                                if xj == 0 { continue }
                                for p in starts[column]..<starts[column + 1] { yb[rows[p]] += v[p] * xj }
                            }
                        }
                    }
                }
            }
        }
    }

    /// ‖A x − b‖₂ / ‖b‖₂ (or ‖A x‖₂ when b = 0): the relative residual of a solve.
    public func relativeResidual(solution x: [Double], rightHandSide b: [Double]) throws -> Double {
        guard b.count == dimension else { throw SparseMatrixError.dimensionMismatch(expected: dimension, actual: b.count, what: "b") }
        let ax = try multiply(x)
        var residual = 0.0, norm = 0.0
        for i in 0..<dimension {
            residual += (ax[i] - b[i]) * (ax[i] - b[i])
            norm += b[i] * b[i]
        }
        return norm > 0 ? (residual / norm).squareRoot() : residual.squareRoot()
    }
}
