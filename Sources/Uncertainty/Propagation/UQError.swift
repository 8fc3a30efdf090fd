/// A problem with an uncertainty-quantification request: a bad distribution, a model that returns
/// the wrong number of values, a region without feasible points. The message names what was expected.
public struct UQError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ message: String) { description = message }
}

/// A model evaluated on a batch: `inputs` holds `rows` parameter sets (row-major, rows × d); the
/// result holds rows × outputs values (row-major).
public typealias BatchModel = (_ inputs: [Double], _ rows: Int) throws -> [Double]

/// Whether one parameter set (d values) lies in the region where the model is defined.
public typealias FeasibilityIndicator = (_ row: ArraySlice<Double>) -> Bool
