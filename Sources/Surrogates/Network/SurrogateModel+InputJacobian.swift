import Foundation
import NumericalFoundations

extension OutputTransform {
    /// d invert(z)/dz: 1 for `identity`, exp(z) = y + δ for `logarithm` (0 where `invert` clamps the
    /// exponent, as it is constant there).
    @inline(__always) public func inverseDerivative(at z: Double) -> Double {
        switch self {
        case .identity: return 1
        case .logarithm: return z < 700 ? Foundation.exp(z) : 0
        }
    }
}

extension SurrogateModel {
    /// The prediction at one parameter set and its exact Jacobian with respect to the parameters in
    /// physical units: `value` (P) and `jacobian` (P × d, row-major, ∂c3_p/∂θ_k), by the chain rule
    /// through the input scaling (constant factor 2 / (upper − lower)), the network and the output's
    /// standardisation and transform.
    ///
    /// The network's input tangent is a tangent of the first layer's bias: perturbing x by ẋ moves
    /// z_0 = W_0 x + b_0 exactly as perturbing b_0 by W_0 ẋ does. So column k of ∂(network)/∂x̂ is
    /// `NetworkLinearization.applyJacobian` of the parameter tangent whose only non-zero slice is
    /// b_0 ← W_0[:, k]: d forward-mode products, no new kernel. A float32 network is differentiated
    /// in float64 at its stored (float32) parameters.
    public func valueAndInputJacobian(at parameters: [Double], threads: Int = 1) throws -> (value: [Double], jacobian: [Double]) {
        let d = layout.inputWidth, p = layout.outputWidth
        let value = try predict(parameters: parameters, rows: 1, threads: threads)
        let network = doublePrecisionNetwork()
        let linearization = try NetworkLinearization(network: network, inputs: inputScaler.scale(rows: parameters), rows: 1, threads: threads)
        let raw = Array(linearization.evaluate())
        let transform = description.outputTransform ?? .identity
        // d c3_p / d (network output p): the standardisation's σ_p times the inverse transform's slope.
        let outer = (0..<p).map { j in
            transform.inverseDerivative(at: outputScaler.unstandardize(raw[j], column: j)) * outputScaler.standardDeviation[j]
        }
        let first = network.layerParameters(0), nOut = layout.outputs(ofLayer: 0)
        var tangent = [Double](repeating: 0, count: linearization.parameterCount)
        var column = [Double](repeating: 0, count: p)
        var jacobian = [Double](repeating: 0, count: p * d)
        for k in 0..<d {
            let span = inputScaler.upper[k] - inputScaler.lower[k]
            guard span > 0 else { continue }  // a fixed parameter: the scaling maps it to 0
            for j in 0..<nOut { tangent[d * nOut + j] = first[j * d + k] }
            tangent.withUnsafeBufferPointer { v in
                column.withUnsafeMutableBufferPointer { linearization.applyJacobian(v.baseAddress!, into: $0.baseAddress!) }
            }
            let inner = 2 / span
            for j in 0..<p { jacobian[j * d + k] = outer[j] * column[j] * inner }
        }
        return (value, jacobian)
    }

    /// The network in float64 (a copy of the float32 one's parameters, or the stored one).
    func doublePrecisionNetwork() -> Network<Double> {
        switch storage {
        case .float64(let n): return n
        case .float32(let n):
            let copy = Network<Double>(layout: n.layout)
            for layer in 0..<n.layout.layerCount {
                let source = n.layerParameters(layer), target = copy.layerParameters(layer)
                for i in 0..<source.count { target[i] = Double(source[i]) }
            }
            return copy
        }
    }
}
