import Foundation
import NumericalFoundations

/// A cheaper model of the same field that a POD model corrects (multi-fidelity: Kennedy & O'Hagan's
/// 2000 autoregressive model with its scale factor ρ fixed at 1 and the discrepancy taken in the output
/// transform's units): for each parameter set it gives c3 at the same observation points, and the POD
/// model learns T(c3) − T(c3_low) instead of T(c3).
/// What computes it (a coarse-mesh finite-element solve) lives in Pipeline; this library only
/// knows the protocol.
public protocol LowFidelitySource: AnyObject {
    /// rows × P fields (c3, physical units) of rows × d parameter sets, row-major. Throws, naming the
    /// row, for a parameter set it cannot solve.
    func fields(parameters: [Double], rows: Int, threads: Int) throws -> [Double]
}

/// Makes the source that a model file's `LowFidelityInputs` records (the caller that can compute it).
public typealias LowFidelitySourceFactory = (LowFidelityInputs) throws -> LowFidelitySource

/// A fitted model's low-fidelity model, as its file records it: what computes it (`source` and its
/// `settings`, whole, so the model recomputes the same fields for new parameters without a
/// configuration) and a one-line summary for people.
public struct LowFidelityInputs: Codable, Equatable, Sendable {
    public var source: String
    public var summary: String
    public var settings: JSONValue

    public init(source: String, summary: String, settings: JSONValue) {
        self.source = source; self.summary = summary; self.settings = settings
    }
}

/// Hands out one source per distinct low-fidelity model, each remembering its last answer: the
/// members of an ensemble that correct the same coarse model are asked for the same parameters one
/// after the other, and solve them once.
public final class SharedLowFidelitySources: @unchecked Sendable {
    private let make: LowFidelitySourceFactory
    private var made: [(inputs: LowFidelityInputs, source: RememberingLowFidelitySource)] = []
    private let lock = NSLock()

    public init(_ make: @escaping LowFidelitySourceFactory) { self.make = make }

    /// The factory that gives the same source for equal `LowFidelityInputs`.
    public var factory: LowFidelitySourceFactory {
        { [self] inputs in
            lock.lock(); defer { lock.unlock() }
            if let existing = made.first(where: { $0.inputs == inputs }) { return existing.source }
            let source = RememberingLowFidelitySource(try make(inputs))
            made.append((inputs, source))
            return source
        }
    }
}

/// A source that answers a repeated question (the same rows × d parameters, bit for bit) from its
/// last answer instead of solving again; any other question is solved and becomes the last.
public final class RememberingLowFidelitySource: LowFidelitySource, @unchecked Sendable {
    public let base: LowFidelitySource
    private var last: (parameters: [Double], rows: Int, fields: [Double])?
    private let lock = NSLock()

    public init(_ base: LowFidelitySource) { self.base = base }

    public func fields(parameters: [Double], rows: Int, threads: Int) throws -> [Double] {
        lock.lock()
        if let last, last.rows == rows, last.parameters == parameters { lock.unlock(); return last.fields }
        lock.unlock()
        let fields = try base.fields(parameters: parameters, rows: rows, threads: threads)
        lock.lock(); last = (parameters, rows, fields); lock.unlock()
        return fields
    }
}
