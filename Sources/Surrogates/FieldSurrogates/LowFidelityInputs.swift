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
