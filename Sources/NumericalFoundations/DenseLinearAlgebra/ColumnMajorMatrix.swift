import _LinearAlgebraShims
import Numerics

/// A dense real matrix stored column by column (Fortran / LAPACK order): entry (i, j) lives at
/// `storage[i + j * rows]`. Value semantics (copy on write through `[Double]`).
///
/// This is the layout LAPACK and the column-major CBLAS calls expect, so a matrix can be handed to
/// them without transposition. Sizes here are meant for the small (m × m) matrices of DMD and for
/// tests; the tall n × m snapshot matrices of a network layer live in `DMD.SnapshotBuffer`.
public struct ColumnMajorMatrix: Equatable, Sendable, CustomStringConvertible {
    public let rows: Int
    public let columns: Int
    /// The entries, column after column; `storage.count == rows * columns`.
    public private(set) var storage: [Double]

    /// The zero matrix. Negative sizes are a programming error.
    public init(rows: Int, columns: Int) {
        precondition(rows >= 0 && columns >= 0, "ColumnMajorMatrix: negative size \(rows) × \(columns)")
        self.rows = rows
        self.columns = columns
        storage = [Double](repeating: 0, count: rows * columns)
    }

    /// A matrix from its entries in column-major order; a wrong count is an error.
    public init(rows: Int, columns: Int, columnMajor values: [Double]) throws {
        guard rows >= 0, columns >= 0, values.count == rows * columns else {
            throw MatrixShapeError("column-major data of \(values.count) values cannot fill a \(rows) × \(columns) matrix")
        }
        self.rows = rows
        self.columns = columns
        storage = values
    }

    /// A matrix from its entries in row-major (C, NumPy) order; a wrong count is an error.
    public init(rows: Int, columns: Int, rowMajor values: [Double]) throws {
        guard rows >= 0, columns >= 0, values.count == rows * columns else {
            throw MatrixShapeError("row-major data of \(values.count) values cannot fill a \(rows) × \(columns) matrix")
        }
        self.init(rows: rows, columns: columns)
        for i in 0..<rows {
            for j in 0..<columns { storage[i + j * rows] = values[i * columns + j] }
        }
    }

    /// A matrix whose columns are the given vectors (all of one length).
    public init(columns vectors: [[Double]]) throws {
        let length = vectors.first?.count ?? 0
        guard vectors.allSatisfy({ $0.count == length }) else {
            throw MatrixShapeError("columns of different lengths \(Set(vectors.map(\.count)).sorted()) cannot form a matrix")
        }
        self.rows = length
        self.columns = vectors.count
        storage = vectors.flatMap { $0 }
    }

    /// The n × n identity.
    public static func identity(_ n: Int) -> ColumnMajorMatrix {
        var result = ColumnMajorMatrix(rows: n, columns: n)
        for i in 0..<n { result.storage[i + i * n] = 1 }
        return result
    }

    /// A diagonal matrix with the given diagonal.
    public static func diagonal(_ values: [Double]) -> ColumnMajorMatrix {
        var result = ColumnMajorMatrix(rows: values.count, columns: values.count)
        for (i, v) in values.enumerated() { result.storage[i + i * values.count] = v }
        return result
    }

