import _LinearAlgebraShims

/// Namespace of the thin LAPACKE wrappers (column-major storage throughout).
public enum Lapack {}

/// LAPACKE's integer (`lapack_int` is a C macro for int32_t in this 32-bit-index build, so Swift cannot see it).
typealias lapack_int = Int32

/// A LAPACK routine that reported failure through its `info` code, or input a routine must not see.
/// Every case names the routine, so the message says where things went wrong.
public enum LapackError: Error, CustomStringConvertible, Equatable {
    /// info = −i: argument i was illegal (a bug in the wrapper or an impossible size).
    case illegalArgument(routine: String, position: Int)
    /// info > 0 from an iterative routine (SVD, eigenvalues): it did not converge.
    case noConvergence(routine: String, info: Int, detail: String)
    /// The input holds NaN or ±∞; LAPACK's behaviour on such input is undefined, so it is never called.
    case nonFiniteInput(routine: String, row: Int, column: Int)
    /// Sizes that do not fit the routine (e.g. a non-square matrix for an eigenproblem).
    case invalidShape(routine: String, message: String)
    /// A size beyond LAPACK's 32-bit integers.
    case sizeOverflow(routine: String, size: Int)

    public var description: String {
        switch self {
        case let .illegalArgument(routine, position):
            return "LAPACK \(routine): argument \(position) has an illegal value (info = −\(position))"
        case let .noConvergence(routine, info, detail):
            return "LAPACK \(routine) did not converge (info = \(info)): \(detail)"
        case let .nonFiniteInput(routine, row, column):
            return "LAPACK \(routine): input entry (\(row), \(column)) is NaN or infinite; only finite matrices are accepted"
        case let .invalidShape(routine, message):
            return "LAPACK \(routine): \(message)"
        case let .sizeOverflow(routine, size):
            return "LAPACK \(routine): size \(size) exceeds the 32-bit integers of this LAPACK"
        }
    }
}

extension Lapack {
    /// A Swift `Int` as a LAPACK integer, or an error naming the routine.
    @inline(__always)
    static func int(_ value: Int, _ routine: String) throws -> lapack_int {
        guard let converted = lapack_int(exactly: value) else { throw LapackError.sizeOverflow(routine: routine, size: value) }
        return converted
    }

    /// Maps an `info` code to an error: negative = illegal argument, positive = `positive(info)`.
    static func check(_ info: lapack_int, _ routine: String, positive: (Int) -> String) throws {
        if info < 0 { throw LapackError.illegalArgument(routine: routine, position: Int(-info)) }
        if info > 0 { throw LapackError.noConvergence(routine: routine, info: Int(info), detail: positive(Int(info))) }
    }

    /// Rejects a matrix with NaN or ±∞ before it reaches `routine`.
    static func requireFinite(_ a: ColumnMajorMatrix, _ routine: String) throws {
        if let bad = a.firstNonFiniteEntry { throw LapackError.nonFiniteInput(routine: routine, row: bad.row, column: bad.column) }
    }

    static let columnMajor = LAPACK_COL_MAJOR

    @inline(__always)
    static func char(_ c: Unicode.Scalar) -> CChar { CChar(UInt8(ascii: c)) }
}
