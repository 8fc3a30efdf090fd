import Foundation
import NumericalFoundations

/// What went wrong in fitting, using, saving or loading a reduced-order model. Every case says
/// which quantity or file is at fault and what was expected, so the message can go to the user as is.
public enum ReducedOrderModelError: Error, CustomStringConvertible, Equatable {
    /// Arrays whose sizes do not fit together (e.g. 300 input values for 60 samples of 6 parameters).
    case shapeMismatch(String)
    /// A NaN or ±∞ in data handed to a model.
    case nonFiniteValue(String)
    /// An option outside its allowed range.
    case invalidOption(String)
    /// Too few samples for the method.
    case insufficientData(String)
    /// The covariance matrix stayed indefinite even with the largest jitter tried.
    case notPositiveDefinite(String)
    /// An optimizer or factorization that produced no usable result.
    case numericalFailure(String)
    /// A LAPACK routine failed.
    case linearAlgebra(LapackError)
    /// A model folder that cannot be read or written: the file and the problem.
    case fileProblem(path: String, message: String)

    public var description: String {
        switch self {
        case .shapeMismatch(let m): return "shape mismatch: \(m)"
        case .nonFiniteValue(let m): return "non-finite value: \(m)"
        case .invalidOption(let m): return "invalid option: \(m)"
        case .insufficientData(let m): return "insufficient data: \(m)"
        case .notPositiveDefinite(let m): return "covariance matrix not positive definite: \(m)"
        case .numericalFailure(let m): return "numerical failure: \(m)"
        case .linearAlgebra(let e): return e.description
        case let .fileProblem(path, message): return "\(path): \(message)"
        }
    }
}

/// Runs `body`, turning LAPACK errors into `ReducedOrderModelError.linearAlgebra`.
@inline(__always)
func mappingLapackErrors<R>(_ body: () throws -> R) throws -> R {
    do { return try body() } catch let error as LapackError { throw ReducedOrderModelError.linearAlgebra(error) }
}

/// Checks that `values` holds `rows × columns` finite numbers; `name` is used in the message.
func requireMatrix(_ values: [Double], rows: Int, columns: Int, name: String) throws {
    guard rows >= 0, columns >= 0, values.count == rows * columns else {
        throw ReducedOrderModelError.shapeMismatch("\(name) holds \(values.count) values, not \(rows) rows × \(columns) columns")
    }
    if let i = values.firstIndex(where: { !$0.isFinite }) {
        throw ReducedOrderModelError.nonFiniteValue("\(name) entry (\(i / max(columns, 1)), \(i % max(columns, 1))) is \(values[i])")
    }
}
