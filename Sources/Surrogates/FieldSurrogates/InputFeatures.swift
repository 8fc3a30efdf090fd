import Foundation
import NumericalFoundations

/// The inputs of the POD models: each parameter mapped to [−1, 1] over the box, linearly (as the
/// paper's network) or, for the parameters named in `[surrogate] log_inputs`, linearly in its
/// logarithm. D (0.01 … 0.5) and U0 (0.01 … 2) span decades, and the physics depends on their
/// ratios (the Péclet number U0 L / D, the boundary-layer scale √(ν x / U0)): in log, equal steps are
/// equal ratios, so a stationary kernel's length scale fits the whole range.
public struct InputFeatures: Codable, Equatable, Sendable {
    public var lower: [Double]
    public var upper: [Double]
    public var logarithmic: [Bool]
    /// Applied after the box map (`InputWarping`, the design-density warp); nil: none.
    public var warping: InputWarping?

    public init(box: InputScaler, logarithmic: [Bool], warping: InputWarping? = nil) throws {
        guard logarithmic.count == box.width else {
            throw StageError("input features: \(logarithmic.count) log flags for \(box.width) parameters")
        }
        for j in 0..<box.width where logarithmic[j] && !(box.lower[j] > 0) {
            throw StageError("input features: parameter \(j) has the range [\(box.lower[j]), \(box.upper[j])]; a log input needs a positive lower bound")
        }
        if let warping, warping.width != box.width {
            throw StageError("input features: a warping of \(warping.width) columns for \(box.width) parameters")
        }
        lower = box.lower; upper = box.upper; self.logarithmic = logarithmic; self.warping = warping
    }

    public var width: Int { lower.count }

    @inline(__always) public func scale(_ x: Double, column j: Int) -> Double {
        let s = boxScale(x, column: j)
        return warping?.apply(s, column: j) ?? s
    }

    /// The box map alone (linear or logarithmic), before any warping.
    @inline(__always) public func boxScale(_ x: Double, column j: Int) -> Double {
        if logarithmic[j] {
            let lo = Foundation.log(lower[j]), hi = Foundation.log(upper[j])
            return hi > lo ? 2 * (Foundation.log(max(x, lower[j] * 1e-12)) - lo) / (hi - lo) - 1 : 0
        }
        let span = upper[j] - lower[j]
        return span > 0 ? 2 * (x - lower[j]) / span - 1 : 0
    }

    /// dθ_j/dx_j, the inverse of `scale`'s slope at the parameter value x: (upper − lower)/2 for a
    /// linear input, x (log upper − log lower)/2 for a log input (x = exp(lo + (s + 1)(hi − lo)/2)),
    /// divided by the warping's slope where there is one.
    /// The chain rule from ∂/∂θ (the FEM's sensitivities) to ∂/∂(scaled input). 0 for a fixed parameter.
    @inline(__always) public func parameterPerScaledInput(_ x: Double, column j: Int) -> Double {
        let box: Double
        if logarithmic[j] {
            let lo = Foundation.log(lower[j]), hi = Foundation.log(upper[j])
            box = hi > lo ? x * (hi - lo) / 2 : 0
        } else {
            box = (upper[j] - lower[j]) / 2
        }
        guard let warping else { return box }
        return box / warping.slope(boxScale(x, column: j), column: j)
    }

    /// These features with the design-density warp of the parameter rows `parameters` (rows × width).
    public func warped(toDesign parameters: [Double], rows: Int) throws -> InputFeatures {
        var copy = self
        copy.warping = nil
        let scaled = copy.scale(rows: parameters)
        copy.warping = try InputWarping(designDensityOf: scaled, count: rows, width: width)
        return copy
    }

    public func scale(rows values: [Double]) -> [Double] {
        values.enumerated().map { scale($0.element, column: $0.offset % width) }
    }
}
