import Foundation
import NumericalFoundations

/// Quantities computed from the parameters by a model this library does not know (the wind's
/// Blasius descriptors, computed in Pipeline), given to a POD model as inputs beside the
/// parameters. A sharp response in θ (near the wind's blow-off) may be smooth in them.
public protocol ParameterDescriptorSource: AnyObject {
    /// The descriptors' names, in the order of `values`' columns.
    var names: [String] { get }
    /// rows × names.count descriptors of rows × d parameter sets, row-major. Throws, naming the row,
    /// for a parameter set where they do not exist.
    func values(parameters: [Double], rows: Int, threads: Int) throws -> [Double]
}

/// Makes the source a model file's `DescriptorInputs` names (the caller that can compute them).
public typealias DescriptorSourceFactory = (DescriptorInputs) throws -> ParameterDescriptorSource

/// A fitted model's descriptor inputs, as its file records them: what computes them (`source` and
/// its `settings`, so the model recomputes the same values for new parameters without a
/// configuration), and their scaling. Each descriptor v enters as asinh(v) mapped linearly to
/// [−1, 1] over the fit samples' range: asinh is linear near 0 and logarithmic in |v| (the wall
/// curvature and the displacement constant span decades of either sign near blow-off), so a
/// stationary kernel's length scale fits the whole range.
public struct DescriptorInputs: Codable, Equatable, Sendable {
    public var source: String
    public var names: [String]
    public var settings: [String: Double]
    /// asinh of the descriptors: the fit samples' least and greatest.
    public var lower: [Double]
    public var upper: [Double]

    /// The scaling of `values` (rows × names.count, the fit samples' descriptors).
    public init(source: String, names: [String], settings: [String: Double], values: [Double], rows: Int) throws {
        let k = names.count
        guard k > 0, rows > 0, values.count == rows * k else {
            throw StageError("descriptor inputs: \(values.count) values do not make \(rows) rows of \(k) descriptors")
        }
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw StageError("descriptor inputs: sample \(i / k): \(names[i % k]) is \(values[i]); expected a finite number")
        }
        lower = Array(repeating: .infinity, count: k); upper = Array(repeating: -.infinity, count: k)
        for (i, v) in values.enumerated() {
            lower[i % k] = min(lower[i % k], asinh(v)); upper[i % k] = max(upper[i % k], asinh(v))
        }
        self.source = source; self.names = names; self.settings = settings
    }

    public var width: Int { names.count }

    /// asinh(v) mapped to [−1, 1] over the fit range; 0 for a descriptor constant over the fit samples.
    @inline(__always) public func scale(_ v: Double, column j: Int) -> Double {
        let span = upper[j] - lower[j]
        return span > 0 ? 2 * (asinh(v) - lower[j]) / span - 1 : 0
    }

    /// The model's input rows: each row's scaled parameters (width d) followed by its scaled descriptors.
    public func appended(to scaledParameters: [Double], descriptors: [Double], rows: Int) throws -> [Double] {
        let k = width
        guard rows > 0 else { return [] }
        guard descriptors.count == rows * k, scaledParameters.count % rows == 0 else {
            throw StageError("descriptor inputs: \(descriptors.count) descriptors and \(scaledParameters.count) parameters for \(rows) rows of \(k) descriptors")
        }
        let d = scaledParameters.count / rows
        var out = [Double](); out.reserveCapacity(rows * (d + k))
        for r in 0..<rows {
            out.append(contentsOf: scaledParameters[(r * d)..<((r + 1) * d)])
            for j in 0..<k { out.append(scale(descriptors[r * k + j], column: j)) }
        }
        return out
    }
}
