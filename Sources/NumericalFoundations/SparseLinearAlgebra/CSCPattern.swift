/// The nonzero structure of a square sparse matrix in compressed sparse column (CSC) form, the
/// layout UMFPACK reads: the row indices of column j are `rowIndices[columnStarts[j] ..< columnStarts[j+1]]`,
/// sorted ascending and without duplicates. Indices are `Int` (64-bit on Linux), which is UMFPACK's
/// `SuiteSparse_long`, so the arrays go to the `_dl` routines without conversion.
///
/// A pattern is built once per mesh and shared (it is immutable, hence `Sendable`) by every matrix,
/// factorization and thread that uses it. It also stores the transpose map (the value slots of each
/// row) so that a row can be overwritten, e.g. by a Dirichlet condition, without a search.
public final class CSCPattern: Sendable {
    public let dimension: Int
    public let columnStarts: [Int]
    public let rowIndices: [Int]
    /// Value slots of row i: `rowSlots[rowSlotStarts[i] ..< rowSlotStarts[i+1]]`, in column order.
    public let rowSlotStarts: [Int]
    public let rowSlots: [Int]

    public var nonzeroCount: Int { rowIndices.count }

    /// Builds a pattern from the row indices of every column (any order, duplicates allowed).
    public convenience init(dimension: Int, rowsOfColumn: [[Int]]) throws {
        guard dimension > 0 else { throw SparseMatrixError.invalidPattern("dimension must be positive, got \(dimension)") }
        guard rowsOfColumn.count == dimension else {
            throw SparseMatrixError.invalidPattern("expected \(dimension) columns, got \(rowsOfColumn.count)")
        }
        var starts = [Int](repeating: 0, count: dimension + 1)
        var rows: [Int] = []
        rows.reserveCapacity(rowsOfColumn.reduce(0) { $0 + $1.count })
        for (column, entries) in rowsOfColumn.enumerated() {
            var previous = -1
            for row in entries.sorted() where row != previous {
                guard row >= 0 && row < dimension else {
                    throw SparseMatrixError.invalidPattern("row index \(row) in column \(column) is outside 0..<\(dimension)")
                }
                rows.append(row)
                previous = row
            }
            starts[column + 1] = rows.count
        }
        try self.init(dimension: dimension, columnStarts: starts, rowIndices: rows)
    }

    /// Builds a pattern from (row, column) pairs (any order, duplicates allowed).
    public convenience init(dimension: Int, entries: [(row: Int, column: Int)]) throws {
        guard dimension > 0 else { throw SparseMatrixError.invalidPattern("dimension must be positive, got \(dimension)") }
        var columns = [[Int]](repeating: [], count: dimension)
        for (row, column) in entries {
            guard column >= 0 && column < dimension else {
                throw SparseMatrixError.invalidPattern("column index \(column) is outside 0..<\(dimension)")
            }
            columns[column].append(row)
        }
        try self.init(dimension: dimension, rowsOfColumn: columns)
    }

    /// Takes ready CSC arrays; checks that they are well formed (sorted, unique, in range).
    public init(dimension: Int, columnStarts: [Int], rowIndices: [Int]) throws {
        guard dimension > 0 else { throw SparseMatrixError.invalidPattern("dimension must be positive, got \(dimension)") }
        guard columnStarts.count == dimension + 1, columnStarts[0] == 0, columnStarts[dimension] == rowIndices.count else {
            throw SparseMatrixError.invalidPattern("columnStarts must have \(dimension + 1) entries from 0 to the number of row indices \(rowIndices.count)")
        }
        for column in 0..<dimension {
            let start = columnStarts[column], end = columnStarts[column + 1]
            guard start <= end else { throw SparseMatrixError.invalidPattern("columnStarts decreases at column \(column)") }
            var previous = -1
            for p in start..<end {
                let row = rowIndices[p]
                guard row > previous && row < dimension else {
                    throw SparseMatrixError.invalidPattern("row indices of column \(column) must be ascending, unique and below \(dimension); found \(row) after \(previous)")
                }
                previous = row
            }
        }
        self.dimension = dimension
        self.columnStarts = columnStarts
        self.rowIndices = rowIndices
        // Transpose map by counting sort: columns are visited in order, so each row's slots come out sorted by column.
        var counts = [Int](repeating: 0, count: dimension + 1)
        for row in rowIndices { counts[row + 1] += 1 }
        for i in 0..<dimension { counts[i + 1] += counts[i] }
        var next = counts
        var slots = [Int](repeating: 0, count: rowIndices.count)
        for column in 0..<dimension {
            for p in columnStarts[column]..<columnStarts[column + 1] {
                let row = rowIndices[p]
                slots[next[row]] = p
                next[row] += 1
            }
        }
        rowSlotStarts = counts
        rowSlots = slots
    }

    /// The value slot of entry (row, column), or nil when it is not in the pattern. O(log column length).
    public func slot(row: Int, column: Int) -> Int? {
        guard row >= 0, row < dimension, column >= 0, column < dimension else { return nil }
        var low = columnStarts[column], high = columnStarts[column + 1]
        while low < high {
            let middle = (low + high) / 2
            let value = rowIndices[middle]
            if value == row { return middle }
            if value < row { low = middle + 1 } else { high = middle }
        }
        return nil
    }

    /// The column of every value slot (the inverse of `columnStarts`), for callers that walk rows.
    public func columnOfSlots() -> [Int] {
        var columns = [Int](repeating: 0, count: nonzeroCount)
        for column in 0..<dimension {
            for p in columnStarts[column]..<columnStarts[column + 1] { columns[p] = column }
        }
        return columns
    }
}

/// Errors of the sparse matrix types (UMFPACK's own errors are `UMFPACKError`).
public enum SparseMatrixError: Error, CustomStringConvertible, Equatable {
    case invalidPattern(String)
    case entryNotInPattern(row: Int, column: Int)
    case dimensionMismatch(expected: Int, actual: Int, what: String)

    public var description: String {
        switch self {
        case .invalidPattern(let message): return "invalid sparsity pattern: \(message)"
        case .entryNotInPattern(let row, let column): return "entry (\(row), \(column)) is not in the sparsity pattern"
        case .dimensionMismatch(let expected, let actual, let what): return "\(what) has length \(actual), expected \(expected)"
        }
    }
}
