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
    /// The design-density warp (`InputWarping`), applied to each parameter's linear position in the
    /// box, before the box map (so a log input is warped, then taken in log); nil: none.
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
        boxScale(warpedParameter(x, column: j), column: j)
    }

    /// x through the warp: its linear position s = 2 (x − lower)/(upper − lower) − 1 in the box
    /// warped, and mapped back to a parameter value. The reference design, a Latin hypercube in the
    /// parameters, is uniform in s, so the warp measures where a design crowds beyond it (in the
    /// log-scaled coordinate an LHS design is itself crowded at the upper end, which the log map is
    /// chosen for, not a design's choice). x itself without a warp.
    @inline(__always) public func warpedParameter(_ x: Double, column j: Int) -> Double {
        guard let warping, upper[j] > lower[j] else { return x }
        let w = warping.apply(linearPosition(x, column: j), column: j)
        return lower[j] + (w + 1) / 2 * (upper[j] - lower[j])
    }

    /// x's linear position 2 (x − lower)/(upper − lower) − 1 in the box (0 for a fixed parameter):
    /// a linear input's feature, and where the warp is fitted and applied.
    @inline(__always) public func linearPosition(_ x: Double, column j: Int) -> Double {
        let span = upper[j] - lower[j]
        return span > 0 ? 2 * (x - lower[j]) / span - 1 : 0
    }

    /// The box map alone (linear or logarithmic), without the warp.
    @inline(__always) func boxScale(_ x: Double, column j: Int) -> Double {
        if logarithmic[j] {
            let lo = Foundation.log(lower[j]), hi = Foundation.log(upper[j])
            return hi > lo ? 2 * (Foundation.log(max(x, lower[j] * 1e-12)) - lo) / (hi - lo) - 1 : 0
        }
        return linearPosition(x, column: j)
    }

    /// dθ_j/dx_j, the inverse of `scale`'s slope at the parameter value x: (upper − lower)/2 for a
    /// linear input, x (log upper − log lower)/2 for a log input (x = exp(lo + (s + 1)(hi − lo)/2)),
    /// divided by the warping's slope where there is one.
    /// The chain rule from ∂/∂θ (the FEM's sensitivities) to ∂/∂(scaled input). 0 for a fixed parameter.
    @inline(__always) public func parameterPerScaledInput(_ x: Double, column j: Int) -> Double {
        let warped = warpedParameter(x, column: j)
        let box: Double
        if logarithmic[j] {
            let lo = Foundation.log(lower[j]), hi = Foundation.log(upper[j])
            box = hi > lo ? warped * (hi - lo) / 2 : 0
        } else {
            box = (upper[j] - lower[j]) / 2
        }
        guard let warping, upper[j] > lower[j] else { return box }
        // dθ/ds = (dθ′/ds at θ′) / (dθ′/dθ), and dθ′/dθ is the warp's slope at θ's linear position.
        return box / warping.slope(linearPosition(x, column: j), column: j)
    }

    /// These features with the design-density warp of the parameter rows `parameters` (rows × width),
    /// fitted to their linear positions in the box.
    public func warped(toDesign parameters: [Double], rows: Int) throws -> InputFeatures {
        var copy = self
        copy.warping = try InputWarping(designDensityOf: linearPositions(parameters), count: rows, width: width)
        return copy
    }

    /// `linearPosition` of each value of rows × width parameters.
    public func linearPositions(_ values: [Double]) -> [Double] {
        values.enumerated().map { linearPosition($0.element, column: $0.offset % width) }
    }

    public func scale(rows values: [Double]) -> [Double] {
        values.enumerated().map { scale($0.element, column: $0.offset % width) }
    }
}