    /// Entry (i, j); indices out of range are a programming error.
    public subscript(row: Int, column: Int) -> Double {
        get {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns, "ColumnMajorMatrix: (\(row), \(column)) outside \(rows) × \(columns)")
            return storage[row + column * rows]
        }
        set {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns, "ColumnMajorMatrix: (\(row), \(column)) outside \(rows) × \(columns)")
            storage[row + column * rows] = newValue
        }
    }

    /// Column j as a vector.
    public func column(_ j: Int) -> [Double] {
        precondition(j >= 0 && j < columns, "ColumnMajorMatrix: column \(j) outside 0..<\(columns)")
        return Array(storage[(j * rows)..<((j + 1) * rows)])
    }

    /// The entries in row-major (C, NumPy) order, e.g. to write an `.npy` file.
    public var rowMajorValues: [Double] {
        var values = [Double](repeating: 0, count: rows * columns)
        for j in 0..<columns {
            for i in 0..<rows { values[i * columns + j] = storage[i + j * rows] }
        }
        return values
    }

    public var transposed: ColumnMajorMatrix {
        var result = ColumnMajorMatrix(rows: columns, columns: rows)
        for j in 0..<columns {
            for i in 0..<rows { result.storage[j + i * columns] = storage[i + j * rows] }
        }
        return result
    }

    /// The block of the given rows and columns (a copy).
    public func submatrix(rows rowRange: Range<Int>, columns columnRange: Range<Int>) -> ColumnMajorMatrix {
        precondition(rowRange.lowerBound >= 0 && rowRange.upperBound <= rows && columnRange.lowerBound >= 0 && columnRange.upperBound <= columns,
                     "ColumnMajorMatrix: block \(rowRange) × \(columnRange) outside \(rows) × \(columns)")
        var result = ColumnMajorMatrix(rows: rowRange.count, columns: columnRange.count)
        for (jj, j) in columnRange.enumerated() {
            for (ii, i) in rowRange.enumerated() { result.storage[ii + jj * rowRange.count] = storage[i + j * rows] }
        }
        return result
    }

    /// sqrt(Σ a_ij²), computed with scaling so that it neither overflows nor underflows.
    public var frobeniusNorm: Double {
        let scale = storage.reduce(0) { max($0, abs($1)) }
        guard scale > 0, scale.isFinite else { return scale }
        return scale * storage.reduce(0) { $0 + ($1 / scale) * ($1 / scale) }.squareRoot()
    }

    /// The position of the first NaN or infinity (column-major order), or nil if every entry is finite.
    public var firstNonFiniteEntry: (row: Int, column: Int)? {
        guard let index = storage.firstIndex(where: { !$0.isFinite }) else { return nil }
        return (index % max(rows, 1), index / max(rows, 1))
    }

    /// op(self) · op(other) with op = identity or transpose (cblas_dgemm). Mismatched inner
    /// dimensions are an error.
    public func multiplied(by other: ColumnMajorMatrix, transposingSelf: Bool = false, transposingOther: Bool = false) throws -> ColumnMajorMatrix {
        let m = transposingSelf ? columns : rows
        let inner = transposingSelf ? rows : columns
        let otherInner = transposingOther ? other.columns : other.rows
        let n = transposingOther ? other.rows : other.columns
        guard inner == otherInner else {
            throw MatrixShapeError("cannot multiply \(m) × \(inner) by \(otherInner) × \(n)")
        }
        var result = ColumnMajorMatrix(rows: m, columns: n)
        guard m > 0, n > 0, inner > 0 else { return result }
        storage.withUnsafeBufferPointer { a in
            other.storage.withUnsafeBufferPointer { b in
                result.storage.withUnsafeMutableBufferPointer { c in
                    cblas_dgemm(CblasColMajor, transposingSelf ? CblasTrans : CblasNoTrans, transposingOther ? CblasTrans : CblasNoTrans,
                                Int32(m), Int32(n), Int32(inner), 1.0,
                                a.baseAddress, Int32(max(rows, 1)), b.baseAddress, Int32(max(other.rows, 1)),
                                0.0, c.baseAddress, Int32(max(m, 1)))
                }
            }
        }
        return result
    }

    /// self · x (or selfᵀ · x).
    public func multiplied(by vector: [Double], transposingSelf: Bool = false) throws -> [Double] {
        let x = try ColumnMajorMatrix(rows: vector.count, columns: 1, columnMajor: vector)
        return try multiplied(by: x, transposingSelf: transposingSelf).storage
    }

    /// Read access to the column-major entries (e.g. for a LAPACK call).
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Double>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer(body)
    }

    /// Write access to the column-major entries; the count must not change.
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Double>) throws -> R) rethrows -> R {
        try storage.withUnsafeMutableBufferPointer { try body($0) }
    }

    public var description: String {
        var lines: [String] = []
        for i in 0..<rows {
            lines.append((0..<columns).map { j in String(self[i, j]) }.joined(separator: "  "))
        }
        return "\(rows) × \(columns) matrix\n" + lines.joined(separator: "\n")
    }
}

