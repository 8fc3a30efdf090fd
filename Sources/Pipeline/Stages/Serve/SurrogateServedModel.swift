import Foundation
import NumericalFoundations
import Surrogates

/// A fitted surrogate (DATA/models/NAME) as a served model. Its Jacobian is exact for the networks
/// (`SurrogateModel.valueAndInputJacobian`: the network's forward-mode tangent with the input scaling
/// and the output transform's derivative); for POD-GP, POD-NN and the ensemble it is the central
/// difference (f(θ + h e_k) − f(θ − h e_k)) / 2h with h = 1e-3 × the box's width in that parameter
/// (an O(h²) truncation error near 1e-6 relative for a smooth model; a smaller step would drown in the float32 rounding of the ensemble's networks: 1e-7 / h).
/// A network answers requests in parallel (each prediction and linearisation allocates its own
/// workspace); calls into the other models are serialised, as their buffers are not known to be
/// safe to share between threads.
public final class SurrogateServedModel: ServedModel, @unchecked Sendable {
    public let name: String
    public let inputSizes: [Int]
    public let outputSizes: [Int]
    public let hasJacobian = true
    public var summary: String {
        "\(surrogate.kind) surrogate; " + (surrogate is SurrogateModel ? "exact Jacobian (network tangent)" : "Jacobian by central differences (h = 1e-3 × box width)")
    }

    /// The relative step of the central differences.
    public static let relativeStep = 1e-3

    let surrogate: FieldSurrogate
    let checks: ParameterChecks
    private let lock: NSLock?

    public init(name: String, surrogate: FieldSurrogate) {
        self.name = name
        self.surrogate = surrogate
        inputSizes = [surrogate.inputWidth]
        outputSizes = [surrogate.outputWidth]
        checks = ParameterChecks(names: surrogate.inputNames, lower: surrogate.inputScaler.lower, upper: surrogate.inputScaler.upper,
                                 viscosity: surrogate.windViscosity)
        lock = surrogate is SurrogateModel ? nil : NSLock()
    }

    private func exclusive<R>(_ body: () throws -> R) rethrows -> R {
        guard let lock else { return try body() }
        return try lock.withLock(body)
    }

    public func evaluate(_ parameters: [Double]) async throws -> [Double] {
        try checks.check(parameters)
        return try exclusive { try surrogate.predict(parameters: parameters, rows: 1, threads: 1) }
    }

    public func valueAndJacobian(_ parameters: [Double]) async throws -> (value: [Double], jacobian: [Double]) {
        try checks.check(parameters)
        return try exclusive {
            if let network = surrogate as? SurrogateModel { return try network.valueAndInputJacobian(at: parameters) }
            return try centralDifferences(parameters)
        }
    }

    /// Value and Jacobian by central differences, all 2d + 1 points in one batched prediction.
    func centralDifferences(_ x: [Double]) throws -> (value: [Double], jacobian: [Double]) {
        let d = x.count, p = surrogate.outputWidth
        let box = surrogate.inputScaler
        var rows = x
        var steps = [Double](repeating: 0, count: d)
        for k in 0..<d {
            steps[k] = Self.relativeStep * max(box.upper[k] - box.lower[k], abs(x[k]), 1e-300)
            var plus = x, minus = x
            plus[k] += steps[k]; minus[k] -= steps[k]
            rows += plus + minus
        }
        let y = try surrogate.predict(parameters: rows, rows: 2 * d + 1, threads: 1)
        var jacobian = [Double](repeating: 0, count: p * d)
        for k in 0..<d {
            let plus = (1 + 2 * k) * p, minus = (2 + 2 * k) * p
            // The step actually taken (x ± h rounded) divides the difference.
            let h = (x[k] + steps[k]) - (x[k] - steps[k])
            for j in 0..<p { jacobian[j * d + k] = (y[plus + j] - y[minus + j]) / h }
        }
        return (Array(y[0..<p]), jacobian)
    }
}
