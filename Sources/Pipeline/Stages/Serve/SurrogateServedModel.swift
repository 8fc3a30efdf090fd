import Foundation
import NumericalFoundations
import Surrogates

/// A fitted surrogate (DATA/models/NAME) as a served model. Its Jacobian is exact for the networks
/// (`SurrogateModel.valueAndInputJacobian`: the network's forward-mode tangent with the input scaling
/// and the output transform's derivative); for POD-GP, POD-NN and the ensemble it is the central
/// difference (f(θ + h e_k) − f(θ − h e_k)) / 2h with h = 1e-3 × the box's width in that parameter
/// (an O(h²) truncation error near 1e-6 relative for a smooth model; a smaller step would drown in the float32 rounding of the ensemble's networks: 1e-7 / h).
/// Evaluations go through `CoalescedEvaluation` (concurrent requests share one call); a network's
/// Jacobians are computed in parallel (each linearisation allocates its own work space), the other
/// models' alone, as their calls are. Two names of one surrogate ("best" and its own) share one
/// `CoalescedEvaluation`, hence one lock.
public final class SurrogateServedModel: ServedModel, @unchecked Sendable {
    public let name: String
    public let inputSizes: [Int]
    public let outputSizes: [Int]
    public let hasJacobian = true
    public var summary: String {
        "\(surrogate.kind) surrogate; " + (surrogate is SurrogateModel ? "exact Jacobian (network tangent)" : "Jacobian by central differences (h = 1e-3 × box width)")
            + (evaluation.coalesces ? "; concurrent requests share calls of \(CoalescedEvaluation.tileRows) rows"
                                    : "; one request per call (rows of a shared call were not the same bits at every position on this machine)")
    }

    /// The relative step of the central differences.
    public static let relativeStep = 1e-3

    let evaluation: CoalescedEvaluation
    var surrogate: FieldSurrogate { evaluation.surrogate }
    let checks: ParameterChecks

    public init(name: String, evaluation: CoalescedEvaluation) {
        self.name = name
        self.evaluation = evaluation
        let surrogate = evaluation.surrogate
        inputSizes = [surrogate.inputWidth]
        outputSizes = [surrogate.outputWidth]
        checks = ParameterChecks(names: surrogate.inputNames, lower: surrogate.inputScaler.lower, upper: surrogate.inputScaler.upper,
                                 viscosity: surrogate.windViscosity)
    }

    public convenience init(name: String, surrogate: FieldSurrogate, cores: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.init(name: name, evaluation: CoalescedEvaluation(surrogate: surrogate, cores: cores))
    }

    public func evaluate(_ parameters: [Double], config: ServedModelConfig) async throws -> [Double] {
        try checkConfigKeys(config)
        try checks.check(parameters)
        return try await evaluation.evaluate(parameters)
    }

    public func valueAndJacobian(_ parameters: [Double], config: ServedModelConfig) async throws -> (value: [Double], jacobian: [Double]) {
        try checkConfigKeys(config)
        try checks.check(parameters)
        return try evaluation.exclusive {
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