/// A dense complex matrix in column-major order (entries `Complex<Double>` from swift-numerics).
/// Used for the small eigenvector and mode-coordinate matrices of DMD; products here are plain
/// loops because these matrices are at most m × m (m ≈ 20).
public struct ComplexColumnMajorMatrix: Equatable, Sendable {
    public let rows: Int
    public let columns: Int
    public private(set) var storage: [Complex<Double>]

    public init(rows: Int, columns: Int) {
        precondition(rows >= 0 && columns >= 0, "ComplexColumnMajorMatrix: negative size \(rows) × \(columns)")
        self.rows = rows
        self.columns = columns
        storage = [Complex<Double>](repeating: .zero, count: rows * columns)
    }

    /// A complex matrix with the given real part and zero imaginary part.
    public init(_ real: ColumnMajorMatrix) {
        rows = real.rows
        columns = real.columns
        storage = real.storage.map { Complex($0) }
    }

    /// A complex matrix from real and imaginary parts of equal shape.
    public init(real: ColumnMajorMatrix, imaginary: ColumnMajorMatrix) throws {
        guard real.rows == imaginary.rows, real.columns == imaginary.columns else {
            throw MatrixShapeError("real part \(real.rows) × \(real.columns) and imaginary part \(imaginary.rows) × \(imaginary.columns) differ in shape")
        }
        rows = real.rows
        columns = real.columns
        storage = zip(real.storage, imaginary.storage).map { Complex($0, $1) }
    }

    public subscript(row: Int, column: Int) -> Complex<Double> {
        get {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns, "ComplexColumnMajorMatrix: (\(row), \(column)) outside \(rows) × \(columns)")
            return storage[row + column * rows]
        }
        set {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns, "ComplexColumnMajorMatrix: (\(row), \(column)) outside \(rows) × \(columns)")
            storage[row + column * rows] = newValue
        }
    }

    public func column(_ j: Int) -> [Complex<Double>] {
        precondition(j >= 0 && j < columns, "ComplexColumnMajorMatrix: column \(j) outside 0..<\(columns)")
        return Array(storage[(j * rows)..<((j + 1) * rows)])
    }

    public var realPart: ColumnMajorMatrix {
        // Shape is consistent by construction, so this cannot throw.
        try! ColumnMajorMatrix(rows: rows, columns: columns, columnMajor: storage.map(\.real))
    }

    public var imaginaryPart: ColumnMajorMatrix {
        try! ColumnMajorMatrix(rows: rows, columns: columns, columnMajor: storage.map(\.imaginary))
    }

    /// True when no entry has a NaN or infinite part.
    public var isFinite: Bool { storage.allSatisfy { $0.real.isFinite && $0.imaginary.isFinite } }

    /// self · other (plain triple loop; for small matrices).
    public func multiplied(by other: ComplexColumnMajorMatrix) throws -> ComplexColumnMajorMatrix {
        guard columns == other.rows else {
            throw MatrixShapeError("cannot multiply \(rows) × \(columns) by \(other.rows) × \(other.columns)")
        }
        var result = ComplexColumnMajorMatrix(rows: rows, columns: other.columns)
        for j in 0..<other.columns {
            for l in 0..<columns {
                let b = other.storage[l + j * other.rows]
                if b == .zero { continue }
                for i in 0..<rows { result.storage[i + j * rows] += storage[i + l * rows] * b }
            }
        }
        return result
    }

    /// self · x.
    public func multiplied(by vector: [Complex<Double>]) throws -> [Complex<Double>] {
        guard columns == vector.count else {
            throw MatrixShapeError("cannot multiply \(rows) × \(columns) by a vector of \(vector.count)")
        }
        var result = [Complex<Double>](repeating: .zero, count: rows)
        for l in 0..<columns where vector[l] != .zero {
            for i in 0..<rows { result[i] += storage[i + l * rows] * vector[l] }
        }
        return result
    }
}

/// Two operands whose shapes do not fit together (or data that cannot fill a shape).
public struct MatrixShapeError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ message: String) { description = message }
}
